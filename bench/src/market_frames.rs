//! BingX-shaped market frames for the latency harnesses.
//!
//! Consumes the real BTCUSDT aggTrades day of the shared data (through
//! `bingx_sim::testdata`) or, when it is absent, a deterministic
//! generated random walk; produces gzip `@trade` push frames exactly as
//! BingX (and `bingx_sim`) sends them:
//! `{"code":0,"dataType":"BTC-USDT@trade","data":[{"q":..,"p":..,"T":..,"m":..,"s":..}]}`.
//!
//! Prices, sizes and aggressor sides are the recorded ones; timestamps are
//! rewritten by [`FramePlan`] so that a 1m candle closes every
//! `frames_per_candle` frames (that is how the harness sets the share of
//! frames that produce an order). Frames are built between measurements,
//! never inside the timed window.

use std::fmt::Write as _;

use bingx_sim::testdata::shared_file;
use trading_engine::datafile::{DataFile, Record};
use trading_engine::types::{SymbolId, NS_PER_MIN};

/// The shared aggTrades file the frames are built from.
pub const TRADES_FILE: &str = "binance-futures-BTCUSDT-aggTrades-2020-02-22.csv";

/// The BingX symbol of the frames.
pub const SYMBOL: &str = "BTC-USDT";

/// One recorded (or generated) trade, as the frame builder needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// Trade price.
    pub price: f64,
    /// Trade size in base units.
    pub qty: f64,
    /// The buyer was the maker (the aggressor sold).
    pub buyer_maker: bool,
}

/// Where the ticks came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickSource {
    /// The shared aggTrades file.
    Recorded,
    /// The deterministic random walk (shared data absent).
    Generated,
}

impl TickSource {
    /// Returns a short description for the harness output.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Recorded => TRADES_FILE,
            Self::Generated => "generated random walk (shared data not found)",
        }
    }
}

/// Returns up to `max` ticks of the shared aggTrades file, or `max`
/// generated ticks when the file is absent or unreadable.
#[must_use]
pub fn load_ticks(max: usize) -> (Vec<Tick>, TickSource) {
    if let Some(path) = shared_file(TRADES_FILE) {
        if let Ok(ticks) = read_ticks(&path, max) {
            if !ticks.is_empty() {
                return (ticks, TickSource::Recorded);
            }
        }
    }
    (generate_ticks(max), TickSource::Generated)
}

fn read_ticks(
    path: &std::path::Path,
    max: usize,
) -> Result<Vec<Tick>, trading_engine::datafile::DataFileError> {
    let mut file = DataFile::open(path, SymbolId(0))?;
    let mut out = Vec::with_capacity(max.min(1 << 20));
    while out.len() < max {
        match file.next_record()? {
            Some(Record::Trade(t)) => out.push(Tick {
                price: t.price.to_f64(),
                qty: t.qty.to_f64(),
                buyer_maker: t.aggressor == trading_engine::types::Side::Sell,
            }),
            Some(Record::Candle(_)) => {}
            None => break,
        }
    }
    Ok(out)
}

/// Returns `n` ticks of a deterministic random walk around 50,000 (xorshift).
#[must_use]
pub fn generate_ticks(n: usize) -> Vec<Tick> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut price = 50_000.0_f64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            price = (price + (x % 201) as f64 / 10.0 - 10.0).max(1_000.0);
            Tick {
                price,
                qty: 0.001 * (1 + x % 500) as f64,
                buyer_maker: x & 1 == 1,
            }
        })
        .collect()
}

/// How frames are cut and timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePlan {
    /// Trades in each frame (≥ 1).
    pub trades_per_frame: usize,
    /// A new 1m bucket starts every this many frames (≥ 1), so the first
    /// trade of frame `k * frames_per_candle` closes a candle.
    pub frames_per_candle: u64,
    /// Exchange time of frame 0, ms since the epoch (a minute boundary).
    pub start_ms: i64,
}

impl FramePlan {
    /// Returns the plan giving a candle close on `share` of the frames
    /// (clamped to (0, 1]), starting at `start_ms` floored to the minute.
    #[must_use]
    pub fn for_order_share(share: f64, trades_per_frame: usize, start_ms: i64) -> Self {
        let share = if share.is_finite() && share > 0.0 {
            share.min(1.0)
        } else {
            1.0
        };
        let per_min = NS_PER_MIN / 1_000_000;
        Self {
            trades_per_frame: trades_per_frame.max(1),
            frames_per_candle: (1.0 / share).round().max(1.0) as u64,
            start_ms: start_ms - start_ms.rem_euclid(per_min),
        }
    }

    /// Returns the exchange time (ms) of trade `j` of frame `frame`: minute
    /// `frame / frames_per_candle` after the start, spread evenly inside it.
    #[must_use]
    pub fn trade_time_ms(&self, frame: u64, j: usize) -> i64 {
        let per_min = NS_PER_MIN / 1_000_000;
        let fpc = self.frames_per_candle.max(1);
        let minute = i64::try_from(frame / fpc).unwrap_or(i64::MAX / per_min / 2);
        let slots = u64::try_from(self.trades_per_frame.max(1))
            .unwrap_or(1)
            .saturating_mul(fpc);
        let slot = (frame % fpc)
            .saturating_mul(u64::try_from(self.trades_per_frame.max(1)).unwrap_or(1))
            .saturating_add(u64::try_from(j).unwrap_or(0));
        let offset = i64::try_from(slot.saturating_mul(59_000) / slots.max(1)).unwrap_or(0);
        self.start_ms + minute * per_min + offset
    }

    /// Returns true when frame `frame` starts a new 1m bucket (and so closes
    /// the previous candle), frame 0 excepted.
    #[must_use]
    pub fn closes_candle(&self, frame: u64) -> bool {
        frame > 0 && frame % self.frames_per_candle.max(1) == 0
    }
}

/// Builds frames into reused buffers (cold path: allocates while growing).
#[derive(Debug, Default)]
pub struct FrameBuilder {
    json: String,
}

impl FrameBuilder {
    /// Returns an empty builder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the uncompressed JSON of frame `frame` under `plan`, its
    /// trades taken from `ticks` cyclically (newest first, as BingX orders
    /// them).
    ///
    /// # Panics
    /// Panics when `ticks` is empty.
    pub fn json(&mut self, ticks: &[Tick], plan: &FramePlan, frame: u64) -> &str {
        assert!(!ticks.is_empty(), "Invariant: at least one tick");
        self.json.clear();
        self.json.push_str("{\"code\":0,\"dataType\":\"");
        self.json.push_str(SYMBOL);
        self.json.push_str("@trade\",\"data\":[");
        let n = plan.trades_per_frame.max(1);
        let first = usize::try_from(frame).unwrap_or(0).wrapping_mul(n);
        for k in 0..n {
            let j = n - 1 - k;
            let t = ticks[(first.wrapping_add(j)) % ticks.len()];
            if k > 0 {
                self.json.push(',');
            }
            // Writing into a String cannot fail.
            let _ = write!(
                self.json,
                "{{\"q\":\"{:.3}\",\"p\":\"{:.1}\",\"T\":{},\"m\":{},\"s\":\"{SYMBOL}\"}}",
                t.qty,
                t.price,
                plan.trade_time_ms(frame, j),
                t.buyer_maker
            );
        }
        self.json.push_str("]}");
        &self.json
    }

    /// Returns frame `frame` gzip-compressed, as it arrives on the socket.
    ///
    /// # Panics
    /// As [`json`](Self::json).
    pub fn gzip(&mut self, ticks: &[Tick], plan: &FramePlan, frame: u64) -> Vec<u8> {
        let json = self.json(ticks, plan, frame);
        bingx_sim::gzip(json.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trading_engine::feed::{BingxDecoder, MarketEvent, SymbolTable};

    fn decoder() -> BingxDecoder {
        let mut table = SymbolTable::new();
        table.insert(SYMBOL, SymbolId(0)).unwrap();
        BingxDecoder::new(table)
    }

    #[test]
    fn plan_for_one_percent_closes_a_candle_every_hundred_frames() {
        let plan = FramePlan::for_order_share(0.01, 1, 1_582_329_602_111);
        assert_eq!(plan.frames_per_candle, 100);
        assert_eq!(plan.start_ms % 60_000, 0);
        assert!(!plan.closes_candle(0));
        assert!(!plan.closes_candle(99));
        assert!(plan.closes_candle(100));
        assert_eq!(plan.trade_time_ms(99, 0) / 60_000, plan.start_ms / 60_000);
        assert_eq!(
            plan.trade_time_ms(100, 0) / 60_000,
            plan.start_ms / 60_000 + 1
        );
    }

    #[test]
    fn trade_times_never_go_backwards_inside_and_across_frames() {
        let plan = FramePlan::for_order_share(0.05, 3, 0);
        let mut last = i64::MIN;
        for f in 0..200 {
            for j in 0..3 {
                let t = plan.trade_time_ms(f, j);
                assert!(t >= last, "frame {f} trade {j}: {t} < {last}");
                last = t;
            }
        }
    }

    #[test]
    fn share_out_of_range_falls_back_to_every_frame() {
        assert_eq!(FramePlan::for_order_share(0.0, 1, 0).frames_per_candle, 1);
        assert_eq!(
            FramePlan::for_order_share(f64::NAN, 1, 0).frames_per_candle,
            1
        );
        assert_eq!(FramePlan::for_order_share(7.0, 1, 0).frames_per_candle, 1);
    }

    #[test]
    fn built_frames_decode_to_the_planned_trades_oldest_first() {
        let ticks = generate_ticks(10);
        let plan = FramePlan::for_order_share(0.5, 3, 1_582_329_600_000);
        let mut builder = FrameBuilder::new();
        let mut dec = decoder();
        for frame in 0..3u64 {
            let gz = builder.gzip(&ticks, &plan, frame);
            let mut got = Vec::new();
            dec.decode(&gz, &mut |e| {
                if let MarketEvent::Trade(t) = e {
                    got.push(t);
                }
            })
            .unwrap();
            assert_eq!(got.len(), 3);
            for (j, t) in got.iter().enumerate() {
                let tick = ticks[(frame as usize * 3 + j) % ticks.len()];
                assert_eq!(t.exchange_ts.0 / 1_000_000, plan.trade_time_ms(frame, j));
                assert!((t.price.to_f64() - tick.price).abs() < 0.051);
            }
        }
    }

    #[test]
    fn recorded_ticks_come_from_the_shared_file_when_present() {
        let (ticks, source) = load_ticks(100);
        assert_eq!(ticks.len(), 100);
        if shared_file(TRADES_FILE).is_some() {
            assert_eq!(source, TickSource::Recorded);
            // First row of the file: 9682 × 0.132, buyer not maker.
            assert_eq!(ticks[0].price, 9682.0);
            assert!((ticks[0].qty - 0.132).abs() < 1e-6);
            assert!(!ticks[0].buyer_maker);
        } else {
            assert_eq!(source, TickSource::Generated);
        }
    }
}
