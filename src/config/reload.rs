//! SIGHUP reload: which keys may change while running and the diff between
//! the running and a newly loaded configuration.
//!
//! Consumes two [`Config`]s; produces the list of [`ReloadChange`]s, or a
//! [`ReloadError`] naming every key that would need a restart. Never
//! applies part of a reload: either every change is reloadable or none is
//! taken.
//!
//! Reloadable: risk limits (not the stop/halt file paths), sizing, strategy
//! thresholds, `enabled` flags and order (not indicator periods or
//! lookbacks, which size preallocated windows), `logging.level`, and the
//! journal retention limits (applied at the next start).

use super::error::ConfigError;
use super::{Config, StrategyName};
use std::collections::BTreeMap;
use std::fmt;
use toml::Value;

/// Key patterns that may change on reload; `*` matches one key segment.
/// A strategy's own keys (`strategies.<name>.<key>`) are reloadable when
/// its table lists them ([`crate::strategy::StrategyConfig::RELOADABLE`]).
pub const RELOADABLE_KEYS: &[&str] = &[
    "risk.max_drawdown_pct",
    "risk.flatten_on_halt",
    "risk.cooldown_minutes",
    "risk.max_consecutive_losses",
    "risk.loss_streak_lock_minutes",
    "risk.max_portfolio_risk_pct",
    "risk.max_position_pct",
    "risk.min_balance",
    "risk.max_positions",
    "risk.max_price_deviation_pct",
    "risk.stale_data_secs",
    "risk.close_on_shutdown",
    "sizing.base_risk_pct",
    "sizing.streak_multipliers",
    "strategies.order",
    "logging.level",
    "journal.max_total_bytes",
    "journal.retain_days",
];

/// Returns whether `key` (a dotted path) matches a reloadable pattern or
/// is a reloadable key of a registry strategy's table.
#[must_use]
pub fn is_reloadable(key: &str) -> bool {
    let mut parts = key.split('.');
    if let (Some("strategies"), Some(table), Some(leaf), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    {
        if let Some(name) = StrategyName::from_name(table) {
            return name.is_reloadable_key(leaf);
        }
    }
    RELOADABLE_KEYS.iter().any(|pattern| {
        let mut p = pattern.split('.');
        let mut k = key.split('.');
        loop {
            match (p.next(), k.next()) {
                (None, None) => return true,
                (Some(ps), Some(ks)) if ps == "*" || ps == ks => {}
                _ => return false,
            }
        }
    })
}

/// One key whose value differs between the running and the new configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadChange {
    /// Dotted key path.
    pub key: String,
    /// Old value as TOML, or `(unset)`.
    pub old: String,
    /// New value as TOML, or `(unset)`.
    pub new: String,
}

impl fmt::Display for ReloadChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} -> {}", self.key, self.old, self.new)
    }
}

/// Why a reload was refused.
#[derive(Debug)]
pub enum ReloadError {
    /// The new configuration does not validate.
    Invalid(ConfigError),
    /// Keys that changed but need a restart.
    NotReloadable {
        /// Each such change.
        changes: Vec<ReloadChange>,
    },
}

impl fmt::Display for ReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(e) => write!(f, "new configuration rejected: {e}"),
            Self::NotReloadable { changes } => {
                write!(f, "reload refused, these keys need a restart:")?;
                for c in changes {
                    write!(f, "\n  {c}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ReloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Invalid(e) => Some(e),
            Self::NotReloadable { .. } => None,
        }
    }
}

impl Config {
    /// Validates `new` and returns the changes from `self` to it, all of
    /// which are reloadable.
    ///
    /// # Errors
    /// [`ReloadError::Invalid`] when `new` does not validate (or cannot be
    /// rendered); [`ReloadError::NotReloadable`] listing every changed key
    /// that needs a restart.
    pub fn reloadable_changes(&self, new: &Config) -> Result<Vec<ReloadChange>, ReloadError> {
        new.validate().map_err(ReloadError::Invalid)?;
        let changes = diff(self, new).map_err(ReloadError::Invalid)?;
        let refused: Vec<ReloadChange> = changes
            .iter()
            .filter(|c| !is_reloadable(&c.key))
            .cloned()
            .collect();
        if refused.is_empty() {
            Ok(changes)
        } else {
            Err(ReloadError::NotReloadable { changes: refused })
        }
    }

    /// Applies a reload: checks it with [`Config::reloadable_changes`] and,
    /// if accepted, replaces `self` with `new` (which then differs from the
    /// old configuration only in reloadable keys). Returns the changes.
    ///
    /// # Errors
    /// As [`Config::reloadable_changes`]; `self` is unchanged on error.
    pub fn apply_reload(&mut self, new: Config) -> Result<Vec<ReloadChange>, ReloadError> {
        let changes = self.reloadable_changes(&new)?;
        *self = new;
        Ok(changes)
    }
}

/// Returns every leaf key whose value differs, in key order.
fn diff(old: &Config, new: &Config) -> Result<Vec<ReloadChange>, ConfigError> {
    let flat_old = flatten(old)?;
    let flat_new = flatten(new)?;
    let mut keys: Vec<&String> = flat_old.keys().chain(flat_new.keys()).collect();
    keys.sort();
    keys.dedup();
    let render = |v: Option<&Value>| v.map_or_else(|| "(unset)".to_owned(), ToString::to_string);
    Ok(keys
        .into_iter()
        .filter(|k| flat_old.get(*k) != flat_new.get(*k))
        .map(|k| ReloadChange {
            key: k.clone(),
            old: render(flat_old.get(k)),
            new: render(flat_new.get(k)),
        })
        .collect())
}

/// Flattens a configuration into dotted leaf keys (arrays are leaves).
pub(crate) fn flatten(config: &Config) -> Result<BTreeMap<String, Value>, ConfigError> {
    let value = Value::try_from(config).map_err(|e| ConfigError::Serialize {
        message: e.to_string(),
    })?;
    let mut out = BTreeMap::new();
    walk(String::new(), value, &mut out);
    Ok(out)
}

/// Adds the leaves under `value` to `out`.
fn walk(prefix: String, value: Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                walk(key, v, out);
            }
        }
        leaf => {
            out.insert(prefix, leaf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LogLevel, Mode};

    #[test]
    fn patterns_match_whole_segments_only() {
        assert!(is_reloadable("risk.max_drawdown_pct"));
        assert!(is_reloadable("strategies.mtf_long.body_atr_mult"));
        assert!(is_reloadable("logging.level"));
        assert!(!is_reloadable("strategies.mtf_long.atr_period"));
        assert!(!is_reloadable("risk.stop_file"));
        assert!(!is_reloadable("risk"));
        assert!(!is_reloadable("risk.max_drawdown_pct.x"));
    }

    #[test]
    fn reloadable_changes_are_listed_and_applied() {
        let mut running = Config::default();
        let mut new = Config::default();
        new.risk.max_drawdown_pct = 8.0;
        new.strategies.mtf_long.body_atr_mult = 2.0;
        new.logging.level = LogLevel::Debug;
        let changes = running.apply_reload(new.clone()).unwrap();
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "logging.level",
                "risk.max_drawdown_pct",
                "strategies.mtf_long.body_atr_mult"
            ]
        );
        assert_eq!(changes[1].to_string(), "risk.max_drawdown_pct: 10.0 -> 8.0");
        assert_eq!(running, new);
    }

    #[test]
    fn non_reloadable_changes_are_refused_and_nothing_is_applied() {
        let mut running = Config::default();
        let mut new = Config::default();
        new.engine.mode = Mode::Live;
        new.strategies.mtf_long.atr_period = 21;
        new.risk.max_drawdown_pct = 8.0;
        new.logging.file = Some("engine.log".into());
        let err = running.apply_reload(new).unwrap_err();
        let ReloadError::NotReloadable { changes } = &err else {
            panic!("{err}")
        };
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "engine.mode",
                "logging.file",
                "strategies.mtf_long.atr_period"
            ]
        );
        assert!(
            err.to_string()
                .contains("logging.file: (unset) -> \"engine.log\""),
            "{err}"
        );
        assert_eq!(running, Config::default());
    }

    #[test]
    fn invalid_new_config_is_refused_with_its_errors() {
        let running = Config::default();
        let mut new = Config::default();
        new.risk.max_drawdown_pct = -5.0;
        let err = running.reloadable_changes(&new).unwrap_err();
        assert!(matches!(err, ReloadError::Invalid(_)));
        assert!(
            err.to_string()
                .contains("risk.max_drawdown_pct: must be in (0, 100], got -5"),
            "{err}"
        );
    }

    #[test]
    fn identical_configs_have_no_changes() {
        assert!(Config::default()
            .reloadable_changes(&Config::default())
            .unwrap()
            .is_empty());
    }
}
