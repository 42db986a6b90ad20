//! Replay and rebuild over journals written by [`SimSession`] on the
//! synthetic market: zero mismatches, tampered, missing and extra outputs,
//! in-flight orders, lost outputs, restarts and config changes, a live
//! writer, and zero-allocation journaling. The shared fixtures live here;
//! simulated crashes are in `crash_tests`.

use std::fs;
use std::path::{Path, PathBuf};

use super::record::{SimSession, CLIENT_ID_PREFIX};
use super::*;
use crate::core::{Command, Record};
use crate::datafile::{synthetic, DataSet, Record as Row};
use crate::fill_model::{FillModel, MarketFill};
use crate::journal_schema::{self as schema, tags, Mode};
use crate::orders::ExitReason;
use crate::types::{DecimalStep, InstrumentRules, Price, Qty, TimestampNs};

pub(super) const DAYS: u64 = 4;

pub(super) fn rules() -> InstrumentRules {
    let step = DecimalStep::from_precision(3);
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(5.0).unwrap(),
    }
}

pub(super) fn rows(days: u64) -> Vec<Row> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.csv");
    let mut f = fs::File::create(&path).unwrap();
    synthetic::write_klines_csv(&mut f, 1, synthetic::DEFAULT_START_MS, days * 1440).unwrap();
    let mut set = DataSet::open(&[&path], crate::types::SymbolId(0)).unwrap();
    let mut out = Vec::new();
    while let Some(r) = set.next_record().unwrap() {
        out.push(r);
    }
    out
}

pub(super) fn options(segment_bytes: usize) -> journal::WriterOptions {
    journal::WriterOptions {
        segment_bytes,
        durability: journal::Durability::None,
        prefault: false,
        precreate_next: false,
    }
}

pub(super) fn sim(cfg: &Config) -> FillModel {
    FillModel::new(&cfg.simulator, 1, MarketFill::LastClose)
}

pub(super) fn end_ts(rows: &[Row]) -> TimestampNs {
    rows.last()
        .unwrap()
        .timestamp()
        .add_ns(crate::types::NS_PER_MIN)
}

/// Writes one session over `rows` (shutdown at the end when `shutdown`).
pub(super) fn session(
    dir: &Path,
    cfg: &Config,
    exchange: FillModel,
    rows: &[Row],
    shutdown: bool,
) -> (Core, FillModel) {
    let ts = rows.first().unwrap().timestamp();
    let mut s = SimSession::open(
        dir,
        cfg,
        &[rules()],
        exchange,
        Mode::Paper,
        ts,
        options(256 << 10),
    )
    .unwrap();
    for r in rows {
        s.on_row(r).unwrap();
    }
    if shutdown {
        s.command(Command::Shutdown, end_ts(rows)).unwrap();
        s.flush_exchange().unwrap();
    }
    s.finish().unwrap()
}

/// One continuous paper session over `DAYS` of synthetic market.
pub(super) fn journal_fixture() -> (tempfile::TempDir, Core, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::default();
    let rows = rows(DAYS);
    let (core, _) = session(dir.path(), &cfg, sim(&cfg), &rows, true);
    (dir, core, rows)
}

/// Every record of the journal as (seq, tag, ts, payload).
pub(super) fn records(dir: &Path) -> Vec<(u64, u16, i64, Vec<u8>)> {
    let mut reader = journal::Reader::open(dir).unwrap();
    let mut out = Vec::new();
    while let Some(r) = reader.next() {
        let r = r.unwrap();
        out.push((r.seq, r.type_tag, r.ts_ns, r.payload.to_vec()));
    }
    out
}

/// Copies `records` into a new journal in `dir` (same sequence numbers).
pub(super) fn write_records(dir: &Path, records: &[(u64, u16, i64, Vec<u8>)]) {
    let mut w = journal::Writer::open(dir, options(256 << 10)).unwrap();
    for (_, tag, ts, payload) in records {
        w.append(*tag, *ts, payload).unwrap();
    }
    w.close().unwrap();
}

pub(super) fn inputs(records: &[(u64, u16, i64, Vec<u8>)]) -> Vec<Event> {
    records
        .iter()
        .filter(|r| schema::is_input(r.1))
        .map(|r| match JournalRecord::decode(r.1, &r.3).unwrap() {
            JournalRecord::Input(e) => e,
            other => panic!("not an input: {other:?}"),
        })
        .collect()
}

pub(super) fn outputs(records: &[(u64, u16, i64, Vec<u8>)]) -> Vec<Action> {
    records
        .iter()
        .filter(|r| schema::is_output(r.1))
        .map(|r| match JournalRecord::decode(r.1, &r.3).unwrap() {
            JournalRecord::Output(a) => a,
            other => panic!("not an output: {other:?}"),
        })
        .collect()
}

/// A core fed `events`, its actions drained.
pub(super) fn fed(events: &[Event]) -> Core {
    let mut core = Core::try_new(&Config::default(), &[rules()]).unwrap();
    for e in events {
        core.on_event(e);
        while core.next_action().is_some() {}
    }
    core
}

/// The observable state two cores must share.
pub(super) fn assert_same_state(a: &Core, b: &Core) {
    assert_eq!(
        a.position(crate::types::SymbolId(0)),
        b.position(crate::types::SymbolId(0))
    );
    assert_eq!(a.equity().to_bits(), b.equity().to_bits());
    assert_eq!(a.cash(), b.cash());
    assert_eq!(a.halted(), b.halted());
    assert_eq!(a.stats(), b.stats());
    assert_eq!(
        a.risk().peak_equity().to_bits(),
        b.risk().peak_equity().to_bits()
    );
    assert_eq!(a.risk().consecutive_wins(), b.risk().consecutive_wins());
}

pub(super) fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

pub(super) fn copy_dir(from: &Path, to: &Path) {
    for p in segments(from) {
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn replay_of_a_paper_journal_has_zero_mismatches_and_the_scenario_trades() {
    let (dir, live, _) = journal_fixture();
    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    assert_eq!(report.torn, None);
    assert_eq!(report.counts.sessions, 1);
    assert_eq!(report.counts.unknown, 0);
    assert_eq!(report.counts.unjournaled, 0);
    assert!(report.counts.closed_trades >= 5, "{:?}", report.counts);
    let all = records(dir.path());
    assert_eq!(report.counts.records, all.len() as u64);
    assert_eq!(report.next_seq, all.len() as u64);
    // The scenario covers entries, protective stops, partials, stop moves
    // and final exits.
    let outs = outputs(&all);
    let count = |f: &dyn Fn(&Action) -> bool| outs.iter().filter(|a| f(a)).count();
    assert!(count(&|a| matches!(a, Action::Place(o) if !o.reduce_only)) > 0);
    assert!(
        count(
            &|a| matches!(a, Action::Place(o) if matches!(o.kind, crate::orders::OrderKind::StopMarket { .. }))
        ) > 0
    );
    assert!(
        count(&|a| matches!(
            a,
            Action::Record(Record::Exit {
                reason: ExitReason::Partial,
                ..
            })
        )) > 0
    );
    assert!(count(&|a| matches!(a, Action::Record(Record::StopMoved { .. }))) > 0);
    assert!(count(&|a| matches!(a, Action::Cancel { .. })) > 0);
    // The journal's inputs reproduce the live core.
    assert_same_state(&fed(&inputs(&all)), &live);
}

#[test]
fn rebuild_of_a_complete_journal_equals_the_live_core_and_maps_every_order() {
    let (dir, live, _) = journal_fixture();
    let rebuilt = rebuild(dir.path()).unwrap();
    assert_same_state(rebuilt.core.as_ref().unwrap(), &live);
    assert!(rebuilt.in_flight.is_empty(), "{:?}", rebuilt.in_flight);
    assert!(rebuilt.unjournaled.is_empty());
    assert_eq!(rebuilt.first_mismatch, None);
    assert_eq!(rebuilt.config.as_ref(), Some(&Config::default()));
    let all = records(dir.path());
    assert_eq!(rebuilt.next_seq, all.len() as u64);
    let places = outputs(&all)
        .iter()
        .filter(|a| matches!(a, Action::Place(_)))
        .count();
    assert_eq!(rebuilt.orders.len(), places);
    for (id, route) in &rebuilt.orders {
        let want = crate::io::order::ClientOrderId::from_sequence(CLIENT_ID_PREFIX, id.0).unwrap();
        assert_eq!(route.client_id, want);
    }
    // Stops are acknowledged by the exchange; their exchange ids are known.
    assert!(rebuilt.orders.values().any(|r| r.exchange_id.is_some()));
}

#[test]
fn tampered_output_is_the_first_mismatch_with_its_sequence_number() {
    let (dir, _, _) = journal_fixture();
    let mut all = records(dir.path());
    let k = all.iter().position(|r| r.1 == tags::PLACE).unwrap();
    let JournalRecord::Output(Action::Place(original)) =
        JournalRecord::decode(all[k].1, &all[k].3).unwrap()
    else {
        panic!("not a place");
    };
    let mut changed = original;
    changed.qty = Qty(original.qty.0 + original.qty.0);
    let rec = JournalRecord::Output(Action::Place(changed));
    let mut payload = vec![0; rec.encoded_len()];
    rec.encode(&mut payload);
    all[k].3 = payload;
    let copy = tempfile::tempdir().unwrap();
    write_records(copy.path(), &all);

    let report = replay(copy.path(), &mut |_| {}).unwrap();
    let m = report.first_mismatch.unwrap();
    assert_eq!(m.seq, all[k].0);
    assert_eq!(m.expected, Some(Action::Place(changed)));
    assert_eq!(m.actual, Some(Action::Place(original)));
    let input_seq = m.input_seq.unwrap();
    assert!(input_seq < m.seq);
    assert!(schema::is_input(all[input_seq as usize].1));
    assert_eq!(
        report.counts.records,
        m.seq + 1,
        "replay stops at the first mismatch"
    );
    let text = m.to_string();
    assert!(
        text.contains(&format!("first mismatch at record {}", m.seq)),
        "{text}"
    );
    assert!(text.contains("expected : place"), "{text}");
    // A rebuild reports the same mismatch and goes on to the end.
    let rebuilt = rebuild(copy.path()).unwrap();
    assert_eq!(rebuilt.first_mismatch, Some(m));
    assert_eq!(rebuilt.counts.records, all.len() as u64);
}

#[test]
fn missing_and_extra_outputs_are_mismatches() {
    let (dir, _, _) = journal_fixture();
    let all = records(dir.path());
    let k = all.iter().position(|r| r.1 == tags::PLACE).unwrap();
    // Drop the output record: the next record shows the core produced more.
    let mut dropped = all.clone();
    dropped.remove(k);
    let copy = tempfile::tempdir().unwrap();
    write_records(copy.path(), &dropped);
    let m = replay(copy.path(), &mut |_| {})
        .unwrap()
        .first_mismatch
        .unwrap();
    assert!(m.actual.is_some());
    assert_ne!(m.expected, m.actual);
    // Duplicate it: the journal holds an output the core did not produce
    // (or a different one in its place).
    let mut doubled = all.clone();
    doubled.insert(k, all[k].clone());
    let copy2 = tempfile::tempdir().unwrap();
    write_records(copy2.path(), &doubled);
    let m = replay(copy2.path(), &mut |_| {})
        .unwrap()
        .first_mismatch
        .unwrap();
    assert_eq!(m.seq, all[k].0 + 1);
    assert_eq!(
        m.expected,
        JournalRecord::decode(all[k].1, &all[k].3)
            .ok()
            .and_then(|r| match r {
                JournalRecord::Output(a) => Some(a),
                _ => None,
            })
    );
}

#[test]
fn a_place_without_its_outcome_is_in_flight_with_its_client_id_once_sent() {
    let (dir, _, _) = journal_fixture();
    let all = records(dir.path());
    let k = all.iter().position(|r| r.1 == tags::PLACE).unwrap();
    let JournalRecord::Output(Action::Place(intent)) =
        JournalRecord::decode(all[k].1, &all[k].3).unwrap()
    else {
        panic!("not a place");
    };
    // The crash came right after the intent: not sent yet.
    let copy = tempfile::tempdir().unwrap();
    write_records(copy.path(), &all[..=k]);
    let rebuilt = rebuild(copy.path()).unwrap();
    assert_eq!(rebuilt.in_flight.len(), 1);
    assert_eq!(rebuilt.in_flight[0].intent, intent);
    assert_eq!(rebuilt.in_flight[0].client_id, None);
    assert!(rebuilt.orders.is_empty());
    // The rest of that input's outputs were never journaled.
    let later_outputs = all[k + 1..]
        .iter()
        .take_while(|r| schema::is_output(r.1))
        .count();
    assert_eq!(rebuilt.unjournaled.len(), later_outputs);
    assert_eq!(rebuilt.counts.unjournaled, later_outputs as u64);
    // Once the order-sent record is there, the client order id is known.
    let sent = all[k..]
        .iter()
        .position(|r| r.1 == tags::ORDER_SENT)
        .unwrap()
        + k;
    let copy2 = tempfile::tempdir().unwrap();
    write_records(copy2.path(), &all[..=sent]);
    let rebuilt = rebuild(copy2.path()).unwrap();
    let want =
        crate::io::order::ClientOrderId::from_sequence(CLIENT_ID_PREFIX, intent.id.0).unwrap();
    assert_eq!(rebuilt.in_flight.len(), 1);
    assert_eq!(rebuilt.in_flight[0].client_id, Some(want));
    assert_eq!(rebuilt.orders[&intent.id].client_id, want);
    // After its fill, nothing is in flight.
    let filled = all[k..].iter().position(|r| r.1 == tags::FILL).unwrap() + k;
    let copy3 = tempfile::tempdir().unwrap();
    write_records(copy3.path(), &all[..=filled]);
    let rebuilt = rebuild(copy3.path()).unwrap();
    assert!(rebuilt.in_flight.iter().all(|f| f.intent.id != intent.id));
}

#[test]
fn a_journal_spanning_a_restart_rebuilds_to_the_same_state_as_one_session() {
    let cfg = Config::default();
    let rows = rows(DAYS);
    let (continuous, live) = {
        let dir = tempfile::tempdir().unwrap();
        let (core, _) = session(dir.path(), &cfg, sim(&cfg), &rows, true);
        (dir, core)
    };
    let split = tempfile::tempdir().unwrap();
    let half = rows.len() / 2 + 17;
    let (_, exchange) = session(split.path(), &cfg, sim(&cfg), &rows[..half], false);
    let (restarted, _) = session(split.path(), &cfg, exchange, &rows[half..], true);
    assert_same_state(&restarted, &live);

    let report = replay(split.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    assert_eq!(report.counts.sessions, 2);
    let one = replay(continuous.path(), &mut |_| {}).unwrap();
    assert_eq!(report.counts.inputs, one.counts.inputs);
    assert_eq!(report.counts.outputs, one.counts.outputs);
    let rebuilt = rebuild(split.path()).unwrap();
    assert_same_state(rebuilt.core.as_ref().unwrap(), &live);
    assert!(rebuilt.session_changes.is_empty());
}

#[test]
fn a_restart_with_another_config_applies_the_reloadable_change_and_reports_it() {
    let cfg = Config::default();
    let rows = rows(1);
    let dir = tempfile::tempdir().unwrap();
    let (_, exchange) = session(dir.path(), &cfg, sim(&cfg), &rows[..600], false);
    let mut changed = cfg.clone();
    changed.risk.cooldown_minutes += 1;
    let (_, _) = session(dir.path(), &changed, exchange, &rows[600..], false);
    let rebuilt = rebuild(dir.path()).unwrap();
    assert_eq!(rebuilt.config.as_ref(), Some(&changed));
    assert_eq!(rebuilt.session_changes.len(), 1);
    let change = &rebuilt.session_changes[0];
    assert!(!change.rules_changed);
    assert_eq!(change.refused, None);
    assert!(
        change
            .config_changes
            .iter()
            .any(|c| c.starts_with("risk.cooldown_minutes")),
        "{change:?}"
    );
    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    assert_eq!(report.session_changes, rebuilt.session_changes);

    let mut other = cfg.clone();
    other.market.symbols = vec!["ETH-USDT".into()];
    let e = SimSession::open(
        dir.path(),
        &other,
        &[rules()],
        sim(&cfg),
        Mode::Paper,
        TimestampNs(0),
        options(256 << 10),
    );
    // The session record is written; the next rebuild refuses it.
    drop(e);
    match rebuild(dir.path()) {
        Err(ReplayError::SymbolsChanged { first, now, .. }) => {
            assert_eq!(first, "BTC-USDT");
            assert_eq!(now, "ETH-USDT");
        }
        other => panic!("expected SymbolsChanged, got {other:?}"),
    }
}

#[test]
fn empty_journal_rebuilds_to_nothing_and_inputs_before_a_session_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rebuilt = rebuild(&dir.path().join("missing")).unwrap();
    assert!(rebuilt.core.is_none());
    assert_eq!(rebuilt.next_seq, 0);
    assert_eq!(rebuilt.counts, ReplayCounts::default());

    let mut w = journal::Writer::open(dir.path(), options(64 << 10)).unwrap();
    schema::write(
        &mut w,
        TimestampNs(1),
        &JournalRecord::Input(Event::Clock(TimestampNs(1))),
    )
    .unwrap();
    w.close().unwrap();
    assert!(matches!(
        rebuild(dir.path()),
        Err(ReplayError::InputBeforeSession { seq: 0 })
    ));
}

#[test]
fn journal_event_writes_the_input_then_every_output_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = journal::Writer::open(dir.path(), options(1 << 20)).unwrap();
    let mut core = Core::try_new(&Config::default(), &[rules()]).unwrap();
    let mut seen = Vec::new();
    let mut total = 0;
    for r in rows(1) {
        let e = match r {
            Row::Candle(c) => Event::Candle(c),
            Row::Trade(t) => Event::Trade(t),
        };
        total += journal_event(&mut w, &mut core, &e, e.ts(), |a| seen.push(a)).unwrap();
    }
    let e = Event::Control {
        command: Command::Halt,
        ts: TimestampNs(1),
    };
    total += journal_event(&mut w, &mut core, &e, TimestampNs(1), |a| seen.push(a)).unwrap();
    w.close().unwrap();
    assert_eq!(total, seen.len());
    assert!(seen
        .iter()
        .any(|a| matches!(a, Action::Record(Record::Halted { .. }))));
    let all = records(dir.path());
    assert_eq!(outputs(&all), seen);
    assert_eq!(inputs(&all).len(), 1441);
    assert!(schema::is_input(all[0].1));
}

#[test]
fn journal_event_allocates_nothing_after_warm_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = journal::Writer::open(dir.path(), options(16 << 20)).unwrap();
    let mut core = Core::try_new(&Config::default(), &[rules()]).unwrap();
    let events: Vec<Event> = rows(2)
        .into_iter()
        .map(|r| match r {
            Row::Candle(c) => Event::Candle(c),
            Row::Trade(t) => Event::Trade(t),
        })
        .collect();
    let (warm, measured) = events.split_at(1500);
    for e in warm {
        journal_event(&mut w, &mut core, e, e.ts(), |_| {}).unwrap();
    }
    let mut actions = 0usize;
    let mut failed = false;
    let info = allocation_counter::measure(|| {
        for e in measured {
            match journal_event(&mut w, &mut core, e, e.ts(), |_| actions += 1) {
                Ok(_) => {}
                Err(_) => failed = true,
            }
        }
    });
    assert!(!failed);
    assert!(actions > 0);
    assert_eq!(info.count_total, 0, "journal_event allocated");
}

/// Index of the first input followed by a placement among its outputs, and
/// the number of its outputs.
fn input_with_place(all: &[(u64, u16, i64, Vec<u8>)]) -> (usize, usize) {
    let k = all.iter().position(|r| r.1 == tags::PLACE).unwrap();
    let input = (0..k).rev().find(|&i| schema::is_input(all[i].1)).unwrap();
    let n = all[input + 1..]
        .iter()
        .take_while(|r| schema::is_output(r.1))
        .count();
    (input, n)
}

#[test]
fn outputs_lost_to_a_crash_before_a_restart_are_counted_not_mismatched() {
    let (dir, _, _) = journal_fixture();
    let all = records(dir.path());
    let (input, n) = input_with_place(&all);
    assert!(n >= 2);
    let session = all[0].clone();
    assert_eq!(session.1, tags::SESSION);
    // The crash lost the outputs; the restart wrote its session record.
    let mut lost = all[..=input].to_vec();
    lost.push(session.clone());
    lost.extend_from_slice(&all[input + 1 + n..]);
    let copy = tempfile::tempdir().unwrap();
    write_records(copy.path(), &lost);
    let report = replay(copy.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    assert_eq!(report.counts.unjournaled, n as u64);
    assert_eq!(report.counts.sessions, 2);
    // The restart journaled them before its session record: all matched.
    let mut recovered = all[..=input + n].to_vec();
    recovered.push(session);
    recovered.extend_from_slice(&all[input + 1 + n..]);
    let copy2 = tempfile::tempdir().unwrap();
    write_records(copy2.path(), &recovered);
    let report = replay(copy2.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    assert_eq!(report.counts.unjournaled, 0);
}

#[test]
fn a_sim_session_restarted_after_a_crash_journals_and_executes_the_lost_outputs() {
    let (dir, _, _) = journal_fixture();
    let all = records(dir.path());
    let (input, n) = input_with_place(&all);
    let copy = tempfile::tempdir().unwrap();
    write_records(copy.path(), &all[..=input]);
    let before = rebuild(copy.path()).unwrap();
    assert_eq!(before.unjournaled.len(), n);
    assert_eq!(before.in_flight.len(), 1);
    let cfg = Config::default();
    let s = SimSession::open(
        copy.path(),
        &cfg,
        &[rules()],
        sim(&cfg),
        Mode::Paper,
        TimestampNs(0),
        options(256 << 10),
    )
    .unwrap();
    assert_eq!(s.in_flight().len(), 1);
    s.finish().unwrap();
    let after = rebuild(copy.path()).unwrap();
    assert!(after.unjournaled.is_empty());
    assert_eq!(after.counts.unjournaled, 0);
    // The exchange answered the placement (a fresh simulated exchange has
    // no price yet, so it rejects it): nothing is in flight any more.
    assert!(after.in_flight.is_empty(), "{:?}", after.in_flight);
    assert_eq!(after.first_mismatch, None);
    assert!(after.counts.inputs > before.counts.inputs);
}

#[test]
fn rebuild_reads_a_journal_its_writer_is_still_appending_to() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::default();
    let rows = rows(2);
    let mut s = SimSession::open(
        dir.path(),
        &cfg,
        &[rules()],
        sim(&cfg),
        Mode::Paper,
        rows[0].timestamp(),
        options(256 << 10),
    )
    .unwrap();
    for (k, r) in rows.iter().enumerate() {
        s.on_row(r).unwrap();
        if k == 1800 || k == rows.len() - 1 {
            let rebuilt = rebuild(dir.path()).unwrap();
            assert_same_state(rebuilt.core.as_ref().unwrap(), s.core());
            assert_eq!(rebuilt.next_seq, s.next_seq());
            assert_eq!(rebuilt.torn, None);
            assert_eq!(rebuilt.first_mismatch, None);
        }
    }
    s.finish().unwrap();
}
