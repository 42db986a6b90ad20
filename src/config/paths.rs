//! Checks of the configured paths against this machine: what `run` will
//! create or write must be creatable and writable, and each path must be
//! a directory or a file as its key says.
//!
//! Consumes a validated [`Config`]; produces a [`ConfigError::Invalid`]
//! naming the key and the resolved path of every problem. `config check`
//! and `run` both call it, so `config check` refuses what `run` would.
//! Never creates, opens or changes anything: it only looks (`stat`,
//! `access`).

use super::error::ConfigError;
use super::validate::Issues;
use super::Config;
use std::path::{Path, PathBuf};

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A directory the engine creates (with its parents) and writes into.
    Dir,
    /// A file the engine creates (with its parents) and writes.
    File,
    /// A file the engine creates in an existing directory.
    FileInExistingDir,
    /// A file the engine only watches for (never writes).
    Watched,
}

impl Config {
    /// Checks every configured path on this machine: `engine.working_dir`
    /// exists and is a directory; `journal.dir`, `latency.hgrm_dir`
    /// (directories) and `logging.file` (a file) are what their key says
    /// when they exist, or else can be created under a writable directory;
    /// `risk.halt_file` can be written and `risk.stop_file` is not a
    /// directory.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming each key with its resolved path.
    pub fn check_paths(&self) -> Result<(), ConfigError> {
        let mut issues = Issues::default();
        let wd = &self.engine.working_dir;
        if !wd.is_dir() {
            issues.push(
                "engine.working_dir",
                format!("\"{}\" does not exist or is not a directory", wd.display()),
            );
            return issues.finish(());
        }
        let resolve = |p: &Path| self.engine.resolve_path(p);
        check(
            &mut issues,
            "journal.dir",
            &resolve(&self.journal.dir),
            Kind::Dir,
        );
        if let Some(dir) = &self.latency.hgrm_dir {
            check(&mut issues, "latency.hgrm_dir", &resolve(dir), Kind::Dir);
        }
        if let Some(file) = &self.logging.file {
            check(&mut issues, "logging.file", &resolve(file), Kind::File);
        }
        check(
            &mut issues,
            "risk.halt_file",
            &resolve(&self.risk.halt_file),
            Kind::FileInExistingDir,
        );
        check(
            &mut issues,
            "risk.stop_file",
            &resolve(&self.risk.stop_file),
            Kind::Watched,
        );
        issues.finish(())
    }
}

/// Records why `path` (the value of `key`) cannot be used as `kind`.
fn check(issues: &mut Issues, key: &str, path: &Path, kind: Kind) {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(meta) => {
            let problem = match kind {
                Kind::Dir if !meta.is_dir() => Some("exists and is not a directory"),
                Kind::File | Kind::FileInExistingDir if meta.is_dir() => {
                    Some("is a directory, not a file")
                }
                Kind::File | Kind::FileInExistingDir if !meta.is_file() => {
                    Some("exists and is not a regular file")
                }
                Kind::Watched if meta.is_dir() => Some("is a directory, not a file"),
                _ => None,
            };
            if let Some(problem) = problem {
                issues.push(key, format!("\"{shown}\" {problem}"));
            } else if kind != Kind::Watched && !writable(path) {
                issues.push(key, format!("\"{shown}\" is not writable"));
            }
        }
        // Missing, or a component on the way is a file: find out which.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            if kind == Kind::Watched {
                return;
            }
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            let parent = parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            if kind == Kind::FileInExistingDir {
                if !parent.is_dir() {
                    issues.push(
                        key,
                        format!(
                            "directory \"{}\" of \"{shown}\" does not exist",
                            parent.display()
                        ),
                    );
                } else if !writable(&parent) {
                    issues.push(
                        key,
                        format!(
                            "\"{shown}\" cannot be created: directory \"{}\" is not writable",
                            parent.display()
                        ),
                    );
                }
                return;
            }
            // Created with its parents: the nearest existing ancestor must
            // be a writable directory.
            let ancestor = parent
                .ancestors()
                .find(|a| a.as_os_str().is_empty() || std::fs::symlink_metadata(a).is_ok());
            let ancestor = match ancestor {
                Some(a) if a.as_os_str().is_empty() => Path::new("."),
                Some(a) => a,
                None => Path::new("/"),
            };
            if !ancestor.is_dir() {
                issues.push(
                    key,
                    format!(
                        "\"{shown}\" cannot be created: \"{}\" is not a directory",
                        ancestor.display()
                    ),
                );
            } else if !writable(ancestor) {
                issues.push(
                    key,
                    format!(
                        "\"{shown}\" cannot be created: \"{}\" is not writable",
                        ancestor.display()
                    ),
                );
            }
        }
        Err(e) => issues.push(key, format!("\"{shown}\" cannot be inspected: {e}")),
    }
}

/// Returns whether this process may write `path` (access(2) W_OK; a
/// read-only file system counts as not writable).
fn writable(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        let mut c = Config::default();
        c.engine.working_dir = dir.to_path_buf();
        c
    }

    fn messages(c: &Config) -> Vec<String> {
        match c.check_paths() {
            Ok(()) => Vec::new(),
            Err(e) => e.issues().iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn defaults_in_a_writable_working_dir_pass() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.logging.file = Some(PathBuf::from("logs/deep/engine.log"));
        c.latency.hgrm_dir = Some(PathBuf::from("latency"));
        assert_eq!(messages(&c), Vec::<String>::new());
    }

    #[test]
    fn issue_20_journal_dir_on_a_file_names_the_key_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.journal.dir = PathBuf::from("/dev/null");
        let m = messages(&c);
        assert_eq!(
            m,
            vec!["journal.dir: \"/dev/null\" exists and is not a directory"]
        );
        std::fs::write(dir.path().join("plain"), b"x").unwrap();
        c.journal.dir = PathBuf::from("plain/journal");
        let m = messages(&c);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with("journal.dir: \""), "{m:?}");
        assert!(m[0].ends_with("plain\" is not a directory"), "{m:?}");
    }

    #[test]
    fn issue_20_log_file_that_is_a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.logging.file = Some(PathBuf::from("/tmp"));
        assert_eq!(
            messages(&c),
            vec!["logging.file: \"/tmp\" is a directory, not a file"]
        );
        c.logging.file = Some(PathBuf::from("/dev/null/engine.log"));
        let m = messages(&c);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("logging.file: \"/dev/null/engine.log\" cannot be created"),
            "{m:?}"
        );
    }

    #[test]
    fn unwritable_places_are_errors() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        let mut c = config(dir.path());
        c.risk.stop_file = PathBuf::from("/tmp");
        c.journal.dir = locked.join("journal");
        c.risk.halt_file = locked.join("HALTED");
        let m = messages(&c);
        if writable(&locked) {
            // Root may write anywhere: only the stop file is wrong.
            eprintln!("running as root: permission checks cannot fail here");
            assert_eq!(
                m,
                vec!["risk.stop_file: \"/tmp\" is a directory, not a file"]
            );
            return;
        }
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[0].starts_with("journal.dir: \""), "{m:?}");
        assert!(m[0].ends_with("locked\" is not writable"), "{m:?}");
        assert!(m[1].starts_with("risk.halt_file:"), "{m:?}");
        assert_eq!(m[2], "risk.stop_file: \"/tmp\" is a directory, not a file");
    }

    #[test]
    fn a_missing_working_dir_is_the_only_error_reported() {
        let mut c = Config::default();
        c.engine.working_dir = PathBuf::from("/definitely/not/here");
        assert_eq!(
            messages(&c),
            vec![
                "engine.working_dir: \"/definitely/not/here\" does not exist or is not a directory"
            ]
        );
    }
}
