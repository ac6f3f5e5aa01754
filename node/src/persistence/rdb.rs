//! The RDB format of Redis 7.0 (version 10): encoding the keyspace into a
//! file or a DUMP payload, and decoding anything redis-server 7.0 writes,
//! including the older encodings it still loads (ziplist, zipmap, quicklist
//! v1, string-scored sorted sets).
//!
//! Pure encode/decode: the writer takes any `Write`, the reader a byte
//! slice. Files and processes are the business of [`super::snapshot`].
//! Malformed input is an [`Error`], never a panic.

use std::borrow::Cow;
use std::io::{self, Write};

use super::{crc64, lzf};
use crate::keyspace::list::{End, Fill};
use crate::keyspace::set::{Member, intset_limit};
use crate::keyspace::zset::AddFlags;
use crate::keyspace::{Access, Db, Hash, List, Object, Set, Str, Value, ZSet, hash, zset};

/// The RDB version written (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;

// Object types.
const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_MODULE: u8 = 6;
const TYPE_MODULE_2: u8 = 7;
const TYPE_HASH_ZIPMAP: u8 = 9;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;

// Opcodes.
const OP_FUNCTION2: u8 = 245;
const OP_FUNCTION: u8 = 246;
const OP_MODULE_AUX: u8 = 247;
const OP_IDLE: u8 = 248;
const OP_FREQ: u8 = 249;
const OP_AUX: u8 = 250;
const OP_RESIZEDB: u8 = 251;
const OP_EXPIRETIME_MS: u8 = 252;
const OP_EXPIRETIME: u8 = 253;
const OP_SELECTDB: u8 = 254;
const OP_EOF: u8 = 255;

// Special string encodings (`11xxxxxx` length prefix).
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// Bytes of a listpack node of a list written to RDB (Redis's default
/// `list-max-listpack-size -2`).
const LIST_NODE_BYTES: usize = 8192;

/// What went wrong reading RDB data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data ends early.
    #[error("unexpected end of RDB data at offset {0}")]
    Truncated(usize),
    /// The data is malformed.
    #[error("corrupt RDB data at offset {offset}: {what}")]
    Corrupt {
        /// Where the problem was found.
        offset: usize,
        /// What is wrong.
        what: String,
    },
    /// Well-formed data this server cannot hold (modules, streams).
    #[error("unsupported RDB content at offset {offset}: {what}")]
    Unsupported {
        /// Where it was found.
        offset: usize,
        /// What it is.
        what: String,
    },
    /// A DUMP payload without a usable footer (too short, or from a newer
    /// RDB version).
    #[error("invalid DUMP payload footer: {0}")]
    Footer(String),
    /// The trailing CRC64 does not match the contents.
    #[error("wrong RDB checksum: expected {expected:016x}, got {actual:016x}")]
    Checksum {
        /// The checksum stored in the file.
        expected: u64,
        /// The checksum of the contents.
        actual: u64,
    },
}

/// A `Result` of RDB decoding.
pub type Result<T> = std::result::Result<T, Error>;

/// The encoding settings a loaded value is built with (the same thresholds
/// the commands use).
#[derive(Debug, Clone, Copy)]
pub struct Encodings {
    /// `list-max-listpack-size`.
    pub list_fill: Fill,
    /// `hash-max-listpack-*`.
    pub hash: hash::Limits,
    /// `zset-max-listpack-*`.
    pub zset: zset::Limits,
    /// `set-max-intset-entries`, as [`intset_limit`].
    pub max_intset: usize,
}

impl Encodings {
    /// The thresholds of a configuration.
    pub fn from_config(c: &crate::config::Config) -> Encodings {
        Encodings {
            list_fill: Fill::new(c.list_max_listpack_size),
            hash: hash::Limits::new(c.hash_max_listpack_entries, c.hash_max_listpack_value),
            zset: zset::Limits {
                max_entries: usize::try_from(c.zset_max_listpack_entries).unwrap_or(usize::MAX),
                max_value: usize::try_from(c.zset_max_listpack_value).unwrap_or(usize::MAX),
            },
            max_intset: intset_limit(c.set_max_intset_entries),
        }
    }
}

// ---------------------------------------------------------------------------
// Encoding

fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0x80);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn write_int_string(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(v) = i8::try_from(v) {
        out.extend_from_slice(&[0xc0 | ENC_INT8, v as u8]);
    } else if let Ok(v) = i16::try_from(v) {
        out.push(0xc0 | ENC_INT16);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(v) {
        out.push(0xc0 | ENC_INT32);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Writes a string as Redis's `rdbSaveRawString`: as an integer when it is a
/// short canonical one that fits 32 bits, LZF-compressed when `compress` and
/// that saves space, else as length and bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11
        && let Some(v) = resp::parse_i64(s)
        && write_int_string(out, v)
    {
        return;
    }
    if compress
        && s.len() > 20
        && let Some(c) = lzf::compress(s, s.len() - 4)
    {
        out.push(0xc0 | ENC_LZF);
        write_len(out, c.len() as u64);
        write_len(out, s.len() as u64);
        out.extend_from_slice(&c);
        return;
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn write_str(out: &mut Vec<u8>, s: &Str, compress: bool) {
    match s {
        Str::Int(v) if write_int_string(out, *v) => {}
        s => write_string(out, &s.to_bytes(), compress),
    }
}

/// Formats a double as C's `%.17g` (how Redis 7.0 renders scores it stores
/// as strings, and digests them).
pub fn format_g17(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{x:.16e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} output has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    if !(-4..17).contains(&exp) {
        let m = if mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let fixed = format!("{x:.*}", (16 - exp) as usize);
        if fixed.contains('.') {
            fixed.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            fixed
        }
    }
}

/// The bytes Redis 7.0 stores for a score in a listpack (`d2string`).
fn score_string(score: f64) -> Cow<'static, [u8]> {
    if score.is_finite() && score != 0.0 && score.fract() == 0.0 && score.abs() < 4_503_599_627_370_496.0 {
        return Cow::Owned(itoa::Buffer::new().format(score as i64).as_bytes().to_vec());
    }
    Cow::Owned(format_g17(score).into_bytes())
}

/// Appends a listpack entry's back-length: its size in 7-bit groups, most
/// significant first, every group but the first flagged with the high bit.
fn encode_backlen(l: u64, out: &mut Vec<u8>) {
    let groups = match l {
        0..=127 => 1,
        128..16383 => 2,
        16383..2_097_151 => 3,
        2_097_151..268_435_455 => 4,
        _ => 5,
    };
    for g in (0..groups).rev() {
        let bits = ((l >> (7 * g)) & 127) as u8;
        out.push(if g == groups - 1 { bits } else { bits | 128 });
    }
}

/// Builds a listpack in Redis's byte format.
struct ListpackWriter {
    buf: Vec<u8>,
    count: usize,
}

impl ListpackWriter {
    fn new() -> Self {
        ListpackWriter {
            buf: vec![0; 6],
            count: 0,
        }
    }

    /// Bytes the listpack will take once finished.
    fn size(&self) -> usize {
        self.buf.len() + 1
    }

    fn push_backlen(&mut self, l: usize) {
        encode_backlen(l as u64, &mut self.buf);
    }

    fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            self.buf.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
        } else if let Ok(v) = i16::try_from(v) {
            self.buf.push(0xf1);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            self.buf.push(0xf2);
            self.buf.extend_from_slice(&v.to_le_bytes()[..3]);
        } else if let Ok(v) = i32::try_from(v) {
            self.buf.push(0xf3);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else {
            self.buf.push(0xf4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let l = self.buf.len() - start;
        self.push_backlen(l);
        self.count += 1;
    }

    /// Appends an entry; canonical integers are stored as integers, as
    /// Redis's `lpAppend` does.
    fn push(&mut self, s: &[u8]) {
        if s.len() <= 20
            && let Some(v) = resp::parse_i64(s)
        {
            return self.push_int(v);
        }
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.extend_from_slice(&[0xe0 | (n >> 8) as u8, n as u8]);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = self.buf.len() - start;
        self.push_backlen(l);
        self.count += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

fn intset_bytes(ints: &[i64]) -> Vec<u8> {
    let width: u32 = ints
        .iter()
        .map(|&v| {
            if i16::try_from(v).is_ok() {
                2
            } else if i32::try_from(v).is_ok() {
                4
            } else {
                8
            }
        })
        .max()
        .unwrap_or(2);
    let mut out = Vec::new();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&(ints.len() as u32).to_le_bytes());
    for v in ints {
        out.extend_from_slice(&v.to_le_bytes()[..width as usize]);
    }
    out
}

/// Writes a value's type byte and its payload, in the encoding Redis 7.0
/// would use for the same in-memory encoding.
pub fn write_value(out: &mut Vec<u8>, value: &Value, compress: bool) {
    match value {
        Value::Str(s) => {
            out.push(TYPE_STRING);
            write_str(out, s, compress);
        }
        Value::List(l) => {
            out.push(TYPE_LIST_QUICKLIST_2);
            let mut nodes = Vec::new();
            let mut lp = ListpackWriter::new();
            for item in l.iter() {
                if lp.count > 0 && lp.size() + item.len() + 11 > LIST_NODE_BYTES {
                    nodes.push(std::mem::replace(&mut lp, ListpackWriter::new()).finish());
                }
                lp.push(item);
            }
            if lp.count > 0 {
                nodes.push(lp.finish());
            }
            write_len(out, nodes.len() as u64);
            for node in nodes {
                write_len(out, QUICKLIST_NODE_PACKED);
                write_string(out, &node, compress);
            }
        }
        Value::Hash(h) => match h {
            Hash::Listpack(_) => {
                out.push(TYPE_HASH_LISTPACK);
                let mut lp = ListpackWriter::new();
                for (f, v) in h.iter() {
                    lp.push(f);
                    lp.push(v);
                }
                write_string(out, &lp.finish(), compress);
            }
            Hash::Table(_) => {
                out.push(TYPE_HASH);
                write_len(out, h.len() as u64);
                for (f, v) in h.iter() {
                    write_string(out, f, compress);
                    write_string(out, v, compress);
                }
            }
        },
        Value::Set(s) => match &**s {
            Set::Intset(i) => {
                out.push(TYPE_SET_INTSET);
                write_string(out, &intset_bytes(&i.iter().collect::<Vec<_>>()), compress);
            }
            Set::Table(_) => {
                out.push(TYPE_SET);
                write_len(out, s.len() as u64);
                let mut buf = itoa::Buffer::new();
                for m in s.iter() {
                    write_string(out, m.bytes(&mut buf), compress);
                }
            }
        },
        Value::ZSet(z) => match z {
            ZSet::Listpack(_) => {
                out.push(TYPE_ZSET_LISTPACK);
                let mut lp = ListpackWriter::new();
                for (m, s) in z.iter() {
                    lp.push(m);
                    lp.push(&score_string(s));
                }
                write_string(out, &lp.finish(), compress);
            }
            ZSet::Sorted(_) => {
                out.push(TYPE_ZSET_2);
                write_len(out, z.len() as u64);
                // Greatest first, as Redis writes a skiplist.
                let items: Vec<(&[u8], f64)> = z.iter().collect();
                for (m, s) in items.into_iter().rev() {
                    write_string(out, m, compress);
                    out.extend_from_slice(&s.to_le_bytes());
                }
            }
        },
    }
}

/// A `Write` that keeps the CRC64 of everything written through it.
struct CrcWriter<W> {
    inner: W,
    crc: u64,
    enabled: bool,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if self.enabled {
            self.crc = crc64::update(self.crc, &buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// How a snapshot is written.
#[derive(Debug, Clone)]
pub struct SaveOptions {
    /// `rdbcompression`.
    pub compress: bool,
    /// `rdbchecksum` (a zero checksum otherwise, as Redis writes).
    pub checksum: bool,
    /// Aux fields written after the header, in order.
    pub aux: Vec<(&'static str, String)>,
    /// `rdb-key-save-delay`: see [`key_delay`].
    pub key_save_delay: i32,
}

/// `rdb-key-save-delay` and `key-load-delay` (testing): a child writing a
/// snapshot or an AOF rewrite, or the start-up load, sleeps this many
/// microseconds after each key, so tests can catch it running. Zero or
/// negative: no delay.
pub fn key_delay(micros: i32) {
    if let Ok(us @ 1..) = u64::try_from(micros) {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// Writes a whole RDB file: header, aux fields, every database with its
/// keys and expiry times, EOF and the checksum. Returns the bytes written.
///
/// # Errors
/// Only the writer's.
pub fn write_rdb<W: Write>(w: W, dbs: &[Db], opts: &SaveOptions) -> io::Result<u64> {
    let mut w = CrcWriter {
        inner: w,
        crc: 0,
        enabled: opts.checksum,
    };
    let mut total = 0u64;
    let mut buf = Vec::with_capacity(64 * 1024);
    buf.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    for (k, v) in &opts.aux {
        buf.push(OP_AUX);
        write_string(&mut buf, k.as_bytes(), false);
        write_string(&mut buf, v.as_bytes(), false);
    }
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        buf.push(OP_SELECTDB);
        write_len(&mut buf, i as u64);
        buf.push(OP_RESIZEDB);
        write_len(&mut buf, db.len() as u64);
        write_len(&mut buf, db.expires_len() as u64);
        for (key, obj) in db.keys().iter() {
            if let Some(at) = db.expire_at(key) {
                buf.push(OP_EXPIRETIME_MS);
                buf.extend_from_slice(&at.to_le_bytes());
            }
            write_key_value(&mut buf, key, &obj.value, opts.compress);
            key_delay(opts.key_save_delay);
            if buf.len() >= 32 * 1024 {
                w.write_all(&buf)?;
                total += buf.len() as u64;
                buf.clear();
            }
        }
    }
    buf.push(OP_EOF);
    w.write_all(&buf)?;
    total += buf.len() as u64;
    let crc = if opts.checksum { w.crc } else { 0 };
    w.inner.write_all(&crc.to_le_bytes())?;
    w.flush()?;
    Ok(total + 8)
}

fn write_key_value(buf: &mut Vec<u8>, key: &[u8], value: &Value, compress: bool) {
    let at = buf.len();
    buf.push(0); // the type byte, moved in front of the key below
    write_string(buf, key, compress);
    let key_end = buf.len();
    write_value(buf, value, compress);
    let ty = buf.remove(key_end);
    buf[at] = ty;
}

/// A DUMP payload: the value, the RDB version (2 bytes LE) and the CRC64 of
/// both (8 bytes LE).
pub fn dump_payload(value: &Value, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value, compress);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::update(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

// ---------------------------------------------------------------------------
// Decoding

/// A cursor over RDB bytes.
#[derive(Debug)]
struct Input<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length, or a special string encoding.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Input<'a> {
    fn corrupt(&self, what: impl Into<String>) -> Error {
        Error::Corrupt {
            offset: self.pos,
            what: what.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or(Error::Truncated(self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn raw_len(&mut self) -> Result<Len> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.u8()?)),
            3 => Len::Encoded(b & 0x3f),
            _ => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.corrupt(format!("unknown length encoding {b:#04x}"))),
            },
        })
    }

    fn len(&mut self) -> Result<u64> {
        match self.raw_len()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(self.corrupt("encoded string where a length was expected")),
        }
    }

    /// A length that counts items still to be read (bounded by the bytes left,
    /// so that a corrupt length cannot ask for a huge allocation).
    fn count(&mut self) -> Result<usize> {
        let n = self.len()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.buf.len() - self.pos)
            .ok_or_else(|| self.corrupt(format!("length {n} exceeds the data")))
    }

    fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        match self.raw_len()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| Error::Truncated(self.pos))?;
                Ok(Cow::Borrowed(self.take(n)?))
            }
            Len::Encoded(ENC_INT8) => Ok(int_bytes(i64::from(self.u8()? as i8))),
            Len::Encoded(ENC_INT16) => Ok(int_bytes(i64::from(i16::from_le_bytes(self.array()?)))),
            Len::Encoded(ENC_INT32) => Ok(int_bytes(i64::from(i32::from_le_bytes(self.array()?)))),
            Len::Encoded(ENC_LZF) => {
                let clen = self.count()?;
                let len = self.len()?;
                // LZF expands at most ~ 260x; anything more is corrupt.
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&l| l <= clen.saturating_mul(264) + 264)
                    .ok_or_else(|| self.corrupt(format!("LZF length {len} impossible for {clen} bytes")))?;
                let data = self.take(clen)?;
                lzf::decompress(data, len)
                    .map(Cow::Owned)
                    .map_err(|_| self.corrupt("invalid LZF-compressed string"))
            }
            Len::Encoded(e) => Err(self.corrupt(format!("unknown string encoding {e}"))),
        }
    }

    fn binary_double(&mut self) -> Result<f64> {
        let v = f64::from_le_bytes(self.array()?);
        if v.is_nan() {
            return Err(self.corrupt("NaN score"));
        }
        Ok(v)
    }

    /// A score stored as text with a one-byte length (the type-3 zset).
    fn text_double(&mut self) -> Result<f64> {
        let v = match self.u8()? {
            253 => return Err(self.corrupt("NaN score")),
            254 => f64::INFINITY,
            255 => f64::NEG_INFINITY,
            n => {
                let s = self.take(usize::from(n))?;
                parse_score(s).ok_or_else(|| self.corrupt("invalid score"))?
            }
        };
        Ok(v)
    }
}

fn int_bytes(v: i64) -> Cow<'static, [u8]> {
    Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec())
}

fn parse_score(s: &[u8]) -> Option<f64> {
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

fn corrupt_at(offset: usize, what: impl Into<String>) -> Error {
    Error::Corrupt {
        offset,
        what: what.into(),
    }
}

/// One entry of a listpack or ziplist: bytes, or an integer.
enum Entry<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl Entry<'_> {
    fn with_bytes<T>(&self, f: impl FnOnce(&[u8]) -> T) -> T {
        match self {
            Entry::Bytes(b) => f(b),
            Entry::Int(v) => f(itoa::Buffer::new().format(*v).as_bytes()),
        }
    }

    fn score(&self) -> Option<f64> {
        match self {
            Entry::Bytes(b) => parse_score(b),
            Entry::Int(v) => Some(*v as f64),
        }
    }
}

fn le_int(b: &[u8]) -> i64 {
    // Sign-extends little-endian bytes (1 to 8 of them).
    let mut v = [if b.last().is_some_and(|&x| x & 0x80 != 0) {
        0xff
    } else {
        0
    }; 8];
    v[..b.len()].copy_from_slice(b);
    i64::from_le_bytes(v)
}

/// Walks a listpack in Redis's format, checking its structure.
fn listpack_entries<'a>(lp: &'a [u8], offset: usize, mut f: impl FnMut(Entry<'a>) -> Result<()>) -> Result<()> {
    let bad = |what: &str| corrupt_at(offset, format!("invalid listpack: {what}"));
    if lp.len() < 7 || u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize != lp.len() {
        return Err(bad("header size"));
    }
    if lp[lp.len() - 1] != 0xff {
        return Err(bad("missing terminator"));
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]);
    let end = lp.len() - 1;
    let mut p = 6;
    let mut count = 0usize;
    while p < end {
        let start = p;
        let b = lp[p];
        let get = |from: usize, n: usize| {
            lp.get(from..from + n)
                .filter(|_| from + n <= end)
                .ok_or_else(|| bad("entry overflows"))
        };
        let entry = if b & 0x80 == 0 {
            p += 1;
            Entry::Int(i64::from(b))
        } else if b & 0xc0 == 0x80 {
            let n = usize::from(b & 0x3f);
            let s = get(p + 1, n)?;
            p += 1 + n;
            Entry::Bytes(s)
        } else if b & 0xe0 == 0xc0 {
            let hi = get(p + 1, 1)?;
            let u = (u64::from(b & 0x1f) << 8) | u64::from(hi[0]);
            p += 2;
            Entry::Int(if u >= 1 << 12 { u as i64 - (1 << 13) } else { u as i64 })
        } else if b & 0xf0 == 0xe0 {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(get(p + 1, 1)?[0]);
            let s = get(p + 2, n)?;
            p += 2 + n;
            Entry::Bytes(s)
        } else {
            match b {
                0xf0 => {
                    let n = u32::from_le_bytes(get(p + 1, 4)?.try_into().expect("4 bytes")) as usize;
                    let s = get(p + 5, n)?;
                    p += 5 + n;
                    Entry::Bytes(s)
                }
                0xf1..=0xf4 => {
                    let n = [2, 3, 4, 8][usize::from(b - 0xf1)];
                    let v = le_int(get(p + 1, n)?);
                    p += 1 + n;
                    Entry::Int(v)
                }
                _ => return Err(bad("unknown entry encoding")),
            }
        };
        let mut expect = Vec::with_capacity(5);
        encode_backlen((p - start) as u64, &mut expect);
        if get(p, expect.len())? != expect.as_slice() {
            return Err(bad("back-length mismatch"));
        }
        p += expect.len();
        count += 1;
        f(entry)?;
    }
    if declared != u16::MAX && usize::from(declared) != count {
        return Err(bad("entry count mismatch"));
    }
    Ok(())
}

/// Walks a ziplist (the encoding of Redis before 7.0).
fn ziplist_entries<'a>(zl: &'a [u8], offset: usize, mut f: impl FnMut(Entry<'a>) -> Result<()>) -> Result<()> {
    let bad = |what: &str| corrupt_at(offset, format!("invalid ziplist: {what}"));
    if zl.len() < 11 || u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize != zl.len() {
        return Err(bad("header size"));
    }
    if zl[zl.len() - 1] != 0xff {
        return Err(bad("missing terminator"));
    }
    let end = zl.len() - 1;
    let get = |from: usize, n: usize| {
        zl.get(from..from + n)
            .filter(|_| from + n <= end)
            .ok_or_else(|| bad("entry overflows"))
    };
    let mut p = 10;
    while p < end {
        let prev = get(p, 1)?[0];
        p += if prev == 254 { 5 } else { 1 };
        let b = get(p, 1)?[0];
        let entry = match b >> 6 {
            0 => {
                let n = usize::from(b & 0x3f);
                let s = get(p + 1, n)?;
                p += 1 + n;
                Entry::Bytes(s)
            }
            1 => {
                let n = (usize::from(b & 0x3f) << 8) | usize::from(get(p + 1, 1)?[0]);
                let s = get(p + 2, n)?;
                p += 2 + n;
                Entry::Bytes(s)
            }
            2 => {
                let n = u32::from_be_bytes(get(p + 1, 4)?.try_into().expect("4 bytes")) as usize;
                let s = get(p + 5, n)?;
                p += 5 + n;
                Entry::Bytes(s)
            }
            _ => {
                let (n, v) = match b {
                    0xc0 => (2, None),
                    0xd0 => (4, None),
                    0xe0 => (8, None),
                    0xf0 => (3, None),
                    0xfe => (1, None),
                    0xf1..=0xfd => (0, Some(i64::from(b & 0x0f) - 1)),
                    _ => return Err(bad("unknown entry encoding")),
                };
                let v = match v {
                    Some(v) => v,
                    None => le_int(get(p + 1, n)?),
                };
                p += 1 + n;
                Entry::Int(v)
            }
        };
        f(entry)?;
    }
    Ok(())
}

/// Walks a zipmap (hashes of Redis before 2.6): alternating keys and values.
fn zipmap_entries<'a>(zm: &'a [u8], offset: usize, mut f: impl FnMut(&'a [u8]) -> Result<()>) -> Result<()> {
    let bad = || corrupt_at(offset, "invalid zipmap");
    let mut p = 1;
    let mut is_value = false;
    loop {
        let b = *zm.get(p).ok_or_else(bad)?;
        if b == 255 {
            return if is_value || p + 1 != zm.len() {
                Err(bad())
            } else {
                Ok(())
            };
        }
        let n = if b == 254 {
            let n = zm.get(p + 1..p + 5).ok_or_else(bad)?;
            p += 5;
            u32::from_le_bytes(n.try_into().expect("4 bytes")) as usize
        } else {
            p += 1;
            usize::from(b)
        };
        let free = if is_value {
            p += 1;
            usize::from(*zm.get(p - 1).ok_or_else(bad)?)
        } else {
            0
        };
        let s = zm.get(p..p.checked_add(n).ok_or_else(bad)?).ok_or_else(bad)?;
        p += n + free;
        f(s)?;
        is_value = !is_value;
    }
}

/// Builds values from decoded items, with the server's encodings.
struct Builder<'e> {
    enc: &'e Encodings,
    offset: usize,
}

impl Builder<'_> {
    fn dup(&self, what: &str) -> Error {
        corrupt_at(self.offset, format!("duplicate {what}"))
    }

    fn list(&self) -> List {
        List::new()
    }

    fn set_add(&self, set: &mut Option<Set>, m: &[u8]) -> Result<()> {
        let s = set.get_or_insert_with(|| Set::new_for(m));
        if s.add(m, self.enc.max_intset) {
            Ok(())
        } else {
            Err(self.dup("set member"))
        }
    }

    fn hash_set(&self, h: &mut Hash, f: &[u8], v: &[u8]) -> Result<()> {
        if h.set(f, v, self.enc.hash) {
            Ok(())
        } else {
            Err(self.dup("hash field"))
        }
    }

    fn zset_add(&self, z: &mut Option<ZSet>, m: &[u8], score: f64) -> Result<()> {
        let zs = z.get_or_insert_with(|| ZSet::new_for(self.enc.zset, m.len()));
        match zs.add(m, score, AddFlags::default(), self.enc.zset) {
            Ok(zset::Added::New(_)) => Ok(()),
            Ok(_) => Err(self.dup("sorted set member")),
            Err(_) => Err(corrupt_at(self.offset, "NaN score")),
        }
    }
}

/// Reads one value of type `ty`; `None` for an empty collection (which
/// Redis skips on load).
fn read_value(input: &mut Input<'_>, ty: u8, enc: &Encodings) -> Result<Option<Value>> {
    let b = Builder { enc, offset: input.pos };
    let value = match ty {
        TYPE_STRING => {
            let s = input.string()?;
            Value::Str(Str::from_bytes(&s))
        }
        TYPE_LIST => {
            let mut l = b.list();
            for _ in 0..input.count()? {
                l.push(End::Right, &input.string()?, enc.list_fill);
            }
            Value::List(Box::new(l))
        }
        TYPE_SET => {
            let mut s = None;
            for _ in 0..input.count()? {
                b.set_add(&mut s, &input.string()?)?;
            }
            Value::Set(Box::new(s.unwrap_or_default()))
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let mut z = None;
            for _ in 0..input.count()? {
                let m = input.string()?;
                let score = if ty == TYPE_ZSET_2 {
                    input.binary_double()?
                } else {
                    input.text_double()?
                };
                b.zset_add(&mut z, &m, score)?;
            }
            Value::ZSet(z.unwrap_or_default())
        }
        TYPE_HASH => {
            let mut h = Hash::default();
            for _ in 0..input.count()? {
                let f = input.string()?;
                let v = input.string()?;
                b.hash_set(&mut h, &f, &v)?;
            }
            Value::Hash(h)
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let mut l = b.list();
            for _ in 0..input.count()? {
                let container = if ty == TYPE_LIST_QUICKLIST_2 {
                    input.len()?
                } else {
                    QUICKLIST_NODE_PACKED
                };
                let at = input.pos;
                let node = input.string()?;
                let mut push = |e: Entry<'_>| {
                    e.with_bytes(|s| l.push(End::Right, s, enc.list_fill));
                    Ok(())
                };
                match container {
                    QUICKLIST_NODE_PLAIN => push(Entry::Bytes(&node))?,
                    QUICKLIST_NODE_PACKED if ty == TYPE_LIST_QUICKLIST_2 => listpack_entries(&node, at, push)?,
                    QUICKLIST_NODE_PACKED => ziplist_entries(&node, at, push)?,
                    c => return Err(corrupt_at(at, format!("unknown quicklist container {c}"))),
                }
            }
            Value::List(Box::new(l))
        }
        TYPE_LIST_ZIPLIST => {
            let at = input.pos;
            let zl = input.string()?;
            let mut l = b.list();
            ziplist_entries(&zl, at, |e| {
                e.with_bytes(|s| l.push(End::Right, s, enc.list_fill));
                Ok(())
            })?;
            Value::List(Box::new(l))
        }
        TYPE_SET_INTSET => {
            let at = input.pos;
            let is = input.string()?;
            let bad = || corrupt_at(at, "invalid intset");
            if is.len() < 8 {
                return Err(bad());
            }
            let width = u32::from_le_bytes(is[..4].try_into().expect("4 bytes")) as usize;
            let n = u32::from_le_bytes(is[4..8].try_into().expect("4 bytes")) as usize;
            if !matches!(width, 2 | 4 | 8) || n.checked_mul(width).and_then(|b| b.checked_add(8)) != Some(is.len()) {
                return Err(bad());
            }
            let mut s = Some(Set::default());
            for chunk in is[8..].chunks_exact(width) {
                let v = le_int(chunk);
                let added = match s.as_mut() {
                    Some(set) => set.add_member(Member::Int(v), enc.max_intset),
                    None => false,
                };
                if !added {
                    return Err(b.dup("set member"));
                }
            }
            Value::Set(Box::new(s.unwrap_or_default()))
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let at = input.pos;
            let data = input.string()?;
            let mut items: Vec<(Vec<u8>, Option<f64>)> = Vec::new();
            let collect = |e: Entry<'_>| {
                match items.last_mut() {
                    Some((_, score @ None)) => {
                        *score = Some(e.score().ok_or_else(|| corrupt_at(at, "invalid score"))?);
                    }
                    _ => items.push((e.with_bytes(<[u8]>::to_vec), None)),
                }
                Ok(())
            };
            if ty == TYPE_ZSET_LISTPACK {
                listpack_entries(&data, at, collect)?;
            } else {
                ziplist_entries(&data, at, collect)?;
            }
            let mut z = None;
            for (m, score) in items {
                b.zset_add(
                    &mut z,
                    &m,
                    score.ok_or_else(|| corrupt_at(at, "member without a score"))?,
                )?;
            }
            Value::ZSet(z.unwrap_or_default())
        }
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK | TYPE_HASH_ZIPMAP => {
            let at = input.pos;
            let data = input.string()?;
            let mut items: Vec<Vec<u8>> = Vec::new();
            let mut collect = |e: Entry<'_>| {
                items.push(e.with_bytes(<[u8]>::to_vec));
                Ok(())
            };
            match ty {
                TYPE_HASH_LISTPACK => listpack_entries(&data, at, collect)?,
                TYPE_HASH_ZIPLIST => ziplist_entries(&data, at, collect)?,
                _ => zipmap_entries(&data, at, |s| collect(Entry::Bytes(s)))?,
            }
            if !items.len().is_multiple_of(2) {
                return Err(corrupt_at(at, "hash field without a value"));
            }
            let mut h = Hash::default();
            for pair in items.chunks_exact(2) {
                b.hash_set(&mut h, &pair[0], &pair[1])?;
            }
            Value::Hash(h)
        }
        TYPE_MODULE | TYPE_MODULE_2 => {
            return Err(Error::Unsupported {
                offset: input.pos,
                what: "a module data type (no modules are loaded)".into(),
            });
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 => {
            return Err(Error::Unsupported {
                offset: input.pos,
                what: "a stream (the stream type is not supported)".into(),
            });
        }
        t => return Err(input.corrupt(format!("unknown value type {t}"))),
    };
    let empty = match &value {
        Value::Str(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
    };
    Ok((!empty).then_some(value))
}

/// Decodes a DUMP payload (as RESTORE receives it); `Ok(None)` for an empty
/// collection.
///
/// # Errors
/// [`Error::Checksum`] or [`Error::Footer`] when the footer does not
/// match, any other variant when the value is malformed.
pub fn restore_payload(payload: &[u8], enc: &Encodings) -> Result<Option<Value>> {
    if payload.len() < 10 {
        return Err(Error::Footer("payload too short".into()));
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(Error::Footer(format!(
            "RDB version {version} is newer than {RDB_VERSION}"
        )));
    }
    let expected = u64::from_le_bytes(footer[2..].try_into().expect("8 bytes"));
    let actual = crc64::update(0, &payload[..payload.len() - 8]);
    if expected != actual {
        return Err(Error::Checksum { expected, actual });
    }
    let mut input = Input { buf: body, pos: 0 };
    let ty = input.u8()?;
    let value = read_value(&mut input, ty, enc)?;
    if input.pos != body.len() {
        return Err(input.corrupt("trailing bytes after the value"));
    }
    Ok(value)
}

/// What loading a file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Keys stored.
    pub keys: u64,
    /// Keys skipped because their expiry time had passed.
    pub expired: u64,
    /// Empty collections skipped.
    pub empty: u64,
    /// The file's RDB version.
    pub version: u16,
    /// Aux fields, in file order.
    pub aux: Vec<(String, String)>,
}

/// Loads a whole RDB file into `dbs` (which should be empty), discarding
/// keys whose expiry is before `access.now_ms`; keys get the access stamp of
/// a new key.
///
/// # Errors
/// On malformed data, a checksum mismatch (when `verify_checksum`), a
/// database index beyond `dbs`, bytes after the end, or content this server
/// cannot hold.
pub fn load(data: &[u8], dbs: &mut [Db], enc: &Encodings, access: &Access, verify_checksum: bool) -> Result<LoadStats> {
    let mut loader = Loader::new(data)?;
    while !loader.step(dbs, enc, access, verify_checksum, usize::MAX, 0)? {}
    loader.finish()
}

/// An RDB load in steps, so that the server can serve clients between them
/// (the start-up load): [`Loader::step`] loads up to a position of the
/// input. The RDB may be followed by other data (an AOF after its RDB
/// preamble); [`Loader::pos`] tells where it ended.
#[derive(Debug)]
pub struct Loader<'a> {
    input: Input<'a>,
    db: usize,
    expire: Option<i64>,
    /// What was loaded so far.
    pub stats: LoadStats,
}

impl<'a> Loader<'a> {
    /// Reads the header of the RDB at the start of `data`.
    ///
    /// # Errors
    /// When `data` does not start with an RDB header of a version this
    /// server reads.
    pub fn new(data: &'a [u8]) -> Result<Loader<'a>> {
        let mut input = Input { buf: data, pos: 0 };
        let magic = input.take(9)?;
        if &magic[..5] != b"REDIS" {
            return Err(corrupt_at(0, "wrong signature (not an RDB file)"));
        }
        let version: u16 = std::str::from_utf8(&magic[5..])
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|v| (1..=RDB_VERSION).contains(v))
            .ok_or_else(|| corrupt_at(5, "unsupported RDB version"))?;
        Ok(Loader {
            input,
            db: 0,
            expire: None,
            stats: LoadStats {
                version,
                ..LoadStats::default()
            },
        })
    }

    /// Where the input has been read up to.
    pub fn pos(&self) -> usize {
        self.input.pos
    }

    /// The statistics of a whole file that has been loaded.
    ///
    /// # Errors
    /// When bytes follow the end of the RDB.
    pub fn finish(self) -> Result<LoadStats> {
        if self.input.pos != self.input.buf.len() {
            return Err(self.input.corrupt("trailing bytes after the end of the file"));
        }
        Ok(self.stats)
    }

    /// Loads entries until the input is read past `until` or the RDB ends;
    /// returns whether it ended (the EOF opcode and the checksum read).
    /// Sleeps `key_delay` microseconds after each key (`key-load-delay`,
    /// see [`key_delay`]).
    ///
    /// # Errors
    /// As [`load`].
    pub fn step(
        &mut self,
        dbs: &mut [Db],
        enc: &Encodings,
        access: &Access,
        verify_checksum: bool,
        until: usize,
        key_delay_us: i32,
    ) -> Result<bool> {
        let input = &mut self.input;
        let stats = &mut self.stats;
        while input.pos <= until {
            let op = input.u8()?;
            match op {
                OP_EXPIRETIME_MS => self.expire = Some(i64::from_le_bytes(input.array()?)),
                OP_EXPIRETIME => self.expire = Some(i64::from(i32::from_le_bytes(input.array()?)) * 1000),
                // Idle time and frequency are advisory: a loaded key starts fresh.
                OP_IDLE => {
                    input.len()?;
                }
                OP_FREQ => {
                    input.u8()?;
                }
                OP_SELECTDB => {
                    let n = input.len()?;
                    self.db = usize::try_from(n)
                        .ok()
                        .filter(|&n| n < dbs.len())
                        .ok_or_else(|| Error::Unsupported {
                            offset: input.pos,
                            what: format!(
                                "database {n}, but this server is configured with {} databases",
                                dbs.len()
                            ),
                        })?;
                }
                OP_RESIZEDB => {
                    input.len()?;
                    input.len()?;
                }
                OP_AUX => {
                    let k = input.string()?;
                    let v = input.string()?;
                    stats.aux.push((
                        String::from_utf8_lossy(&k).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    ));
                }
                OP_MODULE_AUX => {
                    return Err(Error::Unsupported {
                        offset: input.pos,
                        what: "module auxiliary data (no modules are loaded)".into(),
                    });
                }
                OP_FUNCTION | OP_FUNCTION2 => {
                    return Err(Error::Unsupported {
                        offset: input.pos,
                        what: "a function library (functions are not supported)".into(),
                    });
                }
                OP_EOF => {
                    if stats.version >= 5 {
                        let body_end = input.pos;
                        let expected = u64::from_le_bytes(input.array()?);
                        if verify_checksum && expected != 0 {
                            let actual = crc64::update(0, &input.buf[..body_end]);
                            if actual != expected {
                                return Err(Error::Checksum { expected, actual });
                            }
                        }
                    }
                    return Ok(true);
                }
                ty => {
                    let key = input.string()?;
                    let value = read_value(input, ty, enc)?;
                    let at = self.expire.take();
                    key_delay(key_delay_us);
                    let Some(value) = value else {
                        stats.empty += 1;
                        continue;
                    };
                    if at.is_some_and(|at| at < access.now_ms) {
                        stats.expired += 1;
                        continue;
                    }
                    let db = &mut dbs[self.db];
                    if db.keys().contains_key(&key) {
                        return Err(corrupt_at(
                            input.pos,
                            format!("duplicate key '{}'", String::from_utf8_lossy(&key)),
                        ));
                    }
                    db.put_entry(&key, Object::new(value, access.new_stamp()), at);
                    stats.keys += 1;
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc() -> Encodings {
        Encodings::from_config(&crate::config::Config::default())
    }

    #[test]
    fn g17_matches_printf() {
        for (x, want) in [
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (1e300, "1.0000000000000001e+300"),
            (123456789.0, "123456789"),
            (1e-5, "1.0000000000000001e-05"),
            (-2.5e-3, "-0.0025000000000000001"),
            (1e17, "1e+17"),
            (3.0, "3"),
        ] {
            assert_eq!(format_g17(x), want, "{x}");
        }
    }

    #[test]
    fn strings_use_int_and_lzf_encodings() {
        let mut out = Vec::new();
        write_string(&mut out, b"12", true);
        assert_eq!(out, [0xc0, 12]);
        out.clear();
        write_string(&mut out, b"-300", true);
        assert_eq!(out, [0xc1, 0xd4, 0xfe]);
        out.clear();
        write_string(&mut out, &[b'a'; 100], true);
        assert_eq!(out[0], 0xc3);
        let mut input = Input { buf: &out, pos: 0 };
        assert_eq!(&*input.string().expect("valid"), &[b'a'; 100][..]);
    }

    #[test]
    fn listpack_round_trips_every_entry_kind() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let items: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-4096",
            "4095",
            "-32768",
            "8388607",
            "-2147483648",
            "9223372036854775807",
            "",
            "abc",
            "01",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([long, mid])
        .collect();
        let mut w = ListpackWriter::new();
        for i in &items {
            w.push(i);
        }
        let lp = w.finish();
        let mut got = Vec::new();
        listpack_entries(&lp, 0, |e| {
            got.push(e.with_bytes(<[u8]>::to_vec));
            Ok(())
        })
        .expect("valid listpack");
        assert_eq!(got, items);
    }

    #[test]
    fn values_round_trip_through_dump_payloads() {
        let e = enc();
        let mut list = List::new();
        for i in 0..2000 {
            list.push(End::Right, format!("item-{i}").as_bytes(), e.list_fill);
        }
        let mut small_hash = Hash::default();
        small_hash.set(b"f", b"v", e.hash);
        let mut big_hash = Hash::default();
        for i in 0..300 {
            big_hash.set(format!("f{i}").as_bytes(), b"v", e.hash);
        }
        let mut ints = Set::default();
        ints.add(b"-70000", e.max_intset);
        ints.add(b"5", e.max_intset);
        let mut strs = Set::default();
        strs.add(b"a", e.max_intset);
        let mut small_z = ZSet::default();
        let mut big_z = ZSet::default();
        for i in 0..200 {
            let m = format!("m{i}");
            let s = f64::from(i) / 3.0;
            if i < 5 {
                small_z
                    .add(m.as_bytes(), s, AddFlags::default(), e.zset)
                    .expect("not NaN");
            }
            big_z
                .add(m.as_bytes(), s, AddFlags::default(), e.zset)
                .expect("not NaN");
        }
        let values = [
            Value::Str(Str::Int(-5)),
            Value::Str(Str::Int(i64::MAX)),
            Value::Str(Str::from_bytes(&[b'q'; 1000])),
            Value::List(Box::new(list)),
            Value::Hash(small_hash),
            Value::Hash(big_hash),
            Value::Set(Box::new(ints)),
            Value::Set(Box::new(strs)),
            Value::ZSet(small_z),
            Value::ZSet(big_z),
        ];
        for v in &values {
            let payload = dump_payload(v, true);
            let back = restore_payload(&payload, &e).expect("decodes").expect("not empty");
            assert_eq!(back.encoding(), v.encoding());
            assert_eq!(dump_payload(&back, true), payload, "{}", v.type_name());
        }
    }

    /// A small file with every type, for the corruption tests.
    fn small_file() -> Vec<u8> {
        let e = enc();
        let access = Access {
            now_ms: 0,
            lru_clock: 0,
            delete_expired: true,
            expired_visible: false,
            touch: true,
            lfu: None,
        };
        let mut db = Db::new();
        let mut list = List::new();
        list.push(End::Right, b"a", e.list_fill);
        list.push(End::Right, b"12", e.list_fill);
        let mut h = Hash::default();
        h.set(b"f", b"v", e.hash);
        let mut s = Set::default();
        s.add(b"7", e.max_intset);
        let mut strs = Set::default();
        strs.add(b"x", e.max_intset);
        let mut z = ZSet::default();
        z.add(b"m", 1.5, AddFlags::default(), e.zset).expect("not NaN");
        db.put_entry(
            b"s",
            Object::new(Value::Str(Str::from_bytes(&[b'a'; 40])), 0),
            Some(i64::MAX / 2),
        );
        db.put_entry(b"l", Object::new(Value::List(Box::new(list)), 0), None);
        db.put_entry(b"h", Object::new(Value::Hash(h), 0), None);
        db.put_entry(b"i", Object::new(Value::Set(Box::new(s)), 0), None);
        db.put_entry(b"t", Object::new(Value::Set(Box::new(strs)), 0), None);
        db.put_entry(b"z", Object::new(Value::ZSet(z), 0), None);
        let opts = SaveOptions {
            compress: true,
            checksum: true,
            aux: vec![("redis-ver", "7.0.15".into())],
            key_save_delay: 0,
        };
        let mut out = Vec::new();
        write_rdb(&mut out, std::slice::from_ref(&db), &opts).expect("in memory");
        let mut dbs = vec![Db::new()];
        let stats = load(&out, &mut dbs, &e, &access, true).expect("loads");
        assert_eq!(stats.keys, 6);
        out
    }

    #[test]
    fn truncated_and_flipped_files_are_errors_not_panics() {
        let e = enc();
        let access = Access {
            now_ms: 0,
            lru_clock: 0,
            delete_expired: true,
            expired_visible: false,
            touch: true,
            lfu: None,
        };
        let file = small_file();
        for cut in 0..file.len() {
            let mut dbs = vec![Db::new()];
            assert!(load(&file[..cut], &mut dbs, &e, &access, true).is_err(), "cut at {cut}");
        }
        let mut flipped_ok = 0;
        for at in 0..file.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = file.clone();
                bad[at] ^= mask;
                let mut dbs = vec![Db::new()];
                // With the checksum every flip is caught; without it the
                // parser itself must reject or survive the damage.
                assert!(load(&bad, &mut dbs, &e, &access, true).is_err(), "flip at {at}");
                let mut dbs = vec![Db::new()];
                flipped_ok += usize::from(load(&bad, &mut dbs, &e, &access, false).is_ok());
            }
        }
        // Some flips only change a value's bytes, which the format cannot see.
        assert!(flipped_ok < file.len() * 3);
    }

    #[test]
    fn reads_legacy_ziplist_and_zipmap_encodings() {
        let e = enc();
        // A ziplist of "ab", 5 (4-bit immediate), 300 (int16), as Redis 6 wrote.
        let mut zl = vec![0u8; 10];
        zl.extend_from_slice(&[0, 2, b'a', b'b']);
        zl.extend_from_slice(&[4, 0xf6]);
        zl.extend_from_slice(&[2, 0xc0, 0x2c, 0x01]);
        zl.push(0xff);
        let n = zl.len() as u32;
        zl[..4].copy_from_slice(&n.to_le_bytes());
        zl[8..10].copy_from_slice(&3u16.to_le_bytes());
        let mut got = Vec::new();
        ziplist_entries(&zl, 0, |x| {
            got.push(x.with_bytes(<[u8]>::to_vec));
            Ok(())
        })
        .expect("valid ziplist");
        assert_eq!(got, [b"ab".to_vec(), b"5".to_vec(), b"300".to_vec()]);
        // A hash as a zipmap: {"k": "val"} with one free byte.
        let zm = [1u8, 1, b'k', 3, 1, b'v', b'a', b'l', 0, 0xff];
        let mut payload = vec![TYPE_HASH_ZIPMAP];
        write_string(&mut payload, &zm, false);
        let mut input = Input {
            buf: &payload[1..],
            pos: 0,
        };
        let v = read_value(&mut input, TYPE_HASH_ZIPMAP, &e)
            .expect("valid")
            .expect("not empty");
        let Value::Hash(h) = v else { panic!("a hash") };
        assert_eq!(h.get(b"k"), Some(&b"val"[..]));
    }

    #[test]
    fn corrupt_payloads_are_errors() {
        let e = enc();
        let payload = dump_payload(&Value::Str(Str::from_bytes(b"hello world")), true);
        let mut bad = payload.clone();
        bad[3] ^= 1;
        assert!(matches!(restore_payload(&bad, &e), Err(Error::Checksum { .. })));
        assert!(restore_payload(&payload[..5], &e).is_err());
    }
}
