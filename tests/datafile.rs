//! Reader tests for every layout variant of the Binance public-data files
//! (header or not, byte-order mark, ms or µs, CRLF, plain/gz/zip), the time-order merge of
//! several files and the errors for bad input. Fixtures are built in a temp
//! dir per test from real rows of the shared data set.

#![allow(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use std::io::Write;
use std::path::{Path, PathBuf};

use bingx_sim::testdata::shared_file;
use trading_engine::datafile::{
    DataFile, DataFileError, DataSet, FieldKind, FileKind, Record, RowError,
};
use trading_engine::types::{Price, Qty, Side, SymbolId, TimestampNs};

const SYM: SymbolId = SymbolId(7);
const KLINES: &str = "binance-futures-FILUSDT-1m-2024-09-01_2024-11-30.csv";
const TRADES: &str = "binance-spot-BTCUSDT-aggTrades-2024-08-08T23-54_2024-08-09T00-05.csv";
const KLINES_HEADER: &str = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";
const TRADES_HEADER: &str =
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker";

/// The first `n` lines of a shared file, or `None` (skip) without the data.
fn real_lines(name: &str, n: usize) -> Option<Vec<String>> {
    let path = shared_file(name)?;
    let text = std::fs::read_to_string(path).unwrap();
    Some(text.lines().take(n).map(str::to_owned).collect())
}

/// Rewrites column `col` (0-based) of every line as microseconds.
fn to_micros(lines: &[String], cols: &[usize]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.split(',')
                .enumerate()
                .map(|(i, f)| {
                    if cols.contains(&i) {
                        format!("{f}000")
                    } else {
                        f.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

fn text(header: Option<&str>, lines: &[String], eol: &str) -> Vec<u8> {
    let mut out = String::new();
    if let Some(h) = header {
        out.push_str(h);
        out.push_str(eol);
    }
    for l in lines {
        out.push_str(l);
        out.push_str(eol);
    }
    out.into_bytes()
}

fn write_plain(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn write_gz(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap();
    path
}

fn write_zip(dir: &Path, name: &str, entries: &[(&str, &[u8])], stored: bool) -> PathBuf {
    let path = dir.join(name);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (entry, bytes) in entries {
        zip.start_file(*entry, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn read_all(path: &Path) -> (FileKind, Vec<Record>) {
    let file = DataFile::open(path, SYM).unwrap();
    let kind = file.kind();
    let records: Vec<Record> = file.map(Result::unwrap).collect();
    (kind, records)
}

fn open_err(path: &Path) -> DataFileError {
    match DataFile::open(path, SYM) {
        Ok(file) => file
            .map(|r| r.map(|_| ()))
            .collect::<Result<Vec<()>, _>>()
            .unwrap_err(),
        Err(e) => e,
    }
}

/// Writes `lines` in every layout variant and checks each reads as `expected`.
fn check_every_variant(
    lines: &[String],
    header: &str,
    ts_cols: &[usize],
    kind: FileKind,
    expected: &[Record],
) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = text(None, lines, "\n");
    let with_header = text(Some(header), lines, "\n");
    let micros = text(None, &to_micros(lines, ts_cols), "\n");
    let micros_header_crlf = text(Some(header), &to_micros(lines, ts_cols), "\r\n");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&plain);
    let mut bom_header = b"\xEF\xBB\xBF".to_vec();
    bom_header.extend_from_slice(&with_header);
    let mut no_final_newline = plain.clone();
    no_final_newline.pop();
    let variants = [
        write_plain(d, "plain.csv", &plain),
        write_plain(d, "header.csv", &with_header),
        write_plain(d, "micros.csv", &micros),
        write_plain(d, "micros_header_crlf.csv", &micros_header_crlf),
        write_plain(d, "no_final_newline.csv", &no_final_newline),
        write_plain(d, "bom.csv", &bom),
        write_plain(d, "bom_header.csv", &bom_header),
        write_gz(d, "plain.csv.gz", &plain),
        write_gz(
            d,
            "header_micros.csv.gz",
            &text(Some(header), &to_micros(lines, ts_cols), "\n"),
        ),
        write_zip(d, "deflated.zip", &[("x.csv", &with_header)], false),
        write_zip(d, "stored.zip", &[("x.csv", &micros)], true),
        // Detection is by magic bytes, not by name.
        write_gz(d, "misnamed.csv", &plain),
    ];
    for path in &variants {
        let (got_kind, records) = read_all(path);
        assert_eq!(got_kind, kind, "{}", path.display());
        assert_eq!(records.len(), expected.len(), "{}", path.display());
        assert!(
            records == expected,
            "{} differs from the plain file",
            path.display()
        );
    }
}

#[test]
fn every_aggtrades_layout_variant_reads_the_same_trades() {
    let Some(lines) = real_lines(TRADES, 3000) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, expected) = read_all(&write_plain(
        dir.path(),
        "base.csv",
        &text(None, &lines, "\n"),
    ));
    assert_eq!(expected.len(), 3000);
    // First row: 3735683259,61837.63000000,0.02000000,3735683259,3735683259,1723161255342,true
    let Record::Trade(t) = expected[0] else {
        panic!("expected a trade")
    };
    assert_eq!(t.trade_id, 3_735_683_259);
    assert_eq!(t.price, Price::from_decimal(6_183_763, 2).unwrap());
    assert_eq!(t.qty, Qty::from_decimal(2, 2).unwrap());
    assert_eq!(t.exchange_ts, TimestampNs::from_ms(1_723_161_255_342));
    assert_eq!(t.aggressor, Side::Sell);
    assert_eq!(t.symbol, SYM);
    check_every_variant(&lines, TRADES_HEADER, &[5], FileKind::AggTrades, &expected);
}

#[test]
fn every_klines_layout_variant_reads_the_same_candles() {
    let Some(lines) = real_lines(KLINES, 2000) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, expected) = read_all(&write_plain(
        dir.path(),
        "base.csv",
        &text(None, &lines, "\n"),
    ));
    assert_eq!(expected.len(), 2000);
    // First row: 1725148800000,3.566,3.567,3.563,3.565,10673.8,1725148859999,38048.0993,203,...
    let Record::Candle(c) = expected[0] else {
        panic!("expected a candle")
    };
    assert_eq!(c.open_time, TimestampNs::from_ms(1_725_148_800_000));
    assert_eq!(c.open, Price::from_decimal(3566, 3).unwrap());
    assert_eq!(c.close, Price::from_decimal(3565, 3).unwrap());
    assert_eq!(c.volume, Qty::from_decimal(106_738, 1).unwrap());
    assert_eq!(c.trade_count, 203);
    check_every_variant(&lines, KLINES_HEADER, &[0, 6], FileKind::Klines, &expected);
}

#[test]
fn spot_trades_with_the_best_match_column_are_read() {
    let Some(lines) = real_lines(TRADES, 50) else {
        return;
    };
    let spot: Vec<String> = to_micros(&lines, &[5])
        .iter()
        .map(|l| {
            format!(
                "{},True",
                l.replace("true", "True").replace("false", "False")
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (_, expected) = read_all(&write_plain(
        dir.path(),
        "ms.csv",
        &text(None, &lines, "\n"),
    ));
    let (kind, got) = read_all(&write_plain(
        dir.path(),
        "spot.csv",
        &text(None, &spot, "\n"),
    ));
    assert_eq!(kind, FileKind::AggTrades);
    assert!(got == expected);
}

#[test]
fn files_are_merged_in_time_order_whatever_order_they_are_given_in() {
    let Some(lines) = real_lines(TRADES, 4000) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, expected) = read_all(&write_plain(
        dir.path(),
        "all.csv",
        &text(None, &lines, "\n"),
    ));
    // One file per minute (so no timestamp is shared across files), given in
    // reverse order: the merge restores the original stream.
    let mut minutes: Vec<Vec<String>> = Vec::new();
    let mut last_minute = None;
    for l in &lines {
        let ms: i64 = l.split(',').nth(5).unwrap().parse().unwrap();
        if last_minute != Some(ms / 60_000) {
            minutes.push(Vec::new());
            last_minute = Some(ms / 60_000);
        }
        minutes.last_mut().unwrap().push(l.clone());
    }
    assert!(minutes.len() >= 3);
    let mut chunks: Vec<PathBuf> = minutes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            write_gz(
                dir.path(),
                &format!("minute{i}.csv.gz"),
                &text(None, c, "\n"),
            )
        })
        .collect();
    chunks.reverse();
    let set = DataSet::open(&chunks, SYM).unwrap();
    assert_eq!(set.kind(), FileKind::AggTrades);
    let merged: Vec<Record> = set.map(Result::unwrap).collect();
    assert!(
        merged == expected,
        "merged stream differs from the original"
    );
    // Interleaved rows (row i in file i % 3) of one symbol overlap in time:
    // refused, naming two of the files (issue 15: rows must not count twice).
    let parts: Vec<PathBuf> = (0..3)
        .map(|k| {
            let part: Vec<String> = lines.iter().skip(k).step_by(3).cloned().collect();
            write_plain(
                dir.path(),
                &format!("part{k}.csv"),
                &text(None, &part, "\n"),
            )
        })
        .collect();
    let err = DataSet::open(&parts, SYM)
        .unwrap()
        .find_map(Result::err)
        .expect("overlapping files of one symbol are refused");
    assert!(
        matches!(&err, DataFileError::Overlap { first, other, .. } if parts.contains(first) && parts.contains(other) && first != other),
        "{err}"
    );
    // As three symbols (a portfolio) they merge: same records, timestamps non-decreasing.
    let tagged: Vec<(&PathBuf, SymbolId)> = parts
        .iter()
        .enumerate()
        .map(|(k, p)| (p, SymbolId(k as u16)))
        .collect();
    let merged: Vec<Record> = DataSet::open_symbols(&tagged)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(merged
        .windows(2)
        .all(|w| w[0].timestamp() <= w[1].timestamp()));
    let id = |r: &Record| match r {
        Record::Trade(t) => t.trade_id,
        Record::Candle(_) => panic!("expected trades"),
    };
    let mut ids: Vec<u64> = merged.iter().map(id).collect();
    ids.sort_unstable();
    assert!(ids == expected.iter().map(id).collect::<Vec<_>>());
}

#[test]
fn files_of_different_kinds_cannot_be_read_together() {
    let (Some(k), Some(t)) = (real_lines(KLINES, 3), real_lines(TRADES, 3)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kp = write_plain(dir.path(), "k.csv", &text(None, &k, "\n"));
    let tp = write_plain(dir.path(), "t.csv", &text(None, &t, "\n"));
    let err = DataSet::open(&[&kp, &tp], SYM).unwrap_err();
    assert!(
        matches!(&err, DataFileError::MixedKinds { first_kind: FileKind::Klines, other_kind: FileKind::AggTrades, other, .. } if *other == tp),
        "{err}"
    );
    assert!(matches!(
        DataSet::open::<&Path>(&[], SYM),
        Err(DataFileError::NoFiles)
    ));
}

#[test]
fn a_corrupt_row_is_an_error_naming_file_and_line() {
    let Some(mut lines) = real_lines(TRADES, 10) else {
        return;
    };
    lines[4] = lines[4].replacen(",61", ",6x1", 1);
    let dir = tempfile::tempdir().unwrap();
    let path = write_plain(
        dir.path(),
        "bad.csv",
        &text(Some(TRADES_HEADER), &lines, "\n"),
    );
    let mut file = DataFile::open(&path, SYM).unwrap();
    for _ in 0..4 {
        file.next_record().unwrap().unwrap();
    }
    let err = file.next_record().unwrap_err();
    // Header is line 1, so the fifth data row is line 6.
    assert!(
        matches!(&err, DataFileError::Corrupt { path: p, line: 6, reason: RowError::Field { column: 2, expected: FieldKind::Decimal } } if *p == path),
        "{err}"
    );
    assert!(err.to_string().contains("bad.csv:6"), "{err}");
    assert_eq!(
        file.next_record().unwrap(),
        None,
        "the reader stops after an error"
    );
}

#[test]
fn a_row_with_a_missing_column_or_out_of_order_time_is_corrupt() {
    let Some(lines) = real_lines(KLINES, 10) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut short = lines.clone();
    short[2] = short[2].rsplit_once(',').unwrap().0.to_owned();
    let err = open_err(&write_plain(
        dir.path(),
        "short.csv",
        &text(None, &short, "\n"),
    ));
    assert!(
        matches!(
            err,
            DataFileError::Corrupt {
                line: 3,
                reason: RowError::ColumnCount {
                    expected: 12,
                    found: 11
                },
                ..
            }
        ),
        "{err}"
    );
    let mut swapped = lines.clone();
    swapped.swap(6, 7);
    let err = open_err(&write_plain(
        dir.path(),
        "swapped.csv",
        &text(None, &swapped, "\n"),
    ));
    assert!(
        matches!(
            err,
            DataFileError::Corrupt {
                line: 8,
                reason: RowError::OutOfOrder,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn unreadable_layouts_are_typed_errors() {
    let Some(lines) = real_lines(TRADES, 5) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let only_header = write_plain(d, "h.csv", format!("{TRADES_HEADER}\n").as_bytes());
    assert!(matches!(
        open_err(&only_header),
        DataFileError::NoData { .. }
    ));
    let five_cols = write_plain(d, "five.csv", b"1,2,3,4,5\n");
    assert!(matches!(
        open_err(&five_cols),
        DataFileError::UnknownLayout {
            line: 1,
            columns: 5,
            ..
        }
    ));
    let long = write_plain(
        d,
        "long.csv",
        format!("h{}\n1,2\n", "x".repeat(10_000)).as_bytes(),
    );
    assert!(matches!(
        open_err(&long),
        DataFileError::LineTooLong { line: 1, .. }
    ));
    let body = text(None, &lines, "\n");
    let two = write_zip(d, "two.zip", &[("a.csv", &body), ("b.csv", &body)], false);
    assert!(matches!(open_err(&two), DataFileError::ZipLayout { .. }));
    let missing = d.join("missing.csv");
    assert!(matches!(open_err(&missing), DataFileError::Open { .. }));
}

#[test]
fn a_damaged_zip_entry_fails_its_crc_check() {
    let Some(lines) = real_lines(TRADES, 200) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let body = text(None, &lines, "\n");
    let path = write_zip(dir.path(), "stored.zip", &[("x.csv", &body)], true);
    let mut bytes = std::fs::read(&path).unwrap();
    // Turn one digit of the stored data into another digit: still a valid row.
    let at = bytes.windows(11).position(|w| w == b"61837.63000").unwrap();
    bytes[at + 1] = b'2';
    std::fs::write(&path, &bytes).unwrap();
    let err = open_err(&path);
    assert!(matches!(err, DataFileError::Checksum { .. }), "{err}");
}

#[test]
fn a_truncated_gzip_file_is_a_read_error() {
    let Some(lines) = real_lines(TRADES, 2000) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = write_gz(dir.path(), "t.csv.gz", &text(None, &lines, "\n"));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = open_err(&path);
    assert!(matches!(err, DataFileError::Read { .. }), "{err}");
}

#[test]
fn whole_real_files_read_with_their_documented_row_counts() {
    for (name, kind, rows) in [
        (
            "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv",
            FileKind::Klines,
            73_139,
        ),
        (
            "binance-futures-BTCUSDT-aggTrades-2020-02-22.csv",
            FileKind::AggTrades,
            137_988,
        ),
        (TRADES, FileKind::AggTrades, 19_904),
    ] {
        let Some(path) = shared_file(name) else {
            return;
        };
        let mut file = DataFile::open(&path, SYM).unwrap();
        assert_eq!(file.kind(), kind);
        while file.next_record().unwrap().is_some() {}
        assert_eq!(file.rows(), rows, "{name}");
    }
}

#[test]
fn issue_20_impossible_candles_zero_prices_and_duplicate_minutes_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let good = "1725148800000,3.566,3.567,3.563,3.565,10673.8,1725148859999,38048.0993,203,5480.8,19537.8485,0";
    let kline = |open_ms: u64, o: &str, h: &str, l: &str, c: &str| {
        format!(
            "{open_ms},{o},{h},{l},{c},10.0,{},1.0,3,1.0,1.0,0",
            open_ms + 59_999
        )
    };
    let next = 1_725_148_860_000;
    let cases: [(&str, String, RowError); 7] = [
        (
            "high_below_low.csv",
            kline(next, "3.565", "3.560", "3.570", "3.565"),
            RowError::HighBelowLow,
        ),
        (
            "zero_open.csv",
            kline(next, "0", "3.567", "3.563", "3.565"),
            RowError::NotPositive { column: 2 },
        ),
        (
            "zero_low.csv",
            kline(next, "3.565", "3.567", "0.000", "3.565"),
            RowError::NotPositive { column: 4 },
        ),
        (
            "open_above_high.csv",
            kline(next, "3.600", "3.567", "3.563", "3.565"),
            RowError::OutsideRange { column: 2 },
        ),
        (
            "close_below_low.csv",
            kline(next, "3.565", "3.567", "3.563", "3.500"),
            RowError::OutsideRange { column: 5 },
        ),
        (
            "duplicate_minute.csv",
            good.to_owned(),
            RowError::DuplicateMinute,
        ),
        (
            "nul_byte.csv",
            format!("{}\0", kline(next, "3.565", "3.567", "3.563", "3.565")),
            RowError::Field {
                column: 12,
                expected: FieldKind::Decimal,
            },
        ),
    ];
    for (name, second, reason) in cases {
        let path = write_plain(
            dir.path(),
            name,
            &text(Some(KLINES_HEADER), &[good.to_owned(), second], "\n"),
        );
        let err = open_err(&path);
        assert!(
            matches!(&err, DataFileError::Corrupt { path: p, line: 3, reason: r } if *p == path && *r == reason),
            "{name}: {err}"
        );
        let message = err.to_string();
        assert!(message.contains(name) && message.contains('3'), "{message}");
    }
    // A zero trade price is rejected too; two trades in one millisecond are not.
    let trade = |id: u64, price: &str| format!("{id},{price},0.5,{id},{id},1723161255342,true");
    let path = write_plain(
        dir.path(),
        "zero_trade.csv",
        &text(None, &[trade(1, "61837.6"), trade(2, "0.0")], "\n"),
    );
    let err = open_err(&path);
    assert!(
        matches!(
            err,
            DataFileError::Corrupt {
                line: 2,
                reason: RowError::NotPositive { column: 2 },
                ..
            }
        ),
        "{err}"
    );
    let same_ms = write_plain(
        dir.path(),
        "same_ms.csv",
        &text(None, &[trade(1, "61837.6"), trade(2, "61837.7")], "\n"),
    );
    let rows = DataFile::open(&same_ms, SYM).unwrap().count();
    assert_eq!(rows, 2);
}
