use super::*;
use crate::types::{Price, Qty, Side};

const SYM: SymbolId = SymbolId(1);
/// 2024-08-09 00:00:00 UTC, a 5-minute boundary.
const T0_MS: i64 = 1_723_161_600_000;

fn trade(ms_after_t0: i64, price: f64, qty: f64) -> Trade {
    Trade {
        symbol: SYM,
        trade_id: ms_after_t0 as u64,
        price: Price::from_f64(price).unwrap(),
        qty: Qty::from_f64(qty).unwrap(),
        exchange_ts: TimestampNs::from_ms(T0_MS + ms_after_t0),
        aggressor: Side::Buy,
    }
}

fn minute(m: i64) -> TimestampNs {
    TimestampNs::from_ms(T0_MS + m * 60_000)
}

fn feed(b: &mut CandleBuilder, trades: &[Trade]) -> Vec<CandleEvent> {
    let mut events = Vec::new();
    for t in trades {
        b.on_trade(t, &mut |e| events.push(e));
    }
    events
}

fn kline(m: i64, o: f64, h: f64, l: f64, c: f64, v: f64) -> Candle {
    Candle {
        symbol: SYM,
        open_time: minute(m),
        open: Price::from_f64(o).unwrap(),
        high: Price::from_f64(h).unwrap(),
        low: Price::from_f64(l).unwrap(),
        close: Price::from_f64(c).unwrap(),
        volume: Qty::from_f64(v).unwrap(),
        trade_count: 2,
    }
}

fn price(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

#[test]
fn a_minute_of_trades_closes_on_the_first_trade_of_a_later_bucket() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let events = feed(
        &mut b,
        &[
            trade(100, 10.0, 1.0),
            trade(20_000, 12.5, 0.5),
            trade(40_000, 9.5, 2.0),
            trade(59_999, 11.0, 0.25),
        ],
    );
    assert!(events.is_empty(), "nothing closes inside the bucket");
    let events = feed(&mut b, &[trade(60_000, 11.5, 1.0)]);
    assert_eq!(
        events,
        vec![CandleEvent::Closed1m(Candle {
            symbol: SYM,
            open_time: minute(0),
            open: price(10.0),
            high: price(12.5),
            low: price(9.5),
            close: price(11.0),
            volume: Qty::from_f64(3.75).unwrap(),
            trade_count: 4,
        })]
    );
    assert_eq!(b.open_candle().unwrap().open_time, minute(1));
}

#[test]
fn the_clock_closes_a_candle_only_after_the_grace_period() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    feed(&mut b, &[trade(5_000, 10.0, 1.0)]);
    let mut events = Vec::new();
    let end = minute(1);
    b.on_clock(end.add_ns(DEFAULT_GRACE_NS - 1), &mut |e| events.push(e));
    assert!(events.is_empty(), "still inside the grace period");
    b.on_clock(end.add_ns(DEFAULT_GRACE_NS), &mut |e| events.push(e));
    assert!(matches!(events.as_slice(), [CandleEvent::Closed1m(c)] if c.open_time == minute(0)));
    assert!(b.open_candle().is_none());
}

#[test]
fn a_trade_for_a_bucket_closed_by_the_clock_is_late() {
    let mut b = CandleBuilder::new(SYM, 500 * 1_000_000);
    feed(&mut b, &[trade(5_000, 10.0, 1.0)]);
    b.on_clock(minute(1).add_ns(500 * 1_000_000), &mut |_| {});
    let events = feed(&mut b, &[trade(59_000, 99.0, 1.0)]);
    assert!(events.is_empty());
    assert_eq!(b.late_trades(), 1);
    // The next minute opens normally, with no gap.
    let events = feed(&mut b, &[trade(61_000, 10.0, 1.0)]);
    assert!(events.is_empty());
    assert_eq!(b.open_candle().unwrap().open_time, minute(1));
}

#[test]
fn a_trade_older_than_the_open_bucket_is_dropped_and_counted() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    feed(&mut b, &[trade(1_000, 10.0, 1.0), trade(61_000, 11.0, 1.0)]);
    let before = *b.open_candle().unwrap();
    let events = feed(&mut b, &[trade(59_000, 50.0, 9.0)]);
    assert!(events.is_empty());
    assert_eq!(b.late_trades(), 1);
    assert_eq!(
        *b.open_candle().unwrap(),
        before,
        "the late trade changed nothing"
    );
}

#[test]
fn minutes_without_trades_are_reported_as_a_gap() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let events = feed(
        &mut b,
        &[trade(1_000, 10.0, 1.0), trade(3 * 60_000 + 5, 11.0, 1.0)],
    );
    assert_eq!(events.len(), 2);
    assert!(matches!(events[0], CandleEvent::Closed1m(c) if c.open_time == minute(0)));
    assert_eq!(
        events[1],
        CandleEvent::Gap {
            from: minute(1),
            to: minute(3)
        }
    );
    assert_eq!(b.gaps(), 1);
}

#[test]
fn the_gap_is_reported_after_the_clock_closed_the_candle_before_it() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    feed(&mut b, &[trade(1_000, 10.0, 1.0)]);
    b.on_clock(minute(1).add_ns(DEFAULT_GRACE_NS), &mut |_| {});
    let events = feed(&mut b, &[trade(2 * 60_000, 11.0, 1.0)]);
    assert_eq!(
        events,
        vec![CandleEvent::Gap {
            from: minute(1),
            to: minute(2)
        }]
    );
}

#[test]
fn the_1m_candle_at_minute_4_closes_the_5m_candle_right_after_itself() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let prices = [10.0, 14.0, 8.0, 11.0, 12.0];
    let trades: Vec<Trade> = prices
        .iter()
        .enumerate()
        .map(|(m, &p)| trade(m as i64 * 60_000 + 30_000, p, 1.0))
        .collect();
    let events = feed(&mut b, &trades);
    assert_eq!(events.len(), 4, "minutes 0..=3 closed, no 5m yet");
    let events = feed(&mut b, &[trade(5 * 60_000, 13.0, 1.0)]);
    assert_eq!(events.len(), 2);
    assert!(matches!(events[0], CandleEvent::Closed1m(c) if c.open_time == minute(4)));
    assert_eq!(
        events[1],
        CandleEvent::Closed5m(Candle {
            symbol: SYM,
            open_time: minute(0),
            open: price(10.0),
            high: price(14.0),
            low: price(8.0),
            close: price(12.0),
            volume: Qty::from_f64(5.0).unwrap(),
            trade_count: 5,
        })
    );
}

#[test]
fn a_partial_first_bucket_opens_at_the_5_minute_boundary() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let events = feed(
        &mut b,
        &[
            trade(3 * 60_000, 10.0, 1.0),
            trade(4 * 60_000, 9.0, 2.0),
            trade(5 * 60_000, 9.5, 1.0),
        ],
    );
    let fives: Vec<Candle> = events
        .iter()
        .filter_map(|e| match e {
            CandleEvent::Closed5m(c) => Some(*c),
            _ => None,
        })
        .collect();
    assert_eq!(fives.len(), 1);
    assert_eq!(fives[0].open_time, minute(0));
    assert_eq!(fives[0].open, price(10.0));
    assert_eq!(fives[0].close, price(9.0));
    assert_eq!(fives[0].trade_count, 2);
}

#[test]
fn a_bucket_ending_in_a_gap_closes_before_the_gap_event() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let events = feed(
        &mut b,
        &[trade(60_000, 10.0, 1.0), trade(7 * 60_000, 11.0, 1.0)],
    );
    assert_eq!(events.len(), 3);
    assert!(matches!(events[0], CandleEvent::Closed1m(c) if c.open_time == minute(1)));
    assert!(matches!(events[1], CandleEvent::Closed5m(c) if c.open_time == minute(0)));
    assert_eq!(
        events[2],
        CandleEvent::Gap {
            from: minute(2),
            to: minute(7)
        }
    );
}

#[test]
fn the_clock_closes_a_partial_5m_candle_after_its_end_plus_grace() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    feed(&mut b, &[trade(2 * 60_000, 10.0, 1.0)]);
    let mut events = Vec::new();
    b.on_clock(minute(3).add_ns(DEFAULT_GRACE_NS), &mut |e| events.push(e));
    assert!(matches!(events.as_slice(), [CandleEvent::Closed1m(_)]));
    events.clear();
    b.on_clock(minute(5).add_ns(DEFAULT_GRACE_NS - 1), &mut |e| {
        events.push(e)
    });
    assert!(events.is_empty());
    b.on_clock(minute(5).add_ns(DEFAULT_GRACE_NS), &mut |e| events.push(e));
    assert!(matches!(events.as_slice(), [CandleEvent::Closed5m(c)] if c.open_time == minute(0)));
}

#[test]
fn flush_closes_the_open_1m_then_the_open_5m() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    feed(&mut b, &[trade(1_000, 10.0, 1.0)]);
    let mut events = Vec::new();
    b.flush(&mut |e| events.push(e));
    assert!(matches!(
        events.as_slice(),
        [CandleEvent::Closed1m(a), CandleEvent::Closed5m(f)] if a.open_time == minute(0) && f.open_time == minute(0)
    ));
    events.clear();
    b.flush(&mut |e| events.push(e));
    assert!(events.is_empty());
}

#[test]
fn closed_1m_candles_feed_the_5m_aggregator_with_gap_detection() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let mut events = Vec::new();
    for (m, c) in [(3, 10.0), (4, 11.0), (5, 12.0), (8, 13.0), (9, 14.0)] {
        b.on_closed_1m(&kline(m, c, c + 1.0, c - 1.0, c, 1.5), &mut |e| {
            events.push(e);
        });
    }
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e {
            CandleEvent::Closed1m(c) => {
                format!("1m@{}", (c.open_time.0 - minute(0).0) / NS_PER_MIN)
            }
            CandleEvent::Closed5m(c) => {
                format!("5m@{}", (c.open_time.0 - minute(0).0) / NS_PER_MIN)
            }
            CandleEvent::Gap { from, to } => format!(
                "gap@{}-{}",
                (from.0 - minute(0).0) / NS_PER_MIN,
                (to.0 - minute(0).0) / NS_PER_MIN
            ),
        })
        .collect();
    assert_eq!(
        kinds,
        ["1m@3", "1m@4", "5m@0", "1m@5", "gap@6-8", "1m@8", "1m@9", "5m@5"]
    );
    let CandleEvent::Closed5m(five) = events[7] else {
        panic!("expected a 5m candle")
    };
    assert_eq!(five.open, price(12.0));
    assert_eq!(five.high, price(15.0));
    assert_eq!(five.low, price(11.0));
    assert_eq!(five.close, price(14.0));
    assert_eq!(five.volume, Qty::from_f64(4.5).unwrap());
    assert_eq!(five.trade_count, 6);
}

#[test]
fn a_repeated_closed_candle_is_dropped_and_counted() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let mut n = 0;
    b.on_closed_1m(&kline(1, 1.0, 1.0, 1.0, 1.0, 1.0), &mut |_| n += 1);
    b.on_closed_1m(&kline(1, 2.0, 2.0, 2.0, 2.0, 1.0), &mut |_| n += 1);
    b.on_closed_1m(&kline(0, 2.0, 2.0, 2.0, 2.0, 1.0), &mut |_| n += 1);
    assert_eq!(n, 1);
    assert_eq!(b.late_candles(), 2);
}

#[test]
fn an_exchange_kline_replaces_the_candle_built_from_trades_for_its_minute() {
    let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    feed(&mut b, &[trade(1_000, 10.0, 1.0)]);
    let mut events = Vec::new();
    let k = kline(0, 10.0, 10.5, 9.5, 10.2, 3.0);
    b.on_closed_1m(&k, &mut |e| events.push(e));
    assert_eq!(events, vec![CandleEvent::Closed1m(k)]);
    assert!(b.open_candle().is_none());
    assert_eq!(b.five_minute().open_candle().unwrap().open_time, minute(0));
}

#[test]
fn the_standalone_aggregator_drops_candles_that_are_not_newer() {
    let mut agg = FiveMinuteAggregator::new();
    let mut n = 0;
    agg.on_1m(&kline(2, 1.0, 1.0, 1.0, 1.0, 1.0), &mut |_| n += 1);
    agg.on_1m(&kline(2, 1.0, 1.0, 1.0, 1.0, 1.0), &mut |_| n += 1);
    assert_eq!(agg.late(), 1);
    assert_eq!(n, 0);
    agg.on_1m(&kline(4, 1.0, 1.0, 1.0, 1.0, 1.0), &mut |_| n += 1);
    assert_eq!(n, 1, "minute 4 completes the bucket");
}

mod property_tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Naive OHLCV of trades grouped by `bucket_ns`.
    fn group(trades: &[Trade], bucket_ns: i64) -> Vec<Candle> {
        let mut map: BTreeMap<i64, Candle> = BTreeMap::new();
        for t in trades {
            let key = t.exchange_ts.floor_to(bucket_ns).0;
            map.entry(key)
                .and_modify(|c| {
                    c.high = c.high.max(t.price);
                    c.low = c.low.min(t.price);
                    c.close = t.price;
                    c.volume = c.volume + t.qty;
                    c.trade_count += 1;
                })
                .or_insert(Candle {
                    symbol: SYM,
                    open_time: TimestampNs(key),
                    open: t.price,
                    high: t.price,
                    low: t.price,
                    close: t.price,
                    volume: t.qty,
                    trade_count: 1,
                });
        }
        map.into_values().collect()
    }

    fn trades_strategy() -> impl Strategy<Value = Vec<Trade>> {
        // Steps between trades: mostly small, sometimes whole minutes (gaps).
        let step = prop_oneof![
            8 => 0i64..5_000,
            1 => Just(0i64),
            1 => 60_000i64..600_000,
        ];
        proptest::collection::vec((step, 1u32..2000, 1u32..500), 1..300).prop_map(|rows| {
            let mut ms = 123;
            rows.into_iter()
                .map(|(dt, p, q)| {
                    ms += dt;
                    trade(ms, f64::from(p) / 4.0, f64::from(q) / 8.0)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn prop_candles_equal_a_naive_group_by(trades in trades_strategy()) {
            let mut b = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
            let mut events = feed(&mut b, &trades);
            b.flush(&mut |e| events.push(e));
            let ones: Vec<Candle> = events.iter().filter_map(|e| match e {
                CandleEvent::Closed1m(c) => Some(*c), _ => None }).collect();
            let fives: Vec<Candle> = events.iter().filter_map(|e| match e {
                CandleEvent::Closed5m(c) => Some(*c), _ => None }).collect();
            let gap_minutes: i64 = events.iter().map(|e| match e {
                CandleEvent::Gap { from, to } => (to.0 - from.0) / NS_PER_MIN, _ => 0 }).sum();
            prop_assert_eq!(&ones, &group(&trades, NS_PER_MIN));
            prop_assert_eq!(fives, group(&trades, NS_PER_5MIN));
            let first = ones[0].open_time.0;
            let last = ones[ones.len() - 1].open_time.0;
            prop_assert_eq!(gap_minutes + ones.len() as i64, (last - first) / NS_PER_MIN + 1);
            prop_assert_eq!(b.late_trades(), 0);
        }
    }
}
