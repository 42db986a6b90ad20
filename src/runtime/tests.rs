//! Tests of the demo configuration against the simulator's generated market.

use crate::config::Config;
use crate::core::{Action, Core, Event, Record};
use crate::fill_model::{FillModel, MarketFill};
use crate::types::{DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId, TimestampNs, Trade};
use bingx_sim::source::{MarketSource, Precision};
use std::collections::VecDeque;

fn rules() -> InstrumentRules {
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step: DecimalStep::from_precision(4),
        min_qty: Qty::from_decimal(1, 4).unwrap(),
        min_notional: Price::from_decimal(2, 0).unwrap(),
    }
}

/// Minutes (from the market start) at which the core sends entries when
/// it trades the simulator's generated market of `seed` with `cfg`.
fn entry_minutes(cfg: &Config, seed: u64, minutes: i64) -> Vec<i64> {
    {
        let mut core = Core::try_new(cfg, &[rules()]).unwrap();
        let mut sim = FillModel::new(&cfg.simulator, 1, MarketFill::NextTrade);
        let start = 1_700_000_000_000i64;
        let mut src =
            MarketSource::generated(seed, start, 60_000.0, Precision { price: 1, qty: 4 });
        let mut q = VecDeque::new();
        let mut entries = Vec::new();
        while let Some(t) = src.next_tick() {
            if t.time_ms > start + minutes * 60_000 {
                break;
            }
            let tr = Trade {
                symbol: SymbolId(0),
                trade_id: 0,
                price: Price::from_decimal(t.price, 1).unwrap(),
                qty: Qty::from_decimal(t.qty, 4).unwrap(),
                exchange_ts: TimestampNs(t.time_ms * 1_000_000),
                aggressor: if t.buyer_maker { Side::Sell } else { Side::Buy },
            };
            sim.on_trade(&tr, &mut |e| q.push_back(e));
            q.push_back(Event::Trade(tr));
            while let Some(e) = q.pop_front() {
                core.on_event(&e);
                while let Some(a) = core.next_action() {
                    match a {
                        Action::Place(o) => sim.submit(&o, &mut |e| q.push_back(e)),
                        Action::Cancel { order, .. } => sim.cancel(order, &mut |e| q.push_back(e)),
                        Action::Record(Record::EntrySent { ts, .. }) => {
                            entries.push((ts.0 / 1_000_000 - start) / 60_000)
                        }
                        _ => {}
                    }
                }
            }
        }
        entries
    }
}

#[test]
fn the_demo_strategies_trade_the_generated_market_within_the_default_window() {
    let mut cfg = Config::default();
    super::demo::demo_strategies(&mut cfg);
    let live_from = 1_440;
    let live_to = live_from
        + (super::demo::DEFAULT_SPEED * super::demo::DEFAULT_DURATION_SECS as f64 / 60.0) as i64;
    let entries = entry_minutes(&cfg, super::demo::DEFAULT_SEED, live_to);
    let live = entries
        .iter()
        .filter(|m| (live_from..live_to).contains(*m))
        .count();
    assert!(live >= 3, "entries at minutes {entries:?}");
    // The production thresholds are far stricter on the same market.
    let strict = entry_minutes(&Config::default(), super::demo::DEFAULT_SEED, live_to);
    assert!(strict.len() < entries.len(), "{strict:?} vs {entries:?}");
}

#[test]
fn a_journal_path_that_is_a_file_is_a_create_dir_error_naming_it() {
    use super::{JournalStartError, RuntimeError};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("journal");
    std::fs::write(&file, b"x").unwrap();
    let e = super::setup::open_writer(&Config::default(), &file).unwrap_err();
    assert!(
        matches!(&e, RuntimeError::Journal(JournalStartError::CreateDir { dir, .. }) if *dir == file),
        "{e:?}"
    );
    let cause = std::error::Error::source(&e).and_then(std::error::Error::source);
    assert!(cause.is_some_and(|c| c.is::<std::io::Error>()), "{e:?}");
    assert!(e.to_string().starts_with("journal unavailable: "), "{e}");
}
