//! Blueprint input rules (`wrk_core::blueprint`): any JSON document, however deep or large, is
//! measured and either accepted or refused with a reason, never a panic or a stack overflow; the
//! readers the quote and the pages use never panic on what was accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wrk_core::blueprint::{self, BoundsError, MAX_BYTES, MAX_DEPTH};

fuzz_target!(|data: &[u8]| {
    // serde_json's own recursion limit (128) stops the parse first on very deep input; the
    // rules below must hold for whatever it accepts.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let depth = blueprint::depth(&value);
    match blueprint::check_bounds(&value) {
        Ok(()) => {
            assert!(depth <= MAX_DEPTH);
            assert!(serde_json::to_vec(&value).unwrap().len() <= MAX_BYTES);
            let _ = blueprint::monthly_runs(&value);
            let _ = blueprint::system_names(&value);
            let _ = blueprint::is_present(&value);
        }
        Err(BoundsError::TooDeep) => assert!(depth > MAX_DEPTH),
        Err(BoundsError::TooLarge { bytes }) => assert!(bytes > MAX_BYTES),
    }
});
