//! Text and JSON renderings of records, from their named fields: the format
//! `journal-dump` prints. Offline only (allocates).

use core::fmt::Write as _;

use super::fields::{Field, Value};
use super::{type_name, JournalRecord, PositionSnap};
use crate::backtest::dates::civil_from_days;
use crate::money::Money;
use crate::types::TimestampNs;

/// Formats `ts` as ISO 8601 UTC with nanoseconds, e.g.
/// `2024-08-08T12:34:56.123456789Z`.
#[must_use]
pub fn format_ts(ts: TimestampNs) -> String {
    let mut s = String::with_capacity(30);
    push_ts(&mut s, ts);
    s
}

fn push_ts(out: &mut String, ts: TimestampNs) {
    const NS_PER_DAY: i64 = 86_400_000_000_000;
    let days = ts.0.div_euclid(NS_PER_DAY);
    let in_day = ts.0.rem_euclid(NS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = in_day / 1_000_000_000;
    let nanos = in_day % 1_000_000_000;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// Formats a fixed-point value with at most eight decimals, trailing zeros
/// trimmed (`64123.5`, `0.001`).
pub fn push_decimal(out: &mut String, v: f64) {
    let start = out.len();
    let _ = write!(out, "{v:.8}");
    if out[start..].contains('.') {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
    }
}

/// Formats money exactly (1e-8 units), trailing zeros trimmed.
pub fn push_money(out: &mut String, m: Money) {
    let sign = if m.0 < 0 { "-" } else { "" };
    let abs = m.0.unsigned_abs();
    let _ = write!(out, "{sign}{}.{:08}", abs / 100_000_000, abs % 100_000_000);
    while out.ends_with('0') {
        out.pop();
    }
    if out.ends_with('.') {
        out.pop();
    }
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_position_text(out: &mut String, p: &PositionSnap) {
    let _ = write!(
        out,
        "#{} sym={} {} {} qty=",
        p.position.0,
        p.symbol.0,
        p.side.as_str(),
        p.state.as_str()
    );
    push_decimal(out, p.qty.to_f64());
    out.push_str(" entry=");
    push_decimal(out, p.entry.to_f64());
    out.push_str(" stop=");
    push_decimal(out, p.stop.to_f64());
    out.push_str(" upnl=");
    push_money(out, p.unrealized);
}

/// Appends `v` as text (timestamps ISO 8601, numbers plain).
pub fn push_value_text(out: &mut String, v: &Value<'_>) {
    match *v {
        Value::I64(x) => {
            let _ = write!(out, "{x}");
        }
        Value::U64(x) => {
            let _ = write!(out, "{x}");
        }
        Value::F64(x) => {
            let _ = write!(out, "{x}");
        }
        Value::Bool(x) => out.push_str(if x { "true" } else { "false" }),
        Value::Str(s) => out.push_str(s),
        Value::Price(p) => push_decimal(out, p.to_f64()),
        Value::Qty(q) => push_decimal(out, q.to_f64()),
        Value::Money(m) => push_money(out, m),
        Value::Ts(ts) => push_ts(out, ts),
        Value::Positions(ps) => {
            out.push('[');
            for (i, p) in ps.iter().flatten().enumerate() {
                if i > 0 {
                    out.push_str("; ");
                }
                push_position_text(out, p);
            }
            out.push(']');
        }
    }
}

/// Appends `v` as a JSON value (timestamps as integer nanoseconds, fixed
/// point and money as JSON numbers).
pub fn push_value_json(out: &mut String, v: &Value<'_>) {
    match *v {
        Value::F64(x) if !x.is_finite() => out.push_str("null"),
        Value::Str(s) => push_json_str(out, s),
        Value::Ts(ts) => {
            let _ = write!(out, "{}", ts.0);
        }
        Value::Positions(ps) => {
            out.push('[');
            for (i, p) in ps.iter().flatten().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    "{{\"position\":{},\"symbol\":{},\"side\":\"{}\",\"state\":\"{}\",\"qty\":",
                    p.position.0,
                    p.symbol.0,
                    p.side.as_str(),
                    p.state.as_str()
                );
                push_decimal(out, p.qty.to_f64());
                out.push_str(",\"entry\":");
                push_decimal(out, p.entry.to_f64());
                out.push_str(",\"stop\":");
                push_decimal(out, p.stop.to_f64());
                out.push_str(",\"unrealized\":");
                push_money(out, p.unrealized);
                out.push('}');
            }
            out.push(']');
        }
        _ => push_value_text(out, v),
    }
}

/// Appends one text line (no newline): sequence, time, type, `name=value`
/// pairs.
pub fn render_text(out: &mut String, seq: u64, tag: u16, ts_ns: i64, rec: &JournalRecord<'_>) {
    let mut fields: Vec<Field<'_>> = Vec::with_capacity(24);
    rec.fields(&mut fields);
    let _ = write!(out, "{seq:>8} ");
    push_ts(out, TimestampNs(ts_ns));
    let _ = write!(out, " {:<14}", type_name(tag).unwrap_or("unknown"));
    for fl in &fields {
        out.push(' ');
        out.push_str(fl.name);
        out.push('=');
        push_value_text(out, &fl.value);
    }
}

/// Appends one JSON object (no newline): `seq`, `ts_ns`, `time`, `type`,
/// then the record's fields.
pub fn render_json(out: &mut String, seq: u64, tag: u16, ts_ns: i64, rec: &JournalRecord<'_>) {
    let mut fields: Vec<Field<'_>> = Vec::with_capacity(24);
    rec.fields(&mut fields);
    let _ = write!(out, "{{\"seq\":{seq},\"ts_ns\":{ts_ns},\"time\":\"");
    push_ts(out, TimestampNs(ts_ns));
    out.push_str("\",\"type\":");
    push_json_str(out, type_name(tag).unwrap_or("unknown"));
    for fl in &fields {
        out.push(',');
        push_json_str(out, fl.name);
        out.push(':');
        push_value_json(out, &fl.value);
    }
    out.push('}');
}
