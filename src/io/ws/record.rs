//! The TLS record layer of `wss://` connections after the handshake: AEAD protection of
//! TLS 1.3 and TLS 1.2 records with traffic keys taken from rustls.
//!
//! Consumes the traffic secrets and sequence numbers rustls hands over after its handshake
//! ([`rustls::ExtractedSecrets`], AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305) and complete
//! records in caller-owned buffers; produces plaintext decrypted in place (content type and
//! the plaintext's range inside the record) and sealed records written into a caller-owned
//! output buffer. Never allocates, never copies a record beyond the one move of the
//! plaintext into the output on sealing, never blocks and never logs: it runs per record on
//! the hot thread.
//!
//! Record formats (RFC 8446 §5.2, RFC 5246 §6.2.3.3, RFC 5288, RFC 7905):
//! - TLS 1.3: nonce = iv XOR sequence number, additional data = the 5-byte record header,
//!   plaintext = content, one content-type byte, zero padding.
//! - TLS 1.2 AES-GCM: 8 explicit nonce bytes after the header (nonce = 4-byte salt then the
//!   explicit bytes), additional data = seq | type | version | plaintext length.
//! - TLS 1.2 ChaCha20-Poly1305: nonce = iv XOR sequence number, same additional data.

use core::fmt;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use rustls::{ConnectionTrafficSecrets, ExtractedSecrets};

/// Length of a record header: type, version (2 bytes), length (2 bytes).
pub const HEADER_LEN: usize = 5;
/// Largest plaintext of one record (2^14 bytes).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// Largest protected payload of a TLS 1.3 record (2^14 + 256).
pub const MAX_CIPHERTEXT_13: usize = MAX_PLAINTEXT + 256;
/// Largest protected payload of a TLS 1.2 record (2^14 + 2048).
pub const MAX_CIPHERTEXT_12: usize = MAX_PLAINTEXT + 2048;
/// Largest complete record on the wire, header included, in either version.
pub const MAX_RECORD: usize = HEADER_LEN + MAX_CIPHERTEXT_12;
/// Largest number of bytes [`RecordLayer::seal`] adds to a plaintext.
pub const MAX_OVERHEAD: usize = HEADER_LEN + GCM_EXPLICIT_LEN + TAG_LEN + 1;

const TAG_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const GCM_EXPLICIT_LEN: usize = 8;

/// `change_cipher_spec` content type.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
/// `alert` content type.
pub const ALERT: u8 = 21;
/// `handshake` content type.
pub const HANDSHAKE: u8 = 22;
/// `application_data` content type.
pub const APPLICATION_DATA: u8 = 23;

/// Why a record could not be opened or sealed (small and `Copy`: raised on the hot thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRecordError {
    /// The record failed authentication: corrupted, forged, or protected with another key.
    BadMac,
    /// The record is malformed; the reason says how.
    BadRecord(&'static str),
    /// A record (or inner content) type that is not allowed after the handshake.
    UnexpectedContentType(u8),
    /// A post-handshake handshake message this client does not accept.
    UnexpectedHandshake(u8),
    /// The peer sent an alert other than `close_notify`; the value is its description.
    Alert(u8),
    /// rustls negotiated a cipher suite this record layer does not implement.
    UnsupportedCipherSuite,
    /// The 64-bit record sequence number is exhausted.
    SequenceExhausted,
    /// The output buffer has no room for the sealed record.
    OutputFull,
}

impl fmt::Display for TlsRecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMac => f.write_str("TLS record failed authentication (bad record MAC)"),
            Self::BadRecord(why) => write!(f, "malformed TLS record: {why}"),
            Self::UnexpectedContentType(t) => write!(f, "unexpected TLS content type {t}"),
            Self::UnexpectedHandshake(t) => {
                write!(
                    f,
                    "unexpected post-handshake TLS handshake message type {t}"
                )
            }
            Self::Alert(d) => write!(f, "peer sent TLS alert {d}"),
            Self::UnsupportedCipherSuite => f.write_str("unsupported TLS cipher suite"),
            Self::SequenceExhausted => f.write_str("TLS record sequence number exhausted"),
            Self::OutputFull => f.write_str("no room for the TLS record in the output buffer"),
        }
    }
}

impl std::error::Error for TlsRecordError {}

/// The protocol version whose record format applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

/// The AEAD family, which decides the TLS 1.2 nonce construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Gcm,
    ChaCha,
}

/// The key, static IV and next sequence number of one direction.
struct DirectionKeys {
    key: LessSafeKey,
    /// For TLS 1.2 GCM: 4 salt bytes then the 8 explicit-nonce base bytes.
    iv: [u8; NONCE_LEN],
    /// Sequence number of the next record; written only by open/seal and key changes.
    seq: u64,
    family: Family,
}

impl fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("DirectionKeys")
            .field("family", &self.family)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl DirectionKeys {
    fn try_new(seq: u64, secrets: &ConnectionTrafficSecrets) -> Result<Self, TlsRecordError> {
        let (alg, key, iv, family) = match secrets {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => {
                (&aead::AES_128_GCM, key, iv, Family::Gcm)
            }
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => {
                (&aead::AES_256_GCM, key, iv, Family::Gcm)
            }
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
                (&aead::CHACHA20_POLY1305, key, iv, Family::ChaCha)
            }
            _ => return Err(TlsRecordError::UnsupportedCipherSuite),
        };
        Self::from_raw(alg, family, key.as_ref(), iv.as_ref(), seq)
    }

    fn from_raw(
        alg: &'static aead::Algorithm,
        family: Family,
        key: &[u8],
        iv: &[u8],
        seq: u64,
    ) -> Result<Self, TlsRecordError> {
        let unbound =
            UnboundKey::new(alg, key).map_err(|_| TlsRecordError::UnsupportedCipherSuite)?;
        let iv: [u8; NONCE_LEN] = iv
            .try_into()
            .map_err(|_| TlsRecordError::UnsupportedCipherSuite)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            iv,
            seq,
            family,
        })
    }

    /// Returns iv XOR the big-endian sequence number (RFC 8446 §5.3, RFC 7905 §2).
    fn xor_nonce(&self) -> [u8; NONCE_LEN] {
        let mut n = self.iv;
        for (b, s) in n[NONCE_LEN - 8..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    fn advance(&mut self) -> Result<(), TlsRecordError> {
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or(TlsRecordError::SequenceExhausted)?;
        Ok(())
    }
}

/// Where an opened record's plaintext lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// The (inner, for TLS 1.3) content type.
    pub content_type: u8,
    /// Offset of the first plaintext byte from the start of the record.
    pub start: usize,
    /// Offset one past the last plaintext byte from the start of the record.
    pub end: usize,
}

/// Both directions' keys of one connection and the record format of its version.
#[derive(Debug)]
pub struct RecordLayer {
    version: TlsVersion,
    rx: DirectionKeys,
    tx: DirectionKeys,
}

impl RecordLayer {
    /// Builds the record layer from the secrets rustls extracted after the handshake.
    ///
    /// # Errors
    /// [`TlsRecordError::UnsupportedCipherSuite`] for a suite other than AES-128-GCM,
    /// AES-256-GCM or ChaCha20-Poly1305.
    pub fn try_new(
        version: TlsVersion,
        secrets: &ExtractedSecrets,
    ) -> Result<Self, TlsRecordError> {
        Ok(Self {
            version,
            rx: DirectionKeys::try_new(secrets.rx.0, &secrets.rx.1)?,
            tx: DirectionKeys::try_new(secrets.tx.0, &secrets.tx.1)?,
        })
    }

    /// Returns the record format in use.
    #[must_use]
    pub fn version(&self) -> TlsVersion {
        self.version
    }

    /// Returns the sequence numbers of the next received and the next sent record.
    #[must_use]
    pub fn sequence_numbers(&self) -> (u64, u64) {
        (self.rx.seq, self.tx.seq)
    }

    /// Replaces the receive key (after a TLS 1.3 KeyUpdate from the peer).
    ///
    /// # Errors
    /// [`TlsRecordError::UnsupportedCipherSuite`] as for [`RecordLayer::try_new`].
    pub fn set_rx(
        &mut self,
        seq: u64,
        secrets: &ConnectionTrafficSecrets,
    ) -> Result<(), TlsRecordError> {
        self.rx = DirectionKeys::try_new(seq, secrets)?;
        Ok(())
    }

    /// Replaces the send key (after this side sent a TLS 1.3 KeyUpdate).
    ///
    /// # Errors
    /// [`TlsRecordError::UnsupportedCipherSuite`] as for [`RecordLayer::try_new`].
    pub fn set_tx(
        &mut self,
        seq: u64,
        secrets: &ConnectionTrafficSecrets,
    ) -> Result<(), TlsRecordError> {
        self.tx = DirectionKeys::try_new(seq, secrets)?;
        Ok(())
    }

    fn max_ciphertext(&self) -> usize {
        match self.version {
            TlsVersion::Tls13 => MAX_CIPHERTEXT_13,
            TlsVersion::Tls12 => MAX_CIPHERTEXT_12,
        }
    }

    /// Returns the length of the complete record at the front of `buf` (header included),
    /// or `None` when more bytes are needed to know it or to hold it.
    ///
    /// # Errors
    /// [`TlsRecordError::BadRecord`] for a header that no valid record has (wrong version
    /// major byte, length above the version's limit).
    pub fn record_len(&self, buf: &[u8]) -> Result<Option<usize>, TlsRecordError> {
        let Some(header) = buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        if header[1] != 3 {
            return Err(TlsRecordError::BadRecord("record version is not 3.x"));
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len > self.max_ciphertext() {
            return Err(TlsRecordError::BadRecord("record longer than the limit"));
        }
        let total = HEADER_LEN + len;
        Ok((buf.len() >= total).then_some(total))
    }

    /// Decrypts the complete record `rec` (header included, as measured by
    /// [`RecordLayer::record_len`]) in place and returns its content type and where its
    /// plaintext lies inside `rec`.
    ///
    /// # Errors
    /// [`TlsRecordError::BadMac`] when authentication fails, [`TlsRecordError::BadRecord`]
    /// for impossible lengths or a TLS 1.3 record without content type,
    /// [`TlsRecordError::UnexpectedContentType`] for an outer type not allowed after the
    /// handshake, [`TlsRecordError::SequenceExhausted`] after 2^64 records.
    pub fn open(&mut self, rec: &mut [u8]) -> Result<Opened, TlsRecordError> {
        if rec.len() < HEADER_LEN {
            return Err(TlsRecordError::BadRecord("record shorter than its header"));
        }
        let (header, body) = rec.split_at_mut(HEADER_LEN);
        if usize::from(u16::from_be_bytes([header[3], header[4]])) != body.len() {
            return Err(TlsRecordError::BadRecord(
                "record length does not match its header",
            ));
        }
        let outer = header[0];
        let opened = match self.version {
            TlsVersion::Tls13 => {
                if outer != APPLICATION_DATA {
                    return Err(TlsRecordError::UnexpectedContentType(outer));
                }
                if body.len() < TAG_LEN + 1 {
                    return Err(TlsRecordError::BadRecord("record shorter than its tag"));
                }
                let nonce = Nonce::assume_unique_for_key(self.rx.xor_nonce());
                let plain = self
                    .rx
                    .key
                    .open_in_place(nonce, Aad::from(&*header), body)
                    .map_err(|_| TlsRecordError::BadMac)?;
                // Inner plaintext: content, type byte, zero padding (RFC 8446 §5.4).
                let Some(type_at) = plain.iter().rposition(|&b| b != 0) else {
                    return Err(TlsRecordError::BadRecord(
                        "inner plaintext has no content type",
                    ));
                };
                if type_at > MAX_PLAINTEXT {
                    return Err(TlsRecordError::BadRecord("plaintext longer than 2^14"));
                }
                Opened {
                    content_type: plain[type_at],
                    start: HEADER_LEN,
                    end: HEADER_LEN + type_at,
                }
            }
            TlsVersion::Tls12 => {
                if !matches!(outer, ALERT | HANDSHAKE | APPLICATION_DATA) {
                    return Err(TlsRecordError::UnexpectedContentType(outer));
                }
                let explicit = match self.rx.family {
                    Family::Gcm => GCM_EXPLICIT_LEN,
                    Family::ChaCha => 0,
                };
                if body.len() < explicit + TAG_LEN {
                    return Err(TlsRecordError::BadRecord("record shorter than its tag"));
                }
                let plain_len = body.len() - explicit - TAG_LEN;
                if plain_len > MAX_PLAINTEXT {
                    return Err(TlsRecordError::BadRecord("plaintext longer than 2^14"));
                }
                let nonce = match self.rx.family {
                    Family::Gcm => {
                        let mut n = [0u8; NONCE_LEN];
                        n[..4].copy_from_slice(&self.rx.iv[..4]);
                        n[4..].copy_from_slice(&body[..GCM_EXPLICIT_LEN]);
                        n
                    }
                    Family::ChaCha => self.rx.xor_nonce(),
                };
                let aad = tls12_aad(self.rx.seq, outer, [header[1], header[2]], plain_len);
                self.rx
                    .key
                    .open_in_place(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(aad),
                        &mut body[explicit..],
                    )
                    .map_err(|_| TlsRecordError::BadMac)?;
                Opened {
                    content_type: outer,
                    start: HEADER_LEN + explicit,
                    end: HEADER_LEN + explicit + plain_len,
                }
            }
        };
        self.rx.advance()?;
        Ok(opened)
    }

    /// Seals `plain` (at most [`MAX_PLAINTEXT`] bytes) as one record of `content_type` at
    /// the start of `out` and returns the record's length.
    ///
    /// # Errors
    /// [`TlsRecordError::OutputFull`] when `out` is shorter than the record,
    /// [`TlsRecordError::BadRecord`] for an oversized plaintext,
    /// [`TlsRecordError::SequenceExhausted`] after 2^64 records.
    pub fn seal(
        &mut self,
        content_type: u8,
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<usize, TlsRecordError> {
        if plain.len() > MAX_PLAINTEXT {
            return Err(TlsRecordError::BadRecord("plaintext longer than 2^14"));
        }
        let n = plain.len();
        let total = HEADER_LEN + self.sealed_overhead() + n;
        let rec = out.get_mut(..total).ok_or(TlsRecordError::OutputFull)?;
        let (header, body) = rec.split_at_mut(HEADER_LEN);
        let body_len =
            u16::try_from(body.len()).map_err(|_| TlsRecordError::BadRecord("record too long"))?;
        let tag = match self.version {
            TlsVersion::Tls13 => {
                header.copy_from_slice(&[APPLICATION_DATA, 3, 3, 0, 0]);
                header[3..].copy_from_slice(&body_len.to_be_bytes());
                body[..n].copy_from_slice(plain);
                body[n] = content_type;
                let nonce = Nonce::assume_unique_for_key(self.tx.xor_nonce());
                self.tx
                    .key
                    .seal_in_place_separate_tag(nonce, Aad::from(&*header), &mut body[..=n])
                    .map_err(|_| TlsRecordError::BadRecord("sealing failed"))?
            }
            TlsVersion::Tls12 => {
                header.copy_from_slice(&[content_type, 3, 3, 0, 0]);
                header[3..].copy_from_slice(&body_len.to_be_bytes());
                let nonce = self.tx.xor_nonce();
                let explicit = match self.tx.family {
                    Family::Gcm => {
                        body[..GCM_EXPLICIT_LEN].copy_from_slice(&nonce[4..]);
                        GCM_EXPLICIT_LEN
                    }
                    Family::ChaCha => 0,
                };
                body[explicit..explicit + n].copy_from_slice(plain);
                let aad = tls12_aad(self.tx.seq, content_type, [3, 3], n);
                self.tx
                    .key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(aad),
                        &mut body[explicit..explicit + n],
                    )
                    .map_err(|_| TlsRecordError::BadRecord("sealing failed"))?
            }
        };
        let tag_at = body.len() - TAG_LEN;
        body[tag_at..].copy_from_slice(tag.as_ref());
        self.tx.advance()?;
        Ok(total)
    }

    /// Returns what sealing adds to a plaintext besides the header.
    fn sealed_overhead(&self) -> usize {
        match (self.version, self.tx.family) {
            (TlsVersion::Tls13, _) => 1 + TAG_LEN,
            (TlsVersion::Tls12, Family::Gcm) => GCM_EXPLICIT_LEN + TAG_LEN,
            (TlsVersion::Tls12, Family::ChaCha) => TAG_LEN,
        }
    }
}

/// TLS 1.2 additional data: seq_num | type | version | length (RFC 5246 §6.2.3.3).
fn tls12_aad(seq: u64, content_type: u8, version: [u8; 2], plain_len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8] = content_type;
    aad[9..11].copy_from_slice(&version);
    // plain_len <= 2^14 + 2048 was checked by the callers.
    aad[11..].copy_from_slice(&(plain_len as u16).to_be_bytes());
    aad
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
