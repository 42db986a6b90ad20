//! The command line of `journal-dump`: arguments (clap) and the dispatch to the commands.
//!
//! Consumes parsed [`Args`]; produces output on the given writers and an exit status: 0 clean,
//! 1 error (bad arguments, unreadable journal, failed output), 2 corruption found. Never
//! opens the journal for writing.

use std::io::Write;
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::Parser;

use super::export::{self, Target};
use super::list::{self, Format};
use super::{latency, stats, trades, verify, DumpError, Filter, Follow, Outcome};

/// Polling interval of `--follow` at the end of the journal.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// `journal-dump` arguments.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "journal-dump",
    version,
    about = "Print, filter, summarise, export or verify an engine journal (read-only)",
    after_help = "TIME: RFC 3339 (2025-01-01T12:00:00Z), YYYY-MM-DD[THH:MM[:SS]] (UTC) or epoch \
                  milliseconds; --from is inclusive, --to exclusive, on the record time.\n\
                  Exit status: 0 clean, 1 error, 2 corruption found (the records before it are \
                  still printed)."
)]
pub struct Args {
    /// Journal directory (the engine's journal_dir).
    pub dir: PathBuf,
    /// Output format (records; --stats and --latency know text and json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Only records of these types: repeat the option or separate with commas
    /// (`--type trade_closed,stream`).
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Only records at or after TIME.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only records before TIME.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Keep reading records a live engine appends (until Ctrl-C or SIGTERM); with --sqlite
    /// or --postgres, keep the database current.
    #[arg(long, conflicts_with_all = ["stats", "trades", "latency", "verify"])]
    pub follow: bool,
    /// With --follow: stop after SECS seconds.
    #[arg(long, value_name = "SECS", requires = "follow")]
    pub follow_timeout: Option<f64>,
    /// Record counts by type, time span, equity, trades, halts, gaps, reconnects.
    #[arg(long, conflicts_with_all = ["trades", "latency", "sqlite", "verify"])]
    pub stats: bool,
    /// Closed trades as CSV (the columns of the backtest's trades.csv).
    #[arg(long, conflicts_with_all = ["latency", "sqlite", "verify", "types"])]
    pub trades: bool,
    /// Latency percentiles per stage and tick-to-order from the journaled frame timings.
    #[arg(long, conflicts_with_all = ["sqlite", "verify", "types"])]
    pub latency: bool,
    /// Export trades, fills, orders, positions, equity, daily metrics, risk rejections and
    /// system events into the SQLite file FILE (created when missing), resuming where the last
    /// export into it ended.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["verify", "types", "from", "to"])]
    pub sqlite: Option<PathBuf>,
    /// Export like --sqlite into a PostgreSQL database: a URL
    /// (postgresql://user@host:port/db) or key=value string (host=/run/postgresql dbname=te).
    /// It must not hold a password: the password comes from PGPASSWORD or --postgres-url-file.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with_all = ["sqlite", "verify", "types", "from", "to", "stats", "trades", "latency"]
    )]
    pub postgres: Option<String>,
    /// Export into the PostgreSQL database whose URL (which may hold the password) is the
    /// first line of FILE.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["postgres", "sqlite", "verify", "types", "from", "to", "stats", "trades", "latency"]
    )]
    pub postgres_url_file: Option<PathBuf>,
    /// With an export: commit at most N records per transaction (a transaction also ends
    /// after 0.5 s and whenever the journal has no new record).
    #[arg(long, value_name = "N", default_value_t = export::BATCH_RECORDS)]
    pub commit_records: u64,
    /// Check every checksum; report the first corruption with segment and offset.
    #[arg(long, conflicts_with_all = ["types", "from", "to"])]
    pub verify: bool,
}

/// Runs the command `args` asks for; returns the exit status. Errors are printed on `err`; a
/// closed output pipe ends the dump quietly with status 0.
/// `stop` ends `--follow` when set (the binary sets it on SIGINT / SIGTERM).
pub fn run(args: &Args, stop: &AtomicBool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match dispatch(args, stop, out, err) {
        Ok(outcome) => outcome.exit_code(),
        // `journal-dump DIR | head`: the reader went away; not an error.
        Err(DumpError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            let _ = writeln!(err, "journal-dump: {e}");
            1
        }
    }
}

fn dispatch(
    args: &Args,
    stop: &AtomicBool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, DumpError> {
    if args.verify {
        return verify::verify(&args.dir, out);
    }
    let filter = Filter::try_new(&args.types, args.from.as_deref(), args.to.as_deref())?;
    if args.stats {
        let (st, outcome) = stats::compute(&args.dir, &filter, err)?;
        match args.format {
            Format::Json => writeln!(out, "{}", st.to_json())?,
            Format::Text | Format::Csv => write!(out, "{}", st.to_text())?,
        }
        return Ok(outcome);
    }
    if args.trades {
        let (rows, outcome) = trades::collect(&args.dir, &filter, err)?;
        out.write_all(trades::to_csv(&rows).as_bytes())?;
        return Ok(outcome);
    }
    if args.latency {
        let (report, outcome) = latency::compute(&args.dir, &filter, err)?;
        write!(out, "{}", report.render(args.format))?;
        if args.format == Format::Json {
            writeln!(out)?;
        }
        return Ok(outcome);
    }
    let follow = args.follow.then(|| Follow {
        stop,
        timeout: args
            .follow_timeout
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64),
        poll: FOLLOW_POLL,
    });
    if let Some(target) = export_target(args)? {
        let (summary, outcome) =
            export::export(&args.dir, &target, follow, args.commit_records, err)?;
        writeln!(out, "{}", summary.line(&target))?;
        return Ok(outcome);
    }
    list::list(&args.dir, &filter, args.format, follow, out, err)
}

/// The export target of `--sqlite` / `--postgres` / `--postgres-url-file`, if any. The
/// PostgreSQL password comes from `PGPASSWORD` (or the URL file), never the command line.
fn export_target(args: &Args) -> Result<Option<Target>, DumpError> {
    let password = std::env::var("PGPASSWORD").ok();
    if let Some(file) = &args.sqlite {
        return Ok(Some(Target::Sqlite(file.clone())));
    }
    if let Some(url) = &args.postgres {
        return Target::postgres_from_arg(url, password.as_deref())
            .map(Some)
            .map_err(DumpError::Target);
    }
    if let Some(file) = &args.postgres_url_file {
        return Target::postgres_from_file(file, password.as_deref())
            .map(Some)
            .map_err(DumpError::Target);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// An output whose reader went away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    /// An output that fails otherwise.
    struct FullDisk;

    impl Write for FullDisk {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::StorageFull))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn journal_with_one_record() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut w = journal::Writer::open(
            dir.path(),
            journal::WriterOptions {
                segment_bytes: 4096,
                durability: journal::Durability::None,
                prefault: false,
                precreate_next: false,
            },
        )
        .unwrap();
        w.append(3, 1, &5_i64.to_le_bytes()).unwrap();
        w.close().unwrap();
        dir
    }

    #[test]
    fn closed_output_pipe_ends_quietly_but_other_output_errors_exit_one() {
        let dir = journal_with_one_record();
        let args = Args::parse_from([Path::new("journal-dump"), dir.path()]);
        let stop = AtomicBool::new(false);
        let mut err = Vec::new();
        assert_eq!(run(&args, &stop, &mut ClosedPipe, &mut err), 0);
        assert!(err.is_empty());
        assert_eq!(run(&args, &stop, &mut FullDisk, &mut err), 1);
        assert!(String::from_utf8(err)
            .unwrap()
            .contains("cannot write the output"));
    }

    #[test]
    fn listing_through_the_library_prints_the_clock_record() {
        let dir = journal_with_one_record();
        let args = Args::parse_from([Path::new("journal-dump"), dir.path()]);
        let mut out = Vec::new();
        let mut err = Vec::new();
        assert_eq!(run(&args, &AtomicBool::new(false), &mut out, &mut err), 0);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(" clock ") && text.contains("1970-01-01T00:00:00.000000005Z"),
            "{text}"
        );
    }
}
