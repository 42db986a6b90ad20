//! Exchange credentials: read only from the process environment or a
//! `.env` file, never from `config.toml`, and never printed.
//!
//! Consumes `BINGX_API_KEY` / `BINGX_API_SECRET` from the environment
//! (first) or a `.env` file (second); produces [`Credentials`] made of
//! [`Secret`]s whose `Debug` and `Display` print `***redacted***`. Never
//! modifies the process environment (the `.env` file is read, not loaded
//! into it) and never puts a secret, or a `.env` line that could hold one,
//! into an error message.

use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable holding the BingX API key.
pub const API_KEY_VAR: &str = "BINGX_API_KEY";
/// Environment variable holding the BingX API secret.
pub const API_SECRET_VAR: &str = "BINGX_API_SECRET";

/// Text printed in place of a secret.
const REDACTED: &str = "***redacted***";

/// A secret string: readable only through [`Secret::expose`]; `Debug` and
/// `Display` print `***redacted***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Returns the secret itself; the caller must not log or print it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Where a credential was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// The process environment.
    Environment,
    /// A `.env` file.
    EnvFile(PathBuf),
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment => f.write_str("environment"),
            Self::EnvFile(path) => write!(f, "{}", path.display()),
        }
    }
}

/// BingX API credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The API key (`X-BX-APIKEY` header).
    pub api_key: Secret,
    /// The HMAC-SHA256 signing secret.
    pub api_secret: Secret,
    /// Where the key was found.
    pub api_key_source: CredentialSource,
    /// Where the secret was found.
    pub api_secret_source: CredentialSource,
}

/// Why credentials could not be loaded.
#[derive(Debug)]
pub enum CredentialsError {
    /// Variables set neither in the environment nor in the `.env` file (or
    /// set to an empty value).
    Missing {
        /// The variable names.
        vars: Vec<&'static str>,
        /// The `.env` file that was consulted, if it exists.
        env_file: Option<PathBuf>,
    },
    /// The `.env` file exists but cannot be read or parsed. The message
    /// never contains the offending line, which could hold a secret.
    EnvFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { vars, env_file } => {
                write!(f, "{} not set in the environment", vars.join(" and "))?;
                if let Some(path) = env_file {
                    write!(f, " or in {}", path.display())?;
                } else {
                    f.write_str(" and no .env file was found")?;
                }
                f.write_str("; see .env.example")
            }
            Self::EnvFile { path, message } => {
                write!(f, "cannot read {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for CredentialsError {}

impl Credentials {
    /// Loads the credentials from the process environment, falling back to
    /// `env_file` (typically `.env`) when it exists.
    ///
    /// # Errors
    /// [`CredentialsError::Missing`] naming every absent variable;
    /// [`CredentialsError::EnvFile`] when the file exists but is malformed.
    pub fn load(env_file: &Path) -> Result<Self, CredentialsError> {
        Self::load_with(|name| std::env::var(name).ok(), env_file)
    }

    /// Like [`Credentials::load`] with the environment given as a lookup
    /// function (tests use a map).
    ///
    /// # Errors
    /// As [`Credentials::load`].
    pub fn load_with(
        env: impl Fn(&str) -> Option<String>,
        env_file: &Path,
    ) -> Result<Self, CredentialsError> {
        let file_vars = read_env_file(env_file)?;
        let file_used = file_vars.is_some().then(|| env_file.to_path_buf());
        let find = |name: &'static str| -> Option<(Secret, CredentialSource)> {
            if let Some(v) = env(name).filter(|v| !v.is_empty()) {
                return Some((Secret::new(v), CredentialSource::Environment));
            }
            let vars = file_vars.as_ref()?;
            vars.iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| {
                    (
                        Secret::new(v.clone()),
                        CredentialSource::EnvFile(env_file.to_path_buf()),
                    )
                })
        };
        match (find(API_KEY_VAR), find(API_SECRET_VAR)) {
            (Some((api_key, api_key_source)), Some((api_secret, api_secret_source))) => Ok(Self {
                api_key,
                api_secret,
                api_key_source,
                api_secret_source,
            }),
            (key, secret) => {
                let mut vars = Vec::new();
                if key.is_none() {
                    vars.push(API_KEY_VAR);
                }
                if secret.is_none() {
                    vars.push(API_SECRET_VAR);
                }
                Err(CredentialsError::Missing {
                    vars,
                    env_file: file_used,
                })
            }
        }
    }
}

/// Reads `KEY=value` pairs from a `.env` file; `Ok(None)` if it does not
/// exist.
fn read_env_file(path: &Path) -> Result<Option<Vec<(String, String)>>, CredentialsError> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(e) if e.not_found() => return Ok(None),
        Err(e) => return Err(env_file_error(path, &e)),
    };
    let mut vars = Vec::new();
    for item in iter {
        vars.push(item.map_err(|e| env_file_error(path, &e))?);
    }
    Ok(Some(vars))
}

/// Describes a dotenvy error without the line text (it may hold a secret).
fn env_file_error(path: &Path, err: &dotenvy::Error) -> CredentialsError {
    let message = match err {
        dotenvy::Error::LineParse(_, index) => {
            format!("syntax error at character {index} of a line")
        }
        dotenvy::Error::Io(e) => e.to_string(),
        dotenvy::Error::EnvVar(e) => e.to_string(),
        _ => "malformed file".to_owned(),
    };
    CredentialsError::EnvFile {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn secret_debug_and_display_are_redacted() {
        let s = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{s}"), "***redacted***");
        assert_eq!(format!("{s:?}"), "***redacted***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn credentials_debug_never_shows_the_values() {
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::load_with(
            env_of(&[
                (API_KEY_VAR, "KEYVALUE123"),
                (API_SECRET_VAR, "SECRETVALUE456"),
            ]),
            &dir.path().join(".env"),
        )
        .unwrap();
        let dbg = format!("{creds:?}");
        assert!(
            !dbg.contains("KEYVALUE123") && !dbg.contains("SECRETVALUE456"),
            "{dbg}"
        );
        assert!(dbg.contains("***redacted***"));
        assert_eq!(creds.api_key_source, CredentialSource::Environment);
    }

    #[test]
    fn environment_wins_over_env_file_and_file_fills_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(
            &file,
            "BINGX_API_KEY=from_file_key\nBINGX_API_SECRET=from_file_secret\n",
        )
        .unwrap();
        let creds = Credentials::load_with(env_of(&[(API_KEY_VAR, "env_key")]), &file).unwrap();
        assert_eq!(creds.api_key.expose(), "env_key");
        assert_eq!(creds.api_secret.expose(), "from_file_secret");
        assert_eq!(creds.api_secret_source, CredentialSource::EnvFile(file));
    }

    #[test]
    fn missing_credentials_name_every_absent_variable() {
        let dir = tempfile::tempdir().unwrap();
        let err = Credentials::load_with(env_of(&[(API_KEY_VAR, "")]), &dir.path().join(".env"))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("BINGX_API_KEY and BINGX_API_SECRET not set"),
            "{text}"
        );
        assert!(text.contains("and no .env file was found"), "{text}");
    }

    #[test]
    fn malformed_env_file_error_does_not_echo_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, "BINGX_API_SECRET='topsecretvalue\n").unwrap();
        let err = Credentials::load_with(env_of(&[]), &file).unwrap_err();
        assert!(matches!(err, CredentialsError::EnvFile { .. }), "{err:?}");
        assert!(!err.to_string().contains("topsecretvalue"), "{err}");
    }
}
