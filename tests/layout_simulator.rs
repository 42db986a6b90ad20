//! Issue 14: the exchange simulator is its own crate (`tools/bingx-sim`); no file under
//! `src/` holds it and the engine library does not use it. Only the binary's demo module
//! (`src/demo_exchange.rs`) and test modules (`*tests.rs`, via the dev-dependency) name it.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers panic on an unreadable tree"
)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn issue_14_the_engine_library_does_not_use_the_simulator() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 50,
        "{} files under {}",
        files.len(),
        src.display()
    );
    let binary = [src.join("main.rs"), src.join("demo_exchange.rs")];
    let mut offenders = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        if binary.contains(f) || name.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        if text.contains("bingx_sim") {
            offenders.push(f.display().to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "library files using the simulator: {offenders:?}"
    );
    assert!(!src.join("bingx_sim").exists());
    assert!(!src.join("testdata.rs").exists());
}
