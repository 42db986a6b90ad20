//! The path of an accepted config reload from the service thread to the
//! hot thread and back: a boxed [`ReloadPayload`] (the new [`Config`] and
//! its TOML) on a dedicated SPSC queue, handed back on a second queue so
//! that it is built and freed on the service thread only.
//!
//! Consumes accepted reloads (the service thread decides: config
//! validation, reloadable keys, [`crate::core::check_reload`]); produces
//! them on the hot thread, which applies the config to the core between two
//! events and journals it. Never allocates or frees on the hot thread: at
//! most [`RELOAD_SLOTS`] payloads exist at once, so handing one back never
//! finds the return queue full.

use ringbuf::spsc::{Consumer, Producer};

use crate::config::Config;

/// Reloads that may be on their way (sent and not yet handed back) at once;
/// a further reload is refused until one comes back.
pub const RELOAD_SLOTS: usize = 4;

/// An accepted reload: what the core takes and what the journal records.
#[derive(Debug)]
pub struct ReloadPayload {
    /// The whole new configuration (it differs from the running one in
    /// reloadable keys only).
    pub config: Config,
    /// `config` as TOML, for the reload-config journal record.
    pub config_toml: String,
}

/// The service thread's ends: sends payloads, takes them back to drop them.
#[derive(Debug)]
pub struct ServiceReloads {
    to_hot: Producer<Box<ReloadPayload>>,
    back: Consumer<Box<ReloadPayload>>,
    /// Payloads sent and not yet handed back; at most [`RELOAD_SLOTS`].
    in_flight: usize,
}

/// The hot thread's ends: takes payloads, hands them back.
#[derive(Debug)]
pub struct HotReloads {
    inbox: Consumer<Box<ReloadPayload>>,
    back: Producer<Box<ReloadPayload>>,
}

/// Returns the two ends of the reload path.
#[must_use]
pub fn reload_channel() -> (ServiceReloads, HotReloads) {
    let (to_hot, inbox) = ringbuf::spsc::channel(RELOAD_SLOTS);
    let (back_tx, back) = ringbuf::spsc::channel(RELOAD_SLOTS);
    (
        ServiceReloads {
            to_hot,
            back,
            in_flight: 0,
        },
        HotReloads {
            inbox,
            back: back_tx,
        },
    )
}

/// Why a payload was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendReloadError {
    /// [`RELOAD_SLOTS`] reloads are still on their way.
    Busy,
    /// The hot thread is gone.
    HotGone,
}

impl core::fmt::Display for SendReloadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Busy => write!(
                f,
                "{RELOAD_SLOTS} earlier reloads are still being applied; try again"
            ),
            Self::HotGone => f.write_str("the engine thread is gone"),
        }
    }
}

impl std::error::Error for SendReloadError {}

impl ServiceReloads {
    /// Drops the payloads the hot thread handed back; returns how many.
    pub fn collect(&mut self) -> usize {
        let mut n = 0;
        while let Some(spent) = self.back.pop() {
            drop(spent);
            n += 1;
        }
        self.in_flight = self.in_flight.saturating_sub(n);
        n
    }

    /// Sends `payload` to the hot thread.
    ///
    /// # Errors
    /// [`SendReloadError::Busy`] when [`RELOAD_SLOTS`] payloads are on their
    /// way, [`SendReloadError::HotGone`] when the hot thread dropped its end.
    pub fn send(&mut self, payload: ReloadPayload) -> Result<(), SendReloadError> {
        self.collect();
        if self.to_hot.is_abandoned() {
            return Err(SendReloadError::HotGone);
        }
        if self.in_flight >= RELOAD_SLOTS {
            return Err(SendReloadError::Busy);
        }
        self.to_hot
            .push(Box::new(payload))
            .map_err(|_| SendReloadError::Busy)?;
        self.in_flight += 1;
        Ok(())
    }

    /// Returns the payloads sent and not yet handed back.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

impl HotReloads {
    /// Takes the oldest payload sent, if any.
    pub fn take(&mut self) -> Option<Box<ReloadPayload>> {
        self.inbox.pop()
    }

    /// Hands a payload back to the service thread, which frees it. Never
    /// fails while the service thread keeps at most [`RELOAD_SLOTS`] on
    /// their way (it does); a payload that cannot be handed back is
    /// returned to the caller.
    ///
    /// # Errors
    /// The payload, when the return queue is full.
    pub fn give_back(&mut self, payload: Box<ReloadPayload>) -> Result<(), Box<ReloadPayload>> {
        self.back.push(payload).map_err(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> ReloadPayload {
        ReloadPayload {
            config: Config::default(),
            config_toml: String::new(),
        }
    }

    #[test]
    fn at_most_the_slots_are_on_their_way_until_the_hot_side_hands_them_back() {
        let (mut service, mut hot) = reload_channel();
        for _ in 0..RELOAD_SLOTS {
            service.send(payload()).unwrap();
        }
        assert_eq!(service.send(payload()), Err(SendReloadError::Busy));
        let first = hot.take().unwrap();
        assert_eq!(
            service.send(payload()),
            Err(SendReloadError::Busy),
            "taken is not handed back"
        );
        hot.give_back(first).unwrap();
        service.send(payload()).unwrap();
        assert_eq!(service.in_flight(), RELOAD_SLOTS);
        while let Some(p) = hot.take() {
            hot.give_back(p).unwrap();
        }
        assert_eq!(service.collect(), RELOAD_SLOTS);
        assert_eq!(service.in_flight(), 0);
    }

    #[test]
    fn taking_and_handing_back_allocates_nothing_on_the_hot_side() {
        let (mut service, mut hot) = reload_channel();
        service.send(payload()).unwrap();
        let info = allocation_counter::measure(|| {
            let p = hot.take().unwrap();
            assert!(p.config_toml.is_empty());
            hot.give_back(p).unwrap();
        });
        assert_eq!(info.count_total, 0);
        assert_eq!(service.collect(), 1);
    }

    #[test]
    fn a_gone_hot_thread_refuses_the_send() {
        let (mut service, hot) = reload_channel();
        drop(hot);
        assert_eq!(service.send(payload()), Err(SendReloadError::HotGone));
    }
}
