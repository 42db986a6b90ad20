//! Candle input for the indicator benchmarks.
//!
//! Consumes the real BTCUSDT 1m reference file (shared data) when present,
//! else generates a deterministic pseudo-random walk; produces a fixed array
//! of [`Bar`]s that the benchmarks replay in a loop. Never used on a hot path.

use bingx_sim::testdata::shared_file;

/// Number of bars returned by [`load_bars`] (a power of two, so the
/// benchmarks wrap with a mask).
pub const BARS: usize = 1 << 16;

/// The candle fields the indicators read.
#[derive(Debug, Clone, Copy)]
pub struct Bar {
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price.
    pub close: f64,
    /// Base volume.
    pub volume: f64,
}

/// Relative path of the real 1m data inside the shared data directory.
pub const REFERENCE_1M: &str =
    "reference/ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_1m.csv";

/// Returns [`BARS`] bars and whether they are real market data.
#[must_use]
pub fn load_bars() -> (Vec<Bar>, bool) {
    let real = shared_file(REFERENCE_1M)
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| {
            text.lines()
                .skip(1)
                .take(BARS)
                .map(parse_row)
                .collect::<Option<Vec<_>>>()
        });
    match real {
        Some(bars) if bars.len() == BARS => (bars, true),
        _ => (synthetic_bars(), false),
    }
}

/// Parses `open_time_ms,open,high,low,close,volume,...`.
fn parse_row(line: &str) -> Option<Bar> {
    let mut cells = line.split(',').skip(2).map(str::parse::<f64>);
    Some(Bar {
        high: cells.next()?.ok()?,
        low: cells.next()?.ok()?,
        close: cells.next()?.ok()?,
        volume: cells.next()?.ok()?,
    })
}

/// A deterministic xorshift random walk around 100 000.
fn synthetic_bars() -> Vec<Bar> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut close = 100_000.0f64;
    (0..BARS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            #[allow(clippy::cast_precision_loss, reason = "random bits to a unit float")]
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            close += (unit - 0.5) * 40.0;
            Bar {
                high: close + unit * 15.0,
                low: close - (1.0 - unit) * 15.0,
                close,
                volume: 1.0 + unit * 50.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_high_low_close_volume() {
        let bar = parse_row("1746372780000,95505.4,95505.5,95502.7,95502.7,16.536,,,").unwrap();
        assert_eq!(
            (bar.high, bar.low, bar.close, bar.volume),
            (95505.5, 95502.7, 95502.7, 16.536)
        );
        assert!(parse_row("1746372780000,95505.4,x,1,1,1").is_none());
    }

    #[test]
    fn load_gives_a_full_array_of_ordered_bars() {
        let (bars, _) = load_bars();
        assert_eq!(bars.len(), BARS);
        assert!(bars.iter().all(|b| b.low <= b.close && b.close <= b.high));
    }
}
