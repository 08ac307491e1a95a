//! The state stores against one specification: memory, SQL on SQLite, PostgreSQL and
//! MariaDB, and Redis. Each scenario runs on each store, concurrency included.

use std::sync::Arc;
use std::time::Duration;

use fastauth::store::MemoryStateStore;
use fastauth::store::state::{Expiry, StateStore};
use fastauth_tests::TestDb;
use futures_util::future::join_all;

type Store = Arc<dyn StateStore>;

/// Instantiates every scenario once per store, as `<store>::<scenario>`.
macro_rules! on_every_store {
    ($($scenario:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let store: super::Store = std::sync::Arc::new(super::MemoryStateStore::new());
                    super::$scenario(store).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(fastauth_tests::state::redis_store().await).await;
                }
            )*
        }
        on_every_store!(@sql sqlite, Sqlite, $($scenario),*);
        on_every_store!(@sql postgres, Postgres, $($scenario),*);
        on_every_store!(@sql mariadb, MariaDb, $($scenario),*);
    };
    (@sql $name:ident, $backend:ident, $($scenario:ident),*) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    fastauth_tests::run(fastauth_tests::Backend::$backend, |db| {
                        Box::pin(super::on_database(db, super::$scenario))
                    })
                    .await;
                }
            )*
        }
    };
}

async fn on_database<F, Fut>(db: &TestDb, scenario: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    scenario(db.state_store().await).await;
}

on_every_store! {
    set_if_absent_once,
    set_replaces_and_get_reads,
    take_returns_once,
    values_expire,
    increment_fixed_window,
    increment_sliding_window,
    increment_replaces_text,
    delete_reports_live,
    keys_are_bounded,
    concurrent_set_if_absent_one_winner,
    concurrent_take_one_winner,
    concurrent_increments_all_counted,
}

const MINUTE: Duration = Duration::from_secs(60);

async fn set_if_absent_once(store: Store) {
    assert!(
        store
            .set_if_absent("oauth:state:a", "one", MINUTE)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_if_absent("oauth:state:a", "two", MINUTE)
            .await
            .unwrap()
    );
    let value = store.get("oauth:state:a").await.unwrap().expect("stored");
    assert_eq!(value.value, "one");
    assert!(
        store
            .set_if_absent("oauth:state:b", "two", MINUTE)
            .await
            .unwrap()
    );
}

async fn set_replaces_and_get_reads(store: Store) {
    assert_eq!(store.get("k").await.unwrap(), None);
    store.set("k", "first", MINUTE).await.unwrap();
    store
        .set("k", "second", Duration::from_secs(30))
        .await
        .unwrap();
    let value = store.get("k").await.unwrap().expect("stored");
    assert_eq!(value.value, "second");
    assert!(value.expires_in <= Duration::from_secs(30), "{value:?}");
    assert!(value.expires_in > Duration::from_secs(28), "{value:?}");
    // Keys are compared exactly: MariaDB's default collation would ignore case.
    assert_eq!(store.get("K").await.unwrap(), None);
    store.set("K", "upper", MINUTE).await.unwrap();
    assert_eq!(
        store.get("k").await.unwrap().expect("stored").value,
        "second"
    );
}

async fn take_returns_once(store: Store) {
    store.set("challenge:x", "ünïcode ✓", MINUTE).await.unwrap();
    assert_eq!(
        store.take("challenge:x").await.unwrap().as_deref(),
        Some("ünïcode ✓")
    );
    assert_eq!(store.take("challenge:x").await.unwrap(), None);
    assert_eq!(store.get("challenge:x").await.unwrap(), None);
    assert_eq!(store.take("never-set").await.unwrap(), None);
}

async fn values_expire(store: Store) {
    let short = Duration::from_millis(300);
    store.set("short", "v", short).await.unwrap();
    assert!(store.set_if_absent("short-nx", "v", short).await.unwrap());
    store.set("taken", "v", short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
    assert_eq!(store.take("taken").await.unwrap(), None);
    // An expired value is absent, so the key can be claimed again.
    assert!(store.set_if_absent("short-nx", "w", MINUTE).await.unwrap());
    assert_eq!(
        store.get("short-nx").await.unwrap().expect("stored").value,
        "w"
    );
}

async fn increment_fixed_window(store: Store) {
    let window = Duration::from_millis(700);
    for expected in 1..=3 {
        let counter = store
            .increment("rate:a", window, Expiry::Fixed)
            .await
            .unwrap();
        assert_eq!(counter.count, expected);
        assert!(counter.expires_in <= window, "{counter:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counter = store
        .increment("rate:a", window, Expiry::Fixed)
        .await
        .unwrap();
    assert_eq!(counter.count, 4);
    // The window did not move with the increments.
    assert!(
        counter.expires_in <= Duration::from_millis(400),
        "{counter:?}"
    );
    assert_eq!(store.get("rate:a").await.unwrap().expect("live").value, "4");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counter = store
        .increment("rate:a", window, Expiry::Fixed)
        .await
        .unwrap();
    assert_eq!(counter.count, 1, "a new window starts from one");
}

async fn increment_sliding_window(store: Store) {
    let window = Duration::from_millis(600);
    store
        .increment("fail:a", window, Expiry::Sliding)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let counter = store
        .increment("fail:a", window, Expiry::Sliding)
        .await
        .unwrap();
    assert_eq!(counter.count, 2);
    assert!(
        counter.expires_in > Duration::from_millis(450),
        "{counter:?}"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    // 800 ms after the first increment, but within the window of the second.
    let counter = store
        .increment("fail:a", window, Expiry::Sliding)
        .await
        .unwrap();
    assert_eq!(counter.count, 3);
}

async fn increment_replaces_text(store: Store) {
    store.set("mixed", "text", MINUTE).await.unwrap();
    let counter = store
        .increment("mixed", MINUTE, Expiry::Fixed)
        .await
        .unwrap();
    assert_eq!(counter.count, 1);
    store.set("mixed", "text again", MINUTE).await.unwrap();
    assert_eq!(
        store.get("mixed").await.unwrap().expect("live").value,
        "text again"
    );
}

async fn delete_reports_live(store: Store) {
    store.set("d", "v", MINUTE).await.unwrap();
    assert!(store.delete("d").await.unwrap());
    assert!(!store.delete("d").await.unwrap());
    assert_eq!(store.get("d").await.unwrap(), None);
    store.increment("c", MINUTE, Expiry::Fixed).await.unwrap();
    assert!(store.delete("c").await.unwrap());
    let counter = store.increment("c", MINUTE, Expiry::Fixed).await.unwrap();
    assert_eq!(counter.count, 1);
}

async fn keys_are_bounded(store: Store) {
    let longest = "k".repeat(fastauth::store::state::MAX_STATE_KEY_BYTES);
    store.set(&longest, "v", MINUTE).await.unwrap();
    assert_eq!(store.get(&longest).await.unwrap().expect("live").value, "v");
    let too_long = format!("{longest}k");
    assert!(store.set(&too_long, "v", MINUTE).await.is_err());
    assert!(store.get("").await.is_err());
}

async fn concurrent_set_if_absent_one_winner(store: Store) {
    let attempts = (0..20).map(|n| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store
                .set_if_absent("race:nx", &n.to_string(), MINUTE)
                .await
                .unwrap()
        })
    });
    let results: Vec<bool> = join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results.iter().filter(|won| **won).count(), 1, "{results:?}");
}

async fn concurrent_take_one_winner(store: Store) {
    store.set("race:take", "secret", MINUTE).await.unwrap();
    let attempts = (0..20).map(|_| {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.take("race:take").await.unwrap() })
    });
    let results: Vec<Option<String>> = join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<&String> = results.iter().flatten().collect();
    assert_eq!(winners, ["secret"], "{results:?}");
}

async fn concurrent_increments_all_counted(store: Store) {
    let attempts = (0..30).map(|_| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store
                .increment("race:count", MINUTE, Expiry::Fixed)
                .await
                .unwrap()
                .count
        })
    });
    let mut counts: Vec<u64> = join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=30).collect::<Vec<u64>>());
}
