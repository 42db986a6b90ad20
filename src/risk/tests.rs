use super::*;
use crate::types::{DecimalStep, Qty};

fn rules() -> InstrumentRules {
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step: DecimalStep::from_precision(3),
        min_qty: Qty::from_f64(0.001).unwrap(),
        min_notional: Price::from_f64(5.0).unwrap(),
    }
}

fn px(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

fn req() -> EntryRequest {
    EntryRequest {
        price: px(100.0),
        stop_distance: 1.0,
        last_price: Some(px(100.0)),
        last_data_ts: Some(TimestampNs(0)),
        now: TimestampNs(0),
        equity: 10_000.0,
        available: 10_000.0,
        open_positions: 0,
        open_risk: 0.0,
        leverage: 5.0,
        side: crate::types::Side::Buy,
        liquidation: liquidation::LiquidationRule {
            margin_type: crate::config::MarginType::Isolated,
            leverage: 5.0,
            maintenance_margin_rate: 0.004,
        },
    }
}

#[test]
fn an_entry_whose_stop_lies_beyond_its_liquidation_price_is_refused() {
    let mut m = manager();
    // Leverage 50 isolated: a long at 100 is liquidated near 98.39, so a
    // stop 3 below the entry (97) comes too late.
    let mut r = req();
    r.stop_distance = 3.0;
    r.leverage = 50.0;
    r.liquidation.leverage = 50.0;
    assert_eq!(
        m.check_entry(&r, &rules()),
        Err(RejectReason::StopBeyondLiquidation)
    );
    r.side = crate::types::Side::Sell;
    assert_eq!(
        m.check_entry(&r, &rules()),
        Err(RejectReason::StopBeyondLiquidation),
        "a short's stop at 103 lies above its liquidation near 101.59"
    );
    // Cross margin: the whole available balance backs the position, so
    // the same stop is inside the liquidation price.
    r.liquidation.margin_type = crate::config::MarginType::Crossed;
    assert!(m.check_entry(&r, &rules()).is_ok());
    // Leverage 5 isolated (liquidation near 80.3): accepted.
    assert!(m.check_entry(&req(), &rules()).is_ok());
    assert_eq!(m.rejections(RejectReason::StopBeyondLiquidation), 2);
}

fn manager() -> RiskManager {
    RiskManager::new(RiskConfig::default(), SizingConfig::default(), 10_000.0)
}

const MIN: i64 = NS_PER_MIN;

#[test]
fn base_size_is_one_percent_of_equity_over_r() {
    // 100 risk / 1.0 R = 100 units; margin 100 * 100 / 5 = 2000 <= 4000
    let s = manager().check_entry(&req(), &rules()).unwrap();
    assert_eq!(s.qty, Qty::from_f64(100.0).unwrap());
    assert!(!s.capped);
}

#[test]
fn quantity_rounds_down_to_the_step() {
    let mut r = req();
    r.stop_distance = 3.0; // 33.333.. -> 33.333
    let s = manager().check_entry(&r, &rules()).unwrap();
    assert_eq!(
        s.qty.to_f64(),
        Qty::from_decimal(33_333, 3).unwrap().to_f64()
    );
}

#[test]
fn win_streak_scales_risk_and_a_loss_resets_it() {
    let mut m = manager();
    let mut r = req();
    r.stop_distance = 10.0;
    let q =
        |m: &mut RiskManager, r: &EntryRequest| m.check_entry(r, &rules()).unwrap().qty.to_f64();
    assert!((q(&mut m, &r) - 10.0).abs() < 1e-6);
    for expected in [12.5, 15.0, 17.5, 17.5] {
        m.on_trade_closed(Money(1), TimestampNs(0));
        assert!((q(&mut m, &r) - expected).abs() < 1e-6, "{expected}");
    }
    m.on_trade_closed(Money(-1), TimestampNs(0));
    r.now = TimestampNs(61 * MIN);
    r.last_data_ts = Some(r.now);
    assert!((q(&mut m, &r) - 10.0).abs() < 1e-6);
}

#[test]
fn margin_cap_reduces_quantity_first() {
    let mut r = req();
    r.stop_distance = 0.1; // 1000 units, margin 20000 > 4000 -> 200 units
    let s = manager().check_entry(&r, &rules()).unwrap();
    assert!(s.capped);
    assert_eq!(s.qty, Qty::from_f64(200.0).unwrap());
}

#[test]
fn position_that_cannot_fit_the_minimum_is_rejected_as_position_size() {
    let mut m = manager();
    let mut r = req();
    r.price = px(60_000.0);
    r.last_price = Some(px(60_000.0));
    r.stop_distance = 0.01;
    r.equity = 0.01; // cap = 0.4% * 0.01 * 5 / 60000 -> 0
    r.available = 100.0;
    assert_eq!(m.check_entry(&r, &rules()), Err(RejectReason::PositionSize));
    assert_eq!(m.rejections(RejectReason::PositionSize), 1);
}

#[test]
fn below_minimum_quantity_is_rejected_as_min_qty() {
    let mut r = req();
    r.stop_distance = 1_000_000.0; // 0.0001 -> 0.000
    assert_eq!(
        manager().check_entry(&r, &rules()),
        Err(RejectReason::MinQty)
    );
}

#[test]
fn kill_switch_halts_at_max_drawdown_and_blocks_entries() {
    let mut m = manager();
    assert!(!m.on_equity(11_000.0));
    assert!(!m.on_equity(9_901.0)); // 9.99%
    assert!(m.on_equity(9_900.0)); // 10%
    assert_eq!(m.halted(), Some(HaltReason::KillSwitch));
    assert_eq!(m.check_entry(&req(), &rules()), Err(RejectReason::Halted));
    m.resume(9_900.0, false);
    assert!(m.check_entry(&req(), &rules()).is_ok());
}

#[test]
fn stale_data_is_rejected() {
    let mut r = req();
    r.now = TimestampNs(31 * NS_PER_SEC);
    assert_eq!(
        manager().check_entry(&r, &rules()),
        Err(RejectReason::StaleData)
    );
    r.last_data_ts = None;
    assert_eq!(
        manager().check_entry(&r, &rules()),
        Err(RejectReason::StaleData)
    );
    r.now = TimestampNs(30 * NS_PER_SEC);
    r.last_data_ts = Some(TimestampNs(0));
    assert!(manager().check_entry(&r, &rules()).is_ok());
}

#[test]
fn price_far_from_the_last_trade_is_rejected() {
    let mut r = req();
    r.last_price = Some(px(97.9));
    assert_eq!(
        manager().check_entry(&r, &rules()),
        Err(RejectReason::PriceDeviation)
    );
    r.last_price = Some(px(98.5));
    assert!(manager().check_entry(&r, &rules()).is_ok());
}

#[test]
fn cooldown_after_a_loss_blocks_for_its_minutes() {
    let mut m = manager();
    m.on_trade_closed(Money(-1), TimestampNs(0));
    let mut r = req();
    r.now = TimestampNs(59 * MIN);
    r.last_data_ts = Some(r.now);
    assert_eq!(m.check_entry(&r, &rules()), Err(RejectReason::Cooldown));
    assert!(m.is_locked(r.now));
    r.now = TimestampNs(60 * MIN);
    r.last_data_ts = Some(r.now);
    assert!(m.check_entry(&r, &rules()).is_ok());
}

#[test]
fn three_losses_lock_for_240_minutes_then_the_streak_resets() {
    let mut m = manager();
    for _ in 0..3 {
        m.on_trade_closed(Money(-1), TimestampNs(0));
    }
    let mut r = req();
    r.now = TimestampNs(100 * MIN);
    r.last_data_ts = Some(r.now);
    assert_eq!(
        m.check_entry(&r, &rules()),
        Err(RejectReason::LossStreakLock)
    );
    r.now = TimestampNs(240 * MIN);
    r.last_data_ts = Some(r.now);
    assert!(m.check_entry(&r, &rules()).is_ok());
    // the count restarted: one more loss is a cooldown, not a lock
    m.on_trade_closed(Money(-1), r.now);
    r.now = TimestampNs(301 * MIN);
    r.last_data_ts = Some(r.now);
    assert!(m.check_entry(&r, &rules()).is_ok());
}

#[test]
fn too_many_positions_are_rejected() {
    let mut r = req();
    r.open_positions = 1;
    assert_eq!(
        manager().check_entry(&r, &rules()),
        Err(RejectReason::MaxPositions)
    );
}

#[test]
fn low_available_balance_is_rejected() {
    let mut r = req();
    r.available = 9.99;
    assert_eq!(
        manager().check_entry(&r, &rules()),
        Err(RejectReason::MinBalance)
    );
}

#[test]
fn portfolio_risk_above_five_percent_is_rejected() {
    let cfg = RiskConfig {
        max_positions: 3,
        ..RiskConfig::default()
    };
    let mut m = RiskManager::new(cfg, SizingConfig::default(), 10_000.0);
    let mut r = req();
    r.open_positions = 1;
    r.open_risk = 401.0; // + 100 > 500
    assert_eq!(
        m.check_entry(&r, &rules()),
        Err(RejectReason::PortfolioRisk)
    );
    r.open_risk = 400.0;
    assert!(m.check_entry(&r, &rules()).is_ok());
}

#[test]
fn streak_multiplier_uses_the_last_entry_for_long_streaks() {
    assert_eq!(streak_multiplier(&[1.0, 2.0], 5), 2.0);
    assert_eq!(streak_multiplier(&[], 0), 1.0);
}

#[test]
fn a_reload_takes_limits_and_sizing_keeps_state_and_file_paths_and_allocates_nothing() {
    let mut m = manager();
    m.on_trade_closed(Money::from_f64(-1.0), TimestampNs(0));
    assert!(m.halt(HaltReason::Command));
    let mut risk = RiskConfig {
        max_positions: 4,
        min_balance: 50.0,
        stop_file: "elsewhere".into(),
        ..RiskConfig::default()
    };
    risk.cooldown_minutes = 1;
    let sizing = SizingConfig {
        base_risk_pct: 2.0,
        streak_multipliers: vec![1.0; MAX_STREAK_MULTIPLIERS],
    };
    assert!(m.multiplier_capacity() >= MAX_STREAK_MULTIPLIERS);
    let info = allocation_counter::measure(|| m.reload(&risk, &sizing));
    assert_eq!(
        info.count_total, 0,
        "a reload within capacity allocates nothing"
    );
    assert_eq!(m.config().max_positions, 4);
    assert!((m.config().min_balance - 50.0).abs() < 1e-12);
    assert_eq!(m.config().stop_file, RiskConfig::default().stop_file);
    assert!((m.sizing().base_risk_pct - 2.0).abs() < 1e-12);
    assert_eq!(m.sizing().streak_multipliers.len(), MAX_STREAK_MULTIPLIERS);
    assert_eq!(
        m.halted(),
        Some(HaltReason::Command),
        "the halt state stays"
    );
    assert_eq!(
        m.cooldown_until(),
        Some(TimestampNs(60 * NS_PER_MIN)),
        "a running cooldown keeps its end"
    );
}

#[test]
fn a_reloaded_base_risk_changes_the_size_and_a_min_balance_rejects() {
    let mut m = manager();
    let before = m.check_entry(&req(), &rules()).unwrap().qty;
    let sizing = SizingConfig {
        base_risk_pct: 0.5,
        ..SizingConfig::default()
    };
    m.reload(&RiskConfig::default(), &sizing);
    let after = m.check_entry(&req(), &rules()).unwrap().qty;
    assert!(after < before, "{after:?} vs {before:?}");
    let risk = RiskConfig {
        min_balance: 20_000.0,
        ..RiskConfig::default()
    };
    m.reload(&risk, &sizing);
    assert_eq!(
        m.check_entry(&req(), &rules()),
        Err(RejectReason::MinBalance)
    );
}
