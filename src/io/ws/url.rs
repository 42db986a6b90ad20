//! WebSocket URL parsing and stream-URL builders (BingX user stream, Binance combined streams).
//!
//! Consumes URL text and symbol names; produces a parsed [`WsUrl`]. Cold path only
//! (allocates); never resolves names or touches sockets.

use core::fmt;

/// Why a WebSocket URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsUrlError {
    /// The scheme is not `ws://` or `wss://`.
    Scheme,
    /// The host is empty.
    EmptyHost,
    /// The port is not a number in 1..=65535.
    BadPort,
}

impl fmt::Display for WsUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scheme => "WebSocket URL must start with ws:// or wss://",
            Self::EmptyHost => "WebSocket URL has an empty host",
            Self::BadPort => "WebSocket URL has a bad port",
        })
    }
}

impl std::error::Error for WsUrlError {}

/// A parsed `ws://` or `wss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// True for `wss://` (TLS).
    pub tls: bool,
    /// Host name or IP literal (also the TLS server name and `Host` header).
    pub host: String,
    /// TCP port (default 80 / 443).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub resource: String,
}

impl WsUrl {
    /// Parses `ws[s]://host[:port][/path][?query]`.
    ///
    /// # Errors
    /// A [`WsUrlError`] naming what is wrong.
    pub fn parse(url: &str) -> Result<Self, WsUrlError> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("wss://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("ws://") {
            (false, r)
        } else {
            return Err(WsUrlError::Scheme);
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        let resource = if resource.is_empty() {
            "/".to_owned()
        } else if resource.starts_with('?') {
            format!("/{resource}")
        } else {
            resource.to_owned()
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => {
                let port: u16 = p.parse().map_err(|_| WsUrlError::BadPort)?;
                if port == 0 {
                    return Err(WsUrlError::BadPort);
                }
                (h, port)
            }
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(WsUrlError::EmptyHost);
        }
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
            resource,
        })
    }

    /// Returns the `Host` header value (`host` or `host:port` for a non-default port).
    #[must_use]
    pub fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Returns the BingX user-data-stream URL: `base` with `listenKey=<key>` appended (§6).
#[must_use]
pub fn bingx_user_stream_url(base: &str, listen_key: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}listenKey={listen_key}")
}

/// Returns the Binance combined-stream URL for `aggTrade` and `kline_1m` of each symbol
/// (§7.1/7.2): `<base>/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m/...`. Symbol names
/// are lower-cased and stripped of `-` (`BTC-USDT` → `btcusdt`); `base` is e.g.
/// `wss://fstream.binance.com/market`.
#[must_use]
pub fn binance_combined_url(
    base: &str,
    symbols: &[&str],
    agg_trade: bool,
    kline_1m: bool,
) -> String {
    let mut url = String::from(base.trim_end_matches('/'));
    url.push_str("/stream?streams=");
    let mut first = true;
    for s in symbols {
        let name: String = s
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        for (on, suffix) in [(agg_trade, "@aggTrade"), (kline_1m, "@kline_1m")] {
            if on {
                if !first {
                    url.push('/');
                }
                first = false;
                url.push_str(&name);
                url.push_str(suffix);
            }
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults_and_explicit_ports() {
        let u = WsUrl::parse("wss://open-api-swap.bingx.com/swap-market").unwrap();
        assert!(u.tls);
        assert_eq!(u.port, 443);
        assert_eq!(u.resource, "/swap-market");
        assert_eq!(u.host_header(), "open-api-swap.bingx.com");
        let u = WsUrl::parse("ws://127.0.0.1:9000?x=1").unwrap();
        assert!(!u.tls);
        assert_eq!(u.port, 9000);
        assert_eq!(u.resource, "/?x=1");
        assert_eq!(u.host_header(), "127.0.0.1:9000");
        assert_eq!(WsUrl::parse("ws://h").unwrap().resource, "/");
    }

    #[test]
    fn bad_urls_are_refused() {
        assert_eq!(WsUrl::parse("http://x/"), Err(WsUrlError::Scheme));
        assert_eq!(WsUrl::parse("ws:///p"), Err(WsUrlError::EmptyHost));
        assert_eq!(WsUrl::parse("ws://h:99999/"), Err(WsUrlError::BadPort));
        assert_eq!(WsUrl::parse("ws://h:0/"), Err(WsUrlError::BadPort));
    }

    #[test]
    fn stream_urls_are_built_as_documented() {
        assert_eq!(
            bingx_user_stream_url("wss://x/swap-market", "abc"),
            "wss://x/swap-market?listenKey=abc"
        );
        assert_eq!(
            bingx_user_stream_url("ws://x/s?a=1", "k"),
            "ws://x/s?a=1&listenKey=k"
        );
        assert_eq!(
            binance_combined_url("wss://fstream.binance.com/market/", &["BTC-USDT", "ETHUSDT"], true, true),
            "wss://fstream.binance.com/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m/ethusdt@aggTrade/ethusdt@kline_1m"
        );
        assert_eq!(
            binance_combined_url("wss://h/market", &["BTCUSDT"], false, true),
            "wss://h/market/stream?streams=btcusdt@kline_1m"
        );
    }
}
