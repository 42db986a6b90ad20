//! `--stats`: what a journal holds, in one pass.
//!
//! Consumes journal records (after the time and type filter); produces [`Stats`]: record
//! counts by type, time span, segment count, equity at start and end (from `equity` and
//! `snapshot` records), closed trades and their PnL, halts, resumes, gaps, backfills, stream
//! events with reconnects, exchange errors, sessions and shutdowns, plus the undecodable
//! records and a corrupt tail if any. Rendered as text or as one JSON object. Never writes the
//! journal and never stops at an undecodable record (it is counted).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use trading_engine::core::{Action, Record};
use trading_engine::journal_schema::{format_ts, type_name, JournalRecord, StreamState};
use trading_engine::money::Money;
use trading_engine::types::TimestampNs;

use super::{scan, DumpError, Filter, Outcome, Step};

/// The statistics of a journal. Money values are in quote currency units.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Records counted (selected by the filter), undecodable ones included.
    pub records: u64,
    /// Counts by type name (`unknown` for tags this engine does not know).
    pub by_type: BTreeMap<String, u64>,
    /// Records whose payload could not be decoded.
    pub undecodable: u64,
    /// Sequence number of the first counted record.
    pub first_seq: Option<u64>,
    /// Sequence number of the last counted record.
    pub last_seq: Option<u64>,
    /// Header time of the first counted record, Unix ms.
    pub from_ms: Option<i64>,
    /// Header time of the last counted record, Unix ms.
    pub to_ms: Option<i64>,
    /// Segment files in the journal directory.
    pub segments: usize,
    /// Sessions started.
    pub sessions: u64,
    /// Equity of the first `equity` or `snapshot` record.
    pub equity_start: Option<f64>,
    /// Equity of the last `equity` or `snapshot` record.
    pub equity_end: Option<f64>,
    /// Closed trades (`trade_closed` records).
    pub trades: u64,
    /// Of which with a positive PnL.
    pub wins: u64,
    /// Sum of the closed trades' PnL.
    pub pnl: f64,
    /// `halted` records.
    pub halts: u64,
    /// `resumed` records.
    pub resumes: u64,
    /// `gap` records.
    pub gaps: u64,
    /// `backfill` records.
    pub backfills: u64,
    /// `stream` records.
    pub stream_events: u64,
    /// `stream` records saying a stream connected after it had connected before (per stream
    /// kind, the first connection of the journal is not a reconnect).
    pub reconnects: u64,
    /// `stream` records saying a stream was lost (disconnected or silent).
    pub disconnects: u64,
    /// `exchange_error` records.
    pub exchange_errors: u64,
    /// `shutdown` records.
    pub shutdowns: u64,
    /// The corrupt tail that stopped the scan (segment, offset and reason), if any.
    pub corrupt: Option<String>,
}

fn money_f64(m: Money) -> f64 {
    m.0 as f64 / 1e8
}

/// Counts the segment files of `dir` (`journal-<20 digits>.seg`, as the journal crate
/// names them).
fn count_segments(dir: &Path) -> Result<usize, DumpError> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let digits = name
            .strip_prefix("journal-")
            .and_then(|n| n.strip_suffix(".seg"));
        if digits.is_some_and(|d| d.len() == 20 && d.bytes().all(|b| b.is_ascii_digit())) {
            n += 1;
        }
    }
    Ok(n)
}

/// Computes the statistics of the records of `dir` selected by `filter`. A corrupt tail is
/// reported on `err` and in [`Stats::corrupt`].
///
/// # Errors
/// [`DumpError`] when the journal cannot be read.
pub fn compute(
    dir: &Path,
    filter: &Filter,
    err: &mut dyn Write,
) -> Result<(Stats, Outcome), DumpError> {
    let mut st = Stats {
        segments: count_segments(dir).unwrap_or(0),
        ..Stats::default()
    };
    let mut connected = [false; 3];
    let mut report: Vec<u8> = Vec::new();
    let outcome = scan(dir, None, &mut report, |step, _| {
        if let Step::Record(r) = step {
            if filter.matches(r.type_tag, r.ts_ns) {
                add(&mut st, &mut connected, r);
            }
        }
        Ok(())
    })?;
    if outcome == Outcome::Corrupt {
        let text = String::from_utf8_lossy(&report).trim().to_owned();
        err.write_all(&report)?;
        st.corrupt = Some(text);
    }
    Ok((st, outcome))
}

fn add(st: &mut Stats, connected: &mut [bool; 3], r: &journal::Record<'_>) {
    st.records += 1;
    st.first_seq.get_or_insert(r.seq);
    st.last_seq = Some(r.seq);
    let ms = r.ts_ns.div_euclid(1_000_000);
    st.from_ms.get_or_insert(ms);
    st.to_ms = Some(ms);
    let name = type_name(r.type_tag).unwrap_or("unknown");
    *st.by_type.entry(name.to_owned()).or_default() += 1;
    let Ok(rec) = JournalRecord::decode(r.type_tag, r.payload) else {
        st.undecodable += 1;
        return;
    };
    let mut equity = |e: Money| {
        st.equity_start.get_or_insert(money_f64(e));
        st.equity_end = Some(money_f64(e));
    };
    match rec {
        JournalRecord::Equity { equity: e, .. } => equity(e),
        JournalRecord::Snapshot(s) => equity(s.equity),
        JournalRecord::Session(_) => st.sessions += 1,
        JournalRecord::ExchangeError(_) => st.exchange_errors += 1,
        JournalRecord::Backfill { .. } => st.backfills += 1,
        JournalRecord::Shutdown { .. } => st.shutdowns += 1,
        JournalRecord::Stream(s) => {
            st.stream_events += 1;
            let k = s.stream as usize;
            match s.state {
                StreamState::Connected => {
                    if connected[k] {
                        st.reconnects += 1;
                    }
                    connected[k] = true;
                }
                StreamState::Disconnected | StreamState::Silent => st.disconnects += 1,
                StreamState::Outage | StreamState::ListenKeyRenewed => {}
            }
        }
        JournalRecord::Output(Action::Record(rec)) => match rec {
            Record::TradeClosed(t) => {
                st.trades += 1;
                st.wins += u64::from(t.pnl.0 > 0);
                st.pnl += money_f64(t.pnl);
            }
            Record::Halted { .. } => st.halts += 1,
            Record::Resumed { .. } => st.resumes += 1,
            Record::Gap { .. } => st.gaps += 1,
            _ => {}
        },
        _ => {}
    }
}

fn opt_ts(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "-".into(),
        |ms| format_ts(TimestampNs(ms.saturating_mul(1_000_000))),
    )
}

fn opt_money(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

impl Stats {
    /// Returns the statistics as text lines.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(1024);
        let span_s = match (self.from_ms, self.to_ms) {
            (Some(a), Some(b)) => format!(" ({:.1} h)", (b - a) as f64 / 3_600_000.0),
            _ => String::new(),
        };
        let lines = [
            format!("records         {}", self.records),
            format!("segments        {}", self.segments),
            format!(
                "seq             {} .. {}",
                self.first_seq.map_or("-".into(), |v| v.to_string()),
                self.last_seq.map_or("-".into(), |v| v.to_string())
            ),
            format!(
                "span            {} .. {}{span_s}",
                opt_ts(self.from_ms),
                opt_ts(self.to_ms)
            ),
            format!("sessions        {}", self.sessions),
            format!(
                "equity          {} -> {}",
                opt_money(self.equity_start),
                opt_money(self.equity_end)
            ),
            format!(
                "trades          {} ({} wins, pnl {:.2})",
                self.trades, self.wins, self.pnl
            ),
            format!("halts           {} (resumes {})", self.halts, self.resumes),
            format!(
                "gaps            {} (backfills {})",
                self.gaps, self.backfills
            ),
            format!(
                "streams         {} events, {} reconnects, {} disconnects",
                self.stream_events, self.reconnects, self.disconnects
            ),
            format!("exchange_errors {}", self.exchange_errors),
            format!("shutdowns       {}", self.shutdowns),
            format!("undecodable     {}", self.undecodable),
        ];
        for l in lines {
            s.push_str(&l);
            s.push('\n');
        }
        if let Some(c) = &self.corrupt {
            s.push_str("corrupt         ");
            s.push_str(c);
            s.push('\n');
        }
        s.push_str("by type\n");
        for (name, n) in &self.by_type {
            s.push_str(&format!("  {name:<16}{n}\n"));
        }
        s
    }

    /// Returns the statistics as one JSON object (one line).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
