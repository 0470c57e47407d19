//! The vocabulary of tasks (flows 31, 32): what a task is about and whose it is.
//!
//! Which causes open which task, and when they close, is the storage's business
//! (`wrk_tenants::automations::tasks`); this module only names the kinds and the two sides, so
//! that every layer uses the same closed set and the strings exist only at the SQL and JSON edges.

use serde::{Deserialize, Serialize};

use crate::machine::OpsTaskKind;
use crate::roles::named_enum;

/// Which side a task is for: the workspace's people or WRK's ops team. Only that side may move
/// it (flow 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    Client,
    Ops,
}

named_enum!(Assignee, "assignee", {
    Client => "client",
    Ops => "ops",
});

/// What a task is filed under (the `kind` of `GET /api/tasks`).
///
/// Not the same concept as [`OpsTaskKind`]: that names *which* ops task a transition asks for
/// (its cause, part of the task's key); this is the category the task is filed under, shared by
/// client and ops tasks. Both ops task kinds are quote work: see [`OpsTaskKind::task_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A validation `error`, or a warning the plugin attached a task to.
    Validation,
    /// A system's credentials are missing, pending or expired.
    Credentials,
    /// Review, price or revise a quote.
    Quote,
    /// A build checklist item (flow 21).
    Build,
    /// A `test_*` checklist item; open ones keep a version from launching.
    Qa,
}

named_enum!(TaskKind, "task kind", {
    Validation => "validation",
    Credentials => "credentials",
    Quote => "quote",
    Build => "build",
    Qa => "qa",
});

impl OpsTaskKind {
    /// The kind the task is filed under.
    pub const fn task_kind(self) -> TaskKind {
        match self {
            Self::ReviseQuote | Self::PriceManually => TaskKind::Quote,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::assert_names_round_trip;

    #[test]
    fn every_assignee_and_task_kind_round_trips_and_an_unknown_one_is_refused_not_defaulted() {
        // Storage used to read anything but `ops` as the client's; now it is an error.
        assert_names_round_trip(Assignee::ALL, &["", "OPS", "Client", "admin"]);
        assert_names_round_trip(TaskKind::ALL, &["", "Quote", "review", "qa "]);
        assert_eq!(TaskKind::Qa.as_str(), "qa");
    }

    #[test]
    fn ops_tasks_of_the_machine_are_filed_as_quote_work() {
        assert_eq!(OpsTaskKind::ReviseQuote.task_kind(), TaskKind::Quote);
        assert_eq!(OpsTaskKind::PriceManually.task_kind(), TaskKind::Quote);
    }
}
