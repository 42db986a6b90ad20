//! Errors and counters of the feed decoders.
//!
//! Consumes nothing; produces the small `Copy` [`FeedError`] returned for a
//! rejected frame and the [`FeedStats`] counters that the decoders bump for
//! every frame, event and error kind. Nothing here allocates.

use core::fmt;

/// Why a gzip frame could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InflateError {
    /// The frame does not start with the gzip magic bytes and method 8.
    NotGzip,
    /// The frame ends before the deflate stream or the gzip trailer does.
    Truncated,
    /// The deflate stream, a header field or the CRC-32/length trailer is invalid.
    Corrupt,
    /// The inflated payload would exceed the configured maximum frame size.
    TooLarge,
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotGzip => "frame is not gzip (bad magic or method)",
            Self::Truncated => "gzip frame is truncated",
            Self::Corrupt => "gzip frame is corrupt (bad deflate data, header or checksum)",
            Self::TooLarge => "inflated frame exceeds the maximum frame size",
        })
    }
}

impl std::error::Error for InflateError {}

/// Why a market-data frame was rejected (or, for
/// [`FeedError::TimestampBackwards`], why its events were skipped).
///
/// `&'static str` payloads name the JSON field at fault; the enum is `Copy`
/// and never owns heap memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedError {
    /// The gzip layer failed.
    Gzip(InflateError),
    /// The payload is larger than the configured maximum frame size.
    FrameTooLarge,
    /// The payload is not valid JSON (or not an object at top level).
    MalformedJson,
    /// A required field is absent.
    MissingField(&'static str),
    /// A field has the wrong JSON type or an unparsable value.
    MistypedField(&'static str),
    /// A price is not a finite decimal, is zero or negative, or exceeds the limit.
    BadPrice(&'static str),
    /// A quantity is not a decimal, is negative (or zero for a trade), or is absurdly large.
    BadQty(&'static str),
    /// A timestamp is not positive or lies beyond the year 2100.
    BadTimestamp(&'static str),
    /// The symbol is not registered in the [`super::SymbolTable`].
    UnknownSymbol,
    /// The message type is not one the decoder knows (neither decoded nor deliberately ignored).
    UnknownMessage,
    /// The exchange flagged the push itself as an error (`code` ≠ 0).
    ExchangeError(i64),
    /// Every event of the frame was older than the last accepted event of its
    /// symbol and stream; the events were skipped.
    TimestampBackwards,
}

impl FeedError {
    /// Returns the counter bucket of this error.
    #[must_use]
    pub const fn kind(self) -> FeedErrorKind {
        match self {
            Self::Gzip(InflateError::Truncated) => FeedErrorKind::TruncatedGzip,
            Self::Gzip(_) => FeedErrorKind::CorruptGzip,
            Self::FrameTooLarge => FeedErrorKind::FrameTooLarge,
            Self::MalformedJson => FeedErrorKind::MalformedJson,
            Self::MissingField(_) => FeedErrorKind::MissingField,
            Self::MistypedField(_) => FeedErrorKind::MistypedField,
            Self::BadPrice(_) => FeedErrorKind::BadPrice,
            Self::BadQty(_) => FeedErrorKind::BadQty,
            Self::BadTimestamp(_) => FeedErrorKind::BadTimestamp,
            Self::UnknownSymbol => FeedErrorKind::UnknownSymbol,
            Self::UnknownMessage => FeedErrorKind::UnknownMessage,
            Self::ExchangeError(_) => FeedErrorKind::ExchangeError,
            Self::TimestampBackwards => FeedErrorKind::TimestampBackwards,
        }
    }
}

impl fmt::Display for FeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gzip(e) => write!(f, "gzip: {e}"),
            Self::FrameTooLarge => f.write_str("payload exceeds the maximum frame size"),
            Self::MalformedJson => f.write_str("payload is not a JSON object"),
            Self::MissingField(name) => write!(f, "missing field `{name}`"),
            Self::MistypedField(name) => write!(f, "field `{name}` has the wrong type or value"),
            Self::BadPrice(name) => write!(f, "price `{name}` is not a positive decimal in range"),
            Self::BadQty(name) => write!(f, "quantity `{name}` is negative, zero or absurd"),
            Self::BadTimestamp(name) => write!(f, "timestamp `{name}` is out of range"),
            Self::UnknownSymbol => f.write_str("symbol is not registered"),
            Self::UnknownMessage => f.write_str("message type is not recognised"),
            Self::ExchangeError(code) => write!(f, "exchange push carries error code {code}"),
            Self::TimestampBackwards => f.write_str("timestamp went backwards; events skipped"),
        }
    }
}

impl std::error::Error for FeedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Gzip(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InflateError> for FeedError {
    fn from(e: InflateError) -> Self {
        Self::Gzip(e)
    }
}

/// The counter bucket of a [`FeedError`], usable as an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeedErrorKind {
    /// [`InflateError::Truncated`].
    TruncatedGzip,
    /// Any other [`InflateError`].
    CorruptGzip,
    /// [`FeedError::FrameTooLarge`].
    FrameTooLarge,
    /// [`FeedError::MalformedJson`].
    MalformedJson,
    /// [`FeedError::MissingField`].
    MissingField,
    /// [`FeedError::MistypedField`].
    MistypedField,
    /// [`FeedError::BadPrice`].
    BadPrice,
    /// [`FeedError::BadQty`].
    BadQty,
    /// [`FeedError::BadTimestamp`].
    BadTimestamp,
    /// [`FeedError::UnknownSymbol`].
    UnknownSymbol,
    /// [`FeedError::UnknownMessage`].
    UnknownMessage,
    /// [`FeedError::ExchangeError`].
    ExchangeError,
    /// [`FeedError::TimestampBackwards`] (counts skipped events, not frames).
    TimestampBackwards,
}

impl FeedErrorKind {
    /// Number of kinds.
    pub const COUNT: usize = 13;

    /// Every kind, in index order.
    pub const ALL: [Self; Self::COUNT] = [
        Self::TruncatedGzip,
        Self::CorruptGzip,
        Self::FrameTooLarge,
        Self::MalformedJson,
        Self::MissingField,
        Self::MistypedField,
        Self::BadPrice,
        Self::BadQty,
        Self::BadTimestamp,
        Self::UnknownSymbol,
        Self::UnknownMessage,
        Self::ExchangeError,
        Self::TimestampBackwards,
    ];

    /// Returns the index of this kind in [`FeedErrorKind::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Counters of one decoder: frames, decoded events, ignored messages and
/// errors per kind. Written only by the decoder that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedStats {
    /// Frames handed to `decode`, accepted or not.
    pub frames: u64,
    /// BingX `Ping` frames seen (each needs a `Pong`).
    pub pings: u64,
    /// Subscription acknowledgements (success or failure) seen.
    pub acks: u64,
    /// Trades emitted.
    pub trades: u64,
    /// Kline updates emitted.
    pub klines: u64,
    /// Book tickers emitted.
    pub book_tickers: u64,
    /// Known messages deliberately ignored.
    pub ignored: u64,
    errors: [u64; FeedErrorKind::COUNT],
}

impl FeedStats {
    /// Returns the count of errors of `kind`.
    #[must_use]
    pub const fn errors(&self, kind: FeedErrorKind) -> u64 {
        self.errors[kind.index()]
    }

    /// Returns the count of errors of every kind together.
    #[must_use]
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Adds one error of the kind of `error`.
    pub fn record_error(&mut self, error: FeedError) {
        self.add_errors(error.kind(), 1);
    }

    /// Adds `n` errors of `kind`.
    pub fn add_errors(&mut self, kind: FeedErrorKind, n: u64) {
        self.errors[kind.index()] = self.errors[kind.index()].saturating_add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_indexed_in_order() {
        for (i, kind) in FeedErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }

    #[test]
    fn stats_count_each_kind_separately() {
        let mut s = FeedStats::default();
        s.record_error(FeedError::Gzip(InflateError::Truncated));
        s.record_error(FeedError::Gzip(InflateError::Corrupt));
        s.record_error(FeedError::BadPrice("p"));
        s.add_errors(FeedErrorKind::TimestampBackwards, 3);
        assert_eq!(s.errors(FeedErrorKind::TruncatedGzip), 1);
        assert_eq!(s.errors(FeedErrorKind::CorruptGzip), 1);
        assert_eq!(s.errors(FeedErrorKind::BadPrice), 1);
        assert_eq!(s.errors(FeedErrorKind::TimestampBackwards), 3);
        assert_eq!(s.total_errors(), 6);
    }

    #[test]
    fn display_keeps_the_field_name_and_cause() {
        assert!(FeedError::MissingField("T").to_string().contains("`T`"));
        let e = FeedError::Gzip(InflateError::Truncated);
        assert!(e.to_string().contains("truncated"));
        assert!(std::error::Error::source(&e).is_some());
    }
}
