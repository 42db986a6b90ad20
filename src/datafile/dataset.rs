//! [`DataSet`]: several data files of one kind read as one stream in time order.
//!
//! Consumes [`DataFile`] readers; produces their records merged by timestamp
//! (a k-way merge over each file's next record; ties go to the file given
//! first). Files may carry different symbols (a portfolio backtest); two
//! files of one symbol must not cover the same time: a repeated path is
//! refused at open, and an overlap is an error as soon as the merge meets
//! it, naming both files. Holds one record per file; never allocates after open.

use std::path::{Path, PathBuf};

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
    /// Symbol of each file's records.
    symbols: Vec<SymbolId>,
    /// Time of each file's first record, ns (`i64::MAX` for an empty file).
    first_ns: Vec<i64>,
    /// True when some symbol has more than one file (overlap checks needed).
    shared: bool,
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
        let tagged: Vec<(&Path, SymbolId)> = paths.iter().map(|p| (p.as_ref(), symbol)).collect();
        Self::open_symbols(&tagged)
    }

    /// Opens every `(path, symbol)`: the records of each file carry its symbol.
    ///
    /// # Errors
    /// As [`DataSet::open`], and [`DataFileError::Repeated`] when one file
    /// (after resolving links) is given twice.
    pub fn open_symbols<P: AsRef<Path>>(paths: &[(P, SymbolId)]) -> Result<Self, DataFileError> {
        let mut files: Vec<DataFile> = Vec::with_capacity(paths.len());
        let mut seen: Vec<(PathBuf, &Path)> = Vec::with_capacity(paths.len());
        let mut symbols = Vec::with_capacity(paths.len());
        for (path, symbol) in paths {
            let path = path.as_ref();
            let real = std::fs::canonicalize(path).map_err(|source| DataFileError::Open {
                path: path.to_path_buf(),
                source,
            })?;
            if let Some((_, given)) = seen.iter().find(|(r, _)| *r == real) {
                return Err(DataFileError::Repeated {
                    path: given.to_path_buf(),
                    again: path.to_path_buf(),
                });
            }
            seen.push((real, path));
            symbols.push(*symbol);
            let file = DataFile::open(path, *symbol)?;
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
        let first_ns = heads
            .iter()
            .map(|h| h.map_or(i64::MAX, |r| r.timestamp().0))
            .collect();
        let shared = symbols
            .iter()
            .enumerate()
            .any(|(i, s)| symbols[..i].contains(s));
        Ok(Self {
            files,
            heads,
            symbols,
            first_ns,
            shared,
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
        let Some((i, ts)) = best else {
            return Ok(None);
        };
        if self.shared {
            self.check_overlap(i, ts)?;
        }
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

    /// Fails when another file of file `i`'s symbol has started (its first
    /// record is at or before `ts`) and is not exhausted: both then cover `ts`.
    fn check_overlap(&mut self, i: usize, ts: i64) -> Result<(), DataFileError> {
        let symbol = self.symbols[i];
        let other = (0..self.files.len()).find(|&j| {
            j != i && self.symbols[j] == symbol && self.heads[j].is_some() && self.first_ns[j] <= ts
        });
        let Some(j) = other else {
            return Ok(());
        };
        self.failed = true;
        let (first, other) = if self.first_ns[j] <= self.first_ns[i] {
            (j, i)
        } else {
            (i, j)
        };
        Err(DataFileError::Overlap {
            first: self.files[first].path().to_path_buf(),
            other: self.files[other].path().to_path_buf(),
            at_ms: ts.div_euclid(crate::types::NS_PER_MS),
        })
    }
}

impl Iterator for DataSet {
    type Item = Result<Record, DataFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
