//! `bingx-sim`: runs the BingX-compatible loopback exchange simulator until killed.
//!
//! Consumes command-line flags; prints exactly `listening on ADDR` on stdout once ready and
//! logs what it receives on stderr. Never logs the API secret.
#![forbid(unsafe_code)]

use bingx_sim::{FaultConfig, SimConfig, Simulator, Speed};
use clap::Parser;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// BingX USDT-M perpetual swap simulator on 127.0.0.1 for tests, demos and benchmarks.
///
/// REST (the `open-api.bingx.com` paths: /openApi/swap/v2/..., v3 klines and balance,
/// /openApi/user/auth/userDataStream) and WebSocket (/swap-market, user stream with
/// ?listenKey=) share one port, plain or TLS. Requests are signed as BingX documents:
/// header X-BX-APIKEY, parameters `timestamp` (ms), optional `recvWindow` (default 5000),
/// `signature` = lower-case hex HMAC-SHA256 of the parameter string. Once ready it prints
/// `listening on ADDR` on stdout; logs go to stderr.
#[derive(Debug, Parser)]
#[command(name = "bingx-sim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Binance public-data CSV to replay: 12-column klines (trades are synthesised inside
    /// each candle, consistent with its OHLCV) or 7/8-column aggTrades. Without it a
    /// deterministic generated market is used (seeded random walk with occasional explosive
    /// candles and volume spikes).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Replay speed: a multiplier of real time from 0.001 to 1000000 (1 = real time, 10 = ten
    /// times faster) or `max` (as fast as the slowest market-stream client reads; waits while
    /// nobody is connected).
    #[arg(long, default_value = "1", value_name = "N|max")]
    speed: Speed,
    /// API key clients must send in X-BX-APIKEY.
    #[arg(long, default_value = bingx_sim::DEFAULT_API_KEY)]
    api_key: String,
    /// API secret used to verify signatures (never logged). A value given here is visible to
    /// every user of the machine in the process list: prefer the environment variable or
    /// --api-secret-file.
    #[arg(
        long,
        env = "BINGX_SIM_API_SECRET",
        hide_env_values = true,
        default_value = bingx_sim::DEFAULT_API_SECRET
    )]
    api_secret: String,
    /// Read the API secret from the first line of FILE (takes precedence over --api-secret
    /// and BINGX_SIM_API_SECRET).
    #[arg(long, value_name = "FILE")]
    api_secret_file: Option<PathBuf>,
    /// Serve TLS with a self-signed certificate (SAN localhost, 127.0.0.1) generated at start.
    #[arg(long, requires = "cert_out")]
    tls: bool,
    /// Write the TLS certificate (PEM) here for clients to trust (required with --tls).
    #[arg(long, value_name = "FILE")]
    cert_out: Option<PathBuf>,
    /// Served symbol.
    #[arg(long, default_value = "BTC-USDT")]
    symbol: String,
    /// Starting USDT wallet balance.
    #[arg(long, default_value_t = 10_000.0)]
    initial_balance: f64,
    /// Seed of the generated market and of every fault decision.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Market-order slippage from the last trade, in basis points.
    #[arg(long, default_value_t = 1.0)]
    slippage_bps: f64,
    /// Initial leverage (both sides).
    #[arg(long, default_value_t = 10)]
    leverage: u32,
    /// Start in one-way position mode (default: hedge mode, positionSide LONG/SHORT).
    #[arg(long)]
    one_way: bool,
    /// Start price of the generated market.
    #[arg(long, default_value_t = 60_000.0)]
    start_price: f64,
    /// Minutes of market consumed instantly into the REST kline history before live replay
    /// (capped at half of a data file's span).
    #[arg(long, default_value_t = 1_440)]
    warmup_minutes: u32,
    /// Interval of the server `Ping` heartbeat, ms.
    #[arg(long, default_value_t = 5_000)]
    ping_interval_ms: u64,
    /// Drop a WebSocket client that has not answered `Pong` for this long after a Ping, ms.
    #[arg(long, default_value_t = 15_000)]
    pong_timeout_ms: u64,
    /// Listen-key lifetime from creation or last extension, seconds.
    #[arg(long, default_value_t = 3_600)]
    listen_key_ttl_secs: u64,
    /// Also push the 2025 TRADE_UPDATE event after each fill's ORDER_TRADE_UPDATE.
    #[arg(long)]
    trade_update_events: bool,
    /// Funding rate settled at every funding time of the replayed market
    /// (0.0001 = 0.01 %; longs pay a positive rate): the wallet moves and the
    /// user stream gets an ACCOUNT_UPDATE with reason FUNDING_FEE. None: no funding.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    funding_rate: Option<f64>,
    /// Funding interval, hours (market time, aligned to the epoch).
    #[arg(long, value_name = "H", default_value_t = 8.0)]
    funding_interval_hours: f64,
    /// Maximum simultaneous client connections.
    #[arg(long, default_value_t = 64)]
    max_connections: usize,
    /// Fault: abruptly drop every WebSocket connection SECS seconds after it opened.
    #[arg(long, value_name = "SECS")]
    drop_ws_every: Option<f64>,
    /// Fault: delay every REST response by N milliseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    delay_ms: u64,
    /// Fault: every --burst-429-every requests, answer N requests in a row with HTTP 429
    /// (code 100410, Retry-After: 1).
    #[arg(long, default_value_t = 0, value_name = "N")]
    burst_429: u32,
    /// Period of the 429 bursts, in requests.
    #[arg(long, default_value_t = 20, value_name = "M")]
    burst_429_every: u32,
    /// Fault: probability P of HTTP 500 (not executed) or 504 (executed, outcome hidden).
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = probability)]
    rate_5xx: f64,
    /// Fault: probability P that an order is rejected (code 101204 or 80012).
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = probability)]
    reject_rate: f64,
    /// Fault: probability P that a market-stream frame is malformed (truncated gzip, gzip
    /// of broken JSON, or an uncompressed text frame).
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = probability)]
    malformed_rate: f64,
    /// Log level: error, warn, info, debug.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

fn probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s} is not a probability between 0 and 1")),
    }
}

/// Minimal stderr logger: `<ms since epoch> <LEVEL> <message>`.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!("{} {:<5} {}", bingx_sim::now_ms(), r.level(), r.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Longest accepted secret file: a secret is one short line.
const MAX_SECRET_FILE_BYTES: u64 = 4_096;

/// Returns the first line of the secret file, without its line end.
fn read_secret(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_FILE_BYTES).read_to_string(&mut text))
        .map_err(|e| format!("cannot read --api-secret-file {}: {e}", path.display()))?;
    let secret = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if secret.is_empty() {
        return Err(format!(
            "--api-secret-file {}: the first line is empty",
            path.display()
        ));
    }
    Ok(secret.to_owned())
}

fn config(a: Args) -> Result<SimConfig, String> {
    let api_secret = match &a.api_secret_file {
        Some(path) => read_secret(path)?,
        None => a.api_secret,
    };
    let drop_ws_every_ms = match a.drop_ws_every {
        Some(s) if s.is_finite() && s > 0.0 => Some((s * 1_000.0) as u64),
        Some(s) => {
            return Err(format!(
                "--drop-ws-every {s} must be a positive number of seconds"
            ))
        }
        None => None,
    };
    Ok(SimConfig {
        listen: a.listen,
        tls: a.tls,
        cert_out: a.cert_out,
        data: a.data,
        speed: a.speed,
        api_key: a.api_key,
        api_secret,
        symbol: a.symbol,
        initial_balance: a.initial_balance,
        seed: a.seed,
        slippage_bps: a.slippage_bps,
        leverage: a.leverage,
        hedge_mode: !a.one_way,
        start_price: a.start_price,
        warmup_minutes: a.warmup_minutes,
        ping_interval_ms: a.ping_interval_ms,
        pong_timeout_ms: a.pong_timeout_ms,
        listen_key_ttl_ms: a.listen_key_ttl_secs.saturating_mul(1_000),
        cancel_after_unit_ms: 1_000,
        trade_update_events: a.trade_update_events,
        funding: bingx_sim::FundingConfig {
            rate: a.funding_rate,
            interval_ms: (a.funding_interval_hours * 3_600_000.0).round() as i64,
        },
        max_connections: a.max_connections,
        faults: FaultConfig {
            drop_ws_every_ms,
            delay_ms: a.delay_ms,
            burst_429: a.burst_429,
            burst_429_every: a.burst_429_every,
            rate_5xx: a.rate_5xx,
            reject_rate: a.reject_rate,
            malformed_rate: a.malformed_rate,
        },
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    log::set_max_level(args.log_level);
    let _ = log::set_logger(&LOGGER);
    let cfg = match config(args) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{e}");
            return ExitCode::from(2);
        }
    };
    log::info!("Starting with {cfg:?}");
    let sim = match Simulator::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            log::error!("Cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    if writeln!(out, "listening on {}", sim.addr())
        .and_then(|()| out.flush())
        .is_err()
    {
        log::error!("Cannot write to stdout");
        return ExitCode::FAILURE;
    }
    // Runs until the process is killed; the handle keeps every thread alive.
    loop {
        std::thread::park();
    }
}
