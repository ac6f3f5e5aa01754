//! Fuzzes `resp::RequestDecoder`: arbitrary bytes, split into arbitrary
//! chunks, must never panic and must decode to the same commands (and the
//! same error) as when fed in one piece. Decoded commands, re-encoded as
//! multibulk requests, must decode back to themselves.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use resp::{Limits, ProtocolError, RequestDecoder};

type Outcome = (Vec<Vec<Bytes>>, Option<ProtocolError>);

fn run(input: &[u8], limits: &Limits, authenticated: bool, chunks: &mut dyn FnMut() -> usize) -> Outcome {
    let mut decoder = RequestDecoder::new(limits.clone());
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    let mut fed = 0;
    loop {
        loop {
            match decoder.decode(&mut buf, authenticated) {
                Ok(Some(args)) => {
                    assert!(!args.is_empty(), "empty commands are skipped");
                    commands.push(args);
                }
                Ok(None) => break,
                Err(e) => return (commands, Some(e)),
            }
        }
        assert!(decoder.query_buffer_len(&buf) <= input.len());
        if fed == input.len() {
            return (commands, None);
        }
        let n = chunks().clamp(1, input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&seed, input)) = rest.split_first() else {
        return;
    };
    let authenticated = flags & 1 == 0;
    let limits = if flags & 2 == 0 {
        Limits::default()
    } else {
        Limits {
            max_bulk_len: 64,
            max_multibulk_len: 16,
            max_inline_len: 32,
        }
    };

    let whole = run(input, &limits, authenticated, &mut || usize::MAX);
    let bytewise = run(input, &limits, authenticated, &mut || 1);
    assert_eq!(whole, bytewise);
    let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let max = 1 + (flags as usize >> 2);
    let mut chunks = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        1 + (state % max as u64) as usize
    };
    let random = run(input, &limits, authenticated, &mut chunks);
    assert_eq!(whole, random);

    // Re-encode as multibulk and decode again.
    let mut encoded = BytesMut::new();
    for args in &whole.0 {
        resp::encode::array_len(&mut encoded, args.len());
        for arg in args {
            resp::encode::bulk(&mut encoded, arg);
        }
    }
    let again = run(&encoded, &Limits::default(), true, &mut || usize::MAX);
    assert_eq!(again, (whole.0, None));
});
