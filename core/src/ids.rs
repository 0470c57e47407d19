//! Typed identifiers. Every id is a UUID v7 (time-ordered, so ids sort by creation and index well),
//! wrapped in a newtype so a `TenantId` can never be passed where a `UserId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a UUID v7 newtype with parsing, display and serde as a plain string.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (e.g. one read back from storage).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the canonical hyphenated form; anything else is refused.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                Uuid::try_parse(s).map(Self).map_err(|_| IdError { kind: stringify!($name) })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

/// A string that is not a valid id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}")]
pub struct IdError {
    pub kind: &'static str,
}

id_type!(
    /// A workspace. UI copy says "workspace"; code says tenant.
    TenantId
);
id_type!(
    /// A client user (control plane `users`).
    UserId
);
id_type!(
    /// A WRK staff member (control plane `ops_users`).
    OpsUserId
);
id_type!(
    /// An automation inside one tenant.
    AutomationId
);
id_type!(
    /// A quote inside one tenant.
    QuoteId
);
id_type!(
    /// A project inside one tenant.
    ProjectId
);
id_type!(
    /// A task inside one tenant.
    TaskId
);
id_type!(
    /// An audit log row.
    AuditId
);
id_type!(
    /// A durable background job.
    JobId
);
id_type!(
    /// An installed plugin binary.
    PluginId
);
id_type!(
    /// A workspace API key.
    ApiKeyId
);
id_type!(
    /// A client record (control plane, ops only): a company that owns workspaces.
    ClientId
);
id_type!(
    /// One entry of a client's health history.
    HealthEntryId
);
id_type!(
    /// A per-user in-app notification inside one tenant.
    NotificationId
);
id_type!(
    /// A message of an automation's thread inside one tenant.
    MessageId
);
id_type!(
    /// A stored credential (its reference, kind, hint and status) inside one tenant.
    CredentialId
);
id_type!(
    /// An invoice inside one tenant.
    InvoiceId
);
id_type!(
    /// An event sent to or received from the WRK Platform.
    PlatformEventId
);
id_type!(
    /// A threshold alert of one automation (flow 29).
    AlertId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v7_and_round_trip_through_strings() {
        let id = TenantId::new();
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert_eq!(TenantId::parse(&id.to_string()), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = AutomationId::new();
        let b = AutomationId::new();
        assert!(a < b);
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert!(UserId::parse("../../etc/passwd").is_err());
        assert!(UserId::parse("").is_err());
    }
}
