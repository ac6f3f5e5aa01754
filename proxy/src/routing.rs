//! The per-command routing table: for every Redis 7.0 command, where its keys
//! are and how the proxy sends it (one shard, split per shard, every shard,
//! answered locally, or refused). This module only classifies requests and
//! finds their keys; it sends nothing.

use std::collections::HashMap;

use bytes::Bytes;
use resp::Frame;

/// How replies of a command sent to every shard are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Integers added (DBSIZE).
    Sum,
    /// Arrays concatenated (KEYS).
    Concat,
    /// `+OK` unless a shard answered an error (FLUSHDB).
    AllOk,
    /// The first shard's reply (SCRIPT LOAD: every shard answers the same).
    First,
    /// A random shard's non-null reply (RANDOMKEY).
    AnyNonNull,
    /// INFO: the first shard's text with the keyspace section summed.
    Info,
}

/// How a multi-key command is split into one request per shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// MGET: keys from 1, replies' arrays merged back in key order.
    Mget,
    /// MSET: key/value pairs from 1, `+OK` when every shard said so.
    Mset,
    /// DEL, UNLINK, EXISTS, TOUCH: keys from 1, integer replies summed.
    Count,
}

/// Where a command goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Keys at `first`, `first + step`, … up to `last` (negative: from the
    /// end, -1 = last argument); all must hash to one slot.
    Keys {
        /// Index of the first key.
        first: usize,
        /// Index of the last key; negative counts from the end.
        last: isize,
        /// Distance between keys.
        step: usize,
    },
    /// A key count at index `at`, that many keys after it, and with
    /// `dest` a destination key at index 1 too (ZUNIONSTORE); one slot. No
    /// key (EVAL with 0 keys) goes to the first shard.
    NumKeys {
        /// Index of the count.
        at: usize,
        /// Whether argument 1 is a destination key.
        dest: bool,
    },
    /// XREAD/XREADGROUP: keys after `STREAMS`, the first half; one slot.
    Streams,
    /// No key: the first shard answers (TIME, COMMAND, PUBLISH).
    FirstShard,
    /// Split per shard and merged.
    Split(Split),
    /// Sent to every shard and joined.
    All(Join),
    /// SCAN: walks the shards in turn.
    Scan,
    /// Answered by the proxy for this connection.
    Local,
    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH.
    Transaction,
    /// SUBSCRIBE and friends: a dedicated subscriber connection.
    Subscribe,
    /// Known to Redis but not served through the proxy.
    Unsupported,
}

/// A command's routing entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Where it goes.
    pub route: Route,
    /// May block: sent on a connection of its own.
    pub blocking: bool,
}

const fn r(route: Route) -> Entry {
    Entry { route, blocking: false }
}
const fn blocking(route: Route) -> Entry {
    Entry { route, blocking: true }
}
const KEY1: Route = Route::Keys {
    first: 1,
    last: 1,
    step: 1,
};
const KEY2: Route = Route::Keys {
    first: 2,
    last: 2,
    step: 1,
};
const KEYS_1_2: Route = Route::Keys {
    first: 1,
    last: 2,
    step: 1,
};
const KEYS_ALL: Route = Route::Keys {
    first: 1,
    last: -1,
    step: 1,
};
const KEYS_BUT_LAST: Route = Route::Keys {
    first: 1,
    last: -2,
    step: 1,
};

/// The routing entry of a command, `None` when Redis 7.0 has no command of
/// that name. `name` is matched case-insensitively; `sub` is argument 1,
/// looked at for commands with subcommands.
pub fn lookup(name: &[u8], sub: Option<&[u8]>) -> Option<Entry> {
    let mut buf = [0u8; 24];
    let sub_is = |want: &str| sub.is_some_and(|s| s.eq_ignore_ascii_case(want.as_bytes()));
    Some(match lowered(name, &mut buf)? {
        // --- connection: answered by the proxy for this client
        b"ping" => r(Route::Local),   // PONG, or the pub/sub form while subscribed
        b"echo" => r(Route::Local),   // the argument back
        b"auth" => r(Route::Local),   // against the database password
        b"hello" => r(Route::Local),  // protocol 2/3 and HELLO AUTH
        b"quit" => r(Route::Local),   // +OK then close
        b"reset" => r(Route::Local),  // back to a fresh connection
        b"select" => r(Route::Local), // only database 0 exists behind a proxy
        b"client" => r(Route::Local), // SETNAME/GETNAME/ID/INFO of this connection
        b"readonly" | b"readwrite" => r(Route::Local), // cluster-client courtesy: +OK
        // --- strings: one key
        b"get" | b"set" | b"setnx" | b"setex" | b"psetex" | b"append" | b"strlen" => r(KEY1), // key at 1
        b"incr" | b"decr" | b"incrby" | b"decrby" | b"incrbyfloat" => r(KEY1),                // counter key at 1
        b"getset" | b"getdel" | b"getex" | b"getrange" | b"substr" | b"setrange" => r(KEY1),  // key at 1
        b"getbit" | b"setbit" | b"bitcount" | b"bitpos" | b"bitfield" | b"bitfield_ro" => r(KEY1), // bitmap key at 1
        b"lcs" => r(KEYS_1_2),                                                                // two keys, one slot
        b"bitop" => r(Route::Keys {
            first: 2,
            last: -1,
            step: 1,
        }), // dest + sources, one slot
        // --- strings: split per shard
        b"mget" => r(Route::Split(Split::Mget)), // values merged back in key order
        b"mset" => r(Route::Split(Split::Mset)), // pairs per shard, OK when all OK
        b"msetnx" => r(Route::Keys {
            first: 1,
            last: -1,
            step: 2,
        }), // atomic: one slot
        // --- generic keyspace
        b"del" | b"unlink" | b"exists" | b"touch" => r(Route::Split(Split::Count)), // counts summed
        b"expire" | b"pexpire" | b"expireat" | b"pexpireat" => r(KEY1),             // key at 1
        b"expiretime" | b"pexpiretime" | b"ttl" | b"pttl" | b"persist" => r(KEY1),  // key at 1
        b"type" | b"dump" | b"restore" | b"sort" | b"sort_ro" => r(KEY1), // key at 1 (SORT STORE: same slot by convention)
        b"copy" | b"rename" | b"renamenx" => r(KEYS_1_2),                 // source and destination, one slot
        b"object" => r(KEY2),                                             // OBJECT ENCODING key
        b"memory" if sub_is("usage") => r(KEY2),                          // MEMORY USAGE key
        b"keys" => r(Route::All(Join::Concat)),                           // every shard's matches
        b"scan" => r(Route::Scan),             // cursor = shard cursor * shards + shard index
        b"dbsize" => r(Route::All(Join::Sum)), // summed
        b"randomkey" => r(Route::All(Join::AnyNonNull)), // a random non-empty shard's key
        b"flushdb" | b"flushall" => r(Route::All(Join::AllOk)), // every shard
        b"info" => r(Route::All(Join::Info)),  // keyspace summed
        b"time" | b"lolwut" | b"command" => r(Route::FirstShard), // same on every shard
        b"move" | b"swapdb" | b"migrate" => r(Route::Unsupported), // one database per endpoint
        // --- lists
        b"lpush" | b"rpush" | b"lpushx" | b"rpushx" | b"lpop" | b"rpop" | b"llen" => r(KEY1), // key at 1
        b"lrange" | b"lindex" | b"lset" | b"linsert" | b"lrem" | b"ltrim" | b"lpos" => r(KEY1), // key at 1
        b"rpoplpush" | b"lmove" => r(KEYS_1_2), // source and destination, one slot
        b"lmpop" => r(Route::NumKeys { at: 1, dest: false }), // numkeys key...
        b"blpop" | b"brpop" => blocking(KEYS_BUT_LAST), // keys then timeout
        b"brpoplpush" | b"blmove" => blocking(KEYS_1_2), // source, destination
        b"blmpop" => blocking(Route::NumKeys { at: 2, dest: false }), // timeout numkeys key...
        // --- hashes
        b"hset" | b"hsetnx" | b"hget" | b"hmset" | b"hmget" | b"hdel" | b"hlen" => r(KEY1), // key at 1
        b"hstrlen" | b"hincrby" | b"hincrbyfloat" | b"hkeys" | b"hvals" | b"hgetall" => r(KEY1), // key at 1
        b"hexists" | b"hrandfield" | b"hscan" => r(KEY1),                                   // key at 1
        // --- sets
        b"sadd" | b"srem" | b"scard" | b"sismember" | b"smismember" | b"smembers" => r(KEY1), // key at 1
        b"spop" | b"srandmember" | b"sscan" => r(KEY1),                                       // key at 1
        b"smove" => r(KEYS_1_2),                                                              // source, destination
        b"sinter" | b"sunion" | b"sdiff" => r(KEYS_ALL),                                      // all keys, one slot
        b"sinterstore" | b"sunionstore" | b"sdiffstore" => r(KEYS_ALL),                       // dest + keys, one slot
        b"sintercard" => r(Route::NumKeys { at: 1, dest: false }),                            // numkeys key...
        // --- sorted sets
        b"zadd" | b"zincrby" | b"zrem" | b"zcard" | b"zcount" | b"zscore" | b"zmscore" => r(KEY1), // key at 1
        b"zrank" | b"zrevrank" | b"zrange" | b"zrangebyscore" | b"zrevrange" => r(KEY1),           // key at 1
        b"zrevrangebyscore" | b"zrangebylex" | b"zrevrangebylex" | b"zlexcount" => r(KEY1),        // key at 1
        b"zremrangebyrank" | b"zremrangebyscore" | b"zremrangebylex" => r(KEY1),                   // key at 1
        b"zpopmin" | b"zpopmax" | b"zrandmember" | b"zscan" => r(KEY1),                            // key at 1
        b"zrangestore" => r(KEYS_1_2), // destination, source
        b"zunionstore" | b"zinterstore" | b"zdiffstore" => r(Route::NumKeys { at: 2, dest: true }), // dest numkeys key...
        b"zunion" | b"zinter" | b"zdiff" | b"zintercard" | b"zmpop" => r(Route::NumKeys { at: 1, dest: false }), // numkeys key...
        b"bzpopmin" | b"bzpopmax" => blocking(KEYS_BUT_LAST), // keys then timeout
        b"bzmpop" => blocking(Route::NumKeys { at: 2, dest: false }), // timeout numkeys key...
        // --- hyperloglog
        b"pfadd" => r(KEY1),                                 // key at 1
        b"pfcount" | b"pfmerge" => r(KEYS_ALL),              // all keys, one slot
        b"pfdebug" | b"pfselftest" => r(Route::Unsupported), // debugging only
        // --- geo
        b"geoadd" | b"geodist" | b"geohash" | b"geopos" | b"geosearch" => r(KEY1), // key at 1
        b"georadius" | b"georadiusbymember" | b"georadius_ro" | b"georadiusbymember_ro" => r(KEY1), // key at 1
        b"geosearchstore" => r(KEYS_1_2),                                          // destination, source
        // --- streams
        b"xadd" | b"xlen" | b"xrange" | b"xrevrange" | b"xdel" | b"xtrim" | b"xack" => r(KEY1), // key at 1
        b"xclaim" | b"xautoclaim" | b"xpending" | b"xsetid" => r(KEY1),                         // key at 1
        b"xgroup" | b"xinfo" => r(KEY2),                                                        // subcommand then key
        b"xread" | b"xreadgroup" => blocking(Route::Streams), // keys after STREAMS; BLOCK may wait
        // --- scripting and functions
        b"eval" | b"evalsha" | b"eval_ro" | b"evalsha_ro" => r(Route::NumKeys { at: 2, dest: false }), // script numkeys key...
        b"fcall" | b"fcall_ro" => r(Route::NumKeys { at: 2, dest: false }), // function numkeys key...
        b"script" if sub_is("load") || sub_is("exists") => r(Route::All(Join::First)), // loaded on every shard
        b"script" => r(Route::All(Join::AllOk)),                            // FLUSH/KILL on every shard
        b"function" => r(Route::Unsupported),                               // libraries are managed per shard
        // --- transactions
        b"multi" | b"exec" | b"discard" | b"watch" | b"unwatch" => r(Route::Transaction), // pinned to one shard
        // --- pub/sub
        b"subscribe" | b"psubscribe" | b"unsubscribe" | b"punsubscribe" => r(Route::Subscribe), // first shard
        b"ssubscribe" | b"sunsubscribe" => r(Route::Subscribe), // shard of the channels' slot
        b"publish" => r(Route::FirstShard),                     // classic channels live on the first shard
        b"spublish" => r(KEY1),                                 // channel's slot
        b"pubsub" => r(Route::FirstShard),                      // classic channel introspection
        // --- server administration: per shard, managed by the cluster
        b"config" | b"debug" | b"shutdown" | b"replicaof" | b"slaveof" | b"sync" | b"psync" => r(Route::Unsupported),
        b"monitor" | b"cluster" | b"save" | b"bgsave" | b"bgrewriteaof" | b"lastsave" => r(Route::Unsupported),
        b"wait" | b"failover" | b"acl" | b"module" | b"latency" | b"memory" | b"slowlog" => r(Route::Unsupported),
        b"asking" | b"replconf" | b"role" => r(Route::Unsupported),
        _ => return None,
    })
}

/// Why a request cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Keys in more than one slot where one is required.
    CrossSlot,
    /// Too few arguments for the command's key positions.
    WrongArity,
    /// A key count that is not a number or does not fit.
    BadNumKeys,
}

/// A request's keys, borrowed from its arguments (no vector per request):
/// every `step`-th argument of a run, then possibly one more (see
/// [`key_run`]).
pub type Keys<'a> = std::iter::Chain<std::iter::StepBy<std::slice::Iter<'a, Bytes>>, std::option::IntoIter<&'a Bytes>>;

/// Every `step`-th argument of `run`, then `extra`.
pub fn key_run<'a>(run: &'a [Bytes], step: usize, extra: Option<&'a Bytes>) -> Keys<'a> {
    run.iter().step_by(step).chain(extra)
}

/// The keys of a request routed by key position (`Keys`, `NumKeys`,
/// `Streams`). May be empty (EVAL with 0 keys).
///
/// # Errors
/// [`RouteError::WrongArity`] or [`RouteError::BadNumKeys`] when the
/// arguments do not hold the keys the route describes.
pub fn keys(route: Route, args: &[Bytes]) -> Result<Keys<'_>, RouteError> {
    match route {
        Route::Keys { first, last, step } => {
            let last = if last < 0 { args.len() as isize + last } else { last };
            if last < first as isize || last as usize >= args.len() {
                return Err(RouteError::WrongArity);
            }
            Ok(key_run(&args[first..=last as usize], step, None))
        }
        Route::NumKeys { at, dest } => {
            let count = args.get(at).ok_or(RouteError::WrongArity)?;
            let n = resp::parse_i64(count)
                .filter(|n| *n >= 0)
                .ok_or(RouteError::BadNumKeys)? as usize;
            let end = (at + 1).checked_add(n).ok_or(RouteError::BadNumKeys)?;
            if end > args.len() {
                return Err(RouteError::BadNumKeys);
            }
            Ok(key_run(&args[at + 1..end], 1, dest.then(|| &args[1])))
        }
        Route::Streams => {
            let at = args
                .iter()
                .position(|a| a.eq_ignore_ascii_case(b"streams"))
                .ok_or(RouteError::WrongArity)?;
            let rest = &args[at + 1..];
            if rest.is_empty() || !rest.len().is_multiple_of(2) {
                return Err(RouteError::WrongArity);
            }
            Ok(key_run(&rest[..rest.len() / 2], 1, None))
        }
        _ => Ok(key_run(&[], 1, None)),
    }
}

/// Whether a command may write (Redis 7.0's `write` flag, plus EXEC, EVAL
/// and FCALL, whose bodies may write): what durability `sync` waits for.
pub fn is_write(name: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    matches!(
        lowered(name, &mut buf).unwrap_or_default(),
        b"set"
            | b"setnx"
            | b"setex"
            | b"psetex"
            | b"append"
            | b"incr"
            | b"decr"
            | b"incrby"
            | b"decrby"
            | b"incrbyfloat"
            | b"getset"
            | b"getdel"
            | b"getex"
            | b"setrange"
            | b"setbit"
            | b"bitfield"
            | b"bitop"
            | b"mset"
            | b"msetnx"
            | b"del"
            | b"unlink"
            | b"expire"
            | b"pexpire"
            | b"expireat"
            | b"pexpireat"
            | b"persist"
            | b"restore"
            | b"sort"
            | b"copy"
            | b"rename"
            | b"renamenx"
            | b"flushdb"
            | b"flushall"
            | b"lpush"
            | b"rpush"
            | b"lpushx"
            | b"rpushx"
            | b"lpop"
            | b"rpop"
            | b"lset"
            | b"linsert"
            | b"lrem"
            | b"ltrim"
            | b"lmove"
            | b"rpoplpush"
            | b"lmpop"
            | b"blpop"
            | b"brpop"
            | b"blmove"
            | b"brpoplpush"
            | b"blmpop"
            | b"hset"
            | b"hsetnx"
            | b"hmset"
            | b"hdel"
            | b"hincrby"
            | b"hincrbyfloat"
            | b"sadd"
            | b"srem"
            | b"spop"
            | b"smove"
            | b"sinterstore"
            | b"sunionstore"
            | b"sdiffstore"
            | b"zadd"
            | b"zincrby"
            | b"zrem"
            | b"zremrangebyscore"
            | b"zremrangebyrank"
            | b"zremrangebylex"
            | b"zpopmin"
            | b"zpopmax"
            | b"bzpopmin"
            | b"bzpopmax"
            | b"zmpop"
            | b"bzmpop"
            | b"zunionstore"
            | b"zinterstore"
            | b"zdiffstore"
            | b"zrangestore"
            | b"pfadd"
            | b"pfmerge"
            | b"pfcount"
            | b"geoadd"
            | b"georadius"
            | b"georadiusbymember"
            | b"geosearchstore"
            | b"xadd"
            | b"xdel"
            | b"xtrim"
            | b"xack"
            | b"xclaim"
            | b"xautoclaim"
            | b"xgroup"
            | b"xsetid"
            | b"xreadgroup"
            | b"exec"
            | b"eval"
            | b"evalsha"
            | b"fcall"
            | b"function"
    )
}

/// Whether a command only reads keys (Redis 7.0's `readonly` flag among the
/// commands routed by key, split or fanned out): what `read_policy =
/// "replica"` sends to a replica. Blocking reads (XREAD BLOCK) stay on the
/// master's dedicated connections.
pub fn is_read(name: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    matches!(
        lowered(name, &mut buf).unwrap_or_default(),
        b"get"
            | b"strlen"
            | b"getrange"
            | b"substr"
            | b"getbit"
            | b"bitcount"
            | b"bitpos"
            | b"bitfield_ro"
            | b"lcs"
            | b"mget"
            | b"exists"
            | b"touch"
            | b"ttl"
            | b"pttl"
            | b"expiretime"
            | b"pexpiretime"
            | b"type"
            | b"dump"
            | b"sort_ro"
            | b"object"
            | b"keys"
            | b"scan"
            | b"dbsize"
            | b"randomkey"
            | b"llen"
            | b"lrange"
            | b"lindex"
            | b"lpos"
            | b"hget"
            | b"hmget"
            | b"hlen"
            | b"hstrlen"
            | b"hkeys"
            | b"hvals"
            | b"hgetall"
            | b"hexists"
            | b"hrandfield"
            | b"hscan"
            | b"scard"
            | b"sismember"
            | b"smismember"
            | b"smembers"
            | b"srandmember"
            | b"sscan"
            | b"sinter"
            | b"sunion"
            | b"sdiff"
            | b"sintercard"
            | b"zcard"
            | b"zcount"
            | b"zscore"
            | b"zmscore"
            | b"zrank"
            | b"zrevrank"
            | b"zrange"
            | b"zrangebyscore"
            | b"zrevrange"
            | b"zrevrangebyscore"
            | b"zrangebylex"
            | b"zrevrangebylex"
            | b"zlexcount"
            | b"zrandmember"
            | b"zscan"
            | b"zunion"
            | b"zinter"
            | b"zdiff"
            | b"zintercard"
            | b"geodist"
            | b"geohash"
            | b"geopos"
            | b"geosearch"
            | b"georadius_ro"
            | b"georadiusbymember_ro"
            | b"xlen"
            | b"xrange"
            | b"xrevrange"
            | b"xpending"
            | b"xinfo"
            | b"xread"
            | b"eval_ro"
            | b"evalsha_ro"
            | b"fcall_ro"
    )
}

/// `name` in lower case in `buf`; `None` when longer than any command.
fn lowered<'a>(name: &[u8], buf: &'a mut [u8; 24]) -> Option<&'a [u8]> {
    let lower = buf.get_mut(..name.len())?;
    for (d, s) in lower.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some(lower)
}

/// The one slot all `keys` hash to; `None` for no keys.
///
/// # Errors
/// [`RouteError::CrossSlot`] when they hash to more than one.
pub fn one_slot<'a>(keys: impl IntoIterator<Item = &'a Bytes>) -> Result<Option<u16>, RouteError> {
    let mut slot = None;
    for key in keys {
        let s = resp::key_slot(key);
        match slot {
            None => slot = Some(s),
            Some(prev) if prev != s => return Err(RouteError::CrossSlot),
            Some(_) => {}
        }
    }
    Ok(slot)
}

/// Command arities as the shards report them (`COMMAND`): what Redis checks
/// before queueing a command inside MULTI.
#[derive(Debug, Default)]
pub struct Arities {
    /// Lower-case name (`get`, or `object|encoding` for a subcommand) to
    /// Redis arity: exact argument count when positive, a minimum when negative.
    arity: HashMap<String, i64>,
    /// Lower-case names of commands with subcommands.
    containers: std::collections::HashSet<String>,
}

impl Arities {
    /// Reads a `COMMAND` reply; entries it does not understand are skipped.
    pub fn from_command_reply(reply: &Frame) -> Arities {
        let mut out = Arities::default();
        let Frame::Array(commands) = reply else { return out };
        for c in commands {
            out.add(c);
        }
        out
    }

    fn add(&mut self, command: &Frame) {
        let Frame::Array(fields) = command else { return };
        let (Some(Frame::Bulk(name)), Some(Frame::Integer(arity))) = (fields.first(), fields.get(1)) else {
            return;
        };
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if let Some(Frame::Array(subs)) = fields.get(9)
            && !subs.is_empty()
        {
            self.containers.insert(name.clone());
            for sub in subs {
                self.add(sub);
            }
        }
        self.arity.insert(name, *arity);
    }

    /// Redis's queue-time refusal of `args`, if any: an unknown subcommand
    /// or a wrong number of arguments. Commands it does not know pass.
    pub fn check(&self, args: &[Bytes]) -> Option<String> {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let full = match args.get(1) {
            Some(sub) if self.containers.contains(&name) => {
                let full = format!("{name}|{}", String::from_utf8_lossy(sub).to_ascii_lowercase());
                if !self.arity.contains_key(&full) {
                    return Some(format!(
                        "ERR unknown subcommand '{}'. Try {} HELP.",
                        String::from_utf8_lossy(sub),
                        name.to_ascii_uppercase()
                    ));
                }
                full
            }
            _ => name,
        };
        let arity = *self.arity.get(&full)?;
        let argc = args.len() as i64;
        let fits = if arity >= 0 { argc == arity } else { argc >= -arity };
        (!fits).then(|| format!("ERR wrong number of arguments for '{full}' command"))
    }
}

/// True for XREAD/XREADGROUP with a BLOCK option.
pub fn stream_read_blocks(args: &[Bytes]) -> bool {
    args.iter()
        .take_while(|a| !a.eq_ignore_ascii_case(b"streams"))
        .any(|a| a.eq_ignore_ascii_case(b"block"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<Bytes> {
        line.split(' ').map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    #[test]
    fn key_positions() {
        let e = lookup(b"GET", None).expect("get");
        assert_eq!(
            keys(e.route, &args("get a")).expect("keys").collect::<Vec<_>>(),
            vec![&Bytes::from("a")]
        );
        let e = lookup(b"blpop", None).expect("blpop");
        assert!(e.blocking);
        assert_eq!(
            keys(e.route, &args("blpop a b 0"))
                .expect("keys")
                .collect::<Vec<_>>()
                .len(),
            2
        );
        let e = lookup(b"msetnx", None).expect("msetnx");
        assert_eq!(
            keys(e.route, &args("msetnx a 1 b 2"))
                .expect("keys")
                .collect::<Vec<_>>(),
            vec![&Bytes::from("a"), &Bytes::from("b")]
        );
        let e = lookup(b"zunionstore", None).expect("zunionstore");
        assert_eq!(
            keys(e.route, &args("zunionstore d 2 a b weights 1 2"))
                .expect("keys")
                .collect::<Vec<_>>()
                .len(),
            3
        );
        assert_eq!(
            keys(e.route, &args("zunionstore d 5 a b")).err(),
            Some(RouteError::BadNumKeys)
        );
        let e = lookup(b"eval", None).expect("eval");
        assert!(
            keys(e.route, &args("eval s 0"))
                .expect("keys")
                .collect::<Vec<_>>()
                .is_empty()
        );
        let e = lookup(b"xread", None).expect("xread");
        assert_eq!(
            keys(e.route, &args("xread count 1 streams a b 0 0"))
                .expect("keys")
                .collect::<Vec<_>>()
                .len(),
            2
        );
        assert!(stream_read_blocks(&args("xread block 0 streams a 0")));
        assert!(!stream_read_blocks(&args("xread streams block 0")));
        assert_eq!(keys(KEY1, &args("get")).err(), Some(RouteError::WrongArity));
    }

    #[test]
    fn slots() {
        assert_eq!(one_slot(&args("{u}a {u}b")), Ok(Some(resp::key_slot(b"u"))));
        assert_eq!(one_slot(&args("a b")), Err(RouteError::CrossSlot));
        assert_eq!(one_slot(&[]), Ok(None));
    }

    #[test]
    fn reads_are_not_writes() {
        for r in ["GET", "mget", "ZRANGE", "xread", "keys"] {
            assert!(is_read(r.as_bytes()) && !is_write(r.as_bytes()), "{r}");
        }
        for w in [
            "set",
            "spublish",
            "publish",
            "eval",
            "watch",
            "a-very-long-unknown-command-name",
        ] {
            assert!(!is_read(w.as_bytes()), "{w}");
        }
    }

    #[test]
    fn writes() {
        for w in ["SET", "lpush", "Exec", "zadd", "del"] {
            assert!(is_write(w.as_bytes()), "{w}");
        }
        for r in [
            "GET",
            "lrange",
            "ping",
            "zrangebyscore",
            "a-very-long-unknown-command-name",
        ] {
            assert!(!is_write(r.as_bytes()), "{r}");
        }
    }

    #[test]
    fn arities_from_a_command_reply() {
        let entry = |name: &str, arity: i64, subs: Vec<Frame>| {
            let mut fields = vec![
                Frame::Bulk(Bytes::copy_from_slice(name.as_bytes())),
                Frame::Integer(arity),
            ];
            fields.resize(9, Frame::Array(Vec::new()));
            fields.push(Frame::Array(subs));
            Frame::Array(fields)
        };
        let reply = Frame::Array(vec![
            entry("get", 2, vec![]),
            entry("set", -3, vec![]),
            entry("object", -2, vec![entry("object|encoding", 3, vec![])]),
        ]);
        let a = Arities::from_command_reply(&reply);
        assert_eq!(a.check(&args("get k")), None);
        assert_eq!(
            a.check(&args("GET")).as_deref(),
            Some("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            a.check(&args("set k")).as_deref(),
            Some("ERR wrong number of arguments for 'set' command")
        );
        assert_eq!(a.check(&args("set k v ex 10")), None);
        assert_eq!(a.check(&args("object encoding k")), None);
        assert_eq!(
            a.check(&args("object encoding")).as_deref(),
            Some("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            a.check(&args("object nope k")).as_deref(),
            Some("ERR unknown subcommand 'nope'. Try OBJECT HELP.")
        );
        assert_eq!(a.check(&args("unknowncmd")), None);
    }

    #[test]
    fn unknown_and_unsupported() {
        assert_eq!(lookup(b"nosuchcommand", None), None);
        assert_eq!(lookup(b"CONFIG", None).map(|e| e.route), Some(Route::Unsupported));
        assert_eq!(lookup(b"memory", Some(b"USAGE")).map(|e| e.route), Some(KEY2));
    }
}
