//! The service thread's operator side: control-server commands answered
//! once the engine has applied them, and the `risk.halt_file` marker.
//!
//! Consumes [`ControlRequest`]s, the hot thread's statuses (which count
//! the operator commands applied) and the marker file's presence;
//! produces [`ToHot::Command`]s, replies and the marker file. A halt,
//! resume, reset or flatten is answered when a status shows the engine
//! applied it, so `ctl status` right after shows its effect; if the
//! engine has not applied it within [`APPLY_WAIT`] the reply says it is
//! queued. The marker is written whenever the engine is HALTED (not when
//! it only stops), removed when it resumes, and deleting it resets the
//! engine (journaled as an operator `reset` from `halt_file`). Never
//! touches the core.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::control::{ControlCommand, ControlReply, ControlRequest};
use crate::core::Command;
use crate::journal_schema::OperatorSource;

use super::super::msg::ToHot;
use super::Service;

/// Longest wait for the engine to apply a command before the reply says
/// it is queued (below the control server's reply timeout of 5 s).
pub(super) const APPLY_WAIT: Duration = Duration::from_secs(2);

/// A command sent to the engine whose reply waits for it to apply.
#[derive(Debug)]
pub(super) struct Pending {
    /// The request to answer.
    request: ControlRequest,
    /// Applied once a status counts this many commands.
    seq: u64,
    /// When the reply says "queued" instead.
    until: Instant,
}

/// The halt marker's state, owned by the service thread.
#[derive(Debug, Default)]
pub(super) struct HaltMarker {
    /// The marker file (`risk.halt_file`, resolved); `None`: no marker.
    pub(super) path: Option<PathBuf>,
    /// The marker for the current halt was written by this run.
    written: bool,
    /// A leftover marker was looked at (once, at the first status).
    checked_stale: bool,
    /// A reset for a deleted marker is on its way: applied at this count.
    reset_seq: Option<u64>,
    /// A write failure was already logged.
    failed: bool,
}

impl HaltMarker {
    /// Returns the state for the marker at `path` (`None`: no marker).
    pub(super) fn new(path: Option<PathBuf>) -> Self {
        Self {
            path,
            ..Self::default()
        }
    }
}

impl Service {
    /// Serves the control server's requests: status at once, commands
    /// queued to the engine and answered once applied, reload here.
    pub(super) fn serve_control(&mut self) {
        let Some(rx) = self.p.control.clone() else {
            return;
        };
        while let Ok(req) = rx.try_recv() {
            log::info!("Control command {} from {}", req.command, req.peer);
            let command = match req.command {
                ControlCommand::Status => {
                    let reply = self.status_reply();
                    let _ = req.respond(reply);
                    continue;
                }
                ControlCommand::Reload => {
                    let (accepted, detail) = self.reload();
                    let _ = req.respond(if accepted {
                        ControlReply::accepted(detail)
                    } else {
                        ControlReply::declined(detail)
                    });
                    continue;
                }
                ControlCommand::Halt => Command::Halt,
                ControlCommand::Resume => Command::Resume,
                ControlCommand::Reset => Command::Reset,
                ControlCommand::Flatten => Command::Flatten,
            };
            self.send(ToHot::Command {
                command,
                source: OperatorSource::Control,
            });
            self.pending.push(Pending {
                request: req,
                seq: self.commands_sent,
                until: Instant::now() + APPLY_WAIT,
            });
        }
        self.answer_pending();
    }

    /// Answers the waiting commands the engine applied (per the last
    /// status) or that waited too long.
    pub(super) fn answer_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let applied = self.report.status.commands_applied;
        let now = Instant::now();
        let mut i = 0;
        while i < self.pending.len() {
            let p = &self.pending[i];
            if p.seq > applied && now < p.until {
                i += 1;
                continue;
            }
            let p = self.pending.swap_remove(i);
            let command = p.request.command;
            let reply = if p.seq <= applied {
                let s = &self.report.status;
                ControlReply::accepted(format!(
                    "{command} applied: risk {}, {} open positions, equity {:.2}",
                    s.risk, s.positions, s.equity
                ))
            } else {
                log::warn!("Control command {command} not applied yet by the engine: queued");
                ControlReply::accepted(format!(
                    "{command} queued: sent to the engine, not applied within {} s; check with `ctl status`",
                    APPLY_WAIT.as_secs()
                ))
            };
            let _ = p.request.respond(reply);
        }
    }

    /// Returns the `status` reply: the last status as JSON.
    fn status_reply(&self) -> ControlReply {
        let s = &self.report.status;
        ControlReply::json(
            true,
            &serde_json::json!({
                "equity": s.equity,
                "cash": s.cash,
                "positions": s.positions,
                "halted": s.halted,
                "trades": s.trades,
                "orders": s.orders,
                "closed_trades": s.closed_trades,
                "wins": s.wins,
                "pnl_today": s.pnl_today,
                "pnl_total": s.pnl_total,
                "peak_equity": s.peak_equity,
                "risk": s.risk.to_string(),
                "connected": s.connected,
            }),
        )
    }

    /// Keeps the halt marker in step with the engine's HALTED state; a
    /// marker a person deleted while halted resets the engine.
    pub(super) fn check_halt_marker(&mut self) {
        let Some(path) = self.halt.path.clone() else {
            return;
        };
        if self.report.status.wall_ts.0 == 0 {
            return; // No status from the engine yet.
        }
        let halted = self.report.status.halted;
        let applied = self.report.status.commands_applied;
        if self.halt.reset_seq.is_some_and(|seq| seq > applied) {
            return; // The reset is on its way.
        }
        self.halt.reset_seq = None;
        let exists = path.exists();
        if !self.halt.checked_stale {
            self.halt.checked_stale = true;
            if exists && !halted {
                remove_marker(&path, "a leftover halt marker: the engine is not halted");
                return;
            }
            // Halted at start (rebuilt from the journal): the marker stays
            // or is written below.
            self.halt.written = exists && halted;
        }
        match (halted, self.halt.written, exists) {
            (true, false, _) => match write_marker(&path, &self.report.status.risk.to_string()) {
                Ok(()) => {
                    self.halt.written = true;
                    self.halt.failed = false;
                    log::warn!(
                            "Engine HALTED: marker {} written; delete it or run `trading-engine ctl reset` to resume",
                            path.display()
                        );
                }
                Err(e) if !self.halt.failed => {
                    self.halt.failed = true;
                    log::error!("Cannot write the halt marker {}: {e}", path.display());
                }
                Err(_) => {}
            },
            (true, true, false) => {
                self.halt.written = false;
                log::warn!(
                    "Halt marker {} deleted: resetting the engine (resume, cooldown and locks cleared)",
                    path.display()
                );
                self.send(ToHot::Command {
                    command: Command::Reset,
                    source: OperatorSource::HaltFile,
                });
                self.halt.reset_seq = Some(self.commands_sent);
            }
            (false, true, _) => {
                self.halt.written = false;
                if exists {
                    remove_marker(&path, "the engine resumed");
                }
            }
            _ => {}
        }
    }
}

/// Writes the marker: what halted the engine and how to resume.
fn write_marker(path: &Path, risk: &str) -> std::io::Result<()> {
    let text = format!(
        "trading-engine {risk} since {}\nDelete this file or run `trading-engine ctl reset` to resume.\n",
        crate::journal_schema::format_ts(crate::types::TimestampNs(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
        ))
    );
    std::fs::write(path, text)
}

/// Removes the marker, logging why (a failure is logged too).
fn remove_marker(path: &Path, why: &str) {
    match std::fs::remove_file(path) {
        Ok(()) => log::info!("Removed the halt marker {}: {why}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::error!("Cannot remove the halt marker {}: {e}", path.display()),
    }
}
