//! Fetching Binance public-data archives: checksum first, then the zip
//! streamed to a `.part` file while hashing, verified against the published
//! SHA-256 and opened with [`crate::datafile`] before it is renamed into
//! place. Archives already present with the published digest are skipped.
//!
//! Consumes a planned [`Archive`] list and a [`Downloader`]; produces
//! verified `.zip` files (read directly by `datafile`) with their
//! `.zip.CHECKSUM` beside them. Never keeps a file that failed its checksum
//! or cannot be read.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::datafile::{DataFile, FileKind};
use crate::history::checksum::{parse_checksum, sha256_file, HashingWriter};
use crate::history::error::HistoryError;
use crate::history::plan::{Archive, Kind, Period};
use crate::history::progress::Bar;
use crate::history::{FileReport, Outcome};
use crate::io::download::{DownloadError, Downloader, NoProgress};
use crate::types::SymbolId;

fn download_error(dl: &Downloader, path: &str, source: DownloadError) -> HistoryError {
    let url = dl.url_of(path);
    match source {
        DownloadError::NotFound { .. } => HistoryError::NotPublished { url },
        source => HistoryError::Download { url, source },
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> HistoryError + '_ {
    move |source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `path` opens as `kind` data and yields a first record.
///
/// # Errors
/// [`HistoryError::Unreadable`] or [`HistoryError::WrongKind`].
pub fn verify_readable(path: &Path, kind: Kind) -> Result<(), HistoryError> {
    let unreadable = |source| HistoryError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut file = DataFile::open(path, SymbolId(0)).map_err(unreadable)?;
    let expected = match kind {
        Kind::Klines => FileKind::Klines,
        Kind::AggTrades => FileKind::AggTrades,
    };
    if file.kind() != expected {
        return Err(HistoryError::WrongKind {
            path: path.to_path_buf(),
            expected,
            found: file.kind(),
        });
    }
    file.next_record().map_err(unreadable)?;
    Ok(())
}

/// Fetches (or confirms) one archive into `dir`.
///
/// # Errors
/// Any [`HistoryError`] of the steps; a 404 is [`HistoryError::NotPublished`].
pub fn fetch_archive(
    dl: &mut Downloader,
    archive: &Archive,
    dir: &Path,
    bar: &mut Bar,
) -> Result<FileReport, HistoryError> {
    let name = archive.file_name();
    let final_path = dir.join(&name);
    let checksum_path = archive.checksum_path();
    let mut checksum_text = Vec::with_capacity(128);
    dl.get(&checksum_path, &mut checksum_text, &mut NoProgress)
        .map_err(|e| download_error(dl, &checksum_path, e))?;
    let expected =
        parse_checksum(&String::from_utf8_lossy(&checksum_text), &name).map_err(|source| {
            HistoryError::BadChecksumFile {
                url: dl.url_of(&checksum_path),
                source,
            }
        })?;
    if final_path.exists() {
        let local = sha256_file(&final_path).map_err(io_error(&final_path))?;
        if local == expected {
            verify_readable(&final_path, archive.kind)?;
            log::info!("Already present and verified: {name}");
            return Ok(FileReport {
                path: final_path,
                outcome: Outcome::AlreadyPresent,
            });
        }
        log::warn!("Local {name} does not match the published checksum, downloading again");
    }
    let part = dir.join(format!("{name}.part"));
    let result = download_to(dl, archive, &part, bar).and_then(|(bytes, actual)| {
        if actual != expected {
            return Err(HistoryError::ChecksumMismatch {
                file: name.clone(),
                expected,
                actual,
            });
        }
        verify_readable(&part, archive.kind)?;
        Ok(bytes)
    });
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    std::fs::rename(&part, &final_path).map_err(io_error(&final_path))?;
    let sum_file = dir.join(format!("{name}.CHECKSUM"));
    std::fs::write(&sum_file, &checksum_text).map_err(io_error(&sum_file))?;
    log::info!("Downloaded and verified {name} ({bytes} bytes)");
    Ok(FileReport {
        path: final_path,
        outcome: Outcome::Downloaded { bytes },
    })
}

fn download_to(
    dl: &mut Downloader,
    archive: &Archive,
    part: &Path,
    bar: &mut Bar,
) -> Result<(u64, crate::history::checksum::Sha256Digest), HistoryError> {
    let file = File::create(part).map_err(io_error(part))?;
    let mut writer = HashingWriter::new(BufWriter::with_capacity(256 * 1024, file));
    let url_path = archive.url_path();
    bar.begin(&archive.file_name());
    let bytes = dl
        .get(&url_path, &mut writer, bar)
        .map_err(|e| download_error(dl, &url_path, e))?;
    let (buffered, digest) = writer.finish();
    let file = buffered.into_inner().map_err(|e| HistoryError::Io {
        path: part.to_path_buf(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io_error(part))?;
    bar.end();
    Ok((bytes, digest))
}

/// Fetches every archive in order; a monthly archive that is not published
/// yet (404) is replaced by the daily archives of its days.
///
/// # Errors
/// The first [`HistoryError`]; archives fetched before it are kept.
pub fn fetch_all(
    dl: &mut Downloader,
    archives: &[Archive],
    dir: &Path,
    bar: &mut Bar,
) -> Result<Vec<FileReport>, HistoryError> {
    let mut reports = Vec::with_capacity(archives.len());
    for archive in archives {
        match fetch_archive(dl, archive, dir, bar) {
            Err(HistoryError::NotPublished { url })
                if matches!(archive.period, Period::Month { .. }) =>
            {
                log::warn!("Monthly archive not published ({url}), using daily archives");
                for day in archive.period.days() {
                    let daily = Archive {
                        period: Period::Day(day),
                        ..archive.clone()
                    };
                    reports.push(fetch_archive(dl, &daily, dir, bar)?);
                }
            }
            other => reports.push(other?),
        }
    }
    Ok(reports)
}

/// Returns `dir`, creating it when missing.
///
/// # Errors
/// [`HistoryError::Io`] when it cannot be created.
pub fn ensure_dir(dir: &Path) -> Result<PathBuf, HistoryError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    Ok(dir.to_path_buf())
}
