//! The vocabulary of in-app notifications (PRODUCT.md "Notifications"; flows 26, 29, 30): what a
//! notification is about. A user's email preference is kept per kind, so the set is closed and the
//! strings exist only at the SQL and JSON edges.

use serde::{Deserialize, Serialize};

use crate::roles::named_enum;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A new message in an automation's thread (flow 30).
    Message,
    /// A monitoring alert fired (flow 29).
    Alert,
    /// A credential the platform reported as failing (flow 26).
    CredentialFailed,
    /// A version was blocked (a failing credential, an unpaid invoice).
    VersionBlocked,
    /// A quote was sent, revised, or is about to expire (flows 13-18).
    Quote,
    /// An invoice was issued, paid or failed (flows 16, 20).
    Billing,
}

named_enum!(NotificationKind, "notification kind", {
    Message => "message",
    Alert => "alert",
    CredentialFailed => "credential_failed",
    VersionBlocked => "version_blocked",
    Quote => "quote",
    Billing => "billing",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_names_are_refused() {
        crate::roles::assert_names_round_trip(NotificationKind::ALL, &["", "Message", "email"]);
    }
}
