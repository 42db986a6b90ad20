//! `--sqlite FILE`: exports a journal into SQLite tables for analysis in any SQL tool.
//!
//! Consumes journal records; produces, in one transaction, the tables (dropped and recreated
//! when FILE already holds them; other tables are left alone):
//! - `trades`: one row per `trade_closed` record (names resolved as in `--trades`, plus the
//!   symbol, slippage and initial risk);
//! - `daily_metrics`: one row per UTC day. A day with a journaled `daily` record takes the
//!   last one of that day (`source = 'journal'`); a day with closed trades but no `daily`
//!   record is computed from its trades, by exit time (`source = 'trades'`: trades, wins,
//!   PnL and fees; `equity_end` from the day's last `equity`/`snapshot` record when there is
//!   one, else NULL; `max_drawdown_pct` NULL);
//! - `events`: one row per system event: `session`, `halted`, `resumed`, `gap`, `stream`,
//!   `backfill`, `reload`, `operator`, `control`, `correction`, `exchange_error`, `shutdown`,
//!   with its fields as `name=value;...` text.
//!
//! Money, prices and quantities are REAL, times are Unix ms (INTEGER) beside an ISO text.
//! Never writes the journal; the export is one transaction, so a failure leaves no half
//! export behind.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use rusqlite::{params, Connection};
use trading_engine::backtest::dates::format_date;
use trading_engine::core::{Action, Record};
use trading_engine::journal_schema::{format_ts, tags, type_name, DailyMetrics, JournalRecord};
use trading_engine::money::Money;
use trading_engine::types::TimestampNs;

use super::list::fields_text;
use super::trades::{Names, TradeRow};
use super::{scan, DumpError, Filter, Outcome, Step};

const MS_PER_DAY: i64 = 86_400_000;

/// Row counts of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportCounts {
    /// Rows in `trades`.
    pub trades: u64,
    /// Rows in `daily_metrics`.
    pub days: u64,
    /// Rows in `events`.
    pub events: u64,
}

const SCHEMA: &str = "
DROP TABLE IF EXISTS trades;
DROP TABLE IF EXISTS daily_metrics;
DROP TABLE IF EXISTS events;
CREATE TABLE trades (
    seq INTEGER NOT NULL, id INTEGER NOT NULL, symbol TEXT NOT NULL, strategy TEXT NOT NULL,
    side TEXT NOT NULL, entry_time_ms INTEGER NOT NULL, exit_time_ms INTEGER NOT NULL,
    entry_price REAL NOT NULL, avg_exit_price REAL NOT NULL, qty REAL NOT NULL,
    fees REAL NOT NULL, slippage REAL NOT NULL, pnl REAL NOT NULL, initial_risk REAL NOT NULL,
    r_multiple REAL NOT NULL, hours_held REAL NOT NULL, exit_reason TEXT NOT NULL,
    exits INTEGER NOT NULL
);
CREATE TABLE daily_metrics (
    day TEXT PRIMARY KEY, day_start_ms INTEGER NOT NULL, trades INTEGER NOT NULL,
    wins INTEGER NOT NULL, pnl REAL NOT NULL, fees REAL NOT NULL, equity_end REAL,
    max_drawdown_pct REAL, source TEXT NOT NULL
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY, ts_ns INTEGER NOT NULL, time TEXT NOT NULL, type TEXT NOT NULL,
    fields TEXT NOT NULL
);
";

/// Tags exported as rows of `events`.
const EVENT_TAGS: [u16; 12] = [
    tags::SESSION,
    tags::HALTED,
    tags::RESUMED,
    tags::GAP,
    tags::STREAM,
    tags::BACKFILL,
    tags::RELOAD,
    tags::OPERATOR,
    tags::CONTROL,
    tags::CORRECTION,
    tags::EXCHANGE_ERROR,
    tags::SHUTDOWN,
];

fn money(m: Money) -> f64 {
    m.0 as f64 / 1e8
}

/// A day computed from its trades.
#[derive(Debug, Default)]
struct DayFromTrades {
    trades: u32,
    wins: u32,
    pnl: Money,
    fees: Money,
}

/// Exports the records of `dir` inside the time range of `filter` into the SQLite file
/// `file` (created when missing).
///
/// # Errors
/// [`DumpError::Sqlite`] when the file cannot be written; [`DumpError`] when the journal
/// cannot be read.
pub fn export(
    dir: &Path,
    filter: &Filter,
    file: &Path,
    err: &mut dyn Write,
) -> Result<(ExportCounts, Outcome), DumpError> {
    super::check_dir(dir)?;
    let mut db = Connection::open(file)?;
    let tx = db.transaction()?;
    tx.execute_batch(SCHEMA)?;
    let mut counts = ExportCounts::default();
    let mut daily: BTreeMap<i64, DailyMetrics> = BTreeMap::new();
    let mut from_trades: BTreeMap<i64, DayFromTrades> = BTreeMap::new();
    let mut last_equity: BTreeMap<i64, Money> = BTreeMap::new();
    let mut names = Names::default();
    let outcome = {
        let mut insert_trade = tx.prepare(
            "INSERT INTO trades VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)",
        )?;
        let mut insert_event = tx.prepare("INSERT INTO events VALUES (?1,?2,?3,?4,?5)")?;
        scan(dir, None, err, |step, err| {
            let Step::Record(r) = step else {
                return Ok(());
            };
            let Ok(rec) = JournalRecord::decode(r.type_tag, r.payload) else {
                writeln!(
                    err,
                    "journal-dump: record {} (tag {}) cannot be decoded; not exported",
                    r.seq, r.type_tag
                )?;
                return Ok(());
            };
            if let JournalRecord::Session(s) = rec {
                if let Some(w) = names.on_session(&s) {
                    writeln!(err, "journal-dump: record {}: {w}", r.seq)?;
                }
            }
            if !filter.time_matches(r.ts_ns) {
                return Ok(());
            }
            let day = r.ts_ns.div_euclid(1_000_000).div_euclid(MS_PER_DAY);
            match rec {
                JournalRecord::Output(Action::Record(Record::TradeClosed(t))) => {
                    let row = TradeRow {
                        seq: r.seq,
                        trade: t,
                        strategy: names.strategy(t.strategy),
                        symbol: names.symbol(t.symbol),
                    };
                    insert_trade_row(&mut insert_trade, &row)?;
                    counts.trades += 1;
                    let d = from_trades
                        .entry(t.exit_ts.as_ms().div_euclid(MS_PER_DAY))
                        .or_default();
                    d.trades += 1;
                    d.wins += u32::from(t.pnl.0 > 0);
                    d.pnl += t.pnl;
                    d.fees += t.fees;
                }
                JournalRecord::Daily(m) => {
                    daily.insert(m.day, m);
                }
                JournalRecord::Equity { equity, .. } => {
                    last_equity.insert(day, equity);
                }
                JournalRecord::Snapshot(s) => {
                    last_equity.insert(day, s.equity);
                }
                _ => {}
            }
            if EVENT_TAGS.contains(&r.type_tag) {
                insert_event.execute(params![
                    i64::try_from(r.seq).unwrap_or(i64::MAX),
                    r.ts_ns,
                    format_ts(TimestampNs(r.ts_ns)),
                    type_name(r.type_tag).unwrap_or("unknown"),
                    fields_text(&rec),
                ])?;
                counts.events += 1;
            }
            Ok(())
        })?
    };
    {
        let mut insert_day =
            tx.prepare("INSERT INTO daily_metrics VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)")?;
        for (day, m) in &daily {
            insert_day.execute(params![
                format_date(day * MS_PER_DAY),
                day * MS_PER_DAY,
                m.trades,
                m.wins,
                money(m.pnl),
                money(m.fees),
                money(m.equity_end),
                m.max_drawdown_pct,
                "journal"
            ])?;
            counts.days += 1;
        }
        for (day, d) in from_trades
            .iter()
            .filter(|(day, _)| !daily.contains_key(day))
        {
            insert_day.execute(params![
                format_date(day * MS_PER_DAY),
                day * MS_PER_DAY,
                d.trades,
                d.wins,
                money(d.pnl),
                money(d.fees),
                last_equity.get(day).map(|m| money(*m)),
                Option::<f64>::None,
                "trades"
            ])?;
            counts.days += 1;
        }
    }
    tx.commit()?;
    Ok((counts, outcome))
}

fn insert_trade_row(stmt: &mut rusqlite::Statement<'_>, row: &TradeRow) -> Result<(), DumpError> {
    let t = &row.trade;
    stmt.execute(params![
        i64::try_from(row.seq).unwrap_or(i64::MAX),
        i64::try_from(t.position.0).unwrap_or(i64::MAX),
        row.symbol,
        row.strategy,
        match t.side {
            trading_engine::types::Side::Buy => "long",
            trading_engine::types::Side::Sell => "short",
        },
        t.entry_ts.as_ms(),
        t.exit_ts.as_ms(),
        t.entry_price.to_f64(),
        t.avg_exit_price.to_f64(),
        t.qty.to_f64(),
        money(t.fees),
        money(t.slippage),
        money(t.pnl),
        money(t.initial_risk),
        t.r_multiple,
        t.hours_held,
        t.exit_reason.as_str(),
        t.exits,
    ])?;
    Ok(())
}
