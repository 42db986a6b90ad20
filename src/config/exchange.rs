//! `[exchange]`: which venue and environment to talk to, endpoints, request
//! timing, the dead-man switch, leverage and margin type.
//!
//! Consumes the `[exchange]` TOML table; produces [`ExchangeConfig`]. Never
//! holds credentials: those come only from the environment (see
//! [`super::secrets`]).

use super::validate::{check_url, Bound, Issues};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The trading venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Venue {
    /// BingX USDT-M perpetual swaps.
    Bingx,
}

/// Real money or BingX's VST demo (paper money) environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Production endpoints.
    Live,
    /// Demo endpoints trading VST paper money.
    Vst,
}

/// How a position's margin is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MarginType {
    /// Margin per position; a liquidation loses only that margin.
    Isolated,
    /// The whole account balance backs every position.
    Crossed,
}

/// BingX production REST base.
pub const BINGX_LIVE_REST_URL: &str = "https://open-api.bingx.com";
/// BingX production swap WebSocket (market data and user stream).
pub const BINGX_LIVE_WS_URL: &str = "wss://open-api-swap.bingx.com/swap-market";
/// BingX VST demo REST base.
pub const BINGX_VST_REST_URL: &str = "https://open-api-vst.bingx.com";
/// BingX VST demo swap WebSocket.
pub const BINGX_VST_WS_URL: &str = "wss://vst-open-api-ws.bingx.com/swap-market";
/// Binance USD-M futures market-data WebSocket base (regular market data).
pub const BINANCE_WS_URL: &str = "wss://fstream.binance.com/market";

/// The `[exchange]` section (a required table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Venue; default `bingx` (the only one).
    pub venue: Venue,
    /// `live` or `vst`; selects the default endpoints. Default `live`.
    pub environment: Environment,
    /// REST base URL override; `None` uses the environment's endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest_base_url: Option<String>,
    /// Swap WebSocket URL override; `None` uses the environment's endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_url: Option<String>,
    /// Binance USD-M market-data WebSocket base, used when
    /// `market.feed = "binance"`.
    pub binance_ws_url: String,
    /// `recvWindow` sent with signed requests, ms; in [1, 60000], default 5000.
    pub recv_window_ms: u64,
    /// Timeout of one REST request, ms; default 5000.
    pub request_timeout_ms: u64,
    /// Largest tolerated |local clock - exchange clock|, ms; below
    /// `recv_window_ms`; default 1000.
    pub max_clock_skew_ms: u64,
    /// Dead-man switch: the exchange cancels all open orders this many
    /// seconds after the last heartbeat; 0 disables, else 10..=120. Default 60.
    /// It cannot be scoped to entries on BingX, so it cancels the stops too:
    /// a start disarms an earlier life's timer before it puts the stops
    /// back, and the service arms it once they are in place.
    pub cancel_all_after_secs: u64,
    /// Leverage set per symbol at start-up; 1..=125, default 5.
    pub leverage: u32,
    /// Margin type set per symbol at start-up; default `ISOLATED`.
    pub margin_type: MarginType,
    /// Maintenance-margin rate of a symbol without its own entry in
    /// `maintenance_margin_rates`, a fraction in (0, 0.5); default 0.004
    /// (0.4 %, the first tier of BTC-USDT and ETH-USDT). Sets the
    /// liquidation price (README, Liquidation).
    pub maintenance_margin_rate: f64,
    /// Maintenance-margin rate per symbol (`"ETH-USDT" = 0.005`), each in
    /// (0, 0.5); default empty (every symbol uses `maintenance_margin_rate`).
    pub maintenance_margin_rates: std::collections::BTreeMap<String, f64>,
    /// PEM file of extra trusted CA certificates (e.g. the loopback
    /// simulator's); `None` trusts only the bundled web roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        Self {
            venue: Venue::Bingx,
            environment: Environment::Live,
            rest_base_url: None,
            ws_url: None,
            binance_ws_url: BINANCE_WS_URL.to_owned(),
            recv_window_ms: 5000,
            request_timeout_ms: 5000,
            max_clock_skew_ms: 1000,
            cancel_all_after_secs: 60,
            leverage: 5,
            margin_type: MarginType::Isolated,
            maintenance_margin_rate: 0.004,
            maintenance_margin_rates: std::collections::BTreeMap::new(),
            ca_file: None,
        }
    }
}

impl ExchangeConfig {
    /// Returns the maintenance-margin rate of `symbol`: its entry in
    /// `maintenance_margin_rates`, else `maintenance_margin_rate`.
    #[must_use]
    pub fn maintenance_margin_rate_of(&self, symbol: &str) -> f64 {
        self.maintenance_margin_rates
            .get(symbol)
            .copied()
            .unwrap_or(self.maintenance_margin_rate)
    }

    /// Returns the REST base URL in effect: the override, else the
    /// environment's endpoint.
    #[must_use]
    pub fn effective_rest_base_url(&self) -> &str {
        match (&self.rest_base_url, self.environment) {
            (Some(url), _) => url,
            (None, Environment::Live) => BINGX_LIVE_REST_URL,
            (None, Environment::Vst) => BINGX_VST_REST_URL,
        }
    }

    /// Returns the swap WebSocket URL in effect: the override, else the
    /// environment's endpoint.
    #[must_use]
    pub fn effective_ws_url(&self) -> &str {
        match (&self.ws_url, self.environment) {
            (Some(url), _) => url,
            (None, Environment::Live) => BINGX_LIVE_WS_URL,
            (None, Environment::Vst) => BINGX_VST_WS_URL,
        }
    }

    /// Records range and relation problems. `resolve` maps a configured
    /// path to the one to check on disk.
    pub(crate) fn validate(
        &self,
        resolve: &dyn Fn(&std::path::Path) -> PathBuf,
        issues: &mut Issues,
    ) {
        if let Some(url) = &self.rest_base_url {
            check_url(issues, "exchange.rest_base_url", url, "https", "http");
        }
        if let Some(url) = &self.ws_url {
            check_url(issues, "exchange.ws_url", url, "wss", "ws");
        }
        check_url(
            issues,
            "exchange.binance_ws_url",
            &self.binance_ws_url,
            "wss",
            "ws",
        );
        issues.int_range("exchange.recv_window_ms", self.recv_window_ms, 1, 60_000);
        issues.int_range(
            "exchange.request_timeout_ms",
            self.request_timeout_ms,
            1,
            120_000,
        );
        if self.max_clock_skew_ms >= self.recv_window_ms {
            issues.push(
                "exchange.max_clock_skew_ms",
                format!(
                    "must be below exchange.recv_window_ms ({}), got {}",
                    self.recv_window_ms, self.max_clock_skew_ms
                ),
            );
        }
        if self.cancel_all_after_secs != 0 && !(10..=120).contains(&self.cancel_all_after_secs) {
            issues.push(
                "exchange.cancel_all_after_secs",
                format!(
                    "must be 0 (off) or in [10, 120], got {}",
                    self.cancel_all_after_secs
                ),
            );
        }
        issues.int_range("exchange.leverage", u64::from(self.leverage), 1, 125);
        issues.range(
            "exchange.maintenance_margin_rate",
            self.maintenance_margin_rate,
            Bound::Open(0.0),
            Bound::Open(0.5),
        );
        for (symbol, rate) in &self.maintenance_margin_rates {
            issues.range(
                &format!("exchange.maintenance_margin_rates.{symbol}"),
                *rate,
                Bound::Open(0.0),
                Bound::Open(0.5),
            );
        }
        if let Some(ca) = &self.ca_file {
            issues.file_exists("exchange.ca_file", &resolve(ca));
        }
    }
}
