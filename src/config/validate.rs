//! Range and relation checks shared by the section validators: an
//! [`Issues`] collector that records every problem with its key path.
//!
//! Consumes values already deserialized; produces [`ConfigIssue`]s. Never
//! stops at the first problem and never touches the file system except for
//! the explicit `file_exists` check.

use super::error::{ConfigError, ConfigIssue};
use std::path::Path;

/// Collects configuration problems, in the order they are found.
#[derive(Debug, Default)]
pub(crate) struct Issues {
    list: Vec<ConfigIssue>,
}

impl Issues {
    /// Records `key: message`.
    pub(crate) fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.list.push(ConfigIssue {
            key: key.into(),
            message: message.into(),
        });
    }

    /// Returns `Ok(value)` when nothing was recorded, else every issue.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError::Invalid { issues: self.list })
        }
    }

    /// Returns every recorded issue as a [`ConfigError::Invalid`].
    pub(crate) fn into_error(self) -> ConfigError {
        ConfigError::Invalid { issues: self.list }
    }

    /// Checks a percentage in `(0, 100]`.
    pub(crate) fn pct(&mut self, key: &str, value: f64) {
        self.range(key, value, Bound::Open(0.0), Bound::Closed(100.0));
    }

    /// Checks `value >= 0` (and finite).
    pub(crate) fn non_negative(&mut self, key: &str, value: f64) {
        self.range(key, value, Bound::Closed(0.0), Bound::Unbounded);
    }

    /// Checks that `value` lies between `low` and `high`; NaN and infinities
    /// always fail.
    pub(crate) fn range(&mut self, key: &str, value: f64, low: Bound, high: Bound) {
        let low_ok = match low {
            Bound::Open(l) => value > l,
            Bound::Closed(l) => value >= l,
            Bound::Unbounded => true,
        };
        let high_ok = match high {
            Bound::Open(h) => value < h,
            Bound::Closed(h) => value <= h,
            Bound::Unbounded => true,
        };
        if !(value.is_finite() && low_ok && high_ok) {
            self.push(key, format!("must be {}, got {value}", describe(low, high)));
        }
    }

    /// Checks an integer count or period `> 0`.
    pub(crate) fn nonzero(&mut self, key: &str, value: u64) {
        if value == 0 {
            self.push(key, "must be greater than 0, got 0");
        }
    }

    /// Checks an integer in `low..=high`.
    pub(crate) fn int_range(&mut self, key: &str, value: u64, low: u64, high: u64) {
        if value < low || value > high {
            self.push(key, format!("must be in [{low}, {high}], got {value}"));
        }
    }

    /// Checks that a path is usable: not empty and without NUL bytes.
    pub(crate) fn path(&mut self, key: &str, path: &Path) {
        let text = path.to_string_lossy();
        if text.trim().is_empty() {
            self.push(key, "must not be empty");
        } else if text.contains('\0') {
            self.push(key, "must not contain a NUL character");
        }
    }

    /// Checks that a path names a file (has a final component that is not
    /// `..` and does not end with a separator).
    pub(crate) fn file_path(&mut self, key: &str, path: &Path) {
        let before = self.list.len();
        self.path(key, path);
        if self.list.len() != before {
            return;
        }
        let text = path.to_string_lossy();
        if text.ends_with('/') || path.file_name().is_none() {
            self.push(key, format!("must name a file, got \"{}\"", path.display()));
        }
    }

    /// Checks that a path names an existing regular file.
    pub(crate) fn file_exists(&mut self, key: &str, path: &Path) {
        let before = self.list.len();
        self.file_path(key, path);
        if self.list.len() == before && !path.is_file() {
            self.push(
                key,
                format!(
                    "file \"{}\" does not exist or is not a regular file",
                    path.display()
                ),
            );
        }
    }
}

/// One end of an allowed range.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    /// Excluding the value.
    Open(f64),
    /// Including the value.
    Closed(f64),
    /// No limit on this side.
    Unbounded,
}

/// Renders a range as `in (0, 100]`, `greater than 0` or `at least 0`.
fn describe(low: Bound, high: Bound) -> String {
    match (low, high) {
        (Bound::Open(l), Bound::Unbounded) => format!("a number greater than {l}"),
        (Bound::Closed(l), Bound::Unbounded) => format!("a number of at least {l}"),
        (Bound::Unbounded, Bound::Open(h)) => format!("a number less than {h}"),
        (Bound::Unbounded, Bound::Closed(h)) => format!("a number of at most {h}"),
        (Bound::Unbounded, Bound::Unbounded) => "a finite number".to_owned(),
        (l, h) => {
            let (lb, lv) = match l {
                Bound::Open(v) => ('(', v),
                Bound::Closed(v) => ('[', v),
                Bound::Unbounded => ('(', f64::NEG_INFINITY),
            };
            let (hb, hv) = match h {
                Bound::Open(v) => (')', v),
                Bound::Closed(v) => (']', v),
                Bound::Unbounded => (')', f64::INFINITY),
            };
            format!("in {lb}{lv}, {hv}{hb}")
        }
    }
}

/// Checks a URL's scheme and host: `secure://host...`, or the plain scheme
/// only for a loopback host (the local exchange simulator).
pub(crate) fn check_url(issues: &mut Issues, key: &str, url: &str, secure: &str, plain: &str) {
    let (scheme, rest) = match url.split_once("://") {
        Some(parts) => parts,
        None => {
            issues.push(key, format!("must be a {secure}:// URL, got \"{url}\""));
            return;
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(stripped) = authority.strip_prefix('[') {
        stripped.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        issues.push(key, format!("has no host, got \"{url}\""));
        return;
    }
    let loopback = matches!(host, "localhost" | "::1") || host.starts_with("127.");
    if scheme == secure || (scheme == plain && loopback) {
        return;
    }
    if scheme == plain {
        issues.push(
            key,
            format!("plain {plain}:// is only allowed for a loopback host, use {secure}://, got \"{url}\""),
        );
    } else {
        issues.push(key, format!("must be a {secure}:// URL, got \"{url}\""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(issues: Issues) -> Vec<String> {
        match issues.finish(()) {
            Ok(()) => Vec::new(),
            Err(e) => e.issues().iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn pct_rejects_negative_zero_nan_and_above_hundred() {
        let mut issues = Issues::default();
        issues.pct("risk.max_drawdown_pct", -5.0);
        issues.pct("a", 0.0);
        issues.pct("b", f64::NAN);
        issues.pct("c", 100.5);
        issues.pct("ok", 100.0);
        let msgs = messages(issues);
        assert_eq!(
            msgs[0],
            "risk.max_drawdown_pct: must be in (0, 100], got -5"
        );
        assert_eq!(msgs.len(), 4);
        assert!(msgs[2].starts_with("b: must be in (0, 100], got NaN"));
    }

    #[test]
    fn range_descriptions_name_the_bounds() {
        let mut issues = Issues::default();
        issues.range("p", 0.0, Bound::Open(0.0), Bound::Unbounded);
        issues.non_negative("n", -1.0);
        issues.range("f", 2.0, Bound::Closed(0.0), Bound::Closed(1.0));
        issues.int_range("i", 0, 1, 125);
        issues.nonzero("z", 0);
        assert_eq!(
            messages(issues),
            vec![
                "p: must be a number greater than 0, got 0",
                "n: must be a number of at least 0, got -1",
                "f: must be in [0, 1], got 2",
                "i: must be in [1, 125], got 0",
                "z: must be greater than 0, got 0",
            ]
        );
    }

    #[test]
    fn paths_must_be_non_empty_and_name_files() {
        let mut issues = Issues::default();
        issues.path("a", Path::new(""));
        issues.file_path("b", Path::new("logs/"));
        issues.file_path("ok", Path::new("logs/engine.log"));
        issues.file_exists("c", Path::new("/definitely/not/here.pem"));
        let msgs = messages(issues);
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs[0].starts_with("a: must not be empty"));
        assert!(msgs[1].starts_with("b: must name a file"));
        assert!(msgs[2].starts_with("c: file \"/definitely/not/here.pem\" does not exist"));
    }

    #[test]
    fn urls_need_secure_scheme_except_on_loopback() {
        let mut issues = Issues::default();
        check_url(
            &mut issues,
            "ok1",
            "https://open-api.bingx.com",
            "https",
            "http",
        );
        check_url(
            &mut issues,
            "ok2",
            "http://127.0.0.1:8443/x",
            "https",
            "http",
        );
        check_url(
            &mut issues,
            "ok3",
            "ws://[::1]:9000/swap-market",
            "wss",
            "ws",
        );
        check_url(
            &mut issues,
            "bad1",
            "http://open-api.bingx.com",
            "https",
            "http",
        );
        check_url(&mut issues, "bad2", "open-api.bingx.com", "https", "http");
        check_url(&mut issues, "bad3", "wss:///nohost", "wss", "ws");
        check_url(&mut issues, "bad4", "ftp://x", "https", "http");
        let msgs = messages(issues);
        let keys: Vec<&str> = msgs
            .iter()
            .map(|m| m.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(keys, vec!["bad1", "bad2", "bad3", "bad4"]);
    }
}
