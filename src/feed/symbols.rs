//! The symbol table: exchange symbol names (`BTC-USDT`, `BTCUSDT`) → [`SymbolId`].
//!
//! Consumes the names registered at start-up; produces `SymbolId`s for the
//! decoders. Registration allocates (cold path); [`SymbolTable::lookup`]
//! never allocates, never panics and ignores ASCII case, because Binance
//! spells stream names in lower case and payload symbols in upper case.

use crate::types::SymbolId;
use core::fmt;

/// Longest symbol name accepted, in bytes.
pub const MAX_SYMBOL_BYTES: usize = 32;

/// Why a symbol could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolError {
    /// The name is empty, longer than [`MAX_SYMBOL_BYTES`], or holds a byte
    /// other than ASCII letters, digits, `-`, `_` and `/`.
    InvalidName,
    /// The name (ignoring ASCII case) is already registered.
    Duplicate,
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidName => "invalid symbol name (1-32 bytes of A-Z, 0-9, '-', '_', '/')",
            Self::Duplicate => "symbol name already registered",
        })
    }
}

impl std::error::Error for SymbolError {}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Upper-cased name, zero padded.
    name: [u8; MAX_SYMBOL_BYTES],
    len: u8,
    id: SymbolId,
}

/// Maps exchange symbol names to [`SymbolId`]s with an open-addressing hash
/// table that is sized at registration and only read afterwards.
///
/// Several names may map to the same id (the BingX and Binance spellings of
/// one instrument).
#[derive(Debug, Clone, Default)]
pub struct SymbolTable {
    entries: Vec<Entry>,
    /// Slot → index into `entries` plus one (0 = empty). Length is a power of
    /// two at least twice the number of entries.
    slots: Vec<u16>,
    max_id: Option<u16>,
}

fn hash(name: &[u8]) -> u64 {
    // FNV-1a over the upper-cased bytes: names are short, so a simple
    // byte-wise hash costs a few nanoseconds.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h ^= u64::from(b.to_ascii_uppercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl SymbolTable {
    /// Returns an empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `name` → `id`.
    ///
    /// # Errors
    /// [`SymbolError::InvalidName`] for a bad name, [`SymbolError::Duplicate`]
    /// when the name is already registered (ignoring ASCII case).
    pub fn insert(&mut self, name: &str, id: SymbolId) -> Result<(), SymbolError> {
        let bytes = name.as_bytes();
        if bytes.is_empty()
            || bytes.len() > MAX_SYMBOL_BYTES
            || !bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/'))
        {
            return Err(SymbolError::InvalidName);
        }
        if self.lookup(bytes).is_some() {
            return Err(SymbolError::Duplicate);
        }
        if self.entries.len() >= usize::from(u16::MAX) - 1 {
            return Err(SymbolError::InvalidName);
        }
        let mut entry = Entry {
            name: [0; MAX_SYMBOL_BYTES],
            len: bytes.len() as u8,
            id,
        };
        for (dst, src) in entry.name.iter_mut().zip(bytes) {
            *dst = src.to_ascii_uppercase();
        }
        self.entries.push(entry);
        self.max_id = Some(self.max_id.map_or(id.0, |m| m.max(id.0)));
        self.rebuild();
        Ok(())
    }

    fn rebuild(&mut self) {
        let cap = (self.entries.len() * 2).next_power_of_two().max(8);
        self.slots.clear();
        self.slots.resize(cap, 0);
        let mask = cap - 1;
        for (i, e) in self.entries.iter().enumerate() {
            let mut slot = (hash(&e.name[..usize::from(e.len)]) as usize) & mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (i + 1) as u16;
        }
    }

    /// Returns the id registered for `name` (ASCII case ignored), or `None`.
    /// Never allocates.
    #[must_use]
    pub fn lookup(&self, name: &[u8]) -> Option<SymbolId> {
        if self.slots.is_empty() || name.is_empty() || name.len() > MAX_SYMBOL_BYTES {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = (hash(name) as usize) & mask;
        // The table is at most half full, so the probe always meets an empty slot.
        loop {
            let idx = *self.slots.get(slot)?;
            if idx == 0 {
                return None;
            }
            let e = self.entries.get(usize::from(idx) - 1)?;
            if usize::from(e.len) == name.len() && e.name[..name.len()].eq_ignore_ascii_case(name) {
                return Some(e.id);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Returns the first name registered for `id` (upper case), for logs.
    #[must_use]
    pub fn name(&self, id: SymbolId) -> Option<&str> {
        let e = self.entries.iter().find(|e| e.id == id)?;
        core::str::from_utf8(&e.name[..usize::from(e.len)]).ok()
    }

    /// Returns the number of registered names.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns true when no name is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the largest registered id, or `None` for an empty table.
    #[must_use]
    pub fn max_id(&self) -> Option<SymbolId> {
        self.max_id.map(SymbolId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SymbolTable {
        let mut t = SymbolTable::new();
        t.insert("BTC-USDT", SymbolId(0)).unwrap();
        t.insert("BTCUSDT", SymbolId(0)).unwrap();
        t.insert("ETH-USDT", SymbolId(1)).unwrap();
        t
    }

    #[test]
    fn lookup_finds_both_spellings_ignoring_case() {
        let t = table();
        assert_eq!(t.lookup(b"BTC-USDT"), Some(SymbolId(0)));
        assert_eq!(t.lookup(b"btcusdt"), Some(SymbolId(0)));
        assert_eq!(t.lookup(b"ETH-USDT"), Some(SymbolId(1)));
        assert_eq!(t.lookup(b"SOL-USDT"), None);
        assert_eq!(t.lookup(b""), None);
        assert_eq!(t.lookup(&[b'A'; 40]), None);
        assert_eq!(t.name(SymbolId(1)), Some("ETH-USDT"));
        assert_eq!(t.max_id(), Some(SymbolId(1)));
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn insert_rejects_duplicates_and_bad_names() {
        let mut t = table();
        assert_eq!(
            t.insert("btc-usdt", SymbolId(5)),
            Err(SymbolError::Duplicate)
        );
        assert_eq!(t.insert("", SymbolId(5)), Err(SymbolError::InvalidName));
        assert_eq!(
            t.insert("BTC USDT", SymbolId(5)),
            Err(SymbolError::InvalidName)
        );
        assert_eq!(
            t.insert(&"A".repeat(33), SymbolId(5)),
            Err(SymbolError::InvalidName)
        );
    }

    #[test]
    fn many_symbols_stay_reachable() {
        let mut t = SymbolTable::new();
        for i in 0..300u16 {
            t.insert(&format!("S{i}-USDT"), SymbolId(i)).unwrap();
        }
        for i in 0..300u16 {
            assert_eq!(t.lookup(format!("s{i}-usdt").as_bytes()), Some(SymbolId(i)));
        }
        assert_eq!(t.lookup(b"S300-USDT"), None);
    }

    #[test]
    fn lookup_does_not_allocate() {
        let t = table();
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                assert!(t.lookup(b"ETH-USDT").is_some());
                assert!(t.lookup(b"XRP-USDT").is_none());
            }
        });
        assert_eq!(info.count_total, 0);
    }
}
