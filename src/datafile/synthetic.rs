//! A deterministic synthetic market: 1m klines in the Binance public-data
//! layout, generated from a seed, so that a backtest (or a demo) runs on a
//! fresh machine with no data set and no internet.
//!
//! Consumes a seed and a length; produces [`SyntheticCandle`]s and, through
//! [`write_klines_csv`], a 12-column klines CSV file that
//! [`super::DataSet`] reads like any downloaded file. Cold path: it is a data
//! generator, never on the hot path.
//!
//! The market is a random walk with regimes (up, down, flat drift that
//! switches every few hours), volatility clustering, and occasional
//! explosive candles (a large body closing near its extreme on a volume
//! spike), which is the pattern both strategies trade. It is not a model of
//! any real market: use it to exercise the engine, never to judge a strategy.

use std::io::{self, Write};

/// One generated 1m candle (prices on a 0.1 tick, volume on 0.001).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticCandle {
    /// Open time, Unix milliseconds (a minute boundary).
    pub open_time_ms: i64,
    /// Open price.
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price.
    pub close: f64,
    /// Base volume.
    pub volume: f64,
}

/// Seeded generator of [`SyntheticCandle`]s.
#[derive(Debug, Clone)]
pub struct SyntheticMarket {
    rng: u64,
    price: f64,
    next_open_ms: i64,
    drift: f64,
    regime_left: u32,
    vol: f64,
}

/// Default start: 2025-01-01T00:00:00Z.
pub const DEFAULT_START_MS: i64 = 1_735_689_600_000;

impl SyntheticMarket {
    /// Returns a market starting at `start_ms` (floored to a minute) and
    /// price `start_price`, driven by `seed`.
    #[must_use]
    pub fn new(seed: u64, start_ms: i64, start_price: f64) -> Self {
        Self {
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            price: if start_price.is_finite() && start_price > 1.0 {
                start_price
            } else {
                60_000.0
            },
            next_open_ms: start_ms - start_ms.rem_euclid(60_000),
            drift: 0.0,
            regime_left: 0,
            vol: 0.0006,
        }
    }

    /// Returns a uniform number in [0, 1) (splitmix64).
    fn uniform(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Returns a standard normal number (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    fn round_tick(p: f64) -> f64 {
        (p * 10.0).round() / 10.0
    }

    /// Returns the next 1m candle.
    pub fn next_candle(&mut self) -> SyntheticCandle {
        if self.regime_left == 0 {
            self.regime_left = 240 + (self.uniform() * 1200.0) as u32;
            let pick = self.uniform();
            self.drift = if pick < 0.4 {
                0.00008
            } else if pick < 0.8 {
                -0.00008
            } else {
                0.0
            };
        }
        self.regime_left -= 1;
        // Volatility clustering: mean-reverting log-volatility.
        let target = 0.0006;
        self.vol =
            (self.vol + 0.05 * (target - self.vol) + 0.00005 * self.normal()).clamp(0.0002, 0.003);
        let open = self.price;
        let explosive = self.uniform() < 0.006;
        let (ret, vol_mult) = if explosive {
            let dir = if self.drift < 0.0 || (self.drift == 0.0 && self.uniform() < 0.5) {
                -1.0
            } else {
                1.0
            };
            (
                dir * self.vol * (6.0 + 4.0 * self.uniform()),
                5.0 + 3.0 * self.uniform(),
            )
        } else {
            (self.drift + self.vol * self.normal(), 1.0)
        };
        let close = Self::round_tick(open * (1.0 + ret)).max(0.1);
        let body_hi = open.max(close);
        let body_lo = open.min(close);
        let wick = if explosive { 0.1 } else { 0.5 };
        let high = Self::round_tick(body_hi + open * self.vol * wick * self.uniform());
        let low = Self::round_tick(body_lo - open * self.vol * wick * self.uniform()).max(0.1);
        let base_volume = 40.0 * (1.0 + 0.5 * self.normal().abs()) * (1.0 + ret.abs() / self.vol);
        let volume = ((base_volume * vol_mult) * 1000.0).round() / 1000.0;
        let candle = SyntheticCandle {
            open_time_ms: self.next_open_ms,
            open,
            high: high.max(body_hi),
            low: low.min(body_lo),
            close,
            volume: volume.max(0.001),
        };
        self.price = close;
        self.next_open_ms += 60_000;
        candle
    }
}

/// Writes `minutes` synthetic 1m klines as a headerless 12-column Binance
/// klines CSV (`open_time,open,high,low,close,volume,close_time,
/// quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore`).
///
/// # Errors
/// The writer's I/O error.
pub fn write_klines_csv(
    out: &mut dyn Write,
    seed: u64,
    start_ms: i64,
    minutes: u64,
) -> io::Result<()> {
    let mut market = SyntheticMarket::new(seed, start_ms, 60_000.0);
    let mut w = io::BufWriter::with_capacity(1 << 16, out);
    for _ in 0..minutes {
        let c = market.next_candle();
        let quote = c.volume * (c.open + c.close) / 2.0;
        writeln!(
            w,
            "{},{:.1},{:.1},{:.1},{:.1},{:.3},{},{:.4},{},0,0,0",
            c.open_time_ms,
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume,
            c.open_time_ms + 59_999,
            quote,
            (c.volume * 20.0).round() as u64 + 1,
        )?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datafile::{DataSet, FileKind, Record};
    use crate::types::SymbolId;

    #[test]
    fn same_seed_same_market_other_seed_other_market() {
        let mut a = SyntheticMarket::new(7, DEFAULT_START_MS, 60_000.0);
        let mut b = SyntheticMarket::new(7, DEFAULT_START_MS, 60_000.0);
        let mut c = SyntheticMarket::new(8, DEFAULT_START_MS, 60_000.0);
        let mut differs = false;
        for _ in 0..1000 {
            let (x, y, z) = (a.next_candle(), b.next_candle(), c.next_candle());
            assert_eq!(x, y);
            differs |= x != z;
        }
        assert!(differs);
    }

    #[test]
    fn candles_are_consistent_and_contiguous() {
        let mut m = SyntheticMarket::new(1, DEFAULT_START_MS + 1234, 60_000.0);
        let mut prev: Option<SyntheticCandle> = None;
        let mut explosive = 0;
        for _ in 0..20_000 {
            let c = m.next_candle();
            assert!(
                c.low <= c.open.min(c.close) && c.high >= c.open.max(c.close),
                "{c:?}"
            );
            assert!(c.low > 0.0 && c.volume > 0.0);
            assert_eq!(c.open_time_ms.rem_euclid(60_000), 0);
            if let Some(p) = prev {
                assert_eq!(c.open_time_ms, p.open_time_ms + 60_000);
                assert_eq!(c.open, p.close);
            }
            if (c.close - c.open).abs() > 0.004 * c.open {
                explosive += 1;
            }
            prev = Some(c);
        }
        assert!(explosive > 20, "too few explosive candles: {explosive}");
    }

    #[test]
    fn written_csv_reads_back_as_klines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("synthetic.csv");
        let mut file = std::fs::File::create(&path).unwrap();
        write_klines_csv(&mut file, 3, DEFAULT_START_MS, 500).unwrap();
        drop(file);
        let mut set = DataSet::open(&[&path], SymbolId(0)).unwrap();
        assert_eq!(set.kind(), FileKind::Klines);
        let mut market = SyntheticMarket::new(3, DEFAULT_START_MS, 60_000.0);
        let mut n = 0;
        while let Some(Record::Candle(c)) = set.next_record().unwrap() {
            let want = market.next_candle();
            assert_eq!(c.open_time.as_ms(), want.open_time_ms);
            assert!((c.close.to_f64() - want.close).abs() < 1e-6);
            n += 1;
        }
        assert_eq!(n, 500);
    }
}
