//! Credentials (flows 25, 26): what a credential is, the fields each kind takes, the masked hint
//! people see instead of the secret, and a credential's status.
//!
//! The secret itself never reaches this crate's types after [`CredentialFields::parse`]: the host
//! hands the fields to its secrets manager and keeps only the [`hint`](CredentialFields::hint).
//! `Debug` of [`CredentialFields`] prints the field names only, so a stray `{:?}` in a log line
//! cannot leak a value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::roles::named_enum;

/// How a system is accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    ApiKey,
    Oauth,
    Basic,
}

named_enum!(CredentialKind, "credential kind", {
    ApiKey => "api_key",
    Oauth => "oauth",
    Basic => "basic",
});

impl CredentialKind {
    /// The fields a credential of this kind must have (more are kept as given).
    pub const fn required_fields(self) -> &'static [&'static str] {
        match self {
            Self::ApiKey => &["api_key"],
            Self::Oauth => &["client_id", "client_secret"],
            Self::Basic => &["username", "password"],
        }
    }

    /// The field whose value is not secret and may be shown whole in the hint (an OAuth client
    /// id, a user name).
    const fn public_field(self) -> Option<&'static str> {
        match self {
            Self::ApiKey => None,
            Self::Oauth => Some("client_id"),
            Self::Basic => Some("username"),
        }
    }

    /// The field whose last characters the hint shows, when it is long enough.
    const fn tail_field(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::Oauth => "client_secret",
            Self::Basic => "password",
        }
    }

    /// The name people see.
    pub const fn label(self) -> &'static str {
        match self {
            Self::ApiKey => "API key",
            Self::Oauth => "OAuth client",
            Self::Basic => "User name and password",
        }
    }
}

/// Where a credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Provided (or rotated) and not reported failing.
    Active,
    /// The WRK Platform reported it failing (flow 26); providing it again makes it active.
    Failed,
    /// Deleted by the workspace: the secret is gone.
    Revoked,
}

named_enum!(CredentialStatus, "credential status", {
    Active => "active",
    Failed => "failed",
    Revoked => "revoked",
});

/// Most fields one credential may have.
pub const MAX_FIELDS: usize = 20;
/// Longest field name, in characters.
pub const MAX_FIELD_NAME: usize = 64;
/// Longest field value, in bytes (a PEM key or a long OAuth token fits).
pub const MAX_FIELD_VALUE: usize = 8192;
/// Longest system name, in characters.
pub const MAX_SYSTEM: usize = 200;
/// A secret is shown by its last characters only when it has at least this many, so the hint
/// never gives away most of a short one.
const TAIL_MIN_LEN: usize = 12;
const TAIL_LEN: usize = 4;
const MASK: &str = "••••";

/// Why a credential's input was refused: the field it is about and what is wrong, for a
/// `422 validation_failed`. Never carries a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CredentialInputError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> CredentialInputError {
    CredentialInputError {
        field: field.into(),
        message: message.into(),
    }
}

/// The system a credential is for, as the blueprint names it (`systems[].name`): trimmed,
/// 1 to 200 characters, no control characters. Systems compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemName(String);

impl SystemName {
    pub fn parse(s: &str) -> Result<Self, CredentialInputError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(refuse("system", "must not be blank"));
        }
        if t.chars().count() > MAX_SYSTEM {
            return Err(refuse("system", format!("at most {MAX_SYSTEM} characters")));
        }
        if t.chars().any(char::is_control) {
            return Err(refuse("system", "must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form systems are matched by (a blueprint's `Gmail` and a credential's `gmail` are the
    /// same system).
    pub fn key(&self) -> String {
        system_key(&self.0)
    }
}

/// The matching key of a system name.
pub fn system_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A credential's fields, checked for its kind. Holds secret values: it is handed to the secrets
/// manager and dropped; `Debug` shows the field names only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CredentialFields(BTreeMap<String, String>);

impl std::fmt::Debug for CredentialFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl CredentialFields {
    /// Checks `fields` for `kind`: every required field present and not blank, at most
    /// [`MAX_FIELDS`] fields, names of `a-z 0-9 _` up to [`MAX_FIELD_NAME`], values up to
    /// [`MAX_FIELD_VALUE`] bytes without NUL.
    pub fn parse(
        kind: CredentialKind,
        fields: BTreeMap<String, String>,
    ) -> Result<Self, CredentialInputError> {
        if fields.len() > MAX_FIELDS {
            return Err(refuse("fields", format!("at most {MAX_FIELDS} fields")));
        }
        for (name, value) in &fields {
            let ok_name = !name.is_empty()
                && name.chars().count() <= MAX_FIELD_NAME
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok_name {
                return Err(refuse(
                    "fields",
                    format!("field names are 1 to {MAX_FIELD_NAME} characters of a-z, 0-9 and _"),
                ));
            }
            if value.len() > MAX_FIELD_VALUE || value.contains('\0') {
                return Err(refuse(
                    format!("fields.{name}"),
                    format!("at most {MAX_FIELD_VALUE} bytes, no NUL"),
                ));
            }
        }
        for required in kind.required_fields() {
            if fields.get(*required).is_none_or(|v| v.trim().is_empty()) {
                return Err(refuse(
                    format!("fields.{required}"),
                    format!("a {} credential needs {required}", kind.as_str()),
                ));
            }
        }
        Ok(Self(fields))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The values as JSON bytes, for the secrets manager only.
    pub fn to_secret_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    /// The fields back from the secrets manager's bytes.
    pub fn from_secret_bytes(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok().map(Self)
    }

    /// What people see instead of the secret: the kind's public field (a user name, a client id)
    /// when it has one, then a mask, with the secret's last 4 characters when it has at least
    /// 12 (`••••f00d`). Never more of a secret than that.
    pub fn hint(&self, kind: CredentialKind) -> String {
        let tail = self
            .0
            .get(kind.tail_field())
            .map(|v| v.trim())
            .filter(|v| v.chars().count() >= TAIL_MIN_LEN)
            .map(|v| {
                let n = v.chars().count();
                v.chars().skip(n - TAIL_LEN).collect::<String>()
            })
            .unwrap_or_default();
        let secret = format!("{MASK}{tail}");
        match kind
            .public_field()
            .and_then(|f| self.0.get(f))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            Some(public) => {
                let public: String = public.chars().take(40).collect();
                format!("{public} · {secret}")
            }
            None => secret,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn names_round_trip() {
        crate::roles::assert_names_round_trip(CredentialKind::ALL, &["", "API_KEY", "token"]);
        crate::roles::assert_names_round_trip(CredentialStatus::ALL, &["", "Active", "pending"]);
    }

    #[test]
    fn each_kind_needs_its_fields() {
        let cases = [
            (CredentialKind::ApiKey, vec![("api_key", "k")], true),
            (CredentialKind::ApiKey, vec![("token", "k")], false),
            (CredentialKind::ApiKey, vec![("api_key", "  ")], false),
            (
                CredentialKind::Basic,
                vec![("username", "u"), ("password", "p")],
                true,
            ),
            (CredentialKind::Basic, vec![("username", "u")], false),
            (
                CredentialKind::Oauth,
                vec![
                    ("client_id", "c"),
                    ("client_secret", "s"),
                    ("refresh_token", "r"),
                ],
                true,
            ),
            (CredentialKind::Oauth, vec![("client_secret", "s")], false),
        ];
        for (kind, f, ok) in cases {
            assert_eq!(
                CredentialFields::parse(kind, fields(&f)).is_ok(),
                ok,
                "{kind} {f:?}"
            );
        }
    }

    #[test]
    fn bad_names_sizes_and_nul_are_refused_without_the_value() {
        let secret = "s3cr3t-value";
        let long = "x".repeat(MAX_FIELD_VALUE + 1);
        let too_many: Vec<(String, String)> = (0..=MAX_FIELDS)
            .map(|i| (format!("f{i}"), "v".into()))
            .collect();
        for f in [
            fields(&[("api_key", secret), ("Bad-Name", "v")]),
            fields(&[("api_key", &long)]),
            fields(&[("api_key", "a\0b")]),
            too_many.into_iter().collect(),
        ] {
            let err = CredentialFields::parse(CredentialKind::ApiKey, f).unwrap_err();
            assert!(!err.to_string().contains(secret), "{err}");
        }
    }

    #[test]
    fn the_hint_shows_at_most_the_last_four_characters_of_a_long_secret() {
        let hint =
            |kind, f: &[(&str, &str)]| CredentialFields::parse(kind, fields(f)).unwrap().hint(kind);
        assert_eq!(
            hint(
                CredentialKind::ApiKey,
                &[("api_key", "sk_live_0123456789abcd")]
            ),
            "••••abcd"
        );
        assert_eq!(
            hint(CredentialKind::ApiKey, &[("api_key", "short")]),
            "••••"
        );
        assert_eq!(
            hint(
                CredentialKind::Basic,
                &[("username", "alice"), ("password", "hunter2")]
            ),
            "alice · ••••"
        );
        assert_eq!(
            hint(
                CredentialKind::Oauth,
                &[
                    ("client_id", "cid-1"),
                    ("client_secret", "0123456789abcdef")
                ]
            ),
            "cid-1 · ••••cdef"
        );
    }

    #[test]
    fn debug_never_prints_a_value() {
        let f = CredentialFields::parse(
            CredentialKind::ApiKey,
            fields(&[("api_key", "do-not-print-me")]),
        )
        .unwrap();
        assert_eq!(format!("{f:?}"), "{\"api_key\"}");
        let back = CredentialFields::from_secret_bytes(&f.to_secret_bytes()).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn systems_are_trimmed_bounded_and_match_case_insensitively() {
        assert_eq!(SystemName::parse("  Gmail ").unwrap().as_str(), "Gmail");
        assert_eq!(SystemName::parse("Gmail").unwrap().key(), "gmail");
        assert!(SystemName::parse(" ").is_err());
        assert!(SystemName::parse(&"x".repeat(MAX_SYSTEM + 1)).is_err());
        assert!(SystemName::parse("a\nb").is_err());
    }
}
