//! The command line of `journal-dump`: arguments (clap) and the dispatch to the commands.
//!
//! Consumes parsed [`Args`]; produces output on the given writers and an exit status: 0 clean,
//! 1 error (bad arguments, unreadable journal, failed output), 2 corruption found.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::Parser;

use super::list::{self, Format};
use super::{latency, sqlite, stats, trades, verify, DumpError, Filter, Follow, Outcome};

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
    /// Only records of these types (repeat, or separate with commas).
    #[arg(long = "type", value_name = "TYPE", num_args = 1.., value_delimiter = ',')]
    pub types: Vec<String>,
    /// Only records at or after TIME.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only records before TIME.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Keep reading records a live engine appends (until Ctrl-C).
    #[arg(long, conflicts_with_all = ["stats", "trades", "latency", "sqlite", "verify"])]
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
    /// Export trades, daily metrics and system events into the SQLite file FILE.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["verify", "types"])]
    pub sqlite: Option<PathBuf>,
    /// Check every checksum; report the first corruption with segment and offset.
    #[arg(long, conflicts_with_all = ["types", "from", "to"])]
    pub verify: bool,
}

/// Runs the command `args` asks for; returns the exit status. Errors are printed on `err`.
/// `stop` ends `--follow` when set (the binary sets it on SIGINT / SIGTERM).
pub fn run(args: &Args, stop: &AtomicBool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match dispatch(args, stop, out, err) {
        Ok(outcome) => outcome.exit_code(),
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
    if let Some(file) = &args.sqlite {
        let (counts, outcome) = sqlite::export(&args.dir, &filter, file, err)?;
        writeln!(
            out,
            "Exported {} trades, {} days, {} events into {}",
            counts.trades,
            counts.days,
            counts.events,
            file.display()
        )?;
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
    list::list(&args.dir, &filter, args.format, follow, out, err)
}
