//! The rules about an automation that are not transitions: what a name, a description and the
//! requirements text may be (flows 8, 9), and when an automation or a version may be written at
//! all (read-only after archiving, editable blueprint, new version allowed; flows 10, 12, 35).
//!
//! Each rule is here once. The host calls it to refuse early (before a plugin runs), the storage
//! calls it again inside the write transaction (where the facts cannot change underneath): both
//! get the same typed error, so the two answers cannot drift apart.
//!
//! It must not depend on anything that does IO; the statuses come from [`crate::machine`].

use crate::machine::{Actor, VersionStatus};

/// The longest automation name, in characters (flow 8).
pub const MAX_NAME_CHARS: usize = 200;
/// The longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
/// The longest free-text requirements kept, in characters (documents carry the long material).
pub const MAX_REQUIREMENTS_CHARS: usize = 100_000;

/// An automation name: trimmed, not empty, at most [`MAX_NAME_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AutomationName(String);

/// Why a name was refused. The messages are shown next to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is required")]
    Required,
    #[error("the name must be at most 200 characters")]
    TooLong,
}

impl AutomationName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        if name.is_empty() {
            Err(NameError::Required)
        } else if name.chars().count() > MAX_NAME_CHARS {
            Err(NameError::TooLong)
        } else {
            Ok(Self(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An automation description: at most [`MAX_DESCRIPTION_CHARS`] characters as sent, kept
/// trimmed. Empty is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Description(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("must be at most 5000 characters")]
    TooLong,
}

impl Description {
    pub fn parse(raw: &str) -> Result<Self, DescriptionError> {
        if raw.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(DescriptionError::TooLong);
        }
        Ok(Self(raw.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A version's free-text requirements: at most [`MAX_REQUIREMENTS_CHARS`] characters, kept as
/// written (whitespace is part of what the client typed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Requirements(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequirementsError {
    #[error("must be at most 100000 characters; upload a document instead")]
    TooLong,
}

impl Requirements {
    pub fn parse(raw: &str) -> Result<Self, RequirementsError> {
        if raw.chars().count() > MAX_REQUIREMENTS_CHARS {
            return Err(RequirementsError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Why a write to an automation or one of its versions is refused before anything is changed.
/// Every variant is a conflict with the object's current state (409 `conflict` at the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefused {
    /// Flow 35: an archived automation is read-only.
    #[error("this automation is archived and read-only; create a new automation instead")]
    ReadOnly,
    /// Flow 10: the blueprint and requirements are editable in `intake_in_progress`, and in
    /// `needs_pricing` by ops only.
    #[error(
        "version {number} is {status}: the blueprint and requirements are editable only in \
         intake_in_progress (and in needs_pricing by ops)"
    )]
    NotEditable { number: u32, status: VersionStatus },
    /// Flow 12: a new version starts only from a newest version that is `live` or `paused`.
    #[error(
        "version {number} is still in flight ({status}); a new version can be started once the \
         newest one is live or paused"
    )]
    InFlight { number: u32, status: VersionStatus },
}

/// Refuses any write to an automation whose displayed status is `archived` (flow 35).
pub fn check_writable(automation_status: VersionStatus) -> Result<(), WriteRefused> {
    if automation_status.is_read_only() {
        Err(WriteRefused::ReadOnly)
    } else {
        Ok(())
    }
}

/// Refuses an edit of version `number`'s blueprint or requirements by `actor` in `status`.
pub fn check_editable(
    number: u32,
    status: VersionStatus,
    actor: &Actor,
) -> Result<(), WriteRefused> {
    if status.is_editable_blueprint_by(actor) {
        Ok(())
    } else {
        Err(WriteRefused::NotEditable { number, status })
    }
}

/// Refuses a new version while the newest non-archived one (`number`, in `status`) has not run.
pub fn check_new_version(number: u32, status: VersionStatus) -> Result<(), WriteRefused> {
    if status.allows_new_version() {
        Ok(())
    } else {
        Err(WriteRefused::InFlight { number, status })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::{ClientRole, OpsRole};

    #[test]
    fn names_are_trimmed_required_and_bounded_in_characters() {
        assert_eq!(AutomationName::parse("  x  ").unwrap().as_str(), "x");
        assert_eq!(AutomationName::parse("   "), Err(NameError::Required));
        assert_eq!(
            AutomationName::parse(&"a".repeat(201)),
            Err(NameError::TooLong)
        );
        assert!(AutomationName::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn descriptions_are_bounded_as_sent_and_kept_trimmed() {
        assert_eq!(Description::parse(" d ").unwrap().as_str(), "d");
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert!(Description::parse(&"é".repeat(5_000)).is_ok());
        assert_eq!(
            Description::parse(&"a".repeat(5_001)),
            Err(DescriptionError::TooLong)
        );
    }

    #[test]
    fn requirements_are_bounded_and_kept_as_written() {
        assert_eq!(Requirements::parse(" r\n").unwrap().as_str(), " r\n");
        assert!(Requirements::parse(&"é".repeat(100_000)).is_ok());
        assert_eq!(
            Requirements::parse(&"a".repeat(100_001)),
            Err(RequirementsError::TooLong)
        );
    }

    #[test]
    fn only_archived_automations_are_read_only() {
        for &s in VersionStatus::ALL {
            assert_eq!(
                check_writable(s).is_err(),
                s == VersionStatus::Archived,
                "{s}"
            );
        }
    }

    #[test]
    fn an_edit_outside_the_editable_statuses_names_the_version_and_its_status() {
        let client = Actor::Client {
            role: ClientRole::Owner,
        };
        let ops = Actor::Ops { role: OpsRole::Ops };
        assert_eq!(
            check_editable(1, VersionStatus::IntakeInProgress, &client),
            Ok(())
        );
        assert_eq!(check_editable(1, VersionStatus::NeedsPricing, &ops), Ok(()));
        let err = check_editable(2, VersionStatus::NeedsPricing, &client).unwrap_err();
        assert_eq!(
            err,
            WriteRefused::NotEditable {
                number: 2,
                status: VersionStatus::NeedsPricing
            }
        );
        assert!(err.to_string().starts_with("version 2 is needs_pricing:"));
    }

    #[test]
    fn a_new_version_needs_the_newest_to_have_run() {
        assert_eq!(check_new_version(3, VersionStatus::Live), Ok(()));
        assert_eq!(check_new_version(3, VersionStatus::Paused), Ok(()));
        assert_eq!(
            check_new_version(3, VersionStatus::QaTesting),
            Err(WriteRefused::InFlight {
                number: 3,
                status: VersionStatus::QaTesting
            })
        );
    }
}
