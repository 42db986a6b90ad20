//! The export's tables, declared once: every `CREATE TABLE`, index and `INSERT` is generated
//! from [`TABLES`], for SQLite and PostgreSQL alike, and the README's table list follows it.
//!
//! Consumes a [`Store`]; produces the schema at [`SCHEMA_VERSION`] through numbered
//! migrations recorded in `te_schema_version`, and the single-row `te_export_position` that
//! holds the next journal sequence number to export. Never drops a table it did not create,
//! except the three tables of the earlier one-shot SQLite export (recognised by their exact
//! set and the missing version table), which are derived data and are exported again.

use std::fmt::Write as _;
use std::io::Write;

use trading_engine::journal_schema::tags;

use super::store::{Backend, Kind, SqlValue, Store, StoreError};
use super::ExportError;

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    /// The record's sequence number.
    Seq,
    /// The record's header time, ns.
    TsNs,
    /// The record's header time.
    Time,
    /// The record field of this name (NULL when the record has none of this kind).
    Field(&'static str),
    /// The time field of this name as Unix milliseconds.
    FieldMs(&'static str),
    /// The name of the record's `symbol` field (from the session's symbol list).
    SymbolName,
    /// The name of the record's `strategy` field (from the session's config).
    StrategyName,
    /// The record's type name.
    TypeName,
    /// Every field as `name=value;...` text.
    FieldsText,
    /// The `side` field as `long` (BUY) or `short` (SELL).
    LongShort,
    /// `100 * (peak - equity) / peak` from the `peak` and `equity` fields.
    DrawdownPct,
    /// Filled by the exporter's own code (daily metrics, positions, funding).
    Computed,
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// SQL type.
    pub kind: Kind,
    /// Where the value comes from.
    pub src: Src,
}

/// One table.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// Record types exported as one row each through the generic path (empty: the exporter
    /// fills the table itself).
    pub tags: &'static [u16],
    /// Columns, in order.
    pub columns: &'static [Column],
    /// Primary key columns.
    pub primary_key: &'static str,
    /// Indexed column lists, for the operator's queries (by time, symbol, strategy).
    pub indexes: &'static [&'static str],
}

const fn c(name: &'static str, kind: Kind, src: Src) -> Column {
    Column { name, kind, src }
}

const SEQ: Column = c("seq", Kind::Int, Src::Seq);
const TS_NS: Column = c("ts_ns", Kind::Int, Src::TsNs);
const TIME: Column = c("time", Kind::Time, Src::Time);

/// The latest schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = 1;

/// The tables of schema version 1.
pub const TABLES: [Table; 10] = [
    Table {
        name: "trades",
        tags: &[tags::TRADE_CLOSED],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("id", Kind::Int, Src::Field("position")),
            c("symbol", Kind::Text, Src::SymbolName),
            c("strategy", Kind::Text, Src::StrategyName),
            c("side", Kind::Text, Src::LongShort),
            c("entry_time", Kind::Time, Src::Field("entry_ts")),
            c("exit_time", Kind::Time, Src::Field("exit_ts")),
            c("entry_time_ms", Kind::Int, Src::FieldMs("entry_ts")),
            c("exit_time_ms", Kind::Int, Src::FieldMs("exit_ts")),
            c("entry_price", Kind::Real, Src::Field("entry_price")),
            c("avg_exit_price", Kind::Real, Src::Field("exit_price")),
            c("qty", Kind::Real, Src::Field("qty")),
            c("fees", Kind::Real, Src::Field("fees")),
            c("slippage", Kind::Real, Src::Field("slippage")),
            c("pnl", Kind::Real, Src::Field("pnl")),
            c("initial_risk", Kind::Real, Src::Field("initial_risk")),
            c("r_multiple", Kind::Real, Src::Field("r_multiple")),
            c("hours_held", Kind::Real, Src::Field("hours_held")),
            c("exit_reason", Kind::Text, Src::Field("exit_reason")),
            c("exits", Kind::Int, Src::Field("exits")),
        ],
        primary_key: "seq",
        indexes: &["exit_time", "symbol, exit_time", "strategy, exit_time"],
    },
    Table {
        name: "fills",
        tags: &[tags::FILL],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("order_id", Kind::Int, Src::Field("order")),
            c("symbol", Kind::Text, Src::SymbolName),
            c("qty", Kind::Real, Src::Field("qty")),
            c("price", Kind::Real, Src::Field("price")),
            c("fee", Kind::Real, Src::Field("fee")),
            c("slippage", Kind::Real, Src::Field("slippage")),
            c("exchange_time", Kind::Time, Src::Field("exchange_ts")),
        ],
        primary_key: "seq",
        indexes: &["time", "symbol, time", "order_id"],
    },
    Table {
        name: "orders",
        tags: &[
            tags::PLACE,
            tags::ORDER_SENT,
            tags::ORDER_ACKED,
            tags::ACK,
            tags::REJECTED,
            tags::CANCEL,
            tags::CANCELLED,
            tags::ORDER_REFUSED,
        ],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("event", Kind::Text, Src::TypeName),
            c("order_id", Kind::Int, Src::Field("order")),
            c("position", Kind::Int, Src::Field("position")),
            c("symbol", Kind::Text, Src::SymbolName),
            c("side", Kind::Text, Src::Field("side")),
            c("qty", Kind::Real, Src::Field("qty")),
            c("kind", Kind::Text, Src::Field("kind")),
            c("trigger_price", Kind::Real, Src::Field("trigger")),
            c("reduce_only", Kind::Bool, Src::Field("reduce_only")),
            c("purpose", Kind::Text, Src::Field("purpose")),
            c("client_id", Kind::Text, Src::Field("client_id")),
            c("exchange_id", Kind::Int, Src::Field("exchange_id")),
            c("reason", Kind::Text, Src::Field("reason")),
        ],
        primary_key: "seq",
        indexes: &["time", "order_id", "symbol, time"],
    },
    Table {
        name: "position_events",
        tags: &[
            tags::TRANSITION,
            tags::ENTRY_SENT,
            tags::STOP_MOVED,
            tags::EXIT,
        ],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("event", Kind::Text, Src::TypeName),
            c("position", Kind::Int, Src::Field("position")),
            c("symbol", Kind::Text, Src::SymbolName),
            c("strategy", Kind::Text, Src::StrategyName),
            c("from_state", Kind::Text, Src::Field("from")),
            c("to_state", Kind::Text, Src::Field("to")),
            c("qty", Kind::Real, Src::Field("qty")),
            c("price", Kind::Real, Src::Field("price")),
            c("pnl", Kind::Real, Src::Field("pnl")),
            c("reason", Kind::Text, Src::Field("reason")),
            c("capped", Kind::Bool, Src::Field("capped")),
            c("stop_from", Kind::Real, Src::Field("from")),
            c("stop_to", Kind::Real, Src::Field("to")),
            c("why", Kind::Text, Src::Field("why")),
        ],
        primary_key: "seq",
        indexes: &["time", "position", "symbol, time"],
    },
    Table {
        name: "positions",
        tags: &[],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("position", Kind::Int, Src::Computed),
            c("symbol", Kind::Text, Src::Computed),
            c("side", Kind::Text, Src::Computed),
            c("state", Kind::Text, Src::Computed),
            c("qty", Kind::Real, Src::Computed),
            c("entry_price", Kind::Real, Src::Computed),
            c("stop_price", Kind::Real, Src::Computed),
            c("unrealized_pnl", Kind::Real, Src::Computed),
        ],
        primary_key: "seq, position",
        indexes: &["time", "symbol, time"],
    },
    Table {
        name: "equity",
        tags: &[tags::EQUITY, tags::SNAPSHOT],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("source", Kind::Text, Src::TypeName),
            c("equity", Kind::Real, Src::Field("equity")),
            c("cash", Kind::Real, Src::Field("cash")),
            c("peak", Kind::Real, Src::Field("peak")),
            c("drawdown_pct", Kind::Real, Src::DrawdownPct),
            c("halted", Kind::Bool, Src::Field("halted")),
        ],
        primary_key: "seq",
        indexes: &["time", "ts_ns"],
    },
    Table {
        name: "daily_metrics",
        tags: &[],
        columns: &[
            c("day", Kind::Text, Src::Computed),
            c("day_start_ms", Kind::Int, Src::Computed),
            c("day_start", Kind::Time, Src::Computed),
            c("trades", Kind::Int, Src::Computed),
            c("wins", Kind::Int, Src::Computed),
            c("pnl", Kind::Real, Src::Computed),
            c("fees", Kind::Real, Src::Computed),
            c("equity_end", Kind::Real, Src::Computed),
            c("max_drawdown_pct", Kind::Real, Src::Computed),
            c("source", Kind::Text, Src::Computed),
        ],
        primary_key: "day",
        indexes: &["day_start"],
    },
    Table {
        name: "funding",
        tags: &[],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("symbol", Kind::Text, Src::Computed),
            c("rate", Kind::Real, Src::Computed),
            c("position_qty", Kind::Real, Src::Computed),
            c("amount", Kind::Real, Src::Computed),
        ],
        primary_key: "seq",
        indexes: &["time", "symbol, time"],
    },
    Table {
        name: "risk_rejections",
        tags: &[tags::RISK_REJECTED],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("strategy", Kind::Text, Src::StrategyName),
            c("symbol", Kind::Text, Src::SymbolName),
            c("side", Kind::Text, Src::Field("side")),
            c("reason", Kind::Text, Src::Field("reason")),
            c("confidence", Kind::Real, Src::Field("confidence")),
            c("price", Kind::Real, Src::Field("price")),
            c("atr", Kind::Real, Src::Field("atr")),
            c("stop_distance", Kind::Real, Src::Field("stop_distance")),
            c("target_distance", Kind::Real, Src::Field("target_distance")),
            c("signal_time", Kind::Time, Src::Field("signal_ts")),
        ],
        primary_key: "seq",
        indexes: &["time", "strategy, time", "symbol, time", "reason, time"],
    },
    Table {
        name: "events",
        tags: &[
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
        ],
        columns: &[
            SEQ,
            TS_NS,
            TIME,
            c("type", Kind::Text, Src::TypeName),
            c("fields", Kind::Text, Src::FieldsText),
        ],
        primary_key: "seq",
        indexes: &["time", "type, time"],
    },
];

/// Returns the table named `name`.
#[must_use]
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Returns the `CREATE TABLE` and `CREATE INDEX` statements of `t` for `backend`.
#[must_use]
pub fn create_sql(t: &Table, backend: Backend) -> String {
    let mut sql = format!("CREATE TABLE {} (", t.name);
    for col in t.columns {
        let not_null = matches!(col.src, Src::Seq | Src::TsNs | Src::Time)
            || t.primary_key.split(", ").any(|k| k == col.name);
        let _ = write!(
            sql,
            "{} {}{}, ",
            col.name,
            backend.type_name(col.kind),
            if not_null { " NOT NULL" } else { "" }
        );
    }
    let _ = writeln!(sql, "PRIMARY KEY ({}));", t.primary_key);
    for cols in t.indexes {
        let _ = writeln!(
            sql,
            "CREATE INDEX {}_{}_idx ON {} ({cols});",
            t.name,
            cols.replace(", ", "_"),
            t.name
        );
    }
    sql
}

/// Returns the `INSERT` statement of `t` (every column, placeholders in order).
#[must_use]
pub fn insert_sql(t: &Table) -> String {
    let names: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    let params: Vec<String> = (1..=t.columns.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        t.name,
        names.join(", "),
        params.join(", ")
    )
}

/// The schema version table.
const VERSION_DDL: &str = "CREATE TABLE IF NOT EXISTS te_schema_version (
    version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)";

/// The export position: one row (`id = 1`), updated in the transaction of the rows it covers.
const POSITION_DDL: &str = "CREATE TABLE te_export_position (
    id BIGINT PRIMARY KEY, journal_id TEXT NOT NULL, next_seq BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL);
INSERT INTO te_export_position (id, journal_id, next_seq, updated_at_ms) VALUES (1, '', 0, 0);";

/// Tables of the earlier one-shot `--sqlite` export.
const LEGACY_TABLES: [&str; 3] = ["trades", "daily_metrics", "events"];

/// Brings the database to [`SCHEMA_VERSION`]: creates the version table, applies each
/// missing migration in its own transaction (with its row in `te_schema_version`) and notes
/// what it did on `err`.
///
/// # Errors
/// [`ExportError::SchemaTooNew`] when the database was written by a newer build;
/// [`ExportError::Store`] when a statement fails (a table of the same name that this tool did
/// not create makes `CREATE TABLE` fail, naming it).
pub fn migrate(store: &mut Store, err: &mut dyn Write) -> Result<i64, ExportError> {
    let had_versions = store.table_exists("te_schema_version")?;
    store.batch(VERSION_DDL)?;
    let current = store
        .query_int("SELECT MAX(version) FROM te_schema_version", &[])?
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(ExportError::SchemaTooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for version in (current + 1)..=SCHEMA_VERSION {
        store.batch("BEGIN")?;
        let description = apply(store, version, had_versions, err)?;
        store.execute(
            "INSERT INTO te_schema_version (version, description, applied_at_ms) VALUES ($1, $2, $3)",
            &[
                SqlValue::Int(Some(version)),
                SqlValue::Text(Some(description.to_owned())),
                SqlValue::Int(Some(super::now_ms())),
            ],
        )?;
        store.batch("COMMIT")?;
        writeln!(
            err,
            "journal-dump: schema migrated to version {version}: {description}"
        )
        .map_err(ExportError::Output)?;
    }
    Ok(SCHEMA_VERSION)
}

/// Applies migration `version`; returns its description.
fn apply(
    store: &mut Store,
    version: i64,
    had_versions: bool,
    err: &mut dyn Write,
) -> Result<&'static str, ExportError> {
    match version {
        1 => {
            if store.backend() == Backend::Sqlite && !had_versions && legacy_export(store)? {
                writeln!(
                    err,
                    "journal-dump: replacing the tables of an earlier one-shot export \
                     ({}); they are exported again from the journal",
                    LEGACY_TABLES.join(", ")
                )
                .map_err(ExportError::Output)?;
                for t in LEGACY_TABLES {
                    store.batch(&format!("DROP TABLE {t}"))?;
                }
            }
            let backend = store.backend();
            for t in &TABLES {
                store.batch(&create_sql(t, backend))?;
            }
            store.batch(POSITION_DDL)?;
            Ok(
                "trades, fills, orders, position_events, positions, equity, daily_metrics, \
                funding, risk_rejections, events; export position",
            )
        }
        _ => Err(ExportError::SchemaTooNew {
            found: version,
            known: SCHEMA_VERSION,
        }),
    }
}

/// True when the database holds exactly the earlier export's tables.
fn legacy_export(store: &mut Store) -> Result<bool, StoreError> {
    for t in LEGACY_TABLES {
        if !store.table_exists(t)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_unique_columns_and_its_key_and_indexes_name_real_columns() {
        let mut names = std::collections::BTreeSet::new();
        for t in &TABLES {
            assert!(names.insert(t.name), "duplicate table {}", t.name);
            let cols: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
            let unique: std::collections::BTreeSet<&str> = cols.iter().copied().collect();
            assert_eq!(unique.len(), cols.len(), "duplicate column in {}", t.name);
            for list in std::iter::once(&t.primary_key).chain(t.indexes) {
                for col in list.split(", ") {
                    assert!(cols.contains(&col), "{}: no column {col}", t.name);
                }
            }
            if !t.tags.is_empty() {
                assert!(
                    t.columns.iter().all(|c| c.src != Src::Computed),
                    "{}: a generic table has a computed column",
                    t.name
                );
            }
        }
        let mut tags: Vec<u16> = TABLES.iter().flat_map(|t| t.tags.iter().copied()).collect();
        let n = tags.len();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), n, "a record type feeds two generic tables");
    }

    #[test]
    fn the_readme_documents_every_table_and_column() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        for t in &TABLES {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", t.name)))
                .unwrap_or_else(|| panic!("README has no schema row for {}", t.name));
            for c in t
                .columns
                .iter()
                .filter(|c| !matches!(c.src, Src::Seq | Src::TsNs | Src::Time))
            {
                assert!(
                    row.contains(&format!("`{}`", c.name)),
                    "README: {}.{}",
                    t.name,
                    c.name
                );
            }
            for cols in t.indexes {
                assert!(
                    row.contains(&format!("`{cols}`")),
                    "README: index {}({cols})",
                    t.name
                );
            }
        }
    }

    #[test]
    fn generated_ddl_spells_times_per_backend() {
        let trades = table("trades").unwrap();
        let pg = create_sql(trades, Backend::Postgres);
        assert!(pg.contains("time TIMESTAMPTZ NOT NULL"), "{pg}");
        assert!(pg.contains(
            "CREATE INDEX trades_strategy_exit_time_idx ON trades (strategy, exit_time);"
        ));
        let lite = create_sql(trades, Backend::Sqlite);
        assert!(lite.contains("time TEXT NOT NULL"), "{lite}");
        assert!(insert_sql(trades).ends_with("$21, $22)"));
    }
}
