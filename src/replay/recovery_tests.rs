//! What a restart takes from a rebuild: the strategies of the run, the
//! journal's identity and market end, working intents, routes learned by
//! reconciliation, the last operator command, and a new life after a
//! clean shutdown.

use super::tests::{journal_fixture, options, rows, session, sim, DAYS};
use super::*;
use crate::core::Command;
use crate::journal_schema::{self as schema, CorrectionKind, OperatorSource};
use crate::strategy::{StrategiesConfig, Strategy};
use crate::types::{Price, Qty, TimestampNs, NS_PER_MIN};

fn no_strategies(_: &StrategiesConfig) -> Vec<Box<dyn Strategy>> {
    Vec::new()
}

#[test]
fn rebuild_with_a_strategy_factory_builds_the_core_with_those_strategies() {
    let (dir, live, _) = journal_fixture();
    let configured = rebuild(dir.path()).unwrap();
    assert_eq!(
        configured.core.as_ref().unwrap().strategy_count(),
        live.strategy_count()
    );
    let scripted = rebuild_with(dir.path(), Some(no_strategies)).unwrap();
    assert_eq!(scripted.core.as_ref().unwrap().strategy_count(), 0);
    // Other strategies decide otherwise: replay with them reports it.
    let report = replay_with(dir.path(), Some(no_strategies), &mut |_| {}).unwrap();
    assert!(report.first_mismatch.is_some());
    let report = replay_with(dir.path(), None, &mut |_| {}).unwrap();
    assert!(report.first_mismatch.is_none());
}

#[test]
fn rebuild_reports_the_first_session_time_the_last_market_minute_and_working_intents() {
    let (dir, live, rows) = journal_fixture();
    let r = rebuild(dir.path()).unwrap();
    assert_eq!(r.first_session_ts, Some(rows[0].timestamp()));
    let last_minute = rows.last().unwrap().timestamp();
    assert_eq!(
        r.last_market_ts.map(|t| t.0.div_euclid(NS_PER_MIN)),
        Some(last_minute.0.div_euclid(NS_PER_MIN))
    );
    // Every order a position still references has its intent.
    if let Some(p) = live.position(crate::types::SymbolId(0)) {
        for id in [p.stop_order, p.entry_order].into_iter().flatten() {
            assert!(r.intents.contains_key(&id));
        }
    }
    assert!(!r.intents.is_empty(), "the scenario placed orders");
}

#[test]
fn a_journaled_stop_replacement_routes_its_order_and_the_last_operator_is_known() {
    let (dir, _, _) = journal_fixture();
    let first = rebuild(dir.path()).unwrap();
    let (&order, route) = first.orders.iter().next().unwrap();
    let mut w = journal::Writer::open(dir.path(), options(256 << 10)).unwrap();
    let ts = TimestampNs(first.last_market_ts.unwrap().0 + 1);
    let rec = JournalRecord::Correction(schema::Correction {
        kind: CorrectionKind::StopPlaced,
        symbol: route.symbol,
        order,
        exchange_id: 4242,
        qty: Qty::from_f64(0.01).unwrap(),
        price: Price::from_f64(100.0).unwrap(),
        ts,
    });
    schema::write(&mut w, ts, &rec).unwrap();
    let stop = JournalRecord::Operator {
        command: Command::Halt,
        source: OperatorSource::Signal,
        ts,
    };
    schema::write(&mut w, ts, &stop).unwrap();
    w.close().unwrap();
    let r = rebuild(dir.path()).unwrap();
    assert_eq!(
        r.last_operator,
        Some((Command::Halt, OperatorSource::Signal))
    );
    let route = r.orders[&order];
    assert_eq!(route.exchange_id, Some(4242));
    let prefix = recovery_prefix(&client_prefix(r.first_session_ts.unwrap()), 1);
    assert_eq!(route.client_id.as_str(), format!("{prefix}s{}", order.0));
}

#[test]
fn a_new_session_after_a_clean_shutdown_trades_again() {
    let cfg = Config::default();
    let all = rows(DAYS);
    let dir = tempfile::tempdir().unwrap();
    let half = all.len() / 2;
    let (stopped, exchange) = session(dir.path(), &cfg, sim(&cfg), &all[..half], true);
    let (restarted, _) = session(dir.path(), &cfg, exchange, &all[half..], true);
    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None, "replay lifts the shutdown too");
    assert!(
        restarted.stats().entries > stopped.stats().entries,
        "the second life entered: {:?} -> {:?}",
        stopped.stats(),
        restarted.stats()
    );
}

/// Found by the 1,000-kill chaos run: a start booked the fill of an exit
/// order the core no longer remembered as an `exchange_close` and was
/// killed; the next start, finding the same fill, booked it again. The
/// close that follows an `order_filled` correction counts as that order's
/// fill, so the next reconciliation sees it booked.
#[test]
fn an_exchange_close_that_books_an_order_filled_correction_counts_as_that_orders_fill() {
    let (dir, _, _) = journal_fixture();
    let first = rebuild(dir.path()).unwrap();
    let (&order, route) = first.orders.iter().next().unwrap();
    assert!(!first.booked.contains_key(&OrderId(9_999)));
    let mut w = journal::Writer::open(dir.path(), options(256 << 10)).unwrap();
    let ts = TimestampNs(first.last_market_ts.unwrap().0 + 1);
    let forgotten = OrderId(9_999);
    let filled = JournalRecord::Correction(schema::Correction {
        kind: CorrectionKind::OrderFilled,
        symbol: route.symbol,
        order: forgotten,
        exchange_id: 77,
        qty: Qty::from_f64(0.01).unwrap(),
        price: Price::from_f64(101.0).unwrap(),
        ts,
    });
    schema::write(&mut w, ts, &filled).unwrap();
    let close = JournalRecord::Input(crate::core::Event::ExchangeClose(
        crate::core::ExchangeClose {
            symbol: route.symbol,
            side: crate::types::Side::Buy,
            qty: Qty::from_f64(0.01).unwrap(),
            price: Price::from_f64(101.0).unwrap(),
            fee: crate::money::Money::from_f64(0.5),
            ts,
        },
    ));
    schema::write(&mut w, ts, &close).unwrap();
    // A close with no correction before it books no order.
    schema::write(&mut w, ts, &close).unwrap();
    w.close().unwrap();
    let r = rebuild(dir.path()).unwrap();
    let b = r.booked[&forgotten];
    assert_eq!(b.qty, Qty::from_f64(0.01).unwrap());
    assert!((b.fee.to_f64() - 0.5).abs() < 1e-9);
    assert!((b.notional.to_f64() - 1.01).abs() < 1e-9);
    assert!(!r.booked.contains_key(&order) || r.booked[&order] == first.booked[&order]);
}

/// Found by the 1,000-kill chaos run: a start sent a market close for a
/// position and was killed before journaling it; 42 starts in a row were
/// then killed before they could act, and the one that finally booked the
/// close looked up only the last 8 starts' ids. The announcement journaled
/// before sending names the session, and it survives a checkpoint.
#[test]
fn a_recovery_sending_announcement_keeps_its_session_through_a_checkpoint() {
    let (dir, _, _) = journal_fixture();
    let first = rebuild(dir.path()).unwrap();
    let sessions = first.counts.sessions;
    let mut w = journal::Writer::open(dir.path(), options(256 << 10)).unwrap();
    let ts = TimestampNs(first.last_market_ts.unwrap().0 + 1);
    let announce = |order: u64| {
        JournalRecord::Correction(schema::Correction {
            kind: CorrectionKind::RecoverySending,
            symbol: crate::types::SymbolId(0),
            order: crate::orders::OrderId(order),
            exchange_id: 0,
            qty: Qty::ZERO,
            price: Price::ZERO,
            ts,
        })
    };
    schema::write(&mut w, ts, &announce(7)).unwrap();
    schema::write(&mut w, ts, &announce(0)).unwrap();
    w.close().unwrap();
    let r = rebuild(dir.path()).unwrap();
    let expected = vec![
        RecoverySend {
            symbol: crate::types::SymbolId(0),
            session: sessions,
            replaces: Some(crate::orders::OrderId(7)),
            ts,
        },
        RecoverySend {
            symbol: crate::types::SymbolId(0),
            session: sessions,
            replaces: None,
            ts,
        },
    ];
    assert!(sessions >= 1);
    assert_eq!(r.recovery_sends, expected);
    // A checkpoint of that state, then a rebuild starting from it.
    let mut w = journal::Writer::open(dir.path(), options(256 << 10)).unwrap();
    checkpoint::write_checkpoint(&mut w, r.checkpoint.as_ref().unwrap(), r.next_seq, ts).unwrap();
    w.close().unwrap();
    let again = rebuild(dir.path()).unwrap();
    assert!(again.started_at.is_some(), "rebuilt from the checkpoint");
    assert_eq!(again.recovery_sends, expected);
}
