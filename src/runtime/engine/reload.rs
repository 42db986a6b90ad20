//! Applying an accepted config reload on the hot thread, between two
//! events: the core takes the new config, the journal gets the reload
//! record and the config that replay applies at the same point, and the
//! payload goes back to the service thread to be freed.
//!
//! Consumes a [`ToHot::Reload`](crate::runtime::ToHot::Reload) decision and,
//! when accepted, its payload from the reload queue; produces the core's new
//! parameters, journal records and a [`HotLog`] note. Never allocates or
//! frees.

use super::Engine;
use crate::clock::Clock;
use crate::journal_schema::{JournalRecord, ReloadOutcome};
use crate::runtime::msg::{HotLog, Note};
use crate::types::TimestampNs;

impl<C: Clock> Engine<C> {
    /// Journals a reload decision; an accepted one is applied to the core
    /// first and its config journaled after the decision. A core that
    /// refuses it (the service thread checked the same, so this does not
    /// happen) leaves its parameters and journals the refusal instead.
    pub(super) fn on_reload(&mut self, outcome: ReloadOutcome, detail: &Note, ts: TimestampNs) {
        if outcome == ReloadOutcome::Refused {
            let rec = JournalRecord::Reload {
                outcome,
                detail: detail.as_str(),
                ts,
            };
            self.journal(ts, &rec);
            return;
        }
        let Some(payload) = self.reloads.take() else {
            let rec = JournalRecord::Reload {
                outcome: ReloadOutcome::Refused,
                detail: "reload refused by the engine: its parameters never arrived",
                ts,
            };
            self.journal(ts, &rec);
            self.log(HotLog::ReloadMissing);
            return;
        };
        match self.core.reload(&payload.config) {
            Ok(()) => {
                let rec = JournalRecord::Reload {
                    outcome,
                    detail: detail.as_str(),
                    ts,
                };
                self.journal(ts, &rec);
                let rec = JournalRecord::ReloadConfig {
                    config_toml: &payload.config_toml,
                    ts,
                };
                self.journal(ts, &rec);
                self.log(HotLog::ReloadApplied);
            }
            Err(e) => {
                let note = Note::from_display(&e);
                let rec = JournalRecord::Reload {
                    outcome: ReloadOutcome::Refused,
                    detail: note.as_str(),
                    ts,
                };
                self.journal(ts, &rec);
                self.log(HotLog::ReloadFailed(e));
            }
        }
        // At most RELOAD_SLOTS payloads exist, so the return queue has room;
        // were it full, the payload would be freed here rather than lost.
        let _ = self.reloads.give_back(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::config::Config;
    use crate::core::{Core, CoreReloadError};
    use crate::metrics::handoff::{latency_channel, LatencyCollector};
    use crate::runtime::engine::{EngineParts, Venue};
    use crate::runtime::msg::{FromHot, ToHot};
    use crate::runtime::reload::{reload_channel, ReloadPayload, ServiceReloads};
    use crate::types::{DecimalStep, InstrumentRules, Price, Qty};
    use ringbuf::spsc::{Consumer, Producer};

    struct Rig {
        engine: Engine,
        to_hot: Producer<ToHot>,
        reloads: ServiceReloads,
        from_hot: Consumer<FromHot>,
        _latency: LatencyCollector,
        dir: tempfile::TempDir,
    }

    fn rig() -> Rig {
        let rules = InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(3),
            min_qty: Qty::from_f64(0.001).unwrap(),
            min_notional: Price::from_f64(5.0).unwrap(),
        };
        let core = Core::try_new(&Config::default(), &[rules]).unwrap();
        let (recorder, collector) = latency_channel(1_000_000, 3, 4).unwrap();
        let (to_hot, inbox) = ringbuf::spsc::channel(16);
        let (out, from_hot) = ringbuf::spsc::channel(64);
        let (reloads, hot_reloads) = reload_channel();
        let dir = tempfile::tempdir().unwrap();
        let journal = journal::Writer::open(
            dir.path(),
            journal::WriterOptions {
                durability: journal::Durability::None,
                ..journal::WriterOptions::default()
            },
        )
        .unwrap();
        let engine = Engine::new(EngineParts {
            core,
            venue: Venue::DryRun,
            journal: Some(journal),
            latency: recorder,
            out,
            inbox,
            reloads: hot_reloads,
            clock: SystemClock::new(),
            prefix: "te-".into(),
            time_scale: 1.0,
            start_ts: TimestampNs(0),
            symbols: 1,
        });
        Rig {
            engine,
            to_hot,
            reloads,
            from_hot,
            _latency: collector,
            dir,
        }
    }

    impl Rig {
        fn decide(&mut self, outcome: ReloadOutcome, detail: &str, config: Option<Config>) {
            if let Some(config) = config {
                let config_toml = config.to_toml_string().unwrap();
                self.reloads
                    .send(ReloadPayload {
                        config,
                        config_toml,
                    })
                    .unwrap();
            }
            self.to_hot
                .push(ToHot::Reload {
                    outcome,
                    detail: Note::new(detail),
                })
                .unwrap();
        }

        fn logs(&mut self) -> Vec<HotLog> {
            let mut out = Vec::new();
            while let Some(m) = self.from_hot.pop() {
                if let FromHot::Log(l) = m {
                    out.push(l);
                }
            }
            out
        }

        /// Closes the journal and returns its reload records as
        /// (outcome or `None` for a config record, detail or TOML).
        fn journaled(mut self) -> Vec<(Option<ReloadOutcome>, String)> {
            self.engine.take_journal().unwrap().close().unwrap();
            let mut r = journal::Reader::open(self.dir.path()).unwrap();
            let mut out = Vec::new();
            while let Some(rec) = r.next() {
                let rec = rec.unwrap();
                match JournalRecord::decode(rec.type_tag, rec.payload).unwrap() {
                    JournalRecord::Reload {
                        outcome, detail, ..
                    } => out.push((Some(outcome), detail.to_owned())),
                    JournalRecord::ReloadConfig { config_toml, .. } => {
                        out.push((None, config_toml.to_owned()));
                    }
                    _ => {}
                }
            }
            out
        }
    }

    #[test]
    fn an_accepted_reload_is_applied_journaled_with_its_config_and_handed_back_without_allocating()
    {
        let mut r = rig();
        // A refusal first: only journaled (and the journal warmed up).
        r.decide(ReloadOutcome::Refused, "invalid config", None);
        assert_eq!(r.engine.poll_inbox(), 1);
        let mut cfg = Config::default();
        cfg.risk.max_drawdown_pct = 7.5;
        r.decide(
            ReloadOutcome::Accepted,
            "risk.max_drawdown_pct: 10.0 -> 7.5",
            Some(cfg.clone()),
        );
        let engine = &mut r.engine;
        let info = allocation_counter::measure(|| assert_eq!(engine.poll_inbox(), 1));
        assert_eq!(
            info.count_total, 0,
            "applied on the hot thread without allocating"
        );
        assert!((r.engine.core.risk().config().max_drawdown_pct - 7.5).abs() < 1e-12);
        assert_eq!(r.logs(), [HotLog::ReloadApplied]);
        assert_eq!(r.reloads.collect(), 1, "the payload came back to be freed");
        let j = r.journaled();
        assert_eq!(j.len(), 3, "{j:?}");
        assert_eq!(j[0].0, Some(ReloadOutcome::Refused));
        assert_eq!(j[1].0, Some(ReloadOutcome::Accepted));
        assert_eq!(j[1].1, "risk.max_drawdown_pct: 10.0 -> 7.5");
        assert_eq!(j[2].0, None);
        assert_eq!(
            Config::from_toml_str_with_cores(&j[2].1, None).unwrap(),
            cfg
        );
    }

    #[test]
    fn a_reload_the_core_refuses_is_journaled_as_refused_and_changes_nothing() {
        let mut r = rig();
        let mut cfg = Config::default();
        cfg.strategies.mtf_long.rsi_period = 21;
        cfg.risk.max_positions = 3;
        r.decide(
            ReloadOutcome::Accepted,
            "risk.max_positions: 1 -> 3",
            Some(cfg),
        );
        r.engine.poll_inbox();
        assert_eq!(r.engine.core.risk().config().max_positions, 1);
        assert_eq!(
            r.logs(),
            [HotLog::ReloadFailed(CoreReloadError::PeriodsChanged)]
        );
        assert_eq!(r.reloads.collect(), 1);
        let j = r.journaled();
        assert_eq!(j.len(), 1, "no config record: {j:?}");
        assert_eq!(j[0].0, Some(ReloadOutcome::Refused));
        assert!(j[0].1.contains("indicator periods"), "{}", j[0].1);
    }

    #[test]
    fn an_accepted_reload_without_its_payload_is_refused() {
        let mut r = rig();
        r.decide(ReloadOutcome::Accepted, "risk.max_positions: 1 -> 3", None);
        r.engine.poll_inbox();
        assert_eq!(r.logs(), [HotLog::ReloadMissing]);
        let j = r.journaled();
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].0, Some(ReloadOutcome::Refused));
    }
}
