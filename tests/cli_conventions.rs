//! What people expect of a CLI: `--version` names the git revision, shell completions and man
//! pages come from the binary, and the exit codes are the ones the README documents
//! (0 success, 1 failure, 2 usage error).
#![allow(clippy::unwrap_used, reason = "integration tests")]

use std::process::{Command, Output};

const ENGINE: &str = env!("CARGO_BIN_EXE_trading-engine");

fn run(args: &[&str]) -> Output {
    Command::new(ENGINE).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn version_prints_the_package_version_and_the_git_revision() {
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let expected = format!("trading-engine {} (git ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    let revision = text
        .trim_end()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap();
    assert!(
        revision == "unknown"
            || (revision.len() == 12 && revision.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _trading__engine"),
        ("zsh", "#compdef trading-engine"),
        ("fish", "complete -c trading-engine"),
    ] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let text = stdout(&o);
        assert!(
            text.contains(marker),
            "{shell}: {}",
            &text[..text.len().min(300)]
        );
        assert!(
            text.contains("backtest") && text.contains("completions"),
            "{shell}"
        );
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_prints_the_main_page_and_writes_one_page_per_subcommand() {
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let page = stdout(&o);
    assert!(
        page.starts_with(".ie") || page.contains(".TH trading-engine"),
        "{page}"
    );
    assert!(
        page.contains("Exit status"),
        "the exit codes are in the man page"
    );
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    for name in [
        "trading-engine.1",
        "trading-engine-run.1",
        "trading-engine-check.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(text.contains(".TH"), "{name}");
    }
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let o = run(&["man", "--dir", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("a-file"));
}

#[test]
fn exit_codes_are_zero_on_success_one_on_failure_and_two_on_usage_errors() {
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(run(&["run", "--no-such-flag"]).status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let o = run(&["config", "check", "--config", missing.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
