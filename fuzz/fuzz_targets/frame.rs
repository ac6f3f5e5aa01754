//! Fuzzes `resp::FrameDecoder`: arbitrary bytes, split into arbitrary
//! chunks, must never panic and must decode to the same frames (and fail at
//! the same point) as when fed in one piece. Every decoded frame must
//! re-encode to bytes that decode back to the same encoding, in all three
//! encodings (native, RESP2, RESP3).
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use resp::{Frame, FrameDecoder, Limits};

/// Frames as their encodings (NaN doubles make `Frame` itself non-`Eq`).
fn run(input: &[u8], new: &dyn Fn() -> FrameDecoder, chunks: &mut dyn FnMut() -> usize) -> (Vec<Bytes>, bool) {
    let mut decoder = new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut fed = 0;
    loop {
        loop {
            match decoder.next_frame(&mut buf) {
                Ok(Some(frame)) => frames.push(frame.to_bytes()),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
        if fed == input.len() {
            return (frames, false);
        }
        let n = chunks().clamp(1, input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
    }
}

fn decode_exactly_one(bytes: &[u8], max_depth: usize) -> Frame {
    let mut buf = BytesMut::from(bytes);
    let frame = FrameDecoder::new()
        .with_max_depth(max_depth)
        .next_frame(&mut buf)
        .expect("re-encoded frame decodes")
        .expect("re-encoded frame is complete");
    assert!(buf.is_empty(), "re-encoded frame is consumed exactly");
    frame
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&seed, input)) = rest.split_first() else {
        return;
    };
    let max_depth = 1 + (flags as usize & 7);
    let small = flags & 8 != 0;
    let new = move || {
        let decoder = if small {
            FrameDecoder::with_limits(Limits {
                max_bulk_len: 16,
                max_multibulk_len: 8,
                max_inline_len: 16,
            })
        } else {
            FrameDecoder::new()
        };
        decoder.with_max_depth(max_depth)
    };

    let whole = run(input, &new, &mut || usize::MAX);
    assert_eq!(whole, run(input, &new, &mut || 1));
    let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let max = 1 + (flags as usize >> 4);
    let mut chunks = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        1 + (state % max as u64) as usize
    };
    assert_eq!(whole, run(input, &new, &mut chunks));

    // The stateless form (default limits, deeper nesting) agrees on the
    // first frame.
    if !small && let Some(first) = whole.0.first() {
        let frame = FrameDecoder::decode(&mut BytesMut::from(input))
            .expect("stateless decode succeeds")
            .expect("stateless decode completes");
        assert_eq!(&frame.to_bytes(), first);
    }

    for encoded in &whole.0 {
        let frame = decode_exactly_one(encoded, max_depth);
        assert_eq!(&frame.to_bytes(), encoded);
        for resp3 in [false, true] {
            let mut out = BytesMut::new();
            frame.encode_as(&mut out, resp3);
            decode_exactly_one(&out, max_depth);
        }
    }
});
