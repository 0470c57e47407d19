//! The `WRK-Signature` scheme that signs webhooks both ways between the product and the WRK
//! Platform: inbound run and credential events (`POST /webhooks/platform`, flow 27) and outbound
//! deploy, pause and resume events (`WRK_PLATFORM_URL`).
//!
//! The header is `WRK-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the HMAC is taken
//! with the shared secret over `<t>.<raw body>`, the same shape as Stripe's. A header may carry
//! several `v1=` values (a sender mid-rotation); a request is genuine when any of them matches any
//! of the receiver's current secrets. The comparison is constant-time (`ring::hmac::verify`), and
//! the timestamp must be within the tolerance of the receiver's clock either way, so a captured
//! request cannot be replayed later.
//!
//! Pure: the caller passes the time in.

use ring::hmac;

/// The header's name.
pub const HEADER: &str = "WRK-Signature";

/// The default tolerance between the signature's time and the receiver's clock (5 minutes).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a request's signature was refused. For the sender's operator only: the HTTP answer is the
/// same `invalid_signature` for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no signature")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's time is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    ctx.sign()
}

/// The header value that signs `body` at unix time `t` with `secret`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body).as_ref()))
}

/// The parts of a header value: its time and its `v1` signatures (other schemes are ignored).
fn parse(header: &str) -> Result<(i64, Vec<Vec<u8>>), SignatureError> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match k {
            "t" => {
                if t.is_some() {
                    return Err(SignatureError::Malformed);
                }
                let secs = v.parse::<i64>().map_err(|_| SignatureError::Malformed)?;
                t = Some(secs);
            }
            "v1" => v1.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    match (t, v1.is_empty()) {
        (Some(t), false) => Ok((t, v1)),
        _ => Err(SignatureError::Malformed),
    }
}

/// Checks `header` (the `WRK-Signature` value, `None` when absent) over the raw `body` against
/// each of `secrets` at unix time `now`, allowing `tolerance_secs` of clock difference.
pub fn verify(
    secrets: &[&[u8]],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (t, sigs) = parse(header)?;
    if now.abs_diff(t) > tolerance_secs.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let mut signed = Vec::with_capacity(body.len() + 21);
    signed.extend_from_slice(t.to_string().as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    for secret in secrets {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        for sig in &sigs {
            if hmac::verify(&key, &signed, sig).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const BODY: &[u8] = br#"{"id":"e1","type":"run.succeeded"}"#;

    fn check(header: Option<&str>, body: &[u8], secrets: &[&[u8]]) -> Result<(), SignatureError> {
        verify(secrets, header, body, NOW, DEFAULT_TOLERANCE_SECS)
    }

    #[test]
    fn a_signed_body_verifies_and_anything_else_is_refused_with_its_reason() {
        let good = sign(b"s3cret", NOW - 10, BODY);
        let other_key = sign(b"other", NOW, BODY);
        let stale = sign(b"s3cret", NOW - 301, BODY);
        let future = sign(b"s3cret", NOW + 301, BODY);
        let edge = sign(b"s3cret", NOW - 300, BODY);
        type Case<'a> = (Option<&'a str>, &'a [u8], Result<(), SignatureError>);
        let cases: &[Case<'_>] = &[
            (Some(&good), BODY, Ok(())),
            (Some(&edge), BODY, Ok(())),
            (None, BODY, Err(SignatureError::Missing)),
            (Some(""), BODY, Err(SignatureError::Malformed)),
            (Some("t=1"), BODY, Err(SignatureError::Malformed)),
            (Some("v1=00"), BODY, Err(SignatureError::Malformed)),
            (Some("t=x,v1=00"), BODY, Err(SignatureError::Malformed)),
            (Some("t=1,t=2,v1=00"), BODY, Err(SignatureError::Malformed)),
            (Some("t=1,v1=zz"), BODY, Err(SignatureError::Malformed)),
            (Some(&stale), BODY, Err(SignatureError::Stale)),
            (Some(&future), BODY, Err(SignatureError::Stale)),
            (Some(&other_key), BODY, Err(SignatureError::Mismatch)),
            (
                Some(&good),
                b"{\"id\":\"e1\"}",
                Err(SignatureError::Mismatch),
            ),
        ];
        for (header, body, want) in cases {
            assert_eq!(&check(*header, body, &[b"s3cret"]), want, "{header:?}");
        }
    }

    #[test]
    fn any_current_secret_and_any_v1_value_may_match() {
        let h = sign(b"new", NOW, BODY);
        assert_eq!(check(Some(&h), BODY, &[b"old", b"new"]), Ok(()));
        let (t_part, v_part) = h.split_once(',').unwrap();
        let two = format!("{t_part},v1={},{v_part},v0=ignored", "00".repeat(32));
        assert_eq!(check(Some(&two), BODY, &[b"new"]), Ok(()));
        assert_eq!(check(Some(&h), BODY, &[]), Err(SignatureError::Mismatch));
    }

    #[test]
    fn the_header_is_t_then_v1_in_lowercase_hex() {
        let h = sign(b"k", 42, b"x");
        let v = h.strip_prefix("t=42,v1=").unwrap();
        assert_eq!(v.len(), 64);
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}
