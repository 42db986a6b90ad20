//! Opening a data file as a byte stream: plain CSV, gzip (`.csv.gz`) or the
//! single-entry `.zip` that data.binance.vision publishes, detected from the
//! file's magic bytes rather than its name.
//!
//! Consumes a path; produces a [`Source`] that streams the decompressed CSV
//! bytes with constant memory. The zip entry is streamed straight from its
//! offset in the archive (located through the `zip` crate's central
//! directory) and its CRC-32 is checked at the end. Never reads a whole file
//! into memory.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Take};
use std::path::Path;

use flate2::read::{DeflateDecoder, MultiGzDecoder};
use flate2::Crc;
use zip::CompressionMethod;

use super::DataFileError;

/// Buffer of the compressed input in front of a decoder.
const COMPRESSED_BUFFER_BYTES: usize = 256 * 1024;

/// The decompressed byte stream of one data file.
pub(crate) enum Source {
    Plain(File),
    Gzip(Box<MultiGzDecoder<BufReader<File>>>),
    Zip {
        data: ZipData,
        crc: Crc,
        expected_crc: u32,
    },
}

/// The stream of one zip entry's data.
pub(crate) enum ZipData {
    Stored(Take<BufReader<File>>),
    Deflated(Box<DeflateDecoder<Take<BufReader<File>>>>),
}

/// A failed read: an I/O error or a zip entry whose CRC-32 does not match.
#[derive(Debug)]
pub(crate) enum SourceError {
    Io(io::Error),
    Checksum { expected: u32, actual: u32 },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Source::Plain",
            Self::Gzip(_) => "Source::Gzip",
            Self::Zip { .. } => "Source::Zip",
        })
    }
}

impl Source {
    /// Opens `path`, detecting gzip (`1f 8b`) and zip (`PK 03 04`) by magic bytes.
    pub(crate) fn open(path: &Path) -> Result<Self, DataFileError> {
        let open_err = |source| DataFileError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(open_err)?;
        let mut magic = [0u8; 4];
        let mut got = 0;
        while got < magic.len() {
            match file.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(open_err(e)),
            }
        }
        file.seek(SeekFrom::Start(0)).map_err(open_err)?;
        if got >= 2 && magic[..2] == [0x1f, 0x8b] {
            let buffered = BufReader::with_capacity(COMPRESSED_BUFFER_BYTES, file);
            Ok(Self::Gzip(Box::new(MultiGzDecoder::new(buffered))))
        } else if got == 4 && magic == *b"PK\x03\x04" {
            Self::open_zip(path, file)
        } else {
            Ok(Self::Plain(file))
        }
    }

    fn open_zip(path: &Path, file: File) -> Result<Self, DataFileError> {
        let zip_err = |source| DataFileError::Zip {
            path: path.to_path_buf(),
            source,
        };
        let layout = |reason| DataFileError::ZipLayout {
            path: path.to_path_buf(),
            reason,
        };
        let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
        if archive.len() != 1 {
            return Err(layout("zip archive must hold exactly one CSV entry"));
        }
        let (method, start, size, expected_crc) = {
            let entry = archive.by_index_raw(0).map_err(zip_err)?;
            if entry.is_dir() {
                return Err(layout("the zip entry is a directory"));
            }
            (
                entry.compression(),
                entry.data_start(),
                entry.compressed_size(),
                entry.crc32(),
            )
        };
        let mut file = archive.into_inner();
        file.seek(SeekFrom::Start(start))
            .map_err(|source| DataFileError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let raw = BufReader::with_capacity(COMPRESSED_BUFFER_BYTES, file).take(size);
        let data = match method {
            CompressionMethod::Stored => ZipData::Stored(raw),
            CompressionMethod::Deflated => ZipData::Deflated(Box::new(DeflateDecoder::new(raw))),
            _ => return Err(layout("zip entry compression must be stored or deflate")),
        };
        Ok(Self::Zip {
            data,
            crc: Crc::new(),
            expected_crc,
        })
    }

    /// Reads decompressed bytes into `buf`; `Ok(0)` is the end of the data.
    ///
    /// # Errors
    /// An I/O or decompression error, or a zip CRC-32 mismatch at the end.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> Result<usize, SourceError> {
        loop {
            let result = match self {
                Self::Plain(file) => file.read(buf),
                Self::Gzip(decoder) => decoder.read(buf),
                Self::Zip {
                    data,
                    crc,
                    expected_crc,
                } => {
                    let result = match data {
                        ZipData::Stored(raw) => raw.read(buf),
                        ZipData::Deflated(decoder) => decoder.read(buf),
                    };
                    match result {
                        Ok(0) if crc.sum() != *expected_crc => {
                            return Err(SourceError::Checksum {
                                expected: *expected_crc,
                                actual: crc.sum(),
                            })
                        }
                        Ok(n) => {
                            crc.update(&buf[..n]);
                            Ok(n)
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SourceError::Io(e)),
                Ok(n) => return Ok(n),
            }
        }
    }
}

/// Reads the whole decompressed content of a small data file (a funding or
/// mark-price file: hundreds of rows) into memory, detecting plain, gzip
/// and zip like [`Source::open`].
///
/// # Errors
/// [`DataFileError`] naming the file: it cannot be opened, a read or
/// decompression fails, or a zip entry's CRC-32 does not match.
pub fn read_all(path: &Path) -> Result<Vec<u8>, DataFileError> {
    let mut source = Source::open(path)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match source.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(SourceError::Io(source)) => {
                return Err(DataFileError::Read {
                    path: path.to_path_buf(),
                    line: 0,
                    source,
                })
            }
            Err(SourceError::Checksum { expected, actual }) => {
                return Err(DataFileError::Checksum {
                    path: path.to_path_buf(),
                    expected,
                    actual,
                })
            }
        }
    }
}
