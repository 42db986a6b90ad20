//! Market sources: a Binance public-data CSV (klines or aggTrades) or a deterministic generated
//! market, both turned into a stream of [`Tick`]s (trades) in time order.
//!
//! Consumes a CSV file or a seed; produces ticks with prices in ticks and quantities in steps.
//! Kline rows are expanded into trades that reproduce the candle's OHLCV exactly (when the
//! volume has at least four steps). A file is read streaming ([`super::csv`]): validated
//! whole once at load (so a bad row fails the start, naming file and line), then replayed
//! row by row; memory does not grow with the file. Never touches the network.

pub use super::csv::{KlineRow, SourceError};
pub use super::tick::{Precision, Tick};

use super::csv::{probe, Row, RowReader};
use super::num::pow10;
use super::rng::SimRng;
use std::collections::VecDeque;
use std::path::Path;

/// Parameters of the generated market.
#[derive(Debug, Clone)]
struct Generator {
    rng: SimRng,
    price: f64,
    time_ms: i64,
    minute: i64,
    vol_mult: f64,
    drift: f64,
    qty_mult: f64,
    qty_unit: i64,
}

impl Generator {
    fn next_tick(&mut self) -> Tick {
        self.time_ms += self.rng.range_i64(150, 1_500);
        let minute = self.time_ms.div_euclid(60_000);
        if minute != self.minute {
            self.minute = minute;
            // A new minute draws its regime: ~2% explosive candles, ~4% volume spikes.
            self.vol_mult = 1.0;
            self.drift = 0.0;
            self.qty_mult = 1.0;
            if self.rng.chance(0.02) {
                self.vol_mult = 3.0;
                self.drift = if self.rng.chance(0.5) { 4e-4 } else { -4e-4 };
                self.qty_mult = 6.0;
            } else if self.rng.chance(0.04) {
                self.qty_mult = 8.0;
            }
        }
        let ret = 1.5e-4 * self.vol_mult * self.rng.gauss() + self.drift;
        self.price = (self.price * (1.0 + ret)).max(1.0);
        let u = self.rng.next_f64();
        let qty = ((1.0 + u.powi(4) * 200.0) * self.qty_mult) as i64 * self.qty_unit;
        Tick {
            time_ms: self.time_ms,
            price: self.price.round().max(1.0) as i64,
            qty: qty.max(1),
            buyer_maker: ret < 0.0,
        }
    }
}

#[derive(Debug)]
enum Kind {
    Generated(Box<Generator>),
    File {
        reader: Box<RowReader>,
        /// Trades synthesised from the current kline row, not yet returned.
        pending: VecDeque<Tick>,
        /// Unshifted time of the first row, ms.
        first_ms: i64,
        /// Unshifted time of the last trade of the file, ms.
        last_ms: i64,
        /// True once the reader ended (or failed: the error is logged once).
        done: bool,
    },
}

/// A time-ordered stream of trades.
#[derive(Debug)]
pub struct MarketSource {
    kind: Kind,
    precision: Precision,
    /// Added to every data-file time so the replay lines up with the simulation clock.
    shift_ms: i64,
    peeked: Option<Tick>,
}

/// Expands a candle into trades whose aggregate has exactly its OHLCV: the path runs
/// open → low → high → close for a rising candle (open → high → low → close otherwise) with
/// up to two interpolated prints per leg; the volume is split evenly with the remainder on
/// the last print. Fewer than four volume steps give fewer prints.
#[must_use]
pub fn synthesize_trades(row: &KlineRow) -> Vec<Tick> {
    if row.volume <= 0 {
        return Vec::new();
    }
    let [o, h, l, c] = row.ohlc;
    let corners = if c >= o { [o, l, h, c] } else { [o, h, l, c] };
    let legs_interior = if row.volume >= 10 { 2 } else { 0 };
    let mut prices = vec![corners[0]];
    for w in corners.windows(2) {
        for k in 1..=legs_interior {
            let p = w[0] + (w[1] - w[0]) * k / (legs_interior + 1);
            prices.push(p);
        }
        prices.push(w[1]);
    }
    if (row.volume as usize) < prices.len() {
        // Too little volume for every corner: keep open, the extremes and close as far as
        // the volume allows.
        let keep = row.volume as usize;
        let idx: Vec<usize> = match keep {
            1 => vec![prices.len() - 1],
            2 => vec![0, prices.len() - 1],
            _ => vec![0, prices.len() / 2, prices.len() - 1],
        };
        prices = idx.into_iter().map(|i| prices[i]).collect();
    }
    let n = prices.len() as i64;
    let base = row.volume / n;
    let mut out = Vec::with_capacity(prices.len());
    let mut prev = o;
    for (i, p) in prices.iter().enumerate() {
        let i = i as i64;
        let qty = if i == n - 1 {
            row.volume - base * (n - 1)
        } else {
            base
        };
        out.push(Tick {
            time_ms: row.open_ms + i * 60_000 / n,
            price: (*p).max(1),
            qty,
            buyer_maker: *p < prev,
        });
        prev = *p;
    }
    out
}

impl MarketSource {
    /// Returns a generated market starting at `start_ms` near `start_price` (a seeded random
    /// walk with occasional explosive candles and volume spikes).
    #[must_use]
    pub fn generated(seed: u64, start_ms: i64, start_price: f64, precision: Precision) -> Self {
        let qty_unit = (pow10(precision.qty) / 1_000).max(1);
        let gen = Generator {
            rng: SimRng::new(seed ^ 0x6D61_726B_6574),
            price: (start_price * pow10(precision.price) as f64).max(1.0),
            time_ms: start_ms,
            minute: i64::MIN,
            vol_mult: 1.0,
            drift: 0.0,
            qty_mult: 1.0,
            qty_unit,
        };
        Self {
            kind: Kind::Generated(Box::new(gen)),
            precision,
            shift_ms: 0,
            peeked: None,
        }
    }

    /// Opens a Binance public-data CSV (12-column klines or 7/8-column aggTrades); the price
    /// and quantity decimals are the larger of `min_precision` and what the file's first rows
    /// use. A first line that does not start with a digit is a header and skipped. The whole
    /// file is validated here, streaming; the replay then reads it again row by row.
    ///
    /// # Errors
    /// [`SourceError`] when the file cannot be read, a row is malformed (negative or zero
    /// prices, high below low, open or close outside the range, rows out of order,
    /// duplicate minutes, NUL bytes, over-long lines), or no row is left.
    pub fn load_csv(path: &Path, min_precision: Precision) -> Result<Self, SourceError> {
        let (layout, precision) = probe(path, min_precision)?;
        let mut check = RowReader::open(path, layout, precision)?;
        let mut first_ms = None;
        let mut last_ms = 0;
        while let Some(row) = check.next_row()? {
            first_ms.get_or_insert(row.time_ms());
            last_ms = match row {
                Row::Kline(k) => k.open_ms + 59_999,
                Row::Trade(t) => t.time_ms,
            };
        }
        let Some(first_ms) = first_ms else {
            return Err(SourceError::Empty(path.to_owned()));
        };
        Ok(Self {
            kind: Kind::File {
                reader: Box::new(RowReader::open(path, layout, precision)?),
                pending: VecDeque::new(),
                first_ms,
                last_ms,
                done: false,
            },
            precision,
            shift_ms: 0,
            peeked: None,
        })
    }

    /// Returns the price and quantity decimals of the ticks.
    #[must_use]
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Returns the unshifted time of the first tick, if any.
    #[must_use]
    pub fn first_time_ms(&self) -> Option<i64> {
        match &self.kind {
            Kind::Generated(g) => Some(g.time_ms),
            Kind::File { first_ms, .. } => Some(*first_ms),
        }
    }

    /// Returns the unshifted time of the last tick of a data file (`None` for a generated
    /// market, which never ends).
    #[must_use]
    pub fn last_time_ms(&self) -> Option<i64> {
        match &self.kind {
            Kind::Generated(_) => None,
            Kind::File { last_ms, .. } => Some(*last_ms),
        }
    }

    /// Shifts every later data-file tick by `shift_ms` (generated markets start on the
    /// simulation clock already).
    pub fn set_shift_ms(&mut self, shift_ms: i64) {
        self.shift_ms = shift_ms;
    }

    fn pull(&mut self) -> Option<Tick> {
        let shift = self.shift_ms;
        let t = match &mut self.kind {
            Kind::Generated(g) => return Some(g.next_tick()),
            Kind::File {
                reader,
                pending,
                done,
                ..
            } => loop {
                if let Some(t) = pending.pop_front() {
                    break t;
                }
                if *done {
                    return None;
                }
                match reader.next_row() {
                    Ok(Some(Row::Trade(t))) => break t,
                    Ok(Some(Row::Kline(k))) => pending.extend(synthesize_trades(&k)),
                    Ok(None) => *done = true,
                    Err(e) => {
                        // Validated at load: the file changed or became unreadable since.
                        log::error!("Market data ends early: {e}");
                        *done = true;
                    }
                }
            },
        };
        Some(Tick {
            time_ms: t.time_ms + shift,
            ..t
        })
    }

    /// Returns the next tick without consuming it.
    pub fn peek(&mut self) -> Option<Tick> {
        if self.peeked.is_none() {
            self.peeked = self.pull();
        }
        self.peeked
    }

    /// Returns and consumes the next tick; `None` when a data file is exhausted.
    pub fn next_tick(&mut self) -> Option<Tick> {
        match self.peeked.take() {
            Some(t) => Some(t),
            None => self.pull(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregate(ticks: &[Tick]) -> ([i64; 4], i64) {
        let o = ticks[0].price;
        let c = ticks[ticks.len() - 1].price;
        let h = ticks.iter().map(|t| t.price).max().unwrap();
        let l = ticks.iter().map(|t| t.price).min().unwrap();
        ([o, h, l, c], ticks.iter().map(|t| t.qty).sum())
    }

    #[test]
    fn synthesized_trades_reproduce_the_candle() {
        for (ohlc, vol) in [
            ([100, 110, 95, 105], 1_000),
            ([100, 101, 90, 91], 37),
            ([50, 50, 50, 50], 5),
            ([10, 12, 9, 11], 4),
        ] {
            let row = KlineRow {
                open_ms: 1_700_000_040_000,
                ohlc,
                volume: vol,
            };
            let ticks = synthesize_trades(&row);
            assert_eq!(aggregate(&ticks), (ohlc, vol), "{ohlc:?}");
            assert!(ticks.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
            assert!(ticks
                .iter()
                .all(|t| (row.open_ms..row.open_ms + 60_000).contains(&t.time_ms)));
        }
    }

    #[test]
    fn zero_volume_candle_gives_no_trades() {
        let row = KlineRow {
            open_ms: 0,
            ohlc: [5, 5, 5, 5],
            volume: 0,
        };
        assert!(synthesize_trades(&row).is_empty());
    }

    #[test]
    fn generated_market_is_deterministic_and_ordered() {
        let p = Precision { price: 1, qty: 4 };
        let mut a = MarketSource::generated(9, 1_700_000_000_000, 60_000.0, p);
        let mut b = MarketSource::generated(9, 1_700_000_000_000, 60_000.0, p);
        let mut prev = 0;
        for _ in 0..5_000 {
            let x = a.next_tick().unwrap();
            assert_eq!(Some(x), b.next_tick());
            assert!(x.time_ms > prev && x.price >= 1 && x.qty >= 1);
            prev = x.time_ms;
        }
    }

    #[test]
    fn loads_klines_and_aggtrades_csv_with_optional_header() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("k.csv");
        std::fs::write(
            &k,
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n\
             1746372780000,95505.4,95505.5,95502.7,95502.7,16.536,1746372839999,0,0,0,0,0\n",
        )
        .unwrap();
        let mut src = MarketSource::load_csv(&k, Precision { price: 1, qty: 4 }).unwrap();
        assert_eq!(src.precision(), Precision { price: 1, qty: 4 });
        let ticks: Vec<Tick> = std::iter::from_fn(|| src.next_tick()).collect();
        assert_eq!(
            aggregate(&ticks),
            ([955_054, 955_055, 955_027, 955_027], 165_360)
        );
        let t = dir.path().join("t.csv");
        std::fs::write(
            &t,
            "5266583935,61800.30,0.006,5266583935,5266583935,1723161256322,false\n\
             5266583936,61800.10,0.199,5266583936,5266583936,1723161256344,true\n",
        )
        .unwrap();
        let mut src = MarketSource::load_csv(&t, Precision { price: 1, qty: 4 }).unwrap();
        assert_eq!(src.precision(), Precision { price: 2, qty: 4 });
        src.set_shift_ms(1_000);
        let first = src.next_tick().unwrap();
        assert_eq!(first.price, 6_180_030);
        assert_eq!(first.qty, 60);
        assert_eq!(first.time_ms, 1_723_161_257_322);
        assert!(src.next_tick().unwrap().buyer_maker);
        assert!(src.next_tick().is_none());
    }

    #[test]
    fn malformed_csv_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.csv");
        std::fs::write(&p, "1,2,3,4,5,6,7\n1,abc,3,4,5,6,false\n").unwrap();
        let err = MarketSource::load_csv(&p, Precision { price: 1, qty: 1 }).unwrap_err();
        assert!(
            matches!(
                err,
                SourceError::Corrupt { line: 1, .. } | SourceError::Corrupt { line: 2, .. }
            ),
            "{err}"
        );
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "header\n").unwrap();
        assert!(matches!(
            MarketSource::load_csv(&empty, Precision { price: 1, qty: 1 }),
            Err(SourceError::Empty(_))
        ));
    }

    #[test]
    fn replays_the_shared_klines_file() {
        let Some(path) =
            crate::testdata::shared_file("binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv")
        else {
            return;
        };
        let mut src = MarketSource::load_csv(&path, Precision { price: 1, qty: 4 }).unwrap();
        let first = src.next_tick().unwrap();
        assert_eq!(first.time_ms, 1_746_372_780_000);
        assert_eq!(first.price, 955_054);
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn candle() -> impl Strategy<Value = KlineRow> {
        (
            1i64..1_000_000,
            0i64..5_000,
            0i64..5_000,
            0i64..=1,
            prop_oneof![Just(0i64), 1i64..20, 1i64..10_000_000],
        )
            .prop_map(|(low, span, body, up, volume)| {
                let high = low + span;
                let a = low + body.min(span);
                let b = low + (span - body.min(span)) / 2;
                let (o, c) = if up == 1 {
                    (b.min(a), b.max(a))
                } else {
                    (b.max(a), b.min(a))
                };
                KlineRow {
                    open_ms: 1_700_000_040_000,
                    ohlc: [o, high, low, c],
                    volume,
                }
            })
    }

    proptest! {
        #[test]
        fn prop_synthesized_trades_reproduce_any_candle_with_enough_volume(row in candle()) {
            let ticks = synthesize_trades(&row);
            let total: i64 = ticks.iter().map(|t| t.qty).sum();
            prop_assert_eq!(total, row.volume);
            prop_assert!(ticks.iter().all(|t| t.qty >= 0 && t.price >= row.ohlc[2].max(1) && t.price <= row.ohlc[1]));
            prop_assert!(ticks.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
            if row.volume >= 4 {
                prop_assert_eq!(ticks[0].price, row.ohlc[0]);
                prop_assert_eq!(ticks[ticks.len() - 1].price, row.ohlc[3]);
                prop_assert_eq!(ticks.iter().map(|t| t.price).max(), Some(row.ohlc[1]));
                prop_assert_eq!(ticks.iter().map(|t| t.price).min(), Some(row.ohlc[2]));
            }
        }
    }
}
