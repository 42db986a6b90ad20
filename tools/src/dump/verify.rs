//! `--verify`: checks every record checksum of a journal with [`journal::verify`].
//!
//! Consumes a journal directory (meant for one without a live writer: `verify` is stricter than
//! the reader and also flags bytes after the last record and a segment without its end marker);
//! produces one line: `OK: N records in S segments ...` (outcome clean), or `CORRUPT: segment
//! FILE at byte offset N: reason` for the first corruption (outcome corrupt). Never repairs:
//! recovery is the writer's job.

use std::io::Write;
use std::path::Path;

use super::{check_dir, DumpError, Outcome};

/// Verifies the journal in `dir` and prints the verdict on `out`.
///
/// # Errors
/// [`DumpError::Read`] when a segment cannot be read at all (an io error, not corruption).
pub fn verify(dir: &Path, out: &mut dyn Write) -> Result<Outcome, DumpError> {
    check_dir(dir)?;
    match journal::verify(dir) {
        Ok(s) => {
            let seq = match (s.first_seq, s.last_seq) {
                (Some(a), Some(b)) => format!("seq {a}..={b}"),
                _ => "no records".to_owned(),
            };
            writeln!(
                out,
                "OK: {} records in {} segments ({seq}, {} payload bytes), every checksum valid",
                s.records, s.segments, s.payload_bytes
            )?;
            Ok(Outcome::Clean)
        }
        Err(journal::ReadError::Corrupt {
            segment,
            offset,
            reason,
        }) => {
            writeln!(
                out,
                "CORRUPT: segment {} at byte offset {offset}: {reason}",
                segment.display()
            )?;
            Ok(Outcome::Corrupt)
        }
        Err(e @ journal::ReadError::Io(_)) => Err(DumpError::Read(e)),
    }
}
