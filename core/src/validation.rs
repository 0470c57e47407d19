//! The vocabulary of a validation plugin's answer about a blueprint (flow 10).
//!
//! The plugin SDK has its own copy of these names (guests must not depend on this crate); the
//! host converts between the two at the plugin boundary. Storage keeps the snake_case names.

use serde::{Deserialize, Serialize};

use crate::roles::named_enum;

/// How bad a validation issue is. Only `error` issues hold a version back (the guard
/// `no_validation_errors`); a `warning` is shown, and opens a task only if the plugin asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

named_enum!(Severity, "severity", {
    Error => "error",
    Warning => "warning",
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::assert_names_round_trip;

    #[test]
    fn every_severity_round_trips_and_an_unknown_one_is_refused_not_defaulted() {
        assert_names_round_trip(Severity::ALL, &["", "fatal", "Error", "info"]);
        assert_eq!(Severity::Error.as_str(), "error");
    }
}
