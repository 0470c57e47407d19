//! The secrets manager (flow 25): where credential fields live, encrypted, outside every
//! database.
//!
//! [`SecretStore`] is the interface the product uses; [`FileSecretStore`] is the built-in one,
//! under `DATA_DIR/secrets/`:
//!
//! ```text
//! secrets/
//!   master.key              the deployment's master key: 32 random bytes, mode 0600, made on
//!                           first start. Never in a backup (see README, "Backups").
//!   <tenant_id>/data.key    the workspace's data key, wrapped (AES-256-GCM) by the master key
//!   <tenant_id>/<ref>.bin   one secret, AES-256-GCM under the data key
//! ```
//!
//! Envelope encryption: each workspace has its own 256-bit data key, so rotating the master key
//! ([`rotate_master`], `wrk secrets rotate-master`) re-wraps one small file per workspace and
//! never touches a secret. Every ciphertext is bound to where it belongs by its associated data
//! (the tenant, and for a secret its reference), so a file copied into another workspace does
//! not decrypt. A wrapped key names the master key that wrapped it (the first 8 bytes of the
//! master key's SHA-256), which is what makes a rotation resumable: while one runs (or after it
//! was interrupted) both keys are on disk and each data key is opened with the one that wrapped
//! it. Keys are read from disk on every use (a few small files), so a rotation needs no restart.
//!
//! Nothing here logs or returns a secret in an error.

use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use wrk_core::ids::TenantId;

const KEY_LEN: usize = 32;
const KID_LEN: usize = 8;
/// Format tag of a wrapped data key and of a secret blob (a version for later formats).
const MAGIC: &[u8; 4] = b"WRK1";

/// Why the secrets manager failed. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret not found")]
    NotFound,
    #[error("secrets storage: {0}")]
    Io(#[from] std::io::Error),
    /// A key or blob that does not decrypt: wrong master key, a file from elsewhere, tampering.
    #[error("secrets storage: {0} does not decrypt")]
    Corrupt(&'static str),
    #[error("secrets storage: no random numbers")]
    Random,
}

/// Where credential secrets are kept. A reference is what the tenant database stores in place
/// of the secret; only the store can turn it back into bytes.
pub trait SecretStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores `secret` for `tenant` and returns its new reference.
    fn put(&self, tenant: TenantId, secret: &[u8]) -> Result<String, SecretError>;
    /// The secret a reference names.
    fn get(&self, tenant: TenantId, reference: &str) -> Result<Vec<u8>, SecretError>;
    /// Forgets a secret; an unknown reference is not an error.
    fn delete(&self, tenant: TenantId, reference: &str) -> Result<(), SecretError>;
}

/// The built-in secrets manager (see the module comment).
#[derive(Debug)]
pub struct FileSecretStore {
    root: PathBuf,
    rng: SystemRandom,
    /// Serialises the creation of a workspace's data key in this process (another process is
    /// kept out by `create_new`), so two first secrets cannot each make a key.
    creating: Mutex<()>,
}

fn master_path(root: &Path) -> PathBuf {
    root.join("master.key")
}

fn next_master_path(root: &Path) -> PathBuf {
    root.join("master.key.next")
}

fn kid(key: &[u8]) -> [u8; KID_LEN] {
    let digest = Sha256::digest(key);
    let mut out = [0; KID_LEN];
    out.copy_from_slice(&digest[..KID_LEN]);
    out
}

fn aead(key: &[u8]) -> Result<LessSafeKey, SecretError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| SecretError::Corrupt("a key"))
}

/// Writes `bytes` to `path` through a temporary file and a rename, mode 0600.
fn write_private(path: &Path, bytes: &[u8], exclusive: bool) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    if exclusive {
        // A hard link fails if the target exists: the first writer wins, atomically.
        let linked = std::fs::hard_link(&tmp, path);
        std::fs::remove_file(&tmp)?;
        linked
    } else {
        std::fs::rename(&tmp, path)
    }
}

fn seal(
    rng: &SystemRandom,
    key: &[u8],
    aad: &[u8],
    plain: &[u8],
    prefix: &[u8],
) -> Result<Vec<u8>, SecretError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).map_err(|_| SecretError::Random)?;
    let mut buf = plain.to_vec();
    aead(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| SecretError::Corrupt("a key"))?;
    let mut out = Vec::with_capacity(MAGIC.len() + prefix.len() + NONCE_LEN + buf.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(prefix);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    Ok(out)
}

fn open_sealed(
    key: &[u8],
    aad: &[u8],
    sealed: &[u8],
    what: &'static str,
) -> Result<Vec<u8>, SecretError> {
    if sealed.len() < NONCE_LEN || !sealed.starts_with(MAGIC) {
        return Err(SecretError::Corrupt(what));
    }
    let body = &sealed[MAGIC.len()..];
    let (nonce, ct) = body.split_at(NONCE_LEN.min(body.len()));
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Corrupt(what))?;
    let mut buf = ct.to_vec();
    let plain = aead(key)?
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| SecretError::Corrupt(what))?;
    Ok(plain.to_vec())
}

fn dek_aad(tenant: TenantId) -> Vec<u8> {
    format!("wrk-data-key:{tenant}").into_bytes()
}

fn secret_aad(tenant: TenantId, reference: &str) -> Vec<u8> {
    format!("wrk-secret:{tenant}:{reference}").into_bytes()
}

/// A reference is a UUID: nothing else reaches the file system.
fn check_ref(reference: &str) -> Result<(), SecretError> {
    uuid::Uuid::parse_str(reference)
        .map(|_| ())
        .map_err(|_| SecretError::NotFound)
}

/// The master keys on disk: the current one and, during a rotation, the next one.
fn masters(root: &Path) -> Result<Vec<Vec<u8>>, SecretError> {
    let mut out = Vec::new();
    for p in [master_path(root), next_master_path(root)] {
        match std::fs::read(&p) {
            Ok(k) if k.len() == KEY_LEN => out.push(k),
            Ok(_) => return Err(SecretError::Corrupt("the master key")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Unwraps a data key with whichever master key wrapped it.
fn unwrap_dek(
    masters: &[Vec<u8>],
    tenant: TenantId,
    wrapped: &[u8],
) -> Result<Vec<u8>, SecretError> {
    if wrapped.len() < MAGIC.len() + KID_LEN || !wrapped.starts_with(MAGIC) {
        return Err(SecretError::Corrupt("a data key"));
    }
    let id = &wrapped[MAGIC.len()..MAGIC.len() + KID_LEN];
    let master = masters
        .iter()
        .find(|m| kid(m) == id)
        .ok_or(SecretError::Corrupt("a data key"))?;
    let mut rest = MAGIC.to_vec();
    rest.extend_from_slice(&wrapped[MAGIC.len() + KID_LEN..]);
    open_sealed(master, &dek_aad(tenant), &rest, "a data key")
}

fn wrap_dek(
    rng: &SystemRandom,
    master: &[u8],
    tenant: TenantId,
    dek: &[u8],
) -> Result<Vec<u8>, SecretError> {
    seal(rng, master, &dek_aad(tenant), dek, &kid(master))
}

impl FileSecretStore {
    /// Opens the store under `data_dir/secrets`, creating the folder and the master key (0600)
    /// on first start.
    pub fn open(data_dir: &Path) -> Result<Self, SecretError> {
        let root = data_dir.join("secrets");
        std::fs::create_dir_all(&root)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        }
        let rng = SystemRandom::new();
        if !master_path(&root).exists() && !next_master_path(&root).exists() {
            let mut key = [0u8; KEY_LEN];
            rng.fill(&mut key).map_err(|_| SecretError::Random)?;
            match write_private(&master_path(&root), &key, true) {
                Ok(()) => tracing::info!("created the secrets master key"),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Self {
            root,
            rng,
            creating: Mutex::new(()),
        })
    }

    fn tenant_dir(&self, tenant: TenantId) -> PathBuf {
        self.root.join(tenant.to_string())
    }

    /// The workspace's data key, made (and wrapped by the current master key) on first use.
    fn data_key(&self, tenant: TenantId, create: bool) -> Result<Vec<u8>, SecretError> {
        let path = self.tenant_dir(tenant).join("data.key");
        let masters = masters(&self.root)?;
        match std::fs::read(&path) {
            Ok(w) => return unwrap_dek(&masters, tenant, &w),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SecretError::NotFound);
            }
            Err(e) => return Err(e.into()),
        }
        let _guard = self.creating.lock();
        if let Ok(w) = std::fs::read(&path) {
            return unwrap_dek(&masters, tenant, &w);
        }
        let master = masters
            .first()
            .ok_or(SecretError::Corrupt("the master key"))?;
        let mut dek = [0u8; KEY_LEN];
        self.rng.fill(&mut dek).map_err(|_| SecretError::Random)?;
        std::fs::create_dir_all(self.tenant_dir(tenant))?;
        match write_private(&path, &wrap_dek(&self.rng, master, tenant, &dek)?, true) {
            Ok(()) => Ok(dek.to_vec()),
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                unwrap_dek(&masters, tenant, &std::fs::read(&path)?)
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl SecretStore for FileSecretStore {
    fn put(&self, tenant: TenantId, secret: &[u8]) -> Result<String, SecretError> {
        let dek = self.data_key(tenant, true)?;
        let reference = uuid::Uuid::now_v7().to_string();
        let sealed = seal(
            &self.rng,
            &dek,
            &secret_aad(tenant, &reference),
            secret,
            &[],
        )?;
        write_private(
            &self.tenant_dir(tenant).join(format!("{reference}.bin")),
            &sealed,
            true,
        )?;
        Ok(reference)
    }

    fn get(&self, tenant: TenantId, reference: &str) -> Result<Vec<u8>, SecretError> {
        check_ref(reference)?;
        let sealed = match std::fs::read(self.tenant_dir(tenant).join(format!("{reference}.bin"))) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SecretError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let dek = self.data_key(tenant, false)?;
        open_sealed(&dek, &secret_aad(tenant, reference), &sealed, "a secret")
    }

    fn delete(&self, tenant: TenantId, reference: &str) -> Result<(), SecretError> {
        check_ref(reference)?;
        match std::fs::remove_file(self.tenant_dir(tenant).join(format!("{reference}.bin"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// What a master-key rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// Data keys re-wrapped under the new master key.
    pub data_keys: usize,
}

/// `wrk secrets rotate-master`: a new master key, every workspace's data key re-wrapped under
/// it, then the old master key deleted. Secrets are not touched. Safe to run while the server
/// runs (it reads the keys on every use) and to run again after an interruption: an unfinished
/// rotation's new key (`master.key.next`) is reused, and keys already re-wrapped are re-wrapped
/// again harmlessly.
pub fn rotate_master(data_dir: &Path) -> Result<Rotated, SecretError> {
    let store = FileSecretStore::open(data_dir)?;
    let root = &store.root;
    let next_path = next_master_path(root);
    let next = match std::fs::read(&next_path) {
        Ok(k) if k.len() == KEY_LEN => k,
        Ok(_) => return Err(SecretError::Corrupt("the master key")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; KEY_LEN];
            store.rng.fill(&mut key).map_err(|_| SecretError::Random)?;
            write_private(&next_path, &key, false)?;
            key.to_vec()
        }
        Err(e) => return Err(e.into()),
    };
    let masters = masters(root)?;
    let mut data_keys = 0;
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let Some(tenant) = entry
            .file_name()
            .to_str()
            .and_then(|n| TenantId::parse(n).ok())
        else {
            continue;
        };
        let path = entry.path().join("data.key");
        let wrapped = match std::fs::read(&path) {
            Ok(w) => w,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let dek = unwrap_dek(&masters, tenant, &wrapped)?;
        write_private(&path, &wrap_dek(&store.rng, &next, tenant, &dek)?, false)?;
        data_keys += 1;
    }
    // The new key becomes the master key in one rename; the old one is gone with it.
    std::fs::rename(&next_path, master_path(root))?;
    Ok(Rotated { data_keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_are_bound_to_their_workspace_and_survive_a_master_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::open(dir.path()).unwrap();
        let (a, b) = (TenantId::new(), TenantId::new());
        let r = store.put(a, b"hunter2-plain").unwrap();
        let r2 = store.put(b, b"other").unwrap();
        assert_eq!(store.get(a, &r).unwrap(), b"hunter2-plain");
        // Nothing on disk holds the plain text.
        for entry in walk(dir.path()) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(
                !bytes.windows(7).any(|w| w == b"hunter2"),
                "{}",
                entry.display()
            );
        }
        // A blob copied into another workspace does not decrypt there.
        std::fs::copy(
            dir.path().join(format!("secrets/{a}/{r}.bin")),
            dir.path().join(format!("secrets/{b}/{r}.bin")),
        )
        .unwrap();
        assert!(matches!(store.get(b, &r), Err(SecretError::Corrupt(_))));
        assert!(matches!(store.get(a, "../x"), Err(SecretError::NotFound)));

        let master = std::fs::read(dir.path().join("secrets/master.key")).unwrap();
        let blob = std::fs::read(dir.path().join(format!("secrets/{a}/{r}.bin"))).unwrap();
        let rotated = rotate_master(dir.path()).unwrap();
        assert_eq!(rotated.data_keys, 2);
        assert_ne!(
            std::fs::read(dir.path().join("secrets/master.key")).unwrap(),
            master
        );
        assert!(!dir.path().join("secrets/master.key.next").exists());
        // The secrets themselves were not rewritten, and still open.
        assert_eq!(
            std::fs::read(dir.path().join(format!("secrets/{a}/{r}.bin"))).unwrap(),
            blob
        );
        assert_eq!(store.get(a, &r).unwrap(), b"hunter2-plain");
        assert_eq!(store.get(b, &r2).unwrap(), b"other");
        store.delete(a, &r).unwrap();
        assert!(matches!(store.get(a, &r), Err(SecretError::NotFound)));
        store.delete(a, &r).unwrap();
    }

    #[test]
    fn an_interrupted_rotation_still_opens_every_key_and_finishes_when_run_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::open(dir.path()).unwrap();
        let a = TenantId::new();
        let r = store.put(a, b"s").unwrap();
        // A rotation that wrote its new key and re-wrapped this data key, then died.
        let root = dir.path().join("secrets");
        let next = [7u8; KEY_LEN];
        write_private(&next_master_path(&root), &next, false).unwrap();
        let dek = store.data_key(a, false).unwrap();
        let path = root.join(format!("{a}/data.key"));
        write_private(&path, &wrap_dek(&store.rng, &next, a, &dek).unwrap(), false).unwrap();
        assert_eq!(store.get(a, &r).unwrap(), b"s");
        rotate_master(dir.path()).unwrap();
        assert_eq!(std::fs::read(master_path(&root)).unwrap(), next);
        assert_eq!(store.get(a, &r).unwrap(), b"s");
    }

    #[cfg(unix)]
    #[test]
    fn the_master_key_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        FileSecretStore::open(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join("secrets/master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        rotate_master(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join("secrets/master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    fn walk(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push(e.path());
                }
            }
        }
        out
    }
}
