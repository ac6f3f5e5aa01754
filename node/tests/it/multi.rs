//! Randomized transactions: three connections interleave WATCH, MULTI,
//! queued commands, EXEC, DISCARD and plain writes over a handful of keys,
//! in the same seeded order against `tessera-node` and `redis-server`; every
//! reply must match (QUEUED, EXECABORT, null EXEC arrays, the EXEC arrays).
//!
//! Seed: `TESSERA_SEED=<u64>` (random otherwise), printed at the start and
//! in a failure; steps: `TESSERA_MULTI_OPS` (default 3000). Nothing depends
//! on timing: expiry is only set far in the future or in the past.
//!
//! Also: CLIENT PAUSE WRITE holding back an EXEC of queued writes.

use std::collections::VecDeque;
use std::fmt::Write as _;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::diff::{Compare, Outcome, Pair};
use crate::support::show_cmd;

/// Connections taking part.
const CONNS: usize = 3;

/// A string key (some of them also get lists written to them, for WRONGTYPE).
fn key(r: &mut StdRng) -> String {
    format!("k{}", r.random_range(0..6))
}

/// A write, as run outside a transaction or queued inside one.
fn write(r: &mut StdRng) -> Vec<String> {
    let k = key(r);
    let v = r.random_range(0..100).to_string();
    let parts: Vec<String> = match r.random_range(0..16) {
        0..=2 => vec!["SET".into(), k, v],
        3..=4 => vec!["INCR".into(), k],
        5 => vec!["DEL".into(), k, key(r)],
        6 => vec!["LPUSH".into(), k, v],
        7 => vec!["APPEND".into(), k, v],
        8 => vec!["SETNX".into(), k, v],
        9 => vec!["EXPIRE".into(), k, "1000".into()],
        10 => vec!["PEXPIREAT".into(), k, "1".into()],
        11 => vec!["PERSIST".into(), k],
        12 => vec!["RENAME".into(), k, key(r)],
        13 => vec!["MOVE".into(), k, "1".into()],
        14 => vec!["COPY".into(), k, key(r), "REPLACE".into()],
        _ => vec!["GETDEL".into(), k],
    };
    parts
}

/// A read.
fn read(r: &mut StdRng) -> Vec<String> {
    match r.random_range(0..4) {
        0 => vec!["GET".into(), key(r)],
        1 => vec!["EXISTS".into(), key(r), key(r)],
        2 => vec!["TYPE".into(), key(r)],
        _ => vec!["LRANGE".into(), key(r), "0".into(), "-1".into()],
    }
}

/// The next command of a connection, given whether it is inside MULTI.
fn next_command(r: &mut StdRng, in_multi: bool) -> Vec<String> {
    let n = r.random_range(0..100);
    if in_multi {
        return match n {
            0..=34 => write(r),
            35..=49 => read(r),
            50..=71 => vec!["EXEC".into()],
            72..=77 => vec!["DISCARD".into()],
            78..=80 => vec!["NOSUCHCOMMAND".into(), key(r)],
            81..=82 => vec!["SET".into(), key(r)],
            83..=84 => vec!["WATCH".into(), key(r)],
            85 => vec!["MULTI".into()],
            86..=87 => vec!["UNWATCH".into()],
            88 => vec!["EXEC".into(), "extra".into()],
            89 => vec!["FLUSHDB".into()],
            90 => vec!["SWAPDB".into(), "0".into(), "1".into()],
            91..=92 => vec!["BLPOP".into(), key(r), "0".into()],
            _ => vec!["PING".into()],
        };
    }
    match n {
        0..=19 => {
            let mut cmd = vec!["WATCH".to_string()];
            for _ in 0..r.random_range(1..=3) {
                cmd.push(key(r));
            }
            cmd
        }
        20..=23 => vec!["UNWATCH".into()],
        24..=48 => vec!["MULTI".into()],
        49..=80 => write(r),
        81..=90 => read(r),
        91 => vec!["FLUSHDB".into()],
        92 => vec!["SWAPDB".into(), "0".into(), "1".into()],
        93 => vec!["EXEC".into()],
        94 => vec!["DISCARD".into()],
        95 => vec!["FLUSHALL".into()],
        _ => vec!["PING".into()],
    }
}

#[test]
fn random_transactions_match_redis() {
    let seed: u64 = match std::env::var("TESSERA_SEED") {
        Ok(s) => s.trim().parse().expect("TESSERA_SEED must be a u64"),
        Err(_) => StdRng::from_os_rng().random(),
    };
    let ops: usize = std::env::var("TESSERA_MULTI_OPS")
        .map(|s| s.trim().parse().expect("TESSERA_MULTI_OPS must be a number"))
        .unwrap_or(3000);
    eprintln!("multi: TESSERA_SEED={seed} TESSERA_MULTI_OPS={ops}");
    let Some(mut pair) = Pair::start(&[]) else { return };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut in_multi = [false; CONNS];
    let mut history: VecDeque<String> = VecDeque::with_capacity(31);
    let (mut execs, mut aborted, mut watched_fail) = (0, 0, 0);
    for step in 0..ops {
        let conn = rng.random_range(0..CONNS);
        let cmd = next_command(&mut rng, in_multi[conn]);
        let [t, r] = pair.run(conn, &cmd);
        if !t.matches(&r, Compare::Exact) {
            let mut report = format!(
                "transaction mismatch at step {step} (reproduce: TESSERA_SEED={seed} TESSERA_MULTI_OPS={ops})\n\
                 [conn {conn}] {}\n  tessera: {}\n  redis:   {}\n\nbefore it (tessera's replies):\n",
                show_cmd(&cmd),
                t.show().replace('\n', "\n           "),
                r.show().replace('\n', "\n           "),
            );
            for h in &history {
                let _ = writeln!(report, "  {h}");
            }
            panic!("{report}");
        }
        let name = cmd[0].as_str();
        let ok = matches!(&t, Outcome::Reply(resp::Frame::Simple(s)) if s.as_ref() == b"OK");
        match name {
            "MULTI" if ok => in_multi[conn] = true,
            "EXEC" | "DISCARD" => {
                if name == "EXEC" && in_multi[conn] {
                    match &t {
                        Outcome::Reply(resp::Frame::Array(_)) => execs += 1,
                        Outcome::Reply(resp::Frame::Error(_)) => aborted += 1,
                        Outcome::Reply(resp::Frame::NullArray) => watched_fail += 1,
                        _ => {}
                    }
                }
                in_multi[conn] = false;
            }
            _ => {}
        }
        if history.len() == 30 {
            history.pop_front();
        }
        history.push_back(format!("[conn {conn}] {} -> {}", show_cmd(&cmd), t.short()));
    }
    eprintln!("multi: {execs} EXECs ran, {watched_fail} failed on a watched key, {aborted} aborted");
    assert!(
        execs > 0 && watched_fail > 0 && aborted > 0,
        "the mix covers every outcome"
    );
}

/// CLIENT PAUSE WRITE holds back an EXEC whose queue writes (as Redis), not
/// one that only reads.
#[test]
fn client_pause_write_holds_exec_of_queued_writes() {
    let server = crate::support::Server::tessera(&[]);
    let mut tx = server.conn();
    let mut admin = server.conn();
    for (queued, held) in [("SET", true), ("GET", false)] {
        assert_eq!(tx.cmd(&["MULTI"]), resp::Frame::Simple("OK".into()));
        let mut cmd = vec![queued, "k"];
        if queued == "SET" {
            cmd.push("v");
        }
        assert_eq!(tx.cmd(&cmd), resp::Frame::Simple("QUEUED".into()));
        assert_eq!(
            admin.cmd(&["CLIENT", "PAUSE", "500", "WRITE"]),
            resp::Frame::Simple("OK".into())
        );
        let start = std::time::Instant::now();
        assert!(matches!(tx.cmd(&["EXEC"]), resp::Frame::Array(_)));
        let waited = start.elapsed() >= std::time::Duration::from_millis(300);
        assert_eq!(waited, held, "EXEC of a queued {queued}");
        assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), resp::Frame::Simple("OK".into()));
    }
}
