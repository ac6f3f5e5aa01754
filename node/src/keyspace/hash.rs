//! The hash type: a listpack of field/value pairs while small
//! (`hash-max-listpack-entries`, `hash-max-listpack-value`), a hash table
//! past those thresholds, as Redis encodes it.

use super::dict::Dict;
use super::listpack::Listpack;

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    /// Alternating field, value entries.
    Listpack(Listpack),
    /// Field → value.
    Table(Dict<Box<[u8]>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Listpack::new())
    }
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(d) => d.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.bytes(),
            Hash::Table(d) => d.buckets() * 8 + d.iter().map(|(k, v)| 64 + k.len() + v.len()).sum::<usize>(),
        }
    }
}
