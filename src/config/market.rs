//! `[market]`: the symbols to trade, where their trades come from, and the
//! candle close grace period.
//!
//! Consumes the `[market]` TOML table; produces [`MarketConfig`]. Never maps
//! names to `SymbolId`s beyond the rule "index in `symbols`".

use super::validate::Issues;
use crate::types::SymbolId;
use serde::{Deserialize, Serialize};

/// Where trades (and hence candles) come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedSource {
    /// BingX swap WebSocket trade pushes.
    Bingx,
    /// Binance USD-M futures aggTrade stream.
    Binance,
}

/// Most symbols traded at once.
const MAX_SYMBOLS: usize = 256;

/// The `[market]` section (a required table with a required `symbols` key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    /// Symbols in BingX form (`BTC-USDT`); `SymbolId(i)` is `symbols[i]`.
    /// At least one, at most 256, no duplicates. Default `["BTC-USDT"]`.
    pub symbols: Vec<String>,
    /// Trade feed; default `bingx`.
    pub feed: FeedSource,
    /// A candle with no later trade closes this long after its bucket end,
    /// ms; in [1, 59999], default 2000.
    pub candle_grace_period_ms: u64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            symbols: vec!["BTC-USDT".to_owned()],
            feed: FeedSource::Bingx,
            candle_grace_period_ms: 2000,
        }
    }
}

impl MarketConfig {
    /// Returns the id of `name` (its index in `symbols`), or `None` if it is
    /// not configured (or beyond `u16` range).
    #[must_use]
    pub fn symbol_id(&self, name: &str) -> Option<SymbolId> {
        let index = self.symbols.iter().position(|s| s == name)?;
        u16::try_from(index).ok().map(SymbolId)
    }

    /// Returns the configured name of `id`, or `None` if out of range.
    #[must_use]
    pub fn symbol_name(&self, id: SymbolId) -> Option<&str> {
        self.symbols.get(usize::from(id.0)).map(String::as_str)
    }

    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        if self.symbols.is_empty() {
            issues.push(
                "market.symbols",
                "must list at least one symbol, e.g. [\"BTC-USDT\"]",
            );
        }
        if self.symbols.len() > MAX_SYMBOLS {
            issues.push(
                "market.symbols",
                format!(
                    "at most {MAX_SYMBOLS} symbols (one market stream and per-symbol tables), got {}",
                    self.symbols.len()
                ),
            );
        }
        for (i, symbol) in self.symbols.iter().enumerate() {
            if !is_bingx_symbol(symbol) {
                issues.push(
                    format!("market.symbols[{i}]"),
                    format!(
                        "must look like BASE-QUOTE in capitals (e.g. BTC-USDT), got \"{symbol}\""
                    ),
                );
            }
            if self.symbols[..i].contains(symbol) {
                issues.push(
                    format!("market.symbols[{i}]"),
                    format!("duplicate symbol \"{symbol}\""),
                );
            }
        }
        issues.int_range(
            "market.candle_grace_period_ms",
            self.candle_grace_period_ms,
            1,
            59_999,
        );
    }
}

/// Returns whether `s` is `BASE-QUOTE` with both parts non-empty uppercase
/// ASCII letters or digits.
fn is_bingx_symbol(s: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    match s.split_once('-') {
        Some((base, quote)) => part_ok(base) && part_ok(quote),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_ids_are_indices_into_symbols() {
        let m = MarketConfig {
            symbols: vec!["BTC-USDT".into(), "ETH-USDT".into()],
            ..MarketConfig::default()
        };
        assert_eq!(m.symbol_id("ETH-USDT"), Some(SymbolId(1)));
        assert_eq!(m.symbol_id("SOL-USDT"), None);
        assert_eq!(m.symbol_name(SymbolId(0)), Some("BTC-USDT"));
        assert_eq!(m.symbol_name(SymbolId(2)), None);
    }

    #[test]
    fn bingx_symbol_shape_is_base_dash_quote() {
        assert!(is_bingx_symbol("BTC-USDT"));
        assert!(is_bingx_symbol("1000PEPE-USDT"));
        assert!(!is_bingx_symbol("BTCUSDT"));
        assert!(!is_bingx_symbol("btc-usdt"));
        assert!(!is_bingx_symbol("BTC-"));
        assert!(!is_bingx_symbol("BTC-USDT-X"));
    }
}
