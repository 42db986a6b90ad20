//! Build script: records the git revision for `trading-engine --version`.
//!
//! Sets `TE_GIT_REVISION` to the abbreviated commit hash of the checkout being built, or to
//! `unknown` when git or the repository is absent (a source tarball, a container build without
//! `.git`). Reruns when HEAD moves (a commit, a checkout), so the revision is never stale.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TE_GIT_REVISION");
    // A packager may set the revision explicitly (e.g. a build without .git).
    let revision = std::env::var("TE_GIT_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    for file in ["HEAD", "logs/HEAD"] {
        if let Some(path) = git(&["rev-parse", "--git-path", file]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    println!("cargo:rustc-env=TE_GIT_REVISION={revision}");
}
