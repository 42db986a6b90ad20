//! Unit tests of the record layer: seal/open round trips in every version and suite,
//! TLS 1.3 padding, corruption and malformed headers. Interoperability with a real rustls
//! peer is tested in `tls_tests.rs`.

use super::*;

const KEY_A: [u8; 32] = [0x11; 32];
const KEY_B: [u8; 32] = [0x22; 32];
const IV_A: [u8; 12] = [0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const IV_B: [u8; 12] = [0xb0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

#[derive(Debug, Clone, Copy)]
enum Suite {
    Aes128,
    Aes256,
    ChaCha,
}

const SUITES: [Suite; 3] = [Suite::Aes128, Suite::Aes256, Suite::ChaCha];
const VERSIONS: [TlsVersion; 2] = [TlsVersion::Tls12, TlsVersion::Tls13];

fn keys(suite: Suite, key: &[u8; 32], iv: &[u8; 12], seq: u64) -> DirectionKeys {
    let (alg, family, len) = match suite {
        Suite::Aes128 => (&aead::AES_128_GCM, Family::Gcm, 16),
        Suite::Aes256 => (&aead::AES_256_GCM, Family::Gcm, 32),
        Suite::ChaCha => (&aead::CHACHA20_POLY1305, Family::ChaCha, 32),
    };
    DirectionKeys::from_raw(alg, family, &key[..len], iv, seq).unwrap()
}

/// A client and a server layer whose keys mirror each other.
fn pair(version: TlsVersion, suite: Suite) -> (RecordLayer, RecordLayer) {
    let client = RecordLayer {
        version,
        tx: keys(suite, &KEY_A, &IV_A, 0),
        rx: keys(suite, &KEY_B, &IV_B, 0),
    };
    let server = RecordLayer {
        version,
        tx: keys(suite, &KEY_B, &IV_B, 0),
        rx: keys(suite, &KEY_A, &IV_A, 0),
    };
    (client, server)
}

fn seal_vec(layer: &mut RecordLayer, typ: u8, plain: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; plain.len() + MAX_OVERHEAD];
    let n = layer.seal(typ, plain, &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn sealed_records_open_in_every_version_and_suite() {
    for version in VERSIONS {
        for suite in SUITES {
            let (mut c, mut s) = pair(version, suite);
            for (i, len) in [0usize, 1, 100, MAX_PLAINTEXT].into_iter().enumerate() {
                let plain: Vec<u8> = (0..len).map(|b| (b * 7 + i) as u8).collect();
                let mut rec = seal_vec(&mut c, APPLICATION_DATA, &plain);
                assert_eq!(s.record_len(&rec).unwrap(), Some(rec.len()));
                let o = s.open(&mut rec).unwrap();
                assert_eq!(o.content_type, APPLICATION_DATA, "{version:?} {suite:?}");
                assert_eq!(
                    &rec[o.start..o.end],
                    &plain[..],
                    "{version:?} {suite:?} {len}"
                );
            }
            assert_eq!(c.sequence_numbers(), (0, 4));
            assert_eq!(s.sequence_numbers(), (4, 0));
        }
    }
}

#[test]
fn content_types_survive_sealing() {
    for version in VERSIONS {
        let (mut c, mut s) = pair(version, Suite::Aes128);
        for typ in [ALERT, HANDSHAKE, APPLICATION_DATA] {
            let mut rec = seal_vec(&mut c, typ, &[1, 0]);
            let o = s.open(&mut rec).unwrap();
            assert_eq!(o.content_type, typ);
            assert_eq!(&rec[o.start..o.end], &[1, 0]);
        }
    }
}

#[test]
fn tls13_record_with_zero_padding_yields_content_and_type() {
    let (_, mut s) = pair(TlsVersion::Tls13, Suite::Aes256);
    let k = keys(Suite::Aes256, &KEY_A, &IV_A, 0);
    // content "hi", type handshake, 5 bytes of padding.
    let mut body = b"hi\x16\0\0\0\0\0".to_vec();
    let len = (body.len() + 16) as u16;
    let header = [APPLICATION_DATA, 3, 3, (len >> 8) as u8, len as u8];
    let tag = k
        .key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(k.xor_nonce()),
            Aad::from(header),
            &mut body,
        )
        .unwrap();
    let mut rec = header.to_vec();
    rec.extend_from_slice(&body);
    rec.extend_from_slice(tag.as_ref());
    let o = s.open(&mut rec).unwrap();
    assert_eq!(o.content_type, HANDSHAKE);
    assert_eq!(&rec[o.start..o.end], b"hi");
}

#[test]
fn tls13_record_of_only_zeros_is_a_bad_record() {
    let (_, mut s) = pair(TlsVersion::Tls13, Suite::ChaCha);
    let k = keys(Suite::ChaCha, &KEY_A, &IV_A, 0);
    let mut body = vec![0u8; 4];
    let header = [APPLICATION_DATA, 3, 3, 0, 20];
    let tag = k
        .key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(k.xor_nonce()),
            Aad::from(header),
            &mut body,
        )
        .unwrap();
    let mut rec = header.to_vec();
    rec.extend_from_slice(&body);
    rec.extend_from_slice(tag.as_ref());
    assert!(matches!(
        s.open(&mut rec),
        Err(TlsRecordError::BadRecord(_))
    ));
}

#[test]
fn a_flipped_byte_anywhere_after_the_header_is_a_bad_mac() {
    for version in VERSIONS {
        for suite in SUITES {
            let (mut c, _) = pair(version, suite);
            let rec = seal_vec(&mut c, APPLICATION_DATA, b"{\"price\":\"60000.5\"}");
            for i in HEADER_LEN..rec.len() {
                let (_, mut s) = pair(version, suite);
                let mut bad = rec.clone();
                bad[i] ^= 0x40;
                assert_eq!(
                    s.open(&mut bad),
                    Err(TlsRecordError::BadMac),
                    "{version:?} {suite:?} byte {i}"
                );
            }
        }
    }
}

#[test]
fn a_record_opened_with_the_wrong_sequence_number_is_a_bad_mac() {
    let (mut c, mut s) = pair(TlsVersion::Tls13, Suite::Aes128);
    let _skipped = seal_vec(&mut c, APPLICATION_DATA, b"one");
    let mut rec = seal_vec(&mut c, APPLICATION_DATA, b"two");
    assert_eq!(s.open(&mut rec), Err(TlsRecordError::BadMac));
}

#[test]
fn header_corruption_is_reported_by_kind() {
    let (mut c, mut s) = pair(TlsVersion::Tls13, Suite::Aes128);
    let rec = seal_vec(&mut c, APPLICATION_DATA, b"abc");
    let mut wrong_type = rec.clone();
    wrong_type[0] = HANDSHAKE;
    assert_eq!(
        s.open(&mut wrong_type),
        Err(TlsRecordError::UnexpectedContentType(HANDSHAKE))
    );
    let mut wrong_major = rec.clone();
    wrong_major[1] = 2;
    assert!(matches!(
        s.record_len(&wrong_major),
        Err(TlsRecordError::BadRecord(_))
    ));
    let mut too_long = rec.clone();
    too_long[3..5].copy_from_slice(&((MAX_CIPHERTEXT_13 + 1) as u16).to_be_bytes());
    assert!(matches!(
        s.record_len(&too_long),
        Err(TlsRecordError::BadRecord(_))
    ));
    let mut mismatched = rec;
    mismatched[4] -= 1;
    assert!(matches!(
        s.open(&mut mismatched),
        Err(TlsRecordError::BadRecord(_))
    ));
}

#[test]
fn tls12_change_cipher_spec_after_the_handshake_is_unexpected() {
    let (mut c, mut s) = pair(TlsVersion::Tls12, Suite::Aes256);
    let mut rec = seal_vec(&mut c, CHANGE_CIPHER_SPEC, &[1]);
    assert_eq!(
        s.open(&mut rec),
        Err(TlsRecordError::UnexpectedContentType(CHANGE_CIPHER_SPEC))
    );
}

#[test]
fn record_len_waits_for_the_header_and_the_body() {
    let (mut c, s) = pair(TlsVersion::Tls12, Suite::ChaCha);
    let rec = seal_vec(&mut c, APPLICATION_DATA, b"hello");
    for cut in 0..rec.len() {
        assert_eq!(s.record_len(&rec[..cut]).unwrap(), None, "cut {cut}");
    }
    assert_eq!(s.record_len(&rec).unwrap(), Some(rec.len()));
    let mut two = rec.clone();
    two.extend_from_slice(&rec);
    assert_eq!(s.record_len(&two).unwrap(), Some(rec.len()));
}

#[test]
fn sealing_into_a_short_buffer_is_output_full_and_keeps_the_sequence() {
    let (mut c, mut s) = pair(TlsVersion::Tls13, Suite::Aes128);
    let mut out = [0u8; 20];
    assert_eq!(
        c.seal(APPLICATION_DATA, b"0123456789", &mut out),
        Err(TlsRecordError::OutputFull)
    );
    assert_eq!(c.sequence_numbers(), (0, 0));
    let mut rec = seal_vec(&mut c, APPLICATION_DATA, b"0123456789");
    assert!(s.open(&mut rec).is_ok());
}

#[test]
fn oversized_plaintext_is_refused() {
    let (mut c, _) = pair(TlsVersion::Tls13, Suite::Aes128);
    let big = vec![0u8; MAX_PLAINTEXT + 1];
    let mut out = vec![0u8; big.len() + MAX_OVERHEAD];
    assert!(matches!(
        c.seal(APPLICATION_DATA, &big, &mut out),
        Err(TlsRecordError::BadRecord(_))
    ));
}

mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn prop_any_plaintext_round_trips_and_any_bit_flip_is_rejected(
            plain in proptest::collection::vec(any::<u8>(), 0..2048),
            v in 0usize..2,
            su in 0usize..3,
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let (mut c, mut s) = pair(VERSIONS[v], SUITES[su]);
            let rec = seal_vec(&mut c, APPLICATION_DATA, &plain);
            let mut bad = rec.clone();
            let at = HEADER_LEN + flip.index(rec.len() - HEADER_LEN);
            bad[at] ^= 1 << bit;
            let (_, mut s2) = pair(VERSIONS[v], SUITES[su]);
            prop_assert_eq!(s2.open(&mut bad), Err(TlsRecordError::BadMac));
            let mut good = rec;
            let o = s.open(&mut good).unwrap();
            prop_assert_eq!(&good[o.start..o.end], &plain[..]);
        }
    }
}
