//! Journal records to table rows: the generic path for every table with record types in
//! [`TABLES`](super::schema::TABLES), and the exporter's own rows for `positions` (one per
//! open position of a snapshot) and `daily_metrics` (journaled days, or days computed from
//! their closed trades).
//!
//! Consumes one decoded record at a time, with the names of the current session; produces
//! statements on the [`Store`] inside the caller's transaction. Never commits: the caller
//! commits the rows together with the export position.

use trading_engine::backtest::dates::format_date;
use trading_engine::core::{Action, Record};
use trading_engine::journal_schema::{
    push_value_text, type_name, Field, JournalRecord, Snapshot, Value,
};
use trading_engine::money::Money;
use trading_engine::strategy::StrategyId;
use trading_engine::types::{Side, SymbolId};

use super::schema::{insert_sql, Column, Src, Table, TABLES};
use super::store::{Kind, SqlValue, Store, StoreError};
use crate::dump::list::fields_text;
use crate::dump::trades::Names;

const MS_PER_DAY: i64 = 86_400_000;
const NS_PER_MS: i64 = 1_000_000;

/// One record being exported.
#[derive(Debug)]
pub struct Ctx<'a, 'r> {
    /// Sequence number.
    pub seq: u64,
    /// Header time, ns.
    pub ts_ns: i64,
    /// Type tag.
    pub tag: u16,
    /// The decoded record.
    pub rec: &'a JournalRecord<'r>,
    /// Its named fields.
    pub fields: &'a [Field<'a>],
    /// Names of the current session.
    pub names: &'a Names,
}

/// Writes the rows of one record; returns how many rows it added or changed.
///
/// # Errors
/// [`StoreError`] when a statement fails.
pub fn write_record(store: &mut Store, ctx: &Ctx<'_, '_>) -> Result<u64, StoreError> {
    let mut rows = 0;
    if let Some(t) = TABLES.iter().find(|t| t.tags.contains(&ctx.tag)) {
        rows += insert_generic(store, t, ctx)?;
    }
    match ctx.rec {
        JournalRecord::Output(Action::Record(Record::TradeClosed(t))) => {
            rows += day_from_trade(store, t.exit_ts.as_ms(), t.pnl, t.fees)?;
        }
        JournalRecord::Daily(m) => {
            let day_ms = m.day.saturating_mul(MS_PER_DAY);
            rows += store.execute(
                "INSERT INTO daily_metrics (day, day_start_ms, day_start, trades, wins, pnl, \
                 fees, equity_end, max_drawdown_pct, source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'journal') \
                 ON CONFLICT (day) DO UPDATE SET day_start_ms = excluded.day_start_ms, \
                 day_start = excluded.day_start, trades = excluded.trades, \
                 wins = excluded.wins, pnl = excluded.pnl, fees = excluded.fees, \
                 equity_end = excluded.equity_end, \
                 max_drawdown_pct = excluded.max_drawdown_pct, source = 'journal'",
                &[
                    SqlValue::Text(Some(format_date(day_ms))),
                    SqlValue::Int(Some(day_ms)),
                    SqlValue::Time(Some(day_ms.saturating_mul(NS_PER_MS))),
                    SqlValue::Int(Some(i64::from(m.trades))),
                    SqlValue::Int(Some(i64::from(m.wins))),
                    SqlValue::Real(Some(money(m.pnl))),
                    SqlValue::Real(Some(money(m.fees))),
                    SqlValue::Real(Some(money(m.equity_end))),
                    SqlValue::Real(Some(m.max_drawdown_pct)),
                ],
            )?;
        }
        JournalRecord::Equity { equity, .. } => {
            rows += day_equity(store, ctx.ts_ns, *equity)?;
        }
        JournalRecord::Snapshot(s) => {
            rows += day_equity(store, ctx.ts_ns, s.equity)?;
            rows += positions(store, ctx, s)?;
        }
        _ => {}
    }
    Ok(rows)
}

fn insert_generic(store: &mut Store, t: &Table, ctx: &Ctx<'_, '_>) -> Result<u64, StoreError> {
    let params: Vec<SqlValue> = t.columns.iter().map(|c| value(c, ctx)).collect();
    store.execute(&insert_sql(t), &params)
}

/// Adds a closed trade to its exit day, unless that day has a journaled `daily` record (which
/// wins). A new day takes the day's latest equity sample so far as `equity_end`.
fn day_from_trade(
    store: &mut Store,
    exit_ms: i64,
    pnl: Money,
    fees: Money,
) -> Result<u64, StoreError> {
    let day_ms = exit_ms.div_euclid(MS_PER_DAY) * MS_PER_DAY;
    let day_ns = day_ms.saturating_mul(NS_PER_MS);
    store.execute(
        "INSERT INTO daily_metrics (day, day_start_ms, day_start, trades, wins, pnl, fees, \
         equity_end, max_drawdown_pct, source) \
         VALUES ($1, $2, $3, 1, $4, $5, $6, \
         (SELECT e.equity FROM equity e WHERE e.ts_ns >= $7 AND e.ts_ns < $8 \
          ORDER BY e.seq DESC LIMIT 1), NULL, 'trades') \
         ON CONFLICT (day) DO UPDATE SET trades = daily_metrics.trades + 1, \
         wins = daily_metrics.wins + excluded.wins, pnl = daily_metrics.pnl + excluded.pnl, \
         fees = daily_metrics.fees + excluded.fees WHERE daily_metrics.source = 'trades'",
        &[
            SqlValue::Text(Some(format_date(day_ms))),
            SqlValue::Int(Some(day_ms)),
            SqlValue::Time(Some(day_ns)),
            SqlValue::Int(Some(i64::from(pnl.0 > 0))),
            SqlValue::Real(Some(money(pnl))),
            SqlValue::Real(Some(money(fees))),
            SqlValue::Int(Some(day_ns)),
            SqlValue::Int(Some(day_ns.saturating_add(MS_PER_DAY * NS_PER_MS))),
        ],
    )
}

/// The day's latest equity sample becomes `equity_end` of a day computed from trades.
fn day_equity(store: &mut Store, ts_ns: i64, equity: Money) -> Result<u64, StoreError> {
    let day_ms = ts_ns.div_euclid(NS_PER_MS).div_euclid(MS_PER_DAY) * MS_PER_DAY;
    store.execute(
        "UPDATE daily_metrics SET equity_end = $1 WHERE day = $2 AND source = 'trades'",
        &[
            SqlValue::Real(Some(money(equity))),
            SqlValue::Text(Some(format_date(day_ms))),
        ],
    )
}

/// One `positions` row per open position of a snapshot.
fn positions(store: &mut Store, ctx: &Ctx<'_, '_>, s: &Snapshot) -> Result<u64, StoreError> {
    let Some(t) = super::schema::table("positions") else {
        return Ok(0);
    };
    let sql = insert_sql(t);
    let mut rows = 0;
    for p in s.open_positions() {
        rows += store.execute(
            &sql,
            &[
                seq(ctx.seq),
                SqlValue::Int(Some(ctx.ts_ns)),
                SqlValue::Time(Some(ctx.ts_ns)),
                SqlValue::Int(Some(i64::try_from(p.position.0).unwrap_or(i64::MAX))),
                SqlValue::Text(Some(ctx.names.symbol(p.symbol))),
                SqlValue::Text(Some(long_short(p.side).to_owned())),
                SqlValue::Text(Some(p.state.as_str().to_owned())),
                decimal(&Value::Qty(p.qty)),
                decimal(&Value::Price(p.entry)),
                decimal(&Value::Price(p.stop)),
                SqlValue::Real(Some(money(p.unrealized))),
            ],
        )?;
    }
    Ok(rows)
}

fn seq(seq: u64) -> SqlValue {
    SqlValue::Int(Some(i64::try_from(seq).unwrap_or(i64::MAX)))
}

fn money(m: Money) -> f64 {
    m.0 as f64 / 1e8
}

const fn long_short(side: Side) -> &'static str {
    match side {
        Side::Buy => "long",
        Side::Sell => "short",
    }
}

/// A price or quantity as the decimal the journal text shows (so 36709.6 is stored as the
/// double nearest 36709.6, not the binary fixed-point value's expansion).
fn decimal(v: &Value<'_>) -> SqlValue {
    let mut s = String::with_capacity(24);
    push_value_text(&mut s, v);
    SqlValue::Real(s.parse::<f64>().ok())
}

fn field<'a>(ctx: &'a Ctx<'_, '_>, name: &str) -> Option<&'a Value<'a>> {
    ctx.fields.iter().find(|f| f.name == name).map(|f| &f.value)
}

/// The value of column `c` for the record in `ctx` (a NULL of the column's kind when the
/// record has no such field, or one of another kind).
fn value(c: &Column, ctx: &Ctx<'_, '_>) -> SqlValue {
    match c.src {
        Src::Seq => seq(ctx.seq),
        Src::TsNs => SqlValue::Int(Some(ctx.ts_ns)),
        Src::Time => SqlValue::Time(Some(ctx.ts_ns)),
        Src::TypeName => SqlValue::Text(Some(type_name(ctx.tag).unwrap_or("unknown").to_owned())),
        Src::FieldsText => SqlValue::Text(Some(fields_text(ctx.rec))),
        Src::SymbolName => match field(ctx, "symbol") {
            Some(Value::U64(id)) => SqlValue::Text(
                u16::try_from(*id)
                    .ok()
                    .map(|id| ctx.names.symbol(SymbolId(id))),
            ),
            _ => SqlValue::Text(None),
        },
        Src::StrategyName => match field(ctx, "strategy") {
            Some(Value::U64(id)) => SqlValue::Text(
                u8::try_from(*id)
                    .ok()
                    .map(|id| ctx.names.strategy(StrategyId(id))),
            ),
            _ => SqlValue::Text(None),
        },
        Src::LongShort => match field(ctx, "side") {
            Some(Value::Str("BUY")) => SqlValue::Text(Some("long".into())),
            Some(Value::Str("SELL")) => SqlValue::Text(Some("short".into())),
            _ => SqlValue::Text(None),
        },
        Src::DrawdownPct => match (field(ctx, "equity"), field(ctx, "peak")) {
            (Some(Value::Money(e)), Some(Value::Money(p))) if p.0 > 0 => {
                SqlValue::Real(Some(100.0 * (money(*p) - money(*e)).max(0.0) / money(*p)))
            }
            _ => SqlValue::Real(None),
        },
        Src::FieldMs(name) => match field(ctx, name) {
            Some(Value::Ts(ts)) => SqlValue::Int(Some(ts.as_ms())),
            _ => SqlValue::Int(None),
        },
        Src::Field(name) => field(ctx, name).map_or(c.kind.null(), |v| convert(c.kind, v)),
        Src::Computed => c.kind.null(),
    }
}

/// Converts a field value to a column kind; a value of another kind is NULL.
fn convert(kind: Kind, v: &Value<'_>) -> SqlValue {
    match (kind, v) {
        (Kind::Int, Value::I64(x)) => SqlValue::Int(Some(*x)),
        (Kind::Int, Value::U64(x)) => SqlValue::Int(i64::try_from(*x).ok()),
        (Kind::Real, Value::F64(x)) => SqlValue::Real(Some(*x)),
        (Kind::Real, Value::Money(m)) => SqlValue::Real(Some(money(*m))),
        (Kind::Real, Value::Price(_) | Value::Qty(_)) => decimal(v),
        (Kind::Text, Value::Str(s)) => SqlValue::Text(Some((*s).to_owned())),
        (Kind::Bool, Value::Bool(b)) => SqlValue::Bool(Some(*b)),
        (Kind::Time, Value::Ts(ts)) => SqlValue::Time(Some(ts.0)),
        _ => kind.null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trading_engine::types::{Price, Qty};

    #[test]
    fn values_convert_only_to_their_own_kind_and_prices_keep_their_decimal() {
        let p = Price::from_f64(36_709.6).unwrap();
        assert_eq!(
            convert(Kind::Real, &Value::Price(p)),
            SqlValue::Real(Some(36_709.6))
        );
        assert_eq!(
            convert(Kind::Real, &Value::Qty(Qty::from_f64(0.1997).unwrap())),
            SqlValue::Real(Some(0.1997))
        );
        assert_eq!(
            convert(Kind::Real, &Value::Str("OPEN")),
            SqlValue::Real(None)
        );
        assert_eq!(convert(Kind::Text, &Value::Price(p)), SqlValue::Text(None));
        assert_eq!(
            convert(Kind::Int, &Value::U64(u64::MAX)),
            SqlValue::Int(None)
        );
        assert_eq!(
            convert(Kind::Real, &Value::Money(Money(-11_386_418_714))),
            SqlValue::Real(Some(-113.864_187_14))
        );
    }
}
