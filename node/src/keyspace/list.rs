//! The list type. Redis 7.0 reports every list as `quicklist` (a linked list
//! of listpack nodes); this one is a ring buffer of owned elements, O(1) at
//! both ends and O(1) by index.

use std::collections::VecDeque;

/// A list value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    /// The elements, head first.
    pub items: VecDeque<Box<[u8]>>,
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty list is deleted from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `OBJECT ENCODING` name, as Redis 7.0 reports it.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * 16 + self.items.iter().map(|e| e.len()).sum::<usize>()
    }
}
