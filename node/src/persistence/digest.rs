//! DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis 7.0's order-independent SHA1
//! digest of a dataset, computed the same way so equal datasets give equal
//! digests here and in `redis-server`.
//!
//! Per key: the key name is mixed into a fresh 20-byte digest, then the
//! value's type (big-endian u32), then its content (list elements mixed in
//! order; set members xored; hash fields and sorted-set members each digested
//! on their own and xored), then the marker `!!expire!!` if the key has a
//! TTL. Each key's digest is xored into the database's running digest, after
//! mixing in the database index of every non-empty database.

use sha1::{Digest, Sha1};

use crate::keyspace::Db;
use crate::keyspace::value::{Object, Value};
use crate::persistence::rdb::format_g17;

/// A 20-byte SHA1 digest.
pub type Sha = [u8; 20];

/// `xorDigest`: xors SHA1(`data`) into `digest`.
fn xor(digest: &mut Sha, data: &[u8]) {
    let hash: Sha = Sha1::digest(data).into();
    for (d, h) in digest.iter_mut().zip(hash) {
        *d ^= h;
    }
}

/// `mixDigest`: xors SHA1(`data`) in, then replaces the digest with its own
/// SHA1 (so the order of mixed items matters).
fn mix(digest: &mut Sha, data: &[u8]) {
    xor(digest, data);
    *digest = Sha1::digest(*digest).into();
}

/// The type code Redis mixes in (`OBJ_STRING`, `OBJ_LIST`, ...).
fn type_code(value: &Value) -> u32 {
    match value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
    }
}

/// `xorObjectDigest`: mixes one value (and whether it expires) into `digest`.
pub fn mix_object(digest: &mut Sha, obj: &Object, has_expire: bool) {
    let value = &obj.value;
    mix(digest, &type_code(value).to_be_bytes());
    match value {
        Value::Str(s) => mix(digest, &s.to_bytes()),
        Value::List(l) => {
            for item in l.iter() {
                mix(digest, item);
            }
        }
        Value::Set(s) => {
            let mut buf = itoa::Buffer::new();
            for m in s.iter() {
                xor(digest, m.bytes(&mut buf));
            }
        }
        Value::ZSet(z) => {
            for (m, score) in z.iter() {
                let mut ele = Sha::default();
                mix(&mut ele, m);
                mix(&mut ele, format_g17(score).as_bytes());
                xor(digest, &ele);
            }
        }
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                let mut ele = Sha::default();
                mix(&mut ele, f);
                mix(&mut ele, v);
                xor(digest, &ele);
            }
        }
    }
    if has_expire {
        xor(digest, b"!!expire!!");
    }
}

/// `computeDatasetDigest`: the digest of every database (logically expired
/// keys included, as in Redis); all zeros when every database is empty.
pub fn dataset(dbs: &[Db]) -> Sha {
    let mut out = Sha::default();
    for (index, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut out, &(index as u32).to_be_bytes());
        for (key, obj) in db.keys().iter() {
            let mut one = Sha::default();
            mix(&mut one, key);
            mix_object(&mut one, obj, db.expire_at(key).is_some());
            xor(&mut out, &one);
        }
    }
    out
}

/// The digest of one key's value (without its name), all zeros when absent.
pub fn value(db: &Db, key: &[u8]) -> Sha {
    let mut out = Sha::default();
    if let Some(obj) = db.keys().get(key) {
        mix_object(&mut out, obj, db.expire_at(key).is_some());
    }
    out
}

/// Lowercase hex, as DEBUG DIGEST prints it.
pub fn hex(digest: &Sha) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
