//! Frame timing for the market stream: a [`WsProtocol`] wrapper that reads
//! the monotonic clock when a complete message arrives and after it is
//! decoded, and hands every decoded event on with those two readings.
//!
//! Consumes complete WebSocket messages from [`crate::io::ws::WsClient`];
//! produces [`Stamped`] market events (receive time, parse duration, place
//! in the frame) and a [`TimedEvent::Lost`] for every message that could not
//! be decoded (its trades, if it carried any, are lost: the engine distrusts
//! the minute). Never allocates per message (events of one message are
//! staged in a buffer reserved at construction) and never logs.

use crate::clock::{Clock, SystemClock};
use crate::feed::MarketEvent;
use crate::io::ws::{MessageKind, Outbox, WsProtocol};

/// Most events of one message staged before they are handed on; a longer
/// message is handed on in chunks (each chunk timed from the message start).
pub const STAGE_CAPACITY: usize = 1024;

/// A decoded market event with the timing of the message it came in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stamped {
    /// The event.
    pub event: MarketEvent,
    /// Monotonic reading ([`Clock::mono_ns`]) when the message was complete.
    pub recv_mono: u64,
    /// Inflate + parse time of the message, nanoseconds.
    pub parse_ns: u64,
    /// True for the last event of its message.
    pub last_in_frame: bool,
}

/// What the timed market protocol hands on, in arrival order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimedEvent {
    /// A decoded market event with its message's timing.
    Market(Stamped),
    /// A message that could not be decoded arrived here: whatever it
    /// carried is lost.
    Lost {
        /// Monotonic reading when the message was complete.
        recv_mono: u64,
    },
}

/// Wraps a market protocol and stamps its events (see the module docs).
#[derive(Debug)]
pub struct Timed<P, C: Clock = SystemClock> {
    inner: P,
    clock: C,
    staged: Vec<MarketEvent>,
}

impl<P, C: Clock> Timed<P, C> {
    /// Returns `inner` wrapped, timing with `clock` (share the clock with
    /// the reader of [`Stamped::recv_mono`] so the readings are comparable).
    #[must_use]
    pub fn new(inner: P, clock: C) -> Self {
        Self {
            inner,
            clock,
            staged: Vec::with_capacity(STAGE_CAPACITY),
        }
    }

    /// Returns the wrapped protocol.
    #[must_use]
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Returns the wrapped protocol mutably (cold: subscriptions).
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }
}

fn emit_staged(
    staged: &mut Vec<MarketEvent>,
    recv_mono: u64,
    parse_ns: u64,
    last_chunk: bool,
    emit: &mut impl FnMut(TimedEvent),
) {
    let n = staged.len();
    for (i, event) in staged.drain(..).enumerate() {
        emit(TimedEvent::Market(Stamped {
            event,
            recv_mono,
            parse_ns,
            last_in_frame: last_chunk && i + 1 == n,
        }));
    }
}

impl<P: WsProtocol<Event = MarketEvent>, C: Clock> WsProtocol for Timed<P, C> {
    type Event = TimedEvent;

    fn on_open(&mut self, out: &mut Outbox<'_>) {
        self.inner.on_open(out);
    }

    fn on_message(
        &mut self,
        text: bool,
        payload: &[u8],
        out: &mut Outbox<'_>,
        emit: &mut impl FnMut(TimedEvent),
    ) -> MessageKind {
        let recv_mono = self.clock.mono_ns();
        let staged = &mut self.staged;
        let clock = &self.clock;
        let kind = self.inner.on_message(text, payload, out, &mut |e| {
            if staged.len() == staged.capacity() {
                let parse_ns = clock.mono_ns().saturating_sub(recv_mono);
                emit_staged(staged, recv_mono, parse_ns, false, emit);
            }
            staged.push(e);
        });
        let parse_ns = self.clock.mono_ns().saturating_sub(recv_mono);
        emit_staged(&mut self.staged, recv_mono, parse_ns, true, emit);
        if kind == MessageKind::Malformed {
            emit(TimedEvent::Lost { recv_mono });
        }
        kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::KlineUpdate;
    use crate::types::{Price, Qty, SymbolId, TimestampNs};

    /// Emits `n` kline events per message.
    struct Fixed(usize);

    impl WsProtocol for Fixed {
        type Event = MarketEvent;
        fn on_open(&mut self, _out: &mut Outbox<'_>) {}
        fn on_message(
            &mut self,
            _text: bool,
            _payload: &[u8],
            _out: &mut Outbox<'_>,
            emit: &mut impl FnMut(MarketEvent),
        ) -> MessageKind {
            for i in 0..self.0 {
                emit(MarketEvent::Kline(KlineUpdate {
                    symbol: SymbolId(0),
                    open_time: TimestampNs(i as i64),
                    open: Price::ZERO,
                    high: Price::ZERO,
                    low: Price::ZERO,
                    close: Price::ZERO,
                    volume: Qty::ZERO,
                    closed: None,
                }));
            }
            MessageKind::Data
        }
    }

    fn run(n: usize) -> Vec<Stamped> {
        let mut t = Timed::new(Fixed(n), SystemClock::new());
        let mut buf = Vec::new();
        let mut rng = 1u64;
        let mut out = Outbox::new(&mut buf, &mut rng);
        let mut got = Vec::new();
        t.on_message(true, b"x", &mut out, &mut |e| match e {
            TimedEvent::Market(s) => got.push(s),
            TimedEvent::Lost { .. } => panic!("a decoded message is not lost"),
        });
        got
    }

    /// Fails to decode every message.
    struct Broken;

    impl WsProtocol for Broken {
        type Event = MarketEvent;
        fn on_open(&mut self, _out: &mut Outbox<'_>) {}
        fn on_message(
            &mut self,
            _text: bool,
            _payload: &[u8],
            _out: &mut Outbox<'_>,
            _emit: &mut impl FnMut(MarketEvent),
        ) -> MessageKind {
            MessageKind::Malformed
        }
    }

    #[test]
    fn an_undecodable_message_is_handed_on_as_lost() {
        let mut t = Timed::new(Broken, SystemClock::new());
        let mut buf = Vec::new();
        let mut rng = 1u64;
        let mut out = Outbox::new(&mut buf, &mut rng);
        let mut got = Vec::new();
        let kind = t.on_message(false, b"\x1f\x8b", &mut out, &mut |e| got.push(e));
        assert_eq!(kind, MessageKind::Malformed);
        assert!(
            matches!(got.as_slice(), [TimedEvent::Lost { .. }]),
            "{got:?}"
        );
    }

    #[test]
    fn every_event_of_a_message_shares_its_stamp_and_only_the_last_is_marked() {
        let got = run(3);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|s| s.recv_mono == got[0].recv_mono));
        assert_eq!(
            got.iter().map(|s| s.last_in_frame).collect::<Vec<_>>(),
            [false, false, true]
        );
    }

    #[test]
    fn a_message_longer_than_the_stage_is_handed_on_in_order_without_loss() {
        let got = run(STAGE_CAPACITY * 2 + 5);
        assert_eq!(got.len(), STAGE_CAPACITY * 2 + 5);
        for (i, s) in got.iter().enumerate() {
            let MarketEvent::Kline(k) = s.event else {
                panic!("not a kline")
            };
            assert_eq!(k.open_time.0, i as i64);
        }
        assert_eq!(got.iter().filter(|s| s.last_in_frame).count(), 1);
        assert!(got.last().unwrap().last_in_frame);
    }
}
