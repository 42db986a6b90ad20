//! The journal with every record type at known times (plus undecodable records) that the
//! `journal-dump` tests check their output against.

use std::path::Path;

use journal::{Durability, Writer, WriterOptions};
use trading_engine::config::Config;
use trading_engine::core::{
    Action, AdoptPosition, Command, Core, Event, ExchangeClose, LogEvent, Record, StopMove,
};
use trading_engine::datafile::synthetic::DEFAULT_START_MS;
use trading_engine::io::order::ClientOrderId;
use trading_engine::journal_schema::{
    self as schema, tags, Correction, CorrectionKind, DailyMetrics, ExchangeError,
    ExchangeErrorKind, FrameTiming, JournalRecord, LatencyLine, Mode, OperatorSource, PositionSnap,
    RefusalReason, ReloadOutcome, ReplaceCause, SessionStart, Snapshot, StopSettleKind, StreamKind,
    StreamState, StreamStatus, SNAPSHOT_MAX_POSITIONS,
};
use trading_engine::metrics::latency::Stage;
use trading_engine::money::Money;
use trading_engine::orders::{
    ExitReason, Fill, OrderId, OrderIntent, OrderKind, OrderPurpose, PositionId,
};
use trading_engine::positions::{ClosedTrade, PositionState};
use trading_engine::risk::{HaltReason, RejectReason};
use trading_engine::signals::DropReason;
use trading_engine::strategy::{Signal, StrategyId};
use trading_engine::types::{
    Candle, DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId, TimestampNs, Trade,
};

pub const NS_PER_MIN: i64 = 60_000_000_000;
pub const NS_PER_DAY: i64 = 1440 * NS_PER_MIN;
/// Day 0 of the every-type journal: 2025-01-01T00:00:00Z.
pub const DAY0_NS: i64 = DEFAULT_START_MS * 1_000_000;

/// Small segments so that every journal here spans several files.
pub fn writer(dir: &Path) -> Writer {
    Writer::open(
        dir,
        WriterOptions {
            segment_bytes: 16 << 10,
            durability: Durability::None,
            prefault: false,
            precreate_next: false,
        },
    )
    .unwrap()
}

pub fn rules() -> InstrumentRules {
    let step = DecimalStep::from_precision(3);
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(5.0).unwrap(),
    }
}

pub fn config() -> Config {
    let mut cfg = Config::default();
    cfg.market.symbols = vec!["BTC-USDT".to_owned()];
    cfg
}

/// A record as written: what the tests expect back.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub seq: u64,
    pub tag: u16,
    pub ts_ns: i64,
    /// False for the deliberately undecodable records.
    pub decodable: bool,
}

/// What the every-type journal holds.
#[derive(Debug, Default)]
pub struct EveryType {
    pub records: Vec<Written>,
    pub trades: Vec<ClosedTrade>,
    /// Strategy names of the session's core, by id.
    pub strategy_names: Vec<&'static str>,
    /// Distinct UTC days (days since the epoch) of daily_metrics rows expected.
    pub days: Vec<i64>,
    pub equity_start: f64,
    pub equity_end: f64,
    /// `frame_timing` records written; parse_ns is 1..=FRAMES.
    pub frames: u64,
}

pub const FRAMES: u64 = 1000;

pub fn p(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

pub fn q(v: f64) -> Qty {
    Qty::from_f64(v).unwrap()
}

fn signal(ts: TimestampNs) -> Signal {
    Signal {
        strategy: StrategyId(1),
        symbol: SymbolId(0),
        side: Side::Sell,
        confidence: 0.75,
        price: p(64_000.5),
        atr: 120.25,
        stop_distance: 240.5,
        target_distance: 600.0,
        ts,
    }
}

pub fn closed(id: u64, strategy: u8, exit_ts: i64, pnl: i64) -> ClosedTrade {
    ClosedTrade {
        position: PositionId(id),
        symbol: SymbolId(0),
        strategy: StrategyId(strategy),
        side: if id % 2 == 0 { Side::Buy } else { Side::Sell },
        entry_ts: TimestampNs(exit_ts - 30 * NS_PER_MIN),
        exit_ts: TimestampNs(exit_ts),
        entry_price: p(100.0 + id as f64),
        avg_exit_price: p(103.5 + id as f64),
        qty: q(0.5),
        fees: Money(12_345),
        slippage: Money(-7),
        pnl: Money(pnl),
        initial_risk: Money(100_000_000),
        r_multiple: pnl as f64 / 100_000_000.0,
        hours_held: 0.5,
        exit_reason: ExitReason::Target,
        exits: 1 + (id % 3) as u32,
    }
}

/// Appends `rec` at `ts` and notes it in `w`.
fn put(writer: &mut Writer, out: &mut EveryType, ts: i64, rec: &JournalRecord<'_>) {
    let seq = schema::write(writer, TimestampNs(ts), rec).unwrap();
    out.records.push(Written {
        seq,
        tag: rec.tag(),
        ts_ns: ts,
        decodable: true,
    });
}

/// Writes a journal with at least one record of every type, times spread over two days
/// (day 0 and day 1), undecodable records in the middle, several segments.
#[allow(clippy::too_many_lines)]
pub fn every_type_journal(dir: &Path) -> EveryType {
    let mut w = writer(dir);
    let mut out = EveryType::default();
    let cfg = config();
    let toml = cfg.to_toml_string().unwrap();
    let mut rules_raw = [0u8; 64];
    let n = SessionStart::encode_rules(&[rules()], &mut rules_raw).unwrap();
    let core = Core::try_new(&cfg, &[rules()]).unwrap();
    out.strategy_names = (0..core.strategy_count())
        .map(|k| core.strategy_name(StrategyId(k as u8)))
        .collect();
    let mut t = DAY0_NS;
    let tick = |t: &mut i64| {
        *t += NS_PER_MIN;
        *t
    };
    put(
        &mut w,
        &mut out,
        t,
        &JournalRecord::Session(SessionStart {
            mode: Mode::Paper,
            ts: TimestampNs(t),
            version: "0.1.0",
            symbols: "BTC-USDT",
            rules_raw: &rules_raw[..n],
            config_toml: &toml,
        }),
    );
    let ts = TimestampNs(DAY0_NS);
    let order = OrderId(42);
    let mut positions = [None; SNAPSHOT_MAX_POSITIONS];
    positions[0] = Some(PositionSnap {
        position: PositionId(3),
        symbol: SymbolId(0),
        side: Side::Buy,
        state: PositionState::Open,
        qty: q(0.25),
        entry: p(100.5),
        stop: p(99.0),
        unrealized: Money(-2_500_000),
    });
    let rec = |r| JournalRecord::Output(Action::Record(r));
    let body: Vec<JournalRecord<'_>> = vec![
        JournalRecord::Equity {
            equity: Money(1_000_000_000_000),
            cash: Money(1_000_000_000_000),
            peak: Money(1_000_000_000_000),
            ts,
        },
        JournalRecord::Input(Event::Trade(Trade {
            symbol: SymbolId(0),
            trade_id: 7,
            price: p(64_123.5),
            qty: q(0.003),
            exchange_ts: ts,
            aggressor: Side::Sell,
        })),
        JournalRecord::Input(Event::Candle(Candle {
            symbol: SymbolId(0),
            open_time: ts,
            open: p(1.0),
            high: p(2.0),
            low: p(0.5),
            close: p(1.5),
            volume: q(10.25),
            trade_count: 17,
        })),
        JournalRecord::Input(Event::Clock(ts)),
        JournalRecord::Input(Event::Ack { order, ts }),
        JournalRecord::Input(Event::Fill(Fill {
            order,
            symbol: SymbolId(0),
            qty: q(0.1),
            price: p(99.5),
            fee: Money(4_000),
            slippage: Money(100),
            ts,
        })),
        JournalRecord::Input(Event::Rejected { order, ts }),
        JournalRecord::Input(Event::Cancelled { order, ts }),
        JournalRecord::Input(Event::Control {
            command: Command::Halt,
            ts,
        }),
        JournalRecord::Input(Event::ExchangeClose(ExchangeClose {
            symbol: SymbolId(0),
            side: Side::Buy,
            qty: q(0.1),
            price: p(99.0),
            fee: Money(3_000),
            ts,
        })),
        JournalRecord::Input(Event::AdoptPosition(AdoptPosition {
            symbol: SymbolId(0),
            side: Side::Sell,
            qty: q(0.2),
            price: p(101.0),
            ts,
        })),
        JournalRecord::Input(Event::Funding(trading_engine::funding::FundingSettlement {
            symbol: SymbolId(0),
            rate: 0.0001,
            mark: p(99.5),
            ts,
        })),
        JournalRecord::Input(Event::FundingFee(trading_engine::funding::FundingFee {
            symbol: SymbolId(0),
            amount: Money(-4_000),
            ts,
        })),
        JournalRecord::Output(Action::Place(OrderIntent {
            id: order,
            position: PositionId(3),
            symbol: SymbolId(0),
            side: Side::Sell,
            qty: q(0.25),
            kind: OrderKind::StopMarket { trigger: p(98.5) },
            reduce_only: true,
            purpose: OrderPurpose::Close(ExitReason::Emergency),
            ts,
        })),
        JournalRecord::Output(Action::Cancel {
            order,
            symbol: SymbolId(0),
        }),
        rec(Record::Signal(signal(ts))),
        rec(Record::SignalDropped {
            signal: signal(ts),
            reason: DropReason::OppositePosition,
        }),
        rec(Record::RiskRejected {
            signal: signal(ts),
            reason: RejectReason::PortfolioRisk,
        }),
        rec(Record::Transition {
            position: PositionId(3),
            symbol: SymbolId(0),
            from: None,
            to: PositionState::Pending,
            ts,
        }),
        rec(Record::EntrySent {
            position: PositionId(3),
            strategy: StrategyId(1),
            qty: q(0.25),
            capped: true,
            ts,
        }),
        rec(Record::Exit {
            position: PositionId(3),
            reason: ExitReason::TrailingStop,
            qty: q(0.1),
            price: p(101.0),
            pnl: Money(-1),
            ts,
        }),
        rec(Record::StopMoved {
            position: PositionId(3),
            from: p(99.0),
            to: p(100.0),
            why: StopMove::Trailing,
            ts,
        }),
        rec(Record::Halted {
            reason: HaltReason::KillSwitch,
            ts,
        }),
        rec(Record::Resumed { ts }),
        rec(Record::Gap {
            symbol: SymbolId(0),
            from: TimestampNs(60),
            to: TimestampNs(180),
        }),
        rec(Record::Funding(trading_engine::funding::FundingPayment {
            // A position of no closed trade here: trades.csv stays as before.
            position: PositionId(999),
            symbol: SymbolId(0),
            side: trading_engine::types::Side::Buy,
            qty: q(0.25),
            mark: p(99.5),
            rate: 0.0001,
            amount: Money(-248_750),
            ts,
        })),
        JournalRecord::Output(Action::Log(LogEvent::ActionsDropped(9))),
        JournalRecord::OrderSent {
            order,
            client_id: ClientOrderId::from_sequence("te-", 42).unwrap(),
            symbol: SymbolId(0),
            side: Side::Buy,
            ts,
        },
        JournalRecord::OrderAcked {
            order,
            exchange_id: 1_234_567_890_123_456_789,
            ts,
        },
        JournalRecord::ExchangeError(ExchangeError {
            order,
            kind: ExchangeErrorKind::RateLimited,
            code: 100_410,
            http_status: 429,
            ts,
        }),
        JournalRecord::Balance {
            balance: Money(1_000_000_000_000),
            available: Money(900_000_000_000),
            ts,
        },
        JournalRecord::Stream(StreamStatus {
            stream: StreamKind::Market,
            state: StreamState::Connected,
            from: TimestampNs(0),
            to: TimestampNs(0),
            ts,
        }),
        JournalRecord::Stream(StreamStatus {
            stream: StreamKind::User,
            state: StreamState::Connected,
            from: TimestampNs(0),
            to: TimestampNs(0),
            ts,
        }),
        JournalRecord::Stream(StreamStatus {
            stream: StreamKind::Market,
            state: StreamState::Disconnected,
            from: TimestampNs(0),
            to: TimestampNs(0),
            ts,
        }),
        JournalRecord::Stream(StreamStatus {
            stream: StreamKind::Market,
            state: StreamState::Connected,
            from: TimestampNs(0),
            to: TimestampNs(0),
            ts,
        }),
        JournalRecord::Stream(StreamStatus {
            stream: StreamKind::Market,
            state: StreamState::Outage,
            from: TimestampNs(1),
            to: TimestampNs(2),
            ts,
        }),
        JournalRecord::Backfill {
            symbol: SymbolId(0),
            from: TimestampNs(60),
            to: TimestampNs(240),
            candles: 3,
            ts,
        },
        JournalRecord::Reload {
            outcome: ReloadOutcome::Refused,
            detail: "risk.max_positions: must be at least 1, \"quoted\"",
            ts,
        },
        JournalRecord::ReloadConfig {
            config_toml: "[risk]\nmax_positions = 1\n",
            ts,
        },
        JournalRecord::StopSettled {
            order: OrderId(7),
            symbol: SymbolId(0),
            how: StopSettleKind::CancelConfirmed,
            ts,
        },
        JournalRecord::JournalRepaired {
            segment: "journal-00000000000000000040.seg",
            offset: 4160,
            reason: "checksum mismatch",
            first_seq: 0,
            next_seq: 41,
            damaged_copy: "journal-00000000000000000040.seg.damaged",
            segments_set_aside: 1,
            records_set_aside: 12,
            ts,
        },
        JournalRecord::Operator {
            command: Command::Halt,
            source: OperatorSource::Control,
            ts,
        },
        JournalRecord::Snapshot(Snapshot {
            ts,
            equity: Money(1_000_500_000_000),
            cash: Money(11),
            peak: Money(12),
            halted: true,
            working_orders: 2,
            trades: 9,
            positions,
        }),
        JournalRecord::Latency(LatencyLine {
            stage: Stage::TickToOrder,
            count: 100,
            p50: 1,
            p90: 2,
            p99: 3,
            p999: 4,
            max: 5,
            ts,
        }),
        JournalRecord::Correction(Correction {
            kind: CorrectionKind::StopPlaced,
            symbol: SymbolId(0),
            order,
            exchange_id: 7,
            qty: q(0.25),
            price: p(99.0),
            ts,
        }),
        JournalRecord::OrderRefused {
            order,
            symbol: SymbolId(0),
            reason: RefusalReason::StaleCandle,
            data_ts: TimestampNs(ts.0 - NS_PER_MIN),
            ts,
        },
        JournalRecord::CandleReplaced {
            local: Candle {
                symbol: SymbolId(0),
                open_time: TimestampNs(ts.0 - NS_PER_MIN),
                open: p(1.0),
                high: p(2.0),
                low: p(0.5),
                close: p(1.5),
                volume: q(9.0),
                trade_count: 15,
            },
            rest: Candle {
                symbol: SymbolId(0),
                open_time: TimestampNs(ts.0 - NS_PER_MIN),
                open: p(1.0),
                high: p(2.5),
                low: p(0.5),
                close: p(1.25),
                volume: q(10.25),
                trade_count: 0,
            },
            cause: ReplaceCause::Malformed,
            ts,
        },
        JournalRecord::Checkpoint {
            state_seq: 7,
            part: 0,
            parts: 1,
            state_bytes: 3,
            crc32: 1,
            data: &[1, 2, 3],
            ts,
        },
        JournalRecord::JournalRetention {
            segments_removed: 1,
            bytes_removed: 4096,
            first_seq_kept: 7,
            checkpoint_seq: 7,
            segments_left: 2,
            bytes_left: 8192,
            ts,
        },
    ];
    for r in &body {
        let at = tick(&mut t);
        put(&mut w, &mut out, at, r);
    }
    // Two undecodable records in the middle: an unknown tag and a truncated trade.
    for (tag, payload) in [(999u16, &b"??"[..]), (tags::TRADE, &b"\x01\x00"[..])] {
        let at = tick(&mut t);
        let seq = w.append(tag, at, payload).unwrap();
        out.records.push(Written {
            seq,
            tag,
            ts_ns: at,
            decodable: false,
        });
    }
    for i in 1..=FRAMES {
        let at = tick(&mut t);
        let i32v = u32::try_from(i).unwrap();
        let frame = FrameTiming {
            recv_ts: TimestampNs(at),
            trades: 1,
            parse_ns: i32v,
            candles_ns: 2 * i32v,
            strategies_ns: if i % 2 == 0 { 3 * i32v } else { 0 },
            enqueue_ns: 0,
            tick_to_order_ns: if i % 10 == 0 { 10 * i32v } else { 0 },
        };
        put(&mut w, &mut out, at, &JournalRecord::FrameTiming(frame));
    }
    // Trades: three on day 0 (a journaled daily record for that day), two on day 1 (none).
    let day0 = DAY0_NS / NS_PER_DAY;
    let exits = [
        (DAY0_NS + 20 * 60 * NS_PER_MIN, 250_000_000),
        (DAY0_NS + 21 * 60 * NS_PER_MIN, -50_000_000),
        (DAY0_NS + 22 * 60 * NS_PER_MIN, 100_000_000),
        (DAY0_NS + NS_PER_DAY + 60 * NS_PER_MIN, 70_000_000),
        (DAY0_NS + NS_PER_DAY + 120 * NS_PER_MIN, -20_000_000),
    ];
    for (k, (exit, pnl)) in exits.into_iter().enumerate() {
        let trade = closed(k as u64 + 1, (k % 2) as u8, exit, pnl);
        put(&mut w, &mut out, exit, &rec(Record::TradeClosed(trade)));
        out.trades.push(trade);
        if k == 2 {
            let daily = DailyMetrics {
                day: day0,
                trades: 3,
                wins: 2,
                pnl: Money(300_000_000),
                fees: Money(37_035),
                equity_end: Money(1_000_300_000_000),
                max_drawdown_pct: 0.5,
                ts: TimestampNs(DAY0_NS + NS_PER_DAY - 1),
            };
            put(
                &mut w,
                &mut out,
                DAY0_NS + NS_PER_DAY - 1,
                &JournalRecord::Daily(daily),
            );
        }
    }
    let end = DAY0_NS + NS_PER_DAY + 180 * NS_PER_MIN;
    put(
        &mut w,
        &mut out,
        end,
        &JournalRecord::Equity {
            equity: Money(1_000_350_000_000),
            cash: Money(1_000_350_000_000),
            peak: Money(1_000_350_000_000),
            ts: TimestampNs(end),
        },
    );
    put(
        &mut w,
        &mut out,
        end + 1,
        &JournalRecord::Shutdown {
            clean: true,
            reason: "signal",
            ts: TimestampNs(end + 1),
        },
    );
    w.close().unwrap();
    out.days = vec![day0, day0 + 1];
    out.equity_start = 10_000.0;
    out.equity_end = 10_003.5;
    out.frames = FRAMES;
    out
}
