//! The one error type of the storage layer. The host maps it to HTTP once; nothing here knows HTTP.

use wrk_core::automation::WriteRefused;
use wrk_core::machine::TransitionError;

/// What a stored object is, for `NotFound` and `Conflict` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Tenant,
    Job,
    AuditLog,
    User,
    OpsUser,
    Membership,
    Invitation,
    ApiKey,
    Automation,
    Version,
    Task,
    Quote,
    Project,
    Document,
    Invoice,
    Client,
    Notification,
    Message,
    Credential,
    Subscription,
    PlatformEvent,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Tenant => "workspace",
            Entity::Job => "job",
            Entity::AuditLog => "audit log entry",
            Entity::User => "user",
            Entity::OpsUser => "ops user",
            Entity::Membership => "member",
            Entity::Invitation => "invitation",
            Entity::ApiKey => "API key",
            Entity::Automation => "automation",
            Entity::Version => "version",
            Entity::Task => "task",
            Entity::Quote => "quote",
            Entity::Project => "project",
            Entity::Document => "document",
            Entity::Invoice => "invoice",
            Entity::Client => "client",
            Entity::Notification => "notification",
            Entity::Message => "message",
            Entity::Credential => "credential",
            Entity::Subscription => "subscription",
            Entity::PlatformEvent => "platform event",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{} not found", .0.as_str())]
    NotFound(Entity),
    /// A uniqueness rule was broken; the message is safe to show to a user.
    #[error("{0}")]
    Conflict(String),
    /// Optimistic concurrency: the caller's revision is not the stored one.
    #[error("stale revision: the current revision is {current}")]
    Stale { current: i64 },
    #[error("migration {version} of {db} failed: {source}")]
    Migration {
        db: String,
        version: u32,
        #[source]
        source: rusqlite::Error,
    },
    /// The file on disk belongs to another tenant than the one asked for.
    #[error("database file {path} belongs to tenant {found}, not {expected}")]
    WrongTenant {
        path: String,
        expected: String,
        found: String,
    },
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// An amount that cannot be stored as given: in another currency than the row's one
    /// currency column (a quote and its lines), or out of range. A caller's bug, never input.
    #[error("amount: {0}")]
    Money(#[from] wrk_core::money::MoneyError),
    /// A one-time token, invitation or session that can no longer be used; each reason has its
    /// own stable code at the HTTP layer.
    #[error("{}", .0.message())]
    Refused(Refusal),
    /// Core's state machine refused the transition (or the creation of a version); nothing was
    /// written.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Core refused a write to an archived automation or a version that is not editable.
    #[error(transparent)]
    WriteRefused(#[from] WriteRefused),
    /// The workspace is fenced on this host while it moves to another one.
    #[error("the workspace is being moved; retry in {retry_after_secs} seconds")]
    Fenced { retry_after_secs: u32 },
    /// Core's quote lifecycle refused a move (accept, sign, reject, revise, expire); nothing was
    /// written.
    #[error(transparent)]
    Quote(#[from] wrk_core::quote::QuoteTransitionError),
}

/// Why a presented token (verification link, reset link, invitation, refresh token) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, already used, or expired one-time token (no detail: that would help guessing).
    InvalidToken,
    InvitationExpired,
    InvitationRevoked,
    InvitationAccepted,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::InvalidToken => "the link or token is invalid, already used or expired",
            Refusal::InvitationExpired => "this invitation has expired; ask for a new one",
            Refusal::InvitationRevoked => "this invitation was revoked",
            Refusal::InvitationAccepted => "this invitation was already accepted",
        }
    }
}

impl StoreError {
    /// Whether this is a UNIQUE/PRIMARY KEY violation, so callers can turn it into `Conflict`.
    pub fn is_unique_violation(err: &rusqlite::Error) -> bool {
        matches!(
            err,
            rusqlite::Error::SqliteFailure(e, _)
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        )
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
