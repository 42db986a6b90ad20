//! Bad rows of the simulator's data files, each rejected with its file and line (issue 20),
//! and the constant-memory line limit.

use super::*;
use crate::source::MarketSource;

const KLINE_A: &str =
    "1746372780000,95505.4,95505.5,95502.7,95502.7,16.536,1746372839999,0,0,0,0,0";
const KLINE_B: &str = "1746372840000,95502.7,95510.0,95500.0,95508.1,3.200,1746372899999,0,0,0,0,0";
const TRADE_A: &str = "5266583935,61800.30,0.006,5266583935,5266583935,1723161256322,false";
const TRADE_B: &str = "5266583936,61800.10,0.199,5266583936,5266583936,1723161256344,true";

const P: Precision = Precision { price: 1, qty: 4 };

/// Writes `body` to a file and returns the error of loading it.
fn load_err(body: &[u8]) -> (PathBuf, SourceError) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.csv");
    std::fs::write(&path, body).unwrap();
    let err = MarketSource::load_csv(&path, P).unwrap_err();
    // The tempdir is gone after return; the path only names it in the message.
    (path, err)
}

fn assert_corrupt(body: &str, want_line: usize, want_reason: &str) {
    let (path, err) = load_err(body.as_bytes());
    match &err {
        SourceError::Corrupt {
            path: p,
            line,
            reason,
        } => {
            assert_eq!(p, &path, "{err}");
            assert_eq!(*line, want_line, "{err}");
            assert!(reason.contains(want_reason), "{err}");
        }
        other => panic!("expected a corrupt row, got {other}"),
    }
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains(&format!("line {want_line}")), "{text}");
}

#[test]
fn issue_20_bad_kline_rows_are_rejected_with_file_and_line() {
    let row = |o: &str, h: &str, l: &str, c: &str| {
        format!("1746372840000,{o},{h},{l},{c},3.2,1746372899999,0,0,0,0,0")
    };
    assert_corrupt(
        &format!("{KLINE_A}\n{}\n", row("-1", "5", "1", "2")),
        2,
        "open -1 is not positive",
    );
    assert_corrupt(
        &format!("{KLINE_A}\n{}\n", row("0", "5", "0", "2")),
        2,
        "not positive",
    );
    assert_corrupt(
        &format!("{KLINE_A}\n{}\n", row("3", "2", "4", "3")),
        2,
        "high 2 is below low 4",
    );
    assert_corrupt(
        &format!("{KLINE_A}\n{}\n", row("9", "5", "1", "2")),
        2,
        "outside low",
    );
    assert_corrupt(&format!("{KLINE_A}\n{KLINE_A}\n"), 2, "duplicate minute");
    assert_corrupt(&format!("{KLINE_B}\n{KLINE_A}\n"), 2, "out of order");
    assert_corrupt(
        &format!("header\n{KLINE_A}\n{KLINE_B}\nanother header\n"),
        4,
        "only the first line may be a header",
    );
    assert_corrupt(
        &format!("{KLINE_A}\n{},0\n", &KLINE_B),
        2,
        "13 columns, expected 12",
    );
}

#[test]
fn issue_20_bad_trade_rows_are_rejected_with_file_and_line() {
    assert_corrupt(
        &format!("{TRADE_A}\n5,-61800.1,0.1,5,5,1723161256344,true\n"),
        2,
        "price -61800.1 is not positive",
    );
    assert_corrupt(
        &format!("{TRADE_A}\n5,61800.1,0,5,5,1723161256344,true\n"),
        2,
        "quantity 0 is not positive",
    );
    assert_corrupt(&format!("{TRADE_B}\n{TRADE_A}\n"), 2, "out of order");
    assert_corrupt(
        &format!("{TRADE_A}\n5,61800.1,0.1,5,5,1723161256344,maybe\n"),
        2,
        "is_buyer_maker",
    );
}

#[test]
fn issue_20_nul_bytes_and_binary_are_rejected() {
    assert_corrupt(&format!("{TRADE_A}\n{TRADE_B}\0\n"), 2, "NUL byte");
    let (_, err) = load_err(format!("{TRADE_A}\n\u{0}\u{0}\u{0}\n").as_bytes());
    assert!(err.to_string().contains("line 2: NUL byte"), "{err}");
    let mut bytes = format!("{TRADE_A}\n").into_bytes();
    bytes.extend([0xff, 0xfe, b'1', b'\n']);
    let (_, err) = load_err(&bytes);
    assert!(err.to_string().contains("line 2: not UTF-8"), "{err}");
}

#[test]
fn issue_20_a_huge_line_is_refused_after_a_bounded_read() {
    // 16 MiB without a line end: the reader must stop at MAX_LINE_BYTES, not buffer it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(File::create(&path).unwrap());
        writeln!(f, "{TRADE_A}").unwrap();
        let block = vec![b'7'; 1 << 20];
        for _ in 0..16 {
            f.write_all(&block).unwrap();
        }
    }
    let err = MarketSource::load_csv(&path, P).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("line 2: line longer than {MAX_LINE_BYTES} bytes")),
        "{err}"
    );
}

#[test]
fn a_valid_file_streams_every_row_and_reports_its_span() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.csv");
    std::fs::write(
        &path,
        format!("\u{feff}open_time,...\n{KLINE_A}\n\n{KLINE_B}\r\n"),
    )
    .unwrap();
    let mut src = MarketSource::load_csv(&path, P).unwrap();
    assert_eq!(src.first_time_ms(), Some(1_746_372_780_000));
    assert_eq!(src.last_time_ms(), Some(1_746_372_899_999));
    let ticks: Vec<Tick> = std::iter::from_fn(|| src.next_tick()).collect();
    assert!(ticks.len() >= 8, "{ticks:?}");
    assert!(ticks.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    let (layout, precision) = probe(&path, P).unwrap();
    assert_eq!(layout, Layout::Klines);
    assert_eq!(precision, P);
}
