//! The list type. Redis 7.0 reports every list as `quicklist` (a linked list
//! of listpack nodes); this one is a ring buffer of owned elements: O(1)
//! pushes and pops at both ends, O(1) access by index, and ranges that are
//! two contiguous slices.
//!
//! Indexes here are plain positions from the head (0..len); the commands
//! resolve Redis's negative indexes before calling in.

use std::collections::VecDeque;

/// An end of a list (`LEFT`/`RIGHT` in LMOVE, head/tail in Redis's code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (`LPUSH`, `LPOP`).
    Left,
    /// The tail (`RPUSH`, `RPOP`).
    Right,
}

/// An element as stored.
pub type Item = Box<[u8]>;

/// A list value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    items: VecDeque<Item>,
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

    /// Approximate heap bytes: the ring's slots and each element.
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Item>() + self.items.iter().map(|e| e.len()).sum::<usize>()
    }

    /// Adds `item` at `end`.
    pub fn push(&mut self, end: End, item: Item) {
        match end {
            End::Left => self.items.push_front(item),
            End::Right => self.items.push_back(item),
        }
    }

    /// Removes the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Item> {
        match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }
    }

    /// The element at `index` (from the head).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index).map(|b| &**b)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, item: &[u8]) -> bool {
        match self.items.get_mut(index) {
            Some(slot) => {
                *slot = item.into();
                true
            }
            None => false,
        }
    }

    /// Inserts `item` so that it ends up at `index` (`index == len` appends).
    pub fn insert(&mut self, index: usize, item: &[u8]) {
        self.items.insert(index, item.into());
    }

    /// Every element, head to tail (reversible).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|b| &**b)
    }

    /// The elements at `start..=end` (both in range, `start <= end`),
    /// head to tail (reversible).
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.range(start..=end).map(|b| &**b)
    }

    /// Keeps only the elements at `start..start + len` (LTRIM).
    pub fn retain_range(&mut self, start: usize, len: usize) {
        self.items.truncate(start + len);
        self.items.drain(..start);
    }

    /// Removes `count` elements at `end` (the count-form pops), dropping
    /// them. `count` must not exceed the length.
    pub fn remove_at(&mut self, end: End, count: usize) {
        match end {
            End::Left => drop(self.items.drain(..count)),
            End::Right => self.items.truncate(self.items.len() - count),
        }
    }

    /// Removes the elements equal to `item` (LREM): at most `limit` of them
    /// (`None`: all), scanning from `from`. Returns how many were removed.
    pub fn remove_matching(&mut self, item: &[u8], limit: Option<usize>, from: End) -> usize {
        let limit = limit.unwrap_or(usize::MAX);
        let mut removed = 0;
        match from {
            End::Left => self.items.retain(|e| {
                if removed < limit && **e == *item {
                    removed += 1;
                    return false;
                }
                true
            }),
            End::Right => {
                let mut i = self.items.len();
                while i > 0 && removed < limit {
                    i -= 1;
                    if *self.items[i] == *item {
                        self.items.remove(i);
                        removed += 1;
                    }
                }
            }
        }
        removed
    }

    /// Builds a list from elements, head first (RESTORE, SORT STORE).
    pub fn from_items(items: impl IntoIterator<Item = Item>) -> List {
        List {
            items: items.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        List::from_items(items.iter().map(|s| s.as_bytes().into()))
    }

    fn items(l: &List) -> Vec<String> {
        l.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        l.push(End::Left, b"b"[..].into());
        l.push(End::Left, b"a"[..].into());
        l.push(End::Right, b"c"[..].into());
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert_eq!(l.pop(End::Right).as_deref(), Some(&b"c"[..]));
        assert_eq!(l.pop(End::Left).as_deref(), Some(&b"a"[..]));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn ranges_trims_and_removals() {
        let mut l = list(&["a", "x", "b", "x", "c", "x"]);
        assert_eq!(l.range(1, 3).rev().collect::<Vec<_>>(), [&b"x"[..], b"b", b"x"]);
        assert_eq!(l.remove_matching(b"x", Some(2), End::Right), 2);
        assert_eq!(items(&l), ["a", "x", "b", "c"]);
        assert_eq!(l.remove_matching(b"x", None, End::Left), 1);
        l.retain_range(1, 2);
        assert_eq!(items(&l), ["b", "c"]);
        l.insert(1, b"m");
        assert!(l.set(0, b"B"));
        assert!(!l.set(3, b"z"));
        assert_eq!(items(&l), ["B", "m", "c"]);
        l.remove_at(End::Right, 2);
        assert_eq!(items(&l), ["B"]);
    }
}
