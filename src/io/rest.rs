//! The BingX USDT-M REST client core: configuration, the signed request
//! pipeline (rate limit → build sorted query → sign → send on the warm
//! connection → check envelope → parse DTO) and the retry loop with
//! exponential backoff. The endpoint methods live in `rest_market`,
//! `rest_trade` and `rest_account`.
//!
//! Consumes endpoint parameters; produces typed DTOs or typed errors. Runs on
//! the I/O thread only. Retries only what cannot duplicate an effect
//! (idempotent requests, and failures where the request was provably not
//! executed); the place-order path adds lookup-before-resend on top. Never
//! logs or prints the API key or secret.

use core::fmt;
use std::time::Duration;

use crate::io::clock::{IoClock, SystemClock};
use crate::io::dto::{check_envelope, envelope_code, parse_data, ServerTime};
use crate::io::endpoint::Endpoint;
use crate::io::error::{
    ApiError, Disposition, ExchangeCode, HttpStatusClass, RestError, TlsSetupError, TransportError,
};
use crate::io::http::{BaseUrl, HttpClient, HttpConfig, HttpStats, Method};
use crate::io::query::Query;
use crate::io::rate_limit::RateLimiter;
use crate::io::signing::{ApiKey, Signer, SignerError, API_KEY_HEADER};
use crate::io::symbols::SymbolTable;

/// Live REST base URL (§1).
pub const LIVE_BASE_URL: &str = "https://open-api.bingx.com";
/// Demo (VST paper money) REST base URL (§1).
pub const DEMO_BASE_URL: &str = "https://open-api-vst.bingx.com";

/// Retry and reconciliation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, including the first (default 4).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles per retry (default 200 ms).
    pub base_backoff: Duration,
    /// Longest backoff, and cap on a server retry hint (default 10 s).
    pub max_backoff: Duration,
    /// Pause before looking up an order after an ambiguous place-order
    /// failure, so an in-flight original is visible (default 500 ms).
    pub reconcile_delay: Duration,
    /// Lookups tried before giving up as ambiguous (default 3).
    pub reconcile_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            reconcile_delay: Duration::from_millis(500),
            reconcile_attempts: 3,
        }
    }
}

impl RetryPolicy {
    /// Returns the delay before retry number `retry` (1-based), honouring a
    /// server hint when it is longer, capped at `max_backoff`.
    #[must_use]
    pub fn backoff(&self, retry: u32, hint: Option<Duration>) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        exp.max(hint.unwrap_or(Duration::ZERO))
            .min(self.max_backoff)
    }
}

/// Client configuration. `Debug` redacts the credentials.
#[derive(Clone)]
pub struct RestConfig {
    /// Base URL, e.g. [`LIVE_BASE_URL`] or `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// API key (empty: public endpoints only).
    pub api_key: String,
    /// API secret (empty: public endpoints only).
    pub secret_key: String,
    /// `recvWindow` sent with signed requests, ms (default 5000).
    pub recv_window_ms: u32,
    /// Connection settings.
    pub http: HttpConfig,
    /// Retry settings.
    pub retry: RetryPolicy,
}

impl RestConfig {
    /// Returns a configuration for `base_url` with credentials and defaults.
    #[must_use]
    pub fn new(base_url: &str, api_key: &str, secret_key: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            api_key: api_key.to_owned(),
            secret_key: secret_key.to_owned(),
            recv_window_ms: 5000,
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
        }
    }
}

impl fmt::Debug for RestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("secret_key", &"<redacted>")
            .field("recv_window_ms", &self.recv_window_ms)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

/// Error creating a [`RestClient`].
#[derive(Debug)]
pub enum RestSetupError {
    /// The base URL is unusable.
    Url(TransportError),
    /// TLS configuration failed.
    Tls(TlsSetupError),
    /// The secret was refused.
    Signer(SignerError),
    /// Exactly one of API key and secret was given.
    HalfCredentials,
}

impl fmt::Display for RestSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(e) => write!(f, "bad REST base URL: {e}"),
            Self::Tls(e) => write!(f, "REST TLS setup failed: {e}"),
            Self::Signer(e) => write!(f, "REST signer setup failed: {e}"),
            Self::HalfCredentials => {
                f.write_str("API key and secret must both be set or both empty")
            }
        }
    }
}

impl std::error::Error for RestSetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Url(e) => Some(e),
            Self::Tls(e) => Some(e),
            Self::Signer(e) => Some(e),
            Self::HalfCredentials => None,
        }
    }
}

/// Estimated offset between the server clock and ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSkew {
    /// Server time reported, ms.
    pub server_time_ms: i64,
    /// `server - local` at the midpoint of the request, ms (added to our
    /// clock for every signed `timestamp`).
    pub offset_ms: i64,
    /// Round-trip time of the measurement, ms.
    pub round_trip_ms: i64,
}

/// The BingX REST client. One per I/O thread; `C` is the injectable clock.
#[derive(Debug)]
pub struct RestClient<C: IoClock = SystemClock> {
    pub(crate) http: HttpClient,
    signer: Option<Signer>,
    api_key: ApiKey,
    pub(crate) clock: C,
    limiter: RateLimiter,
    pub(crate) query: Query,
    pub(crate) symbols: SymbolTable,
    pub(crate) retry: RetryPolicy,
    recv_window_ms: u32,
    offset_ms: i64,
    last_rate_limit_remaining: Option<u64>,
}

impl RestClient<SystemClock> {
    /// Returns a client using the OS clocks. No connection is opened yet.
    ///
    /// # Errors
    /// [`RestSetupError`] for a bad URL, TLS setup failure, or half-set credentials.
    pub fn try_new(config: RestConfig) -> Result<Self, RestSetupError> {
        Self::with_clock(config, SystemClock::new())
    }
}

impl<C: IoClock> RestClient<C> {
    /// Returns a client using `clock` for timestamps, backoff and rate limiting.
    ///
    /// # Errors
    /// As [`RestClient::try_new`].
    pub fn with_clock(config: RestConfig, clock: C) -> Result<Self, RestSetupError> {
        let base = BaseUrl::parse(&config.base_url).map_err(RestSetupError::Url)?;
        let http = HttpClient::try_new(base, config.http).map_err(RestSetupError::Tls)?;
        let signer = match (config.api_key.is_empty(), config.secret_key.is_empty()) {
            (true, true) => None,
            (false, false) => Some(
                Signer::try_new(config.secret_key.as_bytes()).map_err(RestSetupError::Signer)?,
            ),
            _ => return Err(RestSetupError::HalfCredentials),
        };
        Ok(Self {
            http,
            signer,
            api_key: ApiKey::new(config.api_key),
            clock,
            limiter: RateLimiter::new(),
            query: Query::new(),
            symbols: SymbolTable::new(),
            retry: config.retry,
            recv_window_ms: config.recv_window_ms,
            offset_ms: 0,
            last_rate_limit_remaining: None,
        })
    }

    /// Opens the connection (and TLS handshake) ahead of the first request.
    ///
    /// # Errors
    /// [`TransportError`] when the server cannot be reached.
    pub fn connect(&mut self) -> Result<(), TransportError> {
        self.http.connect()
    }

    /// Keeps the connection warm: when it is closed or has been idle for at
    /// least `idle`, re-measures the server clock (a cheap public request that
    /// reopens the connection if needed). Returns true when a request was made.
    /// Call it from the I/O thread's idle loop.
    ///
    /// # Errors
    /// [`RestError`] when the request fails after retries.
    pub fn keep_warm(&mut self, idle: Duration) -> Result<bool, RestError> {
        match self.http.idle_for() {
            Some(d) if d < idle => Ok(false),
            _ => self.sync_time().map(|_| true),
        }
    }

    /// Returns the connection counters.
    #[must_use]
    pub fn http_stats(&self) -> HttpStats {
        self.http.stats()
    }

    /// Returns the symbol table.
    #[must_use]
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// Replaces the symbol table (normally built by `load_symbols`).
    pub fn set_symbols(&mut self, table: SymbolTable) {
        self.symbols = table;
    }

    /// Returns the clock offset applied to signed timestamps, ms.
    #[must_use]
    pub fn clock_offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// Returns `X-RateLimit-Requests-Remain` of the last response that had it.
    #[must_use]
    pub fn last_rate_limit_remaining(&self) -> Option<u64> {
        self.last_rate_limit_remaining
    }

    /// Returns the `timestamp` for a signed request: our clock plus the offset.
    #[must_use]
    pub fn timestamp_ms(&self) -> i64 {
        self.clock.unix_ms().saturating_add(self.offset_ms)
    }

    /// Measures the server clock (§4.1) and stores the offset used for
    /// every later signed `timestamp`.
    ///
    /// # Errors
    /// [`RestError`] when the request fails after retries.
    pub fn sync_time(&mut self) -> Result<ClockSkew, RestError> {
        self.query.clear();
        let before = self.clock.unix_ms();
        let t: ServerTime = self.call(Endpoint::ServerTime)?;
        let after = self.clock.unix_ms();
        let mid = before + (after - before) / 2;
        self.offset_ms = t.server_time_ms - mid;
        Ok(ClockSkew {
            server_time_ms: t.server_time_ms,
            offset_ms: self.offset_ms,
            round_trip_ms: after - before,
        })
    }

    /// Sends the request prepared in `self.query` once (no rate limit, no
    /// retry) and returns the checked body through `parse`.
    pub(crate) fn send_once<T>(
        &mut self,
        ep: Endpoint,
        parse: &dyn Fn(&[u8]) -> Result<T, RestError>,
    ) -> Result<T, RestError> {
        self.write_prepared(ep)?;
        self.read_prepared(ep, parse)
    }

    /// Finishes (timestamp, signature) and writes the request prepared in `self.query`.
    pub(crate) fn write_prepared(&mut self, ep: Endpoint) -> Result<(), RestError> {
        let spec = ep.spec();
        if spec.api_key && self.signer.is_none() {
            return Err(RestError::MissingCredentials);
        }
        if spec.signed {
            let ts = self.timestamp_ms();
            self.query
                .finish(Some(ts), Some(self.recv_window_ms), self.signer.as_ref());
        } else {
            self.query.finish(None, None, None);
        }
        let key_header = [(API_KEY_HEADER, self.api_key.expose())];
        let headers: &[(&str, &str)] = if spec.api_key { &key_header } else { &[] };
        self.http
            .write_request(spec.method, spec.path, self.query.as_bytes(), headers)?;
        Ok(())
    }

    /// Reads and checks the response to a request written by `write_prepared`.
    pub(crate) fn read_prepared<T>(
        &mut self,
        ep: Endpoint,
        parse: &dyn Fn(&[u8]) -> Result<T, RestError>,
    ) -> Result<T, RestError> {
        let spec = ep.spec();
        let resp = self.http.read_response()?;
        if resp.rate_limit_remaining.is_some() {
            self.last_rate_limit_remaining = resp.rate_limit_remaining;
        }
        let status = resp.status;
        if (200..300).contains(&status) {
            // Listen-key PUT/DELETE bodies are undocumented (§4.14): accept
            // an empty or non-JSON body, but still honour an error envelope.
            let bodyless = matches!(ep, Endpoint::ListenKeyExtend | Endpoint::ListenKeyDelete);
            if resp.body.is_empty() || (bodyless && envelope_code(resp.body).is_none()) {
                return parse(resp.body);
            }
            check_envelope(spec.path, resp.body, status)?;
            return parse(resp.body);
        }
        let code = envelope_code(resp.body);
        if status == 429 || status == 418 {
            return Err(RestError::RateLimited {
                status,
                code: code.map(|c| c.0),
                retry_after: resp.retry_after,
            });
        }
        if let Some((code, msg)) = code.filter(|c| c.0 != 0) {
            let kind = ExchangeCode::from_code(code);
            if kind == ExchangeCode::RateLimited {
                return Err(RestError::RateLimited {
                    status,
                    code: Some(code),
                    retry_after: resp.retry_after,
                });
            }
            return Err(RestError::Api(ApiError {
                code,
                kind,
                msg,
                http_status: status,
            }));
        }
        let excerpt_len = resp.body.len().min(200);
        Err(RestError::Http {
            status,
            class: HttpStatusClass::of(status),
            body_excerpt: String::from_utf8_lossy(&resp.body[..excerpt_len]).into_owned(),
        })
    }

    /// Waits for the rate limiter's slot for `ep`.
    pub(crate) fn wait_for_slot(&mut self, ep: Endpoint) {
        let wait = self.limiter.acquire(ep, self.clock.monotonic());
        if !wait.is_zero() {
            log::debug!("Rate limiter delays {:?} by {wait:?}", ep);
            self.clock.sleep(wait);
        }
    }

    /// Sleeps before retry number `retry` after `err`, blocking the endpoint
    /// for the server's hint; resynchronises the clock after a timestamp reject.
    pub(crate) fn back_off(&mut self, ep: Endpoint, retry: u32, err: &RestError) {
        let hint = err.retry_after();
        let delay = self.retry.backoff(retry, hint);
        if let Some(h) = hint {
            let until = self.clock.monotonic() + h.min(self.retry.max_backoff);
            self.limiter.block_until(ep, until);
        }
        log::warn!("Retrying {:?} in {delay:?} after: {err}", ep);
        self.clock.sleep(delay);
        if err.exchange_code() == Some(ExchangeCode::TimestampOutOfWindow) {
            if let Err(e) = self.resync_time_raw() {
                log::warn!("Clock resync after a timestamp reject failed: {e}");
            }
        }
    }

    /// Resynchronises the clock with a bare request that leaves `self.query` alone.
    fn resync_time_raw(&mut self) -> Result<(), RestError> {
        let before = self.clock.unix_ms();
        let spec = Endpoint::ServerTime.spec();
        let resp = self.http.send(Method::Get, spec.path, b"", &[])?;
        check_envelope(spec.path, resp.body, resp.status)?;
        let t: ServerTime = parse_data(spec.path, resp.body)?;
        let after = self.clock.unix_ms();
        self.offset_ms = t.server_time_ms - (before + (after - before) / 2);
        Ok(())
    }

    /// Performs the request prepared in `self.query` with rate limiting and
    /// retries, parsing `data` as `T`.
    pub(crate) fn call<T: serde::de::DeserializeOwned>(
        &mut self,
        ep: Endpoint,
    ) -> Result<T, RestError> {
        let path = ep.spec().path;
        self.call_with(ep, &|body| parse_data(path, body))
    }

    /// As [`RestClient::call`] with a custom body parser.
    pub(crate) fn call_with<T>(
        &mut self,
        ep: Endpoint,
        parse: &dyn Fn(&[u8]) -> Result<T, RestError>,
    ) -> Result<T, RestError> {
        let idempotent = ep.spec().idempotent;
        let mut attempt = 1;
        loop {
            self.wait_for_slot(ep);
            match self.send_once(ep, parse) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    if e.disposition(idempotent) != Disposition::Retryable
                        || attempt >= self.retry.max_attempts
                    {
                        return Err(e);
                    }
                    self.back_off(ep, attempt, &e);
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_honours_hints_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, None), Duration::from_millis(200));
        assert_eq!(p.backoff(2, None), Duration::from_millis(400));
        assert_eq!(p.backoff(3, None), Duration::from_millis(800));
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(p.backoff(30, None), Duration::from_secs(10));
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(600))),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn config_debug_redacts_credentials() {
        let c = RestConfig::new(LIVE_BASE_URL, "visible-key-abc", "secret-xyz");
        let text = format!("{c:?}");
        assert!(!text.contains("visible-key-abc"));
        assert!(!text.contains("secret-xyz"));
    }

    #[test]
    fn half_credentials_are_refused() {
        let c = RestConfig::new("http://127.0.0.1:1", "key", "");
        assert!(matches!(
            RestClient::try_new(c),
            Err(RestSetupError::HalfCredentials)
        ));
        let c = RestConfig::new("http://127.0.0.1:1", "", "");
        assert!(RestClient::try_new(c).is_ok());
    }

    #[test]
    fn private_call_without_credentials_fails_before_sending() {
        let c = RestConfig::new("http://127.0.0.1:1", "", "");
        let mut client = RestClient::try_new(c).unwrap();
        client.query.clear();
        let r: Result<serde_json::Value, _> = client.call(Endpoint::Balance);
        assert!(matches!(r, Err(RestError::MissingCredentials)));
        assert_eq!(client.http_stats().connects, 0);
    }
}
