//! Validating fast path for the small, hot Binance shapes: `aggTrade`,
//! `trade` and 1m `kline`, raw or inside the combined-stream envelope.
//!
//! Consumes the frame bytes as received (no copy); produces the same events,
//! state updates and [`FrameKind`] as the general simd-json path of
//! [`super::binance`], or declines. simd-json's fixed cost per message
//! (stage-1 index, tape) dominates ~200-byte messages; one strict pass over
//! the bytes here is cheaper (bench `parse/binance_aggtrade/*`).
//!
//! Declines (returns `None`, having changed nothing) on anything outside a
//! strict subset of JSON: escapes, non-ASCII or control bytes in strings,
//! floats, negative or 20-digit numbers, leading zeros, arrays, nested
//! objects other than the envelope's `data` and the kline's `k`, repeated
//! keys the decoder reads, request/ack keys, other event types, and every
//! value the validation rejects. The caller then runs the general path, which
//! owns every error, so errors are identical by construction and the fast
//! path only has to agree on success (fuzzed in `tests/feed_fuzz.rs`).
//! Never allocates, never panics, never parses a number through `f64`.

use super::error::FeedError;
use super::json::{self, Scalar};
use super::state::{DecoderState, Stream};
use super::{FrameKind, KlineUpdate, MarketEvent};
use crate::types::{Side, Trade};

/// Most digits of a number the scanner reads: below `u64::MAX` (20 digits),
/// so it never overflows; longer numbers go to the general path.
const MAX_NUMBER_DIGITS: usize = 19;

/// A read position in the frame.
struct Cursor<'i> {
    bytes: &'i [u8],
    /// Next byte to read, in `0..=bytes.len()`.
    at: usize,
}

impl<'i> Cursor<'i> {
    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    /// Skips whitespace and consumes `byte`, or declines.
    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// `true` when the byte after a number or literal ends the value.
    #[inline]
    fn at_delimiter(&self) -> bool {
        matches!(
            self.bytes.get(self.at),
            Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
        )
    }

    /// Reads a string of printable ASCII without escapes (cursor on `"`).
    #[inline]
    fn string(&mut self) -> Option<&'i str> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            match *self.bytes.get(self.at)? {
                b'"' => break,
                b'\\' | 0..=0x1f | 0x80..=0xff => return None,
                _ => self.at += 1,
            }
        }
        let text = self.bytes.get(start..self.at)?;
        self.at += 1;
        core::str::from_utf8(text).ok()
    }

    /// Reads a non-negative integer of at most 19 digits, no leading zero.
    #[inline]
    fn number(&mut self) -> Option<u64> {
        let start = self.at;
        let mut n: u64 = 0;
        while let Some(&b) = self.bytes.get(self.at) {
            if !b.is_ascii_digit() {
                break;
            }
            if self.at - start == MAX_NUMBER_DIGITS {
                return None;
            }
            // At most 19 digits: n < 10^19 < u64::MAX, no overflow.
            n = n * 10 + u64::from(b - b'0');
            self.at += 1;
        }
        let digits = self.at - start;
        if digits == 0 || (digits > 1 && self.bytes.get(start) == Some(&b'0')) {
            return None;
        }
        self.at_delimiter().then_some(n)
    }

    /// Consumes `word` (a literal) if it is next and ends at a delimiter.
    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        if self.bytes.get(self.at..end)? != word {
            return None;
        }
        self.at = end;
        self.at_delimiter().then_some(())
    }

    /// Reads a scalar value: string, integer, `true`, `false` or `null`.
    #[inline]
    fn scalar(&mut self) -> Option<Scalar<'i>> {
        match self.peek()? {
            b'"' => self.string().map(Scalar::Str),
            b'0'..=b'9' => self.number().map(Scalar::U),
            b't' => self.literal(b"true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Scalar::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Scalar::Other),
            _ => None,
        }
    }

    /// Reads an object, calling `member` with the cursor on each value.
    #[inline]
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'i str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// Stores `v` in `slot`, declining a repeated key (the general path keeps
/// the last one; the fast path does not guess).
#[inline]
fn once<T>(slot: &mut Option<T>, v: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v?);
    Some(())
}

/// The fields of a kline's `k` object that the decoder reads.
#[derive(Default, Clone, Copy)]
struct KlineFields<'i> {
    t: Option<Scalar<'i>>,
    i: Option<Scalar<'i>>,
    o: Option<Scalar<'i>>,
    h: Option<Scalar<'i>>,
    l: Option<Scalar<'i>>,
    c: Option<Scalar<'i>>,
    v: Option<Scalar<'i>>,
    x: Option<Scalar<'i>>,
    s: Option<Scalar<'i>>,
}

/// The fields of an event (or envelope) object that the decoder reads.
#[derive(Default)]
struct EventFields<'i> {
    stream: Option<Scalar<'i>>,
    /// The envelope's `data` object was present (its fields are scanned separately).
    data: bool,
    e: Option<Scalar<'i>>,
    s: Option<Scalar<'i>>,
    a: Option<Scalar<'i>>,
    t: Option<Scalar<'i>>,
    p: Option<Scalar<'i>>,
    q: Option<Scalar<'i>>,
    m: Option<Scalar<'i>>,
    trade_time: Option<Scalar<'i>>,
    k: Option<KlineFields<'i>>,
}

/// Scans the members of a kline's `k` object.
fn kline_object<'i>(c: &mut Cursor<'i>) -> Option<KlineFields<'i>> {
    let mut k = KlineFields::default();
    c.object(|c, key| {
        let slot = match key {
            "t" => &mut k.t,
            "i" => &mut k.i,
            "o" => &mut k.o,
            "h" => &mut k.h,
            "l" => &mut k.l,
            "c" => &mut k.c,
            "v" => &mut k.v,
            "x" => &mut k.x,
            "s" => &mut k.s,
            _ => return c.scalar().map(|_| ()),
        };
        once(slot, c.scalar())
    })?;
    Some(k)
}

/// Scans the members of an event object into `f`; `data` receives the
/// envelope's `data` object when given (top level only).
fn event_object<'i>(
    c: &mut Cursor<'i>,
    f: &mut EventFields<'i>,
    mut data: Option<&mut EventFields<'i>>,
) -> Option<()> {
    c.object(|c, key| {
        let slot = match key {
            "stream" => &mut f.stream,
            "e" => &mut f.e,
            "s" => &mut f.s,
            "a" => &mut f.a,
            "t" => &mut f.t,
            "p" => &mut f.p,
            "q" => &mut f.q,
            "m" => &mut f.m,
            "T" => &mut f.trade_time,
            "k" => {
                if f.k.is_some() || c.peek()? != b'{' {
                    return None;
                }
                f.k = Some(kline_object(c)?);
                return Some(());
            }
            "data" => {
                let inner = data.as_deref_mut()?;
                if f.data || c.peek()? != b'{' {
                    return None;
                }
                f.data = true;
                return event_object(c, inner, None);
            }
            // Keys that make the general path read the message as a request
            // or an acknowledgement.
            "id" | "result" | "error" | "method" => return None,
            _ => return c.scalar().map(|_| ()),
        };
        once(slot, c.scalar())
    })
}

/// Decodes `frame` if it is an `aggTrade`, `trade` or 1m `kline` message of
/// the strict shape described in the module docs, emitting its event.
///
/// Returns `None`, with nothing emitted and `state` untouched, when the
/// general path must decide; otherwise exactly what that path would return.
pub(crate) fn binance(
    state: &mut DecoderState,
    frame: &[u8],
    sink: &mut impl FnMut(MarketEvent),
) -> Option<Result<FrameKind, FeedError>> {
    let mut c = Cursor {
        bytes: frame,
        at: 0,
    };
    let mut top = EventFields::default();
    let mut inner = EventFields::default();
    if c.peek()? != b'{' {
        return None;
    }
    event_object(&mut c, &mut top, Some(&mut inner))?;
    c.skip_ws();
    if c.at != frame.len() {
        return None;
    }
    let f = match top.stream {
        Some(Scalar::Str(_)) if top.data => &inner,
        // The general path rejects a non-string stream beside `data`.
        Some(_) if top.data => return None,
        _ => &top,
    };
    match f.e? {
        Scalar::Str("aggTrade") => trade(state, f, f.a?, "a", Stream::AggTrade, sink),
        Scalar::Str("trade") => trade(state, f, f.t?, "t", Stream::Trade, sink),
        Scalar::Str("kline") => kline(state, f, sink),
        _ => None,
    }
}

fn trade(
    state: &mut DecoderState,
    f: &EventFields<'_>,
    id: Scalar<'_>,
    id_field: &'static str,
    stream: Stream,
    sink: &mut impl FnMut(MarketEvent),
) -> Option<Result<FrameKind, FeedError>> {
    let lim = &state.limits;
    let Scalar::Str(symbol) = f.s? else {
        return None;
    };
    let buyer_is_maker = json::boolean_of(f.m?, "m").ok()?;
    let t = Trade {
        symbol: state.symbol(symbol).ok()?,
        trade_id: json::id_of(id, id_field).ok()?,
        price: json::price_of(f.p?, "p", lim).ok()?,
        qty: json::qty_of(f.q?, "q", lim, false).ok()?,
        exchange_ts: json::timestamp_of(f.trade_time?, "T").ok()?,
        aggressor: if buyer_is_maker {
            Side::Sell
        } else {
            Side::Buy
        },
    };
    state.trades.clear();
    state.trades.push(t);
    Some(state.emit_trades(stream, false, sink))
}

fn kline(
    state: &mut DecoderState,
    f: &EventFields<'_>,
    sink: &mut impl FnMut(MarketEvent),
) -> Option<Result<FrameKind, FeedError>> {
    let k = f.k?;
    if !matches!(k.i?, Scalar::Str("1m")) {
        return None;
    }
    let Scalar::Str(symbol) = f.s.or(k.s)? else {
        return None;
    };
    let lim = &state.limits;
    let update = KlineUpdate {
        symbol: state.symbol(symbol).ok()?,
        open_time: json::timestamp_of(k.t?, "k.t").ok()?,
        open: json::price_of(k.o?, "k.o", lim).ok()?,
        high: json::price_of(k.h?, "k.h", lim).ok()?,
        low: json::price_of(k.l?, "k.l", lim).ok()?,
        close: json::price_of(k.c?, "k.c", lim).ok()?,
        volume: json::qty_of(k.v?, "k.v", lim, true).ok()?,
        closed: Some(json::boolean_of(k.x?, "k.x").ok()?),
    };
    state.klines.clear();
    state.klines.push(update);
    Some(state.emit_klines(sink))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{BinanceDecoder, FeedLimits, SymbolTable};
    use crate::types::SymbolId;

    fn state() -> DecoderState {
        let mut t = SymbolTable::new();
        t.insert("BTCUSDT", SymbolId(0)).unwrap();
        t.insert("ETHUSDT", SymbolId(1)).unwrap();
        DecoderState::new(t, FeedLimits::default())
    }

    /// Runs the fast path on a fresh state and the general path on another.
    fn both(
        msg: &str,
    ) -> (
        Option<Result<FrameKind, FeedError>>,
        Result<FrameKind, FeedError>,
    ) {
        let mut st = state();
        let mut fast_events = Vec::new();
        let fast = binance(&mut st, msg.as_bytes(), &mut |e| fast_events.push(e));
        let mut d = BinanceDecoder::new(st.symbols.clone());
        let mut general_events = Vec::new();
        let general = d.decode_general(msg.as_bytes(), &mut |e| general_events.push(e));
        if fast.is_some() {
            assert_eq!(fast_events, general_events, "{msg}");
        } else {
            assert!(fast_events.is_empty(), "{msg}");
        }
        (fast, general)
    }

    const HOT: [&str; 6] = [
        r#"{"e":"aggTrade","E":1723161256322,"s":"BTCUSDT","a":2226221111,"p":"61800.30","q":"0.006","f":5266583935,"l":5266583935,"T":1723161256322,"m":false}"#,
        r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true}}"#,
        r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}"#,
        r#"{"e":"kline","E":1638747660000,"s":"BTCUSDT","k":{"t":1638747660000,"T":1638747719999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}"#,
        " {\"stream\" : \"ethusdt@aggTrade\",\n\"data\":{ \"e\":\"aggTrade\",\"s\":\"ETHUSDT\",\"a\":\"7\",\"p\":3000,\"q\":\"1\",\"T\":\"1714650253104\",\"m\":\"true\",\"x\":null} }\r\n",
        r#"{"e":"trade","s":"BTCUSDT","t":9999999999999999999,"p":"1","q":"1","T":1714650253104,"m":true}"#,
    ];

    #[test]
    fn hot_shapes_take_the_fast_path_with_the_general_result() {
        for msg in HOT {
            let (fast, general) = both(msg);
            assert_eq!(fast, Some(general), "{msg}");
            assert!(general.is_ok(), "{msg}");
        }
    }

    #[test]
    fn ids_above_2_pow_53_are_exact_on_the_fast_path() {
        let mut st = state();
        let mut ids = Vec::new();
        let r = binance(&mut st, HOT[5].as_bytes(), &mut |e| {
            if let MarketEvent::Trade(t) = e {
                ids.push(t.trade_id);
            }
        });
        assert!(matches!(r, Some(Ok(FrameKind::Trades { emitted: 1, .. }))));
        assert_eq!(ids, [9_999_999_999_999_999_999]);
    }

    #[test]
    fn unusual_json_is_left_to_the_general_path() {
        let agg = HOT[0];
        let declined = [
            // Escapes, floats, signs, leading zeros, 20 digits, exponents.
            agg.replace(r#""s":"BTCUSDT""#, r#""s":"BTC\u0055SDT""#),
            agg.replace(r#""\u0073""#, r#""s""#)
                .replace(r#""s":"#, r#""\u0073":"#),
            agg.replace(r#""p":"61800.30""#, r#""p":61800.3"#),
            agg.replace(r#""a":2226221111"#, r#""a":-1"#),
            agg.replace(r#""a":2226221111"#, r#""a":02226221111"#),
            agg.replace(r#""a":2226221111"#, r#""a":18446744073709551615"#),
            agg.replace(r#""a":2226221111"#, r#""a":1e3"#),
            // Containers where the decoder reads scalars, repeated keys.
            agg.replace(r#""E":1723161256322"#, r#""E":[1]"#),
            agg.replace(r#""E":1723161256322"#, r#""E":{"x":1}"#),
            agg.replace(r#""E":1723161256322"#, r#""p":"1""#),
            // Request and ack keys, other events, trailing bytes, non-ASCII.
            agg.replace(r#""E":1723161256322"#, r#""id":1"#),
            agg.replace("aggTrade", "bookTicker"),
            format!("{agg}x"),
            format!("{agg},"),
            agg.replace("BTCUSDT", "BTCUSDT\u{e9}"),
            // Values the validation rejects: the general path names the error.
            agg.replace("61800.30", "-1"),
            agg.replace("BTCUSDT", "XRPUSDT"),
            agg.replace(r#""m":false"#, r#""m":1"#),
            HOT[3].replace(r#""i":"1m""#, r#""i":"5m""#),
            r#"{"result":null,"id":1}"#.to_owned(),
            "[]".to_owned(),
            String::new(),
        ];
        for msg in &declined {
            let (fast, _) = both(msg);
            assert_eq!(fast, None, "{msg}");
        }
    }

    #[test]
    fn backwards_timestamp_is_reported_like_the_general_path() {
        let mut st = state();
        let newer = HOT[0];
        let older = newer.replace(r#""T":1723161256322"#, r#""T":1723161256321"#);
        assert!(matches!(
            binance(&mut st, newer.as_bytes(), &mut |_| {}),
            Some(Ok(_))
        ));
        let mut emitted = 0;
        let r = binance(&mut st, older.as_bytes(), &mut |_| emitted += 1);
        assert_eq!(r, Some(Err(FeedError::TimestampBackwards)));
        assert_eq!(emitted, 0);
    }
}
