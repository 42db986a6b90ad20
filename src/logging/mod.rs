//! Process logging: `log` macros → fern (filtering, dispatch) → a bounded
//! crossbeam channel → one logger thread that writes the console (stderr,
//! optionally coloured) and an optional size-rotated file, as text or JSON
//! lines.
//!
//! Consumes `log` records from any thread and a [`LoggingConfig`]; produces
//! lines on stderr and in the log file. The thread calling `log::info!`
//! never blocks and never does I/O: it formats the message into a
//! [`LogLine`] and `try_send`s it. When the channel is full the record is
//! dropped and counted (blocking a trading thread on a slow terminal or
//! disk is worse than losing a log line); the logger thread then writes a
//! warning with the number dropped, and [`LoggerGuard::dropped`] reports
//! the total. Formatting still allocates, so the hot path must not log
//! after start-up at all. Set up once, in `main`, with [`init`]; dropping
//! the returned [`LoggerGuard`] flushes everything and stops the thread.

mod format;
mod rotate;

pub use format::LogLine;
pub use rotate::RotatingFile;

use crate::config::{ColourMode, LogFormat, LogLevel, LoggingConfig};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use fern::colors::ColoredLevelConfig;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

/// A message to the logger thread.
#[derive(Debug)]
enum LogMsg {
    /// A record to write.
    Line(LogLine),
    /// Flush outputs, then acknowledge.
    Flush(Sender<()>),
    /// Write what is queued, flush and exit.
    Shutdown,
}

/// Why logging could not be started.
#[derive(Debug)]
pub enum LoggingError {
    /// A global logger is already installed (`init` runs once per process).
    AlreadyInitialised,
    /// The log file (or its directory) could not be opened.
    OpenFile {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
    /// The logger thread could not be spawned.
    SpawnThread(io::Error),
}

impl fmt::Display for LoggingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyInitialised => f.write_str("a logger is already installed"),
            Self::OpenFile { path, source } => {
                write!(f, "cannot open log file {}: {source}", path.display())
            }
            Self::SpawnThread(e) => write!(f, "cannot spawn the logger thread: {e}"),
        }
    }
}

impl std::error::Error for LoggingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::AlreadyInitialised => None,
            Self::OpenFile { source, .. } | Self::SpawnThread(source) => Some(source),
        }
    }
}

/// The `log::Log` front end: turns a record into a [`LogLine`] and hands it
/// to the logger thread without blocking.
#[derive(Debug, Clone)]
pub(crate) struct ChannelLogger {
    /// Bounded queue to the logger thread.
    tx: Sender<LogMsg>,
    /// Records dropped because the queue was full or closed.
    dropped: Arc<AtomicU64>,
}

impl log::Log for ChannelLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    /// Formats the record and `try_send`s it; never blocks. A full or
    /// closed channel drops the record and counts it.
    fn log(&self, record: &log::Record<'_>) {
        let line = LogLine {
            level: record.level(),
            unix_ns: now_unix_ns(),
            target: record.target().to_owned(),
            message: record.args().to_string(),
        };
        match self.tx.try_send(LogMsg::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Does nothing: flushing is the logger thread's job
    /// ([`LoggerGuard::flush`] waits for it).
    fn flush(&self) {}
}

/// Returns the wall-clock time in ns since the Unix epoch (0 if the clock is
/// before 1970, saturating after 2262).
fn now_unix_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Owns the logger thread: [`LoggerGuard::flush`] waits until everything
/// queued is written; dropping the guard writes what is queued, flushes and
/// joins the thread. Records logged after that are dropped (and counted).
#[derive(Debug)]
pub struct LoggerGuard {
    /// Control messages to the logger thread.
    tx: Sender<LogMsg>,
    /// Records dropped so far.
    dropped: Arc<AtomicU64>,
    /// The logger thread; `None` once joined.
    thread: Option<JoinHandle<()>>,
}

impl LoggerGuard {
    /// Returns how many records were dropped because the channel was full
    /// (or the logger had stopped).
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Blocks until every record queued before this call is written and the
    /// outputs are flushed. Returns immediately if the logger thread is gone.
    pub fn flush(&self) {
        let (ack_tx, ack_rx) = crossbeam_channel::bounded(1);
        if self.tx.send(LogMsg::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv();
        }
    }
}

impl Drop for LoggerGuard {
    fn drop(&mut self) {
        // A blocking send is fine here: the logger thread is draining, and
        // if it has died the send fails at once.
        let _ = self.tx.send(LogMsg::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where the logger thread writes.
struct Sink {
    /// Line shape.
    format: LogFormat,
    /// Console output and its colours (`None`: not coloured).
    console: Option<(Box<dyn Write + Send>, Option<ColoredLevelConfig>)>,
    /// The rotating file, if any.
    file: Option<RotatingFile>,
    /// Reused line buffer.
    buf: String,
    /// Whether a file write error was already reported on stderr.
    file_error_reported: bool,
}

impl Sink {
    /// Writes one record to every output.
    fn write(&mut self, line: &LogLine) {
        if let Some((console, colours)) = &mut self.console {
            self.buf.clear();
            format::render(line, self.format, colours.as_ref(), &mut self.buf);
            // Nothing sensible to do if stderr itself fails.
            let _ = console.write_all(self.buf.as_bytes());
        }
        if let Some(file) = &mut self.file {
            self.buf.clear();
            format::render(line, self.format, None, &mut self.buf);
            if let Err(e) = file.write_line(self.buf.as_bytes()) {
                self.report_file_error(&e);
            }
        }
    }

    /// Flushes every output.
    fn flush(&mut self) {
        if let Some((console, _)) = &mut self.console {
            let _ = console.flush();
        }
        if let Some(file) = &mut self.file {
            if let Err(e) = file.flush() {
                self.report_file_error(&e);
            }
        }
    }

    /// Tells stderr, once, that the log file cannot be written (the logger
    /// cannot log its own failure).
    fn report_file_error(&mut self, e: &io::Error) {
        if !self.file_error_reported {
            self.file_error_reported = true;
            let _ = writeln!(
                io::stderr(),
                "Log file write failed, file logging degraded: {e}"
            );
        }
    }
}

/// The logger thread's loop: write records, reporting drops, until
/// shutdown or until every sender is gone.
fn run(rx: &Receiver<LogMsg>, mut sink: Sink, dropped: &AtomicU64) {
    let mut reported = 0;
    let mut report_drops = |sink: &mut Sink| {
        let now = dropped.load(Ordering::Relaxed);
        if now > reported {
            sink.write(&LogLine {
                level: log::Level::Warn,
                unix_ns: now_unix_ns(),
                target: module_path!().to_owned(),
                message: format!(
                    "Dropped {} log records because the log channel was full",
                    now - reported
                ),
            });
            reported = now;
        }
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            LogMsg::Line(line) => {
                report_drops(&mut sink);
                sink.write(&line);
            }
            LogMsg::Flush(ack) => {
                sink.flush();
                let _ = ack.send(());
            }
            LogMsg::Shutdown => {
                while let Ok(LogMsg::Line(line)) = rx.try_recv() {
                    sink.write(&line);
                }
                break;
            }
        }
        if rx.is_empty() {
            sink.flush();
        }
    }
    report_drops(&mut sink);
    sink.flush();
}

/// Starts a logger thread for `config` without installing it globally;
/// returns the front end to log through and the guard. Relative file paths
/// are resolved against `working_dir`. `console` replaces stderr (tests
/// pass a buffer); `None` means stderr.
fn start(
    config: &LoggingConfig,
    working_dir: &Path,
    console: Option<Box<dyn Write + Send>>,
) -> Result<(ChannelLogger, LoggerGuard), LoggingError> {
    let file = match &config.file {
        Some(path) => {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                working_dir.join(path)
            };
            let file = RotatingFile::open(&path, config.rotate_size_bytes, config.rotate_keep)
                .map_err(|source| LoggingError::OpenFile { path, source })?;
            Some(file)
        }
        None => None,
    };
    let use_colour = match config.colour {
        ColourMode::Always => true,
        ColourMode::Never => false,
        ColourMode::Auto => console.is_none() && io::stderr().is_terminal(),
    };
    let colours = (use_colour && config.format == LogFormat::Text).then(format::level_colours);
    let console: Box<dyn Write + Send> = console.unwrap_or_else(|| Box::new(io::stderr()));
    let sink = Sink {
        format: config.format,
        console: Some((console, colours)),
        file,
        buf: String::with_capacity(256),
        file_error_reported: false,
    };
    let (tx, rx) = crossbeam_channel::bounded(config.channel_capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    let thread_dropped = Arc::clone(&dropped);
    let thread = std::thread::Builder::new()
        .name("logger".to_owned())
        .spawn(move || run(&rx, sink, &thread_dropped))
        .map_err(LoggingError::SpawnThread)?;
    let logger = ChannelLogger {
        tx: tx.clone(),
        dropped: Arc::clone(&dropped),
    };
    Ok((
        logger,
        LoggerGuard {
            tx,
            dropped,
            thread: Some(thread),
        },
    ))
}

/// Installs the process logger (once, in `main`): fern dispatches every
/// record at or above `config.level` to a [`ChannelLogger`] feeding the
/// logger thread. Relative `config.file` is resolved against `working_dir`.
///
/// # Errors
/// [`LoggingError::OpenFile`] if the log file cannot be opened,
/// [`LoggingError::SpawnThread`] if the thread cannot start,
/// [`LoggingError::AlreadyInitialised`] on a second call.
pub fn init(config: &LoggingConfig, working_dir: &Path) -> Result<LoggerGuard, LoggingError> {
    let (logger, guard) = start(config, working_dir, None)?;
    fern::Dispatch::new()
        .level(log::LevelFilter::Trace)
        .chain(Box::new(logger) as Box<dyn log::Log>)
        .apply()
        .map_err(|_| LoggingError::AlreadyInitialised)?;
    set_level(config.level);
    Ok(guard)
}

/// Changes the process log level (e.g. on a SIGHUP reload of
/// `logging.level`).
pub fn set_level(level: LogLevel) {
    log::set_max_level(level.to_level_filter());
}

#[cfg(test)]
mod tests;
