//! The hand-built certificate against rustls and webpki: an in-memory TLS handshake with a
//! client that trusts only the certificate's PEM, for every name it lists, and a refusal for
//! a name it does not list.

use super::*;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use std::net::Ipv4Addr;
use std::sync::Arc;

fn server(cert: &SelfSigned) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pkcs8_der.clone()));
    Arc::new(
        ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.cert_der.clone())], key)
            .unwrap(),
    )
}

/// A client trusting only the PEM, parsed the way the engine reads `exchange.ca_file`.
fn client(pem: &str) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    assert_eq!(roots.len(), 1);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Runs a handshake in memory (bounded rounds); returns the first error.
fn handshake(cert: &SelfSigned, name: &str) -> Result<(), rustls::Error> {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let mut c = ClientConnection::new(client(&cert.cert_pem()), name)?;
    let mut s = ServerConnection::new(server(cert))?;
    for _ in 0..20 {
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        s.read_tls(&mut buf.as_slice()).unwrap();
        s.process_new_packets()?;
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        c.read_tls(&mut buf.as_slice()).unwrap();
        c.process_new_packets()?;
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(());
        }
    }
    panic!("handshake did not finish in 20 rounds");
}

fn localhost() -> SelfSigned {
    self_signed(&["localhost"], &[IpAddr::V4(Ipv4Addr::LOCALHOST)]).unwrap()
}

#[test]
fn rustls_accepts_the_certificate_for_every_name_it_lists() {
    let cert = localhost();
    handshake(&cert, "localhost").unwrap();
    handshake(&cert, "127.0.0.1").unwrap();
}

#[test]
fn rustls_refuses_a_name_the_certificate_does_not_list() {
    let cert = localhost();
    let err = handshake(&cert, "example.com").unwrap_err();
    assert!(
        matches!(err, rustls::Error::InvalidCertificate(_)),
        "{err:?}"
    );
}

#[test]
fn each_certificate_has_its_own_key_and_serial() {
    let a = localhost();
    let b = localhost();
    assert_ne!(a.cert_der, b.cert_der);
    assert_ne!(a.key_pkcs8_der, b.key_pkcs8_der);
    // A client trusting one certificate refuses the other.
    let mut c = ClientConnection::new(
        client(&a.cert_pem()),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut s = ServerConnection::new(server(&b)).unwrap();
    let mut failed = false;
    for _ in 0..20 {
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        s.read_tls(&mut buf.as_slice()).unwrap();
        s.process_new_packets().unwrap();
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        c.read_tls(&mut buf.as_slice()).unwrap();
        if c.process_new_packets().is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed);
}

#[test]
fn der_lengths_use_the_short_and_long_forms() {
    assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
    let long = tlv(0x04, &[0; 200]);
    assert_eq!(&long[..3], &[0x04, 0x81, 200]);
    let longer = tlv(0x04, &[0; 300]);
    assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2C]);
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

#[test]
fn a_name_that_is_not_printable_ascii_is_refused() {
    assert_eq!(
        self_signed(&["bad name"], &[]).unwrap_err(),
        CertError::BadName("bad name".into())
    );
    assert!(self_signed(&[""], &[]).is_err());
}
