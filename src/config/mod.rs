//! Engine configuration: `config.toml` parsed once at start-up into one
//! typed struct per section, validated into a [`Config`] or a
//! [`ConfigError`] listing every bad key by its full path.
//!
//! Consumes TOML text (or a file) and, for credentials only, the process
//! environment and a `.env` file; produces [`Config`] and [`Credentials`].
//! Never reads secrets from `config.toml`, never logs them, and never stops
//! at the first error: unknown keys, wrong types, bad ranges and broken
//! relations are all collected.
//!
//! Every key has a built-in default ([`Config::default`], used when no file
//! is given) except the tables a file must state: `[exchange]` and
//! `[market]` with its `symbols` key. `config.toml` at the repository root
//! documents every key and equals the defaults (a test keeps them in step).
//! Relative paths are resolved against `engine.working_dir`.

mod dashboard;
mod engine;
mod error;
mod exchange;
mod journal;
mod latency;
mod load;
mod logging;
mod management;
mod market;
mod metrics;
mod paths;
mod reconcile;
mod reload;
mod risk;
mod secrets;
mod simulator;
mod sizing;
mod strategy;
mod validate;

pub use crate::strategy::{
    MtfLongConfig, StrategiesConfig, StrategyName, TrendDistanceShortConfig,
};
pub use dashboard::DashboardConfig;
pub use engine::{EngineConfig, Mode};
pub use error::{ConfigError, ConfigIssue};
pub use exchange::{
    Environment, ExchangeConfig, MarginType, Venue, BINANCE_WS_URL, BINGX_LIVE_REST_URL,
    BINGX_LIVE_WS_URL, BINGX_VST_REST_URL, BINGX_VST_WS_URL,
};
pub use journal::{Durability, JournalConfig, MIN_SEGMENT_SIZE_BYTES};
pub use latency::LatencyConfig;
pub use logging::{ColourMode, LogFormat, LogLevel, LoggingConfig};
pub use management::ManagementConfig;
pub use market::{FeedSource, InstrumentConfig, MarketConfig, MAX_RULE_DECIMALS};
pub use metrics::MetricsConfig;
pub use reconcile::{ReconcileSettings, UnknownPosition, MAX_RECONCILE_INTERVAL_SECS};
pub use reload::{is_reloadable, ReloadChange, ReloadError, RELOADABLE_KEYS};
pub use risk::RiskConfig;
pub use secrets::{
    CredentialSource, Credentials, CredentialsError, Secret, API_KEY_VAR, API_SECRET_VAR,
};
pub use simulator::SimulatorConfig;
pub use sizing::{SizingConfig, MAX_STREAK_MULTIPLIERS};

use serde::{Deserialize, Serialize};
use std::path::Path;
use validate::Issues;

/// The whole configuration: one field per `config.toml` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[engine]`: mode, cores, working directory.
    pub engine: EngineConfig,
    /// `[exchange]`: venue, endpoints, timing, leverage (required in a file).
    pub exchange: ExchangeConfig,
    /// `[market]`: symbols, feed, candle grace (required in a file).
    pub market: MarketConfig,
    /// `[strategies]`: order and per-strategy parameters.
    pub strategies: StrategiesConfig,
    /// `[management]`: partials, break-even, trailing.
    pub management: ManagementConfig,
    /// `[sizing]`: risk per trade and streak multipliers.
    pub sizing: SizingConfig,
    /// `[risk]`: pre-trade limits and kill switch.
    pub risk: RiskConfig,
    /// `[simulator]`: paper/backtest fees, slippage, equity.
    pub simulator: SimulatorConfig,
    /// `[journal]`: directory, segments, durability.
    pub journal: JournalConfig,
    /// `[logging]`: level, format, colour, rotating file.
    pub logging: LoggingConfig,
    /// `[latency]`: histogram reporting.
    pub latency: LatencyConfig,
    /// `[dashboard]`: periodic status summary.
    pub dashboard: DashboardConfig,
    /// `[metrics]`: optional HTTP metrics endpoint.
    pub metrics: MetricsConfig,
    /// `[reconcile]`: running reconciliation with the exchange, stop guard.
    pub reconcile: ReconcileSettings,
}

/// Returns the ids of the cores this process may run on, or `None` when the
/// platform cannot tell.
#[must_use]
pub fn available_core_ids() -> Option<Vec<usize>> {
    core_affinity::get_core_ids().map(|ids| ids.into_iter().map(|c| c.id).collect())
}

impl Config {
    /// Reads, parses and validates the TOML file at `path`.
    ///
    /// # Errors
    /// [`ConfigError::Read`] when the file cannot be read,
    /// [`ConfigError::Syntax`] when it is not TOML, [`ConfigError::Invalid`]
    /// with every problem found otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and validates TOML text, checking core ids against
    /// [`available_core_ids`].
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] when `text` is not TOML, else
    /// [`ConfigError::Invalid`] listing every unknown key, wrong type,
    /// missing required table, secret in the file, bad range and broken
    /// relation.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_toml_str_with_cores(text, available_core_ids().as_deref())
    }

    /// Like [`Config::from_toml_str`], with the usable core ids given
    /// (`None`: do not check core ids).
    ///
    /// # Errors
    /// As [`Config::from_toml_str`].
    pub fn from_toml_str_with_cores(
        text: &str,
        cores: Option<&[usize]>,
    ) -> Result<Self, ConfigError> {
        let (config, mut issues) = load::parse(text)?;
        config.collect_issues(cores, &mut issues);
        issues.finish(config)
    }

    /// Validates ranges and relations, checking core ids against
    /// [`available_core_ids`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing every problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_with_cores(available_core_ids().as_deref())
    }

    /// Validates ranges and relations with the usable core ids given
    /// (`None`: do not check core ids).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing every problem.
    pub fn validate_with_cores(&self, cores: Option<&[usize]>) -> Result<(), ConfigError> {
        let mut issues = Issues::default();
        self.collect_issues(cores, &mut issues);
        issues.finish(())
    }

    /// Renders the configuration as TOML (every key, options only when set).
    ///
    /// # Errors
    /// [`ConfigError::Serialize`] if a value cannot be expressed in TOML
    /// (not expected for a validated configuration).
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Serialize {
            message: e.to_string(),
        })
    }

    /// Runs every section's checks and the cross-section relations.
    fn collect_issues(&self, cores: Option<&[usize]>, issues: &mut Issues) {
        let resolve = |p: &Path| self.engine.resolve_path(p);
        self.engine.validate(cores, issues);
        self.exchange.validate(&resolve, issues);
        self.market.validate(issues);
        self.strategies.validate(issues);
        self.management.validate(issues);
        self.sizing.validate(issues);
        self.risk.validate(issues);
        self.simulator.validate(issues);
        self.journal.validate(issues);
        self.logging.validate(issues);
        self.latency.validate(issues);
        self.dashboard.validate(issues);
        self.metrics.validate(issues);
        self.reconcile.validate(issues);
        let worst_risk = self.sizing.base_risk_pct * self.sizing.max_multiplier();
        if worst_risk.is_finite() && worst_risk > self.risk.max_portfolio_risk_pct {
            issues.push(
                "sizing.base_risk_pct",
                format!(
                    "with the largest streak multiplier one trade risks {worst_risk}% of equity, above risk.max_portfolio_risk_pct ({})",
                    self.risk.max_portfolio_risk_pct
                ),
            );
        }
        if self.risk.max_positions as usize > self.market.symbols.len() {
            issues.push(
                "risk.max_positions",
                format!(
                    "must be at most the number of market.symbols ({}) since there is one position per symbol, got {}",
                    self.market.symbols.len(),
                    self.risk.max_positions
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests;
