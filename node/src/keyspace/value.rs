//! The values stored under keys, and the per-key access metadata (LRU/LFU)
//! that eviction and `OBJECT` read.
//!
//! Each Redis type is an enum variant; collection types live in their own
//! modules next to this one and keep Redis's compact encodings. This module
//! does not know about commands or replies.

use super::{Hash, List, Set, ZSet};

/// Largest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// A string value in one of Redis's encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Str {
    /// A canonical decimal integer (`OBJECT ENCODING` "int").
    Int(i64),
    /// Bytes set as a whole (`embstr` up to 44 bytes, `raw` above).
    Bytes(Box<[u8]>),
    /// Bytes grown in place by APPEND, SETRANGE or SETBIT (`raw`, with spare
    /// capacity so that repeated appends are amortized O(1)).
    Raw(Box<Vec<u8>>),
}

impl Str {
    /// Stores `bytes`, choosing the int encoding when it round-trips exactly.
    pub fn from_bytes(bytes: &[u8]) -> Str {
        match resp::parse_i64(bytes) {
            Some(n) => Str::Int(n),
            None => Str::Bytes(bytes.into()),
        }
    }

    /// The value as bytes (formatting integers).
    pub fn to_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Str::Int(n) => std::borrow::Cow::Owned(itoa::Buffer::new().format(*n).as_bytes().to_vec()),
            Str::Bytes(b) => std::borrow::Cow::Borrowed(b),
            Str::Raw(v) => std::borrow::Cow::Borrowed(v.as_slice()),
        }
    }

    /// Length in bytes of the string form.
    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => itoa::Buffer::new().format(*n).len(),
            Str::Bytes(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Turns the value into a growable buffer (the `raw` encoding).
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            *self = Str::Raw(Box::new(self.to_bytes().into_owned()));
        }
        match self {
            Str::Raw(v) => v,
            _ => unreachable!("converted to Raw just above"),
        }
    }

    /// Redis's `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Bytes(b) if b.len() <= EMBSTR_MAX => "embstr",
            Str::Bytes(_) | Str::Raw(_) => "raw",
        }
    }

    /// Heap bytes owned by this value (for MEMORY USAGE and eviction).
    pub fn heap_size(&self) -> usize {
        match self {
            Str::Int(_) => 0,
            Str::Bytes(b) => b.len(),
            Str::Raw(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
        }
    }
}

/// A stored value, three words. Lists and sets are boxed; hashes and
/// sorted sets are two words themselves (a listpack, or a box of the large
/// encoding), so that a small one costs no allocation besides its packed
/// bytes, as Redis's `robj` pointing straight at a listpack.
#[derive(Debug)]
pub enum Value {
    /// The string type.
    Str(Str),
    /// The list type.
    List(Box<List>),
    /// The hash type.
    Hash(Hash),
    /// The set type.
    Set(Box<Set>),
    /// The sorted set type.
    ZSet(ZSet),
}

impl Value {
    /// Redis's `TYPE` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// Redis's `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// Approximate heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
        }
    }
}

/// A deep copy in the same encoding (COPY, as Redis's `dup*Object`).
impl Clone for Value {
    fn clone(&self) -> Self {
        match self {
            Value::Str(s) => Value::Str(s.clone()),
            Value::List(l) => Value::List(l.clone()),
            Value::Hash(h) => Value::Hash(h.clone()),
            Value::Set(s) => Value::Set(s.clone()),
            Value::ZSet(z) => Value::ZSet(z.clone()),
        }
    }
}

/// A value with its access metadata, as Redis's `robj` header.
#[derive(Debug)]
pub struct Object {
    /// The value.
    pub value: Value,
    /// LRU clock of the last access (seconds), or under an LFU policy the
    /// last-decrement minute (high 16 bits) and log counter (low 8 bits).
    pub access: u32,
}

impl Object {
    /// Wraps a value with the given access stamp.
    pub fn new(value: Value, access: u32) -> Self {
        Object { value, access }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers() {
        for (s, want) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("123", Some(123)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("01", None),
            ("-0", None),
            ("+1", None),
            (" 1", None),
            ("", None),
            ("-", None),
            ("1a", None),
        ] {
            assert_eq!(resp::parse_i64(s.as_bytes()), want, "{s:?}");
        }
    }

    #[test]
    fn string_encodings() {
        assert_eq!(Str::from_bytes(b"12").encoding(), "int");
        assert_eq!(Str::from_bytes(b"012").encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'x'; 44]).encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'x'; 45]).encoding(), "raw");
        let mut s = Str::from_bytes(b"12");
        s.make_raw().extend_from_slice(b"3");
        assert_eq!(s.encoding(), "raw");
        assert_eq!(&*s.to_bytes(), b"123");
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn value_stays_small() {
        // A node of the keyspace table holds one Object; keep it at 32 bytes.
        assert!(std::mem::size_of::<Object>() <= 32);
        assert_eq!(std::mem::size_of::<Hash>(), 16);
        assert_eq!(std::mem::size_of::<ZSet>(), 16);
    }
}
