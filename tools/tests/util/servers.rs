//! Real servers for tests, started and stopped by the test: a Prometheus (loopback port,
//! storage in a temporary directory) and the helpers the PostgreSQL harness (`pg_server.rs`)
//! shares. Included by path from the tools and engine test crates.
//!
//! Without the binaries a test is skipped with a `SKIPPED:` line, except under `CI=true`,
//! where `.ci/run` installs them and a missing binary fails the test.
#![allow(
    dead_code,
    reason = "each test crate that includes this file uses part of it"
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// True under CI (`CI=true`), where every server binary must be present.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Returns `None` after printing why the test is skipped; panics under CI.
pub fn skip<T>(what: &str) -> Option<T> {
    assert!(!in_ci(), "{what} (CI installs it through .ci/run)");
    eprintln!("SKIPPED: {what}");
    None
}

/// Finds `name` in PATH or in `extra` directories.
pub fn find_binary(name: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().cloned())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Returns a free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends `signal` (e.g. `INT`) to `pid` through kill(1) (no unsafe in tools).
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status();
}

/// Waits for `child` to exit, at most `limit`; kills it after that.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A Prometheus server on a loopback port, storage in a temporary directory.
pub struct Prometheus {
    dir: tempfile::TempDir,
    server: Child,
    /// Its address, `127.0.0.1:PORT`.
    pub addr: String,
}

impl Prometheus {
    /// Starts Prometheus with the configuration `config` (YAML text); `None` (skipped) when
    /// it is not installed.
    pub fn start(config: &str) -> Option<Self> {
        let Some(bin) = find_binary("prometheus", &[]) else {
            return skip("prometheus not found");
        };
        let dir = tempfile::tempdir().unwrap();
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let server = Command::new(bin)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let p = Self { dir, server, addr };
        let start = Instant::now();
        while http_get(&p.addr, "/-/ready").is_none_or(|(code, _)| code != 200) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "Prometheus did not become ready: {}",
                p.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(p)
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Asks `/api/v1/query` for `promql`; returns the HTTP status and the JSON answer.
    pub fn query(&self, promql: &str) -> (u16, serde_json::Value) {
        let (code, body) = http_get(
            &self.addr,
            &format!("/api/v1/query?query={}", percent(promql)),
        )
        .unwrap_or_else(|| panic!("no answer from Prometheus: {}", self.log()));
        let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
        (code, json)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        signal(self.server.id(), "TERM");
        let _ = wait_bounded(&mut self.server, Duration::from_secs(20));
    }
}

/// Percent-encodes a query parameter.
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A plain HTTP/1.1 GET on loopback; returns the status and the body (`None` when the
/// connection fails).
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Some((code, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
