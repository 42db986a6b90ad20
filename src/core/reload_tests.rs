//! Reload tests of the core: a reload changes the decisions that follow
//! (disabled strategy, position limit, thresholds, tie-break order),
//! refuses what the running windows cannot take, and allocates nothing.

use super::tests::{long, rules, short, Bench};
use super::*;
use crate::config::{Config, StrategyName};
use crate::datafile::{synthetic, DataSet, Record as Row};
use crate::risk::RejectReason;
use crate::types::Side;

fn free_config() -> Config {
    let mut cfg = Config::default();
    cfg.simulator.taker_fee_bps = 0.0;
    cfg.simulator.slippage_bps = 0.0;
    cfg
}

#[test]
fn disabling_the_strategy_by_reload_stops_new_entries_until_it_is_enabled_again() {
    let cfg = free_config();
    let mut b = Bench::new(&cfg, vec![long(&[0, 2])]);
    let mut off = cfg.clone();
    off.strategies.mtf_long.enabled = false;
    b.core.reload(&off).unwrap();
    assert_eq!(b.core.enabled_strategy_count(), 0);
    b.flat(0, 100.0);
    assert!(
        b.places.is_empty(),
        "the disabled strategy is not evaluated"
    );
    b.core.reload(&cfg).unwrap();
    b.flat(1, 100.0);
    b.flat(2, 100.0);
    assert_eq!(b.places.len(), 4, "entry and its protection at minute 2");
    assert_eq!(b.places[0].ts, TimestampNs(3 * crate::types::NS_PER_MIN));
}

#[test]
fn lowering_max_positions_to_zero_rejects_the_next_entry_and_keeps_the_open_one() {
    let cfg = free_config();
    let mut b = Bench::new(&cfg, vec![long(&[0, 3])]);
    b.flat(0, 100.0);
    assert!(b.position().is_some());
    let mut zero = cfg.clone();
    zero.risk.max_positions = 0;
    zero.risk.cooldown_minutes = 0;
    b.core.reload(&zero).unwrap();
    b.candle(1, 100.0, 101.0, 96.0, 96.5);
    assert!(
        b.position().is_none(),
        "the open position's stop still works"
    );
    b.flat(2, 100.0);
    b.flat(3, 100.0);
    assert_eq!(b.rejections(), [RejectReason::MaxPositions]);
}

#[test]
fn a_reloaded_tie_break_order_picks_the_other_strategy() {
    let mut b = Bench::new(&free_config(), vec![long(&[0]), short(&[1])]);
    b.flat(0, 100.0);
    assert_eq!(b.places[0].side, Side::Buy);
    let mut b = Bench::new(&free_config(), vec![long(&[0]), short(&[0])]);
    let mut cfg = free_config();
    cfg.strategies.order = vec![StrategyName::TrendDistanceShort, StrategyName::MtfLong];
    b.core.reload(&cfg).unwrap();
    b.flat(0, 100.0);
    assert_eq!(b.places[0].side, Side::Sell, "equal confidence: first wins");
}

fn synthetic_candles(days: u64) -> Vec<Candle> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    synthetic::write_klines_csv(&mut f, 1, synthetic::DEFAULT_START_MS, days * 1440).unwrap();
    let mut set = DataSet::open(&[&path], SymbolId(0)).unwrap();
    let mut out = Vec::new();
    while let Some(r) = set.next_record().unwrap() {
        if let Row::Candle(c) = r {
            out.push(c);
        }
    }
    out
}

fn signals_over(core: &mut Core, candles: &[Candle]) -> u64 {
    for c in candles {
        core.on_event(&Event::Candle(*c));
        while core.next_action().is_some() {}
    }
    core.stats().signals
}

#[test]
fn raising_the_thresholds_by_reload_silences_the_registry_strategies() {
    let candles = synthetic_candles(2);
    let cfg = Config::default();
    let mut plain = Core::try_new(&cfg, &[rules()]).unwrap();
    let baseline = signals_over(&mut plain, &candles);
    assert!(
        baseline > 0,
        "the synthetic market makes the strategies signal"
    );
    let mut strict = cfg.clone();
    strict.strategies.mtf_long.body_atr_mult = 50.0;
    strict.strategies.trend_distance_short.body_atr_mult = 50.0;
    let mut reloaded = Core::try_new(&cfg, &[rules()]).unwrap();
    reloaded.reload(&strict).unwrap();
    assert_eq!(signals_over(&mut reloaded, &candles), 0);
}

#[test]
fn a_strategy_disabled_at_start_is_held_and_a_reload_enables_it() {
    let mut cfg = Config::default();
    cfg.strategies.mtf_long.enabled = false;
    cfg.strategies.order = vec![StrategyName::TrendDistanceShort];
    let mut core = Core::try_new(&cfg, &[rules()]).unwrap();
    assert_eq!(core.strategy_count(), 2);
    assert_eq!(core.enabled_strategy_count(), 1);
    assert_eq!(
        core.strategy_name(crate::strategy::StrategyId(0)),
        "trend_distance_short"
    );
    let mut on = cfg.clone();
    on.strategies.mtf_long.enabled = true;
    on.strategies.order = vec![StrategyName::MtfLong, StrategyName::TrendDistanceShort];
    core.reload(&on).unwrap();
    assert_eq!(core.enabled_strategy_count(), 2);
    assert_eq!(
        core.strategy_name(crate::strategy::StrategyId(1)),
        "mtf_long"
    );
}

#[test]
fn a_reload_that_changes_a_period_is_refused_and_changes_nothing() {
    let cfg = Config::default();
    let mut core = Core::try_new(&cfg, &[rules()]).unwrap();
    let mut new = cfg.clone();
    new.strategies.mtf_long.rsi_period = 21;
    new.risk.max_positions = 3;
    new.strategies.mtf_long.enabled = false;
    assert_eq!(core.reload(&new), Err(CoreReloadError::PeriodsChanged));
    assert_eq!(
        check_reload(&cfg, &new),
        Err(CoreReloadError::PeriodsChanged)
    );
    assert_eq!(core.risk().config().max_positions, 1);
    assert_eq!(core.enabled_strategy_count(), 2);
}

#[test]
fn enabling_a_strategy_whose_shared_period_differs_is_refused() {
    let mut cfg = Config::default();
    cfg.strategies.trend_distance_short.enabled = false;
    cfg.strategies.trend_distance_short.atr_period = 21;
    let mut core = Core::try_new(&cfg, &[rules()]).unwrap();
    let mut on = cfg.clone();
    on.strategies.trend_distance_short.enabled = true;
    let want = CoreReloadError::PeriodMismatch { key: "atr_period" };
    assert_eq!(core.reload(&on), Err(want));
    assert_eq!(check_reload(&cfg, &on), Err(want));
    assert!(want.to_string().contains("atr_period"), "{want}");
    assert_eq!(core.enabled_strategy_count(), 1);
}

#[test]
fn too_many_streak_multipliers_are_refused() {
    let cfg = Config::default();
    let mut core = Core::try_new(&cfg, &[rules()]).unwrap();
    let mut new = cfg.clone();
    new.sizing.streak_multipliers = vec![1.0; crate::risk::MAX_STREAK_MULTIPLIERS + 1];
    new.sizing.base_risk_pct = 2.0;
    let err = core.reload(&new).unwrap_err();
    assert!(matches!(
        err,
        CoreReloadError::TooManyMultipliers { len: 17, .. }
    ));
    assert!((core.risk().sizing().base_risk_pct - 1.0).abs() < 1e-12);
}

#[test]
fn a_reload_allocates_nothing() {
    let cfg = Config::default();
    let mut core = Core::try_new(&cfg, &[rules()]).unwrap();
    let mut new = cfg.clone();
    new.risk.max_drawdown_pct = 5.0;
    new.sizing.streak_multipliers = vec![1.0, 1.1, 1.2, 1.3, 1.4, 1.5];
    new.strategies.order = vec![StrategyName::TrendDistanceShort, StrategyName::MtfLong];
    new.strategies.mtf_long.rsi_max = 70.0;
    let info = allocation_counter::measure(|| core.reload(&new).unwrap());
    assert_eq!(info.count_total, 0);
    assert!((core.risk().config().max_drawdown_pct - 5.0).abs() < 1e-12);
}
