//! Password hashing: argon2id (the `argon2` crate, RustCrypto) in PHC strings, so a hash
//! names its own parameters and older hashes keep verifying after the parameters change.
//!
//! Parameters: 19 MiB of memory (OWASP's floor for argon2id), 1 lane, and 8 passes: OWASP's
//! 2 passes took 12-14 ms per sign-up on the 2-core reference machine, so the passes were
//! raised until a sign-up took about 50 ms there (`cargo xtask bench-http --only accounts`,
//! recorded in BENCHMARKS.md). Memory stays at the floor so that two hashes at once (one
//! per core) add under 40 MiB to the server's resident memory. Hashing is CPU work of that length, so it runs on the
//! blocking pool, at most as many at once as the machine has cores; a caller that waits
//! longer than [`QUEUE_WAIT`] for a turn gets 503 rather than a server that stops
//! answering everyone else.
//!
//! An unknown handle is checked against [`Passwords::dummy`], a hash of a random password
//! made with the same parameters, so that signing in as nobody costs what a wrong password
//! costs and the answer's timing says nothing about which handles exist.

use std::{sync::Arc, time::Duration};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::model::{ApiError, ErrorCode};

/// Memory per hash, KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over it.
pub const PASSES: u32 = 8;
/// Longest wait for a free hasher before the request is refused with 503.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Shortest password accepted, in characters.
pub const MIN_LEN: usize = 10;
/// Longest, in characters (hashing cost does not depend on it, but a body limit should).
pub const MAX_LEN: usize = 256;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The hasher service: a bound on concurrent hashes and the dummy hash.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy: Arc<str>,
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let secret = uuid::Uuid::new_v4().to_string();
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy: hash_now(&secret).unwrap_or_default().into(),
        }
    }
}

/// Whether `password` is acceptable; the error names the field.
pub fn check(field: &'static str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be {MIN_LEN}-{MAX_LEN} characters"),
        ));
    }
    Ok(())
}

fn hash_now(password: &str) -> Option<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        // The parameters come from the hash itself (PHC string).
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Passwords {
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let busy = || {
            ApiError::new(
                ErrorCode::Unavailable,
                "too many sign-ins at once; try again in a moment",
            )
        };
        let permit = tokio::time::timeout(QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let out = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| {
            tracing::error!("password hashing failed: {e}");
            ApiError::internal()
        })?;
        Ok(out)
    }

    /// The PHC string of `password` with a new salt.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let password = password.to_owned();
        self.run(move || hash_now(&password)).await?.ok_or_else(|| {
            tracing::error!("argon2 refused to hash a password");
            ApiError::internal()
        })
    }

    /// Whether `password` matches `hash`; `None` (an unknown handle, or an account without
    /// a password) is checked against the dummy hash and is never a match.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy.to_string(), str::to_owned);
        let password = password.to_owned();
        let matched = self.run(move || verify_now(&password, &hash)).await?;
        Ok(known && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_names_its_parameters() {
        let p = Passwords::default();
        let hash = p.hash("correct horse battery").await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=8,p=1$"),
            "{hash}"
        );
        assert!(
            p.verify("correct horse battery", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !p.verify("correct horse battery!", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(!p.verify("anything", None).await.expect("dummy"));
        assert!(check("password", "short").is_err());
        assert!(check("password", "long enough, surely").is_ok());
    }
}
