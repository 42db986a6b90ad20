//! Locating the shared real-market data set (`../shared/data` beside the
//! repository) for tests, benchmarks and examples.
//!
//! The data is never copied into the repository. A test that needs it calls
//! [`shared_data`] or [`shared_file`]: on a user's fresh clone without the data
//! they print a clear skip message and return `None`; under `CI=true` (CI has
//! the data) a missing file is a failure, so a misplaced data set can never
//! make CI pass by skipping.
//!
//! Reads only the environment and the file system; never allocates on any hot
//! path (it is not used there).

use std::path::{Path, PathBuf};

/// Environment variable that overrides the location of the data directory.
pub const DATA_DIR_ENV: &str = "TE_SHARED_DATA";

/// Returns true when running under CI (`CI=true` or `CI=1`).
#[must_use]
pub fn running_in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

/// Returns the candidate data directory: `$TE_SHARED_DATA`, else
/// `../shared/data` relative to the workspace root.
#[must_use]
pub fn data_dir_candidate() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV) {
        return PathBuf::from(dir);
    }
    // CARGO_MANIFEST_DIR of this crate is tools/bingx-sim under the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("..")
        .join("shared")
        .join("data")
}

/// Returns the shared data directory if it exists.
///
/// # Panics
/// Panics under CI when the directory is missing (CI must have the data).
#[must_use]
pub fn shared_data() -> Option<PathBuf> {
    let dir = data_dir_candidate();
    if dir.is_dir() {
        Some(dir)
    } else {
        missing(&dir)
    }
}

/// Returns the path of `relative` inside the shared data directory if it exists.
///
/// # Panics
/// Panics under CI when the file is missing (CI must have the data).
#[must_use]
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = data_dir_candidate().join(relative);
    if path.exists() {
        Some(path)
    } else {
        missing(&path)
    }
}

fn missing(path: &Path) -> Option<PathBuf> {
    if running_in_ci() {
        panic!("Shared data missing under CI: {} (set {DATA_DIR_ENV} or place ../shared beside the repository)", path.display());
    }
    eprintln!(
        "SKIPPED: shared data not found at {} (set {DATA_DIR_ENV} to run this test)",
        path.display()
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_points_beside_the_repository() {
        let dir = data_dir_candidate();
        if std::env::var_os(DATA_DIR_ENV).is_none() {
            assert!(dir.ends_with("shared/data"));
        }
    }

    #[test]
    fn a_missing_file_is_none_outside_ci_and_a_panic_in_ci() {
        let result = std::panic::catch_unwind(|| shared_file("definitely/not/here.csv"));
        if running_in_ci() {
            assert!(result.is_err());
        } else {
            assert_eq!(result.ok().flatten(), None);
        }
    }
}
