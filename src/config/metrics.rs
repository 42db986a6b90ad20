//! `[metrics]`: the optional metrics HTTP endpoint.
//!
//! Consumes the `[metrics]` TOML table; produces [`MetricsConfig`]. Never
//! binds a socket itself.

use super::validate::Issues;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The `[metrics]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve metrics over HTTP; default false.
    pub enabled: bool,
    /// Listen address `ip:port`; port > 0 when enabled. Default
    /// `127.0.0.1:9184`.
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9184),
        }
    }
}

impl MetricsConfig {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        if self.enabled && self.listen.port() == 0 {
            issues.push(
                "metrics.listen",
                "port must be greater than 0 when metrics.enabled = true",
            );
        }
    }
}
