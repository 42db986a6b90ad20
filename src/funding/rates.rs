//! Reader of funding-rate files in the Binance public-data `fundingRate`
//! layout: `calc_time,funding_interval_hours,last_funding_rate`.
//!
//! Consumes a path (`.csv`, `.csv.gz` or the published single-entry
//! `.zip`); produces the settlements in time order. The header row is
//! optional: with it, columns are found by name (`calc_time` or
//! `funding_time`, `funding_interval_hours`, `last_funding_rate` or
//! `funding_rate`) in any order; without it they are taken in the layout's
//! order, or as `time,rate` when a row has two columns. `calc_time` is kept
//! as published (Binance sometimes writes it 1 ms past the hour): it is the
//! settlement time. The interval is the file's own column when present,
//! else the spacing of the rows; it is never assumed. Cold path: the file
//! is read into memory (a month is 90 to 720 rows).

use std::path::{Path, PathBuf};

use super::error::{parse_ms, split_lines, PerpDataError};
use crate::datafile::read_all;

/// One funding settlement of a file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingRateRow {
    /// Settlement time, Unix ms (as published).
    pub time_ms: i64,
    /// Funding interval in hours, when the file gives it.
    pub interval_hours: Option<u32>,
    /// Funding rate as a fraction (0.0001 = 0.01 %; positive: longs pay).
    pub rate: f64,
}

/// The settlements of one funding-rate file, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct FundingRates {
    /// The file read.
    pub path: PathBuf,
    /// Settlements, strictly increasing in time.
    pub rows: Vec<FundingRateRow>,
}

/// Column positions of a funding file.
struct Columns {
    time: usize,
    interval: Option<usize>,
    rate: usize,
}

fn columns(header: &[&str], first_row_len: usize, path: &Path) -> Result<Columns, PerpDataError> {
    if header.is_empty() {
        return Ok(if first_row_len == 2 {
            Columns {
                time: 0,
                interval: None,
                rate: 1,
            }
        } else {
            Columns {
                time: 0,
                interval: Some(1),
                rate: 2,
            }
        });
    }
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let missing = |missing| PerpDataError::Header {
        path: path.to_path_buf(),
        missing,
    };
    Ok(Columns {
        time: find(&["calc_time", "funding_time", "fundingTime"])
            .ok_or_else(|| missing("calc_time"))?,
        interval: find(&["funding_interval_hours"]),
        rate: find(&["last_funding_rate", "funding_rate", "fundingRate"])
            .ok_or_else(|| missing("last_funding_rate"))?,
    })
}

impl FundingRates {
    /// Reads a funding-rate file.
    ///
    /// # Errors
    /// [`PerpDataError`] naming the file (and the line and column of a bad
    /// row): unreadable, a header without a time or rate column, a time
    /// that is not Unix ms, a rate that is not a finite fraction below 1 in
    /// magnitude, an interval that is not 1 to 24 hours, rows out of order,
    /// or no row at all.
    pub fn read(path: &Path) -> Result<Self, PerpDataError> {
        let bytes = read_all(path).map_err(PerpDataError::Read)?;
        let text = String::from_utf8_lossy(&bytes);
        let lines = split_lines(&text);
        let first_len = lines.rows.first().map_or(3, |(_, c)| c.len());
        let cols = columns(&lines.header, first_len, path)?;
        let mut rows: Vec<FundingRateRow> = Vec::with_capacity(lines.rows.len());
        for (line, cells) in &lines.rows {
            let bad = |column, reason| PerpDataError::Corrupt {
                path: path.to_path_buf(),
                line: *line,
                column,
                reason,
            };
            let cell = |k: usize, name| cells.get(k).copied().ok_or_else(|| bad(name, "missing"));
            let time_ms = parse_ms(cell(cols.time, "calc_time")?)
                .ok_or_else(|| bad("calc_time", "not a Unix time in milliseconds"))?;
            let rate: f64 = cell(cols.rate, "last_funding_rate")?
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && r.abs() < 1.0)
                .ok_or_else(|| bad("last_funding_rate", "not a fraction between -1 and 1"))?;
            let interval_hours = match cols.interval {
                Some(k) => {
                    let v: u32 = cell(k, "funding_interval_hours")?
                        .parse()
                        .ok()
                        .filter(|h| (1..=24).contains(h))
                        .ok_or_else(|| bad("funding_interval_hours", "not 1 to 24 hours"))?;
                    Some(v)
                }
                None => None,
            };
            if rows.last().is_some_and(|p| p.time_ms >= time_ms) {
                return Err(PerpDataError::OutOfOrder {
                    path: path.to_path_buf(),
                    line: *line,
                });
            }
            rows.push(FundingRateRow {
                time_ms,
                interval_hours,
                rate,
            });
        }
        if rows.is_empty() {
            return Err(PerpDataError::NoData {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            rows,
        })
    }

    /// Returns the funding intervals seen, in hours, ascending: the file's
    /// `funding_interval_hours` values, or (without that column) the
    /// spacing of consecutive settlements rounded to the hour.
    #[must_use]
    pub fn intervals_hours(&self) -> Vec<u32> {
        let mut v: Vec<u32> = if self.rows.iter().all(|r| r.interval_hours.is_some()) {
            self.rows.iter().filter_map(|r| r.interval_hours).collect()
        } else {
            self.rows
                .windows(2)
                .map(|w| {
                    let hours = (w[1].time_ms - w[0].time_ms + 1_800_000) / 3_600_000;
                    u32::try_from(hours).unwrap_or(u32::MAX)
                })
                .collect()
        };
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_the_public_data_layout_with_its_header_and_late_calc_time() {
        let (_d, path) = write(
            "ETHUSDT-fundingRate-2023-07.csv",
            "calc_time,funding_interval_hours,last_funding_rate\n1688428800001,8,0.0001\n1688457600000,8,-0.00002500\n",
        );
        let f = FundingRates::read(&path).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].time_ms, 1_688_428_800_001);
        assert_eq!(f.rows[0].interval_hours, Some(8));
        assert_eq!(f.rows[1].rate, -0.000025);
        assert_eq!(f.intervals_hours(), vec![8]);
    }

    #[test]
    fn reads_rows_without_header_and_derives_the_interval_from_the_spacing() {
        let (_d, path) = write("x.csv", "1700000000000,0.0001\r\n1700003600000,0.0002\r\n");
        let f = FundingRates::read(&path).unwrap();
        assert_eq!(f.rows[1].interval_hours, None);
        assert_eq!(f.intervals_hours(), vec![1]);
    }

    #[test]
    fn reads_columns_by_header_name_in_any_order() {
        let (_d, path) = write(
            "x.csv",
            "last_funding_rate,calc_time\n0.0003,1700000000000\n",
        );
        let f = FundingRates::read(&path).unwrap();
        assert_eq!(f.rows[0].rate, 0.0003);
        assert_eq!(f.rows[0].time_ms, 1_700_000_000_000);
    }

    #[test]
    fn a_bad_row_names_file_line_and_column() {
        let (_d, path) = write(
            "bad.csv",
            "calc_time,funding_interval_hours,last_funding_rate\n1700000000000,8,0.0001\n1700028800000,8,abc\n",
        );
        let e = FundingRates::read(&path).unwrap_err().to_string();
        assert!(e.contains("bad.csv:3: column last_funding_rate"), "{e}");
    }

    #[test]
    fn out_of_order_rows_and_empty_files_are_rejected() {
        let (_d, path) = write("o.csv", "1700028800000,8,0.0001\n1700000000000,8,0.0001\n");
        assert!(matches!(
            FundingRates::read(&path),
            Err(PerpDataError::OutOfOrder { line: 2, .. })
        ));
        let (_d2, empty) = write(
            "e.csv",
            "calc_time,funding_interval_hours,last_funding_rate\n",
        );
        assert!(matches!(
            FundingRates::read(&empty),
            Err(PerpDataError::NoData { .. })
        ));
    }

    #[test]
    fn a_header_without_a_rate_column_is_rejected() {
        let (_d, path) = write("h.csv", "calc_time,foo\n1700000000000,1\n");
        assert!(matches!(
            FundingRates::read(&path),
            Err(PerpDataError::Header {
                missing: "last_funding_rate",
                ..
            })
        ));
    }

    #[test]
    fn reads_a_zip_archive() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ETHUSDT-fundingRate-2023-07.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        zip.start_file(
            "ETHUSDT-fundingRate-2023-07.csv",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(
            b"calc_time,funding_interval_hours,last_funding_rate\n1688428800001,8,0.0001\n",
        )
        .unwrap();
        zip.finish().unwrap();
        assert_eq!(FundingRates::read(&path).unwrap().rows.len(), 1);
    }
}
