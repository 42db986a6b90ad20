//! `data download` end to end against a scripted loopback archive server:
//! archives built in the test from real rows of the shared data, served
//! with their SHA-256 CHECKSUM files; the CLI binary fetches, verifies and
//! leaves files that `trading_engine::datafile` reads. Also resume, bad
//! checksums, 404s, the monthly-to-daily fallback, chunked bodies and BingX
//! klines through the REST client.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

mod util;

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use trading_engine::datafile::{DataFile, FileKind, Record};
use trading_engine::history::checksum::sha256;
use trading_engine::history::{self, Date, DownloadRequest, HistoryError, Kind, Outcome, Source};
use trading_engine::types::SymbolId;
use util::server::{Reply, TestServer};

/// The first `n` lines of a shared data file, or `None` (skip) when absent.
fn real_rows(file: &str, n: usize) -> Option<Vec<u8>> {
    let path = bingx_sim::testdata::shared_file(file)?;
    let reader = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut out = Vec::new();
    for line in reader.lines().take(n) {
        out.extend_from_slice(line.unwrap().as_bytes());
        out.push(b'\n');
    }
    Some(out)
}

/// A single-entry deflate zip like the published archives.
fn zip_of(csv_name: &str, csv: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file(csv_name, opts).unwrap();
    w.write_all(csv).unwrap();
    w.finish().unwrap().into_inner()
}

/// Files served by path; anything else is 404.
#[derive(Clone, Default)]
struct Archives {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    chunked: bool,
    /// Close the connection after every reply (without saying so).
    close_after_reply: bool,
    /// Answer this status to every request instead.
    status: Option<u16>,
}

impl Archives {
    /// Publishes `zip` at `url_path` with a matching (or `bad`) checksum.
    fn publish(&self, url_path: &str, zip: Vec<u8>, bad: bool) {
        let name = url_path.rsplit('/').next().unwrap();
        let digest = if bad {
            sha256(b"something else")
        } else {
            sha256(&zip)
        };
        let mut files = self.files.lock().unwrap();
        files.insert(
            format!("{url_path}.CHECKSUM"),
            format!("{digest}  {name}\n").into_bytes(),
        );
        files.insert(url_path.to_owned(), zip);
    }

    fn serve(&self) -> TestServer {
        let me = self.clone();
        TestServer::start("unused", move |req| {
            if let Some(status) = me.status {
                return Reply::status_json(status, "{}");
            }
            let action = if me.close_after_reply {
                util::server::Action::ReplyThenClose
            } else {
                util::server::Action::Reply
            };
            match me.files.lock().unwrap().get(&req.path) {
                Some(body) => {
                    let reply = Reply {
                        status: 200,
                        headers: vec![("Content-Type".into(), "application/zip".into())],
                        body: body.clone(),
                        chunked: false,
                        action,
                    };
                    if me.chunked {
                        reply.chunked()
                    } else {
                        reply
                    }
                }
                None => Reply::status_json(404, "<Error><Code>NoSuchKey</Code></Error>"),
            }
        })
    }
}

const KLINES_SHARED: &str = "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv";
const FUT_DAY1: &str = "/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-31.zip";
const FUT_FEB: &str = "/data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02.zip";
const FUT_DAY2: &str = "/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-01.zip";

/// Publishes the three futures klines archives of 2024-01-31..=2024-03-01,
/// each holding different real rows (the newer files' header on one).
fn publish_futures_klines(archives: &Archives) -> Option<()> {
    let rows = real_rows(KLINES_SHARED, 300)?;
    let lines: Vec<&[u8]> = rows.split_inclusive(|b| *b == b'\n').collect();
    let part = |a: usize, b: usize| -> Vec<u8> { lines[a..b].concat() };
    let mut with_header = b"open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n".to_vec();
    with_header.extend_from_slice(&part(100, 250));
    archives.publish(
        FUT_DAY1,
        zip_of("BTCUSDT-1m-2024-01-31.csv", &part(0, 100)),
        false,
    );
    archives.publish(
        FUT_FEB,
        zip_of("BTCUSDT-1m-2024-02.csv", &with_header),
        false,
    );
    archives.publish(
        FUT_DAY2,
        zip_of("BTCUSDT-1m-2024-03-01.csv", &part(250, 300)),
        false,
    );
    Some(())
}

fn cli(server: &TestServer, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "data",
        "download",
        "--source",
        "binance-futures",
        "--kind",
        "klines",
        "--symbol",
        "BTCUSDT",
        "--from",
        "2024-01-31",
        "--to",
        "2024-03-01",
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    let url = server.url();
    Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(&args)
        .args(["--dir", dir.to_str().unwrap(), "--base-url", &url])
        .output()
        .unwrap()
}

fn count_rows(path: &Path, kind: FileKind) -> usize {
    let mut f = DataFile::open(path, SymbolId(0)).unwrap();
    assert_eq!(f.kind(), kind);
    let mut n = 0;
    while let Some(rec) = f.next_record().unwrap() {
        match (kind, rec) {
            (FileKind::Klines, Record::Candle(_)) | (FileKind::AggTrades, Record::Trade(_)) => {}
            other => panic!("unexpected record {other:?}"),
        }
        n += 1;
    }
    n
}

fn paths(server: &TestServer) -> Vec<String> {
    server.requests().into_iter().map(|r| r.path).collect()
}

#[test]
fn cli_downloads_verified_archives_that_datafile_reads_then_resumes() {
    let archives = Archives::default();
    if publish_futures_klines(&archives).is_none() {
        return;
    }
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let out = cli(&server, &dir, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Done: 3 downloaded") && stdout.contains("0 already present"),
        "{stdout}"
    );
    // Checksum first, then the archive, in time order.
    assert_eq!(
        paths(&server),
        [
            format!("{FUT_DAY1}.CHECKSUM"),
            FUT_DAY1.to_owned(),
            format!("{FUT_FEB}.CHECKSUM"),
            FUT_FEB.to_owned(),
            format!("{FUT_DAY2}.CHECKSUM"),
            FUT_DAY2.to_owned(),
        ]
    );
    // One kept-alive connection for the whole run.
    let conns: std::collections::HashSet<u64> = server.requests().iter().map(|r| r.conn).collect();
    assert_eq!(conns.len(), 1, "{conns:?}");
    let rows: Vec<usize> = [
        "BTCUSDT-1m-2024-01-31.zip",
        "BTCUSDT-1m-2024-02.zip",
        "BTCUSDT-1m-2024-03-01.zip",
    ]
    .iter()
    .map(|name| {
        assert!(dir.join(format!("{name}.CHECKSUM")).exists());
        count_rows(&dir.join(name), FileKind::Klines)
    })
    .collect();
    assert_eq!(rows, [100, 150, 50]);
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Second run: only the checksums are fetched again.
    let before = server.requests().len();
    let out = cli(&server, &dir, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("Done: 0 downloaded (0 bytes), 3 already present"),
        "{stdout}"
    );
    let again = &paths(&server)[before..];
    assert!(again.iter().all(|p| p.ends_with(".CHECKSUM")), "{again:?}");
    assert_eq!(again.len(), 3);
}

#[test]
fn a_damaged_local_archive_is_downloaded_again() {
    let archives = Archives::default();
    if publish_futures_klines(&archives).is_none() {
        return;
    }
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    assert!(cli(&server, tmp.path(), &[]).status.success());
    let feb = tmp.path().join("BTCUSDT-1m-2024-02.zip");
    let mut bytes = std::fs::read(&feb).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&feb, &bytes).unwrap();
    let out = cli(&server, tmp.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Done: 1 downloaded"), "{stdout}");
    assert_eq!(count_rows(&feb, FileKind::Klines), 150);
}

#[test]
fn checksum_mismatch_is_an_error_and_the_file_is_not_kept() {
    let archives = Archives::default();
    if publish_futures_klines(&archives).is_none() {
        return;
    }
    let zip = archives.files.lock().unwrap()[FUT_FEB].clone();
    archives.publish(FUT_FEB, zip, true);
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let out = cli(&server, tmp.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("checksum mismatch for BTCUSDT-1m-2024-02.zip"),
        "{stderr}"
    );
    assert!(tmp.path().join("BTCUSDT-1m-2024-01-31.zip").exists());
    assert!(!tmp.path().join("BTCUSDT-1m-2024-02.zip").exists());
    assert!(!tmp.path().join("BTCUSDT-1m-2024-02.zip.part").exists());
}

#[test]
fn a_missing_daily_archive_is_reported_as_not_published() {
    let archives = Archives::default();
    if publish_futures_klines(&archives).is_none() {
        return;
    }
    archives
        .files
        .lock()
        .unwrap()
        .retain(|k, _| !k.starts_with(FUT_DAY2));
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let out = cli(&server, tmp.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("archive not published (HTTP 404)")
            && stderr.contains(&format!("{FUT_DAY2}.CHECKSUM")),
        "{stderr}"
    );
    // Earlier archives are kept for the next run.
    assert!(tmp.path().join("BTCUSDT-1m-2024-02.zip").exists());
}

fn request(
    source: Source,
    kind: Kind,
    from: &str,
    to: &str,
    dir: &Path,
    server: &TestServer,
) -> DownloadRequest {
    DownloadRequest {
        source,
        kind,
        symbol: "BTCUSDT".into(),
        from: Date::parse(from).unwrap(),
        to: Date::parse(to).unwrap(),
        dir: dir.to_path_buf(),
        base_url: Some(server.url()),
        ca_file: None,
        progress: false,
    }
}

#[test]
fn an_unpublished_monthly_archive_falls_back_to_daily_archives() {
    let Some(rows) = real_rows(KLINES_SHARED, 29) else {
        return;
    };
    let archives = Archives::default();
    for (i, line) in rows.split_inclusive(|b| *b == b'\n').enumerate() {
        let day = format!("2024-02-{:02}", i + 1);
        archives.publish(
            &format!("/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-{day}.zip"),
            zip_of(&format!("BTCUSDT-1m-{day}.csv"), line),
            false,
        );
    }
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let req = request(
        Source::BinanceFutures,
        Kind::Klines,
        "2024-02-01",
        "2024-02-29",
        tmp.path(),
        &server,
    );
    let summary = history::download(&req).unwrap();
    assert_eq!(summary.downloaded(), 29);
    assert_eq!(paths(&server)[0], format!("{FUT_FEB}.CHECKSUM"));
    assert!(summary.files[28]
        .path
        .ends_with("BTCUSDT-1m-2024-02-29.zip"));
}

#[test]
fn spot_aggtrades_served_chunked_are_read_as_trades() {
    let Some(rows) = real_rows(
        "binance-spot-BTCUSDT-aggTrades-2024-08-08T23-54_2024-08-09T00-05.csv",
        2000,
    ) else {
        return;
    };
    let archives = Archives {
        chunked: true,
        ..Archives::default()
    };
    let path = "/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-08-09.zip";
    archives.publish(
        path,
        zip_of("BTCUSDT-aggTrades-2024-08-09.csv", &rows),
        false,
    );
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let req = request(
        Source::BinanceSpot,
        Kind::AggTrades,
        "2024-08-09",
        "2024-08-09",
        tmp.path(),
        &server,
    );
    let summary = history::download(&req).unwrap();
    assert_eq!(summary.files.len(), 1);
    assert!(matches!(
        summary.files[0].outcome,
        Outcome::Downloaded { .. }
    ));
    assert_eq!(
        count_rows(&summary.files[0].path, FileKind::AggTrades),
        2000
    );
}

#[test]
fn an_archive_of_the_wrong_kind_is_refused() {
    let Some(rows) = real_rows(KLINES_SHARED, 10) else {
        return;
    };
    let archives = Archives::default();
    let path = "/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-15.zip";
    archives.publish(path, zip_of("x.csv", &rows), false);
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let req = request(
        Source::BinanceFutures,
        Kind::AggTrades,
        "2024-01-15",
        "2024-01-15",
        tmp.path(),
        &server,
    );
    let err = history::download(&req).unwrap_err();
    assert!(matches!(err, HistoryError::WrongKind { .. }), "{err}");
    assert!(!tmp.path().join("BTCUSDT-aggTrades-2024-01-15.zip").exists());
}

#[test]
fn bad_arguments_are_typed_errors() {
    let server = Archives::default().serve();
    let tmp = tempfile::tempdir().unwrap();
    let mut req = request(
        Source::BinanceFutures,
        Kind::Klines,
        "2024-01-16",
        "2024-01-15",
        tmp.path(),
        &server,
    );
    assert!(matches!(
        history::download(&req),
        Err(HistoryError::Range(_))
    ));
    req.to = req.from;
    req.symbol = "btc/usdt".into();
    assert!(matches!(
        history::download(&req),
        Err(HistoryError::BadSymbol(_))
    ));
    req.symbol = "BTC-USDT".into();
    req.source = Source::Bingx;
    req.kind = Kind::AggTrades;
    assert!(matches!(
        history::download(&req),
        Err(HistoryError::Unsupported(_))
    ));
    assert!(server.requests().is_empty());
}

/// A BingX klines endpoint: ascending 1m bars inside `[startTime, endTime]`,
/// at most `limit`, with prices derived from the open time.
fn bingx_server() -> TestServer {
    TestServer::start("unused", |req| {
        assert_eq!(req.path, "/openApi/swap/v3/quote/klines");
        let num = |k: &str| req.param(k).unwrap().parse::<i64>().unwrap();
        let (start, end, limit) = (num("startTime"), num("endTime"), num("limit"));
        assert_eq!(req.param("interval").as_deref(), Some("1m"));
        let first = (start + 59_999) / 60_000 * 60_000;
        let bars: Vec<String> = (0..limit)
            .map(|i| first + i * 60_000)
            .take_while(|t| *t <= end)
            .map(|t| {
                let p = 40_000 + (t / 60_000) % 1000;
                format!(
                    r#"{{"open":"{p}.5","close":"{p}.25","high":"{}.0","low":"{p}.0","volume":"1.125","time":{t}}}"#,
                    p + 1
                )
            })
            .collect();
        Reply::json(&format!(
            r#"{{"code":0,"msg":"","data":[{}]}}"#,
            bars.join(",")
        ))
    })
}

#[test]
fn bingx_klines_become_daily_csv_files_that_datafile_reads() {
    let server = bingx_server();
    let tmp = tempfile::tempdir().unwrap();
    let mut req = request(
        Source::Bingx,
        Kind::Klines,
        "2024-01-15",
        "2024-01-16",
        tmp.path(),
        &server,
    );
    req.symbol = "BTC-USDT".into();
    let summary = history::download(&req).unwrap();
    assert_eq!(summary.downloaded(), 2, "{summary:?}");
    let day = tmp.path().join("BTC-USDT-1m-2024-01-15.csv");
    let text = std::fs::read_to_string(&day).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(history::bingx::KLINES_HEADER));
    let start = Date::parse("2024-01-15").unwrap().start_ms();
    let p = 40_000 + (start / 60_000) % 1000;
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "{start},{p}.5,{}.0,{p}.0,{p}.25,1.125,{},0,0,0,0,0",
            p + 1,
            start + 59_999
        )
        .replace(".0,", ",")
    );
    assert_eq!(count_rows(&day, FileKind::Klines), 1440);
    let mut f = DataFile::open(tmp.path().join("BTC-USDT-1m-2024-01-16.csv"), SymbolId(0)).unwrap();
    let Some(Record::Candle(c)) = f.next_record().unwrap() else {
        panic!("no candle");
    };
    assert_eq!(c.open_time.as_ms(), start + 86_400_000);

    // Resume: nothing is requested again.
    let before = server.requests().len();
    let summary = history::download(&req).unwrap();
    assert_eq!(summary.already_present(), 2);
    assert_eq!(server.requests().len(), before);
}

#[test]
fn bingx_refuses_days_that_have_not_ended() {
    let server = bingx_server();
    let tmp = tempfile::tempdir().unwrap();
    let mut req = request(
        Source::Bingx,
        Kind::Klines,
        "2024-01-15",
        "2099-01-01",
        tmp.path(),
        &server,
    );
    req.symbol = "BTC-USDT".into();
    let err = history::download(&req).unwrap_err();
    assert!(matches!(err, HistoryError::DayNotOver(_)), "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_connection_closed_by_the_server_is_reopened_for_the_next_file() {
    let archives = Archives {
        close_after_reply: true,
        ..Archives::default()
    };
    if publish_futures_klines(&archives).is_none() {
        return;
    }
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let req = request(
        Source::BinanceFutures,
        Kind::Klines,
        "2024-01-31",
        "2024-03-01",
        tmp.path(),
        &server,
    );
    let summary = history::download(&req).unwrap();
    assert_eq!(summary.downloaded(), 3);
    let conns: std::collections::HashSet<u64> = server.requests().iter().map(|r| r.conn).collect();
    assert_eq!(conns.len(), 6, "one connection per request");
}

#[test]
fn a_server_error_status_is_a_download_error_naming_the_url() {
    let archives = Archives {
        status: Some(503),
        ..Archives::default()
    };
    let server = archives.serve();
    let tmp = tempfile::tempdir().unwrap();
    let req = request(
        Source::BinanceFutures,
        Kind::Klines,
        "2024-01-15",
        "2024-01-15",
        tmp.path(),
        &server,
    );
    let err = history::download(&req).unwrap_err();
    assert!(matches!(err, HistoryError::Download { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 503") && text.contains("BTCUSDT-1m-2024-01-15.zip.CHECKSUM"),
        "{text}"
    );
}

#[test]
fn bingx_contracts_are_saved_in_the_reply_shape_that_backtest_reads() {
    let Some(body) = util::fixture("rest_contracts.json") else {
        return;
    };
    let server = TestServer::start("unused", move |req| {
        assert_eq!(req.path, "/openApi/swap/v2/quote/contracts");
        Reply::json(&body)
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["data", "contracts", "--dir"])
        .arg(tmp.path())
        .args(["--base-url", &server.url()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("bingx-contracts.json\t2 contracts"),
        "{stdout}"
    );
    let saved = std::fs::read(tmp.path().join("bingx-contracts.json")).unwrap();
    let contracts: Vec<trading_engine::io::dto::Contract> =
        trading_engine::io::dto::parse_data("saved", &saved).unwrap();
    assert_eq!(contracts.len(), 2);
    assert_eq!(contracts[1].symbol, "ETH-USDT");
    let rules = contracts[1].rules().unwrap();
    assert_eq!(
        rules.step,
        trading_engine::types::DecimalStep::from_precision(2)
    );
    assert_eq!(
        rules.tick,
        trading_engine::types::DecimalStep::from_precision(2)
    );
}
