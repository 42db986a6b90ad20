//! The compression BingX applies to every WebSocket server frame, market and user data alike.
//!
//! Consumes a frame's text; produces its gzip bytes. Allocates the output.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

/// Returns `data` gzip-compressed, the framing BingX uses for every server frame.
#[must_use]
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 2 + 32), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}
