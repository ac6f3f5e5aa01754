//! Propagation: what an executed write changed, encoded once as RESP into
//! the feeds that consume it — the AOF now, the replication stream for
//! replicas — as Redis 7.0 propagates it.
//!
//! A command that changed something (it called [`Ctx::modified`], so
//! `dirty` grew) and is a write propagates its arguments as they are, unless
//! it asked to propagate something else with [`Ctx::propagate_as`] (SET EX →
//! SET PXAT, EXPIRE → PEXPIREAT, SPOP → SREM, BLPOP → LPOP…). Keys that
//! expire or are evicted propagate as DEL (UNLINK with the lazyfree
//! settings). The operations of one execution unit — a command, or the
//! commands of an EXEC — are collected and committed together: more than
//! one is wrapped in MULTI/EXEC, and each feed gets a SELECT when the
//! database differs from the last one it was given.
//!
//! This module does no I/O: the AOF writer takes [`Feed::buf`] and writes
//! it out ([`crate::persistence::aof`]).
//!
//! [`Ctx::modified`]: crate::cmd::Ctx::modified
//! [`Ctx::propagate_as`]: crate::cmd::Ctx::propagate_as

use bytes::Bytes;

/// Where an operation goes.
pub mod target {
    /// The append-only file.
    pub const AOF: u8 = 1;
    /// Replicas (and the replication backlog).
    pub const REPL: u8 = 1 << 1;
    /// Both.
    pub const ALL: u8 = AOF | REPL;
}

/// One command to propagate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The database it applies to.
    pub db: usize,
    /// The command and its arguments.
    pub argv: Vec<Bytes>,
    /// [`target`] bits.
    pub targets: u8,
}

/// One consumer's stream: RESP commands not yet taken, and the database
/// its last command applied to.
#[derive(Debug, Default)]
pub struct Feed {
    /// Whether this consumer takes the stream now.
    pub enabled: bool,
    /// Encoded commands the consumer has not taken yet.
    pub buf: Vec<u8>,
    /// The database the consumer's stream has selected (none at first, and
    /// after [`Feed::reset_db`]).
    selected: Option<usize>,
}

impl Feed {
    /// Forgets the selected database: the next command is preceded by a
    /// SELECT (a new AOF file, a new replica).
    pub fn reset_db(&mut self) {
        self.selected = None;
    }

    fn append(&mut self, db: usize, encoded: &[u8]) {
        if self.selected != Some(db) {
            encode(&mut self.buf, &[b"SELECT", itoa::Buffer::new().format(db).as_bytes()]);
            self.selected = Some(db);
        }
        self.buf.extend_from_slice(encoded);
    }
}

/// The propagator: the operations of the running execution unit, and the
/// feeds they are committed to.
#[derive(Debug, Default)]
pub struct Propagator {
    unit: Vec<Op>,
    /// The AOF's feed.
    pub aof: Feed,
    /// The replication feed.
    pub repl: Feed,
    scratch: Vec<u8>,
}

impl Propagator {
    /// Whether any consumer takes the stream (if not, nothing is recorded).
    pub fn active(&self) -> bool {
        self.aof.enabled || self.repl.enabled
    }

    /// Adds `op` to the running execution unit.
    pub fn push(&mut self, op: Op) {
        if self.active() {
            self.unit.push(op);
        }
    }

    /// Adds the deletion of `keys` of `db` (expired or evicted) to the unit:
    /// UNLINK when `lazy`, DEL otherwise, one command per key.
    pub fn deleted(&mut self, db: usize, keys: impl IntoIterator<Item = Bytes>, lazy: bool) {
        if !self.active() {
            return;
        }
        let cmd = Bytes::from_static(if lazy { b"UNLINK" } else { b"DEL" });
        for key in keys {
            self.unit.push(Op {
                db,
                argv: vec![cmd.clone(), key],
                targets: target::ALL,
            });
        }
    }

    /// Ends the execution unit: its operations go to the feeds, wrapped in
    /// MULTI/EXEC when there are several (Redis's `propagatePendingCommands`).
    pub fn commit(&mut self) {
        match self.unit.len() {
            0 => {}
            1 => {
                let op = self.unit.pop().expect("one operation");
                self.emit(&op);
            }
            _ => {
                let ops = std::mem::take(&mut self.unit);
                let db = ops[0].db;
                self.emit(&Op {
                    db,
                    argv: vec![Bytes::from_static(b"MULTI")],
                    targets: target::ALL,
                });
                for op in &ops {
                    self.emit(op);
                }
                self.emit(&Op {
                    db: ops[ops.len() - 1].db,
                    argv: vec![Bytes::from_static(b"EXEC")],
                    targets: target::ALL,
                });
                self.unit = ops;
                self.unit.clear();
            }
        }
    }

    /// Ends the unit with each operation on its own (the deletions of the
    /// active expiry cycle, which are not one atomic change).
    pub fn commit_each(&mut self) {
        let ops = std::mem::take(&mut self.unit);
        for op in &ops {
            self.emit(op);
        }
        self.unit = ops;
        self.unit.clear();
    }

    fn emit(&mut self, op: &Op) {
        self.scratch.clear();
        encode(&mut self.scratch, &op.argv);
        if self.aof.enabled && op.targets & target::AOF != 0 {
            self.aof.append(op.db, &self.scratch);
        }
        if self.repl.enabled && op.targets & target::REPL != 0 {
            self.repl.append(op.db, &self.scratch);
        }
    }
}

/// Appends `argv` as a RESP array of bulk strings.
pub fn encode<A: AsRef<[u8]>>(buf: &mut Vec<u8>, argv: &[A]) {
    let mut n = itoa::Buffer::new();
    buf.push(b'*');
    buf.extend_from_slice(n.format(argv.len()).as_bytes());
    buf.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        buf.push(b'$');
        buf.extend_from_slice(n.format(a.len()).as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Helpers to build rewritten commands.
pub fn argv<const N: usize>(parts: [&[u8]; N]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(db: usize, parts: &[&str], targets: u8) -> Op {
        Op {
            db,
            argv: parts.iter().map(|p| Bytes::copy_from_slice(p.as_bytes())).collect(),
            targets,
        }
    }

    fn on() -> Propagator {
        let mut p = Propagator::default();
        p.aof.enabled = true;
        p.repl.enabled = true;
        p
    }

    #[test]
    fn select_is_emitted_when_the_database_changes() {
        let mut p = on();
        p.push(op(0, &["set", "a", "1"], target::ALL));
        p.commit();
        p.push(op(0, &["set", "b", "2"], target::ALL));
        p.commit();
        p.push(op(3, &["del", "a"], target::ALL));
        p.commit();
        let expected = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n\
            *3\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n2\r\n\
            *2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\ndel\r\n$1\r\na\r\n";
        assert_eq!(String::from_utf8_lossy(&p.aof.buf), expected);
        assert_eq!(p.aof.buf, p.repl.buf);
        p.aof.reset_db();
        p.aof.buf.clear();
        p.push(op(3, &["del", "b"], target::ALL));
        p.commit();
        assert!(p.aof.buf.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"));
    }

    #[test]
    fn a_unit_of_several_operations_is_a_transaction() {
        let mut p = on();
        p.push(op(1, &["DEL", "k"], target::ALL));
        p.push(op(1, &["set", "k", "v"], target::ALL));
        p.commit();
        let text = String::from_utf8_lossy(&p.aof.buf).replace("\r\n", " ");
        assert_eq!(
            text,
            "*2 $6 SELECT $1 1 *1 $5 MULTI *2 $3 DEL $1 k *3 $3 set $1 k $1 v *1 $4 EXEC "
        );
        p.aof.buf.clear();
        p.deleted(1, [Bytes::from_static(b"x"), Bytes::from_static(b"y")], true);
        p.commit_each();
        let text = String::from_utf8_lossy(&p.aof.buf).replace("\r\n", " ");
        assert_eq!(text, "*2 $6 UNLINK $1 x *2 $6 UNLINK $1 y ");
    }

    #[test]
    fn targets_choose_the_feeds_and_nothing_is_kept_without_consumers() {
        let mut p = on();
        p.push(op(0, &["publish", "ch", "m"], target::REPL));
        p.commit();
        assert!(p.aof.buf.is_empty());
        assert!(p.repl.buf.ends_with(b"$7\r\npublish\r\n$2\r\nch\r\n$1\r\nm\r\n"));
        let mut off = Propagator::default();
        off.push(op(0, &["set", "a", "1"], target::ALL));
        off.commit();
        assert!(off.aof.buf.is_empty() && off.repl.buf.is_empty());
    }
}
