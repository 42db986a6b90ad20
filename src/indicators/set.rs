//! The preallocated indicator instances of one timeframe and their values.
//!
//! Consumes closed candles of one timeframe; produces [`IndicatorValues`],
//! refreshed after every candle, that strategies read through typed
//! handles. Built once from an [`IndicatorLayout`]; an update is one
//! `match` per instance (no `dyn` call) and never allocates, locks or logs.

use super::declare::{Ind, IndicatorLayout};
use super::kind::{Bar, ParamError, Timeframe};
use super::registry::{IndicatorValue, Registered, Slot};
use crate::types::Candle;

/// The values of one timeframe's instances after the latest candle.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndicatorValues {
    values: Vec<IndicatorValue>,
}

impl IndicatorValues {
    /// Returns cold values for every instance of `timeframe` in `layout`
    /// (tests and scripted views fill them with [`set`](Self::set)).
    #[must_use]
    pub fn cold(layout: &IndicatorLayout, timeframe: Timeframe) -> Self {
        Self {
            values: layout.specs(timeframe).iter().map(|s| s.cold()).collect(),
        }
    }

    /// Returns the output behind `handle`, `None` while cold or when the
    /// handle is not held here.
    #[inline]
    #[must_use]
    pub fn get<K: Registered>(&self, handle: Ind<K>) -> Option<K::Output> {
        self.values.get(usize::from(handle.slot)).and_then(K::read)
    }

    /// Overwrites the output behind `handle` (tests and scripted views);
    /// a handle not held here is ignored.
    pub fn set<K: Registered>(&mut self, handle: Ind<K>, output: Option<K::Output>) {
        if let Some(v) = self.values.get_mut(usize::from(handle.slot)) {
            *v = K::value(output);
        }
    }

    /// Returns true when every instance is warm.
    #[must_use]
    pub fn is_warm(&self) -> bool {
        self.values.iter().all(IndicatorValue::is_warm)
    }

    /// Returns the number of instances.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Returns true when the timeframe has no instance.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The instances of one timeframe, fed one closed candle at a time.
#[derive(Debug)]
pub struct IndicatorSet {
    slots: Vec<Slot>,
    values: IndicatorValues,
}

impl IndicatorSet {
    /// Builds every instance `layout` holds on `timeframe`, preallocating
    /// its windows.
    ///
    /// # Errors
    /// The [`ParamError`] of the first instance with bad parameters.
    pub fn try_new(layout: &IndicatorLayout, timeframe: Timeframe) -> Result<Self, ParamError> {
        let specs = layout.specs(timeframe);
        for s in specs {
            s.check()?;
        }
        Ok(Self {
            slots: specs.iter().map(|s| s.create()).collect(),
            values: IndicatorValues::cold(layout, timeframe),
        })
    }

    /// Folds in one closed candle and refreshes the values.
    #[inline]
    pub fn update(&mut self, candle: &Candle) {
        let bar = Bar {
            high: candle.high.to_f64(),
            low: candle.low.to_f64(),
            close: candle.close.to_f64(),
            volume: candle.volume.to_f64(),
        };
        for (slot, value) in self.slots.iter_mut().zip(self.values.values.iter_mut()) {
            slot.push(&bar);
            *value = slot.output();
        }
    }

    /// Returns the values after the latest candle.
    #[inline]
    #[must_use]
    pub fn values(&self) -> &IndicatorValues {
        &self.values
    }

    /// Forgets every candle. Does not allocate.
    pub fn reset(&mut self) {
        for (slot, value) in self.slots.iter_mut().zip(self.values.values.iter_mut()) {
            slot.reset();
            *value = slot.output();
        }
    }
}

impl crate::checkpoint::Restore for IndicatorSet {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        w.len(self.slots.len());
        for slot in &self.slots {
            crate::checkpoint::Restore::save(slot, w);
        }
    }

    /// Restores every instance, then refreshes the values from them (as
    /// [`update`](Self::update) leaves them).
    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        crate::checkpoint::expect_count(r, "indicator instances", self.slots.len())?;
        for slot in &mut self.slots {
            crate::checkpoint::Restore::restore(slot, r)?;
        }
        for (slot, value) in self.slots.iter().zip(self.values.values.iter_mut()) {
            *value = slot.output();
        }
        Ok(())
    }
}
