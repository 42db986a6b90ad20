//! Simulator configuration: listen address, market source and speed, credentials, account
//! defaults, heartbeat timings and fault injection.
//!
//! Consumes CLI values or test settings; produces a validated [`SimConfig`]. The API secret
//! never appears in `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// Documented default API key of the simulator.
pub const DEFAULT_API_KEY: &str = "sim-key";
/// Documented default API secret of the simulator.
pub const DEFAULT_API_SECRET: &str = "sim-secret";

/// Slowest accepted replay multiplier: below it a replay of a day would take years, and the
/// wall deadline of a trade no longer fits a `Duration`.
pub const MIN_SPEED: f64 = 0.001;
/// Fastest accepted replay multiplier (beyond it, `max` replays as fast as clients read).
pub const MAX_SPEED: f64 = 1_000_000.0;

/// How fast the market source is replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Market time runs `x` times faster than wall time (`1.0` = real time), within
    /// [`MIN_SPEED`]..=[`MAX_SPEED`].
    Times(f64),
    /// As fast as the slowest market-stream client reads (waits while nobody subscribes).
    Max,
    /// Never advances by itself; trades enter only through
    /// [`SimHandle::inject_trade`](crate::SimHandle::inject_trade) (tests).
    Manual,
}

/// Why a `--speed` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeedParseError(pub String);

impl fmt::Display for SpeedParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid speed {:?}: expected a multiplier from {MIN_SPEED} to {MAX_SPEED} or \"max\"",
            self.0
        )
    }
}

impl std::error::Error for SpeedParseError {}

impl FromStr for Speed {
    type Err = SpeedParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Self::Max);
        }
        match s.trim_end_matches(['x', 'X']).parse::<f64>() {
            Ok(v) if (MIN_SPEED..=MAX_SPEED).contains(&v) => Ok(Self::Times(v)),
            _ => Err(SpeedParseError(s.to_owned())),
        }
    }
}

/// Fault injection settings; every random decision is drawn from generators seeded by
/// [`SimConfig::seed`], so a run is reproducible.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Abruptly drop every WebSocket connection this many milliseconds after it opened.
    pub drop_ws_every_ms: Option<u64>,
    /// Delay every REST response by this many milliseconds.
    pub delay_ms: u64,
    /// Length of each burst of HTTP 429 replies (0 = off).
    pub burst_429: u32,
    /// A 429 burst starts after every this many REST requests (counting the burst).
    pub burst_429_every: u32,
    /// Probability that a REST request gets HTTP 500 (not executed) or 504 (executed,
    /// outcome hidden).
    pub rate_5xx: f64,
    /// Probability that an order placement is rejected with a documented business code.
    pub reject_rate: f64,
    /// Probability that a market-stream frame is sent malformed (truncated gzip, gzip of
    /// broken JSON, or an uncompressed text frame).
    pub malformed_rate: f64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            drop_ws_every_ms: None,
            delay_ms: 0,
            burst_429: 0,
            burst_429_every: 20,
            rate_5xx: 0.0,
            reject_rate: 0.0,
            malformed_rate: 0.0,
        }
    }
}

/// Everything the simulator needs to start.
#[derive(Clone)]
pub struct SimConfig {
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Serve TLS (self-signed certificate made at start) instead of plain TCP.
    pub tls: bool,
    /// Where to write the PEM certificate when `tls` is on.
    pub cert_out: Option<PathBuf>,
    /// Binance public-data CSV to replay (12-column klines or 7/8-column aggTrades); `None`
    /// uses the built-in generated market.
    pub data: Option<PathBuf>,
    /// Replay speed.
    pub speed: Speed,
    /// API key expected in `X-BX-APIKEY`.
    pub api_key: String,
    /// API secret used to verify signatures (redacted in `Debug`).
    pub api_secret: String,
    /// Served symbol, BingX form (`BTC-USDT`).
    pub symbol: String,
    /// Starting USDT wallet balance.
    pub initial_balance: f64,
    /// Seed for the generated market and every fault decision.
    pub seed: u64,
    /// Market-order slippage from the last trade, in basis points.
    pub slippage_bps: f64,
    /// Initial leverage for both sides.
    pub leverage: u32,
    /// Start in hedge (dual-side) position mode; `false` = one-way.
    pub hedge_mode: bool,
    /// First start price of the generated market (ignored with `data`).
    pub start_price: f64,
    /// Minutes of the source consumed instantly into the kline history before live replay
    /// (default one day; capped at half of a data file's span).
    pub warmup_minutes: u32,
    /// Interval between server `Ping` frames, ms (exchange: about 5000).
    pub ping_interval_ms: u64,
    /// A client that has not sent `Pong` for this long after a `Ping` is dropped, ms.
    pub pong_timeout_ms: u64,
    /// Listen-key lifetime from creation or last extension, ms (exchange: 1 hour).
    pub listen_key_ttl_ms: u64,
    /// Length of one `timeOut` unit of cancel-all-after, ms (exchange: 1000 = seconds).
    pub cancel_after_unit_ms: u64,
    /// Emit the 2025 `TRADE_UPDATE` event after each fill's `ORDER_TRADE_UPDATE`.
    pub trade_update_events: bool,
    /// Funding settled on the replayed market (`--funding-rate`, none by default).
    pub funding: crate::exchange::FundingConfig,
    /// Maximum simultaneous client connections (each gets one thread).
    pub max_connections: usize,
    /// Fault injection.
    pub faults: FaultConfig,
}

/// Returns the first two characters of a credential followed by `***`.
fn redact(text: &str) -> String {
    let head: String = text.chars().take(2).collect();
    format!("{head}***")
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("cert_out", &self.cert_out)
            .field("data", &self.data)
            .field("speed", &self.speed)
            .field("api_key", &redact(&self.api_key))
            .field("api_secret", &"<redacted>")
            .field("symbol", &self.symbol)
            .field("initial_balance", &self.initial_balance)
            .field("seed", &self.seed)
            .field("slippage_bps", &self.slippage_bps)
            .field("leverage", &self.leverage)
            .field("hedge_mode", &self.hedge_mode)
            .field("warmup_minutes", &self.warmup_minutes)
            .field("ping_interval_ms", &self.ping_interval_ms)
            .field("pong_timeout_ms", &self.pong_timeout_ms)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            cert_out: None,
            data: None,
            speed: Speed::Times(1.0),
            api_key: DEFAULT_API_KEY.to_owned(),
            api_secret: DEFAULT_API_SECRET.to_owned(),
            symbol: "BTC-USDT".to_owned(),
            initial_balance: 10_000.0,
            seed: 1,
            slippage_bps: 1.0,
            leverage: 10,
            hedge_mode: true,
            start_price: 60_000.0,
            warmup_minutes: 1_440,
            ping_interval_ms: 5_000,
            pong_timeout_ms: 15_000,
            listen_key_ttl_ms: 3_600_000,
            cancel_after_unit_ms: 1_000,
            trade_update_events: false,
            funding: crate::exchange::FundingConfig::default(),
            max_connections: 64,
            faults: FaultConfig::default(),
        }
    }
}

/// Returns the (price, quantity) decimals BingX publishes for `symbol`; unknown symbols get
/// (4, 2).
#[must_use]
pub fn default_precision(symbol: &str) -> (u32, u32) {
    match symbol {
        "BTC-USDT" => (1, 4),
        "ETH-USDT" => (2, 2),
        "SOL-USDT" => (2, 1),
        "BNB-USDT" => (2, 2),
        _ => (4, 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_parses_numbers_and_max() {
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("10".parse::<Speed>(), Ok(Speed::Times(10.0)));
        assert_eq!("2.5x".parse::<Speed>(), Ok(Speed::Times(2.5)));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
    }

    #[test]
    fn issue_20_speeds_outside_the_bounds_are_refused() {
        for bad in ["1e-300", "0.0009", "1000001", "inf", "NaN", "-1", "1e300"] {
            let err = bad.parse::<Speed>().unwrap_err();
            assert!(err.to_string().contains("from 0.001 to 1000000"), "{err}");
        }
        assert_eq!("0.001".parse::<Speed>(), Ok(Speed::Times(MIN_SPEED)));
        assert_eq!("1000000".parse::<Speed>(), Ok(Speed::Times(MAX_SPEED)));
    }

    #[test]
    fn debug_redacts_the_secret() {
        let cfg = SimConfig {
            api_key: "visible-key-text".into(),
            api_secret: "super-secret-value".into(),
            ..SimConfig::default()
        };
        let text = format!("{cfg:?}");
        assert!(!text.contains("super-secret-value"));
        assert!(!text.contains("visible-key-text"));
        assert!(text.contains("<redacted>"));
    }
}
