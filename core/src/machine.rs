//! The automation version state machine (PRODUCT.md, "The automation state machine").
//!
//! This module owns every decision about a version's status: which statuses exist, which moves
//! between them exist, who may make each move, which facts must hold first (guards), and what the
//! host must do once a move is applied (side effects). Nothing else in the system decides a
//! transition; the storage and the host gather facts, call [`transition`], and carry out the
//! [`SideEffect`]s it returns: the storage in the same database transaction as the status change
//! (one `match` in `wrk_tenants::automations::effects`), the host what must run after the commit
//! (one `match` in the host's `services::automations::after_commit`).
//!
//! The checks that are not moves (read-only, editable blueprint, new version allowed) are in
//! [`crate::automation`], built on [`VersionStatus`]'s predicates here.
//!
//! The table is data ([`RULES`]), not match arms, so it can be read next to the spec line by line,
//! listed for an API answer ([`allowed_transitions`]), and tested exhaustively against an
//! independent transcription of the spec.
//!
//! It must not depend on anything that does IO: guards are plain values in [`GuardInputs`] that the
//! caller fills in from its own queries.

use serde::{Deserialize, Serialize};

use crate::roles::{ClientRole, OpsRole, named_enum};

/// The status of one automation version. An automation shows the status of its newest
/// non-archived version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    IntakeInProgress,
    NeedsPricing,
    AwaitingClientApproval,
    ReadyToBuild,
    BuildInProgress,
    QaTesting,
    ReadyToLaunch,
    Live,
    Paused,
    Blocked,
    Archived,
}

named_enum!(VersionStatus, "version status", {
    IntakeInProgress => "intake_in_progress",
    NeedsPricing => "needs_pricing",
    AwaitingClientApproval => "awaiting_client_approval",
    ReadyToBuild => "ready_to_build",
    BuildInProgress => "build_in_progress",
    QaTesting => "qa_testing",
    ReadyToLaunch => "ready_to_launch",
    Live => "live",
    Paused => "paused",
    Blocked => "blocked",
    Archived => "archived",
});

impl VersionStatus {
    /// The one name people see for this status, wherever it is shown (the web UI's
    /// `STATUS_LABELS` in `ui.js` holds the same names; a host test checks they agree).
    pub const fn label(self) -> &'static str {
        match self {
            Self::IntakeInProgress => "Intake",
            Self::NeedsPricing => "Needs pricing",
            Self::AwaitingClientApproval => "Awaiting approval",
            Self::ReadyToBuild => "Ready to build",
            Self::BuildInProgress => "Building",
            Self::QaTesting => "QA testing",
            Self::ReadyToLaunch => "Ready to launch",
            Self::Live => "Live",
            Self::Paused => "Paused",
            Self::Blocked => "Blocked",
            Self::Archived => "Archived",
        }
    }
}

/// The statuses a version can be blocked from, and therefore the only values `blocked_from` can
/// meaningfully hold.
pub const BLOCKABLE: &[VersionStatus] = &[
    VersionStatus::BuildInProgress,
    VersionStatus::QaTesting,
    VersionStatus::ReadyToLaunch,
    VersionStatus::Live,
    VersionStatus::Paused,
];

impl VersionStatus {
    /// In flight means "still on its way to running": everything but `live`, `paused` and
    /// `archived`. One version at a time may be in flight per automation.
    pub const fn is_in_flight(self) -> bool {
        !matches!(self, Self::Live | Self::Paused | Self::Archived)
    }

    /// The blueprint is editable in `intake_in_progress` by anyone otherwise allowed to touch the
    /// automation, and in `needs_pricing` by ops only (they fix what blocks pricing). Afterwards a
    /// quote was made from it, so changing it would make the quote lie (flow 10).
    pub const fn is_editable_blueprint_by(self, actor: &Actor) -> bool {
        match self {
            Self::IntakeInProgress => true,
            Self::NeedsPricing => matches!(actor, Actor::Ops { .. }),
            _ => false,
        }
    }

    /// A new version may be started only from a version that has run, i.e. the newest one is
    /// `live` or `paused` (flow 12); the live one keeps running until the new one goes live.
    pub const fn allows_new_version(self) -> bool {
        matches!(self, Self::Live | Self::Paused)
    }

    /// Archived versions are read-only from then on (flow 35).
    pub const fn is_read_only(self) -> bool {
        matches!(self, Self::Archived)
    }
}

/// Who asks for a transition, as the host resolved it from the session, the API key or the
/// worker. `tenant_id` and `user_id` are not here: they matter for audit, not for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Client {
        role: ClientRole,
    },
    Ops {
        role: OpsRole,
    },
    /// Workers and the WRK Platform webhook: acting on facts, never on someone's say-so.
    System,
}

/// The kind of an [`Actor`] without its role, for messages and history rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Client,
    Ops,
    System,
}

named_enum!(ActorKind, "actor kind", {
    Client => "client",
    Ops => "ops",
    System => "system",
});

impl Actor {
    pub const fn kind(&self) -> ActorKind {
        match self {
            Self::Client { .. } => ActorKind::Client,
            Self::Ops { .. } => ActorKind::Ops,
            Self::System => ActorKind::System,
        }
    }
}

/// One entry of a rule's "who" column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// Any client role, members included.
    Client,
    /// A client owner or admin (the ones who can manage the team).
    ClientManager,
    /// Any ops role (`ops` or `ops_admin`).
    Ops,
    System,
}

impl Who {
    pub const fn admits(self, actor: &Actor) -> bool {
        match (self, actor) {
            (Self::Client, Actor::Client { .. }) => true,
            (Self::ClientManager, Actor::Client { role }) => role.can_manage_team(),
            (Self::Ops, Actor::Ops { .. }) => true,
            (Self::System, Actor::System) => true,
            _ => false,
        }
    }
}

/// A fact that must hold before a transition is applied. The code is stable (it is part of the
/// `422 guard_failed` answer); the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    RequirementsOrBlueprintPresent,
    NoValidationErrors,
    QuoteSent,
    QuoteSigned,
    PaymentMethodOnFile,
    SetupFeePaid,
    QuoteRejected,
    NoOpenQaTasks,
    ReasonGiven,
    CredentialsActive,
    NoFailedCredentials,
    BlockCauseCleared,
}

named_enum!(Guard, "guard", {
    RequirementsOrBlueprintPresent => "requirements_or_blueprint_present",
    NoValidationErrors => "no_validation_errors",
    QuoteSent => "quote_sent",
    QuoteSigned => "quote_signed",
    PaymentMethodOnFile => "payment_method_on_file",
    SetupFeePaid => "setup_fee_paid",
    QuoteRejected => "quote_rejected",
    NoOpenQaTasks => "no_open_qa_tasks",
    ReasonGiven => "reason_given",
    CredentialsActive => "credentials_active",
    NoFailedCredentials => "no_failed_credentials",
    BlockCauseCleared => "block_cause_cleared",
});

impl Guard {
    /// The stable code, the same string as serde and [`Guard::as_str`].
    pub const fn code(self) -> &'static str {
        self.as_str()
    }

    /// What must be true, phrased for the person who asked for the transition.
    pub const fn message(self) -> &'static str {
        match self {
            Self::RequirementsOrBlueprintPresent => "requirements or a blueprint must be present",
            Self::NoValidationErrors => "the blueprint must have no validation error",
            Self::QuoteSent => "a quote must have been sent",
            Self::QuoteSigned => "the quote must be signed",
            Self::PaymentMethodOnFile => "a payment method must be on file",
            Self::SetupFeePaid => "the setup fee must be paid",
            Self::QuoteRejected => "the quote must have been rejected",
            Self::NoOpenQaTasks => "every QA task must be done",
            Self::ReasonGiven => "a reason must be given",
            Self::CredentialsActive => "every credential the blueprint needs must be active",
            Self::NoFailedCredentials => "no credential of the automation may be failed",
            Self::BlockCauseCleared => "the cause of the block must be cleared",
        }
    }

    /// Whether this guard holds for the facts the caller gathered.
    pub fn holds(self, inputs: &GuardInputs) -> bool {
        match self {
            Self::RequirementsOrBlueprintPresent => inputs.requirements_or_blueprint_present,
            Self::NoValidationErrors => inputs.validation_error_count == 0,
            Self::QuoteSent => inputs.quote_sent,
            Self::QuoteSigned => inputs.quote_signed,
            Self::PaymentMethodOnFile => inputs.payment_method_on_file,
            Self::SetupFeePaid => inputs.setup_fee_paid,
            Self::QuoteRejected => inputs.quote_rejected,
            Self::NoOpenQaTasks => inputs.open_qa_task_count == 0,
            Self::ReasonGiven => inputs
                .reason
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty()),
            Self::CredentialsActive => inputs.inactive_required_credential_count == 0,
            Self::NoFailedCredentials => inputs.failed_credential_count == 0,
            Self::BlockCauseCleared => inputs.block_cause_cleared,
        }
    }
}

/// The facts guards are checked against, gathered by the caller (core does no IO).
///
/// Only the inputs named by [`required_guards`] for the transition at hand need to be filled in;
/// the others are never read. `Default` is "nothing proven": every bool false, every count zero,
/// no reason — so a caller must still count what the "no ..." guards count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardInputs {
    /// Free-text requirements or a blueprint exist on the version.
    pub requirements_or_blueprint_present: bool,
    /// Issues of severity `error` the validation plugin reported on the current blueprint.
    pub validation_error_count: usize,
    /// The version's current quote is in `sent`.
    pub quote_sent: bool,
    /// The version's current quote is in `signed`.
    pub quote_signed: bool,
    pub payment_method_on_file: bool,
    pub setup_fee_paid: bool,
    /// The version's current quote is in `rejected`.
    pub quote_rejected: bool,
    /// Ops tasks of kind `qa` on this version that are not `done`.
    pub open_qa_task_count: usize,
    /// The reason given with the request; blank counts as none.
    pub reason: Option<String>,
    /// Credentials the blueprint needs that are missing or not `active`.
    pub inactive_required_credential_count: usize,
    /// Credentials of the automation in `failed`.
    pub failed_credential_count: usize,
    /// Whatever blocked the version is resolved (e.g. the failed credential is `active` again).
    pub block_cause_cleared: bool,
}

/// Kinds of ops task the machine asks the host to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpsTaskKind {
    /// The client rejected the quote (flow 18).
    ReviseQuote,
    /// The pricing plugin failed during flow 11. Not produced by a transition: the host opens it
    /// when the side effect [`SideEffect::CreateProjectAndQuote`] cannot be completed.
    PriceManually,
}

named_enum!(OpsTaskKind, "ops task kind", {
    ReviseQuote => "revise_quote",
    PriceManually => "price_manually",
});

/// Signed events sent to the WRK Platform (flows 24, 24A, 24B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformNotice {
    Deploy,
    Pause,
    Resume,
}

named_enum!(PlatformNotice, "platform notice", {
    Deploy => "deploy",
    Pause => "pause",
    Resume => "resume",
});

/// Something the host must do once a transition is applied, in the same database transaction
/// (or, for notifications, by enqueueing a durable job in it). The machine names the work; it
/// never does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SideEffect {
    /// Flow 11: create the project and have the pricing plugin generate a `sent` quote.
    CreateProjectAndQuote,
    /// Flow 16: create the subscription with the quote's committed volume.
    CreateSubscription,
    CreateOpsTask(OpsTaskKind),
    /// Flow 21: tasks from the validation plugin's build checklist.
    CreateBuildChecklistTasks,
    /// Flow 24: record the deployment of this version.
    RecordDeployment,
    /// Flow 24: the automation's previously live version goes to `archived`.
    ArchivePreviousLive,
    NotifyPlatform(PlatformNotice),
    /// Store [`Transition::blocked_from`] with the version so it can return there.
    RememberBlockedFrom,
    /// Flow 26: tell the workspace (in-app and email).
    NotifyClient,
    /// Scope change from QA: a new quote revision is generated.
    RegenerateQuote,
    /// Flow 35: nothing about the version changes any more.
    MakeReadOnly,
}

impl SideEffect {
    /// A stable short code for logs and audit rows, e.g. `create_ops_task:revise_quote`.
    pub fn code(self) -> String {
        match self {
            Self::CreateProjectAndQuote => "create_project_and_quote".into(),
            Self::CreateSubscription => "create_subscription".into(),
            Self::CreateOpsTask(kind) => format!("create_ops_task:{kind}"),
            Self::CreateBuildChecklistTasks => "create_build_checklist_tasks".into(),
            Self::RecordDeployment => "record_deployment".into(),
            Self::ArchivePreviousLive => "archive_previous_live".into(),
            Self::NotifyPlatform(notice) => format!("notify_platform:{notice}"),
            Self::RememberBlockedFrom => "remember_blocked_from".into(),
            Self::NotifyClient => "notify_client".into(),
            Self::RegenerateQuote => "regenerate_quote".into(),
            Self::MakeReadOnly => "make_read_only".into(),
        }
    }
}

/// The "from" column of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    One(VersionStatus),
    AnyOf(&'static [VersionStatus]),
    AnyExcept(&'static [VersionStatus]),
}

impl Source {
    pub fn contains(self, status: VersionStatus) -> bool {
        match self {
            Self::One(s) => s == status,
            Self::AnyOf(set) => set.contains(&status),
            Self::AnyExcept(set) => !set.contains(&status),
        }
    }
}

/// The "to" column of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Status(VersionStatus),
    /// Back to where the version was when it was blocked.
    BlockedFrom,
}

/// One row of the table: from, to, who, guards (all must hold), side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub from: Source,
    pub to: Target,
    pub who: &'static [Who],
    pub guards: &'static [Guard],
    pub effects: &'static [SideEffect],
}

impl Rule {
    /// Where this rule leads from `from`, if it applies there at all.
    fn target(
        &self,
        from: VersionStatus,
        blocked_from: Option<VersionStatus>,
    ) -> Option<VersionStatus> {
        if !self.from.contains(from) {
            return None;
        }
        match self.to {
            Target::Status(to) => Some(to),
            Target::BlockedFrom => remembered(from, blocked_from),
        }
    }

    fn admits(&self, actor: &Actor) -> bool {
        self.who.iter().any(|w| w.admits(actor))
    }
}

/// The creation row of the table (`— → intake_in_progress`), kept apart because there is no
/// "from": a version comes into being (flows 8 and 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreationRule {
    pub to: VersionStatus,
    pub who: &'static [Who],
}

pub const CREATION: CreationRule = CreationRule {
    to: VersionStatus::IntakeInProgress,
    who: &[Who::Client],
};

/// The status every new version starts in.
pub const fn initial_status() -> VersionStatus {
    CREATION.to
}

use PlatformNotice as PN;
use SideEffect as E;
use VersionStatus as S;

/// PRODUCT.md's table, row by row, in the spec's order. No two rows lead from the same status to
/// the same status (a test checks it), so a (from, to) pair names at most one rule.
pub static RULES: &[Rule] = &[
    Rule {
        from: Source::One(S::IntakeInProgress),
        to: Target::Status(S::NeedsPricing),
        who: &[Who::Client, Who::Ops],
        guards: &[
            Guard::RequirementsOrBlueprintPresent,
            Guard::NoValidationErrors,
        ],
        effects: &[E::CreateProjectAndQuote],
    },
    Rule {
        from: Source::One(S::NeedsPricing),
        to: Target::Status(S::AwaitingClientApproval),
        who: &[Who::System, Who::Ops],
        guards: &[Guard::QuoteSent],
        effects: &[],
    },
    Rule {
        from: Source::One(S::AwaitingClientApproval),
        to: Target::Status(S::ReadyToBuild),
        who: &[Who::System],
        guards: &[
            Guard::QuoteSigned,
            Guard::PaymentMethodOnFile,
            Guard::SetupFeePaid,
        ],
        effects: &[E::CreateSubscription],
    },
    Rule {
        from: Source::One(S::AwaitingClientApproval),
        to: Target::Status(S::NeedsPricing),
        who: &[Who::System],
        guards: &[Guard::QuoteRejected],
        effects: &[E::CreateOpsTask(OpsTaskKind::ReviseQuote)],
    },
    Rule {
        from: Source::One(S::ReadyToBuild),
        to: Target::Status(S::BuildInProgress),
        who: &[Who::Client, Who::Ops],
        guards: &[],
        effects: &[E::CreateBuildChecklistTasks],
    },
    Rule {
        from: Source::One(S::BuildInProgress),
        to: Target::Status(S::QaTesting),
        who: &[Who::Ops],
        guards: &[],
        effects: &[],
    },
    Rule {
        from: Source::One(S::QaTesting),
        to: Target::Status(S::ReadyToLaunch),
        who: &[Who::Ops],
        guards: &[Guard::NoOpenQaTasks],
        effects: &[],
    },
    Rule {
        from: Source::One(S::QaTesting),
        to: Target::Status(S::BuildInProgress),
        who: &[Who::Ops],
        guards: &[Guard::ReasonGiven],
        effects: &[],
    },
    Rule {
        from: Source::One(S::QaTesting),
        to: Target::Status(S::NeedsPricing),
        who: &[Who::Ops],
        guards: &[Guard::ReasonGiven],
        effects: &[E::RegenerateQuote],
    },
    Rule {
        from: Source::One(S::ReadyToLaunch),
        to: Target::Status(S::Live),
        who: &[Who::Ops],
        guards: &[Guard::CredentialsActive],
        effects: &[
            E::RecordDeployment,
            E::ArchivePreviousLive,
            E::NotifyPlatform(PN::Deploy),
        ],
    },
    Rule {
        from: Source::One(S::Live),
        to: Target::Status(S::Paused),
        who: &[Who::Client, Who::Ops],
        guards: &[],
        effects: &[E::NotifyPlatform(PN::Pause)],
    },
    Rule {
        from: Source::One(S::Paused),
        to: Target::Status(S::Live),
        who: &[Who::Client, Who::Ops],
        guards: &[Guard::NoFailedCredentials],
        effects: &[E::NotifyPlatform(PN::Resume)],
    },
    Rule {
        from: Source::AnyOf(BLOCKABLE),
        to: Target::Status(S::Blocked),
        who: &[Who::System, Who::Ops],
        guards: &[Guard::ReasonGiven],
        effects: &[E::RememberBlockedFrom, E::NotifyClient],
    },
    Rule {
        from: Source::One(S::Blocked),
        to: Target::BlockedFrom,
        who: &[Who::System, Who::Ops],
        guards: &[Guard::BlockCauseCleared],
        effects: &[],
    },
    Rule {
        from: Source::AnyExcept(&[S::Live, S::Archived]),
        to: Target::Status(S::Archived),
        who: &[Who::ClientManager, Who::Ops],
        guards: &[],
        effects: &[E::MakeReadOnly],
    },
];

/// The status a blocked version returns to. Only meaningful while `from` is `blocked`, and only
/// a status one can be blocked from counts: anything else is a corrupt memory, and such a version
/// can only be archived.
fn remembered(from: VersionStatus, blocked_from: Option<VersionStatus>) -> Option<VersionStatus> {
    match (from, blocked_from) {
        (S::Blocked, Some(b)) if BLOCKABLE.contains(&b) => Some(b),
        _ => None,
    }
}

fn find_rule(
    from: VersionStatus,
    blocked_from: Option<VersionStatus>,
    to: VersionStatus,
) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.target(from, blocked_from) == Some(to))
}

/// An applied transition: what the host writes and what it must do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: VersionStatus,
    pub to: VersionStatus,
    /// The version's new `blocked_from`: the left status when entering `blocked`, `None`
    /// otherwise (leaving `blocked` spends the memory).
    pub blocked_from: Option<VersionStatus>,
    /// To be performed by the host, in this order.
    pub effects: Vec<SideEffect>,
}

/// Why a transition was refused, in the order the checks run: the move must exist, then the
/// actor must be allowed to make it, then every guard must hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// No row of the table leads from `from` to `to`. `allowed` is what this actor could ask for
    /// instead, so the answer helps rather than just refuses.
    #[error("a version cannot go from {from} to {to}")]
    InvalidTransition {
        from: VersionStatus,
        to: VersionStatus,
        allowed: Vec<VersionStatus>,
    },
    /// The move exists but not for this kind of actor (or not for this client role).
    #[error("a {actor} may not move a version from {from} to {to}")]
    NotPermitted {
        from: VersionStatus,
        to: VersionStatus,
        actor: ActorKind,
    },
    /// The actor may make the move but some facts do not hold; every failed guard is listed, in
    /// the table's order, so the caller can fix all of them at once.
    #[error("guard failed: {}", guard_codes(.0))]
    GuardFailed(Vec<Guard>),
    /// Only clients create versions (flows 8 and 12).
    #[error("a {actor} may not create a version")]
    CreationNotPermitted { actor: ActorKind },
}

fn guard_codes(guards: &[Guard]) -> String {
    guards
        .iter()
        .map(|g| g.code())
        .collect::<Vec<_>>()
        .join(", ")
}

impl TransitionError {
    /// The API problem `code` (API.md, conventions).
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NotPermitted { .. } | Self::CreationNotPermitted { .. } => {
                "transition_not_permitted"
            }
            Self::GuardFailed(_) => "guard_failed",
        }
    }
}

/// Decides a transition of one version.
///
/// `blocked_from` is the version's stored memory; it is read only when `from` is `blocked`.
/// Checks run in the order of [`TransitionError`]: existence (409), actor (403), guards (422).
pub fn transition(
    from: VersionStatus,
    blocked_from: Option<VersionStatus>,
    to: VersionStatus,
    actor: &Actor,
    guards: &GuardInputs,
) -> Result<Transition, TransitionError> {
    let Some(rule) = find_rule(from, blocked_from, to) else {
        return Err(TransitionError::InvalidTransition {
            from,
            to,
            allowed: allowed_transitions(from, blocked_from, actor),
        });
    };
    if !rule.admits(actor) {
        return Err(TransitionError::NotPermitted {
            from,
            to,
            actor: actor.kind(),
        });
    }
    let failed: Vec<Guard> = rule
        .guards
        .iter()
        .copied()
        .filter(|g| !g.holds(guards))
        .collect();
    if !failed.is_empty() {
        return Err(TransitionError::GuardFailed(failed));
    }
    Ok(Transition {
        from,
        to,
        blocked_from: (to == S::Blocked).then_some(from),
        effects: rule.effects.to_vec(),
    })
}

/// The statuses this actor may ask for from here, ignoring guards, in [`VersionStatus::ALL`]
/// order. This is the `allowed` list of a `409 invalid_transition` and what a UI offers.
pub fn allowed_transitions(
    from: VersionStatus,
    blocked_from: Option<VersionStatus>,
    actor: &Actor,
) -> Vec<VersionStatus> {
    VersionStatus::ALL
        .iter()
        .copied()
        .filter(|&to| find_rule(from, blocked_from, to).is_some_and(|r| r.admits(actor)))
        .collect()
}

/// The guards of the (from, to) move, whoever asks; empty when there is no such move. Lets the
/// caller gather only the facts it will be asked about.
pub fn required_guards(
    from: VersionStatus,
    blocked_from: Option<VersionStatus>,
    to: VersionStatus,
) -> &'static [Guard] {
    find_rule(from, blocked_from, to).map_or(&[], |r| r.guards)
}

/// Decides the creation of a version (`— → intake_in_progress`): the status it starts in, or a
/// refusal for anyone but a client.
pub fn create_version(actor: &Actor) -> Result<VersionStatus, TransitionError> {
    if CREATION.who.iter().any(|w| w.admits(actor)) {
        Ok(CREATION.to)
    } else {
        Err(TransitionError::CreationNotPermitted {
            actor: actor.kind(),
        })
    }
}

#[cfg(test)]
mod tests;
