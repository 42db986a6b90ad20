//! Tests of [`super::Macd`]: its warm-up, the TA-Lib definition on a
//! synthetic series and on the shared BTCUSDT closes.

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
