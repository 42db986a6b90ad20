//! Criterion micro-benchmarks of the pipeline stages after parsing:
//!
//! * `candle_update/on_trade_same_minute`: `CandleBuilder::on_trade` folding a
//!   trade into the open 1m candle (the common case);
//!   `candle_update/on_trade_closing_minute`: a trade that opens a new
//!   minute, closing the 1m candle (and every fifth time a 5m candle).
//! * `strategy_eval/{mtf_long,trend_distance_short,both}`: the configured
//!   strategies evaluated on real market views: 1m and 5m candles of the
//!   BTCUSDT reference file with the values of the indicators the
//!   strategies declare after them (warm).
//! * `risk_check/{accepted,rejected_stale}`: `RiskManager::check_entry`
//!   sizing an accepted entry, and the early stale-data rejection.
//! * `position_update/price_update`: `Core::on_event` for a trade while a
//!   position is open (stop, partials, trailing checked; no exit fires);
//!   `position_update/entry_fill`: the entry fill that opens the position
//!   and places the protective stop and targets (a fresh pending core per
//!   iteration, set up outside the timing).
//!
//! Run: `cargo bench -p bench --bench stages`.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark set-up on known-good data; a failure aborts the run"
)]

use std::hint::black_box;
use std::time::Duration;

use bench::hot_path::EveryCandleEntry;
use bench::indicator_input::{load_bars, BARS};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use trading_engine::candles::{CandleBuilder, CandleEvent};
use trading_engine::config::Config;
use trading_engine::core::{Action, Core, Event};
use trading_engine::indicators::{
    Declare, IndicatorLayout, IndicatorSet, IndicatorValues, Timeframe,
};
use trading_engine::money::Money;
use trading_engine::orders::{Fill, OrderPurpose};
use trading_engine::risk::{EntryRequest, RiskManager};
use trading_engine::strategy::{self, MarketView, Strategy, StrategyName};
use trading_engine::types::{
    Candle, DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId, TimestampNs, Trade,
    NS_PER_MIN,
};

/// 2020-02-22 00:00 UTC.
const T0: i64 = 1_582_329_600_000_000_000;

fn trade(price: f64, ts: i64) -> Trade {
    Trade {
        symbol: SymbolId(0),
        trade_id: 1,
        price: Price::from_f64(price).unwrap(),
        qty: Qty::from_f64(0.01).unwrap(),
        exchange_ts: TimestampNs(ts),
        aggressor: Side::Buy,
    }
}

fn rules() -> InstrumentRules {
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step: DecimalStep::from_precision(3),
        min_qty: Qty::from_f64(0.001).unwrap(),
        min_notional: Price::from_f64(5.0).unwrap(),
    }
}

fn candle_update(c: &mut Criterion) {
    let mut group = c.benchmark_group("candle_update");
    let prices: Vec<Trade> = (0..1024)
        .map(|i| trade(9_000.0 + (i % 17) as f64, T0 + 1_000))
        .collect();
    let mut b = CandleBuilder::new(SymbolId(0), 2_000_000_000);
    let mut closed = 0u32;
    b.on_trade(&prices[0], &mut |_| closed += 1);
    assert_eq!(closed, 0);
    let mut i = 0usize;
    group.bench_function("on_trade_same_minute", |bench| {
        bench.iter(|| {
            b.on_trade(black_box(&prices[i & 1023]), &mut |e| {
                black_box(e);
            });
            i = i.wrapping_add(1);
        });
    });
    let mut b = CandleBuilder::new(SymbolId(0), 2_000_000_000);
    let mut minute = 0i64;
    let mut closes = 0u64;
    // Open minute 0, so that the first timed trade already closes a candle.
    b.on_trade(&trade(9_000.0, T0), &mut |_| {});
    group.bench_function("on_trade_closing_minute", |bench| {
        bench.iter(|| {
            minute += 1;
            let t = trade(9_000.0 + (minute % 13) as f64, T0 + minute * NS_PER_MIN);
            b.on_trade(black_box(&t), &mut |e| {
                if matches!(e, CandleEvent::Closed1m(_)) {
                    closes += 1;
                }
                black_box(e);
            });
        });
    });
    assert!(
        closes > 0,
        "Invariant: a trade of a new minute closes the candle"
    );
    group.finish();
}

/// One market view's data: the closed 1m candle and its indicator values,
/// the last 5m candle and its values.
struct ViewData {
    c1: Candle,
    ind1: IndicatorValues,
    c5: Candle,
    ind5: IndicatorValues,
}

fn views(layout: &IndicatorLayout) -> Vec<ViewData> {
    let (bars, _) = load_bars();
    let mut one = IndicatorSet::try_new(layout, Timeframe::M1).unwrap();
    let mut five = IndicatorSet::try_new(layout, Timeframe::M5).unwrap();
    let mut out = Vec::with_capacity(BARS);
    let mut c5: Option<Candle> = None;
    let mut ind5 = five.values().clone();
    for (k, bar) in bars.iter().enumerate() {
        let open = bars[k.saturating_sub(1)].close;
        let c1 = Candle {
            symbol: SymbolId(0),
            open_time: TimestampNs(T0 + k as i64 * NS_PER_MIN),
            open: Price::from_f64(open).unwrap(),
            high: Price::from_f64(bar.high).unwrap(),
            low: Price::from_f64(bar.low).unwrap(),
            close: Price::from_f64(bar.close).unwrap(),
            volume: Qty::from_f64(bar.volume).unwrap(),
            trade_count: 1,
        };
        one.update(&c1);
        let agg = match c5 {
            Some(c) if k % 5 != 0 => Candle {
                high: c.high.max(c1.high),
                low: c.low.min(c1.low),
                close: c1.close,
                volume: c.volume.saturating_add(c1.volume),
                ..c
            },
            _ => c1,
        };
        c5 = Some(agg);
        if k % 5 == 4 {
            five.update(&agg);
            ind5 = five.values().clone();
        }
        out.push(ViewData {
            c1,
            ind1: one.values().clone(),
            c5: agg,
            ind5: ind5.clone(),
        });
    }
    out.retain(|v| v.ind1.is_warm() && v.ind5.is_warm());
    out
}

fn view(v: &ViewData) -> MarketView<'_> {
    MarketView {
        symbol: SymbolId(0),
        c1: &v.c1,
        ind1: &v.ind1,
        c5: Some(&v.c5),
        ind5: &v.ind5,
    }
}

fn strategy_eval(c: &mut Criterion) {
    let cfg = Config::default();
    let layout = strategy::layout(&cfg.strategies).unwrap();
    let built = |name: StrategyName| {
        let mut s = cfg.strategies.build_one(name);
        s.declare(&mut Declare::resolve(&layout));
        s
    };
    let long = built(StrategyName::MtfLong);
    let short = built(StrategyName::TrendDistanceShort);
    let data = views(&layout);
    assert!(data.len() > 1000, "Invariant: enough warm views");
    let signals = data
        .iter()
        .filter(|v| long.evaluate(&view(v)).is_some() || short.evaluate(&view(v)).is_some())
        .count();
    println!(
        "strategy_eval: {} warm views, {signals} with a signal",
        data.len()
    );
    let n = data.len();
    let mut group = c.benchmark_group("strategy_eval");
    let strategies: [(&str, &[&dyn Strategy]); 3] = [
        ("mtf_long", &[&*long]),
        ("trend_distance_short", &[&*short]),
        ("both", &[&*long, &*short]),
    ];
    for (name, set) in strategies {
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                let v = view(&data[i % n]);
                for s in set {
                    black_box(s.evaluate(black_box(&v)));
                }
                i = i.wrapping_add(1);
            });
        });
    }
    group.finish();
}

fn risk_check(c: &mut Criterion) {
    let cfg = Config::default();
    let mut risk = RiskManager::new(cfg.risk.clone(), cfg.sizing.clone(), 10_000.0);
    let rules = rules();
    let req = EntryRequest {
        price: Price::from_f64(9_650.0).unwrap(),
        stop_distance: 48.0,
        last_price: Some(Price::from_f64(9_652.0).unwrap()),
        last_data_ts: Some(TimestampNs(T0)),
        now: TimestampNs(T0 + 1_000_000),
        equity: 10_000.0,
        available: 10_000.0,
        open_positions: 0,
        open_risk: 0.0,
        leverage: 10.0,
        side: trading_engine::types::Side::Buy,
        liquidation: trading_engine::risk::liquidation::LiquidationRule {
            margin_type: trading_engine::config::MarginType::Isolated,
            leverage: 10.0,
            maintenance_margin_rate: 0.004,
        },
    };
    assert!(risk.check_entry(&req, &rules).is_ok());
    let stale = EntryRequest {
        now: TimestampNs(T0 + 3_600 * 1_000_000_000),
        ..req
    };
    assert!(risk.check_entry(&stale, &rules).is_err());
    let mut group = c.benchmark_group("risk_check");
    group.bench_function("accepted", |b| {
        b.iter(|| black_box(risk.check_entry(black_box(&req), &rules)));
    });
    group.bench_function("rejected_stale", |b| {
        b.iter(|| black_box(risk.check_entry(black_box(&stale), &rules)));
    });
    group.finish();
}

/// A core with the scripted entry strategy whose first entry is pending;
/// returns it with the entry intent.
fn pending_core() -> (Core, trading_engine::orders::OrderIntent) {
    let cfg = Config::default();
    let mut core = Core::try_with_strategies(
        &cfg,
        &[rules()],
        vec![Box::new(EveryCandleEntry::default())],
    )
    .expect("core");
    core.on_event(&Event::Trade(trade(9_650.0, T0)));
    core.on_event(&Event::Trade(trade(9_651.0, T0 + NS_PER_MIN)));
    let mut entry = None;
    while let Some(a) = core.next_action() {
        if let Action::Place(i) = a {
            entry = Some(i);
        }
    }
    let entry = entry.expect("the scripted strategy enters on the first close");
    assert_eq!(entry.purpose, OrderPurpose::Entry);
    (core, entry)
}

fn fill_of(entry: &trading_engine::orders::OrderIntent) -> Fill {
    Fill {
        order: entry.id,
        symbol: entry.symbol,
        qty: entry.qty,
        price: Price::from_f64(9_651.0).unwrap(),
        fee: Money::from_f64(0.5),
        slippage: Money::from_f64(0.0),
        ts: TimestampNs(T0 + NS_PER_MIN + 1_000_000),
    }
}

fn position_update(c: &mut Criterion) {
    let mut group = c.benchmark_group("position_update");
    let (mut core, entry) = pending_core();
    core.on_event(&Event::Fill(fill_of(&entry)));
    let mut places = 0;
    while let Some(a) = core.next_action() {
        if matches!(a, Action::Place(_)) {
            places += 1;
        }
    }
    assert!(
        places >= 1,
        "Invariant: the fill places the protective stop"
    );
    assert!(core.position(SymbolId(0)).is_some());
    // Prices inside the stop/target band: the position is checked, not closed.
    let trades: Vec<Trade> = (0..256)
        .map(|i| {
            trade(
                9_645.0 + (i % 11) as f64,
                T0 + NS_PER_MIN + 2_000_000 + i as i64,
            )
        })
        .collect();
    let mut i = 0usize;
    group.bench_function("price_update", |b| {
        b.iter(|| {
            core.on_event(black_box(&Event::Trade(trades[i & 255])));
            while let Some(a) = core.next_action() {
                black_box(a);
            }
            i = i.wrapping_add(1);
        });
    });
    assert!(
        core.position(SymbolId(0)).is_some(),
        "Invariant: no exit fired during the price updates"
    );
    group.bench_function("entry_fill", |b| {
        b.iter_batched(
            || {
                let (core, entry) = pending_core();
                (core, fill_of(&entry))
            },
            |(mut core, fill)| {
                core.on_event(black_box(&Event::Fill(fill)));
                while let Some(a) = core.next_action() {
                    black_box(a);
                }
                core
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn config() -> Criterion {
    // Short runs: the benchmark machine is shared (2 cores).
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = candle_update, strategy_eval, risk_check, position_update
}
criterion_main!(benches);
