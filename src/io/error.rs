//! Typed errors of the BingX REST client, one enum per operation family, and
//! their classification into retryable, not retryable and ambiguous
//! (protocol §2.3 HTTP statuses, §2.5 business codes).
//!
//! Consumes raw failures (socket errors, HTTP statuses, envelope codes);
//! produces [`TransportError`], [`RestError`] and the family enums
//! [`MarketDataError`], [`OrderError`], [`AccountError`], [`ListenKeyError`].
//! Never holds or prints credentials; messages always keep their cause.

use core::fmt;
use std::time::Duration;

use crate::io::query::QueryError;

/// What a caller may do after a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The request was not executed (or is safe to repeat): retry after a delay.
    Retryable,
    /// Repeating the same request cannot succeed.
    NotRetryable,
    /// The request may or may not have been executed: reconcile before any resend.
    Ambiguous,
}

/// Phase of an HTTP exchange in which a transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Resolving the host or opening the TCP connection.
    Connect,
    /// The TLS handshake.
    Handshake,
    /// Writing the request; the server cannot have received a complete request.
    Write,
    /// Reading the response; the request was fully sent and may have been executed.
    Read,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Handshake => "TLS handshake",
            Self::Write => "request write",
            Self::Read => "response read",
        })
    }
}

/// Failure below HTTP semantics: sockets, TLS, framing.
#[derive(Debug)]
pub enum TransportError {
    /// The base URL could not be used.
    InvalidUrl {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A socket operation failed.
    Io {
        /// Where it failed.
        phase: Phase,
        /// The OS error.
        source: std::io::Error,
    },
    /// TLS failed (handshake or record layer).
    Tls {
        /// Where it failed.
        phase: Phase,
        /// The rustls error.
        source: rustls::Error,
    },
    /// No progress within the configured timeout.
    Timeout {
        /// Where it timed out.
        phase: Phase,
    },
    /// The peer closed the connection before a complete response.
    Closed {
        /// Where the close was seen.
        phase: Phase,
    },
    /// The response violated HTTP/1.1 (bad status line, header or chunk).
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The response exceeded the configured size limit.
    TooLarge {
        /// The limit in bytes.
        limit_bytes: usize,
    },
}

impl TransportError {
    /// Returns true when the request bytes were completely handed to the
    /// socket, so the server may have executed it.
    #[must_use]
    pub fn request_sent(&self) -> bool {
        match self {
            Self::InvalidUrl { .. } => false,
            Self::Io { phase, .. }
            | Self::Tls { phase, .. }
            | Self::Timeout { phase }
            | Self::Closed { phase } => *phase == Phase::Read,
            Self::Malformed { .. } | Self::TooLarge { .. } => true,
        }
    }

    /// Returns the disposition for an idempotent or non-idempotent request.
    #[must_use]
    pub fn disposition(&self, idempotent: bool) -> Disposition {
        match self {
            Self::InvalidUrl { .. } => Disposition::NotRetryable,
            _ if !self.request_sent() => Disposition::Retryable,
            _ if idempotent => Disposition::Retryable,
            _ => Disposition::Ambiguous,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl { reason } => write!(f, "invalid base URL: {reason}"),
            Self::Io { phase, source } => write!(f, "socket error during {phase}: {source}"),
            Self::Tls { phase, source } => write!(f, "TLS error during {phase}: {source}"),
            Self::Timeout { phase } => write!(f, "timed out during {phase}"),
            Self::Closed { phase } => write!(f, "connection closed by peer during {phase}"),
            Self::Malformed { reason } => write!(f, "malformed HTTP response: {reason}"),
            Self::TooLarge { limit_bytes } => {
                write!(f, "HTTP response larger than {limit_bytes} bytes")
            }
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Tls { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Failure building the TLS client configuration.
#[derive(Debug)]
pub enum TlsSetupError {
    /// The extra CA file could not be read.
    ReadCaFile {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The extra CA file held no certificate, or one rustls refused.
    BadCaFile {
        /// The file.
        path: std::path::PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the protocol configuration.
    Config(rustls::Error),
}

impl fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadCaFile { path, source } => {
                write!(f, "cannot read CA file {}: {source}", path.display())
            }
            Self::BadCaFile { path, reason } => {
                write!(f, "unusable CA file {}: {reason}", path.display())
            }
            Self::Config(e) => write!(f, "TLS configuration refused: {e}"),
        }
    }
}

impl std::error::Error for TlsSetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ReadCaFile { source, .. } => Some(source),
            Self::Config(e) => Some(e),
            Self::BadCaFile { .. } => None,
        }
    }
}

/// A documented BingX business error code (§2.5), old and new numbering folded together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExchangeCode {
    /// 100001: signature verification failed.
    SignatureMismatch,
    /// 100412: signature empty or missing.
    SignatureMissing,
    /// 100413: wrong or unknown API key.
    UnknownApiKey,
    /// 100004: the API key lacks the needed permission.
    PermissionDenied,
    /// 100419: IP not in the key's whitelist.
    IpNotWhitelisted,
    /// 100421: timestamp outside `recvWindow`.
    TimestampOutOfWindow,
    /// 100410 / 109429: rate limited.
    RateLimited,
    /// 100400 / 80014 / 109400: invalid or missing parameter (also the
    /// position-side vs position-mode mismatch).
    InvalidParameter,
    /// 100500 / 80012 / 101500: internal error, service busy or RPC timeout.
    InternalError,
    /// 80016 / 109421: order does not exist.
    OrderNotFound,
    /// 80017: position does not exist.
    PositionNotFound,
    /// 80018 / 109422: order already filled.
    OrderAlreadyFilled,
    /// 80019: order still being processed.
    OrderProcessing,
    /// 80013: too many open orders.
    TooManyOpenOrders,
    /// 101204: insufficient margin.
    InsufficientMargin,
    /// 101205: no position to close.
    NoPositionToClose,
    /// 101209: maximum position value for this leverage exceeded.
    MaxPositionValueExceeded,
    /// 109201: the same order submitted twice within one second.
    DuplicateWithinSecond,
    /// 101481: clientOrderID already used.
    DuplicateClientOrderId,
    /// 101215: a post-only order would have taken liquidity.
    PostOnlyWouldTake,
    /// 101290: a reduce-only order would open or increase a position.
    ReduceOnlyWouldIncrease,
    /// 101400 / 110425: below minimum size or notional.
    BelowMinimum,
    /// 101211 / 101460: price outside the allowed band or beyond liquidation.
    PriceOutOfBand,
    /// 101414: leverage above the symbol maximum.
    LeverageTooHigh,
    /// 101415 / 101514: pair or opening temporarily suspended.
    TradingSuspended,
    /// 80015: unknown symbol or data type (WebSocket subscriptions).
    UnknownSymbolOrTopic,
    /// 80403: more than 200 topics on one WebSocket connection.
    TooManyTopics,
    /// A code not in the documented list.
    Undocumented,
}

impl ExchangeCode {
    /// Returns the kind of a non-zero envelope `code`.
    #[must_use]
    pub const fn from_code(code: i64) -> Self {
        match code {
            100_001 => Self::SignatureMismatch,
            100_412 => Self::SignatureMissing,
            100_413 => Self::UnknownApiKey,
            100_004 => Self::PermissionDenied,
            100_419 => Self::IpNotWhitelisted,
            100_421 => Self::TimestampOutOfWindow,
            100_410 | 109_429 => Self::RateLimited,
            100_400 | 80_014 | 109_400 => Self::InvalidParameter,
            100_500 | 80_012 | 101_500 => Self::InternalError,
            80_016 | 109_421 => Self::OrderNotFound,
            80_017 => Self::PositionNotFound,
            80_018 | 109_422 => Self::OrderAlreadyFilled,
            80_019 => Self::OrderProcessing,
            80_013 => Self::TooManyOpenOrders,
            101_204 => Self::InsufficientMargin,
            101_205 => Self::NoPositionToClose,
            101_209 => Self::MaxPositionValueExceeded,
            109_201 => Self::DuplicateWithinSecond,
            101_481 => Self::DuplicateClientOrderId,
            101_215 => Self::PostOnlyWouldTake,
            101_290 => Self::ReduceOnlyWouldIncrease,
            101_400 | 110_425 => Self::BelowMinimum,
            101_211 | 101_460 => Self::PriceOutOfBand,
            101_414 => Self::LeverageTooHigh,
            101_415 | 101_514 => Self::TradingSuspended,
            80_015 => Self::UnknownSymbolOrTopic,
            80_403 => Self::TooManyTopics,
            _ => Self::Undocumented,
        }
    }

    /// Returns the disposition of a request answered with this code.
    /// An internal error / RPC timeout may have executed a non-idempotent request.
    #[must_use]
    pub const fn disposition(self, idempotent: bool) -> Disposition {
        match self {
            Self::RateLimited | Self::TimestampOutOfWindow | Self::OrderProcessing => {
                Disposition::Retryable
            }
            Self::InternalError if idempotent => Disposition::Retryable,
            Self::InternalError | Self::DuplicateWithinSecond | Self::DuplicateClientOrderId => {
                Disposition::Ambiguous
            }
            _ => Disposition::NotRetryable,
        }
    }
}

/// A non-zero `code` in a BingX response envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The raw code.
    pub code: i64,
    /// The documented meaning.
    pub kind: ExchangeCode,
    /// The server's `msg`.
    pub msg: String,
    /// HTTP status the envelope came with.
    pub http_status: u16,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exchange error {} ({:?}, HTTP {}): {}",
            self.code, self.kind, self.http_status, self.msg
        )
    }
}

impl std::error::Error for ApiError {}

/// A documented HTTP status class (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpStatusClass {
    /// 400: bad request format.
    BadRequest,
    /// 401: invalid API key.
    Unauthorized,
    /// 403: no access / firewall ban.
    Forbidden,
    /// 404: not found.
    NotFound,
    /// 418: IP banned after continuing past 429.
    IpBanned,
    /// 429: too many requests.
    TooManyRequests,
    /// 504: gateway timeout, outcome unknown.
    UnknownOutcome,
    /// Any other 5xx.
    ServerError,
    /// Any other non-2xx status.
    Other,
}

impl HttpStatusClass {
    /// Returns the class of a non-2xx status.
    #[must_use]
    pub const fn of(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            418 => Self::IpBanned,
            429 => Self::TooManyRequests,
            504 => Self::UnknownOutcome,
            500..=599 => Self::ServerError,
            _ => Self::Other,
        }
    }

    /// Returns the disposition of a request answered with this class.
    #[must_use]
    pub const fn disposition(self, idempotent: bool) -> Disposition {
        match self {
            Self::TooManyRequests => Disposition::Retryable,
            Self::UnknownOutcome | Self::ServerError if idempotent => Disposition::Retryable,
            Self::UnknownOutcome | Self::ServerError => Disposition::Ambiguous,
            _ => Disposition::NotRetryable,
        }
    }
}

/// Failure of one REST request, common to every operation family.
#[derive(Debug)]
pub enum RestError {
    /// The parameters could not be encoded.
    Query(QueryError),
    /// A private endpoint was called on a client built without API credentials.
    MissingCredentials,
    /// Sockets, TLS or HTTP framing failed.
    Transport(TransportError),
    /// The server rate-limited us (HTTP 429/418 or code 100410/109429).
    RateLimited {
        /// HTTP status.
        status: u16,
        /// Envelope code, when the body had one.
        code: Option<i64>,
        /// Delay the server asked for (`Retry-After`), when given.
        retry_after: Option<Duration>,
    },
    /// A non-2xx HTTP status without a recognisable envelope.
    Http {
        /// The status code.
        status: u16,
        /// Its documented class.
        class: HttpStatusClass,
        /// The start of the body, for the log.
        body_excerpt: String,
    },
    /// The envelope carried a non-zero `code`.
    Api(ApiError),
    /// The body was not the documented JSON shape.
    Decode {
        /// Which endpoint's reply.
        endpoint: &'static str,
        /// The parser's message.
        detail: String,
    },
}

impl RestError {
    /// Returns the disposition for an idempotent or non-idempotent request.
    #[must_use]
    pub fn disposition(&self, idempotent: bool) -> Disposition {
        match self {
            Self::Query(_) | Self::MissingCredentials | Self::Decode { .. } => {
                Disposition::NotRetryable
            }
            Self::Transport(e) => e.disposition(idempotent),
            Self::RateLimited { status, .. } => {
                if *status == 418 {
                    Disposition::NotRetryable
                } else {
                    Disposition::Retryable
                }
            }
            Self::Http { class, .. } => class.disposition(idempotent),
            Self::Api(e) => e.kind.disposition(idempotent),
        }
    }

    /// Returns the server's retry hint, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Returns the exchange code kind, when the failure was an envelope code.
    #[must_use]
    pub fn exchange_code(&self) -> Option<ExchangeCode> {
        match self {
            Self::Api(e) => Some(e.kind),
            Self::RateLimited { .. } => Some(ExchangeCode::RateLimited),
            _ => None,
        }
    }
}

impl fmt::Display for RestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Query(e) => write!(f, "cannot encode request: {e}"),
            Self::MissingCredentials => {
                f.write_str("private endpoint called without API key and secret")
            }
            Self::Transport(e) => write!(f, "transport failure: {e}"),
            Self::RateLimited {
                status,
                code,
                retry_after,
            } => write!(
                f,
                "rate limited (HTTP {status}, code {code:?}, retry after {retry_after:?})"
            ),
            Self::Http {
                status,
                class,
                body_excerpt,
            } => write!(f, "HTTP {status} ({class:?}): {body_excerpt}"),
            Self::Api(e) => write!(f, "{e}"),
            Self::Decode { endpoint, detail } => {
                write!(f, "undecodable reply from {endpoint}: {detail}")
            }
        }
    }
}

impl std::error::Error for RestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Query(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TransportError> for RestError {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

impl From<QueryError> for RestError {
    fn from(e: QueryError) -> Self {
        Self::Query(e)
    }
}

/// Failure of a public market-data request (time, contracts, tickers, depth, klines).
#[derive(Debug)]
pub enum MarketDataError {
    /// The request failed.
    Request(RestError),
    /// The arguments were refused before sending.
    InvalidArgument(&'static str),
}

/// Why an order request was refused before it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderInvalid {
    /// The client order id is empty (it is required for duplicate protection).
    MissingClientOrderId,
    /// The quantity is zero or negative.
    NonPositiveQty,
    /// A LIMIT order without a positive price.
    MissingPrice,
    /// A trigger order without a positive stop price.
    MissingStopPrice,
    /// A cancel or query by client order id with an empty id.
    MissingOrderRef,
    /// The symbol id is not in the client's symbol table.
    UnknownSymbol,
}

/// Failure of a trading request (place, cancel, query, open orders).
#[derive(Debug)]
pub enum OrderError {
    /// Refused locally before sending.
    Invalid(OrderInvalid),
    /// The request failed; for place-order this is only returned when the
    /// order provably was not created (or the failure is not ambiguous).
    Request(RestError),
    /// A place-order failed ambiguously on every attempt, and each time the
    /// lookup proved the order absent: nothing was created.
    NotPlaced(RestError),
    /// A place-order failed in a way that may have created the order, and
    /// reconciliation by client order id could not decide. The order was not
    /// resent; the caller must reconcile (user stream, open orders).
    Ambiguous {
        /// The failure of the send.
        send: Box<RestError>,
        /// The failure of the last lookup.
        lookup: Box<RestError>,
    },
}

impl OrderError {
    /// Returns the disposition of this failure for the caller.
    #[must_use]
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Invalid(_) => Disposition::NotRetryable,
            Self::Request(e) => e.disposition(false),
            Self::NotPlaced(_) => Disposition::Retryable,
            Self::Ambiguous { .. } => Disposition::Ambiguous,
        }
    }
}

/// Failure of an account request (positions, balance, leverage, margin type,
/// position mode, dead-man switch).
#[derive(Debug)]
pub enum AccountError {
    /// The request failed.
    Request(RestError),
    /// The arguments were refused before sending.
    InvalidArgument(&'static str),
}

/// Failure of a listen-key request.
#[derive(Debug)]
pub enum ListenKeyError {
    /// The request failed.
    Request(RestError),
    /// The server does not know the key (HTTP 404).
    NotFound,
}

macro_rules! family_impls {
    ($name:ident, $what:literal, { $($arm:pat => $fmt:expr),* $(,)? }) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                #[allow(clippy::redundant_closure_call, reason = "uniform arms in the macro")]
                match self {
                    Self::Request(e) => write!(f, concat!($what, " failed: {}"), e),
                    $($arm => ($fmt)(f),)*
                }
            }
        }

        impl std::error::Error for $name {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    Self::Request(e) => Some(e),
                    _ => None,
                }
            }
        }

        impl From<RestError> for $name {
            fn from(e: RestError) -> Self {
                Self::Request(e)
            }
        }

        impl From<QueryError> for $name {
            fn from(e: QueryError) -> Self {
                Self::Request(RestError::Query(e))
            }
        }
    };
}

family_impls!(MarketDataError, "market-data request", {
    Self::InvalidArgument(why) => |f: &mut fmt::Formatter<'_>| write!(f, "market-data request refused: {why}"),
});

family_impls!(OrderError, "order request", {
    Self::Invalid(why) => |f: &mut fmt::Formatter<'_>| write!(f, "order refused before sending: {why:?}"),
    Self::NotPlaced(e) => |f: &mut fmt::Formatter<'_>| write!(f, "order not placed (proved absent after each attempt): {e}"),
    Self::Ambiguous { send, lookup } => |f: &mut fmt::Formatter<'_>| write!(f, "order outcome unknown (send: {send}; lookup: {lookup}); not resent"),
});

family_impls!(AccountError, "account request", {
    Self::InvalidArgument(why) => |f: &mut fmt::Formatter<'_>| write!(f, "account request refused: {why}"),
});

family_impls!(ListenKeyError, "listen-key request", {
    Self::NotFound => |f: &mut fmt::Formatter<'_>| f.write_str("listen key not found (HTTP 404)"),
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_code_generations_map_to_one_kind() {
        assert_eq!(ExchangeCode::from_code(80_016), ExchangeCode::OrderNotFound);
        assert_eq!(
            ExchangeCode::from_code(109_421),
            ExchangeCode::OrderNotFound
        );
        assert_eq!(ExchangeCode::from_code(100_410), ExchangeCode::RateLimited);
        assert_eq!(ExchangeCode::from_code(109_429), ExchangeCode::RateLimited);
        assert_eq!(
            ExchangeCode::from_code(80_018),
            ExchangeCode::OrderAlreadyFilled
        );
        assert_eq!(
            ExchangeCode::from_code(109_422),
            ExchangeCode::OrderAlreadyFilled
        );
        assert_eq!(ExchangeCode::from_code(110_425), ExchangeCode::BelowMinimum);
        assert_eq!(
            ExchangeCode::from_code(101_514),
            ExchangeCode::TradingSuspended
        );
        assert_eq!(ExchangeCode::from_code(424_242), ExchangeCode::Undocumented);
    }

    #[test]
    fn every_documented_code_has_a_kind() {
        let documented = [
            100_001, 100_412, 100_413, 100_004, 100_419, 100_421, 100_410, 109_429, 100_400,
            80_014, 109_400, 100_500, 80_012, 101_500, 80_016, 109_421, 80_017, 80_018, 109_422,
            80_019, 80_013, 101_204, 101_205, 101_209, 109_201, 101_481, 101_215, 101_290, 101_400,
            110_425, 101_211, 101_460, 101_414, 101_415, 101_514, 80_015, 80_403,
        ];
        for code in documented {
            assert_ne!(
                ExchangeCode::from_code(code),
                ExchangeCode::Undocumented,
                "{code}"
            );
        }
    }

    #[test]
    fn internal_error_is_ambiguous_only_for_non_idempotent_requests() {
        let k = ExchangeCode::InternalError;
        assert_eq!(k.disposition(true), Disposition::Retryable);
        assert_eq!(k.disposition(false), Disposition::Ambiguous);
        assert_eq!(
            ExchangeCode::InsufficientMargin.disposition(false),
            Disposition::NotRetryable
        );
    }

    #[test]
    fn http_statuses_are_classified() {
        assert_eq!(
            HttpStatusClass::of(429).disposition(false),
            Disposition::Retryable
        );
        assert_eq!(
            HttpStatusClass::of(418).disposition(true),
            Disposition::NotRetryable
        );
        assert_eq!(
            HttpStatusClass::of(504).disposition(false),
            Disposition::Ambiguous
        );
        assert_eq!(
            HttpStatusClass::of(502).disposition(true),
            Disposition::Retryable
        );
        assert_eq!(
            HttpStatusClass::of(401).disposition(true),
            Disposition::NotRetryable
        );
        assert_eq!(HttpStatusClass::of(302), HttpStatusClass::Other);
    }

    #[test]
    fn write_failures_are_retryable_and_read_failures_ambiguous_for_orders() {
        let w = TransportError::Closed {
            phase: Phase::Write,
        };
        let r = TransportError::Timeout { phase: Phase::Read };
        assert_eq!(w.disposition(false), Disposition::Retryable);
        assert_eq!(r.disposition(false), Disposition::Ambiguous);
        assert_eq!(r.disposition(true), Disposition::Retryable);
    }

    #[test]
    fn display_keeps_the_cause() {
        let e = OrderError::Request(RestError::Api(ApiError {
            code: 101_204,
            kind: ExchangeCode::InsufficientMargin,
            msg: "Insufficient margin".into(),
            http_status: 200,
        }));
        let text = e.to_string();
        assert!(text.contains("101204"), "{text}");
        assert!(text.contains("Insufficient margin"), "{text}");
        let io = TransportError::Io {
            phase: Phase::Connect,
            source: std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused here"),
        };
        assert!(RestError::from(io).to_string().contains("refused here"));
    }
}
