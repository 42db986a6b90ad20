//! Indicator warm-up and feed-gap backfill from REST klines.
//!
//! Consumes the configuration (for how much history the indicators need),
//! a [`RestClient`] whose symbol table holds `market.symbols` (ids =
//! positions, as [`preflight`](super::preflight) installs it), the
//! exchange's current time and, for backfill, an [`OutageWindow`] from the
//! WebSocket client. Produces closed 1m [`Candle`]s in time order, ready to
//! feed to the core as `Event::Candle`. Never returns the still-open minute,
//! a candle twice, or a candle the caller says the core already has.
//!
//! Warm-up starts on a 5-minute boundary so the core's 5m candles are
//! complete from the first one.

use core::fmt;

use crate::config::Config;
use crate::io::clock::IoClock;
use crate::io::dto::Kline;
use crate::io::error::MarketDataError;
use crate::io::rest::RestClient;
use crate::io::rest_market::KlineInterval;
use crate::io::ws::OutageWindow;
use crate::types::{Candle, SymbolId, TimestampNs};

/// One minute, ms.
pub const MINUTE_MS: i64 = 60_000;
/// Five minutes, ms.
pub const FIVE_MINUTES_MS: i64 = 5 * MINUTE_MS;
/// Extra 1m candles fetched beyond the longest indicator period, so
/// exponential averages settle and a missing minute does not leave an
/// indicator short.
pub const WARMUP_MARGIN_MINUTES: u32 = 250;

/// Why warm-up or backfill failed.
#[derive(Debug)]
pub enum WarmupError {
    /// The symbol id is not in the client's symbol table.
    UnknownSymbol(SymbolId),
    /// The klines request failed.
    Request {
        /// Exchange symbol.
        symbol: String,
        /// The failure.
        source: MarketDataError,
    },
    /// The exchange returned a kline not on a minute boundary (corrupt data).
    Misaligned {
        /// Exchange symbol.
        symbol: String,
        /// Its open time, ms.
        open_ms: i64,
    },
}

impl fmt::Display for WarmupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownSymbol(id) => write!(f, "symbol id {} is not in the symbol table", id.0),
            Self::Request { symbol, source } => {
                write!(f, "klines request for {symbol} failed: {source}")
            }
            Self::Misaligned { symbol, open_ms } => write!(
                f,
                "{symbol} kline open time {open_ms} ms is not on a minute boundary"
            ),
        }
    }
}

impl std::error::Error for WarmupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Returns how many closed 1m candles the strategies of `cfg` need before
/// the first signal: the longest warm-up the enabled (and standby)
/// strategies declare (a 5m period counts five minutes a candle), plus
/// [`WARMUP_MARGIN_MINUTES`].
#[must_use]
pub fn warmup_minutes(cfg: &Config) -> u32 {
    let need = crate::strategy::warmup_minutes(&cfg.strategies);
    u32::try_from(need)
        .unwrap_or(u32::MAX)
        .saturating_add(WARMUP_MARGIN_MINUTES)
}

/// The inclusive range of 1m open times, ms, to fetch for a warm-up of at
/// least `minutes` closed candles ending with the last minute closed at
/// `now_ms`; the start is on a 5-minute boundary.
#[must_use]
pub fn warmup_range(minutes: u32, now_ms: i64) -> (i64, i64) {
    let last_open = now_ms.div_euclid(MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    let earliest = last_open - (i64::from(minutes.max(1)) - 1) * MINUTE_MS;
    let start = earliest.div_euclid(FIVE_MINUTES_MS) * FIVE_MINUTES_MS;
    (start, last_open)
}

/// The inclusive range of 1m open times, ms, a backfill of `window` needs:
/// from the minute the connection was lost through the minute before the
/// first new data (that minute's later trades arrive live), skipping every
/// minute up to `have_through` (the open time of the last candle the core
/// already has) and any minute not closed at `now_ms`. `None` when nothing
/// is missing.
#[must_use]
pub fn backfill_range(
    window: OutageWindow,
    have_through: Option<TimestampNs>,
    now_ms: i64,
) -> Option<(i64, i64)> {
    let floor = |ms: i64| ms.div_euclid(MINUTE_MS) * MINUTE_MS;
    let mut start = floor(window.from.as_ms());
    if let Some(have) = have_through {
        start = start.max(floor(have.as_ms()) + MINUTE_MS);
    }
    let last_closed = floor(now_ms) - MINUTE_MS;
    let end = (floor(window.to.as_ms()) - MINUTE_MS).min(last_closed);
    (start <= end).then_some((start, end))
}

/// Returns `kline` as a core candle of `symbol` (the trade count is not
/// published by the klines endpoint and is 0).
#[must_use]
pub fn candle_of(symbol: SymbolId, kline: &Kline) -> Candle {
    Candle {
        symbol,
        open_time: TimestampNs::from_ms(kline.open_time_ms),
        open: kline.open,
        high: kline.high,
        low: kline.low,
        close: kline.close,
        volume: kline.volume,
        trade_count: 0,
    }
}

/// Fetches the closed 1m candles of `symbol` with open time in
/// `[start_ms, end_ms]`, paging as needed, in time order without
/// duplicates.
///
/// # Errors
/// [`WarmupError`] for an unknown symbol, a failed request or a kline off
/// the minute grid.
pub fn fetch_candles<C: IoClock>(
    rest: &mut RestClient<C>,
    symbol: SymbolId,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<Candle>, WarmupError> {
    let name = rest
        .symbols()
        .get(symbol)
        .ok_or(WarmupError::UnknownSymbol(symbol))?
        .name
        .clone();
    let klines = rest
        .klines_range(&name, KlineInterval::M1, start_ms, end_ms)
        .map_err(|source| WarmupError::Request {
            symbol: name.clone(),
            source,
        })?;
    let mut out = Vec::with_capacity(klines.len());
    for k in &klines {
        if k.open_time_ms.rem_euclid(MINUTE_MS) != 0 {
            return Err(WarmupError::Misaligned {
                symbol: name,
                open_ms: k.open_time_ms,
            });
        }
        // `klines_range` sorts, de-duplicates and clips; keep the guarantee here too.
        let newer = out
            .last()
            .is_none_or(|c: &Candle| c.open_time.as_ms() < k.open_time_ms);
        if newer && k.open_time_ms >= start_ms && k.open_time_ms <= end_ms {
            out.push(candle_of(symbol, k));
        }
    }
    Ok(out)
}

/// Fetches the warm-up history of one symbol: at least `minutes` closed 1m
/// candles ending with the last minute closed at `now_ms` (exchange time,
/// e.g. [`RestClient::timestamp_ms`]), starting on a 5-minute boundary.
/// Minutes without trades have no candle, so fewer may come back.
///
/// # Errors
/// As [`fetch_candles`].
pub fn fetch_warmup<C: IoClock>(
    rest: &mut RestClient<C>,
    symbol: SymbolId,
    minutes: u32,
    now_ms: i64,
) -> Result<Vec<Candle>, WarmupError> {
    let (start, end) = warmup_range(minutes, now_ms);
    fetch_candles(rest, symbol, start, end)
}

/// Fetches the warm-up history of every symbol in the client's table
/// ([`warmup_minutes`] of `cfg`), merged in time order (ties by symbol id):
/// the sequence of `Event::Candle`s to feed the core before going live.
///
/// # Errors
/// As [`fetch_candles`], for the first symbol that fails.
pub fn fetch_warmup_all<C: IoClock>(
    rest: &mut RestClient<C>,
    cfg: &Config,
    now_ms: i64,
) -> Result<Vec<Candle>, WarmupError> {
    let minutes = warmup_minutes(cfg);
    let mut all = Vec::new();
    for i in 0..rest.symbols().len() {
        let id = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
        all.extend(fetch_warmup(rest, id, minutes, now_ms)?);
    }
    all.sort_by_key(|c| (c.open_time, c.symbol.0));
    Ok(all)
}

/// Fetches the closed 1m candles of `symbol` missed during `window` (see
/// [`backfill_range`]); empty when nothing is missing.
///
/// # Errors
/// As [`fetch_candles`].
pub fn fetch_backfill<C: IoClock>(
    rest: &mut RestClient<C>,
    symbol: SymbolId,
    window: OutageWindow,
    have_through: Option<TimestampNs>,
    now_ms: i64,
) -> Result<Vec<Candle>, WarmupError> {
    match backfill_range(window, have_through, now_ms) {
        Some((start, end)) => fetch_candles(rest, symbol, start, end),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000; // 22:13:20 UTC, a 5m boundary minus 100 s

    fn window(from_ms: i64, to_ms: i64) -> OutageWindow {
        OutageWindow {
            from: TimestampNs::from_ms(from_ms),
            to: TimestampNs::from_ms(to_ms),
        }
    }

    #[test]
    fn default_config_needs_sma200_on_5m_plus_margin() {
        let n = warmup_minutes(&Config::default());
        assert!(n >= 1000 + WARMUP_MARGIN_MINUTES, "{n}");
    }

    #[test]
    fn warmup_range_is_five_minute_aligned_and_ends_at_the_last_closed_minute() {
        for offset in [0, 1, 59_999, 60_000, 299_999] {
            let now = T0 + offset;
            let (start, end) = warmup_range(1250, now);
            assert_eq!(start % FIVE_MINUTES_MS, 0);
            assert_eq!(end % MINUTE_MS, 0);
            assert!(end + MINUTE_MS <= now, "last minute closed");
            assert!(end + 2 * MINUTE_MS > now, "no closed minute left out");
            let count = (end - start) / MINUTE_MS + 1;
            assert!((1250..1255).contains(&count), "{count}");
        }
    }

    #[test]
    fn backfill_range_spans_the_outage_minus_what_the_core_has() {
        let m = |i: i64| T0 - T0.rem_euclid(MINUTE_MS) + i * MINUTE_MS;
        // Lost at minute 0 + 20 s, back at minute 10 + 5 s, now minute 20.
        let w = window(m(0) + 20_000, m(10) + 5_000);
        assert_eq!(backfill_range(w, None, m(20)), Some((m(0), m(9))));
        // The core closed minute 0 from its trades already.
        assert_eq!(
            backfill_range(w, Some(TimestampNs::from_ms(m(0))), m(20)),
            Some((m(1), m(9)))
        );
        // Core already has everything.
        assert_eq!(
            backfill_range(w, Some(TimestampNs::from_ms(m(9))), m(20)),
            None
        );
        // Backfill runs while minute 5 is still open: only closed minutes.
        assert_eq!(backfill_range(w, None, m(5) + 1), Some((m(0), m(4))));
        // Reconnected within the same minute: nothing to fetch.
        assert_eq!(backfill_range(window(m(3) + 1, m(3) + 9), None, m(8)), None);
    }

    #[test]
    fn klines_become_candles_of_the_symbol() {
        let k = Kline {
            open_time_ms: T0 - T0.rem_euclid(MINUTE_MS),
            open: crate::types::Price::from_f64(1.5).unwrap(),
            high: crate::types::Price::from_f64(2.0).unwrap(),
            low: crate::types::Price::from_f64(1.0).unwrap(),
            close: crate::types::Price::from_f64(1.75).unwrap(),
            volume: crate::types::Qty::from_f64(3.0).unwrap(),
        };
        let c = candle_of(SymbolId(2), &k);
        assert_eq!(c.symbol, SymbolId(2));
        assert_eq!(c.open_time.as_ms(), k.open_time_ms);
        assert_eq!(
            (c.open, c.high, c.low, c.close),
            (k.open, k.high, k.low, k.close)
        );
        assert_eq!(c.volume, k.volume);
    }
}
