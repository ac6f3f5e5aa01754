//! The few RESP commands the manager sends to shards itself (FLUSHALL for
//! `PUT /v1/bdbs/{uid}/flush`), over a plain connection.

use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Runs `AUTH password` (if any) and `FLUSHALL` on the shard at `addr`.
///
/// # Errors
/// The shard is unreachable or answers with an error.
pub async fn flushall(addr: &str, password: Option<&str>) -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let stream = TcpStream::connect(addr).await.context("connect")?;
        let mut stream = BufReader::new(stream);
        if let Some(p) = password {
            command(&mut stream, &["AUTH", p]).await?;
        }
        command(&mut stream, &["FLUSHALL"]).await
    })
    .await
    .context("the shard did not answer within 10 s")?
}

async fn command(stream: &mut BufReader<TcpStream>, args: &[&str]) -> anyhow::Result<()> {
    let mut request = format!("*{}\r\n", args.len());
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.get_mut().write_all(request.as_bytes()).await.context("write")?;
    let mut line = String::new();
    stream.read_line(&mut line).await.context("read")?;
    match line.strip_prefix('+') {
        Some(_) => Ok(()),
        None => anyhow::bail!("{}", line.trim_end()),
    }
}
