//! Seeds a data directory for `bench/run` through the store API (`Storage::create_tenant`,
//! `TenantStore::create_api_key`), exactly as the server would write it: never by copying a
//! hand-made file.
//!
//! Usage: `wrk-seed DATA_DIR TENANTS KEYS` creates workspaces `b000000`, `b000001`, … up to
//! `TENANTS` (skipping those already there, so a run can grow a directory), gives the first `KEYS`
//! of them a read API key, and prints one `slug key` line per key on stdout.

use std::num::NonZeroUsize;

use wrk_core::ids::UserId;
use wrk_core::roles::Scope;
use wrk_core::slug::Slug;
use wrk_tenants::audit::{AuditActor, RequestMeta};
use wrk_tenants::identity::api_keys::NewApiKey;
use wrk_tenants::identity::token_hash;
use wrk_tenants::{Storage, StorageConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, tenants, keys] = args.as_slice() else {
        return Err("usage: wrk-seed DATA_DIR TENANTS KEYS".into());
    };
    let tenants: usize = tenants.parse()?;
    let keys: usize = keys.parse()?;
    let mut config = StorageConfig::new(dir);
    // Few open at once: seeding 100,000 workspaces must not hold 100,000 pools.
    config.max_open_tenants = NonZeroUsize::new(8).expect("non-zero");
    config.tenant_readers = 1;
    let storage = Storage::open(config)?;
    let actor = AuditActor::system();
    let request = RequestMeta::default();
    let creator = UserId::new();
    for i in 0..tenants {
        let slug = format!("b{i:06}");
        let record = match storage.tenant_by_slug(&slug)? {
            Some(r) => r,
            None => storage.create_tenant(Slug::parse(&slug)?, &slug, &actor, &request)?,
        };
        if i < keys {
            let key = format!("wrk_bench{}", uuid::Uuid::now_v7().simple());
            storage.tenant(record.id)?.create_api_key(
                &NewApiKey {
                    name: "bench",
                    prefix: &key[..12],
                    key_hash: &token_hash(&key),
                    scopes: &[Scope::Read],
                    created_by: creator,
                    expires_at: None,
                },
                &actor,
                &request,
            )?;
            println!("{slug} {key}");
        }
    }
    Ok(())
}
