//! The set type: an intset (sorted integers) while every member is an
//! integer and the set is small (`set-max-intset-entries`), a hash table
//! otherwise, as Redis 7.0 encodes it.

use super::dict::Dict;

/// A set value.
#[derive(Debug, Clone)]
pub enum Set {
    /// Sorted integer members.
    Intset(Vec<i64>),
    /// Members as keys of a table.
    Table(Dict<()>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(Vec::new())
    }
}

impl Set {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(v) => v.len(),
            Set::Table(d) => d.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        match self {
            Set::Intset(v) => v.capacity() * 8,
            Set::Table(d) => d.buckets() * 8 + d.iter().map(|(k, _)| 48 + k.len()).sum::<usize>(),
        }
    }
}
