//! The in-memory state store: one process, lost on exit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Counter, Expiry, StateFuture, StateStore, StateValue, check_key};

/// How many writes pass between two sweeps of expired entries.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug)]
enum Content {
    Text(String),
    Count(u64),
}

#[derive(Debug)]
struct Entry {
    content: Content,
    expires_at: Instant,
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        self.expires_at > now
    }

    fn text(&self) -> String {
        match &self.content {
            Content::Text(text) => text.clone(),
            Content::Count(count) => count.to_string(),
        }
    }
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, Entry>,
    writes: u64,
}

impl Entries {
    /// Counts a write and, every [`SWEEP_EVERY`] writes, drops the expired entries, so that
    /// keys that are never read again do not pile up.
    fn count_write(&mut self, now: Instant) {
        self.writes = self.writes.wrapping_add(1);
        if self.writes.is_multiple_of(SWEEP_EVERY) {
            self.map.retain(|_, entry| entry.is_live(now));
        }
    }

    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.map.get(key).filter(|entry| entry.is_live(now))
    }
}

/// A [`StateStore`] in process memory: for a single instance, tests and development. Clones
/// share the same entries.
#[derive(Debug, Clone, Default)]
pub struct MemoryStateStore {
    entries: Arc<Mutex<Entries>>,
}

impl MemoryStateStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Every change below is one insert or remove, so the map is consistent even after a
        // panic elsewhere poisoned the lock.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl StateStore for MemoryStateStore {
    fn set_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StateFuture<'a, bool> {
        Box::pin(async move {
            check_key(key)?;
            let now = Instant::now();
            let mut entries = self.lock();
            entries.count_write(now);
            if entries.live(key, now).is_some() {
                return Ok(false);
            }
            let entry = Entry {
                content: Content::Text(value.to_owned()),
                expires_at: now + ttl,
            };
            entries.map.insert(key.to_owned(), entry);
            Ok(true)
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StateFuture<'a, ()> {
        Box::pin(async move {
            check_key(key)?;
            let now = Instant::now();
            let mut entries = self.lock();
            entries.count_write(now);
            let entry = Entry {
                content: Content::Text(value.to_owned()),
                expires_at: now + ttl,
            };
            entries.map.insert(key.to_owned(), entry);
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<StateValue>> {
        Box::pin(async move {
            check_key(key)?;
            let now = Instant::now();
            let entries = self.lock();
            Ok(entries.live(key, now).map(|entry| StateValue {
                value: entry.text(),
                expires_in: entry.expires_at - now,
            }))
        })
    }

    fn take<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<String>> {
        Box::pin(async move {
            check_key(key)?;
            let now = Instant::now();
            let entry = self.lock().map.remove(key);
            Ok(entry.filter(|e| e.is_live(now)).map(|e| e.text()))
        })
    }

    fn increment<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
        expiry: Expiry,
    ) -> StateFuture<'a, Counter> {
        Box::pin(async move {
            check_key(key)?;
            let now = Instant::now();
            let mut entries = self.lock();
            entries.count_write(now);
            let count = match entries.live(key, now).map(|e| (&e.content, e.expires_at)) {
                Some((Content::Count(count), expires_at)) => {
                    let expires_at = match expiry {
                        Expiry::Fixed => expires_at,
                        Expiry::Sliding => now + ttl,
                    };
                    (count.saturating_add(1), expires_at)
                }
                // A text value is replaced, as Redis `INCR` fails on it and the key's owner
                // would never read it as a counter.
                _ => (1, now + ttl),
            };
            let (count, expires_at) = count;
            let entry = Entry {
                content: Content::Count(count),
                expires_at,
            };
            entries.map.insert(key.to_owned(), entry);
            Ok(Counter {
                count,
                expires_in: expires_at - now,
            })
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StateFuture<'a, bool> {
        Box::pin(async move {
            check_key(key)?;
            let now = Instant::now();
            let entry = self.lock().map.remove(key);
            Ok(entry.is_some_and(|e| e.is_live(now)))
        })
    }
}
