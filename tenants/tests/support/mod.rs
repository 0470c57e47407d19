//! Set-up shared by the integration tests of the storage layer: a storage on a temp dir with a
//! bounded tenant LRU, and a workspace made by the system.

use std::num::NonZeroUsize;

use wrk_core::slug::Slug;
use wrk_tenants::audit::{AuditActor, RequestMeta};
use wrk_tenants::control::TenantRecord;
use wrk_tenants::{Storage, StorageConfig};

/// The storage of `dir`, keeping at most `max_open` tenant files open.
pub fn storage(dir: &tempfile::TempDir, max_open: usize) -> Storage {
    let mut config = StorageConfig::new(dir.path());
    config.max_open_tenants = NonZeroUsize::new(max_open).unwrap();
    Storage::open(config).unwrap()
}

/// The workspace `slug` named `name`, created by the system.
pub fn tenant(s: &Storage, slug: &str, name: &str) -> TenantRecord {
    s.create_tenant(
        Slug::parse(slug).unwrap(),
        name,
        &AuditActor::system(),
        &RequestMeta::default(),
    )
    .unwrap()
}
