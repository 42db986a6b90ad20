//! `trading-engine replay --journal DIR [--quiet]`: feeds a journal's
//! inputs through a fresh core and checks every decision against the
//! journaled one.
//!
//! Consumes a journal directory (read-only); prints the counts, the rate
//! and either "0 mismatches" or the first mismatch (the input that caused
//! it, the expected and the actual action). Exits non-zero unless every
//! record was checked: a mismatch, and a journal that cannot be read to its
//! end (a torn or damaged tail, named by segment and offset), are errors.
//! A journal whose first segments retention removed replays from its
//! oldest checkpoint, and says so. Never writes to the journal.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use crate::replay::{self, ReplayError, ReplayReport};

/// Arguments of `replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Journal directory to replay.
    #[arg(long, value_name = "DIR")]
    pub journal: PathBuf,
    /// No progress display (the summary is still printed).
    #[arg(long)]
    pub quiet: bool,
}

/// Why `replay` failed.
#[derive(Debug)]
pub enum ReplayCliError {
    /// The journal could not be read or is unusable.
    Replay(ReplayError),
    /// The journal holds no record.
    Empty(PathBuf),
    /// The journal cannot be read to its end (a torn or damaged tail):
    /// the records after `offset` were not checked.
    Incomplete {
        /// Segment file of the damage.
        segment: PathBuf,
        /// Byte offset of the damage in that file.
        offset: u64,
        /// What is wrong there.
        reason: journal::Corruption,
        /// Records checked before it.
        checked: u64,
    },
    /// A decision differs from the journal (details were printed).
    Mismatch {
        /// Sequence number of the first mismatch.
        seq: u64,
    },
    /// Writing the output failed.
    Output(io::Error),
}

impl fmt::Display for ReplayCliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Replay(e) => write!(f, "Replay failed: {e}"),
            Self::Empty(dir) => write!(
                f,
                "Replay failed: journal {} holds no record",
                dir.display()
            ),
            Self::Incomplete {
                segment,
                offset,
                reason,
                checked,
            } => {
                let dir = segment.parent().unwrap_or(segment.as_path()).display();
                write!(
                    f,
                    "Replay incomplete: only {checked} records checked, the journal cannot be read past segment {} at byte {offset}: {reason}; inspect it with `trading-engine journal verify --journal {dir}`, repair it with `trading-engine journal repair --journal {dir}` (a run also truncates a torn tail when it opens the journal)",
                    segment.display()
                )
            }
            Self::Mismatch { seq } => write!(
                f,
                "Replay mismatch: the core's decision differs from journal record {seq}"
            ),
            Self::Output(e) => write!(f, "Cannot write output: {e}"),
        }
    }
}

impl std::error::Error for ReplayCliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Replay(e) => Some(e),
            Self::Output(e) => Some(e),
            Self::Empty(_) | Self::Incomplete { .. } | Self::Mismatch { .. } => None,
        }
    }
}

impl ReplayArgs {
    /// Replays the journal and prints the report to `out`.
    ///
    /// # Errors
    /// [`ReplayCliError`]: unreadable or empty journal, or a mismatch.
    pub fn run(&self, out: &mut dyn Write) -> Result<(), ReplayCliError> {
        let bar = if self.quiet {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar
        };
        let report = replay::replay(&self.journal, &mut |c| {
            bar.set_message(format!(
                "{} records, {} inputs, {} outputs",
                c.records, c.inputs, c.outputs
            ));
            bar.tick();
        })
        .map_err(ReplayCliError::Replay)?;
        bar.finish_and_clear();
        if report.counts.records == 0 {
            return Err(ReplayCliError::Empty(self.journal.clone()));
        }
        out.write_all(summary(&self.journal, &report).as_bytes())
            .map_err(ReplayCliError::Output)?;
        if let Some(m) = report.first_mismatch {
            writeln!(out, "{m}").map_err(ReplayCliError::Output)?;
            return Err(ReplayCliError::Mismatch { seq: m.seq });
        }
        match report.torn {
            None => Ok(()),
            Some(t) => Err(ReplayCliError::Incomplete {
                segment: t.segment,
                offset: t.offset,
                reason: t.reason,
                checked: report.counts.records,
            }),
        }
    }
}

/// Returns the report text (counts, torn tail, rate, verdict).
fn summary(dir: &std::path::Path, r: &ReplayReport) -> String {
    let c = &r.counts;
    let mut s = format!(
        "journal {}\nrecords {} (inputs {}, outputs {}, sessions {}, system {}, unknown {})\nmarket trades {}, closed trades {}\n",
        dir.display(),
        c.records,
        c.inputs,
        c.outputs,
        c.sessions,
        c.system,
        c.unknown,
        c.market_trades,
        c.closed_trades,
    );
    if let Some(from) = r.started_at {
        s.push_str(&format!(
            "journal trimmed by retention: replay starts at the checkpoint at sequence {from} (the state of the records before it is restored from the checkpoint; the {} records from it on are checked; the counts include those before it)\n",
            r.next_seq.saturating_sub(from)
        ));
    }
    if c.unjournaled > 0 {
        s.push_str(&format!(
            "actions lost to a crash between an input and its outputs: {}\n",
            c.unjournaled
        ));
    }
    for change in &r.session_changes {
        s.push_str(&format!(
            "session record {}: differs from the running session{}\n",
            change.seq,
            if change.rules_changed {
                " (instrument rules differ; the core keeps the first session's)"
            } else {
                ""
            }
        ));
        for c in &change.config_changes {
            s.push_str(&format!("  reloadable change applied: {c}\n"));
        }
        if let Some(why) = &change.refused {
            s.push_str(&format!(
                "  config not applied, the running one stays: {why}\n"
            ));
        }
    }
    if let Some(t) = &r.torn {
        s.push_str(&format!(
            "journal unreadable past: {} at byte {}: {}\n",
            t.segment.display(),
            t.offset,
            t.reason
        ));
    }
    s.push_str(&format!(
        "replayed {} events in {:.3} s: {:.0} events/s\n",
        c.inputs,
        r.elapsed.as_secs_f64(),
        r.events_per_sec()
    ));
    match (&r.first_mismatch, &r.torn) {
        (None, None) => s.push_str("0 mismatches: every decision equals the journal\n"),
        (None, Some(_)) => s.push_str(&format!(
            "0 mismatches in the {} records checked; the records after the damage were NOT checked\n",
            c.records
        )),
        (Some(_), _) => {}
    }
    s
}
