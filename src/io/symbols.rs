//! The I/O thread's symbol table: [`SymbolId`] → exchange name and
//! [`InstrumentRules`], built once at start-up from the contracts endpoint.
//!
//! Consumes [`Contract`]s (or explicit entries); produces lookups by id (an
//! index, no hashing, no allocation) and by name. Never changes after start-up
//! except through [`SymbolTable::push`].

use core::fmt;

use crate::io::dto::Contract;
use crate::io::query::is_safe_value;
use crate::types::{InstrumentRules, SymbolId};

/// One instrument known to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    /// Exchange symbol, e.g. `BTC-USDT`.
    pub name: String,
    /// Tick, step and minimums.
    pub rules: InstrumentRules,
}

/// Error building a [`SymbolTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolTableError {
    /// A requested symbol is not in the contracts list.
    NotListed(String),
    /// A contract's precisions are out of range.
    BadRules(String),
    /// A symbol name has characters that cannot be sent unencoded.
    BadName(String),
    /// More than 65 536 symbols.
    Full,
}

impl fmt::Display for SymbolTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotListed(s) => write!(f, "symbol {s} is not in the exchange's contract list"),
            Self::BadRules(s) => write!(f, "symbol {s} has out-of-range precisions"),
            Self::BadName(s) => {
                write!(f, "symbol name {s:?} has characters outside [A-Za-z0-9._-]")
            }
            Self::Full => f.write_str("symbol table full (65536 entries)"),
        }
    }
}

impl std::error::Error for SymbolTableError {}

/// Symbols indexed by [`SymbolId`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolTable {
    entries: Vec<SymbolInfo>,
}

impl SymbolTable {
    /// Returns an empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a symbol and returns its id.
    ///
    /// # Errors
    /// [`SymbolTableError::BadName`] or [`SymbolTableError::Full`].
    pub fn push(
        &mut self,
        name: &str,
        rules: InstrumentRules,
    ) -> Result<SymbolId, SymbolTableError> {
        if !is_safe_value(name.as_bytes()) {
            return Err(SymbolTableError::BadName(name.to_owned()));
        }
        let id = u16::try_from(self.entries.len()).map_err(|_| SymbolTableError::Full)?;
        self.entries.push(SymbolInfo {
            name: name.to_owned(),
            rules,
        });
        Ok(SymbolId(id))
    }

    /// Returns a table of `names` in that order (id = position), with rules
    /// from `contracts`.
    ///
    /// # Errors
    /// [`SymbolTableError`] when a name is not listed or its rules are invalid.
    pub fn from_contracts(
        contracts: &[Contract],
        names: &[&str],
    ) -> Result<Self, SymbolTableError> {
        let mut table = Self::new();
        for name in names {
            let contract = contracts
                .iter()
                .find(|c| c.symbol == *name)
                .ok_or_else(|| SymbolTableError::NotListed((*name).to_owned()))?;
            let rules = contract
                .rules()
                .ok_or_else(|| SymbolTableError::BadRules((*name).to_owned()))?;
            table.push(name, rules)?;
        }
        Ok(table)
    }

    /// Returns the symbol with this id.
    #[must_use]
    pub fn get(&self, id: SymbolId) -> Option<&SymbolInfo> {
        self.entries.get(usize::from(id.0))
    }

    /// Returns the id of the symbol named `name`.
    #[must_use]
    pub fn id_of(&self, name: &str) -> Option<SymbolId> {
        self.entries
            .iter()
            .position(|e| e.name == name)
            .and_then(|i| u16::try_from(i).ok())
            .map(SymbolId)
    }

    /// Returns the number of symbols.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns true when the table is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{DecimalStep, Price, Qty};

    fn rules() -> InstrumentRules {
        InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(4),
            min_qty: Qty::from_decimal(1, 4).unwrap(),
            min_notional: Price::from_decimal(2, 0).unwrap(),
        }
    }

    #[test]
    fn ids_are_positions_and_names_are_checked() {
        let mut t = SymbolTable::new();
        assert_eq!(t.push("BTC-USDT", rules()).unwrap(), SymbolId(0));
        assert_eq!(t.push("ETH-USDT", rules()).unwrap(), SymbolId(1));
        assert_eq!(t.id_of("ETH-USDT"), Some(SymbolId(1)));
        assert_eq!(t.get(SymbolId(0)).unwrap().name, "BTC-USDT");
        assert!(t.get(SymbolId(2)).is_none());
        assert!(matches!(
            t.push("BTC USDT", rules()),
            Err(SymbolTableError::BadName(_))
        ));
    }
}
