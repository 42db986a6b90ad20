//! The control token: read once from `TE_CONTROL_TOKEN`, kept only as its
//! SHA-256 digest, compared in constant time.
//!
//! Consumes the environment variable (or a test value) and the value of an
//! `Authorization` header; produces a yes/no. Never logs, prints or keeps
//! the token in clear: `Debug` shows `***redacted***`, and comparing
//! digests of equal length makes the time independent of where the
//! presented token first differs and of its length.

use sha2::{Digest, Sha256};
use std::fmt;

/// Environment variable holding the control token.
pub const TOKEN_VAR: &str = "TE_CONTROL_TOKEN";

/// The expected control token (its digest).
#[derive(Clone)]
pub struct ControlToken {
    /// SHA-256 of the token bytes.
    digest: [u8; 32],
}

impl fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ControlToken(***redacted***)")
    }
}

/// Returns SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl ControlToken {
    /// Returns the token `token`, or `None` when it is empty (an empty
    /// token would let an empty `Bearer` header in).
    #[must_use]
    pub fn new(token: &str) -> Option<Self> {
        (!token.is_empty()).then(|| Self {
            digest: sha256(token.as_bytes()),
        })
    }

    /// Reads the token from `TE_CONTROL_TOKEN`; `None` when the variable
    /// is unset, empty or not UTF-8 (control commands are then refused).
    #[must_use]
    pub fn from_env() -> Option<Self> {
        std::env::var(TOKEN_VAR).ok().and_then(|t| Self::new(&t))
    }

    /// Returns true when `presented` is the token, in time independent
    /// of the contents and length of `presented`.
    #[must_use]
    pub fn matches(&self, presented: &[u8]) -> bool {
        let other = sha256(presented);
        // Fold every byte difference, no early exit.
        let diff = self
            .digest
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }

    /// Returns true when `header` (an `Authorization` value) is
    /// `Bearer <token>` (scheme case-insensitive) with the right token.
    #[must_use]
    pub fn authorizes(&self, header: Option<&[u8]>) -> bool {
        let Some(value) = header else {
            return false;
        };
        let value = value.trim_ascii();
        if value.len() < 7 || !value[..7].eq_ignore_ascii_case(b"bearer ") {
            return false;
        }
        self.matches(value[7..].trim_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_with_the_token_is_accepted() {
        let t = ControlToken::new("s3cret-token").unwrap();
        assert!(t.authorizes(Some(b"Bearer s3cret-token")));
        assert!(t.authorizes(Some(b"bearer s3cret-token")));
        assert!(t.authorizes(Some(b"  BEARER   s3cret-token ")));
    }

    #[test]
    fn wrong_missing_or_malformed_credentials_are_rejected() {
        let t = ControlToken::new("s3cret-token").unwrap();
        for bad in [
            None,
            Some(&b""[..]),
            Some(b"Bearer"),
            Some(b"Bearer "),
            Some(b"Bearer s3cret-tokeN"),
            Some(b"Bearer s3cret-token2"),
            Some(b"Bearer s3cret"),
            Some(b"Basic s3cret-token"),
            Some(b"s3cret-token"),
        ] {
            assert!(!t.authorizes(bad), "{bad:?}");
        }
    }

    #[test]
    fn empty_token_is_no_token() {
        assert!(ControlToken::new("").is_none());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = ControlToken::new("s3cret-token").unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
