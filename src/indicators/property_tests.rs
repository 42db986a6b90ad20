//! Property tests of the indicators against naive recomputations.

use proptest::prelude::*;

use super::{Atr, Bollinger, Ema, IndicatorPeriods, PriorChannel, Rsi, Sma, TimeframeIndicators};

/// Values mixing tiny, unit, BTC-scale and repeated edge cases.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        1e-6..1e-2f64,
        0.5..2.0f64,
        90_000.0..110_000.0f64,
        Just(0.0),
        Just(104_250.1),
    ]
}

fn series(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(value(), 0..max_len)
}

/// A random walk at a random scale (closes that look like prices).
fn walk(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    (
        prop_oneof![Just(0.001), Just(1.0), Just(100_000.0)],
        prop::collection::vec(-1.0..1.0f64, 0..max_len),
    )
        .prop_map(|(scale, steps)| {
            let mut price = scale;
            steps
                .into_iter()
                .map(|step| {
                    price = (price + step * scale * 0.01).max(scale * 0.01);
                    price
                })
                .collect()
        })
}

/// Candles as (high, low, close) with low <= close <= high.
fn candles(max_len: usize) -> impl Strategy<Value = Vec<(f64, f64, f64)>> {
    prop::collection::vec((value(), 0.0..1.0f64, 0.0..1.0f64), 0..max_len).prop_map(|raw| {
        raw.into_iter()
            .map(|(low, width, pos)| {
                let high = low + width * (1.0 + low * 0.01);
                (high, low, low + pos * (high - low))
            })
            .collect()
    })
}

fn naive_mean(window: &[f64]) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "test window lengths are small")]
    let n = window.len() as f64;
    window.iter().sum::<f64>() / n
}

/// Largest magnitude seen so far: the running sums' error scales with the
/// values since the last exact recomputation, not only the current window
/// (TA-Lib's running sums carry the whole history).
fn seen_scale(seen: &[f64]) -> f64 {
    seen.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn close_to(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-12 * scale.abs().max(1e-300)
}

proptest! {
    #[test]
    fn prop_sma_warms_exactly_at_period_and_equals_naive_mean(
        period in 1usize..40,
        xs in series(300),
    ) {
        let mut sma = Sma::new(period);
        for (i, &x) in xs.iter().enumerate() {
            sma.update(x);
            prop_assert_eq!(sma.is_warm(), i + 1 >= period);
            match sma.value() {
                None => prop_assert!(i + 1 < period),
                Some(v) => {
                    let window = &xs[i + 1 - period..=i];
                    let scale = seen_scale(&xs[..=i]);
                    prop_assert!(close_to(v, naive_mean(window), scale), "{} vs {}", v, naive_mean(window));
                }
            }
        }
    }

    #[test]
    fn prop_ema_warms_exactly_at_period(period in 1usize..40, xs in series(100)) {
        let mut ema = Ema::new(period);
        for (i, &x) in xs.iter().enumerate() {
            ema.update(x);
            prop_assert_eq!(ema.value().is_some(), i + 1 >= period);
            prop_assert_eq!(ema.prev_value().is_some(), i >= period);
        }
    }

    #[test]
    fn prop_rsi_is_within_0_and_100_and_warms_after_period_plus_one_closes(
        period in 1usize..30,
        xs in walk(300),
    ) {
        let mut rsi = Rsi::new(period);
        for (i, &x) in xs.iter().enumerate() {
            rsi.update(x);
            prop_assert_eq!(rsi.is_warm(), i >= period);
            if let Some(v) = rsi.value() {
                prop_assert!((0.0..=100.0).contains(&v), "RSI {}", v);
            }
        }
    }

    #[test]
    fn prop_atr_is_non_negative_and_warms_after_period_plus_one_candles(
        period in 1usize..30,
        cs in candles(200),
    ) {
        let mut atr = Atr::new(period);
        for (i, &(h, l, c)) in cs.iter().enumerate() {
            atr.update(h, l, c);
            prop_assert_eq!(atr.is_warm(), i >= period);
            if let Some(v) = atr.value() {
                prop_assert!(v >= 0.0, "ATR {}", v);
            }
        }
    }

    #[test]
    fn prop_bands_are_ordered_and_stddev_matches_two_pass(
        period in 1usize..40,
        k in prop_oneof![Just(0.0), Just(2.0), 0.0..5.0f64],
        xs in prop_oneof![series(300), walk(300)],
    ) {
        let mut bb = Bollinger::new(period, k);
        for (i, &x) in xs.iter().enumerate() {
            bb.update(x);
            prop_assert_eq!(bb.is_warm(), i + 1 >= period);
            let Some(bands) = bb.value() else { continue };
            prop_assert!(bands.lower <= bands.middle && bands.middle <= bands.upper, "{:?}", bands);
            let window = &xs[i + 1 - period..=i];
            let mean = naive_mean(window);
            let var = naive_mean(&window.iter().map(|x| (x - mean) * (x - mean)).collect::<Vec<_>>());
            let scale = seen_scale(&xs[..=i]);
            // Absolute variance error relative to scale^2 (cancellation bound).
            let sd = bb.stddev().unwrap();
            prop_assert!((sd * sd - var).abs() <= 1e-12 * scale * scale, "{} vs {}", sd * sd, var);
        }
    }

    #[test]
    fn prop_channel_equals_naive_extremes_of_the_prior_candles(
        high_period in 1usize..30,
        low_period in 1usize..30,
        cs in candles(200),
    ) {
        let mut ch = PriorChannel::with_periods(high_period, low_period);
        for (i, &(h, l, _)) in cs.iter().enumerate() {
            ch.update(h, l);
            let expect_high = (i >= high_period).then(|| {
                cs[i - high_period..i].iter().map(|c| c.0).fold(f64::MIN, f64::max)
            });
            let expect_low = (i >= low_period).then(|| {
                cs[i - low_period..i].iter().map(|c| c.1).fold(f64::MAX, f64::min)
            });
            prop_assert_eq!(ch.highest(), expect_high);
            prop_assert_eq!(ch.lowest(), expect_low);
            prop_assert_eq!(ch.is_warm(), expect_high.is_some() && expect_low.is_some());
        }
    }

    #[test]
    fn prop_bundle_matches_its_standalone_indicators(
        cs in candles(260),
        sma_fast in prop_oneof![Just(20usize), 1usize..40],
    ) {
        let periods = IndicatorPeriods { sma_fast, ..IndicatorPeriods::default() };
        let mut set = TimeframeIndicators::try_new(periods).unwrap();
        let mut sma = Sma::new(periods.sma_slow);
        let mut fast = Sma::new(periods.sma_fast);
        let mut ema = Ema::new(periods.ema_fast);
        let mut rsi = Rsi::new(periods.rsi);
        let mut atr = Atr::new(periods.atr);
        let mut bb = Bollinger::new(periods.bollinger, periods.bollinger_k);
        let mut vol = Sma::new(periods.volume_sma);
        let mut ch = PriorChannel::with_periods(periods.channel_high, periods.channel_low);
        for &(h, l, c) in &cs {
            let volume = h - l;
            set.update_values(h, l, c, volume);
            sma.update(c);
            fast.update(c);
            ema.update(c);
            rsi.update(c);
            atr.update(h, l, c);
            bb.update(c);
            vol.update(volume);
            ch.update(h, l);
            let snap = set.snapshot();
            prop_assert_eq!(snap.sma_slow, sma.value());
            prop_assert_eq!(snap.sma_fast, fast.value());
            prop_assert_eq!(snap.ema_fast, ema.value());
            prop_assert_eq!(snap.ema_fast_prev, ema.prev_value());
            prop_assert_eq!(snap.rsi, rsi.value());
            prop_assert_eq!(snap.atr, atr.value());
            prop_assert_eq!(snap.bands, bb.value());
            prop_assert_eq!(snap.volume_sma, vol.value());
            prop_assert_eq!(snap.prior_high, ch.highest());
            prop_assert_eq!(snap.prior_low, ch.lowest());
            prop_assert_eq!(set.is_warm(), snap.is_complete());
        }
    }
}
