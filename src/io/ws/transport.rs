//! Non-blocking byte transport under the WebSocket clients: plain TCP or rustls over TCP.
//!
//! Consumes a connected non-blocking `mio` socket and, for TLS, a rustls client
//! configuration; produces plaintext reads and buffered writes. Every call returns at once
//! (`WouldBlock` when nothing can be done). Never blocks, never logs; the plain path never
//! allocates.

use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::ClientConnection;

/// A plain or TLS byte stream over a non-blocking socket.
#[derive(Debug)]
pub enum Transport {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(Box<ClientConnection>, TcpStream),
}

impl Transport {
    /// Wraps `sock` in TLS for `host` (the handshake runs as the stream is read and flushed).
    ///
    /// # Errors
    /// An `InvalidInput` error for a host that is not a valid server name, or rustls'
    /// refusal to start a session.
    pub fn tls(config: Arc<rustls::ClientConfig>, host: &str, sock: TcpStream) -> io::Result<Self> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
        Ok(Self::Tls(Box::new(conn), sock))
    }

    /// Reads available plaintext into `buf`. `Ok(0)` means the peer closed the stream;
    /// `WouldBlock` means nothing is available yet.
    ///
    /// # Errors
    /// Socket and TLS errors (`WouldBlock` included, see above).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(conn, sock) => loop {
                match conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if conn.read_tls(sock)? == 0 {
                    return Ok(0);
                }
                let state = conn.process_new_packets().map_err(io::Error::other)?;
                if conn.wants_write() {
                    flush_tls(conn, sock)?;
                }
                if state.plaintext_bytes_to_read() == 0 && state.peer_has_closed() {
                    return Ok(0);
                }
            },
        }
    }

    /// Writes as much of `data` as possible now and returns how much was taken (TLS buffers
    /// everything and sends it on [`Transport::flush`]).
    ///
    /// # Errors
    /// Socket and TLS errors; `WouldBlock` when the socket buffer is full.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(data),
            Self::Tls(conn, sock) => {
                let n = conn.writer().write(data)?;
                flush_tls(conn, sock)?;
                Ok(n)
            }
        }
    }

    /// Sends buffered TLS records (handshake included); a no-op for plain TCP.
    ///
    /// # Errors
    /// Socket errors other than `WouldBlock`.
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(_) => Ok(()),
            Self::Tls(conn, sock) => flush_tls(conn, sock),
        }
    }

    /// Returns true while the TLS handshake is still running.
    #[must_use]
    pub fn is_handshaking(&self) -> bool {
        match self {
            Self::Plain(_) => false,
            Self::Tls(conn, _) => conn.is_handshaking(),
        }
    }
}

fn flush_tls(conn: &mut ClientConnection, sock: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        match conn.write_tls(sock) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
