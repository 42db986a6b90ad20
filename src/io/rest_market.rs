//! Public market-data endpoints of the REST client (§4.1–4.5): server time,
//! contracts and the symbol table, last price, 24 h ticker, book ticker,
//! depth, klines (with paging between two times), recent trades and the
//! premium index.
//!
//! Consumes symbol names and ranges; produces the DTOs of `io::dto`. Unsigned
//! requests only; never sends credentials.

use crate::io::clock::IoClock;
use crate::io::dto::{
    parse_data, BookTicker, BookTickerData, Contract, Depth, Kline, OneOrMany, PremiumIndex,
    PriceTicker, RecentTrade, Ticker24h,
};
use crate::io::endpoint::Endpoint;
use crate::io::error::MarketDataError;
use crate::io::rest::{ClockSkew, RestClient};
use crate::io::symbols::SymbolTable;

/// Kline interval (§4.5; case-sensitive: `1m` minute, `1M` month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KlineInterval {
    /// 1 minute.
    M1,
    /// 3 minutes.
    M3,
    /// 5 minutes.
    M5,
    /// 15 minutes.
    M15,
    /// 30 minutes.
    M30,
    /// 1 hour.
    H1,
    /// 2 hours.
    H2,
    /// 4 hours.
    H4,
    /// 6 hours.
    H6,
    /// 8 hours.
    H8,
    /// 12 hours.
    H12,
    /// 1 day.
    D1,
    /// 3 days.
    D3,
    /// 1 week.
    W1,
    /// 1 month.
    Mo1,
}

impl KlineInterval {
    /// Returns the exchange spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M3 => "3m",
            Self::M5 => "5m",
            Self::M15 => "15m",
            Self::M30 => "30m",
            Self::H1 => "1h",
            Self::H2 => "2h",
            Self::H4 => "4h",
            Self::H6 => "6h",
            Self::H8 => "8h",
            Self::H12 => "12h",
            Self::D1 => "1d",
            Self::D3 => "3d",
            Self::W1 => "1w",
            Self::Mo1 => "1M",
        }
    }
}

/// Most klines one request returns (§4.5).
pub const KLINES_MAX_LIMIT: u32 = 1440;

/// Depth limits the endpoint accepts (§4.4).
pub const DEPTH_LIMITS: [u32; 7] = [5, 10, 20, 50, 100, 500, 1000];

impl<C: IoClock> RestClient<C> {
    /// Returns the server time and applies the measured clock offset (§4.1).
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn server_time(&mut self) -> Result<ClockSkew, MarketDataError> {
        Ok(self.sync_time()?)
    }

    /// Returns the contracts (§4.2), all of them when `symbol` is `None`.
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn contracts(&mut self, symbol: Option<&str>) -> Result<Vec<Contract>, MarketDataError> {
        self.query.clear();
        if let Some(s) = symbol {
            self.query.push_str("symbol", s)?;
        }
        let path = Endpoint::Contracts.spec().path;
        let list: OneOrMany<Contract> =
            self.call_with(Endpoint::Contracts, &|b| parse_data(path, b))?;
        Ok(list.into_vec())
    }

    /// Fetches the contracts and installs a symbol table of `names` (id = position).
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails;
    /// [`MarketDataError::InvalidArgument`] when a name is not listed or has bad rules.
    pub fn load_symbols(&mut self, names: &[&str]) -> Result<&SymbolTable, MarketDataError> {
        let contracts = self.contracts(None)?;
        let table = SymbolTable::from_contracts(&contracts, names).map_err(|e| {
            log::error!("Symbol table: {e}");
            MarketDataError::InvalidArgument("a requested symbol is not listed or has bad rules")
        })?;
        self.symbols = table;
        Ok(&self.symbols)
    }

    /// Returns the last price of `symbol` (§4.3).
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn price(&mut self, symbol: &str) -> Result<PriceTicker, MarketDataError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        Ok(self.call(Endpoint::TickerPrice)?)
    }

    /// Returns the 24 h ticker of `symbol` (§4.3b).
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn ticker_24h(&mut self, symbol: &str) -> Result<Ticker24h, MarketDataError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        Ok(self.call(Endpoint::Ticker24h)?)
    }

    /// Returns the best bid and ask of `symbol` (§4.3c).
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn book_ticker(&mut self, symbol: &str) -> Result<BookTicker, MarketDataError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        let data: BookTickerData = self.call(Endpoint::BookTicker)?;
        Ok(data.book_ticker)
    }

    /// Returns the order book of `symbol` with `limit` levels, sorted best
    /// first on both sides (§4.4).
    ///
    /// # Errors
    /// [`MarketDataError::InvalidArgument`] for a limit not in [`DEPTH_LIMITS`];
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn depth(&mut self, symbol: &str, limit: u32) -> Result<Depth, MarketDataError> {
        if !DEPTH_LIMITS.contains(&limit) {
            return Err(MarketDataError::InvalidArgument(
                "depth limit must be 5, 10, 20, 50, 100, 500 or 1000",
            ));
        }
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        self.query.push_u64("limit", u64::from(limit))?;
        let mut depth: Depth = self.call(Endpoint::Depth)?;
        depth.sort_best_first();
        Ok(depth)
    }

    /// Returns up to `limit` klines (≤ 1440), sorted by open time, optionally
    /// bounded by `start_ms` / `end_ms` (§4.5).
    ///
    /// # Errors
    /// [`MarketDataError::InvalidArgument`] for a zero or too large limit;
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn klines(
        &mut self,
        symbol: &str,
        interval: KlineInterval,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Kline>, MarketDataError> {
        if limit == 0 || limit > KLINES_MAX_LIMIT {
            return Err(MarketDataError::InvalidArgument(
                "kline limit must be 1..=1440",
            ));
        }
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        self.query.push_str("interval", interval.as_str())?;
        if let Some(s) = start_ms {
            self.query.push_i64("startTime", s)?;
        }
        if let Some(e) = end_ms {
            self.query.push_i64("endTime", e)?;
        }
        self.query.push_u64("limit", u64::from(limit))?;
        let path = Endpoint::Klines.spec().path;
        let list: OneOrMany<Kline> = self.call_with(Endpoint::Klines, &|b| parse_data(path, b))?;
        let mut v = list.into_vec();
        v.sort_by_key(|k| k.open_time_ms);
        Ok(v)
    }

    /// Returns every kline with open time in `[start_ms, end_ms]`, paging
    /// forward 1440 at a time (for backfill). Tolerates either ordering and
    /// inclusive or exclusive bounds on the server (§4.5): results are
    /// sorted, de-duplicated and clipped to the range.
    ///
    /// # Errors
    /// [`MarketDataError::InvalidArgument`] when `start_ms > end_ms`;
    /// [`MarketDataError::Request`] when a page fails after retries.
    pub fn klines_range(
        &mut self,
        symbol: &str,
        interval: KlineInterval,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Kline>, MarketDataError> {
        if start_ms > end_ms {
            return Err(MarketDataError::InvalidArgument(
                "kline range start after end",
            ));
        }
        let mut out: Vec<Kline> = Vec::new();
        let mut cursor = start_ms;
        while cursor <= end_ms {
            let page = self.klines(
                symbol,
                interval,
                Some(cursor),
                Some(end_ms),
                KLINES_MAX_LIMIT,
            )?;
            let before = out.len();
            for k in page {
                let after_last = out.last().is_none_or(|l| k.open_time_ms > l.open_time_ms);
                if k.open_time_ms >= cursor && k.open_time_ms <= end_ms && after_last {
                    out.push(k);
                }
            }
            match out.last() {
                // No progress: the range is exhausted (or the server has nothing newer).
                Some(last) if out.len() > before => cursor = last.open_time_ms + 1,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Returns recent public trades of `symbol` (§4.5b), as sent (newest first).
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn recent_trades(
        &mut self,
        symbol: &str,
        limit: u32,
    ) -> Result<Vec<RecentTrade>, MarketDataError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        self.query.push_u64("limit", u64::from(limit))?;
        Ok(self.call(Endpoint::RecentTrades)?)
    }

    /// Returns mark price and funding of `symbol` (§4.5c).
    ///
    /// # Errors
    /// [`MarketDataError::Request`] when the request fails after retries.
    pub fn premium_index(&mut self, symbol: &str) -> Result<PremiumIndex, MarketDataError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        Ok(self.call(Endpoint::PremiumIndex)?)
    }
}
