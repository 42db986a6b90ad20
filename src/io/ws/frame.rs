//! Minimal RFC 6455 frame codec for the WebSocket clients.
//!
//! Consumes raw bytes read from the socket (server frames) and payloads to
//! send; produces parsed frame headers and masked client frames written into
//! caller-owned buffers. Never allocates (beyond growing a caller's `Vec` the
//! first time), never panics on any input, and knows nothing about sockets.

/// Frame opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// Continuation of a fragmented message.
    Continuation,
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
    /// Close.
    Close,
    /// Ping (must be answered with a Pong echoing the payload).
    Ping,
    /// Pong.
    Pong,
}

impl Opcode {
    const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            0x0 => Some(Self::Continuation),
            0x1 => Some(Self::Text),
            0x2 => Some(Self::Binary),
            0x8 => Some(Self::Close),
            0x9 => Some(Self::Ping),
            0xA => Some(Self::Pong),
            _ => None,
        }
    }

    const fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Returns true for Close, Ping and Pong.
    #[must_use]
    pub const fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A protocol violation in a server frame; the connection must be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Reserved bits set (no extension was negotiated).
    ReservedBits,
    /// Unknown opcode.
    BadOpcode(u8),
    /// A control frame longer than 125 bytes or fragmented.
    BadControlFrame,
    /// The payload is longer than the configured maximum.
    TooLarge(u64),
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ReservedBits => f.write_str("frame has reserved bits set"),
            Self::BadOpcode(op) => write!(f, "unknown frame opcode {op:#x}"),
            Self::BadControlFrame => f.write_str("control frame fragmented or over 125 bytes"),
            Self::TooLarge(n) => write!(f, "frame payload of {n} bytes exceeds the limit"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Header of one complete frame found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of the message.
    pub fin: bool,
    /// Opcode.
    pub opcode: Opcode,
    /// Masking key, if the frame is masked (servers should not mask).
    pub mask: Option<[u8; 4]>,
    /// Offset of the payload in the buffer.
    pub payload_start: usize,
    /// Payload length.
    pub payload_len: usize,
}

impl FrameHeader {
    /// Returns the total frame length (header plus payload).
    #[must_use]
    pub const fn frame_len(&self) -> usize {
        self.payload_start + self.payload_len
    }
}

/// Parses the frame at the start of `buf`.
///
/// Returns `Ok(None)` when `buf` does not yet hold the whole frame.
///
/// # Errors
/// A [`FrameError`] for a frame that violates RFC 6455 or exceeds `max_payload`.
pub fn parse_frame(buf: &[u8], max_payload: usize) -> Result<Option<FrameHeader>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let b0 = buf[0];
    let b1 = buf[1];
    if b0 & 0x70 != 0 {
        return Err(FrameError::ReservedBits);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(FrameError::BadOpcode(b0 & 0x0F))?;
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7F;
    let (len, mut pos) = match len7 {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    if opcode.is_control() && (!fin || len > 125) {
        return Err(FrameError::BadControlFrame);
    }
    if len > max_payload as u64 {
        return Err(FrameError::TooLarge(len));
    }
    let mask = if masked {
        if buf.len() < pos + 4 {
            return Ok(None);
        }
        let m = [buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]];
        pos += 4;
        Some(m)
    } else {
        None
    };
    let payload_len = len as usize;
    if buf.len() < pos + payload_len {
        return Ok(None);
    }
    Ok(Some(FrameHeader {
        fin,
        opcode,
        mask,
        payload_start: pos,
        payload_len,
    }))
}

/// XORs `data` with the 4-byte `mask` (masking and unmasking are the same).
pub fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Appends a final, masked client frame carrying `payload` to `out`.
pub fn encode_client_frame(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode.bits());
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(l16) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&l16.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![if fin { 0x80 } else { 0 } | opcode];
        if payload.len() < 126 {
            v.push(payload.len() as u8);
        } else if payload.len() <= 0xFFFF {
            v.push(126);
            v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        } else {
            v.push(127);
            v.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn short_medium_and_long_lengths_parse() {
        for n in [0usize, 5, 125, 126, 300, 65_535, 70_000] {
            let payload = vec![7u8; n];
            let f = server_frame(0x2, true, &payload);
            let h = parse_frame(&f, 1 << 20).unwrap().unwrap();
            assert_eq!(h.opcode, Opcode::Binary);
            assert!(h.fin);
            assert_eq!(h.payload_len, n);
            assert_eq!(h.frame_len(), f.len());
            assert_eq!(parse_frame(&f[..f.len() - 1], 1 << 20).unwrap(), None);
        }
    }

    #[test]
    fn partial_headers_ask_for_more_bytes() {
        let f = server_frame(0x1, true, &[1u8; 300]);
        for cut in 0..4 {
            assert_eq!(parse_frame(&f[..cut], 1 << 20).unwrap(), None);
        }
    }

    #[test]
    fn violations_are_errors() {
        assert_eq!(parse_frame(&[0xC1, 0], 10), Err(FrameError::ReservedBits));
        assert_eq!(parse_frame(&[0x83, 0], 10), Err(FrameError::BadOpcode(3)));
        assert_eq!(
            parse_frame(&[0x09, 0], 10),
            Err(FrameError::BadControlFrame)
        );
        assert_eq!(
            parse_frame(&[0x89, 126, 0, 200], 1000),
            Err(FrameError::BadControlFrame)
        );
        let f = server_frame(0x2, true, &[0u8; 200]);
        assert_eq!(parse_frame(&f, 100), Err(FrameError::TooLarge(200)));
    }

    #[test]
    fn client_frames_round_trip_through_the_parser() {
        for n in [0usize, 4, 125, 126, 1000, 70_000] {
            let payload: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let mut out = Vec::new();
            encode_client_frame(&mut out, Opcode::Text, &payload, [1, 2, 3, 4]);
            let h = parse_frame(&out, 1 << 20).unwrap().unwrap();
            assert_eq!(h.mask, Some([1, 2, 3, 4]));
            assert_eq!(h.frame_len(), out.len());
            let mut p = out[h.payload_start..h.frame_len()].to_vec();
            apply_mask(&mut p, [1, 2, 3, 4]);
            assert_eq!(p, payload);
        }
    }
}
