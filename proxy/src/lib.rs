//! tessera-proxy: Redis-protocol endpoints, one per database, that route
//! requests by slot to the database's shards, split multi-key commands,
//! multiplex many clients over a few pipelined backend connections, and
//! follow topology changes without dropping clients.
//!
//! # Layout
//! - [`config`]: `proxy.toml` and the manager's topology JSON, validation.
//! - [`routing`]: the per-command routing table and key extraction.
//! - [`server`]: databases served, listeners, routes and their links.
//! - [`client`]: one client connection (decode, route, reply in order).
//! - `replies`: a client's stream and the replies owed on it, written in order.
//! - [`workers`]: the threads that serve clients, one runtime each.
//! - [`backend`]: shared pipelined connections to shards.
//! - [`info`]: INFO merged over shards.
//! - [`tls`]: rustls server configuration.
//! - [`metrics`]: Prometheus metrics and `/metrics`.
//! - [`manager`]: long-poll client of the manager's topology.
//! - [`cli`]: the binary's entry point.
//!
//! # Protocols
//! Backend connections speak the client's protocol: a database keeps one
//! pool of RESP2 links and, once a client sends `HELLO 3`, one of RESP3
//! links (opened with `HELLO 3`), so replies are passed on without
//! conversion; only replies the proxy builds or merges are encoded for the
//! client's protocol.

pub mod backend;
pub mod cli;
pub mod client;
pub mod config;
pub mod info;
pub mod manager;
pub mod metrics;
mod replies;
pub mod routing;
pub mod server;
pub mod tls;
pub mod workers;
