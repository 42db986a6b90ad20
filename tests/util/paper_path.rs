//! The scripted scenario of the runtime tests (a copy of the helpers of
//! tests/runtime_live.rs for the newer runtime test files): a price path
//! written as an aggTrades file, the simulator replaying it at 60x after a
//! 20-minute warm-up, a scripted breakout strategy, run options for every
//! mode, and a journal reader.

use std::path::{Path, PathBuf};
use std::time::Duration;

use trading_engine::bingx_sim::{FaultConfig, SimConfig, SimHandle, Simulator, Speed};
use trading_engine::config::{Config, Mode};
use trading_engine::core::{Action, Event};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::journal_schema::JournalRecord;
use trading_engine::runtime::setup::StrategyFactory;
use trading_engine::runtime::{run, RunOptions, RunReport};
use trading_engine::strategy::{MarketView, Signal, Strategy, StrategyId};
use trading_engine::types::{Side, NS_PER_MIN};

/// Market time per wall time of every scenario.
pub const SPEED: f64 = 60.0;
/// First minute of the file (a multiple of one minute, ms).
pub const T0: i64 = 1_699_999_980_000;
/// Minutes of the file consumed as history before the live replay.
pub const WARMUP_MIN: u32 = 20;

/// Goes long on a closed candle between 60 090 and 60 150 (only minute 22
/// of the path) with a 100-point stop.
#[derive(Debug)]
pub struct Breakout;

impl Strategy for Breakout {
    fn name(&self) -> &'static str {
        "scripted_breakout"
    }

    fn evaluate(&self, v: &MarketView<'_>) -> Option<Signal> {
        (60_090.0..60_150.0)
            .contains(&v.c1.close.to_f64())
            .then(|| Signal {
                strategy: StrategyId(0),
                symbol: v.symbol,
                side: Side::Buy,
                confidence: 1.0,
                price: v.c1.close,
                atr: 50.0,
                stop_distance: 100.0,
                target_distance: 800.0,
                ts: v.c1.open_time.add_ns(NS_PER_MIN),
            })
    }
}

/// The scripted strategy set: [`Breakout`] alone.
pub fn scripted(_: &Config) -> Vec<Box<dyn Strategy>> {
    vec![Box::new(Breakout)]
}

/// One aggTrades row (`id,price,qty,first,last,time,maker`) at `T0 + t_ms`.
pub fn row(rows: &mut Vec<String>, t_ms: i64, price: f64) {
    let n = rows.len() + 1;
    rows.push(format!("{n},{price:.1},0.0100,{n},{n},{},false", T0 + t_ms));
}

/// Returns the rows of the price path: flat at 60 000 until minute 22,
/// 60 100 during minute 22 (the entry signal), a climb to 60 460 by minute
/// 27 (partial 1 at 2R, trailing from 3R), a fall to 60 220 by minute 29
/// (the trailing stop fires), flat afterwards until minute 40.
pub fn path_rows() -> Vec<String> {
    let mut rows = Vec::new();
    for i in 0..(22 * 12) {
        row(
            &mut rows,
            i * 5_000,
            60_000.0 + f64::from((i % 3) as i32 - 1) * 5.0,
        );
    }
    for i in 0..12 {
        row(&mut rows, 22 * 60_000 + i * 5_000, 60_100.0);
    }
    for k in 0..120 {
        row(
            &mut rows,
            23 * 60_000 + k * 2_000,
            60_100.0 + 3.0 * k as f64,
        );
    }
    for k in 0..60 {
        row(
            &mut rows,
            27 * 60_000 + k * 2_000,
            60_460.0 - 4.0 * k as f64,
        );
    }
    for i in 0..(11 * 12) {
        row(&mut rows, 29 * 60_000 + i * 5_000, 60_220.0);
    }
    rows
}

/// Writes `rows` as `path.csv` in `dir` and returns its path.
pub fn write_rows(dir: &Path, rows: &[String]) -> PathBuf {
    let path = dir.join("path.csv");
    std::fs::write(&path, rows.join("\n")).unwrap();
    path
}

/// Starts the simulator replaying `data` at `speed` after the warm-up.
pub fn start_sim(data: PathBuf, faults: FaultConfig, speed: f64) -> SimHandle {
    Simulator::start(SimConfig {
        data: Some(data),
        speed: Speed::Times(speed),
        warmup_minutes: WARMUP_MIN,
        faults,
        ..SimConfig::default()
    })
    .unwrap()
}

/// Returns run options against `sim` in `mode` for `secs` seconds, with the
/// journal, STOP and HALT files under `dir` and `strategies` instead of
/// the configured ones.
pub fn options(
    sim: &SimHandle,
    dir: &Path,
    mode: Mode,
    secs: u64,
    strategies: StrategyFactory,
) -> RunOptions {
    let mut cfg = Config::default();
    cfg.exchange.rest_base_url = Some(sim.rest_base());
    cfg.exchange.ws_url = Some(sim.ws_url());
    cfg.market.symbols = vec!["BTC-USDT".into()];
    cfg.metrics.enabled = false;
    cfg.latency.report_interval_secs = 0;
    cfg.risk.close_on_shutdown = true;
    cfg.risk.stop_file = dir.join("STOP");
    cfg.risk.halt_file = dir.join("HALT");
    let mut o = RunOptions::new(cfg, mode);
    o.credentials = Some((
        trading_engine::bingx_sim::DEFAULT_API_KEY.into(),
        trading_engine::bingx_sim::DEFAULT_API_SECRET.into(),
    ));
    o.time_scale = SPEED;
    o.duration = Some(Duration::from_secs(secs));
    o.signals = false;
    o.pin = false;
    o.journal_dir = Some(dir.join("journal"));
    o.control_server = false;
    o.save_hgrm = false;
    o.strategies = Some(strategies);
    o
}

/// Runs `o` on a thread of its own.
pub fn run_in_background(o: RunOptions) -> std::thread::JoinHandle<RunReport> {
    std::thread::spawn(move || run(o, &mut Vec::new()).unwrap())
}

/// Returns a signed REST client of the simulator with BTC-USDT loaded.
pub fn sim_rest(sim: &SimHandle) -> RestClient {
    let mut r = RestClient::try_new(RestConfig::new(
        &sim.rest_base(),
        trading_engine::bingx_sim::DEFAULT_API_KEY,
        trading_engine::bingx_sim::DEFAULT_API_SECRET,
    ))
    .unwrap();
    r.load_symbols(&["BTC-USDT"]).unwrap();
    r
}

/// What a journal holds, in order.
#[derive(Debug, Default)]
pub struct Journal {
    /// Input records.
    pub inputs: Vec<Event>,
    /// Output records.
    pub outputs: Vec<Action>,
    /// Every decodable record, in order.
    pub all: Vec<OwnedRecord>,
    /// `order_sent` records.
    pub orders_sent: usize,
    /// Candles of the `backfill` records.
    pub backfilled: u32,
}

/// A journal record kept past its payload (the variable parts dropped).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedRecord {
    /// An input.
    Input(Event),
    /// An output.
    Output(Action),
    /// Any other record, by type name.
    Other(&'static str),
}

/// Reads the journal in `dir`.
pub fn read_journal(dir: &Path) -> Journal {
    let mut j = Journal::default();
    let mut r = journal::Reader::open(dir).unwrap();
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        let decoded = JournalRecord::decode(rec.type_tag, rec.payload).unwrap();
        match decoded {
            JournalRecord::Input(e) => {
                j.inputs.push(e);
                j.all.push(OwnedRecord::Input(e));
            }
            JournalRecord::Output(a) => {
                j.outputs.push(a);
                j.all.push(OwnedRecord::Output(a));
            }
            other => {
                if let JournalRecord::OrderSent { .. } = other {
                    j.orders_sent += 1;
                }
                if let JournalRecord::Backfill { candles, .. } = other {
                    j.backfilled += candles;
                }
                let name = trading_engine::journal_schema::type_name(rec.type_tag).unwrap_or("?");
                j.all.push(OwnedRecord::Other(name));
            }
        }
    }
    j
}
