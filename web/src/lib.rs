//! The browser UI, embedded in the binary with rust-embed.
//!
//! Plain HTML, CSS and ES modules written in this repo (`web/assets/`): no Node build, no
//! third-party front-end code. Pages are static shells; their scripts talk to the same JSON API as
//! every other client. This crate only owns the files and their metadata (content type, ETag); the
//! host decides which page a URL serves and sets the HTTP headers.
//!
//! Layout of `assets/`: `pages/*.html` (one shell per page), `css/wrk.css` (the design system),
//! `js/*.js` (ES modules), `img/`.

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Files;

/// One embedded file, ready to serve.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: std::borrow::Cow<'static, [u8]>,
    pub content_type: String,
    /// A strong ETag: the hex SHA-256 of the bytes, quoted.
    pub etag: String,
}

/// The file at `path` (relative to `assets/`, e.g. `css/wrk.css`), if embedded.
pub fn asset(path: &str) -> Option<Asset> {
    let file = Files::get(path)?;
    let mut content_type = file.metadata.mimetype().to_owned();
    if content_type.starts_with("text/") || content_type == "application/javascript" {
        content_type.push_str("; charset=utf-8");
    }
    Some(Asset {
        etag: format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16])),
        bytes: file.data,
        content_type,
    })
}

/// The HTML shell of a page (`pages/<name>.html`).
pub fn page(name: &str) -> Option<Asset> {
    asset(&format!("pages/{name}.html"))
}

/// Every embedded path, for tests and diagnostics.
pub fn paths() -> impl Iterator<Item = std::borrow::Cow<'static, str>> {
    Files::iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_and_the_landing_page_are_embedded_with_their_types() {
        let css = asset("css/wrk.css").expect("css");
        assert_eq!(css.content_type, "text/css; charset=utf-8");
        let landing = page("landing").expect("landing page");
        assert!(landing.content_type.starts_with("text/html"));
        assert!(landing.etag.starts_with('"') && landing.etag.len() == 34);
    }

    #[test]
    fn javascript_is_served_as_javascript() {
        for p in paths().filter(|p| p.ends_with(".js")) {
            let a = asset(&p).unwrap();
            assert!(
                a.content_type.starts_with("text/javascript")
                    || a.content_type.starts_with("application/javascript"),
                "{p}: {}",
                a.content_type
            );
        }
    }

    #[test]
    fn missing_files_are_none() {
        assert!(asset("../Cargo.toml").is_none());
        assert!(page("nope").is_none());
    }
}
