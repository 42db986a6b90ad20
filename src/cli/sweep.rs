//! `trading-engine sweep` and `trading-engine sweep merge`: parameter
//! sweeps over a grid on all cores, one shard of a cluster job, and the
//! merge of shard outputs.
//!
//! Consumes the command-line arguments, a grid file, an optional config
//! and data files; produces the sweep directory (see
//! [`crate::research::sweep`]) and, on stdout, the ranked top 10 and where
//! the files are. Progress goes to stderr. Cold path.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::backtest::{prepare_portfolio, BacktestArgs, InstrumentArgs};
use super::CliError;
use crate::backtest::LoadedData;
use crate::config::Config;
use crate::research::manifest::data_sha256;
use crate::research::sweep::{self, SweepInput, SweepOptions};
use crate::research::{merge, pool, Grid, ResearchError, Shard};

/// Arguments of `trading-engine sweep`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Backtest every parameter set of a grid on all cores; rank them; shard across a cluster",
    long_about = "Backtests every parameter set of GRID.toml ([sweep]: mode = \"grid\"|\"random\", samples, seed, \
objective, min_trades; [params]: config key paths = list or { from, to, step }) over the data, read and \
parsed once and shared by --jobs worker threads. Writes DIR/results.csv (one row per set, sorted by id, \
byte-identical whatever --jobs), DIR/best.toml (a complete config, usable as backtest --config) and \
DIR/summary.json, and prints the top 10. --shard K/N (or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or \
JOB_COMPLETION_INDEX with --shards) runs one shard; 'sweep merge' joins the shards. A rerun into DIR \
skips the sets already done.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct SweepArgs {
    /// `merge`: join shard outputs.
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    /// Data files (klines or aggTrades), merged in exchange-time order; files
    /// of several symbols (named as for `backtest`) sweep the portfolio.
    #[arg(long = "data", value_name = "FILE", num_args = 1.., required = true)]
    pub data: Vec<PathBuf>,
    /// The grid: [sweep] settings and [params] to sweep.
    #[arg(long, value_name = "GRID.toml", required = true)]
    pub grid: Option<PathBuf>,
    /// Output directory (created if missing; a rerun resumes it).
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,
    /// Base config the parameters are applied to (default: built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads (default: every core the process may use).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only shard K of N (0-based); default from SLURM_ARRAY_TASK_ID and
    /// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX, else the whole sweep.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Shard count for a Kubernetes Indexed Job (its completions; or
    /// TE_SWEEP_SHARDS).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// First day to use, YYYY-MM-DD (UTC, inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// Last day to use, YYYY-MM-DD (UTC, inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// Instrument rules.
    #[command(flatten)]
    pub instrument: InstrumentArgs,
    /// Also write DIR/chart.html: the best set of this run backtested again
    /// with candles, indicators, trades, stops, equity and drawdown.
    #[arg(long)]
    pub chart: bool,
    /// No progress output on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Subcommands of `sweep`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SweepCommand {
    /// Merge shard output directories into one, byte-identical to the
    /// unsharded run's results.csv.
    Merge(MergeArgs),
}

/// Arguments of `trading-engine sweep merge`.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// Shard output directories (all N shards of one sweep).
    #[arg(value_name = "DIR", required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// Merged output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// The pieces a sweep or walk-forward reads, prepared like `backtest`.
pub(crate) struct Prepared {
    pub(crate) base: Config,
    pub(crate) grid: Grid,
    pub(crate) grid_text: String,
    pub(crate) data: LoadedData,
    pub(crate) from_ms: Option<i64>,
    pub(crate) to_ms: Option<i64>,
}

/// Loads config, grid and data with the `backtest` command's argument
/// checks.
pub(crate) fn prepare_inputs(
    data: &[PathBuf],
    grid: &Path,
    out: &Path,
    config: Option<&PathBuf>,
    (from, to): (Option<&String>, Option<&String>),
    instrument: &InstrumentArgs,
) -> Result<Prepared, CliError> {
    let args = BacktestArgs {
        data: data.to_vec(),
        synthetic: None,
        seed: 1,
        config: config.cloned(),
        out: out.to_path_buf(),
        from: from.cloned(),
        to: to.cloned(),
        strategy: None,
        instrument: instrument.clone(),
        chart: false,
        compare_seed: false,
        funding: Vec::new(),
        mark: Vec::new(),
    };
    let (base, opts) = prepare_portfolio(&args).map_err(CliError::Backtest)?;
    let grid_text = std::fs::read_to_string(grid).map_err(|source| {
        CliError::Research(ResearchError::Io {
            path: grid.to_path_buf(),
            source,
        })
    })?;
    let grid =
        Grid::parse(&grid_text, &base).map_err(|e| CliError::Research(ResearchError::Grid(e)))?;
    let data = LoadedData::load(&opts.instruments).map_err(|e| match e {
        crate::backtest::BacktestError::Data(d) => CliError::Research(ResearchError::Data(d)),
        other => CliError::Backtest(super::backtest::BacktestCliError::Run(other)),
    })?;
    Ok(Prepared {
        base,
        grid,
        grid_text,
        data,
        from_ms: opts.from_ms,
        to_ms: opts.to_ms,
    })
}

impl SweepArgs {
    /// Runs the sweep or the merge and prints the ranked table to `out`.
    ///
    /// # Errors
    /// [`CliError::Research`] (or the backtest argument errors).
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        if let Some(SweepCommand::Merge(m)) = &self.command {
            let r = merge::merge(&m.dirs, &m.out).map_err(CliError::Research)?;
            let text = format!(
                "merged {} shards: {} parameter sets\n{}results: {}\n",
                r.shards,
                r.runs,
                sweep::top_table(&r.header, &r.top, r.params, &r.objective),
                m.out.join("results.csv").display()
            );
            return out.write_all(text.as_bytes()).map_err(CliError::Output);
        }
        let (Some(grid), Some(dir)) = (&self.grid, &self.out) else {
            return Err(CliError::Research(ResearchError::Argument(
                "sweep needs --data, --grid and --out".into(),
            )));
        };
        let shard = Shard::resolve(self.shard.as_deref(), self.shards, &|k| {
            std::env::var(k).ok()
        })
        .map_err(|m| CliError::Research(ResearchError::Argument(m)))?;
        let p = prepare_inputs(
            &self.data,
            grid,
            dir,
            self.config.as_ref(),
            (self.from.as_ref(), self.to.as_ref()),
            &self.instrument,
        )?;
        let sha = data_sha256(&p.data.files()).map_err(CliError::Research)?;
        let sets = (0..p.grid.len()).filter(|k| shard.owns(*k)).count();
        let jobs = pool::jobs(self.jobs);
        if !self.quiet {
            eprintln!(
                "sweep: {sets} parameter sets (shard {shard}) on {jobs} threads, {} rows in memory",
                p.data.rows().len()
            );
        }
        let input = SweepInput {
            grid: p.grid,
            grid_text: p.grid_text,
            base: p.base,
            data: p.data,
            data_sha256: sha,
            from_ms: p.from_ms,
            to_ms: p.to_ms,
        };
        let r = sweep::run(
            &input,
            &SweepOptions {
                out: dir.clone(),
                jobs,
                shard,
                quiet: self.quiet,
            },
        )
        .map_err(CliError::Research)?;
        let ran = r.runs - r.resumed;
        let memory = peak_resident_mib().map_or_else(String::new, |m| {
            format!("; peak resident memory {m:.1} MiB")
        });
        let chart = if self.chart {
            best_chart(&input, dir, r.top.first().map(|(rank, _)| rank.id.as_str()))?
        } else {
            String::new()
        };
        let text = format!(
            "{}{} parameter sets ({} run now, {} resumed) in {:.2} s: {:.1} backtests/s{memory}\nresults: {}\n{chart}",
            sweep::top_table(&r.header, &r.top, input.grid.params.len(), input.grid.objective.as_str()),
            r.runs,
            ran,
            r.resumed,
            r.seconds,
            ran as f64 / r.seconds.max(1e-9),
            dir.join("results.csv").display()
        );
        out.write_all(text.as_bytes()).map_err(CliError::Output)
    }
}

/// Backtests the best set (`best_id`) of the finished sweep in `dir` again, collecting
/// the chart, and writes `dir/chart.html`; returns the line saying so (or
/// why there is none).
fn best_chart(input: &SweepInput, dir: &Path, best_id: Option<&str>) -> Result<String, CliError> {
    let Some(set) =
        best_id.and_then(|id| crate::research::manifest::find_set(&input.grid, Shard::ALL, id))
    else {
        return Ok("chart: no best set, no chart.html\n".into());
    };
    let cfg = input
        .grid
        .apply(&set)
        .map_err(|e| CliError::Research(ResearchError::Grid(e)))?;
    let range = crate::backtest::LoadedRange {
        from_ms: input.from_ms,
        trade_from_ms: None,
        to_ms: input.to_ms,
    };
    let result =
        crate::backtest::run_loaded_with(&cfg, &input.data, range, true).map_err(|source| {
            CliError::Research(ResearchError::Backtest {
                assignment: crate::research::grid::assignment_text(&input.grid.params, &set),
                source,
            })
        })?;
    let path = dir.join("chart.html");
    let page = crate::backtest::chart_page(&result).unwrap_or_default();
    std::fs::write(&path, page).map_err(|source| {
        CliError::Research(ResearchError::Io {
            path: path.clone(),
            source,
        })
    })?;
    Ok(format!("chart (best set): {}\n", path.display()))
}

/// Returns the process's peak resident memory in MiB (`VmHWM` of
/// `/proc/self/status`), `None` off Linux.
fn peak_resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
