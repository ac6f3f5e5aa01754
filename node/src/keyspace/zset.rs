//! The sorted set type: members with a `f64` score, ordered by (score,
//! member bytes), in one of Redis 7.0's two encodings.
//!
//! - **listpack** while the set has at most `zset-max-listpack-entries`
//!   members and none is longer than `zset-max-listpack-value` bytes: a
//!   [`Listpack`] of alternating member and score entries, in order. Every
//!   operation is a linear scan, which is what keeps small sets compact.
//!   Scores are packed: an integral score (|s| < 2^55) is stored as a
//!   zigzag integer of 0–7 bytes, anything else as the 8 bytes of the
//!   `f64`. Like Redis (which stores integral scores as listpack integers),
//!   this turns a `-0` score into `0`.
//! - **skiplist** (the name `OBJECT ENCODING` reports) past those limits: a
//!   member → score [`Dict`] for O(1) score lookups, plus an order index.
//!   A set never converts back to a listpack, except the results of the
//!   STORE commands, which are built with the encoding their size calls for.
//!
//! # The order index
//!
//! Instead of a skiplist, the index is a sorted list of sorted chunks: a
//! `Vec` of chunks of at most [`CHUNK_MAX`] (score, member) entries,
//! plus a Fenwick tree over the chunk sizes. With `n` members and
//! `C ≈ n / 192` chunks:
//!
//! | operation | cost |
//! | --- | --- |
//! | find by (score, member), by score or lex bound | O(log n): binary search over chunk tails, then in the chunk |
//! | rank of an entry | O(log n): the search, plus a Fenwick prefix sum O(log C) |
//! | entry at a rank | O(log C) Fenwick descent |
//! | insert / delete | O(log n) search + O(CHUNK_MAX) shift in the chunk + O(log C) Fenwick update; a split or merge (one per Θ(CHUNK_MAX) updates) rebuilds the Fenwick tree in O(C) |
//! | iterate m entries from a rank, either way | O(log C + m) |
//! | delete a range of m entries | O(m + C) |
//!
//! Chunks are contiguous arrays, so scans and the in-chunk shifts are cache
//! friendly, and the per-member overhead is one 24-byte entry.
//!
//! Lexicographic ranges (ZRANGEBYLEX…) assume, as Redis documents, that all
//! members have the same score. On a listpack the scans follow Redis's
//! linear algorithms exactly, so even mixed scores give Redis's answer.

use std::cmp::Ordering;

use super::dict::{Dict, Key};
use super::listpack::{self, Listpack};

/// Most entries in a chunk of the order index; a chunk that grows past it is
/// split in two halves.
pub const CHUNK_MAX: usize = 256;
/// A chunk that shrinks below this is merged into a neighbour when the two
/// fit in `CHUNK_MAX * 3 / 4` entries.
const CHUNK_MIN: usize = CHUNK_MAX / 8;

/// The encoding thresholds (`zset-max-listpack-entries`,
/// `zset-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most members a listpack-encoded set holds.
    pub max_entries: usize,
    /// Longest member (bytes) a listpack-encoded set holds.
    pub max_value: usize,
}

impl Default for Limits {
    /// Redis's defaults: 128 entries, 64 bytes.
    fn default() -> Self {
        Limits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// Orders (score, member) pairs as Redis does: by score, then by member
/// bytes (`-0` and `0` are equal scores). Scores are never NaN.
pub fn cmp_entries(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(o) => o,
    }
}

// ---------------------------------------------------------------------------
// Packed scores.

/// Integral scores below this magnitude are packed as integers.
const INT_SCORE_LIMIT: f64 = (1u64 << 55) as f64;

/// Packs a score into `buf`, returning the bytes to store.
fn pack_score(score: f64, buf: &mut [u8; 8]) -> &[u8] {
    if score.fract() == 0.0 && score.abs() < INT_SCORE_LIMIT {
        let n = score as i64;
        let zigzag = ((n << 1) ^ (n >> 63)) as u64;
        *buf = zigzag.to_le_bytes();
        let len = (64 - zigzag.leading_zeros()).div_ceil(8) as usize;
        &buf[..len]
    } else {
        *buf = score.to_le_bytes();
        &buf[..]
    }
}

/// Reads a score packed by [`pack_score`].
fn unpack_score(b: &[u8]) -> f64 {
    let mut raw = [0u8; 8];
    raw[..b.len()].copy_from_slice(b);
    if b.len() == 8 {
        f64::from_le_bytes(raw)
    } else {
        let zigzag = u64::from_le_bytes(raw);
        (((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64)) as f64
    }
}

/// The (member, score) pairs of a listpack-encoded set, in order.
#[derive(Debug, Clone)]
pub struct Pairs<'a>(listpack::Iter<'a>);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let member = self.0.next()?;
        let score = self.0.next().expect("listpack entries come in member/score pairs");
        Some((member, unpack_score(score)))
    }
}

fn pairs(lp: &Listpack) -> Pairs<'_> {
    Pairs(lp.iter())
}

/// Inserts a pair at its sorted place in a listpack.
fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let at = pairs(lp)
        .position(|(m, s)| cmp_entries(s, m, score, member) == Ordering::Greater)
        .unwrap_or(lp.len() / 2);
    let mut buf = [0u8; 8];
    lp.insert(2 * at, &[member, pack_score(score, &mut buf)]);
}

// ---------------------------------------------------------------------------
// The order index.

/// One entry of the order index.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    score: f64,
    member: Key,
}

impl Entry {
    fn cmp_to(&self, score: f64, member: &[u8]) -> Ordering {
        cmp_entries(self.score, &self.member, score, member)
    }
}

/// The sorted list of sorted chunks (see the module documentation).
#[derive(Debug, Default, Clone)]
struct Order {
    /// Non-empty chunks, each sorted, in order.
    chunks: Vec<Vec<Entry>>,
    /// Fenwick tree over the chunk lengths (1-based, `chunks.len()` slots).
    fenwick: Vec<usize>,
    /// Total entries.
    len: usize,
}

impl Order {
    /// Builds the index from entries already in order.
    fn from_sorted(entries: impl Iterator<Item = Entry>) -> Order {
        let mut order = Order::default();
        let mut chunk = Vec::with_capacity(CHUNK_MAX / 2);
        for e in entries {
            chunk.push(e);
            if chunk.len() == CHUNK_MAX / 2 {
                order.len += chunk.len();
                order
                    .chunks
                    .push(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_MAX / 2)));
            }
        }
        if !chunk.is_empty() {
            order.len += chunk.len();
            order.chunks.push(chunk);
        }
        order.rebuild();
        order
    }

    /// Recomputes the Fenwick tree after chunks were split, merged or removed.
    fn rebuild(&mut self) {
        let n = self.chunks.len();
        self.fenwick.clear();
        self.fenwick.push(0);
        self.fenwick.extend(self.chunks.iter().map(Vec::len));
        for i in 1..=n {
            let j = i + (i & i.wrapping_neg());
            if j <= n {
                self.fenwick[j] += self.fenwick[i];
            }
        }
    }

    /// Adds `delta` to the recorded length of chunk `ci`.
    fn fenwick_add(&mut self, ci: usize, delta: isize) {
        let mut i = ci + 1;
        while i < self.fenwick.len() {
            self.fenwick[i] = self.fenwick[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Entries in the chunks before chunk `ci`.
    fn prefix(&self, ci: usize) -> usize {
        let mut sum = 0;
        let mut i = ci;
        while i > 0 {
            sum += self.fenwick[i];
            i &= i - 1;
        }
        sum
    }

    /// (chunk, offset) of the entry at `rank` (< len).
    fn locate(&self, rank: usize) -> (usize, usize) {
        debug_assert!(rank < self.len);
        let n = self.chunks.len();
        let mut pos = 0;
        let mut rem = rank;
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.fenwick[next] <= rem {
                pos = next;
                rem -= self.fenwick[next];
            }
            step >>= 1;
        }
        (pos, rem)
    }

    fn get(&self, rank: usize) -> &Entry {
        let (ci, off) = self.locate(rank);
        &self.chunks[ci][off]
    }

    /// Number of leading entries for which `before` holds (`before` must be
    /// true on a prefix of the order and false after it).
    fn partition_point(&self, before: impl Fn(&Entry) -> bool) -> usize {
        let ci = self.chunks.partition_point(|c| c.last().is_some_and(&before));
        match self.chunks.get(ci) {
            None => self.len,
            Some(chunk) => self.prefix(ci) + chunk.partition_point(&before),
        }
    }

    /// The chunk where (score, member) is or would be inserted, and the
    /// offset in it.
    fn find(&self, score: f64, member: &[u8]) -> (usize, usize) {
        let last = self.chunks.len().saturating_sub(1);
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|e| e.cmp_to(score, member) == Ordering::Less))
            .min(last);
        let off = self
            .chunks
            .get(ci)
            .map_or(0, |c| c.partition_point(|e| e.cmp_to(score, member) == Ordering::Less));
        (ci, off)
    }

    /// Rank of an entry that is present.
    fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let (ci, off) = self.find(score, member);
        let e = self.chunks.get(ci)?.get(off)?;
        (e.cmp_to(score, member) == Ordering::Equal).then(|| self.prefix(ci) + off)
    }

    fn insert(&mut self, score: f64, member: Key) {
        if self.chunks.is_empty() {
            self.chunks.push(vec![Entry { score, member }]);
            self.len = 1;
            self.rebuild();
            return;
        }
        let (ci, off) = self.find(score, &member);
        let chunk = &mut self.chunks[ci];
        chunk.insert(off, Entry { score, member });
        self.len += 1;
        if chunk.len() > CHUNK_MAX {
            let tail = chunk.split_off(chunk.len() / 2);
            chunk.shrink_to(CHUNK_MAX / 2 + CHUNK_MAX / 4);
            self.chunks.insert(ci + 1, tail);
            self.rebuild();
        } else {
            self.fenwick_add(ci, 1);
        }
    }

    /// Removes the entry at (chunk, offset) and restores the chunk invariants.
    fn remove_at(&mut self, ci: usize, off: usize) -> Entry {
        let e = self.chunks[ci].remove(off);
        self.len -= 1;
        if self.fix_chunk(ci) {
            self.rebuild();
        } else {
            self.fenwick_add(ci, -1);
        }
        e
    }

    /// Drops chunk `ci` if empty or merges it with a neighbour if small;
    /// returns true when the chunk list changed (the Fenwick tree must be
    /// rebuilt).
    fn fix_chunk(&mut self, ci: usize) -> bool {
        let len = self.chunks[ci].len();
        if len == 0 {
            self.chunks.remove(ci);
            return true;
        }
        if len >= CHUNK_MIN {
            return false;
        }
        let fits = |other: &Vec<Entry>| other.len() + len <= CHUNK_MAX * 3 / 4;
        if self.chunks.get(ci + 1).is_some_and(fits) {
            let next = self.chunks.remove(ci + 1);
            self.chunks[ci].extend(next);
            true
        } else if ci > 0 && fits(&self.chunks[ci - 1]) {
            let this = self.chunks.remove(ci);
            self.chunks[ci - 1].extend(this);
            true
        } else {
            false
        }
    }

    /// Removes the entry (score, member); returns its member.
    fn remove(&mut self, score: f64, member: &[u8]) -> Option<Key> {
        let (ci, off) = self.find(score, member);
        let e = self.chunks.get(ci)?.get(off)?;
        if e.cmp_to(score, member) != Ordering::Equal {
            return None;
        }
        Some(self.remove_at(ci, off).member)
    }

    /// Removes `count` entries from `start`, handing each to `removed`.
    fn remove_range(&mut self, start: usize, mut count: usize, mut removed: impl FnMut(Entry)) {
        if count == 0 {
            return;
        }
        let (first, mut off) = self.locate(start);
        let mut ci = first;
        self.len -= count;
        while count > 0 {
            let chunk = &mut self.chunks[ci];
            let take = count.min(chunk.len() - off);
            chunk.drain(off..off + take).for_each(&mut removed);
            count -= take;
            if chunk.is_empty() {
                self.chunks.remove(ci);
            } else {
                ci += 1;
            }
            off = 0;
        }
        // The (at most two) chunks around the cut may be small now.
        if first + 1 < self.chunks.len() {
            self.fix_chunk(first + 1);
        }
        if first < self.chunks.len() {
            self.fix_chunk(first);
        }
        self.rebuild();
    }

    /// Entries from `rank` on, in order.
    fn iter_from(&self, rank: usize) -> impl Iterator<Item = &Entry> {
        let (ci, off) = if rank < self.len {
            self.locate(rank)
        } else {
            (self.chunks.len(), 0)
        };
        let head = self.chunks.get(ci).map_or(&[][..], |c| &c[off..]);
        head.iter().chain(self.chunks.iter().skip(ci + 1).flatten())
    }

    /// Entries from `rank` down to the first, in reverse order.
    fn rev_from(&self, rank: usize) -> impl Iterator<Item = &Entry> {
        let (ci, off) = self.locate(rank);
        self.chunks[ci][..=off]
            .iter()
            .rev()
            .chain(self.chunks[..ci].iter().rev().flat_map(|c| c.iter().rev()))
    }
}

// ---------------------------------------------------------------------------
// Ranges.

/// A range of a sorted set by score or by member (ZRANGEBYSCORE,
/// ZRANGEBYLEX…): a lower and an upper bound, each inclusive or exclusive.
pub trait Range {
    /// True when no (member, score) can be inside (min > max, or min == max
    /// with an exclusive bound).
    fn is_empty(&self) -> bool;
    /// Whether the entry is above the lower bound.
    fn gte_min(&self, member: &[u8], score: f64) -> bool;
    /// Whether the entry is below the upper bound.
    fn lte_max(&self, member: &[u8], score: f64) -> bool;
}

/// A score interval; `(` makes a bound exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// The lower bound is exclusive.
    pub min_ex: bool,
    /// The upper bound is exclusive.
    pub max_ex: bool,
}

impl Range for ScoreRange {
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }

    fn gte_min(&self, _: &[u8], score: f64) -> bool {
        if self.min_ex {
            score > self.min
        } else {
            score >= self.min
        }
    }

    fn lte_max(&self, _: &[u8], score: f64) -> bool {
        if self.max_ex {
            score < self.max
        } else {
            score <= self.max
        }
    }
}

/// One end of a lexicographic range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexBound<'a> {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[member`.
    Incl(&'a [u8]),
    /// `(member`.
    Excl(&'a [u8]),
}

impl LexBound<'_> {
    /// How a member compares to this bound (as Redis's `sdscmplex`).
    fn cmp_member(&self, member: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Incl(b) | LexBound::Excl(b) => member.cmp(b),
        }
    }

    /// `-` and `+` count as exclusive, as in Redis.
    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }

    fn rank(&self) -> u8 {
        match self {
            LexBound::Min => 0,
            LexBound::Incl(_) | LexBound::Excl(_) => 1,
            LexBound::Max => 2,
        }
    }
}

/// A lexicographic range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexRange<'a> {
    /// Lower bound.
    pub min: LexBound<'a>,
    /// Upper bound.
    pub max: LexBound<'a>,
}

impl Range for LexRange<'_> {
    fn is_empty(&self) -> bool {
        let cmp = match (self.min, self.max) {
            (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        };
        cmp == Ordering::Greater || (cmp == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }

    fn gte_min(&self, member: &[u8], _: f64) -> bool {
        let cmp = self.min.cmp_member(member);
        if self.min.exclusive() {
            cmp == Ordering::Greater
        } else {
            cmp != Ordering::Less
        }
    }

    fn lte_max(&self, member: &[u8], _: f64) -> bool {
        let cmp = self.max.cmp_member(member);
        if self.max.exclusive() {
            cmp == Ordering::Less
        } else {
            cmp != Ordering::Greater
        }
    }
}

// ---------------------------------------------------------------------------
// The sorted set.

/// The skiplist encoding: member → score, plus the order index.
#[derive(Debug, Default, Clone)]
pub struct Sorted {
    dict: Dict<f64>,
    order: Order,
    /// Sum of the member lengths (memory accounting).
    member_bytes: usize,
}

impl Sorted {
    fn insert_new(&mut self, member: &[u8], score: f64) {
        self.member_bytes += member.len();
        self.dict.insert(member.into(), score);
        self.order.insert(score, member.into());
    }

    fn forget(&mut self, e: &Entry) {
        self.member_bytes -= e.member.len();
        self.dict.remove(&e.member);
    }
}

/// A sorted set value (`Clone` is COPY's deep copy, in the same encoding).
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Alternating member, packed score entries, in (score, member) order.
    Listpack(Listpack),
    /// The table plus order index.
    Sorted(Box<Sorted>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Listpack::new())
    }
}

/// ZADD's conditions (NX, XX, GT, LT) and INCR.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update when the new score is greater.
    pub gt: bool,
    /// Only update when the new score is less.
    pub lt: bool,
    /// Add the score to the current one (0 for a new member).
    pub incr: bool,
}

/// What [`ZSet::add`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Added {
    /// A new member with this score.
    New(f64),
    /// The member's score changed to this.
    Updated(f64),
    /// The member already had this score.
    Same(f64),
    /// Nothing was done because of NX, XX, GT or LT.
    Skipped,
}

/// The score would be NaN (`+inf` incremented by `-inf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NanScore;

/// Iterator over (member, score) in order.
#[derive(Debug)]
pub struct Iter<'a>(IterInner<'a>);

#[derive(Debug)]
enum IterInner<'a> {
    Listpack(Pairs<'a>),
    Sorted(std::iter::Flatten<std::slice::Iter<'a, Vec<Entry>>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterInner::Listpack(p) => p.next(),
            IterInner::Sorted(it) => it.next().map(|e| (&*e.member, e.score)),
        }
    }
}

impl ZSet {
    /// An empty set for a new key whose first member is `first_len` bytes:
    /// skiplist-encoded right away when the limits rule the listpack out,
    /// as Redis's ZADD does.
    pub fn new_for(limits: Limits, first_len: usize) -> ZSet {
        if limits.max_entries == 0 || first_len > limits.max_value {
            ZSet::Sorted(Box::default())
        } else {
            ZSet::default()
        }
    }

    /// A set from pairs in (score, member) order with distinct members,
    /// encoded as the limits call for (the STORE commands' results).
    pub fn from_sorted<M: AsRef<[u8]>>(items: &[(M, f64)], limits: Limits) -> ZSet {
        let fits = items.len() <= limits.max_entries && items.iter().all(|(m, _)| m.as_ref().len() <= limits.max_value);
        if fits {
            let mut lp = Listpack::new();
            let mut buf = [0u8; 8];
            for (m, s) in items {
                lp.push(&[m.as_ref(), pack_score(*s, &mut buf)]);
            }
            ZSet::Listpack(lp)
        } else {
            let mut sorted = Sorted::default();
            for (m, s) in items {
                sorted.member_bytes += m.as_ref().len();
                sorted.dict.insert(m.as_ref().into(), *s);
            }
            sorted.order = Order::from_sorted(items.iter().map(|(m, s)| Entry {
                score: *s,
                member: m.as_ref().into(),
            }));
            ZSet::Sorted(Box::new(sorted))
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
            ZSet::Sorted(s) => s.order.len,
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Sorted(_) => "skiplist",
        }
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.bytes(),
            ZSet::Sorted(s) => {
                let entry = std::mem::size_of::<Entry>();
                // Table node + index entry per member, members stored twice.
                s.dict.buckets() * 8
                    + s.order.len * (48 + entry)
                    + 2 * s.member_bytes
                    + s.order.chunks.len() * (std::mem::size_of::<Vec<Entry>>() + 8)
            }
        }
    }

    /// All (member, score) pairs in order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            ZSet::Listpack(lp) => Iter(IterInner::Listpack(pairs(lp))),
            ZSet::Sorted(s) => Iter(IterInner::Sorted(s.order.chunks.iter().flatten())),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => pairs(lp).find(|(m, _)| *m == member).map(|(_, s)| s),
            ZSet::Sorted(s) => s.dict.get(member).copied(),
        }
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Listpack(lp) => pairs(lp).position(|(m, _)| m == member),
            ZSet::Sorted(s) => {
                let score = *s.dict.get(member)?;
                Some(
                    s.order
                        .rank(score, member)
                        .expect("every member of the table is in the index"),
                )
            }
        }
    }

    /// Visits pairs from `from` (< len) towards the end, or towards the
    /// start when `rev`, while `visit` returns true.
    pub fn walk<'a>(&'a self, from: usize, rev: bool, mut visit: impl FnMut(&'a [u8], f64) -> bool) {
        if from >= self.len() {
            return;
        }
        match (self, rev) {
            (ZSet::Listpack(lp), false) => {
                for (m, s) in pairs(lp).skip(from) {
                    if !visit(m, s) {
                        break;
                    }
                }
            }
            (ZSet::Listpack(lp), true) => {
                let head: Vec<(&[u8], f64)> = pairs(lp).take(from + 1).collect();
                for &(m, s) in head.iter().rev() {
                    if !visit(m, s) {
                        break;
                    }
                }
            }
            (ZSet::Sorted(s), false) => {
                for e in s.order.iter_from(from) {
                    if !visit(&e.member, e.score) {
                        break;
                    }
                }
            }
            (ZSet::Sorted(s), true) => {
                for e in s.order.rev_from(from) {
                    if !visit(&e.member, e.score) {
                        break;
                    }
                }
            }
        }
    }

    /// Rank of the first pair in `range` (the last one when `rev`), as
    /// Redis's `zzlFirstInRange`/`zslFirstInRange` (and `Last`) find it.
    pub fn range_start(&self, range: &impl Range, rev: bool) -> Option<usize> {
        if range.is_empty() || self.is_empty() {
            return None;
        }
        match self {
            ZSet::Listpack(lp) => {
                // zzlIsInRange: the last pair is above min, the first below max.
                let (first_m, first_s) = pairs(lp).next()?;
                let (last_m, last_s) = pairs(lp).last()?;
                if !range.gte_min(last_m, last_s) || !range.lte_max(first_m, first_s) {
                    return None;
                }
                if rev {
                    let all: Vec<(&[u8], f64)> = pairs(lp).collect();
                    let i = all.iter().rposition(|&(m, s)| range.lte_max(m, s))?;
                    range.gte_min(all[i].0, all[i].1).then_some(i)
                } else {
                    let (i, (m, s)) = pairs(lp).enumerate().find(|&(_, (m, s))| range.gte_min(m, s))?;
                    range.lte_max(m, s).then_some(i)
                }
            }
            ZSet::Sorted(s) => {
                let order = &s.order;
                if rev {
                    let end = order.partition_point(|e| range.lte_max(&e.member, e.score));
                    let i = end.checked_sub(1)?;
                    let e = order.get(i);
                    range.gte_min(&e.member, e.score).then_some(i)
                } else {
                    let i = order.partition_point(|e| !range.gte_min(&e.member, e.score));
                    let e = (i < order.len).then(|| order.get(i))?;
                    range.lte_max(&e.member, e.score).then_some(i)
                }
            }
        }
    }

    /// Number of pairs in `range` (ZCOUNT, ZLEXCOUNT).
    pub fn count_in(&self, range: &impl Range) -> usize {
        let Some(first) = self.range_start(range, false) else {
            return 0;
        };
        match self {
            ZSet::Listpack(_) => {
                let mut n = 0;
                self.walk(first, false, |m, s| {
                    let inside = range.lte_max(m, s);
                    n += usize::from(inside);
                    inside
                });
                n
            }
            ZSet::Sorted(_) => match self.range_start(range, true) {
                Some(last) => (last + 1).saturating_sub(first),
                None => self.len() - first,
            },
        }
    }

    /// Adds or updates a member (ZADD, ZINCRBY), converting to the skiplist
    /// encoding when the listpack would exceed `limits`.
    pub fn add(&mut self, member: &[u8], score: f64, flags: AddFlags, limits: Limits) -> Result<Added, NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        let current = self.score(member);
        let Some(cur) = current else {
            if flags.xx {
                return Ok(Added::Skipped);
            }
            self.insert_new(member, score, limits);
            return Ok(Added::New(score));
        };
        if flags.nx {
            return Ok(Added::Skipped);
        }
        let new = if flags.incr { score + cur } else { score };
        if new.is_nan() {
            return Err(NanScore);
        }
        if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
            return Ok(Added::Skipped);
        }
        if new == cur {
            return Ok(Added::Same(new));
        }
        match self {
            ZSet::Listpack(lp) => {
                let i = pairs(lp)
                    .position(|(m, _)| m == member)
                    .expect("the member was just found");
                lp.remove(2 * i, 2);
                lp_insert(lp, member, new);
            }
            ZSet::Sorted(s) => {
                let key = s
                    .order
                    .remove(cur, member)
                    .expect("every member of the table is in the index");
                s.order.insert(new, key);
                *s.dict.get_mut(member).expect("the member was just found") = new;
            }
        }
        Ok(Added::Updated(new))
    }

    fn insert_new(&mut self, member: &[u8], score: f64, limits: Limits) {
        if let ZSet::Listpack(lp) = self {
            if lp.len() / 2 < limits.max_entries && member.len() <= limits.max_value {
                lp_insert(lp, member, score);
                return;
            }
            self.convert();
        }
        match self {
            ZSet::Sorted(s) => s.insert_new(member, score),
            ZSet::Listpack(_) => unreachable!("converted just above"),
        }
    }

    /// Converts a listpack to the skiplist encoding.
    fn convert(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut sorted = Sorted::default();
            for (m, s) in pairs(lp) {
                sorted.member_bytes += m.len();
                sorted.dict.insert(m.into(), s);
            }
            sorted.order = Order::from_sorted(pairs(lp).map(|(m, s)| Entry {
                score: s,
                member: m.into(),
            }));
            *self = ZSet::Sorted(Box::new(sorted));
        }
    }

    /// Removes a member; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(lp) => match pairs(lp).position(|(m, _)| m == member) {
                Some(i) => {
                    lp.remove(2 * i, 2);
                    true
                }
                None => false,
            },
            ZSet::Sorted(s) => match s.dict.remove(member) {
                Some(score) => {
                    s.member_bytes -= member.len();
                    s.order
                        .remove(score, member)
                        .expect("every member of the table is in the index");
                    true
                }
                None => false,
            },
        }
    }

    /// Removes and returns the lowest (or, with `max`, highest) pair.
    pub fn pop(&mut self, max: bool) -> Option<(Key, f64)> {
        let last = self.len().checked_sub(1)?;
        let rank = if max { last } else { 0 };
        match self {
            ZSet::Listpack(lp) => {
                let (m, s) = pairs(lp).nth(rank)?;
                let m: Key = m.into();
                lp.remove(2 * rank, 2);
                Some((m, s))
            }
            ZSet::Sorted(s) => {
                let (ci, off) = s.order.locate(rank);
                let e = s.order.remove_at(ci, off);
                s.forget(&e);
                Some((e.member, e.score))
            }
        }
    }

    /// Removes `count` pairs from rank `start` on.
    pub fn remove_ranks(&mut self, start: usize, count: usize) {
        let count = count.min(self.len().saturating_sub(start));
        if count == 0 {
            return;
        }
        match self {
            ZSet::Listpack(lp) => lp.remove(2 * start, 2 * count),
            ZSet::Sorted(s) => {
                let Sorted {
                    dict,
                    order,
                    member_bytes,
                } = &mut **s;
                order.remove_range(start, count, |e| {
                    *member_bytes -= e.member.len();
                    dict.remove(&e.member);
                });
            }
        }
    }

    /// Removes the pairs in `range` (ZREMRANGEBYSCORE, ZREMRANGEBYLEX);
    /// returns how many.
    pub fn remove_in(&mut self, range: &impl Range) -> usize {
        let start = match self {
            // zzlDeleteRangeBy*: from the first pair in range.
            ZSet::Listpack(_) => self.range_start(range, false),
            // zslDeleteRangeBy*: from the first pair above min.
            ZSet::Sorted(s) => Some(s.order.partition_point(|e| !range.gte_min(&e.member, e.score))),
        };
        let Some(start) = start else { return 0 };
        let mut n = 0;
        self.walk(start, false, |m, s| {
            let inside = range.lte_max(m, s);
            n += usize::from(inside);
            inside
        });
        self.remove_ranks(start, n);
        n
    }

    /// For the skiplist encoding: one SCAN step over the member table
    /// (see [`Dict::scan`]). `None` for a listpack, which is returned whole.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], f64)) -> Option<u64> {
        match self {
            ZSet::Listpack(_) => None,
            ZSet::Sorted(s) => Some(s.dict.scan(cursor, |k, v| visit(k, *v))),
        }
    }

    /// A random pair (uniform enough: the table's fair sampling, or a
    /// uniform index in the listpack).
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                pairs(lp).nth(rng.random_range(0..n))
            }
            ZSet::Sorted(s) => s.dict.random_entry(rng).map(|(k, v)| (&**k, *v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The naive model: pairs sorted by (score, member) in a Vec.
    #[derive(Default)]
    struct Model {
        by_member: BTreeMap<Vec<u8>, f64>,
    }

    impl Model {
        fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
            let mut v: Vec<(Vec<u8>, f64)> = self.by_member.iter().map(|(m, s)| (m.clone(), *s)).collect();
            v.sort_by(|a, b| cmp_entries(a.1, &a.0, b.1, &b.0));
            v
        }
    }

    fn check(z: &ZSet, model: &Model) {
        let want = model.sorted();
        assert_eq!(z.len(), want.len());
        let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(got, want);
        for (i, (m, s)) in want.iter().enumerate() {
            assert_eq!(z.rank(m), Some(i), "rank of {m:?}");
            assert_eq!(z.score(m), Some(*s));
            if let ZSet::Sorted(sorted) = z {
                let e = sorted.order.get(i);
                assert_eq!((&*e.member, e.score), (&m[..], *s));
            }
        }
        if let ZSet::Sorted(s) = z {
            assert!(s.order.chunks.iter().all(|c| !c.is_empty() && c.len() <= CHUNK_MAX));
            for ci in 0..=s.order.chunks.len() {
                assert_eq!(
                    s.order.prefix(ci),
                    s.order.chunks[..ci].iter().map(Vec::len).sum::<usize>()
                );
            }
            assert_eq!(s.dict.len(), want.len());
            assert_eq!(s.member_bytes, want.iter().map(|(m, _)| m.len()).sum::<usize>());
        }
    }

    fn member(rng: &mut StdRng, space: u32) -> Vec<u8> {
        format!("m{}", rng.random_range(0..space)).into_bytes()
    }

    fn score(rng: &mut StdRng) -> f64 {
        match rng.random_range(0..10) {
            0 => f64::INFINITY,
            1 => f64::NEG_INFINITY,
            2 => -0.0,
            3 => rng.random_range(-5.0..5.0),
            _ => f64::from(rng.random_range(-20i32..20)),
        }
    }

    fn score_range(rng: &mut StdRng) -> ScoreRange {
        let a = score(rng);
        let b = score(rng);
        ScoreRange {
            min: a.min(b),
            max: a.max(b),
            min_ex: rng.random(),
            max_ex: rng.random(),
        }
    }

    /// Naive range queries over the sorted model.
    fn naive_start(want: &[(Vec<u8>, f64)], range: &impl Range, rev: bool) -> Option<usize> {
        let inside = |(m, s): &(Vec<u8>, f64)| range.gte_min(m, *s) && range.lte_max(m, *s);
        if range.is_empty() {
            return None;
        }
        if rev {
            want.iter().rposition(inside)
        } else {
            want.iter().position(inside)
        }
    }

    fn random_ops(seed: u64, limits: Limits, space: u32, ops: usize) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut z = ZSet::new_for(limits, 1);
        let mut model = Model::default();
        for step in 0..ops {
            match rng.random_range(0..10) {
                0..=4 => {
                    let m = member(&mut rng, space);
                    let s = score(&mut rng);
                    let incr = rng.random_ratio(1, 5);
                    let flags = AddFlags {
                        incr,
                        ..AddFlags::default()
                    };
                    let r = z.add(&m, s, flags, limits);
                    let old = model.by_member.get(&m).copied();
                    let new = if incr { old.unwrap_or(0.0) + s } else { s };
                    if new.is_nan() {
                        assert_eq!(r, Err(NanScore));
                    } else {
                        let want = match old {
                            None => Added::New(new),
                            Some(o) if o == new => Added::Same(new),
                            Some(_) => Added::Updated(new),
                        };
                        assert_eq!(r, Ok(want));
                        if old != Some(new) || old.is_none() {
                            model.by_member.insert(m, new);
                        }
                    }
                }
                5 | 6 => {
                    let m = member(&mut rng, space);
                    assert_eq!(z.remove(&m), model.by_member.remove(&m).is_some());
                }
                7 => {
                    let max = rng.random();
                    let want = model.sorted();
                    let expect = if max {
                        want.last().cloned()
                    } else {
                        want.first().cloned()
                    };
                    let got = z.pop(max).map(|(m, s)| (m.to_vec(), s));
                    assert_eq!(got, expect);
                    if let Some((m, _)) = expect {
                        model.by_member.remove(&m);
                    }
                }
                8 => {
                    let r = score_range(&mut rng);
                    let want = model.sorted();
                    for rev in [false, true] {
                        assert_eq!(z.range_start(&r, rev), naive_start(&want, &r, rev), "{r:?} rev {rev}");
                    }
                    let n = want
                        .iter()
                        .filter(|(m, s)| r.gte_min(m, *s) && r.lte_max(m, *s))
                        .count();
                    assert_eq!(z.count_in(&r), if r.is_empty() { 0 } else { n });
                    if rng.random_ratio(1, 4) {
                        let removed = z.remove_in(&r);
                        let before = model.by_member.len();
                        model
                            .by_member
                            .retain(|m, s| !(r.gte_min(m, *s) && r.lte_max(m, *s)) || r.is_empty());
                        assert_eq!(removed, before - model.by_member.len());
                    }
                }
                _ => {
                    let len = z.len();
                    if len > 0 {
                        let start = rng.random_range(0..len);
                        let most = if rng.random_ratio(1, 5) { 700 } else { 40 };
                        let count = rng.random_range(0..=len - start).min(rng.random_range(1..most));
                        let want = model.sorted();
                        z.remove_ranks(start, count);
                        for (m, _) in &want[start..start + count] {
                            model.by_member.remove(m);
                        }
                    }
                }
            }
            if step % 7 == 0 || model.by_member.len() < 300 {
                check(&z, &model);
            }
            // Walks both ways from a random rank.
            let len = z.len();
            if len > 0 && step % 11 == 0 {
                let want = model.sorted();
                let from = rng.random_range(0..len);
                let mut fwd = Vec::new();
                z.walk(from, false, |m, s| {
                    fwd.push((m.to_vec(), s));
                    true
                });
                assert_eq!(fwd, want[from..].to_vec());
                let mut back = Vec::new();
                z.walk(from, true, |m, s| {
                    back.push((m.to_vec(), s));
                    back.len() < 50
                });
                let expect: Vec<_> = want[..=from].iter().rev().take(50).cloned().collect();
                assert_eq!(back, expect);
            }
        }
        check(&z, &model);
    }

    #[test]
    fn listpack_matches_model() {
        for seed in 0..20 {
            random_ops(
                seed,
                Limits {
                    max_entries: 100_000,
                    max_value: 64,
                },
                40,
                600,
            );
        }
    }

    #[test]
    fn sorted_matches_model() {
        for seed in 0..6 {
            random_ops(
                seed,
                Limits {
                    max_entries: 0,
                    max_value: 64,
                },
                3000,
                8000,
            );
        }
        // Few members: chunks split, merge and vanish often.
        random_ops(
            99,
            Limits {
                max_entries: 0,
                max_value: 64,
            },
            600,
            20_000,
        );
    }

    #[test]
    fn converts_at_the_thresholds() {
        let limits = Limits::default();
        let mut z = ZSet::new_for(limits, 1);
        for i in 0..128 {
            z.add(format!("m{i}").as_bytes(), f64::from(i), AddFlags::default(), limits)
                .expect("not NaN");
        }
        assert_eq!(z.encoding(), "listpack");
        z.add(b"m128", 0.5, AddFlags::default(), limits).expect("not NaN");
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.rank(b"m128"), Some(1));
        let mut z = ZSet::new_for(limits, 1);
        z.add(&[b'x'; 64], 1.0, AddFlags::default(), limits).expect("not NaN");
        assert_eq!(z.encoding(), "listpack");
        z.add(&[b'x'; 65], 1.0, AddFlags::default(), limits).expect("not NaN");
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(ZSet::new_for(limits, 65).encoding(), "skiplist");
        assert_eq!(
            ZSet::new_for(
                Limits {
                    max_entries: 0,
                    max_value: 64
                },
                1
            )
            .encoding(),
            "skiplist"
        );
    }

    #[test]
    fn packed_scores_round_trip() {
        let mut buf = [0u8; 8];
        for s in [
            0.0,
            1.0,
            -1.0,
            2.5,
            1e300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            36028797018963967.0,
            -36028797018963968.0,
            5e-324,
        ] {
            assert_eq!(unpack_score(pack_score(s, &mut buf)).to_bits(), s.to_bits(), "{s}");
        }
        assert_eq!(pack_score(0.0, &mut buf).len(), 0);
        assert_eq!(pack_score(1.0, &mut buf).len(), 1);
        // Like a Redis listpack, -0 is stored as the integer 0.
        assert_eq!(unpack_score(pack_score(-0.0, &mut buf)).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn add_flags_follow_redis() {
        let limits = Limits::default();
        let mut z = ZSet::default();
        let add = |z: &mut ZSet, m: &[u8], s: f64, flags: AddFlags| z.add(m, s, flags, limits);
        assert_eq!(
            add(
                &mut z,
                b"a",
                1.0,
                AddFlags {
                    xx: true,
                    ..AddFlags::default()
                }
            ),
            Ok(Added::Skipped)
        );
        assert_eq!(add(&mut z, b"a", 1.0, AddFlags::default()), Ok(Added::New(1.0)));
        assert_eq!(
            add(
                &mut z,
                b"a",
                2.0,
                AddFlags {
                    nx: true,
                    ..AddFlags::default()
                }
            ),
            Ok(Added::Skipped)
        );
        assert_eq!(
            add(
                &mut z,
                b"a",
                0.0,
                AddFlags {
                    gt: true,
                    ..AddFlags::default()
                }
            ),
            Ok(Added::Skipped)
        );
        assert_eq!(
            add(
                &mut z,
                b"a",
                3.0,
                AddFlags {
                    gt: true,
                    ..AddFlags::default()
                }
            ),
            Ok(Added::Updated(3.0))
        );
        assert_eq!(add(&mut z, b"a", 3.0, AddFlags::default()), Ok(Added::Same(3.0)));
        let incr_lt = AddFlags {
            incr: true,
            lt: true,
            ..AddFlags::default()
        };
        assert_eq!(add(&mut z, b"a", 1.0, incr_lt), Ok(Added::Skipped));
        assert_eq!(add(&mut z, b"a", -1.0, incr_lt), Ok(Added::Updated(2.0)));
        assert_eq!(
            add(&mut z, b"b", f64::INFINITY, AddFlags::default()),
            Ok(Added::New(f64::INFINITY))
        );
        let incr = AddFlags {
            incr: true,
            ..AddFlags::default()
        };
        assert_eq!(add(&mut z, b"b", f64::NEG_INFINITY, incr), Err(NanScore));
        assert_eq!(z.score(b"b"), Some(f64::INFINITY));
    }

    #[test]
    fn lex_ranges() {
        let r = |min, max| LexRange { min, max };
        use LexBound::*;
        assert!(r(Min, Min).is_empty());
        assert!(r(Max, Max).is_empty());
        assert!(r(Max, Min).is_empty());
        assert!(!r(Min, Max).is_empty());
        assert!(r(Incl(b"b"), Incl(b"a")).is_empty());
        assert!(!r(Incl(b"a"), Incl(b"a")).is_empty());
        assert!(r(Incl(b"a"), Excl(b"a")).is_empty());
        assert!(r(Incl(b"a"), Min).is_empty());
        let range = r(Excl(b"b"), Incl(b"d"));
        assert!(!range.gte_min(b"b", 0.0));
        assert!(range.gte_min(b"ba", 0.0));
        assert!(range.lte_max(b"d", 0.0));
        assert!(!range.lte_max(b"da", 0.0));
        let limits = Limits::default();
        for lim in [
            limits,
            Limits {
                max_entries: 0,
                max_value: 64,
            },
        ] {
            let mut z = ZSet::new_for(lim, 1);
            for m in ["a", "b", "c", "d", "e"] {
                z.add(m.as_bytes(), 0.0, AddFlags::default(), lim).expect("not NaN");
            }
            assert_eq!(z.range_start(&range, false), Some(2));
            assert_eq!(z.range_start(&range, true), Some(3));
            assert_eq!(z.count_in(&range), 2);
            assert_eq!(z.remove_in(&range), 2);
            assert_eq!(
                z.iter().map(|(m, _)| m.to_vec()).collect::<Vec<_>>(),
                vec![b"a".to_vec(), b"b".to_vec(), b"e".to_vec()]
            );
        }
    }

    #[test]
    fn from_sorted_picks_the_encoding() {
        let items: Vec<(Vec<u8>, f64)> = (0..129).map(|i| (format!("m{i:03}").into_bytes(), 1.0)).collect();
        let limits = Limits::default();
        assert_eq!(ZSet::from_sorted(&items[..128], limits).encoding(), "listpack");
        let big = ZSet::from_sorted(&items, limits);
        assert_eq!(big.encoding(), "skiplist");
        assert_eq!(big.rank(b"m100"), Some(100));
        assert_eq!(
            ZSet::from_sorted(&[(vec![b'x'; 65], 1.0)], limits).encoding(),
            "skiplist"
        );
    }
}
