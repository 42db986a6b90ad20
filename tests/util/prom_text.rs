//! A small, strict parser of the Prometheus text exposition format, for
//! tests: it checks that every sample belongs to a family declared by a
//! `# HELP` and a `# TYPE` line and unescapes label values.
//!
//! Shared by the engine's unit tests (`src/metrics/prometheus_tests.rs`
//! includes it by path) and the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helper: a failure here is a test failure"
)]

use std::collections::BTreeMap;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_sum`/`_count` suffixes as written).
    pub name: String,
    /// Label name to unescaped value.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Default)]
pub struct Exposition {
    /// Family name to (help, type).
    pub families: BTreeMap<String, (String, String)>,
    /// Every sample in order.
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// Returns the samples named `name`.
    pub fn named(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }

    /// Returns the value of the sample `name` whose labels include every
    /// `(label, value)` pair given.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_value(s: &str) -> f64 {
    match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        other => other
            .parse()
            .unwrap_or_else(|e| panic!("bad value {other:?}: {e}")),
    }
}

/// Parses `{a="x",b="y"}` starting after `{`; returns the labels and the
/// rest of the line after `}`.
fn parse_labels(mut rest: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        let (name, after) = rest.split_once("=\"").expect("label name=\"");
        assert!(is_name(name), "bad label name {name:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("unterminated label value");
            match c {
                '\\' => match chars.next().expect("dangling escape").1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => panic!("bad escape \\{other}"),
                },
                '"' => break i,
                '\n' => panic!("raw newline in label value"),
                c => value.push(c),
            }
        };
        assert!(
            labels.insert(name.to_owned(), value).is_none(),
            "duplicate label {name}"
        );
        rest = &after[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        }
    }
}

/// Returns the family a sample name belongs to (summary/histogram
/// suffixes stripped when the base family is declared).
fn family_of<'a>(name: &'a str, families: &BTreeMap<String, (String, String)>) -> &'a str {
    if families.contains_key(name) {
        return name;
    }
    for suffix in ["_sum", "_count", "_bucket"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if families.contains_key(base) {
                return base;
            }
        }
    }
    panic!("sample {name} has no HELP/TYPE family")
}

/// Parses the text, panicking on any violation of the format.
pub fn parse(text: &str) -> Exposition {
    let mut exp = Exposition::default();
    let mut pending_help: Option<(String, String)> = None;
    assert!(text.ends_with('\n'), "the text ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(is_name(name), "bad name {name:?}");
            assert!(!exp.families.contains_key(name), "family {name} twice");
            pending_help = Some((name.to_owned(), help.to_owned()));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                ["counter", "gauge", "summary", "histogram", "untyped"].contains(&kind),
                "bad type {kind}"
            );
            let (help_name, help) = pending_help.take().expect("HELP before TYPE");
            assert_eq!(help_name, name, "HELP and TYPE of the same family");
            exp.families
                .insert(name.to_owned(), (help, kind.to_owned()));
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else {
            let name_end = line.find(['{', ' ']).expect("sample name");
            let name = &line[..name_end];
            assert!(is_name(name), "bad name {name:?}");
            let (labels, rest) = match line[name_end..].strip_prefix('{') {
                Some(after) => parse_labels(after),
                None => (BTreeMap::new(), &line[name_end..]),
            };
            let value = rest.strip_prefix(' ').expect("space before value");
            assert!(!value.contains(' '), "no timestamps expected: {line:?}");
            family_of(name, &exp.families);
            exp.samples.push(Sample {
                name: name.to_owned(),
                labels,
                value: parse_value(value),
            });
        }
    }
    exp
}
