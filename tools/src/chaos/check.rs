//! The end-of-run checks of a chaos run: the simulator's stop guard watch
//! (stop-less stretches, repeated client order ids), the journal (readable,
//! replaying with 0 mismatches), and the engine's rebuilt state against the
//! exchange's account.

use std::fmt;
use std::path::Path;

use bingx_sim::{PosSide, SimHandle};
use trading_engine::types::{Side, SymbolId};

use super::{ChaosOptions, ChaosReport};

/// The engine's and the exchange's state at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndState {
    /// The engine's net position (negative = short), from its journal.
    pub engine_position: f64,
    /// The engine's realised equity (initial + PnL − fees), USDT.
    pub engine_cash: f64,
    /// The exchange's net position.
    pub exchange_position: f64,
    /// The exchange's wallet balance, USDT.
    pub exchange_wallet: f64,
    /// Orders still open on the exchange.
    pub exchange_open_orders: usize,
}

impl fmt::Display for EndState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "engine position {:+.4}, equity {:.2}; exchange position {:+.4}, wallet {:.2}, {} open orders",
            self.engine_position,
            self.engine_cash,
            self.exchange_position,
            self.exchange_wallet,
            self.exchange_open_orders
        )
    }
}

/// Fills the report's exchange-side, journal and state findings.
pub fn finish(opts: &ChaosOptions, sim: &SimHandle, journal: &Path, report: &mut ChaosReport) {
    let guard = sim.stop_guard();
    report.orders = guard.orders_placed;
    report.duplicates = guard.duplicate_client_ids.clone();
    report.longest_stopless_ms = guard.longest().map_or(0, |i| i.len_ms());
    for i in guard
        .stopless
        .iter()
        .filter(|i| i.len_ms() > report.guard_ms)
    {
        let state = if i.open { ", still open" } else { "" };
        let side = format!("{}{state}", i.pos_side.as_str());
        let kills = report
            .kill_ms
            .iter()
            .filter(|k| (i.from_ms..=i.to_ms).contains(*k))
            .count();
        if kills >= 2 {
            report.stopless_across_kills.push((side, i.len_ms(), kills));
        } else {
            report.stopless_over.push((side, i.len_ms()));
        }
    }
    report.faults = sim.fault_counts();
    check_journal(journal, report);
    check_state(opts, sim, journal, report);
}

fn check_journal(journal: &Path, report: &mut ChaosReport) {
    match trading_engine::replay::replay(journal, &mut |_| {}) {
        Ok(r) => {
            report.sessions = r.counts.sessions;
            if let Some(m) = r.first_mismatch {
                report
                    .journal_problems
                    .push(format!("replay mismatch: {m}"));
            }
            if let Some(t) = r.torn {
                report
                    .journal_problems
                    .push(format!("journal ends torn after a clean last life: {t:?}"));
            }
            if r.counts.unknown > 0 {
                report
                    .journal_problems
                    .push(format!("{} records of unknown type", r.counts.unknown));
            }
        }
        Err(e) => report
            .journal_problems
            .push(format!("journal unreadable: {e}")),
    }
}

/// Writes the exchange's filled orders to `exchange_fills.csv` in the work
/// directory, beside the journal, so that an equity difference can be
/// traced order by order (`journal-dump --type fill,exit`).
fn write_exchange_fills(opts: &ChaosOptions, view: &bingx_sim::AccountView) {
    let mut csv = String::from("update_ms,client_id,type,side,qty,price,fee,profit\n");
    for o in &view.filled {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{:.8},{:.8}\n",
            o.update_ms, o.client_id, o.kind, o.side, o.qty, o.price, o.fee, o.profit
        ));
    }
    let path = opts.work_dir.join("exchange_fills.csv");
    if let Err(e) = std::fs::write(&path, csv) {
        eprintln!("chaos: cannot write {}: {e}", path.display());
    }
}

fn check_state(opts: &ChaosOptions, sim: &SimHandle, journal: &Path, report: &mut ChaosReport) {
    let view = sim.account_view();
    write_exchange_fills(opts, &view);
    let exchange_position: f64 = view.positions.iter().map(|(_, q)| q).sum();
    let mut end = EndState {
        exchange_position,
        exchange_wallet: view.wallet,
        exchange_open_orders: view.open_orders.len(),
        ..EndState::default()
    };
    let rebuilt = match trading_engine::replay::rebuild(journal) {
        Ok(r) => r,
        Err(e) => {
            report
                .state_mismatches
                .push(format!("engine state not rebuilt from the journal: {e}"));
            report.end = end;
            return;
        }
    };
    let Some(core) = rebuilt.core else {
        report
            .state_mismatches
            .push("the journal holds no session".to_owned());
        report.end = end;
        return;
    };
    if let Some(p) = core.position(SymbolId(0)) {
        let q = p.open_qty.to_f64();
        end.engine_position = if p.side == Side::Sell { -q } else { q };
    }
    end.engine_cash = core.cash().to_f64();
    if (end.engine_position - end.exchange_position).abs() > 1e-9 {
        report.state_mismatches.push(format!(
            "positions differ: engine {:+.4}, exchange {:+.4} ({:?})",
            end.engine_position,
            end.exchange_position,
            view.positions
                .iter()
                .map(|(s, q)| format!("{} {q:+.4}", PosSide::as_str(*s)))
                .collect::<Vec<_>>()
        ));
    }
    if (end.engine_cash - end.exchange_wallet).abs() > opts.equity_tolerance {
        report.state_mismatches.push(format!(
            "equity differs: engine {:.4}, exchange wallet {:.4} (tolerance {})",
            end.engine_cash, end.exchange_wallet, opts.equity_tolerance
        ));
    }
    if end.engine_position == 0.0 && end.exchange_open_orders > 0 {
        report.state_mismatches.push(format!(
            "the engine ended flat but left open orders on the exchange: {:?}",
            view.open_orders
        ));
    }
    report.end = end;
}
