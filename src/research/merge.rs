//! `trading-engine sweep merge`: shard output directories merged into one
//! `results.csv` byte-identical to the unsharded run's, with its
//! `best.toml`, `summary.json` and `sweep.json`.
//!
//! Consumes the shard directories (each finished: `results.csv` sorted by
//! id, `sweep.json`, `summary.json`); produces the merged directory.
//! Checks that the shards share every input, that shards `0..N` are all
//! there once and complete, and streams a k-way merge by id (memory holds
//! one line per shard, never the rows).

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::ResearchError;
use super::grid::Grid;
use super::manifest::{Manifest, Summary};
use super::objective::Rank;
use super::shard::Shard;
use super::sweep::{self, Leaders};
use super::table;
use crate::config::Config;

/// What a merge did.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    /// Rows written.
    pub runs: u64,
    /// Shards merged.
    pub shards: u32,
    /// The best rows, best first.
    pub top: Vec<(Rank, String)>,
    /// The header of `results.csv`.
    pub header: String,
    /// Swept keys.
    pub params: usize,
    /// The objective's name.
    pub objective: String,
}

struct ShardDir {
    dir: PathBuf,
    shard: Shard,
    reader: BufReader<File>,
    head: Option<String>,
    seconds: f64,
}

impl ShardDir {
    fn advance(&mut self) -> Result<(), ResearchError> {
        let mut line = String::new();
        let path = self.dir.join("results.csv");
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(ResearchError::io(&path))?;
        self.head = if n == 0 {
            None
        } else if line.ends_with('\n') {
            Some(line)
        } else {
            return Err(ResearchError::Corrupt {
                path,
                message: "its last row has no end of line".into(),
            });
        };
        Ok(())
    }
}

/// Merges the shard directories `dirs` into `out`.
///
/// # Errors
/// [`ResearchError::Mismatch`] when the shards are of different inputs,
/// missing, repeated or incomplete; I/O and corruption errors naming the
/// file.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<MergeOutcome, ResearchError> {
    let first_dir = dirs
        .first()
        .ok_or_else(|| ResearchError::Argument("sweep merge: give the shard directories".into()))?;
    let mut manifest: Option<Manifest> = None;
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let m = Manifest::read(dir)?.ok_or_else(|| ResearchError::Mismatch {
            path: dir.join(super::manifest::MANIFEST),
            message: "missing: not a sweep output directory".into(),
        })?;
        if let Some(first) = &manifest {
            if let Some(field) = first.difference(&m) {
                return Err(ResearchError::Mismatch {
                    path: dir.join(super::manifest::MANIFEST),
                    message: format!(
                        "its {field} differs from {}'s: shards of different sweeps",
                        first_dir.display()
                    ),
                });
            }
        }
        let shard = m.shard(dir)?;
        let csv = dir.join("results.csv");
        if !csv.exists() {
            return Err(ResearchError::Mismatch {
                path: csv,
                message: format!(
                    "missing: shard {shard} has not finished (rerun it into {} to resume)",
                    dir.display()
                ),
            });
        }
        let summary: Summary = serde_json::from_str(
            &fs::read_to_string(dir.join("summary.json"))
                .map_err(ResearchError::io(dir.join("summary.json")))?,
        )
        .map_err(|e| ResearchError::Corrupt {
            path: dir.join("summary.json"),
            message: e.to_string(),
        })?;
        let file = File::open(&csv).map_err(ResearchError::io(&csv))?;
        shards.push(ShardDir {
            dir: dir.clone(),
            shard,
            reader: BufReader::new(file),
            head: None,
            seconds: summary.seconds,
        });
        manifest.get_or_insert(m);
    }
    let Some(manifest) = manifest else {
        return Err(ResearchError::Argument(
            "sweep merge: no directories".into(),
        ));
    };
    let count = shards[0].shard.count;
    let mut seen = vec![false; count as usize];
    for s in &shards {
        if s.shard.count != count {
            return Err(ResearchError::Mismatch {
                path: s.dir.clone(),
                message: format!(
                    "shard {} is of a {}-way split, the others {count}-way",
                    s.shard, s.shard.count
                ),
            });
        }
        let slot = &mut seen[s.shard.index as usize];
        if *slot {
            return Err(ResearchError::Mismatch {
                path: s.dir.clone(),
                message: format!("shard {} is given twice", s.shard),
            });
        }
        *slot = true;
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !seen[*k as usize])
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(ResearchError::Mismatch {
            path: first_dir.clone(),
            message: format!("shards missing from the merge: {}", missing.join(", ")),
        });
    }
    let base =
        Config::from_toml_str_with_cores(&manifest.config, None).map_err(ResearchError::Config)?;
    let grid = Grid::parse(&manifest.grid, &base)?;
    let header = table::header(&grid.params);
    for s in &mut shards {
        let mut line = String::new();
        let path = s.dir.join("results.csv");
        s.reader
            .read_line(&mut line)
            .map_err(ResearchError::io(&path))?;
        if line.trim_end() != header {
            return Err(ResearchError::Mismatch {
                path,
                message: "its header differs from the grid's columns".into(),
            });
        }
        s.advance()?;
    }
    fs::create_dir_all(out).map_err(ResearchError::io(out))?;
    let csv_path = out.join("results.csv");
    let tmp = out.join("results.csv.tmp");
    let mut w = BufWriter::new(File::create(&tmp).map_err(ResearchError::io(&tmp))?);
    w.write_all(format!("{header}\n").as_bytes())
        .map_err(ResearchError::io(&tmp))?;
    let ranker = table::RowRanker::new(&header, grid.objective);
    let mut leaders = Leaders::default();
    let mut rows_per_shard = vec![0u64; count as usize];
    let mut runs = 0u64;
    let mut last_id: Option<String> = None;
    loop {
        let next = shards
            .iter()
            .enumerate()
            .filter_map(|(k, s)| s.head.as_deref().map(|h| (k, h)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(k, _)| k);
        let Some(k) = next else { break };
        let line = shards[k].head.take().unwrap_or_default();
        let path = shards[k].dir.join("results.csv");
        let rank = ranker
            .rank(line.trim_end())
            .ok_or_else(|| ResearchError::Corrupt {
                path: path.clone(),
                message: format!("row {} has the wrong number of fields", runs + 1),
            })?;
        if last_id.as_deref() >= Some(rank.id.as_str()) {
            return Err(ResearchError::Corrupt {
                path,
                message: format!("row {} is out of order or repeated across shards", rank.id),
            });
        }
        w.write_all(line.as_bytes())
            .map_err(ResearchError::io(&tmp))?;
        rows_per_shard[shards[k].shard.index as usize] += 1;
        runs += 1;
        leaders.offer(rank.clone(), &line, grid.min_trades);
        last_id = Some(rank.id);
        shards[k].advance()?;
    }
    w.flush().map_err(ResearchError::io(&tmp))?;
    drop(w);
    for s in &shards {
        let expected = (0..grid.len()).filter(|k| s.shard.owns(*k)).count() as u64;
        let got = rows_per_shard[s.shard.index as usize];
        if got != expected {
            let _ = fs::remove_file(&tmp);
            return Err(ResearchError::Mismatch {
                path: s.dir.join("results.csv"),
                message: format!(
                    "shard {} holds {got} of its {expected} parameter sets (rerun it to resume)",
                    s.shard
                ),
            });
        }
    }
    fs::rename(&tmp, &csv_path).map_err(ResearchError::io(&csv_path))?;
    let merged = Manifest {
        shard: None,
        ..manifest.clone()
    };
    merged.write(out)?;
    let top = leaders.into_rows();
    let seconds = shards.iter().map(|s| s.seconds).sum();
    sweep::finish(
        out,
        &grid,
        Shard::ALL,
        &top,
        &manifest.data_sha256,
        runs,
        0,
        seconds,
    )?;
    Ok(MergeOutcome {
        runs,
        shards: count,
        top,
        header,
        params: grid.params.len(),
        objective: grid.objective.as_str().to_owned(),
    })
}
