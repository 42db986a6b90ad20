//! Non-blocking byte transport under the WebSocket clients: plain TCP or TLS over TCP.
//!
//! Consumes a connected non-blocking `mio` socket and, for TLS, a rustls client
//! configuration; produces plaintext reads and buffered writes. Every call returns at once
//! (`WouldBlock` when nothing can be done). Never blocks, never logs; once connected (and,
//! for TLS, past the handshake) never allocates: TLS records are protected by
//! [`super::tls_stream::TlsStream`]'s own record layer in preallocated buffers.

use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::pki_types::ServerName;

use super::tls_stream::TlsStream;

/// A plain or TLS byte stream over a non-blocking socket.
#[derive(Debug)]
pub enum Transport {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Transport {
    /// Wraps `sock` in TLS for `host` (the handshake runs as the stream is read and flushed).
    ///
    /// # Errors
    /// An `InvalidInput` error for a host that is not a valid server name, or rustls'
    /// refusal to start a session (`InvalidData`).
    pub fn tls(config: Arc<rustls::ClientConfig>, host: &str, sock: TcpStream) -> io::Result<Self> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(Self::Tls(Box::new(TlsStream::try_new(config, name, sock)?)))
    }

    /// Reads available plaintext into `buf`. `Ok(0)` means the peer closed the stream;
    /// `WouldBlock` means nothing is available yet.
    ///
    /// # Errors
    /// Socket and TLS errors (`WouldBlock` included, see above).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(t) => t.read(buf),
        }
    }

    /// Writes as much of `data` as possible now and returns how much was taken (TLS seals
    /// it into records, sends what the socket takes and the rest on [`Transport::flush`];
    /// during the handshake it takes nothing and returns `WouldBlock`).
    ///
    /// # Errors
    /// Socket and TLS errors; `WouldBlock` when the socket buffer is full.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(data),
            Self::Tls(t) => t.write(data),
        }
    }

    /// Sends buffered TLS records (handshake included); a no-op for plain TCP.
    ///
    /// # Errors
    /// Socket errors other than `WouldBlock`.
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(_) => Ok(()),
            Self::Tls(t) => t.flush(),
        }
    }

    /// Returns true while the TLS handshake is still running.
    #[must_use]
    pub fn is_handshaking(&self) -> bool {
        match self {
            Self::Plain(_) => false,
            Self::Tls(t) => t.is_handshaking(),
        }
    }
}
