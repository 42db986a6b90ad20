//! The control client behind `trading-engine ctl`: one `POST
//! /control/<command>` with the bearer token, bounded in time and size.
//!
//! Consumes the server address, the command and the token; produces the
//! HTTP status and body as a [`ClientReply`], or a [`ClientError`]. Never
//! prints or logs the token.

use super::auth::TOKEN_VAR;
use super::ControlCommand;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Largest response accepted, bytes.
const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientReply {
    /// HTTP status code.
    pub status: u16,
    /// Response body (lossy UTF-8).
    pub body: String,
}

impl ClientReply {
    /// Returns true for a 2xx status.
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a command could not be delivered.
#[derive(Debug)]
pub enum ClientError {
    /// `TE_CONTROL_TOKEN` is not set (or empty) on the client side.
    NoToken,
    /// The server could not be reached.
    Connect {
        /// The address tried.
        addr: SocketAddr,
        /// The operating-system error.
        source: io::Error,
    },
    /// Sending the request or reading the response failed.
    Io {
        /// The server.
        addr: SocketAddr,
        /// The operating-system error.
        source: io::Error,
    },
    /// The response was not HTTP/1.x or too large.
    BadResponse {
        /// The server.
        addr: SocketAddr,
        /// What was wrong.
        reason: String,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoToken => write!(
                f,
                "{TOKEN_VAR} is not set: export the engine's control token to send commands"
            ),
            Self::Connect { addr, source } => {
                write!(f, "cannot connect to the engine at {addr}: {source}")
            }
            Self::Io { addr, source } => write!(f, "request to {addr} failed: {source}"),
            Self::BadResponse { addr, reason } => {
                write!(f, "unreadable response from {addr}: {reason}")
            }
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Io { source, .. } => Some(source),
            Self::NoToken | Self::BadResponse { .. } => None,
        }
    }
}

/// Sends `command` to the server at `addr` with `token` as bearer token,
/// waiting at most `timeout` for the connection and for each read/write.
///
/// # Errors
/// [`ClientError::NoToken`] when `token` is empty; [`ClientError::Connect`],
/// [`ClientError::Io`] or [`ClientError::BadResponse`] when the exchange
/// fails. A non-2xx answer is not an error here: see
/// [`ClientReply::is_success`].
pub fn send_command(
    addr: SocketAddr,
    command: ControlCommand,
    token: &str,
    timeout: Duration,
) -> Result<ClientReply, ClientError> {
    if token.is_empty() {
        return Err(ClientError::NoToken);
    }
    let io_err = |source| ClientError::Io { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|source| ClientError::Connect { addr, source })?;
    stream.set_read_timeout(Some(timeout)).map_err(io_err)?;
    stream.set_write_timeout(Some(timeout)).map_err(io_err)?;
    let request = format!(
        "POST /control/{command} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io_err)?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(io_err)?;
    if raw.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(ClientError::BadResponse {
            addr,
            reason: format!("larger than {MAX_RESPONSE_BYTES} bytes"),
        });
    }
    parse_response(&raw).map_err(|reason| ClientError::BadResponse { addr, reason })
}

/// Parses a complete `Connection: close` response.
fn parse_response(raw: &[u8]) -> Result<ClientReply, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(raw) {
        Ok(httparse::Status::Complete(head_len)) => Ok(ClientReply {
            status: resp.code.unwrap_or_default(),
            body: String::from_utf8_lossy(&raw[head_len..]).into_owned(),
        }),
        Ok(httparse::Status::Partial) => Err("truncated response head".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_status_and_body_are_parsed() {
        let r = parse_response(b"HTTP/1.1 409 Conflict\r\nContent-Length: 4\r\n\r\nnope").unwrap();
        assert_eq!(
            r,
            ClientReply {
                status: 409,
                body: "nope".to_owned()
            }
        );
        assert!(!r.is_success());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
    }

    #[test]
    fn empty_token_is_refused_before_connecting() {
        // Port 9 on loopback: nothing is contacted because the token check
        // comes first.
        let err = send_command(
            "127.0.0.1:9".parse().unwrap(),
            ControlCommand::Status,
            "",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, ClientError::NoToken));
        assert!(err.to_string().contains(TOKEN_VAR));
    }

    #[test]
    fn unreachable_server_is_a_connect_error_naming_the_address() {
        // Bind then drop to get a port nobody listens on.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err =
            send_command(addr, ControlCommand::Halt, "t", Duration::from_secs(2)).unwrap_err();
        assert!(matches!(err, ClientError::Connect { .. }), "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }
}
