//! Billing between the handlers and the stores: documents, overrides, committed volumes and
//! billing periods.
//!
//! - [`pdf`]: the quote and invoice documents as PDFs, byte-for-byte deterministic.
//! - [`overrides`]: a workspace's pricing override (flow 19), passed to every pricing call.
//! - [`volume`]: committed-volume changes with their prorated charge (flow 17).
//! - [`periods`]: period invoices, their charge, the scheduled finalization and dunning
//!   (flow 20).

pub mod overrides;
pub mod pdf;
pub mod periods;
pub mod volume;

use std::sync::Arc;

use wrk_tenants::{Storage, StoreError};

use crate::services::quotes::QuoteError;

/// Storage work on the blocking pool, its errors as this module's.
pub(crate) async fn store<T, F>(storage: &Arc<Storage>, f: F) -> Result<T, QuoteError>
where
    F: FnOnce(&Storage) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    crate::blocking::store(storage, f).await
}
