//! `--sqlite FILE` / `--postgres URL`: keeps a database current with a journal, once up to
//! its current end or, with `--follow`, while the engine appends to it.
//!
//! Consumes journal records in order (read-only, through [`scan`]); produces rows in the
//! tables of [`schema::TABLES`] and, in the same transaction as those rows, the next journal
//! sequence number to export (`te_export_position.next_seq`). A killed exporter therefore
//! restarts exactly where its last commit ended: no row is written twice and none is skipped.
//! A restart reads the journal from its start again (records before the position only
//! rebuild the session names; reading is cheap next to the database work) and checks that it
//! is the journal the database was filled from (the type and time of its first record).
//!
//! Runs off the engine's hot path, in its own process. Never writes the journal; never logs
//! or prints a password (targets are shown through [`Target::describe`]).

pub mod rows;
pub mod schema;
pub mod store;

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use trading_engine::journal_schema::{Field, JournalRecord};

use super::trades::Names;
use super::{check_dir, scan, DumpError, Follow, Outcome, Step};
use rows::Ctx;
use store::{SqlValue, Store};
pub use store::{StoreError, Target, TargetError};

/// Records exported per transaction at most, by default (`--commit-records`).
pub const BATCH_RECORDS: u64 = 20_000;
/// Longest a transaction stays open while records keep coming (the database lags a live
/// journal by about this much, plus the follow poll interval).
pub const BATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Why an export failed.
#[derive(Debug)]
pub enum ExportError {
    /// A database statement or the connection failed.
    Store(StoreError),
    /// The database's schema is newer than this build.
    SchemaTooNew {
        /// Version found in `te_schema_version`.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// The database holds the export of another journal.
    OtherJournal {
        /// Journal identity stored in the database.
        stored: String,
        /// Identity of the journal being read.
        found: String,
    },
    /// The export position moved under this exporter: a second exporter writes to the same
    /// database.
    PositionMoved {
        /// Position this exporter expected.
        expected: u64,
    },
    /// Writing a progress message failed.
    Output(std::io::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => write!(f, "{e}"),
            Self::SchemaTooNew { found, known } => write!(
                f,
                "the database's export schema is version {found}, newer than this \
                 journal-dump knows ({known}); use a newer journal-dump"
            ),
            Self::OtherJournal { stored, found } => write!(
                f,
                "the database holds the export of another journal (first record {stored}, \
                 this journal's is {found}); export into a fresh database"
            ),
            Self::PositionMoved { expected } => write!(
                f,
                "the export position is no longer {expected}: another exporter is writing to \
                 this database"
            ),
            Self::Output(e) => write!(f, "cannot write a progress message: {e}"),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            Self::Output(e) => Some(e),
            Self::SchemaTooNew { .. } | Self::OtherJournal { .. } | Self::PositionMoved { .. } => {
                None
            }
        }
    }
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// The position stored at the end: every record before it is exported.
    pub next_seq: u64,
    /// Position the run started from.
    pub resumed_at: u64,
    /// Rows added or changed by this run.
    pub rows_changed: u64,
    /// Transactions committed by this run.
    pub commits: u64,
    /// Row count of every table at the end, in [`schema::TABLES`] order.
    pub totals: Vec<(&'static str, u64)>,
}

impl ExportSummary {
    /// Returns the row count of `table` at the end.
    #[must_use]
    pub fn total(&self, table: &str) -> u64 {
        self.totals
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }

    /// Returns the one-line report `journal-dump` prints.
    #[must_use]
    pub fn line(&self, target: &Target) -> String {
        let others: Vec<String> = self
            .totals
            .iter()
            .filter(|(t, _)| !matches!(*t, "trades" | "daily_metrics" | "events"))
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        format!(
            "Exported {} trades, {} days, {} events ({}) into {}; journal position {} \
             (resumed at {}, {} rows written by this run)",
            self.total("trades"),
            self.total("daily_metrics"),
            self.total("events"),
            others.join(", "),
            target.describe(),
            self.next_seq,
            self.resumed_at,
            self.rows_changed
        )
    }
}

/// Returns the wall clock in Unix milliseconds (0 before the epoch).
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The open transaction of a run and the position it will store.
#[derive(Debug)]
struct Batch {
    /// Position stored in the database (what a restart resumes from).
    committed: u64,
    /// Position after the last record handled (stored by the next commit).
    next: u64,
    /// Journal identity to store.
    journal_id: String,
    /// When the open transaction began (`None`: no transaction open).
    open_since: Option<Instant>,
    /// Records in the open transaction.
    records: u64,
    /// Commits so far.
    commits: u64,
    /// Records per transaction at most.
    limit: u64,
}

impl Batch {
    fn begin(&mut self, store: &mut Store) -> Result<(), StoreError> {
        if self.open_since.is_none() {
            store.batch("BEGIN")?;
            self.open_since = Some(Instant::now());
            self.records = 0;
        }
        Ok(())
    }

    fn due(&self) -> bool {
        self.records >= self.limit
            || self
                .open_since
                .is_some_and(|t| t.elapsed() >= BATCH_INTERVAL)
    }

    /// Stores the position with the rows of the open transaction and commits them.
    fn commit(&mut self, store: &mut Store) -> Result<(), ExportError> {
        if self.open_since.is_none() {
            return Ok(());
        }
        let moved = store.execute(
            "UPDATE te_export_position SET journal_id = $1, next_seq = $2, updated_at_ms = $3 \
             WHERE id = 1 AND next_seq = $4",
            &[
                SqlValue::Text(Some(self.journal_id.clone())),
                SqlValue::Int(Some(to_i64(self.next))),
                SqlValue::Int(Some(now_ms())),
                SqlValue::Int(Some(to_i64(self.committed))),
            ],
        )?;
        if moved != 1 {
            store.batch("ROLLBACK")?;
            self.open_since = None;
            return Err(ExportError::PositionMoved {
                expected: self.committed,
            });
        }
        store.batch("COMMIT")?;
        self.committed = self.next;
        self.open_since = None;
        self.commits += 1;
        Ok(())
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Exports the journal in `dir` into `target`, resuming at the stored position: up to the
/// current end, or with `follow` until it is stopped. A transaction holds at most
/// `commit_records` records (at least 1) and stays open at most [`BATCH_INTERVAL`]. Problems with single records (one that
/// cannot be decoded) are reported on `err` and the record is skipped; a corrupt journal ends
/// the export after committing everything before the corruption ([`Outcome::Corrupt`]).
///
/// # Errors
/// [`DumpError::Export`] when the database fails or belongs to another journal;
/// [`DumpError`] when the journal cannot be read.
pub fn export(
    dir: &Path,
    target: &Target,
    follow: Option<Follow<'_>>,
    commit_records: u64,
    err: &mut dyn Write,
) -> Result<(ExportSummary, Outcome), DumpError> {
    check_dir(dir)?;
    let mut store = Store::open(target).map_err(ExportError::Store)?;
    schema::migrate(&mut store, err)?;
    let stored_id = store
        .query_text("SELECT journal_id FROM te_export_position WHERE id = 1")
        .map_err(ExportError::Store)?
        .unwrap_or_default();
    let resumed_at = store
        .query_int("SELECT next_seq FROM te_export_position WHERE id = 1", &[])
        .map_err(ExportError::Store)?
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0);
    let mut batch = Batch {
        committed: resumed_at,
        next: resumed_at,
        journal_id: stored_id.clone(),
        open_since: None,
        records: 0,
        commits: 0,
        limit: commit_records.max(1),
    };
    let mut names = Names::default();
    let mut rows_changed = 0_u64;
    let mut first = true;
    let outcome = scan(dir, follow, err, |step, err| {
        let r = match step {
            Step::Record(r) => r,
            Step::Idle => {
                batch.commit(&mut store)?;
                return Ok(());
            }
        };
        if first {
            first = false;
            let id = format!("type {} at {} ns", r.type_tag, r.ts_ns);
            if !stored_id.is_empty() && stored_id != id {
                return Err(ExportError::OtherJournal {
                    stored: stored_id.clone(),
                    found: id,
                }
                .into());
            }
            batch.journal_id = id;
        }
        let decoded = JournalRecord::decode(r.type_tag, r.payload);
        if let Ok(JournalRecord::Session(s)) = &decoded {
            if let Some(w) = names.on_session(s) {
                writeln!(err, "journal-dump: record {}: {w}", r.seq)?;
            }
        }
        if r.seq < resumed_at {
            return Ok(());
        }
        batch.begin(&mut store).map_err(ExportError::Store)?;
        match &decoded {
            Ok(rec) => {
                let mut f: Vec<Field<'_>> = Vec::with_capacity(24);
                rec.fields(&mut f);
                let ctx = Ctx {
                    seq: r.seq,
                    ts_ns: r.ts_ns,
                    tag: r.type_tag,
                    rec,
                    fields: &f,
                    names: &names,
                };
                rows_changed += rows::write_record(&mut store, &ctx).map_err(ExportError::Store)?;
            }
            Err(e) => writeln!(
                err,
                "journal-dump: record {} (tag {}) cannot be decoded: {e}; not exported",
                r.seq, r.type_tag
            )?,
        }
        batch.next = r.seq + 1;
        batch.records += 1;
        if batch.due() {
            batch.commit(&mut store)?;
        }
        Ok(())
    })?;
    batch.commit(&mut store)?;
    let mut totals = Vec::with_capacity(schema::TABLES.len());
    for t in &schema::TABLES {
        let n = store
            .query_int(&format!("SELECT COUNT(*) FROM {}", t.name), &[])
            .map_err(ExportError::Store)?
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0);
        totals.push((t.name, n));
    }
    Ok((
        ExportSummary {
            next_seq: batch.committed,
            resumed_at,
            rows_changed,
            commits: batch.commits,
            totals,
        },
        outcome,
    ))
}
