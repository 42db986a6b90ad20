//! Config reload into a running core: the reloadable subset of a new
//! [`Config`] (risk limits, sizing, strategy thresholds, `enabled` flags and
//! `strategies.order`) taken while the core holds positions, orders, streaks
//! and indicator windows.
//!
//! Consumes a validated [`Config`] (validation and the list of reloadable
//! keys stay in `config`: [`Config::reloadable_changes`]); produces the new
//! parameters in place, or a [`CoreReloadError`] with nothing changed.
//! Never leaves the core half-updated (every check runs before the first
//! write), never allocates, never touches what the windows were sized for
//! (indicator periods and lookbacks).

use core::fmt;

use super::engine::layout;
use super::Core;
use crate::config::Config;
use crate::indicators::{Declared, IndicatorLayout};
use crate::risk::MAX_STREAK_MULTIPLIERS;
use crate::strategy::{is_held, registry_name, StrategyName};

/// Why a core refused a reload (nothing of it was applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreReloadError {
    /// A strategy the reload enables reads an indicator the running
    /// windows do not hold (it differs from what the running strategies
    /// read, and a strategy's indicators are preallocated only while it is
    /// enabled or on standby): a restart is needed to enable it.
    PeriodMismatch {
        /// The strategy's config key that sets that indicator's period.
        key: &'static str,
    },
    /// The indicator periods or lookbacks the new config implies differ
    /// from the ones the windows were sized for: a restart is needed.
    PeriodsChanged,
    /// The reload enables a strategy the core does not hold (off by
    /// default and off at start): a restart is needed to enable it.
    NotHeld {
        /// The strategy's name.
        strategy: &'static str,
    },
    /// More streak multipliers than the core holds without allocating.
    TooManyMultipliers {
        /// Multipliers in the new config.
        len: usize,
        /// Most the core takes.
        max: usize,
    },
}

impl fmt::Display for CoreReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PeriodMismatch { key } => write!(
                f,
                "the strategy this reload enables reads an indicator ({key}) the running windows were not built for (it differs from the running strategies'); restart to enable it"
            ),
            Self::NotHeld { strategy } => write!(
                f,
                "strategies.{strategy} is off by default and was off at start, so its indicators are not running; restart to enable it"
            ),
            Self::PeriodsChanged => f.write_str(
                "the indicator periods the running windows were sized for would change; restart to change them",
            ),
            Self::TooManyMultipliers { len, max } => write!(
                f,
                "sizing.streak_multipliers: at most {max} entries can be reloaded, got {len}"
            ),
        }
    }
}

impl std::error::Error for CoreReloadError {}

/// Checks, without a core, that a core built from (or reloaded to)
/// `running` takes `new`: the check [`Core::reload`] makes, for the thread
/// that decides a reload but does not own the core.
///
/// # Errors
/// The [`CoreReloadError`] the core would return.
pub fn check_reload(running: &Config, new: &Config) -> Result<(), CoreReloadError> {
    let (layout, declared) =
        layout(&running.strategies, &mut []).map_err(|_| CoreReloadError::PeriodsChanged)?;
    let held = |name: StrategyName| is_held(&running.strategies, name);
    check(&layout, &declared, &held, MAX_STREAK_MULTIPLIERS, new)
}

/// The shared check: every registry strategy declares what it declared at
/// build, every strategy `new` enables is held and finds its indicators in
/// `layout`, multipliers within `capacity`. Never allocates.
fn check(
    layout: &IndicatorLayout,
    declared: &[Declared],
    held: &dyn Fn(StrategyName) -> bool,
    capacity: usize,
    new: &Config,
) -> Result<(), CoreReloadError> {
    for (name, running) in StrategyName::ALL.into_iter().zip(declared) {
        let next = new.strategies.declared(name);
        if next != *running {
            return Err(CoreReloadError::PeriodsChanged);
        }
    }
    for name in StrategyName::ALL {
        if !new.strategies.is_enabled(name) {
            continue;
        }
        if !held(name) {
            return Err(CoreReloadError::NotHeld {
                strategy: name.as_str(),
            });
        }
        let next = new.strategies.declared(name);
        let missing = next
            .iter()
            .find(|i| layout.position(i.timeframe, &i.spec).is_none())
            .map(|i| i.key);
        if let Some(key) = missing {
            return Err(CoreReloadError::PeriodMismatch { key });
        }
    }
    let len = new.sizing.streak_multipliers.len();
    let max = capacity.min(MAX_STREAK_MULTIPLIERS);
    if len > max {
        return Err(CoreReloadError::TooManyMultipliers { len, max });
    }
    Ok(())
}

impl Core {
    /// Checks that [`reload`](Self::reload) would take `cfg`, changing
    /// nothing.
    ///
    /// # Errors
    /// As [`reload`](Self::reload).
    pub fn check_reload(&self, cfg: &Config) -> Result<(), CoreReloadError> {
        let held = |name: StrategyName| self.held.contains(&name);
        check(
            &self.layout,
            &self.declared,
            &held,
            self.risk.multiplier_capacity(),
            cfg,
        )
    }

    /// Takes the reloadable subset of `cfg` (a validated config that
    /// differs from the running one in reloadable keys only, see
    /// [`Config::reloadable_changes`]) between two events: risk limits and
    /// sizing ([`crate::risk::RiskManager::reload`]), every strategy's
    /// thresholds ([`crate::strategy::Strategy::reload`]), and which
    /// registry strategies run in which tie-break order (`strategies.order`
    /// and the `enabled` flags; strategies outside the registry keep
    /// running, after them). Positions, orders, streaks, locks, the halt
    /// state and the indicator windows carry on. Allocates nothing.
    ///
    /// # Errors
    /// [`CoreReloadError`] when the new periods differ from the running
    /// windows or the sizing does not fit; the core is then unchanged.
    pub fn reload(&mut self, cfg: &Config) -> Result<(), CoreReloadError> {
        self.check_reload(cfg)?;
        self.risk.reload(&cfg.risk, &cfg.sizing);
        for s in &mut self.strategies {
            s.reload(&cfg.strategies);
        }
        self.eval.clear();
        for name in &cfg.strategies.order {
            if !cfg.strategies.is_enabled(*name) {
                continue;
            }
            let found = self
                .strategies
                .iter()
                .position(|s| s.name() == name.as_str());
            if let Some(k) = found.and_then(|k| u8::try_from(k).ok()) {
                if !self.eval.contains(&k) && self.eval.len() < self.eval.capacity() {
                    self.eval.push(k);
                }
            }
        }
        for (k, s) in self.strategies.iter().enumerate() {
            if registry_name(s.name()).is_none() && self.eval.len() < self.eval.capacity() {
                if let Ok(k) = u8::try_from(k) {
                    self.eval.push(k);
                }
            }
        }
        Ok(())
    }
}
