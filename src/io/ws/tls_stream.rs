//! A non-blocking TLS client stream for `wss://` whose traffic phase never allocates: rustls
//! runs the handshake, then hands over its traffic secrets and this stream protects the
//! records itself with [`RecordLayer`] in preallocated buffers.
//!
//! Consumes a connected non-blocking byte stream (`Read + Write`, `WouldBlock` when idle), a
//! rustls client configuration and a server name; produces decrypted application data from
//! [`TlsStream::read`] and sends [`TlsStream::write`] data as encrypted records. The
//! handshake uses rustls's unbuffered API over this stream's own buffers, so bytes received
//! after it stay where they are; then `dangerous_into_kernel_connection` yields the keys
//! (the kTLS hand-over) and a [`KernelConnection`] that derives TLS 1.3 KeyUpdate secrets and
//! stores session tickets. After the handshake, reading and writing application data never
//! allocates (the rare KeyUpdate and NewSessionTicket go through rustls, which may), never
//! blocks and never logs. Never disables certificate verification: that is rustls's
//! handshake, unchanged.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::kernel::KernelConnection;
use rustls::pki_types::ServerName;
use rustls::unbuffered::ConnectionState;
use rustls::ProtocolVersion;

use super::record::{
    RecordLayer, TlsRecordError, TlsVersion, ALERT, APPLICATION_DATA, HANDSHAKE, MAX_OVERHEAD,
    MAX_PLAINTEXT, MAX_RECORD,
};

/// Capacity of the ciphertext input buffer: a socket read of several records at once, and
/// always room for one more maximum-size record after compaction.
const IN_CAP: usize = 4 * MAX_RECORD;
/// Capacity of the ciphertext output buffer (handshake flights, then sealed records).
const OUT_CAP: usize = 2 * MAX_RECORD;
/// Output bytes application writes leave free for control records (KeyUpdate, alerts).
const CONTROL_RESERVE: usize = 64;
/// Largest post-handshake handshake message accepted (session tickets are far smaller).
const MAX_HANDSHAKE_MESSAGE: usize = 1 << 16;
/// Preallocated room for reassembling post-handshake handshake messages.
const HANDSHAKE_PREALLOC: usize = 4096;

/// Handshake message types handled after the handshake.
const HS_HELLO_REQUEST: u8 = 0;
const HS_NEW_SESSION_TICKET: u8 = 4;
const HS_KEY_UPDATE: u8 = 24;
/// `close_notify` alert description.
const CLOSE_NOTIFY: u8 = 0;

/// Why a TLS stream failed. Surfaced through `io::Error` (kind `InvalidData`) with this
/// value as the inner error, so callers keep the `io::Read`-like contract and can still
/// downcast.
#[derive(Debug)]
pub enum TlsStreamError {
    /// The record layer refused a record (bad MAC, malformed, unexpected type, alert).
    Record(TlsRecordError),
    /// The rustls handshake failed (certificate, protocol, alert during the handshake).
    Handshake(rustls::Error),
    /// rustls refused to hand over the traffic secrets.
    SecretExtraction(rustls::Error),
    /// rustls could not derive the next traffic secret of a KeyUpdate.
    KeyUpdate(rustls::Error),
    /// rustls refused a NewSessionTicket.
    SessionTicket(rustls::Error),
    /// The output buffer has no room for a handshake flight.
    OutputFull,
}

impl std::fmt::Display for TlsStreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Record(e) => write!(f, "TLS record layer: {e}"),
            Self::Handshake(e) => write!(f, "TLS handshake failed: {e}"),
            Self::SecretExtraction(e) => write!(f, "TLS secret extraction failed: {e}"),
            Self::KeyUpdate(e) => write!(f, "TLS key update failed: {e}"),
            Self::SessionTicket(e) => write!(f, "TLS session ticket refused: {e}"),
            Self::OutputFull => f.write_str("TLS handshake flight larger than the output buffer"),
        }
    }
}

impl std::error::Error for TlsStreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Record(e) => Some(e),
            Self::Handshake(e)
            | Self::SecretExtraction(e)
            | Self::KeyUpdate(e)
            | Self::SessionTicket(e) => Some(e),
            Self::OutputFull => None,
        }
    }
}

impl From<TlsRecordError> for TlsStreamError {
    fn from(e: TlsRecordError) -> Self {
        Self::Record(e)
    }
}

impl From<TlsStreamError> for io::Error {
    fn from(e: TlsStreamError) -> Self {
        // Cold path: the connection is dropped after this error.
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

impl From<TlsRecordError> for io::Error {
    fn from(e: TlsRecordError) -> Self {
        TlsStreamError::Record(e).into()
    }
}

/// Returns `config` with rustls's secret extraction switched on (a copy when it is off),
/// as [`TlsStream`] needs it to take the traffic keys over after the handshake.
#[must_use]
pub fn with_secret_extraction(config: Arc<rustls::ClientConfig>) -> Arc<rustls::ClientConfig> {
    if config.enable_secret_extraction {
        return config;
    }
    let mut c = (*config).clone();
    c.enable_secret_extraction = true;
    Arc::new(c)
}

/// The phase of the connection.
// The traffic variant (ring keys inline) is the large one and the one used per record: it
// stays inline rather than behind another pointer; the whole stream is boxed by `Transport`.
#[allow(clippy::large_enum_variant)]
enum Phase {
    /// rustls runs the handshake.
    Handshake(Box<UnbufferedClientConnection>),
    /// Keys taken over; this stream protects the records.
    Traffic {
        kernel: Box<KernelConnection<ClientConnectionData>>,
        records: RecordLayer,
    },
    /// After a failure during the hand-over; every call fails.
    Failed,
}

/// What one handshake step asks for.
enum HsStep {
    /// Run rustls again.
    Again,
    /// Send the queued flight, then run rustls again.
    Transmit,
    /// rustls needs more bytes from the peer.
    NeedInput,
    /// The handshake is over and the keys are ours.
    Done,
    /// The peer closed during the handshake.
    Closed,
}

/// A TLS 1.2/1.3 client stream over a non-blocking byte stream `S`.
pub struct TlsStream<S> {
    sock: S,
    phase: Phase,
    /// Ciphertext from the peer. `inbuf[in_start..in_end]` is not yet processed; bytes
    /// before `in_start` may still hold the decrypted plaintext being read.
    inbuf: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    /// Decrypted application data inside `inbuf` not yet read (`plain_start == plain_end`
    /// when none); compaction of `inbuf` waits until it is empty.
    plain_start: usize,
    plain_end: usize,
    /// Ciphertext to send: `outbuf[out_start..out_end]`.
    outbuf: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    /// Post-handshake handshake bytes not yet forming a complete message.
    hs_msg: Vec<u8>,
    /// Application data rustls decrypted during the handshake (normally never used) and
    /// how much of it was read.
    early: Vec<u8>,
    early_read: usize,
    /// The peer sent `close_notify` (or closed during the handshake).
    peer_closed: bool,
}

impl<S: std::fmt::Debug> std::fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = match &self.phase {
            Phase::Handshake(_) => "handshake",
            Phase::Traffic { .. } => "traffic",
            Phase::Failed => "failed",
        };
        f.debug_struct("TlsStream")
            .field("sock", &self.sock)
            .field("phase", &phase)
            .field("unprocessed_bytes", &(self.in_end - self.in_start))
            .field(
                "unread_plaintext_bytes",
                &(self.plain_end - self.plain_start),
            )
            .field("unsent_bytes", &(self.out_end - self.out_start))
            .field("peer_closed", &self.peer_closed)
            .finish()
    }
}

impl<S: Read + Write> TlsStream<S> {
    /// Starts a client session for `name` over `sock` (the handshake runs as the stream is
    /// read, written and flushed). Secret extraction is switched on in a copy of `config`
    /// when the caller did not already do so.
    ///
    /// # Errors
    /// rustls's refusal to start a session ([`TlsStreamError::Handshake`]).
    pub fn try_new(
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
        sock: S,
    ) -> Result<Self, TlsStreamError> {
        let config = with_secret_extraction(config);
        let conn =
            UnbufferedClientConnection::new(config, name).map_err(TlsStreamError::Handshake)?;
        Ok(Self {
            sock,
            phase: Phase::Handshake(Box::new(conn)),
            inbuf: vec![0u8; IN_CAP].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            plain_start: 0,
            plain_end: 0,
            outbuf: vec![0u8; OUT_CAP].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            hs_msg: Vec::with_capacity(HANDSHAKE_PREALLOC),
            early: Vec::new(),
            early_read: 0,
            peer_closed: false,
        })
    }

    /// Returns true while the handshake is still running.
    #[must_use]
    pub fn is_handshaking(&self) -> bool {
        matches!(self.phase, Phase::Handshake(_))
    }

    /// Returns the negotiated record format once the handshake is over.
    #[must_use]
    pub fn version(&self) -> Option<TlsVersion> {
        match &self.phase {
            Phase::Traffic { records, .. } => Some(records.version()),
            _ => None,
        }
    }

    /// Returns the underlying byte stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.sock
    }

    /// Reads decrypted application data into `buf`. `Ok(0)` means the peer closed the
    /// session (`close_notify`) or the stream; `WouldBlock` means nothing is available yet.
    ///
    /// # Errors
    /// Errors of the byte stream; `InvalidData` wrapping a [`TlsStreamError`] for TLS
    /// failures (a corrupted record is `TlsStreamError::Record(TlsRecordError::BadMac)`);
    /// `UnexpectedEof` when the stream ends inside a record.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.out_start < self.out_end {
            // Records the socket refused earlier (a KeyUpdate answer, a Pong) leave with
            // the next poll even when the caller has nothing new to write.
            self.send_out()?;
        }
        loop {
            if self.early_read < self.early.len() {
                let n = buf.len().min(self.early.len() - self.early_read);
                buf[..n].copy_from_slice(&self.early[self.early_read..self.early_read + n]);
                self.early_read += n;
                return Ok(n);
            }
            if self.plain_start < self.plain_end {
                let n = buf.len().min(self.plain_end - self.plain_start);
                buf[..n].copy_from_slice(&self.inbuf[self.plain_start..self.plain_start + n]);
                self.plain_start += n;
                return Ok(n);
            }
            if self.peer_closed {
                return Ok(0);
            }
            let need_input = match self.phase {
                Phase::Handshake(_) => match self.drive_handshake()? {
                    HsStep::Done => false,
                    HsStep::Closed => return Ok(0),
                    _ => true,
                },
                Phase::Traffic { .. } => !self.next_record()?,
                Phase::Failed => return Err(io::ErrorKind::NotConnected.into()),
            };
            if need_input && !self.fill()? {
                return if self.in_start == self.in_end {
                    Ok(0)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    /// Encrypts as much of `data` as the output buffer takes, tries to send it, and returns
    /// how much was taken. During the handshake nothing is taken (`WouldBlock`).
    ///
    /// # Errors
    /// Errors of the byte stream; `WouldBlock` when nothing could be taken;
    /// `InvalidData` wrapping a [`TlsStreamError`] for TLS failures.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.is_handshaking() {
            self.drive_handshake()?;
        }
        self.send_out()?;
        let records = match &mut self.phase {
            Phase::Traffic { records, .. } => records,
            Phase::Handshake(_) => return Err(io::ErrorKind::WouldBlock.into()),
            Phase::Failed => return Err(io::ErrorKind::NotConnected.into()),
        };
        if data.is_empty() {
            return Ok(0);
        }
        if self.out_start > 0 {
            // Unsent bytes (the socket was full) move to the front to make room.
            self.outbuf.copy_within(self.out_start..self.out_end, 0);
            self.out_end -= self.out_start;
            self.out_start = 0;
        }
        let mut taken = 0;
        while taken < data.len() {
            let room = OUT_CAP - self.out_end;
            if room <= MAX_OVERHEAD + CONTROL_RESERVE {
                break;
            }
            let chunk = (data.len() - taken)
                .min(MAX_PLAINTEXT)
                .min(room - MAX_OVERHEAD - CONTROL_RESERVE);
            let n = records.seal(
                APPLICATION_DATA,
                &data[taken..taken + chunk],
                &mut self.outbuf[self.out_end..],
            )?;
            self.out_end += n;
            taken += chunk;
        }
        self.send_out()?;
        if taken == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(taken)
    }

    /// Advances the handshake with the bytes already received and sends queued records.
    ///
    /// # Errors
    /// Errors of the byte stream other than `WouldBlock`; `InvalidData` for TLS failures.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.is_handshaking() {
            self.drive_handshake()?;
        }
        self.send_out()
    }

    /// Queues a `close_notify` alert and tries to send it (best effort, after the
    /// handshake only).
    ///
    /// # Errors
    /// Errors of the byte stream other than `WouldBlock`; `InvalidData` when the alert
    /// cannot be sealed.
    pub fn send_close_notify(&mut self) -> io::Result<()> {
        self.seal_control(ALERT, &[1, CLOSE_NOTIFY])?;
        self.send_out()
    }

    /// Runs rustls until it needs input or finishes; on finishing, takes the keys over.
    fn drive_handshake(&mut self) -> io::Result<HsStep> {
        loop {
            let step = self.handshake_step()?;
            match step {
                HsStep::Again => {}
                // A flight that cannot leave yet stays queued for the next flush.
                HsStep::Transmit => self.send_out()?,
                HsStep::Done => {
                    self.take_over_keys()?;
                    return Ok(HsStep::Done);
                }
                HsStep::NeedInput | HsStep::Closed => return Ok(step),
            }
        }
    }

    /// One rustls step over `inbuf[in_start..in_end]`.
    fn handshake_step(&mut self) -> Result<HsStep, TlsStreamError> {
        let Phase::Handshake(conn) = &mut self.phase else {
            return Ok(HsStep::Done);
        };
        let status = conn.process_tls_records(&mut self.inbuf[self.in_start..self.in_end]);
        let discard = status.discard;
        let step = match status.state.map_err(TlsStreamError::Handshake)? {
            ConnectionState::EncodeTlsData(mut e) => {
                if self.out_start == self.out_end {
                    self.out_start = 0;
                    self.out_end = 0;
                }
                let n = e
                    .encode(&mut self.outbuf[self.out_end..])
                    .map_err(|_| TlsStreamError::OutputFull)?;
                self.out_end += n;
                HsStep::Again
            }
            ConnectionState::TransmitTlsData(t) => {
                // The flight already sits in `outbuf`.
                t.done();
                HsStep::Transmit
            }
            ConnectionState::ReadTraffic(mut r) => {
                // Application data in the same flight as the end of the handshake: rustls
                // has decrypted it into its own buffer; keep it for `read`.
                while let Some(rec) = r.next_record() {
                    let rec = rec.map_err(TlsStreamError::Handshake)?;
                    self.early.extend_from_slice(rec.payload);
                }
                HsStep::Again
            }
            ConnectionState::BlockedHandshake => HsStep::NeedInput,
            ConnectionState::WriteTraffic(_) => HsStep::Done,
            ConnectionState::PeerClosed | ConnectionState::Closed => {
                self.peer_closed = true;
                HsStep::Closed
            }
            _ => {
                return Err(TlsStreamError::Handshake(rustls::Error::General(
                    "unexpected TLS connection state during the handshake".into(),
                )))
            }
        };
        self.in_start += discard;
        Ok(step)
    }

    /// Swaps rustls's connection for its kernel connection and our record layer.
    fn take_over_keys(&mut self) -> Result<(), TlsStreamError> {
        let Phase::Handshake(conn) = std::mem::replace(&mut self.phase, Phase::Failed) else {
            return Ok(());
        };
        let (secrets, kernel) = (*conn)
            .dangerous_into_kernel_connection()
            .map_err(TlsStreamError::SecretExtraction)?;
        let version = match kernel.protocol_version() {
            ProtocolVersion::TLSv1_3 => TlsVersion::Tls13,
            ProtocolVersion::TLSv1_2 => TlsVersion::Tls12,
            _ => return Err(TlsRecordError::UnsupportedCipherSuite.into()),
        };
        let records = RecordLayer::try_new(version, &secrets)?;
        self.phase = Phase::Traffic {
            kernel: Box::new(kernel),
            records,
        };
        Ok(())
    }

    /// Opens the next complete record in `inbuf`, if any; returns false when more input is
    /// needed.
    fn next_record(&mut self) -> io::Result<bool> {
        let Phase::Traffic { records, .. } = &mut self.phase else {
            return Ok(false);
        };
        let avail = &mut self.inbuf[self.in_start..self.in_end];
        let Some(len) = records.record_len(avail)? else {
            return Ok(false);
        };
        let opened = records.open(&mut avail[..len])?;
        let start = self.in_start + opened.start;
        let end = self.in_start + opened.end;
        self.in_start += len;
        match opened.content_type {
            APPLICATION_DATA => {
                self.plain_start = start;
                self.plain_end = end;
            }
            ALERT => self.on_alert(start, end)?,
            HANDSHAKE => self.on_handshake(start, end)?,
            t => return Err(TlsRecordError::UnexpectedContentType(t).into()),
        }
        Ok(true)
    }

    fn on_alert(&mut self, start: usize, end: usize) -> io::Result<()> {
        let &[_level, description] = &self.inbuf[start..end] else {
            return Err(TlsRecordError::BadRecord("alert is not two bytes").into());
        };
        if description != CLOSE_NOTIFY {
            return Err(TlsRecordError::Alert(description).into());
        }
        self.peer_closed = true;
        // Answer in kind, best effort: the caller drops the connection next.
        let _ = self.send_close_notify();
        Ok(())
    }

    fn on_handshake(&mut self, start: usize, end: usize) -> io::Result<()> {
        if start == end {
            return Err(TlsRecordError::BadRecord("empty handshake record").into());
        }
        if self.hs_msg.len() + (end - start) > MAX_HANDSHAKE_MESSAGE {
            return Err(TlsRecordError::BadRecord("handshake message too long").into());
        }
        self.hs_msg.extend_from_slice(&self.inbuf[start..end]);
        let mut at = 0;
        while let Some(&[typ, a, b, c]) = self.hs_msg.get(at..at + 4) {
            let len = u32::from_be_bytes([0, a, b, c]) as usize;
            let Some(body) = self.hs_msg.get(at + 4..at + 4 + len) else {
                break;
            };
            let Phase::Traffic { kernel, records } = &mut self.phase else {
                return Ok(());
            };
            let tls13 = records.version() == TlsVersion::Tls13;
            match typ {
                HS_NEW_SESSION_TICKET if tls13 => kernel
                    .handle_new_session_ticket(body)
                    .map_err(TlsStreamError::SessionTicket)?,
                HS_KEY_UPDATE if tls13 => {
                    let &[request] = body else {
                        return Err(TlsRecordError::BadRecord("bad KeyUpdate length").into());
                    };
                    if request > 1 {
                        return Err(TlsRecordError::BadRecord("bad KeyUpdate request").into());
                    }
                    if at + 4 + len != self.hs_msg.len() {
                        // RFC 8446 §5.1: a KeyUpdate ends its record.
                        return Err(TlsRecordError::BadRecord("KeyUpdate not at record end").into());
                    }
                    let (seq, secrets) = kernel
                        .update_rx_secret()
                        .map_err(TlsStreamError::KeyUpdate)?;
                    records.set_rx(seq, &secrets)?;
                    if request == 1 {
                        self.answer_key_update()?;
                    }
                }
                // TLS 1.2 renegotiation request: declined by ignoring it (RFC 5246 §7.4.1.1).
                HS_HELLO_REQUEST if !tls13 && len == 0 => {}
                t => return Err(TlsRecordError::UnexpectedHandshake(t).into()),
            }
            at += 4 + len;
        }
        self.hs_msg.drain(..at);
        Ok(())
    }

    /// Sends our KeyUpdate (update_not_requested) under the old key, then switches the send
    /// key (RFC 8446 §4.6.3).
    fn answer_key_update(&mut self) -> io::Result<()> {
        self.seal_control(HANDSHAKE, &[HS_KEY_UPDATE, 0, 0, 1, 0])?;
        let Phase::Traffic { kernel, records } = &mut self.phase else {
            return Ok(());
        };
        let (seq, secrets) = kernel
            .update_tx_secret()
            .map_err(TlsStreamError::KeyUpdate)?;
        records.set_tx(seq, &secrets)?;
        self.send_out()
    }

    /// Seals a small control record into the output buffer (using the reserve).
    fn seal_control(&mut self, typ: u8, plain: &[u8]) -> Result<(), TlsRecordError> {
        let Phase::Traffic { records, .. } = &mut self.phase else {
            return Ok(());
        };
        if self.out_start > 0 {
            self.outbuf.copy_within(self.out_start..self.out_end, 0);
            self.out_end -= self.out_start;
            self.out_start = 0;
        }
        let n = records.seal(typ, plain, &mut self.outbuf[self.out_end..])?;
        self.out_end += n;
        Ok(())
    }

    /// Reads ciphertext from the stream; returns false at end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        if self.in_start == self.in_end && self.plain_start == self.plain_end {
            self.in_start = 0;
            self.in_end = 0;
        } else if IN_CAP - self.in_end < MAX_RECORD && self.plain_start == self.plain_end {
            // Move the partial record to the front; its bytes are untouched ciphertext
            // (rustls's handshake positions are relative to `in_start` and survive too).
            self.inbuf.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
        if self.in_end == IN_CAP {
            return Err(TlsRecordError::BadRecord("record larger than the input buffer").into());
        }
        loop {
            match self.sock.read(&mut self.inbuf[self.in_end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.in_end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends queued ciphertext until done or the stream would block.
    fn send_out(&mut self) -> io::Result<()> {
        while self.out_start < self.out_end {
            match self.sock.write(&self.outbuf[self.out_start..self.out_end]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out_start = 0;
        self.out_end = 0;
        Ok(())
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
