//! On-disk cache of compiled modules, so a restart does not recompile every plugin.
//!
//! Key: the binary's SHA-256 plus a hash of the engine's compatibility fingerprint
//! (`Engine::precompile_compatibility_hash`, which covers the wasmtime version and every codegen
//! setting). Files: `<sha256>-<engine>.cwasm` and `<sha256>-<engine>.mac`.
//!
//! Trust: `Module::deserialize` runs native code from the file without checking it, so we only
//! deserialize artifacts *we* wrote. Each artifact is stored with an HMAC-SHA256 over
//! (key, sha256, engine fingerprint, artifact bytes) under a 32-byte random key kept in
//! `cache.key` (mode 0600) in the cache dir. A file that someone else placed or altered fails
//! the constant-time check and is recompiled from the original bytes and overwritten. (A plain
//! checksum would not do: whoever can write the artifact can write its checksum too.) An
//! attacker who can read the key can also replace the server binary, so the key's protection is
//! the data dir's own.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

pub(crate) struct ModuleCache {
    dir: PathBuf,
    key: ring::hmac::Key,
    engine_tag: String,
}

impl ModuleCache {
    pub fn open(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        let key_path = dir.join("cache.key");
        let key_bytes = match fs::read(&key_path) {
            Ok(k) if k.len() == 32 => k,
            _ => {
                let mut k = [0u8; 32];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut k)
                    .map_err(|_| std::io::Error::other("no system randomness"))?;
                write_private(&key_path, &k)?;
                k.to_vec()
            }
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(Self {
            dir: dir.to_path_buf(),
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes),
            engine_tag: format!("{:016x}", h.finish()),
        })
    }

    fn mac_message(&self, sha256: &str, artifact: &[u8]) -> Vec<u8> {
        let mut msg = Vec::with_capacity(sha256.len() + self.engine_tag.len() + artifact.len() + 2);
        msg.extend_from_slice(sha256.as_bytes());
        msg.push(0);
        msg.extend_from_slice(self.engine_tag.as_bytes());
        msg.push(0);
        msg.extend_from_slice(artifact);
        msg
    }

    pub fn load_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<Module, String> {
        let stem = format!("{sha256}-{}", self.engine_tag);
        let (art_path, mac_path) = (
            self.dir.join(format!("{stem}.cwasm")),
            self.dir.join(format!("{stem}.mac")),
        );
        if let (Ok(artifact), Ok(mac)) = (fs::read(&art_path), fs::read(&mac_path)) {
            // `hmac::verify` compares in constant time.
            if ring::hmac::verify(&self.key, &self.mac_message(sha256, &artifact), &mac).is_ok()
                && let Ok(module) = deserialize_trusted(engine, &artifact)
            {
                return Ok(module);
            }
            tracing::warn!(
                sha256,
                "module cache entry failed its integrity check; recompiling"
            );
        }
        let module = Module::new(engine, bytes).map_err(|e| format!("{e:#}"))?;
        match module.serialize() {
            Ok(artifact) => {
                let mac = ring::hmac::sign(&self.key, &self.mac_message(sha256, &artifact));
                // Artifact first, MAC last: a crash in between leaves an entry that fails the check.
                if let Err(e) = write_private(&art_path, &artifact)
                    .and_then(|_| write_private(&mac_path, mac.as_ref()))
                {
                    tracing::warn!(sha256, error = %e, "could not write the module cache");
                }
            }
            Err(e) => tracing::warn!(sha256, error = %e, "could not serialize a compiled module"),
        }
        Ok(module)
    }
}

/// The one `unsafe` in the crate.
#[allow(unsafe_code)]
fn deserialize_trusted(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Module> {
    // SAFETY: only called on bytes whose HMAC under our private key verified, i.e. bytes this
    // cache produced with `Module::serialize`; wasmtime additionally checks that the artifact
    // matches this engine's version and configuration.
    unsafe { Module::deserialize(engine, artifact) }
}

/// Writes via a temp file and rename, so readers never see half a file; 0600 on Unix.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}
