//! Sockets and TLS: the self-signed certificate, the accept loop, TLS accept into a
//! [`Conn`], and the per-connection HTTP loop that hands WebSocket upgrades to [`super::ws`].
//!
//! Consumes the bound listener and shared state; produces one thread per connection, bounded
//! by `max_connections`. Never logs request headers (the API key travels there).

use super::conn::Conn;
use super::http::{read_request, write_response};
use super::{lock, rest, ws, Shared, SimError};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Path of the order placement endpoint, whose arrivals the latency probe records.
const ORDER_PATH: &str = "/openApi/swap/v2/trade/order";

/// Generates a self-signed certificate for `localhost` and `127.0.0.1`; returns the rustls
/// server configuration and the certificate PEM.
///
/// # Errors
/// [`SimError::Tls`] when generation or the rustls setup fails.
pub fn make_tls() -> Result<(Arc<ServerConfig>, String), SimError> {
    let ck = super::cert::self_signed(&["localhost"], &[IpAddr::V4(Ipv4Addr::LOCALHOST)])
        .map_err(|e| SimError::Tls(format!("certificate generation failed: {e}")))?;
    let pem = ck.cert_pem();
    let cert = CertificateDer::from(ck.cert_der);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pkcs8_der));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Tls(format!("protocol versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| SimError::Tls(format!("server certificate: {e}")))?;
    Ok((Arc::new(config), pem))
}

/// Accepts connections until shutdown; each gets its own thread.
pub fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut conn_no: u64 = 0;
    while !shared.shutdown.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((stream, peer)) => {
                conn_no += 1;
                if let Err(e) = stream.set_nonblocking(false) {
                    log::warn!("Connection from {peer} unusable: {e}");
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let active = shared.active.fetch_add(1, Ordering::AcqRel);
                if active >= shared.cfg.max_connections {
                    shared.active.fetch_sub(1, Ordering::AcqRel);
                    log::warn!("Connection from {peer} refused: {active} connections open");
                    let mut s = stream;
                    let _ = write_response(
                        &mut s,
                        503,
                        &[],
                        br#"{"code":100500,"msg":"too many connections"}"#,
                    );
                    continue;
                }
                log::debug!("Connection {conn_no} from {peer}");
                if let Ok(clone) = stream.try_clone() {
                    lock(&shared.sockets).insert(conn_no, clone);
                }
                let sh = Arc::clone(shared);
                let spawned = std::thread::Builder::new()
                    .name(format!("sim-conn-{conn_no}"))
                    .spawn(move || {
                        serve_connection(stream, &sh, conn_no);
                        lock(&sh.sockets).remove(&conn_no);
                        sh.active.fetch_sub(1, Ordering::AcqRel);
                    });
                match spawned {
                    Ok(h) => {
                        let mut threads = lock(&shared.conn_threads);
                        threads.retain(|t| !t.is_finished());
                        threads.push(h);
                    }
                    Err(e) => {
                        lock(&shared.sockets).remove(&conn_no);
                        shared.active.fetch_sub(1, Ordering::AcqRel);
                        log::error!("Cannot spawn connection thread: {e}");
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                log::warn!("Accept failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Arc<Shared>, conn_no: u64) {
    let mut conn = match &shared.tls {
        Some(cfg) => match ServerConnection::new(Arc::clone(cfg)) {
            Ok(sc) => Conn::Tls(Box::new(StreamOwned::new(sc, stream))),
            Err(e) => {
                log::warn!("TLS session setup failed: {e}");
                return;
            }
        },
        None => Conn::Plain(stream),
    };
    if let Err(e) = conn.set_read_timeout(Some(Duration::from_millis(50))) {
        log::warn!("Connection {conn_no}: {e}");
        return;
    }
    let _ = conn.tcp().set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let stop = || shared.shutdown.load(Ordering::Acquire);
    loop {
        let req = match read_request(&mut conn, &mut buf, &stop) {
            Ok(Some(r)) => {
                if r.method == "POST" && r.path == ORDER_PATH {
                    shared.probe.order_arrived(Instant::now());
                }
                r
            }
            Ok(None) => break,
            Err(e) => {
                log::info!("Connection {conn_no}: {e}");
                let _ = write_response(
                    &mut conn,
                    400,
                    &[],
                    br#"{"code":100400,"msg":"bad request"}"#,
                );
                break;
            }
        };
        if req.is_websocket() {
            log::info!("WS upgrade {} (connection {conn_no})", req.path);
            let leftover = std::mem::take(&mut buf);
            if let Err(e) = ws::serve(conn, &req, leftover, shared, conn_no) {
                log::info!("WS connection {conn_no}: {e}");
            }
            return;
        }
        let order_delay = shared.faults.order_delay_ms();
        if order_delay > 0 && req.method == "POST" && req.path == "/openApi/swap/v2/trade/order" {
            // The placement is held before it executes: a client that dies
            // meanwhile leaves an order it never saw answered.
            std::thread::sleep(Duration::from_millis(order_delay));
        }
        let reply = rest::handle(shared, &req);
        let delay = shared.faults.delay_ms();
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        let headers: Vec<(&str, String)> =
            reply.headers.iter().map(|(k, v)| (*k, v.clone())).collect();
        if let Err(e) = write_response(&mut conn, reply.status, &headers, &reply.body) {
            log::info!("Connection {conn_no}: write failed: {e}");
            break;
        }
        if req.wants_close() {
            break;
        }
    }
    if let Conn::Tls(s) = &mut conn {
        s.conn.send_close_notify();
        let _ = s.flush();
    }
    let _ = conn.shutdown();
}
