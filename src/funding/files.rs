//! Which symbol a data file belongs to: `SYMBOL=FILE` as given on the
//! command line, else the symbol in a Binance public-data file name
//! (`ETHUSDT-fundingRate-2023-07.zip`,
//! `binance-futures-ETHUSDT-markPriceKlines-8h-2023-07-04_2023-08-17.csv`,
//! `ETHUSDT-1m-2023-07.zip`).
//!
//! Consumes command-line values and paths; produces normalized symbol
//! names (upper case, no separator: `ETH-USDT` and `ethusdt` are both
//! `ETHUSDT`) so files of one symbol from different sources match. Cold
//! path.

use std::path::{Path, PathBuf};

/// A file and the symbol it belongs to, when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolFile {
    /// Normalized symbol ([`normalize`]), from `SYMBOL=` or the file name.
    pub symbol: Option<String>,
    /// The file.
    pub path: PathBuf,
}

/// Returns `symbol` upper case without `-`, `_` or `/` (`ETH-USDT` →
/// `ETHUSDT`).
#[must_use]
pub fn normalize(symbol: &str) -> String {
    symbol
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '/'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Kind markers of Binance public-data file names; the symbol is the
/// name part right before one of them.
const KIND_MARKERS: [&str; 8] = [
    "fundingRate",
    "markPriceKlines",
    "indexPriceKlines",
    "premiumIndexKlines",
    "aggTrades",
    "trades",
    "klines",
    "bookTicker",
];

fn is_interval(part: &str) -> bool {
    let (digits, unit) = part.split_at(part.len().saturating_sub(1));
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(unit, "s" | "m" | "h" | "d" | "w" | "M")
}

fn is_symbol(part: &str) -> bool {
    part.len() >= 5
        && part
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && part.bytes().any(|b| b.is_ascii_uppercase())
}

/// Returns the symbol a Binance public-data file name names (normalized),
/// if any: the upper-case part right before a kind marker or an interval.
#[must_use]
pub fn symbol_of_path(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next().unwrap_or(name);
    let parts: Vec<&str> = stem.split('-').collect();
    parts
        .windows(2)
        .find(|w| is_symbol(w[0]) && (KIND_MARKERS.contains(&w[1]) || is_interval(w[1])))
        .map(|w| normalize(w[0]))
}

/// Parses a command-line file argument: `SYMBOL=FILE` (the symbol given) or
/// `FILE` (the symbol from its name, [`symbol_of_path`]).
#[must_use]
pub fn parse_symbol_file(arg: &Path) -> SymbolFile {
    let text = arg.to_string_lossy();
    if let Some((sym, file)) = text.split_once('=') {
        let plain = !sym.is_empty()
            && sym
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/'))
            && !sym.contains('/');
        if plain && !file.is_empty() {
            return SymbolFile {
                symbol: Some(normalize(sym)),
                path: PathBuf::from(file),
            };
        }
    }
    SymbolFile {
        symbol: symbol_of_path(arg),
        path: arg.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_file_names_name_their_symbol() {
        for (name, sym) in [
            ("ETHUSDT-fundingRate-2023-07.zip", "ETHUSDT"),
            (
                "../shared/data/perp-2023-07/binance-futures-SOLUSDT-markPriceKlines-8h-2023-07-18_2023-08-17.csv",
                "SOLUSDT",
            ),
            ("binance-futures-XRPUSDT-1m-2023-07-18_2023-08-17.csv", "XRPUSDT"),
            ("BTCUSDT-aggTrades-2024-08-08.zip", "BTCUSDT"),
            ("1000PEPEUSDT-1h-2024-01.csv", "1000PEPEUSDT"),
        ] {
            assert_eq!(symbol_of_path(Path::new(name)).as_deref(), Some(sym), "{name}");
        }
        assert_eq!(symbol_of_path(Path::new("funding.csv")), None);
    }

    #[test]
    fn symbol_equals_file_overrides_the_name() {
        let f = parse_symbol_file(Path::new("eth-usdt=data/rates.csv"));
        assert_eq!(f.symbol.as_deref(), Some("ETHUSDT"));
        assert_eq!(f.path, PathBuf::from("data/rates.csv"));
        let g = parse_symbol_file(Path::new("dir/a=b/ETHUSDT-fundingRate-2023-07.csv"));
        assert_eq!(g.symbol.as_deref(), Some("ETHUSDT"));
        assert_eq!(
            g.path,
            PathBuf::from("dir/a=b/ETHUSDT-fundingRate-2023-07.csv")
        );
    }
}
