//! `trading-engine sweep`: every parameter set of a grid (or of one shard
//! of it) backtested on all cores over data parsed once, written as
//! `results.csv`, `best.toml` and `summary.json`; a rerun into the same
//! directory skips the sets already done.
//!
//! Consumes a [`SweepInput`] (grid, base config, loaded data) and the
//! output directory; produces the files and a [`SweepOutcome`]. Rows are
//! appended to `DIR/results.part` as they finish (one write per row, so a
//! preempted run loses at most the rows in flight) and sorted by id into
//! `results.csv` at the end, read back by offset: memory holds ~64 bytes per
//! set, never the rows. Deterministic: `results.csv` is byte-identical
//! whatever `--jobs`, sharding (after `sweep merge`) or resumption.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::error::ResearchError;
use super::grid::{set_id, Grid};
use super::manifest::{self, Manifest, Summary};
use super::objective::Rank;
use super::pool::{self, Progress};
use super::shard::Shard;
use super::table;
use crate::backtest::stats::Stats;
use crate::backtest::{run_loaded, LoadedData, LoadedRange, Report};
use crate::config::Config;

/// The file rows are appended to while a sweep runs.
pub const PART_FILE: &str = "results.part";

/// Rows kept for the ranked table printed at the end.
pub const TOP: usize = 10;

/// Everything a sweep reads.
#[derive(Debug)]
pub struct SweepInput {
    /// The validated grid.
    pub grid: Grid,
    /// The grid file's text (recorded in the manifest).
    pub grid_text: String,
    /// The base config.
    pub base: Config,
    /// The data, parsed once.
    pub data: LoadedData,
    /// SHA-256 of the data files.
    pub data_sha256: String,
    /// First row time used, ms.
    pub from_ms: Option<i64>,
    /// Rows at or after this time are not used, ms.
    pub to_ms: Option<i64>,
}

/// How to run it.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads.
    pub jobs: usize,
    /// The part of the sweep to run.
    pub shard: Shard,
    /// No progress output.
    pub quiet: bool,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// Rows in `results.csv`.
    pub runs: u64,
    /// Rows found done and skipped.
    pub resumed: u64,
    /// The best rows, best first, with their lines (at most [`TOP`]).
    pub top: Vec<(Rank, String)>,
    /// The header of `results.csv`.
    pub header: String,
    /// Seconds of this run.
    pub seconds: f64,
}

/// Returns the combined statistics of one backtest of `cfg`: the `combined`
/// object `report.json` would hold.
///
/// # Errors
/// The backtest's error.
pub fn evaluate(
    cfg: &Config,
    data: &LoadedData,
    range: LoadedRange,
) -> Result<Stats, crate::backtest::BacktestError> {
    run_loaded(cfg, data, range).map(|r| Report::from_result(&r).combined)
}

/// Keeps the best [`TOP`] rows.
#[derive(Debug, Default)]
pub(crate) struct Leaders {
    rows: Vec<(Rank, String)>,
}

impl Leaders {
    pub(crate) fn offer(&mut self, rank: Rank, line: &str, min_trades: u64) {
        let worse_than_all = self.rows.len() >= TOP
            && self
                .rows
                .last()
                .is_some_and(|(last, _)| Rank::better(&rank, last, min_trades).is_gt());
        if worse_than_all {
            return;
        }
        self.rows.push((rank, line.trim_end().to_owned()));
        self.rows
            .sort_by(|a, b| Rank::better(&a.0, &b.0, min_trades));
        self.rows.truncate(TOP);
    }

    pub(crate) fn into_rows(self) -> Vec<(Rank, String)> {
        self.rows
    }
}

/// Runs the sweep (the shard of `opts`) into `opts.out`.
///
/// # Errors
/// [`ResearchError`]: the directory holds a sweep of other inputs, a file
/// cannot be written, a previous part file is damaged, or a backtest fails.
pub fn run(input: &SweepInput, opts: &SweepOptions) -> Result<SweepOutcome, ResearchError> {
    let started = Instant::now();
    let out = &opts.out;
    fs::create_dir_all(out).map_err(ResearchError::io(out))?;
    let manifest = Manifest {
        engine_version: crate::VERSION.to_owned(),
        data_files: input
            .data
            .files()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        data_sha256: input.data_sha256.clone(),
        from_ms: input.from_ms,
        to_ms: input.to_ms,
        rules: input.data.rules_text(),
        config: input.base.to_toml_string().map_err(ResearchError::Config)?,
        grid: input.grid_text.clone(),
        shard: (opts.shard != Shard::ALL).then(|| opts.shard.to_string()),
    };
    if let Some(old) = Manifest::read(out)? {
        if let Some(field) = old.difference(&manifest) {
            return Err(ResearchError::Mismatch {
                path: out.join(manifest::MANIFEST),
                message: format!(
                    "this directory holds a sweep with a different {field}; use another --out"
                ),
            });
        }
        if old.shard != manifest.shard {
            return Err(ResearchError::Mismatch {
                path: out.join(manifest::MANIFEST),
                message: format!(
                    "this directory holds shard {}, not {}; use another --out",
                    old.shard.as_deref().unwrap_or("(whole sweep)"),
                    manifest.shard.as_deref().unwrap_or("(whole sweep)")
                ),
            });
        }
    }
    manifest.write(out)?;
    let grid = &input.grid;
    let header = table::header(&grid.params);
    let part_path = out.join(PART_FILE);
    let csv_path = out.join("results.csv");
    if !part_path.exists() && csv_path.exists() {
        fs::rename(&csv_path, &part_path).map_err(ResearchError::io(&part_path))?;
    }
    let ranker = table::RowRanker::new(&header, grid.objective);
    let min_trades = grid.min_trades;
    let mut index: Vec<(String, u64, u32)> = Vec::new();
    let mut leaders = Leaders::default();
    let mut part = open_part(&part_path, &header, &mut |line, offset| {
        let rank = ranker.rank(line).ok_or_else(|| ResearchError::Corrupt {
            path: part_path.clone(),
            message: format!("row at byte {offset} has the wrong number of fields"),
        })?;
        index.push((
            rank.id.clone(),
            offset,
            u32::try_from(line.len() + 1).unwrap_or(0),
        ));
        leaders.offer(rank, line, min_trades);
        Ok(())
    })?;
    let resumed = index.len() as u64;
    let done: HashSet<String> = index.iter().map(|(id, _, _)| id.clone()).collect();
    let pending: Vec<usize> = (0..grid.len())
        .filter(|k| opts.shard.owns(*k))
        .filter(|k| !done.contains(&set_id(&grid.params, &grid.set(*k))))
        .collect();
    drop(done);
    let mut offset = part
        .metadata()
        .map_err(ResearchError::io(&part_path))?
        .len();
    let range = LoadedRange {
        from_ms: input.from_ms,
        trade_from_ms: None,
        to_ms: input.to_ms,
    };
    let mut progress = Progress::new("sweep", pending.len() as u64, opts.quiet);
    let work = |n: usize| -> Result<(Rank, String), ResearchError> {
        let set = grid.set(pending[n]);
        let id = set_id(&grid.params, &set);
        let cfg = grid.apply(&set)?;
        let stats =
            evaluate(&cfg, &input.data, range).map_err(|source| ResearchError::Backtest {
                assignment: super::grid::assignment_text(&grid.params, &set),
                source,
            })?;
        let rank = Rank {
            id: id.clone(),
            trades: stats.trades,
            score: grid.objective.score(&stats),
        };
        Ok((rank, table::row(&id, &set, &stats)))
    };
    pool::run(pending.len(), opts.jobs, &work, &mut |item| {
        let (rank, line) = item?;
        part.write_all(line.as_bytes())
            .map_err(ResearchError::io(&part_path))?;
        index.push((
            rank.id.clone(),
            offset,
            u32::try_from(line.len()).unwrap_or(0),
        ));
        offset += line.len() as u64;
        leaders.offer(rank, &line, min_trades);
        progress.step();
        Ok::<(), ResearchError>(())
    })?;
    progress.finish();
    index.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    write_sorted(&part, &part_path, &header, &index, &csv_path)?;
    fs::remove_file(&part_path).map_err(ResearchError::io(&part_path))?;
    let top = leaders.into_rows();
    let seconds = started.elapsed().as_secs_f64();
    finish(
        out,
        grid,
        opts.shard,
        &top,
        &input.data_sha256,
        index.len() as u64,
        resumed,
        seconds,
    )?;
    Ok(SweepOutcome {
        runs: index.len() as u64,
        resumed,
        top,
        header,
        seconds,
    })
}

/// Writes `best.toml` and `summary.json` of a finished directory.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site per command, all inputs named"
)]
pub(crate) fn finish(
    out: &Path,
    grid: &Grid,
    shard: Shard,
    top: &[(Rank, String)],
    data_sha256: &str,
    runs: u64,
    resumed: u64,
    seconds: f64,
) -> Result<(), ResearchError> {
    let best = top.first().map(|(r, _)| r.clone());
    let mut best_params = None;
    if let Some(rank) = &best {
        if let Some(set) = manifest::find_set(grid, shard, &rank.id) {
            manifest::write_best(out, grid, &set, rank)?;
            best_params = Some(super::grid::assignment_text(&grid.params, &set));
        }
    }
    manifest::write_summary(
        out,
        &Summary {
            runs,
            objective: grid.objective.as_str().to_owned(),
            best_id: best.as_ref().map(|r| r.id.clone()),
            best_score: best.as_ref().and_then(|r| r.score),
            best_trades: best.as_ref().map(|r| r.trades),
            best_params,
            min_trades: grid.min_trades,
            data_sha256: data_sha256.to_owned(),
            engine_version: crate::VERSION.to_owned(),
            shard: (shard != Shard::ALL).then(|| shard.to_string()),
            resumed,
            seconds,
        },
    )
}

/// Opens (or creates) the part file, checks its header, drops a torn last
/// line and calls `row(line, offset)` for every complete row.
fn open_part(
    path: &Path,
    header: &str,
    row: &mut dyn FnMut(&str, u64) -> Result<(), ResearchError>,
) -> Result<File, ResearchError> {
    let io = |e| ResearchError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if !path.exists() {
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        f.write_all(format!("{header}\n").as_bytes()).map_err(io)?;
        return Ok(f);
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let mut reader = BufReader::new(&file);
    let mut line = String::new();
    let mut offset = 0u64;
    let mut good_end = 0u64;
    let mut first = true;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(io)?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        let text = line.trim_end_matches('\n');
        if first {
            if text != header {
                return Err(ResearchError::Mismatch {
                    path: path.to_path_buf(),
                    message: "its header differs from this sweep's columns; use another --out"
                        .into(),
                });
            }
            first = false;
        } else {
            row(text, offset)?;
        }
        offset += n as u64;
        good_end = offset;
    }
    drop(reader);
    if first {
        file.set_len(0).map_err(io)?;
        let mut f = &file;
        f.write_all(format!("{header}\n").as_bytes()).map_err(io)?;
        good_end = header.len() as u64 + 1;
    }
    // A row cut by a preemption is dropped and rerun.
    file.set_len(good_end).map_err(io)?;
    let mut file = file;
    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(io)?;
    Ok(file)
}

/// Writes `results.csv`: the header, then the rows of `part` in `index`
/// order, through a temporary file renamed into place.
fn write_sorted(
    part: &File,
    part_path: &Path,
    header: &str,
    index: &[(String, u64, u32)],
    csv_path: &Path,
) -> Result<(), ResearchError> {
    let tmp = csv_path.with_extension("csv.tmp");
    let file = File::create(&tmp).map_err(ResearchError::io(&tmp))?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(header.as_bytes())
        .and_then(|()| w.write_all(b"\n"))
        .map_err(ResearchError::io(&tmp))?;
    let mut buf = Vec::new();
    for (id, offset, len) in index {
        buf.resize(*len as usize, 0);
        part.read_exact_at(&mut buf, *offset)
            .map_err(ResearchError::io(part_path))?;
        if !buf.starts_with(id.as_bytes()) || buf.last() != Some(&b'\n') {
            return Err(ResearchError::Corrupt {
                path: part_path.to_path_buf(),
                message: format!("row {id} at byte {offset} changed while the sweep ran"),
            });
        }
        w.write_all(&buf).map_err(ResearchError::io(&tmp))?;
    }
    w.flush().map_err(ResearchError::io(&tmp))?;
    drop(w);
    fs::rename(&tmp, csv_path).map_err(ResearchError::io(csv_path))
}

/// Returns the ranked table of `top` (best first): rank, id, trades,
/// score and the swept values.
#[must_use]
pub fn top_table(header: &str, top: &[(Rank, String)], params: usize, objective: &str) -> String {
    use std::fmt::Write as _;
    let cols = table::split(header);
    let keys = cols.get(1..=params).unwrap_or(&[]).join("  ");
    let mut s = format!(
        "{:>4}  {:<16}  {:>6}  {:>12}  {keys}\n",
        "rank", "id", "trades", objective
    );
    for (k, (rank, line)) in top.iter().enumerate() {
        let fields = table::split(line);
        let values = fields.get(1..=params).unwrap_or(&[]).join("  ");
        let score = rank
            .score
            .map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
        let _ = writeln!(
            s,
            "{:>4}  {:<16}  {:>6}  {score:>12}  {values}",
            k + 1,
            rank.id,
            rank.trades
        );
    }
    s
}
