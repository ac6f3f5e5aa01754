//! Prometheus metrics of the proxy, per database and command class, and the
//! small HTTP endpoint that serves them (`GET /metrics`). Counting happens in
//! the connection code through the handles of [`DbMetrics`].

use std::sync::Arc;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Command classes, the `class` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// One shard by key.
    Single,
    /// Split over shards and merged.
    Multi,
    /// Sent to every shard.
    Fanout,
    /// Answered by the proxy.
    Local,
    /// MULTI/EXEC/WATCH.
    Transaction,
    /// Blocking commands.
    Blocking,
    /// Pub/sub.
    Pubsub,
}

const CLASSES: [Class; 7] = [
    Class::Single,
    Class::Multi,
    Class::Fanout,
    Class::Local,
    Class::Transaction,
    Class::Blocking,
    Class::Pubsub,
];

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Single => "single",
            Class::Multi => "multi",
            Class::Fanout => "fanout",
            Class::Local => "local",
            Class::Transaction => "transaction",
            Class::Blocking => "blocking",
            Class::Pubsub => "pubsub",
        }
    }
}

/// The metric families, registered once.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    pipeline_depth: HistogramVec,
    clients: IntGaugeVec,
    backends: IntGaugeVec,
    bytes_in: IntCounterVec,
    bytes_out: IntCounterVec,
    backend_bytes_in: IntCounterVec,
    backend_bytes_out: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// One class's handles.
#[derive(Debug, Clone)]
pub struct ClassMetrics {
    /// Requests answered.
    pub requests: IntCounter,
    /// Error replies.
    pub errors: IntCounter,
    /// Request to reply, seconds.
    pub latency: prometheus::Histogram,
}

/// A database's handles.
#[derive(Debug)]
pub struct DbMetrics {
    classes: Vec<ClassMetrics>,
    /// Open client connections.
    pub client_connections: IntGauge,
    /// Open backend connections.
    pub backend_connections: IntGauge,
    /// Bytes read from clients.
    pub bytes_in: IntCounter,
    /// Bytes written to clients.
    pub bytes_out: IntCounter,
    /// Bytes read from shards.
    pub backend_bytes_in: IntCounter,
    /// Bytes written to shards.
    pub backend_bytes_out: IntCounter,
    /// Requests that arrived in one read from a client.
    pub pipeline_depth: prometheus::Histogram,
}

impl DbMetrics {
    /// Handles of one class.
    pub fn class(&self, class: Class) -> &ClassMetrics {
        &self.classes[CLASSES.iter().position(|c| *c == class).expect("every class is listed")]
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers the families.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let db_class = &["database", "class"];
        let db = &["database"];
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGaugeVec::new(Opts::new(name, help), db).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let latency = HistogramVec::new(
            HistogramOpts::new("tessera_proxy_request_duration_seconds", "Time from request to reply")
                .buckets(prometheus::exponential_buckets(0.000_05, 2.0, 16).expect("valid buckets")),
            db_class,
        )
        .expect("valid metric");
        registry.register(Box::new(latency.clone())).expect("registered once");
        let pipeline_depth = HistogramVec::new(
            HistogramOpts::new(
                "tessera_proxy_pipeline_depth",
                "Requests that arrived in one read from a client connection",
            )
            .buckets(prometheus::exponential_buckets(1.0, 2.0, 11).expect("valid buckets")),
            db,
        )
        .expect("valid metric");
        registry
            .register(Box::new(pipeline_depth.clone()))
            .expect("registered once");
        Metrics {
            requests: counter("tessera_proxy_requests_total", "Requests answered", db_class),
            errors: counter("tessera_proxy_errors_total", "Error replies", db_class),
            latency,
            pipeline_depth,
            clients: gauge("tessera_proxy_client_connections", "Open client connections"),
            backends: gauge("tessera_proxy_backend_connections", "Open shard connections"),
            bytes_in: counter("tessera_proxy_client_bytes_in_total", "Bytes read from clients", db),
            bytes_out: counter("tessera_proxy_client_bytes_out_total", "Bytes written to clients", db),
            backend_bytes_in: counter("tessera_proxy_backend_bytes_in_total", "Bytes read from shards", db),
            backend_bytes_out: counter("tessera_proxy_backend_bytes_out_total", "Bytes written to shards", db),
            registry,
        }
    }

    /// The handles of database `name`.
    pub fn database(&self, name: &str) -> Arc<DbMetrics> {
        let classes = CLASSES
            .iter()
            .map(|c| ClassMetrics {
                requests: self.requests.with_label_values(&[name, c.name()]),
                errors: self.errors.with_label_values(&[name, c.name()]),
                latency: self.latency.with_label_values(&[name, c.name()]),
            })
            .collect();
        Arc::new(DbMetrics {
            classes,
            client_connections: self.clients.with_label_values(&[name]),
            backend_connections: self.backends.with_label_values(&[name]),
            bytes_in: self.bytes_in.with_label_values(&[name]),
            bytes_out: self.bytes_out.with_label_values(&[name]),
            backend_bytes_in: self.backend_bytes_in.with_label_values(&[name]),
            backend_bytes_out: self.backend_bytes_out.with_label_values(&[name]),
            pipeline_depth: self.pipeline_depth.with_label_values(&[name]),
        })
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Serves `GET /metrics` on `listener` until the task is dropped.
    pub async fn serve(self, listener: TcpListener) {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let metrics = self.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut chunk = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let response = if request.starts_with(b"GET /metrics ") {
                    let body = metrics.render();
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
                };
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    }
}
