//! `journal-dump` end to end: the binary and the library on a journal holding every record
//! type (plus undecodable records) and on one written by a real engine run.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod demo_run;
mod engine_run;
mod fixtures;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use engine_run::EngineRun;
use fixtures::{every_type_journal, EveryType, DAY0_NS, NS_PER_DAY, NS_PER_MIN};
use trading_engine::backtest::{push_trade_csv_row, trades_csv, TRADES_CSV_HEADER};
use trading_engine::journal_schema::{all_type_names, tag_of, tags, type_name, JournalRecord};
use trading_engine::types::TimestampNs;

/// Runs the binary; returns (exit status, stdout, stderr).
fn dump(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_journal-dump"))
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Splits one CSV line into fields (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn seqs(values: &[serde_json::Value]) -> Vec<u64> {
    values.iter().map(|v| v["seq"].as_u64().unwrap()).collect()
}

fn journal() -> (tempfile::TempDir, EveryType) {
    let dir = tempfile::tempdir().unwrap();
    let written = every_type_journal(dir.path());
    (dir, written)
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

#[test]
fn fixture_holds_every_record_type_across_several_segments() {
    let (dir, w) = journal();
    let tags_written: BTreeSet<u16> = w
        .records
        .iter()
        .filter(|r| r.decodable)
        .map(|r| r.tag)
        .collect();
    for name in all_type_names() {
        assert!(
            tags_written.contains(&tag_of(name).unwrap()),
            "no {name} record"
        );
    }
    assert!(segment_files(dir.path()).len() > 1);
}

#[test]
fn text_lists_every_record_in_order_with_undecodable_ones_as_unknown() {
    let (dir, w) = journal();
    let (code, out, err) = dump(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), w.records.len());
    for (line, r) in lines.iter().zip(&w.records) {
        let seq: u64 = line.split_whitespace().next().unwrap().parse().unwrap();
        assert_eq!(seq, r.seq);
        let ty = line.split_whitespace().nth(2).unwrap();
        if r.decodable {
            assert_eq!(ty, type_name(r.tag).unwrap(), "{line}");
        } else {
            assert_eq!(ty, "unknown", "{line}");
            assert!(
                line.contains(&format!("tag={}", r.tag)) && line.contains("error="),
                "{line}"
            );
        }
    }
}

#[test]
fn json_lines_parse_and_carry_seq_type_and_fields() {
    let (dir, w) = journal();
    let (code, out, _) = dump(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0);
    let values = json_lines(&out);
    assert_eq!(
        seqs(&values),
        w.records.iter().map(|r| r.seq).collect::<Vec<_>>()
    );
    for (v, r) in values.iter().zip(&w.records) {
        assert_eq!(v["ts_ns"].as_i64().unwrap(), r.ts_ns);
        let expected = if r.decodable {
            type_name(r.tag).unwrap()
        } else {
            "unknown"
        };
        assert_eq!(v["type"], expected);
        if !r.decodable {
            assert_eq!(v["tag"].as_u64().unwrap(), u64::from(r.tag));
            assert!(v["error"].as_str().unwrap().contains("tag"));
        }
    }
    let closed = values.iter().find(|v| v["type"] == "trade_closed").unwrap();
    assert_eq!(closed["position"], 1);
    assert_eq!(closed["pnl"].as_f64().unwrap(), 2.5);
}

#[test]
fn csv_of_several_types_has_five_columns_and_one_row_per_record() {
    let (dir, w) = journal();
    let (code, out, _) = dump(dir.path(), &["--format", "csv"]);
    assert_eq!(code, 0);
    let mut lines = out.lines();
    assert_eq!(lines.next().unwrap(), "seq,ts_ns,time,type,fields");
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    assert_eq!(rows.len(), w.records.len());
    for (row, r) in rows.iter().zip(&w.records) {
        assert_eq!(row.len(), 5, "{row:?}");
        assert_eq!(row[0].parse::<u64>().unwrap(), r.seq);
        assert_eq!(row[1].parse::<i64>().unwrap(), r.ts_ns);
    }
    let reload = rows.iter().find(|r| r[3] == "reload").unwrap();
    assert!(reload[4].contains("detail=risk.max_positions: must be at least 1, \"quoted\""));
}

#[test]
fn csv_of_one_type_has_that_types_field_names_as_columns() {
    let (dir, w) = journal();
    for name in all_type_names() {
        let tag = tag_of(name).unwrap();
        let expected_rows = w
            .records
            .iter()
            .filter(|r| r.tag == tag && r.decodable)
            .count();
        let (code, out, err) = dump(dir.path(), &["--format", "csv", "--type", name]);
        assert_eq!(code, 0, "{name}: {err}");
        let (_, json, _) = dump(dir.path(), &["--format", "json", "--type", name]);
        let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        let names: Vec<String> = first
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !["seq", "ts_ns", "time", "type"].contains(&k.as_str()))
            .cloned()
            .collect();
        let mut lines = out.lines();
        let mut header = csv_fields(lines.next().unwrap());
        let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
        assert_eq!(rows.len(), expected_rows, "{name}");
        for row in &rows {
            assert_eq!(row.len(), header.len(), "{name}: {row:?}");
        }
        // serde_json's map is sorted; compare as sets.
        header.sort();
        let mut names = names;
        names.sort();
        assert_eq!(header, names, "{name}");
        if name == "trade" {
            assert!(
                err.contains("cannot be decoded"),
                "the truncated trade is reported: {err}"
            );
        }
    }
}

#[test]
fn type_filter_selects_exactly_the_records_of_those_types() {
    let (dir, w) = journal();
    let (code, out, _) = dump(
        dir.path(),
        &[
            "--format",
            "json",
            "--type",
            "trade_closed",
            "--type",
            "stream,halted",
        ],
    );
    assert_eq!(code, 0);
    let wanted = [tags::TRADE_CLOSED, tags::STREAM, tags::HALTED];
    let expected: Vec<u64> = w
        .records
        .iter()
        .filter(|r| wanted.contains(&r.tag))
        .map(|r| r.seq)
        .collect();
    assert_eq!(expected.len(), 5 + 5 + 1);
    assert_eq!(seqs(&json_lines(&out)), expected);
}

#[test]
fn time_filters_select_exactly_the_records_in_the_range_in_every_time_form() {
    let (dir, w) = journal();
    let from = DAY0_NS + 10 * NS_PER_MIN;
    let to = DAY0_NS + NS_PER_DAY;
    let expected: Vec<u64> = w
        .records
        .iter()
        .filter(|r| r.ts_ns >= from && r.ts_ns < to)
        .map(|r| r.seq)
        .collect();
    assert!(!expected.is_empty() && expected.len() < w.records.len());
    for (f, t) in [
        ("2025-01-01T00:10:00Z", "2025-01-02"),
        ("2025-01-01T00:10", "2025-01-02T00:00:00Z"),
        ("2025-01-01 01:10:00+01:00", "1735776000000"),
        ("1735690200000", "2025-01-01T19:00:00-05:00"),
    ] {
        let (code, out, err) = dump(dir.path(), &["--format", "json", "--from", f, "--to", t]);
        assert_eq!(code, 0, "{f} {t}: {err}");
        assert_eq!(seqs(&json_lines(&out)), expected, "{f} .. {t}");
    }
    let (code, _, err) = dump(dir.path(), &["--from", "tomorrow"]);
    assert_eq!(code, 1);
    assert!(err.contains("RFC 3339"), "{err}");
    let (code, _, err) = dump(dir.path(), &["--from", "2025-01-02", "--to", "2025-01-01"]);
    assert_eq!(code, 1);
    assert!(err.contains("--from must be before --to"), "{err}");
}

#[test]
fn unknown_type_is_refused_with_the_list_of_valid_types() {
    let (dir, _) = journal();
    let (code, out, err) = dump(dir.path(), &["--type", "trades_closed"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("unknown record type \"trades_closed\""),
        "{err}"
    );
    for name in all_type_names() {
        assert!(err.contains(name), "{name} missing from {err}");
    }
}

#[test]
fn type_may_come_before_the_directory_and_bad_arguments_exit_one() {
    let (dir, w) = journal();
    let out = Command::new(env!("CARGO_BIN_EXE_journal-dump"))
        .args(["--type", "session", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let values = json_lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(seqs(&values), vec![w.records[0].seq]);
    // Usage errors exit 1 (2 is reserved for corruption).
    let (code, _, err) = dump(dir.path(), &["--stats", "--trades"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = dump(dir.path(), &["--follow-timeout", "1"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = dump(&dir.path().join("nope"), &["--stats"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a journal directory"), "{err}");
}

fn count_by_type(w: &EveryType) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in &w.records {
        *m.entry(type_name(r.tag).unwrap_or("unknown").to_owned())
            .or_insert(0) += 1;
    }
    m
}

#[test]
fn stats_json_counts_equal_what_was_written() {
    let (dir, w) = journal();
    let (code, out, err) = dump(dir.path(), &["--stats", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"].as_u64().unwrap(), w.records.len() as u64);
    let by_type: BTreeMap<String, u64> = v["by_type"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect();
    assert_eq!(by_type, count_by_type(&w));
    assert_eq!(
        v["from_ms"].as_i64().unwrap(),
        w.records[0].ts_ns / 1_000_000
    );
    assert_eq!(
        v["to_ms"].as_i64().unwrap(),
        w.records.last().unwrap().ts_ns / 1_000_000
    );
    assert_eq!(
        v["segments"].as_u64().unwrap(),
        segment_files(dir.path()).len() as u64
    );
    assert_eq!(v["trades"], 5);
    assert_eq!(v["wins"], 3);
    assert_eq!(v["halts"], 1);
    assert_eq!(v["resumes"], 1);
    assert_eq!(v["gaps"], 1);
    assert_eq!(v["reconnects"], 1);
    assert_eq!(v["disconnects"], 1);
    assert_eq!(v["stream_events"], 5);
    assert_eq!(v["sessions"], 1);
    assert_eq!(v["shutdowns"], 1);
    assert_eq!(v["undecodable"], 2);
    assert_eq!(v["equity_start"].as_f64().unwrap(), w.equity_start);
    assert_eq!(v["equity_end"].as_f64().unwrap(), w.equity_end);
    assert!((v["pnl"].as_f64().unwrap() - 3.5).abs() < 1e-9);
    assert!(v["corrupt"].is_null());
}

#[test]
fn stats_text_and_filtered_stats() {
    let (dir, w) = journal();
    let (code, out, _) = dump(dir.path(), &["--stats"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("records         {}\n", w.records.len())),
        "{out}"
    );
    assert!(
        out.contains("equity          10000.00 -> 10003.50"),
        "{out}"
    );
    assert!(
        out.contains("trades          5 (3 wins, pnl 3.50)"),
        "{out}"
    );
    assert!(
        out.contains("streams         5 events, 1 reconnects, 1 disconnects"),
        "{out}"
    );
    let (_, out, _) = dump(
        dir.path(),
        &[
            "--stats",
            "--format",
            "json",
            "--type",
            "trade_closed",
            "--from",
            "2025-01-02",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 2);
    assert_eq!(v["trades"], 2);
    assert_eq!(v["by_type"]["trade_closed"], 2);
}

fn expected_trades_csv(rows: &[(trading_engine::positions::ClosedTrade, &str)]) -> String {
    let mut s = format!("{TRADES_CSV_HEADER}\n");
    for (t, name) in rows {
        push_trade_csv_row(
            &mut s,
            t,
            "BTC-USDT",
            name,
            t.exits as usize,
            trading_engine::money::Money::ZERO,
        );
    }
    s
}

#[test]
fn trades_csv_equals_the_trades_written_under_the_backtest_header() {
    let (dir, w) = journal();
    let (code, out, err) = dump(dir.path(), &["--trades"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "names resolve from the session: {err}");
    assert_eq!(out.lines().next().unwrap(), trades_csv(&[]).trim_end());
    let rows: Vec<_> = w
        .trades
        .iter()
        .map(|t| (*t, w.strategy_names[usize::from(t.strategy.0)]))
        .collect();
    assert_eq!(out, expected_trades_csv(&rows));
    assert!(
        out.contains(",mtf_long,") || out.contains(",trend_distance_short,"),
        "{out}"
    );
}

#[test]
fn latency_percentiles_come_from_the_journaled_frame_timings() {
    let (dir, w) = journal();
    let (code, out, err) = dump(dir.path(), &["--latency", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["frames"].as_u64().unwrap(), w.frames);
    let parse = &v["stages"]["parse"];
    // parse_ns = 1..=1000: exact below 2048 at 3 significant digits.
    assert_eq!(parse["count"], 1000);
    assert_eq!(parse["p50_ns"], 500);
    assert_eq!(parse["p90_ns"], 900);
    assert_eq!(parse["p99_ns"], 990);
    assert_eq!(parse["p999_ns"], 999);
    assert_eq!(parse["max_ns"], 1000);
    assert_eq!(v["stages"]["candles_indicators"]["p50_ns"], 1000);
    assert_eq!(
        v["stages"]["strategies_risk"]["count"], 500,
        "zero means did not run"
    );
    assert_eq!(v["stages"]["enqueue"]["count"], 0);
    let t2o = &v["stages"]["tick_to_order"];
    assert_eq!(t2o["count"], 100);
    let max = t2o["max_ns"].as_f64().unwrap();
    assert!((max - 10_000.0).abs() <= 10.0, "{max}");
    assert_eq!(v["journaled"]["tick_to_order"]["p99_ns"], 3);
    let (code, text, _) = dump(dir.path(), &["--latency"]);
    assert_eq!(code, 0);
    assert!(text.contains("1000 frame timings"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("parse") && l.contains("0.500")),
        "{text}"
    );
    assert!(text.contains("last journaled latency summary"), "{text}");
}

#[test]
fn sqlite_export_has_one_row_per_trade_day_and_system_event() {
    let (dir, w) = journal();
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("journal.sqlite");
    for _ in 0..2 {
        // Twice: the second export resumes at the end of the journal and adds nothing.
        let (code, out, err) = dump(dir.path(), &["--sqlite", db.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("Exported 5 trades, 2 days,"), "{out}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM trades"), w.trades.len() as i64);
    assert_eq!(
        count("SELECT COUNT(*) FROM daily_metrics"),
        w.days.len() as i64
    );
    let event_tags = [
        tags::SESSION,
        tags::HALTED,
        tags::RESUMED,
        tags::GAP,
        tags::STREAM,
        tags::BACKFILL,
        tags::RELOAD,
        tags::OPERATOR,
        tags::CONTROL,
        tags::CORRECTION,
        tags::EXCHANGE_ERROR,
        tags::SHUTDOWN,
    ];
    let events = w
        .records
        .iter()
        .filter(|r| r.decodable && event_tags.contains(&r.tag))
        .count();
    assert_eq!(count("SELECT COUNT(*) FROM events"), events as i64);
    let (trades, wins, pnl, source): (i64, i64, f64, String) = conn
        .query_row(
            "SELECT trades, wins, pnl, source FROM daily_metrics WHERE day = '2025-01-02'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((trades, wins, source.as_str()), (2, 1, "trades"));
    assert!((pnl - 0.5).abs() < 1e-9);
    let source: String = conn
        .query_row(
            "SELECT source FROM daily_metrics WHERE day = '2025-01-01'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(source, "journal");
    let name: String = conn
        .query_row("SELECT strategy FROM trades WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, w.strategy_names[1]);
    let symbol: String = conn
        .query_row("SELECT DISTINCT symbol FROM trades", [], |r| r.get(0))
        .unwrap();
    assert_eq!(symbol, "BTC-USDT");
}

#[test]
fn verify_of_a_clean_journal_exits_zero_with_the_record_count() {
    let (dir, w) = journal();
    let (code, out, _) = dump(dir.path(), &["--verify"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!(
            "OK: {} records in {} segments",
            w.records.len(),
            segment_files(dir.path()).len()
        )),
        "{out}"
    );
}

/// Copies the journal and flips one byte in the middle of the data of its second segment;
/// returns the copy and the segment's file name.
fn corrupted_copy(dir: &Path) -> (tempfile::TempDir, String, u64) {
    let copy = tempfile::tempdir().unwrap();
    for seg in segment_files(dir) {
        std::fs::copy(&seg, copy.path().join(seg.file_name().unwrap())).unwrap();
    }
    // The second segment: the first one's records are printed before the corruption.
    let first = segment_files(copy.path()).remove(1);
    let mut bytes = std::fs::read(&first).unwrap();
    let used = bytes.iter().rposition(|b| *b != 0).unwrap();
    let at = used / 2;
    bytes[at] ^= 0x5A;
    std::fs::write(&first, bytes).unwrap();
    (
        copy,
        first.file_name().unwrap().to_string_lossy().into_owned(),
        at as u64,
    )
}

fn offset_in(text: &str) -> u64 {
    let after = text.split("byte offset ").nth(1).unwrap();
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn verify_and_dump_of_a_corrupted_copy_name_the_segment_and_offset() {
    let (dir, w) = journal();
    let (copy, segment, flipped) = corrupted_copy(dir.path());
    let (code, out, _) = dump(copy.path(), &["--verify"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.starts_with("CORRUPT: segment "), "{out}");
    assert!(out.contains(&segment), "{out}");
    let offset = offset_in(&out);
    assert!(
        offset <= flipped && flipped - offset < 16 << 10,
        "{offset} vs {flipped}"
    );
    // The dump prints every record before the corruption, then reports it and exits 2.
    let (code, listing, err) = dump(copy.path(), &["--format", "json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&segment) && err.contains(&format!("byte offset {offset}")),
        "{err}"
    );
    let printed = seqs(&json_lines(&listing));
    assert!(!printed.is_empty() && printed.len() < w.records.len());
    assert_eq!(printed, (0..printed.len() as u64).collect::<Vec<_>>());
    let (code, stats, _) = dump(copy.path(), &["--stats", "--format", "json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(v["records"].as_u64().unwrap(), printed.len() as u64);
    assert!(v["corrupt"].as_str().unwrap().contains(&segment));
}

#[test]
fn follow_prints_records_appended_while_it_runs_and_stops_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = fixtures::writer(dir.path());
    let rec = |ts: i64| JournalRecord::Input(trading_engine::core::Event::Clock(TimestampNs(ts)));
    for i in 0..3 {
        trading_engine::journal_schema::write(&mut w, TimestampNs(i), &rec(i)).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_journal-dump"))
        .arg(dir.path())
        .args(["--follow", "--follow-timeout", "60", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait = Duration::from_secs(30);
    for i in 0..3 {
        let v: serde_json::Value = serde_json::from_str(&rx.recv_timeout(wait).unwrap()).unwrap();
        assert_eq!(v["seq"], i);
    }
    // Records appended while it runs, across a segment rotation.
    for i in 3..800 {
        trading_engine::journal_schema::write(&mut w, TimestampNs(i), &rec(i)).unwrap();
    }
    for i in 3..800 {
        let v: serde_json::Value = serde_json::from_str(&rx.recv_timeout(wait).unwrap()).unwrap();
        assert_eq!(v["seq"], i);
        assert_eq!(v["type"], "clock");
    }
    assert!(segment_files(dir.path()).len() > 1);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.is_empty(), "{err}");
    w.close().unwrap();
}

#[test]
fn follow_timeout_ends_a_follow_without_new_records() {
    let (dir, w) = journal();
    let (code, out, _) = dump(dir.path(), &["--follow", "--follow-timeout", "0.2"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), w.records.len());
}

/// The checks every journal written by the engine passes: the dump's numbers equal the
/// driver's own counts. A demo-run journal gets one more test: run the demo into a temp dir,
/// then `check_engine_journal(dir, &engine_run::expected_from_journal(dir))` (plus the demo's own
/// trade count against `expected.trades.len()`).
fn check_engine_journal(dir: &Path, run: &EngineRun) {
    // Every line of every format.
    let (code, out, err) = dump(dir, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let values = json_lines(&out);
    assert_eq!(values.len() as u64, run.records);
    assert!(values.iter().all(|v| v["type"] != "unknown"));
    let (code, text, _) = dump(dir, &[]);
    assert_eq!(code, 0);
    assert_eq!(text.lines().count() as u64, run.records);
    let (code, csv, _) = dump(dir, &["--format", "csv"]);
    assert_eq!(code, 0);
    assert!(csv.lines().skip(1).all(|l| csv_fields(l).len() == 5));
    // Stats equal the driver's counts.
    let (code, out, _) = dump(dir, &["--stats", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"].as_u64().unwrap(), run.records);
    for (tag, n) in &run.by_tag {
        assert_eq!(v["by_type"][type_name(*tag).unwrap()].as_u64().unwrap(), *n);
    }
    assert_eq!(v["trades"].as_u64().unwrap(), run.trades.len() as u64);
    assert_eq!(v["from_ms"].as_i64().unwrap(), run.first_ts / 1_000_000);
    assert_eq!(v["to_ms"].as_i64().unwrap(), run.last_ts / 1_000_000);
    // Trades as the backtest writes them.
    let (code, out, err) = dump(dir, &["--trades"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, expected_trades_csv(&run.trades));
    // SQLite rows.
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("run.sqlite");
    let (code, _, err) = dump(dir, &["--sqlite", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(
        count("SELECT COUNT(*) FROM trades"),
        run.trades.len() as i64
    );
    // One row per UTC day with a closed trade or a journaled `daily` record.
    let days = run.trade_days.union(&run.daily_days).count();
    assert_eq!(count("SELECT COUNT(*) FROM daily_metrics"), days as i64);
    let (code, out, _) = dump(dir, &["--verify"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!("OK: {} records", run.records)),
        "{out}"
    );
}

#[test]
fn engine_run_journal_dumps_consistently_with_the_engines_own_counts() {
    let dir = tempfile::tempdir().unwrap();
    let run = engine_run::engine_run_journal(dir.path(), 4, 1);
    assert!(!run.trades.is_empty(), "the synthetic market trades");
    assert!(run.trade_days.iter().all(|d| *d >= DAY0_NS / NS_PER_DAY));
    // The reference reader a demo-run test uses agrees with the driver's own counts.
    assert_eq!(engine_run::expected_from_journal(dir.path()), run);
    check_engine_journal(dir.path(), &run);
}

#[test]
fn library_filter_validates_types_and_times() {
    use tools::dump::{DumpError, Filter};
    let f = Filter::try_new(
        &["trade".into(), "trade".into(), "fill".into()],
        Some("0"),
        None,
    )
    .unwrap();
    assert_eq!(f.tags, vec![tags::TRADE, tags::FILL]);
    assert!(f.matches(tags::FILL, 0) && !f.matches(tags::FILL, -1) && !f.matches(tags::ACK, 5));
    assert!(matches!(
        Filter::try_new(&["nope".into()], None, None),
        Err(DumpError::UnknownType(_))
    ));
    assert!(matches!(
        Filter::try_new(&[], Some("2025-01-02"), Some("2025-01-02")),
        Err(DumpError::EmptyRange)
    ));
}
