//! The engine's periodic outputs: status snapshots and latency intervals
//! to the service thread, equity samples and state snapshots to the journal.
//!
//! Consumes the core's state; produces [`Status`] messages and journal
//! records. Never allocates, blocks or logs.

use crate::journal_schema::{self as js, JournalRecord};
use crate::money::Money;
use crate::types::SymbolId;

use super::super::msg::{FromHot, Status};
use super::Engine;

impl Engine {
    /// Publishes the latency interval and sends a status snapshot.
    pub fn publish(&mut self) {
        let _ = self.latency.publish();
        let core = &self.core;
        let pos = core.position(self.symbol0);
        let positions = self.open_positions();
        let status = Status {
            market_ts: self.time.last_ts,
            equity: core.equity(),
            cash: core.cash().to_f64(),
            positions: u32::try_from(positions).unwrap_or(u32::MAX),
            position_qty: pos.map_or(0.0, |p| match p.side {
                crate::types::Side::Buy => p.open_qty.to_f64(),
                crate::types::Side::Sell => -p.open_qty.to_f64(),
            }),
            halted: core.halted().is_some(),
            frames: self.counters.frames,
            trades: self.counters.trades,
            orders: self.counters.orders,
            fills: self.counters.fills,
            closed_trades: self.counters.closed_trades,
            last_price: self.last_price,
            connected: self.connected,
        };
        let _ = self.out.push(FromHot::Status(status));
    }

    /// Writes the periodic equity sample and state snapshot.
    pub fn snapshot(&mut self) {
        let ts = self.market_now();
        let core = &self.core;
        let equity = Money::from_f64(core.equity());
        let cash = core.cash();
        let peak = Money::from_f64(core.risk().peak_equity());
        let mut snap = js::Snapshot {
            ts,
            equity,
            cash,
            peak,
            halted: core.halted().is_some(),
            working_orders: u32::try_from(self.orders.open()).unwrap_or(u32::MAX),
            trades: u32::try_from(self.counters.closed_trades).unwrap_or(u32::MAX),
            positions: [None; js::SNAPSHOT_MAX_POSITIONS],
        };
        let mut k = 0;
        for i in 0..js::SNAPSHOT_MAX_POSITIONS as u16 {
            if let Some(p) = core.position(SymbolId(i)) {
                let mark = if i == 0 {
                    self.last_price
                } else {
                    p.entry_price
                };
                let dir = if p.side == crate::types::Side::Buy {
                    1.0
                } else {
                    -1.0
                };
                snap.positions[k] = Some(js::PositionSnap {
                    position: p.id,
                    symbol: p.symbol,
                    side: p.side,
                    state: p.state,
                    qty: p.open_qty,
                    entry: crate::types::Price::from_f64(p.entry_price).unwrap_or(p.stop),
                    stop: p.stop,
                    unrealized: Money::from_f64(dir * (mark - p.entry_price) * p.open_qty.to_f64()),
                });
                k += 1;
            }
        }
        self.journal(
            ts,
            &JournalRecord::Equity {
                equity,
                cash,
                peak,
                ts,
            },
        );
        self.journal(ts, &JournalRecord::Snapshot(snap));
    }
}
