//! The order slots of a core position (entry, protective stop, take
//! profits, close) and how many retired exit orders a symbol remembers.
//!
//! Consumes nothing; produces the [`Slot`] tag the core files an order id
//! under, and its checkpoint encoding. Never allocates.

/// Retired exit orders remembered per symbol (see `SymbolState::retired`):
/// a trailing stop replaced on every trade retires one order per
/// replacement, and its late events arrive within a few REST round trips.
pub const RETIRED_ORDERS: usize = 32;

/// Which of a position's order slots an order id is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Entry,
    Stop,
    Tp(usize),
    Close,
}

impl crate::checkpoint::Value for Slot {
    fn put(&self, w: &mut crate::checkpoint::StateWriter) {
        match *self {
            Self::Entry => w.u8(0),
            Self::Stop => w.u8(1),
            Self::Close => w.u8(2),
            Self::Tp(k) => {
                w.u8(3);
                w.put(&k);
            }
        }
    }

    fn take(
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<Self, crate::checkpoint::StateError> {
        match r.u8("order slot")? {
            0 => Ok(Self::Entry),
            1 => Ok(Self::Stop),
            2 => Ok(Self::Close),
            3 => Ok(Self::Tp(r.take()?)),
            v => Err(r.invalid("order slot", u64::from(v))),
        }
    }
}
