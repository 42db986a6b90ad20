//! The `wss://` record layer per record: sealing a record and opening it again with the
//! mirrored key (what the market socket does per received record is the open half), for a
//! typical BingX gzip trade frame (160 bytes) and a maximum-size record (16 KiB), in TLS 1.3
//! and TLS 1.2 with AES-256-GCM and ChaCha20-Poly1305.
#![forbid(unsafe_code)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rustls::crypto::cipher::{AeadKey, Iv};
use rustls::{ConnectionTrafficSecrets, ExtractedSecrets};
use std::hint::black_box;
use trading_engine::io::ws::record::{
    RecordLayer, TlsVersion, APPLICATION_DATA, MAX_OVERHEAD, MAX_PLAINTEXT,
};

fn secrets(chacha: bool, key: u8, iv: u8) -> ConnectionTrafficSecrets {
    let key = AeadKey::from([key; 32]);
    let iv = Iv::from([iv; 12]);
    if chacha {
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }
    } else {
        ConnectionTrafficSecrets::Aes256Gcm { key, iv }
    }
}

/// A sender and a receiver whose keys mirror each other.
fn pair(version: TlsVersion, chacha: bool) -> Option<(RecordLayer, RecordLayer)> {
    let tx = RecordLayer::try_new(
        version,
        &ExtractedSecrets {
            tx: (0, secrets(chacha, 1, 2)),
            rx: (0, secrets(chacha, 3, 4)),
        },
    )
    .ok()?;
    let rx = RecordLayer::try_new(
        version,
        &ExtractedSecrets {
            tx: (0, secrets(chacha, 3, 4)),
            rx: (0, secrets(chacha, 1, 2)),
        },
    )
    .ok()?;
    Some((tx, rx))
}

fn records(c: &mut Criterion) {
    let mut g = c.benchmark_group("tls_record_seal_open");
    for (name, version, chacha) in [
        ("tls13_aes256gcm", TlsVersion::Tls13, false),
        ("tls13_chacha20", TlsVersion::Tls13, true),
        ("tls12_aes256gcm", TlsVersion::Tls12, false),
        ("tls12_chacha20", TlsVersion::Tls12, true),
    ] {
        for len in [160usize, MAX_PLAINTEXT] {
            let Some((mut tx, mut rx)) = pair(version, chacha) else {
                return;
            };
            let plain = vec![0x5au8; len];
            let mut buf = vec![0u8; len + MAX_OVERHEAD];
            g.throughput(Throughput::Bytes(len as u64));
            g.bench_with_input(BenchmarkId::new(name, len), &len, |b, _| {
                b.iter(|| {
                    let Ok(n) = tx.seal(APPLICATION_DATA, black_box(&plain), &mut buf) else {
                        return 0;
                    };
                    match rx.open(&mut buf[..n]) {
                        Ok(o) => black_box(o.end - o.start),
                        Err(e) => panic!("Open failed: {e}"),
                    }
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);
