//! `--trades`: the closed trades of a journal as CSV, with exactly the columns (and value
//! formatting) of the backtest's `trades.csv` ([`TRADES_CSV_HEADER`],
//! [`push_trade_csv_row`]).
//!
//! Consumes `session` records (for names), `funding` records (summed per position into the
//! `funding` column) and `trade_closed` records; produces
//! [`TradeRow`]s and CSV text. Names: a trade's strategy id is the index of the strategy in the
//! core built from the latest preceding `session` record's config (the core's
//! `strategy_name`, which follows config order, exactly as the backtest names its rows); its
//! symbol id indexes that session's symbol list. Without a session (or with a config this
//! build cannot load) the names fall back to `strategy<N>` / `symbol<N>` and a warning goes to
//! the error writer. `trades.csv` has no symbol column, so the symbol only appears in the
//! SQLite export. Never writes the journal; never drops a trade for want of a name.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use trading_engine::backtest::{push_trade_csv_row, TRADES_CSV_HEADER};
use trading_engine::config::Config;
use trading_engine::core::{Action, Core, Record};
use trading_engine::journal_schema::{tags, JournalRecord, SessionStart};
use trading_engine::money::Money;
use trading_engine::orders::PositionId;
use trading_engine::positions::ClosedTrade;
use trading_engine::strategy::StrategyId;

use super::{scan, DumpError, Filter, Outcome, Step};

/// One closed trade with its names resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRow {
    /// Sequence number of its `trade_closed` record.
    pub seq: u64,
    /// The trade.
    pub trade: ClosedTrade,
    /// Strategy name.
    pub strategy: String,
    /// Symbol name.
    pub symbol: String,
    /// Funding the position paid (negative) or received while open.
    pub funding: Money,
}

/// Strategy and symbol names of the current session.
#[derive(Debug, Default)]
pub struct Names {
    strategies: Vec<&'static str>,
    symbols: Vec<String>,
}

impl Names {
    /// Takes the names of a new session: symbols from its list, strategies from the core its
    /// config and rules build. Returns a warning when the config cannot be loaded.
    pub fn on_session(&mut self, s: &SessionStart<'_>) -> Option<String> {
        self.symbols = s.symbol_names().map(str::to_owned).collect();
        self.strategies.clear();
        let cfg = match Config::from_toml_str_with_cores(s.config_toml, None) {
            Ok(c) => c,
            Err(e) => return Some(format!("session config cannot be loaded: {e}")),
        };
        let Some(rules) = s.rules() else {
            return Some("session instrument rules cannot be decoded".into());
        };
        match Core::try_new(&cfg, &rules) {
            Ok(core) => {
                self.strategies = (0..core.strategy_count())
                    .map(|k| core.strategy_name(StrategyId(u8::try_from(k).unwrap_or(u8::MAX))))
                    .collect();
                None
            }
            Err(e) => Some(format!("session core cannot be built: {e}")),
        }
    }

    /// Returns the name of strategy `id`.
    #[must_use]
    pub fn strategy(&self, id: StrategyId) -> String {
        self.strategies
            .get(usize::from(id.0))
            .map_or_else(|| format!("strategy{}", id.0), |s| (*s).to_owned())
    }

    /// Returns the name of symbol `id`.
    #[must_use]
    pub fn symbol(&self, id: trading_engine::types::SymbolId) -> String {
        self.symbols
            .get(usize::from(id.0))
            .cloned()
            .unwrap_or_else(|| format!("symbol{}", id.0))
    }
}

/// Collects the closed trades of `dir` whose record time passes `filter` (session records are
/// always read for the names).
///
/// # Errors
/// [`DumpError`] when the journal cannot be read.
pub fn collect(
    dir: &Path,
    filter: &Filter,
    err: &mut dyn Write,
) -> Result<(Vec<TradeRow>, Outcome), DumpError> {
    let mut names = Names::default();
    let mut rows = Vec::new();
    let mut seen_session = false;
    let mut warned_no_session = false;
    let mut funding: HashMap<PositionId, Money> = HashMap::new();
    let outcome = scan(dir, None, err, |step, err| {
        let Step::Record(r) = step else {
            return Ok(());
        };
        if r.type_tag != tags::SESSION
            && r.type_tag != tags::TRADE_CLOSED
            && r.type_tag != tags::FUNDING
        {
            return Ok(());
        }
        match JournalRecord::decode(r.type_tag, r.payload) {
            Ok(JournalRecord::Session(s)) => {
                seen_session = true;
                if let Some(w) = names.on_session(&s) {
                    writeln!(
                        err,
                        "journal-dump: record {}: {w}; names fall back to strategy<N>",
                        r.seq
                    )?;
                }
            }
            Ok(JournalRecord::Output(Action::Record(Record::Funding(p)))) => {
                *funding.entry(p.position).or_default() += p.amount;
            }
            Ok(JournalRecord::Output(Action::Record(Record::TradeClosed(t)))) => {
                let paid = funding.remove(&t.position).unwrap_or(Money::ZERO);
                if !filter.time_matches(r.ts_ns) {
                    return Ok(());
                }
                if !seen_session && !warned_no_session {
                    warned_no_session = true;
                    writeln!(err, "journal-dump: trade before any session record; names fall back to strategy<N>")?;
                }
                rows.push(TradeRow {
                    seq: r.seq,
                    trade: t,
                    strategy: names.strategy(t.strategy),
                    symbol: names.symbol(t.symbol),
                    funding: paid,
                });
            }
            Ok(_) => {}
            Err(e) => writeln!(
                err,
                "journal-dump: record {} (tag {}) cannot be decoded: {e}",
                r.seq, r.type_tag
            )?,
        }
        Ok(())
    })?;
    Ok((rows, outcome))
}

/// Returns the trades as `trades.csv` text (header and one line per trade).
#[must_use]
pub fn to_csv(rows: &[TradeRow]) -> String {
    let mut s = String::with_capacity(TRADES_CSV_HEADER.len() + 1 + rows.len() * 128);
    s.push_str(TRADES_CSV_HEADER);
    s.push('\n');
    for r in rows {
        let exits = usize::try_from(r.trade.exits).unwrap_or(usize::MAX);
        push_trade_csv_row(&mut s, &r.trade, &r.symbol, &r.strategy, exits, r.funding);
    }
    s
}
