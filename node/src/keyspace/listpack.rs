//! A listpack: a sequence of byte strings packed in one allocation, the
//! compact encoding Redis uses for small hashes and sorted sets (and inside
//! quicklist nodes). Each entry is a LEB128 length followed by its bytes.
//!
//! Operations are linear in the total size, which is what makes it right
//! only for small collections; the owning type converts to a real table past
//! Redis's thresholds (`hash-max-listpack-entries` and friends).

/// Packed entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
    len: usize,
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
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes used by the packed form.
    pub fn bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases spare capacity, so that the packed form takes only its
    /// bytes (as Redis, which reallocates a listpack to its exact size on
    /// every change). Owners call it once a command is done changing it.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Appends an entry at the end.
    pub fn push(&mut self, entry: &[u8]) {
        write_len(&mut self.buf, entry.len());
        self.buf.extend_from_slice(entry);
        self.len += 1;
    }

    /// Iterates over the entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { buf: &self.buf, pos: 0 }
    }

    /// Byte offset of entry `index` (or the end when `index == len`).
    fn offset(&self, index: usize) -> usize {
        let mut pos = 0;
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

    /// Inserts an entry before position `index` (`index == len` appends).
    pub fn insert(&mut self, index: usize, entry: &[u8]) {
        let at = self.offset(index);
        self.buf.splice(at..at, encoded(entry));
        self.len += 1;
    }

    /// Replaces the entry at `index`.
    pub fn replace(&mut self, index: usize, entry: &[u8]) {
        let at = self.offset(index);
        let (n, p) = read_len(&self.buf, at);
        self.buf.splice(at..p + n, encoded(entry));
    }

    /// Removes `count` entries starting at `index`.
    pub fn remove(&mut self, index: usize, count: usize) {
        let from = self.offset(index);
        let mut to = from;
        for _ in 0..count {
            let (n, p) = read_len(&self.buf, to);
            to = p + n;
        }
        self.buf.drain(from..to);
        self.len -= count;
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
        lp.push(b"a");
        lp.push(&big);
        lp.push(b"");
        lp.insert(1, b"b");
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&b"a"[..], b"b", &big, b""]);
        lp.replace(2, b"c");
        assert_eq!(lp.get(2), Some(&b"c"[..]));
        assert_eq!(lp.find(b"c", 0, 1), Some(2));
        assert_eq!(lp.find(b"c", 1, 2), None);
        assert_eq!(lp.find(b"b", 1, 2), Some(1));
        lp.remove(0, 2);
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&b"c"[..], b""]);
        assert_eq!(lp.len(), 2);
        lp.insert(2, &big);
        assert_eq!(lp.get(2), Some(&big[..]));
    }
}
