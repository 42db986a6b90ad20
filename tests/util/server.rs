//! A scripted HTTP/1.1 test server (plain or TLS) on 127.0.0.1.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

const HARD_CAP: Duration = Duration::from_secs(60);

/// One received request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Raw query string (after `?`), as received.
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// `Some(valid)` when a `signature` parameter was present.
    pub signature_ok: Option<bool>,
    /// Connection number (0-based, per server).
    pub conn: u64,
}

impl Recorded {
    /// Returns the first value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
    }

    /// Returns the query without `timestamp` and `signature`.
    pub fn stable_query(&self) -> String {
        self.query
            .split('&')
            .filter(|kv| !kv.starts_with("timestamp=") && !kv.starts_with("signature="))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Returns the value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send the reply and keep the connection.
    Reply,
    /// Send the reply, then close the connection.
    ReplyThenClose,
    /// Close the connection without replying.
    Drop,
    /// Wait, then send the reply.
    Delay(Duration),
}

/// A scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub chunked: bool,
    pub action: Action,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: &str) -> Self {
        Self::status_json(200, body)
    }

    /// Any status with a JSON body.
    pub fn status_json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            chunked: false,
            action: Action::Reply,
        }
    }

    /// Envelope error reply (HTTP 200, non-zero code).
    pub fn code(code: i64, msg: &str) -> Self {
        Self::json(&format!(r#"{{"code":{code},"msg":"{msg}","data":{{}}}}"#))
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    pub fn action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }
}

type Handler = Box<dyn FnMut(&Recorded) -> Reply + Send>;

/// TLS material of a TLS test server.
pub struct TlsMaterial {
    pub dir: tempfile::TempDir,
    pub ca_path: std::path::PathBuf,
    config: Arc<rustls::ServerConfig>,
}

/// The running server; stops on drop.
pub struct TestServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    log: Arc<Mutex<Vec<Recorded>>>,
    pub tls: Option<TlsMaterial>,
}

impl TestServer {
    /// Starts a plain HTTP server verifying signatures with `secret`.
    pub fn start(secret: &str, handler: impl FnMut(&Recorded) -> Reply + Send + 'static) -> Self {
        Self::start_inner(secret, Box::new(handler), None)
    }

    /// Starts an HTTPS server with a fresh self-signed certificate for 127.0.0.1.
    pub fn start_tls(
        secret: &str,
        handler: impl FnMut(&Recorded) -> Reply + Send + 'static,
    ) -> Self {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, cert.cert.pem()).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()),
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        let tls = TlsMaterial {
            dir,
            ca_path,
            config: Arc::new(config),
        };
        Self::start_inner(secret, Box::new(handler), Some(tls))
    }

    fn start_inner(secret: &str, handler: Handler, tls: Option<TlsMaterial>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(Mutex::new(handler));
        let secret = secret.as_bytes().to_vec();
        let tls_config = tls.as_ref().map(|t| t.config.clone());
        let (stop2, log2) = (stop.clone(), log.clone());
        let accept = std::thread::spawn(move || {
            let started = Instant::now();
            let conns = AtomicU64::new(0);
            let mut workers = Vec::new();
            while !stop2.load(Ordering::SeqCst) && started.elapsed() < HARD_CAP {
                match listener.accept() {
                    Ok((sock, _)) => {
                        sock.set_nonblocking(false).unwrap();
                        sock.set_read_timeout(Some(Duration::from_millis(20)))
                            .unwrap();
                        let ctx = ConnCtx {
                            id: conns.fetch_add(1, Ordering::SeqCst),
                            stop: stop2.clone(),
                            log: log2.clone(),
                            handler: handler.clone(),
                            secret: secret.clone(),
                            started,
                        };
                        let tls_config = tls_config.clone();
                        workers.push(std::thread::spawn(move || match tls_config {
                            None => serve(sock, ctx),
                            Some(cfg) => {
                                let conn = rustls::ServerConnection::new(cfg).unwrap();
                                serve(rustls::StreamOwned::new(conn, sock), ctx)
                            }
                        }));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => break,
                }
            }
            stop2.store(true, Ordering::SeqCst);
            for w in workers {
                let _ = w.join();
            }
        });
        Self {
            addr,
            stop,
            accept: Some(accept),
            log,
            tls,
        }
    }

    /// Returns `http://127.0.0.1:PORT` or `https://...`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Returns every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

struct ConnCtx {
    id: u64,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Recorded>>>,
    handler: Arc<Mutex<Handler>>,
    secret: Vec<u8>,
    started: Instant,
}

/// Verifies the signature over the raw query minus its `signature` pair (§3.4).
fn verify(secret: &[u8], query: &str) -> Option<bool> {
    let pairs: Vec<&str> = query.split('&').collect();
    let sig = pairs.iter().find_map(|p| p.strip_prefix("signature="))?;
    let rest: Vec<&str> = pairs
        .iter()
        .copied()
        .filter(|p| !p.starts_with("signature="))
        .collect();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap();
    mac.update(rest.join("&").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(expected == sig)
}

fn serve<S: Read + Write>(mut sock: S, ctx: ConnCtx) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if ctx.stop.load(Ordering::SeqCst) || ctx.started.elapsed() > HARD_CAP {
            return;
        }
        // Parse one request head (our client never sends a body).
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        let parsed = match req.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => Some(n),
            Ok(httparse::Status::Partial) => None,
            Err(_) => return,
        };
        let Some(head_len) = parsed else {
            match sock.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
            continue;
        };
        let target = req.path.unwrap_or("").to_owned();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let rec = Recorded {
            method: req.method.unwrap_or("").to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_owned(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect::<HashMap<_, _>>()
                .into_iter()
                .collect(),
            signature_ok: verify(&ctx.secret, query),
            conn: ctx.id,
        };
        buf.drain(..head_len);
        ctx.log.lock().unwrap().push(rec.clone());
        let reply = (ctx.handler.lock().unwrap())(&rec);
        match reply.action {
            Action::Drop => return,
            Action::Delay(d) => std::thread::sleep(d),
            Action::Reply | Action::ReplyThenClose => {}
        }
        let mut out = format!("HTTP/1.1 {} Scripted\r\n", reply.status).into_bytes();
        for (n, v) in &reply.headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        if reply.chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let mid = reply.body.len() / 2;
            for part in [&reply.body[..mid], &reply.body[mid..]] {
                if !part.is_empty() {
                    out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                    out.extend_from_slice(part);
                    out.extend_from_slice(b"\r\n");
                }
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(
                format!("Content-Length: {}\r\n\r\n", reply.body.len()).as_bytes(),
            );
            out.extend_from_slice(&reply.body);
        }
        if sock.write_all(&out).and_then(|()| sock.flush()).is_err() {
            return;
        }
        if matches!(reply.action, Action::ReplyThenClose) {
            return;
        }
    }
}
