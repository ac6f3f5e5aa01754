//! HTTPS for the REST API: a rustls (ring) server config from PEM files and
//! a listener that completes TLS handshakes off the accept path.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::Config;

/// The TLS material the manager serves with, kept in PEM for the topology.
#[derive(Clone)]
pub struct TlsMaterial {
    pub cert_pem: String,
    pub key_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

/// Loads `--tls-cert`/`--tls-key`, if given.
///
/// # Errors
/// A file cannot be read or does not hold a certificate chain / private key.
pub fn server_config(config: &Config) -> anyhow::Result<Option<TlsMaterial>> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    material(cert_pem, key_pem).map(Some)
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Builds the rustls config from PEM text.
///
/// # Errors
/// The PEM holds no certificate or no usable key.
pub fn material(cert_pem: String, key_pem: String) -> anyhow::Result<TlsMaterial> {
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .context("--tls-cert is not a PEM certificate chain")?;
    anyhow::ensure!(!certs.is_empty(), "--tls-cert holds no certificate");
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).context("--tls-key is not a PEM private key")?;
    let mut server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("--tls-key does not match --tls-cert")?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        cert_pem,
        key_pem,
        server: Arc::new(server),
    })
}

/// A listener that yields TLS streams whose handshake has completed.
pub struct TlsListener {
    streams: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `listener` and handshakes every connection in its own task.
    ///
    /// # Errors
    /// The listener has no local address.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, streams) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp));
                    match handshake.await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { streams, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.streams.recv().await {
            Some(s) => s,
            // The acceptor task only ends when this receiver is gone.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
