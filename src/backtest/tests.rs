//! End-to-end backtests on every klines and aggTrades file in the shared
//! data directory, and byte-for-byte determinism of the outputs.

use super::*;
use crate::types::{DecimalStep, Price, Qty};
use bingx_sim::testdata::shared_data;

fn rules() -> InstrumentRules {
    let step = DecimalStep::from_precision(3);
    InstrumentRules {
        tick: DecimalStep::from_precision(2),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(5.0).unwrap(),
    }
}

fn options(path: PathBuf) -> BacktestOptions {
    BacktestOptions {
        data: vec![path],
        from_ms: None,
        to_ms: None,
        rules: rules(),
        progress_every: 1 << 20,
        funding: funding::FundingInputs::default(),
    }
}

fn data_files(pattern: &str) -> Vec<PathBuf> {
    let Some(dir) = shared_data() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(pattern))
        })
        .collect();
    files.sort();
    files
}

fn check(result: &BacktestResult) {
    let sum = result
        .trades
        .iter()
        .fold(Money::ZERO, |a, t| a + t.trade.pnl);
    assert_eq!(result.initial_equity + sum, result.final_equity);
    assert!(result.rows > 0);
    for t in &result.trades {
        assert!(t.trade.exit_ts >= t.trade.entry_ts);
        assert!(!t.exits.is_empty());
    }
    let report = Report::from_result(result);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["funding"], "not modelled",
        "no funding data: never a silent zero"
    );
    assert!(report.summary(false).contains("funding: not modelled"));
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "combined",
            "exit_reasons",
            "final_equity",
            "funding",
            "halts",
            "initial_equity",
            "input",
            "market_change_pct",
            "monthly_returns_pct",
            "profit_by_exit_reason",
            "risk_rejections",
            "strategies",
            "symbols"
        ]
    );
    let stats_keys: Vec<_> = json["combined"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(stats_keys.len(), 27);
    assert_eq!(json["strategies"].as_object().unwrap().len(), 2);
}

#[test]
fn every_klines_file_backtests_with_exact_equity_accounting() {
    let files = data_files("-1m-");
    for f in &files {
        let r = run(&Config::default(), &options(f.clone()), &mut |_| {}).unwrap();
        assert_eq!(r.kind, FileKind::Klines, "{f:?}");
        check(&r);
    }
}

#[test]
fn every_aggtrades_file_backtests_with_exact_equity_accounting() {
    for f in &data_files("aggTrades") {
        let r = run(&Config::default(), &options(f.clone()), &mut |_| {}).unwrap();
        assert_eq!(r.kind, FileKind::AggTrades, "{f:?}");
        check(&r);
    }
}

#[test]
fn two_runs_write_byte_identical_report_and_trades() {
    let Some(f) = data_files("binance-futures-BTCUSDT-1m-").into_iter().next() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for k in 0..2 {
        let out = dir.path().join(format!("run{k}"));
        let r = run(&Config::default(), &options(f.clone()), &mut |_| {}).unwrap();
        write_outputs(&r, &out).unwrap();
        let report = std::fs::read(out.join("report.json")).unwrap();
        let trades = std::fs::read(out.join("trades.csv")).unwrap();
        assert!(std::fs::read_to_string(out.join("equity.svg"))
            .unwrap()
            .contains("</svg>"));
        assert!(std::fs::read_to_string(out.join("equity.csv"))
            .unwrap()
            .starts_with("time_ms,time_utc,equity,drawdown_pct"));
        outputs.push((report, trades));
    }
    assert_eq!(outputs[0], outputs[1]);
    let header = String::from_utf8(outputs[0].1.clone()).unwrap();
    assert!(header.starts_with(
        "id,symbol,strategy,side,entry_time_ms,entry_time_utc,exit_time_ms,exit_time_utc,entry_price,avg_exit_price,qty,fees,pnl,r_multiple,hours_held,exit_reason,exits,funding\n"
    ));
    // Every row has 18 cells, `exits` is the number of exit fills (>= 1)
    // and, without funding data, the funding column is 0.
    let mut rows = 0;
    for line in header.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 18, "{line}");
        assert_eq!(cells[1], "BTC-USDT", "{line}");
        assert_eq!(cells[17], "0.00000000", "{line}");
        let exits: usize = cells[16]
            .parse()
            .unwrap_or_else(|_| panic!("exits not a count: {line}"));
        assert!(exits >= 1, "{line}");
        rows += 1;
    }
    assert!(rows > 0);
}

#[test]
fn exit_fill_count_counts_the_logged_fills() {
    assert_eq!(crate::backtest::report::exit_fill_count(""), 0);
    assert_eq!(crate::backtest::report::exit_fill_count("stop 0.2@9"), 1);
    assert_eq!(
        crate::backtest::report::exit_fill_count("partial 0.06@9;target 0.14@10"),
        2
    );
}

#[test]
fn date_range_limits_rows_and_an_empty_range_is_an_error() {
    let Some(f) = data_files("binance-futures-BTCUSDT-1m-").into_iter().next() else {
        return;
    };
    let mut o = options(f);
    o.from_ms = dates::parse_date_ms("2025-05-10");
    o.to_ms = dates::parse_date_ms("2025-05-12");
    let r = run(&Config::default(), &o, &mut |_| {}).unwrap();
    assert_eq!(r.rows, 2 * 1440);
    assert_eq!(r.from_ms, dates::parse_date_ms("2025-05-10").unwrap());
    o.from_ms = dates::parse_date_ms("2030-01-01");
    o.to_ms = None;
    assert!(matches!(
        run(&Config::default(), &o, &mut |_| {}),
        Err(BacktestError::NoData)
    ));
}

/// A config whose strategies warm up in minutes and trade often on the
/// synthetic market.
fn busy_config() -> Config {
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
    cfg.risk.cooldown_minutes = 10;
    cfg.risk.loss_streak_lock_minutes = 30;
    cfg
}

fn synthetic_file(dir: &std::path::Path, days: u64) -> PathBuf {
    let path = dir.join("synthetic.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    crate::datafile::synthetic::write_klines_csv(
        &mut f,
        3,
        crate::datafile::synthetic::DEFAULT_START_MS,
        days * 1440,
    )
    .unwrap();
    path
}

/// `path` loaded as BTC-USDT with [`rules`].
fn loaded(path: PathBuf) -> LoadedData {
    LoadedData::load(&[Instrument {
        symbol: "BTC-USDT".into(),
        files: vec![path],
        rules: rules(),
    }])
    .unwrap()
}

#[test]
fn a_run_over_loaded_rows_equals_the_run_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = synthetic_file(dir.path(), 4);
    let cfg = busy_config();
    let day = crate::backtest::dates::MS_PER_DAY;
    let start = crate::datafile::synthetic::DEFAULT_START_MS;
    let mut o = options(path.clone());
    o.from_ms = Some(start + day);
    o.to_ms = Some(start + 3 * day);
    let from_file = run(&cfg, &o, &mut |_| {}).unwrap();
    let data = loaded(path);
    let range = LoadedRange {
        from_ms: o.from_ms,
        trade_from_ms: None,
        to_ms: o.to_ms,
    };
    let loaded = run_loaded(&cfg, &data, range).unwrap();
    assert!(from_file.trades.len() > 3, "{}", from_file.trades.len());
    assert_eq!(from_file.trades, loaded.trades);
    assert_eq!(from_file.equity, loaded.equity);
    assert_eq!(from_file.rows, loaded.rows);
    assert_eq!(from_file.final_equity, loaded.final_equity);
}

#[test]
fn no_position_opens_during_a_warm_up_with_orders_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = synthetic_file(dir.path(), 3);
    let data = loaded(path);
    let day = crate::backtest::dates::MS_PER_DAY;
    let start = crate::datafile::synthetic::DEFAULT_START_MS;
    let range = LoadedRange {
        from_ms: None,
        trade_from_ms: Some(start + 2 * day),
        to_ms: None,
    };
    let r = run_loaded(&busy_config(), &data, range).unwrap();
    assert!(!r.trades.is_empty());
    for t in &r.trades {
        assert!(t.trade.entry_ts.as_ms() >= start + 2 * day, "{t:?}");
    }
}
