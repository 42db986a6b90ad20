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

#[cfg(test)]
mod tests {
    use super::super::{ServiceOptions, ServiceParts};
    use super::*;
    use crate::config::{Config, Mode};
    use crate::metrics::handoff::latency_channel;
    use crate::runtime::msg::{FromHot, Status};
    use crate::types::TimestampNs;
    use crossbeam_channel::{Receiver, Sender};
    use ringbuf::spsc::{Consumer, Producer};

    struct Rig {
        s: Service,
        inbox: Consumer<ToHot>,
        out: Producer<FromHot>,
        control: Sender<ControlRequest>,
    }

    fn rig(halt_file: Option<PathBuf>) -> Rig {
        let (_rec, collector) = latency_channel(1_000_000, 3, 1).unwrap();
        let (to_hot, inbox) = ringbuf::spsc::channel(16);
        let (reloads, _hot_reloads) = crate::runtime::reload::reload_channel();
        let (out, from_hot) = ringbuf::spsc::channel(16);
        let (control, control_rx) = crossbeam_channel::bounded(4);
        let s = Service::new(
            ServiceOptions {
                signals: false,
                stop_file: None,
                halt_file,
                config_path: None,
                status_every: None,
                latency_every: None,
                duration: None,
                flatten_on_stop: false,
                dead_man_secs: None,
                dashboard_every: None,
                mode: Mode::Paper,
            },
            ServiceParts {
                from_hot,
                to_hot,
                reloads,
                latency: collector,
                control: Some(control_rx),
                rest: None,
                symbols: vec!["BTC-USDT".into()],
                config: Config::default(),
                stop: None,
                metrics: None,
            },
        )
        .unwrap();
        Rig {
            s,
            inbox,
            out,
            control,
        }
    }

    fn status(halted: bool, applied: u64) -> Status {
        Status {
            wall_ts: TimestampNs(1),
            halted,
            commands_applied: applied,
            risk: if halted {
                crate::runtime::startup::dashboard::RiskState::Halted(
                    crate::risk::HaltReason::Command,
                )
            } else {
                crate::runtime::startup::dashboard::RiskState::Ok
            },
            ..Status::default()
        }
    }

    fn ask(r: &Rig, command: ControlCommand) -> Receiver<ControlReply> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        r.control
            .send(ControlRequest {
                command,
                peer: "127.0.0.1:1".parse().unwrap(),
                reply: tx,
            })
            .unwrap();
        rx
    }

    fn feed(r: &mut Rig, st: Status) {
        r.out.push(FromHot::Status(st)).unwrap();
        r.s.drain(&mut Vec::new());
    }

    #[test]
    fn issue_20_ctl_halt_is_answered_once_the_engine_applied_it() {
        let mut r = rig(None);
        let reply = ask(&r, ControlCommand::Halt);
        r.s.serve_control();
        assert_eq!(
            r.inbox.pop(),
            Some(ToHot::Command {
                command: Command::Halt,
                source: OperatorSource::Control
            })
        );
        assert!(reply.try_recv().is_err(), "not applied yet: no answer");
        // A status taken before the command was applied answers nothing.
        feed(&mut r, status(false, 0));
        assert!(reply.try_recv().is_err());
        feed(&mut r, status(true, 1));
        let got = reply.try_recv().unwrap();
        assert!(got.accepted);
        assert!(
            got.body.contains("halt applied: risk HALTED (command)"),
            "{}",
            got.body
        );
        // `status` right after shows it.
        let st = ask(&r, ControlCommand::Status);
        r.s.serve_control();
        let body = st.try_recv().unwrap().body;
        assert!(body.contains("\"halted\":true"), "{body}");
    }

    #[test]
    fn a_command_the_engine_does_not_apply_in_time_is_reported_as_queued() {
        let mut r = rig(None);
        let reply = ask(&r, ControlCommand::Reset);
        r.s.serve_control();
        assert!(reply.try_recv().is_err());
        r.s.pending[0].until = Instant::now();
        r.s.answer_pending();
        let got = reply.try_recv().unwrap();
        assert!(got.body.contains("reset queued"), "{}", got.body);
        assert_eq!(
            r.inbox.pop(),
            Some(ToHot::Command {
                command: Command::Reset,
                source: OperatorSource::Control
            })
        );
    }

    #[test]
    fn issue_20_the_halt_marker_is_written_on_halt_and_deleting_it_resets() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("HALTED");
        let mut r = rig(Some(marker.clone()));
        r.s.check_halt_marker();
        assert!(!marker.exists(), "no status yet, no marker");
        feed(&mut r, status(true, 0));
        r.s.check_halt_marker();
        let text = std::fs::read_to_string(&marker).unwrap();
        assert!(text.contains("HALTED (command)"), "{text}");
        assert!(text.contains("ctl reset"), "{text}");
        r.s.check_halt_marker();
        assert!(r.inbox.pop().is_none(), "nothing while the marker stays");
        std::fs::remove_file(&marker).unwrap();
        r.s.check_halt_marker();
        assert_eq!(
            r.inbox.pop(),
            Some(ToHot::Command {
                command: Command::Reset,
                source: OperatorSource::HaltFile
            })
        );
        // Until the reset is applied the old status (halted) must not
        // bring the marker back.
        r.s.check_halt_marker();
        assert!(!marker.exists());
        feed(&mut r, status(false, 1));
        r.s.check_halt_marker();
        assert!(!marker.exists());
        assert!(r.inbox.pop().is_none(), "one reset only");
    }

    #[test]
    fn the_halt_marker_goes_when_the_engine_resumes_and_a_leftover_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("HALTED");
        std::fs::write(&marker, "left over").unwrap();
        let mut r = rig(Some(marker.clone()));
        feed(&mut r, status(false, 0));
        r.s.check_halt_marker();
        assert!(
            !marker.exists(),
            "a leftover marker of a running engine goes"
        );
        feed(&mut r, status(true, 0));
        r.s.check_halt_marker();
        assert!(marker.exists());
        feed(&mut r, status(false, 1));
        r.s.check_halt_marker();
        assert!(!marker.exists(), "resumed: the marker is removed");
        assert!(r.inbox.pop().is_none(), "no reset sent for a resume");
    }
}
