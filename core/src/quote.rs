//! The vocabulary of a quote's line items (PRODUCT.md, "Pricing & billing").
//!
//! Amounts are [`crate::money::Money`]; this module names what a line is charged for, so the
//! storage and the host stop passing `"one_time"` and `"monthly"` around as strings. It knows
//! nothing of how a quote is stored or shown.

use serde::{Deserialize, Serialize};

use crate::roles::named_enum;

/// How often a line item is charged: once (it adds to the setup fee) or every month (it adds to
/// the monthly fee).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    OneTime,
    Monthly,
}

named_enum!(Recurrence, "recurrence", {
    OneTime => "one_time",
    Monthly => "monthly",
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::assert_names_round_trip;

    #[test]
    fn every_recurrence_round_trips_and_an_unknown_one_is_refused_not_defaulted() {
        assert_names_round_trip(Recurrence::ALL, &["", "yearly", "Monthly", "one-time"]);
        assert_eq!(Recurrence::OneTime.as_str(), "one_time");
    }
}
