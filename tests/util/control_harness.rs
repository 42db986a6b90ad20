//! Test harness for the control server: starts a server on 127.0.0.1
//! with an ephemeral port and a simulated engine thread answering the
//! command channel, and sends raw HTTP requests.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helper: a failure here is a test failure"
)]

use crossbeam_channel::Receiver;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use trading_engine::control::{
    ControlCommand, ControlReply, ControlRequest, ControlServer, ControlServerHandle, ControlToken,
    ServerLimits, SharedMetrics,
};

/// Token the tests configure.
pub const TOKEN: &str = "test-control-token-7f3a";

/// A running server and, optionally, its simulated engine.
pub struct Harness {
    /// The server (stopped on drop).
    server: Option<ControlServerHandle>,
    /// Its address.
    addr: SocketAddr,
    /// Where the tests publish snapshots.
    pub metrics: SharedMetrics,
    /// Commands the simulated engine received, with their peers.
    pub received: Arc<Mutex<Vec<(ControlCommand, SocketAddr)>>>,
    /// The engine thread (ends when the server's sender is dropped).
    engine: Option<JoinHandle<()>>,
    /// The command receiver when no engine thread was started.
    pub commands: Option<Receiver<ControlRequest>>,
}

impl Harness {
    /// Returns the server address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// The simulated engine: `status` answers JSON, `halt` halts, `resume`
/// is declined unless halted, `flatten` and `reload` are accepted.
fn engine(rx: Receiver<ControlRequest>, received: Arc<Mutex<Vec<(ControlCommand, SocketAddr)>>>) {
    let mut halted = false;
    while let Ok(req) = rx.recv() {
        received.lock().unwrap().push((req.command, req.peer));
        let reply = match req.command {
            ControlCommand::Status => ControlReply::json(
                true,
                &serde_json::json!({"mode": "paper", "halted": halted, "open_positions": 0}),
            ),
            ControlCommand::Halt => {
                halted = true;
                ControlReply::accepted("Halted: no new positions will be opened")
            }
            ControlCommand::Resume if halted => {
                halted = false;
                ControlReply::accepted("Resumed")
            }
            ControlCommand::Resume => ControlReply::declined("Not halted: nothing to resume"),
            ControlCommand::Reset => {
                halted = false;
                ControlReply::accepted("Reset: not halted, cooldown and locks cleared")
            }
            ControlCommand::Flatten => ControlReply::accepted("Flattening 0 positions; halted"),
            ControlCommand::Reload => ControlReply::accepted("Configuration reloaded: 0 changes"),
        };
        req.respond(reply);
    }
}

/// Starts a server with `token` and `limits`; with `with_engine` a
/// simulated engine answers, otherwise the receiver is kept in
/// `Harness::commands` for the test to handle.
pub fn start(token: Option<&str>, limits: ServerLimits, with_engine: bool) -> Harness {
    let (tx, rx) = crossbeam_channel::bounded(8);
    let metrics = SharedMetrics::new();
    let server = ControlServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        metrics.clone(),
        tx,
        token.and_then(ControlToken::new),
    )
    .unwrap()
    .with_limits(limits)
    .spawn()
    .unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let (engine, commands) = if with_engine {
        let r = Arc::clone(&received);
        (Some(std::thread::spawn(move || engine(rx, r))), None)
    } else {
        (None, Some(rx))
    };
    Harness {
        addr: server.local_addr(),
        server: Some(server),
        metrics,
        received,
        engine,
        commands,
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Stopping the server drops its sender, which ends the engine.
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        if let Some(engine) = self.engine.take() {
            engine.join().unwrap();
        }
    }
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
    /// The client's own address (the server's "peer").
    pub local: SocketAddr,
}

impl Reply {
    /// Returns the value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `raw` to `addr` and reads the whole response.
pub fn send_raw(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let local = s.local_addr().unwrap();
    s.write_all(raw).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status = status_line[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_ascii_lowercase(), v.to_owned())
        })
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
        local,
    }
}

/// Sends `method path` with an optional bearer token.
pub fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> Reply {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let raw =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\n\r\n");
    send_raw(addr, raw.as_bytes())
}
