//! Turning TOML text into a [`Config`] while collecting every key-level
//! problem: secrets in the file, missing required tables, unknown keys and
//! wrong types.
//!
//! Consumes TOML text; produces a [`Config`] (bad keys replaced by their
//! defaults) plus the [`Issues`] found. Never echoes the value of a
//! secret-looking key.
//!
//! serde stops at the first error, so each leaf key is first tried on its
//! own: a one-key document deserialized into [`Config`] (every other key
//! defaulted) either passes or yields an error that belongs to exactly that
//! key. Bad keys are then removed and the rest is deserialized in one go.
//! The configuration is small, so the repeated work costs microseconds.

use super::error::ConfigError;
use super::validate::Issues;
use super::Config;
use toml::{Table, Value};

/// Tables a configuration file must contain, with why.
const REQUIRED_TABLES: [(&str, &str); 2] = [
    (
        "exchange",
        "it chooses the exchange environment (live or vst)",
    ),
    ("market", "it lists the symbols to trade"),
];

/// Key names (lower case) that would hold a secret; any key containing
/// `secret`, `password` or `passphrase` counts too.
const SECRET_KEYS: [&str; 6] = [
    "api_key",
    "apikey",
    "key_secret",
    "private_key",
    "token",
    "access_key",
];

/// Returns whether a key name looks like it holds a credential.
pub(crate) fn is_secret_key(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_KEYS
        .iter()
        .any(|k| lower == *k || lower.ends_with(&format!("_{k}")))
        || ["secret", "password", "passphrase"]
            .iter()
            .any(|w| lower.contains(w))
}

/// Parses `text` into a configuration, collecting key-level issues.
///
/// # Errors
/// [`ConfigError::Syntax`] for malformed TOML; [`ConfigError::Invalid`] if
/// even the cleaned document cannot be deserialized (not expected: bad keys
/// are removed first).
pub(crate) fn parse(text: &str) -> Result<(Config, Issues), ConfigError> {
    let mut table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax {
            message: e.to_string().trim_end().to_owned(),
        })?;
    let mut issues = Issues::default();
    remove_secrets(&mut table, "", &mut issues);
    check_required(&table, &mut issues);
    let mut bad = Vec::new();
    for (key, value) in &table {
        visit(&mut vec![key.clone()], value, &mut issues, &mut bad);
    }
    for path in &bad {
        remove_path(&mut table, path);
    }
    match Value::Table(table).try_into::<Config>() {
        Ok(config) => Ok((config, issues)),
        Err(e) => {
            issues.push("(configuration)", clean_message(&e.to_string()));
            Err(issues.into_error())
        }
    }
}

/// Removes secret-looking keys anywhere in the document, recording one
/// issue per key (never its value).
fn remove_secrets(table: &mut Table, prefix: &str, issues: &mut Issues) {
    let secret_keys: Vec<String> = table.keys().filter(|k| is_secret_key(k)).cloned().collect();
    for key in secret_keys {
        table.remove(&key);
        issues.push(
            join(prefix, &key),
            "secrets must not be stored in config.toml; set BINGX_API_KEY and BINGX_API_SECRET in the \
             environment or in a .env file (see .env.example)",
        );
    }
    for (key, value) in table.iter_mut() {
        if let Value::Table(inner) = value {
            remove_secrets(inner, &join(prefix, key), issues);
        }
    }
}

/// Records a missing required table or key.
fn check_required(table: &Table, issues: &mut Issues) {
    for (name, why) in REQUIRED_TABLES {
        if !table.contains_key(name) {
            issues.push(name, format!("required table [{name}] is missing: {why}"));
        }
    }
    if let Some(Value::Table(market)) = table.get("market") {
        if !market.contains_key("symbols") {
            issues.push(
                "market.symbols",
                "required key is missing (e.g. symbols = [\"BTC-USDT\"])",
            );
        }
    }
}

/// Tries the value at `path` on its own; recurses into tables that are
/// accepted as (empty) tables.
fn visit(path: &mut Vec<String>, value: &Value, issues: &mut Issues, bad: &mut Vec<Vec<String>>) {
    if let Value::Table(inner) = value {
        if let Err(message) = try_single(path, Value::Table(Table::new())) {
            issues.push(path.join("."), message);
            bad.push(path.clone());
            return;
        }
        for (key, child) in inner {
            path.push(key.clone());
            visit(path, child, issues, bad);
            path.pop();
        }
    } else if let Err(message) = try_single(path, value.clone()) {
        issues.push(path.join("."), message);
        bad.push(path.clone());
    }
}

/// Deserializes a document holding only `value` at `path`.
fn try_single(path: &[String], value: Value) -> Result<(), String> {
    let mut doc = value;
    for key in path.iter().rev() {
        let mut t = Table::new();
        t.insert(key.clone(), doc);
        doc = Value::Table(t);
    }
    doc.try_into::<Config>()
        .map(drop)
        .map_err(|e| clean_message(&e.to_string()))
}

/// Removes the key at `path` (all but the last element name tables).
fn remove_path(table: &mut Table, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            table.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Table(inner)) = table.get_mut(first) {
                remove_path(inner, rest);
            }
        }
    }
}

/// Joins a dotted prefix and a key.
fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Rewrites serde's messages for a person editing the file: unknown fields
/// become "unknown key" with the closest known key suggested.
pub(crate) fn clean_message(raw: &str) -> String {
    // toml appends "\nin `key.path`"; the caller names the key already.
    let first_line = raw.trim().lines().next().unwrap_or("");
    let mut msg = first_line.trim_end_matches('.').to_owned();
    for (rust, plain) in [
        ("expected f64", "expected a number"),
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u8", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
    ] {
        if let Some(replaced) = msg.strip_suffix(rust).map(|head| format!("{head}{plain}")) {
            msg = replaced;
        }
    }
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg;
    };
    let Some((name, tail)) = rest.split_once('`') else {
        return msg;
    };
    let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    match closest(name, &expected) {
        Some(best) => format!("unknown key \"{name}\" (did you mean \"{best}\"?)"),
        None if expected.is_empty() => format!("unknown key \"{name}\" (this table takes no keys)"),
        None => format!(
            "unknown key \"{name}\" (expected one of: {})",
            expected.join(", ")
        ),
    }
}

/// Returns the candidate nearest to `name` by edit distance, if close enough
/// to be a typo (distance at most 1 + len / 4).
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = 1 + name.len() / 4;
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance between two ASCII-ish strings (by char).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_names_are_recognised() {
        for k in [
            "api_key",
            "api_secret",
            "API_SECRET",
            "bingx_api_key",
            "secret_key",
            "password",
            "token",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "recv_window_ms",
            "stop_file",
            "hot_core",
            "max_tokens_per_sec_x",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn unknown_field_messages_suggest_the_nearest_key() {
        let raw = "unknown field `max_drawdwn_pct`, expected one of `max_drawdown_pct`, `flatten_on_halt`";
        assert_eq!(
            clean_message(raw),
            "unknown key \"max_drawdwn_pct\" (did you mean \"max_drawdown_pct\"?)"
        );
        let raw = "unknown field `zzz`, expected one of `alpha`, `beta`";
        assert_eq!(
            clean_message(raw),
            "unknown key \"zzz\" (expected one of: alpha, beta)"
        );
        assert_eq!(
            clean_message("invalid type: string \"x\", expected f64\nin `risk.max_drawdown_pct`\n"),
            "invalid type: string \"x\", expected a number"
        );
        let raw = "unknown field `risk`, expected one of `symbols`, `feed`\nin `market`\n";
        assert_eq!(
            clean_message(raw),
            "unknown key \"risk\" (expected one of: symbols, feed)"
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn remove_path_deletes_only_the_nested_key() {
        let mut t: Table = "[a]\nb = 1\nc = 2".parse().unwrap();
        remove_path(&mut t, &["a".to_owned(), "b".to_owned()]);
        assert_eq!(t.to_string().trim(), "[a]\nc = 2");
    }
}
