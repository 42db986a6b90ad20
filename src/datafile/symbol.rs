//! Which symbol a data file holds: from a `SYMBOL=FILE` argument or from the
//! file name that data.binance.vision or `data download` gave it.
//!
//! Consumes command-line data arguments and file names; produces BingX symbol
//! names (`ETH-USDT`) and the files grouped per symbol. Recognised names:
//! - `ETHUSDT-1m-2023-07.zip`, `ETHUSDT-aggTrades-2023-07-01.zip` (Binance
//!   public-data archives, as `data download` keeps them);
//! - `binance-futures-ETHUSDT-1m-….csv`, `binance-spot-ETHUSDT-aggTrades-….csv`;
//! - `ETH-USDT-1m-2024-01-30.csv` (BingX days written by `data download`).
//!
//! Binance `ETHUSDT` maps to BingX `ETH-USDT` by splitting off the quote asset
//! (USDT, USDC, FDUSD, BUSD, TUSD, USD). Cold path: used once per run.

use core::fmt;
use std::path::{Path, PathBuf};

/// Quote assets recognised at the end of a Binance symbol, longest first so
/// that `FDUSD` wins over `USD`.
const QUOTES: [&str; 6] = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD"];

/// Why the data arguments could not be grouped by symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolError {
    /// A `SYMBOL=` prefix is not a symbol (`BTCUSDT` or `BTC-USDT`).
    BadSymbol {
        /// The argument as given.
        arg: String,
    },
    /// Some files name their symbol and this one does not.
    Unnamed {
        /// The file without a symbol.
        path: PathBuf,
        /// A file with one, for the message.
        named: PathBuf,
        /// That file's symbol.
        symbol: String,
    },
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadSymbol { arg } => write!(
                f,
                "--data {arg}: the part before '=' is not a symbol (expected e.g. ETHUSDT=FILE or ETH-USDT=FILE)"
            ),
            Self::Unnamed {
                path,
                named,
                symbol,
            } => write!(
                f,
                "--data {}: the symbol is not in the file name, while {} is {symbol}; give it as SYMBOL={}",
                path.display(),
                named.display(),
                path.display()
            ),
        }
    }
}

impl std::error::Error for SymbolError {}

/// One `--data` argument: a file and the symbol it names, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataArg {
    /// BingX symbol (`ETH-USDT`), from `SYMBOL=` or the file name.
    pub symbol: Option<String>,
    /// The file.
    pub path: PathBuf,
}

impl DataArg {
    /// Parses `SYMBOL=FILE` or `FILE` (the symbol then comes from the file
    /// name, if it has one). A prefix before `=` counts as a symbol only if
    /// it holds no path separator, so a path containing `=` stays a path.
    ///
    /// # Errors
    /// [`SymbolError::BadSymbol`] when the prefix looks like a symbol
    /// assignment but is not a valid symbol.
    pub fn parse(arg: &Path) -> Result<Self, SymbolError> {
        let text = arg.to_string_lossy();
        if let Some((prefix, file)) = text.split_once('=') {
            if !prefix.is_empty() && !prefix.contains(['/', '\\']) && !file.is_empty() {
                let symbol = to_bingx(prefix).ok_or_else(|| SymbolError::BadSymbol {
                    arg: text.clone().into_owned(),
                })?;
                return Ok(Self {
                    symbol: Some(symbol),
                    path: PathBuf::from(file),
                });
            }
        }
        Ok(Self {
            symbol: symbol_from_file_name(arg),
            path: arg.to_path_buf(),
        })
    }
}

/// Returns the BingX form of `symbol`: `ETHUSDT` → `ETH-USDT`; `ETH-USDT`
/// stays; lower case is upper-cased. `None` when it is not a symbol
/// (empty, other characters, or no known quote asset after a base).
#[must_use]
pub fn to_bingx(symbol: &str) -> Option<String> {
    let upper = symbol.to_ascii_uppercase();
    if let Some((base, quote)) = upper.split_once('-') {
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        return (ok(base) && ok(quote)).then_some(upper);
    }
    if upper.is_empty() || !upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    QUOTES.iter().find_map(|quote| {
        let base = upper.strip_suffix(quote)?;
        (!base.is_empty()).then(|| format!("{base}-{quote}"))
    })
}

/// Returns the BingX symbol named by a data file's name, or `None` when the
/// name does not follow one of the recognised layouts (module docs).
#[must_use]
pub fn symbol_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name
        .strip_prefix("binance-futures-")
        .or_else(|| name.strip_prefix("binance-spot-"))
        .unwrap_or(name);
    let parts: Vec<&str> = rest.split('-').collect();
    // The symbol is everything before the interval/kind token.
    let kind_at = parts.iter().position(|p| is_kind_token(p))?;
    match kind_at {
        1 => to_bingx(parts[0]),
        2 => to_bingx(&format!("{}-{}", parts[0], parts[1])),
        _ => None,
    }
}

/// True for the token after the symbol in public-data file names: a kline
/// interval (`1m`, `8h`, `1d`…) or a data kind.
fn is_kind_token(token: &str) -> bool {
    const KINDS: [&str; 6] = [
        "aggTrades",
        "trades",
        "markPriceKlines",
        "indexPriceKlines",
        "premiumIndexKlines",
        "fundingRate",
    ];
    if KINDS.contains(&token) {
        return true;
    }
    let Some(unit) = token.chars().last() else {
        return false;
    };
    let digits = &token[..token.len() - unit.len_utf8()];
    matches!(unit, 's' | 'm' | 'h' | 'd' | 'w' | 'M')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Groups data arguments by symbol, in order of first appearance; files keep
/// their order inside a group. When no argument names a symbol, all files
/// form one group under `default_symbol` (the single-symbol case: a file
/// named freely, e.g. `synthetic-klines.csv`).
///
/// # Errors
/// [`SymbolError::Unnamed`] when some files name a symbol and another does not.
pub fn group_by_symbol(
    args: &[DataArg],
    default_symbol: &str,
) -> Result<Vec<(String, Vec<PathBuf>)>, SymbolError> {
    let named = args.iter().find_map(|a| a.symbol.as_ref().map(|s| (a, s)));
    let Some((named_arg, named_symbol)) = named else {
        return Ok(vec![(
            default_symbol.to_owned(),
            args.iter().map(|a| a.path.clone()).collect(),
        )]);
    };
    let mut groups: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for a in args {
        let Some(symbol) = &a.symbol else {
            return Err(SymbolError::Unnamed {
                path: a.path.clone(),
                named: named_arg.path.clone(),
                symbol: named_symbol.clone(),
            });
        };
        match groups.iter_mut().find(|(s, _)| s == symbol) {
            Some((_, files)) => files.push(a.path.clone()),
            None => groups.push((symbol.clone(), vec![a.path.clone()])),
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str) -> Option<String> {
        symbol_from_file_name(Path::new(name))
    }

    #[test]
    fn binance_and_bingx_file_names_give_bingx_symbols() {
        assert_eq!(sym("ETHUSDT-1m-2023-07.zip").as_deref(), Some("ETH-USDT"));
        assert_eq!(
            sym("data/binance-futures-SOLUSDT-1m-2023-07-18_2023-08-17.csv").as_deref(),
            Some("SOL-USDT")
        );
        assert_eq!(
            sym("binance-spot-BTCUSDT-aggTrades-2024-08-08T23-54_2024-08-09T00-05.csv").as_deref(),
            Some("BTC-USDT")
        );
        assert_eq!(
            sym("BTCFDUSD-aggTrades-2024-01-01.zip").as_deref(),
            Some("BTC-FDUSD")
        );
        assert_eq!(
            sym("BTC-USDT-1m-2024-01-30.csv").as_deref(),
            Some("BTC-USDT")
        );
        assert_eq!(
            sym("1000PEPEUSDT-5m-2024-01.zip").as_deref(),
            Some("1000PEPE-USDT")
        );
        assert_eq!(sym("synthetic-klines.csv"), None);
        assert_eq!(sym("trades.csv"), None);
        assert_eq!(sym("my-data-1m.csv"), None);
    }

    #[test]
    fn symbol_assignment_wins_over_the_file_name_and_paths_with_equals_stay_paths() {
        let a = DataArg::parse(Path::new("xrpusdt=/tmp/any.csv")).unwrap();
        assert_eq!(a.symbol.as_deref(), Some("XRP-USDT"));
        assert_eq!(a.path, Path::new("/tmp/any.csv"));
        let b = DataArg::parse(Path::new("ETH-USDT=BTCUSDT-1m-2024-01.zip")).unwrap();
        assert_eq!(b.symbol.as_deref(), Some("ETH-USDT"));
        let c = DataArg::parse(Path::new("/data/run=3/ETHUSDT-1m-2024-01.zip")).unwrap();
        assert_eq!(c.symbol.as_deref(), Some("ETH-USDT"));
        assert_eq!(c.path, Path::new("/data/run=3/ETHUSDT-1m-2024-01.zip"));
        assert!(matches!(
            DataArg::parse(Path::new("ETH_X=file.csv")),
            Err(SymbolError::BadSymbol { .. })
        ));
        assert_eq!(to_bingx("ETHBTC"), None);
    }

    #[test]
    fn grouping_keeps_first_appearance_and_rejects_unnamed_files_among_named() {
        let args: Vec<DataArg> = [
            "SOLUSDT-1m-2023-07.zip",
            "ETHUSDT-1m-2023-07.zip",
            "SOLUSDT-1m-2023-08.zip",
        ]
        .iter()
        .map(|p| DataArg::parse(Path::new(p)).unwrap())
        .collect();
        let groups = group_by_symbol(&args, "BTC-USDT").unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, "SOL-USDT");
        assert_eq!(groups[0].1.len(), 2);
        assert_eq!(groups[1].0, "ETH-USDT");
        let free = [DataArg::parse(Path::new("synthetic-klines.csv")).unwrap()];
        assert_eq!(group_by_symbol(&free, "BTC-USDT").unwrap()[0].0, "BTC-USDT");
        let mixed = [args[0].clone(), free[0].clone()];
        let err = group_by_symbol(&mixed, "BTC-USDT").unwrap_err().to_string();
        assert!(
            err.contains("synthetic-klines.csv") && err.contains("SOL-USDT"),
            "{err}"
        );
    }
}
