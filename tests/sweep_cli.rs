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
    let grid = dir.path().join("wf.toml");
    std::fs::write(
        &grid,
        "[sweep]\nobjective = \"return_pct\"\n[params]\nrisk.cooldown_minutes = [10, 30]\n",
    )
    .unwrap();
    let out = dir.path().join("wf");
    let o = Command::new(ENGINE)
        .args(["walkforward", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .arg("--grid")
        .arg(&grid)
        .args([
            "--train-days",
            "2",
            "--test-days",
            "1",
            "--jobs",
            "2",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
