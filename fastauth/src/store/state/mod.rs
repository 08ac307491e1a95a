//! Short-lived state shared by every instance of a service: counters with an expiry
//! (rate limits, failed logins), locks, and one-time values (OAuth state, passkey
//! challenges) that exactly one request may take.
//!
//! [`StateStore`] is the trait; [`MemoryStateStore`] keeps the state in process memory,
//! [`SqlStateStore`] in the table `fastauth_state`, and `RedisStateStore` (the `redis`
//! feature) in Redis. Several instances behind one load balancer must share a SQL or Redis
//! store to behave as one.

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod sql;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::StoreError;

pub use memory::MemoryStateStore;
#[cfg(feature = "redis")]
pub use redis::{REDIS_KEY_PREFIX, RedisStateStore};
pub use sql::{SqlStateStore, StateDialect};

/// The longest key a [`StateStore`] accepts, in bytes. The SQL store indexes keys, and
/// MariaDB indexes at most 767 bytes of a `utf8mb4` column.
pub const MAX_STATE_KEY_BYTES: usize = 191;

/// The future a [`StateStore`] method returns.
pub type StateFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The expiry policy of [`StateStore::increment`] for a counter that exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The expiry is set when the counter is created and then stays: a fixed window, as a
    /// rate limit counts.
    Fixed,
    /// Every increment sets the expiry anew: the counter lives until `ttl` after its latest
    /// increment, as failed logins count.
    Sliding,
}

/// A counter after [`StateStore::increment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The count, 1 for a new or expired counter.
    pub count: u64,
    /// The time until the counter expires.
    pub expires_in: Duration,
}

/// A live value read by [`StateStore::get`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateValue {
    /// The value; a counter reads as its count in decimal.
    pub value: String,
    /// The time until the value expires.
    pub expires_in: Duration,
}

/// Stores short-lived values by key, each with a time to live.
///
/// Every method is atomic on its key: of several concurrent callers on several instances,
/// exactly one [`StateStore::set_if_absent`] wins and exactly one [`StateStore::take`] gets
/// the value. An expired value is as good as absent. Keys are at most
/// [`MAX_STATE_KEY_BYTES`] bytes, and callers build them from ids and hashes, never from raw
/// personal data or secrets. The trait is object safe so that a service can choose its store
/// at start-up from its configuration.
pub trait StateStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `value` under `key` for `ttl` unless a live value is there; `true` when this
    /// call stored it.
    fn set_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StateFuture<'a, bool>;

    /// Stores `value` under `key` for `ttl`, replacing any value.
    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StateFuture<'a, ()>;

    /// Reads the live value under `key`.
    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<StateValue>>;

    /// Removes the value under `key` and returns it if it was live, like Redis `GETDEL`.
    fn take<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<String>>;

    /// Adds one to the counter under `key`, creating it at 1 with `ttl` when it is absent
    /// or expired. `expiry` chooses whether an increment moves the expiry.
    fn increment<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
        expiry: Expiry,
    ) -> StateFuture<'a, Counter>;

    /// Removes the value under `key`; `true` when a live value was there.
    fn delete<'a>(&'a self, key: &'a str) -> StateFuture<'a, bool>;

    /// Creates the store's tables, if it has any. Idempotent.
    fn migrate(&self) -> StateFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// Rejects a key that is empty or longer than [`MAX_STATE_KEY_BYTES`].
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    if key.is_empty() || key.len() > MAX_STATE_KEY_BYTES {
        return Err(StoreError::Other(
            format!(
                "a state key must be 1 to {MAX_STATE_KEY_BYTES} bytes long, got {}",
                key.len()
            )
            .into(),
        ));
    }
    Ok(())
}

/// Converts a time to live to whole milliseconds, at least 1, so that a store never
/// receives a zero expiry (Redis rejects `PX 0`).
pub(crate) fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
