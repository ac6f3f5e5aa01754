//! LZF, the compression of long strings in RDB files: a decompressor for
//! anything a valid LZF stream holds, and a compressor whose output any LZF
//! decompressor (Redis's included) reads.
//!
//! A stream is a sequence of runs: a control byte below 32 is a literal run
//! of `ctrl + 1` bytes; otherwise its top 3 bits are a match length − 2 (7
//! meaning "add the next byte") and the low 5 bits with the next byte are
//! the match distance − 1 (up to 8 KiB back).

const MAX_LITERAL: usize = 32;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Largest hash table (entries) of the compressor; short inputs use a
/// table about their own size, so that compressing a short string stays cheap.
const HASH_BITS_MAX: u32 = 14;

/// Why a stream could not be decompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid LZF data")]
pub struct Invalid;

/// Decompresses `input` into exactly `len` bytes.
///
/// # Errors
/// When the stream is malformed or does not produce exactly `len` bytes.
pub fn decompress(input: &[u8], len: usize) -> Result<Vec<u8>, Invalid> {
    let mut out = Vec::with_capacity(len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run).ok_or(Invalid)?;
            if out.len() + run > len {
                return Err(Invalid);
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += usize::from(*input.get(ip).ok_or(Invalid)?);
                ip += 1;
            }
            n += 2;
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip).ok_or(Invalid)?) + 1;
            ip += 1;
            if back > out.len() || out.len() + n > len {
                return Err(Invalid);
            }
            let from = out.len() - back;
            for i in 0..n {
                let b = out[from + i];
                out.push(b);
            }
        }
    }
    if out.len() == len { Ok(out) } else { Err(Invalid) }
}

fn hash(b: &[u8], bits: u32) -> usize {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - bits)) as usize
}

/// Compresses `input`; `None` when the result would not be shorter than
/// `limit` bytes (Redis stores such strings uncompressed).
pub fn compress(input: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(limit);
    let bits = input.len().next_power_of_two().trailing_zeros().clamp(6, HASH_BITS_MAX);
    let mut table = vec![0u32; 1 << bits];
    let mut lit_start = 0;
    let mut ip = 0;
    let flush_literals = |out: &mut Vec<u8>, lits: &[u8]| {
        for chunk in lits.chunks(MAX_LITERAL) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    while ip + 2 < input.len() {
        let h = hash(&input[ip..], bits);
        // Entries are stored +1 so that 0 means "empty".
        let cand = table[h] as usize;
        // Positions past 4 GiB are not indexed (such strings are not
        // compressed as well, never wrongly).
        table[h] = u32::try_from(ip + 1).unwrap_or(0);
        if cand > 0 && cand <= ip {
            let r = cand - 1;
            let off = ip - r - 1;
            if off < MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                let max = MAX_REF.min(input.len() - ip);
                let mut n = 3;
                while n < max && input[r + n] == input[ip + n] {
                    n += 1;
                }
                flush_literals(&mut out, &input[lit_start..ip]);
                let l = n - 2;
                if l < 7 {
                    out.push(((l << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((l - 7) as u8);
                }
                out.push((off & 0xff) as u8);
                ip += n;
                lit_start = ip;
                if out.len() >= limit {
                    return None;
                }
                continue;
            }
        }
        ip += 1;
    }
    flush_literals(&mut out, &input[lit_start..]);
    (out.len() < limit).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut rng = 12345u64;
        for len in [0usize, 1, 3, 20, 100, 1000, 70_000] {
            for kind in 0..3 {
                let data: Vec<u8> = (0..len)
                    .map(|i| match kind {
                        0 => b'a',
                        1 => (i % 37) as u8,
                        _ => {
                            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                            (rng >> 56) as u8
                        }
                    })
                    .collect();
                if let Some(c) = compress(&data, len + 64) {
                    assert_eq!(decompress(&c, len).expect("valid"), data, "len {len} kind {kind}");
                }
            }
        }
        let a = vec![b'a'; 1000];
        assert!(compress(&a, 996).expect("compressible").len() < 30);
    }

    #[test]
    fn rejects_bad_streams() {
        assert_eq!(decompress(&[0x20, 0x00], 3), Err(Invalid)); // back-reference before the start
        assert_eq!(decompress(&[5, b'a'], 6), Err(Invalid)); // short literal
        assert_eq!(decompress(&[0, b'a'], 2), Err(Invalid)); // wrong length
    }
}
