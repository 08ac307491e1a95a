//! Password hashing with Argon2id on the blocking pool, behind a semaphore.
//!
//! Each hash costs its memory parameter (19 MiB at the default) and tens of milliseconds of
//! CPU. The semaphore bounds how many run at once, so a burst of logins queues here instead
//! of exhausting memory or taking every blocking thread.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

use super::config::{ConfigError, PasswordConfig};

/// Hashing failed for a reason other than a wrong password.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Argon2 rejected its input or parameters.
    #[error("argon2 failed: {0}")]
    Argon2(String),
    /// The blocking task was cancelled or panicked.
    #[error("the hashing task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The semaphore was closed.
    #[error("the hashing pool is shut down")]
    Closed,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The password is wrong, or the stored hash cannot be parsed.
    No,
    /// The password is right.
    Yes,
    /// The password is right and the hash was made with other parameters than the current
    /// ones: here is a new hash at the current parameters to store instead.
    YesRehashed(String),
}

/// Hashes and verifies passwords.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified when there is no real hash to verify so that
    /// the answer takes as long as a wrong password.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// Builds the hasher and computes its dummy hash (one hash, at start-up).
    pub fn new(config: &PasswordConfig) -> Result<Self, ConfigError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| ConfigError::new("password.argon2", e.to_string()))?;
        let dummy_password: [u8; 16] = rand::random();
        let dummy_hash = hash_with(&params, &dummy_password)
            .map_err(|e| ConfigError::new("password.argon2", e.to_string()))?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(config.max_concurrent_hashes.max(1))),
            dummy_hash: Arc::from(dummy_hash),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Closed)?;
        let params = self.params.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_with(&params, password.as_bytes())).await?
    }

    /// Verifies a password against a stored PHC string, whatever parameters it was made
    /// with. `None` verifies against the dummy hash and always answers [`Verified::No`].
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<Verified, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Closed)?;
        let real = hash.is_some();
        let stored = hash.map_or_else(|| Arc::clone(&self.dummy_hash), Arc::from);
        let params = self.params.clone();
        let password = password.to_owned();
        let outcome = tokio::task::spawn_blocking(move || -> Result<Verified, HashError> {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Ok(Verified::No);
            };
            let Some(argon2) = argon2_for(&parsed) else {
                return Ok(Verified::No);
            };
            if argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
            {
                return Ok(Verified::No);
            }
            if is_current(&parsed, &params) {
                Ok(Verified::Yes)
            } else {
                hash_with(&params, password.as_bytes()).map(Verified::YesRehashed)
            }
        })
        .await??;
        Ok(if real { outcome } else { Verified::No })
    }
}

/// An Argon2 context for the algorithm a stored hash names (`argon2id`, `argon2i`,
/// `argon2d`); the parameters come from the hash itself.
fn argon2_for(parsed: &PasswordHash) -> Option<Argon2<'static>> {
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
    Some(Argon2::new(algorithm, Version::V0x13, Params::default()))
}

fn is_current(parsed: &PasswordHash, params: &Params) -> bool {
    let Ok(stored) = Params::try_from(parsed) else {
        return false;
    };
    parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(0x13)
        && stored.m_cost() == params.m_cost()
        && stored.t_cost() == params.t_cost()
        && stored.p_cost() == params.p_cost()
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, HashError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordConfig {
        PasswordConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            ..PasswordConfig::default()
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = PasswordHasher::new(&cheap()).unwrap();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_eq!(
            hasher.verify("correct horse", Some(&hash)).await.unwrap(),
            Verified::Yes
        );
        assert_eq!(
            hasher.verify("wrong horse", Some(&hash)).await.unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn missing_or_garbage_hash_is_no() {
        let hasher = PasswordHasher::new(&cheap()).unwrap();
        assert_eq!(hasher.verify("anything", None).await.unwrap(), Verified::No);
        assert_eq!(
            hasher.verify("x", Some("not a phc")).await.unwrap(),
            Verified::No
        );
        assert_eq!(
            hasher.verify("x", Some("$argon2id$")).await.unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn other_parameters_verify_and_rehash() {
        let old = PasswordHasher::new(&PasswordConfig {
            memory_kib: 128,
            iterations: 2,
            parallelism: 2,
            ..PasswordConfig::default()
        })
        .unwrap();
        let hash = old.hash("pa55word!").await.unwrap();
        let current = PasswordHasher::new(&cheap()).unwrap();
        match current.verify("pa55word!", Some(&hash)).await.unwrap() {
            Verified::YesRehashed(new_hash) => {
                assert!(
                    new_hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
                    "{new_hash}"
                );
            }
            other => panic!("expected a rehash, got {other:?}"),
        }
    }
}
