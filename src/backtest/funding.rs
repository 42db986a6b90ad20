//! Funding and fills in a backtest: the settlement clock that feeds the
//! core [`Event::Funding`](crate::core::Event::Funding) at each funding
//! time, the ledger of every fill and every funding payment, and their
//! files `fills.csv` and `funding.csv`.
//!
//! Consumes the `--funding`/`--mark` files ([`crate::funding::schedule`])
//! and the driver's fills and records; produces [`FillRow`]s,
//! [`FundingRow`]s and the `funding` section of the report. Timing rule: a
//! settlement at `calc_time` T (as published, sometimes 1 ms past the hour)
//! is applied after every data row available at or before T (a 1m candle
//! is available at its close, open + 60 s; a trade at its time) and before
//! any later one, so a position filled at or before T pays at T and one
//! closed at or before T pays nothing. The mark price is the mark-price
//! data at T when given and it prices that instant, else the last trade or
//! 1m close before T; each row says which. Cold path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::decimal::decimal8;
use super::{BacktestError, Instrument, SymbolResult};
use crate::funding::files::normalize;
use crate::funding::schedule::{MarkSource, SymbolFunding};
use crate::money::Money;
use crate::types::{Price, Qty, Side, SymbolId};

/// The funding inputs of a run: `--funding FILE...` and `--mark FILE...`
/// (each `SYMBOL=FILE` or a Binance public-data file name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FundingInputs {
    /// Funding-rate files; none: funding is not modelled.
    pub funding: Vec<PathBuf>,
    /// Mark-price klines files.
    pub marks: Vec<PathBuf>,
}

/// One execution, as `fills.csv` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct FillRow {
    /// Exchange time, ms.
    pub time_ms: i64,
    /// Symbol.
    pub symbol: SymbolId,
    /// Position id.
    pub position_id: u64,
    /// Strategy name.
    pub strategy: &'static str,
    /// Side of the order.
    pub side: Side,
    /// Quantity.
    pub qty: Qty,
    /// Price (slippage included).
    pub price: Price,
    /// Fee, quote.
    pub fee: Money,
    /// `entry` or the exit reason.
    pub reason: &'static str,
}

/// One funding payment, as `funding.csv` writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingRow {
    /// Settlement time, ms.
    pub time_ms: i64,
    /// Symbol.
    pub symbol: SymbolId,
    /// Position id.
    pub position_id: u64,
    /// Strategy name.
    pub strategy: &'static str,
    /// Signed open quantity (negative: short).
    pub position_qty: f64,
    /// Mark price used.
    pub mark_price: Price,
    /// Funding rate.
    pub rate: f64,
    /// Amount credited (negative: paid), quote.
    pub amount: Money,
    /// Where the mark came from.
    pub mark_source: MarkSource,
}

/// The `funding` of a run that modelled it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FundingLedger {
    /// Every symbol of the run (BingX form), in `SymbolId` order.
    pub symbols: Vec<String>,
    /// Funding files read.
    pub files: Vec<PathBuf>,
    /// Mark-price files read.
    pub mark_files: Vec<PathBuf>,
    /// Funding intervals seen in the data, hours, ascending.
    pub intervals_hours: Vec<u32>,
    /// Settlements inside the data span.
    pub settlements: u64,
    /// Settlements per mark source.
    pub mark_sources: BTreeMap<&'static str, u64>,
    /// Every payment, in time order.
    pub rows: Vec<FundingRow>,
}

impl FundingLedger {
    /// Returns the sum of every payment.
    #[must_use]
    pub fn total(&self) -> Money {
        self.rows.iter().fold(Money::ZERO, |a, r| a + r.amount)
    }
}

/// Feeds settlements of one symbol to the driver at their times.
#[derive(Debug)]
pub(super) struct FundingClock {
    data: SymbolFunding,
    next: usize,
}

impl FundingClock {
    /// Returns the next settlement (time ms, rate) strictly before
    /// `before_ms` and advances past it.
    pub(super) fn next_before(&mut self, before_ms: i64) -> Option<(i64, f64)> {
        let r = self.data.rates.get(self.next)?;
        if r.time_ms < before_ms {
            self.next += 1;
            Some((r.time_ms, r.rate))
        } else {
            None
        }
    }

    /// Returns the mark at `time_ms` and its source, given the last price
    /// before it, and counts the settlement in `ledger` when priced.
    pub(super) fn mark(
        &self,
        time_ms: i64,
        last: Option<Price>,
        ledger: &mut FundingLedger,
    ) -> Option<(Price, MarkSource)> {
        let found = match self.data.mark_at(time_ms) {
            Some(p) => Some((p, MarkSource::MarkPrice)),
            None => last.map(|p| (p, MarkSource::LastPrice)),
        };
        if let Some((_, source)) = found {
            ledger.settlements += 1;
            *ledger.mark_sources.entry(source.as_str()).or_default() += 1;
        }
        found
    }
}

/// The settlement clock of every symbol (index = `SymbolId`; `None`: no
/// funding file for it) and the ledger they book into.
pub(super) type Clocks = (Vec<Option<FundingClock>>, FundingLedger);

/// Loads the funding clocks of `instruments` (index = `SymbolId`) and the
/// empty ledger they book into; `None` without funding files (funding not
/// modelled). Files are matched to instruments by symbol like `--data`
/// (`ETHUSDT` is `ETH-USDT`).
///
/// # Errors
/// [`BacktestError::Funding`] when a file cannot be used,
/// [`BacktestError::FundingSymbol`] when files name a symbol the data does
/// not hold.
pub(super) fn load_clocks(
    instruments: &[Instrument],
    inputs: &FundingInputs,
) -> Result<Option<Clocks>, BacktestError> {
    if inputs.funding.is_empty() && inputs.marks.is_empty() {
        return Ok(None);
    }
    let mut all = crate::funding::schedule::load(&inputs.funding, &inputs.marks)
        .map_err(BacktestError::Funding)?;
    let names: Vec<String> = instruments.iter().map(|i| normalize(&i.symbol)).collect();
    if let Some(other) = all.keys().find(|k| !names.contains(k)) {
        return Err(BacktestError::FundingSymbol {
            symbol: other.clone(),
            data_symbol: names.join(", "),
        });
    }
    let mut ledger = FundingLedger {
        symbols: instruments.iter().map(|i| i.symbol.clone()).collect(),
        ..FundingLedger::default()
    };
    let clocks = names
        .iter()
        .map(|n| {
            all.remove(n).map(|data| {
                ledger.files.extend(data.funding_files.iter().cloned());
                ledger.mark_files.extend(data.mark_files.iter().cloned());
                ledger.intervals_hours.extend(&data.intervals_hours);
                FundingClock { data, next: 0 }
            })
        })
        .collect();
    ledger.intervals_hours.sort_unstable();
    ledger.intervals_hours.dedup();
    Ok(Some((clocks, ledger)))
}

/// The header line of `fills.csv` (no newline).
pub const FILLS_CSV_HEADER: &str = "time_ms,symbol,strategy,position_id,side,qty,price,fee,reason";

/// The header line of `funding.csv` (no newline).
pub const FUNDING_CSV_HEADER: &str =
    "time_ms,symbol,position_id,position_qty,mark_price,rate,amount,mark_source";

/// Returns `fills.csv` text; `symbols` name the rows' symbols.
#[must_use]
pub fn fills_csv(symbols: &[SymbolResult], rows: &[FillRow]) -> String {
    let mut s = String::with_capacity(FILLS_CSV_HEADER.len() + 1 + rows.len() * 96);
    s.push_str(FILLS_CSV_HEADER);
    s.push('\n');
    for r in rows {
        let symbol = symbols
            .get(usize::from(r.symbol.0))
            .map_or("", |s| s.symbol.as_str());
        let _ = writeln!(
            s,
            "{},{symbol},{},{},{},{},{},{},{}",
            r.time_ms,
            r.strategy,
            r.position_id,
            match r.side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            },
            decimal8(r.qty.to_f64()),
            decimal8(r.price.to_f64()),
            r.fee,
            r.reason
        );
    }
    s
}

/// Returns `funding.csv` text.
#[must_use]
pub fn funding_csv(ledger: Option<&FundingLedger>) -> String {
    let mut s = String::from(FUNDING_CSV_HEADER);
    s.push('\n');
    let Some(l) = ledger else {
        return s;
    };
    for r in &l.rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{}",
            r.time_ms,
            l.symbols
                .get(usize::from(r.symbol.0))
                .map_or("", String::as_str),
            r.position_id,
            decimal8(r.position_qty),
            decimal8(r.mark_price.to_f64()),
            r.rate,
            r.amount,
            r.mark_source.as_str()
        );
    }
    s
}

/// The `funding` section of `report.json`: the words `not modelled` when
/// no funding file was given, else the totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FundingReport {
    /// No funding data: `"not modelled"`, never a silent zero.
    NotModelled(&'static str),
    /// Funding was charged.
    Modelled(FundingTotals),
}

/// Funding totals of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FundingTotals {
    /// Sum of every payment (negative: paid), quote.
    pub combined: f64,
    /// Sum per strategy name (every reported strategy, 0 when it paid none).
    pub strategies: BTreeMap<&'static str, f64>,
    /// Sum per symbol.
    pub symbols: BTreeMap<String, f64>,
    /// Payments booked (one per open position per settlement).
    pub payments: u64,
    /// Settlements inside the data span.
    pub settlements: u64,
    /// Settlements per mark source (`mark_price`: the mark-price data at
    /// that instant; `last_price`: the last trade or 1m close before it).
    pub mark_source: BTreeMap<&'static str, u64>,
    /// Funding intervals seen in the data, hours.
    pub intervals_hours: Vec<u32>,
    /// Funding files read.
    pub files: Vec<String>,
    /// Mark-price files read.
    pub mark_files: Vec<String>,
}

impl FundingReport {
    /// Builds the section from the run's ledger (`None`: not modelled);
    /// `strategies` are the reported strategy names.
    #[must_use]
    pub fn new(ledger: Option<&FundingLedger>, strategies: &[&'static str]) -> Self {
        let Some(l) = ledger else {
            return Self::NotModelled("not modelled");
        };
        let mut per_strategy: BTreeMap<&'static str, Money> =
            strategies.iter().map(|s| (*s, Money::ZERO)).collect();
        for r in &l.rows {
            *per_strategy.entry(r.strategy).or_default() += r.amount;
        }
        let total = l.total();
        let mut per_symbol: BTreeMap<String, Money> =
            l.symbols.iter().map(|s| (s.clone(), Money::ZERO)).collect();
        for r in &l.rows {
            if let Some(name) = l.symbols.get(usize::from(r.symbol.0)) {
                *per_symbol.entry(name.clone()).or_default() += r.amount;
            }
        }
        Self::Modelled(FundingTotals {
            combined: total.to_f64(),
            strategies: per_strategy
                .into_iter()
                .map(|(k, v)| (k, v.to_f64()))
                .collect(),
            symbols: per_symbol
                .into_iter()
                .map(|(k, v)| (k, v.to_f64()))
                .collect(),
            payments: l.rows.len() as u64,
            settlements: l.settlements,
            mark_source: l.mark_sources.clone(),
            intervals_hours: l.intervals_hours.clone(),
            files: l.files.iter().map(|p| p.display().to_string()).collect(),
            mark_files: l
                .mark_files
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        })
    }

    /// Returns the console line: `funding: not modelled` or the totals.
    #[must_use]
    pub fn summary_line(&self) -> String {
        match self {
            Self::NotModelled(words) => format!("funding: {words}\n"),
            Self::Modelled(t) => {
                let mut s = format!(
                    "funding: {:.2} combined ({} payments at {} settlements; mark {:?}; intervals {:?} h)",
                    t.combined, t.payments, t.settlements, t.mark_source, t.intervals_hours
                );
                for (name, v) in &t.strategies {
                    let _ = write!(s, "; {name} {v:.2}");
                }
                for (name, v) in &t.symbols {
                    let _ = write!(s, "; {name} {v:.2}");
                }
                s.push('\n');
                s
            }
        }
    }
}
