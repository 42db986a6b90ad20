//! Pre-flight checks (`runtime::startup::preflight` and `trading-engine
//! check`) against the loopback BingX simulator: a good account passes, and
//! a wrong secret, an unlisted symbol, an unreachable port and a leverage
//! difference each fail their named line.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use bingx_sim::{SimConfig, SimHandle, Simulator, Speed};
use std::path::Path;
use std::process::Command;
use trading_engine::config::CredentialSource;
use trading_engine::config::{Config, Credentials, Secret};
use trading_engine::runtime::startup::preflight::{
    run_checks, CheckItem, CheckStatus, PreflightOptions,
};

fn sim() -> SimHandle {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Manual,
        warmup_minutes: 0,
        ..SimConfig::default()
    })
    .unwrap();
    sim.inject_trade("60000.0", "0.0100", false).unwrap();
    sim
}

fn config(rest: &str, journal: &Path, symbol: &str) -> Config {
    let mut cfg = Config::default();
    cfg.exchange.rest_base_url = Some(rest.to_owned());
    cfg.exchange.request_timeout_ms = 3000;
    cfg.market.symbols = vec![symbol.to_owned()];
    cfg.journal.dir = journal.to_path_buf();
    cfg.engine.hot_core = trading_engine::config::available_core_ids()
        .and_then(|c| c.first().copied())
        .unwrap_or(0);
    cfg
}

fn creds(key: &str, secret: &str) -> Result<Credentials, String> {
    Ok(Credentials {
        api_key: Secret::new(key.to_owned()),
        api_secret: Secret::new(secret.to_owned()),
        api_key_source: CredentialSource::Environment,
        api_secret_source: CredentialSource::Environment,
    })
}

fn status(
    list: &trading_engine::runtime::startup::preflight::Checklist,
    item: CheckItem,
) -> CheckStatus {
    list.line(item).unwrap().status
}

#[test]
fn good_simulator_passes_after_fixing_leverage_and_margin() {
    let sim = sim();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&sim.rest_base(), &tmp.path().join("j"), "BTC-USDT");
    let opts = PreflightOptions::for_config(&cfg, true);
    let list = run_checks(&cfg, creds("sim-key", "sim-secret"), &opts);
    assert!(list.passed(), "{list}");
    let text = list.to_string();
    assert!(
        text.contains("✓ leverage: BTC-USDT set to 5x (was 10x/10x)"),
        "{text}"
    );
    assert!(
        text.contains("✓ margin type: BTC-USDT set to ISOLATED (was CROSSED)"),
        "{text}"
    );
    assert!(text.ends_with("All 9 checks passed"), "{text}");
    assert!(
        text.contains("✓ symbol rules: BTC-USDT tick 0.1 step 0.0001 min qty 0.0001\n"),
        "{text}"
    );
    assert_eq!(list.rules().unwrap().len(), 1);
    assert_eq!(list.rules().unwrap()[0].tick.decimals(), 1);
    assert!((list.balance().unwrap() - 10_000.0).abs() < 1e-6);
    // Now the account matches: a read-only run passes too.
    let again = run_checks(
        &cfg,
        creds("sim-key", "sim-secret"),
        &PreflightOptions::for_config(&cfg, false),
    );
    assert!(again.passed(), "{again}");
    assert!(
        again.to_string().contains("✓ leverage: BTC-USDT 5x"),
        "{again}"
    );
}

#[test]
fn leverage_difference_without_fix_fails_the_leverage_line() {
    let sim = sim();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&sim.rest_base(), tmp.path(), "BTC-USDT");
    let list = run_checks(
        &cfg,
        creds("sim-key", "sim-secret"),
        &PreflightOptions::for_config(&cfg, false),
    );
    assert!(!list.passed());
    assert_eq!(status(&list, CheckItem::Leverage), CheckStatus::Failed);
    assert_eq!(status(&list, CheckItem::MarginType), CheckStatus::Failed);
    assert_eq!(status(&list, CheckItem::Credentials), CheckStatus::Passed);
    let text = list.to_string();
    assert!(
        text.contains("✗ leverage: BTC-USDT is 10x/10x on the exchange, config says 5x"),
        "{text}"
    );
}

#[test]
fn wrong_secret_fails_credentials_and_skips_balance() {
    let sim = sim();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&sim.rest_base(), tmp.path(), "BTC-USDT");
    let list = run_checks(
        &cfg,
        creds("sim-key", "not-the-secret"),
        &PreflightOptions::for_config(&cfg, true),
    );
    assert!(!list.passed());
    assert_eq!(
        status(&list, CheckItem::ExchangeReachable),
        CheckStatus::Passed
    );
    assert_eq!(status(&list, CheckItem::Credentials), CheckStatus::Failed);
    assert_eq!(status(&list, CheckItem::Balance), CheckStatus::Skipped);
    assert_eq!(status(&list, CheckItem::Leverage), CheckStatus::Skipped);
    let line = list.line(CheckItem::Credentials).unwrap().to_string();
    assert!(
        line.starts_with("✗ credentials accepted: signed request refused"),
        "{line}"
    );
}

#[test]
fn unlisted_symbol_fails_the_symbol_rules_line() {
    let sim = sim();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&sim.rest_base(), tmp.path(), "DOGE-USDT");
    let list = run_checks(
        &cfg,
        creds("sim-key", "sim-secret"),
        &PreflightOptions::for_config(&cfg, true),
    );
    assert_eq!(status(&list, CheckItem::SymbolRules), CheckStatus::Failed);
    assert_eq!(status(&list, CheckItem::Leverage), CheckStatus::Skipped);
    assert!(list.rules().is_none());
    let line = list.line(CheckItem::SymbolRules).unwrap().to_string();
    assert!(
        line.contains("DOGE-USDT is not in the exchange's contract list"),
        "{line}"
    );
}

#[test]
fn unreachable_port_fails_reachability_and_skips_the_exchange_checks() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&format!("http://127.0.0.1:{port}"), tmp.path(), "BTC-USDT");
    let list = run_checks(
        &cfg,
        creds("sim-key", "sim-secret"),
        &PreflightOptions::for_config(&cfg, true),
    );
    assert_eq!(status(&list, CheckItem::Config), CheckStatus::Passed);
    assert_eq!(status(&list, CheckItem::JournalDir), CheckStatus::Passed);
    assert_eq!(
        status(&list, CheckItem::ExchangeReachable),
        CheckStatus::Failed
    );
    for item in &CheckItem::ALL[3..] {
        assert_eq!(status(&list, *item), CheckStatus::Skipped, "{item:?}");
    }
    assert!(list
        .to_string()
        .contains(&format!("✗ exchange reachable: http://127.0.0.1:{port}")));
}

#[test]
fn journal_free_space_below_the_minimum_fails_its_line() {
    let sim = sim();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&sim.rest_base(), tmp.path(), "BTC-USDT");
    let opts = PreflightOptions {
        min_journal_free_bytes: u64::MAX,
        fix_account: true,
    };
    let list = run_checks(&cfg, creds("sim-key", "sim-secret"), &opts);
    assert_eq!(status(&list, CheckItem::JournalDir), CheckStatus::Failed);
    assert_eq!(status(&list, CheckItem::Balance), CheckStatus::Passed);
    assert!(!list.passed());
}

fn write_config(dir: &Path, rest: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[engine]\nworking_dir = \"{}\"\nhot_core = {}\n[exchange]\nrest_base_url = \"{rest}\"\nleverage = 10\nmargin_type = \"CROSSED\"\n[market]\nsymbols = [\"BTC-USDT\"]\n",
        dir.display(),
        trading_engine::config::available_core_ids()
            .and_then(|c| c.first().copied())
            .unwrap_or(0)
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn run_cli(config: &Path, secret: &str, env_file: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["--log-level", "off", "check", "--config"])
        .arg(config)
        .arg("--env-file")
        .arg(env_file)
        .env("BINGX_API_KEY", "sim-key")
        .env("BINGX_API_SECRET", secret)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_command_exits_zero_on_success_and_non_zero_naming_the_failed_line() {
    let sim = sim();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &sim.rest_base());
    let env_file = tmp.path().join("absent.env");
    let (code, stdout) = run_cli(&config, "sim-secret", &env_file);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with('✓')).count(),
        9,
        "{stdout}"
    );
    let (code, stdout) = run_cli(&config, "wrong-secret", &env_file);
    assert_ne!(code, 0, "{stdout}");
    assert!(stdout.contains("✗ credentials accepted"), "{stdout}");
}

#[test]
fn issue_20_paper_and_dry_run_preflight_need_no_credentials() {
    let sim = sim();
    let tmp = tempfile::tempdir().unwrap();
    for mode in [
        trading_engine::config::Mode::Paper,
        trading_engine::config::Mode::DryRun,
    ] {
        let mut cfg = config(&sim.rest_base(), &tmp.path().join("j"), "BTC-USDT");
        cfg.engine.mode = mode;
        let opts = PreflightOptions::for_config(&cfg, false);
        let list = run_checks(&cfg, Err("BINGX_API_KEY not set".to_owned()), &opts);
        assert!(list.passed(), "{list}");
        for item in [
            CheckItem::Credentials,
            CheckItem::Balance,
            CheckItem::Leverage,
            CheckItem::MarginType,
        ] {
            assert_eq!(status(&list, item), CheckStatus::Skipped, "{list}");
        }
        assert_eq!(status(&list, CheckItem::SymbolRules), CheckStatus::Passed);
        let text = list.to_string();
        assert!(text.contains("needed only in live mode"), "{text}");
        assert!(
            text.ends_with("5 checks passed, 4 not applicable"),
            "{text}"
        );
    }
    // Live mode still needs them.
    let mut cfg = config(&sim.rest_base(), &tmp.path().join("j"), "BTC-USDT");
    cfg.engine.mode = trading_engine::config::Mode::Live;
    let opts = PreflightOptions::for_config(&cfg, false);
    let list = run_checks(&cfg, Err("BINGX_API_KEY not set".to_owned()), &opts);
    assert!(!list.passed());
    assert_eq!(status(&list, CheckItem::Credentials), CheckStatus::Failed);
}
