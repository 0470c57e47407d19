//! The `WRK-Signature` header of platform webhooks: any header value over any body. Never panics;
//! only a header that really signs the body with one of the secrets within the tolerance verifies,
//! and a header the sender makes for the body always does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wrk_core::signature::{DEFAULT_TOLERANCE_SECS, SignatureError, sign, verify};

const NOW: i64 = 1_800_000_000;
const SECRET: &[u8] = b"whsec_fuzz";

fuzz_target!(|data: &[u8]| {
    // The first line is the header, the rest the body.
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    let got = verify(&[SECRET], Some(header), body, NOW, DEFAULT_TOLERANCE_SECS);
    if got.is_ok() {
        // A forgery would need the HMAC: only the sender's own header for this body passes, so
        // the header must carry a v1 that equals the real signature at its own time.
        let t: i64 = header
            .split(',')
            .find_map(|p| p.trim().strip_prefix("t="))
            .and_then(|t| t.parse().ok())
            .expect("an accepted header has a time");
        let real = sign(SECRET, t, body);
        let v1 = real.split_once(",v1=").unwrap().1;
        assert!(header.contains(v1), "{header:?} verified without the HMAC");
        assert!((NOW - t).abs() <= DEFAULT_TOLERANCE_SECS);
    }
    assert_eq!(
        verify(&[SECRET], None, body, NOW, DEFAULT_TOLERANCE_SECS),
        Err(SignatureError::Missing)
    );
    let own = sign(SECRET, NOW, body);
    assert_eq!(verify(&[SECRET], Some(&own), body, NOW, DEFAULT_TOLERANCE_SECS), Ok(()));
});
