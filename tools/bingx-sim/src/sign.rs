//! Request-signature verification, written from the protocol document (§3.4) and independent
//! of the engine's signing client so that the two cross-check each other.
//!
//! Consumes the raw query string and raw body exactly as received; produces accept/reject.
//! Never logs or returns the secret or the expected signature.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignError {
    /// No `signature` parameter anywhere (BingX code 100412).
    Missing,
    /// The signature does not match the parameter string (BingX code 100001).
    Mismatch,
}

impl SignError {
    /// Returns the BingX business code for this failure.
    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            Self::Missing => 100_412,
            Self::Mismatch => 100_001,
        }
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("Signature is empty"),
            Self::Mismatch => {
                f.write_str("Signature verification failed due to signature mismatch")
            }
        }
    }
}

impl std::error::Error for SignError {}

/// The request body as it takes part in the signed string.
#[derive(Debug, Clone, Copy)]
pub enum SignedBody<'a> {
    /// No body (the recommended form: everything in the query string).
    Empty,
    /// An `application/x-www-form-urlencoded` body, raw bytes as received.
    Form(&'a str),
    /// A JSON object body; its pairs are signed sorted a-z as `k=v&...`.
    Json(&'a serde_json::Map<String, serde_json::Value>),
}

/// Verifies request signatures with one HMAC-SHA256 key, keyed once at start-up.
#[derive(Clone)]
pub struct Verifier {
    mac: HmacSha256,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier { secret: <redacted> }")
    }
}

/// Splits `raw` (`a=1&signature=..&b=2`) into the remainder without the signature pair and
/// the signature value, keeping the order of the other pairs byte for byte.
fn take_signature(raw: &str) -> (String, Option<String>) {
    let mut rest: Vec<&str> = Vec::new();
    let mut sig = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        match pair.strip_prefix("signature=") {
            Some(v) => sig = Some(v.to_owned()),
            None => rest.push(pair),
        }
    }
    (rest.join("&"), sig)
}

fn json_value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Verifier {
    /// Returns a verifier keyed with `secret`.
    #[must_use]
    pub fn new(secret: &str) -> Self {
        // HMAC accepts keys of any length, so this never fails; fall back to an empty key
        // rather than panicking to keep the error path total.
        let mac = HmacSha256::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()));
        Self { mac }
    }

    /// Returns the lower-case hex HMAC of `message` (used by tests and by the doc vectors).
    #[must_use]
    pub fn sign_hex(&self, message: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(message.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks the signature of a request: the raw query without its `signature` pair,
    /// followed directly (no separator) by the body's signed form.
    ///
    /// # Errors
    /// [`SignError::Missing`] when no `signature` is present, [`SignError::Mismatch`] when
    /// it is not the HMAC of the parameter string (compared in constant time).
    pub fn verify(&self, raw_query: &str, body: SignedBody<'_>) -> Result<(), SignError> {
        let (query_rest, query_sig) = take_signature(raw_query);
        let (body_text, body_sig) = match body {
            SignedBody::Empty => (String::new(), None),
            SignedBody::Form(raw) => take_signature(raw),
            SignedBody::Json(map) => {
                let mut keys: Vec<&String> = map.keys().filter(|k| *k != "signature").collect();
                keys.sort();
                let text = keys
                    .iter()
                    .map(|k| format!("{k}={}", json_value_text(&map[*k])))
                    .collect::<Vec<_>>()
                    .join("&");
                (text, map.get("signature").map(json_value_text))
            }
        };
        let sig = query_sig.or(body_sig).ok_or(SignError::Missing)?;
        if sig.is_empty() {
            return Err(SignError::Missing);
        }
        let expected = decode_hex(&sig).ok_or(SignError::Mismatch)?;
        let mut mac = self.mac.clone();
        mac.update(query_rest.as_bytes());
        mac.update(body_text.as_bytes());
        mac.verify_slice(&expected).map_err(|_| SignError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    #[test]
    fn doc_vectors_reproduce() {
        let official = Verifier::new(
            "mheO6dR8ovSsxZQCOYEFCtelpuxcWGTfHw7te326y6jOwq5WpvFQ9JNljoTwBXZGv5It07m9RXSPpDQEK2w",
        );
        assert_eq!(
            official.sign_hex("symbol=BTC-USDT&timestamp=1667872120843&side=LONG&leverage=6"),
            "4f581ecdb1fa09b9d6e57886b6f70cffed17f82b93399722939e49a38edec2bf"
        );
        let v1 = Verifier::new("test-secret-key-0001");
        assert_eq!(
            v1.sign_hex("symbol=BTC-USDT&timestamp=1700000000000"),
            "c0197aaa8c524a0107963ea6747206726c98987fec1a2c1406bd4bdc690bc675"
        );
        assert_eq!(
            v1.sign_hex("timestamp=1700000000000"),
            "0e062ac5d695393002a4b6a2e0bacebfb697ba02f24cd63c6a7b09f1d49a708b"
        );
    }

    #[test]
    fn query_signature_verifies_in_transmitted_order() {
        let v = Verifier::new(V3_SECRET);
        let sorted = "clientOrderID=mm-000001&positionSide=LONG&price=65000.5&quantity=0.0010&recvWindow=5000&side=BUY&symbol=BTC-USDT&timeInForce=GTC&timestamp=1700000000123&type=LIMIT";
        let q = format!(
            "{sorted}&signature=73a3478ff3fff3572af49101b03f21c14c2019e05ff74227a9f4d522967b7115"
        );
        assert_eq!(v.verify(&q, SignedBody::Empty), Ok(()));
        let natural = "symbol=BTC-USDT&side=BUY&positionSide=LONG&type=LIMIT&quantity=0.0010&price=65000.5&timeInForce=GTC&clientOrderID=mm-000001&recvWindow=5000&timestamp=1700000000123";
        let q = format!(
            "{natural}&signature=2c2c782ec7d58f9de45eaf2f973bb502192a9ed61ee2eb61068eedd41815a891"
        );
        assert_eq!(v.verify(&q, SignedBody::Empty), Ok(()));
        // The sorted signature does not verify the natural order.
        let q = format!(
            "{natural}&signature=73a3478ff3fff3572af49101b03f21c14c2019e05ff74227a9f4d522967b7115"
        );
        assert_eq!(v.verify(&q, SignedBody::Empty), Err(SignError::Mismatch));
    }

    #[test]
    fn signature_may_sit_anywhere_and_body_is_appended_without_separator() {
        let v = Verifier::new(
            "mheO6dR8ovSsxZQCOYEFCtelpuxcWGTfHw7te326y6jOwq5WpvFQ9JNljoTwBXZGv5It07m9RXSPpDQEK2w",
        );
        let q = "symbol=BTC-USDT&timestamp=1668159715051";
        let body = "side=LONG&leverage=6&signature=8b756b01e7a30f02e19c58a91ab01b29528694316b08a51ecb8dd072942bd47d";
        assert_eq!(v.verify(q, SignedBody::Form(body)), Ok(()));
        let v4 = Verifier::new(V3_SECRET);
        let q = "signature=1dc110af6a4cc872c7c3a6177b6848360afe9fb0c8ab522b3ef055e566cceb92&orderId=1736011869418901234&symbol=BTC-USDT&timestamp=1700000000456";
        assert_eq!(v4.verify(q, SignedBody::Empty), Ok(()));
    }

    #[test]
    fn json_body_is_signed_sorted() {
        let v = Verifier::new(V3_SECRET);
        let json: serde_json::Value = serde_json::json!({
            "timestamp": 1_700_000_000_789_i64, "symbol": "BTC-USDT", "side": "LONG", "leverage": 10,
            "signature": "e08cbd78ab60f990621fc79f88cf0cd1feee9b8e555ac6be000b4c082a1c3857"
        });
        let map = json.as_object().unwrap();
        assert_eq!(v.verify("", SignedBody::Json(map)), Ok(()));
    }

    #[test]
    fn missing_wrong_and_malformed_signatures_are_refused() {
        let v = Verifier::new("test-secret-key-0001");
        assert_eq!(
            v.verify("symbol=BTC-USDT&timestamp=1700000000000", SignedBody::Empty),
            Err(SignError::Missing)
        );
        assert_eq!(
            v.verify("timestamp=1700000000000&signature=", SignedBody::Empty),
            Err(SignError::Missing)
        );
        assert_eq!(
            v.verify("timestamp=1700000000000&signature=zz", SignedBody::Empty),
            Err(SignError::Mismatch)
        );
        let wrong = Verifier::new("other-secret").sign_hex("timestamp=1700000000000");
        assert_eq!(
            v.verify(
                &format!("timestamp=1700000000000&signature={wrong}"),
                SignedBody::Empty
            ),
            Err(SignError::Mismatch)
        );
        assert_eq!(SignError::Missing.code(), 100_412);
        assert_eq!(SignError::Mismatch.code(), 100_001);
        assert!(!format!("{v:?}").contains("test-secret"));
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_any_signed_query_verifies_and_any_change_breaks_it(
            pairs in proptest::collection::vec(("[a-zA-Z]{1,8}", "[A-Za-z0-9._-]{0,12}"), 1..8),
            flip in any::<proptest::sample::Index>(),
        ) {
            let v = Verifier::new("prop-secret");
            let q = pairs.iter().map(|(k, val)| format!("{k}={val}")).collect::<Vec<_>>().join("&");
            let sig = v.sign_hex(&q);
            prop_assert_eq!(v.verify(&format!("{q}&signature={sig}"), SignedBody::Empty), Ok(()));
            let mut bytes = q.clone().into_bytes();
            let i = flip.index(bytes.len());
            bytes[i] = if bytes[i] == b'x' { b'y' } else { b'x' };
            let changed = String::from_utf8(bytes).unwrap();
            if changed != q && !changed.contains("signature=") {
                prop_assert_eq!(v.verify(&format!("{changed}&signature={sig}"), SignedBody::Empty), Err(SignError::Mismatch));
            }
        }
    }
}
