//! The built-in provider: no card, no network. The method is "invoice": setting it up records
//! nothing but the choice, and a charge issues an invoice reference that ops mark paid out of
//! band (`POST /api/ops/tenants/{tid}/invoices/{id}/mark-paid`).
//!
//! The reference is derived from the caller's key, so the same charge asked twice is the same
//! invoice, never two.

use wrk_core::money::Money;

use super::{
    Charge, IdempotencyKey, MethodOnFile, Payer, PaymentError, PaymentFuture, PaymentMethod,
    PaymentProvider, ProviderKind, check_provider, positive,
};

#[derive(Debug, Clone, Copy, Default)]
pub struct Manual;

impl Manual {
    fn on_file(method: &PaymentMethod) -> Result<MethodOnFile, PaymentError> {
        match method {
            PaymentMethod::Manual {} => Ok(MethodOnFile {
                provider: ProviderKind::Manual,
                customer: None,
                method: None,
                requested: None,
            }),
            PaymentMethod::Stripe { .. } => Err(PaymentError::Invalid(
                "this workspace pays by invoice: the payment method is {\"type\":\"manual\"}"
                    .into(),
            )),
        }
    }

    fn invoice(
        on_file: &MethodOnFile,
        amount: Money,
        key: &IdempotencyKey,
    ) -> Result<Charge, PaymentError> {
        check_provider(on_file, ProviderKind::Manual)?;
        Ok(Charge::Invoiced {
            reference: format!("manual:{key}"),
            amount: positive(amount)?,
        })
    }
}

impl PaymentProvider for Manual {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Manual
    }

    fn method_name(&self) -> &'static str {
        "invoice"
    }

    fn set_up<'a>(
        &'a self,
        _payer: &'a Payer,
        method: &'a PaymentMethod,
        _key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, MethodOnFile> {
        let result = Self::on_file(method);
        Box::pin(async move { result })
    }

    fn charge<'a>(
        &'a self,
        on_file: &'a MethodOnFile,
        amount: Money,
        _description: &'a str,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, Charge> {
        let result = Self::invoice(on_file, amount, key);
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use wrk_core::money::Currency;

    use super::*;

    fn payer() -> Payer {
        Payer {
            reference: "tenant-1".into(),
            name: "Acme".into(),
            email: "billing@acme.test".into(),
        }
    }

    #[tokio::test]
    async fn a_manual_payment_issues_one_invoice_per_key() {
        let key = IdempotencyKey::new("quote:q1:r1:setup_fee").unwrap();
        let on_file = Manual
            .set_up(&payer(), &PaymentMethod::Manual {}, &key)
            .await
            .unwrap();
        assert_eq!(on_file.provider, ProviderKind::Manual);
        let fee = Money::new(150_000, Currency::USD);
        let first = Manual
            .charge(&on_file, fee, "Setup fee", &key)
            .await
            .unwrap();
        let again = Manual
            .charge(&on_file, fee, "Setup fee", &key)
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(
            first,
            Charge::Invoiced {
                reference: "manual:quote:q1:r1:setup_fee".into(),
                amount: fee
            }
        );
        assert_eq!(Manual.method_name(), "invoice");
    }

    #[tokio::test]
    async fn a_manual_provider_refuses_cards_and_empty_charges() {
        let key = IdempotencyKey::new("k").unwrap();
        let card = PaymentMethod::Stripe {
            payment_method_id: "pm_card_visa".into(),
        };
        assert!(matches!(
            Manual.set_up(&payer(), &card, &key).await,
            Err(PaymentError::Invalid(_))
        ));
        let on_file = Manual
            .set_up(&payer(), &PaymentMethod::Manual {}, &key)
            .await
            .unwrap();
        let zero = Money::zero(Currency::USD);
        assert!(matches!(
            Manual.charge(&on_file, zero, "x", &key).await,
            Err(PaymentError::Invalid(_))
        ));
        let stripe_on_file = MethodOnFile {
            provider: ProviderKind::Stripe,
            ..on_file
        };
        assert!(matches!(
            Manual
                .charge(&stripe_on_file, Money::new(1, Currency::USD), "x", &key)
                .await,
            Err(PaymentError::Invalid(_))
        ));
    }
}
