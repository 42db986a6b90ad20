//! Binance market-data decoder: USD-M futures (docs/exchange-protocols.md §7) and
//! spot streams, which share the message shapes.
//!
//! Consumes JSON text frames, raw (`/ws/<stream>`) or inside the combined
//! envelope `{"stream":..,"data":{..}}`; produces trades from `aggTrade` and
//! `trade`, 1m kline updates from `kline`, subscription acks, and classifies
//! depth, book ticker, tickers, mark price and liquidations as deliberately
//! ignored. The hot shapes (`aggTrade`, `trade`, 1m `kline`) go through a
//! strict single-pass scanner ([`super::scan`]); anything else, and every
//! error, through simd-json in place in a reused buffer. No allocation after
//! warm-up, no panic on any input, no `f64` between text and price.

use super::error::FeedError;
use super::json::{self, JsonParser, Val};
use super::scan;
use super::state::{DecoderState, Stream};
use super::symbols::SymbolTable;
use super::{
    AckId, FeedLimits, FeedStats, FrameKind, IgnoredKind, KlineUpdate, MarketEvent, SubscriptionAck,
};
use crate::types::{Side, SymbolId, Trade};
use simd_json::prelude::*;

/// Decodes Binance WebSocket text frames.
#[derive(Debug)]
pub struct BinanceDecoder {
    parser: JsonParser,
    /// simd-json parses in place; the frame is copied here first.
    scratch: Vec<u8>,
    state: DecoderState,
}

impl BinanceDecoder {
    /// Returns a decoder for the symbols in `symbols`, with default limits.
    #[must_use]
    pub fn new(symbols: SymbolTable) -> Self {
        Self::with_limits(symbols, FeedLimits::default())
    }

    /// Returns a decoder with explicit validation limits. Allocates all
    /// buffers (cold path).
    #[must_use]
    pub fn with_limits(symbols: SymbolTable, limits: FeedLimits) -> Self {
        Self {
            parser: JsonParser::new(16 * 1024),
            scratch: Vec::with_capacity(16 * 1024),
            state: DecoderState::new(symbols, limits),
        }
    }

    /// Decodes one text frame, hands its events to `sink` and says what it was.
    ///
    /// # Errors
    /// A [`FeedError`] for a frame that cannot be parsed or validated
    /// (nothing is emitted then), or [`FeedError::TimestampBackwards`] when
    /// the event was stale. Every outcome is counted in [`BinanceDecoder::stats`].
    pub fn decode(
        &mut self,
        frame: &[u8],
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        let result = if frame.len() > self.state.limits.max_frame_bytes {
            Err(FeedError::FrameTooLarge)
        } else if let Some(fast) = scan::binance(&mut self.state, frame, sink) {
            fast
        } else {
            self.general(frame, sink)
        };
        self.state.finish(result)
    }

    /// Decodes one text frame like [`BinanceDecoder::decode`], but always
    /// through the general simd-json path, never the fast scanner. This is
    /// the reference the fast path is fuzzed against (`tests/feed_fuzz.rs`)
    /// and the baseline of `cargo bench -p bench --bench parse`.
    ///
    /// # Errors
    /// As [`BinanceDecoder::decode`].
    pub fn decode_general(
        &mut self,
        frame: &[u8],
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        let result = if frame.len() > self.state.limits.max_frame_bytes {
            Err(FeedError::FrameTooLarge)
        } else {
            self.general(frame, sink)
        };
        self.state.finish(result)
    }

    /// The general path: copy, simd-json tape, field walk.
    fn general(
        &mut self,
        frame: &[u8],
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        let state = &mut self.state;
        self.parser
            .parse(&mut self.scratch, |root| message(state, root, sink))
    }

    /// Returns the counters.
    #[must_use]
    pub fn stats(&self) -> &FeedStats {
        &self.state.stats
    }

    /// Returns the symbol table.
    #[must_use]
    pub fn symbols(&self) -> &SymbolTable {
        &self.state.symbols
    }
}

/// The fields any Binance event may carry, gathered in one pass.
#[derive(Default)]
struct Fields<'t, 'i> {
    stream: Option<Val<'t, 'i>>,
    data: Option<Val<'t, 'i>>,
    id: Option<Val<'t, 'i>>,
    result: bool,
    error: Option<Val<'t, 'i>>,
    method: bool,
    e: Option<Val<'t, 'i>>,
    s: Option<Val<'t, 'i>>,
    /// `a`: aggregate trade id (aggTrade) or best ask (bookTicker).
    a: Option<Val<'t, 'i>>,
    t: Option<Val<'t, 'i>>,
    p: Option<Val<'t, 'i>>,
    q: Option<Val<'t, 'i>>,
    m: Option<Val<'t, 'i>>,
    trade_time: Option<Val<'t, 'i>>,
    k: Option<Val<'t, 'i>>,
    u: bool,
    b: bool,
    last_update_id: bool,
}

fn fields<'t, 'i>(v: Val<'t, 'i>) -> Result<Fields<'t, 'i>, FeedError> {
    let obj = v.as_object().ok_or(FeedError::MalformedJson)?;
    let mut f = Fields::default();
    for (key, val) in obj.iter() {
        match key {
            "stream" => f.stream = Some(val),
            "data" => f.data = Some(val),
            "id" => f.id = Some(val),
            "result" => f.result = true,
            "error" => f.error = Some(val),
            "method" => f.method = true,
            "e" => f.e = Some(val),
            "s" => f.s = Some(val),
            "a" => f.a = Some(val),
            "t" => f.t = Some(val),
            "p" => f.p = Some(val),
            "q" => f.q = Some(val),
            "m" => f.m = Some(val),
            "T" => f.trade_time = Some(val),
            "k" => f.k = Some(val),
            "u" => f.u = true,
            "b" => f.b = true,
            "lastUpdateId" => f.last_update_id = true,
            _ => {}
        }
    }
    Ok(f)
}

fn message(
    state: &mut DecoderState,
    root: Val<'_, '_>,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    let top = fields(root)?;
    if let (Some(stream), Some(data)) = (top.stream, top.data) {
        json::string(stream, "stream")?;
        let inner = fields(data).map_err(|_| FeedError::MistypedField("data"))?;
        return event(state, &inner, sink);
    }
    if top.method {
        return Ok(FrameKind::Ignored(IgnoredKind::ClientRequest));
    }
    if let Some(id) = top.id {
        if top.result || top.error.is_some() {
            return ack(id, top.error);
        }
    }
    event(state, &top, sink)
}

/// `{"result":null,"id":1}` or `{"error":{"code":2,"msg":".."},"id":1}` (§7.2).
fn ack(id: Val<'_, '_>, error: Option<Val<'_, '_>>) -> Result<FrameKind, FeedError> {
    let id = match id.into_string() {
        Some(s) => AckId::new(s).ok_or(FeedError::MistypedField("id"))?,
        None => AckId::from_u64(json::id(id, "id")?),
    };
    let code = match error {
        None => 0,
        Some(err) => {
            let code = err
                .as_object()
                .and_then(|o| o.get("code"))
                .ok_or(FeedError::MissingField("error.code"))?;
            match json::int(code, "error.code")? {
                // A failed request must never read as success.
                0 => -1,
                c => c,
            }
        }
    };
    Ok(FrameKind::SubscriptionAck(SubscriptionAck { id, code }))
}

fn event(
    state: &mut DecoderState,
    f: &Fields<'_, '_>,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    let Some(e) = f.e else {
        // Spot book tickers and partial-depth snapshots carry no event type.
        if f.last_update_id {
            return Ok(FrameKind::Ignored(IgnoredKind::Depth));
        }
        if f.u && f.b && f.a.is_some() {
            return Ok(FrameKind::Ignored(IgnoredKind::BookTicker));
        }
        return Err(FeedError::UnknownMessage);
    };
    match json::string(e, "e")? {
        "aggTrade" => trade(state, f, f.a, "a", Stream::AggTrade, sink),
        "trade" => trade(state, f, f.t, "t", Stream::Trade, sink),
        "kline" => kline(state, f, sink),
        "bookTicker" => Ok(FrameKind::Ignored(IgnoredKind::BookTicker)),
        "depthUpdate" => Ok(FrameKind::Ignored(IgnoredKind::Depth)),
        "24hrTicker" | "24hrMiniTicker" => Ok(FrameKind::Ignored(IgnoredKind::Ticker)),
        "markPriceUpdate" => Ok(FrameKind::Ignored(IgnoredKind::MarkPrice)),
        "forceOrder" => Ok(FrameKind::Ignored(IgnoredKind::Liquidation)),
        "continuous_kline" => Ok(FrameKind::Ignored(IgnoredKind::KlineInterval)),
        _ => Err(FeedError::UnknownMessage),
    }
}

fn symbol(state: &DecoderState, v: Option<Val<'_, '_>>) -> Result<SymbolId, FeedError> {
    state.symbol(json::string(json::required(v, "s")?, "s")?)
}

fn trade(
    state: &mut DecoderState,
    f: &Fields<'_, '_>,
    id: Option<Val<'_, '_>>,
    id_field: &'static str,
    stream: Stream,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    let lim = &state.limits;
    let buyer_is_maker = json::boolean(json::required(f.m, "m")?, "m")?;
    let t = Trade {
        symbol: symbol(state, f.s)?,
        trade_id: json::id(json::required(id, id_field)?, id_field)?,
        price: json::price(json::required(f.p, "p")?, "p", lim)?,
        qty: json::qty(json::required(f.q, "q")?, "q", lim, false)?,
        exchange_ts: json::timestamp(json::required(f.trade_time, "T")?, "T")?,
        aggressor: if buyer_is_maker {
            Side::Sell
        } else {
            Side::Buy
        },
    };
    state.trades.clear();
    state.trades.push(t);
    state.emit_trades(stream, false, sink)
}

fn kline(
    state: &mut DecoderState,
    f: &Fields<'_, '_>,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    let k = json::required(f.k, "k")?
        .as_object()
        .ok_or(FeedError::MistypedField("k"))?;
    let (mut t, mut i, mut o, mut h, mut l, mut c, mut v, mut x, mut s) =
        (None, None, None, None, None, None, None, None, None);
    for (key, val) in k.iter() {
        match key {
            "t" => t = Some(val),
            "i" => i = Some(val),
            "o" => o = Some(val),
            "h" => h = Some(val),
            "l" => l = Some(val),
            "c" => c = Some(val),
            "v" => v = Some(val),
            "x" => x = Some(val),
            "s" => s = Some(val),
            _ => {}
        }
    }
    if json::string(json::required(i, "k.i")?, "k.i")? != "1m" {
        return Ok(FrameKind::Ignored(IgnoredKind::KlineInterval));
    }
    let lim = &state.limits;
    let update = KlineUpdate {
        symbol: symbol(state, f.s.or(s))?,
        open_time: json::timestamp(json::required(t, "k.t")?, "k.t")?,
        open: json::price(json::required(o, "k.o")?, "k.o", lim)?,
        high: json::price(json::required(h, "k.h")?, "k.h", lim)?,
        low: json::price(json::required(l, "k.l")?, "k.l", lim)?,
        close: json::price(json::required(c, "k.c")?, "k.c", lim)?,
        volume: json::qty(json::required(v, "k.v")?, "k.v", lim, true)?,
        closed: Some(json::boolean(json::required(x, "k.x")?, "k.x")?),
    };
    state.klines.clear();
    state.klines.push(update);
    state.emit_klines(sink)
}
