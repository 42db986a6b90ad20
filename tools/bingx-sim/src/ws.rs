//! WebSocket side of the simulator: the `/swap-market` market stream (subscribe/unsubscribe,
//! gzip pushes) and the user-data stream (`?listenKey=`), both with the BingX `Ping`/`Pong`
//! heartbeat and the WebSocket fault injections.
//!
//! Consumes an upgraded connection and the frames queued for it by the feed or the exchange;
//! produces gzip binary frames. Never blocks the feed: each connection drains its own bounded
//! queue on its own thread.

use super::conn::Conn;
use super::gzip::gzip;
use super::http::{write_response, Request};
use super::market::MarketState;
use super::rng::SimRng;
use super::{lock, Shared};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, SendTimeoutError, Sender};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::protocol::Role;
use tungstenite::{Bytes, Message, WebSocket};

/// Frames queued per connection before it counts as too slow.
const QUEUE_FRAMES: usize = 4_096;
/// Maximum topics per connection (BingX: 200, error 80403 beyond).
const MAX_TOPICS: usize = 200;

/// One market-stream connection as the feed sees it.
#[derive(Debug)]
pub struct MarketSub {
    topics: Mutex<HashSet<String>>,
    tx: Sender<Bytes>,
    alive: AtomicBool,
}

impl MarketSub {
    /// Returns true when the connection subscribed `topic`.
    #[must_use]
    pub fn wants(&self, topic: &str) -> bool {
        lock(&self.topics).contains(topic)
    }

    /// Returns the subscribed topics.
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        lock(&self.topics).iter().cloned().collect()
    }

    /// Returns true when the connection subscribed at least one topic.
    #[must_use]
    pub fn has_topics(&self) -> bool {
        !lock(&self.topics).is_empty()
    }

    /// Queues a frame; `blocking` waits up to 5 s for room (speed `max`), otherwise a full
    /// queue marks the client too slow. Returns false once the client is gone.
    pub fn deliver(&self, frame: &Bytes, blocking: bool) -> bool {
        if !self.alive.load(Ordering::Acquire) {
            return false;
        }
        let ok = if blocking {
            // Wait up to 5 s in short slices so a client that leaves (or a shutdown, which
            // ends the connection thread) releases the feed at once.
            let mut sent = false;
            for _ in 0..100 {
                match self
                    .tx
                    .send_timeout(frame.clone(), Duration::from_millis(50))
                {
                    Ok(()) => {
                        sent = true;
                        break;
                    }
                    Err(SendTimeoutError::Timeout(_)) if self.is_alive() => {}
                    Err(_) => break,
                }
            }
            sent
        } else {
            self.tx.try_send(frame.clone()).is_ok()
        };
        if !ok {
            log::warn!("Market stream client too slow or gone, dropping it");
            self.alive.store(false, Ordering::Release);
        }
        ok
    }

    /// Returns true while the connection is open.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }
}

/// Which stream a connection carries.
enum Stream {
    Market(Arc<MarketSub>),
    User,
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Completes the WebSocket upgrade for `req` and serves the stream until the client leaves,
/// a fault drops it, it misses a `Pong`, or the simulator shuts down.
///
/// # Errors
/// I/O errors while writing the handshake.
pub fn serve(
    mut conn: Conn,
    req: &Request,
    leftover: Vec<u8>,
    shared: &Arc<Shared>,
    conn_no: u64,
) -> io::Result<()> {
    if req.path != "/swap-market" && req.path != "/swap-market/" {
        return write_response(&mut conn, 404, &[], br#"{"code":404,"msg":"Not Found"}"#);
    }
    let Some(key) = req.header("sec-websocket-key") else {
        return write_response(
            &mut conn,
            400,
            &[],
            br#"{"code":400,"msg":"missing Sec-WebSocket-Key"}"#,
        );
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let (tx, rx) = bounded::<Bytes>(QUEUE_FRAMES);
    let stream = match query_param(&req.query, "listenKey") {
        Some(listen_key) => {
            if !lock(&shared.exchange).add_user_sub(listen_key, tx) {
                log::warn!("User stream refused: unknown listen key");
                return write_response(
                    &mut conn,
                    404,
                    &[],
                    br#"{"code":404,"msg":"listenKey does not exist"}"#,
                );
            }
            log::info!("User stream connected (connection {conn_no})");
            Stream::User
        }
        None => {
            let sub = Arc::new(MarketSub {
                topics: Mutex::new(HashSet::new()),
                tx,
                alive: AtomicBool::new(true),
            });
            shared.hub.add(Arc::clone(&sub));
            log::info!("Market stream connected (connection {conn_no})");
            Stream::Market(sub)
        }
    };
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    conn.write_all(head.as_bytes())?;
    conn.flush()?;
    conn.set_read_timeout(Some(Duration::from_millis(1)))?;
    let ws = WebSocket::from_partially_read(conn, leftover, Role::Server, None);
    let mut session = Session {
        ws,
        rx,
        stream,
        shared: Arc::clone(shared),
        rng: SimRng::new(shared.cfg.seed ^ conn_no.wrapping_mul(0x5851_F42D_4C95_7F2D)),
        conn_no,
    };
    session.run();
    if let Stream::Market(sub) = &session.stream {
        sub.alive.store(false, Ordering::Release);
    }
    Ok(())
}

struct Session {
    ws: WebSocket<Conn>,
    rx: Receiver<Bytes>,
    stream: Stream,
    shared: Arc<Shared>,
    rng: SimRng,
    conn_no: u64,
}

enum Exit {
    Continue,
    Stop(&'static str),
}

impl Session {
    fn run(&mut self) {
        let shared = Arc::clone(&self.shared);
        let cfg = &shared.cfg;
        let started = Instant::now();
        let ping_every = Duration::from_millis(cfg.ping_interval_ms.max(1));
        let pong_timeout = Duration::from_millis(cfg.pong_timeout_ms.max(1));
        let drop_after = cfg.faults.drop_ws_every_ms.map(Duration::from_millis);
        let mut next_ping = started + ping_every;
        let mut awaiting_pong: Option<Instant> = None;
        let ping = Bytes::from(gzip(b"Ping"));
        let reason = loop {
            if self.shared.shutdown.load(Ordering::Acquire) {
                let _ = self.ws.close(None);
                let _ = self.ws.flush();
                break "simulator shutting down";
            }
            if let Stream::Market(sub) = &self.stream {
                if !sub.is_alive() {
                    break "client too slow";
                }
            }
            if drop_after.is_some_and(|d| started.elapsed() >= d) {
                let _ = self.ws.get_ref().shutdown();
                break "fault injection --drop-ws-every";
            }
            match self.rx.recv_timeout(Duration::from_millis(5)) {
                Ok(frame) => {
                    if let Exit::Stop(r) = self.send_data(frame) {
                        break r;
                    }
                    let mut more = 0;
                    while let Ok(frame) = self.rx.try_recv() {
                        if let Exit::Stop(_) = self.send_data(frame) {
                            break;
                        }
                        more += 1;
                        if more >= 256 {
                            break;
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // The listen key was deleted or expired; keep heartbeating until the
                    // client leaves.
                    if matches!(self.stream, Stream::User) {
                        self.rx = crossbeam_channel::never();
                    } else {
                        break "feed gone";
                    }
                }
            }
            let now = Instant::now();
            if now >= next_ping {
                if self.ws.send(Message::Binary(ping.clone())).is_err() {
                    break "write failed";
                }
                awaiting_pong.get_or_insert(now);
                next_ping = now + ping_every;
            }
            if awaiting_pong.is_some_and(|t| now.duration_since(t) > pong_timeout) {
                let _ = self.ws.get_ref().shutdown();
                break "no Pong in time";
            }
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    if t.as_str().trim() == "Pong" {
                        log::debug!("WS {} received Pong", self.conn_no);
                        awaiting_pong = None;
                    } else if let Exit::Stop(r) = self.on_request(t.as_str()) {
                        break r;
                    }
                }
                Ok(Message::Binary(b)) if b.as_ref() == b"Pong" => awaiting_pong = None,
                Ok(Message::Close(_)) => break "client closed",
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    break "client closed"
                }
                Err(e) => {
                    log::info!("WS {} read error: {e}", self.conn_no);
                    break "read error";
                }
            }
        };
        log::info!("WS connection {} ended: {reason}", self.conn_no);
    }

    fn send_data(&mut self, frame: Bytes) -> Exit {
        let rate = self.shared.cfg.faults.malformed_rate;
        let msg = if matches!(self.stream, Stream::Market(_)) && self.rng.chance(rate) {
            self.shared.faults.count_malformed();
            match self.rng.range_i64(0, 2) {
                0 => Message::Binary(frame.slice(..frame.len() / 2)),
                1 => Message::Binary(Bytes::from(gzip(b"{\"code\":0,\"dataType\":"))),
                _ => Message::Text("{\"code\":0,\"data".into()),
            }
        } else {
            Message::Binary(frame)
        };
        if matches!(self.stream, Stream::Market(_)) {
            self.shared.probe.market_frame_writing(Instant::now());
        }
        match self.ws.send(msg) {
            Ok(()) => Exit::Continue,
            Err(_) => Exit::Stop("write failed"),
        }
    }

    fn reply(&mut self, v: &Value) -> Exit {
        self.send_data_plain(Bytes::from(gzip(v.to_string().as_bytes())))
    }

    fn send_data_plain(&mut self, frame: Bytes) -> Exit {
        match self.ws.send(Message::Binary(frame)) {
            Ok(()) => Exit::Continue,
            Err(_) => Exit::Stop("write failed"),
        }
    }

    fn on_request(&mut self, text: &str) -> Exit {
        log::info!("WS {} received {text}", self.conn_no);
        let parsed: Option<Value> = serde_json::from_str(text).ok();
        let id = parsed
            .as_ref()
            .and_then(|v| v.get("id"))
            .cloned()
            .unwrap_or(json!(""));
        let ack = |code: i64, msg: &str| json!({"id": id, "code": code, "msg": msg, "dataType": "", "data": null});
        let Stream::Market(sub) = &self.stream else {
            return self.reply(&ack(80_014, "the user data stream takes no subscriptions"));
        };
        let Some(req) = parsed else {
            return self.reply(&ack(80_014, "invalid request"));
        };
        let data_type = req.get("dataType").and_then(Value::as_str).unwrap_or("");
        let answer = match req.get("reqType").and_then(Value::as_str) {
            Some("sub") => {
                let mut topics = lock(&sub.topics);
                if !MarketState::serves_topic(&self.shared.cfg.symbol, data_type) {
                    ack(80_015, &format!("dataType {data_type} not supported"))
                } else if topics.len() >= MAX_TOPICS && !topics.contains(data_type) {
                    ack(80_403, "too many topics on this connection")
                } else {
                    topics.insert(data_type.to_owned());
                    ack(0, "")
                }
            }
            Some("unsub") => {
                lock(&sub.topics).remove(data_type);
                ack(0, "")
            }
            _ => ack(80_014, "reqType must be sub or unsub"),
        };
        self.reply(&answer)
    }
}
