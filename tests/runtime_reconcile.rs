//! Issue 19 (items 3 and 4) against the BingX simulator on 127.0.0.1:
//! running reconciliation restores a protective stop cancelled by hand,
//! the I/O thread re-syncs by REST after a listen-key renewal, finds a fill
//! the user stream never carried by lookup, and runs protective orders
//! ahead of entries through a burst of 429 replies. Every wait is bounded.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use std::time::{Duration, Instant};

use bingx_sim::{FaultConfig, SimConfig, SimHandle, Simulator, Speed};
use trading_engine::config::Mode;
use trading_engine::feed::SymbolTable;
use trading_engine::io::bridge::{BridgeConfig, HotSide, IoReport, IoThread, StreamStatus};
use trading_engine::io::order::{
    ClientOrderId, IoCommand, OrderKind, OrderRef, OrderRequest, OrderStatus, PositionSide,
};
use trading_engine::io::sync::{SyncCause, SyncItem};
use trading_engine::io::ws::{UserEvent, WsConfig};
use trading_engine::types::{Price, Qty, Side, SymbolId};
use util::live::{options, replay_complete, run_in_background, sim_position, sim_rest, start_sim};

const LIMIT: Duration = Duration::from_secs(20);

fn manual(cfg: SimConfig) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Manual,
        warmup_minutes: 0,
        ..cfg
    })
    .unwrap();
    sim.inject_trade("60000.0", "0.0100", false).unwrap();
    sim
}

fn bridge(sim: &SimHandle, user_stream: bool) -> (IoThread, HotSide) {
    let mut symbols = SymbolTable::new();
    symbols.insert("BTC-USDT", SymbolId(0)).unwrap();
    IoThread::spawn(
        sim_rest(sim),
        BridgeConfig {
            user_stream_url: user_stream.then(|| sim.ws_url()),
            ws: WsConfig {
                backoff_base: Duration::from_millis(20),
                backoff_max: Duration::from_millis(200),
                ..WsConfig::default()
            },
            listen_key_retry: Duration::from_millis(50),
            symbols,
            client_prefix: "te-".into(),
            ..BridgeConfig::default()
        },
    )
    .unwrap()
}

fn order(id: &str, side: Side, leg: PositionSide, kind: OrderKind) -> OrderRequest {
    OrderRequest {
        symbol: SymbolId(0),
        side,
        position_side: leg,
        kind,
        qty: Qty::from_decimal(10, 4).unwrap(),
        price: Price::ZERO,
        stop_price: if kind == OrderKind::StopMarket {
            Price::from_decimal(59_000, 0).unwrap()
        } else {
            Price::ZERO
        },
        reduce_only: false,
        time_in_force: None,
        client_order_id: ClientOrderId::try_new(id).unwrap(),
    }
}

fn wait(hot: &mut HotSide, seen: &mut Vec<IoReport>, mut done: impl FnMut(&[IoReport]) -> bool) {
    let start = Instant::now();
    while !done(seen) {
        assert!(start.elapsed() < LIMIT, "timed out; reports: {seen:?}");
        match hot.poll() {
            Some(r) => seen.push(r),
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

fn result_index(seen: &[IoReport], id: &str) -> Option<usize> {
    seen.iter()
        .position(|r| matches!(r, IoReport::Order(o) if o.client_order_id.as_str() == id))
}

#[test]
fn issue_19_a_stop_cancelled_by_hand_is_restored_within_the_guard_interval() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), FaultConfig::default());
    let mut o = options(&sim, dir.path(), Mode::Live, 14);
    o.config.reconcile.interval_secs = 1;
    let journal = o.journal_dir.clone().unwrap();
    let handle = run_in_background(o);
    // A separate client with the same key cancels the engine's stop.
    let mut hand = sim_rest(&sim);
    let stops = |r: &mut trading_engine::io::rest::RestClient| -> Vec<u64> {
        r.open_orders(None)
            .unwrap()
            .iter()
            .filter(|o| o.order_type == "STOP_MARKET")
            .map(|o| o.order_id)
            .collect()
    };
    let start = Instant::now();
    let first = loop {
        assert!(start.elapsed() < LIMIT, "no stop was placed");
        assert!(!handle.is_finished(), "the run ended before its entry");
        if let Some(id) = stops(&mut hand).first().copied() {
            break id;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    hand.cancel_order(SymbolId(0), OrderRef::OrderId(first))
        .unwrap();
    let cancelled = Instant::now();
    let restored = loop {
        let now = stops(&mut hand);
        if let Some(id) = now.iter().find(|id| **id != first) {
            break (*id, cancelled.elapsed());
        }
        assert!(
            cancelled.elapsed() < Duration::from_secs(5),
            "the stop was not restored"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        restored.1 < Duration::from_secs(2),
        "restored within the 1 s guard interval (plus a REST round trip): {:?}",
        restored.1
    );
    let report = handle.join().unwrap();
    assert_eq!(report.hot.exchange_agrees, Some(true), "clean at shutdown");
    assert_eq!(report.hot.open_positions, 0);
    assert_eq!(sim_position(&mut hand), 0.0, "flat like the engine");
    replay_complete(&journal);
}

#[test]
fn issue_19_an_expired_listen_key_is_renewed_and_orders_and_positions_re_synced_by_rest() {
    let sim = manual(SimConfig {
        listen_key_ttl_ms: 1_500,
        ..SimConfig::default()
    });
    let (io, mut hot) = bridge(&sim, true);
    let mut seen = Vec::new();
    wait(&mut hot, &mut seen, |s| {
        s.contains(&IoReport::Stream(StreamStatus::ListenKeyRenewed))
    });
    let renewed = seen.len();
    wait(&mut hot, &mut seen, |s| {
        s[renewed..].contains(&IoReport::Sync(SyncItem::Begin {
            cause: SyncCause::StreamGap,
        })) && s[renewed..].contains(&IoReport::Sync(SyncItem::End { complete: true }))
    });
    let stats = io.shutdown();
    assert!(stats.renewals >= 1);
    assert!(stats.syncs >= 1);
}

#[test]
fn issue_19_a_fill_the_user_stream_never_carried_is_found_by_lookup() {
    let sim = manual(SimConfig::default());
    // No user stream at all: the fill exists only on the exchange.
    let (io, mut hot) = bridge(&sim, false);
    let buy = order("te-7", Side::Buy, PositionSide::Long, OrderKind::Market);
    hot.send(IoCommand::Place(buy)).unwrap();
    let mut seen = Vec::new();
    wait(&mut hot, &mut seen, |s| result_index(s, "te-7").is_some());
    hot.send(IoCommand::Query {
        symbol: SymbolId(0),
        order: OrderRef::Client(buy.client_order_id),
    })
    .unwrap();
    hot.send(IoCommand::Sync).unwrap();
    wait(&mut hot, &mut seen, |s| {
        s.contains(&IoReport::Sync(SyncItem::End { complete: true }))
    });
    let found = seen
        .iter()
        .find_map(|r| match r {
            IoReport::User(UserEvent::Order(u)) => Some(*u),
            _ => None,
        })
        .expect("the lookup's update");
    assert_eq!(found.client_order_id.as_str(), "te-7");
    assert_eq!(found.status, OrderStatus::Filled);
    assert_eq!(found.filled_qty, buy.qty);
    assert!(found.avg_price.to_f64() > 0.0);
    assert!(seen.iter().any(|r| matches!(
        r,
        IoReport::Sync(SyncItem::Position { side: Side::Buy, qty, .. }) if *qty == buy.qty
    )));
    // An order the exchange never saw comes back cancelled, nothing filled.
    hot.send(IoCommand::Query {
        symbol: SymbolId(0),
        order: OrderRef::Client(ClientOrderId::try_new("te-99").unwrap()),
    })
    .unwrap();
    wait(&mut hot, &mut seen, |s| {
        s.iter().any(|r| {
            matches!(r, IoReport::User(UserEvent::Order(u))
                if u.client_order_id.as_str() == "te-99" && u.status == OrderStatus::Cancelled)
        })
    });
    let stats = io.shutdown();
    assert_eq!(stats.lookups, 2);
}

#[test]
fn issue_19_protective_orders_overtake_entries_through_a_burst_of_429() {
    let sim = manual(SimConfig {
        faults: FaultConfig {
            delay_ms: 80,
            burst_429: 2,
            burst_429_every: 3,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let (io, mut hot) = bridge(&sim, false);
    for id in ["te-1", "te-2", "te-3"] {
        let entry = order(id, Side::Buy, PositionSide::Long, OrderKind::Market);
        hot.send(IoCommand::Place(entry)).unwrap();
    }
    let stop = order(
        "te-4",
        Side::Sell,
        PositionSide::Long,
        OrderKind::StopMarket,
    );
    hot.send(IoCommand::Place(stop)).unwrap();
    let mut seen = Vec::new();
    wait(&mut hot, &mut seen, |s| {
        ["te-1", "te-2", "te-3", "te-4"]
            .iter()
            .all(|id| result_index(s, id).is_some())
    });
    let at = |id| result_index(&seen, id).unwrap();
    assert!(
        at("te-4") < at("te-2") && at("te-4") < at("te-3"),
        "the stop ran before the entries queued with it: {seen:?}"
    );
    let _ = io.shutdown();
}
