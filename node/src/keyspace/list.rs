//! The list type, packed as Redis 7.0's quicklist (which is what `OBJECT
//! ENCODING` reports for every list): a deque of nodes, each a byte buffer
//! of consecutive entries, bounded by `list-max-listpack-size` ([`Fill`]).
//!
//! An entry is its length as LEB128, its bytes, and the same length bytes
//! in reverse order, so a node is walked from either end: 2 bytes of
//! overhead for elements under 128 bytes, as Redis's listpack. Pushes and
//! pops at the tail are O(1); at the head they move the first node's bytes
//! (at most one node, 8 KiB by default), as Redis does. Access by index
//! walks the nodes, then the entries of one node.
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

/// Redis's `SIZE_SAFETY_LIMIT`: the node size bound when the fill counts
/// entries.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// How full a node may get (`list-max-listpack-size`): -1 to -5 bound its
/// bytes (4 KiB to 64 KiB), a positive value its entries (and 8 KiB). A
/// node always takes at least one entry, whatever its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    bytes: usize,
    count: usize,
}

impl Fill {
    /// The limits of a `list-max-listpack-size` value.
    pub fn new(list_max_listpack_size: i32) -> Fill {
        match usize::try_from(list_max_listpack_size) {
            Ok(count) => Fill {
                bytes: SIZE_SAFETY_LIMIT,
                count,
            },
            Err(_) => Fill {
                bytes: 4096 << (list_max_listpack_size.unsigned_abs().clamp(1, 5) - 1),
                count: usize::MAX,
            },
        }
    }
}

impl Default for Fill {
    /// Redis's default, -2 (8 KiB nodes).
    fn default() -> Self {
        Fill::new(-2)
    }
}

/// Bytes of the LEB128 form of `n`.
fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Bytes an entry of `len` bytes takes.
fn entry_size(len: usize) -> usize {
    2 * varint_len(len) + len
}

/// Writes the entry for `item` into `out` (exactly [`entry_size`] bytes).
fn encode(item: &[u8], out: &mut Vec<u8>) {
    let mut len = [0u8; 10];
    let mut n = item.len();
    let mut k = 0;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            len[k] = b;
            k += 1;
            break;
        }
        len[k] = b | 0x80;
        k += 1;
    }
    out.extend_from_slice(&len[..k]);
    out.extend_from_slice(item);
    out.extend(len[..k].iter().rev());
}

/// One packed node: consecutive entries.
#[derive(Debug, Clone, Default)]
struct Node {
    buf: Vec<u8>,
    count: usize,
}

impl Node {
    /// Whether an entry of `size` bytes may be added.
    fn fits(&self, size: usize, fill: Fill) -> bool {
        self.count == 0 || (self.count < fill.count && self.buf.len() + size <= fill.bytes)
    }

    /// Makes room for `size` more bytes: exactly while the node is small
    /// (the allocator's size classes absorb most growth in place), by a
    /// quarter beyond, so that a node's spare room stays small.
    fn reserve(&mut self, size: usize) {
        let want = self.buf.len() + size;
        if want > self.buf.capacity() {
            let cap = if want <= 1024 {
                want
            } else {
                want.max(self.buf.capacity() + self.buf.capacity() / 4)
            };
            self.buf.reserve_exact(cap - self.buf.len());
        }
    }

    /// Gives back memory after removals.
    fn shrink(&mut self) {
        if self.buf.capacity() > 2 * self.buf.len() + 64 {
            self.buf.shrink_to(self.buf.len() + self.buf.len() / 4);
        }
    }

    /// The entry starting at `off`: its bytes and the offset after it.
    fn entry_at(&self, off: usize) -> (&[u8], usize) {
        let (mut len, mut shift, mut p) = (0usize, 0, off);
        loop {
            let b = self.buf[p];
            p += 1;
            len |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let hdr = p - off;
        (&self.buf[p..p + len], p + len + hdr)
    }

    /// The entry ending at `end`: its bytes and the offset it starts at.
    fn entry_before(&self, end: usize) -> (&[u8], usize) {
        let (mut len, mut shift, mut p) = (0usize, 0, end);
        loop {
            p -= 1;
            let b = self.buf[p];
            len |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let hdr = end - p;
        let data = p - len;
        (&self.buf[data..p], data - hdr)
    }

    /// The offset of entry `k` (`k == count`: the end), walking from the
    /// nearer end.
    fn offset_of(&self, k: usize) -> usize {
        if k <= self.count / 2 {
            (0..k).fold(0, |off, _| self.entry_at(off).1)
        } else {
            (k..self.count).fold(self.buf.len(), |end, _| self.entry_before(end).1)
        }
    }

    /// Removes the entries `pick` selects, visiting them head to tail or
    /// tail to head; returns how many went.
    fn remove_where(&mut self, reverse: bool, mut pick: impl FnMut(&[u8]) -> bool) -> usize {
        let mut spans = Vec::with_capacity(self.count);
        let mut off = 0;
        while off < self.buf.len() {
            let next = self.entry_at(off).1;
            spans.push((off, next, false));
            off = next;
        }
        let mut removed = 0;
        let mut visit = |span: &mut (usize, usize, bool)| {
            if pick(self.entry_at(span.0).0) {
                span.2 = true;
                removed += 1;
            }
        };
        if reverse {
            spans.iter_mut().rev().for_each(&mut visit);
        } else {
            spans.iter_mut().for_each(&mut visit);
        }
        if removed > 0 {
            let mut kept = Vec::with_capacity(self.buf.len());
            for &(start, end, gone) in &spans {
                if !gone {
                    kept.extend_from_slice(&self.buf[start..end]);
                }
            }
            self.buf = kept;
            self.count -= removed;
        }
        removed
    }
}

/// A list value.
#[derive(Debug, Clone, Default)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty (an empty list is deleted from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `OBJECT ENCODING` name, as Redis 7.0 reports it.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes: the node table and the nodes' buffers.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    /// Adds a node at `end`, finishing the one it follows.
    fn new_node(&mut self, end: End) -> &mut Node {
        if self.nodes.capacity() == 0 {
            // Most lists keep one node: no spare slots.
            self.nodes.reserve_exact(1);
        }
        match end {
            End::Left => {
                if let Some(n) = self.nodes.front_mut() {
                    n.buf.shrink_to_fit();
                }
                self.nodes.push_front(Node::default());
                self.nodes.front_mut().expect("just pushed")
            }
            End::Right => {
                if let Some(n) = self.nodes.back_mut() {
                    n.buf.shrink_to_fit();
                }
                self.nodes.push_back(Node::default());
                self.nodes.back_mut().expect("just pushed")
            }
        }
    }

    /// Adds `item` at `end`.
    pub fn push(&mut self, end: End, item: &[u8], fill: Fill) {
        let size = entry_size(item.len());
        let edge = match end {
            End::Left => self.nodes.front(),
            End::Right => self.nodes.back(),
        };
        let node = if edge.is_some_and(|n| n.fits(size, fill)) {
            match end {
                End::Left => self.nodes.front_mut(),
                End::Right => self.nodes.back_mut(),
            }
            .expect("checked above")
        } else {
            self.new_node(end)
        };
        node.reserve(size);
        match end {
            End::Right => encode(item, &mut node.buf),
            End::Left => {
                // Appended, then rotated to the front: one move, no allocation.
                encode(item, &mut node.buf);
                node.buf.rotate_right(size);
            }
        }
        node.count += 1;
        self.len += 1;
    }

    /// Removes the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let (node, item) = match end {
            End::Left => {
                let node = self.nodes.front_mut()?;
                let (data, next) = node.entry_at(0);
                let item = data.to_vec();
                node.buf.drain(..next);
                (node, item)
            }
            End::Right => {
                let node = self.nodes.back_mut()?;
                let (data, start) = node.entry_before(node.buf.len());
                let item = data.to_vec();
                node.buf.truncate(start);
                (node, item)
            }
        };
        node.count -= 1;
        node.shrink();
        if node.count == 0 {
            match end {
                End::Left => self.nodes.pop_front(),
                End::Right => self.nodes.pop_back(),
            };
        }
        self.len -= 1;
        Some(item)
    }

    /// The node holding element `index` (< len) and its position there,
    /// walking the nodes from the nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        if index < self.len / 2 {
            let mut k = index;
            for (i, n) in self.nodes.iter().enumerate() {
                if k < n.count {
                    return (i, k);
                }
                k -= n.count;
            }
        } else {
            let mut k = self.len - index;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                if k <= n.count {
                    return (i, n.count - k);
                }
                k -= n.count;
            }
        }
        unreachable!("index {index} within the list's {} elements", self.len)
    }

    /// The element at `index` (from the head).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.len {
            return None;
        }
        let (i, k) = self.locate(index);
        let node = &self.nodes[i];
        Some(node.entry_at(node.offset_of(k)).0)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, item: &[u8]) -> bool {
        if index >= self.len {
            return false;
        }
        let (i, k) = self.locate(index);
        let node = &mut self.nodes[i];
        let off = node.offset_of(k);
        let next = node.entry_at(off).1;
        let mut entry = Vec::with_capacity(entry_size(item.len()));
        encode(item, &mut entry);
        node.buf.splice(off..next, entry);
        node.shrink();
        true
    }

    /// Inserts `item` so that it ends up at `index` (`index == len`
    /// appends), splitting its node when it overflows.
    pub fn insert(&mut self, index: usize, item: &[u8], fill: Fill) {
        if index == 0 || index >= self.len {
            let end = if index == 0 { End::Left } else { End::Right };
            return self.push(end, item, fill);
        }
        let (i, k) = self.locate(index);
        let node = &mut self.nodes[i];
        let off = node.offset_of(k);
        let mut entry = Vec::with_capacity(entry_size(item.len()));
        encode(item, &mut entry);
        node.buf.splice(off..off, entry);
        node.count += 1;
        self.len += 1;
        if node.count > fill.count || node.buf.len() > fill.bytes {
            let mid = node.count / 2;
            let at = node.offset_of(mid);
            let tail = Node {
                buf: node.buf.split_off(at),
                count: node.count - mid,
            };
            node.count = mid;
            node.buf.shrink_to_fit();
            self.nodes.insert(i + 1, tail);
        }
    }

    /// Every element, head to tail (reversible).
    pub fn iter(&self) -> Iter<'_> {
        match self.len {
            0 => Iter {
                nodes: &self.nodes,
                front: (0, 0),
                back: (0, 0),
                remaining: 0,
            },
            n => self.range(0, n - 1),
        }
    }

    /// The elements at `start..=end` (both in range, `start <= end`), head
    /// to tail (reversible).
    pub fn range(&self, start: usize, end: usize) -> Iter<'_> {
        let (i, k) = self.locate(start);
        let (j, l) = self.locate(end);
        let last = &self.nodes[j];
        Iter {
            nodes: &self.nodes,
            front: (i, self.nodes[i].offset_of(k)),
            back: (j, last.entry_at(last.offset_of(l)).1),
            remaining: end - start + 1,
        }
    }

    /// Removes `n` elements at `end` (n at most the length).
    fn remove_at(&mut self, end: End, mut n: usize) {
        self.len -= n;
        while n > 0 {
            let node = match end {
                End::Left => self.nodes.front_mut(),
                End::Right => self.nodes.back_mut(),
            }
            .expect("n is at most the length");
            if node.count <= n {
                n -= node.count;
                match end {
                    End::Left => self.nodes.pop_front(),
                    End::Right => self.nodes.pop_back(),
                };
                continue;
            }
            match end {
                End::Left => {
                    let off = node.offset_of(n);
                    node.buf.drain(..off);
                }
                End::Right => {
                    let off = node.offset_of(node.count - n);
                    node.buf.truncate(off);
                }
            }
            node.count -= n;
            node.shrink();
            n = 0;
        }
    }

    /// Keeps only the elements at `start..start + len` (LTRIM).
    pub fn retain_range(&mut self, start: usize, len: usize) {
        let after = self.len.saturating_sub(start + len);
        self.remove_at(End::Right, after);
        self.remove_at(End::Left, start.min(self.len));
    }

    /// Removes the elements equal to `item` (LREM): at most `limit` of them
    /// (`None`: all), scanning from `from`. Returns how many were removed.
    pub fn remove_matching(&mut self, item: &[u8], limit: Option<usize>, from: End) -> usize {
        let mut left = limit.unwrap_or(usize::MAX);
        let reverse = from == End::Right;
        let mut removed = 0;
        for i in 0..self.nodes.len() {
            if left == 0 {
                break;
            }
            let i = if reverse { self.nodes.len() - 1 - i } else { i };
            removed += self.nodes[i].remove_where(reverse, |e| {
                let hit = left > 0 && e == item;
                left -= usize::from(hit);
                hit
            });
        }
        self.nodes.retain(|n| n.count > 0);
        self.len -= removed;
        removed
    }
}

/// An iterator over a list's elements (or a range of them).
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    nodes: &'a VecDeque<Node>,
    /// Node and offset of the next element from the front.
    front: (usize, usize),
    /// Node and end offset of the next element from the back.
    back: (usize, usize),
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let nodes = self.nodes;
        let (i, off) = self.front;
        let (data, next) = nodes[i].entry_at(off);
        self.front = if next == nodes[i].buf.len() {
            (i + 1, 0)
        } else {
            (i, next)
        };
        Some(data)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let nodes = self.nodes;
        let (mut j, mut end) = self.back;
        if end == 0 {
            j -= 1;
            end = nodes[j].buf.len();
        }
        let (data, start) = nodes[j].entry_before(end);
        self.back = (j, start);
        Some(data)
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn items(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn fill_follows_list_max_listpack_size() {
        assert_eq!(
            Fill::new(-2),
            Fill {
                bytes: 8192,
                count: usize::MAX
            }
        );
        assert_eq!(
            Fill::new(-5),
            Fill {
                bytes: 65536,
                count: usize::MAX
            }
        );
        assert_eq!(
            Fill::new(-9),
            Fill {
                bytes: 65536,
                count: usize::MAX
            }
        );
        assert_eq!(
            Fill::new(128),
            Fill {
                bytes: 8192,
                count: 128
            }
        );
    }

    #[test]
    fn entries_of_every_length_class_round_trip() {
        let mut l = List::new();
        let fill = Fill::new(-1);
        let lens = [0, 1, 127, 128, 300, 16383, 16384, 70000];
        for &n in &lens {
            l.push(End::Right, &vec![b'x'; n], fill);
        }
        let got: Vec<usize> = l.iter().map(<[u8]>::len).collect();
        assert_eq!(got, lens);
        let back: Vec<usize> = l.iter().rev().map(<[u8]>::len).collect();
        assert_eq!(back, lens.iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(l.pop(End::Left).map(|v| v.len()), Some(0));
        assert_eq!(l.pop(End::Right).map(|v| v.len()), Some(70000));
    }

    /// Every operation against a `VecDeque` model, with tiny nodes so that
    /// node boundaries, splits and removals are exercised.
    #[test]
    fn matches_a_model() {
        let mut rng = SmallRng::seed_from_u64(7);
        for fill in [
            Fill { bytes: 24, count: 3 },
            Fill {
                bytes: 64,
                count: usize::MAX,
            },
            Fill::default(),
        ] {
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for _ in 0..4000 {
                let v = format!("{}", rng.random_range(0..6))
                    .into_bytes()
                    .repeat(rng.random_range(0..4));
                let end = if rng.random_bool(0.5) { End::Left } else { End::Right };
                match rng.random_range(0..10) {
                    0..=2 => {
                        l.push(end, &v, fill);
                        match end {
                            End::Left => m.push_front(v),
                            End::Right => m.push_back(v),
                        }
                    }
                    3 => {
                        let want = match end {
                            End::Left => m.pop_front(),
                            End::Right => m.pop_back(),
                        };
                        assert_eq!(l.pop(end), want);
                    }
                    4 if !m.is_empty() => {
                        let i = rng.random_range(0..m.len());
                        assert!(l.set(i, &v));
                        m[i] = v;
                    }
                    5 => {
                        let i = rng.random_range(0..=m.len());
                        l.insert(i, &v, fill);
                        m.insert(i, v);
                    }
                    6 if !m.is_empty() => {
                        let a = rng.random_range(0..m.len());
                        let b = rng.random_range(a..m.len());
                        let want: Vec<&[u8]> = m.range(a..=b).map(Vec::as_slice).collect();
                        assert_eq!(l.range(a, b).collect::<Vec<_>>(), want);
                        let rev: Vec<&[u8]> = want.iter().rev().copied().collect();
                        assert_eq!(l.range(a, b).rev().collect::<Vec<_>>(), rev);
                        assert_eq!(l.get(a), Some(m[a].as_slice()));
                    }
                    7 if rng.random_ratio(1, 4) => {
                        let start = rng.random_range(0..=m.len());
                        let n = rng.random_range(0..=m.len() - start);
                        l.retain_range(start, n);
                        m = m.into_iter().skip(start).take(n).collect();
                    }
                    8 => {
                        let limit = rng.random_range(0..3);
                        let limit = (limit > 0).then_some(limit);
                        let n = l.remove_matching(&v, limit, end);
                        let mut left = limit.unwrap_or(usize::MAX);
                        let mut keep: Vec<bool> = vec![true; m.len()];
                        let order: Vec<usize> = match end {
                            End::Left => (0..m.len()).collect(),
                            End::Right => (0..m.len()).rev().collect(),
                        };
                        for i in order {
                            if left > 0 && m[i] == v {
                                keep[i] = false;
                                left -= 1;
                            }
                        }
                        let before = m.len();
                        m = m.into_iter().zip(keep).filter(|(_, k)| *k).map(|(e, _)| e).collect();
                        assert_eq!(n, before - m.len());
                    }
                    _ => {}
                }
                assert_eq!(l.len(), m.len());
                assert!(l.nodes.iter().all(|n| n.count > 0));
                assert_eq!(l.nodes.iter().map(|n| n.count).sum::<usize>(), l.len());
            }
            assert_eq!(items(&l), m.iter().cloned().collect::<Vec<_>>());
        }
    }
}
