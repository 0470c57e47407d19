//! One integration test binary for the whole product (one link step, one binary to run).
//! Each module is a feature area; each test starts its own `wrk` on port 0 with a temp data dir,
//! so every test can run in parallel with every other.

mod api_conventions;
mod audit_quote_ui;
mod automations;
mod automations_ui;
mod backup;
mod billing_periods;
mod billing_periods_ui;
mod billing_sign;
mod billing_sign_ui;
mod browser;
mod clients;
mod collab_ui;
mod crash;
mod credentials;
mod credentials_ui;
mod documents;
mod email;
mod events;
mod fencing;
mod foundation;
mod identity;
mod identity_ui;
mod ingestion;
mod isolation;
mod jobs;
mod limits;
mod litestream;
mod oidc;
mod outbox_secrets;
mod pages;
mod pages_ui;
mod platform_events;
mod platform_webhooks;
mod plugins;
mod requirements_ui;
mod serving;
mod shutdown;
mod support;
mod usage_ui;
