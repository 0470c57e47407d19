//! Host-header routing: any `Host` value against a few base domains. Never panics, and what it
//! names obeys the routing rules: a slug is one non-empty label, and the answer ignores the port
//! and ASCII case.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wrk_core::host::{HostMatch, classify, host_only};
use wrk_core::slug::Slug;

fuzz_target!(|data: &[u8]| {
    let Ok(host) = std::str::from_utf8(data) else {
        return;
    };
    for base in ["localhost", "wrk.example.com", "127.0.0.1"] {
        let found = classify(host, base);
        if let HostMatch::Slug(label) = &found {
            assert!(
                !label.is_empty() && !label.contains('.'),
                "{host:?} -> {label:?}"
            );
            // The router parses the label before any lookup; it must never panic either.
            let _ = Slug::parse(label);
        }
        let name = host_only(host);
        assert!(host.starts_with(name), "{host:?} -> {name:?}");
        assert_eq!(
            classify(name, base),
            found,
            "the port changes nothing: {host:?}"
        );
        assert_eq!(
            classify(&host.to_ascii_uppercase(), base),
            found,
            "ASCII case changes nothing: {host:?}"
        );
    }
});
