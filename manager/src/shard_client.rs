//! The RESP commands the manager sends to shards itself: FLUSHALL for
//! `PUT /v1/bdbs/{uid}/flush`, and the watchdog's and failover's PING,
//! INFO replication and CLIENT PAUSE/UNPAUSE. One short connection per call.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use bytes::BytesMut;
use resp::{Frame, FrameDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A shard answered a command with an error reply.
#[derive(Debug, thiserror::Error)]
#[error("{command} answered {reply}")]
pub struct Refused {
    pub command: String,
    /// The error line without its `-`, e.g. `LOADING Redis is loading…`.
    pub reply: String,
}

/// Runs `commands` on the shard at `addr` (after `AUTH password` if any)
/// within `timeout`, and returns their replies.
///
/// # Errors
/// The shard is unreachable, too slow, or answers with an error.
pub async fn call(
    addr: &str,
    password: Option<&str>,
    commands: &[&[&str]],
    timeout: Duration,
) -> anyhow::Result<Vec<Frame>> {
    tokio::time::timeout(timeout, async {
        let mut stream = TcpStream::connect(addr).await.context("connect")?;
        let mut all: Vec<&[&str]> = Vec::with_capacity(commands.len() + 1);
        let auth;
        if let Some(p) = password {
            auth = ["AUTH", p];
            all.push(&auth);
        }
        all.extend_from_slice(commands);
        let mut out = BytesMut::new();
        for cmd in &all {
            resp::encode::array_len(&mut out, cmd.len());
            for arg in *cmd {
                resp::encode::bulk(&mut out, arg.as_bytes());
            }
        }
        stream.write_all(&out).await.context("write")?;
        let mut buf = BytesMut::with_capacity(8 * 1024);
        let mut decoder = FrameDecoder::new();
        let mut replies = Vec::with_capacity(all.len());
        while replies.len() < all.len() {
            match decoder
                .next_frame(&mut buf)
                .map_err(|e| anyhow::anyhow!("bad reply: {e}"))?
            {
                Some(Frame::Error(e)) => {
                    return Err(Refused {
                        command: all[replies.len()].first().copied().unwrap_or_default().to_owned(),
                        reply: String::from_utf8_lossy(&e).into_owned(),
                    }
                    .into());
                }
                Some(frame) => replies.push(frame),
                None => {
                    if stream.read_buf(&mut buf).await.context("read")? == 0 {
                        anyhow::bail!("the shard closed the connection");
                    }
                }
            }
        }
        if password.is_some() {
            replies.remove(0);
        }
        Ok(replies)
    })
    .await
    .with_context(|| format!("the shard at {addr} did not answer within {timeout:?}"))?
}

/// Runs `FLUSHALL` on the shard at `addr`.
///
/// # Errors
/// As [`call`].
pub async fn flushall(addr: &str, password: Option<&str>) -> anyhow::Result<()> {
    call(addr, password, &[&["FLUSHALL"]], Duration::from_secs(10))
        .await
        .map(drop)
}

/// Whether the shard at `addr` is alive: it answers PING within `timeout`,
/// or answers `-LOADING` (it is loading its data set, which is not a failure).
pub async fn alive(addr: &str, password: Option<&str>, timeout: Duration) -> bool {
    match call(addr, password, &[&["PING"]], timeout).await {
        Ok(_) => true,
        Err(e) => e
            .downcast_ref::<Refused>()
            .is_some_and(|r| r.reply.starts_with("LOADING")),
    }
}

/// The fields of the shard's `INFO replication`.
///
/// # Errors
/// As [`call`].
pub async fn replication(
    addr: &str,
    password: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<HashMap<String, String>> {
    let replies = call(addr, password, &[&["INFO", "replication"]], timeout).await?;
    let text = match replies.first() {
        Some(Frame::Bulk(text) | Frame::Verbatim { text, .. }) => String::from_utf8_lossy(text).into_owned(),
        other => anyhow::bail!("INFO answered {other:?}"),
    };
    Ok(text
        .lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// A replica's `master_repl_offset` while its link to its master is up;
/// `None` while it is down (or in a full sync).
///
/// # Errors
/// Unreachable, or an INFO without the fields.
pub async fn synced_offset(addr: &str, password: Option<&str>, timeout: Duration) -> anyhow::Result<Option<i64>> {
    let info = replication(addr, password, timeout).await?;
    if info.get("master_link_status").map(String::as_str) != Some("up") {
        return Ok(None);
    }
    let offset = info.get("master_repl_offset").and_then(|v| v.parse().ok());
    offset.map(Some).context("INFO replication has no master_repl_offset")
}

/// The shard's `master_repl_offset` (INFO replication).
///
/// # Errors
/// As [`call`], or an INFO reply without the field.
pub async fn repl_offset(addr: &str, password: Option<&str>, timeout: Duration) -> anyhow::Result<i64> {
    replication(addr, password, timeout)
        .await?
        .get("master_repl_offset")
        .and_then(|v| v.parse().ok())
        .context("INFO replication has no master_repl_offset")
}
