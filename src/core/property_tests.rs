//! Property tests of the core over random candle series with the real
//! strategies (short periods so that they trade): exact equity accounting,
//! no entry while halted or locked, the margin cap, stops that only
//! tighten, no lookahead, determinism, and a reload that decides like a
//! core built from the reloaded config.

use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::tests::Bench;
use super::*;
use crate::config::Config;
use crate::positions::PositionState;
use crate::strategy;
use crate::types::{Side, NS_PER_MIN};

/// A config whose strategies warm up in minutes and fire often.
fn fast_config() -> Config {
    let mut cfg = Config::default();
    let l = &mut cfg.strategies.mtf_long;
    l.body_atr_mult = 0.8;
    l.volume_mult = 1.2;
    l.breakout_lookback = 5;
    l.ema_fast_period = 2;
    l.ema_slow_period = 4;
    l.rsi_max = 95.0;
    let s = &mut cfg.strategies.trend_distance_short;
    s.body_atr_mult = 0.8;
    s.volume_mult = 1.2;
    s.breakdown_lookback = 5;
    s.sma_fast_period = 2;
    s.sma_slow_period = 4;
    s.min_distance_pct = 0.0;
    cfg.risk.cooldown_minutes = 10;
    cfg.risk.loss_streak_lock_minutes = 30;
    cfg.risk.max_drawdown_pct = 3.0;
    cfg
}

/// Random 1m candles: (open, high, low, close, volume) from a random walk
/// with occasional large bodies and volume spikes.
fn candles(max_len: usize) -> impl Strategy<Value = Vec<(f64, f64, f64, f64, f64)>> {
    prop::collection::vec(
        (
            -1.0..1.0f64,
            0.0..1.0f64,
            0.0..1.0f64,
            0.5..3.0f64,
            any::<bool>(),
        ),
        50..max_len,
    )
    .prop_map(|steps| {
        let mut price = 1000.0;
        steps
            .into_iter()
            .map(|(mv, up, down, vol, big)| {
                let open = price;
                let mult = if big { 12.0 } else { 3.0 };
                let close = (open + mv * mult).max(10.0);
                let high = open.max(close) + up * 2.0;
                let low = (open.min(close) - down * 2.0).max(5.0);
                price = close;
                (open, high, low, close, if big { vol * 4.0 } else { vol })
            })
            .collect()
    })
}

fn run(
    cfg: &Config,
    series: &[(f64, f64, f64, f64, f64)],
    check: &mut dyn FnMut(&Bench, &[Record], i64),
) -> Bench {
    run_bench(
        Bench::new(cfg, strategy::build(&cfg.strategies)),
        series,
        check,
    )
}

fn run_bench(
    mut b: Bench,
    series: &[(f64, f64, f64, f64, f64)],
    check: &mut dyn FnMut(&Bench, &[Record], i64),
) -> Bench {
    for (m, (o, h, l, c, v)) in series.iter().enumerate() {
        let before = b.records.len();
        let m = m as i64;
        let candle = Candle {
            symbol: SymbolId(0),
            open_time: TimestampNs(m * NS_PER_MIN),
            open: Price::from_f64(*o).unwrap(),
            high: Price::from_f64(*h).unwrap(),
            low: Price::from_f64(*l).unwrap(),
            close: Price::from_f64(*c).unwrap(),
            volume: Qty::from_f64(*v).unwrap(),
            trade_count: 1,
        };
        let halted = b.core.halted().is_some();
        let locked = b.core.risk().is_locked(TimestampNs((m + 1) * NS_PER_MIN));
        let mut q = Vec::new();
        b.sim.on_candle(&candle, &mut |e| q.push(e));
        for e in q {
            b.dispatch(e);
        }
        b.dispatch(Event::Candle(candle));
        let new = b.records[before..].to_vec();
        if halted || locked {
            assert!(
                !new.iter().any(|r| matches!(r, Record::EntrySent { .. })),
                "entry while halted={halted} locked={locked} at minute {m}"
            );
        }
        check(&b, &new, m);
    }
    let end = TimestampNs(series.len() as i64 * NS_PER_MIN);
    b.dispatch(Event::Control {
        command: Command::Shutdown,
        ts: end,
    });
    b
}

fn trade_pnl(b: &Bench) -> Money {
    b.trades().iter().fold(Money::ZERO, |acc, t| acc + t.pnl)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prop_initial_equity_plus_trade_pnl_is_final_equity(series in candles(400)) {
        let b = run(&fast_config(), &series, &mut |_, _, _| {});
        prop_assert!(b.position().is_none());
        prop_assert_eq!(b.core.initial_equity() + trade_pnl(&b), b.core.cash());
    }

    #[test]
    fn prop_margin_never_exceeds_the_cap_and_stops_only_tighten(series in candles(400)) {
        let cfg = fast_config();
        let cap = cfg.risk.max_position_pct / 100.0;
        let leverage = f64::from(cfg.exchange.leverage);
        let mut last_stop: Option<(Side, f64)> = None;
        run(&cfg, &series, &mut |b, new, _| {
            for r in new {
                match r {
                    Record::EntrySent { .. } => last_stop = None,
                    Record::StopMoved { from, to, .. } => {
                        let side = b.core.position(SymbolId(0)).map_or(Side::Buy, |p| p.side);
                        match side {
                            Side::Buy => assert!(to > from, "long stop loosened {from:?} -> {to:?}"),
                            Side::Sell => assert!(to < from, "short stop loosened {from:?} -> {to:?}"),
                        }
                    }
                    _ => {}
                }
            }
            if let Some(p) = b.core.position(SymbolId(0)) {
                if p.state == PositionState::Open {
                    let margin = p.entry_qty.to_f64() * p.entry_price / leverage;
                    // Sized on equity before the entry fee: allow that fee's effect.
                    assert!(margin <= cap * b.core.cash().to_f64() * 1.02 + 1e-6, "margin {margin}");
                    let stop = p.stop.to_f64();
                    if let Some((side, prev)) = last_stop {
                        if side == p.side {
                            match side {
                                Side::Buy => assert!(stop >= prev),
                                Side::Sell => assert!(stop <= prev),
                            }
                        }
                    }
                    last_stop = Some((p.side, stop));
                }
            } else {
                last_stop = None;
            }
        });
    }

    #[test]
    fn prop_no_lookahead_changing_later_candles_changes_no_earlier_decision(
        series in candles(300),
        cut in 0.2..0.9f64,
        bump in -20.0..20.0f64,
    ) {
        let cfg = fast_config();
        let k = ((series.len() as f64) * cut) as usize;
        let mut changed = series.clone();
        for c in changed.iter_mut().skip(k + 1) {
            c.0 += bump;
            c.1 += bump.max(0.0) + 1.0;
            c.2 = (c.2 + bump.min(0.0)).max(1.0);
            c.3 += bump;
            c.4 *= 1.5;
        }
        let mut a_records = Vec::new();
        let mut b_records = Vec::new();
        run(&cfg, &series, &mut |_, new, m| if m <= k as i64 { a_records.extend_from_slice(new) });
        run(&cfg, &changed, &mut |_, new, m| if m <= k as i64 { b_records.extend_from_slice(new) });
        prop_assert_eq!(a_records, b_records);
    }

    #[test]
    fn prop_two_runs_are_identical(series in candles(300)) {
        let cfg = fast_config();
        let a = run(&cfg, &series, &mut |_, _, _| {});
        let b = run(&cfg, &series, &mut |_, _, _| {});
        prop_assert_eq!(&a.records, &b.records);
        prop_assert_eq!(a.core.cash(), b.core.cash());
    }
}

#[test]
fn fast_config_series_do_trade() {
    // Guards the property tests against vacuity: the random setup trades.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut traded = 0;
    for _ in 0..10 {
        let series = candles(400).new_tree(&mut runner).unwrap().current();
        let b = run(&fast_config(), &series, &mut |_, _, _| {});
        traded += b.trades().len();
    }
    assert!(traded > 0, "no trades in 10 random series");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A core reloaded to a config before any event decides exactly like a
    /// core built from that config: a restart with an edited config and a
    /// reload are the same thing.
    #[test]
    fn prop_a_core_reloaded_before_trading_decides_like_one_built_from_the_new_config(
        series in candles(300),
        body in 0.5..2.0f64,
        volume in 1.0..2.0f64,
        distance in 0.0..1.0f64,
        stop in 1.0..3.0f64,
        base_risk in 0.2..2.0f64,
        drawdown in 2.0..20.0f64,
        cooldown in 0u64..30,
    ) {
        let mut new = fast_config();
        new.strategies.mtf_long.body_atr_mult = body;
        new.strategies.trend_distance_short.volume_mult = volume;
        new.strategies.trend_distance_short.min_distance_pct = distance;
        new.strategies.mtf_long.stop_atr_mult = stop;
        new.sizing.base_risk_pct = base_risk;
        new.risk.max_drawdown_pct = drawdown;
        new.risk.cooldown_minutes = cooldown;
        let old = fast_config();
        prop_assert!(old.reloadable_changes(&new).is_ok());
        let mut reloaded = Bench::new(&old, strategy::build(&old.strategies));
        reloaded.core.reload(&new).unwrap();
        let reloaded = run_bench(reloaded, &series, &mut |_, _, _| {});
        let fresh = run(&new, &series, &mut |_, _, _| {});
        prop_assert_eq!(&reloaded.records, &fresh.records);
        prop_assert_eq!(&reloaded.places, &fresh.places);
    }
}
