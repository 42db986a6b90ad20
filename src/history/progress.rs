//! Download progress on stderr with indicatif: one byte bar per archive,
//! prefixed with its position in the plan. Hidden when stderr is not a
//! terminal or when progress is turned off.
//!
//! Consumes byte counts from the downloader; produces terminal output only.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::io::download::Progress;

/// The progress display of one `data download` run.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    visible: bool,
    index: usize,
    total: usize,
}

impl Bar {
    /// Returns a display for `total` files, drawn on stderr when `visible`.
    #[must_use]
    pub fn new(total: usize, visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        let style = ProgressStyle::with_template(
            "{prefix} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Self {
            bar,
            visible,
            index: 0,
            total,
        }
    }

    /// Starts the next file.
    pub fn begin(&mut self, name: &str) {
        self.index += 1;
        self.bar.reset();
        self.bar.set_length(0);
        self.bar
            .set_prefix(format!("[{}/{}]", self.index, self.total.max(self.index)));
        self.bar.set_message(name.to_owned());
    }

    /// Ends the current file.
    pub fn end(&mut self) {
        if self.visible {
            self.bar.println(format!(
                "[{}/{}] {} done",
                self.index,
                self.total.max(self.index),
                self.bar.message()
            ));
        }
    }

    /// Clears the bar at the end of the run.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&mut self, total_bytes: Option<u64>) {
        if let Some(n) = total_bytes {
            self.bar.set_length(n);
        }
    }

    fn advance(&mut self, bytes: u64) {
        self.bar.inc(bytes);
    }
}
