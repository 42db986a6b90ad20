//! The market driver: replays the source at the configured speed in 100 ms batches, applies
//! each batch to the exchange (matching) and fans the resulting gzip pushes out to the
//! market-stream subscribers through the [`Hub`].
//!
//! Consumes a [`MarketSource`]; produces exchange updates and queued frames. Holds the
//! exchange lock only while applying a batch, never while delivering frames.

use super::config::Speed;
use super::gzip::gzip;
use super::source::{MarketSource, Tick};
use super::ws::MarketSub;
use super::{lock, now_ms, Shared};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::Bytes;

/// Trades of one push are those within the same 100 ms of market time.
const BATCH_MS: i64 = 100;
/// At most this many trades per push.
const MAX_BATCH: usize = 500;

/// The set of market-stream connections.
#[derive(Debug, Default)]
pub struct Hub {
    subs: Mutex<Vec<Arc<MarketSub>>>,
}

impl Hub {
    /// Registers a connection.
    pub fn add(&self, sub: Arc<MarketSub>) {
        lock(&self.subs).push(sub);
    }

    fn live(&self) -> Vec<Arc<MarketSub>> {
        let mut subs = lock(&self.subs);
        subs.retain(|s| s.is_alive());
        subs.clone()
    }

    /// Returns true when at least one live connection subscribed a topic.
    #[must_use]
    pub fn has_subscribers(&self) -> bool {
        self.live().iter().any(|s| s.has_topics())
    }

    /// Returns the union of the topics the live connections subscribed.
    #[must_use]
    pub fn topics(&self) -> BTreeSet<String> {
        self.live().iter().flat_map(|s| s.topics()).collect()
    }

    /// Delivers each `(topic, frame)` to the connections that subscribed the topic.
    pub fn publish(&self, frames: &[(String, Bytes)], blocking: bool) {
        for sub in self.live() {
            for (topic, frame) in frames {
                if sub.wants(topic) && !sub.deliver(frame, blocking) {
                    break;
                }
            }
        }
    }
}

/// Applies `batch` to the exchange and publishes one push per subscribed topic.
pub fn apply_batch(shared: &Shared, batch: &[Tick], blocking: bool) {
    if batch.is_empty() {
        return;
    }
    let topics = shared.hub.topics();
    let mut frames = Vec::with_capacity(topics.len());
    {
        let mut ex = lock(&shared.exchange);
        let now = now_ms();
        for t in batch {
            ex.on_tick(t, now);
        }
        ex.observe_stops(now);
        for topic in topics {
            if let Some(v) = ex.market().push_for(&topic, batch, now) {
                frames.push((topic, Bytes::from(gzip(v.to_string().as_bytes()))));
            }
        }
    }
    shared.hub.publish(&frames, blocking);
}

fn sleep_until(shared: &Shared, due: Instant) -> bool {
    let now = Instant::now();
    if now >= due {
        return true;
    }
    std::thread::sleep((due - now).min(Duration::from_millis(20)));
    !shared.shutdown.load(Ordering::Acquire) && Instant::now() >= due
}

/// Runs the replay until shutdown.
pub fn run(shared: &Arc<Shared>, mut source: MarketSource) {
    let speed = shared.cfg.speed;
    let live_wall = Instant::now();
    let live_sim = source.peek().map_or(0, |t| t.time_ms);
    let mut exhausted_logged = false;
    while !shared.shutdown.load(Ordering::Acquire) {
        let Some(first) = source.peek() else {
            if !exhausted_logged {
                log::info!("Market data exhausted; no more trades");
                exhausted_logged = true;
            }
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        match speed {
            Speed::Times(x) => {
                let offset_s = (first.time_ms - live_sim).max(0) as f64 / 1_000.0 / x;
                // The speed is bounded at start; a deadline beyond what a Duration holds is
                // "never" (the data lies centuries ahead), not a panic.
                let Some(due) = Duration::try_from_secs_f64(offset_s)
                    .ok()
                    .and_then(|d| live_wall.checked_add(d))
                else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                if !sleep_until(shared, due) {
                    continue;
                }
            }
            Speed::Max => {
                if !shared.hub.has_subscribers() {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
            Speed::Manual => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        }
        let bucket = first.time_ms.div_euclid(BATCH_MS);
        let mut batch = Vec::new();
        while let Some(t) = source.peek() {
            if t.time_ms.div_euclid(BATCH_MS) != bucket || batch.len() >= MAX_BATCH {
                break;
            }
            if let Some(t) = source.next_tick() {
                batch.push(t);
            }
        }
        apply_batch(shared, &batch, speed == Speed::Max);
    }
}
