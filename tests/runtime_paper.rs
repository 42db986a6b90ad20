//! Paper mode against the backtest, and entries on stale backfilled
//! candles, end to end against the BingX simulator on 127.0.0.1 with the
//! scripted price path of `util::live`. Each run stops by itself and is
//! bounded in time.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use std::path::Path;

use trading_engine::backtest::{self, BacktestOptions, TRADES_CSV_HEADER};
use trading_engine::config::Mode;
use trading_engine::core::Event;
use trading_engine::indicators::{Atr, Declare, Ind, Timeframe};
use trading_engine::positions::ClosedTrade;
use trading_engine::runtime::LoopTimers;
use trading_engine::strategy::{MarketView, Signal, StrategiesConfig, Strategy};
use trading_engine::types::{SymbolId, NS_PER_MIN, NS_PER_MS};
use util::live::{
    breakout_candle, long_at_close, options, path_rows, read_journal, run_in_background, sim_rest,
    start_sim_on, write_rows, SPEED, T0,
};

/// Like `util::live::Breakout` (long on a close between 60 090 and 60 150,
/// only minute 22 of the path), with a stop of 80 points plus the 1m ATR:
/// the trade's size and exits depend on every candle of the ATR window,
/// the first live minute included.
#[derive(Debug, Default)]
struct AtrBreakout {
    /// ATR(14) on 1m, declared to the core.
    atr: Option<Ind<Atr>>,
}

impl Strategy for AtrBreakout {
    fn name(&self) -> &'static str {
        "scripted_atr_breakout"
    }

    fn declare(&mut self, ind: &mut Declare<'_>) {
        self.atr = Some(ind.read(Timeframe::M1, 14, "atr_period"));
    }

    fn evaluate(&self, v: &MarketView<'_>) -> Option<Signal> {
        let atr = v.get(self.atr?)?;
        breakout_candle(v).then(|| long_at_close(v, 80.0 + atr))
    }
}

fn atr_scripted(_: &StrategiesConfig) -> Vec<Box<dyn Strategy>> {
    vec![Box::new(AtrBreakout::default())]
}

/// The scripted path with a spike to 60 080 half a second into minute 20:
/// the simulator starts its live replay inside minute 20, so the spike is
/// almost always history the paper run never sees as a trade (only the
/// minute's REST candle has it), while the backtest reads it from the file.
fn spiked_rows() -> Vec<String> {
    let mut rows = path_rows();
    let at = 20 * 12 + 1; // after the row at 20:00.000 (12 rows a minute)
    let first = rows[at - 1].clone();
    assert!(
        first.ends_with(&format!(",{},false", T0 + 20 * 60_000)),
        "{first}"
    );
    rows.insert(at, String::new());
    let mut renumbered = Vec::with_capacity(rows.len());
    for (k, r) in rows.iter().enumerate() {
        let n = k + 1;
        let (time, price) = if k == at {
            (T0 + 20 * 60_000 + 500, "60080.0".to_owned())
        } else {
            let f: Vec<&str> = r.split(',').collect();
            (f[5].parse().unwrap(), f[1].to_owned())
        };
        renumbered.push(format!("{n},{price},0.0100,{n},{n},{time},false"));
    }
    renumbered
}

/// Returns `trades` as `trades.csv` text.
fn trades_csv(trades: &[ClosedTrade], symbol: &str, strategy: &str) -> String {
    let mut s = format!("{TRADES_CSV_HEADER}\n");
    for t in trades {
        backtest::push_trade_csv_row(
            &mut s,
            t,
            symbol,
            strategy,
            t.exits as usize,
            trading_engine::money::Money::ZERO,
        );
    }
    s
}

/// Writes `rows` with every time shifted by `shift_ms` as `shifted.csv`.
fn write_shifted(dir: &Path, rows: &[String], shift_ms: i64) -> std::path::PathBuf {
    let shifted: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut f: Vec<String> = r.split(',').map(str::to_owned).collect();
            f[5] = (f[5].parse::<i64>().unwrap() + shift_ms).to_string();
            f.join(",")
        })
        .collect();
    let path = dir.join("shifted.csv");
    std::fs::write(&path, shifted.join("\n")).unwrap();
    path
}

#[test]
fn a_paper_run_and_a_backtest_over_the_same_data_close_the_same_trades() {
    let dir = tempfile::tempdir().unwrap();
    let rows = spiked_rows();
    let sim = start_sim_on(write_rows(dir.path(), &rows), Default::default(), SPEED);
    let mut o = options(&sim, dir.path(), Mode::Paper, 14);
    o.strategies = Some(atr_scripted);
    // The backtest has no wall clock: its candles close on the next trade.
    // A live run also closes them on a clock tick when the feed has been
    // quiet past the minute's end plus the grace period; the path has a
    // trade at every minute's start, so only a stalled machine could tick
    // first. Ticks are kept off the path to make the comparison exact.
    o.timers = LoopTimers {
        clock_quiet_ns: 30_000_000_000,
        ..LoopTimers::default()
    };
    let cfg = o.config.clone();
    let rules = sim_rest(&sim).symbols().get(SymbolId(0)).unwrap().rules;
    let report = run_in_background(o).join().unwrap();
    let j = read_journal(report.journal_dir.as_ref().unwrap());

    // The simulator moved the file to now: the first warm-up candle is the
    // file's first minute.
    let first_candle = j
        .inputs
        .iter()
        .find_map(|e| match e {
            Event::Candle(c) => Some(c.open_time),
            _ => None,
        })
        .unwrap();
    let shift_ms = first_candle.0 / NS_PER_MS - T0;
    // The first live minute was only partly seen as trades: its REST
    // candle replaced it once it closed.
    let first_trade = j
        .inputs
        .iter()
        .find_map(|e| match e {
            Event::Trade(t) => Some(t.exchange_ts),
            _ => None,
        })
        .unwrap();
    let first_minute = first_trade.0.div_euclid(NS_PER_MIN) * NS_PER_MIN;
    let replaced = j
        .inputs
        .iter()
        .any(|e| matches!(e, Event::Candle(c) if c.open_time.0 == first_minute));

    let data = write_shifted(dir.path(), &rows, shift_ms);
    let bt = backtest::run_with_strategies(
        &cfg,
        &BacktestOptions {
            data: vec![data],
            from_ms: None,
            to_ms: None,
            rules,
            progress_every: 1 << 20,
            funding: backtest::funding::FundingInputs::default(),
        },
        atr_scripted(&cfg.strategies),
        &mut |_| {},
    )
    .unwrap();
    let backtest_trades: Vec<ClosedTrade> = bt.trades.iter().map(|r| r.trade).collect();
    assert_eq!(backtest_trades.len(), 1, "{backtest_trades:?}");
    assert_ne!(
        backtest_trades[0].exit_reason,
        trading_engine::orders::ExitReason::Shutdown,
        "the trade closes inside the path: {backtest_trades:?} paper {:?}",
        report.service.trades
    );
    assert_eq!(
        trades_csv(
            &report.service.trades,
            &cfg.market.symbols[0],
            "scripted_atr_breakout"
        ),
        backtest::trades_csv(&bt.trades),
        "trades.csv rows differ"
    );
    assert_eq!(report.service.trades, backtest_trades);
    assert!(replaced, "no REST candle for the first live minute");
}
