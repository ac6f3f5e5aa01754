//! INFO through the proxy: the first shard's report with the `# Keyspace`
//! section replaced by the sum over every shard. Pure text work.

use std::collections::BTreeMap;

use bytes::Bytes;
use resp::Frame;

fn text(frame: &Frame) -> Option<&[u8]> {
    match frame {
        Frame::Bulk(t) | Frame::Verbatim { text: t, .. } => Some(t),
        _ => None,
    }
}

/// Joins the shards' INFO replies (all non-errors).
pub fn merge(frames: Vec<Frame>) -> Frame {
    // db name -> (keys, expires, avg_ttl of the first shard that has one)
    let mut keyspace: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for frame in &frames {
        let Some(t) = text(frame) else { continue };
        for line in String::from_utf8_lossy(t).lines() {
            let Some((db, fields)) = line.split_once(':') else {
                continue;
            };
            if !db.starts_with("db") || !db[2..].chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let entry = keyspace.entry(db.to_owned()).or_default();
            for field in fields.split(',') {
                match field.split_once('=') {
                    Some(("keys", n)) => entry.0 += n.parse::<u64>().unwrap_or(0),
                    Some(("expires", n)) => entry.1 += n.parse::<u64>().unwrap_or(0),
                    Some(("avg_ttl", n)) if entry.2 == 0 => entry.2 = n.parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
    }
    let Some(first) = frames.first() else {
        return Frame::Null;
    };
    let Some(first_text) = text(first) else {
        return first.clone();
    };
    let mut out = String::new();
    let mut in_keyspace = false;
    for line in String::from_utf8_lossy(first_text).split("\r\n") {
        if line.starts_with('#') {
            in_keyspace = line.trim() == "# Keyspace";
            out.push_str(line);
            out.push_str("\r\n");
            if in_keyspace {
                for (db, (keys, expires, ttl)) in &keyspace {
                    out.push_str(&format!("{db}:keys={keys},expires={expires},avg_ttl={ttl}\r\n"));
                }
            }
            continue;
        }
        if in_keyspace && line.starts_with("db") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    // split adds one terminator too many at the end
    if first_text.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
    let text = Bytes::from(out);
    match first {
        Frame::Verbatim { format, .. } => Frame::Verbatim { format: *format, text },
        _ => Frame::Bulk(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_is_summed() {
        let a = Frame::Bulk(Bytes::from(
            "# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=5\r\n",
        ));
        let b = Frame::Bulk(Bytes::from(
            "# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\n",
        ));
        let Frame::Bulk(t) = merge(vec![a, b]) else {
            panic!("bulk")
        };
        assert_eq!(
            t,
            Bytes::from("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=5\r\n")
        );
    }
}
