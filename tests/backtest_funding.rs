//! Funding in `trading-engine backtest` end to end (issue 16), on the real
//! Binance ETHUSDT perpetual data of July-August 2023 with its funding and
//! mark-price files: `funding.csv` equals an independent recomputation
//! from `fills.csv`, the funding file and the mark (or 1m) data; report
//! totals equal the sum of the rows; trades pay only while open.

#![allow(
    clippy::unwrap_used,
    reason = "integration test helpers panic on broken outputs"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bingx_sim::testdata::shared_file;

const DIR: &str = "perp-2023-07";
const KLINES: &str = "binance-futures-ETHUSDT-1m-2023-07-03_2023-08-17.csv";
const FUNDING: &str = "binance-futures-ETHUSDT-fundingRate-2023-07-04_2023-08-17.csv";
const MARK: &str = "binance-futures-ETHUSDT-markPriceKlines-8h-2023-07-04_2023-08-17.csv";

/// MACD crosses with wide stops and targets (40 and 80 ATR): positions
/// held for days, across many settlements, long and short.
const CONFIG: &str = r#"
[exchange]
environment = "vst"

[market]
symbols = ["ETH-USDT"]

[strategies.macd_cross]
enabled = true
stop_atr_mult = 40.0
target_atr_mult = 80.0

[strategies.mtf_long]
enabled = false

[strategies.trend_distance_short]
enabled = false

[risk]
max_drawdown_pct = 50.0
"#;

fn file(name: &str) -> Option<PathBuf> {
    shared_file(&format!("{DIR}/{name}"))
}

fn backtest(out: &Path, data: &Path, funding: Option<&Path>, mark: Option<&Path>) -> String {
    std::fs::create_dir_all(out).unwrap();
    let config = out.join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trading-engine"));
    cmd.args(["backtest", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out);
    cmd.arg("--config").arg(&config);
    if let Some(f) = funding {
        cmd.arg("--funding").arg(f);
    }
    if let Some(m) = mark {
        cmd.arg("--mark").arg(m);
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Data rows of a CSV file (header skipped when it does not start with a digit).
fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

/// One `funding.csv` row as recomputed: (time, position) → (qty, mark, rate, amount).
type Expected = BTreeMap<(i64, u64), (f64, f64, f64, f64)>;

/// Recomputes every funding payment from the files alone: the position's
/// signed quantity is the sum of its fills at or before the settlement
/// time; the mark is the mark-price candle opening within 1 s before the
/// settlement (else the close of one that ended within 1 s before it),
/// else the last 1m close before it; amount = -qty × mark × rate, rounded
/// to 1e-8.
fn recompute(fills: &Path, funding: &Path, mark: Option<&Path>, klines: &Path) -> Expected {
    let fills = rows(fills);
    let marks: Vec<(i64, f64, i64, f64)> = mark.map_or_else(Vec::new, |m| {
        rows(m)
            .iter()
            .map(|r| (num(&r[0]) as i64, num(&r[1]), num(&r[6]) as i64, num(&r[4])))
            .collect()
    });
    let closes: Vec<(i64, f64)> = rows(klines)
        .iter()
        .map(|r| (num(&r[0]) as i64 + 60_000, num(&r[4])))
        .collect();
    let (first, last) = (closes[0].0 - 60_000, closes[closes.len() - 1].0);
    let mut out = Expected::new();
    for f in rows(funding) {
        let (t, rate) = (num(&f[0]) as i64, num(&f[2]));
        if t < first + 60_000 || t > last {
            continue;
        }
        let mark_at = marks.iter().rev().find(|m| m.0 <= t).and_then(|m| {
            if t - m.0 < 1_000 {
                Some(m.1)
            } else if (0..1_000).contains(&(t - (m.2 + 1))) {
                Some(m.3)
            } else {
                None
            }
        });
        let mark = mark_at.unwrap_or_else(|| closes.iter().rev().find(|c| c.0 <= t).unwrap().1);
        let mut qty: BTreeMap<u64, f64> = BTreeMap::new();
        for r in fills.iter().filter(|r| num(&r[0]) as i64 <= t) {
            let signed = if r[4] == "buy" {
                num(&r[5])
            } else {
                -num(&r[5])
            };
            *qty.entry(r[3].parse().unwrap()).or_default() += signed;
        }
        for (pos, q) in qty {
            if q.abs() > 1e-12 {
                let amount = (-q * mark * rate * 1e8).round() / 1e8;
                out.insert((t, pos), (q, mark, rate, amount));
            }
        }
    }
    out
}

fn check_run(out: &Path, funding: &Path, mark: Option<&Path>, klines: &Path) -> f64 {
    let expected = recompute(&out.join("fills.csv"), funding, mark, klines);
    let got = rows(&out.join("funding.csv"));
    assert!(
        !got.is_empty(),
        "the strategies held positions across settlements"
    );
    assert_eq!(
        got.len(),
        expected.len(),
        "one row per open position per settlement"
    );
    let mut total = 0.0;
    for r in &got {
        let key = (num(&r[0]) as i64, r[2].parse::<u64>().unwrap());
        let (q, m, rate, amount) = expected
            .get(&key)
            .unwrap_or_else(|| panic!("unexpected funding row {r:?}"));
        assert_eq!(r[1], "ETH-USDT");
        assert!((num(&r[3]) - q).abs() < 1e-9, "{r:?} qty {q}");
        assert!((num(&r[4]) - m).abs() < 1e-6, "{r:?} mark {m}");
        assert_eq!(num(&r[5]), *rate, "{r:?}");
        assert!(
            (num(&r[6]) - amount).abs() < 1.5e-8,
            "{r:?} amount {amount}"
        );
        assert_eq!(
            r[7],
            if mark.is_some() {
                "mark_price"
            } else {
                "last_price"
            }
        );
        total += num(&r[6]);
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let f = &report["funding"];
    assert!(
        (f["combined"].as_f64().unwrap() - total).abs() < 1e-6,
        "{f}"
    );
    assert!((f["symbols"]["ETH-USDT"].as_f64().unwrap() - total).abs() < 1e-6);
    let by_strategy: f64 = f["strategies"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((by_strategy - total).abs() < 1e-6);
    assert_eq!(f["payments"].as_u64().unwrap() as usize, got.len());
    assert_eq!(f["intervals_hours"], serde_json::json!([8]));
    // trades.csv: the funding column sums to the total, and final equity is
    // initial + pnl + funding.
    let trades = rows(&out.join("trades.csv"));
    let trade_funding: f64 = trades.iter().map(|t| num(&t[17])).sum();
    let pnl: f64 = trades.iter().map(|t| num(&t[12])).sum();
    assert!((trade_funding - total).abs() < 1e-6);
    let (initial, fin) = (
        report["initial_equity"].as_f64().unwrap(),
        report["final_equity"].as_f64().unwrap(),
    );
    assert!(
        (initial + pnl + total - fin).abs() < 1e-6,
        "{initial} {pnl} {total} {fin}"
    );
    // A trade pays only between its entry and exit.
    for t in &trades {
        let (id, entry, exit) = (t[0].as_str(), num(&t[4]) as i64, num(&t[6]) as i64);
        for r in got.iter().filter(|r| r[2] == id) {
            let at = num(&r[0]) as i64;
            assert!(
                entry <= at && at < exit,
                "trade {id} paid at {at} outside {entry}..{exit}"
            );
        }
    }
    total
}

#[test]
fn funding_csv_equals_an_independent_recomputation_from_fills_and_the_funding_file() {
    let (Some(klines), Some(funding), Some(mark)) = (file(KLINES), file(FUNDING), file(MARK))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let with_mark = dir.path().join("mark");
    let stdout = backtest(&with_mark, &klines, Some(&funding), Some(&mark));
    assert!(stdout.contains("funding: "), "{stdout}");
    assert!(!stdout.contains("not modelled"));
    let total = check_run(&with_mark, &funding, Some(&mark), &klines);
    assert!(total.abs() > 1.0, "funding changes the result: {total}");
    let sides: std::collections::BTreeSet<bool> = rows(&with_mark.join("funding.csv"))
        .iter()
        .map(|r| num(&r[3]) > 0.0)
        .collect();
    assert_eq!(
        sides.len(),
        2,
        "both longs and shorts paid or received funding"
    );

    let last_price = dir.path().join("last");
    backtest(&last_price, &klines, Some(&funding), None);
    check_run(&last_price, &funding, None, &klines);

    let none = dir.path().join("none");
    let stdout = backtest(&none, &klines, None, None);
    assert!(stdout.contains("funding: not modelled"), "{stdout}");
    assert!(!none.join("funding.csv").exists());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(none.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["funding"], "not modelled");
    // The same decisions either way (funding moves equity, so the sizes
    // that follow a settlement may differ, not the times, sides or reasons).
    let decisions = |dir: &Path| -> Vec<Vec<String>> {
        rows(&dir.join("fills.csv"))
            .into_iter()
            .map(|r| {
                vec![
                    r[0].clone(),
                    r[3].clone(),
                    r[4].clone(),
                    r[6].clone(),
                    r[8].clone(),
                ]
            })
            .collect()
    };
    assert_eq!(decisions(&none), decisions(&with_mark));
}

#[test]
fn funding_files_of_another_symbol_are_refused_with_both_names() {
    let (Some(klines), Some(sol)) = (
        file(KLINES),
        file("binance-futures-SOLUSDT-fundingRate-2023-07-18_2023-08-17.csv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["backtest", "--data"])
        .arg(&klines)
        .arg("--funding")
        .arg(&sol)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("SOLUSDT") && err.contains("ETHUSDT"), "{err}");
}
