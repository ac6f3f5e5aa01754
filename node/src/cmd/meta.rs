//! What Redis 7.0 reports about each command beyond the command table:
//! key specs (`COMMAND INFO`, `COMMAND GETKEYS`), tips, the ACL categories
//! a command has besides those its flags imply, and the documentation fields
//! of `COMMAND DOCS` (complexity, history, deprecation).
//!
//! [`TABLE`] covers every Redis 7.0 command and subcommand, so a command gets
//! its metadata as soon as it is added to a group's command table. It was
//! transcribed from Redis 7.0.15's command reference (`COMMAND INFO` and
//! `COMMAND DOCS`); argument descriptions are not included.
//!
//! Key extraction ([`find_keys`]) follows Redis's `getKeysFromCommandWithSpecs`:
//! the key specs are walked, and the few commands whose keys the specs cannot
//! describe (variable flags, unknown or incomplete specs) use Redis's
//! dedicated rules.

use bytes::Bytes;

use super::{Command, flag};

/// ACL categories, as bits, in the order Redis lists them.
pub mod acl {
    /// `@keyspace`.
    pub const KEYSPACE: u32 = 1;
    /// `@read`.
    pub const READ: u32 = 1 << 1;
    /// `@write`.
    pub const WRITE: u32 = 1 << 2;
    /// `@set`.
    pub const SET: u32 = 1 << 3;
    /// `@sortedset`.
    pub const SORTEDSET: u32 = 1 << 4;
    /// `@list`.
    pub const LIST: u32 = 1 << 5;
    /// `@hash`.
    pub const HASH: u32 = 1 << 6;
    /// `@string`.
    pub const STRING: u32 = 1 << 7;
    /// `@bitmap`.
    pub const BITMAP: u32 = 1 << 8;
    /// `@hyperloglog`.
    pub const HYPERLOGLOG: u32 = 1 << 9;
    /// `@geo`.
    pub const GEO: u32 = 1 << 10;
    /// `@stream`.
    pub const STREAM: u32 = 1 << 11;
    /// `@pubsub`.
    pub const PUBSUB: u32 = 1 << 12;
    /// `@admin`.
    pub const ADMIN: u32 = 1 << 13;
    /// `@fast`.
    pub const FAST: u32 = 1 << 14;
    /// `@slow`.
    pub const SLOW: u32 = 1 << 15;
    /// `@blocking`.
    pub const BLOCKING: u32 = 1 << 16;
    /// `@dangerous`.
    pub const DANGEROUS: u32 = 1 << 17;
    /// `@connection`.
    pub const CONNECTION: u32 = 1 << 18;
    /// `@transaction`.
    pub const TRANSACTION: u32 = 1 << 19;
    /// `@scripting`.
    pub const SCRIPTING: u32 = 1 << 20;

    /// Category names (without `@`), in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];

    /// The bit of a category name (case-insensitive, without `@`).
    pub fn by_name(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(bit, _)| bit)
    }
}

/// Key spec flags, as bits, in the order `COMMAND INFO` lists them.
pub mod key_flag {
    /// Read-only access to the value.
    pub const RO: u32 = 1;
    /// Read-write access.
    pub const RW: u32 = 1 << 1;
    /// Overwrite: the value is replaced without being read.
    pub const OW: u32 = 1 << 2;
    /// The key is removed.
    pub const RM: u32 = 1 << 3;
    /// The value is returned or otherwise exposed.
    pub const ACCESS: u32 = 1 << 4;
    /// The value is updated.
    pub const UPDATE: u32 = 1 << 5;
    /// Data is only added.
    pub const INSERT: u32 = 1 << 6;
    /// Data is removed.
    pub const DELETE: u32 = 1 << 7;
    /// The argument is not a key (it only hashes like one).
    pub const NOT_KEY: u32 = 1 << 8;
    /// The spec may miss keys.
    pub const INCOMPLETE: u32 = 1 << 9;
    /// The flags depend on the arguments.
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// Flag names, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where a key spec starts looking for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// At a fixed argument index.
    Index(i32),
    /// After a keyword, searched from an index (backwards when negative).
    Keyword(&'static str, i32),
    /// Cannot be described.
    Unknown,
}

/// How a key spec finds its keys from where it begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// `(lastkey, keystep, limit)`: keys up to `lastkey` (relative to the
    /// start, or from the end when negative), every `keystep`; with a
    /// `limit`, only that fraction of the remaining arguments.
    Range(i32, i32, i32),
    /// `(keynumidx, firstkey, keystep)`: the number of keys is the argument
    /// at `keynumidx`, the keys start at `firstkey` (both relative).
    Keynum(i32, i32, i32),
    /// Cannot be described.
    Unknown,
}

/// One key spec.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// A remark shown by `COMMAND INFO` (empty: none).
    pub notes: &'static str,
    /// [`key_flag`] bits.
    pub flags: u32,
    /// Where the search begins.
    pub begin: Begin,
    /// How keys are found from there.
    pub find: Find,
}

/// A key spec with `flags`, `begin` and `find`.
const fn ks(flags: u32, begin: Begin, find: Find) -> KeySpec {
    KeySpec {
        notes: "",
        flags,
        begin,
        find,
    }
}

impl KeySpec {
    const fn note(self, notes: &'static str) -> KeySpec {
        KeySpec { notes, ..self }
    }
}

/// The metadata of one command or subcommand.
#[derive(Debug)]
pub struct Meta {
    /// The command's full name (`parent|sub` for subcommands).
    pub name: &'static str,
    /// Time complexity (`COMMAND DOCS`; empty: not documented).
    pub complexity: &'static str,
    /// [`acl`] categories besides those implied by the command's flags.
    pub acl: u32,
    /// Command tips (`request_policy:…`, `nondeterministic_output`…).
    pub tips: &'static [&'static str],
    /// Key specs.
    pub key_specs: &'static [KeySpec],
    /// A system command, not meant for users (`doc_flags: syscmd`).
    pub syscmd: bool,
    /// Version that deprecated the command (empty: not deprecated).
    pub deprecated_since: &'static str,
    /// What replaces a deprecated command.
    pub replaced_by: &'static str,
    /// Behaviour changes: (version, description).
    pub history: &'static [(&'static str, &'static str)],
}

const fn m(name: &'static str, complexity: &'static str, acl: u32) -> Meta {
    Meta {
        name,
        complexity,
        acl,
        tips: &[],
        key_specs: &[],
        syscmd: false,
        deprecated_since: "",
        replaced_by: "",
        history: &[],
    }
}

impl Meta {
    const fn tips(self, tips: &'static [&'static str]) -> Meta {
        Meta { tips, ..self }
    }

    const fn keys(self, key_specs: &'static [KeySpec]) -> Meta {
        Meta { key_specs, ..self }
    }

    const fn syscmd(self) -> Meta {
        Meta { syscmd: true, ..self }
    }

    const fn deprecated(self, since: &'static str, replaced_by: &'static str) -> Meta {
        Meta {
            deprecated_since: since,
            replaced_by,
            ..self
        }
    }

    const fn history(self, history: &'static [(&'static str, &'static str)]) -> Meta {
        Meta { history, ..self }
    }
}

/// The metadata of the command named `name` (`parent|sub` for subcommands).
pub fn get(name: &str) -> Option<&'static Meta> {
    TABLE.binary_search_by(|m| m.name.cmp(name)).ok().map(|i| &TABLE[i])
}

/// The key specs of `cmd` (none for commands outside Redis 7.0).
pub fn key_specs(cmd: &Command) -> &'static [KeySpec] {
    get(cmd.name).map_or(&[], |m| m.key_specs)
}

/// The ACL categories of `cmd`: those its flags imply (as Redis's
/// `setImplicitACLCategories`) plus its own, or its group's for commands
/// Redis 7.0 does not have.
pub fn acl_categories(cmd: &Command) -> u32 {
    let own = match get(cmd.name) {
        Some(meta) => meta.acl,
        None => cmd
            .group
            .acl_category()
            .and_then(|c| acl::by_name(c.trim_start_matches('@').as_bytes()))
            .unwrap_or(0),
    };
    let mut cats = own;
    let implied = [
        (flag::WRITE, acl::WRITE),
        (flag::ADMIN, acl::ADMIN | acl::DANGEROUS),
        (flag::PUBSUB, acl::PUBSUB),
        (flag::FAST, acl::FAST),
        (flag::BLOCKING, acl::BLOCKING),
    ];
    for (f, c) in implied {
        if cmd.flags & f != 0 {
            cats |= c;
        }
    }
    if cmd.flags & flag::READONLY != 0 && own & acl::SCRIPTING == 0 {
        cats |= acl::READ;
    }
    if cats & acl::FAST == 0 {
        cats |= acl::SLOW;
    }
    cats
}

/// Whether the key positions of `cmd` depend on its arguments (the
/// `movablekeys` flag): some key spec is not a fixed index and range.
pub fn movable_keys(cmd: &Command) -> bool {
    key_specs(cmd)
        .iter()
        .any(|s| !matches!((s.begin, s.find), (Begin::Index(_), Find::Range(..))))
}

/// Whether `cmd` has key arguments at all (`COMMAND GETKEYS` refuses others).
pub fn has_keys(cmd: &Command) -> bool {
    key_specs(cmd).iter().any(|s| s.flags & key_flag::NOT_KEY == 0) || (cmd.first_key > 0 && get(cmd.name).is_none())
}

/// A key found in a command's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Index of the key in the arguments (the command name is 0).
    pub pos: usize,
    /// [`key_flag`] bits for this key.
    pub flags: u32,
}

/// The keys of an invocation of `cmd` (`args[0]` is the command name, or for
/// a subcommand `args[0..2]` are its names). Empty when the arguments do
/// not hold valid keys.
pub fn find_keys(cmd: &Command, args: &[Bytes]) -> Vec<KeyRef> {
    let specs = key_specs(cmd);
    if specs.is_empty() {
        // Outside Redis 7.0's table: the legacy (first, last, step) triple.
        return cmd
            .key_positions(args.len())
            .map(|pos| KeyRef { pos, flags: 0 })
            .collect();
    }
    let varflags = specs.iter().any(|s| s.flags & key_flag::VARIABLE_FLAGS != 0);
    if !varflags && let Some(keys) = keys_from_specs(specs, args) {
        return keys;
    }
    special_keys(cmd.name, args)
}

/// Walks the key specs (Redis's `getKeysUsingKeySpecs`); `None` when a spec
/// cannot be followed (unknown or incomplete specs, out-of-range arguments).
fn keys_from_specs(specs: &[KeySpec], args: &[Bytes]) -> Option<Vec<KeyRef>> {
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        if spec.flags & key_flag::NOT_KEY != 0 {
            continue;
        }
        let mut first = match spec.begin {
            Begin::Index(i) => i64::from(i),
            Begin::Keyword(word, from) => {
                let from = i64::from(from);
                let is_word = |i: &i64| args[*i as usize].eq_ignore_ascii_case(word.as_bytes());
                // The keyword is never the last argument (forwards) nor the
                // first one (backwards), as in Redis.
                let found = if from > 0 {
                    (from..argc - 1).find(is_word)
                } else {
                    (2..=argc + from).rev().find(is_word)
                };
                match found {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            Begin::Unknown => return None,
        };
        let (last, step) = match spec.find {
            Find::Range(lastkey, step, limit) => {
                let (lastkey, limit) = (i64::from(lastkey), i64::from(limit));
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, i64::from(step))
            }
            Find::Keynum(idx, firstkey, step) => {
                let at = first + i64::from(idx);
                let n = args
                    .get(at as usize)
                    .and_then(|a| super::arg::parse_i64(a))
                    .filter(|&n| n >= 0)?;
                first += i64::from(firstkey);
                (first + n - 1, i64::from(step))
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push(KeyRef {
                pos: i as usize,
                flags: spec.flags,
            });
            i += step.max(1);
        }
        if spec.flags & key_flag::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(keys)
}

/// Redis's dedicated key finders, for commands the specs cannot describe;
/// the other commands have no keys when their specs fail.
fn special_keys(name: &str, args: &[Bytes]) -> Vec<KeyRef> {
    use key_flag::*;
    let is = |i: usize, word: &str| args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()));
    match name {
        "set" => {
            let get = (3..args.len()).any(|i| is(i, "get"));
            vec![KeyRef {
                pos: 1,
                flags: if get { RW | ACCESS | UPDATE } else { OW | UPDATE },
            }]
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < args.len() {
                let rest = args.len() - i - 1;
                if is(i, "get") && rest >= 2 {
                    i += 2;
                } else if is(i, "overflow") && rest >= 1 {
                    i += 1;
                } else {
                    // SET, INCRBY, or a syntax error: assume a write.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            vec![KeyRef {
                pos: 1,
                flags: if readonly { RO | ACCESS } else { RW | ACCESS | UPDATE },
            }]
        }
        "sort" | "sort_ro" => {
            let mut keys = vec![KeyRef {
                pos: 1,
                flags: RO | ACCESS,
            }];
            if name == "sort" {
                let mut store = None;
                let mut i = 2;
                while i < args.len() {
                    if is(i, "limit") {
                        i += 2;
                    } else if is(i, "get") || is(i, "by") {
                        i += 1;
                    } else if is(i, "store") && i + 1 < args.len() {
                        // The last STORE wins, as in SORT itself.
                        store = Some(i + 1);
                    }
                    i += 1;
                }
                keys.extend(store.map(|pos| KeyRef {
                    pos,
                    flags: OW | UPDATE,
                }));
            }
            keys
        }
        "migrate" => {
            let (mut first, mut num) = (3, 1);
            let mut i = 6;
            while args.len() > 6 && i < args.len() {
                if is(i, "keys") {
                    if !args[3].is_empty() {
                        return Vec::new();
                    }
                    first = i + 1;
                    num = args.len() - first;
                    break;
                }
                if is(i, "auth") {
                    i += 1;
                } else if is(i, "auth2") {
                    i += 2;
                }
                i += 1;
            }
            (first..first + num)
                .filter(|&pos| pos < args.len())
                .map(|pos| KeyRef {
                    pos,
                    flags: RW | ACCESS | DELETE,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

use acl::*;
use key_flag::*;

/// Every Redis 7.0 command and subcommand, sorted by name.
#[rustfmt::skip]
pub static TABLE: &[Meta] = &[
    m("acl", "Depends on subcommand.", 0),
    m("acl|cat", "O(1) since the categories and commands are a fixed set.", 0),
    m("acl|deluser", "O(1) amortized time considering the typical user.", 0),
    m("acl|dryrun", "O(1).", 0),
    m("acl|genpass", "O(1)", 0),
    m("acl|getuser", "O(N). Where N is the number of password, command and pattern rules that the user has.", 0).history(&[("6.2.0", "Added Pub/Sub channel patterns."), ("7.0.0", "Added selectors and changed the format of key and channel patterns from a list to their rule representation.")]),
    m("acl|help", "O(1)", 0),
    m("acl|list", "O(N). Where N is the number of configured users.", 0),
    m("acl|load", "O(N). Where N is the number of configured users.", 0),
    m("acl|log", "O(N) with N being the number of entries shown.", 0),
    m("acl|save", "O(N). Where N is the number of configured users.", 0),
    m("acl|setuser", "O(N). Where N is the number of rules provided.", 0).history(&[("6.2.0", "Added Pub/Sub channel patterns."), ("7.0.0", "Added selectors and key based permissions.")]),
    m("acl|users", "O(N). Where N is the number of configured users.", 0),
    m("acl|whoami", "O(1)", 0),
    m("append", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", STRING).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("asking", "O(1)", CONNECTION),
    m("auth", "O(N) where N is the number of passwords defined for the user", CONNECTION).history(&[("6.0.0", "Added ACL style (username and password).")]),
    m("bgrewriteaof", "O(1)", 0),
    m("bgsave", "O(1)", 0).history(&[("3.2.2", "Added the `SCHEDULE` option.")]),
    m("bitcount", "O(N)", BITMAP).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added the `BYTE|BIT` option.")]),
    m("bitfield", "O(1) for each subcommand specified", BITMAP).keys(&[ks(RW | ACCESS | UPDATE | VARIABLE_FLAGS, Begin::Index(1), Find::Range(0, 1, 0)).note("This command allows both access and modification of the key")]),
    m("bitfield_ro", "O(1) for each subcommand specified", BITMAP).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("bitop", "O(N)", BITMAP).keys(&[ks(OW | UPDATE, Begin::Index(2), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(3), Find::Range(-1, 1, 0))]),
    m("bitpos", "O(N)", BITMAP).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added the `BYTE|BIT` option.")]),
    m("blmove", "O(1)", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("blmpop", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(2), Find::Keynum(0, 1, 1))]),
    m("blpop", "O(N) where N is the number of provided keys.", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(-2, 1, 0))]).history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")]),
    m("brpop", "O(N) where N is the number of provided keys.", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(-2, 1, 0))]).history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")]),
    m("brpoplpush", "O(1)", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments").history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")]),
    m("bzmpop", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", SORTEDSET).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(2), Find::Keynum(0, 1, 1))]),
    m("bzpopmax", "O(log(N)) with N being the number of elements in the sorted set.", SORTEDSET).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(-2, 1, 0))]).history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")]),
    m("bzpopmin", "O(log(N)) with N being the number of elements in the sorted set.", SORTEDSET).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(-2, 1, 0))]).history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")]),
    m("client", "Depends on subcommand.", 0),
    m("client|caching", "O(1)", CONNECTION),
    m("client|getname", "O(1)", CONNECTION),
    m("client|getredir", "O(1)", CONNECTION),
    m("client|help", "O(1)", CONNECTION),
    m("client|id", "O(1)", CONNECTION),
    m("client|info", "O(1)", CONNECTION).tips(&["nondeterministic_output"]),
    m("client|kill", "O(N) where N is the number of client connections", CONNECTION).history(&[("2.8.12", "Added new filter format."), ("2.8.12", "`ID` option."), ("3.2.0", "Added `master` type in for `TYPE` option."), ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."), ("6.2.0", "`LADDR` option.")]),
    m("client|list", "O(N) where N is the number of client connections", CONNECTION).tips(&["nondeterministic_output"]).history(&[("2.8.12", "Added unique client `id` field."), ("5.0.0", "Added optional `TYPE` filter."), ("6.0.0", "Added `user` field."), ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."), ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."), ("7.0.3", "Added `ssub` field.")]),
    m("client|no-evict", "O(1)", CONNECTION),
    m("client|pause", "O(1)", CONNECTION).history(&[("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option.")]),
    m("client|reply", "O(1)", CONNECTION),
    m("client|setname", "O(1)", CONNECTION),
    m("client|tracking", "O(1). Some options may introduce additional complexity.", CONNECTION),
    m("client|trackinginfo", "O(1)", CONNECTION),
    m("client|unblock", "O(log N) where N is the number of client connections", CONNECTION),
    m("client|unpause", "O(N) Where N is the number of paused clients", CONNECTION),
    m("cluster", "Depends on subcommand.", 0),
    m("cluster|addslots", "O(N) where N is the total number of hash slot arguments", 0),
    m("cluster|addslotsrange", "O(N) where N is the total number of the slots between the start slot and end slot arguments.", 0),
    m("cluster|bumpepoch", "O(1)", 0).tips(&["nondeterministic_output"]),
    m("cluster|count-failure-reports", "O(N) where N is the number of failure reports", 0).tips(&["nondeterministic_output"]),
    m("cluster|countkeysinslot", "O(1)", 0),
    m("cluster|delslots", "O(N) where N is the total number of hash slot arguments", 0),
    m("cluster|delslotsrange", "O(N) where N is the total number of the slots between the start slot and end slot arguments.", 0),
    m("cluster|failover", "O(1)", 0),
    m("cluster|flushslots", "O(1)", 0),
    m("cluster|forget", "O(1)", 0),
    m("cluster|getkeysinslot", "O(log(N)) where N is the number of requested keys", 0).tips(&["nondeterministic_output"]),
    m("cluster|help", "O(1)", 0),
    m("cluster|info", "O(1)", 0).tips(&["nondeterministic_output"]),
    m("cluster|keyslot", "O(N) where N is the number of bytes in the key", 0),
    m("cluster|links", "O(N) where N is the total number of Cluster nodes", 0).tips(&["nondeterministic_output"]),
    m("cluster|meet", "O(1)", 0).history(&[("4.0.0", "Added the optional `cluster_bus_port` argument.")]),
    m("cluster|myid", "O(1)", 0),
    m("cluster|nodes", "O(N) where N is the total number of Cluster nodes", 0).tips(&["nondeterministic_output"]),
    m("cluster|replicas", "O(1)", 0).tips(&["nondeterministic_output"]),
    m("cluster|replicate", "O(1)", 0),
    m("cluster|reset", "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.", 0),
    m("cluster|saveconfig", "O(1)", 0),
    m("cluster|set-config-epoch", "O(1)", 0),
    m("cluster|setslot", "O(1)", 0),
    m("cluster|shards", "O(N) where N is the total number of cluster nodes", 0).tips(&["nondeterministic_output"]),
    m("cluster|slaves", "O(1)", 0).tips(&["nondeterministic_output"]).deprecated("5.0.0", "`CLUSTER REPLICAS`"),
    m("cluster|slots", "O(N) where N is the total number of Cluster nodes", 0).tips(&["nondeterministic_output"]).deprecated("7.0.0", "`CLUSTER SHARDS`").history(&[("4.0.0", "Added node IDs."), ("7.0.0", "Added additional networking metadata field.")]),
    m("command", "O(N) where N is the total number of Redis commands", CONNECTION).tips(&["nondeterministic_output_order"]),
    m("command|count", "O(1)", CONNECTION),
    m("command|docs", "O(N) where N is the number of commands to look up", CONNECTION).tips(&["nondeterministic_output_order"]),
    m("command|getkeys", "O(N) where N is the number of arguments to the command", CONNECTION),
    m("command|getkeysandflags", "O(N) where N is the number of arguments to the command", CONNECTION),
    m("command|help", "O(1)", CONNECTION),
    m("command|info", "O(N) where N is the number of commands to look up", CONNECTION).tips(&["nondeterministic_output_order"]).history(&[("7.0.0", "Allowed to be called with no argument to get info on all commands.")]),
    m("command|list", "O(N) where N is the total number of Redis commands", CONNECTION).tips(&["nondeterministic_output_order"]),
    m("config", "Depends on subcommand.", 0),
    m("config|get", "O(N) when N is the number of configuration parameters provided", 0).history(&[("7.0.0", "Added the ability to pass multiple pattern parameters in one call")]),
    m("config|help", "O(1)", 0),
    m("config|resetstat", "O(1)", 0),
    m("config|rewrite", "O(1)", 0),
    m("config|set", "O(N) when N is the number of configuration parameters provided", 0).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).history(&[("7.0.0", "Added the ability to set multiple parameters in one call.")]),
    m("copy", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", KEYSPACE).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0)), ks(OW | UPDATE, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("dbsize", "O(1)", KEYSPACE).tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    m("debug", "Depends on subcommand.", 0).syscmd(),
    m("decr", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("decrby", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("del", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", KEYSPACE).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).keys(&[ks(RM | DELETE, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("discard", "O(N), when N is the number of queued commands", TRANSACTION),
    m("dump", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", KEYSPACE).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("echo", "O(1)", CONNECTION),
    m("eval", "Depends on the script that is executed.", SCRIPTING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(2), Find::Keynum(0, 1, 1)).note("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")]),
    m("eval_ro", "Depends on the script that is executed.", SCRIPTING).keys(&[ks(RO | ACCESS, Begin::Index(2), Find::Keynum(0, 1, 1)).note("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")]),
    m("evalsha", "Depends on the script that is executed.", SCRIPTING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(2), Find::Keynum(0, 1, 1))]),
    m("evalsha_ro", "Depends on the script that is executed.", SCRIPTING).keys(&[ks(RO | ACCESS, Begin::Index(2), Find::Keynum(0, 1, 1))]),
    m("exec", "Depends on commands in the transaction", TRANSACTION),
    m("exists", "O(N) where N is the number of keys to check.", KEYSPACE).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).keys(&[ks(RO, Begin::Index(1), Find::Range(-1, 1, 0))]).history(&[("3.0.3", "Accepts multiple `key` arguments.")]),
    m("expire", "O(1)", KEYSPACE).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
    m("expireat", "O(1)", KEYSPACE).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
    m("expiretime", "O(1)", KEYSPACE).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("failover", "O(1)", 0),
    m("fcall", "Depends on the function that is executed.", SCRIPTING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(2), Find::Keynum(0, 1, 1)).note("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")]),
    m("fcall_ro", "Depends on the function that is executed.", SCRIPTING).keys(&[ks(RO | ACCESS, Begin::Index(2), Find::Keynum(0, 1, 1)).note("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")]),
    m("flushall", "O(N) where N is the total number of keys in all databases", KEYSPACE | DANGEROUS).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).history(&[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")]),
    m("flushdb", "O(N) where N is the number of keys in the selected database", KEYSPACE | DANGEROUS).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).history(&[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")]),
    m("function", "Depends on subcommand.", 0),
    m("function|delete", "O(1)", SCRIPTING).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    m("function|dump", "O(N) where N is the number of functions", SCRIPTING),
    m("function|flush", "O(N) where N is the number of functions deleted", SCRIPTING).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    m("function|help", "O(1)", SCRIPTING),
    m("function|kill", "O(1)", SCRIPTING).tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    m("function|list", "O(N) where N is the number of functions", SCRIPTING).tips(&["nondeterministic_output_order"]),
    m("function|load", "O(1) (considering compilation time is redundant)", SCRIPTING).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    m("function|restore", "O(N) where N is the number of functions on the payload", SCRIPTING).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    m("function|stats", "O(1)", SCRIPTING).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    m("geoadd", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", GEO).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added the `CH`, `NX` and `XX` options.")]),
    m("geodist", "O(log(N))", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("geohash", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("geopos", "O(N) where N is the number of members requested.", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("georadius", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0)), ks(OW | UPDATE, Begin::Keyword("STORE", 6), Find::Range(0, 1, 0)), ks(OW | UPDATE, Begin::Keyword("STOREDIST", 6), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument").history(&[("6.2.0", "Added the `ANY` option for `COUNT`."), ("7.0.0", "Added support for uppercase unit names.")]),
    m("georadius_ro", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument").history(&[("6.2.0", "Added the `ANY` option for `COUNT`.")]),
    m("georadiusbymember", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0)), ks(OW | UPDATE, Begin::Keyword("STORE", 5), Find::Range(0, 1, 0)), ks(OW | UPDATE, Begin::Keyword("STOREDIST", 5), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments").history(&[("7.0.0", "Added support for uppercase unit names.")]),
    m("georadiusbymember_ro", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
    m("geosearch", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", GEO).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added support for uppercase unit names.")]),
    m("geosearchstore", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", GEO).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added support for uppercase unit names.")]),
    m("get", "O(1)", STRING).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("getbit", "O(1)", BITMAP).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("getdel", "O(1)", STRING).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("getex", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)).note("RW and UPDATE because it changes the TTL")]),
    m("getrange", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", STRING).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("getset", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`SET` with the `!GET` argument"),
    m("hdel", "O(N) where N is the number of fields to be removed.", HASH).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.4.0", "Accepts multiple `field` arguments.")]),
    m("hello", "O(1)", CONNECTION).history(&[("6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context.")]),
    m("hexists", "O(1)", HASH).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hget", "O(1)", HASH).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hgetall", "O(N) where N is the size of the hash.", HASH).tips(&["nondeterministic_output_order"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hincrby", "O(1)", HASH).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hincrbyfloat", "O(1)", HASH).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hkeys", "O(N) where N is the size of the hash.", HASH).tips(&["nondeterministic_output_order"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hlen", "O(1)", HASH).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hmget", "O(N) where N is the number of fields being requested.", HASH).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hmset", "O(N) where N is the number of fields being set.", HASH).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("4.0.0", "`HSET` with multiple field-value pairs"),
    m("hrandfield", "O(N) where N is the number of fields returned", HASH).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hscan", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", HASH).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hset", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", HASH).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("4.0.0", "Accepts multiple `field` and `value` arguments.")]),
    m("hsetnx", "O(1)", HASH).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hstrlen", "O(1)", HASH).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("hvals", "O(N) where N is the size of the hash.", HASH).tips(&["nondeterministic_output_order"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("incr", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("incrby", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("incrbyfloat", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("info", "O(1)", DANGEROUS).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]).history(&[("7.0.0", "Added support for taking multiple section arguments.")]),
    m("keys", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", KEYSPACE | DANGEROUS).tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    m("lastsave", "O(1)", ADMIN | DANGEROUS).tips(&["nondeterministic_output"]),
    m("latency", "Depends on subcommand.", 0),
    m("latency|doctor", "O(1)", 0).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    m("latency|graph", "O(1)", 0).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    m("latency|help", "O(1)", 0),
    m("latency|histogram", "O(N) where N is the number of commands with latency information being retrieved.", 0).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    m("latency|history", "O(1)", 0).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    m("latency|latest", "O(1)", 0).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    m("latency|reset", "O(1)", 0).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    m("lcs", "O(N*M) where N and M are the lengths of s1 and s2, respectively", STRING).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(1, 1, 0))]),
    m("lindex", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", LIST).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("linsert", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", LIST).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("llen", "O(1)", LIST).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("lmove", "O(1)", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("lmpop", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Keynum(0, 1, 1))]),
    m("lolwut", "", 0),
    m("lpop", "O(N) where N is the number of elements returned", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added the `count` argument.")]),
    m("lpos", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", LIST).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("lpush", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", LIST).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.4.0", "Accepts multiple `element` arguments.")]),
    m("lpushx", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", LIST).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("4.0.0", "Accepts multiple `element` arguments.")]),
    m("lrange", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", LIST).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("lrem", "O(N+M) where N is the length of the list and M is the number of elements removed.", LIST).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("lset", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", LIST).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("ltrim", "O(N) where N is the number of elements to be removed by the operation.", LIST).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("memory", "Depends on subcommand.", 0),
    m("memory|doctor", "O(1)", 0).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    m("memory|help", "O(1)", 0),
    m("memory|malloc-stats", "Depends on how much memory is allocated, could be slow", 0).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    m("memory|purge", "Depends on how much memory is allocated, could be slow", 0).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    m("memory|stats", "O(1)", 0).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    m("memory|usage", "O(N) where N is the number of samples.", 0).keys(&[ks(RO, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("mget", "O(N) where N is the number of keys to retrieve.", STRING).tips(&["request_policy:multi_shard"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("migrate", "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.", KEYSPACE | DANGEROUS).tips(&["nondeterministic_output"]).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(3), Find::Range(0, 1, 0)), ks(RW | ACCESS | DELETE | INCOMPLETE, Begin::Keyword("KEYS", -2), Find::Range(-1, 1, 0))]).history(&[("3.0.0", "Added the `COPY` and `REPLACE` options."), ("3.0.6", "Added the `KEYS` option."), ("4.0.7", "Added the `AUTH` option."), ("6.0.0", "Added the `AUTH2` option.")]),
    m("module", "Depends on subcommand.", 0),
    m("module|help", "O(1)", 0),
    m("module|list", "O(N) where N is the number of loaded modules.", 0).tips(&["nondeterministic_output_order"]),
    m("module|load", "O(1)", 0),
    m("module|loadex", "O(1)", 0),
    m("module|unload", "O(1)", 0),
    m("monitor", "", 0),
    m("move", "O(1)", KEYSPACE).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("mset", "O(N) where N is the number of keys to set.", STRING).tips(&["request_policy:multi_shard", "response_policy:all_succeeded"]).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(-1, 2, 0))]),
    m("msetnx", "O(N) where N is the number of keys to set.", STRING).tips(&["request_policy:multi_shard", "response_policy:agg_min"]).keys(&[ks(OW | INSERT, Begin::Index(1), Find::Range(-1, 2, 0))]),
    m("multi", "O(1)", TRANSACTION),
    m("object", "Depends on subcommand.", 0),
    m("object|encoding", "O(1)", KEYSPACE).tips(&["nondeterministic_output"]).keys(&[ks(RO, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("object|freq", "O(1)", KEYSPACE).tips(&["nondeterministic_output"]).keys(&[ks(RO, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("object|help", "O(1)", KEYSPACE),
    m("object|idletime", "O(1)", KEYSPACE).tips(&["nondeterministic_output"]).keys(&[ks(RO, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("object|refcount", "O(1)", KEYSPACE).tips(&["nondeterministic_output"]).keys(&[ks(RO, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("persist", "O(1)", KEYSPACE).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("pexpire", "O(1)", KEYSPACE).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
    m("pexpireat", "O(1)", KEYSPACE).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]),
    m("pexpiretime", "O(1)", KEYSPACE).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("pfadd", "O(1) to add every element.", HYPERLOGLOG).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("pfcount", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.", HYPERLOGLOG).keys(&[ks(RW | ACCESS, Begin::Index(1), Find::Range(-1, 1, 0)).note("RW because it may change the internal representation of the key, and propagate to replicas")]),
    m("pfdebug", "N/A", HYPERLOGLOG).keys(&[ks(RW | ACCESS, Begin::Index(2), Find::Range(0, 1, 0))]).syscmd(),
    m("pfmerge", "O(N) to merge N HyperLogLogs, but with high constant times.", HYPERLOGLOG).keys(&[ks(RW | ACCESS | INSERT, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Range(-1, 1, 0))]),
    m("pfselftest", "N/A", HYPERLOGLOG).syscmd(),
    m("ping", "O(1)", CONNECTION).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    m("psetex", "O(1)", STRING).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("psubscribe", "O(N) where N is the number of patterns the client is already subscribed to.", 0),
    m("psync", "", 0),
    m("pttl", "O(1)", KEYSPACE).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.8.0", "Added the -2 reply.")]),
    m("publish", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", 0),
    m("pubsub", "Depends on subcommand.", 0),
    m("pubsub|channels", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", 0),
    m("pubsub|help", "O(1)", 0),
    m("pubsub|numpat", "O(1)", 0),
    m("pubsub|numsub", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", 0),
    m("pubsub|shardchannels", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", 0),
    m("pubsub|shardnumsub", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", 0),
    m("punsubscribe", "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).", 0),
    m("quit", "O(1)", CONNECTION),
    m("randomkey", "O(1)", KEYSPACE).tips(&["request_policy:all_shards", "nondeterministic_output"]),
    m("readonly", "O(1)", CONNECTION),
    m("readwrite", "O(1)", CONNECTION),
    m("rename", "O(1)", KEYSPACE).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0)), ks(OW | UPDATE, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("renamenx", "O(1)", KEYSPACE).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0)), ks(OW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]).history(&[("3.2.0", "The command no longer returns an error when source and destination names are the same.")]),
    m("replconf", "O(1)", 0).syscmd(),
    m("replicaof", "O(1)", 0),
    m("reset", "O(1)", CONNECTION),
    m("restore", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", KEYSPACE | DANGEROUS).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("3.0.0", "Added the `REPLACE` modifier."), ("5.0.0", "Added the `ABSTTL` modifier."), ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")]),
    m("restore-asking", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", KEYSPACE | DANGEROUS).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).syscmd().history(&[("3.0.0", "Added the `REPLACE` modifier."), ("5.0.0", "Added the `ABSTTL` modifier."), ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")]),
    m("role", "O(1)", ADMIN | DANGEROUS),
    m("rpop", "O(N) where N is the number of elements returned", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added the `count` argument.")]),
    m("rpoplpush", "O(1)", LIST).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
    m("rpush", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", LIST).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.4.0", "Accepts multiple `element` arguments.")]),
    m("rpushx", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", LIST).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("4.0.0", "Accepts multiple `element` arguments.")]),
    m("sadd", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", SET).keys(&[ks(RW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.4.0", "Accepts multiple `member` arguments.")]),
    m("save", "O(N) where N is the total number of keys in all databases", 0),
    m("scan", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", KEYSPACE).tips(&["nondeterministic_output", "request_policy:special"]).history(&[("6.0.0", "Added the `TYPE` subcommand.")]),
    m("scard", "O(1)", SET).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("script", "Depends on subcommand.", 0),
    m("script|debug", "O(1)", SCRIPTING),
    m("script|exists", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).", SCRIPTING).tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]),
    m("script|flush", "O(N) with N being the number of scripts in cache", SCRIPTING).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).history(&[("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers.")]),
    m("script|help", "O(1)", SCRIPTING),
    m("script|kill", "O(1)", SCRIPTING).tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    m("script|load", "O(N) with N being the length in bytes of the script body.", SCRIPTING).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    m("sdiff", "O(N) where N is the total number of elements in all given sets.", SET).tips(&["nondeterministic_output_order"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("sdiffstore", "O(N) where N is the total number of elements in all given sets.", SET).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Range(-1, 1, 0))]),
    m("select", "O(1)", CONNECTION),
    m("set", "O(1)", STRING).keys(&[ks(RW | ACCESS | UPDATE | VARIABLE_FLAGS, Begin::Index(1), Find::Range(0, 1, 0)).note("RW and ACCESS due to the optional `GET` argument")]).history(&[("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."), ("6.0.0", "Added the `KEEPTTL` option."), ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."), ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")]),
    m("setbit", "O(1)", BITMAP).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("setex", "O(1)", STRING).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("setnx", "O(1)", STRING).keys(&[ks(OW | INSERT, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("setrange", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", STRING).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("shutdown", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", 0).history(&[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")]),
    m("sinter", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", SET).tips(&["nondeterministic_output_order"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("sintercard", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", SET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Keynum(0, 1, 1))]),
    m("sinterstore", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", SET).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Range(-1, 1, 0))]),
    m("sismember", "O(1)", SET).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("slaveof", "O(1)", 0).deprecated("5.0.0", "`REPLICAOF`"),
    m("slowlog", "Depends on subcommand.", 0),
    m("slowlog|get", "O(N) where N is the number of entries returned", 0).tips(&["request_policy:all_nodes", "nondeterministic_output"]).history(&[("4.0.0", "Added client IP address, port and name to the reply.")]),
    m("slowlog|help", "O(1)", 0),
    m("slowlog|len", "O(1)", 0).tips(&["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"]),
    m("slowlog|reset", "O(N) where N is the number of entries in the slowlog", 0).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    m("smembers", "O(N) where N is the set cardinality.", SET).tips(&["nondeterministic_output_order"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("smismember", "O(N) where N is the number of elements being checked for membership", SET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("smove", "O(1)", SET).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("sort", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", SET | SORTEDSET | LIST | DANGEROUS).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Unknown, Find::Unknown).note("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"), ks(OW | UPDATE, Begin::Unknown, Find::Unknown).note("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array")]),
    m("sort_ro", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", SET | SORTEDSET | LIST | DANGEROUS).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Unknown, Find::Unknown).note("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort")]),
    m("spop", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", SET).tips(&["nondeterministic_output"]).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("3.2.0", "Added the `count` argument.")]),
    m("spublish", "O(N) where N is the number of clients subscribed to the receiving shard channel.", 0).keys(&[ks(NOT_KEY, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("srandmember", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", SET).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.6.0", "Added the optional `count` argument.")]),
    m("srem", "O(N) where N is the number of members to be removed.", SET).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.4.0", "Accepts multiple `member` arguments.")]),
    m("sscan", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", SET).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("ssubscribe", "O(N) where N is the number of shard channels to subscribe to.", 0).keys(&[ks(NOT_KEY, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("strlen", "O(1)", STRING).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("subscribe", "O(N) where N is the number of channels to subscribe to.", 0),
    m("substr", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", STRING).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("2.0.0", "`GETRANGE`"),
    m("sunion", "O(N) where N is the total number of elements in all given sets.", SET).tips(&["nondeterministic_output_order"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("sunionstore", "O(N) where N is the total number of elements in all given sets.", SET).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Range(-1, 1, 0))]),
    m("sunsubscribe", "O(N) where N is the number of clients already subscribed to a shard channel.", 0).keys(&[ks(NOT_KEY, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("swapdb", "O(N) where N is the count of clients watching or blocking on keys from both databases.", KEYSPACE | DANGEROUS),
    m("sync", "", 0),
    m("time", "O(1)", 0).tips(&["nondeterministic_output"]),
    m("touch", "O(N) where N is the number of keys that will be touched.", KEYSPACE).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).keys(&[ks(RO, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("ttl", "O(1)", KEYSPACE).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.8.0", "Added the -2 reply.")]),
    m("type", "O(1)", KEYSPACE).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("unlink", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", KEYSPACE).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).keys(&[ks(RM | DELETE, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("unsubscribe", "O(N) where N is the number of clients already subscribed to a channel.", 0),
    m("unwatch", "O(1)", TRANSACTION),
    m("wait", "O(1)", CONNECTION).tips(&["request_policy:all_shards", "response_policy:agg_min"]),
    m("watch", "O(1) for every key.", TRANSACTION).keys(&[ks(RO, Begin::Index(1), Find::Range(-1, 1, 0))]),
    m("xack", "O(1) for each message ID processed.", STREAM).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("xadd", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", STREAM).tips(&["nondeterministic_output"]).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)).note("UPDATE instead of INSERT because of the optional trimming feature")]).history(&[("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option."), ("7.0.0", "Added support for the `<ms>-*` explicit ID form.")]),
    m("xautoclaim", "O(1) if COUNT is small.", STREAM).tips(&["nondeterministic_output"]).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added an element to the reply array, containing deleted entries the command cleared from the PEL")]),
    m("xclaim", "O(log N) with N being the number of messages in the PEL of the consumer group.", STREAM).tips(&["nondeterministic_output"]).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("xdel", "O(1) for each single item to delete in the stream, regardless of the stream size.", STREAM).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("xgroup", "Depends on subcommand.", 0),
    m("xgroup|create", "O(1)", STREAM).keys(&[ks(RW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added the `entries_read` named argument.")]),
    m("xgroup|createconsumer", "O(1)", STREAM).keys(&[ks(RW | INSERT, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("xgroup|delconsumer", "O(1)", STREAM).keys(&[ks(RW | DELETE, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("xgroup|destroy", "O(N) where N is the number of entries in the group's pending entries list (PEL).", STREAM).keys(&[ks(RW | DELETE, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("xgroup|help", "O(1)", STREAM),
    m("xgroup|setid", "O(1)", STREAM).keys(&[ks(RW | UPDATE, Begin::Index(2), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added the optional `entries_read` argument.")]),
    m("xinfo", "Depends on subcommand.", 0),
    m("xinfo|consumers", "O(1)", STREAM).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("xinfo|groups", "O(1)", STREAM).keys(&[ks(RO | ACCESS, Begin::Index(2), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added the `entries-read` and `lag` fields")]),
    m("xinfo|help", "O(1)", STREAM),
    m("xinfo|stream", "O(1)", STREAM).keys(&[ks(RO | ACCESS, Begin::Index(2), Find::Range(0, 1, 0))]).history(&[("6.0.0", "Added the `FULL` modifier."), ("7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields")]),
    m("xlen", "O(1)", STREAM).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("xpending", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.", STREAM).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added the `IDLE` option and exclusive range intervals.")]),
    m("xrange", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", STREAM).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added exclusive ranges.")]),
    m("xread", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.", STREAM).keys(&[ks(RO | ACCESS, Begin::Keyword("STREAMS", 1), Find::Range(-1, 1, 2))]),
    m("xreadgroup", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.", STREAM).keys(&[ks(RO | ACCESS, Begin::Keyword("STREAMS", 4), Find::Range(-1, 1, 2))]),
    m("xrevrange", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", STREAM).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added exclusive ranges.")]),
    m("xsetid", "O(1)", STREAM).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments.")]),
    m("xtrim", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", STREAM).tips(&["nondeterministic_output"]).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option.")]),
    m("zadd", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", SORTEDSET).keys(&[ks(RW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.4.0", "Accepts multiple elements."), ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."), ("6.2.0", "Added the `GT` and `LT` options.")]),
    m("zcard", "O(1)", SORTEDSET).keys(&[ks(RO, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zcount", "O(log(N)) with N being the number of elements in the sorted set.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zdiff", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Keynum(0, 1, 1))]),
    m("zdiffstore", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", SORTEDSET).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Keynum(0, 1, 1))]),
    m("zincrby", "O(log(N)) where N is the number of elements in the sorted set.", SORTEDSET).keys(&[ks(RW | ACCESS | UPDATE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zinter", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Keynum(0, 1, 1))]),
    m("zintercard", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Keynum(0, 1, 1))]),
    m("zinterstore", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", SORTEDSET).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Keynum(0, 1, 1))]),
    m("zlexcount", "O(log(N)) with N being the number of elements in the sorted set.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zmpop", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", SORTEDSET).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Keynum(0, 1, 1))]),
    m("zmscore", "O(N) where N is the number of members being requested.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zpopmax", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", SORTEDSET).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zpopmin", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", SORTEDSET).keys(&[ks(RW | ACCESS | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zrandmember", "O(N) where N is the number of elements returned", SORTEDSET).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zrange", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.")]),
    m("zrangebylex", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument"),
    m("zrangebyscore", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument").history(&[("2.0.0", "Added the `WITHSCORES` modifier.")]),
    m("zrangestore", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", SORTEDSET).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Range(0, 1, 0))]),
    m("zrank", "O(log(N))", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zrem", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", SORTEDSET).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]).history(&[("2.4.0", "Accepts multiple elements.")]),
    m("zremrangebylex", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", SORTEDSET).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zremrangebyrank", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", SORTEDSET).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zremrangebyscore", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", SORTEDSET).keys(&[ks(RW | DELETE, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zrevrange", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`ZRANGE` with the `REV` argument"),
    m("zrevrangebylex", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"),
    m("zrevrangebyscore", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]).deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments").history(&[("2.1.6", "`min` and `max` can be exclusive.")]),
    m("zrevrank", "O(log(N))", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zscan", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", SORTEDSET).tips(&["nondeterministic_output"]).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zscore", "O(1)", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Range(0, 1, 0))]),
    m("zunion", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", SORTEDSET).keys(&[ks(RO | ACCESS, Begin::Index(1), Find::Keynum(0, 1, 1))]),
    m("zunionstore", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", SORTEDSET).keys(&[ks(OW | UPDATE, Begin::Index(1), Find::Range(0, 1, 0)), ks(RO | ACCESS, Begin::Index(2), Find::Keynum(0, 1, 1))]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(TABLE.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(TABLE.iter().filter(|m| !m.name.contains('|')).count(), 240);
    }

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    fn spec_keys(name: &str, line: &str) -> Option<Vec<usize>> {
        let meta = get(name).expect("known command");
        keys_from_specs(meta.key_specs, &args(line)).map(|k| k.iter().map(|k| k.pos).collect())
    }

    #[test]
    fn key_specs_are_walked_like_redis() {
        assert_eq!(spec_keys("mset", "mset a 1 b 2"), Some(vec![1, 3]));
        assert_eq!(spec_keys("rename", "rename a b"), Some(vec![1, 2]));
        assert_eq!(spec_keys("eval", "eval s 2 a b c"), Some(vec![3, 4]));
        assert_eq!(spec_keys("eval", "eval s 5 a b c"), None);
        assert_eq!(spec_keys("zunionstore", "zunionstore d 2 a b"), Some(vec![1, 3, 4]));
        assert_eq!(spec_keys("xread", "xread COUNT 1 STREAMS a b 0 0"), Some(vec![4, 5]));
        assert_eq!(spec_keys("xread", "xread STREAMS a"), None);
        assert_eq!(spec_keys("sort", "sort a"), None);
        assert_eq!(spec_keys("migrate", "migrate h p k 0 5"), Some(vec![3]));
    }

    #[test]
    fn special_key_finders() {
        let pos = |name: &str, line: &str| special_keys(name, &args(line));
        assert_eq!(pos("set", "set a b")[0].flags, key_flag::OW | key_flag::UPDATE);
        assert_eq!(
            pos("set", "set a b GET")[0].flags,
            key_flag::RW | key_flag::ACCESS | key_flag::UPDATE
        );
        assert_eq!(
            pos("bitfield", "bitfield k GET u8 0")[0].flags,
            key_flag::RO | key_flag::ACCESS
        );
        assert_eq!(
            pos("bitfield", "bitfield k SET u8 0 1")[0].flags,
            key_flag::RW | key_flag::ACCESS | key_flag::UPDATE
        );
        let sort: Vec<usize> = pos("sort", "sort a BY x STORE y LIMIT 0 1 STORE z")
            .iter()
            .map(|k| k.pos)
            .collect();
        assert_eq!(sort, vec![1, 10]);
        assert!(
            pos("migrate", "migrate h p k 0 5 KEYS a b").is_empty(),
            "the key argument must be empty with KEYS"
        );
        // "h p  0" splits into an empty key argument.
        let migrate: Vec<usize> = pos("migrate", "migrate h p  0 5 AUTH2 u pw KEYS a b")
            .iter()
            .map(|k| k.pos)
            .collect();
        assert_eq!(migrate, vec![10, 11]);
    }
}
