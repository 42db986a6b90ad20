//! TLS client configuration for the REST (and later WebSocket) connections:
//! rustls with the ring provider, the webpki root store, and optionally extra
//! trusted CA certificates from a PEM file (how tests and the loopback
//! simulator are trusted).
//!
//! Consumes [`TlsOptions`]; produces an `Arc<rustls::ClientConfig>`. Never
//! disables certificate or host-name verification: the only knob is *which*
//! roots are trusted.

use std::path::PathBuf;
use std::sync::Arc;

use crate::io::error::TlsSetupError;

/// Which certificate authorities the client trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// Trust the Mozilla root set from `webpki-roots` (default true).
    pub use_webpki_roots: bool,
    /// Also trust every certificate in this PEM file (default none).
    pub extra_ca_file: Option<PathBuf>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            use_webpki_roots: true,
            extra_ca_file: None,
        }
    }
}

/// Returns a client configuration trusting the roots chosen in `options`,
/// offering ALPN `http/1.1`.
///
/// # Errors
/// [`TlsSetupError`] when the CA file cannot be read or holds no usable
/// certificate, or when no root at all would be trusted.
pub fn client_config(options: &TlsOptions) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    if options.use_webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = &options.extra_ca_file {
        let pem = std::fs::read(path).map_err(|source| TlsSetupError::ReadCaFile {
            path: path.clone(),
            source,
        })?;
        let mut added = 0usize;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| TlsSetupError::BadCaFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            roots.add(cert).map_err(|e| TlsSetupError::BadCaFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(TlsSetupError::BadCaFile {
                path: path.clone(),
                reason: "no CERTIFICATE block found".into(),
            });
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::Config(rustls::Error::General(
            "no trusted root certificates configured".into(),
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Config)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_trust_webpki_roots() {
        assert!(client_config(&TlsOptions::default()).is_ok());
    }

    #[test]
    fn missing_ca_file_is_a_read_error() {
        let opts = TlsOptions {
            use_webpki_roots: false,
            extra_ca_file: Some(PathBuf::from("/definitely/not/here.pem")),
        };
        assert!(matches!(
            client_config(&opts),
            Err(TlsSetupError::ReadCaFile { .. })
        ));
    }

    #[test]
    fn ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, b"not a pem file\n").unwrap();
        let opts = TlsOptions {
            use_webpki_roots: false,
            extra_ca_file: Some(path),
        };
        let err = client_config(&opts).unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
    }

    #[test]
    fn no_roots_at_all_is_refused() {
        let opts = TlsOptions {
            use_webpki_roots: false,
            extra_ca_file: None,
        };
        assert!(matches!(
            client_config(&opts),
            Err(TlsSetupError::Config(_))
        ));
    }

    #[test]
    fn generated_ca_file_is_accepted() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, cert.cert.pem()).unwrap();
        let opts = TlsOptions {
            use_webpki_roots: false,
            extra_ca_file: Some(path),
        };
        assert!(client_config(&opts).is_ok());
    }
}
