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

    #[test]
    fn every_severity_round_trips_through_its_name() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Ok(*s));
            assert_eq!(s.to_string().parse::<Severity>(), Ok(*s));
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(json, s.as_str());
            assert_eq!(serde_json::from_value::<Severity>(json).unwrap(), *s);
        }
    }

    #[test]
    fn an_unknown_severity_is_refused_not_defaulted() {
        for bad in ["", "fatal", "Error", "info"] {
            assert!(Severity::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Severity>("\"fatal\"").is_err());
    }
}
