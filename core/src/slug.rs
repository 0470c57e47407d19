//! Workspace subdomains ("slugs"): 3–63 characters of `a-z 0-9 -`, starting and ending with a
//! letter or digit, never one of the reserved names (PRODUCT.md, "Hosts").

use std::fmt;

use serde::{Deserialize, Serialize};

/// The shortest and the longest slug, in bytes (all allowed characters are ASCII).
pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 63;

/// Names that route to the product itself and can never be a workspace.
pub const RESERVED_SLUGS: &[&str] = &[
    "www", "api", "app", "ops", "admin", "static", "assets", "auth", "mail", "status", "docs",
    "help",
];

/// A validated workspace subdomain.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a string is not a usable slug; the message is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("must be between 3 and 63 characters long")]
    Length,
    #[error("may contain only lowercase letters, digits and hyphens")]
    Characters,
    #[error("must start and end with a letter or a digit")]
    Edges,
    #[error("is reserved")]
    Reserved,
}

impl Slug {
    pub fn parse(s: &str) -> Result<Self, SlugError> {
        if !(MIN_LEN..=MAX_LEN).contains(&s.len()) {
            return Err(SlugError::Length);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(SlugError::Characters);
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let bytes = s.as_bytes();
        if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
            return Err(SlugError::Edges);
        }
        if RESERVED_SLUGS.contains(&s) {
            return Err(SlugError::Reserved);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slug({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_slugs_are_accepted() {
        for ok in ["acme", "a-1", "abc", "x".repeat(63).as_str(), "9lives"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn malformed_slugs_say_why() {
        assert_eq!(Slug::parse("ab"), Err(SlugError::Length));
        assert_eq!(Slug::parse(&"x".repeat(64)), Err(SlugError::Length));
        assert_eq!(Slug::parse("Acme"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("ac_me"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("acmé"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("-acme"), Err(SlugError::Edges));
        assert_eq!(Slug::parse("acme-"), Err(SlugError::Edges));
    }

    #[test]
    fn every_reserved_name_is_refused() {
        for r in RESERVED_SLUGS {
            assert_eq!(Slug::parse(r), Err(SlugError::Reserved), "{r}");
        }
    }
}
