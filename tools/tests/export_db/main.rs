//! `journal-dump --follow --sqlite FILE` and `--postgres URL` against real databases: a demo
//! journal is replayed record by record into a live journal while the exporter follows it
//! and is killed with SIGKILL at random points; after every kill the database holds exactly
//! the rows of the records before its stored position, and at the end its row counts and sums
//! equal `journal-dump --trades` and `--stats` and a reference count of the journal.
#![allow(clippy::unwrap_used, reason = "test code")]

#[path = "../util/pg_server.rs"]
mod pg_server;
#[path = "../util/servers.rs"]
mod servers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use bingx_sim::{SimConfig, Simulator, Speed};
use tools::dump::export::schema::TABLES;
use trading_engine::journal_schema::{tags, JournalRecord};
use trading_engine::runtime::demo::{demo, DemoOptions, DemoSpeed, DemoVenue};

use pg_server::Postgres;
use servers::{signal, wait_bounded};

/// Runs a short demo into `journal` (as the journal_dump tests do: the
/// engine in live mode against the in-process TLS simulator).
fn demo_journal(journal: &Path) {
    let opts = DemoOptions {
        speed: DemoSpeed::Times(6_000.0),
        duration: Duration::from_secs(6),
        journal: Some(journal.to_path_buf()),
        status_line: false,
        pin: false,
        signals: false,
        ..DemoOptions::default()
    };
    let sim = Simulator::start(SimConfig {
        tls: true,
        cert_out: Some(journal.with_file_name("sim-ca.pem")),
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
    demo(&opts, &venue, journal, &mut Vec::new()).unwrap();
    sim.shutdown();
}

/// Waits (bounded) until process `pid` catches SIGTERM, so a TERM sent to
/// an exporter that had nothing left to export is never taken before its
/// handler is installed (the default action would end it by the signal).
fn wait_for_term_handler(pid: u32) {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        if caught & (1 << (15 - 1)) != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} never installed its SIGTERM handler");
}

/// One record of the source journal.
struct Rec {
    tag: u16,
    ts_ns: i64,
    payload: Vec<u8>,
}

fn read_all(dir: &Path) -> Vec<Rec> {
    let mut reader = journal::Reader::open(dir).unwrap();
    let mut v = Vec::new();
    while let Some(r) = reader.next() {
        let r = r.unwrap();
        v.push(Rec {
            tag: r.type_tag,
            ts_ns: r.ts_ns,
            payload: r.payload.to_vec(),
        });
    }
    v
}

/// Rows each table should hold for the records before `end`.
fn expected_rows(records: &[Rec], end: usize) -> BTreeMap<&'static str, u64> {
    let mut m: BTreeMap<&'static str, u64> = TABLES.iter().map(|t| (t.name, 0)).collect();
    let mut days = std::collections::BTreeSet::new();
    for r in &records[..end] {
        if let Some(t) = TABLES.iter().find(|t| t.tags.contains(&r.tag)) {
            *m.get_mut(t.name).unwrap() += 1;
        }
        match JournalRecord::decode(r.tag, r.payload.as_slice()).unwrap() {
            JournalRecord::Snapshot(s) => {
                *m.get_mut("positions").unwrap() += s.open_positions().count() as u64;
            }
            JournalRecord::Daily(d) => {
                days.insert(d.day);
            }
            JournalRecord::Output(trading_engine::core::Action::Record(
                trading_engine::core::Record::TradeClosed(t),
            )) => {
                days.insert(t.exit_ts.as_ms().div_euclid(86_400_000));
            }
            _ => {}
        }
    }
    *m.get_mut("daily_metrics").unwrap() = days.len() as u64;
    m
}

/// A small deterministic generator for the kill points (seed printed for a rerun).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below.max(1)
    }
}

/// What the exporter writes into.
trait Db {
    /// The `journal-dump` arguments selecting it.
    fn args(&self) -> Vec<String>;
    /// `SELECT COUNT(*)`-style scalar.
    fn int(&mut self, sql: &str) -> i64;
    /// `SELECT SUM(...)`-style scalar.
    fn real(&mut self, sql: &str) -> f64;
    /// The query counting the tables named `$NAME`.
    fn tables_sql(&self) -> &'static str;
}

struct Pg {
    url: String,
    client: postgres::Client,
}

impl Db for Pg {
    fn args(&self) -> Vec<String> {
        vec!["--postgres".into(), self.url.clone()]
    }
    fn int(&mut self, sql: &str) -> i64 {
        self.client.query_one(sql, &[]).unwrap().get(0)
    }
    fn real(&mut self, sql: &str) -> f64 {
        self.client
            .query_one(sql, &[])
            .unwrap()
            .get::<_, Option<f64>>(0)
            .unwrap_or(0.0)
    }
    fn tables_sql(&self) -> &'static str {
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '$NAME'"
    }
}

struct Lite {
    file: PathBuf,
}

impl Lite {
    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.file).unwrap()
    }
}

impl Db for Lite {
    fn args(&self) -> Vec<String> {
        vec!["--sqlite".into(), self.file.display().to_string()]
    }
    fn int(&mut self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
    fn real(&mut self, sql: &str) -> f64 {
        self.conn()
            .query_row(sql, [], |r| r.get::<_, Option<f64>>(0))
            .unwrap()
            .unwrap_or(0.0)
    }
    fn tables_sql(&self) -> &'static str {
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '$NAME'"
    }
}

fn journal_dump() -> Command {
    Command::new(env!("CARGO_BIN_EXE_journal-dump"))
}

/// Checks that the database holds exactly the rows of the records before its stored
/// position; returns that position.
fn check_consistent(db: &mut dyn Db, records: &[Rec]) -> usize {
    let has = |db: &mut dyn Db, name: &str| db.int(&db.tables_sql().replace("$NAME", name)) > 0;
    if !has(db, "te_export_position") {
        // Killed before the first migration committed: none of its tables exist.
        for t in &TABLES {
            assert!(
                !has(db, t.name),
                "{} exists without the position table",
                t.name
            );
        }
        return 0;
    }
    let pos =
        usize::try_from(db.int("SELECT next_seq FROM te_export_position WHERE id = 1")).unwrap();
    assert!(pos <= records.len());
    let want = expected_rows(records, pos);
    for (table, n) in &want {
        let got = db.int(&format!("SELECT COUNT(*) FROM {table}"));
        assert_eq!(got as u64, *n, "table {table} at position {pos}");
    }
    for t in TABLES
        .iter()
        .filter(|t| t.columns.first().is_some_and(|c| c.name == "seq"))
    {
        let beyond = db.int(&format!(
            "SELECT COUNT(*) FROM {} WHERE seq >= {pos}",
            t.name
        ));
        assert_eq!(beyond, 0, "{} has rows at or after position {pos}", t.name);
    }
    pos
}

/// Copies the demo journal into a live journal in steps while a following exporter is killed
/// at random points, then lets it catch up and compares the database with the journal.
fn follow_with_kills(db: &mut dyn Db, rounds: usize) {
    let src = tempfile::tempdir().unwrap();
    let src_journal = src.path().join("journal");
    demo_journal(&src_journal);
    let records = read_all(&src_journal);
    assert!(
        records.len() > 1_000,
        "a demo journal has thousands of records"
    );
    let live = tempfile::tempdir().unwrap();
    let mut writer = journal::Writer::open(
        live.path(),
        journal::WriterOptions {
            segment_bytes: 1 << 20,
            durability: journal::Durability::None,
            prefault: false,
            precreate_next: true,
        },
    )
    .unwrap();
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill points seed {seed}");
    let mut rng = Rng(seed);
    let mut written = 0;
    let mut kills_mid_export = 0;
    for round in 0..rounds {
        // The engine appends more records...
        let chunk = records.len() / rounds;
        let end = if round + 1 == rounds {
            records.len()
        } else {
            written + chunk
        };
        for r in &records[written..end] {
            writer.append(r.tag, r.ts_ns, &r.payload).unwrap();
        }
        written = end;
        // ...while the exporter follows, and dies at a random point.
        let mut child = journal_dump()
            .arg(live.path())
            .args(db.args())
            .args(["--follow", "--commit-records", "97"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50 + rng.next(400)));
        signal(child.id(), "KILL");
        let status = wait_bounded(&mut child, Duration::from_secs(10)).unwrap();
        assert!(!status.success(), "the exporter was killed");
        let pos = check_consistent(db, &records);
        if pos < written {
            kills_mid_export += 1;
        }
    }
    writer.close().unwrap();
    eprintln!("{kills_mid_export} of {rounds} kills landed before the exporter caught up");
    // The last run follows to the end and stops on SIGTERM like under a service manager.
    let mut child = journal_dump()
        .arg(live.path())
        .args(db.args())
        .arg("--follow")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    // Only the position while the exporter runs (the counts would race its commits).
    let position = |db: &mut dyn Db| {
        let has = db.int(&db.tables_sql().replace("$NAME", "te_export_position")) > 0;
        if has {
            db.int("SELECT next_seq FROM te_export_position WHERE id = 1") as usize
        } else {
            0
        }
    };
    while position(db) < records.len() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the exporter did not catch up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for_term_handler(child.id());
    signal(child.id(), "TERM");
    let status = wait_bounded(&mut child, Duration::from_secs(20)).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(status.success(), "{status:?} {out}");
    assert!(out.starts_with("Exported "), "{out}");
    assert_eq!(check_consistent(db, &records), records.len());
    compare_with_dump(db, live.path());
}

/// Row counts and sums against `journal-dump --trades` and `--stats`.
fn compare_with_dump(db: &mut dyn Db, dir: &Path) {
    let trades = journal_dump().arg(dir).arg("--trades").output().unwrap();
    assert!(trades.status.success());
    let csv = String::from_utf8(trades.stdout).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let pnl_col = header.iter().position(|h| *h == "pnl").unwrap();
    let fees_col = header.iter().position(|h| *h == "fees").unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let sum = |col: usize| {
        rows.iter()
            .map(|r| r[col].parse::<f64>().unwrap())
            .sum::<f64>()
    };
    assert_eq!(db.int("SELECT COUNT(*) FROM trades"), rows.len() as i64);
    assert!((db.real("SELECT SUM(pnl) FROM trades") - sum(pnl_col)).abs() < 1e-6);
    assert!((db.real("SELECT SUM(fees) FROM trades") - sum(fees_col)).abs() < 1e-6);
    let stats = journal_dump()
        .arg(dir)
        .args(["--stats", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let by_type = |name: &str| v["by_type"][name].as_i64().unwrap_or(0);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM trades"),
        v["trades"].as_i64().unwrap()
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM trades WHERE pnl > 0"),
        v["wins"].as_i64().unwrap()
    );
    assert_eq!(db.int("SELECT COUNT(*) FROM fills"), by_type("fill"));
    assert_eq!(
        db.int("SELECT COUNT(*) FROM equity WHERE source = 'equity'"),
        by_type("equity")
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM risk_rejections"),
        by_type("risk_rejected")
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM orders WHERE event = 'place'"),
        by_type("place")
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM events WHERE type = 'session'"),
        1
    );
    let daily_trades = db.int("SELECT CAST(COALESCE(SUM(trades), 0) AS BIGINT) FROM daily_metrics WHERE source = 'trades'");
    assert!(daily_trades <= v["trades"].as_i64().unwrap());
    assert_eq!(db.int("SELECT MAX(version) FROM te_schema_version"), 1);
    assert_eq!(db.int("SELECT COUNT(*) FROM funding"), 0);
    // Every trade carries its names.
    assert_eq!(
        db.int(
            "SELECT COUNT(*) FROM trades WHERE symbol <> 'BTC-USDT' OR strategy LIKE 'strategy%'"
        ),
        0
    );
}

#[test]
fn postgres_export_follows_a_live_journal_through_kill_9_without_duplicates_or_gaps() {
    let Some(server) = Postgres::start() else {
        return;
    };
    server
        .client("postgres")
        .batch_execute("CREATE DATABASE te_export")
        .unwrap();
    let url = server.url("te_export");
    let mut db = Pg {
        client: server.client("te_export"),
        url,
    };
    follow_with_kills(&mut db, 8);
    // A time-series query an operator runs uses the time index and real timestamps.
    let n: i64 = db
        .client
        .query_one(
            "SELECT COUNT(*) FROM equity WHERE time > now() - interval '100 years'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(n > 0);
}

#[test]
fn sqlite_export_follows_a_live_journal_through_kill_9_without_duplicates_or_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Lite {
        file: dir.path().join("export.sqlite"),
    };
    follow_with_kills(&mut db, 6);
}

#[test]
fn an_export_refuses_another_journal_and_a_password_on_the_command_line() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for (dir, ts) in [(a.path(), 1_000), (b.path(), 2_000)] {
        let mut w = journal::Writer::open(
            dir,
            journal::WriterOptions {
                segment_bytes: 4096,
                durability: journal::Durability::None,
                prefault: false,
                precreate_next: false,
            },
        )
        .unwrap();
        w.append(tags::CLOCK, ts, &ts.to_le_bytes()).unwrap();
        w.close().unwrap();
    }
    let db = tempfile::tempdir().unwrap();
    let file = db.path().join("x.sqlite");
    let run = |dir: &Path, extra: &[&str]| {
        journal_dump()
            .arg(dir)
            .arg("--sqlite")
            .arg(&file)
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(run(a.path(), &[]).status.success());
    let other = run(b.path(), &[]);
    assert_eq!(other.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&other.stderr).contains("another journal"));
    let pw = journal_dump()
        .arg(a.path())
        .args(["--postgres", "postgresql://u:sekret@127.0.0.1:1/db"])
        .output()
        .unwrap();
    assert_eq!(pw.status.code(), Some(1));
    let err = String::from_utf8_lossy(&pw.stderr);
    assert!(
        err.contains("PGPASSWORD") && !err.contains("sekret"),
        "{err}"
    );
}
