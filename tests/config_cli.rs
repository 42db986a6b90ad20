//! End-to-end tests of `trading-engine config check`: exit codes and
//! messages naming the bad keys, run as a child process.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions may panic"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The smallest valid file.
const MINIMAL: &str = "[exchange]\n[market]\nsymbols = [\"BTC-USDT\"]\n";

fn shipped_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")
}

/// Runs the binary in `cwd` with no credentials in its environment.
fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trading-engine"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("BINGX_API_KEY")
        .env_remove("BINGX_API_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Writes `text` to a config file in a fresh directory and checks it.
fn check_text(text: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), text).unwrap();
    let out = run(dir.path(), &["config", "check", "--config", "c.toml"], &[]);
    (out, dir)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn shipped_config_exits_zero_and_prints_the_effective_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "config",
            "check",
            "--config",
            shipped_config().to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("# Configuration OK: "), "{text}");
    assert!(
        text.contains("# REST: https://open-api.bingx.com"),
        "{text}"
    );
    assert!(text.contains("[risk]\nmax_drawdown_pct = 10.0"), "{text}");
    assert!(text.contains("[strategies.mtf_long]"), "{text}");
    assert!(text.contains("needed only in live mode"), "{text}");
}

#[test]
fn without_a_file_the_builtin_defaults_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["config", "check"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("# Configuration OK: built-in defaults"));
}

#[test]
fn typo_key_exits_non_zero_naming_the_key() {
    let (out, _dir) = check_text(&format!("{MINIMAL}[risk]\nmax_drawdwn_pct = 5.0\n"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("risk.max_drawdwn_pct: unknown key \"max_drawdwn_pct\" (did you mean \"max_drawdown_pct\"?)"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn negative_percentage_exits_non_zero_naming_the_key() {
    let (out, _dir) = check_text(&format!("{MINIMAL}[risk]\nmax_drawdown_pct = -5\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("risk.max_drawdown_pct: must be in (0, 100], got -5"),
        "{}",
        stderr(&out)
    );
}

/// Issue 20 item 3: a lookback of four billion candles used to pass the
/// check and then abort `run` allocating 32 GB for its window.
#[test]
fn issue_20_huge_breakout_lookback_is_refused_by_config_check_naming_the_key() {
    let (out, _dir) = check_text(&format!(
        "{MINIMAL}[strategies.mtf_long]\nbreakout_lookback = 4000000000\n[strategies.trend_distance_short]\nsma_slow_period = 2017\n"
    ));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("strategies.mtf_long.breakout_lookback: must be at most 10080 (one week of 1m candles), got 4000000000"),
        "{err}"
    );
    assert!(
        err.contains("strategies.trend_distance_short.sma_slow_period: must be at most 2016 (one week of 5m candles), got 2017"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_typo_in_a_strategy_table_suggests_the_nearest_key() {
    let (out, _dir) = check_text(&format!(
        "{MINIMAL}[strategies.trend_distance_short]\nbreakdown_lookbak = 20\n"
    ));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("strategies.trend_distance_short.breakdown_lookbak: unknown key \"breakdown_lookbak\" (did you mean \"breakdown_lookback\"?)"),
        "{err}"
    );
}

#[test]
fn missing_required_table_exits_non_zero_naming_it() {
    let (out, _dir) = check_text("[market]\nsymbols = [\"BTC-USDT\"]\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("exchange: required table [exchange] is missing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_error_is_printed_and_the_error_is_logged_once() {
    let (out, _dir) =
        check_text("[exchange]\nleverage = 0\n[risk]\nmax_drawdown_pct = -5\ntypo = 1\n");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches("Configuration rejected").count(), 1, "{err}");
    for key in [
        "market: required table",
        "exchange.leverage:",
        "risk.max_drawdown_pct:",
        "risk.typo:",
    ] {
        assert!(err.contains(key), "{key} missing in {err}");
    }
    assert!(err.contains("configuration has 4 errors"), "{err}");
}

#[test]
fn a_secret_in_the_file_is_rejected_without_printing_it() {
    let (out, _dir) = check_text(&format!(
        "{MINIMAL}[risk]\napi_secret = \"do-not-print-me\"\n"
    ));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("risk.api_secret: secrets must not be stored in config.toml"),
        "{err}"
    );
    assert!(!err.contains("do-not-print-me") && !stdout(&out).contains("do-not-print-me"));
}

#[test]
fn syntax_errors_and_missing_files_exit_non_zero() {
    let (out, _dir) = check_text("[exchange\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not valid TOML"), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["config", "check", "--config", "absent.toml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read configuration file absent.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn live_mode_needs_credentials_and_never_prints_them() {
    let live = "[engine]\nmode = \"live\"\n[exchange]\n[market]\nsymbols = [\"BTC-USDT\"]\n";
    let (out, dir) = check_text(live);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("BINGX_API_KEY and BINGX_API_SECRET not set"),
        "{}",
        stderr(&out)
    );

    let creds = [
        ("BINGX_API_KEY", "key-visible-nowhere"),
        ("BINGX_API_SECRET", "secret-visible-nowhere"),
    ];
    let out = run(
        dir.path(),
        &["config", "check", "--config", "c.toml"],
        &creds,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("visible-nowhere"), "{all}");
    assert!(
        stdout(&out).contains("BINGX_API_KEY = ***redacted*** (from environment)"),
        "{all}"
    );

    // A .env file is the fallback source.
    std::fs::write(
        dir.path().join(".env"),
        "BINGX_API_KEY=k-from-file\nBINGX_API_SECRET=s-from-file\n",
    )
    .unwrap();
    let out = run(dir.path(), &["config", "check", "--config", "c.toml"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("BINGX_API_SECRET = ***redacted*** (from .env)"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("from-file"));
}

#[test]
fn log_level_option_is_global_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--log-level", "off", "config", "check"], &[]);
    assert!(out.status.success());
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let out = run(dir.path(), &["config", "check", "--log-level", "info"], &[]);
    assert!(stderr(&out).contains("INFO  trading_engine::cli::config_check: Configuration from built-in defaults is valid"), "{}", stderr(&out));
    let out = run(dir.path(), &["--log-level", "loud", "config", "check"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown log level \"loud\""));
}

#[test]
fn errors_still_reach_stderr_with_logging_off() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[market]\nsymbols = [\"BTC-USDT\"]\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "--log-level",
            "off",
            "config",
            "check",
            "--config",
            "c.toml",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("exchange: required table [exchange] is missing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_subcommands_do_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2));
}
