//! Gzip inflation of BingX swap WebSocket frames (every server frame is one
//! gzip member).
//!
//! Consumes a compressed frame; produces the inflated payload as a mutable
//! slice of a buffer owned by the [`Inflater`], ready for in-place JSON
//! parsing. The decompressor and the output buffer are created once and
//! reused (the decompressor is reset, never re-created); after construction
//! inflating never allocates and never panics.
//!
//! Backend: libdeflater (libdeflate, whole-buffer: frames are small and
//! arrive whole), which checks the gzip header, CRC-32 and length. Measured
//! with `cargo bench -p bench --bench parse -- inflate/` (criterion means,
//! 2-core machine under load average ~12, so absolute times are inflated;
//! compare the ratios), 23-trade BingX frame / all 12 `ws_swap_*_push`
//! samples: libdeflater 7.8 µs / 47 µs, miniz_oxide 12.1 µs / 79 µs,
//! flate2 over zlib-rs 15.4 µs / 79 µs. flate2 also allocated one 47 KB
//! block per frame after `reset` (found by the zero-allocation test).
//! libdeflate reports truncation and corruption alike as "bad data", so a
//! rejected frame is re-inflated by miniz_oxide (error path only, no
//! allocation) to return the precise [`InflateError`].

use super::error::InflateError;
use libdeflater::{DecompressionError, Decompressor};
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Default largest inflated payload, in bytes (1 MiB; BingX frames are a few KiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

/// The two magic bytes and the deflate method byte that open every gzip member.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// The parts of one gzip member (RFC 1952): where the raw deflate stream
/// starts, and the CRC-32 and length (mod 2^32) of the payload from the trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GzipMember {
    /// Offset of the first deflate byte.
    pub deflate_start: usize,
    /// Offset of the 8-byte trailer (= frame length − 8).
    pub trailer_start: usize,
    /// CRC-32 of the payload, from the trailer.
    pub crc32: u32,
    /// Payload length mod 2^32, from the trailer.
    pub isize: u32,
}

/// Parses the gzip header and trailer of `frame` (one member, no trailing bytes).
///
/// # Errors
/// [`InflateError::NotGzip`] for a wrong magic or method byte,
/// [`InflateError::Corrupt`] for reserved flag bits, and
/// [`InflateError::Truncated`] when the header or trailer does not fit.
pub fn parse_gzip_member(frame: &[u8]) -> Result<GzipMember, InflateError> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let n = frame.len().min(GZIP_MAGIC.len());
    if frame[..n] != GZIP_MAGIC[..n] {
        return Err(InflateError::NotGzip);
    }
    if frame.len() < 10 + 8 {
        return Err(InflateError::Truncated);
    }
    let flags = frame[3];
    if flags & 0xe0 != 0 {
        return Err(InflateError::Corrupt);
    }
    let trailer_start = frame.len() - 8;
    let mut pos = 10usize;
    if flags & FEXTRA != 0 {
        let len = frame
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or(InflateError::Truncated)?;
        pos += 2 + len;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = frame
                .get(pos..trailer_start)
                .ok_or(InflateError::Truncated)?;
            let nul = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(InflateError::Truncated)?;
            pos += nul + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos > trailer_start {
        return Err(InflateError::Truncated);
    }
    let t = &frame[trailer_start..];
    Ok(GzipMember {
        deflate_start: pos,
        trailer_start,
        crc32: u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
        isize: u32::from_le_bytes([t[4], t[5], t[6], t[7]]),
    })
}

/// A reusable gzip inflater with its own output buffer.
pub struct Inflater {
    /// libdeflate whole-buffer decompressor, created once, reused per frame.
    fast: Decompressor,
    /// miniz_oxide raw inflater, used only after libdeflate rejected a frame,
    /// to tell a truncated frame from a corrupt one (libdeflate reports both
    /// as "bad data"). Re-initialised, never re-created; boxed (about 11 KiB).
    classifier: Box<DecompressorOxide>,
    /// Output buffer, `max_bytes + 1` long: the extra byte detects an
    /// over-long payload without a second pass.
    out: Vec<u8>,
    max_bytes: usize,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// Returns an inflater whose payloads may be up to `max_bytes` long.
    /// Allocates the output buffer (zeroed lazily by the OS) and the decoder
    /// states once.
    #[must_use]
    pub fn new(max_bytes: usize) -> Self {
        Self {
            fast: Decompressor::new(),
            classifier: Box::default(),
            out: vec![0; max_bytes.saturating_add(1)],
            max_bytes,
        }
    }

    /// Returns the largest payload this inflater accepts, in bytes.
    #[must_use]
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Inflates one gzip member and returns the payload, valid until the next call.
    ///
    /// # Errors
    /// [`InflateError::NotGzip`] when the magic or method byte is wrong,
    /// [`InflateError::Truncated`] when the frame ends early,
    /// [`InflateError::Corrupt`] for bad deflate data, a bad header, a CRC or
    /// length mismatch, or bytes after the member, and
    /// [`InflateError::TooLarge`] when the payload exceeds the maximum.
    pub fn inflate(&mut self, frame: &[u8]) -> Result<&mut [u8], InflateError> {
        let member = parse_gzip_member(frame)?;
        // libdeflate checks the header, the CRC-32 and the length trailer.
        match self.fast.gzip_decompress(frame, &mut self.out) {
            // libdeflate ignores bytes after the member; then the last four
            // bytes are not the length libdeflate verified.
            Ok(n) if n as u32 != member.isize => Err(InflateError::Corrupt),
            Ok(n) if n <= self.max_bytes => self.out.get_mut(..n).ok_or(InflateError::TooLarge),
            Ok(_) | Err(DecompressionError::InsufficientSpace) => Err(InflateError::TooLarge),
            Err(DecompressionError::BadData) => Err(self.classify(frame, member)),
        }
    }

    /// Error path only: re-inflates a frame that libdeflate rejected with
    /// miniz_oxide to name the cause.
    fn classify(&mut self, frame: &[u8], member: GzipMember) -> InflateError {
        let deflate = &frame[member.deflate_start..member.trailer_start];
        self.classifier.init();
        let (status, _, produced) = decompress(
            &mut self.classifier,
            deflate,
            &mut self.out,
            0,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        match status {
            TINFLStatus::HasMoreOutput => InflateError::TooLarge,
            TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
                InflateError::Truncated
            }
            TINFLStatus::Done if produced > self.max_bytes => InflateError::TooLarge,
            // Bytes between the deflate end and the trailer, a CRC or length
            // mismatch, or invalid deflate data.
            _ => InflateError::Corrupt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    pub(crate) fn gzip(payload: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(payload).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn inflates_and_reuses_the_decoder() {
        let mut inf = Inflater::new(DEFAULT_MAX_FRAME_BYTES);
        for payload in [&b"Ping"[..], b"{\"code\":0}", b"", &[b'x'; 5000]] {
            assert_eq!(inf.inflate(&gzip(payload)).unwrap(), payload);
        }
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let mut inf = Inflater::new(DEFAULT_MAX_FRAME_BYTES);
        let frame = gzip(br#"{"code":0,"dataType":"BTC-USDT@trade","data":[]}"#);
        for cut in 0..frame.len() {
            let err = inf.inflate(&frame[..cut]).unwrap_err();
            assert!(
                matches!(err, InflateError::Truncated | InflateError::Corrupt),
                "cut {cut}: {err:?}"
            );
        }
        assert_eq!(
            inf.inflate(&frame[..frame.len() - 1]),
            Err(InflateError::Truncated)
        );
        assert_eq!(
            inf.inflate(&frame[..frame.len() / 2]),
            Err(InflateError::Truncated)
        );
        // The decoder still works after errors.
        assert!(inf.inflate(&frame).is_ok());
    }

    #[test]
    fn corrupt_checksum_header_and_trailing_bytes_are_rejected() {
        let mut inf = Inflater::new(DEFAULT_MAX_FRAME_BYTES);
        let frame = gzip(b"hello world hello world");
        let mut bad_crc = frame.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 0xff;
        assert_eq!(inf.inflate(&bad_crc), Err(InflateError::Corrupt));
        let mut bad_len = frame.clone();
        bad_len[n - 1] ^= 0x01;
        assert_eq!(inf.inflate(&bad_len), Err(InflateError::Corrupt));
        let mut trailing = frame.clone();
        trailing.extend_from_slice(b"zz");
        assert_eq!(inf.inflate(&trailing), Err(InflateError::Corrupt));
        assert_eq!(inf.inflate(b"Ping"), Err(InflateError::NotGzip));
        assert_eq!(inf.inflate(b"\x1f"), Err(InflateError::Truncated));
        assert_eq!(inf.inflate(b""), Err(InflateError::Truncated));
    }

    #[test]
    fn oversized_payload_is_too_large() {
        let mut inf = Inflater::new(100);
        assert_eq!(inf.inflate(&gzip(&[b'a'; 100])).map(|p| p.len()), Ok(100));
        assert_eq!(
            inf.inflate(&gzip(&[b'a'; 101])),
            Err(InflateError::TooLarge)
        );
        assert_eq!(
            inf.inflate(&gzip(&[b'a'; 10_000])),
            Err(InflateError::TooLarge)
        );
    }

    #[test]
    fn steady_state_inflate_does_not_allocate() {
        let mut inf = Inflater::new(DEFAULT_MAX_FRAME_BYTES);
        let frame = gzip(&[b'{'; 3000]);
        inf.inflate(&frame).unwrap();
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                assert_eq!(inf.inflate(&frame).map(|p| p.len()), Ok(3000));
            }
        });
        assert_eq!(info.count_total, 0);
    }
}
