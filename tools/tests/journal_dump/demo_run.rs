//! `journal-dump` on the journal of a real `trading-engine demo` run (the engine in live mode
//! against the in-process TLS simulator): every format, type and time filters, `--stats` and
//! `--latency` equal to the engine's own counters and histograms, `--trades` equal to the trades
//! the run closed, `--verify` clean and on a corrupted copy, SQLite rows per trade and UTC day.

use std::path::Path;
use std::time::Duration;

use bingx_sim::{SimConfig, Simulator, Speed};
use trading_engine::journal_schema::{tag_of, tags};
use trading_engine::metrics::latency::Stage;
use trading_engine::runtime::demo::{demo, DemoOptions, DemoReport, DemoSpeed, DemoVenue};

use crate::engine_run::expected_from_journal;
use crate::{check_engine_journal, dump, expected_trades_csv, json_lines, offset_in, seqs};

/// Runs a short demo into `journal`: 6 wall seconds at 6000x, the ten market hours of the
/// default demo (where the demo strategies enter several times; how many trades close depends
/// on where the generated market starts, so no count is asserted).
/// The simulator is started as `trading-engine demo` starts it (TLS, the generated market of the
/// default seed, a day of warm-up history).
fn demo_run(journal: &Path) -> DemoReport {
    let opts = DemoOptions {
        speed: DemoSpeed::Times(6_000.0),
        duration: Duration::from_secs(6),
        journal: Some(journal.to_path_buf()),
        status_line: false,
        pin: false,
        signals: false,
        ..DemoOptions::default()
    };
    let cert = journal.with_file_name("sim-ca.pem");
    let sim = Simulator::start(SimConfig {
        tls: true,
        cert_out: Some(cert),
        speed: Speed::Times(6_000.0),
        seed: opts.seed,
        warmup_minutes: 1_440,
        ..SimConfig::default()
    })
    .unwrap();
    let venue = DemoVenue {
        rest_base: sim.rest_base(),
        ws_url: sim.ws_url(),
        ca_file: sim.cert_path().map(Path::to_path_buf),
        api_key: sim.api_key().to_owned(),
        api_secret: bingx_sim::DEFAULT_API_SECRET.to_owned(),
    };
    let report = demo(&opts, &venue, journal, &mut Vec::new()).unwrap();
    sim.shutdown();
    report
}

/// Header times of every record, in order.
fn record_times(dir: &Path) -> Vec<i64> {
    let mut reader = journal::Reader::open(dir).unwrap();
    let mut v = Vec::new();
    while let Some(r) = reader.next() {
        v.push(r.unwrap().ts_ns);
    }
    v
}

#[test]
fn a_demo_run_journal_dumps_consistently_with_the_engines_own_counts() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let report = demo_run(&journal);
    let run = &report.run;
    let c = run.hot.counters;
    let expected = expected_from_journal(&journal);

    // The reference reader agrees with the engine: every record but the session one and the
    // checkpoint written at shutdown is the hot thread's, the trades are the ones the service
    // thread collected.
    let n = |tag: u16| expected.by_tag.get(&tag).copied().unwrap_or(0);
    assert!(n(tags::CHECKPOINT) >= 1, "a checkpoint at shutdown");
    assert_eq!(
        expected.records,
        c.journal_records + 1 + n(tags::CHECKPOINT)
    );
    assert_eq!(c.journal_failures, 0);
    let closed: Vec<_> = expected.trades.iter().map(|(t, _)| *t).collect();
    assert_eq!(closed, run.service.trades);
    assert_eq!(closed.len() as u64, c.closed_trades);
    assert_eq!(expected.frames, c.frames);
    assert_eq!(n(tags::TRADE), c.trades);
    assert_eq!(n(tags::FILL), c.fills);
    // Orders decided on warm-up history are refused, not sent (journaled
    // as order_refused), so the core's place outputs count both.
    assert_eq!(
        n(tag_of("place").unwrap()),
        c.orders + n(tag_of("order_refused").unwrap())
    );
    assert_eq!(n(tag_of("equity").unwrap()), c.equity_samples);
    assert_eq!(n(tag_of("daily").unwrap()), c.daily_records);
    assert!(c.daily_records >= 1, "the day in progress at shutdown");
    assert_eq!(n(tags::SHUTDOWN), 1);

    // Every format and the stats, trades, SQLite and verify checks of any engine journal.
    check_engine_journal(&journal, &expected);

    // Stats beyond the counts: trades, wins and the final equity are the engine's.
    let (code, out, _) = dump(&journal, &["--stats", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["trades"].as_u64().unwrap(), c.closed_trades);
    assert_eq!(v["wins"].as_u64().unwrap(), c.wins);
    assert_eq!(v["shutdowns"], 1);
    let equity_end = v["equity_end"].as_f64().unwrap();
    assert!(
        (equity_end - run.hot.equity).abs() < 1e-6,
        "{equity_end} vs {}",
        run.hot.equity
    );

    // --trades: the run's closed trades under the backtest's header.
    let (code, out, _) = dump(&journal, &["--trades"]);
    assert_eq!(code, 0);
    assert_eq!(out, expected_trades_csv(&expected.trades));
    assert_eq!(out.lines().count(), run.service.trades.len() + 1);

    // --latency: the journaled frame timings give the runtime's own histograms.
    let (code, out, err) = dump(&journal, &["--latency", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["frames"].as_u64().unwrap(), c.frames);
    for stage in [
        Stage::Parse,
        Stage::CandlesIndicators,
        Stage::StrategiesRisk,
        Stage::TickToOrder,
    ] {
        let mine = run.latency.get(stage);
        let theirs = &v["stages"][stage.name()];
        assert_eq!(
            theirs["count"].as_u64().unwrap(),
            mine.count,
            "{}",
            stage.name()
        );
        if mine.count > 0 {
            assert_eq!(
                theirs["p50_ns"].as_u64().unwrap(),
                mine.p50_ns,
                "{}",
                stage.name()
            );
            assert_eq!(
                theirs["p99_ns"].as_u64().unwrap(),
                mine.p99_ns,
                "{}",
                stage.name()
            );
            assert_eq!(
                theirs["max_ns"].as_u64().unwrap(),
                mine.max_ns,
                "{}",
                stage.name()
            );
        }
    }

    // Type filter: exactly the records of those types.
    let (code, out, _) = dump(
        &journal,
        &["--format", "json", "--type", "equity", "--type", "daily"],
    );
    assert_eq!(code, 0);
    let values = json_lines(&out);
    assert_eq!(values.len() as u64, c.equity_samples + c.daily_records);
    assert!(values
        .iter()
        .all(|v| v["type"] == "equity" || v["type"] == "daily"));

    // Time filter: exactly the records in [from, to) (whole ms, the middle of the run).
    let times = record_times(&journal);
    let (first, last) = (times[0] / 1_000_000, *times.last().unwrap() / 1_000_000);
    let (from, to) = (first + (last - first) / 3, first + 2 * (last - first) / 3);
    let want: Vec<u64> = times
        .iter()
        .enumerate()
        .filter(|(_, t)| **t >= from * 1_000_000 && **t < to * 1_000_000)
        .map(|(i, _)| i as u64)
        .collect();
    let (code, out, _) = dump(
        &journal,
        &[
            "--format",
            "json",
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
        ],
    );
    assert_eq!(code, 0);
    assert!(!want.is_empty());
    assert_eq!(seqs(&json_lines(&out)), want);

    // A corrupted copy: --verify exits non-zero naming the segment and the offset.
    let copy = tempfile::tempdir().unwrap();
    let mut segment = None;
    for e in std::fs::read_dir(&journal).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "seg") {
            std::fs::copy(&p, copy.path().join(p.file_name().unwrap())).unwrap();
            segment.get_or_insert(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let segment = segment.unwrap();
    let path = copy.path().join(&segment);
    let mut bytes = std::fs::read(&path).unwrap();
    let used = bytes.iter().rposition(|b| *b != 0).unwrap();
    let at = used / 2;
    bytes[at] ^= 0x5A;
    std::fs::write(&path, bytes).unwrap();
    let (code, out, _) = dump(copy.path(), &["--verify"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.starts_with("CORRUPT: segment "), "{out}");
    assert!(out.contains(&segment), "{out}");
    let offset = offset_in(&out);
    assert!(
        offset <= at as u64 && at as u64 - offset < 16 << 10,
        "{offset} vs {at}"
    );
}
