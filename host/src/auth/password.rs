//! Passwords: Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, 1 lane), PHC strings at
//! rest. Hashing is deliberately slow: call these from a blocking thread, never on the runtime.
//!
//! Each hash needs 19 MiB of working memory. Unbounded, that is a memory-exhaustion lever (50
//! concurrent logins = 950 MiB), and with glibc each blocking-pool thread keeps the 19 MiB it
//! freed in its own arena (issue 14: 552 MiB after a read burst and 40 logins). So every hash
//! and verification goes through one [`Gate`]:
//! - at most one hash per core runs at a time; each running hash owns one of the gate's
//!   buffers, allocated on first use and **reused** (`hash_password_into_with_memory`), never
//!   freed: the hashing memory is bounded by `cores × 19 MiB` however many logins arrive, and the
//!   allocator never sees a 19 MiB block come and go (no arena to trim, no `unsafe` `malloc_trim`,
//!   no second allocator). Free buffers are handed out last-in first-out, so sequential logins
//!   touch one buffer only;
//! - a bounded number of callers wait (a blocked blocking-pool thread each, holding no buffer);
//!   beyond that the gate refuses with [`PasswordError::Busy`], which the API answers as 429
//!   `rate_limited` with `Retry-After` (`host/src/error.rs`). Refusing happens before any work,
//!   for a known and an unknown email alike, so it tells nothing about accounts.

use std::sync::{Condvar, LazyLock, Mutex, MutexGuard};

use argon2::password_hash::{Output, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// The shortest password accepted (PRODUCT.md flow 1B).
pub const MIN_LEN: usize = 12;
/// Longer inputs are refused rather than hashed: nobody types this, and it bounds the work.
pub const MAX_LEN: usize = 256;
/// Callers allowed to wait for a buffer, per core: about a second of hashing on this hardware.
const QUEUE_PER_CORE: usize = 32;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing slot is busy and the queue is full: retry shortly (429).
    #[error("too many password checks in progress")]
    Busy,
    #[error("argon2: {0}")]
    Hash(String),
}

impl From<argon2::password_hash::Error> for PasswordError {
    fn from(e: argon2::password_hash::Error) -> Self {
        Self::Hash(e.to_string())
    }
}

/// Why a new password is refused; the message is shown next to the field.
pub fn check_policy(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!("must be at least {MIN_LEN} characters long"));
    }
    if n > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters long"));
    }
    Ok(())
}

/// The Argon2id PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(&super::secret::random_bytes::<16>())?;
    let mut memory = GATE.enter()?;
    let phc = derive(&Argon2::default(), password, salt.as_salt(), &mut memory)?;
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc`. A malformed hash never matches; only a full
/// gate is an error.
pub fn verify(password: &str, phc: &str) -> Result<bool, PasswordError> {
    let Some((argon, salt, expected)) = parse_phc(phc) else {
        return Ok(false);
    };
    let mut memory = GATE.enter()?;
    Ok(derive(&argon, password, salt, &mut memory)
        .is_ok_and(|computed| computed.hash.is_some_and(|h| h == expected)))
}

/// Spends the time of one verification against a fixed hash, so an unknown email (or a locked
/// one) answers as slowly as a wrong password.
pub fn waste_time(password: &str) -> Result<(), PasswordError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = match DUMMY.get() {
        Some(phc) => phc,
        // Hashed outside `get_or_init`: a busy gate must not leave a broken (fast) dummy behind.
        None => {
            let phc = hash("not the password of anyone")?;
            DUMMY.get_or_init(|| phc)
        }
    };
    verify(password, phc).map(|_| ())
}

/// The hasher, salt and expected output stored in `phc`, if it parses as an Argon2 hash.
fn parse_phc(phc: &str) -> Option<(Argon2<'static>, Salt<'_>, Output)> {
    let parsed = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    Some((
        Argon2::new(algorithm, version, params),
        parsed.salt?,
        parsed.hash?,
    ))
}

/// `PasswordHasher::hash_password` with the caller's working memory instead of a fresh 19 MiB.
fn derive<'a>(
    argon: &Argon2<'_>,
    password: &str,
    salt: Salt<'a>,
    memory: &mut Vec<Block>,
) -> Result<PasswordHash<'a>, PasswordError> {
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    let params = argon.params();
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(output_len, |out| {
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                out,
                &mut memory[..blocks],
            )
            .map_err(argon2::password_hash::Error::from)
    })?;
    // New hashes are always Argon2id v19; for a stored hash only the recomputed output is
    // compared, not these labels.
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::default().into()),
        params: params.try_into()?,
        salt: Some(salt),
        hash: Some(output),
    })
}

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Gate::new(cores, cores * QUEUE_PER_CORE)
});

/// A counting semaphore whose permits are hashing buffers, with a bounded wait queue. A std
/// mutex and condvar, not tokio's semaphore: the callers are blocking-pool threads that must
/// wait there, not on the runtime.
#[derive(Debug)]
struct Gate {
    state: Mutex<GateState>,
    freed: Condvar,
    max_waiting: usize,
}

#[derive(Debug)]
struct GateState {
    /// Buffers not in use (last freed on top).
    free: Vec<Vec<Block>>,
    /// Slots never used yet (their buffer is allocated on first use).
    unopened: usize,
    waiting: usize,
}

impl Gate {
    fn new(slots: usize, max_waiting: usize) -> Self {
        Self {
            state: Mutex::new(GateState {
                free: Vec::new(),
                unopened: slots.max(1),
                waiting: 0,
            }),
            freed: Condvar::new(),
            max_waiting,
        }
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A buffer to hash with, waiting for one when all are in use; `Busy` when the queue is
    /// full too.
    fn enter(&self) -> Result<Slot<'_>, PasswordError> {
        let mut state = self.lock();
        if state.free.is_empty() && state.unopened == 0 {
            if state.waiting >= self.max_waiting {
                return Err(PasswordError::Busy);
            }
            state.waiting += 1;
            while state.free.is_empty() && state.unopened == 0 {
                state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            state.waiting -= 1;
        }
        let memory = match state.free.pop() {
            Some(m) => m,
            None => {
                state.unopened -= 1;
                Vec::new()
            }
        };
        Ok(Slot { gate: self, memory })
    }
}

/// One running hash's buffer; back to the gate on drop.
struct Slot<'g> {
    gate: &'g Gate,
    memory: Vec<Block>,
}

impl std::ops::Deref for Slot<'_> {
    type Target = Vec<Block>;
    fn deref(&self) -> &Vec<Block> {
        &self.memory
    }
}

impl std::ops::DerefMut for Slot<'_> {
    fn deref_mut(&mut self) -> &mut Vec<Block> {
        &mut self.memory
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        self.gate.lock().free.push(memory);
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h).unwrap());
        assert!(!verify("correct horse battery!", &h).unwrap());
        assert!(!verify("x", "not a phc string").unwrap());
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let phc = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", &phc).unwrap());
        assert!(!verify("wrong horse battery", &phc).unwrap());
        // The same salt gives the same string through the reused-memory path.
        let mut memory = Vec::new();
        let ours = derive(
            &Argon2::default(),
            "correct horse battery",
            salt.as_salt(),
            &mut memory,
        )
        .unwrap();
        assert_eq!(ours.to_string(), phc);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough pass").is_ok());
    }

    #[test]
    fn a_full_gate_refuses_at_once_and_a_freed_slot_is_reused() {
        let gate = Gate::new(1, 0);
        let mut slot = gate.enter().unwrap();
        slot.push(Block::new());
        assert!(matches!(gate.enter(), Err(PasswordError::Busy)));
        drop(slot);
        let again = gate.enter().unwrap();
        assert_eq!(again.len(), 1, "the freed buffer is handed out again");
    }

    #[test]
    fn callers_wait_for_a_slot_up_to_the_queue_bound_then_get_busy() {
        let gate = std::sync::Arc::new(Gate::new(1, 1));
        let held = gate.enter().unwrap();
        let waiter = {
            let gate = gate.clone();
            std::thread::spawn(move || gate.enter().map(|_| ()).is_ok())
        };
        // Wait until the other thread is queued (a state, not a delay).
        while gate.lock().waiting == 0 {
            std::thread::yield_now();
        }
        assert!(matches!(gate.enter(), Err(PasswordError::Busy)));
        drop(held);
        assert!(
            waiter.join().unwrap(),
            "the queued caller gets the freed slot"
        );
        assert!(gate.enter().is_ok());
    }
}
