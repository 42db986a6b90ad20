//! MACD (moving average convergence/divergence), TA-Lib style.
//!
//! Consumes one close per candle and produces [`MacdValue`]: the MACD line
//! `EMA(fast) - EMA(slow)`, its signal line `EMA(signal)` of the MACD line,
//! the histogram `macd - signal` and the histogram one candle earlier (a
//! cross is a sign change of the histogram). As TA-Lib's `MACD`: both EMAs
//! use `k = 2 / (n + 1)` and start on the same candle (the slow period's
//! last), the fast one seeded with the average of the `fast` closes ending
//! there, the slow one with the average of the first `slow` closes; the
//! signal EMA is seeded with the average of the first `signal` MACD values,
//! so the first output appears on candle `slow + signal - 1`, where
//! TA-Lib's first non-empty MACD row is. Never allocates; O(1) per update.

use super::ema::Ema;
use super::kind::{check_period, Bar, Indicator, ParamError};

/// Periods of a [`Macd`] instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacdParams {
    /// Fast EMA period; below `slow`.
    pub fast: usize,
    /// Slow EMA period.
    pub slow: usize,
    /// Signal EMA period (of the MACD line).
    pub signal: usize,
}

/// What a [`Macd`] gives a strategy after one candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// MACD line: fast EMA minus slow EMA.
    pub macd: f64,
    /// Signal line: EMA of the MACD line.
    pub signal: f64,
    /// `macd - signal`.
    pub histogram: f64,
    /// The histogram one candle earlier; `None` on the first output.
    pub previous_histogram: Option<f64>,
}

/// MACD over closes (see the module docs).
#[derive(Debug, Clone)]
pub struct Macd {
    /// Closes to skip before the fast EMA starts: `slow - fast`.
    fast_delay: usize,
    /// Closes seen, counted up to `fast_delay` only.
    seen: usize,
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Latest output; `None` until the signal line is warm.
    current: Option<MacdValue>,
}

impl Macd {
    /// Creates a MACD with the given periods.
    ///
    /// # Panics
    /// Panics when a period is 0 or `fast >= slow` (checked with the
    /// config and by [`Indicator::check`]).
    #[must_use]
    pub fn new(p: MacdParams) -> Self {
        assert!(
            p.fast > 0 && p.fast < p.slow && p.signal > 0,
            "MACD periods must satisfy 0 < fast < slow and signal > 0"
        );
        Self {
            fast_delay: p.slow - p.fast,
            seen: 0,
            fast: Ema::new(p.fast),
            slow: Ema::new(p.slow),
            signal: Ema::new(p.signal),
            current: None,
        }
    }

    /// Folds in one close.
    #[inline]
    pub fn update(&mut self, close: f64) {
        self.slow.update(close);
        if self.seen < self.fast_delay {
            self.seen += 1;
        } else {
            self.fast.update(close);
        }
        let (Some(fast), Some(slow)) = (self.fast.value(), self.slow.value()) else {
            return;
        };
        let macd = fast - slow;
        self.signal.update(macd);
        if let Some(signal) = self.signal.value() {
            let previous_histogram = self.current.map(|v| v.histogram);
            self.current = Some(MacdValue {
                macd,
                signal,
                histogram: macd - signal,
                previous_histogram,
            });
        }
    }

    /// Returns the latest output, or `None` until `slow + signal - 1`
    /// closes were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<MacdValue> {
        self.current
    }

    /// Forgets all closes; cold again. Does not allocate.
    pub fn reset(&mut self) {
        self.seen = 0;
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.current = None;
    }
}

impl Indicator for Macd {
    type Params = MacdParams;
    type Output = MacdValue;
    const KIND: &'static str = "macd";

    fn check(p: MacdParams) -> Result<(), ParamError> {
        check_period(Self::KIND, p.fast)?;
        check_period(Self::KIND, p.slow)?;
        check_period(Self::KIND, p.signal)?;
        if p.fast < p.slow {
            Ok(())
        } else {
            Err(ParamError::Value {
                kind: Self::KIND,
                reason: "the fast period must be below the slow period",
            })
        }
    }

    fn create(p: MacdParams) -> Self {
        Self::new(p)
    }

    /// The first output, plus one candle for the previous histogram.
    fn warmup_candles(p: MacdParams) -> usize {
        p.slow + p.signal
    }

    #[inline]
    fn push(&mut self, bar: &Bar) {
        self.update(bar.close);
    }

    #[inline]
    fn output(&self) -> Option<MacdValue> {
        self.value()
    }

    fn reset(&mut self) {
        Macd::reset(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: MacdParams = MacdParams {
        fast: 12,
        slow: 26,
        signal: 9,
    };

    /// TA-Lib's `EMA` on `input[start..]` as its C code computes it inside
    /// `MACD`: seeded with the average of the `period` values ending at
    /// `first_out`, then `((x - prev) * k) + prev`. Returns one value per
    /// index from `first_out` on (earlier entries `None`).
    fn talib_ema(input: &[f64], period: usize, first_out: usize) -> Vec<Option<f64>> {
        #[allow(clippy::cast_precision_loss, reason = "small period")]
        let (n, k) = (period as f64, 2.0 / (period as f64 + 1.0));
        let mut out = vec![None; input.len()];
        if first_out >= input.len() {
            return out;
        }
        let mut sum = 0.0;
        for x in &input[first_out + 1 - period..=first_out] {
            sum += x;
        }
        let mut prev = sum / n;
        out[first_out] = Some(prev);
        for (i, x) in input.iter().enumerate().skip(first_out + 1) {
            prev = ((x - prev) * k) + prev;
            out[i] = Some(prev);
        }
        out
    }

    /// TA-Lib `MACD(fast, slow, signal)` over `closes`, computed in batch
    /// from its documented definition (ta_MACD.c): both EMAs start at index
    /// `slow - 1`, the signal EMA over the MACD line from there; rows before
    /// `slow + signal - 2` are empty. Returns (macd, signal, histogram).
    fn talib_macd(closes: &[f64], p: MacdParams) -> Vec<Option<(f64, f64, f64)>> {
        let start = p.slow - 1;
        let slow = talib_ema(closes, p.slow, start);
        let fast = talib_ema(closes, p.fast, start);
        let line: Vec<f64> = (start..closes.len())
            .map(|i| fast[i].unwrap() - slow[i].unwrap())
            .collect();
        let signal = talib_ema(&line, p.signal, p.signal - 1);
        let mut out = vec![None; closes.len()];
        for (j, s) in signal.iter().enumerate() {
            if let Some(s) = s {
                out[start + j] = Some((line[j], *s, line[j] - s));
            }
        }
        out
    }

    fn check_against_talib(closes: &[f64], p: MacdParams) -> usize {
        let reference = talib_macd(closes, p);
        let mut macd = Macd::new(p);
        let mut warm = 0;
        let mut previous = None;
        for (i, (close, want)) in closes.iter().zip(&reference).enumerate() {
            macd.update(*close);
            let got = macd.value();
            match (got, want) {
                (None, None) => {}
                (Some(g), Some((m, s, h))) => {
                    let tol = 1e-12 * close.abs().max(1.0);
                    assert!((g.macd - m).abs() <= tol, "row {i}: macd {} vs {m}", g.macd);
                    assert!(
                        (g.signal - s).abs() <= tol,
                        "row {i}: signal {} vs {s}",
                        g.signal
                    );
                    assert!((g.histogram - h).abs() <= tol, "row {i}: hist");
                    assert_eq!(g.previous_histogram, previous, "row {i}");
                    previous = Some(g.histogram);
                    warm += 1;
                }
                _ => panic!("row {i}: warm-up differs: got {got:?}, TA-Lib {want:?}"),
            }
        }
        warm
    }

    #[test]
    fn first_output_is_on_candle_slow_plus_signal_minus_one() {
        let closes: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i % 7)).collect();
        let mut macd = Macd::new(STANDARD);
        for (i, c) in closes.iter().enumerate() {
            macd.update(*c);
            assert_eq!(macd.value().is_some(), i + 1 >= 34, "candle {}", i + 1);
        }
        assert_eq!(Macd::warmup_candles(STANDARD), 35);
        macd.reset();
        assert_eq!(macd.value(), None);
    }

    #[test]
    fn equals_the_talib_definition_on_a_synthetic_series() {
        let closes: Vec<f64> = (0..500)
            .map(|i| 50_000.0 + f64::from(i % 37) * 13.5 - f64::from(i % 11) * 21.25)
            .collect();
        assert_eq!(check_against_talib(&closes, STANDARD), 500 - 33);
        let short = MacdParams {
            fast: 1,
            slow: 2,
            signal: 1,
        };
        assert_eq!(check_against_talib(&closes, short), 499);
    }

    /// TA-Lib equality on real data. The shared TA-Lib reference files have
    /// no MACD column, so the reference is computed here from TA-Lib's
    /// documented definition (see `talib_macd`) on the closes of the
    /// BTCUSDT 1m and 5m reference files.
    #[test]
    fn equals_talib_macd_on_the_shared_btcusdt_closes() {
        for name in [
            "reference/ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_1m.csv",
            "reference/ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_5m.csv",
        ] {
            let Some(path) = bingx_sim::testdata::shared_file(name) else {
                return;
            };
            let text = std::fs::read_to_string(path).unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let col = header.iter().position(|h| *h == "close").unwrap();
            let closes: Vec<f64> = lines
                .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
                .collect();
            assert!(closes.len() > 10_000 / 5, "{name}: {} rows", closes.len());
            let warm = check_against_talib(&closes, STANDARD);
            assert_eq!(warm, closes.len() - 33, "{name}");
        }
    }

    #[test]
    fn bad_periods_are_refused() {
        assert!(Macd::check(STANDARD).is_ok());
        let inverted = MacdParams {
            fast: 26,
            slow: 12,
            signal: 9,
        };
        assert!(matches!(
            Macd::check(inverted),
            Err(ParamError::Value { kind: "macd", .. })
        ));
        let zero = MacdParams {
            signal: 0,
            ..STANDARD
        };
        assert!(matches!(Macd::check(zero), Err(ParamError::Period { .. })));
    }
}
