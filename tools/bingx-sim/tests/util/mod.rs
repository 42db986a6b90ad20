//! Minimal raw clients for the simulator tests: HTTP/1.1 over TCP or rustls with the
//! simulator's certificate, request signing written from the protocol document, and a
//! tungstenite WebSocket client that un-gzips frames. Every read is bounded by a deadline.
#![allow(dead_code, reason = "each test crate uses a different subset")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helper: failures should abort the test"
)]

use bingx_sim::{SimConfig, SimHandle, Simulator, Speed};
use flate2::read::GzDecoder;
use hmac::{Hmac, Mac};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::Value;
use sha2::Sha256;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tungstenite::{Message, WebSocket};

pub const KEY: &str = "sim-key";
pub const SECRET: &str = "sim-secret";

/// A test simulator: manual speed (trades only through `inject_trade`), no warm-up history
/// beyond a single seeded trade at 60000.0.
pub fn manual(cfg: SimConfig) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Manual,
        warmup_minutes: 0,
        ..cfg
    })
    .unwrap();
    sim.inject_trade("60000.0", "0.0100", false).unwrap();
    sim
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn gunzip(data: &[u8]) -> io::Result<String> {
    let mut s = String::new();
    GzDecoder::new(data).read_to_string(&mut s)?;
    Ok(s)
}

pub fn sign(secret: &str, msg: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(s) => s,
            Self::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Client {
    pub addr: SocketAddr,
    pub tls: Option<Arc<ClientConfig>>,
    pub key: String,
    pub secret: String,
}

impl Client {
    pub fn new(sim: &SimHandle) -> Self {
        let tls = sim.cert_pem().map(|pem| {
            let mut roots = RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            Arc::new(
                ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            )
        });
        Self {
            addr: sim.addr(),
            tls,
            key: KEY.into(),
            secret: SECRET.into(),
        }
    }

    pub fn connect(&self) -> Stream {
        let tcp = TcpStream::connect(self.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        match &self.tls {
            None => Stream::Plain(tcp),
            Some(cfg) => {
                let name = ServerName::try_from("127.0.0.1").unwrap();
                let conn = ClientConnection::new(Arc::clone(cfg), name).unwrap();
                Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
            }
        }
    }

    /// Sends one request (`Connection: close`) and reads the response by Content-Length.
    pub fn raw(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response {
        let mut s = self.connect();
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        s.flush().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..pos]).into_owned();
                let mut lines = head.split("\r\n");
                let status: u16 = lines
                    .next()
                    .unwrap()
                    .split(' ')
                    .nth(1)
                    .unwrap()
                    .parse()
                    .unwrap();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map_or(0, |(_, v)| v.parse().unwrap());
                if buf.len() >= pos + 4 + len {
                    let body = String::from_utf8(buf[pos + 4..pos + 4 + len].to_vec()).unwrap();
                    return Response {
                        status,
                        headers,
                        body,
                    };
                }
            }
            let n = s.read(&mut chunk).expect("response read");
            assert!(n > 0, "connection closed before the full response");
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn public(&self, path: &str, query: &str) -> Value {
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let r = self.raw("GET", &target, &[], "");
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    }

    /// Returns the sorted, timestamped parameter string (without signature).
    pub fn query(&self, params: &[(&str, &str)]) -> String {
        let ts = now_ms().to_string();
        let mut all: Vec<(&str, &str)> = params.to_vec();
        if !params.iter().any(|(k, _)| *k == "timestamp") {
            all.push(("timestamp", &ts));
        }
        all.sort();
        all.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Sends a signed request ccxt-style (everything in the query, signature last).
    pub fn signed_raw(&self, method: &str, path: &str, params: &[(&str, &str)]) -> Response {
        let q = self.query(params);
        let sig = sign(&self.secret, &q);
        self.raw(
            method,
            &format!("{path}?{q}&signature={sig}"),
            &[("X-BX-APIKEY", &self.key)],
            "",
        )
    }

    pub fn signed(&self, method: &str, path: &str, params: &[(&str, &str)]) -> Value {
        let r = self.signed_raw(method, path, params);
        assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
        r.json()
    }

    /// Sends a signed request and asserts success (`code` 0); returns `data`.
    pub fn ok(&self, method: &str, path: &str, params: &[(&str, &str)]) -> Value {
        let v = self.signed(method, path, params);
        assert_eq!(v["code"], 0, "{method} {path}: {v}");
        v["data"].clone()
    }

    pub fn ws(&self, path_query: &str) -> WebSocket<Stream> {
        let stream = self.connect();
        // A generous timeout for the handshake (a loaded machine answers
        // late), then the short one the tests poll with.
        stream
            .tcp()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        let url = format!("{scheme}://{}{path_query}", self.addr);
        let (ws, resp) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("WS handshake: {e}"));
        assert_eq!(resp.status(), 101);
        ws.get_ref()
            .tcp()
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        ws
    }

    pub fn listen_key(&self) -> String {
        let r = self.raw(
            "POST",
            "/openApi/user/auth/userDataStream",
            &[("X-BX-APIKEY", &self.key)],
            "",
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["listenKey"].as_str().unwrap().to_owned()
    }
}

/// What one WebSocket read produced.
#[derive(Debug)]
pub enum Event {
    Json(Value),
    Ping,
    /// A frame that is not gzip JSON (or an uncompressed text frame).
    Malformed(String),
    Closed(String),
}

/// Reads the next frame within `timeout`; `None` on time-out.
pub fn next_event(ws: &mut WebSocket<Stream>, timeout: Duration) -> Option<Event> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Binary(b)) => {
                return Some(match gunzip(&b) {
                    Ok(text) if text == "Ping" => Event::Ping,
                    Ok(text) => match serde_json::from_str(&text) {
                        Ok(v) => Event::Json(v),
                        Err(e) => Event::Malformed(format!("bad JSON {e}: {text:?}")),
                    },
                    Err(e) => Event::Malformed(format!("bad gzip: {e}")),
                })
            }
            Ok(Message::Text(t)) => return Some(Event::Malformed(format!("text frame {t}"))),
            Ok(Message::Close(c)) => return Some(Event::Closed(format!("close frame {c:?}"))),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Some(Event::Closed(e.to_string())),
        }
    }
    None
}

/// Returns the next JSON frame satisfying `pred`, answering pings with `Pong`; panics after
/// `timeout`.
pub fn next_json(
    ws: &mut WebSocket<Stream>,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no matching frame within {timeout:?}");
        match next_event(ws, left) {
            Some(Event::Json(v)) if pred(&v) => return v,
            Some(Event::Ping) => ws.send(Message::text("Pong")).unwrap(),
            Some(Event::Closed(why)) => panic!("connection closed: {why}"),
            _ => {}
        }
    }
}

pub fn subscribe(ws: &mut WebSocket<Stream>, id: &str, data_type: &str) -> Value {
    let req = serde_json::json!({"id": id, "reqType": "sub", "dataType": data_type});
    ws.send(Message::text(req.to_string())).unwrap();
    next_json(ws, Duration::from_secs(5), |v| v["id"] == id)
}
