//! Money: integer minor units ("cents") with an ISO 4217 currency, and the only arithmetic the
//! product does on them (PRODUCT.md, "Pricing & billing").
//!
//! This module owns the rules every quote, invoice and proration relies on: amounts are `i64`
//! minor units, never floats; two currencies never mix; overflow is an error, never a wrap; every
//! division rounds the same documented way (half away from zero). Prices, line items and invoices
//! are built from these pieces elsewhere; nothing here knows about them.
//!
//! "Cents" means the currency's minor unit, whatever its exponent (a JPY amount's minor unit is
//! the yen): the arithmetic never needs the exponent, so this module does not carry one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an amount could not be made or computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The exact result does not fit in `i64` minor units.
    #[error("amount out of range")]
    Overflow,
    #[error("cannot combine {left} and {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    /// A negative amount where only zero or more makes sense (a discounted price, a fee).
    #[error("amount must not be negative")]
    Negative,
    #[error("`{0}` is not a currency code (three uppercase letters, ISO 4217)")]
    InvalidCurrency(String),
    /// More than 10,000 basis points (100 %).
    #[error("{0} basis points is more than 100 %")]
    InvalidBasisPoints(u32),
    /// A proration over zero days, or over more days than the period has.
    #[error("cannot prorate {numerator} days out of {denominator}")]
    InvalidProration { numerator: u32, denominator: u32 },
}

/// An amount in minor units. Signed, because credits and refunds are amounts too; the places
/// that must not go below zero say so with [`Money::non_negative`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    pub const ZERO: Self = Self(0);

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Self)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Self)
            .ok_or(MoneyError::Overflow)
    }

    /// A unit price times a quantity (line items, overage runs).
    pub fn checked_mul(self, quantity: u64) -> Result<Self, MoneyError> {
        let q = i64::try_from(quantity).map_err(|_| MoneyError::Overflow)?;
        self.0.checked_mul(q).map(Self).ok_or(MoneyError::Overflow)
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An ISO 4217 alphabetic code. Only the shape (three uppercase ASCII letters) is checked: which
/// currencies a deployment accepts is configuration, not a domain rule.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Self = Self(*b"USD");
    pub const EUR: Self = Self(*b"EUR");

    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        match s.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(MoneyError::InvalidCurrency(s.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a currency is ASCII by construction")
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

/// A share in basis points: 1 bp = 0.01 %, 10,000 bp = 100 %. Discounts are stored this way so
/// that "12.5 %" is exact without a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct BasisPoints(u16);

impl BasisPoints {
    pub const ZERO: Self = Self(0);
    pub const FULL: Self = Self(10_000);

    pub fn new(bps: u32) -> Result<Self, MoneyError> {
        u16::try_from(bps)
            .ok()
            .filter(|&b| b <= 10_000)
            .map(Self)
            .ok_or(MoneyError::InvalidBasisPoints(bps))
    }

    /// A whole percentage, as the API's `discount_percent` carries it.
    pub fn from_percent(percent: u32) -> Result<Self, MoneyError> {
        Self::new(percent.saturating_mul(100))
    }

    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

impl TryFrom<u32> for BasisPoints {
    type Error = MoneyError;
    fn try_from(bps: u32) -> Result<Self, Self::Error> {
        Self::new(bps)
    }
}

impl From<BasisPoints> for u32 {
    fn from(b: BasisPoints) -> Self {
        b.get()
    }
}

/// An amount in one currency. Serialized as `{"cents": <integer>, "currency": "<ISO code>"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub cents: Cents,
    pub currency: Currency,
}

impl Money {
    pub const fn new(cents: i64, currency: Currency) -> Self {
        Self {
            cents: Cents(cents),
            currency,
        }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    pub const fn is_negative(&self) -> bool {
        self.cents.0 < 0
    }

    /// This amount, or [`MoneyError::Negative`] — for fees and prices that cannot be credits.
    pub fn non_negative(self) -> Result<Self, MoneyError> {
        if self.is_negative() {
            Err(MoneyError::Negative)
        } else {
            Ok(self)
        }
    }

    fn same_currency(&self, other: &Self) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// The currency is checked before the amounts, so a mismatch is reported even when the sum
    /// would also overflow.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(&other)?;
        Ok(Self {
            cents: self.cents.checked_add(other.cents)?,
            currency,
        })
    }

    /// May go below zero (a credit); use [`Money::non_negative`] where that is not allowed.
    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(&other)?;
        Ok(Self {
            cents: self.cents.checked_sub(other.cents)?,
            currency,
        })
    }

    pub fn checked_mul(self, quantity: u64) -> Result<Self, MoneyError> {
        Ok(Self {
            cents: self.cents.checked_mul(quantity)?,
            currency: self.currency,
        })
    }

    /// These minor units, checked to be in `currency`: for storage that keeps one currency for
    /// several amounts (a quote row and its line items), where an amount in another currency
    /// would otherwise be silently relabelled.
    pub fn cents_in(self, currency: Currency) -> Result<Cents, MoneyError> {
        self.same_currency(&Self::zero(currency))?;
        Ok(self.cents)
    }

    /// The total of `items`, all in `currency`. The currency is given rather than taken from the
    /// first item so that an empty list still has one (zero of it).
    pub fn sum(
        currency: Currency,
        items: impl IntoIterator<Item = Money>,
    ) -> Result<Self, MoneyError> {
        items
            .into_iter()
            .try_fold(Self::zero(currency), |total, item| total.checked_add(item))
    }

    /// The amount a discount takes off: `self × bps / 10,000`, rounded half away from zero to a
    /// whole minor unit (so 12.5 % of 1 cent is 0 cents, of 3 cents is 0 cents (0.375), of 4
    /// cents is 1 cent (0.5)). Never more than `self`, never negative; a negative amount is
    /// refused, since discounting a credit has no meaning.
    pub fn discount(self, bps: BasisPoints) -> Result<Self, MoneyError> {
        let amount = self.non_negative()?.cents.0;
        let off = div_round_half_away(i128::from(amount) * i128::from(bps.get()), 10_000);
        Ok(Self {
            cents: Cents(narrow(off)?),
            currency: self.currency,
        })
    }

    /// `self` less its [`Money::discount`]: between zero and `self`, inclusive.
    pub fn apply_discount(self, bps: BasisPoints) -> Result<Self, MoneyError> {
        self.checked_sub(self.discount(bps)?)
    }
}

/// The one way an amount is written for people (emails, thread messages): whole units, a point,
/// two decimals, then the code — `1500.00 USD`, `-0.05 EUR`. No grouping separators, so the text
/// reads the same in every locale. Every currency gets two decimals: this module carries no
/// exponent (see the module comment), so a zero-decimal currency needs one before it is quoted.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.is_negative() { "-" } else { "" };
        let abs = self.cents.0.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

/// `amount × numerator_days / denominator_days`, rounded half away from zero to a whole minor
/// unit, computed in `i128` so the product never overflows. Used when a committed volume
/// increase is charged for the rest of the current period (flow 17). A part is never more than
/// the whole: `numerator_days` may not exceed `denominator_days`, which may not be zero. Negative
/// amounts (credits) prorate symmetrically.
pub fn prorate(
    amount: Money,
    numerator_days: u32,
    denominator_days: u32,
) -> Result<Money, MoneyError> {
    if denominator_days == 0 || numerator_days > denominator_days {
        return Err(MoneyError::InvalidProration {
            numerator: numerator_days,
            denominator: denominator_days,
        });
    }
    let exact = i128::from(amount.cents.0) * i128::from(numerator_days);
    let cents = div_round_half_away(exact, i128::from(denominator_days));
    Ok(Money {
        cents: Cents(narrow(cents)?),
        currency: amount.currency,
    })
}

/// `n / d` rounded to the nearest integer, ties away from zero. `d` must be positive.
fn div_round_half_away(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    let (q, r) = (n / d, n % d);
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

fn narrow(v: i128) -> Result<i64, MoneyError> {
    i64::try_from(v).map_err(|_| MoneyError::Overflow)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn usd(c: i64) -> Money {
        Money::new(c, Currency::USD)
    }

    fn bps(b: u32) -> BasisPoints {
        BasisPoints::new(b).unwrap()
    }

    fn currency() -> impl Strategy<Value = Currency> {
        "[A-Z]{3}".prop_map(|s| Currency::parse(&s).unwrap())
    }

    #[test]
    fn currencies_are_three_uppercase_letters() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
        for bad in ["usd", "US", "USDD", "", "U$D", "ÉUR", "12A"] {
            assert_eq!(
                Currency::parse(bad),
                Err(MoneyError::InvalidCurrency(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn money_serializes_as_integer_cents_and_a_currency_string() {
        let m = usd(12_345);
        let json = serde_json::to_value(m).unwrap();
        assert_eq!(json, serde_json::json!({"cents": 12345, "currency": "USD"}));
        assert_eq!(serde_json::from_value::<Money>(json).unwrap(), m);
        let bad = serde_json::json!({"cents": 1, "currency": "usd"});
        assert!(serde_json::from_value::<Money>(bad).is_err());
        let float = serde_json::json!({"cents": 1.5, "currency": "USD"});
        assert!(serde_json::from_value::<Money>(float).is_err());
    }

    #[test]
    fn discounts_round_half_away_from_zero() {
        let twelve_and_a_half = bps(1_250);
        assert_eq!(usd(3).discount(twelve_and_a_half), Ok(usd(0)));
        assert_eq!(usd(4).discount(twelve_and_a_half), Ok(usd(1)));
        assert_eq!(usd(12).discount(twelve_and_a_half), Ok(usd(2)));
        assert_eq!(usd(10_000).apply_discount(bps(1_000)), Ok(usd(9_000)));
        assert_eq!(usd(999).apply_discount(BasisPoints::FULL), Ok(usd(0)));
        assert_eq!(usd(999).apply_discount(BasisPoints::ZERO), Ok(usd(999)));
        assert_eq!(usd(-5).discount(bps(100)), Err(MoneyError::Negative));
    }

    #[test]
    fn basis_points_stop_at_one_hundred_percent() {
        assert_eq!(BasisPoints::from_percent(15), Ok(bps(1_500)));
        assert_eq!(
            BasisPoints::new(10_001),
            Err(MoneyError::InvalidBasisPoints(10_001))
        );
        assert!(BasisPoints::from_percent(u32::MAX).is_err());
        assert!(serde_json::from_str::<BasisPoints>("20000").is_err());
    }

    #[test]
    fn proration_is_integer_and_rounds_half_away_from_zero() {
        assert_eq!(prorate(usd(3_000), 15, 30), Ok(usd(1_500)));
        assert_eq!(prorate(usd(1_000), 1, 3), Ok(usd(333)));
        assert_eq!(prorate(usd(1_000), 2, 3), Ok(usd(667)));
        assert_eq!(prorate(usd(1), 1, 2), Ok(usd(1)));
        assert_eq!(prorate(usd(-1), 1, 2), Ok(usd(-1)));
        assert_eq!(prorate(usd(i64::MAX), 31, 31), Ok(usd(i64::MAX)));
        assert_eq!(
            prorate(usd(100), 1, 0),
            Err(MoneyError::InvalidProration {
                numerator: 1,
                denominator: 0
            })
        );
        assert!(prorate(usd(100), 32, 31).is_err());
    }

    #[test]
    fn the_sum_of_nothing_is_zero_in_the_given_currency() {
        assert_eq!(
            Money::sum(Currency::EUR, []),
            Ok(Money::zero(Currency::EUR))
        );
        assert_eq!(
            Money::sum(Currency::USD, [usd(1), usd(2), usd(3)]),
            Ok(usd(6))
        );
        assert_eq!(
            Money::sum(Currency::USD, [usd(i64::MAX), usd(1)]),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn a_sum_across_currencies_is_a_mismatch_even_when_it_would_overflow() {
        let eur = Money::new(1, Currency::EUR);
        assert_eq!(
            Money::sum(Currency::USD, [usd(1), eur]),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            })
        );
        assert_eq!(
            Money::sum(Currency::USD, [eur]),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            })
        );
        assert!(matches!(
            Money::sum(
                Currency::USD,
                [usd(i64::MAX), Money::new(i64::MAX, Currency::EUR)]
            ),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn money_is_shown_as_units_two_decimals_and_the_code() {
        assert_eq!(usd(150_000).to_string(), "1500.00 USD");
        assert_eq!(usd(5_900).to_string(), "59.00 USD");
        assert_eq!(usd(7).to_string(), "0.07 USD");
        assert_eq!(usd(0).to_string(), "0.00 USD");
        assert_eq!(Money::new(-5, Currency::EUR).to_string(), "-0.05 EUR");
        assert_eq!(usd(-12_345).to_string(), "-123.45 USD");
        assert_eq!(usd(i64::MAX).to_string(), "92233720368547758.07 USD");
        assert_eq!(usd(i64::MIN).to_string(), "-92233720368547758.08 USD");
    }

    #[test]
    fn cents_in_the_storage_currency_are_refused_for_another_currency() {
        assert_eq!(usd(42).cents_in(Currency::USD), Ok(Cents(42)));
        assert_eq!(
            usd(42).cents_in(Currency::EUR),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            })
        );
    }

    #[test]
    fn multiplying_by_a_quantity_beyond_i64_overflows() {
        assert_eq!(usd(0).checked_mul(u64::MAX), Err(MoneyError::Overflow));
        assert_eq!(usd(250).checked_mul(4), Ok(usd(1_000)));
        assert_eq!(usd(i64::MAX).checked_mul(2), Err(MoneyError::Overflow));
    }

    proptest! {
        #[test]
        fn addition_is_commutative(a: i64, b: i64) {
            prop_assert_eq!(usd(a).checked_add(usd(b)), usd(b).checked_add(usd(a)));
        }

        #[test]
        fn addition_is_associative_when_nothing_overflows(
            a in i64::MIN / 3..=i64::MAX / 3,
            b in i64::MIN / 3..=i64::MAX / 3,
            c in i64::MIN / 3..=i64::MAX / 3,
        ) {
            let left = usd(a).checked_add(usd(b)).and_then(|ab| ab.checked_add(usd(c)));
            let right = usd(b).checked_add(usd(c)).and_then(|bc| usd(a).checked_add(bc));
            prop_assert!(left.is_ok());
            prop_assert_eq!(left, right);
        }

        #[test]
        fn addition_is_associative_whenever_both_groupings_succeed(a: i64, b: i64, c: i64) {
            let left = usd(a).checked_add(usd(b)).and_then(|ab| ab.checked_add(usd(c)));
            let right = usd(b).checked_add(usd(c)).and_then(|bc| usd(a).checked_add(bc));
            if let (Ok(l), Ok(r)) = (&left, &right) {
                prop_assert_eq!(l, r);
            }
        }

        #[test]
        fn overflow_is_reported_never_wrapped(a: i64, b: i64, q: u64) {
            let exact = i128::from(a) + i128::from(b);
            match usd(a).checked_add(usd(b)) {
                Ok(m) => prop_assert_eq!(i128::from(m.cents.get()), exact),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(i64::try_from(exact).is_err());
                }
            }
            let exact = i128::from(a) - i128::from(b);
            match usd(a).checked_sub(usd(b)) {
                Ok(m) => prop_assert_eq!(i128::from(m.cents.get()), exact),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(i64::try_from(exact).is_err());
                }
            }
            let exact = i128::from(a) * i128::from(q);
            match usd(a).checked_mul(q) {
                Ok(m) => prop_assert_eq!(i128::from(m.cents.get()), exact),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(i64::try_from(exact).is_err() || i64::try_from(q).is_err());
                }
            }
        }

        #[test]
        fn different_currencies_never_combine(
            a: i64, b: i64, x in currency(), y in currency(),
        ) {
            prop_assume!(x != y);
            let mismatch = MoneyError::CurrencyMismatch { left: x, right: y };
            prop_assert_eq!(Money::new(a, x).checked_add(Money::new(b, y)), Err(mismatch.clone()));
            prop_assert_eq!(Money::new(a, x).checked_sub(Money::new(b, y)), Err(mismatch));
            let summed = Money::sum(x, [Money::new(a, x), Money::new(b, y)]);
            let is_mismatch = matches!(summed, Err(MoneyError::CurrencyMismatch { .. }));
            prop_assert!(is_mismatch, "sum across currencies gave {:?}", summed);
        }

        #[test]
        fn a_discount_never_goes_below_zero_nor_above_the_original(
            amount in 0..=i64::MAX, b in 0u32..=10_000,
        ) {
            let original = usd(amount);
            let off = original.discount(bps(b)).unwrap();
            let discounted = original.apply_discount(bps(b)).unwrap();
            prop_assert!(discounted.cents.get() >= 0);
            prop_assert!(discounted.cents <= original.cents);
            prop_assert!(off.cents.get() >= 0);
            prop_assert_eq!(off.checked_add(discounted), Ok(original));
        }

        #[test]
        fn discounting_a_negative_amount_is_refused(amount in i64::MIN..0, b in 0u32..=10_000) {
            prop_assert_eq!(usd(amount).apply_discount(bps(b)), Err(MoneyError::Negative));
        }

        #[test]
        fn a_proration_is_never_more_than_the_whole(
            amount: i64, d in 1u32..=366, n_frac in 0u32..=366,
        ) {
            let n = n_frac % (d + 1);
            let part = prorate(usd(amount), n, d).unwrap();
            prop_assert!(part.cents.get().unsigned_abs() <= amount.unsigned_abs());
            prop_assert!(part.cents.get() == 0 || part.cents.get().signum() == amount.signum());
            if n == d {
                prop_assert_eq!(part, usd(amount));
            }
            if n == 0 {
                prop_assert_eq!(part, usd(0));
            }
        }
    }
}
