//! Which archives cover a date range, and where they live on
//! data.binance.vision (docs/exchange-protocols.md §8).
//!
//! Consumes a source, a kind, a symbol and an inclusive date range; produces
//! [`Archive`]s (URL path and file name) in time order: one monthly archive
//! per whole month, daily archives for the partial months at both ends.
//! Pure: no I/O.

use core::fmt;

use crate::history::date::{days_in_month, Date};

/// Default base URL of the Binance public-data archive.
pub const BINANCE_DATA_BASE_URL: &str = "https://data.binance.vision";

/// Where the data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Source {
    /// Binance USD-M futures archives (`data/futures/um/...`).
    BinanceFutures,
    /// Binance spot archives (`data/spot/...`).
    BinanceSpot,
    /// BingX USDT-M REST klines (1m), paged between two times.
    Bingx,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BinanceFutures => "binance-futures",
            Self::BinanceSpot => "binance-spot",
            Self::Bingx => "bingx",
        })
    }
}

/// What data is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Kind {
    /// 1-minute klines (12-column CSV).
    Klines,
    /// Aggregate trades (7-column CSV; 8 in spot files).
    #[value(name = "aggTrades", alias = "aggtrades")]
    AggTrades,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Klines => "klines",
            Self::AggTrades => "aggTrades",
        })
    }
}

/// The span one archive covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A whole month.
    Month {
        /// Year.
        year: i32,
        /// Month 1..=12.
        month: u8,
    },
    /// One day.
    Day(Date),
}

impl Period {
    /// Returns the days of this period, in order.
    #[must_use]
    pub fn days(self) -> Vec<Date> {
        match self {
            Self::Day(d) => vec![d],
            Self::Month { year, month } => (1..=days_in_month(year, month))
                .filter_map(|day| Date::try_new(year, month, day))
                .collect(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Self::Day(d) => write!(f, "{d}"),
        }
    }
}

/// Why a range cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// `from` is after `to`.
    Reversed {
        /// Start of the range.
        from: Date,
        /// End of the range.
        to: Date,
    },
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reversed { from, to } => write!(f, "--from {from} is after --to {to}"),
        }
    }
}

impl std::error::Error for RangeError {}

/// Splits the inclusive range `from..=to` into whole months and single days.
///
/// # Errors
/// [`RangeError::Reversed`] when `from > to`.
pub fn split_range(from: Date, to: Date) -> Result<Vec<Period>, RangeError> {
    if from > to {
        return Err(RangeError::Reversed { from, to });
    }
    let mut out = Vec::new();
    let mut day = from;
    loop {
        let month_end = Date {
            day: days_in_month(day.year, day.month),
            ..day
        };
        if day.day == 1 && month_end <= to {
            out.push(Period::Month {
                year: day.year,
                month: day.month,
            });
            day = month_end;
        } else {
            out.push(Period::Day(day));
        }
        if day >= to {
            return Ok(out);
        }
        day = day.next();
    }
}

/// One Binance archive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Archive {
    /// Market.
    pub source: Source,
    /// Data kind.
    pub kind: Kind,
    /// Exchange symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Span covered.
    pub period: Period,
}

impl Archive {
    /// Returns the archive's file name, e.g. `BTCUSDT-1m-2024-01.zip`.
    #[must_use]
    pub fn file_name(&self) -> String {
        match self.kind {
            Kind::Klines => format!("{}-1m-{}.zip", self.symbol, self.period),
            Kind::AggTrades => format!("{}-aggTrades-{}.zip", self.symbol, self.period),
        }
    }

    /// Returns the URL path of the archive, e.g.
    /// `/data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip`.
    #[must_use]
    pub fn url_path(&self) -> String {
        let market = match self.source {
            Source::BinanceSpot => "spot",
            Source::BinanceFutures | Source::Bingx => "futures/um",
        };
        let cadence = match self.period {
            Period::Month { .. } => "monthly",
            Period::Day(_) => "daily",
        };
        let folder = match self.kind {
            Kind::Klines => format!("klines/{}/1m", self.symbol),
            Kind::AggTrades => format!("aggTrades/{}", self.symbol),
        };
        format!("/data/{market}/{cadence}/{folder}/{}", self.file_name())
    }

    /// Returns the URL path of the archive's `.CHECKSUM` file.
    #[must_use]
    pub fn checksum_path(&self) -> String {
        format!("{}.CHECKSUM", self.url_path())
    }
}

/// Returns the archives covering `from..=to`, in time order.
///
/// # Errors
/// [`RangeError::Reversed`] when `from > to`.
pub fn plan(
    source: Source,
    kind: Kind,
    symbol: &str,
    from: Date,
    to: Date,
) -> Result<Vec<Archive>, RangeError> {
    Ok(split_range(from, to)?
        .into_iter()
        .map(|period| Archive {
            source,
            kind,
            symbol: symbol.to_owned(),
            period,
        })
        .collect())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
