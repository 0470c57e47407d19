//! Billing arithmetic (PRODUCT.md flows 17 and 20): billing periods, day-based proration,
//! overage, the decision of when a committed-volume change applies, and invoice line assembly.
//!
//! This module owns the numbers an invoice is made of, so that they are exact: every amount is
//! [`Money`], every rounding is documented where it happens, and every split of an amount into
//! parts gives parts that add up to the whole, to the cent. Where an invoice is stored, how it is
//! charged and when the finalization worker runs are the storage's and the host's business.
//!
//! A billing period is a UTC calendar month ([`BillingPeriod`]). Nothing here reads a clock: the
//! caller passes the instant.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};

/// Why a billing computation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    /// Not `YYYY-MM` with a month from 01 to 12 (and a year from 0001 to 9999).
    #[error("`{0}` is not a billing period (YYYY-MM)")]
    InvalidPeriod(String),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A UTC calendar month: the unit of billing (flow 20). Written `YYYY-MM` on the wire and in
/// storage; ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BillingPeriod {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl BillingPeriod {
    /// The period `year`-`month`, if the month exists (years 1 to 9999, so `YYYY` is four digits).
    pub fn new(year: i32, month: u32) -> Result<Self, BillingError> {
        if (1..=9999).contains(&year) && (1..=12).contains(&month) {
            Ok(Self { year, month })
        } else {
            Err(BillingError::InvalidPeriod(format!("{year:04}-{month:02}")))
        }
    }

    /// Parses exactly `YYYY-MM` (four digits, a hyphen, two digits); nothing else is accepted, so
    /// one period has one spelling.
    pub fn parse(s: &str) -> Result<Self, BillingError> {
        let invalid = || BillingError::InvalidPeriod(s.to_owned());
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 7 || b[4] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(invalid());
        }
        let year = s[0..4].parse().map_err(|_| invalid())?;
        let month = s[5..7].parse().map_err(|_| invalid())?;
        Self::new(year, month).map_err(|_| invalid())
    }

    /// The period an instant falls in.
    pub fn containing(at: DateTime<Utc>) -> Self {
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    pub const fn year(self) -> i32 {
        self.year
    }

    pub const fn month(self) -> u32 {
        self.month
    }

    fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a period is a real month")
    }

    /// The next month (December → January of the next year). Past 9999-12 there is none.
    pub fn next(self) -> Option<Self> {
        let (year, month) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Self::new(year, month).ok()
    }

    /// The month before (January → December of the year before). Before 0001-01 there is none.
    pub fn previous(self) -> Option<Self> {
        let (year, month) = if self.month == 1 {
            (self.year - 1, 12)
        } else {
            (self.year, self.month - 1)
        };
        Self::new(year, month).ok()
    }

    /// The first instant of the period: the 1st, 00:00:00 UTC.
    pub fn first_instant(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.first_day().and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// The first instant after the period, i.e. where the next one starts. Periods are
    /// half-open, `[first_instant, end)`, so consecutive ones neither overlap nor leave a gap.
    pub fn end(self) -> DateTime<Utc> {
        self.first_instant() + TimeDelta::days(i64::from(self.days()))
    }

    /// The last instant of the period (the last day, 23:59:59.999999999 UTC), for display and
    /// inclusive queries; comparisons should use [`BillingPeriod::end`].
    pub fn last_instant(self) -> DateTime<Utc> {
        self.end() - TimeDelta::nanoseconds(1)
    }

    /// How many days the month has (28 to 31).
    pub fn days(self) -> u32 {
        let next = if self.month == 12 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.month + 1, 1)
        }
        .expect("the day after a real month exists");
        u32::try_from((next - self.first_day()).num_days()).expect("28 to 31")
    }

    pub fn contains(self, at: DateTime<Utc>) -> bool {
        self.first_instant() <= at && at < self.end()
    }
}

impl fmt::Display for BillingPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for BillingPeriod {
    type Err = BillingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BillingPeriod {
    type Error = BillingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BillingPeriod> for String {
    fn from(p: BillingPeriod) -> Self {
        p.to_string()
    }
}

/// The part of `total` that falls on days `[from_day, to_day)` (0-based) of a `days`-day period.
///
/// Formula: `R(total × to_day / days) − R(total × from_day / days)`, where `R` rounds half away
/// from zero to a whole cent ([`crate::money::prorate`]). Rounding the *cumulative* amount at
/// each day boundary, instead of each part on its own, is what distributes the remainder: the
/// parts of any split of the period into consecutive ranges telescope to exactly `total`, so no
/// cent is lost or invented however the month is cut (a per-part rounding would turn 1 cent over
/// two half-months into 1 + 1). Each single day gets ⌊total / days⌋ or ⌈total / days⌉.
///
/// `from_day ≤ to_day ≤ days` and `days > 0`, else [`MoneyError::InvalidProration`].
pub fn share_of_days(
    total: Money,
    from_day: u32,
    to_day: u32,
    days: u32,
) -> Result<Money, MoneyError> {
    if from_day > to_day {
        return Err(MoneyError::InvalidProration {
            numerator: from_day,
            denominator: to_day,
        });
    }
    let upto = crate::money::prorate(total, to_day, days)?;
    let before = crate::money::prorate(total, from_day, days)?;
    upto.checked_sub(before)
}

/// A monthly amount split at an instant: what the rest of the month costs, and what the part
/// already gone would have. `charged + elapsed = monthly`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proration {
    pub period: BillingPeriod,
    /// Days charged: from the day of the change (included: it "applies now") to the month's end.
    pub remaining_days: u32,
    pub period_days: u32,
    /// The amount for the remaining days.
    pub charged: Money,
    /// The amount for the days before the change, not charged.
    pub elapsed: Money,
}

/// Day-based proration of a monthly amount for the rest of the UTC calendar month containing
/// `at` (flow 17).
///
/// With `d` the month's days and `k = day_of_month(at) − 1` the whole days already gone, the
/// charge is [`share_of_days`]`(monthly, k, d, d)` = `monthly − R(monthly × k / d)`, `R` rounding
/// half away from zero to the cent. The day of the change is charged in full, whatever the
/// hour: the new commitment applies from that day. Example: 3,100 ¢ on 2026-03-17 (31 days,
/// 16 gone) charges 3,100 − R(1,600) = 1,500 ¢ for 15 days. A negative monthly amount (a credit)
/// is refused: decreases apply from the next period instead (see [`VolumeChange`]).
pub fn prorate_rest_of_month(monthly: Money, at: DateTime<Utc>) -> Result<Proration, MoneyError> {
    let monthly = monthly.non_negative()?;
    let period = BillingPeriod::containing(at);
    let period_days = period.days();
    let gone = at.day() - 1;
    let charged = share_of_days(monthly, gone, period_days, period_days)?;
    let elapsed = share_of_days(monthly, 0, gone, period_days)?;
    Ok(Proration {
        period,
        remaining_days: period_days - gone,
        period_days,
        charged,
        elapsed,
    })
}

/// Runs beyond the committed volume and what they cost (flow 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overage {
    /// `runs − committed`, or zero when usage stayed within the commitment.
    pub runs: u64,
    pub unit: Money,
    /// `runs × unit`, exactly (checked: an overflow is an error, never a wrap).
    pub amount: Money,
}

/// Overage for a period: every run above `committed` costs `unit`. Nothing is rounded: the amount
/// is an integer product.
pub fn overage(runs: u64, committed: u64, unit: Money) -> Result<Overage, MoneyError> {
    let unit = unit.non_negative()?;
    let over = runs.saturating_sub(committed);
    Ok(Overage {
        runs: over,
        unit,
        amount: unit.checked_mul(over)?,
    })
}

/// When a committed-volume change (flow 17) takes effect and what it charges now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeChange {
    pub effective_at: DateTime<Utc>,
    /// The prorated difference of the monthly fees for the rest of the current month when the
    /// commitment goes up; zero otherwise.
    pub prorated_charge: Money,
}

/// Decides a committed-volume change requested at `at`: an increase (more runs) applies at
/// once, charged [`prorate_rest_of_month`] of `new_monthly − old_monthly` (never below zero: a
/// re-price that makes more runs cheaper charges nothing); a decrease, or no change, applies from
/// the first instant of the next period and charges nothing now.
pub fn volume_change(
    old_runs: u64,
    new_runs: u64,
    old_monthly: Money,
    new_monthly: Money,
    at: DateTime<Utc>,
) -> Result<VolumeChange, BillingError> {
    let zero = Money::zero(new_monthly.currency);
    if new_runs > old_runs {
        let difference = new_monthly.checked_sub(old_monthly)?;
        let prorated_charge = if difference.is_negative() {
            zero
        } else {
            prorate_rest_of_month(difference, at)?.charged
        };
        return Ok(VolumeChange {
            effective_at: at,
            prorated_charge,
        });
    }
    // Currencies are still checked, so a mismatch is refused the same either way.
    old_monthly.checked_sub(new_monthly)?;
    Ok(VolumeChange {
        effective_at: BillingPeriod::containing(at).end(),
        prorated_charge: zero,
    })
}

/// The kind of an invoice line, its stable `code` in the API's `lines`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    MonthlyFee,
    Overage,
    Proration,
}

crate::roles::named_enum!(LineKind, "invoice line kind", {
    MonthlyFee => "monthly_fee",
    Overage => "overage",
    Proration => "proration",
});

/// One line of an invoice. `amount = unit × quantity`, always: lines are only made by
/// [`InvoiceLine::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub kind: LineKind,
    pub description: String,
    pub quantity: u64,
    pub unit: Money,
    pub amount: Money,
}

impl InvoiceLine {
    pub fn new(
        kind: LineKind,
        description: impl Into<String>,
        quantity: u64,
        unit: Money,
    ) -> Result<Self, MoneyError> {
        Ok(Self {
            kind,
            description: description.into(),
            quantity,
            unit,
            amount: unit.checked_mul(quantity)?,
        })
    }
}

/// One subscription's facts for a period: what it commits to and what it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionUsage {
    /// What the lines say, e.g. the automation's name.
    pub label: String,
    pub committed_runs: u64,
    pub monthly_fee: Money,
    pub overage_unit: Money,
    /// Runs counted in the period (the usage counters).
    pub runs: u64,
}

/// A prorated charge made during the period (flow 17), billed on its invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProratedCharge {
    pub label: String,
    pub amount: Money,
}

/// The lines of one workspace's invoice for one period, and their total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDraft {
    pub period: BillingPeriod,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    /// `Money::sum` of the lines' amounts.
    pub total: Money,
}

/// Assembles a period's invoice (flow 20): per subscription, a `monthly_fee` line (quantity 1)
/// and, when usage went past the commitment, an `overage` line (quantity = runs over, unit = the
/// overage price); then one `proration` line per prorated charge. Lines keep the order given.
/// Every amount must be in `currency` and none may be negative; the total is the exact sum.
pub fn assemble_invoice(
    period: BillingPeriod,
    currency: Currency,
    subscriptions: &[SubscriptionUsage],
    prorations: &[ProratedCharge],
) -> Result<InvoiceDraft, MoneyError> {
    let in_currency = |m: Money| -> Result<Money, MoneyError> {
        Money::zero(currency).checked_add(m.non_negative()?)
    };
    let mut lines = Vec::new();
    for s in subscriptions {
        let fee = in_currency(s.monthly_fee)?;
        lines.push(InvoiceLine::new(
            LineKind::MonthlyFee,
            format!(
                "{}: monthly fee ({} runs committed)",
                s.label, s.committed_runs
            ),
            1,
            fee,
        )?);
        let over = overage(s.runs, s.committed_runs, in_currency(s.overage_unit)?)?;
        if over.runs > 0 {
            lines.push(InvoiceLine::new(
                LineKind::Overage,
                format!(
                    "{}: {} runs over the {} committed",
                    s.label, over.runs, s.committed_runs
                ),
                over.runs,
                over.unit,
            )?);
        }
    }
    for p in prorations {
        lines.push(InvoiceLine::new(
            LineKind::Proration,
            format!("{}: prorated change", p.label),
            1,
            in_currency(p.amount)?,
        )?);
    }
    let total = Money::sum(currency, lines.iter().map(|l| l.amount))?;
    Ok(InvoiceDraft {
        period,
        currency,
        lines,
        total,
    })
}

#[cfg(test)]
mod tests;
