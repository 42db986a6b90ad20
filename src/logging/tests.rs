//! Tests of the channel logger, the logger thread and global installation.

use super::*;
use std::sync::Mutex;
use std::time::Duration;

/// A console replacement the test can read back.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn emit(logger: &ChannelLogger, level: log::Level, message: &str) {
    log::Log::log(
        logger,
        &log::Record::builder()
            .level(level)
            .target("test_target")
            .args(format_args!("{message}"))
            .build(),
    );
}

fn file_config(format: LogFormat) -> LoggingConfig {
    LoggingConfig {
        format,
        colour: ColourMode::Never,
        file: Some(PathBuf::from("logs/engine.log")),
        rotate_size_bytes: 4096,
        rotate_keep: 3,
        channel_capacity: 1024,
        ..LoggingConfig::default()
    }
}

#[test]
fn a_logging_call_never_blocks_when_the_channel_is_full() {
    // No logger thread drains this channel: after two records it is full.
    let (tx, rx) = crossbeam_channel::bounded(2);
    let dropped = Arc::new(AtomicU64::new(0));
    let logger = ChannelLogger {
        tx,
        dropped: Arc::clone(&dropped),
    };
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        for i in 0..1000 {
            emit(&logger, log::Level::Info, &format!("Record {i}"));
        }
        done_tx.send(()).unwrap();
    });
    // A blocking try_send would never finish; the bound only limits how long
    // a broken implementation hangs the suite.
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("logging blocked on a full channel");
    assert_eq!(dropped.load(Ordering::Relaxed), 998);
    assert_eq!(rx.len(), 2);
}

#[test]
fn records_reach_console_and_file_in_order_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let console = SharedBuf::default();
    let (logger, guard) = start(
        &LoggingConfig {
            rotate_size_bytes: 1 << 20,
            ..file_config(LogFormat::Json)
        },
        dir.path(),
        Some(Box::new(console.clone())),
    )
    .unwrap();
    for i in 0..50 {
        emit(
            &logger,
            log::Level::Info,
            &format!("Record \"{i}\"\nsecond line"),
        );
    }
    drop(guard);
    let file_text = std::fs::read_to_string(dir.path().join("logs/engine.log")).unwrap();
    assert!(file_text == console.text(), "console and file differ");
    let messages: Vec<String> = file_text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["level"], "INFO");
            assert_eq!(v["target"], "test_target");
            v["message"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: Vec<String> = (0..50)
        .map(|i| format!("Record \"{i}\"\nsecond line"))
        .collect();
    assert_eq!(messages, expected);
}

#[test]
fn the_logger_thread_rotates_the_file_and_keeps_n_files() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, guard) = start(
        &file_config(LogFormat::Text),
        dir.path(),
        Some(Box::new(SharedBuf::default())),
    )
    .unwrap();
    for i in 0..400 {
        emit(
            &logger,
            log::Level::Warn,
            &format!("Record {i:04} padding padding padding"),
        );
    }
    drop(guard);
    let logs = dir.path().join("logs");
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["engine.log", "engine.log.1", "engine.log.2"]);
    for name in &names {
        let len = std::fs::metadata(logs.join(name)).unwrap().len();
        assert!(len <= 4096, "{name} is {len} bytes");
    }
    let newest = std::fs::read_to_string(logs.join("engine.log")).unwrap();
    assert!(
        newest
            .trim_end()
            .ends_with("test_target: Record 0399 padding padding padding"),
        "{newest}"
    );
}

#[test]
fn flush_waits_until_queued_records_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, guard) = start(
        &file_config(LogFormat::Text),
        dir.path(),
        Some(Box::new(SharedBuf::default())),
    )
    .unwrap();
    emit(&logger, log::Level::Error, "Before flush");
    guard.flush();
    let text = std::fs::read_to_string(dir.path().join("logs/engine.log")).unwrap();
    assert!(text.contains("ERROR test_target: Before flush"), "{text:?}");
    drop(guard);
    // After shutdown, records are dropped and counted, never blocking.
    emit(&logger, log::Level::Error, "After shutdown");
    assert_eq!(logger.dropped.load(Ordering::Relaxed), 1);
}

#[test]
fn dropped_records_are_reported_by_the_logger_thread() {
    let (tx, rx) = crossbeam_channel::bounded(4);
    let dropped = Arc::new(AtomicU64::new(0));
    let logger = ChannelLogger {
        tx,
        dropped: Arc::clone(&dropped),
    };
    for i in 0..6 {
        emit(&logger, log::Level::Info, &format!("Record {i}"));
    }
    drop(logger);
    let console = SharedBuf::default();
    let sink = Sink {
        format: LogFormat::Text,
        console: Some((Box::new(console.clone()), None)),
        file: None,
        buf: String::new(),
        file_error_reported: false,
    };
    run(&rx, sink, &dropped);
    let text = console.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].ends_with("Dropped 2 log records because the log channel was full"),
        "{text}"
    );
    assert!(lines[4].ends_with("test_target: Record 3"), "{text}");
}

#[test]
fn init_installs_the_global_logger_once_and_sets_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let config = LoggingConfig {
        level: LogLevel::Warn,
        ..file_config(LogFormat::Text)
    };
    let guard = init(&config, dir.path()).unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Warn);
    log::info!("Filtered out");
    log::warn!("Through the global logger");
    guard.flush();
    let text = std::fs::read_to_string(dir.path().join("logs/engine.log")).unwrap();
    assert!(
        text.contains("WARN  trading_engine::logging::tests: Through the global logger"),
        "{text:?}"
    );
    assert!(!text.contains("Filtered out"));
    set_level(LogLevel::Debug);
    assert_eq!(log::max_level(), log::LevelFilter::Debug);
    assert!(matches!(
        init(&config, dir.path()),
        Err(LoggingError::AlreadyInitialised)
    ));
    set_level(LogLevel::Warn);
}

#[test]
fn an_unopenable_log_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logs"), "a file, not a directory").unwrap();
    let err = start(&file_config(LogFormat::Text), dir.path(), None).unwrap_err();
    assert!(matches!(err, LoggingError::OpenFile { .. }));
    assert!(err.to_string().contains("logs/engine.log"), "{err}");
}
