//! Stripe, through its HTTP API (form-encoded requests, the secret key as a bearer token), with
//! `WRK_STRIPE_API_BASE` to point it elsewhere (tests use localstripe).
//!
//! Setting a method up finds or creates the payer's Customer (found again by the
//! `metadata[wrk_payer]` it was created with) and attaches the PaymentMethod to it. A charge is
//! one PaymentIntent, created and confirmed off-session in one request.
//!
//! No charge is made twice for one caller key, in two ways:
//! - every POST carries an `Idempotency-Key` derived from the caller's key (for a charge:
//!   `wrk:<key>:charge:<the payer's method id>`), so Stripe itself answers a repeat, even a
//!   concurrent one, with the first result. The method id is part of it because Stripe refuses a
//!   key reused with other parameters: after a decline, a new card is a new attempt.
//! - before creating a PaymentIntent, the customer's recent charges are searched for one whose
//!   PaymentIntent carries that derived key in `metadata[wrk_idempotency_key]`. That covers what
//!   the header does not: Stripe forgets keys after 24 hours (a dunning retry days later), and
//!   servers that ignore the header (localstripe does). It is a read then a write, so two
//!   *simultaneous* first calls are only kept apart by the header; the host claims a charge in
//!   its own database before calling, which covers that too.
//!
//! Declines (`type: card_error`, or HTTP 402, which is how localstripe reports them) become
//! [`PaymentError::Declined`] with Stripe's `decline_code` (or `code`) and its message.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use wrk_core::money::Money;

use super::{
    Charge, IdempotencyKey, MethodOnFile, Payer, PaymentError, PaymentFuture, PaymentMethod,
    PaymentProvider, ProviderKind, check_provider, positive,
};

/// Each request to Stripe gets this long, then the call is `Unavailable` (and safe to repeat).
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How many of the customer's newest charges are searched for an earlier attempt (Stripe's
/// largest page).
const LOOKBACK: &str = "100";

pub struct Stripe {
    http: reqwest::Client,
    /// `WRK_STRIPE_API_BASE` without a trailing slash; paths start with `/v1/`.
    base: String,
    secret_key: String,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Stripe {
    /// A client for the API at `base` (e.g. `https://api.stripe.com`) with a secret key.
    pub fn new(base: &str, secret_key: String) -> Result<Self, PaymentError> {
        let url = Url::parse(base)
            .map_err(|e| PaymentError::Invalid(format!("WRK_STRIPE_API_BASE `{base}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(PaymentError::Invalid(format!(
                "WRK_STRIPE_API_BASE `{base}` is not an http(s) base URL"
            )));
        }
        // No redirects: the API answers where it is asked, and the key must not follow a
        // redirect elsewhere.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| PaymentError::Provider(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            secret_key,
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        idempotency_key: Option<&str>,
    ) -> Result<Value, PaymentError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.secret_key);
        req = if method == Method::GET {
            req.query(params)
        } else {
            req.form(params)
        };
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        let res = req
            .send()
            .await
            .map_err(|e| PaymentError::Unavailable(format!("{method} {path}: {e}")))?;
        let status = res.status();
        let body: Value = res.json().await.map_err(|e| {
            PaymentError::Unavailable(format!(
                "{method} {path}: unreadable answer ({status}): {e}"
            ))
        })?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(api_error(status, &body))
        }
    }

    /// The customer made for this payer before (by `metadata[wrk_payer]`, among the customers
    /// with the payer's email), or a new one.
    async fn customer(&self, payer: &Payer, key: &IdempotencyKey) -> Result<String, PaymentError> {
        let found = self
            .call(
                Method::GET,
                "/v1/customers",
                &[("email", &payer.email), ("limit", LOOKBACK)],
                None,
            )
            .await?;
        let existing = list(&found)?
            .iter()
            .find(|c| c["metadata"]["wrk_payer"].as_str() == Some(payer.reference.as_str()));
        if let Some(c) = existing {
            return id_of(c);
        }
        let created = self
            .call(
                Method::POST,
                "/v1/customers",
                &[
                    ("name", &payer.name),
                    ("email", &payer.email),
                    ("metadata[wrk_payer]", &payer.reference),
                ],
                Some(&format!("wrk:{key}:customer")),
            )
            .await?;
        id_of(&created)
    }

    /// The PaymentIntent an earlier call with this derived key made, if any.
    async fn earlier_payment(
        &self,
        customer: &str,
        charge_key: &str,
    ) -> Result<Option<Value>, PaymentError> {
        let charges = self
            .call(
                Method::GET,
                "/v1/charges",
                &[
                    ("customer", customer),
                    ("limit", LOOKBACK),
                    ("expand[]", "data.payment_intent"),
                ],
                None,
            )
            .await?;
        Ok(list(&charges)?
            .iter()
            .map(|c| &c["payment_intent"])
            .find(|pi| pi["metadata"]["wrk_idempotency_key"].as_str() == Some(charge_key))
            .cloned())
    }

    async fn set_up_method(
        &self,
        payer: &Payer,
        method: &PaymentMethod,
        key: &IdempotencyKey,
    ) -> Result<MethodOnFile, PaymentError> {
        let PaymentMethod::Stripe { payment_method_id } = method else {
            return Err(PaymentError::Invalid(
                "this workspace pays by card: the payment method is \
                 {\"type\":\"stripe\",\"payment_method_id\":\"pm_...\"}"
                    .into(),
            ));
        };
        let requested = stripe_id(payment_method_id, "pm_")?;
        let customer = self.customer(payer, key).await?;
        let attached = self
            .call(
                Method::POST,
                &format!("/v1/payment_methods/{requested}/attach"),
                &[("customer", &customer)],
                Some(&format!("wrk:{key}:attach:{requested}")),
            )
            .await?;
        Ok(MethodOnFile {
            provider: ProviderKind::Stripe,
            customer: Some(customer),
            method: Some(id_of(&attached)?),
            requested: Some(requested.to_owned()),
        })
    }

    async fn charge_method(
        &self,
        on_file: &MethodOnFile,
        amount: Money,
        description: &str,
        key: &IdempotencyKey,
    ) -> Result<Charge, PaymentError> {
        check_provider(on_file, ProviderKind::Stripe)?;
        let amount = positive(amount)?;
        let (Some(customer), Some(method)) = (&on_file.customer, &on_file.method) else {
            return Err(PaymentError::Invalid(
                "the Stripe method on file has no customer or payment method".into(),
            ));
        };
        let requested = on_file.requested.as_deref().unwrap_or(method);
        let charge_key = format!("wrk:{key}:charge:{requested}");
        if let Some(pi) = self.earlier_payment(customer, &charge_key).await? {
            return outcome(&pi, amount);
        }
        let cents = amount.cents.get().to_string();
        let currency = amount.currency.as_str().to_ascii_lowercase();
        let created = self
            .call(
                Method::POST,
                "/v1/payment_intents",
                &[
                    ("amount", &cents),
                    ("currency", &currency),
                    ("customer", customer),
                    ("payment_method", method),
                    ("payment_method_types[]", "card"),
                    ("confirm", "true"),
                    ("off_session", "true"),
                    ("metadata[wrk_idempotency_key]", &charge_key),
                    // In metadata, not `description`: localstripe refuses that field.
                    ("metadata[wrk_description]", description),
                ],
                Some(&charge_key),
            )
            .await?;
        outcome(&created, amount)
    }
}

impl PaymentProvider for Stripe {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Stripe
    }

    fn method_name(&self) -> &'static str {
        "card"
    }

    fn set_up<'a>(
        &'a self,
        payer: &'a Payer,
        method: &'a PaymentMethod,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, MethodOnFile> {
        Box::pin(self.set_up_method(payer, method, key))
    }

    fn charge<'a>(
        &'a self,
        on_file: &'a MethodOnFile,
        amount: Money,
        description: &'a str,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, Charge> {
        Box::pin(self.charge_method(on_file, amount, description, key))
    }
}

/// A Stripe id given by the payer, checked before it goes into a URL path: the prefix, then
/// letters, digits and underscores only.
fn stripe_id<'a>(id: &'a str, prefix: &str) -> Result<&'a str, PaymentError> {
    let rest = id.strip_prefix(prefix).unwrap_or_default();
    if rest.is_empty()
        || id.len() > 255
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(PaymentError::Invalid(format!(
            "`{id}` is not a Stripe payment method id ({prefix}...)"
        )));
    }
    Ok(id)
}

fn id_of(object: &Value) -> Result<String, PaymentError> {
    object["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PaymentError::Provider("Stripe answered an object without an id".into()))
}

fn list(answer: &Value) -> Result<&Vec<Value>, PaymentError> {
    answer["data"]
        .as_array()
        .ok_or_else(|| PaymentError::Provider("Stripe answered a list without data".into()))
}

/// What a PaymentIntent's status means for the charge.
fn outcome(pi: &Value, amount: Money) -> Result<Charge, PaymentError> {
    let reference = id_of(pi)?;
    match pi["status"].as_str().unwrap_or_default() {
        "succeeded" => Ok(Charge::Paid { reference, amount }),
        "processing" => Err(PaymentError::Unavailable(format!(
            "payment {reference} is still processing"
        ))),
        "requires_action" => Err(PaymentError::Declined {
            code: "authentication_required".into(),
            message: "The card needs an authentication the payer has to complete.".into(),
        }),
        "requires_payment_method" => Err(declined(&pi["last_payment_error"])),
        other => Err(PaymentError::Provider(format!(
            "payment {reference} is `{other}`"
        ))),
    }
}

fn declined(error: &Value) -> PaymentError {
    let text = |k: &str| error[k].as_str().filter(|s| !s.is_empty());
    PaymentError::Declined {
        code: text("decline_code")
            .or_else(|| text("code"))
            .unwrap_or("card_declined")
            .to_owned(),
        message: text("message")
            .unwrap_or("Your card was declined.")
            .to_owned(),
    }
}

/// Stripe's error answer as a [`PaymentError`] (https://docs.stripe.com/api/errors).
fn api_error(status: StatusCode, body: &Value) -> PaymentError {
    let error = &body["error"];
    let message = error["message"].as_str().unwrap_or("no message").to_owned();
    let kind = error["type"].as_str().unwrap_or_default();
    if kind == "card_error" || status == StatusCode::PAYMENT_REQUIRED {
        return declined(error);
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::CONFLICT
        || status.is_server_error()
    {
        // 409: a request with the same idempotency key is still in flight.
        return PaymentError::Unavailable(format!("Stripe answered {status}: {message}"));
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return PaymentError::Provider(format!(
            "Stripe refused the secret key ({status}): {message}"
        ));
    }
    if status.is_client_error() {
        // An unknown payment method id, a reused key with other parameters, a bad amount.
        return PaymentError::Invalid(format!("Stripe answered {status}: {message}"));
    }
    PaymentError::Provider(format!("Stripe answered {status}: {message}"))
}

#[cfg(test)]
mod tests;
