//! Running independent backtests on all cores, and showing progress.
//!
//! Consumes a count of work items and a function run per item (on scoped
//! worker threads that borrow the shared, read-only data); produces the
//! results, one at a time and in completion order, on the calling thread.
//! Never shares mutable state between workers: an atomic counter hands out
//! item numbers, a bounded channel carries results back.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Returns the number of worker threads `--jobs` asks for (`None`: every
/// core the process may use).
#[must_use]
pub fn jobs(requested: Option<usize>) -> usize {
    requested
        .filter(|j| *j > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
}

/// Runs `work(k)` for every `k` in `0..count` on `jobs` threads and hands
/// each result to `sink` on the calling thread. Stops handing out work at
/// the first `Err` of `sink`, waits for running items and returns it.
///
/// # Errors
/// The first error `sink` returned.
pub fn run<T: Send, E>(
    count: usize,
    jobs: usize,
    work: &(dyn Fn(usize) -> T + Sync),
    sink: &mut dyn FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let jobs = jobs.clamp(1, count.max(1));
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<T>(jobs * 4);
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= count || tx.send(work(k)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut outcome = Ok(());
        for item in rx {
            if outcome.is_ok() {
                if let Err(e) = sink(item) {
                    stop.store(true, Ordering::Relaxed);
                    outcome = Err(e);
                }
            }
        }
        outcome
    })
}

/// Progress of a run on stderr: a bar with rate and ETA on a terminal,
/// otherwise a plain line at most every 10 s and at the end.
#[derive(Debug)]
pub struct Progress {
    label: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    last_line: Instant,
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Progress {
    /// Starts the progress of `total` items named `label`; `quiet` prints
    /// nothing.
    #[must_use]
    pub fn new(label: &'static str, total: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} {per_sec} ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label);
            bar
        });
        let now = Instant::now();
        Self {
            label,
            total,
            done: 0,
            started: now,
            last_line: now,
            bar,
            quiet,
        }
    }

    /// Counts one finished item.
    pub fn step(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if !self.quiet
            && (self.last_line.elapsed() >= Duration::from_secs(10) || self.done == self.total)
        {
            self.last_line = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            let rate = self.done as f64 / secs;
            let left = self.total.saturating_sub(self.done) as f64 / rate.max(1e-9);
            let _ = writeln!(
                std::io::stderr(),
                "{}: {}/{} ({:.0}%), {rate:.1}/s, ETA {left:.0} s",
                self.label,
                self.done,
                self.total,
                self.done as f64 * 100.0 / (self.total.max(1)) as f64
            );
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_run_once_whatever_the_thread_count() {
        for jobs in [1, 2, 7] {
            let mut seen = vec![0u32; 50];
            run::<usize, ()>(50, jobs, &|k| k, &mut |k| {
                seen[k] += 1;
                Ok(())
            })
            .unwrap();
            assert!(seen.iter().all(|n| *n == 1), "jobs {jobs}: {seen:?}");
        }
    }

    #[test]
    fn a_sink_error_stops_the_run() {
        let mut taken = 0;
        let r = run::<usize, &str>(10_000, 2, &|k| k, &mut |_| {
            taken += 1;
            if taken == 3 {
                Err("stop")
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err("stop"));
        assert!(taken == 3);
    }
}
