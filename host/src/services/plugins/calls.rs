//! Calling plugins: `price`, `validate` and `ingest` on the blocking pool, with the outcome
//! counted in the metrics and each successful call's input and output sent to the recorder
//! (the writer task at the bottom) for later shadow runs.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use tokio::sync::mpsc;
use wrk_core::ids::TenantId;
use wrk_plugins::sdk::ingestion::{IngestionInput, IngestionOutput};
use wrk_plugins::sdk::pricing::{PricingInput, PricingQuote};
use wrk_plugins::sdk::validation::{ValidationInput, ValidationOutput};
use wrk_plugins::{Answer, PluginError, PluginKind, Registry};
use wrk_tenants::Storage;
use wrk_tenants::plugins::NewPluginCall;

use super::{KEEP_CALLS_PER_KIND, Plugins};

/// One typed registry call (`Registry::price`, `validate`, `ingest`).
type RegistryCall<I, O> = fn(&Registry, Option<&str>, &I) -> Result<Answer<O>, PluginError>;

impl Plugins {
    fn observe<T>(&self, kind: PluginKind, result: &Result<T, PluginError>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        self.metrics.plugin_call(kind.as_str(), outcome);
    }

    fn record(
        &self,
        kind: PluginKind,
        tenant: TenantId,
        sha256: &str,
        input: Value,
        output: Value,
    ) {
        let Some(tx) = &self.recorder else { return };
        let call = NewPluginCall {
            kind: kind.as_str().into(),
            tenant: Some(tenant.to_string()),
            sha256: sha256.into(),
            input,
            output,
            at: Utc::now(),
        };
        if tx.try_send(call).is_err() {
            self.metrics.plugin_record_dropped();
        }
    }

    async fn call<I, O>(
        &self,
        kind: PluginKind,
        tenant: TenantId,
        input: I,
        f: RegistryCall<I, O>,
    ) -> Result<Answer<O>, PluginError>
    where
        I: serde::Serialize + Send + 'static,
        O: serde::Serialize + Send + 'static,
    {
        let registry = self.registry.clone();
        let result = crate::blocking::run(move || {
            let called = f(&registry, Some(&tenant.to_string()), &input).map(|answer| {
                // Serialized here, off the async workers; recording itself is a channel send.
                let sample = serde_json::to_value(&input)
                    .ok()
                    .zip(serde_json::to_value(&answer.output).ok());
                (answer, sample)
            });
            Ok::<_, tokio::task::JoinError>(called)
        })
        .await
        .map_err(|e| PluginError::Trap(format!("plugin call task failed: {e}")))
        .and_then(|r| r);
        self.observe(kind, &result);
        let (answer, sample) = result?;
        if let Some((input, output)) = sample {
            self.record(kind, tenant, &answer.plugin.sha256, input, output);
        }
        Ok(answer)
    }

    /// Prices with the workspace's pinned plugin, or the active one.
    pub async fn price(
        &self,
        tenant: TenantId,
        input: PricingInput,
    ) -> Result<Answer<PricingQuote>, PluginError> {
        self.call(PluginKind::Pricing, tenant, input, |r, t, i| r.price(t, i))
            .await
    }

    /// Validates a blueprint with the workspace's validation plugin.
    pub async fn validate(
        &self,
        tenant: TenantId,
        input: ValidationInput,
    ) -> Result<Answer<ValidationOutput>, PluginError> {
        self.call(PluginKind::Validation, tenant, input, |r, t, i| {
            r.validate(t, i)
        })
        .await
    }

    /// Turns requirement text and documents into a blueprint draft.
    pub async fn ingest(
        &self,
        tenant: TenantId,
        input: IngestionInput,
    ) -> Result<Answer<IngestionOutput>, PluginError> {
        self.call(PluginKind::Ingestion, tenant, input, |r, t, i| {
            r.ingest(t, i)
        })
        .await
    }
}

/// The writer of recorded calls: batches what the channel holds and prunes per kind.
pub(super) async fn record_calls(mut rx: mpsc::Receiver<NewPluginCall>, storage: Arc<Storage>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let storage = storage.clone();
        let stored = crate::blocking::run(move || {
            Ok::<_, anyhow::Error>(
                storage
                    .control()
                    .record_plugin_calls(&batch, KEEP_CALLS_PER_KIND)?,
            )
        })
        .await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "plugin calls not recorded");
        }
    }
}
