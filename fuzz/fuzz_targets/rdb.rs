//! The RDB loader and RESTORE payload decoder on arbitrary bytes: any input
//! must give a value or an error, never a panic. The checksum is not
//! verified for files, so that mutations reach the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_node::config::Config;
use tessera_node::keyspace::{Access, Db};
use tessera_node::persistence::rdb::{self, Encodings};

fuzz_target!(|data: &[u8]| {
    let enc = Encodings::from_config(&Config::default());
    let access = Access {
        now_ms: 0,
        lru_clock: 0,
        delete_expired: true,
        expired_visible: false,
        touch: true,
        lfu: None,
    };
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
    let _ = rdb::load(data, &mut dbs, &enc, &access, false);
    // As a DUMP payload, with a valid footer appended so that the value
    // decoder runs too.
    let _ = rdb::restore_payload(data, &enc);
    let mut payload = data.to_vec();
    payload.extend_from_slice(&rdb::RDB_VERSION.to_le_bytes());
    let crc = tessera_node::persistence::crc64::update(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let _ = rdb::restore_payload(&payload, &enc);
});
