use super::*;
use crate::types::DecimalStep;

fn rules() -> InstrumentRules {
    InstrumentRules {
        tick: DecimalStep::from_precision(2),
        step: DecimalStep::from_precision(3),
        min_qty: Qty::from_f64(0.001).unwrap(),
        min_notional: Price::from_f64(1.0).unwrap(),
    }
}

fn px(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

fn q(v: f64) -> Qty {
    Qty::from_f64(v).unwrap()
}

/// A long of 10 at 100 with R = 3 (ATR 1 x 3) and target 12 (4R).
fn long() -> Position {
    let mut p = Position::pending(
        PositionId(1),
        SymbolId(0),
        StrategyId(0),
        Side::Buy,
        q(10.0),
        3.0,
        12.0,
        OrderId(1),
        TimestampNs(0),
    );
    p.on_entry_fill(
        q(10.0),
        px(100.0),
        Money::from_f64(0.5),
        Money::ZERO,
        TimestampNs(0),
        &rules(),
    );
    p
}

/// A short of 10 at 100 with R = 3 and target 15 (5R).
fn short() -> Position {
    let mut p = Position::pending(
        PositionId(2),
        SymbolId(0),
        StrategyId(1),
        Side::Sell,
        q(10.0),
        3.0,
        15.0,
        OrderId(1),
        TimestampNs(0),
    );
    p.on_entry_fill(
        q(10.0),
        px(100.0),
        Money::ZERO,
        Money::ZERO,
        TimestampNs(0),
        &rules(),
    );
    p
}

#[test]
fn entry_fill_opens_with_stop_and_target_from_atr_multiples() {
    let p = long();
    assert_eq!(p.state, PositionState::Open);
    assert_eq!(p.stop, px(97.0));
    assert_eq!(p.target, px(112.0));
    let s = short();
    assert_eq!(s.stop, px(103.0));
    assert_eq!(s.target, px(85.0));
}

#[test]
fn partial_entry_fills_add_up_and_average_the_price() {
    let mut p = Position::pending(
        PositionId(1),
        SymbolId(0),
        StrategyId(0),
        Side::Buy,
        q(10.0),
        3.0,
        12.0,
        OrderId(1),
        TimestampNs(0),
    );
    p.on_entry_fill(
        q(4.0),
        px(100.0),
        Money::ZERO,
        Money::ZERO,
        TimestampNs(5),
        &rules(),
    );
    assert_eq!(p.state, PositionState::Open);
    p.on_entry_fill(
        q(6.0),
        px(105.0),
        Money::ZERO,
        Money::ZERO,
        TimestampNs(9),
        &rules(),
    );
    assert_eq!(p.open_qty, q(10.0));
    assert!((p.entry_price - 103.0).abs() < 1e-9);
    assert_eq!(p.entry_ts, TimestampNs(5));
    assert_eq!(p.stop, px(100.0));
}

#[test]
fn long_plan_closes_thirty_percent_at_2r_and_seventy_at_the_4r_target() {
    let plan = long().exit_plan(&ManagementConfig::default(), &rules());
    let p1 = plan.legs[0].unwrap();
    assert_eq!((p1.trigger, p1.qty), (px(106.0), q(3.0)));
    assert!(
        plan.legs[1].is_none(),
        "partial 2 at 4R merges into the 4R target"
    );
    let t = plan.legs[2].unwrap();
    assert_eq!((t.trigger, t.qty), (px(112.0), q(7.0)));
}

#[test]
fn short_plan_closes_30_40_30_at_2r_4r_5r() {
    let plan = short().exit_plan(&ManagementConfig::default(), &rules());
    let legs: Vec<_> = plan
        .legs
        .iter()
        .map(|l| l.map(|l| (l.trigger, l.qty)))
        .collect();
    assert_eq!(
        legs,
        [
            Some((px(94.0), q(3.0))),
            Some((px(88.0), q(4.0))),
            Some((px(85.0), q(3.0)))
        ]
    );
}

#[test]
fn breakeven_moves_the_stop_to_entry_plus_round_trip_fees() {
    let mut p = long();
    let m = ManagementConfig::default();
    assert_eq!(p.breakeven(&m, 0.0005, &rules()), Some(px(100.1)));
    let mut m2 = m.clone();
    m2.breakeven_includes_fees = false;
    let mut p2 = long();
    assert_eq!(p2.breakeven(&m2, 0.0005, &rules()), Some(px(100.0)));
    let mut s = short();
    assert_eq!(s.breakeven(&m, 0.0005, &rules()), Some(px(99.9)));
}

#[test]
fn trailing_starts_at_3r_with_1_5r_then_5r_with_1r() {
    let m = ManagementConfig::default();
    let mut p = long();
    assert_eq!(p.trail(108.9, &m, &rules()), None, "below 3R no trailing");
    assert_eq!(p.trail(109.0, &m, &rules()), Some(px(104.5)));
    assert!(p.trailed);
    assert_eq!(p.trail(115.0, &m, &rules()), Some(px(112.0)));
    assert_eq!(p.stop_reason(), ExitReason::TrailingStop);
    let mut s = short();
    assert_eq!(s.trail(91.0, &m, &rules()), Some(px(95.5)));
}

#[test]
fn stop_never_loosens_when_price_falls_back() {
    let m = ManagementConfig::default();
    let mut p = long();
    p.trail(115.0, &m, &rules());
    let stop = p.stop;
    assert_eq!(p.trail(101.0, &m, &rules()), None);
    assert_eq!(p.stop, stop);
    assert_eq!(
        p.breakeven(&m, 0.0005, &rules()),
        None,
        "break-even is looser now"
    );
}

#[test]
fn exit_legs_give_exact_pnl_with_fees_and_r_multiple() {
    let mut p = long();
    let leg1 = p.on_exit_fill(
        q(3.0),
        px(106.0),
        Money::from_f64(0.1),
        Money::ZERO,
        ExitReason::Partial,
        TimestampNs(3_600_000_000_000),
    );
    assert_eq!(leg1, Money::from_f64(17.9));
    let leg2 = p.on_exit_fill(
        q(7.0),
        px(112.0),
        Money::from_f64(0.2),
        Money::ZERO,
        ExitReason::Target,
        TimestampNs(7_200_000_000_000),
    );
    assert_eq!(leg2, Money::from_f64(83.8));
    assert!(p.open_qty.is_zero());
    let t = p.closed_trade();
    assert_eq!(t.pnl, Money::from_f64(-0.5) + leg1 + leg2);
    assert_eq!(t.fees, Money::from_f64(0.8));
    assert!((t.r_multiple - 101.2 / 30.0).abs() < 1e-9);
    assert!((t.hours_held - 2.0).abs() < 1e-12);
    assert_eq!(t.exit_reason, ExitReason::Target);
    assert_eq!(t.exits, 2);
    assert!((t.avg_exit_price.to_f64() - 110.2).abs() < 1e-6);
}

#[test]
fn short_pnl_is_positive_when_price_falls() {
    let mut p = short();
    let leg = p.on_exit_fill(
        q(10.0),
        px(97.0),
        Money::ZERO,
        Money::ZERO,
        ExitReason::Manual,
        TimestampNs(1),
    );
    assert_eq!(leg, Money::from_f64(30.0));
    assert!((p.closed_trade().r_multiple - 1.0).abs() < 1e-9);
}
