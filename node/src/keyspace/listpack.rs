//! A listpack: a sequence of byte strings packed in one allocation, the
//! compact encoding Redis uses for small hashes and sorted sets (and inside
//! quicklist nodes). Each entry is a LEB128 length followed by its bytes.
//!
//! Operations are linear in the total size, which is what makes it right
//! only for small collections; the owning type converts to a real table past
//! Redis's thresholds (`hash-max-listpack-entries` and friends).

/// Bytes of the entry count that heads a non-empty listpack.
const HEADER: usize = 4;

/// Packed entries in one exact-sized allocation: nothing when empty, else
/// the entry count (`u32` little-endian, `u32::MAX` meaning "count them")
/// followed by the entries. Two words, so that a small hash or sorted set
/// is stored inline in its key's value slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Box<[u8]>,
}

fn read_len(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (n, pos);
        }
        shift += 7;
    }
}

fn write_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Bytes of the LEB128 form of `n`.
fn len_bytes(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()).max(1).div_ceil(7) as usize
}

fn encoded(entry: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(entry.len() + 2);
    write_len(&mut v, entry.len());
    v.extend_from_slice(entry);
    v
}

impl Listpack {
    /// An empty listpack.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self.buf.first_chunk::<HEADER>() {
            None => 0,
            Some(&h) => match u32::from_le_bytes(h) {
                u32::MAX => self.iter().count(),
                n => n as usize,
            },
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes used by the packed form.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Changes the packed bytes through `f` (given them as a buffer whose
    /// entries start at [`HEADER`]), then stores them exact-sized with `len`
    /// entries, as Redis reallocates a listpack on every change. `f`
    /// reserves exactly what it adds, so that no reallocation is wasted.
    fn edit(&mut self, len: usize, f: impl FnOnce(&mut Vec<u8>)) {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        if v.is_empty() {
            v.extend_from_slice(&[0; HEADER]);
        }
        f(&mut v);
        if len == 0 {
            return;
        }
        let count = u32::try_from(len).unwrap_or(u32::MAX);
        v[..HEADER].copy_from_slice(&count.to_le_bytes());
        self.buf = v.into_boxed_slice();
    }

    /// Appends entries at the end (one reallocation for all).
    pub fn push(&mut self, entries: &[&[u8]]) {
        let len = self.len() + entries.len();
        self.edit(len, |v| {
            v.reserve_exact(entries.iter().map(|e| len_bytes(e.len()) + e.len()).sum());
            for e in entries {
                write_len(v, e.len());
                v.extend_from_slice(e);
            }
        });
    }

    /// Iterates over the entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: self.buf.get(HEADER..).unwrap_or_default(),
            pos: 0,
        }
    }

    /// Byte offset in the buffer of entry `index` (or the end when
    /// `index == len`).
    fn offset(&self, index: usize) -> usize {
        let mut pos = HEADER;
        for _ in 0..index {
            let (n, p) = read_len(&self.buf, pos);
            pos = p + n;
        }
        pos
    }

    /// The entry at `index`.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.iter().nth(index)
    }

    /// Inserts entries before position `index` (`index == len` appends).
    pub fn insert(&mut self, index: usize, entries: &[&[u8]]) {
        let at = self.offset(index);
        let len = self.len() + entries.len();
        let e = entries.iter().flat_map(|e| encoded(e)).collect::<Vec<u8>>();
        self.edit(len, |v| {
            v.reserve_exact(e.len());
            v.splice(at..at, e);
        });
    }

    /// Replaces the entry at `index`.
    pub fn replace(&mut self, index: usize, entry: &[u8]) {
        let at = self.offset(index);
        let (n, p) = read_len(&self.buf, at);
        let len = self.len();
        let e = encoded(entry);
        self.edit(len, |v| {
            v.reserve_exact(e.len().saturating_sub(p + n - at));
            v.splice(at..p + n, e);
        });
    }

    /// Removes `count` entries starting at `index`.
    pub fn remove(&mut self, index: usize, count: usize) {
        let from = self.offset(index);
        let mut to = from;
        for _ in 0..count {
            let (n, p) = read_len(&self.buf, to);
            to = p + n;
        }
        let len = self.len() - count;
        self.edit(len, |v| {
            v.drain(from..to);
        });
    }

    /// Position of the first entry equal to `entry` among entries at
    /// positions `start, start + step, …` (step 2 searches the fields of a
    /// field/value listpack).
    pub fn find(&self, entry: &[u8], start: usize, step: usize) -> Option<usize> {
        self.iter()
            .enumerate()
            .skip(start)
            .step_by(step)
            .find(|(_, e)| *e == entry)
            .map(|(i, _)| i)
    }
}

/// Iterator over a listpack's entries.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (n, p) = read_len(self.buf, self.pos);
        self.pos = p + n;
        Some(&self.buf[p..p + n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_insert_replace_remove_find() {
        let mut lp = Listpack::new();
        let big = vec![b'x'; 300];
        lp.push(&[b"a", &big]);
        lp.push(&[b""]);
        lp.insert(1, &[b"b"]);
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&b"a"[..], b"b", &big, b""]);
        lp.replace(2, b"c");
        assert_eq!(lp.get(2), Some(&b"c"[..]));
        assert_eq!(lp.find(b"c", 0, 1), Some(2));
        assert_eq!(lp.find(b"c", 1, 2), None);
        assert_eq!(lp.find(b"b", 1, 2), Some(1));
        lp.remove(0, 2);
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&b"c"[..], b""]);
        assert_eq!(lp.len(), 2);
        lp.insert(2, &[&big]);
        assert_eq!(lp.get(2), Some(&big[..]));
        assert_eq!(lp.len(), 3);
        // Exact-sized: the count, then each entry's length and bytes.
        assert_eq!(lp.bytes(), 4 + 2 + 2 + 301);
        lp.remove(0, 3);
        assert!(lp.is_empty());
        assert_eq!((lp.len(), lp.bytes()), (0, 0));
    }
}
