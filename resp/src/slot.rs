//! Redis Cluster key hashing: this module owns [`key_slot`] and [`SLOTS`].
//!
//! A key's slot is `CRC16-XMODEM(key) mod 16384`, where only the hash tag
//! is hashed when the key has one: the bytes between the first `{` and the
//! first `}` after it, provided there is at least one byte between them.

/// Number of hash slots in a Redis Cluster.
pub const SLOTS: u16 = 16384;

/// The cluster hash slot of `key`, as `CLUSTER KEYSLOT` computes it.
#[inline]
pub fn key_slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key)) & (SLOTS - 1)
}

/// The part of `key` that is hashed: the non-empty `{tag}` if any, else the
/// whole key.
#[inline]
fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = memchr::memchr(b'{', key) {
        let rest = &key[open + 1..];
        if let Some(close) = memchr::memchr(b'}', rest)
            && close > 0
        {
            return &rest[..close];
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slots reported by redis-server 7.0.15 (`--cluster-enabled yes`) for
    /// `CLUSTER KEYSLOT <key>`, the keys sent as binary-safe bulk strings.
    const REDIS_KEYSLOT: &[(&[u8], u16)] = &[
        (b"", 0),
        (b"{}", 15257),
        (b"{}{a}", 13650),
        (b"a{b}c", 3300),
        (b"{a", 10276),
        (b"}{a}", 15495),
        (b"{a}", 15495),
        (b"a", 15495),
        (b"foo", 12182),
        (b"bar", 5061),
        (b"{user1000}.following", 3443),
        (b"{user1000}.followers", 3443),
        (b"foo{}{bar}", 8363),
        (b"foo{{bar}}zap", 4015),
        (b"foo{bar}{zap}", 5061),
        (b"{", 4092),
        (b"}", 12090),
        (b"{{}}", 4092),
        (b"{{a}}", 10276),
        (b"a{}b", 13694),
        (b"a}b{c}", 7365),
        (b"\x00", 0),
        (b"\xff\xfe\x00{\x01}", 4129),
        (b"123456789", 12739),
        (b"hello world", 15332),
        (b"{a}{b}", 15495),
        (b"{}a", 10875),
        (b"a{", 14311),
        (b"{ }", 9314),
        (b"\r\n", 5910),
        (b"key:000001", 5493),
        (b"\xe4\xbd\xa0\xe5\xa5\xbd", 14231),
        (b"{\x00}", 0),
        (b"{\xff}zz", 7920),
    ];

    #[test]
    fn matches_redis_cluster_keyslot() {
        for &(key, slot) in REDIS_KEYSLOT {
            assert_eq!(key_slot(key), slot, "{:?}", String::from_utf8_lossy(key));
        }
        // 100 'x' characters: 2134 as well.
        assert_eq!(key_slot(&[b'x'; 100]), 2134);
    }

    #[test]
    fn slots_are_in_range_and_tags_group_keys() {
        for i in 0..10_000u32 {
            assert!(key_slot(format!("key:{i}").as_bytes()) < SLOTS);
        }
        assert_eq!(key_slot(b"{tag}one"), key_slot(b"{tag}two"));
        assert_eq!(key_slot(b"x{tag}"), key_slot(b"tag"));
    }
}
