//! Round trips of every record through bytes and through a real journal,
//! typed errors on damaged payloads, and the renderings.

use super::*;
use crate::core::{Command, Record, StopMove};
use crate::metrics::latency::Stage;
use crate::money::Money;
use crate::orders::{ExitReason, Fill, OrderIntent, OrderKind, OrderPurpose, PositionId};
use crate::positions::{ClosedTrade, PositionState};
use crate::risk::{HaltReason, RejectReason};
use crate::signals::DropReason;
use crate::strategy::{Signal, StrategyId};
use crate::types::{Candle, DecimalStep, InstrumentRules, Price, Qty, SymbolId, Trade};
use proptest::prelude::*;

fn p(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

fn q(v: f64) -> Qty {
    Qty::from_f64(v).unwrap()
}

fn signal() -> Signal {
    Signal {
        strategy: StrategyId(1),
        symbol: SymbolId(0),
        side: Side::Sell,
        confidence: 0.75,
        price: p(64_000.5),
        atr: 120.25,
        stop_distance: 240.5,
        target_distance: 600.0,
        ts: TimestampNs(1_700_000_060_000_000_000),
    }
}

fn closed() -> ClosedTrade {
    ClosedTrade {
        position: PositionId(3),
        symbol: SymbolId(0),
        strategy: StrategyId(0),
        side: Side::Buy,
        entry_ts: TimestampNs(1),
        exit_ts: TimestampNs(2),
        entry_price: p(100.0),
        avg_exit_price: p(103.5),
        qty: q(0.5),
        fees: Money(12_345),
        slippage: Money(-7),
        pnl: Money(175_000_000),
        initial_risk: Money(100_000_000),
        r_multiple: 1.75,
        hours_held: 0.5,
        exit_reason: ExitReason::Target,
        exits: 3,
    }
}

const CONFIG: &str = "[engine]\nsymbols = [\"BTC-USDT\"]\n";

pub(super) fn rules_raw() -> Vec<u8> {
    let rules = [InstrumentRules {
        tick: DecimalStep::try_new(5, 1).unwrap(),
        step: DecimalStep::from_precision(4),
        min_qty: q(0.0001),
        min_notional: p(5.0),
    }];
    let mut buf = vec![0u8; RULES_BYTES_FOR_TEST];
    let n = SessionStart::encode_rules(&rules, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

const RULES_BYTES_FOR_TEST: usize = 64;

/// One record of every tag.
pub(super) fn samples(rules: &[u8]) -> Vec<JournalRecord<'_>> {
    let ts = TimestampNs(1_700_000_000_123_456_789);
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
    vec![
        JournalRecord::Input(Event::Trade(Trade {
            symbol: SymbolId(1),
            trade_id: u64::MAX - 1,
            price: p(64_123.5),
            qty: q(0.003),
            exchange_ts: ts,
            aggressor: Side::Sell,
        })),
        JournalRecord::Input(Event::Candle(Candle {
            symbol: SymbolId(0),
            open_time: TimestampNs(1_700_000_040_000_000_000),
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
            command: Command::EmergencyStop,
            ts,
        }),
        JournalRecord::Input(Event::ExchangeClose(crate::core::ExchangeClose {
            symbol: SymbolId(0),
            side: Side::Sell,
            qty: Qty::from_f64(0.445).unwrap(),
            price: Price::from_f64(44_815.0).unwrap(),
            fee: Money::from_f64(9.97),
            ts,
        })),
        JournalRecord::Input(Event::AdoptPosition(crate::core::AdoptPosition {
            symbol: SymbolId(0),
            side: Side::Buy,
            qty: Qty::from_f64(0.2).unwrap(),
            price: Price::from_f64(44_000.0).unwrap(),
            ts,
        })),
        JournalRecord::Input(Event::Funding(crate::funding::FundingSettlement {
            symbol: SymbolId(0),
            rate: -0.000_125,
            mark: p(1_955.079_906_39),
            ts,
        })),
        JournalRecord::Input(Event::FundingFee(crate::funding::FundingFee {
            symbol: SymbolId(0),
            amount: Money(-12_345_678),
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
        rec(Record::Signal(signal())),
        rec(Record::SignalDropped {
            signal: signal(),
            reason: DropReason::OppositePosition,
        }),
        rec(Record::RiskRejected {
            signal: signal(),
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
        rec(Record::TradeClosed(closed())),
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
        rec(Record::Funding(crate::funding::FundingPayment {
            position: PositionId(3),
            symbol: SymbolId(0),
            side: Side::Sell,
            qty: q(0.25),
            mark: p(98.5),
            rate: 0.0001,
            amount: Money(246_250),
            ts,
        })),
        JournalRecord::Output(Action::Log(crate::core::LogEvent::ActionsDropped(9))),
        JournalRecord::Session(SessionStart {
            mode: Mode::Live,
            ts,
            version: "0.1.0",
            symbols: "BTC-USDT",
            rules_raw: rules,
            config_toml: CONFIG,
        }),
        JournalRecord::OrderSent {
            order,
            client_id: crate::io::order::ClientOrderId::from_sequence("te-", 42).unwrap(),
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
            detail: "risk.max_positions: must be at least 1",
            ts,
        },
        JournalRecord::Operator {
            command: Command::Halt,
            source: OperatorSource::Control,
            ts,
        },
        JournalRecord::Equity {
            equity: Money(1),
            cash: Money(2),
            peak: Money(3),
            ts,
        },
        JournalRecord::Daily(DailyMetrics {
            day: 19_700,
            trades: 4,
            wins: 3,
            pnl: Money(5),
            fees: Money(6),
            equity_end: Money(7),
            max_drawdown_pct: 1.25,
            ts,
        }),
        JournalRecord::Snapshot(Snapshot {
            ts,
            equity: Money(10),
            cash: Money(11),
            peak: Money(12),
            halted: true,
            working_orders: 2,
            trades: 9,
            positions,
        }),
        JournalRecord::FrameTiming(FrameTiming {
            recv_ts: ts,
            trades: 23,
            parse_ns: 4_900,
            candles_ns: 60,
            strategies_ns: 120,
            enqueue_ns: 40,
            tick_to_order_ns: 5_200,
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
        JournalRecord::Shutdown {
            clean: true,
            reason: "signal",
            ts,
        },
        JournalRecord::OrderRefused {
            order,
            symbol: SymbolId(0),
            reason: RefusalReason::StaleCandle,
            data_ts: TimestampNs(60_000_000_000),
            ts,
        },
        JournalRecord::ReloadConfig {
            config_toml: "[risk]\nmax_positions = 2\n",
            ts,
        },
        JournalRecord::JournalRepaired {
            segment: "journal-00000000000000000145.seg",
            offset: 744,
            reason: "checksum mismatch",
            first_seq: 0,
            next_seq: 150,
            damaged_copy: "journal-00000000000000000145.seg.damaged",
            segments_set_aside: 1,
            records_set_aside: 49,
            ts,
        },
        JournalRecord::StopSettled {
            order,
            symbol: SymbolId(0),
            how: StopSettleKind::Coalesced,
            ts,
        },
        JournalRecord::CandleReplaced {
            local: Candle {
                symbol: SymbolId(0),
                open_time: TimestampNs(1_700_000_040_000_000_000),
                open: p(1.0),
                high: p(2.0),
                low: p(0.5),
                close: p(1.5),
                volume: q(9.0),
                trade_count: 15,
            },
            rest: Candle {
                symbol: SymbolId(0),
                open_time: TimestampNs(1_700_000_040_000_000_000),
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
            state_seq: 1234,
            part: 1,
            parts: 3,
            state_bytes: 9000,
            crc32: 0xdead_beef,
            data: &[1, 2, 3, 0, 255],
            ts,
        },
        JournalRecord::JournalRetention {
            segments_removed: 2,
            bytes_removed: 8192,
            first_seq_kept: 1200,
            checkpoint_seq: 1234,
            segments_left: 3,
            bytes_left: 12288,
            ts,
        },
    ]
}

#[test]
fn every_tag_has_a_sample_and_round_trips_through_bytes() {
    let rules = rules_raw();
    let all = samples(&rules);
    let mut seen: Vec<u16> = all.iter().map(JournalRecord::tag).collect();
    seen.sort_unstable();
    let mut known: Vec<u16> = TYPE_NAMES.iter().map(|(t, _)| *t).collect();
    known.sort_unstable();
    assert_eq!(seen, known, "one sample per known tag");
    for r in &all {
        let mut buf = vec![0u8; r.encoded_len()];
        assert_eq!(r.encode(&mut buf), buf.len());
        let back = JournalRecord::decode(r.tag(), &buf).unwrap();
        assert_eq!(&back, r, "tag {}", r.tag());
    }
}

#[test]
fn the_size_pass_counts_exactly_the_bytes_the_encoder_writes() {
    let rules = rules_raw();
    for r in &samples(&rules) {
        let mut buf = vec![0xEEu8; r.encoded_len() + 64];
        let written = r.encode(&mut buf);
        assert_eq!(written, r.encoded_len(), "tag {}", r.tag());
        assert!(
            buf[written..].iter().all(|b| *b == 0xEE),
            "tag {} wrote past its length",
            r.tag()
        );
    }
}

#[test]
fn session_rules_and_symbols_decode_back() {
    let rules = rules_raw();
    let all = samples(&rules);
    let Some(JournalRecord::Session(s)) = all.iter().find(|r| r.tag() == tags::SESSION) else {
        panic!("no session sample");
    };
    let decoded = s.rules().unwrap();
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].tick, DecimalStep::try_new(5, 1).unwrap());
    assert_eq!(decoded[0].min_notional, p(5.0));
    assert_eq!(s.symbol_names().collect::<Vec<_>>(), ["BTC-USDT"]);
    let bad = SessionStart {
        rules_raw: &rules[..rules.len() - 1],
        ..*s
    };
    assert!(bad.rules().is_none(), "a ragged rules blob is refused");
}

#[test]
fn every_truncation_and_any_trailing_byte_is_a_typed_error() {
    let rules = rules_raw();
    for r in samples(&rules) {
        let mut buf = vec![0u8; r.encoded_len()];
        r.encode(&mut buf);
        for cut in 0..buf.len() {
            match JournalRecord::decode(r.tag(), &buf[..cut]) {
                Err(DecodeError::Truncated { tag, .. }) => assert_eq!(tag, r.tag()),
                other => panic!("tag {} cut at {cut}: {other:?}", r.tag()),
            }
        }
        buf.push(0);
        assert_eq!(
            JournalRecord::decode(r.tag(), &buf),
            Err(DecodeError::TrailingBytes {
                tag: r.tag(),
                extra: 1
            })
        );
    }
}

#[test]
fn unknown_tags_and_bad_codes_are_refused_with_the_field_named() {
    assert_eq!(
        JournalRecord::decode(999, &[]),
        Err(DecodeError::UnknownTag(999))
    );
    let r = JournalRecord::Input(Event::Control {
        command: Command::Halt,
        ts: TimestampNs(5),
    });
    let mut buf = vec![0u8; r.encoded_len()];
    r.encode(&mut buf);
    buf[0] = 200;
    let err = JournalRecord::decode(tags::CONTROL, &buf).unwrap_err();
    assert_eq!(
        err,
        DecodeError::BadCode {
            tag: tags::CONTROL,
            field: "command",
            code: 200
        }
    );
    assert!(err.to_string().contains("command"), "{err}");
}

#[test]
fn type_names_and_tags_map_one_to_one() {
    for (tag, name) in TYPE_NAMES {
        assert_eq!(type_name(tag), Some(name));
        assert_eq!(tag_of(name), Some(tag));
    }
    assert_eq!(all_type_names().count(), TYPE_NAMES.len());
    assert!(TYPE_NAMES
        .iter()
        .all(|(t, _)| is_input(*t) ^ is_output(*t) ^ (*t >= 64)));
    assert_eq!(type_name(500), None);
}

#[test]
fn records_written_to_a_journal_read_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_raw();
    let all = samples(&rules);
    let mut w = journal::Writer::open(dir.path(), journal::WriterOptions::default()).unwrap();
    for (i, r) in all.iter().enumerate() {
        let seq = write(&mut w, TimestampNs(i as i64), r).unwrap();
        assert_eq!(seq, i as u64);
    }
    w.close().unwrap();
    let mut reader = journal::Reader::open(dir.path()).unwrap();
    let mut n = 0;
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        let decoded = JournalRecord::decode(rec.type_tag, rec.payload).unwrap();
        assert_eq!(decoded, all[n]);
        assert_eq!(rec.ts_ns, n as i64);
        n += 1;
    }
    assert_eq!(n, all.len());
}

#[test]
fn encoding_allocates_nothing() {
    let rules = rules_raw();
    let all = samples(&rules);
    let mut buf = [0u8; 4096];
    let info = allocation_counter::measure(|| {
        for r in &all {
            let n = r.encoded_len();
            r.encode(&mut buf[..n]);
        }
    });
    assert_eq!(info.count_total, 0);
}

#[test]
fn text_and_json_lines_show_every_field() {
    let r = JournalRecord::Input(Event::Trade(Trade {
        symbol: SymbolId(0),
        trade_id: 7,
        price: p(64_123.5),
        qty: q(0.003),
        exchange_ts: TimestampNs(1_723_075_200_000_000_000),
        aggressor: Side::Buy,
    }));
    let mut text = String::new();
    render_text(&mut text, 5, tags::TRADE, 1_723_075_200_000_000_000, &r);
    assert_eq!(
        text,
        "       5 2024-08-08T00:00:00.000000000Z trade          symbol=0 trade_id=7 \
         price=64123.5 qty=0.003 exchange_ts=2024-08-08T00:00:00.000000000Z aggressor=BUY"
    );
    let mut json = String::new();
    render_json(&mut json, 5, tags::TRADE, 1_723_075_200_000_000_000, &r);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["type"], "trade");
    assert_eq!(v["seq"], 5);
    assert_eq!(v["price"], 64_123.5);
    assert_eq!(v["qty"], 0.003);
    assert_eq!(v["exchange_ts"], 1_723_075_200_000_000_000_i64);
    assert_eq!(v["aggressor"], "BUY");
}

#[test]
fn every_sample_renders_as_valid_json() {
    let rules = rules_raw();
    for r in samples(&rules) {
        let mut json = String::new();
        render_json(&mut json, 1, r.tag(), 0, &r);
        let v: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("tag {}: {e}: {json}", r.tag()));
        assert_eq!(v["type"], type_name(r.tag()).unwrap());
        let mut text = String::new();
        render_text(&mut text, 1, r.tag(), 0, &r);
        assert!(text.contains(type_name(r.tag()).unwrap()));
    }
    let snap = samples(&rules)
        .into_iter()
        .find(|r| r.tag() == tags::SNAPSHOT)
        .unwrap();
    let mut json = String::new();
    render_json(&mut json, 1, tags::SNAPSHOT, 0, &snap);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["positions"][0]["qty"], 0.25);
    assert_eq!(v["positions"][0]["unrealized"], -0.025);
}

#[test]
fn money_and_decimals_print_exactly() {
    let mut s = String::new();
    push_money(&mut s, Money(-123_456_789));
    assert_eq!(s, "-1.23456789");
    s.clear();
    push_money(&mut s, Money(500_000_000));
    assert_eq!(s, "5");
    s.clear();
    push_decimal(&mut s, 0.1);
    assert_eq!(s, "0.1");
    assert_eq!(format_ts(TimestampNs(-1)), "1969-12-31T23:59:59.999999999Z");
}

proptest! {
    #[test]
    fn prop_trades_and_fills_round_trip(
        sym in any::<u16>(), id in any::<u64>(), pb in any::<i64>(), qb in any::<i64>(),
        ts in any::<i64>(), buy in any::<bool>(), fee in any::<i64>(),
    ) {
        let side = if buy { Side::Buy } else { Side::Sell };
        let t = JournalRecord::Input(Event::Trade(Trade {
            symbol: SymbolId(sym), trade_id: id, price: Price::from_bits(pb),
            qty: Qty::from_bits(qb), exchange_ts: TimestampNs(ts), aggressor: side,
        }));
        let f = JournalRecord::Input(Event::Fill(Fill {
            order: OrderId(id), symbol: SymbolId(sym), qty: Qty::from_bits(qb),
            price: Price::from_bits(pb), fee: Money(fee), slippage: Money(-fee),
            ts: TimestampNs(ts),
        }));
        for r in [t, f] {
            let mut buf = vec![0u8; r.encoded_len()];
            r.encode(&mut buf);
            prop_assert_eq!(JournalRecord::decode(r.tag(), &buf).unwrap(), r);
        }
    }

    #[test]
    fn prop_arbitrary_payloads_never_panic(tag in 0u16..100, bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = JournalRecord::decode(tag, &bytes);
    }
}
