//! The incremental indicators against TA-Lib 0.8 on real BTCUSDT data.
//!
//! Reads the reference CSVs in `shared/data/reference/` (TA-Lib output on the
//! file's own open/high/low/close/volume columns), feeds every row to a
//! [`TimeframeIndicators`] and requires each warm value to equal TA-Lib within
//! 1e-9 relative, and each value to be `None` exactly where TA-Lib's cell is
//! empty. Skips outside CI when the shared data is absent.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns; a panic is a test failure"
)]

use std::fs;

use bingx_sim::testdata::shared_file;
use trading_engine::indicators::{Bollinger, IndicatorPeriods, TimeframeIndicators};

const TOLERANCE: f64 = 1e-9;

const COLUMNS: [&str; 10] = [
    "sma20",
    "sma50",
    "sma200",
    "ema20",
    "ema50",
    "rsi14",
    "atr14",
    "bb_upper",
    "bb_middle",
    "bb_lower",
];

struct Row {
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    /// Reference values by column name; `None` for an empty cell.
    expected: Vec<(String, Option<f64>)>,
}

impl Row {
    fn get(&self, column: &str) -> Option<f64> {
        self.expected
            .iter()
            .find(|(name, _)| name == column)
            .unwrap_or_else(|| panic!("no column {column}"))
            .1
    }
}

fn read_reference(name: &str) -> Option<Vec<Row>> {
    let path = shared_file(&format!("reference/{name}"))?;
    let text = fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let index = |column: &str| header.iter().position(|h| *h == column).unwrap();
    let (high, low, close, volume) = (index("high"), index("low"), index("close"), index("volume"));
    let value_columns: Vec<(String, usize)> = COLUMNS
        .iter()
        .map(|c| ((*c).to_string(), index(c)))
        .collect();
    let rows = lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let num = |i: usize| cells[i].parse::<f64>().unwrap();
            Row {
                high: num(high),
                low: num(low),
                close: num(close),
                volume: num(volume),
                expected: value_columns
                    .iter()
                    .map(|(name, i)| {
                        let cell = cells[*i];
                        (name.clone(), (!cell.is_empty()).then(|| num(*i)))
                    })
                    .collect(),
            }
        })
        .collect();
    Some(rows)
}

fn assert_matches(file: &str, row: usize, column: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            let err = (g - w).abs();
            assert!(
                err <= TOLERANCE * w.abs() || err == 0.0,
                "{file} row {row} {column}: got {g}, TA-Lib {w} (relative error {})",
                err / w.abs()
            );
        }
        _ => panic!("{file} row {row} {column}: got {got:?}, TA-Lib {want:?} (warm-up differs)"),
    }
}

/// Feeds the whole file and returns how many warm values were compared per column.
fn check_file(file: &str) -> Option<Vec<usize>> {
    let rows = read_reference(file)?;
    assert!(rows.len() > 10_000, "{file}: only {} rows", rows.len());
    let mut set = TimeframeIndicators::try_new(IndicatorPeriods::default()).unwrap();
    let mut compared = vec![0usize; COLUMNS.len()];
    let mut worst = [0.0f64; COLUMNS.len()];
    let mut prev_ema20 = None;
    for (i, row) in rows.iter().enumerate() {
        set.update_values(row.high, row.low, row.close, row.volume);
        let snap = set.snapshot();
        let bands = snap.bands;
        let got = [
            snap.sma_fast,
            snap.sma_mid,
            snap.sma_slow,
            snap.ema_fast,
            snap.ema_slow,
            snap.rsi,
            snap.atr,
            bands.map(|b| b.upper),
            bands.map(|b| b.middle),
            bands.map(|b| b.lower),
        ];
        for (k, (column, value)) in COLUMNS.iter().zip(got).enumerate() {
            let want = row.get(column);
            assert_matches(file, i, column, value, want);
            if let (Some(g), Some(w)) = (value, want) {
                compared[k] += 1;
                if w != 0.0 {
                    worst[k] = worst[k].max((g - w).abs() / w.abs());
                }
            }
        }
        // The previous fast EMA is exactly the EMA(20) of the row before.
        assert_eq!(snap.ema_fast_prev, prev_ema20, "{file} row {i} ema20 prev");
        prev_ema20 = snap.ema_fast;
    }
    eprintln!("{file}: worst relative error per column {COLUMNS:?} = {worst:?}");
    Some(compared)
}

#[test]
fn every_reference_column_equals_ta_lib_on_1m_candles() {
    let Some(compared) =
        check_file("ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_1m.csv")
    else {
        return;
    };
    let rows = 73_139;
    // First values: SMA/EMA/BB on row n-1, RSI/ATR on row n (TA-Lib lookbacks).
    assert_eq!(
        compared,
        [
            rows - 19,
            rows - 49,
            rows - 199,
            rows - 19,
            rows - 49,
            rows - 14,
            rows - 14,
            rows - 19,
            rows - 19,
            rows - 19
        ]
    );
}

#[test]
fn every_reference_column_equals_ta_lib_on_5m_candles() {
    let Some(compared) =
        check_file("ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_5m.csv")
    else {
        return;
    };
    let rows = 14_629;
    assert_eq!(
        compared,
        [
            rows - 19,
            rows - 49,
            rows - 199,
            rows - 19,
            rows - 49,
            rows - 14,
            rows - 14,
            rows - 19,
            rows - 19,
            rows - 19
        ]
    );
}

#[test]
fn bollinger_stddev_equals_ta_lib_population_stddev() {
    let Some(rows) =
        read_reference("ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_1m.csv")
    else {
        return;
    };
    let mut bb = Bollinger::new(20, 2.0);
    let mut compared = 0usize;
    for (i, row) in rows.iter().enumerate() {
        bb.update(row.close);
        let (Some(upper), Some(middle)) = (row.get("bb_upper"), row.get("bb_middle")) else {
            assert_eq!(bb.stddev(), None, "row {i}");
            continue;
        };
        // TA-Lib's stddev, recovered from its upper band.
        let want = (upper - middle) / 2.0;
        let got = bb.stddev().unwrap();
        assert!(
            (got - want).abs() <= TOLERANCE * want,
            "row {i}: stddev {got}, TA-Lib {want}"
        );
        compared += 1;
    }
    assert_eq!(compared, rows.len() - 19);
}
