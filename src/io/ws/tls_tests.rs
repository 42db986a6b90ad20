//! Interoperability of [`TlsStream`]'s own record layer with a real rustls server
//! (`ServerConnection`), in memory: every cipher suite of TLS 1.3 and TLS 1.2, many records
//! per read, records split at every byte, maximum-size records, KeyUpdate, session tickets,
//! close_notify, alerts and corruption.

use std::io::{self, Read, Write};
use std::sync::{Arc, OnceLock};

use rustls::crypto::ring::cipher_suite as cs;
use rustls::crypto::ring::default_provider;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ServerConfig, ServerConnection, SupportedCipherSuite, SupportedProtocolVersion};

use super::*;
use crate::io::ws::record::{TlsRecordError, TlsVersion};

/// The client's end of an in-memory connection.
#[derive(Debug, Default)]
struct Pipe {
    /// Server → client bytes; `inbound[read_at..]` not yet read.
    inbound: Vec<u8>,
    read_at: usize,
    /// Largest number of bytes one read returns (0: no limit).
    max_read: usize,
    /// Successful read calls.
    reads: usize,
    /// Client → server bytes not yet delivered.
    outbound: Vec<u8>,
    /// The server side is gone: reads return end of stream once drained.
    eof: bool,
    /// The socket's send buffer is full: writes return `WouldBlock`.
    send_blocked: bool,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.inbound.len() - self.read_at;
        if avail == 0 {
            return if self.eof {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let mut n = avail.min(buf.len());
        if self.max_read > 0 {
            n = n.min(self.max_read);
        }
        buf[..n].copy_from_slice(&self.inbound[self.read_at..self.read_at + n]);
        self.read_at += n;
        self.reads += 1;
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.send_blocked {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.outbound.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Cert {
    der: CertificateDer<'static>,
    key: Vec<u8>,
}

fn cert() -> &'static Cert {
    static CERT: OnceLock<Cert> = OnceLock::new();
    CERT.get_or_init(|| {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        Cert {
            der: c.cert.der().clone(),
            key: c.signing_key.serialize_der(),
        }
    })
}

fn client_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert().der.clone()).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

fn server_config(
    suite: SupportedCipherSuite,
    version: &'static SupportedProtocolVersion,
) -> Arc<ServerConfig> {
    let provider = CryptoProvider {
        cipher_suites: vec![suite],
        ..default_provider()
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert().key.clone()));
    let cfg = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert().der.clone()], key)
        .unwrap();
    Arc::new(cfg)
}

const TLS13_SUITES: [SupportedCipherSuite; 3] = [
    cs::TLS13_AES_128_GCM_SHA256,
    cs::TLS13_AES_256_GCM_SHA384,
    cs::TLS13_CHACHA20_POLY1305_SHA256,
];
const TLS12_SUITES: [SupportedCipherSuite; 3] = [
    cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

fn all_suites() -> Vec<(SupportedCipherSuite, &'static SupportedProtocolVersion)> {
    TLS13_SUITES
        .iter()
        .map(|s| (*s, &rustls::version::TLS13))
        .chain(TLS12_SUITES.iter().map(|s| (*s, &rustls::version::TLS12)))
        .collect()
}

struct Peers {
    client: TlsStream<Pipe>,
    server: ServerConnection,
    /// Plaintext the server received and the test has not taken yet.
    server_got: Vec<u8>,
}

impl Peers {
    fn connect_with(client_cfg: Arc<rustls::ClientConfig>, server_cfg: Arc<ServerConfig>) -> Self {
        let name = ServerName::try_from("localhost").unwrap();
        let mut p = Self {
            client: TlsStream::try_new(client_cfg, name, Pipe::default()).unwrap(),
            server: ServerConnection::new(server_cfg).unwrap(),
            server_got: Vec::new(),
        };
        for _ in 0..20 {
            p.client.flush().unwrap();
            match p.client.read(&mut [0u8; 64]) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => panic!("unexpected read during the handshake: {other:?}"),
            }
            p.pump();
            if !p.client.is_handshaking() && !p.server.is_handshaking() {
                return p;
            }
        }
        panic!("handshake did not finish");
    }

    fn connect(suite: SupportedCipherSuite, version: &'static SupportedProtocolVersion) -> Self {
        Self::connect_with(client_config(), server_config(suite, version))
    }

    /// Delivers the client's bytes to the server and the server's to the client.
    fn pump(&mut self) {
        self.deliver_to_server().unwrap();
        self.deliver_to_client();
    }

    fn deliver_to_server(&mut self) -> Result<(), rustls::Error> {
        let out = std::mem::take(&mut self.client.get_mut().outbound);
        let mut rd = &out[..];
        while !rd.is_empty() {
            self.server.read_tls(&mut rd).unwrap();
            self.server.process_new_packets()?;
            // rustls holds at most 16 KiB of unread plaintext: take it as it comes.
            self.drain_server_plaintext();
        }
        Ok(())
    }

    fn deliver_to_client(&mut self) {
        let pipe = self.client.get_mut();
        while self.server.wants_write() {
            self.server.write_tls(&mut pipe.inbound).unwrap();
        }
    }

    /// Reads until `WouldBlock` or end of stream; returns the bytes and whether it ended.
    fn client_read_all(&mut self, chunk: usize) -> (Vec<u8>, bool) {
        let mut got = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match self.client.read(&mut buf) {
                Ok(0) => return (got, true),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (got, false),
                Err(e) => panic!("client read failed: {e}"),
            }
        }
    }

    fn drain_server_plaintext(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match self.server.reader().read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.server_got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => panic!("server read failed: {e}"),
            }
        }
    }

    fn server_read_all(&mut self) -> Vec<u8> {
        self.drain_server_plaintext();
        std::mem::take(&mut self.server_got)
    }

    fn client_write_all(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let n = self.client.write(data).unwrap();
            data = &data[n..];
        }
        self.client.flush().unwrap();
    }
}

fn record_error(e: &io::Error) -> Option<TlsRecordError> {
    match e.get_ref()?.downcast_ref::<TlsStreamError>()? {
        TlsStreamError::Record(r) => Some(*r),
        _ => None,
    }
}

#[test]
fn every_cipher_suite_of_tls13_and_tls12_carries_data_both_ways() {
    for (suite, version) in all_suites() {
        let mut p = Peers::connect(suite, version);
        let expected = if version.version == rustls::ProtocolVersion::TLSv1_3 {
            TlsVersion::Tls13
        } else {
            TlsVersion::Tls12
        };
        assert_eq!(p.client.version(), Some(expected), "{suite:?}");
        assert_eq!(p.server.negotiated_cipher_suite(), Some(suite));
        for round in 0..3 {
            let msg = format!("server says {round} over {suite:?}");
            p.server.writer().write_all(msg.as_bytes()).unwrap();
            p.pump();
            assert_eq!(p.client_read_all(4096).0, msg.as_bytes(), "{suite:?}");
            let reply = format!("client answers {round}");
            p.client_write_all(reply.as_bytes());
            p.pump();
            assert_eq!(p.server_read_all(), reply.as_bytes(), "{suite:?}");
        }
    }
}

#[test]
fn many_small_records_arrive_in_one_socket_read() {
    for (suite, version) in all_suites() {
        let mut p = Peers::connect(suite, version);
        p.pump(); // session tickets (TLS 1.3)
        let _ = p.client_read_all(4096);
        let mut expected = Vec::new();
        for i in 0..500 {
            let msg = format!("{{\"trade\":{i}}}");
            // Each write is its own record.
            p.server.writer().write_all(msg.as_bytes()).unwrap();
            expected.extend_from_slice(msg.as_bytes());
        }
        p.deliver_to_client();
        let reads_before = p.client.get_mut().reads;
        let (got, eof) = p.client_read_all(1 << 16);
        assert!(!eof);
        assert_eq!(got, expected, "{suite:?}");
        let reads = p.client.get_mut().reads - reads_before;
        assert!(
            reads <= 2,
            "{reads} socket reads for 500 records ({suite:?})"
        );
    }
}

#[test]
fn records_split_at_every_byte_boundary_are_reassembled() {
    for (suite, version) in all_suites() {
        let mut p = Peers::connect(suite, version);
        p.pump();
        let _ = p.client_read_all(4096);
        let mut expected = Vec::new();
        for msg in [&b"first record"[..], b"second", b"third and last record"] {
            p.server.writer().write_all(msg).unwrap();
            expected.extend_from_slice(msg);
        }
        p.deliver_to_client();
        // One byte per socket read: every prefix of every record is seen once.
        p.client.get_mut().max_read = 1;
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        let total = p.client.get_mut().inbound.len() - p.client.get_mut().read_at;
        for _ in 0..total * 2 {
            match p.client.read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, expected, "{suite:?}");
    }
}

#[test]
fn a_stream_cut_into_two_reads_at_any_offset_is_reassembled() {
    for (suite, version) in [
        (cs::TLS13_AES_128_GCM_SHA256, &rustls::version::TLS13),
        (
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            &rustls::version::TLS12,
        ),
    ] {
        let client_cfg = client_config();
        let server_cfg = server_config(suite, version);
        let mut cut = 0;
        loop {
            let mut p = Peers::connect_with(Arc::clone(&client_cfg), Arc::clone(&server_cfg));
            p.pump();
            let _ = p.client_read_all(4096);
            let start = p.client.get_mut().inbound.len();
            p.server.writer().write_all(b"one").unwrap();
            p.server.writer().write_all(b"two two").unwrap();
            p.deliver_to_client();
            let stream = p.client.get_mut().inbound.split_off(start);
            if cut > stream.len() {
                break;
            }
            p.client.get_mut().inbound.extend_from_slice(&stream[..cut]);
            let (mut got, _) = p.client_read_all(64);
            p.client.get_mut().inbound.extend_from_slice(&stream[cut..]);
            got.extend(p.client_read_all(64).0);
            assert_eq!(got, b"onetwo two", "{suite:?} cut at {cut}");
            cut += 1;
        }
        assert!(cut > 50, "only {cut} cuts tried");
    }
}

#[test]
fn a_maximum_size_record_is_read_whole_and_large_writes_span_records() {
    for (suite, version) in all_suites() {
        let mut p = Peers::connect(suite, version);
        let big: Vec<u8> = (0..MAX_PLAINTEXT).map(|i| (i % 251) as u8).collect();
        p.server.writer().write_all(&big).unwrap();
        p.pump();
        let mut buf = vec![0u8; 20_000];
        let mut n = 0;
        for _ in 0..10 {
            match p.client.read(&mut buf) {
                Ok(k) => {
                    n = k;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => p.pump(),
                Err(e) => panic!("{e}"),
            }
        }
        // One record's plaintext comes out of one read.
        assert_eq!(n, MAX_PLAINTEXT, "{suite:?}");
        assert_eq!(&buf[..n], &big[..]);
        let large: Vec<u8> = (0..40_000).map(|i| (i % 253) as u8).collect();
        p.client_write_all(&large);
        p.pump();
        assert_eq!(p.server_read_all(), large, "{suite:?}");
    }
}

#[test]
fn a_server_key_update_is_followed_and_answered() {
    for suite in TLS13_SUITES {
        let mut p = Peers::connect(suite, &rustls::version::TLS13);
        for round in 0..3 {
            p.server.refresh_traffic_keys().unwrap();
            let msg = format!("after key update {round}");
            p.server.writer().write_all(msg.as_bytes()).unwrap();
            p.pump();
            assert_eq!(p.client_read_all(4096).0, msg.as_bytes(), "{suite:?}");
            // The client answered with a record of its own (its KeyUpdate) and both keys are
            // new: one record read under the new receive key, none sent under the new send
            // key yet.
            assert!(
                !p.client.get_mut().outbound.is_empty(),
                "no KeyUpdate answer"
            );
            let Phase::Traffic { records, .. } = &p.client.phase else {
                panic!("not in traffic");
            };
            assert_eq!(records.sequence_numbers(), (1, 0), "{suite:?}");
            // The server reads this only if the client sent its KeyUpdate under the old key
            // and then switched.
            let reply = format!("reply {round}");
            p.client_write_all(reply.as_bytes());
            p.pump();
            assert_eq!(p.server_read_all(), reply.as_bytes(), "{suite:?}");
        }
    }
}

#[test]
fn session_tickets_are_kept_and_resume_the_next_connection() {
    let client_cfg = client_config();
    let server_cfg = server_config(cs::TLS13_AES_256_GCM_SHA384, &rustls::version::TLS13);
    let mut first = Peers::connect_with(Arc::clone(&client_cfg), Arc::clone(&server_cfg));
    first
        .server
        .writer()
        .write_all(b"data after the tickets")
        .unwrap();
    first.pump();
    assert_eq!(first.client_read_all(4096).0, b"data after the tickets");
    let mut second = Peers::connect_with(client_cfg, server_cfg);
    assert_eq!(
        second.server.handshake_kind(),
        Some(rustls::HandshakeKind::Resumed)
    );
    second.server.writer().write_all(b"resumed").unwrap();
    second.pump();
    assert_eq!(second.client_read_all(4096).0, b"resumed");
}

#[test]
fn close_notify_ends_the_stream_and_is_answered() {
    for (suite, version) in all_suites() {
        let mut p = Peers::connect(suite, version);
        p.server.writer().write_all(b"last words").unwrap();
        p.server.send_close_notify();
        p.pump();
        let (got, eof) = p.client_read_all(4096);
        assert_eq!(got, b"last words", "{suite:?}");
        assert!(eof, "{suite:?}");
        assert_eq!(p.client.read(&mut [0u8; 8]).unwrap(), 0);
        p.deliver_to_server().unwrap();
        let state = p.server.process_new_packets().unwrap();
        assert!(state.peer_has_closed(), "{suite:?}");
    }
}

#[test]
fn a_corrupted_byte_is_a_typed_bad_mac_error() {
    for (suite, version) in all_suites() {
        let mut p = Peers::connect(suite, version);
        p.pump();
        let _ = p.client_read_all(4096);
        let start = p.client.get_mut().inbound.len();
        p.server.writer().write_all(b"{\"p\":\"60000.5\"}").unwrap();
        p.deliver_to_client();
        let pipe = p.client.get_mut();
        let last = pipe.inbound.len() - 1;
        assert!(last > start + 5);
        pipe.inbound[last - 3] ^= 0x01;
        let err = p.client.read(&mut [0u8; 64]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            record_error(&err),
            Some(TlsRecordError::BadMac),
            "{suite:?}"
        );
    }
}

#[test]
fn a_corrupted_record_header_is_a_typed_bad_record_error() {
    let mut p = Peers::connect(cs::TLS13_AES_128_GCM_SHA256, &rustls::version::TLS13);
    p.pump();
    let _ = p.client_read_all(4096);
    let start = p.client.get_mut().inbound.len();
    p.server.writer().write_all(b"payload").unwrap();
    p.deliver_to_client();
    // The version's major byte.
    p.client.get_mut().inbound[start + 1] = 0x07;
    let err = p.client.read(&mut [0u8; 64]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        matches!(record_error(&err), Some(TlsRecordError::BadRecord(_))),
        "{err}"
    );
}

#[test]
fn a_fatal_alert_from_the_server_is_an_alert_error() {
    let mut p = Peers::connect(cs::TLS13_CHACHA20_POLY1305_SHA256, &rustls::version::TLS13);
    p.client_write_all(b"x");
    let out = p.client.get_mut();
    let n = out.outbound.len();
    out.outbound[n - 1] ^= 0x80;
    // The server fails to decrypt and answers with a fatal bad_record_mac alert (20).
    assert!(p.deliver_to_server().is_err());
    p.deliver_to_client();
    let err = p.client.read(&mut [0u8; 64]).unwrap_err();
    assert_eq!(record_error(&err), Some(TlsRecordError::Alert(20)));
}

#[test]
fn end_of_stream_inside_a_record_is_unexpected_eof() {
    let mut p = Peers::connect(cs::TLS13_AES_128_GCM_SHA256, &rustls::version::TLS13);
    p.pump();
    let _ = p.client_read_all(4096);
    p.server.writer().write_all(b"cut short").unwrap();
    p.deliver_to_client();
    let pipe = p.client.get_mut();
    let n = pipe.inbound.len();
    pipe.inbound.truncate(n - 4);
    pipe.eof = true;
    let err = p.client.read(&mut [0u8; 64]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn application_data_in_the_servers_last_handshake_flight_is_read_first() {
    // TLS 1.2 full handshake: the server finishes last, so its first application data can
    // share a socket read with its Finished and reach the client while rustls still drives.
    let name = ServerName::try_from("localhost").unwrap();
    let mut p = Peers {
        client: TlsStream::try_new(client_config(), name, Pipe::default()).unwrap(),
        server: ServerConnection::new(server_config(
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            &rustls::version::TLS12,
        ))
        .unwrap(),
        server_got: Vec::new(),
    };
    p.client.flush().unwrap();
    p.pump();
    assert!(p.client.read(&mut [0u8; 8]).is_err());
    p.deliver_to_server().unwrap();
    assert!(!p.server.is_handshaking());
    assert!(p.client.is_handshaking());
    p.server.writer().write_all(b"first data").unwrap();
    p.deliver_to_client();
    let (got, eof) = p.client_read_all(4096);
    assert!(!eof);
    assert!(!p.client.is_handshaking());
    assert_eq!(got, b"first data");
    // It went through rustls's own buffer (the only allocating read path), once.
    assert_eq!(p.client.early, b"first data");
    p.server.writer().write_all(b" then traffic").unwrap();
    p.pump();
    assert_eq!(p.client_read_all(4096).0, b" then traffic");
    p.client_write_all(b"answer");
    p.pump();
    assert_eq!(p.server_read_all(), b"answer");
}

#[test]
fn records_the_socket_refused_leave_with_the_next_read() {
    let mut p = Peers::connect(cs::TLS13_AES_128_GCM_SHA256, &rustls::version::TLS13);
    p.client.get_mut().send_blocked = true;
    assert_eq!(p.client.write(b"Pong").unwrap(), 4);
    p.client.flush().unwrap();
    assert!(p.client.get_mut().outbound.is_empty());
    p.client.get_mut().send_blocked = false;
    // Nothing new to write: the poll loop's read sends the queued record.
    let err = p.client.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    p.pump();
    assert_eq!(p.server_read_all(), b"Pong");
}

#[test]
fn writes_during_the_handshake_are_refused_with_would_block() {
    let name = ServerName::try_from("localhost").unwrap();
    let mut c = TlsStream::try_new(client_config(), name, Pipe::default()).unwrap();
    assert!(c.is_handshaking());
    let err = c.write(b"GET / HTTP/1.1\r\n\r\n").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    // The ClientHello went out meanwhile.
    assert!(!c.get_mut().outbound.is_empty());
}

#[test]
fn a_certificate_for_another_name_fails_the_handshake() {
    let name = ServerName::try_from("example.com").unwrap();
    let mut p = Peers {
        client: TlsStream::try_new(client_config(), name, Pipe::default()).unwrap(),
        server: ServerConnection::new(server_config(
            cs::TLS13_AES_128_GCM_SHA256,
            &rustls::version::TLS13,
        ))
        .unwrap(),
        server_got: Vec::new(),
    };
    p.client.flush().unwrap();
    p.pump();
    let err = p.client.read(&mut [0u8; 64]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("handshake"), "{err}");
}
