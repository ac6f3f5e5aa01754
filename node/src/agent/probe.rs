//! Talking to a running shard over RESP: INFO for its stats, and the
//! commands of a live reconfiguration. One short connection per call.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use resp::{Frame, FrameDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::spec::Role;

/// How long one call (connect, commands, replies) may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// What INFO says about a shard.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    pub role: Option<Role>,
    pub master_link_status: Option<String>,
    pub repl_offset: i64,
    pub used_memory: u64,
    pub keys: u64,
    pub ops_per_sec: u64,
    pub connected_clients: u64,
    pub rdb_last_bgsave_status: Option<String>,
    pub aof_last_write_status: Option<String>,
}

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {TIMEOUT:?}")]
    Timeout,
    #[error("bad reply: {0}")]
    Protocol(String),
    #[error("{command} answered {reply}")]
    Refused { command: String, reply: String },
}

/// Runs `commands` (after AUTH when `password` is set) and returns their
/// replies; an error reply is an error.
///
/// # Errors
/// Connection failures, timeouts, malformed or error replies.
pub async fn call(
    addr: SocketAddr,
    password: Option<&str>,
    commands: &[Vec<String>],
) -> Result<Vec<Frame>, ProbeError> {
    tokio::time::timeout(TIMEOUT, call_inner(addr, password, commands))
        .await
        .map_err(|_| ProbeError::Timeout)?
}

async fn call_inner(
    addr: SocketAddr,
    password: Option<&str>,
    commands: &[Vec<String>],
) -> Result<Vec<Frame>, ProbeError> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut all: Vec<Vec<String>> = Vec::with_capacity(commands.len() + 1);
    if let Some(p) = password {
        all.push(vec!["AUTH".into(), p.into()]);
    }
    all.extend_from_slice(commands);
    let mut out = BytesMut::new();
    for cmd in &all {
        resp::encode::array_len(&mut out, cmd.len());
        for arg in cmd {
            resp::encode::bulk(&mut out, arg.as_bytes());
        }
    }
    stream.write_all(&out).await?;
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut decoder = FrameDecoder::new();
    let mut replies = Vec::with_capacity(all.len());
    while replies.len() < all.len() {
        match decoder.next_frame(&mut buf) {
            Ok(Some(frame)) => {
                if let Frame::Error(e) = &frame {
                    let cmd = &all[replies.len()];
                    return Err(ProbeError::Refused {
                        // Never echo a password back.
                        command: cmd.first().cloned().unwrap_or_default(),
                        reply: String::from_utf8_lossy(e).into_owned(),
                    });
                }
                replies.push(frame);
            }
            Ok(None) => {
                if stream.read_buf(&mut buf).await? == 0 {
                    return Err(ProbeError::Protocol("connection closed".into()));
                }
            }
            Err(e) => return Err(ProbeError::Protocol(e.to_string())),
        }
    }
    if password.is_some() {
        replies.remove(0);
    }
    Ok(replies)
}

/// Reads the shard's INFO.
///
/// # Errors
/// As [`call`], or an INFO reply that is not text.
pub async fn info(addr: SocketAddr, password: Option<&str>) -> Result<ShardStats, ProbeError> {
    let replies = call(addr, password, &[vec!["INFO".into()]]).await?;
    match replies.first() {
        Some(Frame::Bulk(text) | Frame::Verbatim { text, .. }) => Ok(parse_info(&String::from_utf8_lossy(text))),
        other => Err(ProbeError::Protocol(format!("INFO answered {other:?}"))),
    }
}

/// The fields of an INFO text that a [`ShardStats`] holds.
pub fn parse_info(text: &str) -> ShardStats {
    let mut s = ShardStats::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim_end().split_once(':') else {
            continue;
        };
        match key {
            "role" => {
                s.role = match value {
                    "master" => Some(Role::Master),
                    "slave" => Some(Role::Replica),
                    _ => None,
                }
            }
            "master_link_status" => s.master_link_status = Some(value.to_owned()),
            "master_repl_offset" => s.repl_offset = value.parse().unwrap_or(0),
            "used_memory" => s.used_memory = value.parse().unwrap_or(0),
            "instantaneous_ops_per_sec" => s.ops_per_sec = value.parse().unwrap_or(0),
            "connected_clients" => s.connected_clients = value.parse().unwrap_or(0),
            "rdb_last_bgsave_status" => s.rdb_last_bgsave_status = Some(value.to_owned()),
            "aof_last_write_status" => s.aof_last_write_status = Some(value.to_owned()),
            db if db.starts_with("db") && db[2..].bytes().all(|b| b.is_ascii_digit()) => {
                let keys = value
                    .split(',')
                    .find_map(|kv| kv.strip_prefix("keys="))
                    .and_then(|n| n.parse::<u64>().ok());
                s.keys += keys.unwrap_or(0);
            }
            _ => {}
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info() {
        let text = "# Server\r\nredis_version:7.0.15\r\n# Clients\r\nconnected_clients:3\r\n\
                    # Memory\r\nused_memory:1048576\r\n# Persistence\r\nrdb_last_bgsave_status:ok\r\n\
                    aof_last_write_status:err\r\n# Stats\r\ninstantaneous_ops_per_sec:12\r\n\
                    # Replication\r\nrole:slave\r\nmaster_link_status:up\r\nmaster_repl_offset:4242\r\n\
                    # Keyspace\r\ndb0:keys=10,expires=1,avg_ttl=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\n";
        let s = parse_info(text);
        assert_eq!(
            s,
            ShardStats {
                role: Some(Role::Replica),
                master_link_status: Some("up".into()),
                repl_offset: 4242,
                used_memory: 1048576,
                keys: 15,
                ops_per_sec: 12,
                connected_clients: 3,
                rdb_last_bgsave_status: Some("ok".into()),
                aof_last_write_status: Some("err".into()),
            }
        );
    }
}
