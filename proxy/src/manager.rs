//! Follows the manager's topology: long-polls
//! `GET /v1/internal/topology?after=EPOCH` (bearer cluster token) and applies
//! every newer epoch to the [`Proxy`]. A minimal HTTP/1.1 client (plain HTTP,
//! `Connection: close`) is all the contract needs.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{Topology, validate_databases};
use crate::server::Proxy;

/// Longest a poll may take: the manager holds it up to 30 s.
const POLL_TIMEOUT: Duration = Duration::from_secs(40);
/// Wait after a failed poll.
const RETRY: Duration = Duration::from_secs(1);
/// Largest topology body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A manager address, split from `http://host:port[/prefix]`.
#[derive(Debug, Clone)]
pub struct ManagerUrl {
    host_port: String,
    prefix: String,
}

impl ManagerUrl {
    /// Parses `http://host:port[/prefix]`.
    ///
    /// # Errors
    /// Any other scheme or a missing host.
    pub fn parse(url: &str) -> Result<ManagerUrl, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("manager URL {url:?} must start with http://"))?;
        let (host_port, prefix) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        if host_port.is_empty() {
            return Err(format!("manager URL {url:?} has no host"));
        }
        let host_port = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:80")
        };
        Ok(ManagerUrl {
            host_port,
            prefix: prefix.trim_end_matches('/').to_owned(),
        })
    }
}

/// What one poll returned.
#[derive(Debug)]
pub enum Poll {
    /// A topology (200).
    Topology(Topology),
    /// Nothing newer (304).
    NotModified,
}

/// One long-poll request.
///
/// # Errors
/// Connection failures, a status other than 200/304, or a body that is not a
/// topology.
pub async fn poll(url: &ManagerUrl, token: &str, after: u64) -> Result<Poll, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(&url.host_port)
            .await
            .map_err(|e| format!("connect {}: {e}", url.host_port))?;
        let path = if url.prefix.is_empty() {
            String::new()
        } else {
            format!("/{}", url.prefix)
        };
        let request = format!(
            "GET {path}/v1/internal/topology?after={after} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            url.host_port
        );
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(&chunk[..n]);
            if response.len() > MAX_BODY {
                return Err("topology response too large".to_owned());
            }
            if let Some(body) = complete_body(&response) {
                return parse(&response, body);
            }
        }
        let body = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| p + 4)
            .ok_or("truncated response")?;
        parse(&response, body)
    };
    tokio::time::timeout(POLL_TIMEOUT, exchange)
        .await
        .map_err(|_| "topology poll timed out".to_owned())?
}

/// The body offset once headers and a Content-Length body are complete.
fn complete_body(response: &[u8]) -> Option<usize> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let headers = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let length = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())?;
    (response.len() >= end + length).then_some(end)
}

fn parse(response: &[u8], body: usize) -> Result<Poll, String> {
    let status_line = response.split(|b| *b == b'\n').next().unwrap_or_default();
    let status = String::from_utf8_lossy(status_line);
    let code = status.split_whitespace().nth(1).unwrap_or("");
    match code {
        "200" => {
            let headers = String::from_utf8_lossy(&response[..body]).to_ascii_lowercase();
            let length = headers
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(response.len() - body);
            let json = &response[body..(body + length).min(response.len())];
            let topology: Topology = serde_json::from_slice(json).map_err(|e| format!("bad topology JSON: {e}"))?;
            Ok(Poll::Topology(topology))
        }
        "304" => Ok(Poll::NotModified),
        "401" => Err("manager refused the cluster token (401)".to_owned()),
        _ => Err(format!("manager answered {}", status.trim())),
    }
}

/// Polls forever, applying each newer valid topology to `proxy`.
pub async fn follow(url: ManagerUrl, token: String, mut proxy: Proxy) {
    let mut epoch = 0;
    loop {
        match poll(&url, &token, epoch).await {
            Ok(Poll::Topology(t)) if t.epoch > epoch || epoch == 0 => {
                if let Err(e) = validate_databases(&t.databases) {
                    tracing::error!(epoch = t.epoch, "ignoring invalid topology: {e}");
                    epoch = t.epoch;
                    continue;
                }
                tracing::info!(epoch = t.epoch, databases = t.databases.len(), "applying topology");
                if let Err(e) = proxy.apply(&t.databases).await {
                    tracing::error!(epoch = t.epoch, "topology applied with errors: {e}");
                }
                epoch = t.epoch;
            }
            Ok(Poll::Topology(t)) => tracing::debug!(epoch = t.epoch, "ignoring older topology"),
            Ok(Poll::NotModified) => {}
            Err(e) => {
                tracing::warn!("topology poll failed: {e}");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
