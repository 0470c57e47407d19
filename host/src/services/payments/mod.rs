//! Payment providers (flows 16, 17, 20): putting a payer's payment method on file and charging
//! amounts to it, behind one trait with two implementations.
//!
//! - [`manual`] (built in, the default): the method is "invoice". Charging issues an invoice
//!   reference that ops mark paid out of band; nothing leaves the process.
//! - [`stripe`]: Stripe's HTTP API (a Customer, the PaymentMethod attached to it, a confirmed
//!   PaymentIntent per charge), with `Idempotency-Key`s derived from the caller's key.
//!
//! This module knows nothing of HTTP servers, sessions or storage: the sign, committed-volume
//! and finalization services call it between two tenant transactions (claim the charge, then
//! record its outcome), and map [`PaymentError`] to problem+json once (`Declined` → 402
//! `payment_failed`). A charge is keyed by the caller ([`IdempotencyKey`], e.g. the quote id and
//! revision): calling again with the same key and method never charges twice.

pub mod manual;
pub mod stripe;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wrk_core::money::Money;

use crate::config::{Config, PaymentProvider as ProviderSetting};

/// Why a payment step failed. Only `Declined` is the payer's to fix; the host shows its
/// `message` (the provider's, meant for the cardholder) and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The provider refused the payment: a card error. `code` is the decline code when the
    /// provider gives one (`insufficient_funds`, `generic_decline`), else its error code
    /// (`card_declined`). → 402 `payment_failed`.
    #[error("payment declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// The request cannot succeed as made: a method of another provider, an unknown payment
    /// method id, a zero amount. → 422.
    #[error("invalid payment request: {0}")]
    Invalid(String),
    /// The provider could not be reached, timed out, is rate limiting, or is still processing
    /// the same key: the same call may be retried later. → 503.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bad secret key, an answer that makes no sense. Not the payer's fault
    /// and not worth retrying as is. → 500 (the cause goes to the log).
    #[error("payment provider error: {0}")]
    Provider(String),
}

/// The payer's choice of method, as the sign request carries it (API.md):
/// `{"type":"manual"}` or `{"type":"stripe","payment_method_id":"pm_..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentMethod {
    /// A struct variant, not a unit one, so that serde refuses unknown fields here too.
    Manual {},
    Stripe {
        payment_method_id: String,
    },
}

/// Which implementation a method on file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Manual,
    Stripe,
}

impl ProviderKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Stripe => "stripe",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who pays: one workspace. `reference` is stable (the tenant id) and is how a provider finds
/// the customer it made for this payer before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payer {
    pub reference: String,
    pub name: String,
    pub email: String,
}

/// A caller's key for one charge, e.g. `quote:<id>:r<revision>:setup_fee` or `invoice:<id>`.
/// The same key means the same charge: providers derive their own idempotency keys from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest accepted key: Stripe allows 255 characters and derived keys add a suffix.
    pub const MAX_LEN: usize = 200;

    /// A key of 1 to [`Self::MAX_LEN`] visible ASCII characters (no spaces), so it can travel in
    /// a header and in metadata unchanged.
    pub fn new(key: impl Into<String>) -> Result<Self, PaymentError> {
        let key = key.into();
        if key.is_empty() || key.len() > Self::MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(PaymentError::Invalid(format!(
                "an idempotency key is 1 to {} visible ASCII characters",
                Self::MAX_LEN
            )));
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A payment method the provider holds for a payer: what the host stores with the
/// subscription, so later charges (prorations, invoices, dunning) need no new input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodOnFile {
    pub provider: ProviderKind,
    /// The provider's customer id (`cus_...`); none for `manual`.
    pub customer: Option<String>,
    /// The provider's id of the attached method (`pm_...`); none for `manual`.
    pub method: Option<String>,
    /// The method id the payer gave, which can differ from `method` (Stripe test ids such as
    /// `pm_card_visa` become a fresh id when attached). Charge keys are derived from it, so a
    /// retry that attaches the same input again still finds the first charge.
    pub requested: Option<String>,
}

/// What a successful charge produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Charge {
    /// The money was taken (Stripe: the PaymentIntent `succeeded`).
    Paid {
        /// The provider's id of the payment (`pi_...`).
        reference: String,
        amount: Money,
    },
    /// An invoice was issued for `amount`, to be marked paid out of band (manual provider).
    Invoiced { reference: String, amount: Money },
}

impl Charge {
    pub fn reference(&self) -> &str {
        match self {
            Self::Paid { reference, .. } | Self::Invoiced { reference, .. } => reference,
        }
    }
}

/// What a provider's operations return: boxed so the trait stays object-safe (`Arc<dyn
/// PaymentProvider>` in the app state) without an extra crate.
pub type PaymentFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PaymentError>> + Send + 'a>>;

/// A payment provider. Both operations are idempotent per `key`: the same call made again
/// (after a timeout, a crash, a double click) returns the first outcome and never charges twice.
pub trait PaymentProvider: Send + Sync + fmt::Debug {
    fn kind(&self) -> ProviderKind;

    /// What the payer is told the method is: `invoice` or `card`.
    fn method_name(&self) -> &'static str;

    /// Puts `method` on file for `payer`. A method of another provider is `Invalid`; a card the
    /// provider refuses already here is `Declined`.
    fn set_up<'a>(
        &'a self,
        payer: &'a Payer,
        method: &'a PaymentMethod,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, MethodOnFile>;

    /// Charges `amount` (more than zero) to a method this provider put on file. `description`
    /// is shown on the payer's statement or invoice.
    fn charge<'a>(
        &'a self,
        on_file: &'a MethodOnFile,
        amount: Money,
        description: &'a str,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, Charge>;
}

/// The provider `WRK_PAYMENT_PROVIDER` names. `stripe` needs `WRK_STRIPE_SECRET_KEY`.
pub fn from_config(config: &Config) -> Result<Arc<dyn PaymentProvider>, PaymentError> {
    match config.payment_provider {
        ProviderSetting::Manual => Ok(Arc::new(manual::Manual)),
        ProviderSetting::Stripe => {
            let key = config.stripe_secret_key.clone().ok_or_else(|| {
                PaymentError::Invalid(
                    "WRK_PAYMENT_PROVIDER=stripe needs WRK_STRIPE_SECRET_KEY".into(),
                )
            })?;
            Ok(Arc::new(stripe::Stripe::new(&config.stripe_api_base, key)?))
        }
    }
}

/// A charge must be for something: both providers refuse zero and negative amounts (a setup fee
/// of zero is simply not charged).
fn positive(amount: Money) -> Result<Money, PaymentError> {
    if amount.cents.get() > 0 {
        Ok(amount)
    } else {
        Err(PaymentError::Invalid(format!(
            "a charge must be more than zero, not {} {}",
            amount.cents, amount.currency
        )))
    }
}

/// Refuses a method on file that another provider made.
fn check_provider(on_file: &MethodOnFile, kind: ProviderKind) -> Result<(), PaymentError> {
    if on_file.provider == kind {
        Ok(())
    } else {
        Err(PaymentError::Invalid(format!(
            "the payment method on file is a {} one, not {kind}",
            on_file.provider
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_methods_parse_the_api_shapes_and_nothing_else() {
        let manual: PaymentMethod = serde_json::from_str(r#"{"type":"manual"}"#).unwrap();
        assert_eq!(manual, PaymentMethod::Manual {});
        let stripe: PaymentMethod =
            serde_json::from_str(r#"{"type":"stripe","payment_method_id":"pm_card_visa"}"#)
                .unwrap();
        assert_eq!(
            stripe,
            PaymentMethod::Stripe {
                payment_method_id: "pm_card_visa".into()
            }
        );
        for bad in [
            r#"{"type":"paypal"}"#,
            r#"{"type":"stripe"}"#,
            r#"{"type":"manual","card":"4242"}"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<PaymentMethod>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert!(IdempotencyKey::new("quote:0192f1c2:r2:setup_fee").is_ok());
        for bad in [String::new(), "a b".into(), "é".into(), "k".repeat(201)] {
            assert!(
                matches!(
                    IdempotencyKey::new(bad.clone()),
                    Err(PaymentError::Invalid(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_configured_provider_is_built_and_stripe_needs_its_secret_key() {
        let mut config = Config::load(&crate::config::Settings::default(), None, &[]).unwrap();
        assert_eq!(from_config(&config).unwrap().kind(), ProviderKind::Manual);
        config.payment_provider = ProviderSetting::Stripe;
        assert!(matches!(
            from_config(&config),
            Err(PaymentError::Invalid(_))
        ));
        config.stripe_secret_key = Some("sk_test_123".into());
        assert_eq!(from_config(&config).unwrap().kind(), ProviderKind::Stripe);
    }
}
