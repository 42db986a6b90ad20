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
        &rules(),
    );
    assert_eq!(leg1, Money::from_f64(17.9));
    let leg2 = p.on_exit_fill(
        q(7.0),
        px(112.0),
        Money::from_f64(0.2),
        Money::ZERO,
        ExitReason::Target,
        TimestampNs(7_200_000_000_000),
        &rules(),
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
        &rules(),
    );
    assert_eq!(leg, Money::from_f64(30.0));
    assert!((p.closed_trade().r_multiple - 1.0).abs() < 1e-9);
}

/// BTC-USDT rules of the demo: tick 0.1, step and minimum 0.0001.
fn btc_rules() -> InstrumentRules {
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step: DecimalStep::from_precision(4),
        min_qty: Qty::from_decimal(1, 4).unwrap(),
        min_notional: Price::from_f64(2.0).unwrap(),
    }
}

/// `steps` quantity steps of 0.0001, as the decimal parsers build it.
fn steps4(steps: i64) -> Qty {
    Qty::from_decimal(steps, 4).unwrap()
}

/// What the exchange makes of an order quantity: the request writes it
/// rounded down to the step as decimal text, the exchange's reply and user
/// stream give that text back, parsed exactly.
fn wire(qty: Qty, rules: &InstrumentRules) -> Qty {
    let mut buf = [0u8; 48];
    let text = rules
        .round_qty(qty)
        .write_decimal(rules.step.decimals(), &mut buf)
        .unwrap();
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let mantissa: i64 = format!("{int}{frac}").parse().unwrap();
    Qty::from_decimal(mantissa, frac.len() as u32).unwrap()
}

/// A short of `qty` at 43 570.5 with R = 432 and the target at 5R.
fn btc_short(qty: Qty, rules: &InstrumentRules) -> Position {
    let mut p = Position::pending(
        PositionId(12),
        SymbolId(0),
        StrategyId(1),
        Side::Sell,
        qty,
        432.0,
        5.0 * 432.0,
        OrderId(12),
        TimestampNs(0),
    );
    p.on_entry_fill(
        wire(qty, rules),
        px(43_570.5),
        Money::ZERO,
        Money::ZERO,
        TimestampNs(0),
        rules,
    );
    p
}

fn exit(p: &mut Position, qty: Qty, rules: &InstrumentRules) {
    p.on_exit_fill(
        qty,
        px(42_000.0),
        Money::ZERO,
        Money::ZERO,
        ExitReason::Partial,
        TimestampNs(1),
        rules,
    );
}

#[test]
fn demo_leftover_regression_short_0_2317_exits_0_0695_0_0926_then_exactly_0_0696_and_is_flat() {
    // The 6000x demo: the target leg was 0.2317 - 0.0695 - 0.0926 one bit
    // below 0.0696, sent as 0.0695, and 0.0001 stayed open on both sides.
    let rules = btc_rules();
    let mut p = btc_short(steps4(2317), &rules);
    let plan = p.exit_plan(&ManagementConfig::default(), &rules);
    let legs: Vec<Qty> = plan.legs.iter().map(|l| l.unwrap().qty).collect();
    assert_eq!(legs, vec![steps4(695), steps4(926), steps4(696)]);
    for leg in &legs {
        assert_eq!(wire(*leg, &rules), *leg, "a leg is sent as it is");
    }
    exit(&mut p, wire(legs[0], &rules), &rules);
    exit(&mut p, wire(legs[1], &rules), &rules);
    assert_eq!(p.open_qty, steps4(696), "the stop covers exactly the rest");
    assert_eq!(wire(p.open_qty, &rules), steps4(696));
    exit(&mut p, wire(legs[2], &rules), &rules);
    assert!(p.open_qty.is_zero(), "left open: {:?}", p.open_qty);
}

#[test]
fn exit_fills_a_bit_off_the_grid_leave_the_exact_grid_remainder_and_no_dust() {
    let rules = btc_rules();
    let mut p = btc_short(steps4(696), &rules);
    exit(&mut p, Qty::from_bits(steps4(695).to_bits() - 1), &rules);
    assert_eq!(p.open_qty, steps4(1));
    assert_eq!(wire(p.open_qty, &rules), steps4(1), "closable: 0.0001");
    exit(&mut p, Qty::from_bits(steps4(1).to_bits() - 1), &rules);
    assert!(p.open_qty.is_zero());
}

#[test]
fn partials_below_the_minimum_or_leaving_less_than_it_merge_into_the_target() {
    let rules = InstrumentRules {
        min_qty: q(0.01),
        ..rules()
    };
    let m = ManagementConfig::default();
    // 30 % of 0.02 is 0.006 and 40 % is 0.008: both below 0.01.
    let plan = btc_short(q(0.02), &rules).exit_plan(&m, &rules);
    assert_eq!(plan.legs[0], None);
    assert_eq!(plan.legs[1], None);
    assert_eq!(plan.legs[2].unwrap().qty, rules.snap_qty(q(0.02)));
    // 50 % then 45 % of 0.1 would leave 0.005 for the target.
    let m = ManagementConfig {
        partial1_fraction: 0.5,
        partial2_fraction: 0.45,
        ..m
    };
    let plan = btc_short(q(0.1), &rules).exit_plan(&m, &rules);
    let qty = |k: usize| plan.legs[k].map(|l| rules.snap_qty(l.qty));
    assert_eq!(qty(0), Some(rules.snap_qty(q(0.05))));
    assert_eq!(qty(1), None);
    assert_eq!(qty(2), Some(rules.snap_qty(q(0.05))));
}

mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_exit_legs_sent_as_decimal_text_close_exactly_the_entry(
            entry_steps in 1i64..200_000,
            f1 in 0.05f64..0.5,
            f2 in 0.05f64..0.5,
        ) {
            let rules = btc_rules();
            let m = ManagementConfig {
                partial1_fraction: f1,
                partial2_fraction: f2,
                ..ManagementConfig::default()
            };
            let mut p = btc_short(steps4(entry_steps), &rules);
            let plan = p.exit_plan(&m, &rules);
            let mut sum = 0i64;
            for leg in plan.legs.iter().flatten() {
                let sent = wire(leg.qty, &rules);
                prop_assert_eq!(sent, leg.qty);
                sum += rules.step.steps(sent.0, Rounding::Nearest);
                exit(&mut p, sent, &rules);
            }
            prop_assert_eq!(sum, entry_steps);
            prop_assert!(p.open_qty.is_zero(), "left open: {:?}", p.open_qty);
        }
    }
}
