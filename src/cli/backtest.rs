//! `trading-engine backtest`: runs the strategies over Binance klines or
//! aggTrades files against the simulated exchange and writes the report.
//!
//! Consumes the command-line arguments, an optional config file and data
//! files of one or several symbols; produces `report.json`, `trades.csv`,
//! `equity.csv`, `equity.svg`, `fills.csv`, `funding.csv` (with
//! `--funding`) and optionally `chart.html` in `--out`, the summary tables
//! and the throughput on stdout, and a progress indicator on stderr
//! (terminal only). Cold path.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

use crate::backtest::{self, dates::parse_date_ms, BacktestError, Instrument, PortfolioOptions};
use crate::config::{Config, ConfigError, StrategyName};
use crate::datafile::symbol::{group_by_symbol, DataArg, SymbolError};
use crate::datafile::synthetic;
use crate::io::dto::{parse_bare, parse_data, Contract};
use crate::types::{DecimalStep, InstrumentRules, Price, Qty};

/// Arguments of `trading-engine backtest`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Backtest the strategies on Binance klines or aggTrades files",
    long_about = "Runs the engine core (candles, indicators, strategies, signals, risk, positions) over \
Binance klines or aggTrades CSV files (auto-detected) against the simulated exchange. Market orders fill \
at the next trade (trades data) or the candle close (klines) with config slippage; stops and targets \
trigger on every trade or on candle high/low with the stop first. Files of several symbols (named by \
their Binance file names or SYMBOL=FILE) run as one portfolio through one core with one equity. Writes \
DIR/report.json, trades.csv, equity.csv, equity.svg and fills.csv (and funding.csv with --funding, \
chart.html with --chart), and prints a summary per strategy, combined and per symbol."
)]
pub struct BacktestArgs {
    /// Data files (klines or aggTrades, all of one kind), merged in
    /// exchange-time order. The symbol comes from a Binance public-data file
    /// name (ETHUSDT-1m-2023-07.zip, binance-futures-ETHUSDT-1m-….csv) or
    /// from SYMBOL=FILE; several symbols make a portfolio backtest.
    #[arg(
        long = "data",
        value_name = "FILE",
        required_unless_present = "synthetic",
        conflicts_with = "synthetic",
        num_args = 1..
    )]
    pub data: Vec<PathBuf>,
    /// Instead of --data: generate DAYS of a deterministic synthetic 1m market
    /// (written to DIR/synthetic-klines.csv, then backtested like any file).
    /// For trying the engine without a data set; not for judging strategies.
    #[arg(long, value_name = "DAYS")]
    pub synthetic: Option<u32>,
    /// Seed of the synthetic market.
    #[arg(long, value_name = "SEED", default_value_t = 1, requires = "synthetic")]
    pub seed: u64,
    /// Config file (default: the built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR", default_value = "backtest-out")]
    pub out: PathBuf,
    /// First day to use, YYYY-MM-DD (UTC, inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// Last day to use, YYYY-MM-DD (UTC, inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// Run only the registry strategy NAME (a `[strategies.NAME]` table;
    /// enabled for this run even when the config disables it).
    #[arg(long, value_name = "NAME")]
    pub strategy: Option<String>,
    /// Instrument rules.
    #[command(flatten)]
    pub instrument: InstrumentArgs,
    /// Also write DIR/chart.html: candles, indicators, entries, exits and
    /// stops per symbol, equity and drawdown (self-contained, zoomable).
    #[arg(long)]
    pub chart: bool,
    /// Print the seed's reported figures under the summary table.
    #[arg(long)]
    pub compare_seed: bool,
    /// Funding-rate files (Binance public-data `fundingRate` layout, .csv or
    /// .zip, header optional), each `SYMBOL=FILE` or named like
    /// `ETHUSDT-fundingRate-2023-07.zip`. Every open position pays or
    /// receives qty x mark x rate at each settlement; without this flag the
    /// report says `funding: not modelled`.
    #[arg(long = "funding", value_name = "FILE", num_args = 1..)]
    pub funding: Vec<PathBuf>,
    /// Mark-price klines files (any interval) for the settlements, matched
    /// to symbols like --funding; without them (or where they do not price a
    /// settlement instant) the last trade or 1m close before it is the mark.
    #[arg(long = "mark", value_name = "FILE", num_args = 1.., requires = "funding")]
    pub mark: Vec<PathBuf>,
}

/// The instrument-rule flags of `backtest`, `sweep` and `walkforward`.
///
/// Each symbol's rules come from, field by field: the flags (one symbol
/// only), else its `--contracts` entry, else its `[market.instruments.SYMBOL]`
/// table, else (one symbol only) the defaults 2 / 3 / 5.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstrumentArgs {
    /// Quantity step of the instrument, decimal places (3 = 0.001); one
    /// symbol only [default: 3, or its contract or config table].
    #[arg(long, value_name = "DECIMALS")]
    pub qty_decimals: Option<u8>,
    /// Price tick of the instrument, decimal places (2 = 0.01); one symbol
    /// only [default: 2, or its contract or config table].
    #[arg(long, value_name = "DECIMALS")]
    pub price_decimals: Option<u8>,
    /// Smallest order notional, quote currency; one symbol only [default:
    /// 5, or its contract or config table].
    #[arg(long, value_name = "QUOTE")]
    pub min_notional: Option<f64>,
    /// A saved BingX contracts response (GET /openApi/swap/v2/quote/contracts,
    /// `data contracts`): the tick, step and minimum notional of every
    /// symbol. With several symbols, each needs this or a
    /// `[market.instruments.SYMBOL]` table.
    #[arg(long, value_name = "FILE")]
    pub contracts: Option<PathBuf>,
}

/// The rules of the single-symbol defaults (`--price-decimals 2
/// --qty-decimals 3 --min-notional 5`).
const DEFAULT_RULES: (u8, u8, f64) = (2, 3, 5.0);

impl InstrumentArgs {
    /// Returns whether any of the three rule flags was given.
    fn any_flag(&self) -> bool {
        self.qty_decimals.is_some() || self.price_decimals.is_some() || self.min_notional.is_some()
    }

    /// Resolves the rules of every symbol of `groups` (see the type's doc).
    ///
    /// # Errors
    /// [`BacktestCliError::Argument`] naming the flag, file or symbols.
    pub fn resolve(
        &self,
        cfg: &Config,
        groups: Vec<(String, Vec<PathBuf>)>,
    ) -> Result<Vec<Instrument>, BacktestCliError> {
        for (flag, v) in [
            ("--qty-decimals", self.qty_decimals),
            ("--price-decimals", self.price_decimals),
        ] {
            if v.is_some_and(|d| d > crate::config::MAX_RULE_DECIMALS) {
                return Err(BacktestCliError::Argument(format!(
                    "{flag} must be at most {}",
                    crate::config::MAX_RULE_DECIMALS
                )));
            }
        }
        let min_notional = self
            .min_notional
            .map(|v| {
                Price::from_f64(v)
                    .filter(|p| *p >= Price::ZERO)
                    .ok_or_else(|| {
                        BacktestCliError::Argument(format!("--min-notional: out of range: {v}"))
                    })
            })
            .transpose()?;
        if groups.len() > 1 && self.any_flag() {
            let names: Vec<&str> = groups.iter().map(|g| g.0.as_str()).collect();
            return Err(BacktestCliError::Argument(format!(
                "--data holds {} symbols ({}): --qty-decimals/--price-decimals/--min-notional describe one symbol; give each symbol's rules with --contracts FILE or [market.instruments.SYMBOL] in the config",
                names.len(),
                names.join(", ")
            )));
        }
        let contracts = self.contracts.as_deref().map(load_contracts).transpose()?;
        let shown = || shown(self.contracts.as_deref());
        let mut instruments = Vec::with_capacity(groups.len());
        let mut missing = Vec::new();
        for (symbol, files) in groups {
            let from_contract = contracts
                .iter()
                .flatten()
                .find(|c| c.symbol == symbol)
                .map(|c| {
                    c.rules().ok_or_else(|| {
                        BacktestCliError::Argument(format!(
                            "--contracts {}: contract {symbol} has out-of-range precisions",
                            shown()
                        ))
                    })
                })
                .transpose()?;
            let base = from_contract.or_else(|| cfg.market.instrument_rules(&symbol));
            let rules = match base {
                Some(r) => r,
                None if contracts.is_some() => {
                    return Err(BacktestCliError::Argument(format!(
                        "--contracts {}: no contract {symbol} (needed for {}) and no [market.instruments.{symbol}] in the config",
                        shown(),
                        files
                            .first()
                            .map_or(String::new(), |p| p.display().to_string())
                    )));
                }
                None => {
                    missing.push(symbol.clone());
                    let (price, qty, notional) = DEFAULT_RULES;
                    InstrumentRules::from_decimals(price, qty, notional).ok_or_else(|| {
                        BacktestCliError::Argument("the default rules are out of range".into())
                    })?
                }
            };
            instruments.push(Instrument {
                symbol,
                files,
                rules: self.overridden(rules, min_notional),
            });
        }
        if instruments.len() > 1 && !missing.is_empty() {
            return Err(BacktestCliError::Argument(format!(
                "--data holds {} symbols; no tick, step and minimum notional for {}: give them with --contracts FILE (a saved BingX contracts response, `data contracts`) or a [market.instruments.SYMBOL] table in the config",
                instruments.len(),
                missing.join(", ")
            )));
        }
        Ok(instruments)
    }

    /// `rules` with the fields the flags name replaced.
    fn overridden(
        &self,
        mut rules: InstrumentRules,
        min_notional: Option<Price>,
    ) -> InstrumentRules {
        if let Some(d) = self.price_decimals {
            rules.tick = DecimalStep::from_precision(d);
        }
        if let Some(d) = self.qty_decimals {
            rules.step = DecimalStep::from_precision(d);
            rules.min_qty = Qty(rules.step.to_fixed());
        }
        if let Some(p) = min_notional {
            rules.min_notional = p;
        }
        rules
    }
}

/// Errors of `trading-engine backtest`.
#[derive(Debug)]
pub enum BacktestCliError {
    /// A bad argument, named.
    Argument(String),
    /// The config file was rejected.
    Config(ConfigError),
    /// The data arguments name no usable symbol layout.
    Symbol(SymbolError),
    /// The run failed.
    Run(BacktestError),
    /// Writing the outputs failed.
    Write(io::Error),
}

impl fmt::Display for BacktestCliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Argument(m) => write!(f, "Bad argument: {m}"),
            Self::Config(e) => write!(f, "Configuration rejected: {e}"),
            Self::Symbol(e) => write!(f, "Bad argument: {e}"),
            Self::Run(e) => write!(f, "Backtest failed: {e}"),
            Self::Write(e) => write!(f, "Cannot write the report: {e}"),
        }
    }
}

impl std::error::Error for BacktestCliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Argument(_) => None,
            Self::Config(e) => Some(e),
            Self::Symbol(e) => Some(e),
            Self::Run(e) => Some(e),
            Self::Write(e) => Some(e),
        }
    }
}

/// The data files and date range of a run.
struct DataSpan {
    data: Vec<PathBuf>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    funding: backtest::funding::FundingInputs,
}

/// Builds the config and the data span from the arguments.
fn prepare(args: &BacktestArgs) -> Result<(Config, DataSpan), BacktestCliError> {
    check_out_dir(&args.out)?;
    let mut cfg = match &args.config {
        Some(path) => Config::load(path).map_err(BacktestCliError::Config)?,
        None => Config::default(),
    };
    if let Some(name) = &args.strategy {
        let keep = StrategyName::from_name(name).ok_or_else(|| {
            BacktestCliError::Argument(format!(
                "--strategy: unknown strategy \"{name}\" ({})",
                StrategyName::list()
            ))
        })?;
        for other in StrategyName::ALL {
            cfg.strategies.set_enabled(other, other == keep);
        }
        if !cfg.strategies.order.contains(&keep) {
            cfg.strategies.order.push(keep);
        }
    }
    let day = |flag: &str, v: &Option<String>| -> Result<Option<i64>, BacktestCliError> {
        v.as_ref()
            .map(|t| {
                parse_date_ms(t).ok_or_else(|| {
                    BacktestCliError::Argument(format!("{flag}: expected YYYY-MM-DD, got \"{t}\""))
                })
            })
            .transpose()
    };
    let from_ms = day("--from", &args.from)?;
    let to_ms = day("--to", &args.to)?.map(|ms| ms + backtest::dates::MS_PER_DAY);
    let data = match args.synthetic {
        Some(days) => vec![synthesize(args, days)?],
        None => args.data.clone(),
    };
    Ok((
        cfg,
        DataSpan {
            data,
            from_ms,
            to_ms,
            funding: backtest::funding::FundingInputs {
                funding: args.funding.clone(),
                marks: args.mark.clone(),
            },
        },
    ))
}

/// Writes the synthetic market of `--synthetic DAYS` into the output directory
/// and returns its path.
/// Makes sure `--out` is (or can be made) a writable directory before any
/// work is done; every error names the path.
fn check_out_dir(dir: &std::path::Path) -> Result<(), BacktestCliError> {
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        return Err(BacktestCliError::Argument(format!(
            "--out {shown}: exists and is not a directory"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        BacktestCliError::Argument(format!("--out {shown}: cannot create the directory: {e}"))
    })?;
    let probe = dir.join(".write-probe");
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| BacktestCliError::Argument(format!("--out {shown}: not writable: {e}")))
}

fn synthesize(args: &BacktestArgs, days: u32) -> Result<PathBuf, BacktestCliError> {
    if days == 0 || days > 3650 {
        return Err(BacktestCliError::Argument(format!(
            "--synthetic: expected 1..=3650 days, got {days}"
        )));
    }
    std::fs::create_dir_all(&args.out).map_err(BacktestCliError::Write)?;
    let path = args.out.join("synthetic-klines.csv");
    let mut file = std::fs::File::create(&path).map_err(BacktestCliError::Write)?;
    synthetic::write_klines_csv(
        &mut file,
        args.seed,
        synthetic::DEFAULT_START_MS,
        u64::from(days) * 1440,
    )
    .map_err(BacktestCliError::Write)?;
    Ok(path)
}

/// Builds the portfolio from the arguments: files grouped by symbol, each
/// symbol with its rules ([`InstrumentArgs::resolve`]).
///
/// # Errors
/// [`BacktestCliError`] naming the file or symbol that is wrong.
pub fn prepare_portfolio(
    args: &BacktestArgs,
) -> Result<(Config, PortfolioOptions), BacktestCliError> {
    let (cfg, opts) = prepare(args)?;
    let parsed = opts
        .data
        .iter()
        .map(|p| DataArg::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(BacktestCliError::Symbol)?;
    let default_symbol = cfg
        .market
        .symbols
        .first()
        .map_or("BTC-USDT", String::as_str);
    let groups = group_by_symbol(&parsed, default_symbol).map_err(BacktestCliError::Symbol)?;
    let instruments = args.instrument.resolve(&cfg, groups)?;
    Ok((
        cfg,
        PortfolioOptions {
            instruments,
            from_ms: opts.from_ms,
            to_ms: opts.to_ms,
            progress_every: 1 << 20,
            chart: args.chart,
            trade_from_ms: None,
            funding: opts.funding,
        },
    ))
}

fn shown(p: Option<&std::path::Path>) -> String {
    p.map_or(String::new(), |p| p.display().to_string())
}

/// Reads a saved BingX contracts response: the whole reply
/// (`{"code":0,"data":[…]}`) or just its `data` array.
fn load_contracts(path: &std::path::Path) -> Result<Vec<Contract>, BacktestCliError> {
    let body = std::fs::read(path)
        .map_err(|e| BacktestCliError::Argument(format!("--contracts {}: {e}", path.display())))?;
    const WHAT: &str = "contracts file";
    parse_data::<Vec<Contract>>(WHAT, &body)
        .or_else(|_| parse_bare::<Vec<Contract>>(WHAT, &body))
        .map_err(|e| {
            BacktestCliError::Argument(format!(
                "--contracts {}: not a BingX contracts response: {e}",
                path.display()
            ))
        })
}

/// Runs the backtest and prints the summary and throughput to `out`.
///
/// # Errors
/// [`BacktestCliError`].
pub fn run(args: &BacktestArgs, out: &mut dyn Write) -> Result<(), BacktestCliError> {
    let (cfg, opts) = prepare_portfolio(args)?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let started = Instant::now();
    let result = backtest::run_portfolio(
        &cfg,
        &opts,
        crate::strategy::build(&cfg.strategies),
        &mut |rows| {
            bar.set_message(format!("{rows} rows"));
            bar.tick();
        },
    )
    .map_err(BacktestCliError::Run)?;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    for s in &result.symbols {
        if s.gaps > 0 {
            log::warn!(
                "Input {} ({}) has {} gaps ({} minutes without data)",
                s.symbol,
                s.files_text(),
                s.gaps,
                s.gap_minutes
            );
        }
    }
    let report = backtest::write_outputs(&result, &args.out).map_err(BacktestCliError::Write)?;
    let secs = elapsed.as_secs_f64().max(1e-9);
    let text = format!(
        "{}rows {} ({}) in {:.3} s: {:.0} rows/s\nreport: {}\n",
        report.summary(args.compare_seed),
        result.rows,
        report.input.kind,
        secs,
        result.rows as f64 / secs,
        args.out.join("report.json").display()
    );
    out.write_all(text.as_bytes())
        .map_err(BacktestCliError::Write)
}
