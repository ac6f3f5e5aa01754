//! Free loopback ports for tests that start real servers.

use std::net::TcpListener;

/// A port of 127.0.0.1 that was free a moment ago (picked by the OS).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
