//! TLS for database endpoints: builds a rustls server configuration (ring
//! provider) from a database's certificate, key and optional client CA, PEM
//! given inline or in files. Handshakes happen in `server`.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::{ConfigError, TlsConfig};

/// Installs ring as the process's crypto provider (idempotent).
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn pem(inline: &Option<String>, file: &Option<String>, what: &str) -> Result<Option<Vec<u8>>, ConfigError> {
    match (inline, file) {
        (Some(text), _) => Ok(Some(text.as_bytes().to_vec())),
        (None, Some(path)) => std::fs::read(path)
            .map(Some)
            .map_err(|e| ConfigError(format!("cannot read {what} file {path}: {e}"))),
        (None, None) => Ok(None),
    }
}

/// What identifies the contents of `tls`'s files (modification time and
/// length of each, `None` for one that cannot be read): when it changes, the
/// acceptor is built again.
pub fn files_stamp(tls: &TlsConfig) -> Vec<Option<(std::time::SystemTime, u64)>> {
    [&tls.cert_file, &tls.key_file, &tls.client_ca_file]
        .into_iter()
        .flatten()
        .map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

/// A TLS acceptor for `tls`: server certificate and key, and client
/// certificates required (and checked against `client_ca`) when one is given.
///
/// # Errors
/// Missing or unreadable files, PEM without a certificate or key, or a key
/// that does not match the certificate.
pub fn acceptor(tls: &TlsConfig) -> Result<TlsAcceptor, ConfigError> {
    install_provider();
    let cert_pem = pem(&tls.cert_pem, &tls.cert_file, "certificate")?
        .ok_or_else(|| ConfigError("tls needs a certificate".into()))?;
    let key_pem = pem(&tls.key_pem, &tls.key_file, "key")?.ok_or_else(|| ConfigError("tls needs a key".into()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| ConfigError(format!("bad certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(ConfigError("certificate PEM holds no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| ConfigError(format!("bad key PEM: {e}")))?;
    let builder = rustls::ServerConfig::builder();
    let builder = match pem(&tls.client_ca_pem, &tls.client_ca_file, "client CA")? {
        Some(ca_pem) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&ca_pem) {
                let cert = cert.map_err(|e| ConfigError(format!("bad client CA PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| ConfigError(format!("bad client CA certificate: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .map_err(|e| ConfigError(format!("client CA: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| ConfigError(format!("certificate and key do not fit: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
