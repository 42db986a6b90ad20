//! Named fields of every record: the one definition the text, JSON and CSV
//! renderings (and `journal-dump`'s filters) share.

use super::JournalRecord;
use crate::core::{Action, Command, Event, LogEvent, Record};
use crate::money::Money;
use crate::orders::{OrderKind, OrderPurpose};
use crate::positions::ClosedTrade;
use crate::strategy::Signal;
use crate::types::{Price, Qty, TimestampNs};

/// A field's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Signed integer.
    I64(i64),
    /// Unsigned integer.
    U64(u64),
    /// Float.
    F64(f64),
    /// Flag.
    Bool(bool),
    /// Text.
    Str(&'a str),
    /// Price (fixed point).
    Price(Price),
    /// Quantity (fixed point).
    Qty(Qty),
    /// Money (1e-8 units).
    Money(Money),
    /// Timestamp (ns since the epoch).
    Ts(TimestampNs),
    /// The open positions of a snapshot.
    Positions(&'a [Option<super::PositionSnap>; super::SNAPSHOT_MAX_POSITIONS]),
}

/// A named field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field<'a> {
    /// Name (snake_case).
    pub name: &'static str,
    /// Value.
    pub value: Value<'a>,
}

fn f<'a>(name: &'static str, value: Value<'a>) -> Field<'a> {
    Field { name, value }
}

const fn command_name(c: Command) -> &'static str {
    match c {
        Command::Halt => "halt",
        Command::Resume => "resume",
        Command::Flatten => "flatten",
        Command::Reset => "reset",
        Command::EmergencyStop => "emergency_stop",
        Command::Shutdown => "shutdown",
    }
}

fn signal_fields(s: &Signal, out: &mut Vec<Field<'_>>) {
    use Value::{Price as P, Str, Ts, F64, U64};
    out.extend([
        f("strategy", U64(u64::from(s.strategy.0))),
        f("symbol", U64(u64::from(s.symbol.0))),
        f("side", Str(s.side.as_str())),
        f("confidence", F64(s.confidence)),
        f("price", P(s.price)),
        f("atr", F64(s.atr)),
        f("stop_distance", F64(s.stop_distance)),
        f("target_distance", F64(s.target_distance)),
        f("signal_ts", Ts(s.ts)),
    ]);
}

/// Appends the fields of a closed trade (the backtest's trades.csv columns
/// in their order, ids as numbers).
pub fn closed_trade_fields(t: &ClosedTrade, out: &mut Vec<Field<'_>>) {
    use Value::{Money as M, Price as P, Qty as Q, Str, Ts, F64, U64};
    out.extend([
        f("position", U64(t.position.0)),
        f("symbol", U64(u64::from(t.symbol.0))),
        f("strategy", U64(u64::from(t.strategy.0))),
        f("side", Str(t.side.as_str())),
        f("entry_ts", Ts(t.entry_ts)),
        f("exit_ts", Ts(t.exit_ts)),
        f("entry_price", P(t.entry_price)),
        f("exit_price", P(t.avg_exit_price)),
        f("qty", Q(t.qty)),
        f("fees", M(t.fees)),
        f("slippage", M(t.slippage)),
        f("pnl", M(t.pnl)),
        f("initial_risk", M(t.initial_risk)),
        f("r_multiple", F64(t.r_multiple)),
        f("hours_held", F64(t.hours_held)),
        f("exit_reason", Str(t.exit_reason.as_str())),
        f("exits", U64(u64::from(t.exits))),
    ]);
}

impl<'a> JournalRecord<'a> {
    /// Appends the record's named fields to `out`, in layout order.
    #[allow(clippy::too_many_lines)]
    pub fn fields<'s>(&'s self, out: &mut Vec<Field<'s>>) {
        use Value::{Bool, Money as M, Price as P, Qty as Q, Str, Ts, F64, I64, U64};
        match *self {
            Self::Input(ev) => match ev {
                Event::Trade(t) => out.extend([
                    f("symbol", U64(u64::from(t.symbol.0))),
                    f("trade_id", U64(t.trade_id)),
                    f("price", P(t.price)),
                    f("qty", Q(t.qty)),
                    f("exchange_ts", Ts(t.exchange_ts)),
                    f("aggressor", Str(t.aggressor.as_str())),
                ]),
                Event::Candle(c) => out.extend([
                    f("symbol", U64(u64::from(c.symbol.0))),
                    f("open_time", Ts(c.open_time)),
                    f("open", P(c.open)),
                    f("high", P(c.high)),
                    f("low", P(c.low)),
                    f("close", P(c.close)),
                    f("volume", Q(c.volume)),
                    f("trade_count", U64(u64::from(c.trade_count))),
                ]),
                Event::Clock(ts) => out.push(f("now", Ts(ts))),
                Event::Ack { order, ts }
                | Event::Rejected { order, ts }
                | Event::Cancelled { order, ts } => {
                    out.extend([f("order", U64(order.0)), f("exchange_ts", Ts(ts))]);
                }
                Event::Fill(x) => out.extend([
                    f("order", U64(x.order.0)),
                    f("symbol", U64(u64::from(x.symbol.0))),
                    f("qty", Q(x.qty)),
                    f("price", P(x.price)),
                    f("fee", M(x.fee)),
                    f("slippage", M(x.slippage)),
                    f("exchange_ts", Ts(x.ts)),
                ]),
                Event::Control { command, ts } => {
                    out.extend([f("command", Str(command_name(command))), f("at", Ts(ts))])
                }
                Event::ExchangeClose(c) => out.extend([
                    f("symbol", U64(u64::from(c.symbol.0))),
                    f("side", Str(c.side.as_str())),
                    f("qty", Q(c.qty)),
                    f("price", P(c.price)),
                    f("fee", M(c.fee)),
                    f("exchange_ts", Ts(c.ts)),
                ]),
                Event::AdoptPosition(a) => out.extend([
                    f("symbol", U64(u64::from(a.symbol.0))),
                    f("side", Str(a.side.as_str())),
                    f("qty", Q(a.qty)),
                    f("price", P(a.price)),
                    f("at", Ts(a.ts)),
                ]),
                Event::Funding(x) => out.extend([
                    f("symbol", U64(u64::from(x.symbol.0))),
                    f("rate", F64(x.rate)),
                    f("mark", P(x.mark)),
                    f("settled_at", Ts(x.ts)),
                ]),
                Event::FundingFee(x) => out.extend([
                    f("symbol", U64(u64::from(x.symbol.0))),
                    f("amount", M(x.amount)),
                    f("settled_at", Ts(x.ts)),
                ]),
            },
            Self::Output(a) => match a {
                Action::Place(o) => {
                    let (kind, trigger) = match o.kind {
                        OrderKind::Market => ("market", None),
                        OrderKind::StopMarket { trigger } => ("stop_market", Some(trigger)),
                        OrderKind::TakeProfitMarket { trigger } => {
                            ("take_profit_market", Some(trigger))
                        }
                    };
                    let purpose = match o.purpose {
                        OrderPurpose::Entry => "entry",
                        OrderPurpose::Stop => "stop",
                        OrderPurpose::Partial1 => "partial1",
                        OrderPurpose::Partial2 => "partial2",
                        OrderPurpose::Target => "target",
                        OrderPurpose::Close(r) => r.as_str(),
                    };
                    out.extend([
                        f("order", U64(o.id.0)),
                        f("position", U64(o.position.0)),
                        f("symbol", U64(u64::from(o.symbol.0))),
                        f("side", Str(o.side.as_str())),
                        f("qty", Q(o.qty)),
                        f("kind", Str(kind)),
                    ]);
                    if let Some(t) = trigger {
                        out.push(f("trigger", P(t)));
                    }
                    out.extend([
                        f("reduce_only", Bool(o.reduce_only)),
                        f("purpose", Str(purpose)),
                        f("decided_at", Ts(o.ts)),
                    ]);
                }
                Action::Cancel { order, symbol } => out.extend([
                    f("order", U64(order.0)),
                    f("symbol", U64(u64::from(symbol.0))),
                ]),
                Action::Log(l) => out.extend(match l {
                    LogEvent::UnknownOrder(o) => {
                        [f("event", Str("unknown_order")), f("order", U64(o.0))]
                    }
                    LogEvent::StopRejected(p) => {
                        [f("event", Str("stop_rejected")), f("position", U64(p.0))]
                    }
                    LogEvent::UnknownSymbol(s) => [
                        f("event", Str("unknown_symbol")),
                        f("symbol", U64(u64::from(s.0))),
                    ],
                    LogEvent::ActionsDropped(n) => {
                        [f("event", Str("actions_dropped")), f("count", U64(n))]
                    }
                    LogEvent::LateFill(o) => [f("event", Str("late_fill")), f("order", U64(o.0))],
                    LogEvent::CloseRefused(p) => {
                        [f("event", Str("close_refused")), f("position", U64(p.0))]
                    }
                }),
                Action::Record(r) => match r {
                    Record::Signal(s) => signal_fields(&s, out),
                    Record::SignalDropped { signal, reason } => {
                        signal_fields(&signal, out);
                        out.push(f("reason", Str(reason.as_str())));
                    }
                    Record::RiskRejected { signal, reason } => {
                        signal_fields(&signal, out);
                        out.push(f("reason", Str(reason.as_str())));
                    }
                    Record::Transition {
                        position,
                        symbol,
                        from,
                        to,
                        ts,
                    } => out.extend([
                        f("position", U64(position.0)),
                        f("symbol", U64(u64::from(symbol.0))),
                        f("from", Str(from.map_or("NEW", |s| s.as_str()))),
                        f("to", Str(to.as_str())),
                        f("at", Ts(ts)),
                    ]),
                    Record::EntrySent {
                        position,
                        strategy,
                        qty,
                        capped,
                        ts,
                    } => out.extend([
                        f("position", U64(position.0)),
                        f("strategy", U64(u64::from(strategy.0))),
                        f("qty", Q(qty)),
                        f("capped", Bool(capped)),
                        f("at", Ts(ts)),
                    ]),
                    Record::Exit {
                        position,
                        reason,
                        qty,
                        price,
                        pnl,
                        ts,
                    } => out.extend([
                        f("position", U64(position.0)),
                        f("reason", Str(reason.as_str())),
                        f("qty", Q(qty)),
                        f("price", P(price)),
                        f("pnl", M(pnl)),
                        f("at", Ts(ts)),
                    ]),
                    Record::StopMoved {
                        position,
                        from,
                        to,
                        why,
                        ts,
                    } => out.extend([
                        f("position", U64(position.0)),
                        f("from", P(from)),
                        f("to", P(to)),
                        f(
                            "why",
                            Str(match why {
                                crate::core::StopMove::BreakEven => "break_even",
                                crate::core::StopMove::Trailing => "trailing",
                            }),
                        ),
                        f("at", Ts(ts)),
                    ]),
                    Record::TradeClosed(t) => closed_trade_fields(&t, out),
                    Record::Halted { reason, ts } => {
                        out.extend([f("reason", Str(reason.as_str())), f("at", Ts(ts))]);
                    }
                    Record::Resumed { ts } => out.push(f("at", Ts(ts))),
                    Record::Gap { symbol, from, to } => out.extend([
                        f("symbol", U64(u64::from(symbol.0))),
                        f("from", Ts(from)),
                        f("to", Ts(to)),
                    ]),
                    Record::Funding(p) => out.extend([
                        f("position", U64(p.position.0)),
                        f("symbol", U64(u64::from(p.symbol.0))),
                        f("side", Str(p.side.as_str())),
                        f("qty", Q(p.qty)),
                        f("mark", P(p.mark)),
                        f("rate", F64(p.rate)),
                        f("amount", M(p.amount)),
                        f("settled_at", Ts(p.ts)),
                    ]),
                },
            },
            Self::Session(s) => out.extend([
                f("mode", Str(s.mode.as_str())),
                f("started", Ts(s.ts)),
                f("version", Str(s.version)),
                f("symbols", Str(s.symbols)),
                f("config_bytes", U64(s.config_toml.len() as u64)),
            ]),
            Self::OrderSent {
                order,
                ref client_id,
                symbol,
                side,
                ts,
            } => {
                out.extend([
                    f("order", U64(order.0)),
                    f("client_id", Str(client_id.as_str())),
                    f("symbol", U64(u64::from(symbol.0))),
                    f("side", Str(side.as_str())),
                    f("at", Ts(ts)),
                ]);
            }
            Self::OrderAcked {
                order,
                exchange_id,
                ts,
            } => out.extend([
                f("order", U64(order.0)),
                f("exchange_id", U64(exchange_id)),
                f("at", Ts(ts)),
            ]),
            Self::ExchangeError(x) => out.extend([
                f("order", U64(x.order.0)),
                f("kind", Str(x.kind.as_str())),
                f("code", I64(x.code)),
                f("http_status", U64(u64::from(x.http_status))),
                f("at", Ts(x.ts)),
            ]),
            Self::Balance {
                balance,
                available,
                ts,
            } => out.extend([
                f("balance", M(balance)),
                f("available", M(available)),
                f("at", Ts(ts)),
            ]),
            Self::Stream(s) => out.extend([
                f("stream", Str(s.stream.as_str())),
                f("state", Str(s.state.as_str())),
                f("from", Ts(s.from)),
                f("to", Ts(s.to)),
                f("at", Ts(s.ts)),
            ]),
            Self::Backfill {
                symbol,
                from,
                to,
                candles,
                ts,
            } => out.extend([
                f("symbol", U64(u64::from(symbol.0))),
                f("from", Ts(from)),
                f("to", Ts(to)),
                f("candles", U64(u64::from(candles))),
                f("at", Ts(ts)),
            ]),
            Self::Reload {
                outcome,
                detail,
                ts,
            } => out.extend([
                f("outcome", Str(outcome.as_str())),
                f("detail", Str(detail)),
                f("at", Ts(ts)),
            ]),
            Self::Operator {
                command,
                source,
                ts,
            } => out.extend([
                f("command", Str(command_name(command))),
                f("source", Str(source.as_str())),
                f("at", Ts(ts)),
            ]),
            Self::Equity {
                equity,
                cash,
                peak,
                ts,
            } => out.extend([
                f("equity", M(equity)),
                f("cash", M(cash)),
                f("peak", M(peak)),
                f("at", Ts(ts)),
            ]),
            Self::Daily(m) => out.extend([
                f("day", I64(m.day)),
                f("trades", U64(u64::from(m.trades))),
                f("wins", U64(u64::from(m.wins))),
                f("pnl", M(m.pnl)),
                f("fees", M(m.fees)),
                f("equity_end", M(m.equity_end)),
                f("max_drawdown_pct", F64(m.max_drawdown_pct)),
                f("at", Ts(m.ts)),
            ]),
            Self::Snapshot(ref s) => {
                out.extend([
                    f("at", Ts(s.ts)),
                    f("equity", M(s.equity)),
                    f("cash", M(s.cash)),
                    f("peak", M(s.peak)),
                    f("halted", Bool(s.halted)),
                    f("working_orders", U64(u64::from(s.working_orders))),
                    f("trades", U64(u64::from(s.trades))),
                    f("positions", Value::Positions(&s.positions)),
                ]);
            }
            Self::FrameTiming(t) => out.extend([
                f("recv_ts", Ts(t.recv_ts)),
                f("trades", U64(u64::from(t.trades))),
                f("parse_ns", U64(u64::from(t.parse_ns))),
                f("candles_ns", U64(u64::from(t.candles_ns))),
                f("strategies_ns", U64(u64::from(t.strategies_ns))),
                f("enqueue_ns", U64(u64::from(t.enqueue_ns))),
                f("tick_to_order_ns", U64(u64::from(t.tick_to_order_ns))),
            ]),
            Self::Latency(l) => out.extend([
                f("stage", Str(l.stage.name())),
                f("count", U64(l.count)),
                f("p50_ns", U64(l.p50)),
                f("p90_ns", U64(l.p90)),
                f("p99_ns", U64(l.p99)),
                f("p999_ns", U64(l.p999)),
                f("max_ns", U64(l.max)),
                f("at", Ts(l.ts)),
            ]),
            Self::Correction(c) => out.extend([
                f("kind", Str(c.kind.as_str())),
                f("symbol", U64(u64::from(c.symbol.0))),
                f("order", U64(c.order.0)),
                f("exchange_id", U64(c.exchange_id)),
                f("qty", Q(c.qty)),
                f("price", P(c.price)),
                f("at", Ts(c.ts)),
            ]),
            Self::Shutdown { clean, reason, ts } => out.extend([
                f("clean", Bool(clean)),
                f("reason", Str(reason)),
                f("at", Ts(ts)),
            ]),
            Self::OrderRefused {
                order,
                symbol,
                reason,
                data_ts,
                ts,
            } => out.extend([
                f("order", U64(order.0)),
                f("symbol", U64(u64::from(symbol.0))),
                f("reason", Str(reason.as_str())),
                f("data_ts", Ts(data_ts)),
                f("at", Ts(ts)),
            ]),
            Self::ReloadConfig { config_toml, ts } => out.extend([
                f("config_bytes", U64(config_toml.len() as u64)),
                f("at", Ts(ts)),
            ]),
            Self::JournalRepaired {
                segment,
                offset,
                reason,
                first_seq,
                next_seq,
                damaged_copy,
                segments_set_aside,
                records_set_aside,
                ts,
            } => out.extend([
                f("segment", Str(segment)),
                f("offset", U64(offset)),
                f("reason", Str(reason)),
                f("first_seq", U64(first_seq)),
                f("next_seq", U64(next_seq)),
                f("damaged_copy", Str(damaged_copy)),
                f("segments_set_aside", U64(u64::from(segments_set_aside))),
                f("records_set_aside", U64(records_set_aside)),
                f("at", Ts(ts)),
            ]),
            Self::StopSettled {
                order,
                symbol,
                how,
                ts,
            } => out.extend([
                f("order", U64(order.0)),
                f("symbol", U64(u64::from(symbol.0))),
                f("how", Str(how.as_str())),
                f("at", Ts(ts)),
            ]),
            Self::CandleReplaced {
                local,
                rest,
                cause,
                ts,
            } => out.extend([
                f("symbol", U64(u64::from(local.symbol.0))),
                f("open_time", Ts(local.open_time)),
                f("cause", Str(cause.as_str())),
                f("local_open", P(local.open)),
                f("local_high", P(local.high)),
                f("local_low", P(local.low)),
                f("local_close", P(local.close)),
                f("local_volume", Q(local.volume)),
                f("local_trades", U64(u64::from(local.trade_count))),
                f("rest_open", P(rest.open)),
                f("rest_high", P(rest.high)),
                f("rest_low", P(rest.low)),
                f("rest_close", P(rest.close)),
                f("rest_volume", Q(rest.volume)),
                f("at", Ts(ts)),
            ]),
            Self::Checkpoint {
                state_seq,
                part,
                parts,
                state_bytes,
                crc32,
                data,
                ts,
            } => out.extend([
                f("state_seq", U64(state_seq)),
                f("part", U64(u64::from(part))),
                f("parts", U64(u64::from(parts))),
                f("state_bytes", U64(state_bytes)),
                f("crc32", U64(u64::from(crc32))),
                f("part_bytes", U64(data.len() as u64)),
                f("at", Ts(ts)),
            ]),
            Self::JournalRetention {
                segments_removed,
                bytes_removed,
                first_seq_kept,
                checkpoint_seq,
                segments_left,
                bytes_left,
                ts,
            } => out.extend([
                f("segments_removed", U64(u64::from(segments_removed))),
                f("bytes_removed", U64(bytes_removed)),
                f("first_seq_kept", U64(first_seq_kept)),
                f("checkpoint_seq", U64(checkpoint_seq)),
                f("segments_left", U64(u64::from(segments_left))),
                f("bytes_left", U64(bytes_left)),
                f("at", Ts(ts)),
            ]),
        }
    }
}
