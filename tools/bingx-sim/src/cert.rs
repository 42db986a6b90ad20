//! The simulator's self-signed TLS certificate, built by hand: an ECDSA P-256 key from `ring`
//! and a minimal X.509 v3 certificate in DER (RFC 5280), signed with ECDSA-SHA256.
//!
//! Consumes the names the certificate must cover (DNS names and IP addresses); produces the
//! certificate (DER and PEM) and its PKCS#8 private key, ready for a rustls `ServerConfig`.
//! A certificate generator crate is deliberately not used: the engine binary links this crate
//! for `trading-engine demo`, and this keeps such a dependency out of the engine's tree.
//!
//! The certificate: version 3, a random positive 127-bit serial, issuer = subject =
//! `CN=bingx-sim self-signed`, valid from 1975-01-01 to 9999-12-31 (RFC 5280's "no well-defined
//! expiration"), the subject's P-256 public key, and one extension, subjectAltName, listing
//! the names. No basicConstraints and no extended key usage, so webpki accepts it both as the
//! trust anchor a client loads and as the server's end-entity certificate.

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use std::fmt;
use std::net::IpAddr;

/// DER of the OID 1.2.840.10045.4.3.2 (ecdsa-with-SHA256).
const OID_ECDSA_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02];
/// DER of the OID 1.2.840.10045.2.1 (id-ecPublicKey).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// DER of the OID 1.2.840.10045.3.1.7 (prime256v1, the P-256 curve).
const OID_P256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// DER of the OID 2.5.4.3 (id-at-commonName).
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// DER of the OID 2.5.29.17 (id-ce-subjectAltName).
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1D, 0x11];

/// Common name of the issuer and subject.
const COMMON_NAME: &str = "bingx-sim self-signed";
/// notBefore, UTCTime (1975-01-01 00:00:00 UTC).
const NOT_BEFORE: &str = "750101000000Z";
/// notAfter, GeneralizedTime (9999-12-31 23:59:59 UTC).
const NOT_AFTER: &str = "99991231235959Z";

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTF8_STRING: u8 = 0x0C;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
/// `[0] EXPLICIT` (the TBSCertificate version).
const TAG_CONTEXT_0: u8 = 0xA0;
/// `[3] EXPLICIT` (the TBSCertificate extensions).
const TAG_CONTEXT_3: u8 = 0xA3;
/// GeneralName `dNSName [2] IA5String`.
const TAG_SAN_DNS: u8 = 0x82;
/// GeneralName `iPAddress [7] OCTET STRING`.
const TAG_SAN_IP: u8 = 0x87;

/// Why the certificate could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// The system random generator failed (serial number or key generation).
    Random,
    /// The generated key was refused by `ring` (the reason it gives).
    Key(String),
    /// Signing the certificate failed.
    Sign,
    /// A DNS name is empty or not printable ASCII.
    BadName(String),
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Random => f.write_str("the system random generator failed"),
            Self::Key(why) => write!(f, "the generated P-256 key was refused: {why}"),
            Self::Sign => f.write_str("signing the certificate failed"),
            Self::BadName(n) => write!(f, "{n:?} is not a DNS name (printable ASCII)"),
        }
    }
}

impl std::error::Error for CertError {}

/// A self-signed certificate and its private key.
#[derive(Clone)]
pub struct SelfSigned {
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
}

impl fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfSigned")
            .field("cert_der_bytes", &self.cert_der.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl SelfSigned {
    /// Returns the certificate as PEM (`-----BEGIN CERTIFICATE-----`, 64-column base64).
    #[must_use]
    pub fn cert_pem(&self) -> String {
        let b64 = base64(&self.cert_der);
        let mut pem = String::with_capacity(b64.len() + b64.len() / 64 + 64);
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }
}

/// Generates a fresh key pair and a self-signed certificate whose subjectAltName lists
/// `dns_names` and `ips`.
///
/// # Errors
/// [`CertError`] when a name is not printable ASCII or `ring` fails.
pub fn self_signed(dns_names: &[&str], ips: &[IpAddr]) -> Result<SelfSigned, CertError> {
    for name in dns_names {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CertError::BadName((*name).to_owned()));
        }
    }
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| CertError::Random)?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|e| CertError::Key(e.to_string()))?;
    let mut serial = [0u8; 16];
    rng.fill(&mut serial).map_err(|_| CertError::Random)?;
    // Positive (top bit clear) and minimal (first byte non-zero) as DER requires.
    serial[0] = (serial[0] & 0x7F) | 0x40;

    let algorithm = tlv(TAG_SEQUENCE, &tlv(TAG_OID, OID_ECDSA_SHA256));
    let name = tlv(
        TAG_SEQUENCE,
        &tlv(
            TAG_SET,
            &tlv(
                TAG_SEQUENCE,
                &[
                    tlv(TAG_OID, OID_COMMON_NAME),
                    tlv(TAG_UTF8_STRING, COMMON_NAME.as_bytes()),
                ]
                .concat(),
            ),
        ),
    );
    let validity = tlv(
        TAG_SEQUENCE,
        &[
            tlv(TAG_UTC_TIME, NOT_BEFORE.as_bytes()),
            tlv(TAG_GENERALIZED_TIME, NOT_AFTER.as_bytes()),
        ]
        .concat(),
    );
    let spki = tlv(
        TAG_SEQUENCE,
        &[
            tlv(
                TAG_SEQUENCE,
                &[tlv(TAG_OID, OID_EC_PUBLIC_KEY), tlv(TAG_OID, OID_P256)].concat(),
            ),
            bit_string(key.public_key().as_ref()),
        ]
        .concat(),
    );
    let mut names = Vec::new();
    for n in dns_names {
        names.extend(tlv(TAG_SAN_DNS, n.as_bytes()));
    }
    for ip in ips {
        match ip {
            IpAddr::V4(v4) => names.extend(tlv(TAG_SAN_IP, &v4.octets())),
            IpAddr::V6(v6) => names.extend(tlv(TAG_SAN_IP, &v6.octets())),
        }
    }
    let san = tlv(
        TAG_SEQUENCE,
        &[
            tlv(TAG_OID, OID_SUBJECT_ALT_NAME),
            tlv(TAG_OCTET_STRING, &tlv(TAG_SEQUENCE, &names)),
        ]
        .concat(),
    );
    let extensions = tlv(TAG_CONTEXT_3, &tlv(TAG_SEQUENCE, &san));
    let tbs = tlv(
        TAG_SEQUENCE,
        &[
            tlv(TAG_CONTEXT_0, &tlv(TAG_INTEGER, &[2])),
            tlv(TAG_INTEGER, &serial),
            algorithm.clone(),
            name.clone(),
            validity,
            name,
            spki,
            extensions,
        ]
        .concat(),
    );
    let signature = key.sign(&rng, &tbs).map_err(|_| CertError::Sign)?;
    let cert_der = tlv(
        TAG_SEQUENCE,
        &[tbs, algorithm, bit_string(signature.as_ref())].concat(),
    );
    Ok(SelfSigned {
        cert_der,
        key_pkcs8_der: pkcs8.as_ref().to_vec(),
    })
}

/// Returns the DER encoding of `tag`, the definite length of `content`, then `content`.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Returns a DER BIT STRING of whole bytes (no unused bits).
fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &content)
}

/// Returns the standard base64 (RFC 4648, padded) of `bytes`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3F) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "cert_tests.rs"]
mod tests;
