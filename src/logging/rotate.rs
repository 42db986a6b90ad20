//! A log file that rotates by size: `engine.log` is renamed to
//! `engine.log.1` (and `.1` to `.2` ...) before a write would make it
//! exceed the size bound, keeping at most `keep` files in total.
//!
//! Consumes complete lines; produces files on disk. Never splits a line
//! across files (a single line longer than the bound gets a file of its
//! own) and never keeps more than `keep` files. Runs only on the logger
//! thread: it blocks on disk I/O.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A size-rotated, append-only log file.
#[derive(Debug)]
pub struct RotatingFile {
    /// The active file's path; rotated files add `.1`, `.2` ...
    path: PathBuf,
    /// A write that would make the active file larger than this rotates
    /// first (unless the file is empty).
    max_bytes: u64,
    /// Files kept including the active one; at least 1.
    keep: usize,
    /// The active file, buffered.
    file: BufWriter<File>,
    /// Bytes in the active file, including buffered ones.
    size: u64,
}

impl RotatingFile {
    /// Opens (creating it and its directory if needed) `path` for
    /// appending; `keep` is clamped to at least 1.
    ///
    /// # Errors
    /// The I/O error from creating the directory or opening the file.
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            max_bytes,
            keep: keep.max(1),
            file: BufWriter::new(file),
            size,
        })
    }

    /// Returns the path of rotated file number `n` (`engine.log.n`).
    #[must_use]
    pub fn rotated_path(&self, n: usize) -> PathBuf {
        let mut name = OsString::from(self.path.as_os_str());
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    /// Appends one line (which should end with `\n`), rotating first if it
    /// would push the active file past the bound.
    ///
    /// # Errors
    /// The I/O error from rotating or writing.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.size > 0 && self.size.saturating_add(len) > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size = self.size.saturating_add(len);
        Ok(())
    }

    /// Writes buffered bytes to the file.
    ///
    /// # Errors
    /// The I/O error from writing.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Shifts `.n` to `.n+1` (dropping the oldest), the active file to `.1`,
    /// and starts an empty active file.
    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep == 1 {
            let file = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&self.path)?;
            self.file = BufWriter::new(file);
            self.size = 0;
            return Ok(());
        }
        let oldest = self.rotated_path(self.keep - 1);
        match fs::remove_file(&oldest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        for n in (1..self.keep - 1).rev() {
            let from = self.rotated_path(n);
            if from.exists() {
                fs::rename(&from, self.rotated_path(n + 1))?;
            }
        }
        fs::rename(&self.path, self.rotated_path(1))?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.file = BufWriter::new(file);
        self.size = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize) -> Vec<u8> {
        format!("line {i:04} ------------------\n").into_bytes() // 30 bytes
    }

    #[test]
    fn rotation_at_the_size_bound_keeps_exactly_n_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs").join("engine.log");
        let mut f = RotatingFile::open(&path, 100, 3).unwrap();
        for i in 0..50 {
            f.write_line(&line(i)).unwrap();
        }
        f.flush().unwrap();
        let mut names: Vec<String> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["engine.log", "engine.log.1", "engine.log.2"]);
        let mut all = String::new();
        for p in [f.rotated_path(2), f.rotated_path(1), path.clone()] {
            let text = fs::read_to_string(&p).unwrap();
            assert!(
                text.len() <= 100,
                "{} has {} bytes",
                p.display(),
                text.len()
            );
            all.push_str(&text);
        }
        // 3 lines (90 bytes) fit per file: the newest 8 lines are kept whole, in order.
        let expected: String = (42..50)
            .map(|i| String::from_utf8(line(i)).unwrap())
            .collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn keep_one_truncates_the_single_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.log");
        let mut f = RotatingFile::open(&path, 64, 1).unwrap();
        for i in 0..5 {
            f.write_line(&line(i)).unwrap();
        }
        f.flush().unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(fs::read(&path).unwrap(), line(4));
    }

    #[test]
    fn reopening_appends_and_counts_the_existing_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        {
            let mut f = RotatingFile::open(&path, 70, 2).unwrap();
            f.write_line(&line(0)).unwrap();
            f.write_line(&line(1)).unwrap();
            f.flush().unwrap();
        }
        let mut f = RotatingFile::open(&path, 70, 2).unwrap();
        f.write_line(&line(2)).unwrap(); // 60 + 30 > 70: rotates first
        f.flush().unwrap();
        assert_eq!(fs::read(&path).unwrap(), line(2));
        assert_eq!(
            fs::read(f.rotated_path(1)).unwrap(),
            [line(0), line(1)].concat()
        );
    }

    #[test]
    fn a_line_longer_than_the_bound_gets_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.log");
        let mut f = RotatingFile::open(&path, 40, 3).unwrap();
        f.write_line(&line(0)).unwrap();
        let long = vec![b'x'; 99];
        f.write_line(&long).unwrap();
        f.write_line(&line(1)).unwrap();
        f.flush().unwrap();
        assert_eq!(fs::read(f.rotated_path(2)).unwrap(), line(0));
        assert_eq!(fs::read(f.rotated_path(1)).unwrap(), long);
        assert_eq!(fs::read(&path).unwrap(), line(1));
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever the line lengths, bound and file count: at most `keep`
        /// files exist, none exceeds the bound unless it holds one oversized
        /// line, and the files hold, oldest to newest, an unbroken suffix of
        /// the written lines ending with the last one.
        #[test]
        fn prop_rotation_keeps_a_bounded_ordered_suffix(
            lens in prop::collection::vec(prop_oneof![1usize..40, Just(1usize), 60usize..120], 1..120),
            max_bytes in prop_oneof![Just(1u64), 2u64..200],
            keep in 1usize..5,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.log");
            let mut f = RotatingFile::open(&path, max_bytes, keep).unwrap();
            let lines: Vec<Vec<u8>> = lens
                .iter()
                .enumerate()
                .map(|(i, len)| {
                    let mut l = vec![b'a' + (i % 26) as u8; *len - 1];
                    l.push(b'\n');
                    l
                })
                .collect();
            for l in &lines {
                f.write_line(l).unwrap();
            }
            f.flush().unwrap();
            prop_assert!(std::fs::read_dir(dir.path()).unwrap().count() <= keep);
            let mut kept = Vec::new();
            for n in (1..keep).rev() {
                if let Ok(bytes) = std::fs::read(f.rotated_path(n)) {
                    prop_assert!(bytes.len() as u64 <= max_bytes || bytes.iter().filter(|b| **b == b'\n').count() == 1);
                    kept.extend(bytes);
                }
            }
            let active = std::fs::read(&path).unwrap();
            prop_assert!(active.len() as u64 <= max_bytes || active.iter().filter(|b| **b == b'\n').count() == 1);
            kept.extend(active);
            let all: Vec<u8> = lines.concat();
            prop_assert!(all.ends_with(&kept), "kept bytes are not a suffix of the written bytes");
            prop_assert!(kept.ends_with(lines.last().unwrap()));
            // The suffix starts at a line boundary.
            let start = all.len() - kept.len();
            prop_assert!(start == 0 || all[start - 1] == b'\n');
        }
    }
}
