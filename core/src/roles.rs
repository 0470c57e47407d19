//! Roles and API-key scopes (PRODUCT.md, "Actors and roles").
//!
//! This module owns the vocabulary of who someone is inside a workspace (`ClientRole`), inside WRK
//! (`OpsRole`), and what an API key may do (`Scope`), plus the few questions every layer asks of
//! them ("may this role manage the team?", "do these scopes allow a write?"). Where a role is
//! stored and how a session resolves to one is the storage's and the host's business, not this
//! module's.

use serde::{Deserialize, Serialize};

/// A string that is not one of the known names of a role, scope or status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownName {
    /// What was being parsed (`client role`, `scope`, `version status`, ...), for the message.
    pub kind: &'static str,
    pub value: String,
}

/// Declares `as_str`, `parse`, `ALL`, `Display` and `FromStr` for a fieldless enum whose serde
/// names are the same snake_case strings, so the wire, the database and the code agree.
macro_rules! named_enum {
    ($ty:ident, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable snake_case name used on the wire and in storage.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// Parses the snake_case name; anything else is refused.
            pub fn parse(s: &str) -> Result<Self, $crate::roles::UnknownName> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err($crate::roles::UnknownName { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::roles::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use named_enum;

/// Checks a [`named_enum!`] type: every value's name parses back to it and is its serde form, and
/// each of `unknown` is refused by both `parse` and serde (never defaulted).
#[cfg(test)]
pub(crate) fn assert_names_round_trip<T>(all: &[T], unknown: &[&str])
where
    T: Copy
        + std::fmt::Debug
        + PartialEq
        + std::fmt::Display
        + std::str::FromStr
        + Serialize
        + serde::de::DeserializeOwned,
{
    for v in all {
        let name = v.to_string();
        assert!(name.parse::<T>().ok() == Some(*v), "{name}");
        let json = serde_json::to_value(v).unwrap();
        assert_eq!(json, name.as_str());
        assert_eq!(serde_json::from_value::<T>(json).unwrap(), *v);
    }
    for bad in unknown {
        assert!(bad.parse::<T>().is_err(), "{bad:?} parsed");
        assert!(
            serde_json::from_value::<T>(serde_json::json!(bad)).is_err(),
            "{bad:?} deserialized"
        );
    }
}

/// A client user's role in one workspace (a `memberships` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientRole {
    /// The user who created the workspace; there is always at least one.
    Owner,
    Admin,
    Member,
}

named_enum!(ClientRole, "client role", {
    Owner => "owner",
    Admin => "admin",
    Member => "member",
});

impl ClientRole {
    /// Owners and admins run the workspace: invitations, member roles, API keys, the webhook
    /// secret, archiving. Members work on automations but do not change who has access.
    pub const fn can_manage_team(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

/// A WRK staff member's role (control plane `ops_users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpsRole {
    Ops,
    /// May also do what changes money for a whole workspace (pricing overrides, flow 19).
    OpsAdmin,
}

named_enum!(OpsRole, "ops role", {
    Ops => "ops",
    OpsAdmin => "ops_admin",
});

impl OpsRole {
    pub const fn is_admin(self) -> bool {
        matches!(self, Self::OpsAdmin)
    }
}

/// What an API key was granted when a workspace admin created it (flow 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

named_enum!(Scope, "scope", {
    Read => "read",
    Write => "write",
    Admin => "admin",
});

/// The kind of action a request performs, as the host classifies its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Safe methods: nothing changes.
    Read,
    /// Changes to automations, quotes, credentials, messages, tasks.
    Write,
    /// What only a workspace owner/admin may do (team, API keys, webhook secret, audit log).
    Admin,
}

impl Scope {
    /// Scopes are cumulative: `admin` includes `write`, which includes `read`. A key made for
    /// administration that could not also read would only surprise its owner.
    pub const fn grants(self, needed: Access) -> bool {
        match needed {
            Access::Read => true,
            Access::Write => matches!(self, Self::Write | Self::Admin),
            Access::Admin => matches!(self, Self::Admin),
        }
    }
}

/// Whether any scope of a key allows the action. An empty scope list allows nothing.
pub fn scopes_allow(scopes: &[Scope], needed: Access) -> bool {
    scopes.iter().any(|s| s.grants(needed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_and_scope_round_trips_through_its_name_and_serde() {
        assert_names_round_trip(ClientRole::ALL, &["Owner", ""]);
        assert_names_round_trip(OpsRole::ALL, &["superuser"]);
        assert_names_round_trip(Scope::ALL, &["READ", "delete"]);
    }

    #[test]
    fn unknown_names_are_refused_with_what_was_parsed() {
        let err = ClientRole::parse("Owner").unwrap_err();
        assert_eq!(err.to_string(), "unknown client role `Owner`");
        assert!(OpsRole::parse("superuser").is_err());
        assert!(Scope::parse("").is_err());
    }

    #[test]
    fn only_owners_and_admins_manage_the_team() {
        assert!(ClientRole::Owner.can_manage_team());
        assert!(ClientRole::Admin.can_manage_team());
        assert!(!ClientRole::Member.can_manage_team());
        assert!(OpsRole::OpsAdmin.is_admin());
        assert!(!OpsRole::Ops.is_admin());
    }

    #[test]
    fn scopes_are_cumulative_and_an_empty_list_allows_nothing() {
        use Access::*;
        assert!(scopes_allow(&[Scope::Read], Read));
        assert!(!scopes_allow(&[Scope::Read], Write));
        assert!(!scopes_allow(&[Scope::Read], Admin));
        assert!(scopes_allow(&[Scope::Write], Read));
        assert!(scopes_allow(&[Scope::Write], Write));
        assert!(!scopes_allow(&[Scope::Write], Admin));
        assert!(scopes_allow(&[Scope::Admin], Read));
        assert!(scopes_allow(&[Scope::Admin], Write));
        assert!(scopes_allow(&[Scope::Admin], Admin));
        assert!(scopes_allow(&[Scope::Read, Scope::Admin], Admin));
        for needed in [Read, Write, Admin] {
            assert!(!scopes_allow(&[], needed));
        }
    }
}
