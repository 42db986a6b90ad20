//! REST request signing for BingX: HMAC-SHA256 over the exact parameter string
//! that is transmitted, lower-case hex, appended as `signature` (protocol §3).
//!
//! Consumes the API secret once at start-up and parameter bytes per request;
//! produces a fixed 64-byte hex signature. The HMAC is keyed once (the keyed
//! state is cloned per request), nothing here allocates per request, and the
//! secret or key never appears in `Debug`, logs or errors.

use core::fmt;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Name of the HTTP header that carries the API key on private requests.
pub const API_KEY_HEADER: &str = "X-BX-APIKEY";

/// Length in bytes of a hex-encoded HMAC-SHA256 signature.
pub const SIGNATURE_HEX_LEN: usize = 64;

/// Error building a [`Signer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerError {
    /// The secret was empty.
    EmptySecret,
    /// The HMAC implementation refused the key length.
    InvalidKeyLength,
}

impl fmt::Display for SignerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("API secret is empty"),
            Self::InvalidKeyLength => f.write_str("API secret has a length HMAC-SHA256 refuses"),
        }
    }
}

impl std::error::Error for SignerError {}

/// A lower-case hex HMAC-SHA256 signature held in a fixed buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureHex([u8; SIGNATURE_HEX_LEN]);

impl SignatureHex {
    /// Returns the signature as ASCII bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; SIGNATURE_HEX_LEN] {
        &self.0
    }

    /// Returns the signature as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Every byte is from HEX_DIGITS, so this is always valid UTF-8.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for SignatureHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignatureHex({})", self.as_str())
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lower-case hex into `out` (which must be twice as long).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    debug_assert!(
        out.len() == 2 * bytes.len(),
        "Invariant: hex buffer is twice the input"
    );
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_DIGITS[usize::from(b >> 4)];
        pair[1] = HEX_DIGITS[usize::from(b & 0x0f)];
    }
}

/// HMAC-SHA256 signer keyed once with the API secret.
///
/// `Debug` never prints key material.
#[derive(Clone)]
pub struct Signer {
    keyed: Hmac<Sha256>,
}

impl Signer {
    /// Returns a signer keyed with `secret`.
    ///
    /// # Errors
    /// [`SignerError::EmptySecret`] when `secret` is empty.
    pub fn try_new(secret: &[u8]) -> Result<Self, SignerError> {
        if secret.is_empty() {
            return Err(SignerError::EmptySecret);
        }
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .map_err(|_| SignerError::InvalidKeyLength)?;
        Ok(Self { keyed })
    }

    /// Returns the lower-case hex HMAC-SHA256 of `message`. Clones the keyed
    /// state (a copy of two SHA-256 states, no allocation) instead of re-keying.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> SignatureHex {
        let mut mac = self.keyed.clone();
        mac.update(message);
        let digest = mac.finalize().into_bytes();
        let mut out = [0u8; SIGNATURE_HEX_LEN];
        hex_into(&digest, &mut out);
        SignatureHex(out)
    }

    /// Returns true when `hex` is the signature of `message`, compared in
    /// constant time.
    #[must_use]
    pub fn verify(&self, message: &[u8], hex: &[u8]) -> bool {
        let expected = self.sign(message);
        if hex.len() != SIGNATURE_HEX_LEN {
            return false;
        }
        let diff = expected
            .as_bytes()
            .iter()
            .zip(hex)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer { key: <redacted> }")
    }
}

/// The API key sent in the [`API_KEY_HEADER`] header. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Returns the key wrapper.
    #[must_use]
    pub fn new(key: String) -> Self {
        Self(key)
    }

    /// Returns the key text for the header.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_SECRET: &str =
        "mheO6dR8ovSsxZQCOYEFCtelpuxcWGTfHw7te326y6jOwq5WpvFQ9JNljoTwBXZGv5It07m9RXSPpDQEK2w";
    const V3_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    fn sign(secret: &str, message: &str) -> String {
        Signer::try_new(secret.as_bytes())
            .unwrap()
            .sign(message.as_bytes())
            .as_str()
            .to_owned()
    }

    #[test]
    fn official_v2_doc_vector() {
        assert_eq!(
            sign(
                DOC_SECRET,
                "symbol=BTC-USDT&timestamp=1667872120843&side=LONG&leverage=6"
            ),
            "4f581ecdb1fa09b9d6e57886b6f70cffed17f82b93399722939e49a38edec2bf"
        );
    }

    #[test]
    fn corrected_v3_site_vector() {
        assert_eq!(
            sign(
                DOC_SECRET,
                "recvWindow=0&symbol=BTC-USDT&timestamp=1696751141337"
            ),
            "f8d883609dfd31c824feb4de865b071008dedb1d461451fa70847875c8e7a7a2"
        );
    }

    #[test]
    fn split_query_and_body_vector() {
        assert_eq!(
            sign(
                DOC_SECRET,
                "symbol=BTC-USDT&timestamp=1668159715051side=LONG&leverage=6"
            ),
            "8b756b01e7a30f02e19c58a91ab01b29528694316b08a51ecb8dd072942bd47d"
        );
    }

    #[test]
    fn vector_v1_open_orders() {
        assert_eq!(
            sign(
                "test-secret-key-0001",
                "symbol=BTC-USDT&timestamp=1700000000000"
            ),
            "c0197aaa8c524a0107963ea6747206726c98987fec1a2c1406bd4bdc690bc675"
        );
    }

    #[test]
    fn vector_v2_balance() {
        assert_eq!(
            sign("test-secret-key-0001", "timestamp=1700000000000"),
            "0e062ac5d695393002a4b6a2e0bacebfb697ba02f24cd63c6a7b09f1d49a708b"
        );
    }

    #[test]
    fn vector_v3_sorted_limit_order() {
        assert_eq!(
            sign(V3_SECRET, "clientOrderID=mm-000001&positionSide=LONG&price=65000.5&quantity=0.0010&recvWindow=5000&side=BUY&symbol=BTC-USDT&timeInForce=GTC&timestamp=1700000000123&type=LIMIT"),
            "73a3478ff3fff3572af49101b03f21c14c2019e05ff74227a9f4d522967b7115"
        );
    }

    #[test]
    fn vector_v3b_natural_order_differs() {
        assert_eq!(
            sign(V3_SECRET, "symbol=BTC-USDT&side=BUY&positionSide=LONG&type=LIMIT&quantity=0.0010&price=65000.5&timeInForce=GTC&clientOrderID=mm-000001&recvWindow=5000&timestamp=1700000000123"),
            "2c2c782ec7d58f9de45eaf2f973bb502192a9ed61ee2eb61068eedd41815a891"
        );
    }

    #[test]
    fn vector_v4_cancel() {
        assert_eq!(
            sign(
                V3_SECRET,
                "orderId=1736011869418901234&symbol=BTC-USDT&timestamp=1700000000456"
            ),
            "1dc110af6a4cc872c7c3a6177b6848360afe9fb0c8ab522b3ef055e566cceb92"
        );
    }

    #[test]
    fn vector_v5_set_leverage() {
        assert_eq!(
            sign(
                V3_SECRET,
                "leverage=10&side=LONG&symbol=BTC-USDT&timestamp=1700000000789"
            ),
            "e08cbd78ab60f990621fc79f88cf0cd1feee9b8e555ac6be000b4c082a1c3857"
        );
    }

    #[test]
    fn vector_v6_raw_and_encoded_differ() {
        assert_eq!(
            sign(
                V3_SECRET,
                r#"symbol=BTC-USDT&stopLoss={"type":"STOP_MARKET","stopPrice":60000}&timestamp=1700000000999"#
            ),
            "ef5699597bad180983d869c834dd0327e08f01b88a70f5e6893743867080b444"
        );
        assert_eq!(
            sign(V3_SECRET, "symbol=BTC-USDT&stopLoss=%7B%22type%22%3A%22STOP_MARKET%22%2C%22stopPrice%22%3A60000%7D&timestamp=1700000000999"),
            "9410cd41bdd241ff567f6470418e156c9bee0cbff7581fb56306968c7a2ce083"
        );
    }

    #[test]
    fn verify_accepts_own_signature_and_rejects_a_flipped_digit() {
        let signer = Signer::try_new(b"k").unwrap();
        let sig = signer.sign(b"a=1");
        assert!(signer.verify(b"a=1", sig.as_bytes()));
        let mut bad = *sig.as_bytes();
        bad[10] = if bad[10] == b'0' { b'1' } else { b'0' };
        assert!(!signer.verify(b"a=1", &bad));
        assert!(!signer.verify(b"a=1", &bad[..63]));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let signer = Signer::try_new(V3_SECRET.as_bytes()).unwrap();
        let key = ApiKey::new("my-api-key-123".into());
        let text = format!("{signer:?} {key:?}");
        assert!(!text.contains("NhqP"));
        assert!(!text.contains("my-api-key"));
        assert!(text.contains("redacted"));
    }

    #[test]
    fn empty_secret_is_refused() {
        assert_eq!(Signer::try_new(b"").unwrap_err(), SignerError::EmptySecret);
    }

    #[test]
    fn signing_does_not_allocate() {
        let signer = Signer::try_new(V3_SECRET.as_bytes()).unwrap();
        let msg = b"clientOrderID=mm-000001&positionSide=LONG&price=65000.5&quantity=0.0010";
        let _ = signer.sign(msg);
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                core::hint::black_box(signer.sign(core::hint::black_box(msg)));
            }
        });
        assert_eq!(info.count_total, 0);
    }
}
