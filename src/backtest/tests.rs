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
    assert!(report.summary().contains("funding: not modelled"));
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "combined",
            "exit_reasons",
            "final_equity",
            "funding",
            "initial_equity",
            "input",
            "monthly_returns_pct",
            "risk_rejections",
            "strategies"
        ]
    );
    let stats_keys: Vec<_> = json["combined"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(stats_keys.len(), 20);
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
            .starts_with("time_ms,equity,drawdown_pct"));
        outputs.push((report, trades));
    }
    assert_eq!(outputs[0], outputs[1]);
    let header = String::from_utf8(outputs[0].1.clone()).unwrap();
    assert!(header.starts_with(
        "id,strategy,side,entry_time_ms,exit_time_ms,entry_price,avg_exit_price,qty,fees,pnl,r_multiple,hours_held,exit_reason,exits,funding\n"
    ));
    // Every row has 15 cells and `exits` is the number of exit fills (>= 1).
    let mut rows = 0;
    for line in header.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 15, "{line}");
        let exits: usize = cells[13]
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

#[test]
fn queued_events_reach_the_core_in_the_order_they_were_queued() {
    let cfg = Config::default();
    let core = Core::try_new(&cfg, &[rules()]).unwrap();
    let mut d = Driver {
        core,
        sim: FillModel::new(&cfg.simulator, 1, MarketFill::NextTrade),
        events: VecDeque::new(),
        exits: HashMap::new(),
        trades: Vec::new(),
        rejections: BTreeMap::new(),
        exit_reasons: BTreeMap::new(),
        orders: HashMap::new(),
        owners: HashMap::new(),
        fills: Vec::new(),
        exit_fill: None,
        funding_by_position: HashMap::new(),
        funding: None,
        mark_source: crate::funding::schedule::MarkSource::LastPrice,
    };
    let ts = TimestampNs(1_700_000_000_000_000_000);
    // Two answers queued at once (as a final flush of the simulated
    // exchange yields them): halt, then resume. Fed out of order the core
    // would end halted.
    d.events.push_back(Event::Control {
        command: Command::Halt,
        ts,
    });
    d.events.push_back(Event::Control {
        command: Command::Resume,
        ts,
    });
    d.drain();
    assert!(d.events.is_empty());
    assert_eq!(d.core.halted(), None);
}
