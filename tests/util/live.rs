//! Shared helpers of the runtime end-to-end tests (tests/runtime_live.rs,
//! tests/runtime_recovery.rs): a scripted price path replayed by the BingX
//! simulator, a scripted strategy that enters once on it, run options
//! against the simulator, and journal readers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use trading_engine::bingx_sim::{SimConfig, SimHandle, Simulator, Speed};
use trading_engine::config::{Config, Mode};
use trading_engine::core::{Action, Event, Record};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::journal_schema::JournalRecord;
use trading_engine::orders::ExitReason;
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

pub fn scripted(_: &Config) -> Vec<Box<dyn Strategy>> {
    vec![Box::new(Breakout)]
}

/// Writes the price path: flat at 60 000 until minute 22, 60 100 during
/// minute 22 (the entry signal), a climb to 60 460 by minute 27 (partial 1
/// at 2R, trailing from 3R), a fall to 60 220 by minute 29 (the trailing
/// stop fires), flat afterwards until minute 40.
pub fn write_path(dir: &Path) -> PathBuf {
    let mut rows = Vec::new();
    let mut push = |t_ms: i64, price: f64| {
        rows.push(format!(
            "{},{price:.1},0.0100,{},{},{},false",
            rows.len() + 1,
            rows.len() + 1,
            rows.len() + 1,
            T0 + t_ms
        ));
    };
    for i in 0..(22 * 12) {
        push(i * 5_000, 60_000.0 + f64::from((i % 3) as i32 - 1) * 5.0);
    }
    for i in 0..12 {
        push(22 * 60_000 + i * 5_000, 60_100.0);
    }
    for k in 0..120 {
        push(23 * 60_000 + k * 2_000, 60_100.0 + 3.0 * k as f64);
    }
    for k in 0..60 {
        push(27 * 60_000 + k * 2_000, 60_460.0 - 4.0 * k as f64);
    }
    for i in 0..(11 * 12) {
        push(29 * 60_000 + i * 5_000, 60_220.0);
    }
    let path = dir.join("path.csv");
    std::fs::write(&path, rows.join("\n")).unwrap();
    path
}

pub fn start_sim(dir: &Path, faults: trading_engine::bingx_sim::FaultConfig) -> SimHandle {
    start_sim_at(dir, faults, SPEED)
}

pub fn start_sim_at(
    dir: &Path,
    faults: trading_engine::bingx_sim::FaultConfig,
    speed: f64,
) -> SimHandle {
    Simulator::start(SimConfig {
        data: Some(write_path(dir)),
        speed: Speed::Times(speed),
        warmup_minutes: WARMUP_MIN,
        faults,
        ..SimConfig::default()
    })
    .unwrap()
}

pub fn options(sim: &SimHandle, dir: &Path, mode: Mode, secs: u64) -> RunOptions {
    options_at(&sim.rest_base(), &sim.ws_url(), dir, mode, secs)
}

/// Run options against the simulator at `rest_base` / `ws_url` (a child
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
    o.strategies = Some(scripted);
    o
}

pub fn run_in_background(o: RunOptions) -> std::thread::JoinHandle<RunReport> {
    std::thread::spawn(move || run(o, &mut Vec::new()).unwrap())
}

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

/// What a journal holds, in order.
#[derive(Debug, Default)]
pub struct Journal {
    pub inputs: Vec<Event>,
    pub outputs: Vec<Action>,
    pub orders_sent: usize,
    pub backfilled: u32,
    pub shutdown: Option<bool>,
    pub last_is_shutdown: bool,
}

pub fn read_journal(dir: &Path) -> Journal {
    let mut j = Journal::default();
    let mut r = journal::Reader::open(dir).unwrap();
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        let decoded = JournalRecord::decode(rec.type_tag, rec.payload).unwrap();
        j.last_is_shutdown = false;
        match decoded {
            JournalRecord::Input(e) => j.inputs.push(e),
            JournalRecord::Output(a) => j.outputs.push(a),
            JournalRecord::OrderSent { .. } => j.orders_sent += 1,
            JournalRecord::Backfill { candles, .. } => j.backfilled += candles,
            JournalRecord::Shutdown { clean, .. } => {
                j.shutdown = Some(clean);
                j.last_is_shutdown = true;
            }
            _ => {}
        }
    }
    j
}

/// Feeds the journaled inputs to a fresh core built from the journaled
/// session (config text, instrument rules) and returns how many outputs
/// it produced, panicking at the first one that differs from the journal.
pub fn replay(dir: &Path) -> usize {
    use trading_engine::core::Core;
    let mut r = journal::Reader::open(dir).unwrap();
    let mut core = None;
    let mut expected = std::collections::VecDeque::new();
    let mut checked = 0;
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        match JournalRecord::decode(rec.type_tag, rec.payload).unwrap() {
            JournalRecord::Session(s) => {
                let cfg = Config::from_toml_str(s.config_toml).unwrap();
                let rules = s.rules().unwrap();
                core = Some(Core::try_with_strategies(&cfg, &rules, scripted(&cfg)).unwrap());
            }
            JournalRecord::Input(e) => {
                assert!(
                    expected.is_empty(),
                    "outputs missing before {e:?}: {expected:?}"
                );
                let c = core.as_mut().unwrap();
                c.on_event(&e);
                while let Some(a) = c.next_action() {
                    expected.push_back(a);
                }
            }
            JournalRecord::Output(a) => {
                let want = expected.pop_front();
                assert_eq!(want, Some(a), "output {checked} differs");
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(expected.is_empty(), "outputs not journaled: {expected:?}");
    checked
}

pub fn exit_reasons(j: &Journal) -> Vec<ExitReason> {
    j.outputs
        .iter()
        .filter_map(|a| match a {
            Action::Record(Record::Exit { reason, .. }) => Some(*reason),
            _ => None,
        })
        .collect()
}
