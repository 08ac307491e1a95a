//! The Redis state store of the tests: one key prefix per test on the server that
//! `FASTAUTH_TEST_REDIS` names (default `redis://127.0.0.1:6379`).

use std::sync::Arc;

use fastauth::store::{RedisStateStore, StateStore};

const REDIS_DEFAULT: &str = "redis://127.0.0.1:6379";

/// Returns the URL of the test Redis server.
pub fn redis_url() -> String {
    std::env::var("FASTAUTH_TEST_REDIS")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| REDIS_DEFAULT.to_owned())
}

/// Connects a Redis state store whose keys no other test shares. Every key the tests write
/// expires, so nothing needs deleting afterwards. Panics when Redis is unreachable: these
/// tests never skip.
pub async fn redis_store() -> Arc<dyn StateStore> {
    let url = redis_url();
    let prefix = format!("fastauth-test:{:016x}:", rand::random::<u64>());
    let store = RedisStateStore::connect_with_prefix(&url, &prefix)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Redis is not reachable at {url}: {e}. Start it with `scripts/test.sh`, or set \
                 FASTAUTH_TEST_REDIS to the URL of a running server"
            )
        });
    Arc::new(store)
}
