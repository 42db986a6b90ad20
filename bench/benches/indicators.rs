//! Cost of one closed-candle update of the indicators (criterion).
//!
//! Input: the high/low/close/volume of the real BTCUSDT 1m reference file when
//! the shared data is present (so the RSI gain/loss branch sees real price
//! moves), else a deterministic pseudo-random walk. The candles sit in a
//! preallocated array walked in a loop; every benchmark first warms its
//! indicators so the steady state is measured. Reported time is per candle.
//!
//! - `indicators/timeframe_bundle`: one `TimeframeIndicators::update_values` +
//!   `snapshot` (the eight TA-Lib reference columns, EMA previous value,
//!   volume SMA and the prior-candle channel).
//! - `indicators/reference_eight`: the eight reference columns only, as
//!   standalone indicators (comparable to TA-Lib's batch cost per bar).
//! - `indicators/<name>`: each indicator alone.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    reason = "benchmark set-up; a panic aborts the run"
)]

use std::hint::black_box;

use bench::indicator_input::{load_bars, Bar, BARS};
use criterion::{criterion_group, criterion_main, Criterion};
use trading_engine::indicators::{
    Atr, Bollinger, Ema, IndicatorPeriods, PriorChannel, Rsi, Sma, TimeframeIndicators,
};

const MASK: usize = BARS - 1;

/// Runs `step` once per iteration on the next bar, after a warm-up pass.
fn bench_per_bar(c: &mut Criterion, name: &str, bars: &[Bar], mut step: impl FnMut(&Bar)) {
    for bar in bars {
        step(bar);
    }
    let mut i = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            step(black_box(&bars[i & MASK]));
            i = i.wrapping_add(1);
        });
    });
}

fn indicators(c: &mut Criterion) {
    let (bars, real) = load_bars();
    eprintln!(
        "Input: {BARS} {} 1m bars",
        if real { "real BTCUSDT" } else { "synthetic" }
    );

    let mut set = TimeframeIndicators::try_new(IndicatorPeriods::default()).unwrap();
    bench_per_bar(c, "indicators/timeframe_bundle", &bars, |bar| {
        set.update_values(bar.high, bar.low, bar.close, bar.volume);
        black_box(set.snapshot());
    });
    assert!(set.is_warm());

    let (mut sma20, mut sma50, mut sma200) = (Sma::new(20), Sma::new(50), Sma::new(200));
    let (mut ema20, mut ema50) = (Ema::new(20), Ema::new(50));
    let (mut rsi, mut atr, mut bb) = (Rsi::new(14), Atr::new(14), Bollinger::new(20, 2.0));
    bench_per_bar(c, "indicators/reference_eight", &bars, |bar| {
        sma20.update(bar.close);
        sma50.update(bar.close);
        sma200.update(bar.close);
        ema20.update(bar.close);
        ema50.update(bar.close);
        rsi.update(bar.close);
        atr.update(bar.high, bar.low, bar.close);
        bb.update(bar.close);
        black_box((
            sma20.value(),
            sma50.value(),
            sma200.value(),
            ema20.value(),
            ema50.value(),
            rsi.value(),
            atr.value(),
            bb.value(),
        ));
    });

    let mut sma = Sma::new(200);
    bench_per_bar(c, "indicators/sma200", &bars, |bar| {
        sma.update(bar.close);
        black_box(sma.value());
    });
    let mut ema = Ema::new(20);
    bench_per_bar(c, "indicators/ema20", &bars, |bar| {
        ema.update(bar.close);
        black_box((ema.value(), ema.prev_value()));
    });
    let mut rsi = Rsi::new(14);
    bench_per_bar(c, "indicators/rsi14", &bars, |bar| {
        rsi.update(bar.close);
        black_box(rsi.value());
    });
    let mut atr = Atr::new(14);
    bench_per_bar(c, "indicators/atr14", &bars, |bar| {
        atr.update(bar.high, bar.low, bar.close);
        black_box(atr.value());
    });
    let mut bb = Bollinger::new(20, 2.0);
    bench_per_bar(c, "indicators/bollinger20", &bars, |bar| {
        bb.update(bar.close);
        black_box(bb.value());
    });
    let mut volume = Sma::new(20);
    bench_per_bar(c, "indicators/volume_sma20", &bars, |bar| {
        volume.update(bar.volume);
        black_box(volume.value());
    });
    let mut channel = PriorChannel::with_periods(60, 20);
    bench_per_bar(c, "indicators/prior_channel60_20", &bars, |bar| {
        channel.update(bar.high, bar.low);
        black_box((channel.highest(), channel.lowest()));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = indicators
}
criterion_main!(benches);
