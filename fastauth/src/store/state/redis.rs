//! The Redis state store (the `redis` feature).

use std::time::Duration;

use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

use super::{Counter, Expiry, StateFuture, StateStore, StateValue, check_key, ttl_millis};
use crate::store::StoreError;

/// The prefix of every key this store writes, so that it can share a Redis database.
pub const REDIS_KEY_PREFIX: &str = "fastauth:";

/// Adds one to a counter and returns the count and its time to live in milliseconds.
/// `ARGV[1]` is the time to live; `ARGV[2]` is `1` when every increment moves the expiry.
/// A text value under the key is replaced by a new counter, as the other stores do, where
/// `INCR` alone would fail. A key without an expiry (`PTTL` of -1), which only a foreign
/// writer leaves, gets one too.
const INCREMENT_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if current and not string.match(current, '^%d+$') then
  redis.call('DEL', KEYS[1])
end
local count = redis.call('INCR', KEYS[1])
if count == 1 or ARGV[2] == '1' or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}
";

/// A [`StateStore`] in Redis 6.2 or later (it uses `GETDEL`).
///
/// One multiplexed connection, reconnected on failure, serves every request. Each method is
/// one command or one script, so it is atomic in Redis.
#[derive(Clone)]
pub struct RedisStateStore {
    connection: ConnectionManager,
    prefix: String,
    increment: redis::Script,
}

impl std::fmt::Debug for RedisStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password, so only the prefix is shown.
        f.debug_struct("RedisStateStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn redis_error(error: redis::RedisError) -> StoreError {
    StoreError::Other(Box::new(error))
}

impl RedisStateStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS) with the key prefix
    /// [`REDIS_KEY_PREFIX`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_prefix(url, REDIS_KEY_PREFIX).await
    }

    /// Connects to `url` and writes every key under `prefix`.
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(redis_error)?;
        let connection = ConnectionManager::new(client).await.map_err(redis_error)?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            increment: redis::Script::new(INCREMENT_SCRIPT),
        })
    }

    fn key(&self, key: &str) -> Result<String, StoreError> {
        check_key(key)?;
        Ok(format!("{}{key}", self.prefix))
    }
}

fn from_millis(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

impl StateStore for RedisStateStore {
    fn set_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StateFuture<'a, bool> {
        Box::pin(async move {
            let key = self.key(key)?;
            let options = redis::SetOptions::default()
                .conditional_set(redis::ExistenceCheck::NX)
                .with_expiration(redis::SetExpiry::PX(ttl_millis(ttl)));
            let mut connection = self.connection.clone();
            let stored: Option<String> = connection
                .set_options(&key, value, options)
                .await
                .map_err(redis_error)?;
            Ok(stored.is_some())
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let key = self.key(key)?;
            let mut connection = self.connection.clone();
            let () = connection
                .pset_ex(&key, value, ttl_millis(ttl))
                .await
                .map_err(redis_error)?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<StateValue>> {
        Box::pin(async move {
            let key = self.key(key)?;
            let mut connection = self.connection.clone();
            let (value, ttl): (Option<String>, i64) = redis::pipe()
                .atomic()
                .get(&key)
                .pttl(&key)
                .query_async(&mut connection)
                .await
                .map_err(redis_error)?;
            Ok(value.map(|value| StateValue {
                value,
                expires_in: from_millis(ttl),
            }))
        })
    }

    fn take<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<String>> {
        Box::pin(async move {
            let key = self.key(key)?;
            let mut connection = self.connection.clone();
            connection.get_del(&key).await.map_err(redis_error)
        })
    }

    fn increment<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
        expiry: Expiry,
    ) -> StateFuture<'a, Counter> {
        Box::pin(async move {
            let key = self.key(key)?;
            let sliding = if expiry == Expiry::Sliding { "1" } else { "0" };
            let mut connection = self.connection.clone();
            let (count, ttl): (u64, i64) = self
                .increment
                .key(&key)
                .arg(ttl_millis(ttl))
                .arg(sliding)
                .invoke_async(&mut connection)
                .await
                .map_err(redis_error)?;
            Ok(Counter {
                count,
                expires_in: from_millis(ttl),
            })
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StateFuture<'a, bool> {
        Box::pin(async move {
            let key = self.key(key)?;
            let mut connection = self.connection.clone();
            let removed: u64 = connection.del(&key).await.map_err(redis_error)?;
            Ok(removed > 0)
        })
    }
}
