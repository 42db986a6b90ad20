//! The database side of the export: one connection to SQLite (rusqlite) or PostgreSQL (the
//! synchronous `postgres` crate), driven with the same SQL text.
//!
//! Consumes SQL written with `$1, $2, ...` placeholders and [`SqlValue`] parameters; produces
//! executed statements (prepared once per SQL text and cached) and the few scalar reads the
//! exporter needs. Transactions are explicit `BEGIN` / `COMMIT` / `ROLLBACK` statements, so
//! the exporter owns their scope across many records. Never logs a connection string or a
//! password: a target is only ever shown through [`Target::describe`].

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use trading_engine::journal_schema::format_ts;
use trading_engine::types::TimestampNs;

/// One statement parameter. Every variant carries its SQL type, so a NULL is typed too
/// (PostgreSQL checks parameter types strictly).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `BIGINT`.
    Int(Option<i64>),
    /// `DOUBLE PRECISION`.
    Real(Option<f64>),
    /// `TEXT`.
    Text(Option<String>),
    /// `BOOLEAN`.
    Bool(Option<bool>),
    /// A time in ns since the epoch: `TIMESTAMPTZ` in PostgreSQL (microsecond precision), RFC
    /// 3339 text with nanoseconds in SQLite.
    Time(Option<i64>),
}

/// The SQL type of a column, spelled per backend by [`Backend::type_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 64-bit integer.
    Int,
    /// Double-precision float.
    Real,
    /// Text.
    Text,
    /// Boolean.
    Bool,
    /// Point in time.
    Time,
}

impl Kind {
    /// Returns a NULL of this kind.
    #[must_use]
    pub const fn null(self) -> SqlValue {
        match self {
            Self::Int => SqlValue::Int(None),
            Self::Real => SqlValue::Real(None),
            Self::Text => SqlValue::Text(None),
            Self::Bool => SqlValue::Bool(None),
            Self::Time => SqlValue::Time(None),
        }
    }
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (a file).
    Sqlite,
    /// PostgreSQL (a server).
    Postgres,
}

impl Backend {
    /// Returns the backend's spelling of `kind` in a `CREATE TABLE`.
    #[must_use]
    pub const fn type_name(self, kind: Kind) -> &'static str {
        match (self, kind) {
            (_, Kind::Int) => "BIGINT",
            (_, Kind::Real) => "DOUBLE PRECISION",
            (_, Kind::Text) => "TEXT",
            (_, Kind::Bool) => "BOOLEAN",
            (Self::Sqlite, Kind::Time) => "TEXT",
            (Self::Postgres, Kind::Time) => "TIMESTAMPTZ",
        }
    }
}

/// Where the export goes, as given on the command line.
#[derive(Clone)]
pub enum Target {
    /// An SQLite file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server; the configuration may hold a password (from `PGPASSWORD` or a
    /// URL file), so it is never printed.
    Postgres(Box<postgres::Config>),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Target {
    /// Builds a PostgreSQL target from a URL or `key=value` connection string given on the
    /// command line, which must not hold a password (a command line is visible to every
    /// user of the machine); the password comes from `password` (`PGPASSWORD`) when set.
    ///
    /// # Errors
    /// [`TargetError::Parse`] for a malformed string, [`TargetError::PasswordOnCommandLine`]
    /// when it holds a password.
    pub fn postgres_from_arg(url: &str, password: Option<&str>) -> Result<Self, TargetError> {
        let config = postgres::Config::from_str(url).map_err(TargetError::Parse)?;
        if config.get_password().is_some() {
            return Err(TargetError::PasswordOnCommandLine);
        }
        Ok(Self::postgres_with_password(config, password))
    }

    /// Builds a PostgreSQL target from the first non-empty line of `file` (which may hold a
    /// password); `PGPASSWORD` (`password`) fills in a password the URL lacks.
    ///
    /// # Errors
    /// [`TargetError::UrlFile`] when the file cannot be read or is empty,
    /// [`TargetError::Parse`] for a malformed string.
    pub fn postgres_from_file(file: &Path, password: Option<&str>) -> Result<Self, TargetError> {
        let text = std::fs::read_to_string(file).map_err(|e| TargetError::UrlFile {
            path: file.to_path_buf(),
            reason: e.to_string(),
        })?;
        let Some(url) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
            return Err(TargetError::UrlFile {
                path: file.to_path_buf(),
                reason: "the file is empty".into(),
            });
        };
        let config = postgres::Config::from_str(url).map_err(TargetError::Parse)?;
        Ok(Self::postgres_with_password(config, password))
    }

    fn postgres_with_password(mut config: postgres::Config, password: Option<&str>) -> Self {
        if config.get_password().is_none() {
            if let Some(p) = password.filter(|p| !p.is_empty()) {
                config.password(p);
            }
        }
        if config.get_application_name().is_none() {
            config.application_name("journal-dump");
        }
        Self::Postgres(Box::new(config))
    }

    /// Returns a description fit for logs and messages: the SQLite path, or the PostgreSQL
    /// user, hosts, ports and database, never the password.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(p) => p.display().to_string(),
            Self::Postgres(c) => {
                let hosts: Vec<String> = c
                    .get_hosts()
                    .iter()
                    .map(|h| match h {
                        postgres::config::Host::Tcp(name) => name.clone(),
                        postgres::config::Host::Unix(path) => path.display().to_string(),
                    })
                    .collect();
                let ports: Vec<String> = c.get_ports().iter().map(u16::to_string).collect();
                format!(
                    "postgresql database {} as user {} on {}{}",
                    c.get_dbname().unwrap_or("(default)"),
                    c.get_user().unwrap_or("(default)"),
                    if hosts.is_empty() {
                        "(default host)".to_owned()
                    } else {
                        hosts.join(",")
                    },
                    if ports.is_empty() {
                        String::new()
                    } else {
                        format!(" port {}", ports.join(","))
                    }
                )
            }
        }
    }
}

/// Why a `--postgres` / `--postgres-url-file` target was refused.
#[derive(Debug)]
pub enum TargetError {
    /// The connection string does not parse.
    Parse(postgres::Error),
    /// `--postgres` holds a password.
    PasswordOnCommandLine,
    /// The URL file cannot be read or is empty.
    UrlFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => write!(f, "invalid PostgreSQL connection string: {e}"),
            Self::PasswordOnCommandLine => write!(
                f,
                "--postgres must not hold a password (the command line is visible to every \
                 user): set PGPASSWORD or use --postgres-url-file FILE"
            ),
            Self::UrlFile { path, reason } => write!(
                f,
                "cannot read the PostgreSQL URL file {}: {reason}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for TargetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Parse(e) => Some(e),
            Self::PasswordOnCommandLine | Self::UrlFile { .. } => None,
        }
    }
}

/// A database error, with the statement it came from when there is one.
#[derive(Debug)]
pub enum StoreError {
    /// Opening or connecting failed.
    Connect {
        /// The target, as [`Target::describe`] shows it.
        target: String,
        /// The driver's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A statement failed.
    Statement {
        /// The SQL text (no parameter values, which are journal data).
        sql: String,
        /// The driver's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { target, source } => write!(f, "cannot open {target}: {source}"),
            Self::Statement { sql, source } => {
                let sql: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
                write!(f, "statement failed: {source} (in: {sql})")
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Statement { source, .. } => Some(source.as_ref()),
        }
    }
}

fn statement_error(sql: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Statement {
        sql: sql.to_owned(),
        source: Box::new(e),
    }
}

/// An open database connection.
pub struct Store {
    inner: Inner,
}

#[allow(
    clippy::large_enum_variant,
    reason = "one value per process, never moved after opening"
)]
enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres {
        client: postgres::Client,
        statements: HashMap<String, postgres::Statement>,
    },
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// How long a PostgreSQL connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Opens the SQLite file or connects to the PostgreSQL server of `target`.
    ///
    /// # Errors
    /// [`StoreError::Connect`].
    pub fn open(target: &Target) -> Result<Self, StoreError> {
        let connect = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Connect {
            target: target.describe(),
            source: e,
        };
        let inner = match target {
            Target::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).map_err(|e| connect(Box::new(e)))?;
                // Another reader (a dashboard) may hold the file briefly.
                conn.busy_timeout(Duration::from_secs(10))
                    .map_err(|e| connect(Box::new(e)))?;
                Inner::Sqlite(conn)
            }
            Target::Postgres(config) => {
                let mut config = (**config).clone();
                if config.get_connect_timeout().is_none() {
                    config.connect_timeout(CONNECT_TIMEOUT);
                }
                let client = config
                    .connect(postgres::NoTls)
                    .map_err(|e| connect(Box::new(e)))?;
                Inner::Postgres {
                    client,
                    statements: HashMap::new(),
                }
            }
        };
        Ok(Self { inner })
    }

    /// Returns the backend.
    #[must_use]
    pub const fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Runs one or more statements without parameters (DDL, `BEGIN`, `COMMIT`).
    ///
    /// # Errors
    /// [`StoreError::Statement`].
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match &mut self.inner {
            Inner::Sqlite(conn) => conn.execute_batch(sql).map_err(|e| statement_error(sql, e)),
            Inner::Postgres { client, .. } => client
                .batch_execute(sql)
                .map_err(|e| statement_error(sql, e)),
        }
    }

    /// Executes `sql` (placeholders `$1`, `$2`, ...) with `params`; returns the rows affected.
    ///
    /// # Errors
    /// [`StoreError::Statement`].
    pub fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        match &mut self.inner {
            Inner::Sqlite(conn) => {
                let sqlite_sql = sql.replace('$', "?");
                let mut stmt = conn
                    .prepare_cached(&sqlite_sql)
                    .map_err(|e| statement_error(sql, e))?;
                let n = stmt
                    .execute(rusqlite::params_from_iter(params.iter().map(sqlite_value)))
                    .map_err(|e| statement_error(sql, e))?;
                Ok(n as u64)
            }
            Inner::Postgres { client, statements } => {
                let stmt = pg_prepare(client, statements, sql)?;
                let owned: Vec<PgValue> = params.iter().map(PgValue::from).collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    owned.iter().map(PgValue::as_param).collect();
                client
                    .execute(&stmt, &refs)
                    .map_err(|e| statement_error(sql, e))
            }
        }
    }

    /// Runs a query returning at most one row of one `BIGINT` column; `None` when there is no
    /// row or the value is NULL.
    ///
    /// # Errors
    /// [`StoreError::Statement`].
    pub fn query_int(&mut self, sql: &str, params: &[SqlValue]) -> Result<Option<i64>, StoreError> {
        match &mut self.inner {
            Inner::Sqlite(conn) => {
                let sqlite_sql = sql.replace('$', "?");
                let mut stmt = conn
                    .prepare_cached(&sqlite_sql)
                    .map_err(|e| statement_error(sql, e))?;
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(params.iter().map(sqlite_value)))
                    .map_err(|e| statement_error(sql, e))?;
                match rows.next().map_err(|e| statement_error(sql, e))? {
                    Some(row) => row
                        .get::<_, Option<i64>>(0)
                        .map_err(|e| statement_error(sql, e)),
                    None => Ok(None),
                }
            }
            Inner::Postgres { client, statements } => {
                let stmt = pg_prepare(client, statements, sql)?;
                let owned: Vec<PgValue> = params.iter().map(PgValue::from).collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    owned.iter().map(PgValue::as_param).collect();
                let row = client
                    .query_opt(&stmt, &refs)
                    .map_err(|e| statement_error(sql, e))?;
                match row {
                    Some(row) => row
                        .try_get::<_, Option<i64>>(0)
                        .map_err(|e| statement_error(sql, e)),
                    None => Ok(None),
                }
            }
        }
    }

    /// Runs a query returning at most one row of one `TEXT` column.
    ///
    /// # Errors
    /// [`StoreError::Statement`].
    pub fn query_text(&mut self, sql: &str) -> Result<Option<String>, StoreError> {
        match &mut self.inner {
            Inner::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql).map_err(|e| statement_error(sql, e))?;
                let mut rows = stmt.query([]).map_err(|e| statement_error(sql, e))?;
                match rows.next().map_err(|e| statement_error(sql, e))? {
                    Some(row) => row
                        .get::<_, Option<String>>(0)
                        .map_err(|e| statement_error(sql, e)),
                    None => Ok(None),
                }
            }
            Inner::Postgres { client, .. } => {
                let row = client
                    .query_opt(sql, &[])
                    .map_err(|e| statement_error(sql, e))?;
                match row {
                    Some(row) => row
                        .try_get::<_, Option<String>>(0)
                        .map_err(|e| statement_error(sql, e)),
                    None => Ok(None),
                }
            }
        }
    }

    /// True when a table named `name` exists (in SQLite's main database, or PostgreSQL's
    /// current schema).
    ///
    /// # Errors
    /// [`StoreError::Statement`].
    pub fn table_exists(&mut self, name: &str) -> Result<bool, StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        };
        Ok(self
            .query_int(sql, &[SqlValue::Text(Some(name.to_owned()))])?
            .unwrap_or(0)
            > 0)
    }
}

fn pg_prepare(
    client: &mut postgres::Client,
    statements: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement, StoreError> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let stmt = client.prepare(sql).map_err(|e| statement_error(sql, e))?;
    statements.insert(sql.to_owned(), stmt.clone());
    Ok(stmt)
}

fn sqlite_value(v: &SqlValue) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        SqlValue::Int(Some(i)) => V::Integer(*i),
        SqlValue::Real(Some(x)) => V::Real(*x),
        SqlValue::Text(Some(s)) => V::Text(s.clone()),
        SqlValue::Bool(Some(b)) => V::Integer(i64::from(*b)),
        SqlValue::Time(Some(ns)) => V::Text(format_ts(TimestampNs(*ns))),
        SqlValue::Int(None)
        | SqlValue::Real(None)
        | SqlValue::Text(None)
        | SqlValue::Bool(None)
        | SqlValue::Time(None) => V::Null,
    }
}

/// A parameter in the form the `postgres` crate binds.
enum PgValue {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Time(Option<SystemTime>),
}

impl From<&SqlValue> for PgValue {
    fn from(v: &SqlValue) -> Self {
        match v {
            SqlValue::Int(x) => Self::Int(*x),
            SqlValue::Real(x) => Self::Real(*x),
            SqlValue::Text(x) => Self::Text(x.clone()),
            SqlValue::Bool(x) => Self::Bool(*x),
            SqlValue::Time(x) => Self::Time(x.map(system_time)),
        }
    }
}

impl PgValue {
    fn as_param(&self) -> &(dyn postgres::types::ToSql + Sync) {
        match self {
            Self::Int(x) => x,
            Self::Real(x) => x,
            Self::Text(x) => x,
            Self::Bool(x) => x,
            Self::Time(x) => x,
        }
    }
}

/// Converts ns since the epoch (negative: before it) to a `SystemTime`.
fn system_time(ns: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(ns.unsigned_abs());
    if ns >= 0 {
        SystemTime::UNIX_EPOCH + magnitude
    } else {
        SystemTime::UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_on_the_command_line_is_refused_and_pgpassword_fills_it_in() {
        assert!(matches!(
            Target::postgres_from_arg("postgresql://u:secret@127.0.0.1:5432/db", None),
            Err(TargetError::PasswordOnCommandLine)
        ));
        let t = Target::postgres_from_arg("postgresql://u@127.0.0.1:5433/db", Some("pw")).unwrap();
        let Target::Postgres(c) = &t else {
            panic!("not postgres")
        };
        assert_eq!(c.get_password(), Some(&b"pw"[..]));
        let shown = format!("{} {:?}", t.describe(), t);
        assert!(!shown.contains("pw"), "{shown}");
        assert!(
            shown.contains("database db as user u on 127.0.0.1 port 5433"),
            "{shown}"
        );
    }

    #[test]
    fn a_url_file_may_hold_the_password_which_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("url");
        std::fs::write(
            &file,
            "\n  host=/run/pg user=exporter password=hunter2 dbname=te\n",
        )
        .unwrap();
        let t = Target::postgres_from_file(&file, Some("other")).unwrap();
        let Target::Postgres(c) = &t else {
            panic!("not postgres")
        };
        assert_eq!(c.get_password(), Some(&b"hunter2"[..]));
        assert!(!format!("{} {:?}", t.describe(), t).contains("hunter2"));
        std::fs::write(&file, "\n").unwrap();
        assert!(matches!(
            Target::postgres_from_file(&file, None),
            Err(TargetError::UrlFile { .. })
        ));
    }

    #[test]
    fn times_before_and_after_the_epoch_convert_exactly_to_system_time() {
        assert_eq!(
            system_time(1_500_000_000)
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap(),
            Duration::from_nanos(1_500_000_000)
        );
        assert_eq!(
            SystemTime::UNIX_EPOCH
                .duration_since(system_time(-2_000))
                .unwrap(),
            Duration::from_nanos(2_000)
        );
    }
}
