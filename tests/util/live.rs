//! The scripted scenario of every runtime end-to-end test (tests/runtime_*.rs):
//! a price path written as an aggTrades file, the BingX simulator replaying
//! it after a 20-minute warm-up, a scripted breakout strategy that enters
//! once on it, run options against the simulator, a journal reader and a
//! replay of the journal with the scripted strategy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bingx_sim::{FaultConfig, SimConfig, SimHandle, Simulator, Speed};
use trading_engine::config::{Config, Mode};
use trading_engine::core::{Action, Event, Record};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::journal_schema::{DailyMetrics, JournalRecord};
use trading_engine::orders::ExitReason;
use trading_engine::replay::ReplayReport;
use trading_engine::runtime::{run, RunOptions, RunReport};
use trading_engine::strategy::{MarketView, Signal, StrategiesConfig, Strategy, StrategyId};
use trading_engine::types::{Side, TimestampNs, NS_PER_MIN};

/// Market time per wall time of every scenario (unless it says otherwise).
pub const SPEED: f64 = 60.0;
/// First minute of the file (a multiple of one minute, ms).
pub const T0: i64 = 1_699_999_980_000;
/// Minutes of the file consumed as history before the live replay.
pub const WARMUP_MIN: u32 = 20;

/// Returns a long signal at the close of `v`'s last closed 1m candle with
/// a stop `stop_distance` points away and an 800-point target, dated at
/// that candle's close.
pub fn long_at_close(v: &MarketView<'_>, stop_distance: f64) -> Signal {
    Signal {
        strategy: StrategyId(0),
        symbol: v.symbol,
        side: Side::Buy,
        confidence: 1.0,
        price: v.c1.close,
        atr: 50.0,
        stop_distance,
        target_distance: 800.0,
        ts: v.c1.open_time.add_ns(NS_PER_MIN),
    }
}

/// Returns true when `v`'s last closed 1m candle closed between 60 090 and
/// 60 150 (only minute 22 of the path).
pub fn breakout_candle(v: &MarketView<'_>) -> bool {
    (60_090.0..60_150.0).contains(&v.c1.close.to_f64())
}

/// Goes long on a closed candle between 60 090 and 60 150 (only minute 22
/// of the path) with a 100-point stop.
#[derive(Debug)]
pub struct Breakout;

impl Strategy for Breakout {
    fn name(&self) -> &'static str {
        "scripted_breakout"
    }

    fn evaluate(&self, v: &MarketView<'_>) -> Option<Signal> {
        breakout_candle(v).then(|| long_at_close(v, 100.0))
    }
}

/// The scripted strategy set: [`Breakout`] alone.
pub fn scripted(_: &StrategiesConfig) -> Vec<Box<dyn Strategy>> {
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
        let wiggle = f64::from((i % 3) as i32 - 1) * 5.0;
        row(&mut rows, i * 5_000, 60_000.0 + wiggle);
    }
    for i in 0..12 {
        row(&mut rows, 22 * 60_000 + i * 5_000, 60_100.0);
    }
    for k in 0..120 {
        let price = 60_100.0 + 3.0 * k as f64;
        row(&mut rows, 23 * 60_000 + k * 2_000, price);
    }
    for k in 0..60 {
        let price = 60_460.0 - 4.0 * k as f64;
        row(&mut rows, 27 * 60_000 + k * 2_000, price);
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

/// Starts the simulator replaying the price path (written in `dir`) at
/// [`SPEED`].
pub fn start_sim(dir: &Path, faults: FaultConfig) -> SimHandle {
    start_sim_at(dir, faults, SPEED)
}

/// Starts the simulator replaying the price path (written in `dir`) at
/// `speed`.
pub fn start_sim_at(dir: &Path, faults: FaultConfig, speed: f64) -> SimHandle {
    start_sim_on(write_rows(dir, &path_rows()), faults, speed)
}

/// Starts the simulator replaying the aggTrades file `data` at `speed`
/// after the warm-up.
pub fn start_sim_on(data: PathBuf, faults: FaultConfig, speed: f64) -> SimHandle {
    Simulator::start(SimConfig {
        data: Some(data),
        speed: Speed::Times(speed),
        warmup_minutes: WARMUP_MIN,
        faults,
        ..SimConfig::default()
    })
    .unwrap()
}

/// Returns run options against `sim` in `mode` for `secs` seconds with the
/// scripted strategy (set `strategies` for another), the journal, STOP and
/// HALT files under `dir`.
pub fn options(sim: &SimHandle, dir: &Path, mode: Mode, secs: u64) -> RunOptions {
    options_at(&sim.rest_base(), &sim.ws_url(), dir, mode, secs)
}

/// [`options`] against the simulator at `rest_base` / `ws_url` (a child
/// process knows the simulator by its addresses only).
pub fn options_at(rest_base: &str, ws_url: &str, dir: &Path, mode: Mode, secs: u64) -> RunOptions {
    let mut cfg = Config::default();
    cfg.exchange.rest_base_url = Some(rest_base.to_owned());
    cfg.exchange.ws_url = Some(ws_url.to_owned());
    cfg.market.symbols = vec!["BTC-USDT".into()];
    cfg.metrics.enabled = false;
    cfg.latency.report_interval_secs = 0;
    cfg.risk.close_on_shutdown = true;
    cfg.risk.stop_file = dir.join("STOP");
    cfg.risk.halt_file = dir.join("HALT");
    let mut o = RunOptions::new(cfg, mode);
    o.credentials = Some((
        bingx_sim::DEFAULT_API_KEY.into(),
        bingx_sim::DEFAULT_API_SECRET.into(),
    ));
    o.time_scale = SPEED;
    o.duration = Some(Duration::from_secs(secs));
    o.signals = false;
    o.pin = false;
    o.journal_dir = Some(dir.join("journal"));
    o.control_server = false;
    o.save_hgrm = false;
    o.strategies = Some(scripted);
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
        bingx_sim::DEFAULT_API_KEY,
        bingx_sim::DEFAULT_API_SECRET,
    ))
    .unwrap();
    r.load_symbols(&["BTC-USDT"]).unwrap();
    r
}

/// Net position of the simulator's account (long minus short).
pub fn sim_position(r: &mut RestClient) -> f64 {
    r.positions(Some("BTC-USDT"))
        .unwrap()
        .iter()
        .map(|p| {
            let a = p.position_amt.to_f64().abs();
            if p.position_side == "SHORT" {
                -a
            } else {
                a
            }
        })
        .sum()
}

/// What a finished journal holds, in order.
#[derive(Debug, Default)]
pub struct Journal {
    /// Input records.
    pub inputs: Vec<Event>,
    /// Output records.
    pub outputs: Vec<Action>,
    /// `order_sent` records.
    pub orders_sent: usize,
    /// Candles of the `backfill` records.
    pub backfilled: u32,
    /// Whether the last shutdown record says clean.
    pub shutdown: Option<bool>,
    /// Whether a shutdown record ends the journal (the checkpoint of the
    /// state at the end, written after it, does not count: it is state,
    /// not an event).
    pub last_is_shutdown: bool,
    /// Market time of the equity samples.
    pub equity: Vec<TimestampNs>,
    /// Daily metrics records.
    pub daily: Vec<DailyMetrics>,
}

impl Journal {
    /// Exit reasons of the journaled exit records, in order.
    pub fn exit_reasons(&self) -> Vec<ExitReason> {
        self.outputs
            .iter()
            .filter_map(|a| match a {
                Action::Record(Record::Exit { reason, .. }) => Some(*reason),
                _ => None,
            })
            .collect()
    }
}

/// Reads the whole journal in `dir` (every record must decode).
pub fn read_journal(dir: &Path) -> Journal {
    let mut j = Journal::default();
    let mut r = journal::Reader::open(dir).unwrap();
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        if rec.type_tag == trading_engine::journal_schema::tags::CHECKPOINT {
            continue;
        }
        let decoded = JournalRecord::decode(rec.type_tag, rec.payload).unwrap();
        j.last_is_shutdown = false;
        match decoded {
            JournalRecord::Input(e) => j.inputs.push(e),
            JournalRecord::Output(a) => j.outputs.push(a),
            JournalRecord::OrderSent { .. } => j.orders_sent += 1,
            JournalRecord::Backfill { candles, .. } => j.backfilled += candles,
            JournalRecord::Equity { ts, .. } => j.equity.push(ts),
            JournalRecord::Daily(d) => j.daily.push(d),
            JournalRecord::Shutdown { clean, .. } => {
                j.shutdown = Some(clean);
                j.last_is_shutdown = true;
            }
            _ => {}
        }
    }
    j
}

/// Replays the journal in `dir` with the scripted strategy (the crate's
/// replay: journaled reloads and later sessions' configs applied where the
/// engine applied them) and returns its report.
///
/// # Panics
/// At the first output that differs from the journal.
pub fn replay(dir: &Path) -> ReplayReport {
    let report = trading_engine::replay::replay_with(dir, Some(scripted), &mut |_| {}).unwrap();
    if let Some(m) = report.first_mismatch {
        panic!("replay of {} differs: {m}", dir.display());
    }
    report
}

/// [`replay`] of a journal written by one uninterrupted run: returns how
/// many outputs it checked.
///
/// # Panics
/// Also when the journal ends torn or lacks outputs the core produced.
pub fn replay_complete(dir: &Path) -> u64 {
    let report = replay(dir);
    assert_eq!(report.torn, None, "torn tail");
    assert_eq!(
        report.counts.unjournaled, 0,
        "outputs not journaled: {:?}",
        report.counts
    );
    report.counts.outputs
}
