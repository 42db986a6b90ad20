//! Scenario tests of the core: lifecycle, exits, risk and commands, driven
//! through the simulated exchange on 1m candles like a backtest.

use super::*;
use crate::config::Config;
use crate::fill_model::{FillModel, MarketFill};
use crate::orders::{OrderKind, OrderPurpose};
use crate::positions::Position;
use crate::strategy::{MarketView, Strategy};
use crate::types::{DecimalStep, InstrumentRules, Side, NS_PER_MIN};

/// Signals `side` on the candles whose minute index is listed, with R = 3
/// and the given target distance.
#[derive(Debug)]
pub(super) struct Script {
    pub(super) side: Side,
    pub(super) minutes: Vec<i64>,
    pub(super) target: f64,
    pub(super) confidence: f64,
}

impl Strategy for Script {
    fn name(&self) -> &'static str {
        match self.side {
            Side::Buy => "mtf_long",
            Side::Sell => "trend_distance_short",
        }
    }

    fn evaluate(&self, v: &MarketView<'_>) -> Option<Signal> {
        let minute = v.c1.open_time.0 / NS_PER_MIN;
        self.minutes.contains(&minute).then(|| Signal {
            strategy: StrategyId(0),
            symbol: v.symbol,
            side: self.side,
            confidence: self.confidence,
            price: v.c1.close,
            atr: 1.0,
            stop_distance: 3.0,
            target_distance: self.target,
            ts: v.c1.open_time.add_ns(NS_PER_MIN),
        })
    }
}

pub(super) fn rules() -> InstrumentRules {
    InstrumentRules {
        tick: DecimalStep::from_precision(2),
        step: DecimalStep::from_precision(3),
        min_qty: Qty::from_f64(0.001).unwrap(),
        min_notional: Price::from_f64(1.0).unwrap(),
    }
}

pub(super) fn long(minutes: &[i64]) -> Box<dyn Strategy> {
    Box::new(Script {
        side: Side::Buy,
        minutes: minutes.to_vec(),
        target: 12.0,
        confidence: 0.5,
    })
}

pub(super) fn short(minutes: &[i64]) -> Box<dyn Strategy> {
    Box::new(Script {
        side: Side::Sell,
        minutes: minutes.to_vec(),
        target: 15.0,
        confidence: 0.5,
    })
}

/// A core and a klines simulator with zero fees and slippage (unless set).
pub(super) struct Bench {
    pub(super) core: Core,
    pub(super) sim: FillModel,
    pub(super) records: Vec<Record>,
    pub(super) places: Vec<OrderIntent>,
}

impl Bench {
    pub(super) fn new(cfg: &Config, strategies: Vec<Box<dyn Strategy>>) -> Self {
        Self {
            core: Core::try_with_strategies(cfg, &[rules()], strategies).unwrap(),
            sim: FillModel::new(&cfg.simulator, 1, MarketFill::LastClose),
            records: Vec::new(),
            places: Vec::new(),
        }
    }

    pub(super) fn free(strategies: Vec<Box<dyn Strategy>>) -> Self {
        let mut cfg = Config::default();
        cfg.simulator.taker_fee_bps = 0.0;
        cfg.simulator.slippage_bps = 0.0;
        Self::new(&cfg, strategies)
    }

    pub(super) fn dispatch(&mut self, e: Event) {
        let mut queue = std::collections::VecDeque::from([e]);
        while let Some(e) = queue.pop_front() {
            self.core.on_event(&e);
            while let Some(a) = self.core.next_action() {
                match a {
                    Action::Place(o) => {
                        self.places.push(o);
                        self.sim.submit(&o, &mut |e| queue.push_back(e));
                    }
                    Action::Cancel { order, .. } => {
                        self.sim.cancel(order, &mut |e| queue.push_back(e))
                    }
                    Action::Record(r) => self.records.push(r),
                    Action::Log(_) => {}
                }
            }
        }
    }

    /// Feeds the 1m candle of minute `m` to the simulator, then the core.
    pub(super) fn candle(&mut self, m: i64, o: f64, h: f64, l: f64, c: f64) {
        let candle = Candle {
            symbol: SymbolId(0),
            open_time: TimestampNs(m * NS_PER_MIN),
            open: Price::from_f64(o).unwrap(),
            high: Price::from_f64(h).unwrap(),
            low: Price::from_f64(l).unwrap(),
            close: Price::from_f64(c).unwrap(),
            volume: Qty::from_f64(10.0).unwrap(),
            trade_count: 10,
        };
        let mut queue = Vec::new();
        self.sim.on_candle(&candle, &mut |e| queue.push(e));
        for e in queue {
            self.dispatch(e);
        }
        self.dispatch(Event::Candle(candle));
    }

    pub(super) fn flat(&mut self, m: i64, p: f64) {
        self.candle(m, p, p, p, p);
    }

    pub(super) fn trades(&self) -> Vec<ClosedTrade> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::TradeClosed(t) => Some(*t),
                _ => None,
            })
            .collect()
    }

    pub(super) fn transitions(&self) -> Vec<(Option<PositionState>, PositionState)> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Transition { from, to, .. } => Some((*from, *to)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn rejections(&self) -> Vec<RejectReason> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::RiskRejected { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect()
    }

    pub(super) fn position(&self) -> Option<Position> {
        self.core.position(SymbolId(0)).copied()
    }
}

use PositionState::{Closed, Closing, Open, Pending};

#[test]
fn long_stopped_out_goes_pending_open_closed_with_reason_stop() {
    let mut b = Bench::free(vec![long(&[0])]);
    b.flat(0, 100.0);
    let p = b.position().unwrap();
    assert_eq!(
        (p.state, p.stop.to_f64(), p.target.to_f64()),
        (Open, 97.0, 112.0)
    );
    // entry, stop, partial 1 (30% at 2R) and target (70% at 4R)
    let kinds: Vec<_> = b.places.iter().map(|o| o.purpose).collect();
    assert_eq!(
        kinds,
        [
            OrderPurpose::Entry,
            OrderPurpose::Stop,
            OrderPurpose::Partial1,
            OrderPurpose::Target
        ]
    );
    b.candle(1, 100.0, 101.0, 96.0, 96.5);
    assert!(b.position().is_none());
    let t = b.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].exit_reason, ExitReason::Stop);
    // 1% of 10000 = 100 risk / R 3 = 33.333; margin 3333 < 4000
    assert_eq!(t[0].qty, Qty::from_decimal(33_333, 3).unwrap());
    assert!((t[0].r_multiple + 1.0).abs() < 1e-6);
    assert_eq!(
        b.transitions(),
        [(None, Pending), (Some(Pending), Open), (Some(Open), Closed)]
    );
    assert_eq!(b.core.cash(), b.core.initial_equity() + t[0].pnl);
}

#[test]
fn rejected_entry_goes_pending_to_closed_without_a_trade() {
    let mut core =
        Core::try_with_strategies(&Config::default(), &[rules()], vec![long(&[0])]).unwrap();
    let c = Candle {
        symbol: SymbolId(0),
        open_time: TimestampNs(0),
        open: Price::from_f64(100.0).unwrap(),
        high: Price::from_f64(100.0).unwrap(),
        low: Price::from_f64(100.0).unwrap(),
        close: Price::from_f64(100.0).unwrap(),
        volume: Qty::from_f64(1.0).unwrap(),
        trade_count: 1,
    };
    core.on_event(&Event::Candle(c));
    let mut entry = None;
    while let Some(a) = core.next_action() {
        if let Action::Place(o) = a {
            entry = Some(o.id);
        }
    }
    assert_eq!(core.position(SymbolId(0)).unwrap().state, Pending);
    core.on_event(&Event::Rejected {
        order: entry.unwrap(),
        ts: TimestampNs(NS_PER_MIN),
    });
    assert!(core.position(SymbolId(0)).is_none());
    let mut saw = false;
    while let Some(a) = core.next_action() {
        if let Action::Record(Record::Transition { from, to, .. }) = a {
            assert_eq!((from, to), (Some(Pending), Closed));
            saw = true;
        }
        assert!(!matches!(a, Action::Record(Record::TradeClosed(_))));
    }
    assert!(saw);
    assert_eq!(core.cash(), core.initial_equity());
}

#[test]
fn partial_entry_fills_add_up_before_protection_covers_the_total() {
    let mut core =
        Core::try_with_strategies(&Config::default(), &[rules()], vec![long(&[0])]).unwrap();
    let c = Candle {
        symbol: SymbolId(0),
        open_time: TimestampNs(0),
        open: Price::from_f64(100.0).unwrap(),
        high: Price::from_f64(100.0).unwrap(),
        low: Price::from_f64(100.0).unwrap(),
        close: Price::from_f64(100.0).unwrap(),
        volume: Qty::from_f64(1.0).unwrap(),
        trade_count: 1,
    };
    core.on_event(&Event::Candle(c));
    let mut entry = None;
    while let Some(a) = core.next_action() {
        if let Action::Place(o) = a {
            entry = Some(o);
        }
    }
    let entry = entry.unwrap();
    let fill = |qty: f64, ts: i64| {
        Event::Fill(crate::orders::Fill {
            order: entry.id,
            symbol: SymbolId(0),
            qty: Qty::from_f64(qty).unwrap(),
            price: Price::from_f64(100.0).unwrap(),
            fee: Money::ZERO,
            slippage: Money::ZERO,
            ts: TimestampNs(ts),
        })
    };
    core.on_event(&fill(10.0, 1));
    let p = *core.position(SymbolId(0)).unwrap();
    assert_eq!((p.state, p.open_qty.to_f64()), (Open, 10.0));
    assert_eq!(p.entry_order, Some(entry.id), "still waiting for the rest");
    while core.next_action().is_some() {}
    core.on_event(&fill(entry.qty.to_f64() - 10.0, 2));
    let p = *core.position(SymbolId(0)).unwrap();
    assert_eq!(p.open_qty, entry.qty);
    assert_eq!(p.entry_order, None);
    let mut stop_qty = None;
    while let Some(a) = core.next_action() {
        if let Action::Place(o) = a {
            if o.purpose == OrderPurpose::Stop {
                stop_qty = Some(o.qty);
            }
        }
    }
    assert_eq!(stop_qty, Some(entry.qty));
}

#[test]
fn partial_at_2r_moves_stop_to_breakeven_and_a_return_stops_out_at_it() {
    let mut cfg = Config::default();
    cfg.simulator.slippage_bps = 0.0;
    let mut b = Bench::new(&cfg, vec![long(&[0])]);
    b.flat(0, 100.0);
    b.candle(1, 100.0, 106.5, 100.0, 106.0);
    let p = b.position().unwrap();
    assert!(p.partial1_done);
    // 100 + 2 * 0.0005 * 100 = 100.1
    assert!((p.stop.to_f64() - 100.1).abs() < 1e-6, "{:?}", p.stop);
    assert!(b.records.iter().any(|r| matches!(
        r,
        Record::StopMoved {
            why: StopMove::BreakEven,
            ..
        }
    )));
    b.candle(2, 106.0, 106.0, 99.0, 99.0);
    let t = b.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].exit_reason, ExitReason::Stop);
    assert_eq!(t[0].exits, 2);
    assert!(
        t[0].pnl.is_positive(),
        "partial profit and a fee-covering stop: {:?}",
        t[0].pnl
    );
}

#[test]
fn long_reaching_4r_closes_30_percent_then_70_percent_at_target() {
    let mut b = Bench::free(vec![long(&[0])]);
    b.flat(0, 100.0);
    b.candle(1, 100.0, 112.5, 100.0, 112.0);
    let t = b.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].exit_reason, ExitReason::Target);
    assert_eq!(t[0].exits, 2);
    // 0.3 * 2R + 0.7 * 4R = 3.4R
    assert!((t[0].r_multiple - 3.4).abs() < 1e-3, "{}", t[0].r_multiple);
}

#[test]
fn short_trails_from_3r_and_exits_on_the_trailing_stop() {
    let mut b = Bench::free(vec![short(&[0])]);
    b.flat(0, 100.0);
    // partial 1 at 94 (2R), then a low of 91 (3R): trail at 91 + 4.5 = 95.5
    b.candle(1, 100.0, 100.0, 91.0, 92.0);
    let p = b.position().unwrap();
    assert_eq!(p.stop.to_f64(), 95.5);
    assert!(p.trailed);
    // low 85.5 (4.83R): partial 2 at 88 (4R); trail at 85.5 + 4.5 = 90
    b.candle(2, 92.0, 92.0, 85.5, 86.0);
    assert_eq!(b.position().unwrap().stop.to_f64(), 90.0);
    b.candle(3, 86.0, 91.0, 86.0, 91.0);
    let t = b.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].exit_reason, ExitReason::TrailingStop);
    assert_eq!(t[0].exits, 3);
    let reasons: Vec<_> = b
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Exit { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ExitReason::Partial,
            ExitReason::Partial,
            ExitReason::TrailingStop
        ]
    );
}

#[test]
fn trailing_tightens_to_1r_from_5r() {
    let mut b = Bench::free(vec![short(&[0])]);
    b.flat(0, 100.0);
    b.candle(1, 100.0, 100.0, 84.5, 86.0); // target 85 (5R) hit: closes
    assert_eq!(b.trades()[0].exit_reason, ExitReason::Target);
    let mut b = Bench::free(vec![Box::new(Script {
        side: Side::Sell,
        minutes: vec![0],
        target: 30.0,
        confidence: 0.5,
    })]);
    b.flat(0, 100.0);
    b.candle(1, 100.0, 100.0, 84.0, 86.0); // 5.33R, target at 70
    assert_eq!(b.position().unwrap().stop.to_f64(), 87.0);
}

#[test]
fn cooldown_after_a_loss_rejects_the_next_entry() {
    let mut b = Bench::free(vec![long(&[0, 5, 70])]);
    b.flat(0, 100.0);
    b.candle(1, 100.0, 100.0, 96.0, 96.0);
    for m in 2..=70 {
        b.flat(m, 96.0);
    }
    assert_eq!(b.rejections(), [RejectReason::Cooldown]);
    assert!(
        b.position().is_some(),
        "60 minutes later it may enter again"
    );
}

#[test]
fn halt_command_blocks_entries_until_resume() {
    let mut b = Bench::free(vec![long(&[1, 3])]);
    b.flat(0, 100.0);
    b.dispatch(Event::Control {
        command: Command::Halt,
        ts: TimestampNs(NS_PER_MIN),
    });
    assert_eq!(b.core.halted(), Some(HaltReason::Command));
    b.flat(1, 100.0);
    assert_eq!(b.rejections(), [RejectReason::Halted]);
    b.dispatch(Event::Control {
        command: Command::Resume,
        ts: TimestampNs(2 * NS_PER_MIN),
    });
    b.flat(3, 100.0);
    assert!(b.position().is_some());
}

#[test]
fn kill_switch_halts_and_flattens_when_configured() {
    let mut cfg = Config::default();
    cfg.simulator.taker_fee_bps = 0.0;
    cfg.simulator.slippage_bps = 0.0;
    cfg.risk.max_drawdown_pct = 0.5;
    cfg.risk.flatten_on_halt = true;
    let mut b = Bench::new(&cfg, vec![long(&[0])]);
    b.flat(0, 100.0);
    // 33.333 units: -1.6 per unit = -53 = 0.53% of equity, stop not reached
    b.candle(1, 100.0, 100.0, 98.4, 98.4);
    assert_eq!(b.core.halted(), Some(HaltReason::KillSwitch));
    let t = b.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].exit_reason, ExitReason::Emergency);
}

#[test]
fn emergency_stop_halts_and_flattens() {
    let mut b = Bench::free(vec![long(&[0])]);
    b.flat(0, 100.0);
    b.dispatch(Event::Control {
        command: Command::EmergencyStop,
        ts: TimestampNs(NS_PER_MIN),
    });
    assert_eq!(b.core.halted(), Some(HaltReason::StopFile));
    assert_eq!(b.trades()[0].exit_reason, ExitReason::Emergency);
    assert!(b.transitions().contains(&(Some(Open), Closing)));
}

#[test]
fn flatten_command_closes_with_reason_manual_and_shutdown_with_shutdown() {
    let mut b = Bench::free(vec![long(&[0, 2])]);
    b.flat(0, 100.0);
    b.flat(1, 101.0);
    b.dispatch(Event::Control {
        command: Command::Flatten,
        ts: TimestampNs(2 * NS_PER_MIN),
    });
    assert_eq!(b.trades()[0].exit_reason, ExitReason::Manual);
    b.flat(2, 100.0);
    b.dispatch(Event::Control {
        command: Command::Shutdown,
        ts: TimestampNs(3 * NS_PER_MIN),
    });
    assert_eq!(b.trades()[1].exit_reason, ExitReason::Shutdown);
    assert!(b.position().is_none());
}

#[test]
fn higher_confidence_wins_and_ties_go_to_config_order() {
    let hi = Box::new(Script {
        side: Side::Sell,
        minutes: vec![0],
        target: 15.0,
        confidence: 0.9,
    });
    let mut b = Bench::free(vec![long(&[0]), hi]);
    b.flat(0, 100.0);
    assert_eq!(b.position().unwrap().side, Side::Sell);
    let mut b = Bench::free(vec![long(&[0]), short(&[0])]);
    b.flat(0, 100.0);
    assert_eq!(b.position().unwrap().side, Side::Buy);
    assert!(b.records.iter().any(|r| matches!(
        r,
        Record::SignalDropped {
            reason: crate::signals::DropReason::Outranked,
            ..
        }
    )));
}

#[test]
fn signal_while_open_is_dropped_and_opposite_is_no_hedge() {
    let mut b = Bench::free(vec![long(&[0, 1]), short(&[2])]);
    b.flat(0, 100.0);
    b.flat(1, 100.0);
    b.flat(2, 100.0);
    let drops: Vec<_> = b
        .records
        .iter()
        .filter_map(|r| match r {
            Record::SignalDropped { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    use crate::signals::DropReason;
    assert_eq!(
        drops,
        [DropReason::PositionOpen, DropReason::OppositePosition]
    );
}

#[test]
fn stop_order_is_replaced_with_cancel_and_new_when_trailing() {
    let mut b = Bench::free(vec![long(&[0])]);
    b.flat(0, 100.0);
    b.candle(1, 100.0, 109.0, 100.0, 108.0);
    let stops: Vec<_> = b
        .places
        .iter()
        .filter(|o| o.purpose == OrderPurpose::Stop)
        .map(|o| match o.kind {
            OrderKind::StopMarket { trigger } => trigger.to_f64(),
            _ => 0.0,
        })
        .collect();
    // initial, break-even after partial 1 (fees 0), trailing at 3R - 1.5R
    assert_eq!(stops, [97.0, 100.0, 104.5]);
    assert_eq!(b.sim.resting_orders(), 2, "one stop and the target");
}

#[test]
fn steady_state_candles_and_trades_do_not_allocate() {
    let mut core = Core::try_new(&Config::default(), &[rules()]).unwrap();
    let mut k = 0i64;
    let step = |core: &mut Core, k: &mut i64| {
        let p = 100.0 + (*k % 17) as f64 * 0.1;
        let t = crate::types::Trade {
            symbol: SymbolId(0),
            trade_id: *k as u64,
            price: Price::from_f64(p).unwrap(),
            qty: Qty::from_f64(0.5).unwrap(),
            exchange_ts: TimestampNs(*k * 7 * crate::types::NS_PER_SEC),
            aggressor: Side::Buy,
        };
        core.on_event(&Event::Trade(t));
        while core.next_action().is_some() {}
        *k += 1;
    };
    for _ in 0..5_000 {
        step(&mut core, &mut k);
    }
    let info = allocation_counter::measure(|| {
        for _ in 0..20_000 {
            step(&mut core, &mut k);
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    assert!(core.stats().candles_1m > 2_000);
}

/// Records every stage boundary the core reports.
#[derive(Debug, Default)]
struct Boundaries(Vec<Stage>);

impl StageProbe for Boundaries {
    fn enter(&mut self, stage: Stage) {
        self.0.push(stage);
    }
}

#[test]
fn probe_sees_indicators_then_strategies_on_a_candle_that_is_evaluated() {
    let mut b = Bench::free(vec![long(&[])]);
    let candle = Candle {
        symbol: SymbolId(0),
        open_time: TimestampNs(5 * NS_PER_MIN),
        open: Price::from_f64(100.0).unwrap(),
        high: Price::from_f64(101.0).unwrap(),
        low: Price::from_f64(99.0).unwrap(),
        close: Price::from_f64(100.5).unwrap(),
        volume: Qty::from_f64(10.0).unwrap(),
        trade_count: 10,
    };
    let mut probe = Boundaries::default();
    b.core.on_event_probed(&Event::Candle(candle), &mut probe);
    let first_ind = probe.0.iter().position(|s| *s == Stage::CandlesIndicators);
    let last_strat = probe.0.iter().rposition(|s| *s == Stage::StrategiesRisk);
    assert_eq!(first_ind, Some(0), "{:?}", probe.0);
    assert!(last_strat > first_ind, "{:?}", probe.0);
    assert_eq!(
        probe.0.last(),
        Some(&Stage::StrategiesRisk),
        "{:?}",
        probe.0
    );

    // An unknown symbol does no pipeline work: no boundary at all.
    let mut none = Boundaries::default();
    let mut other = candle;
    other.symbol = SymbolId(7);
    b.core.on_event_probed(&Event::Candle(other), &mut none);
    assert!(none.0.is_empty(), "{:?}", none.0);
}
