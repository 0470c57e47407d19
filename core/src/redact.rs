//! Hiding secrets in text that people other than its recipient may read.
//!
//! The email outbox keeps each message as sent (delivery needs the real links), but the ops
//! console must never see a usable token: a verification, password-reset or invitation link is
//! an account takeover in the wrong hands. [`mask_secrets`] is the one rule for what ops may see:
//!
//! - in every `http://` / `https://` URL, every query value and the fragment are replaced by
//!   [`MASK`] (parameter names stay, so "a `/reset-password?token=` link" is still visible);
//! - anywhere in the text, every run of [`SECRET_RUN`] or more ASCII letters and digits is
//!   replaced by [`MASK`]. Every token and key WRK issues is such a run (43 base62 characters,
//!   API keys after their `wrk_` prefix), while words, UUIDs and numbers are not.
//!
//! The rule errs on the side of hiding: a long hash shown to ops is masked too.

/// What a hidden value is replaced with.
pub const MASK: &str = "[hidden]";

/// The shortest run of letters and digits that is treated as a secret.
pub const SECRET_RUN: usize = 20;

/// `text` with link parameters and anything token-like replaced by [`MASK`].
pub fn mask_secrets(text: &str) -> String {
    mask_runs(&mask_urls(text))
}

fn mask_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url(rest) {
        out.push_str(&rest[..start]);
        let url_part = &rest[start..];
        let end = url_part
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(url_part.len());
        out.push_str(&mask_url(&url_part[..end]));
        rest = &url_part[end..];
    }
    out.push_str(rest);
    out
}

fn find_url(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn mask_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, _)) => (b, true),
        None => (url, false),
    };
    let mut out = match before_fragment.split_once('?') {
        None => before_fragment.to_owned(),
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) => format!("{k}={MASK}"),
                    None if p.is_empty() => String::new(),
                    None => MASK.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
    };
    if fragment {
        out.push('#');
        out.push_str(MASK);
    }
    out
}

fn mask_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= SECRET_RUN {
            out.push_str(MASK);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "a8Zk3QwErTyUiOp4AsDfGhJkLzXcVbNm0123456789q";

    #[test]
    fn link_parameters_and_fragments_are_hidden() {
        let text = format!(
            "Open https://wrk.example/reset-password?token={TOKEN}&x=1 now.\n\
             Or http://LOCALHOST:8080/invite?token=short#frag"
        );
        let masked = mask_secrets(&text);
        assert_eq!(
            masked,
            "Open https://wrk.example/reset-password?token=[hidden]&x=[hidden] now.\n\
             Or http://LOCALHOST:8080/invite?token=[hidden]#[hidden]"
        );
    }

    #[test]
    fn token_like_runs_are_hidden_anywhere_but_words_and_ids_stay() {
        let text = format!(
            "key wrk_{TOKEN} path /invite/{TOKEN}/x id 01934c5e-7a1b-7c3d-8e9f-0a1b2c3d4e5f, 500 receipts weekly"
        );
        let masked = mask_secrets(&text);
        assert!(!masked.contains(TOKEN), "{masked}");
        assert_eq!(
            masked,
            "key wrk_[hidden] path /invite/[hidden]/x id 01934c5e-7a1b-7c3d-8e9f-0a1b2c3d4e5f, 500 receipts weekly"
        );
        assert_eq!(
            mask_secrets("Héllo wörld, plain text."),
            "Héllo wörld, plain text."
        );
    }
}
