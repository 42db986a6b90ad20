//! `DIR/sweep.json`: the inputs of a sweep output directory (engine
//! version, data files and their SHA-256, base config, grid text, shard),
//! and `DIR/summary.json` and `DIR/best.toml`.
//!
//! Consumes the inputs of a run; produces the manifest a resumed run and
//! `sweep merge` check before touching results, so rows of different
//! inputs never mix. Cold path.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ResearchError;
use super::grid::{assignment_text, Grid, ParamValue};
use super::objective::Rank;
use super::shard::Shard;
use crate::config::Config;

/// The manifest file name.
pub const MANIFEST: &str = "sweep.json";

/// The inputs of one sweep output directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `trading-engine --version` of the run.
    pub engine_version: String,
    /// Data files as given.
    pub data_files: Vec<String>,
    /// SHA-256 of the data files' bytes, concatenated in the order given.
    pub data_sha256: String,
    /// First day used, Unix ms (inclusive), if limited.
    pub from_ms: Option<i64>,
    /// End of the data used, Unix ms (exclusive), if limited.
    pub to_ms: Option<i64>,
    /// Instrument rules, `tick/step/min_notional` as given on the command line.
    pub rules: String,
    /// The base config, as TOML with every key.
    pub config: String,
    /// The grid file's text.
    pub grid: String,
    /// `K/N`, or `None` for the whole sweep.
    pub shard: Option<String>,
}

impl Manifest {
    /// Returns the first field other than the shard that differs from
    /// `other`, named.
    #[must_use]
    pub fn difference(&self, other: &Self) -> Option<&'static str> {
        [
            (
                "engine_version",
                self.engine_version == other.engine_version,
            ),
            ("data_sha256", self.data_sha256 == other.data_sha256),
            (
                "from/to range",
                self.from_ms == other.from_ms && self.to_ms == other.to_ms,
            ),
            ("instrument rules", self.rules == other.rules),
            ("config", self.config == other.config),
            ("grid", self.grid == other.grid),
        ]
        .into_iter()
        .find(|(_, same)| !same)
        .map(|(name, _)| name)
    }

    /// Reads `dir/sweep.json`, `None` when absent.
    ///
    /// # Errors
    /// [`ResearchError::Io`] or [`ResearchError::Corrupt`].
    pub fn read(dir: &Path) -> Result<Option<Self>, ResearchError> {
        let path = dir.join(MANIFEST);
        if !path.exists() {
            return Ok(None);
        }
        let text = fs::read_to_string(&path).map_err(ResearchError::io(&path))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ResearchError::Corrupt {
                path,
                message: e.to_string(),
            })
    }

    /// Writes `dir/sweep.json`.
    ///
    /// # Errors
    /// [`ResearchError::Io`].
    pub fn write(&self, dir: &Path) -> Result<(), ResearchError> {
        let path = dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other);
        text.and_then(|t| fs::write(&path, t + "\n"))
            .map_err(ResearchError::io(path))
    }

    /// Returns the shard of the manifest.
    ///
    /// # Errors
    /// [`ResearchError::Corrupt`] when the shard text is malformed.
    pub fn shard(&self, dir: &Path) -> Result<Shard, ResearchError> {
        self.shard
            .as_deref()
            .map_or(Ok(Shard::ALL), Shard::parse)
            .map_err(|message| ResearchError::Corrupt {
                path: dir.join(MANIFEST),
                message,
            })
    }
}

/// Returns the hex SHA-256 of the files' bytes, concatenated in order.
///
/// # Errors
/// [`ResearchError::Io`] naming the file.
pub fn data_sha256(files: &[PathBuf]) -> Result<String, ResearchError> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    for path in files {
        let mut f = fs::File::open(path).map_err(ResearchError::io(path))?;
        loop {
            let n = f.read(&mut buf).map_err(ResearchError::io(path))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// `DIR/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Rows of `results.csv`.
    pub runs: u64,
    /// The objective's name.
    pub objective: String,
    /// Id of the best set (`null` when there is none).
    pub best_id: Option<String>,
    /// The best set's score.
    pub best_score: Option<f64>,
    /// The best set's closed trades.
    pub best_trades: Option<u64>,
    /// The best set, `key=value` joined by `, `.
    pub best_params: Option<String>,
    /// Sets with fewer trades rank last.
    pub min_trades: u64,
    /// SHA-256 of the data.
    pub data_sha256: String,
    /// `trading-engine --version`.
    pub engine_version: String,
    /// `K/N`, or `None` for the whole sweep.
    pub shard: Option<String>,
    /// Rows found done in the directory and not rerun.
    pub resumed: u64,
    /// Wall-clock seconds of the run (for a merge: the sum of the shards').
    pub seconds: f64,
}

/// Writes `dir/summary.json`.
///
/// # Errors
/// [`ResearchError::Io`].
pub fn write_summary(dir: &Path, s: &Summary) -> Result<(), ResearchError> {
    let path = dir.join("summary.json");
    let text = serde_json::to_string_pretty(s).map_err(io::Error::other);
    text.and_then(|t| fs::write(&path, t + "\n"))
        .map_err(ResearchError::io(path))
}

/// Finds the set of `grid` whose id is `id` among the sets of `shard`.
#[must_use]
pub fn find_set(grid: &Grid, shard: Shard, id: &str) -> Option<Vec<ParamValue>> {
    (0..grid.len())
        .filter(|k| shard.owns(*k))
        .map(|k| grid.set(k))
        .find(|set| super::grid::set_id(&grid.params, set) == id)
}

/// Writes `dir/best.toml`: the base config with the best set applied, a
/// complete config usable as `backtest --config`.
///
/// # Errors
/// [`ResearchError::Grid`] if the set no longer validates,
/// [`ResearchError::Config`] if it cannot be rendered, or
/// [`ResearchError::Io`].
pub fn write_best(
    dir: &Path,
    grid: &Grid,
    set: &[ParamValue],
    rank: &Rank,
) -> Result<Config, ResearchError> {
    let cfg = grid.apply(set)?;
    let body = cfg.to_toml_string().map_err(ResearchError::Config)?;
    let score = rank
        .score
        .map_or_else(|| "undefined".to_string(), |s| s.to_string());
    let text = format!(
        "# Best parameter set of a sweep: id {}, {} = {score}, {} trades\n# {}\n\n{body}",
        rank.id,
        grid.objective.as_str(),
        rank.trades,
        assignment_text(&grid.params, set)
    );
    let path = dir.join("best.toml");
    fs::write(&path, text).map_err(ResearchError::io(path))?;
    Ok(cfg)
}
