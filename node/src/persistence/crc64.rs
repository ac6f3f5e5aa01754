//! Redis's CRC-64 (Jones polynomial `0xad93d23594c935a9`, reflected, initial
//! value 0, no final xor): the checksum at the end of an RDB file and of a
//! DUMP payload.

/// The reflected polynomial.
const POLY: u64 = 0x95ac_9329_ac4b_c9b5;

const TABLE: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Continues the checksum `crc` over `bytes` (start with 0).
pub fn update(mut crc: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        crc = TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_redis_check_value() {
        // The value of Redis's own `crc64` self-test.
        assert_eq!(super::update(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        let split = super::update(super::update(0, b"1234"), b"56789");
        assert_eq!(split, 0xe9c6_d914_c4b8_d9ca);
    }
}
