//! A loopback Binance market-data server: accepts WebSocket connections
//! on 127.0.0.1, records each request target (the combined-stream path)
//! and sends a scripted list of trades as combined-stream `aggTrade`
//! frames, then idles until the client leaves. Every connection thread
//! stops when the client closes, on drop of the handle, or after 60 s.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const HARD_CAP: Duration = Duration::from_secs(60);

/// One scripted trade: exchange time (ms), price text, quantity text.
#[derive(Debug, Clone)]
pub struct AggTrade {
    /// Trade time, ms since the epoch.
    pub time_ms: i64,
    /// Price as Binance prints it.
    pub price: String,
    /// Quantity as Binance prints it.
    pub qty: String,
}

/// A running server.
pub struct BinanceWs {
    /// `ws://127.0.0.1:PORT`.
    pub base_url: String,
    targets: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BinanceWs {
    /// Starts serving `trades` for `symbol` (e.g. `BTCUSDT`) to every
    /// connection, one frame every `every`.
    pub fn start(symbol: &str, trades: Vec<AggTrade>, every: Duration) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let base_url = format!("ws://{}", l.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (t2, s2) = (Arc::clone(&targets), Arc::clone(&stop));
        let symbol = symbol.to_owned();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut conns = Vec::new();
            while !s2.load(Ordering::Acquire) && start.elapsed() < HARD_CAP {
                match l.accept() {
                    Ok((s, _)) => {
                        let (t3, s3) = (Arc::clone(&t2), Arc::clone(&s2));
                        let (sym, tr) = (symbol.clone(), trades.clone());
                        conns.push(std::thread::spawn(move || {
                            serve(s, &sym, &tr, every, &t3, &s3, start);
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for c in conns {
                let _ = c.join();
            }
        });
        Self {
            base_url,
            targets,
            stop,
            thread: Some(thread),
        }
    }

    /// Returns the request targets received, one per connection.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

impl Drop for BinanceWs {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80 | opcode];
    if payload.len() < 126 {
        v.push(payload.len() as u8);
    } else {
        v.push(126);
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

fn serve(
    mut s: TcpStream,
    symbol: &str,
    trades: &[AggTrade],
    every: Duration,
    targets: &Mutex<Vec<String>>,
    stop: &AtomicBool,
    start: Instant,
) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            Ok(_) => return,
            Err(_) if start.elapsed() < HARD_CAP && !stop.load(Ordering::Acquire) => {}
            Err(_) => return,
        }
    }
    let text = String::from_utf8(head).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = tungstenite::handshake::derive_accept_key(key.trim().as_bytes());
    write!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .unwrap();
    targets
        .lock()
        .unwrap()
        .push(text.split(' ').nth(1).unwrap().to_owned());
    let stream = format!("{}@aggTrade", symbol.to_ascii_lowercase());
    for (k, t) in trades.iter().enumerate() {
        let id = k + 1;
        let msg = format!(
            r#"{{"stream":"{stream}","data":{{"e":"aggTrade","E":{},"s":"{symbol}","a":{id},"p":"{}","q":"{}","f":{id},"l":{id},"T":{},"m":false}}}}"#,
            t.time_ms + 1,
            t.price,
            t.qty,
            t.time_ms
        );
        if s.write_all(&frame(0x1, msg.as_bytes())).is_err() {
            return;
        }
        std::thread::sleep(every);
    }
    // Idle until the client closes (or the cap): drain what it sends.
    let mut sink = [0u8; 1024];
    while !stop.load(Ordering::Acquire) && start.elapsed() < HARD_CAP {
        match s.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
