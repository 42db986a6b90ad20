//! Building the signed query string of a BingX REST request: parameters are
//! collected, sorted by key in ascending ASCII order, joined as `k=v&...`,
//! signed, and `signature=<hex>` is appended last (protocol §2.1, §3.2).
//!
//! Consumes parameter keys and values; produces the exact bytes that are both
//! signed and transmitted. Values are restricted to `[A-Za-z0-9._-]` so the
//! URL-encoded and raw forms are identical and the open question of which one
//! the server verifies never arises (§3.2, §10). Never allocates once its
//! buffers have grown to their working size; never sees the secret.

use core::fmt;
use std::io::Write as _;

use crate::io::signing::Signer;
use crate::types::{Price, Qty};

/// Most parameters one request may carry (including `timestamp` and `recvWindow`).
pub const MAX_PARAMS: usize = 16;

/// Error building a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// More than [`MAX_PARAMS`] parameters.
    TooManyParams,
    /// A value contains a character outside `[A-Za-z0-9._-]` (or is empty).
    UnsafeValue {
        /// The parameter whose value was refused.
        key: &'static str,
    },
    /// A price or quantity could not be formatted with the requested decimals.
    Unformattable {
        /// The parameter whose value was refused.
        key: &'static str,
    },
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyParams => write!(f, "more than {MAX_PARAMS} request parameters"),
            Self::UnsafeValue { key } => write!(
                f,
                "value of parameter `{key}` is empty or has characters outside [A-Za-z0-9._-]"
            ),
            Self::Unformattable { key } => {
                write!(
                    f,
                    "value of parameter `{key}` cannot be formatted as a decimal"
                )
            }
        }
    }
}

impl std::error::Error for QueryError {}

/// Returns true when every byte of `value` is in `[A-Za-z0-9._-]` and it is not empty.
#[must_use]
pub fn is_safe_value(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[derive(Debug, Clone, Copy)]
struct Param {
    key: &'static str,
    start: u32,
    end: u32,
}

/// Reusable builder of a sorted, signed query string.
///
/// Usage per request: [`Query::clear`], `push_*` the parameters in any order,
/// then [`Query::finish`] with the timestamp; [`Query::as_bytes`] is what goes
/// after `?` in the request line. `finish` may be called again with a new
/// timestamp (a retry) without rebuilding the parameters.
#[derive(Debug)]
pub struct Query {
    params: [Param; MAX_PARAMS],
    len: usize,
    values: Vec<u8>,
    out: Vec<u8>,
}

impl Default for Query {
    fn default() -> Self {
        Self::new()
    }
}

impl Query {
    /// Returns an empty builder with buffers sized for any order request.
    #[must_use]
    pub fn new() -> Self {
        Self {
            params: [Param {
                key: "",
                start: 0,
                end: 0,
            }; MAX_PARAMS],
            len: 0,
            values: Vec::with_capacity(512),
            out: Vec::with_capacity(1024),
        }
    }

    /// Removes every parameter and the finished output.
    pub fn clear(&mut self) {
        self.len = 0;
        self.values.clear();
        self.out.clear();
    }

    /// Returns the number of parameters pushed so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns true when no parameter has been pushed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn begin(&mut self) -> Result<u32, QueryError> {
        if self.len >= MAX_PARAMS {
            return Err(QueryError::TooManyParams);
        }
        Ok(u32::try_from(self.values.len()).unwrap_or(u32::MAX))
    }

    fn commit(&mut self, key: &'static str, start: u32) -> Result<(), QueryError> {
        let end = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        if !is_safe_value(&self.values[start as usize..end as usize]) {
            self.values.truncate(start as usize);
            return Err(QueryError::UnsafeValue { key });
        }
        debug_assert!(
            self.params[..self.len].iter().all(|p| p.key != key),
            "Invariant: each parameter key is pushed once"
        );
        self.params[self.len] = Param { key, start, end };
        self.len += 1;
        Ok(())
    }

    /// Adds a text parameter.
    ///
    /// # Errors
    /// [`QueryError::UnsafeValue`] for an empty value or one with characters
    /// outside `[A-Za-z0-9._-]`; [`QueryError::TooManyParams`].
    pub fn push_str(&mut self, key: &'static str, value: &str) -> Result<(), QueryError> {
        let start = self.begin()?;
        self.values.extend_from_slice(value.as_bytes());
        self.commit(key, start)
    }

    /// Adds an unsigned integer parameter.
    ///
    /// # Errors
    /// [`QueryError::TooManyParams`].
    pub fn push_u64(&mut self, key: &'static str, value: u64) -> Result<(), QueryError> {
        let start = self.begin()?;
        write_u64(&mut self.values, value);
        self.commit(key, start)
    }

    /// Adds a signed integer parameter.
    ///
    /// # Errors
    /// [`QueryError::TooManyParams`].
    pub fn push_i64(&mut self, key: &'static str, value: i64) -> Result<(), QueryError> {
        let start = self.begin()?;
        if value < 0 {
            self.values.push(b'-');
        }
        write_u64(&mut self.values, value.unsigned_abs());
        self.commit(key, start)
    }

    /// Adds a boolean parameter, spelled `true` / `false`.
    ///
    /// # Errors
    /// [`QueryError::TooManyParams`].
    pub fn push_bool(&mut self, key: &'static str, value: bool) -> Result<(), QueryError> {
        self.push_str(key, if value { "true" } else { "false" })
    }

    /// Adds a price written with exactly `decimals` fractional digits.
    ///
    /// # Errors
    /// [`QueryError::Unformattable`] for more than 18 decimals;
    /// [`QueryError::TooManyParams`].
    pub fn push_price(
        &mut self,
        key: &'static str,
        value: Price,
        decimals: u8,
    ) -> Result<(), QueryError> {
        let mut buf = [0u8; 48];
        let text = value
            .write_decimal(decimals, &mut buf)
            .ok_or(QueryError::Unformattable { key })?;
        self.push_str(key, text)
    }

    /// Adds a quantity written with exactly `decimals` fractional digits.
    ///
    /// # Errors
    /// As [`Query::push_price`].
    pub fn push_qty(
        &mut self,
        key: &'static str,
        value: Qty,
        decimals: u8,
    ) -> Result<(), QueryError> {
        let mut buf = [0u8; 48];
        let text = value
            .write_decimal(decimals, &mut buf)
            .ok_or(QueryError::Unformattable { key })?;
        self.push_str(key, text)
    }

    /// Writes the final query: every parameter plus `timestamp` (when
    /// `Some`) and `recvWindow` (when `Some`), sorted by key, joined with `&`;
    /// then, with a signer, `&signature=<hex>` of exactly those bytes.
    pub fn finish(
        &mut self,
        timestamp_ms: Option<i64>,
        recv_window_ms: Option<u32>,
        signer: Option<&Signer>,
    ) {
        #[derive(Clone, Copy)]
        enum Src {
            Param(usize),
            Timestamp(i64),
            RecvWindow(u32),
        }
        let mut order: [(&'static str, Src); MAX_PARAMS + 2] =
            [("", Src::Param(0)); MAX_PARAMS + 2];
        let mut n = 0;
        for (i, p) in self.params[..self.len].iter().enumerate() {
            order[n] = (p.key, Src::Param(i));
            n += 1;
        }
        if let Some(ts) = timestamp_ms {
            order[n] = ("timestamp", Src::Timestamp(ts));
            n += 1;
        }
        if let Some(rw) = recv_window_ms {
            order[n] = ("recvWindow", Src::RecvWindow(rw));
            n += 1;
        }
        // Sorting a fixed array in place: no allocation (sort_unstable_by is in-place).
        order[..n].sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        self.out.clear();
        for (i, (key, src)) in order[..n].iter().enumerate() {
            if i > 0 {
                self.out.push(b'&');
            }
            self.out.extend_from_slice(key.as_bytes());
            self.out.push(b'=');
            match *src {
                Src::Param(j) => {
                    let p = self.params[j];
                    self.out
                        .extend_from_slice(&self.values[p.start as usize..p.end as usize]);
                }
                Src::Timestamp(ts) => {
                    if ts < 0 {
                        self.out.push(b'-');
                    }
                    write_u64(&mut self.out, ts.unsigned_abs());
                }
                Src::RecvWindow(rw) => write_u64(&mut self.out, u64::from(rw)),
            }
        }
        if let Some(signer) = signer {
            let sig = signer.sign(&self.out);
            if !self.out.is_empty() {
                self.out.push(b'&');
            }
            self.out.extend_from_slice(b"signature=");
            self.out.extend_from_slice(sig.as_bytes());
        }
    }

    /// Returns the finished query string (empty before [`Query::finish`]).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    /// Returns the value pushed for `key`, if any.
    #[must_use]
    pub fn value(&self, key: &str) -> Option<&str> {
        self.params[..self.len]
            .iter()
            .find(|p| p.key == key)
            .and_then(|p| core::str::from_utf8(&self.values[p.start as usize..p.end as usize]).ok())
    }
}

/// Appends the decimal digits of `v` (no allocation beyond `out`'s capacity).
fn write_u64(out: &mut Vec<u8>, v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut v = v;
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // `Vec<u8>` as `io::Write` never fails.
    let _ = out.write_all(&tmp[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DecimalStep;

    const V3_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    fn text(q: &Query) -> &str {
        core::str::from_utf8(q.as_bytes()).unwrap()
    }

    #[test]
    fn limit_order_is_sorted_and_matches_vector_v3() {
        let signer = Signer::try_new(V3_SECRET.as_bytes()).unwrap();
        let mut q = Query::new();
        // Natural order in; sorted order out.
        q.push_str("symbol", "BTC-USDT").unwrap();
        q.push_str("side", "BUY").unwrap();
        q.push_str("positionSide", "LONG").unwrap();
        q.push_str("type", "LIMIT").unwrap();
        let step = DecimalStep::from_precision(4);
        q.push_qty("quantity", Qty(step.from_steps(10)), 4).unwrap();
        let tick = DecimalStep::from_precision(1);
        q.push_price("price", Price(tick.from_steps(650_005)), 1)
            .unwrap();
        q.push_str("timeInForce", "GTC").unwrap();
        q.push_str("clientOrderID", "mm-000001").unwrap();
        q.finish(Some(1_700_000_000_123), Some(5000), Some(&signer));
        assert_eq!(
            text(&q),
            "clientOrderID=mm-000001&positionSide=LONG&price=65000.5&quantity=0.0010&recvWindow=5000&side=BUY&symbol=BTC-USDT&timeInForce=GTC&timestamp=1700000000123&type=LIMIT&signature=73a3478ff3fff3572af49101b03f21c14c2019e05ff74227a9f4d522967b7115"
        );
    }

    #[test]
    fn cancel_by_order_id_matches_vector_v4() {
        let signer = Signer::try_new(V3_SECRET.as_bytes()).unwrap();
        let mut q = Query::new();
        q.push_str("symbol", "BTC-USDT").unwrap();
        q.push_u64("orderId", 1_736_011_869_418_901_234).unwrap();
        q.finish(Some(1_700_000_000_456), None, Some(&signer));
        assert!(text(&q).ends_with(
            "&signature=1dc110af6a4cc872c7c3a6177b6848360afe9fb0c8ab522b3ef055e566cceb92"
        ));
    }

    #[test]
    fn refinishing_with_a_new_timestamp_rebuilds_the_output() {
        let mut q = Query::new();
        q.push_str("symbol", "BTC-USDT").unwrap();
        q.finish(Some(1), None, None);
        assert_eq!(text(&q), "symbol=BTC-USDT&timestamp=1");
        q.finish(Some(2), None, None);
        assert_eq!(text(&q), "symbol=BTC-USDT&timestamp=2");
    }

    #[test]
    fn unsafe_values_are_refused() {
        let mut q = Query::new();
        assert_eq!(
            q.push_str("stopLoss", "{\"a\":1}"),
            Err(QueryError::UnsafeValue { key: "stopLoss" })
        );
        assert_eq!(
            q.push_str("symbol", ""),
            Err(QueryError::UnsafeValue { key: "symbol" })
        );
        assert_eq!(
            q.push_str("x", "a b"),
            Err(QueryError::UnsafeValue { key: "x" })
        );
        assert!(q.is_empty());
        q.push_i64("neg", -5).unwrap();
        q.push_bool("reduceOnly", true).unwrap();
        q.finish(None, None, None);
        assert_eq!(text(&q), "neg=-5&reduceOnly=true");
    }

    #[test]
    fn too_many_params_is_an_error() {
        const KEYS: [&str; 17] = [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
        ];
        let mut q = Query::new();
        for key in &KEYS[..16] {
            q.push_u64(key, 1).unwrap();
        }
        assert_eq!(q.push_u64(KEYS[16], 1), Err(QueryError::TooManyParams));
    }

    #[test]
    fn empty_query_signature_has_no_leading_ampersand() {
        let signer = Signer::try_new(b"test-secret-key-0001").unwrap();
        let mut q = Query::new();
        q.finish(Some(1_700_000_000_000), None, Some(&signer));
        assert_eq!(
            text(&q),
            "timestamp=1700000000000&signature=0e062ac5d695393002a4b6a2e0bacebfb697ba02f24cd63c6a7b09f1d49a708b"
        );
    }

    #[test]
    fn building_and_signing_does_not_allocate_after_warm_up() {
        let signer = Signer::try_new(V3_SECRET.as_bytes()).unwrap();
        let mut q = Query::new();
        let price = Price::from_f64(65000.5).unwrap();
        let run = |q: &mut Query| {
            q.clear();
            q.push_str("symbol", "BTC-USDT").unwrap();
            q.push_str("side", "BUY").unwrap();
            q.push_price("price", price, 1).unwrap();
            q.push_u64("orderId", 17).unwrap();
            q.finish(Some(1_700_000_000_123), Some(5000), Some(&signer));
        };
        run(&mut q);
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                run(&mut q);
            }
        });
        assert_eq!(info.count_total, 0);
    }
}
