//! Portfolio backtests: three perpetual symbols of July 2023 through one
//! core, and the refusal of repeated or overlapping files of one symbol,
//! and gaps reported per symbol.

use std::path::{Path, PathBuf};

use super::*;
use crate::datafile::synthetic;
use crate::types::{DecimalStep, Price, Qty};
use bingx_sim::testdata::shared_file;

fn rules(price_decimals: u8, qty_decimals: u8) -> InstrumentRules {
    let step = DecimalStep::from_precision(qty_decimals);
    InstrumentRules {
        tick: DecimalStep::from_precision(price_decimals),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(2.0).unwrap(),
    }
}

fn perp(symbol: &str, file: &str, price: u8, qty: u8) -> Option<Instrument> {
    Some(Instrument {
        symbol: symbol.into(),
        files: vec![shared_file(&format!("perp-2023-07/{file}"))?],
        rules: rules(price, qty),
    })
}

fn options(instruments: Vec<Instrument>) -> PortfolioOptions {
    PortfolioOptions {
        instruments,
        from_ms: None,
        to_ms: None,
        progress_every: 1 << 20,
        chart: true,
        trade_from_ms: None,
        funding: crate::backtest::funding::FundingInputs::default(),
    }
}

fn three_perps() -> Option<Vec<Instrument>> {
    Some(vec![
        perp(
            "ETH-USDT",
            "binance-futures-ETHUSDT-1m-2023-07-03_2023-08-17.csv",
            2,
            2,
        )?,
        perp(
            "SOL-USDT",
            "binance-futures-SOLUSDT-1m-2023-07-18_2023-08-17.csv",
            3,
            1,
        )?,
        perp(
            "XRP-USDT",
            "binance-futures-XRPUSDT-1m-2023-07-18_2023-08-17.csv",
            4,
            0,
        )?,
    ])
}

#[test]
fn three_perp_symbols_run_through_one_core_with_one_equity_and_the_portfolio_limits() {
    let Some(instruments) = three_perps() else {
        return;
    };
    let mut cfg = Config::default();
    cfg.risk.max_positions = 2;
    let opts = options(instruments);
    let r = run_portfolio(
        &cfg,
        &opts,
        crate::strategy::build(&cfg.strategies),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.symbols.len(), 3);
    let sum = r.trades.iter().fold(Money::ZERO, |a, t| a + t.trade.pnl);
    assert_eq!(r.initial_equity + sum, r.final_equity, "one equity");
    assert!(!r.trades.is_empty(), "the month trades");
    for t in &r.trades {
        assert!(t.trade.exit_ts >= t.trade.entry_ts, "{t:?}");
        assert_eq!(t.symbol, r.symbols[usize::from(t.trade.symbol.0)].symbol);
    }
    // Never more positions open at once than risk.max_positions.
    let mut edges: Vec<(i64, i32)> = r
        .trades
        .iter()
        .flat_map(|t| [(t.trade.entry_ts.0, 1), (t.trade.exit_ts.0, -1)])
        .collect();
    edges.sort_by_key(|&(ts, d)| (ts, d));
    let (mut open, mut most) = (0, 0);
    for (_, d) in edges {
        open += d;
        most = most.max(open);
    }
    assert!(most <= 2, "{most} positions open at once");
    // ETH's file starts two weeks earlier: its rows come first, and each
    // symbol's span is its own.
    assert!(r.symbols[0].from_ms < r.symbols[1].from_ms);
    assert_eq!(r.from_ms, r.symbols[0].from_ms);
    assert!(r.symbols[1].rows > 43_000 && r.symbols[2].rows > 43_000);
    assert!(r.symbols[0].rows > r.symbols[1].rows);
    let report = Report::from_result(&r);
    let names: Vec<&str> = report.symbols.0.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ETH-USDT", "SOL-USDT", "XRP-USDT"]);
    let per_symbol: u64 = report.symbols.0.iter().map(|(_, s)| s.stats.trades).sum();
    assert_eq!(per_symbol, report.combined.trades);
    for (_, s) in &report.symbols.0 {
        assert!(s.buy_and_hold_pct.is_finite() && s.buy_and_hold_pct != 0.0);
    }
    let by_reason: u64 = report
        .profit_by_exit_reason
        .values()
        .map(|e| e.trades)
        .sum();
    assert_eq!(by_reason, report.combined.trades);
    let csv = trades_csv(&r.trades);
    for line in csv.lines().skip(1) {
        let symbol = line.split(',').nth(1).unwrap();
        assert!(names.contains(&symbol), "{line}");
    }
    let chart = r.chart.as_ref().unwrap();
    assert_eq!(chart.symbols.len(), 3);
    assert!(chart.symbols.iter().all(|c| !c.candles.is_empty()));
    // Deterministic: a second run (from parsed rows this time) is identical.
    let loaded = LoadedData::load(&opts.instruments).unwrap();
    let range = LoadedRange {
        from_ms: opts.from_ms,
        trade_from_ms: None,
        to_ms: opts.to_ms,
    };
    let again = run_loaded(&cfg, &loaded, range).unwrap();
    assert_eq!(trades_csv(&again.trades), csv);
    assert_eq!(Report::from_result(&again), report);
}

fn synthetic_file(dir: &Path, name: &str, start_min: i64, minutes: u64) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    synthetic::write_klines_csv(
        &mut f,
        7,
        synthetic::DEFAULT_START_MS + start_min * 60_000,
        minutes,
    )
    .unwrap();
    path
}

fn one_symbol(files: Vec<PathBuf>) -> PortfolioOptions {
    let mut o = options(vec![Instrument {
        symbol: "BTC-USDT".into(),
        files,
        rules: rules(2, 3),
    }]);
    o.chart = false;
    o
}

fn run_err(o: &PortfolioOptions) -> String {
    let cfg = Config::default();
    match run_portfolio(
        &cfg,
        o,
        crate::strategy::build(&cfg.strategies),
        &mut |_| {},
    ) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_file_given_twice_or_overlapping_files_of_one_symbol_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = synthetic_file(dir.path(), "a.csv", 0, 600);
    let b = synthetic_file(dir.path(), "b.csv", 300, 600);
    let c = synthetic_file(dir.path(), "c.csv", 600, 600);
    let twice = run_err(&one_symbol(vec![a.clone(), a.clone()]));
    assert!(
        twice.contains("a.csv") && twice.contains("given twice"),
        "{twice}"
    );
    let overlap = run_err(&one_symbol(vec![b.clone(), a.clone()]));
    assert!(
        overlap.contains("a.csv") && overlap.contains("b.csv") && overlap.contains("same time"),
        "{overlap}"
    );
    // Adjacent files are one series; the same files under two symbols are fine.
    let cfg = Config::default();
    let ok = run_portfolio(
        &cfg,
        &one_symbol(vec![c.clone(), a.clone()]),
        crate::strategy::build(&cfg.strategies),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(ok.rows, 1200);
    assert_eq!(ok.symbols[0].gaps, 0);
}

#[test]
fn a_hole_in_one_symbols_data_is_reported_as_a_gap_of_that_symbol() {
    let dir = tempfile::tempdir().unwrap();
    let a = synthetic_file(dir.path(), "a.csv", 0, 600);
    let c = synthetic_file(dir.path(), "c.csv", 645, 600);
    let cfg = Config::default();
    let r = run_portfolio(
        &cfg,
        &one_symbol(vec![a, c]),
        crate::strategy::build(&cfg.strategies),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((r.symbols[0].gaps, r.symbols[0].gap_minutes), (1, 45));
}
