//! A journal written by a real engine run: the core driven like the backtest over the
//! synthetic market (orders through the simulated exchange), journaling every input, then the
//! outputs it produced, plus frame timings, equity samples, session and shutdown records. Also
//! the reference reader ([`expected_from_journal`]) a demo-run journal is checked against.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Instant;

use journal::{Durability, Writer, WriterOptions};
use trading_engine::config::Config;
use trading_engine::core::{Action, Command, Core, Event, Record, StageProbe};
use trading_engine::datafile::synthetic::{SyntheticMarket, DEFAULT_START_MS};
use trading_engine::fill_model::{FillModel, MarketFill};
use trading_engine::journal_schema::{
    self as schema, FrameTiming, JournalRecord, Mode, SessionStart,
};
use trading_engine::metrics::latency::Stage;
use trading_engine::money::Money;
use trading_engine::positions::ClosedTrade;
use trading_engine::strategy::StrategyId;
use trading_engine::types::{Candle, SymbolId, TimestampNs};

use crate::fixtures::{config, p, q, rules, DAY0_NS, NS_PER_DAY, NS_PER_MIN};

/// What an engine run journaled, counted by the driver itself (or, for a journal written by
/// someone else, by [`expected_from_journal`]).
#[derive(Debug, Default, PartialEq)]
pub struct EngineRun {
    /// Records by tag, as the driver wrote them.
    pub by_tag: std::collections::BTreeMap<u16, u64>,
    pub records: u64,
    /// Closed trades with their strategy names (the core's).
    pub trades: Vec<(ClosedTrade, &'static str)>,
    /// Distinct UTC exit days of the trades.
    pub trade_days: std::collections::BTreeSet<i64>,
    /// UTC days of the journaled `daily` records (the runtime writes them; this driver does not).
    pub daily_days: std::collections::BTreeSet<i64>,
    pub first_ts: i64,
    pub last_ts: i64,
    /// `frame_timing` records written (one per candle).
    pub frames: u64,
}

/// Times the core's stages between the boundaries it reports.
#[derive(Debug)]
struct Probe {
    at: Instant,
    stage: Option<Stage>,
    ns: [u64; Stage::COUNT],
}

impl Probe {
    fn start() -> Self {
        Self {
            at: Instant::now(),
            stage: None,
            ns: [0; Stage::COUNT],
        }
    }

    fn close(&mut self) {
        let now = Instant::now();
        if let Some(s) = self.stage {
            self.ns[s.index()] += u64::try_from((now - self.at).as_nanos()).unwrap();
        }
        self.at = now;
    }
}

impl StageProbe for Probe {
    fn enter(&mut self, stage: Stage) {
        self.close();
        self.stage = Some(stage);
    }
}

struct EngineDriver {
    core: Core,
    sim: FillModel,
    events: VecDeque<Event>,
    writer: Writer,
    run: EngineRun,
}

impl EngineDriver {
    fn put(&mut self, ts: TimestampNs, rec: &JournalRecord<'_>) {
        schema::write(&mut self.writer, ts, rec).unwrap();
        *self.run.by_tag.entry(rec.tag()).or_default() += 1;
        self.run.records += 1;
        self.run.last_ts = ts.0;
    }

    /// Journals the event, feeds it to the core, journals every action, routes orders through
    /// the simulated exchange and feeds its answers back, until quiet. Returns the stage times
    /// of the first event and the time from `started` to its first order intent (0: none).
    fn dispatch(
        &mut self,
        event: Event,
        ts: TimestampNs,
        started: Instant,
    ) -> ([u64; Stage::COUNT], u64) {
        self.events.push_back(event);
        let mut first = None;
        let mut to_order = 0;
        while let Some(e) = self.events.pop_front() {
            self.put(ts, &JournalRecord::Input(e));
            let mut probe = Probe::start();
            self.core.on_event_probed(&e, &mut probe);
            probe.close();
            first.get_or_insert(probe.ns);
            while let Some(a) = self.core.next_action() {
                if to_order == 0 && matches!(a, Action::Place(_)) {
                    to_order = u64::try_from(started.elapsed().as_nanos()).unwrap().max(1);
                }
                self.put(ts, &JournalRecord::Output(a));
                match a {
                    Action::Place(o) => self.sim.submit(&o, &mut |e| self.events.push_back(e)),
                    Action::Cancel { order, .. } => {
                        self.sim.cancel(order, &mut |e| self.events.push_back(e));
                    }
                    Action::Record(Record::TradeClosed(t)) => {
                        let name = self.core.strategy_name(t.strategy);
                        self.run.trades.push((t, name));
                        self.run
                            .trade_days
                            .insert(t.exit_ts.0.div_euclid(NS_PER_DAY));
                    }
                    Action::Record(_) | Action::Log(_) => {}
                }
            }
        }
        (first.unwrap_or_default(), to_order)
    }
}

/// Runs the core over `days` of the synthetic market (seed `seed`), journaling a session
/// record, every input and output, a frame timing per candle (conversion as parse, the
/// core's stages, receive to first order intent), an equity sample per hour and a shutdown
/// record.
pub fn engine_run_journal(dir: &Path, days: u64, seed: u64) -> EngineRun {
    let cfg = config();
    let toml = cfg.to_toml_string().unwrap();
    let mut rules_raw = [0u8; 64];
    let n = SessionStart::encode_rules(&[rules()], &mut rules_raw).unwrap();
    let mut d = EngineDriver {
        core: Core::try_new(&cfg, &[rules()]).unwrap(),
        sim: FillModel::new(&cfg.simulator, 1, MarketFill::LastClose),
        events: VecDeque::new(),
        writer: Writer::open(
            dir,
            WriterOptions {
                segment_bytes: 1 << 20,
                durability: Durability::None,
                prefault: false,
                precreate_next: false,
            },
        )
        .unwrap(),
        run: EngineRun {
            first_ts: DAY0_NS,
            ..EngineRun::default()
        },
    };
    d.put(
        TimestampNs(DAY0_NS),
        &JournalRecord::Session(SessionStart {
            mode: Mode::Backtest,
            ts: TimestampNs(DAY0_NS),
            version: env!("CARGO_PKG_VERSION"),
            symbols: "BTC-USDT",
            rules_raw: &rules_raw[..n],
            config_toml: &toml,
        }),
    );
    let mut market = SyntheticMarket::new(seed, DEFAULT_START_MS, 60_000.0);
    let mut last = TimestampNs(DAY0_NS);
    for minute in 0..days * 1440 {
        let c = market.next_candle();
        let started = Instant::now();
        let candle = Candle {
            symbol: SymbolId(0),
            open_time: TimestampNs(c.open_time_ms * 1_000_000),
            open: p(c.open),
            high: p(c.high),
            low: p(c.low),
            close: p(c.close),
            volume: q(c.volume),
            trade_count: 1,
        };
        // The candle is known when it closes.
        let ts = TimestampNs(candle.open_time.0 + NS_PER_MIN);
        last = ts;
        let parse_ns = started.elapsed().as_nanos();
        let mut answers = Vec::new();
        d.sim.on_candle(&candle, &mut |e| answers.push(e));
        for e in answers {
            d.dispatch(e, ts, started);
        }
        let (stages, to_order) = d.dispatch(Event::Candle(candle), ts, started);
        let ns32 = |v: u128| u32::try_from(v).unwrap_or(u32::MAX);
        d.put(
            ts,
            &JournalRecord::FrameTiming(FrameTiming {
                recv_ts: ts,
                trades: 0,
                parse_ns: ns32(parse_ns).max(1),
                candles_ns: ns32(u128::from(stages[Stage::CandlesIndicators.index()])),
                strategies_ns: ns32(u128::from(stages[Stage::StrategiesRisk.index()])),
                enqueue_ns: 0,
                tick_to_order_ns: ns32(u128::from(to_order)),
            }),
        );
        d.run.frames += 1;
        if minute % 60 == 59 {
            let equity = Money((d.core.equity() * 1e8) as i64);
            d.put(
                ts,
                &JournalRecord::Equity {
                    equity,
                    cash: d.core.cash(),
                    peak: equity,
                    ts,
                },
            );
        }
    }
    d.dispatch(
        Event::Control {
            command: Command::Shutdown,
            ts: last,
        },
        last,
        Instant::now(),
    );
    let mut answers = Vec::new();
    d.sim.flush(&mut |e| answers.push(e));
    for e in answers {
        d.dispatch(e, last, Instant::now());
    }
    d.put(
        last,
        &JournalRecord::Shutdown {
            clean: true,
            reason: "end_of_data",
            ts: last,
        },
    );
    let run = std::mem::take(&mut d.run);
    d.writer.close().unwrap();
    run
}

/// Counts what the journal in `dir` holds straight from the journal crate's reader and the
/// schema's decoder (not through `journal-dump`): the reference a journal written by another
/// driver (a demo run) is checked against. Strategy names come from the core built from the
/// latest session record's config, as the backtest names them.
pub fn expected_from_journal(dir: &Path) -> EngineRun {
    let mut run = EngineRun::default();
    let mut names: Vec<&'static str> = Vec::new();
    let mut reader = journal::Reader::open(dir).unwrap();
    while let Some(r) = reader.next() {
        let r = r.unwrap();
        if run.records == 0 {
            run.first_ts = r.ts_ns;
        }
        run.records += 1;
        run.last_ts = r.ts_ns;
        *run.by_tag.entry(r.type_tag).or_default() += 1;
        match JournalRecord::decode(r.type_tag, r.payload).unwrap() {
            JournalRecord::Session(s) => {
                let cfg = Config::from_toml_str_with_cores(s.config_toml, None).unwrap();
                let core = Core::try_new(&cfg, &s.rules().unwrap()).unwrap();
                names = (0..core.strategy_count())
                    .map(|k| core.strategy_name(StrategyId(u8::try_from(k).unwrap())))
                    .collect();
            }
            JournalRecord::Output(Action::Record(Record::TradeClosed(t))) => {
                run.trades.push((t, names[usize::from(t.strategy.0)]));
                run.trade_days.insert(t.exit_ts.0.div_euclid(NS_PER_DAY));
            }
            JournalRecord::FrameTiming(_) => run.frames += 1,
            JournalRecord::Daily(d) => {
                run.daily_days.insert(d.day);
            }
            _ => {}
        }
    }
    run
}
