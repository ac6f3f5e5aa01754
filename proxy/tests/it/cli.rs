//! The binary's command line: `--check`, `--help`, and `/metrics`.

use crate::support::*;
use resp::Frame;
use std::io::Write;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-proxy"))
        .args(args)
        .output()
        .expect("run proxy");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn check_validates_and_summarises() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        format!(
            "[[databases]]\nname = \"cache\"\nport = 12000\npassword = \"x\"\n{}",
            shards_toml(&[1, 2, 3])
        ),
    )
    .expect("write");
    let (code, text) = run(&["--config", good.to_str().expect("utf8"), "--check"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("cache port=12000 shards=3 tls=false auth=true"), "{text}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[[databases]]\nname = \"cache\"\nport = 12000\n{}",
            shards_toml(&[1, 2, 3]).replace("[0, 5460]", "[1, 5460]")
        ),
    )
    .expect("write");
    let (code, text) = run(&["--config", bad.to_str().expect("utf8"), "--check"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("slots 0..1 are not covered"), "{text}");
    let (code, text) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(text.contains("--manager") && text.contains("--config"), "{text}");
    let (code, _) = run(&[]);
    assert_eq!(code, 2);
    let (code, text) = run(&["--config", good.to_str().expect("utf8"), "--threads", "0"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--threads"), "{text}");
}

/// One worker thread serves everything alone: a pipeline of single-shard and
/// split commands across the three shards comes back whole and in order.
#[test]
fn one_thread_serves_a_mixed_pipeline() {
    let cluster = Cluster::with_proxy_args(&["--threads", "1"]);
    let mut c = cluster.conn();
    let keys: Vec<String> = (0..3).map(|shard| key_on(shard, 7)).collect();
    let mut pipeline = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        pipeline.extend(multibulk(&["SET", key, &i.to_string()]));
    }
    pipeline.extend(multibulk(&["MGET", &keys[0], &keys[1], &keys[2]]));
    pipeline.extend(multibulk(&["DEL", &keys[0], &keys[2]]));
    c.send_raw(&pipeline).expect("send");
    for _ in 0..3 {
        assert_eq!(c.recv(), simple("OK"));
    }
    assert_eq!(c.recv(), Frame::Array(vec![bulk("0"), bulk("1"), bulk("2")]));
    assert_eq!(c.recv(), Frame::Integer(2));
}

#[test]
fn metrics_count_requests_per_class() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    for _ in 0..10 {
        c.cmd(&["SET", "k", "v"]);
    }
    c.cmd(&["MGET", &key_on(0, 5), &key_on(1, 5)]);
    c.cmd(&["NOSUCH"]);
    // A pipeline of 20 requests in one write.
    let pings: Vec<u8> = (0..20).flat_map(|_| multibulk(&["PING"])).collect();
    c.send_raw(&pings).expect("send");
    for _ in 0..20 {
        assert_eq!(c.recv(), simple("PONG"));
    }
    let body = metrics_response(cluster.metrics_port);
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains("tessera_proxy_requests_total{class=\"single\",database=\"db\"} 10"),
        "{body}"
    );
    assert!(
        body.contains("tessera_proxy_requests_total{class=\"multi\",database=\"db\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("tessera_proxy_errors_total{class=\"local\",database=\"db\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("tessera_proxy_client_connections{database=\"db\"} 1"),
        "{body}"
    );
    let backends = body
        .lines()
        .find_map(|l| l.strip_prefix("tessera_proxy_backend_connections{database=\"db\"} "))
        .and_then(|n| n.parse::<i64>().ok());
    assert!(backends.is_some_and(|n| n >= 2), "{body}");
    assert!(body.contains("tessera_proxy_request_duration_seconds_bucket"), "{body}");
    // Every request is counted in the depth of the read that brought it
    // (the start-up probe's PINGs too).
    let depth_sum = body
        .lines()
        .find_map(|l| l.strip_prefix("tessera_proxy_pipeline_depth_sum{database=\"db\"} "))
        .and_then(|n| n.parse::<f64>().ok());
    assert!(depth_sum.is_some_and(|n| n >= 32.0), "{body}");
    assert!(
        body.contains("tessera_proxy_pipeline_depth_bucket{database=\"db\",le=\"1024\"}"),
        "{body}"
    );
    let text = body.split_once("\r\n\r\n").map_or("", |(_, t)| t);
    let promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut check) = promtool else {
        eprintln!("skipping the promtool check: promtool not installed");
        return;
    };
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = check.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
