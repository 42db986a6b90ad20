//! `trading-engine backtest` over several symbols through the binary: the
//! three perpetual files of July 2023 with their rules from a saved BingX
//! contracts response, the per-symbol table, refusals naming the files, and
//! `chart.html` rendered in headless Chromium without a script error.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bingx_sim::testdata::shared_file;

const FILES: [&str; 3] = [
    "perp-2023-07/binance-futures-ETHUSDT-1m-2023-07-03_2023-08-17.csv",
    "perp-2023-07/binance-futures-SOLUSDT-1m-2023-07-18_2023-08-17.csv",
    "perp-2023-07/binance-futures-XRPUSDT-1m-2023-07-18_2023-08-17.csv",
];

/// BingX's contracts reply for the three symbols (precisions as listed by
/// the exchange).
const CONTRACTS: &str = r#"{"code":0,"msg":"","data":[
{"contractId":"101","symbol":"ETH-USDT","quantityPrecision":2,"pricePrecision":2,"tradeMinQuantity":0.01,"tradeMinUSDT":2},
{"contractId":"102","symbol":"SOL-USDT","quantityPrecision":1,"pricePrecision":3,"tradeMinQuantity":0.1,"tradeMinUSDT":2},
{"contractId":"103","symbol":"XRP-USDT","quantityPrecision":0,"pricePrecision":4,"tradeMinQuantity":1,"tradeMinUSDT":2}]}"#;

/// The rules of [`CONTRACTS`] as config tables.
const RULES_TOML: &str = "[exchange]\n[market]\nsymbols = [\"ETH-USDT\"]\n\
[market.instruments.ETH-USDT]\nprice_decimals = 2\nqty_decimals = 2\nmin_notional = 2\n\
[market.instruments.SOL-USDT]\nprice_decimals = 3\nqty_decimals = 1\nmin_notional = 2\n\
[market.instruments.XRP-USDT]\nprice_decimals = 4\nqty_decimals = 0\nmin_notional = 2\n";

fn files() -> Option<Vec<PathBuf>> {
    FILES.iter().map(|f| shared_file(f)).collect()
}

fn backtest(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .arg("backtest")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn three_perp_symbols_backtest_as_one_portfolio_with_a_table_per_symbol_and_a_chart() {
    let Some(data) = files() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let contracts = dir.path().join("contracts.json");
    std::fs::write(&contracts, CONTRACTS).unwrap();
    let out = dir.path().join("out");
    let mut args: Vec<&std::ffi::OsStr> = vec!["--data".as_ref()];
    args.extend(data.iter().map(|p| p.as_os_str()));
    args.extend::<[&std::ffi::OsStr; 5]>([
        "--contracts".as_ref(),
        contracts.as_os_str(),
        "--chart".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let o = backtest(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    for needle in [
        "symbol ",
        "ETH-USDT",
        "SOL-USDT",
        "XRP-USDT",
        "buy&hold%",
        "period 2023-07-03",
        "market change",
        "longest under water",
        "best/worst trade",
    ] {
        assert!(stdout.contains(needle), "{needle} missing:\n{stdout}");
    }
    assert!(
        !stdout.contains("seed "),
        "seed rows only with --compare-seed:\n{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let symbols = report["symbols"].as_object().unwrap();
    assert_eq!(symbols.len(), 3);
    assert!(symbols["XRP-USDT"]["buy_and_hold_pct"].as_f64().unwrap() < 0.0);
    assert_eq!(report["input"]["from_utc"], "2023-07-03 23:26:00");
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap();
    assert!(trades.starts_with("id,symbol,strategy,"));
    assert!(trades.lines().skip(1).count() > 0);
    render_in_chromium(&out.join("chart.html"));

    // The same rules from [market.instruments] tables in the config instead
    // of the contracts file: the same run, byte for byte.
    let config = dir.path().join("rules.toml");
    std::fs::write(&config, RULES_TOML).unwrap();
    let from_config = dir.path().join("from-config");
    let mut args: Vec<&std::ffi::OsStr> = vec!["--data".as_ref()];
    args.extend(data.iter().map(|p| p.as_os_str()));
    args.extend::<[&std::ffi::OsStr; 4]>([
        "--config".as_ref(),
        config.as_os_str(),
        "--out".as_ref(),
        from_config.as_os_str(),
    ]);
    let o = backtest(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(from_config.join("trades.csv")).unwrap(),
        trades
    );

    // Without rules for each symbol the run is refused, naming them.
    let mut no_rules: Vec<&std::ffi::OsStr> = vec!["--data".as_ref()];
    no_rules.extend(data.iter().map(|p| p.as_os_str()));
    no_rules.extend::<[&std::ffi::OsStr; 2]>(["--out".as_ref(), out.as_os_str()]);
    let o = backtest(&no_rules);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("ETH-USDT, SOL-USDT, XRP-USDT") && err.contains("--contracts"),
        "{err}"
    );
}

#[test]
fn a_file_given_twice_is_refused_naming_it() {
    let Some(data) = files() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = backtest(&[
        "--data".as_ref(),
        data[0].as_os_str(),
        data[0].as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("given twice") && err.contains("ETHUSDT-1m"),
        "{err}"
    );
}

/// Opens `page` in headless Chromium and fails on a script error: the page
/// marks `<body data-render="ok">` once drawn and `"error"` (with the
/// message) from `window.onerror`; console errors are read from stderr too.
/// Skips without Chromium, except under CI=true.
fn render_in_chromium(page: &Path) {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is missing under CI (.ci/run installs Debian's chromium)"
        );
        eprintln!("SKIPPED: chromium not found: chart.html not rendered");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let run = |file: &Path| -> (String, String) {
        let o = Command::new("timeout")
            .arg("120")
            .arg(browser)
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", file.display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "{browser} failed: {}", text(&o.stderr));
        (text(&o.stdout), text(&o.stderr))
    };
    let (dom, log) = run(page);
    assert!(
        dom.contains("<body data-render=\"ok\">"),
        "not rendered:\n{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(
        dom.contains("<div id=\"render-error\"></div>"),
        "script error in the page"
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console output: {console:?}");
    // The check itself catches a broken page.
    let html = std::fs::read_to_string(page).unwrap();
    let broken = page.with_file_name("broken.html");
    std::fs::write(
        &broken,
        html.replacen(
            "  legend();\n  draw();",
            "  legend();\n  noSuchFunction();",
            1,
        ),
    )
    .unwrap();
    let (dom, log) = run(&broken);
    assert!(
        dom.contains("<body data-render=\"error\">"),
        "a script error must show"
    );
    assert!(dom.contains("noSuchFunction") && log.contains("Uncaught ReferenceError"));
}
