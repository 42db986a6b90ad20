//! BingX 1m klines through the REST client, one day per file, written in
//! the 12-column Binance klines CSV layout that [`crate::datafile`] reads.
//!
//! Consumes a symbol (`BTC-USDT`), a day range and a [`RestClient`];
//! produces `DIR/<SYMBOL>-1m-<YYYY-MM-DD>.csv` with the standard header.
//! BingX klines carry no quote volume, trade count or taker volumes: those
//! columns are written as 0 (as in the shared reference files). Days that
//! have not ended (UTC) are refused; files already present and readable are
//! skipped. Never writes a partial file under the final name.

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::history::binance::verify_readable;
use crate::history::date::{Date, DAY_MS};
use crate::history::error::HistoryError;
use crate::history::plan::Kind;
use crate::history::{FileReport, Outcome};
use crate::io::clock::IoClock;
use crate::io::dto::Kline;
use crate::io::rest::RestClient;
use crate::io::rest_market::KlineInterval;

/// Header line of the 12-column klines layout (docs/exchange-protocols.md §8.1).
pub const KLINES_HEADER: &str = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";

/// One minute, ms.
const MINUTE_MS: i64 = 60_000;

/// Writes a fixed-point value with up to 8 decimals, trailing zeros removed.
fn push_decimal(out: &mut String, text: Option<&str>) {
    let Some(text) = text else {
        out.push('0');
        return;
    };
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    out.push_str(if trimmed.is_empty() || trimmed == "-" {
        "0"
    } else {
        trimmed
    });
}

/// Returns the CSV row (without newline) of one 1m kline.
#[must_use]
pub fn kline_row(k: &Kline) -> String {
    let mut row = String::with_capacity(96);
    row.push_str(&k.open_time_ms.to_string());
    let mut buf = [0u8; 32];
    for price in [k.open, k.high, k.low, k.close] {
        row.push(',');
        push_decimal(&mut row, price.write_decimal(8, &mut buf));
    }
    row.push(',');
    push_decimal(&mut row, k.volume.write_decimal(8, &mut buf));
    row.push(',');
    row.push_str(&(k.open_time_ms + MINUTE_MS - 1).to_string());
    row.push_str(",0,0,0,0,0");
    row
}

/// Returns the file name of one day of klines of `symbol`.
#[must_use]
pub fn day_file_name(symbol: &str, day: Date) -> String {
    format!("{symbol}-1m-{day}.csv")
}

/// Fetches the klines of every day in `days` into `dir`. `now_ms` decides
/// which days are over.
///
/// # Errors
/// [`HistoryError::DayNotOver`] before any request when a day has not
/// ended; [`HistoryError::Bingx`] when a request fails;
/// [`HistoryError::Io`] for file errors.
pub fn fetch_days<C: IoClock>(
    client: &mut RestClient<C>,
    symbol: &str,
    days: &[Date],
    dir: &Path,
    now_ms: i64,
) -> Result<Vec<FileReport>, HistoryError> {
    if let Some(day) = days.iter().find(|d| d.start_ms() + DAY_MS > now_ms) {
        return Err(HistoryError::DayNotOver(*day));
    }
    let mut reports = Vec::with_capacity(days.len());
    for &day in days {
        let path = dir.join(day_file_name(symbol, day));
        if path.exists() && verify_readable(&path, Kind::Klines).is_ok() {
            log::info!("Already present: {}", path.display());
            reports.push(FileReport {
                path,
                outcome: Outcome::AlreadyPresent,
            });
            continue;
        }
        let start = day.start_ms();
        let klines = client
            .klines_range(symbol, KlineInterval::M1, start, start + DAY_MS - 1)
            .map_err(|source| HistoryError::Bingx { day, source })?;
        if klines.is_empty() {
            log::warn!("BingX returned no klines for {symbol} on {day}");
            reports.push(FileReport {
                path,
                outcome: Outcome::Empty,
            });
            continue;
        }
        let bytes = write_day(&path, &klines)?;
        log::info!("Wrote {} klines to {}", klines.len(), path.display());
        reports.push(FileReport {
            path,
            outcome: Outcome::Downloaded { bytes },
        });
    }
    Ok(reports)
}

/// Writes the CSV through a `.part` file renamed into place; returns its size.
fn write_day(path: &Path, klines: &[Kline]) -> Result<u64, HistoryError> {
    let io = |source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let mut text = String::with_capacity(klines.len() * 96 + KLINES_HEADER.len() + 1);
    text.push_str(KLINES_HEADER);
    text.push('\n');
    for k in klines {
        text.push_str(&kline_row(k));
        text.push('\n');
    }
    let file = std::fs::File::create(&part).map_err(io)?;
    let mut w = BufWriter::new(file);
    let written = w
        .write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .and_then(|()| w.get_ref().sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&part);
        return Err(io(e));
    }
    std::fs::rename(&part, path).map_err(io)?;
    Ok(text.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::wire::{price_from_text, qty_from_text};

    fn kline(t: i64, o: &str, h: &str, l: &str, c: &str, v: &str) -> Kline {
        Kline {
            open_time_ms: t,
            open: price_from_text(o).unwrap(),
            high: price_from_text(h).unwrap(),
            low: price_from_text(l).unwrap(),
            close: price_from_text(c).unwrap(),
            volume: qty_from_text(v).unwrap(),
        }
    }

    #[test]
    fn rows_keep_the_exchange_decimals_and_fill_missing_columns_with_zero() {
        let k = kline(
            1_702_717_200_000,
            "0.7034",
            "0.7081",
            "0.7033",
            "0.7065",
            "635494.00",
        );
        assert_eq!(
            kline_row(&k),
            "1702717200000,0.7034,0.7081,0.7033,0.7065,635494,1702717259999,0,0,0,0,0"
        );
        let k = kline(0, "95505.4", "95505.5", "95502.7", "95502.7", "16.536");
        assert_eq!(
            kline_row(&k),
            "0,95505.4,95505.5,95502.7,95502.7,16.536,59999,0,0,0,0,0"
        );
    }

    #[test]
    fn written_day_is_read_back_by_datafile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(day_file_name(
            "BTC-USDT",
            Date::parse("2024-01-15").unwrap(),
        ));
        let start = Date::parse("2024-01-15").unwrap().start_ms();
        let klines: Vec<Kline> = (0..3)
            .map(|i| {
                kline(
                    start + i * MINUTE_MS,
                    "100.5",
                    "101",
                    "100",
                    "100.25",
                    "2.5",
                )
            })
            .collect();
        write_day(&path, &klines).unwrap();
        verify_readable(&path, Kind::Klines).unwrap();
        let mut f = crate::datafile::DataFile::open(&path, crate::types::SymbolId(3)).unwrap();
        let mut n = 0;
        while let Some(rec) = f.next_record().unwrap() {
            let crate::datafile::Record::Candle(c) = rec else {
                panic!("not a candle: {rec:?}");
            };
            assert_eq!(c.open_time.as_ms(), start + n * MINUTE_MS);
            assert_eq!(c.close, price_from_text("100.25").unwrap());
            n += 1;
        }
        assert_eq!(n, 3);
        assert!(!path.with_extension("csv.part").exists());
    }
}
