//! [`DataSet`]: several data files of one kind read as one stream in time order.
//!
//! Consumes [`DataFile`] readers; produces their records merged by timestamp
//! (a k-way merge over each file's next record; ties go to the file given
//! first). Holds one record per file; never allocates after open.

use std::path::Path;

use super::{DataFile, DataFileError, FileKind, Record};
use crate::types::SymbolId;

/// Several files of one kind, merged in time order.
///
/// The merge picks the earliest head by a linear scan, which for the handful
/// of files a backtest takes (days or months of one symbol) is cheaper than a heap.
#[derive(Debug)]
pub struct DataSet {
    files: Vec<DataFile>,
    /// Next record of each file, `None` once that file is exhausted.
    heads: Vec<Option<Record>>,
    kind: FileKind,
    /// True after an error: the set then only returns `Ok(None)`.
    failed: bool,
}

impl DataSet {
    /// Opens every path (see [`DataFile::open`]); all records carry `symbol`.
    ///
    /// # Errors
    /// [`DataFileError::NoFiles`] for an empty list,
    /// [`DataFileError::MixedKinds`] when the files are not all of one kind,
    /// and any error of [`DataFile::open`] or of reading a first record.
    pub fn open<P: AsRef<Path>>(paths: &[P], symbol: SymbolId) -> Result<Self, DataFileError> {
        let mut files: Vec<DataFile> = Vec::with_capacity(paths.len());
        for path in paths {
            let file = DataFile::open(path, symbol)?;
            if let Some(first) = files.first() {
                if first.kind() != file.kind() {
                    return Err(DataFileError::MixedKinds {
                        first: first.path().to_path_buf(),
                        first_kind: first.kind(),
                        other: file.path().to_path_buf(),
                        other_kind: file.kind(),
                    });
                }
            }
            files.push(file);
        }
        let kind = files.first().ok_or(DataFileError::NoFiles)?.kind();
        let mut heads = Vec::with_capacity(files.len());
        for file in &mut files {
            heads.push(file.next_record()?);
        }
        Ok(Self {
            files,
            heads,
            kind,
            failed: false,
        })
    }

    /// Returns the kind shared by all files.
    #[must_use]
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Returns the readers (for paths, line numbers and row counts).
    #[must_use]
    pub fn files(&self) -> &[DataFile] {
        &self.files
    }

    /// Returns the earliest pending record of all files, or `None` when all
    /// are exhausted. Never allocates. After an error the set is finished and
    /// returns `Ok(None)`.
    ///
    /// # Errors
    /// Any error of [`DataFile::next_record`] of the file that is advanced.
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<Record>, DataFileError> {
        if self.failed {
            return Ok(None);
        }
        let mut best: Option<(usize, i64)> = None;
        for (i, head) in self.heads.iter().enumerate() {
            if let Some(record) = head {
                let ts = record.timestamp().0;
                if best.is_none_or(|(_, b)| ts < b) {
                    best = Some((i, ts));
                }
            }
        }
        let Some((i, _)) = best else {
            return Ok(None);
        };
        let record = self.heads[i].take();
        match self.files[i].next_record() {
            Ok(next) => self.heads[i] = next,
            Err(e) => {
                self.failed = true;
                return Err(e);
            }
        }
        Ok(record)
    }
}

impl Iterator for DataSet {
    type Item = Result<Record, DataFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
