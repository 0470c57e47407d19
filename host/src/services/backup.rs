//! `wrk backup` and `wrk restore`: every database through SQLite's online backup (consistent
//! while the server writes), plus the files the databases point at, so a restored data directory
//! runs as the original did:
//! - `keys/` (the JWT signing keys: without them every session ends);
//! - `plugins/<sha256>.wasm` (installed plugins: without them a restart falls back to the
//!   built-ins and an ops choice is silently undone);
//! - `files/` (uploaded documents);
//! - `secrets/` (credential secrets, encrypted, and each workspace's wrapped data key) **without
//!   `secrets/master.key`**: the master key is kept apart from backups on purpose, so a stolen
//!   backup holds no readable secret. Keep a copy of the master key somewhere else safe; to
//!   restore, put it back in `DATA_DIR/secrets/` after `wrk restore` (without it the restored
//!   credentials cannot be read and must be provided again).
//!
//! The files are copied after the databases, so every file a backed-up row points at was there
//! already. Plugin binaries are content-addressed and never change; a document is written under a
//! dot name and renamed into place, and dot names are not copied, so none is half-written. A
//! document deleted while the backup runs may be missing from it, and a JWT key created at that
//! very moment may be copied incomplete (rotate keys outside a backup). The compiled-module cache
//! is not copied: it is rebuilt on the first start.

use std::path::Path;

use wrk_tenants::Storage;

/// What a backup or restore copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    pub databases: usize,
    pub files: usize,
}

/// The data directory's folders copied besides the databases, and which of their entries count.
const FOLDERS: &[&str] = &["keys", "plugins", "files", "secrets"];

fn wanted(folder: &str, rel: &Path) -> bool {
    match folder {
        // Installed binaries only: not the module cache, the inbox or temporary names.
        "plugins" => {
            rel.components().count() == 1
                && rel
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".wasm") && !n.starts_with('.'))
        }
        // The encrypted secrets and wrapped data keys, never the master key that opens them: a
        // backup that holds both would hold every secret (README, "Backups").
        "secrets" => rel.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
            !n.starts_with('.') && !n.starts_with("master.key") && !n.contains(".tmp")
        }),
        _ => rel
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| !n.starts_with('.')),
    }
}

/// Copies the files of `from`'s folders into `to` (same layout); returns how many.
fn copy_folders(from: &Path, to: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for folder in FOLDERS {
        let root = from.join(folder);
        if !root.is_dir() {
            continue;
        }
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                let path = entry.path();
                let rel = path.strip_prefix(&root).unwrap_or(&path);
                if kind.is_dir() {
                    if *folder != "plugins" {
                        stack.push(path);
                    }
                } else if kind.is_file() && wanted(folder, rel) {
                    let dest = to.join(folder).join(rel);
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    // `fs::copy` keeps the permission bits (the keys stay 0600).
                    std::fs::copy(&path, &dest)?;
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}

/// Backs `data_dir` up into the empty or new folder `out`, while the server may be running.
pub fn backup(storage: &Storage, data_dir: &Path, out: &Path) -> anyhow::Result<Copied> {
    let databases = storage.backup(out)?;
    let files = copy_folders(data_dir, out)?;
    Ok(Copied { databases, files })
}

/// Restores a backup into an empty data directory (the server must not run on it).
pub fn restore(from: &Path, data_dir: &Path) -> anyhow::Result<Copied> {
    let databases = wrk_tenants::storage::restore(from, data_dir)?;
    let files = copy_folders(from, data_dir)?;
    Ok(Copied { databases, files })
}
