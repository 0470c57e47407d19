//! Secrets handed to clients: one-time tokens, refresh tokens, handoff codes and API keys. All are
//! 32 random bytes from the OS, base62-encoded; only their SHA-256 is stored
//! ([`wrk_tenants::identity::token_hash`]).

use ring::rand::{SecureRandom, SystemRandom};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the operating system's random source works");
    buf
}

/// Big-endian base62 of `bytes`, left-padded with `0` to the length of the largest value.
pub fn base62(bytes: &[u8]) -> String {
    // 256 bits need 43 base62 digits; in general ceil(bits * log(2) / log(62)).
    let width = (bytes.len() * 8 * 1000).div_ceil(5954);
    let mut num = bytes.to_vec();
    let mut out = Vec::with_capacity(width);
    while num.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in &mut num {
            let acc = (rem << 8) | u32::from(*b);
            *b = u8::try_from(acc / 62).unwrap_or(0);
            rem = acc % 62;
        }
        out.push(ALPHABET[rem as usize]);
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).expect("base62 is ASCII")
}

/// A fresh opaque token (43 base62 characters).
pub fn token() -> String {
    base62(&random_bytes::<32>())
}

/// The prefix every API key starts with; how the server tells a key from a JWT.
pub const API_KEY_PREFIX: &str = "wrk_";

/// A fresh API key, `wrk_` + base62 of 32 random bytes, and its displayable prefix.
pub fn api_key() -> (String, String) {
    let key = format!("{API_KEY_PREFIX}{}", token());
    let prefix = key[..API_KEY_PREFIX.len() + 8].to_owned();
    (key, prefix)
}

/// Constant-time equality for secrets compared in memory (CSRF tokens).
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_is_fixed_width_and_distinct() {
        assert_eq!(base62(&[0u8; 32]).len(), 43);
        assert_eq!(base62(&[255u8; 32]).len(), 43);
        assert_eq!(base62(&[0, 61]), "00Z".replace('Z', "z"));
        let (key, prefix) = api_key();
        assert!(key.starts_with("wrk_") && key.len() == 47 && key.starts_with(&prefix));
        assert_ne!(token(), token());
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
