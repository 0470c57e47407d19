//! JWT signing keys and access-token claims.
//!
//! Keys live in `DATA_DIR/keys/jwt/<kid>.key` (32 random bytes, hex; mode 0600). The kid is a
//! UUID v7, so the newest key sorts last: it signs, and every key on disk verifies, so rotating
//! (`wrk keys rotate-jwt`) never logs anyone out. A running server re-reads the directory when it
//! meets an unknown kid (at most once a second) and at least once a minute, so a key added by
//! the CLI is picked up without a restart. Tokens are HS256 with the `kid` header; `alg: none`,
//! other algorithms, unknown kids, bad signatures and expired tokens are all refused.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

/// Access tokens live 15 minutes (PRODUCT.md flow 3: `exp` ≤ 15 min).
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// What a token is good for; carried as the `aud` claim so one kind is never accepted as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// A client user on the apex (no tenant).
    #[serde(rename = "wrk:account")]
    Account,
    /// A client user inside one workspace (`tid` set).
    #[serde(rename = "wrk:workspace")]
    Workspace,
    /// WRK staff on the ops host.
    #[serde(rename = "wrk:ops")]
    Ops,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Account => "wrk:account",
            Audience::Workspace => "wrk:workspace",
            Audience::Ops => "wrk:ops",
        }
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id (client or ops user).
    pub sub: String,
    /// Tenant id for workspace tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// Workspace role (`owner|admin|member`) or ops role (`ops|ops_admin`); empty for account tokens.
    pub roles: Vec<String>,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug)]
struct Loaded {
    /// (kid, secret), oldest first.
    keys: Vec<(String, Vec<u8>)>,
    at: Instant,
}

/// The keys of this deployment.
#[derive(Debug)]
pub struct JwtKeys {
    dir: PathBuf,
    loaded: RwLock<Loaded>,
}

/// Why a token is refused (all of them answer 401; the reason is for the log).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token or header: {0}")]
    Malformed(String),
    #[error("algorithm not accepted")]
    Algorithm,
    #[error("unknown kid")]
    UnknownKid,
    #[error("invalid: {0}")]
    Invalid(String),
}

pub fn key_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("jwt")
}

/// Writes a new key file (0600) and returns its kid.
pub fn create_key(data_dir: &Path) -> anyhow::Result<String> {
    let dir = key_dir(data_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let kid = uuid::Uuid::now_v7().to_string();
    let path = dir.join(format!("{kid}.key"));
    let secret = hex::encode(super::secret::random_bytes::<32>());
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes())?;
    file.sync_all()?;
    Ok(kid)
}

fn read_keys(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let Some(kid) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".key"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path)?;
        let secret = hex::decode(text.trim())
            .with_context(|| format!("{} is not a hex key", path.display()))?;
        if secret.len() < 32 {
            anyhow::bail!("{} holds fewer than 32 bytes", path.display());
        }
        keys.push((kid.to_owned(), secret));
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keys)
}

impl JwtKeys {
    /// Loads every key of the data dir, creating the first one on first start.
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let dir = key_dir(data_dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut keys = read_keys(&dir)?;
        if keys.is_empty() {
            create_key(data_dir)?;
            keys = read_keys(&dir)?;
        }
        Ok(Self {
            dir,
            loaded: RwLock::new(Loaded {
                keys,
                at: Instant::now(),
            }),
        })
    }

    fn reload_if_older_than(&self, age: Duration) {
        if self.loaded.read().at.elapsed() < age {
            return;
        }
        let mut loaded = self.loaded.write();
        if loaded.at.elapsed() < age {
            return;
        }
        match read_keys(&self.dir) {
            Ok(keys) if !keys.is_empty() => loaded.keys = keys,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "cannot re-read JWT keys"),
        }
        loaded.at = Instant::now();
    }

    /// Signs `claims` with the newest key.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        self.reload_if_older_than(Duration::from_secs(60));
        let loaded = self.loaded.read();
        let (kid, secret) = loaded.keys.last().context("no JWT key")?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_secret(secret),
        )?)
    }

    /// Verifies `token` for `audiences`: HS256 only, known kid, valid signature, not expired.
    pub fn verify(&self, token: &str, audiences: &[Audience]) -> Result<Claims, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Algorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKid)?;
        let find = |keys: &Loaded| {
            keys.keys
                .iter()
                .find(|(k, _)| *k == kid)
                .map(|(_, s)| s.clone())
        };
        // Bind the lookup first: a read guard living through the reload below would deadlock.
        let known = find(&self.loaded.read());
        let secret = match known {
            Some(s) => s,
            None => {
                self.reload_if_older_than(Duration::from_secs(1));
                let reloaded = find(&self.loaded.read());
                reloaded.ok_or(TokenError::UnknownKid)?
            }
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        let names: Vec<&str> = audiences.iter().map(|a| a.as_str()).collect();
        validation.set_audience(&names);
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&secret), &validation)
            .map(|d| d.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(aud: Audience, exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "u".into(),
            tid: None,
            roles: vec![],
            aud,
            iat: now,
            exp: now + exp_in,
        }
    }

    #[test]
    fn tokens_verify_across_rotation_and_only_for_their_audience() {
        let dir = tempfile::tempdir().unwrap();
        let keys = JwtKeys::load(dir.path()).unwrap();
        let old = keys.sign(&claims(Audience::Account, 60)).unwrap();
        create_key(dir.path()).unwrap();
        let keys = JwtKeys::load(dir.path()).unwrap();
        let new = keys.sign(&claims(Audience::Account, 60)).unwrap();
        assert_ne!(
            jsonwebtoken::decode_header(&old).unwrap().kid,
            jsonwebtoken::decode_header(&new).unwrap().kid
        );
        assert!(keys.verify(&old, &[Audience::Account]).is_ok());
        assert!(keys.verify(&new, &[Audience::Account]).is_ok());
        assert!(keys.verify(&new, &[Audience::Ops]).is_err());
        let expired = keys.sign(&claims(Audience::Account, -120)).unwrap();
        assert!(keys.verify(&expired, &[Audience::Account]).is_err());
        let mut tampered = new.clone();
        tampered.pop();
        tampered.push(if new.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.verify(&tampered, &[Audience::Account]).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let kid = create_key(dir.path()).unwrap();
        let meta = std::fs::metadata(key_dir(dir.path()).join(format!("{kid}.key"))).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}
