//! The Stripe provider against localstripe (PyPI `localstripe`, a stateful fake Stripe server;
//! `scripts/test` installs it), one server per test on a free port, like the SMTP sink of the
//! black-box tests. These are host unit tests rather than `tests/it` ones because they need no
//! `wrk` binary: they call the provider directly, and count what localstripe holds.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use wrk_core::money::{Currency, Money};

use super::*;

/// A running localstripe; killed on drop.
struct LocalStripe {
    port: u16,
    child: Child,
}

impl LocalStripe {
    /// Starts `python3 -m localstripe` on a free port. `--from-scratch` only skips loading the
    /// state another run left in its save file, so each test starts empty; nothing else of its
    /// default configuration is changed.
    fn start() -> Self {
        let mut child = Command::new("python3")
            .args(["-m", "localstripe", "--port", "0", "--from-scratch"])
            // Its "Running on ..." line must arrive now, not when a pipe buffer fills.
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 -m localstripe (is python3 installed?)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let port = loop {
            line.clear();
            let n = out.read_line(&mut line).expect("read localstripe's output");
            if n == 0 {
                let _ = child.kill();
                panic!("localstripe exited before listening (pip install localstripe)");
            }
            // aiohttp: "======== Running on http://[::]:PORT ========"
            if let Some(rest) = line.split("]:").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .expect("a port in localstripe's banner");
            }
        };
        // Keep draining: a closed pipe would kill it at its next write.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Self { port, child }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn provider(&self) -> Stripe {
        Stripe::new(&self.base(), "sk_test_wrk_localstripe".into()).unwrap()
    }

    /// A list endpoint of the fake server, read directly (not through the provider).
    async fn list(&self, path_and_query: &str) -> Vec<Value> {
        let body: Value = reqwest::Client::new()
            .get(format!("{}{path_and_query}", self.base()))
            .bearer_auth("sk_test_wrk_localstripe")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["data"].as_array().cloned().unwrap_or_default()
    }

    /// Every charge of the customer with this status.
    async fn charges(&self, customer: &str, status: &str) -> Vec<Value> {
        self.list(&format!("/v1/charges?customer={customer}&limit=100"))
            .await
            .into_iter()
            .filter(|c| c["status"] == status)
            .collect()
    }

    async fn payment_intents(&self) -> Vec<Value> {
        self.list("/v1/payment_intents?limit=100").await
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn payer() -> Payer {
    Payer {
        reference: "0192f1c2-0000-7000-8000-000000000001".into(),
        name: "Acme Inc".into(),
        email: "billing@acme.test".into(),
    }
}

fn card(id: &str) -> PaymentMethod {
    PaymentMethod::Stripe {
        payment_method_id: id.into(),
    }
}

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::new(k).unwrap()
}

fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD)
}

/// Sets up `method` and charges `amount`, as the sign service does.
async fn sign(
    stripe: &Stripe,
    method: &PaymentMethod,
    amount: Money,
    k: &IdempotencyKey,
) -> (
    Result<MethodOnFile, PaymentError>,
    Option<Result<Charge, PaymentError>>,
) {
    let on_file = stripe.set_up(&payer(), method, k).await;
    let charge = match &on_file {
        Ok(m) => Some(stripe.charge(m, amount, "Setup fee", k).await),
        Err(_) => None,
    };
    (on_file, charge)
}

#[tokio::test]
async fn a_good_stripe_card_is_charged_once_for_the_amount() {
    let ls = LocalStripe::start();
    let stripe = ls.provider();
    let k = key("quote:q1:r1:setup_fee");
    let (on_file, charge) = sign(&stripe, &card("pm_card_visa"), usd(150_000), &k).await;
    let on_file = on_file.unwrap();
    let customer = on_file.customer.clone().unwrap();
    assert!(customer.starts_with("cus_"));
    assert_eq!(on_file.requested.as_deref(), Some("pm_card_visa"));
    let Charge::Paid { reference, amount } = charge.unwrap().unwrap() else {
        panic!("a card charge is paid, not invoiced");
    };
    assert!(reference.starts_with("pi_"), "{reference}");
    assert_eq!(amount, usd(150_000));

    let charges = ls.charges(&customer, "succeeded").await;
    assert_eq!(charges.len(), 1, "{charges:#?}");
    assert_eq!(charges[0]["amount"], 150_000);
    assert_eq!(charges[0]["currency"], "usd");
    assert_eq!(charges[0]["payment_intent"], reference.as_str());
}

#[tokio::test]
async fn stripes_decline_test_cards_are_declined_with_stripes_reason() {
    let ls = LocalStripe::start();
    let stripe = ls.provider();
    // 4000000000000002: declined as soon as it is attached.
    let (on_file, _) = sign(
        &stripe,
        &card("pm_card_visa_chargeDeclined"),
        usd(5_000),
        &key("quote:q2:r1:setup_fee"),
    )
    .await;
    assert_eq!(
        on_file,
        Err(PaymentError::Declined {
            code: "card_declined".into(),
            message: "Your card was declined.".into()
        })
    );
    // 4000000000000341: attaches, then the charge is declined.
    let (on_file, charge) = sign(
        &stripe,
        &card("pm_card_chargeCustomerFail"),
        usd(5_000),
        &key("quote:q3:r1:setup_fee"),
    )
    .await;
    let customer = on_file.unwrap().customer.unwrap();
    assert!(matches!(
        charge.unwrap(),
        Err(PaymentError::Declined { ref code, .. }) if code == "card_declined"
    ));
    assert!(ls.charges(&customer, "succeeded").await.is_empty());
    assert_eq!(ls.charges(&customer, "failed").await.len(), 1);
}

#[tokio::test]
async fn the_same_charge_retried_with_the_same_key_charges_once() {
    let ls = LocalStripe::start();
    let stripe = ls.provider();
    let k = key("quote:q4:r2:setup_fee");
    let (first_on_file, first) = sign(&stripe, &card("pm_card_visa"), usd(42_00), &k).await;
    let (again_on_file, again) = sign(&stripe, &card("pm_card_visa"), usd(42_00), &k).await;
    let first = first.unwrap().unwrap();
    assert_eq!(
        again.unwrap().unwrap(),
        first,
        "the retry answers the first charge"
    );
    let customer = first_on_file.unwrap().customer.unwrap();
    assert_eq!(
        again_on_file.unwrap().customer.as_deref(),
        Some(customer.as_str()),
        "the payer's customer is found again, not made twice"
    );
    assert_eq!(ls.charges(&customer, "succeeded").await.len(), 1);
    assert_eq!(ls.payment_intents().await.len(), 1);

    // Another key is another charge: the search does not swallow new payments.
    let (_, other) = sign(
        &stripe,
        &card("pm_card_visa"),
        usd(42_00),
        &key("invoice:i1"),
    )
    .await;
    assert_ne!(other.unwrap().unwrap(), first);
    assert_eq!(ls.charges(&customer, "succeeded").await.len(), 2);
}

#[tokio::test]
async fn after_a_decline_the_same_card_stays_declined_and_a_new_card_is_charged_once() {
    let ls = LocalStripe::start();
    let stripe = ls.provider();
    let k = key("quote:q5:r1:setup_fee");
    let (on_file, declined) =
        sign(&stripe, &card("pm_card_chargeCustomerFail"), usd(900), &k).await;
    let customer = on_file.unwrap().customer.unwrap();
    assert!(matches!(declined, Some(Err(PaymentError::Declined { .. }))));
    let (_, again) = sign(&stripe, &card("pm_card_chargeCustomerFail"), usd(900), &k).await;
    assert!(matches!(again, Some(Err(PaymentError::Declined { .. }))));
    assert_eq!(
        ls.payment_intents().await.len(),
        1,
        "the declined attempt is answered again, not repeated"
    );
    let (_, paid) = sign(&stripe, &card("pm_card_visa"), usd(900), &k).await;
    assert!(matches!(paid, Some(Ok(Charge::Paid { .. }))));
    let (_, paid_again) = sign(&stripe, &card("pm_card_visa"), usd(900), &k).await;
    assert_eq!(paid_again.unwrap().unwrap(), paid.unwrap().unwrap());
    assert_eq!(ls.charges(&customer, "succeeded").await.len(), 1);
}

#[tokio::test]
async fn a_manual_method_or_a_malformed_card_id_never_reaches_stripe() {
    // Nothing listens here: a request would be `Unavailable`, not `Invalid`.
    let stripe = Stripe::new("http://127.0.0.1:9", "sk_test_x".into()).unwrap();
    let k = key("k");
    for method in [
        PaymentMethod::Manual {},
        card("pm_../../v1/charges"),
        card("card_123"),
        card("pm_"),
    ] {
        assert!(
            matches!(
                stripe.set_up(&payer(), &method, &k).await,
                Err(PaymentError::Invalid(_))
            ),
            "{method:?}"
        );
    }
    let manual = MethodOnFile {
        provider: ProviderKind::Manual,
        customer: None,
        method: None,
        requested: None,
    };
    assert!(matches!(
        stripe.charge(&manual, usd(1), "x", &k).await,
        Err(PaymentError::Invalid(_))
    ));
    let unreachable = stripe.set_up(&payer(), &card("pm_card_visa"), &k).await;
    assert!(matches!(unreachable, Err(PaymentError::Unavailable(_))));
}

#[tokio::test]
async fn a_wrong_secret_key_is_a_provider_error_not_a_decline() {
    let ls = LocalStripe::start();
    let stripe = Stripe::new(&ls.base(), "rk_not_a_secret_key".into()).unwrap();
    let result = stripe
        .set_up(&payer(), &card("pm_card_visa"), &key("k"))
        .await;
    assert!(
        matches!(result, Err(PaymentError::Provider(_))),
        "{result:?}"
    );
}

#[test]
fn stripe_errors_map_to_what_the_caller_can_do_about_them() {
    let card_error = serde_json::json!({"error": {
        "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds."
    }});
    assert_eq!(
        api_error(StatusCode::PAYMENT_REQUIRED, &card_error),
        PaymentError::Declined {
            code: "insufficient_funds".into(),
            message: "Your card has insufficient funds.".into()
        }
    );
    for (status, kind, expected) in [
        (429, "rate_limit_error", "unavailable"),
        // The same idempotency key still in flight.
        (409, "idempotency_error", "unavailable"),
        (500, "api_error", "unavailable"),
        (401, "invalid_request_error", "provider"),
        (400, "invalid_request_error", "invalid"),
        (404, "invalid_request_error", "invalid"),
    ] {
        let body = serde_json::json!({"error": {"type": kind, "message": "m"}});
        let got = match api_error(StatusCode::from_u16(status).unwrap(), &body) {
            PaymentError::Declined { .. } => "declined",
            PaymentError::Invalid(_) => "invalid",
            PaymentError::Unavailable(_) => "unavailable",
            PaymentError::Provider(_) => "provider",
        };
        assert_eq!(got, expected, "{status} {kind}");
    }
}

#[test]
fn the_api_base_must_be_an_http_url() {
    for bad in ["", "api.stripe.com", "ftp://x", "https://x/?a=1"] {
        assert!(
            matches!(
                Stripe::new(bad, "sk_test_x".into()),
                Err(PaymentError::Invalid(_))
            ),
            "{bad}"
        );
    }
    let s = Stripe::new("https://api.stripe.com/", "sk_live_secret".into()).unwrap();
    assert_eq!(s.base, "https://api.stripe.com");
    assert!(!format!("{s:?}").contains("sk_live_secret"));
}
