//! One integration test binary for the whole product (one link step, one binary to run).
//! Each module is a feature area; each test starts its own `wrk` on port 0 with a temp data dir,
//! so every test can run in parallel with every other.

mod api_conventions;
mod automations;
mod automations_ui;
mod browser;
mod documents;
mod email;
mod foundation;
mod identity;
mod identity_ui;
mod jobs;
mod oidc;
mod plugins;
mod serving;
mod shutdown;
mod support;
