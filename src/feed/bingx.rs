//! BingX USDT-M swap market-data decoder (docs/exchange-protocols.md §5).
//!
//! Consumes gzip binary frames from `wss://open-api-swap.bingx.com/swap-market`;
//! produces `Ping` detection, subscription acks, trades (oldest first), 1m
//! klines and book tickers, and classifies depth, ticker, last/mark price and
//! user-data events as deliberately ignored. Inflates into a reused buffer
//! and parses it in place: no allocation after warm-up, no panic on any
//! input, no `f64` on the way from text to price.

use super::error::FeedError;
use super::inflate::Inflater;
use super::json::{self, JsonParser, Val};
use super::state::{DecoderState, Stream};
use super::symbols::SymbolTable;
use super::{
    AckId, BookTicker, FeedLimits, FeedStats, FrameKind, IgnoredKind, KlineUpdate, MarketEvent,
    SubscriptionAck,
};
use crate::types::{Side, Trade};
use simd_json::prelude::*;

/// Decodes BingX swap WebSocket frames.
#[derive(Debug)]
pub struct BingxDecoder {
    inflater: Inflater,
    parser: JsonParser,
    /// Holds uncompressed payloads given to [`BingxDecoder::decode_payload`].
    scratch: Vec<u8>,
    state: DecoderState,
}

impl BingxDecoder {
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
            inflater: Inflater::new(limits.max_frame_bytes),
            parser: JsonParser::new(16 * 1024),
            scratch: Vec::with_capacity(16 * 1024),
            state: DecoderState::new(symbols, limits),
        }
    }

    /// Decodes one gzip frame, hands its events to `sink` and says what it was.
    ///
    /// # Errors
    /// A [`FeedError`] for a frame that cannot be inflated, parsed or
    /// validated (nothing is emitted then), or
    /// [`FeedError::TimestampBackwards`] when every event was stale.
    /// Every outcome is counted in [`BingxDecoder::stats`].
    pub fn decode(
        &mut self,
        frame: &[u8],
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        let result = match self.inflater.inflate(frame) {
            Ok(payload) => decode_text(&mut self.parser, &mut self.state, payload, sink),
            Err(e) => Err(e.into()),
        };
        self.state.finish(result)
    }

    /// Decodes an already inflated payload (the JSON text or `Ping`), copying
    /// it into a reused buffer first.
    ///
    /// # Errors
    /// As [`BingxDecoder::decode`], without the gzip errors.
    pub fn decode_payload(
        &mut self,
        payload: &[u8],
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        let result = if payload.len() > self.state.limits.max_frame_bytes {
            Err(FeedError::FrameTooLarge)
        } else {
            self.scratch.clear();
            self.scratch.extend_from_slice(payload);
            decode_text(&mut self.parser, &mut self.state, &mut self.scratch, sink)
        };
        self.state.finish(result)
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

fn decode_text(
    parser: &mut JsonParser,
    state: &mut DecoderState,
    payload: &mut [u8],
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    if payload == b"Ping" {
        return Ok(FrameKind::Ping);
    }
    parser.parse(payload, |root| message(state, root, sink))
}

/// Top-level fields of a BingX message, gathered in one pass.
#[derive(Default)]
struct Top<'t, 'i> {
    code: Option<Val<'t, 'i>>,
    id: Option<Val<'t, 'i>>,
    data_type: Option<Val<'t, 'i>>,
    data: Option<Val<'t, 'i>>,
    symbol: Option<Val<'t, 'i>>,
    event: Option<Val<'t, 'i>>,
    req_type: bool,
}

fn message(
    state: &mut DecoderState,
    root: Val<'_, '_>,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    let obj = root.as_object().ok_or(FeedError::MalformedJson)?;
    let mut top = Top::default();
    for (k, v) in obj.iter() {
        match k {
            "code" => top.code = Some(v),
            "id" => top.id = Some(v),
            "dataType" => top.data_type = Some(v),
            "data" => top.data = Some(v),
            "s" => top.symbol = Some(v),
            "e" => top.event = Some(v),
            "reqType" => top.req_type = true,
            _ => {}
        }
    }
    if top.req_type {
        return Ok(FrameKind::Ignored(IgnoredKind::ClientRequest));
    }
    let code = top
        .code
        .map(|v| json::int(v, "code"))
        .transpose()?
        .unwrap_or(0);
    if let Some(id) = top.id {
        let id = match id.into_string() {
            Some(s) => AckId::new(s).ok_or(FeedError::MistypedField("id"))?,
            None => AckId::from_u64(json::id(id, "id")?),
        };
        return Ok(FrameKind::SubscriptionAck(SubscriptionAck { id, code }));
    }
    if let Some(dt) = top.data_type {
        let dt = json::string(dt, "dataType")?;
        let (sym_name, stream) = dt
            .split_once('@')
            .ok_or(FeedError::MistypedField("dataType"))?;
        let kind = classify(stream)?;
        if code != 0 {
            return Err(FeedError::ExchangeError(code));
        }
        let data = json::required(top.data, "data")?;
        return match kind {
            Push::Trade => trades(state, data, sym_name, sink),
            Push::Kline => {
                let sym = match top.symbol {
                    Some(v) => json::string(v, "s")?,
                    None => sym_name,
                };
                klines(state, data, sym, sink)
            }
            Push::BookTicker => book_ticker(state, data, sym_name, sink),
            Push::Ignored(kind) => Ok(FrameKind::Ignored(kind)),
        };
    }
    if let Some(e) = top.event {
        return match json::string(e, "e")? {
            "ORDER_TRADE_UPDATE"
            | "TRADE_UPDATE"
            | "ACCOUNT_UPDATE"
            | "ACCOUNT_CONFIG_UPDATE"
            | "listenKeyExpired" => Ok(FrameKind::Ignored(IgnoredKind::UserData)),
            _ => Err(FeedError::UnknownMessage),
        };
    }
    Err(FeedError::UnknownMessage)
}

enum Push {
    Trade,
    Kline,
    BookTicker,
    Ignored(IgnoredKind),
}

/// Classifies the part of `dataType` after `@` (§5.3).
fn classify(stream: &str) -> Result<Push, FeedError> {
    Ok(match stream {
        "trade" => Push::Trade,
        "kline_1m" => Push::Kline,
        "bookTicker" => Push::BookTicker,
        "ticker" => Push::Ignored(IgnoredKind::Ticker),
        "lastPrice" => Push::Ignored(IgnoredKind::LastPrice),
        "markPrice" => Push::Ignored(IgnoredKind::MarkPrice),
        "incrDepth" => Push::Ignored(IgnoredKind::Depth),
        s if s.starts_with("depth") => Push::Ignored(IgnoredKind::Depth),
        s if s.starts_with("kline_") => Push::Ignored(IgnoredKind::KlineInterval),
        _ => return Err(FeedError::UnknownMessage),
    })
}

/// `data` is an array (newest first), or a single object in the 2023 docs.
fn trades(
    state: &mut DecoderState,
    data: Val<'_, '_>,
    default_symbol: &str,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    state.trades.clear();
    if let Some(arr) = data.as_array() {
        for item in arr.iter() {
            let t = trade(state, item, default_symbol)?;
            state.trades.push(t);
        }
    } else {
        let t = trade(state, data, default_symbol)?;
        state.trades.push(t);
    }
    if state.trades.is_empty() {
        return Err(FeedError::MissingField("data"));
    }
    state.emit_trades(Stream::Trade, true, sink)
}

fn trade(
    state: &DecoderState,
    item: Val<'_, '_>,
    default_symbol: &str,
) -> Result<Trade, FeedError> {
    let obj = item.as_object().ok_or(FeedError::MistypedField("data"))?;
    let (mut p, mut q, mut t, mut m, mut s) = (None, None, None, None, None);
    for (k, v) in obj.iter() {
        match k {
            "p" => p = Some(v),
            "q" => q = Some(v),
            "T" => t = Some(v),
            "m" => m = Some(v),
            "s" => s = Some(v),
            _ => {}
        }
    }
    let limits = &state.limits;
    let symbol = match s {
        Some(v) => state.symbol(json::string(v, "s")?)?,
        None => state.symbol(default_symbol)?,
    };
    let buyer_is_maker = json::boolean(json::required(m, "m")?, "m")?;
    Ok(Trade {
        symbol,
        // BingX trade pushes carry no trade id (§5.4); 0 means "none".
        trade_id: 0,
        price: json::price(json::required(p, "p")?, "p", limits)?,
        qty: json::qty(json::required(q, "q")?, "q", limits, false)?,
        exchange_ts: json::timestamp(json::required(t, "T")?, "T")?,
        aggressor: if buyer_is_maker {
            Side::Sell
        } else {
            Side::Buy
        },
    })
}

fn klines(
    state: &mut DecoderState,
    data: Val<'_, '_>,
    symbol_name: &str,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    let symbol = state.symbol(symbol_name)?;
    state.klines.clear();
    if let Some(arr) = data.as_array() {
        for item in arr.iter() {
            let k = kline(state, item, symbol)?;
            state.klines.push(k);
        }
    } else {
        let k = kline(state, data, symbol)?;
        state.klines.push(k);
    }
    if state.klines.is_empty() {
        return Err(FeedError::MissingField("data"));
    }
    state.emit_klines(sink)
}

fn kline(
    state: &DecoderState,
    item: Val<'_, '_>,
    symbol: crate::types::SymbolId,
) -> Result<KlineUpdate, FeedError> {
    let obj = item.as_object().ok_or(FeedError::MistypedField("data"))?;
    let (mut o, mut h, mut l, mut c, mut v, mut t) = (None, None, None, None, None, None);
    for (k, val) in obj.iter() {
        match k {
            "o" => o = Some(val),
            "h" => h = Some(val),
            "l" => l = Some(val),
            "c" => c = Some(val),
            "v" => v = Some(val),
            "T" => t = Some(val),
            _ => {}
        }
    }
    let lim = &state.limits;
    Ok(KlineUpdate {
        symbol,
        open_time: json::timestamp(json::required(t, "T")?, "T")?,
        open: json::price(json::required(o, "o")?, "o", lim)?,
        high: json::price(json::required(h, "h")?, "h", lim)?,
        low: json::price(json::required(l, "l")?, "l", lim)?,
        close: json::price(json::required(c, "c")?, "c", lim)?,
        volume: json::qty(json::required(v, "v")?, "v", lim, true)?,
        closed: None,
    })
}

fn book_ticker(
    state: &mut DecoderState,
    data: Val<'_, '_>,
    default_symbol: &str,
    sink: &mut impl FnMut(MarketEvent),
) -> Result<FrameKind, FeedError> {
    let obj = data.as_object().ok_or(FeedError::MistypedField("data"))?;
    let (mut s, mut b, mut bq, mut a, mut aq, mut t, mut e) =
        (None, None, None, None, None, None, None);
    for (k, v) in obj.iter() {
        match k {
            "s" => s = Some(v),
            "b" => b = Some(v),
            "B" => bq = Some(v),
            "a" => a = Some(v),
            "A" => aq = Some(v),
            "T" => t = Some(v),
            "E" => e = Some(v),
            _ => {}
        }
    }
    let symbol = match s {
        Some(v) => state.symbol(json::string(v, "s")?)?,
        None => state.symbol(default_symbol)?,
    };
    let lim = &state.limits;
    let ts = match (t, e) {
        (Some(v), _) => json::timestamp(v, "T")?,
        (None, Some(v)) => json::timestamp(v, "E")?,
        (None, None) => return Err(FeedError::MissingField("T")),
    };
    let book = BookTicker {
        symbol,
        bid: json::price(json::required(b, "b")?, "b", lim)?,
        bid_qty: json::qty(json::required(bq, "B")?, "B", lim, true)?,
        ask: json::price(json::required(a, "a")?, "a", lim)?,
        ask_qty: json::qty(json::required(aq, "A")?, "A", lim, true)?,
        ts,
    };
    state.emit_book(book, sink)
}
