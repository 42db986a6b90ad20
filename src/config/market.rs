//! `[market]`: the symbols to trade, where their trades come from, the
//! candle close grace period, and instrument rules per symbol for runs
//! without the exchange (`[market.instruments.SYMBOL]`).
//!
//! Consumes the `[market]` TOML table; produces [`MarketConfig`]. Never maps
//! names to `SymbolId`s beyond the rule "index in `symbols`".

use std::collections::BTreeMap;

use super::validate::{Bound, Issues};
use crate::types::{InstrumentRules, SymbolId};
use serde::{Deserialize, Serialize};

/// Most decimals of a configured tick or step (the engine's fixed point).
pub const MAX_RULE_DECIMALS: u8 = 8;

/// Largest configured minimum notional, quote currency.
const MAX_MIN_NOTIONAL: f64 = 1.0e6;

/// `[market.instruments.SYMBOL]`: one symbol's tick, step and minimum
/// notional, as BingX's contracts endpoint gives them (`pricePrecision`,
/// `quantityPrecision`, `tradeMinUSDT`). Backtests, sweeps and walk-forward
/// read them; live and paper runs take the exchange's own.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Price tick, decimal places (2 = 0.01); 0..=8. Required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_decimals: Option<u8>,
    /// Quantity step, decimal places (3 = 0.001); 0..=8. Required. The
    /// smallest quantity is one step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty_decimals: Option<u8>,
    /// Smallest order notional, quote currency; (0, 1e6]. Required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_notional: Option<f64>,
}

impl InstrumentConfig {
    /// Returns the rules, `None` when a value is missing or out of range
    /// (validation refuses such a config first).
    #[must_use]
    pub fn rules(&self) -> Option<InstrumentRules> {
        let (price, qty) = (self.price_decimals?, self.qty_decimals?);
        if price > MAX_RULE_DECIMALS || qty > MAX_RULE_DECIMALS {
            return None;
        }
        InstrumentRules::from_decimals(price, qty, self.min_notional?)
    }
}

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
    /// Instrument rules by BingX symbol for backtests, sweeps and
    /// walk-forward (`--contracts` and the rule flags take precedence);
    /// default none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub instruments: BTreeMap<String, InstrumentConfig>,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            symbols: vec!["BTC-USDT".to_owned()],
            feed: FeedSource::Bingx,
            candle_grace_period_ms: 2000,
            instruments: BTreeMap::new(),
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

    /// Returns the configured rules of `symbol`
    /// (`[market.instruments.SYMBOL]`), `None` when it has none.
    #[must_use]
    pub fn instrument_rules(&self, symbol: &str) -> Option<InstrumentRules> {
        self.instruments
            .get(symbol)
            .and_then(InstrumentConfig::rules)
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
        for (symbol, rules) in &self.instruments {
            let key = format!("market.instruments.{symbol}");
            if !is_bingx_symbol(symbol) {
                issues.push(
                    key.clone(),
                    format!("the symbol must look like BASE-QUOTE in capitals (e.g. ETH-USDT), got \"{symbol}\""),
                );
            }
            let max = u64::from(MAX_RULE_DECIMALS);
            let missing = "required key is missing (the exchange's pricePrecision, quantityPrecision and tradeMinUSDT)";
            for (name, value) in [
                ("price_decimals", rules.price_decimals),
                ("qty_decimals", rules.qty_decimals),
            ] {
                match value {
                    Some(v) => issues.int_range(&format!("{key}.{name}"), u64::from(v), 0, max),
                    None => issues.push(format!("{key}.{name}"), missing),
                }
            }
            let Some(min_notional) = rules.min_notional else {
                issues.push(format!("{key}.min_notional"), missing);
                continue;
            };
            issues.range(
                &format!("{key}.min_notional"),
                min_notional,
                Bound::Open(0.0),
                Bound::Closed(MAX_MIN_NOTIONAL),
            );
        }
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
    use crate::types::{DecimalStep, Price, Qty};

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
    fn configured_instrument_rules_are_read_and_checked_by_symbol() {
        let cfg: crate::config::Config = toml::from_str(
            "[market]\nsymbols = [\"ETH-USDT\"]\n[market.instruments.ETH-USDT]\nprice_decimals = 2\nqty_decimals = 2\nmin_notional = 5\n[market.instruments.XRP-USDT]\nprice_decimals = 4\nqty_decimals = 0\nmin_notional = 2\n",
        )
        .unwrap();
        cfg.validate().unwrap();
        let eth = cfg.market.instrument_rules("ETH-USDT").unwrap();
        assert_eq!(eth.tick, DecimalStep::from_precision(2));
        assert_eq!(eth.step, DecimalStep::from_precision(2));
        assert_eq!(eth.min_qty, Qty(eth.step.to_fixed()));
        assert_eq!(eth.min_notional, Price::from_f64(5.0).unwrap());
        let xrp = cfg.market.instrument_rules("XRP-USDT").unwrap();
        assert_eq!(xrp.tick, DecimalStep::from_precision(4));
        assert_eq!(xrp.min_notional, Price::from_f64(2.0).unwrap());
        assert_eq!(cfg.market.instrument_rules("SOL-USDT"), None);

        let bad: crate::config::Config = toml::from_str(
            "[market.instruments.ethusdt]\nprice_decimals = 9\nqty_decimals = 2\nmin_notional = 0\n[market.instruments.SOL-USDT]\nprice_decimals = 2\n",
        )
        .unwrap();
        let text = bad.validate().unwrap_err().to_string();
        for key in [
            "market.instruments.ethusdt:",
            "market.instruments.ethusdt.price_decimals",
            "market.instruments.ethusdt.min_notional",
            "market.instruments.SOL-USDT.qty_decimals: required",
            "market.instruments.SOL-USDT.min_notional: required",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
        assert!(!text.contains("ethusdt.qty_decimals"), "{text}");
        let unknown = toml::from_str::<crate::config::Config>(
            "[market.instruments.ETH-USDT]\nprice_decimals = 2\nqty_decimals = 2\ntick = 1\n",
        );
        assert!(unknown.unwrap_err().to_string().contains("tick"));
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
