//! Talking to a running shard over RESP: INFO for its stats, and the
//! commands of a live reconfiguration. One short connection per call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use resp::{Frame, FrameDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::spec::{Demotion, Role};

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
    /// Calls of client commands since the shard started (commandstats,
    /// without [`HOUSEKEEPING`]).
    pub command_calls: u64,
    /// Microseconds those calls took.
    pub command_usec: u64,
}

/// Commands the platform itself sends to shards (probes, the watchdog's
/// pings, replication acks): left out of the latency of client commands.
pub const HOUSEKEEPING: &[&str] = &["auth", "info", "ping", "replconf"];

impl ShardStats {
    /// The average latency in microseconds of the client commands run
    /// between `earlier` and `self`; `None` without such commands, or when
    /// the counters went back (the process restarted).
    pub fn avg_latency_since(&self, earlier: &ShardStats) -> Option<f64> {
        let calls = self.command_calls.checked_sub(earlier.command_calls)?;
        let usec = self.command_usec.checked_sub(earlier.command_usec)?;
        (calls > 0).then(|| usec as f64 / calls as f64)
    }
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

/// Reads the shard's INFO (the default sections and commandstats).
///
/// # Errors
/// As [`call`], or an INFO reply that is not text.
pub async fn info(addr: SocketAddr, password: Option<&str>) -> Result<ShardStats, ProbeError> {
    let replies = call(
        addr,
        password,
        &[vec!["INFO".into(), "default".into(), "commandstats".into()]],
    )
    .await?;
    match replies.first() {
        Some(Frame::Bulk(text) | Frame::Verbatim { text, .. }) => Ok(parse_info(&String::from_utf8_lossy(text))),
        other => Err(ProbeError::Protocol(format!("INFO answered {other:?}"))),
    }
}

/// What the master at `own` has that `new_master` never got, just before
/// it becomes `new_master`'s replica (see [`Demotion`]).
///
/// # Errors
/// As [`call`], on either shard.
pub async fn demotion(own: SocketAddr, new_master: SocketAddr, password: Option<&str>) -> Result<Demotion, ProbeError> {
    let (old, new) = tokio::join!(replication(own, password), replication(new_master, password));
    let (old, new) = (old?, new?);
    let offset =
        |info: &HashMap<String, String>, field: &str| info.get(field).and_then(|v| v.parse::<i64>().ok()).unwrap_or(-1);
    let own_offset = offset(&old, "master_repl_offset");
    let replid = old.get("master_replid").cloned().unwrap_or_default();
    // `second_repl_offset` is the first offset the new master wrote itself.
    let discarded_bytes = (new.get("master_replid2") == Some(&replid))
        .then(|| u64::try_from(own_offset - (offset(&new, "second_repl_offset") - 1)).unwrap_or(0));
    Ok(Demotion {
        replid,
        offset: own_offset,
        discarded_bytes,
    })
}

async fn replication(addr: SocketAddr, password: Option<&str>) -> Result<HashMap<String, String>, ProbeError> {
    let replies = call(addr, password, &[vec!["INFO".into(), "replication".into()]]).await?;
    match replies.first() {
        Some(Frame::Bulk(text) | Frame::Verbatim { text, .. }) => Ok(String::from_utf8_lossy(text)
            .lines()
            .filter_map(|l| l.trim_end().split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()),
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
            cmd if cmd.starts_with("cmdstat_") => {
                if HOUSEKEEPING.iter().any(|h| cmd[8..].eq_ignore_ascii_case(h)) {
                    continue;
                }
                let field = |name: &str| {
                    value
                        .split(',')
                        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                        .and_then(|n| n.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                s.command_calls += field("calls");
                s.command_usec += field("usec");
            }
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
                    # Keyspace\r\ndb0:keys=10,expires=1,avg_ttl=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\n\
                    # Commandstats\r\n\
                    cmdstat_set:calls=4,usec=40,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n\
                    cmdstat_get:calls=6,usec=30,usec_per_call=5.00,rejected_calls=1,failed_calls=0\r\n\
                    cmdstat_info:calls=100,usec=9000,usec_per_call=90.00,rejected_calls=0,failed_calls=0\r\n\
                    cmdstat_ping:calls=50,usec=50,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n";
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
                command_calls: 10,
                command_usec: 70,
            }
        );
    }

    #[test]
    fn latency_over_an_interval() {
        let at = |calls, usec| ShardStats {
            command_calls: calls,
            command_usec: usec,
            ..ShardStats::default()
        };
        assert_eq!(at(110, 1070).avg_latency_since(&at(10, 70)), Some(10.0));
        assert_eq!(at(10, 70).avg_latency_since(&at(10, 70)), None, "no traffic");
        assert_eq!(at(3, 9).avg_latency_since(&at(10, 70)), None, "restarted");
    }
}
