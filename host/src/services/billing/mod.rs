//! Billing documents and, as flows 16, 17 and 20 land, the services that sign quotes, change
//! committed volumes and finalize periods.
//!
//! - [`pdf`]: the quote and invoice documents as PDFs, byte-for-byte deterministic.

pub mod pdf;
