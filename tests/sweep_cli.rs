//! `trading-engine sweep`, `sweep merge` and `walkforward` as a user runs
//! them: byte-identical results whatever `--jobs`, shards merged into the
//! unsharded file, a preempted run resumed, bad grids rejected naming the
//! key, and the walk-forward files. Data: a deterministic synthetic market.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use trading_engine::config::Config;
use trading_engine::datafile::synthetic;

const ENGINE: &str = env!("CARGO_BIN_EXE_trading-engine");

const GRID: &str = r#"
[sweep]
objective = "return_pct"
min_trades = 2
[params]
risk.cooldown_minutes = [10, 30]
"strategies.mtf_long.breakout_lookback" = { from = 4, to = 6, step = 1 }
sizing.base_risk_pct = [0.5, 1.0]
"#;

/// A market of `days` synthetic 1m candles and a config that trades it often.
fn inputs(dir: &Path, days: u64) -> (PathBuf, PathBuf, PathBuf) {
    let data = dir.join("klines.csv");
    let mut f = std::fs::File::create(&data).unwrap();
    synthetic::write_klines_csv(&mut f, 3, synthetic::DEFAULT_START_MS, days * 1440).unwrap();
    let mut cfg = Config::default();
    let l = &mut cfg.strategies.mtf_long;
    l.body_atr_mult = 0.8;
    l.volume_mult = 1.2;
    l.breakout_lookback = 5;
    l.ema_fast_period = 2;
    l.ema_slow_period = 4;
    l.rsi_max = 95.0;
    let s = &mut cfg.strategies.trend_distance_short;
    s.body_atr_mult = 0.8;
    s.volume_mult = 1.2;
    s.breakdown_lookback = 5;
    s.sma_fast_period = 2;
    s.sma_slow_period = 4;
    s.min_distance_pct = 0.0;
    cfg.risk.loss_streak_lock_minutes = 30;
    let config = dir.join("config.toml");
    std::fs::write(&config, cfg.to_toml_string().unwrap()).unwrap();
    let grid = dir.join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    (data, config, grid)
}

fn sweep(data: &Path, config: &Path, grid: &Path, out: &Path, extra: &[&str]) -> Output {
    let o = Command::new(ENGINE)
        .arg("sweep")
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .arg("--grid")
        .arg(grid)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sweep {extra:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Runs `walkforward` over `data` with 2 training and 1 test day and a
/// grid of two cool-down values (written beside `out`); fails the test
/// unless it succeeds.
fn walkforward<D: AsRef<std::ffi::OsStr>>(data: &[D], config: &Path, out: &Path, extra: &[&str]) {
    let grid = out.with_extension("grid.toml");
    std::fs::write(
        &grid,
        "[sweep]\nobjective = \"return_pct\"\n[params]\nrisk.cooldown_minutes = [10, 30]\n",
    )
    .unwrap();
    let o = Command::new(ENGINE)
        .arg("walkforward")
        .arg("--data")
        .args(data)
        .arg("--config")
        .arg(config)
        .arg("--grid")
        .arg(&grid)
        .args(["--train-days", "2", "--test-days", "1", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn results_are_byte_identical_across_jobs_and_after_a_shard_merge() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config, grid) = inputs(dir.path(), 3);
    let one = dir.path().join("one");
    let three = dir.path().join("three");
    let o = sweep(&data, &config, &grid, &one, &["--jobs", "1"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("rank") && stdout.contains("12 parameter sets"),
        "{stdout}"
    );
    sweep(&data, &config, &grid, &three, &["--jobs", "3"]);
    let a = read(&one.join("results.csv"));
    assert_eq!(a, read(&three.join("results.csv")));
    let lines: Vec<&str> = a.lines().collect();
    assert_eq!(lines.len(), 13, "{a}");
    assert!(lines[0].starts_with(
        "id,risk.cooldown_minutes,strategies.mtf_long.breakout_lookback,sizing.base_risk_pct,trades,"
    ));
    let ids: Vec<&str> = lines[1..].iter().map(|l| &l[..16]).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "rows sorted by id");
    assert!(
        lines[1..].iter().any(|l| !l.contains(",0,0,0,")),
        "some set trades: {a}"
    );

    let mut shard_dirs = Vec::new();
    for k in 0..3 {
        let d = dir.path().join(format!("shard-{k}"));
        sweep(
            &data,
            &config,
            &grid,
            &d,
            &["--shard", &format!("{k}/3"), "--jobs", "1"],
        );
        shard_dirs.push(d);
    }
    let merged = dir.path().join("merged");
    let o = Command::new(ENGINE)
        .args(["sweep", "merge"])
        .args(&shard_dirs)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(a, read(&merged.join("results.csv")));

    let summary: serde_json::Value =
        serde_json::from_str(&read(&one.join("summary.json"))).unwrap();
    let merged_summary: serde_json::Value =
        serde_json::from_str(&read(&merged.join("summary.json"))).unwrap();
    assert_eq!(summary["runs"], 12);
    assert_eq!(summary["objective"], "return_pct");
    assert_eq!(summary["best_id"], merged_summary["best_id"]);
    assert_eq!(summary["data_sha256"].as_str().unwrap().len(), 64);
    for key in ["engine_version", "seconds"] {
        assert!(summary.get(key).is_some(), "{key}");
    }
    // best.toml is a complete config with the best set applied.
    let best = Config::load(one.join("best.toml")).unwrap();
    let best_row = lines
        .iter()
        .find(|l| l.starts_with(summary["best_id"].as_str().unwrap()))
        .unwrap();
    let fields: Vec<&str> = best_row.split(',').collect();
    assert_eq!(best.risk.cooldown_minutes.to_string(), fields[1]);
    assert_eq!(
        best.strategies.mtf_long.breakout_lookback.to_string(),
        fields[2]
    );

    // A merge with a shard missing is refused, naming it.
    let o = Command::new(ENGINE)
        .args(["sweep", "merge"])
        .args(&shard_dirs[..2])
        .arg("--out")
        .arg(dir.path().join("partial"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("2/3"));
}

#[test]
fn a_rerun_resumes_a_preempted_sweep_and_skips_the_sets_done() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config, grid) = inputs(dir.path(), 2);
    let full = dir.path().join("full");
    sweep(&data, &config, &grid, &full, &["--jobs", "2"]);
    let expected = read(&full.join("results.csv"));
    // A run preempted after four rows, in the middle of the fifth.
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    std::fs::copy(full.join("sweep.json"), cut.join("sweep.json")).unwrap();
    let lines: Vec<&str> = expected.lines().collect();
    let mut part = lines[..5].join("\n");
    part.push('\n');
    part.push_str(&lines[5][..20]);
    std::fs::write(cut.join("results.part"), part).unwrap();
    sweep(&data, &config, &grid, &cut, &["--jobs", "2"]);
    assert_eq!(expected, read(&cut.join("results.csv")));
    assert!(!cut.join("results.part").exists());
    let summary: serde_json::Value =
        serde_json::from_str(&read(&cut.join("summary.json"))).unwrap();
    assert_eq!(summary["resumed"], 4);
    // Rerunning a finished directory runs nothing and keeps the bytes.
    let o = sweep(&data, &config, &grid, &cut, &["--jobs", "2"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(0 run now, 12 resumed)"));
    assert_eq!(expected, read(&cut.join("results.csv")));
    // Another grid into the same directory is refused.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, GRID.replace("[10, 30]", "[10, 20]")).unwrap();
    let o = Command::new(ENGINE)
        .args(["sweep", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .arg("--grid")
        .arg(&other)
        .arg("--out")
        .arg(&cut)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("different grid"));
}

#[test]
fn bad_grids_are_rejected_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config, _) = inputs(dir.path(), 1);
    let cases = [
        (
            "[params]\nrisk.no_such_key = [1]\n",
            "params.risk.no_such_key",
        ),
        (
            "[params]\nsizing.base_risk_pct = [0.5, 200.0]\n",
            "sizing.base_risk_pct",
        ),
        (
            "[params]\n\"strategies.trend_distance_short.stop_atr_mult\" = [3.0, 20.0]\n",
            "strategies.trend_distance_short.stop_atr_mult",
        ),
        (
            "[sweep]\nobjective = \"vibes\"\n[params]\nrisk.cooldown_minutes = [1]\n",
            "sweep.objective",
        ),
    ];
    for (k, (text, key)) in cases.iter().enumerate() {
        let grid = dir.path().join(format!("bad-{k}.toml"));
        std::fs::write(&grid, text).unwrap();
        let o = Command::new(ENGINE)
            .args(["sweep", "--data"])
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .arg("--grid")
            .arg(&grid)
            .arg("--out")
            .arg(dir.path().join(format!("out-{k}")))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{text}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(key), "{text}: {err}");
    }
}

#[test]
fn walkforward_writes_windows_trades_equity_and_efficiency() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config, _) = inputs(dir.path(), 5);
    let out = dir.path().join("wf");
    walkforward(&[&data], &config, &out, &["--jobs", "2"]);
    let windows = read(&out.join("windows.csv"));
    assert_eq!(windows.lines().count(), 4, "3 windows: {windows}");
    let report: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(report["windows"], 3);
    assert!(report.get("walk_forward_efficiency").is_some());
    assert!(
        report["oos_combined"]["trades"].as_u64().unwrap() > 0,
        "{report}"
    );
    let trades = read(&out.join("oos_trades.csv"));
    let day = 86_400_000;
    for line in trades.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (window, entry): (i64, i64) = (f[0].parse().unwrap(), f[5].parse().unwrap());
        let test_from = synthetic::DEFAULT_START_MS + (2 + window) * day;
        assert!(entry >= test_from && entry < test_from + day, "{line}");
    }
    assert!(read(&out.join("oos_equity.csv")).starts_with("time_ms,time_utc,equity,drawdown_pct\n"));
    assert!(read(&out.join("oos_equity.svg")).contains("<svg"));
}

/// Two synthetic symbols (`ETH-USDT=FILE`, `SOL-USDT=FILE`) and the config
/// of [`inputs`] with `[market.instruments]` rules for both.
fn two_symbols(dir: &Path, days: u64) -> (Vec<String>, PathBuf, PathBuf) {
    let (eth, config, grid) = inputs(dir, days);
    let sol = dir.join("sol.csv");
    let mut f = std::fs::File::create(&sol).unwrap();
    synthetic::write_klines_csv(&mut f, 11, synthetic::DEFAULT_START_MS, days * 1440).unwrap();
    let mut text = read(&config);
    text.push_str(
        "\n[market.instruments.ETH-USDT]\nprice_decimals = 2\nqty_decimals = 3\nmin_notional = 5\n\
         \n[market.instruments.SOL-USDT]\nprice_decimals = 2\nqty_decimals = 2\nmin_notional = 5\n",
    );
    std::fs::write(&config, text).unwrap();
    let data = vec![
        format!("ETH-USDT={}", eth.display()),
        format!("SOL-USDT={}", sol.display()),
    ];
    (data, config, grid)
}

#[test]
fn a_sweep_over_two_symbols_runs_the_portfolio_its_best_set_equals_a_backtest_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config, grid) = two_symbols(dir.path(), 3);
    let out = dir.path().join("sweep");
    let o = Command::new(ENGINE)
        .arg("sweep")
        .arg("--data")
        .args(&data)
        .arg("--config")
        .arg(&config)
        .arg("--grid")
        .arg(&grid)
        .args(["--jobs", "2", "--quiet", "--chart", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("chart (best set): "));
    let results = read(&out.join("results.csv"));
    let header: Vec<&str> = results.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(results.lines().count(), 13, "{results}");
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let best_id = summary["best_id"].as_str().unwrap();
    let best: Vec<&str> = results
        .lines()
        .find(|l| l.starts_with(best_id))
        .unwrap()
        .split(',')
        .collect();
    // The best set as a portfolio backtest of the same files gives the
    // sweep's row: one equity over both symbols, each with its own rules.
    let bt = dir.path().join("bt");
    let o = Command::new(ENGINE)
        .arg("backtest")
        .arg("--data")
        .args(&data)
        .arg("--config")
        .arg(out.join("best.toml"))
        .arg("--out")
        .arg(&bt)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_str(&read(&bt.join("report.json"))).unwrap();
    let combined = &report["combined"];
    assert_eq!(
        best[col("trades")],
        combined["trades"].as_u64().unwrap().to_string()
    );
    let ret: f64 = best[col("return_pct")].parse().unwrap();
    assert!(
        (ret - combined["return_pct"].as_f64().unwrap()).abs() < 1e-6,
        "{ret} vs {combined}"
    );
    let symbols = report["symbols"].as_object().unwrap();
    assert_eq!(symbols.keys().collect::<Vec<_>>(), ["ETH-USDT", "SOL-USDT"]);
    let chart = read(&out.join("chart.html"));
    assert!(
        chart.contains("ETH-USDT") && chart.contains("SOL-USDT"),
        "both symbols drawn"
    );

    // Without rules for every symbol the sweep is refused, naming the one missing.
    let partial = dir.path().join("partial.toml");
    let text = read(&config);
    let cut = text.find("\n[market.instruments.SOL-USDT]").unwrap();
    std::fs::write(&partial, &text[..cut]).unwrap();
    let o = Command::new(ENGINE)
        .arg("sweep")
        .arg("--data")
        .args(&data)
        .arg("--config")
        .arg(&partial)
        .arg("--grid")
        .arg(&grid)
        .arg("--out")
        .arg(dir.path().join("refused"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no tick, step and minimum notional for SOL-USDT")
            && err.contains("[market.instruments.SYMBOL]"),
        "{err}"
    );
}

#[test]
fn a_walkforward_over_two_symbols_tests_the_portfolio_out_of_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config, _) = two_symbols(dir.path(), 5);
    let out = dir.path().join("wf");
    walkforward(&data, &config, &out, &["--quiet"]);
    let trades = read(&out.join("oos_trades.csv"));
    let symbols: std::collections::BTreeSet<&str> = trades
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(
        symbols.into_iter().collect::<Vec<_>>(),
        ["ETH-USDT", "SOL-USDT"],
        "out-of-sample trades of both symbols: {trades}"
    );
}
