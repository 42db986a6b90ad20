//! Issue 20, through the real binary: the `[logging]` section is applied
//! (file, JSON format, `--log-level` overriding the level), and what `run`
//! would refuse is refused by `config check` naming the key and the path:
//! a log file that is a directory, a journal directory that is a file, a
//! terabyte segment. A control port in use stops `run` before anything is
//! journaled; `backtest --out` onto a file names the path.
#![allow(clippy::unwrap_used, reason = "integration tests")]

use std::path::Path;
use std::process::{Command, Output};

const MINIMAL: &str = "[exchange]\n[market]\nsymbols = [\"BTC-USDT\"]\n";

fn engine(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .current_dir(cwd)
        .args(args)
        .env_remove("BINGX_API_KEY")
        .env_remove("BINGX_API_SECRET")
        .output()
        .unwrap()
}

fn write_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    let core = trading_engine::config::available_core_ids()
        .and_then(|c| c.first().copied())
        .unwrap_or(0);
    std::fs::write(
        &path,
        format!("[engine]\nhot_core = {core}\n{MINIMAL}{extra}"),
    )
    .unwrap();
    path
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn issue_20_a_configured_json_log_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "[logging]\nfile = \"logs/engine.log\"\nformat = \"json\"\n",
    );
    let out = engine(dir.path(), &["config", "check", "--config", "config.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(dir.path().join("logs/engine.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l["level"] == "INFO"
            && l["message"]
                .as_str()
                .unwrap()
                .contains(&format!("Configuration from {} is valid", "config.toml"))),
        "{log}"
    );
    drop(cfg);
}

#[test]
fn issue_20_log_level_overrides_the_configured_level_and_text_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "[logging]\nfile = \"engine.log\"\nlevel = \"info\"\n",
    );
    let quiet = engine(
        dir.path(),
        &[
            "--log-level",
            "warn",
            "config",
            "check",
            "--config",
            "config.toml",
        ],
    );
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    let log = std::fs::read_to_string(dir.path().join("engine.log")).unwrap();
    assert!(!log.contains("is valid"), "{log}");
    let loud = engine(dir.path(), &["config", "check", "--config", "config.toml"]);
    assert!(loud.status.success());
    let log = std::fs::read_to_string(dir.path().join("engine.log")).unwrap();
    let line = log.lines().find(|l| l.contains("is valid")).unwrap();
    assert!(line.contains("INFO"), "{line}");
    assert!(!line.starts_with('{'), "text format by default: {line}");
}

#[test]
fn issue_20_config_check_refuses_what_run_would_refuse_naming_key_and_path() {
    let dir = tempfile::tempdir().unwrap();
    for (extra, expected) in [
        (
            "[logging]\nfile = \"/tmp\"\n",
            "logging.file: \"/tmp\" is a directory, not a file",
        ),
        (
            "[journal]\ndir = \"/dev/null\"\n",
            "journal.dir: \"/dev/null\" exists and is not a directory",
        ),
        (
            "[journal]\nsegment_size_bytes = 1099511627776\n",
            "journal.segment_size_bytes: must be a multiple of 4096 in [4096, 1073741824] (1 GiB), got 1099511627776",
        ),
    ] {
        write_config(dir.path(), extra);
        let out = engine(dir.path(), &["config", "check", "--config", "config.toml"]);
        assert_eq!(out.status.code(), Some(1), "{extra}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{extra}: {err}");
        // `run` refuses it the same way, before touching the exchange.
        let out = engine(dir.path(), &["run", "--config", "config.toml", "--duration", "1"]);
        assert_eq!(out.status.code(), Some(1), "{extra}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "run, {extra}: {err}");
    }
}

#[test]
fn issue_20_a_control_port_in_use_fails_the_run_before_any_journal_record() {
    let dir = tempfile::tempdir().unwrap();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    // Nothing listens on the exchange address either: the port must fail
    // first.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let rest = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let core = trading_engine::config::available_core_ids()
        .and_then(|c| c.first().copied())
        .unwrap_or(0);
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[engine]\nhot_core = {core}\n[exchange]\nrest_base_url = \"{rest}\"\n[market]\nsymbols = [\"BTC-USDT\"]\n[metrics]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\n[journal]\ndir = \"j\"\n"
        ),
    )
    .unwrap();
    let out = engine(
        dir.path(),
        &[
            "run",
            "--config",
            "config.toml",
            "--mode",
            "paper",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot listen for metrics/control on 127.0.0.1:{port}"
        )),
        "{err}"
    );
    let journal = dir.path().join("j");
    let written = std::fs::read_dir(&journal).map_or(0, |d| d.count());
    assert_eq!(written, 0, "nothing journaled in {}", journal.display());
}

#[test]
fn issue_20_backtest_out_onto_a_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, b"x").unwrap();
    let out = engine(
        dir.path(),
        &["backtest", "--synthetic", "1", "--out", "taken"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--out taken: exists and is not a directory"),
        "{err}"
    );
    let out = engine(
        dir.path(),
        &["backtest", "--synthetic", "1", "--out", "taken/inside"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--out taken/inside: cannot create the directory"),
        "{err}"
    );
}
