//! SHA-256 checks of downloaded archives against their published
//! `.zip.CHECKSUM` files (`sha256sum` format: `<64 hex>  <file name>`).
//!
//! Consumes checksum text and file bytes; produces digests and typed
//! verdicts. Reads files in fixed-size blocks, never whole into memory.

use core::fmt;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// Why a `.CHECKSUM` file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChecksumParseError {
    /// The first field is not 64 hex digits.
    NotHex,
    /// The named file is not the archive it belongs to.
    WrongFile {
        /// Name in the checksum file.
        named: String,
        /// Name expected.
        expected: String,
    },
}

impl fmt::Display for ChecksumParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotHex => f.write_str("first field is not a 64-digit hex SHA-256"),
            Self::WrongFile { named, expected } => {
                write!(f, "checksum names {named:?}, expected {expected:?}")
            }
        }
    }
}

impl std::error::Error for ChecksumParseError {}

/// Parses a `sha256sum` line for `file_name` (the name field is optional;
/// when present it must match, ignoring a leading `*` binary marker).
///
/// # Errors
/// [`ChecksumParseError`] for a bad digest or another file's name.
pub fn parse_checksum(text: &str, file_name: &str) -> Result<Sha256Digest, ChecksumParseError> {
    let mut fields = text.split_whitespace();
    let hex = fields.next().ok_or(ChecksumParseError::NotHex)?;
    if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(ChecksumParseError::NotHex);
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let text = core::str::from_utf8(pair).map_err(|_| ChecksumParseError::NotHex)?;
        out[i] = u8::from_str_radix(text, 16).map_err(|_| ChecksumParseError::NotHex)?;
    }
    if let Some(named) = fields.next() {
        let named = named.trim_start_matches('*');
        if named != file_name {
            return Err(ChecksumParseError::WrongFile {
                named: named.to_owned(),
                expected: file_name.to_owned(),
            });
        }
    }
    Ok(Sha256Digest(out))
}

/// Returns the SHA-256 of `bytes`.
#[must_use]
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256Digest(Sha256::digest(bytes).into())
}

/// Returns the SHA-256 of the file at `path`.
///
/// # Errors
/// The I/O error of opening or reading the file.
pub fn sha256_file(path: &Path) -> std::io::Result<Sha256Digest> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Sha256Digest(hasher.finalize().into()))
}

/// A writer that hashes everything it passes on.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Returns the inner writer and the digest of everything written.
    pub fn finish(self) -> (W, Sha256Digest) {
        (self.inner, Sha256Digest(self.hasher.finalize().into()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `printf abc | sha256sum`
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digest_of_known_vector() {
        assert_eq!(sha256(b"abc").to_string(), ABC);
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"a").unwrap();
        w.write_all(b"bc").unwrap();
        let (bytes, digest) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(digest.to_string(), ABC);
    }

    #[test]
    fn sha256sum_lines_parse_with_and_without_name() {
        let line = format!("{ABC}  BTCUSDT-1m-2024-01.zip\n");
        assert_eq!(
            parse_checksum(&line, "BTCUSDT-1m-2024-01.zip").unwrap(),
            sha256(b"abc")
        );
        let star = format!("{}  *BTCUSDT-1m-2024-01.zip", ABC.to_uppercase());
        assert_eq!(
            parse_checksum(&star, "BTCUSDT-1m-2024-01.zip").unwrap(),
            sha256(b"abc")
        );
        assert_eq!(parse_checksum(ABC, "x.zip").unwrap(), sha256(b"abc"));
    }

    #[test]
    fn bad_checksum_files_are_refused() {
        assert_eq!(parse_checksum("", "x"), Err(ChecksumParseError::NotHex));
        assert_eq!(
            parse_checksum("<html>not found</html>", "x"),
            Err(ChecksumParseError::NotHex)
        );
        let zs = "z".repeat(64);
        assert_eq!(parse_checksum(&zs, "x"), Err(ChecksumParseError::NotHex));
        let other = format!("{ABC}  ETHUSDT-1m-2024-01.zip");
        assert!(matches!(
            parse_checksum(&other, "BTCUSDT-1m-2024-01.zip"),
            Err(ChecksumParseError::WrongFile { .. })
        ));
    }

    #[test]
    fn file_digest_matches_memory_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let data: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        assert_eq!(sha256_file(&path).unwrap(), sha256(&data));
    }
}
