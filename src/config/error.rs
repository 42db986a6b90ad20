//! Configuration errors: every problem found while loading `config.toml`,
//! each naming the full key path (`risk.max_drawdown_pct`).
//!
//! Consumes nothing; produces [`ConfigError`] and [`ConfigIssue`]. Never
//! echoes a value found under a secret-looking key.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// One problem with one key of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Full dotted key path, e.g. `risk.max_drawdown_pct`, or a table name
    /// such as `exchange` for a missing table.
    pub key: String,
    /// What is wrong, e.g. `must be in (0, 100], got -5`.
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Why a configuration could not be loaded, serialized or accepted.
#[derive(Debug)]
pub enum ConfigError {
    /// The configuration file could not be read.
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
    /// The text is not valid TOML (the message carries line and column).
    Syntax {
        /// The TOML parser's message.
        message: String,
    },
    /// The TOML is well formed but keys are unknown, mistyped, out of range
    /// or inconsistent; every problem found is listed, not just the first.
    Invalid {
        /// All problems, in file order for key-level problems, then
        /// section by section for range and relation checks.
        issues: Vec<ConfigIssue>,
    },
    /// The configuration could not be rendered back to TOML.
    Serialize {
        /// The serializer's message.
        message: String,
    },
}

impl ConfigError {
    /// Returns the key-level issues (empty for read, syntax and serialize
    /// errors).
    #[must_use]
    pub fn issues(&self) -> &[ConfigIssue] {
        match self {
            Self::Invalid { issues } => issues,
            _ => &[],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => {
                write!(
                    f,
                    "cannot read configuration file {}: {source}",
                    path.display()
                )
            }
            Self::Syntax { message } => write!(f, "configuration is not valid TOML: {message}"),
            Self::Invalid { issues } => {
                let noun = if issues.len() == 1 { "error" } else { "errors" };
                write!(f, "configuration has {} {noun}:", issues.len())?;
                for issue in issues {
                    write!(f, "\n  {issue}")?;
                }
                Ok(())
            }
            Self::Serialize { message } => {
                write!(f, "configuration cannot be rendered as TOML: {message}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_error_lists_every_issue_on_its_own_line() {
        let err = ConfigError::Invalid {
            issues: vec![
                ConfigIssue {
                    key: "risk.max_drawdown_pct".into(),
                    message: "must be in (0, 100], got -5".into(),
                },
                ConfigIssue {
                    key: "exchange".into(),
                    message: "required table [exchange] is missing".into(),
                },
            ],
        };
        let text = err.to_string();
        assert_eq!(
            text,
            "configuration has 2 errors:\n  risk.max_drawdown_pct: must be in (0, 100], got -5\n  exchange: required table [exchange] is missing"
        );
        assert_eq!(err.issues().len(), 2);
    }

    #[test]
    fn read_error_keeps_path_and_cause() {
        let err = ConfigError::Read {
            path: PathBuf::from("/nope/config.toml"),
            source: io::Error::new(io::ErrorKind::NotFound, "No such file"),
        };
        assert!(err.to_string().contains("/nope/config.toml"));
        assert!(err.to_string().contains("No such file"));
        assert!(std::error::Error::source(&err).is_some());
        assert!(err.issues().is_empty());
    }
}
