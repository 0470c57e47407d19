//! An automation's thread between the workspace and WRK ops (flow 30): who wrote a message, which
//! side reads it, and what a body may be.

use serde::{Deserialize, Serialize};

use crate::roles::named_enum;

/// The longest message body kept, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// A member of the workspace (or one of its API keys).
    User,
    /// WRK staff.
    Ops,
    /// WRK Copilot itself: a transition, a quote.
    System,
}

named_enum!(AuthorKind, "message author", {
    User => "user",
    Ops => "ops",
    System => "system",
});

/// One of the two sides of a thread; each has its own read marker and unread count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Workspace,
    Ops,
}

named_enum!(Side, "thread side", {
    Workspace => "workspace",
    Ops => "ops",
});

impl Side {
    /// The side a message's author is on; system messages are written for the workspace, so
    /// they count as ops' (unread for the workspace, never for ops).
    pub const fn of(author: AuthorKind) -> Self {
        match author {
            AuthorKind::User => Self::Workspace,
            AuthorKind::Ops | AuthorKind::System => Self::Ops,
        }
    }

    /// Whether a message by `author` is news to this side.
    pub fn is_unread_for(self, author: AuthorKind) -> bool {
        Self::of(author) != self
    }
}

/// A message body: trimmed, not empty, at most [`MAX_BODY_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("write a message first")]
    Required,
    #[error("a message must be at most 10000 characters")]
    TooLong,
}

impl MessageBody {
    pub fn parse(raw: &str) -> Result<Self, BodyError> {
        let body = raw.trim();
        if body.is_empty() {
            Err(BodyError::Required)
        } else if body.chars().count() > MAX_BODY_CHARS {
            Err(BodyError::TooLong)
        } else {
            Ok(Self(body.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        crate::roles::assert_names_round_trip(AuthorKind::ALL, &["", "User", "bot"]);
        crate::roles::assert_names_round_trip(Side::ALL, &["", "client"]);
    }

    #[test]
    fn each_side_reads_the_other_sides_messages() {
        assert!(Side::Workspace.is_unread_for(AuthorKind::Ops));
        assert!(Side::Workspace.is_unread_for(AuthorKind::System));
        assert!(!Side::Workspace.is_unread_for(AuthorKind::User));
        assert!(Side::Ops.is_unread_for(AuthorKind::User));
        assert!(!Side::Ops.is_unread_for(AuthorKind::System));
    }

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(MessageBody::parse("  hi ").unwrap().as_str(), "hi");
        assert_eq!(MessageBody::parse(" \n "), Err(BodyError::Required));
        assert_eq!(
            MessageBody::parse(&"é".repeat(MAX_BODY_CHARS + 1)),
            Err(BodyError::TooLong)
        );
        assert!(MessageBody::parse(&"é".repeat(MAX_BODY_CHARS)).is_ok());
    }
}
