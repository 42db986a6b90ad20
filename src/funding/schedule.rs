//! The funding inputs of a backtest: every `--funding` and `--mark` file
//! read, matched to its symbol ([`files`](super::files)) and merged per
//! symbol (monthly archives of one symbol join into one timeline).
//!
//! Consumes command-line file arguments; produces one [`SymbolFunding`]
//! per symbol: settlements in time order and, when given, mark-price
//! candles, with [`SymbolFunding::mark_at`] saying which source priced a
//! settlement. Cold path.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::PerpDataError;
use super::files::parse_symbol_file;
use super::marks::{MarkCandle, MarkPrices};
use super::rates::{FundingRateRow, FundingRates};
use crate::types::Price;

/// Where the mark price of a settlement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MarkSource {
    /// The mark-price data at that instant.
    MarkPrice,
    /// The last trade (or 1m close) before the settlement.
    LastPrice,
}

impl MarkSource {
    /// Returns the name used in reports and `funding.csv`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MarkPrice => "mark_price",
            Self::LastPrice => "last_price",
        }
    }
}

/// The funding data of one symbol.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SymbolFunding {
    /// Funding files read for it.
    pub funding_files: Vec<PathBuf>,
    /// Mark-price files read for it.
    pub mark_files: Vec<PathBuf>,
    /// Settlements, strictly increasing in time.
    pub rates: Vec<FundingRateRow>,
    /// Mark-price candles, strictly increasing in open time (empty: none given).
    pub marks: Vec<MarkCandle>,
    /// Funding intervals seen, hours, ascending.
    pub intervals_hours: Vec<u32>,
}

impl SymbolFunding {
    /// Returns the mark price at `time_ms` from the mark-price data, or
    /// `None` when no mark data prices that instant (see
    /// [`MarkPrices::at`]).
    #[must_use]
    pub fn mark_at(&self, time_ms: i64) -> Option<Price> {
        super::marks::mark_at(&self.marks, time_ms)
    }
}

/// Why the funding inputs could not be loaded.
#[derive(Debug)]
pub enum FundingLoadError {
    /// A file is unreadable or corrupt.
    Data(PerpDataError),
    /// Neither `SYMBOL=` nor the file name says which symbol a file is for.
    NoSymbol {
        /// The file.
        path: PathBuf,
    },
    /// Two files of one symbol disagree about a settlement or a candle.
    Conflict {
        /// The symbol.
        symbol: String,
        /// The file that disagrees with an earlier one.
        path: PathBuf,
        /// The time, Unix ms.
        time_ms: i64,
    },
    /// Mark-price files were given for a symbol without funding files.
    MarkWithoutFunding {
        /// The symbol.
        symbol: String,
    },
}

impl fmt::Display for FundingLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Data(e) => write!(f, "{e}"),
            Self::NoSymbol { path } => write!(
                f,
                "{}: cannot tell the symbol from the file name; give it as SYMBOL=FILE",
                path.display()
            ),
            Self::Conflict {
                symbol,
                path,
                time_ms,
            } => write!(
                f,
                "{}: {symbol} at {time_ms} ms differs from an earlier file",
                path.display()
            ),
            Self::MarkWithoutFunding { symbol } => {
                write!(f, "--mark given for {symbol} but no --funding file")
            }
        }
    }
}

impl std::error::Error for FundingLoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Data(e) => Some(e),
            _ => None,
        }
    }
}

fn symbol_for(arg: &Path) -> Result<(String, PathBuf), FundingLoadError> {
    let f = parse_symbol_file(arg);
    match f.symbol {
        Some(s) => Ok((s, f.path)),
        None => Err(FundingLoadError::NoSymbol { path: f.path }),
    }
}

/// Merges `new` rows into `into` (both time-ordered), keeping one row per
/// time; `key` is a row's time and `same` says two rows agree.
fn merge<T: Copy>(
    into: &mut Vec<T>,
    new: &[T],
    key: impl Fn(&T) -> i64,
    same: impl Fn(&T, &T) -> bool,
) -> Result<(), i64> {
    let mut by_time: BTreeMap<i64, T> = into.iter().map(|r| (key(r), *r)).collect();
    for r in new {
        match by_time.get(&key(r)) {
            Some(old) if !same(old, r) => return Err(key(r)),
            _ => {
                by_time.insert(key(r), *r);
            }
        }
    }
    *into = by_time.into_values().collect();
    Ok(())
}

/// Reads the `--funding` and `--mark` arguments (`SYMBOL=FILE` or a
/// Binance file name) into one [`SymbolFunding`] per normalized symbol.
///
/// # Errors
/// [`FundingLoadError`]: a file is unreadable or corrupt, names no symbol,
/// disagrees with another file of its symbol, or a mark file has no
/// funding file beside it.
pub fn load(
    funding: &[PathBuf],
    marks: &[PathBuf],
) -> Result<BTreeMap<String, SymbolFunding>, FundingLoadError> {
    let mut out: BTreeMap<String, SymbolFunding> = BTreeMap::new();
    for arg in funding {
        let (symbol, path) = symbol_for(arg)?;
        let rates = FundingRates::read(&path).map_err(FundingLoadError::Data)?;
        let entry = out.entry(symbol.clone()).or_default();
        merge(&mut entry.rates, &rates.rows, |r| r.time_ms, |a, b| a == b).map_err(|time_ms| {
            FundingLoadError::Conflict {
                symbol: symbol.clone(),
                path: path.clone(),
                time_ms,
            }
        })?;
        entry.intervals_hours.extend(rates.intervals_hours());
        entry.intervals_hours.sort_unstable();
        entry.intervals_hours.dedup();
        entry.funding_files.push(path);
    }
    for arg in marks {
        let (symbol, path) = symbol_for(arg)?;
        let Some(entry) = out.get_mut(&symbol) else {
            return Err(FundingLoadError::MarkWithoutFunding { symbol });
        };
        let m = MarkPrices::read(&path).map_err(FundingLoadError::Data)?;
        merge(&mut entry.marks, &m.candles, |c| c.open_ms, |a, b| a == b).map_err(|time_ms| {
            FundingLoadError::Conflict {
                symbol: symbol.clone(),
                path: path.clone(),
                time_ms,
            }
        })?;
        entry.mark_files.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn monthly_files_of_one_symbol_merge_and_others_stay_apart() {
        let d = tempfile::tempdir().unwrap();
        let a = file(
            d.path(),
            "ETHUSDT-fundingRate-2023-07.csv",
            "1688428800001,8,0.0001\n",
        );
        let b = file(
            d.path(),
            "ETHUSDT-fundingRate-2023-08.csv",
            "1690848000000,4,-0.0002\n",
        );
        let c = file(d.path(), "x.csv", "1690848000000,8,0.0003\n");
        let m = file(
            d.path(),
            "ETHUSDT-markPriceKlines-8h-2023-07.csv",
            "1688428800000,1955.5,1966,1946,1948.5,0,1688457599999,0,0,0,0,0\n",
        );
        let sol = PathBuf::from(format!("SOLUSDT={}", c.display()));
        let all = load(&[b, a, sol], &[m]).unwrap();
        let eth = &all["ETHUSDT"];
        assert_eq!(eth.rates.len(), 2);
        assert!(eth.rates[0].time_ms < eth.rates[1].time_ms);
        assert_eq!(eth.intervals_hours, vec![4, 8]);
        assert_eq!(eth.mark_at(1_688_428_800_001), Price::from_f64(1955.5));
        assert_eq!(all["SOLUSDT"].rates[0].rate, 0.0003);
        assert!(all["SOLUSDT"].marks.is_empty());
    }

    #[test]
    fn unnamed_files_conflicts_and_orphan_marks_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let x = file(d.path(), "rates.csv", "1688428800001,8,0.0001\n");
        assert!(matches!(
            load(std::slice::from_ref(&x), &[]),
            Err(FundingLoadError::NoSymbol { .. })
        ));
        let y = file(
            d.path(),
            "ETHUSDT-fundingRate-a.csv",
            "1688428800001,8,0.0002\n",
        );
        let eth = PathBuf::from(format!("ETHUSDT={}", x.display()));
        assert!(matches!(
            load(&[eth, y], &[]),
            Err(FundingLoadError::Conflict {
                time_ms: 1_688_428_800_001,
                ..
            })
        ));
        let m = file(
            d.path(),
            "BTCUSDT-markPriceKlines-8h-a.csv",
            "1688428800000,1,1,1,1,0,1688457599999,0,0,0,0,0\n",
        );
        assert!(matches!(
            load(&[], &[m]),
            Err(FundingLoadError::MarkWithoutFunding { .. })
        ));
    }
}
