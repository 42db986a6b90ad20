//! Response envelopes and market-data DTOs of the BingX REST API (§2.2,
//! §4.1–4.5), parsed with serde_json on the I/O thread into typed structs.
//!
//! Consumes response bodies; produces [`ServerTime`], [`Contract`],
//! [`PriceTicker`], [`Ticker24h`], [`BookTicker`], [`Depth`], [`Kline`],
//! [`RecentTrade`] and [`PremiumIndex`]. Prices and quantities become
//! fixed-point; ids and times are parsed as integers from numbers or strings.
//! Unknown fields are ignored. Never used on the hot path.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::io::error::{ApiError, ExchangeCode, RestError};
use crate::io::wire::{
    bool_lenient, f64_lenient, i64_lenient, leverage_lenient, price_lenient, qty_lenient,
    string_lenient, u64_lenient,
};
use crate::types::{DecimalStep, InstrumentRules, Price, Qty, Side};

#[derive(Deserialize)]
struct EnvelopeHead {
    #[serde(default, deserialize_with = "i64_lenient")]
    code: i64,
    #[serde(default, deserialize_with = "string_lenient")]
    msg: String,
}

#[derive(Deserialize)]
struct EnvelopeData<T> {
    data: T,
}

/// Returns the envelope's code and message (code 0 when absent, as on the
/// listen-key endpoints), or `None` when the body is not a JSON object with them.
#[must_use]
pub fn envelope_code(body: &[u8]) -> Option<(i64, String)> {
    serde_json::from_slice::<EnvelopeHead>(body)
        .ok()
        .map(|h| (h.code, h.msg))
}

fn decode_error(endpoint: &'static str, e: &serde_json::Error) -> RestError {
    RestError::Decode {
        endpoint,
        detail: e.to_string(),
    }
}

/// Checks the envelope `code` of a 2xx body: `Err(RestError::Api)` when non-zero.
///
/// # Errors
/// [`RestError::Decode`] when the body is not a JSON object;
/// [`RestError::Api`] or [`RestError::RateLimited`] for a non-zero code.
pub fn check_envelope(endpoint: &'static str, body: &[u8], status: u16) -> Result<(), RestError> {
    let head: EnvelopeHead =
        serde_json::from_slice(body).map_err(|e| decode_error(endpoint, &e))?;
    if head.code == 0 {
        return Ok(());
    }
    let kind = ExchangeCode::from_code(head.code);
    if kind == ExchangeCode::RateLimited {
        return Err(RestError::RateLimited {
            status,
            code: Some(head.code),
            retry_after: None,
        });
    }
    Err(RestError::Api(ApiError {
        code: head.code,
        kind,
        msg: head.msg,
        http_status: status,
    }))
}

/// Parses the `data` member of a successful envelope.
///
/// # Errors
/// [`RestError::Decode`] when `data` is missing or not the expected shape.
pub fn parse_data<T: DeserializeOwned>(
    endpoint: &'static str,
    body: &[u8],
) -> Result<T, RestError> {
    serde_json::from_slice::<EnvelopeData<T>>(body)
        .map(|e| e.data)
        .map_err(|e| decode_error(endpoint, &e))
}

/// Parses a whole body without an envelope (listen-key replies).
///
/// # Errors
/// [`RestError::Decode`] when the body is not the expected shape.
pub fn parse_bare<T: DeserializeOwned>(
    endpoint: &'static str,
    body: &[u8],
) -> Result<T, RestError> {
    serde_json::from_slice::<T>(body).map_err(|e| decode_error(endpoint, &e))
}

/// Either one object or an array of them (endpoints that return an array
/// when no symbol is given, and the old single-object kline variant).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// An array.
    Many(Vec<T>),
    /// A single object.
    One(T),
}

impl<T> OneOrMany<T> {
    /// Returns the elements as a vector.
    #[must_use]
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Self::Many(v) => v,
            Self::One(x) => vec![x],
        }
    }
}

/// §4.1 server time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ServerTime {
    /// Server time in ms since the epoch.
    #[serde(rename = "serverTime", deserialize_with = "i64_lenient")]
    pub server_time_ms: i64,
}

/// §4.2 one contract (symbol rules).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contract {
    /// Exchange contract id.
    #[serde(default, deserialize_with = "string_lenient")]
    pub contract_id: String,
    /// Symbol, e.g. `BTC-USDT`.
    pub symbol: String,
    /// Quantity decimals (step size = 10^-quantityPrecision).
    #[serde(deserialize_with = "u64_lenient")]
    pub quantity_precision: u64,
    /// Price decimals (tick size = 10^-pricePrecision).
    #[serde(deserialize_with = "u64_lenient")]
    pub price_precision: u64,
    /// Minimum order quantity in coin.
    #[serde(default, deserialize_with = "qty_lenient")]
    pub trade_min_quantity: Qty,
    /// Minimum order notional in USDT.
    #[serde(rename = "tradeMinUSDT", default, deserialize_with = "price_lenient")]
    pub trade_min_usdt: Price,
    /// Maker fee rate (informational).
    #[serde(default, deserialize_with = "f64_lenient")]
    pub maker_fee_rate: f64,
    /// Taker fee rate (informational).
    #[serde(default, deserialize_with = "f64_lenient")]
    pub taker_fee_rate: f64,
    /// Maximum long leverage.
    #[serde(default, deserialize_with = "leverage_lenient")]
    pub max_long_leverage: u32,
    /// Maximum short leverage.
    #[serde(default, deserialize_with = "leverage_lenient")]
    pub max_short_leverage: u32,
    /// 1 online, 25 opening forbidden, 5 pre-online, 0 offline.
    #[serde(default, deserialize_with = "i64_lenient")]
    pub status: i64,
    /// API opening allowed (`"true"`).
    #[serde(default, deserialize_with = "bool_lenient")]
    pub api_state_open: bool,
    /// API closing allowed (`"true"`).
    #[serde(default, deserialize_with = "bool_lenient")]
    pub api_state_close: bool,
}

impl Contract {
    /// Returns the rounding rules: tick from `pricePrecision`, step from
    /// `quantityPrecision` (the legacy `size` field is ignored, §4.2), minimum
    /// quantity `tradeMinQuantity`, minimum notional `tradeMinUSDT`. `None`
    /// when a precision exceeds 18 decimals.
    #[must_use]
    pub fn rules(&self) -> Option<InstrumentRules> {
        let tick = DecimalStep::try_new(1, u8::try_from(self.price_precision).ok()?)?;
        let step = DecimalStep::try_new(1, u8::try_from(self.quantity_precision).ok()?)?;
        Some(InstrumentRules {
            tick,
            step,
            min_qty: self.trade_min_quantity,
            min_notional: self.trade_min_usdt,
        })
    }

    /// Returns true when the contract is online and API opening and closing are allowed.
    #[must_use]
    pub fn is_tradable(&self) -> bool {
        self.status == 1 && self.api_state_open && self.api_state_close
    }
}

/// §4.3 last price.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PriceTicker {
    /// Symbol.
    pub symbol: String,
    /// Last price.
    #[serde(deserialize_with = "price_lenient")]
    pub price: Price,
    /// Time in ms.
    #[serde(default, rename = "time", deserialize_with = "i64_lenient")]
    pub time_ms: i64,
}

/// §4.3b 24-hour ticker.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticker24h {
    /// Symbol.
    pub symbol: String,
    /// Last price.
    #[serde(default, deserialize_with = "price_lenient")]
    pub last_price: Price,
    /// Opening price of the window.
    #[serde(default, deserialize_with = "price_lenient")]
    pub open_price: Price,
    /// Highest price.
    #[serde(default, deserialize_with = "price_lenient")]
    pub high_price: Price,
    /// Lowest price.
    #[serde(default, deserialize_with = "price_lenient")]
    pub low_price: Price,
    /// Base volume.
    #[serde(default, deserialize_with = "qty_lenient")]
    pub volume: Qty,
    /// Best bid.
    #[serde(default, deserialize_with = "price_lenient")]
    pub bid_price: Price,
    /// Best bid size.
    #[serde(default, deserialize_with = "qty_lenient")]
    pub bid_qty: Qty,
    /// Best ask.
    #[serde(default, deserialize_with = "price_lenient")]
    pub ask_price: Price,
    /// Best ask size.
    #[serde(default, deserialize_with = "qty_lenient")]
    pub ask_qty: Qty,
    /// Window open time, ms.
    #[serde(default, deserialize_with = "i64_lenient")]
    pub open_time: i64,
    /// Window close time, ms.
    #[serde(default, deserialize_with = "i64_lenient")]
    pub close_time: i64,
}

/// §4.3c best bid/ask (snake_case keys, JSON numbers).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BookTicker {
    /// Symbol.
    pub symbol: String,
    /// Best bid.
    #[serde(deserialize_with = "price_lenient")]
    pub bid_price: Price,
    /// Best bid size.
    #[serde(deserialize_with = "qty_lenient")]
    pub bid_qty: Qty,
    /// Best ask.
    #[serde(deserialize_with = "price_lenient")]
    pub ask_price: Price,
    /// Best ask size.
    #[serde(deserialize_with = "qty_lenient")]
    pub ask_qty: Qty,
}

/// The `data` of §4.3c: `{"book_ticker": {...}}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BookTickerData {
    pub book_ticker: BookTicker,
}

/// One order-book level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Level(
    /// Price.
    #[serde(deserialize_with = "price_lenient")]
    pub Price,
    /// Quantity.
    #[serde(deserialize_with = "qty_lenient")]
    pub Qty,
);

/// §4.4 order book, sorted on receipt: bids best (highest) first, asks best
/// (lowest) first — the wire sends asks descending.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Depth {
    /// System time in ms.
    #[serde(rename = "T", default, deserialize_with = "i64_lenient")]
    pub time_ms: i64,
    /// Bids.
    pub bids: Vec<Level>,
    /// Asks.
    pub asks: Vec<Level>,
}

impl Depth {
    /// Sorts bids descending and asks ascending by price.
    pub fn sort_best_first(&mut self) {
        self.bids.sort_by_key(|l| core::cmp::Reverse(l.0));
        self.asks.sort_by_key(|l| l.0);
    }
}

/// §4.5 one kline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Kline {
    /// Open time, ms.
    #[serde(rename = "time", deserialize_with = "i64_lenient")]
    pub open_time_ms: i64,
    /// Open.
    #[serde(deserialize_with = "price_lenient")]
    pub open: Price,
    /// High.
    #[serde(deserialize_with = "price_lenient")]
    pub high: Price,
    /// Low.
    #[serde(deserialize_with = "price_lenient")]
    pub low: Price,
    /// Close.
    #[serde(deserialize_with = "price_lenient")]
    pub close: Price,
    /// Base volume.
    #[serde(deserialize_with = "qty_lenient")]
    pub volume: Qty,
}

/// §4.5b one recent public trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentTrade {
    /// Trade time, ms.
    #[serde(rename = "time", deserialize_with = "i64_lenient")]
    pub time_ms: i64,
    /// Buyer was the maker (the taker sold).
    #[serde(deserialize_with = "bool_lenient")]
    pub is_buyer_maker: bool,
    /// Price.
    #[serde(deserialize_with = "price_lenient")]
    pub price: Price,
    /// Quantity.
    #[serde(deserialize_with = "qty_lenient")]
    pub qty: Qty,
}

impl RecentTrade {
    /// Returns the aggressor side.
    #[must_use]
    pub fn aggressor(&self) -> Side {
        if self.is_buyer_maker {
            Side::Sell
        } else {
            Side::Buy
        }
    }
}

/// §4.5c mark price and funding.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PremiumIndex {
    /// Symbol.
    pub symbol: String,
    /// Mark price.
    #[serde(deserialize_with = "price_lenient")]
    pub mark_price: Price,
    /// Index price.
    #[serde(default, deserialize_with = "price_lenient")]
    pub index_price: Price,
    /// Last funding rate (informational).
    #[serde(default, deserialize_with = "f64_lenient")]
    pub last_funding_rate: f64,
    /// Next funding time, ms.
    #[serde(default, deserialize_with = "i64_lenient")]
    pub next_funding_time: i64,
}
