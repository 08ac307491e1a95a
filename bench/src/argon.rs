//! The cost of one Argon2id verification at fastauth's default parameters, which bounds
//! the login rate of a server: at most `cores / verify_time` logins per second.

use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

/// fastauth's default memory cost, in KiB.
pub(crate) const MEMORY_KIB: u32 = 19_456;
/// fastauth's default number of passes.
pub(crate) const ITERATIONS: u32 = 2;
/// fastauth's default number of lanes.
pub(crate) const PARALLELISM: u32 = 1;

/// Hashes one password, then verifies it `samples` times and returns the median time.
///
/// Runs on the calling thread, so call it from a blocking task.
pub(crate) fn median_verify_time(samples: usize) -> Result<Duration, String> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| format!("invalid Argon2 parameters: {e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let password = b"fastauth-bench password";
    let phc = argon2
        .hash_password(password)
        .map_err(|e| format!("hashing failed: {e}"))?
        .to_string();
    let parsed = PasswordHash::new(&phc).map_err(|e| format!("parsing {phc} failed: {e}"))?;

    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        argon2
            .verify_password(password, &parsed)
            .map_err(|e| format!("verifying the password just hashed failed: {e}"))?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(times[times.len() / 2])
}
