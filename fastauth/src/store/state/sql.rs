//! The SQL state store: the table `fastauth_state` on SQLite, PostgreSQL or MySQL/MariaDB.
//!
//! Expiry times are Unix milliseconds from the instance's clock, so instances that share a
//! database must keep their clocks in sync (NTP), as token expiry already requires.

// Without a database feature every statement follows a match on an uninhabited pool.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unreachable_code, unused_variables)
)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Counter, Expiry, StateFuture, StateStore, StateValue, check_key, ttl_millis};
use crate::store::StoreError;
use crate::store::sql::DialectKind;

/// How many writes pass between two deletions of expired rows.
const PURGE_EVERY: u64 = 256;

/// The statements of one dialect. PostgreSQL numbers its placeholders; the others bind in
/// order of appearance, so each statement lists its arguments in the order of the text.
struct Statements {
    create_table: &'static str,
    create_index: &'static str,
    /// (key, now)
    delete_expired_key: &'static str,
    /// (key, value, expires_at)
    insert_if_absent: &'static str,
    /// (key, value, expires_at)
    upsert: &'static str,
    /// (key, now)
    select_live: &'static str,
    /// (key): returns value, counter, expires_at. `None` for MySQL, which has no
    /// `DELETE ... RETURNING` and takes in a transaction instead.
    delete_returning: Option<&'static str>,
    /// (key)
    select_for_update: &'static str,
    /// (key)
    delete_key: &'static str,
    /// (key, now)
    delete_live: &'static str,
    /// (now)
    purge: &'static str,
    /// Fixed window: (key, expires_at, now, now)
    increment_fixed: &'static str,
    /// Sliding window: (key, expires_at, now)
    increment_sliding: &'static str,
    /// (key): returns counter, expires_at; MySQL reads the counter back after the upsert.
    select_counter: &'static str,
}

const SQLITE: Statements = Statements {
    create_table: "CREATE TABLE IF NOT EXISTS fastauth_state (\
        state_key VARCHAR(191) NOT NULL PRIMARY KEY, state_value TEXT NULL, \
        counter BIGINT NOT NULL DEFAULT 0, expires_at BIGINT NOT NULL)",
    create_index: "CREATE INDEX IF NOT EXISTS ix_fastauth_state_expires_at \
        ON fastauth_state (expires_at)",
    delete_expired_key: "DELETE FROM fastauth_state WHERE state_key = ? AND expires_at <= ?",
    insert_if_absent: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES (?, ?, 0, ?) ON CONFLICT (state_key) DO NOTHING",
    upsert: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES (?, ?, 0, ?) ON CONFLICT (state_key) DO UPDATE SET \
        state_value = excluded.state_value, counter = 0, expires_at = excluded.expires_at",
    select_live: "SELECT state_value, counter, expires_at FROM fastauth_state \
        WHERE state_key = ? AND expires_at > ?",
    delete_returning: Some(
        "DELETE FROM fastauth_state WHERE state_key = ? \
         RETURNING state_value, counter, expires_at",
    ),
    select_for_update: "",
    delete_key: "DELETE FROM fastauth_state WHERE state_key = ?",
    delete_live: "DELETE FROM fastauth_state WHERE state_key = ? AND expires_at > ?",
    purge: "DELETE FROM fastauth_state WHERE expires_at <= ?",
    increment_fixed: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES (?, NULL, 1, ?) ON CONFLICT (state_key) DO UPDATE SET \
        counter = CASE WHEN fastauth_state.expires_at <= ? OR fastauth_state.state_value \
        IS NOT NULL THEN 1 ELSE fastauth_state.counter + 1 END, \
        expires_at = CASE WHEN fastauth_state.expires_at <= ? OR fastauth_state.state_value \
        IS NOT NULL THEN excluded.expires_at ELSE fastauth_state.expires_at END, \
        state_value = NULL \
        RETURNING counter, expires_at",
    increment_sliding: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES (?, NULL, 1, ?) ON CONFLICT (state_key) DO UPDATE SET \
        counter = CASE WHEN fastauth_state.expires_at <= ? OR fastauth_state.state_value \
        IS NOT NULL THEN 1 ELSE fastauth_state.counter + 1 END, \
        expires_at = excluded.expires_at, state_value = NULL \
        RETURNING counter, expires_at",
    select_counter: "",
};

const POSTGRES: Statements = Statements {
    create_table: "CREATE TABLE IF NOT EXISTS fastauth_state (\
        state_key VARCHAR(191) NOT NULL PRIMARY KEY, state_value TEXT NULL, \
        counter BIGINT NOT NULL DEFAULT 0, expires_at BIGINT NOT NULL)",
    create_index: "CREATE INDEX IF NOT EXISTS ix_fastauth_state_expires_at \
        ON fastauth_state (expires_at)",
    delete_expired_key: "DELETE FROM fastauth_state WHERE state_key = $1 AND expires_at <= $2",
    insert_if_absent: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES ($1, $2, 0, $3) ON CONFLICT (state_key) DO NOTHING",
    upsert: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES ($1, $2, 0, $3) ON CONFLICT (state_key) DO UPDATE SET \
        state_value = excluded.state_value, counter = 0, expires_at = excluded.expires_at",
    select_live: "SELECT state_value, counter, expires_at FROM fastauth_state \
        WHERE state_key = $1 AND expires_at > $2",
    delete_returning: Some(
        "DELETE FROM fastauth_state WHERE state_key = $1 \
         RETURNING state_value, counter, expires_at",
    ),
    select_for_update: "",
    delete_key: "DELETE FROM fastauth_state WHERE state_key = $1",
    delete_live: "DELETE FROM fastauth_state WHERE state_key = $1 AND expires_at > $2",
    purge: "DELETE FROM fastauth_state WHERE expires_at <= $1",
    increment_fixed: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES ($1, NULL, 1, $2) ON CONFLICT (state_key) DO UPDATE SET \
        counter = CASE WHEN fastauth_state.expires_at <= $3 OR fastauth_state.state_value \
        IS NOT NULL THEN 1 ELSE fastauth_state.counter + 1 END, \
        expires_at = CASE WHEN fastauth_state.expires_at <= $4 OR fastauth_state.state_value \
        IS NOT NULL THEN excluded.expires_at ELSE fastauth_state.expires_at END, \
        state_value = NULL \
        RETURNING counter, expires_at",
    increment_sliding: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES ($1, NULL, 1, $2) ON CONFLICT (state_key) DO UPDATE SET \
        counter = CASE WHEN fastauth_state.expires_at <= $3 OR fastauth_state.state_value \
        IS NOT NULL THEN 1 ELSE fastauth_state.counter + 1 END, \
        expires_at = excluded.expires_at, state_value = NULL \
        RETURNING counter, expires_at",
    select_counter: "",
};

// NOTE: run against MariaDB 10.11 only. MySQL 8.0.20 and later deprecate `VALUES(column)`
// in `ON DUPLICATE KEY UPDATE` (it still works there, with a warning).
//
// MySQL applies the assignments of `ON DUPLICATE KEY UPDATE` left to right, each seeing the
// columns the previous ones set. So `counter` is computed first, from the old `expires_at`
// and `state_value`, then `expires_at`, then `state_value` is cleared.
const MYSQL: Statements = Statements {
    create_table: "CREATE TABLE IF NOT EXISTS fastauth_state (\
        state_key VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, \
        state_value TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, \
        counter BIGINT NOT NULL DEFAULT 0, expires_at BIGINT NOT NULL)",
    create_index: "CREATE INDEX IF NOT EXISTS ix_fastauth_state_expires_at \
        ON fastauth_state (expires_at)",
    delete_expired_key: "DELETE FROM fastauth_state WHERE state_key = ? AND expires_at <= ?",
    insert_if_absent: "INSERT IGNORE INTO fastauth_state \
        (state_key, state_value, counter, expires_at) VALUES (?, ?, 0, ?)",
    upsert: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES (?, ?, 0, ?) ON DUPLICATE KEY UPDATE \
        state_value = VALUES(state_value), counter = 0, expires_at = VALUES(expires_at)",
    select_live: "SELECT state_value, counter, expires_at FROM fastauth_state \
        WHERE state_key = ? AND expires_at > ?",
    delete_returning: None,
    select_for_update: "SELECT state_value, counter, expires_at FROM fastauth_state \
        WHERE state_key = ? FOR UPDATE",
    delete_key: "DELETE FROM fastauth_state WHERE state_key = ?",
    delete_live: "DELETE FROM fastauth_state WHERE state_key = ? AND expires_at > ?",
    purge: "DELETE FROM fastauth_state WHERE expires_at <= ?",
    increment_fixed: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES (?, NULL, 1, ?) ON DUPLICATE KEY UPDATE \
        counter = IF(expires_at <= ? OR state_value IS NOT NULL, 1, counter + 1), \
        expires_at = IF(counter = 1, VALUES(expires_at), expires_at), \
        state_value = NULL",
    increment_sliding: "INSERT INTO fastauth_state (state_key, state_value, counter, expires_at) \
        VALUES (?, NULL, 1, ?) ON DUPLICATE KEY UPDATE \
        counter = IF(expires_at <= ? OR state_value IS NOT NULL, 1, counter + 1), \
        expires_at = VALUES(expires_at), state_value = NULL",
    select_counter: "SELECT counter, expires_at FROM fastauth_state WHERE state_key = ?",
};

#[derive(Clone)]
enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// Without a database feature no pool exists, and no store can be built.
    #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
    Unavailable(std::convert::Infallible),
}

/// Runs `$body` with `$pool` bound to the concrete sqlx pool, whichever it is: the body is
/// written once and type-checked per driver.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            Pool::Postgres($pool) => $body,
            #[cfg(feature = "mysql")]
            Pool::MySql($pool) => $body,
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            Pool::Unavailable(never) => match *never {},
        }
    };
}

/// A [`StateStore`] in the table `fastauth_state`, which [`StateStore::migrate`] creates.
///
/// Every instance connected to the database reads the same state. Expired rows are ignored
/// when read, overwritten when their key is written again, and deleted in bulk every few
/// hundred writes of each instance.
#[derive(Clone)]
pub struct SqlStateStore {
    pool: Pool,
    kind: DialectKind,
    writes: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqlStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStateStore")
            .field("dialect", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A dialect whose pool can hold a [`SqlStateStore`].
pub trait StateDialect: crate::store::Dialect {
    /// Builds the state store on `pool`.
    fn state_store(pool: &Self::Pool) -> SqlStateStore;
}

#[cfg(feature = "sqlite")]
impl StateDialect for crate::store::Sqlite {
    fn state_store(pool: &sqlx::SqlitePool) -> SqlStateStore {
        SqlStateStore::new(Pool::Sqlite(pool.clone()), DialectKind::Sqlite)
    }
}

#[cfg(feature = "postgres")]
impl StateDialect for crate::store::Postgres {
    fn state_store(pool: &sqlx::PgPool) -> SqlStateStore {
        SqlStateStore::new(Pool::Postgres(pool.clone()), DialectKind::Postgres)
    }
}

#[cfg(feature = "mysql")]
impl StateDialect for crate::store::MySql {
    fn state_store(pool: &sqlx::MySqlPool) -> SqlStateStore {
        SqlStateStore::new(Pool::MySql(pool.clone()), DialectKind::MySql)
    }
}

type Row = (Option<String>, i64, i64);

impl SqlStateStore {
    fn new(pool: Pool, kind: DialectKind) -> Self {
        Self {
            pool,
            kind,
            writes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Builds the store on a SQLite pool.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(pool: sqlx::SqlitePool) -> Self {
        Self::new(Pool::Sqlite(pool), DialectKind::Sqlite)
    }

    /// Builds the store on a PostgreSQL pool.
    #[cfg(feature = "postgres")]
    pub fn postgres(pool: sqlx::PgPool) -> Self {
        Self::new(Pool::Postgres(pool), DialectKind::Postgres)
    }

    /// Builds the store on a MySQL or MariaDB pool.
    #[cfg(feature = "mysql")]
    pub fn mysql(pool: sqlx::MySqlPool) -> Self {
        Self::new(Pool::MySql(pool), DialectKind::MySql)
    }

    fn statements(&self) -> &'static Statements {
        match self.kind {
            DialectKind::Sqlite => &SQLITE,
            DialectKind::Postgres => &POSTGRES,
            DialectKind::MySql => &MYSQL,
        }
    }

    /// Counts a write and, every [`PURGE_EVERY`] writes, deletes the expired rows.
    async fn count_write(&self, now: i64) -> Result<(), StoreError> {
        let writes = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if !writes.is_multiple_of(PURGE_EVERY) {
            return Ok(());
        }
        let sql = self.statements().purge;
        let purged: u64 = on_pool!(self, pool => sqlx::query(sql).bind(now).execute(pool).await?
            .rows_affected());
        tracing::debug!(target: "fastauth::store", purged, "expired state rows deleted");
        Ok(())
    }

    /// Runs a MySQL transaction again when InnoDB chose it as a deadlock victim (SQLSTATE
    /// 40001), which concurrent upserts of one new key can cause; at most three tries.
    async fn retry_deadlock<T, F, Fut>(&self, mut attempt: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(sqlx::Error::Database(error))
                    if tries < 3 && error.code().as_deref() == Some("40001") =>
                {
                    tracing::debug!(target: "fastauth::store", tries, "deadlock: retrying");
                }
                other => return other.map_err(StoreError::from),
            }
        }
    }

    async fn take_in_transaction(&self, key: &str) -> Result<Option<Row>, StoreError> {
        self.retry_deadlock(|| self.take_once(key)).await
    }

    async fn take_once(&self, key: &str) -> Result<Option<Row>, sqlx::Error> {
        let s = self.statements();
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await?;
            let row: Option<Row> = sqlx::query_as(s.select_for_update)
                .bind(key)
                .fetch_optional(&mut *transaction)
                .await?;
            if row.is_some() {
                sqlx::query(s.delete_key).bind(key).execute(&mut *transaction).await?;
            }
            transaction.commit().await?;
            Ok(row)
        })
    }

    async fn increment_in_transaction(
        &self,
        key: &str,
        expires_at: i64,
        now: i64,
        expiry: Expiry,
    ) -> Result<(i64, i64), StoreError> {
        self.retry_deadlock(|| self.increment_once(key, expires_at, now, expiry))
            .await
    }

    async fn increment_once(
        &self,
        key: &str,
        expires_at: i64,
        now: i64,
        expiry: Expiry,
    ) -> Result<(i64, i64), sqlx::Error> {
        let s = self.statements();
        let upsert = match expiry {
            Expiry::Fixed => s.increment_fixed,
            Expiry::Sliding => s.increment_sliding,
        };
        on_pool!(self, pool => {
            // The upsert locks the row until the commit, so the read returns this increment
            // and no other.
            let mut transaction = pool.begin().await?;
            sqlx::query(upsert)
                .bind(key)
                .bind(expires_at)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            let counter: (i64, i64) = sqlx::query_as(s.select_counter)
                .bind(key)
                .fetch_one(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(counter)
        })
    }
}

fn now_millis() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn expiry_millis(now: i64, ttl: Duration) -> i64 {
    let ttl = i64::try_from(ttl_millis(ttl)).unwrap_or(i64::MAX);
    now.saturating_add(ttl)
}

fn remaining(expires_at: i64, now: i64) -> Duration {
    Duration::from_millis(u64::try_from(expires_at.saturating_sub(now)).unwrap_or(0))
}

fn row_text((value, counter, _): &Row) -> String {
    value.clone().unwrap_or_else(|| counter.to_string())
}

impl StateStore for SqlStateStore {
    fn set_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StateFuture<'a, bool> {
        Box::pin(async move {
            check_key(key)?;
            let s = self.statements();
            let now = now_millis();
            let expires_at = expiry_millis(now, ttl);
            self.count_write(now).await?;
            // An expired row must go first, or the insert would see the key as taken. Two
            // callers may both delete it; the primary key lets only one insert win.
            let inserted: u64 = on_pool!(self, pool => {
                sqlx::query(s.delete_expired_key).bind(key).bind(now).execute(pool).await?;
                sqlx::query(s.insert_if_absent)
                    .bind(key)
                    .bind(value)
                    .bind(expires_at)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            Ok(inserted == 1)
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StateFuture<'a, ()> {
        Box::pin(async move {
            check_key(key)?;
            let s = self.statements();
            let now = now_millis();
            self.count_write(now).await?;
            let expires_at = expiry_millis(now, ttl);
            on_pool!(self, pool => sqlx::query(s.upsert)
                .bind(key)
                .bind(value)
                .bind(expires_at)
                .execute(pool)
                .await?
                .rows_affected());
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<StateValue>> {
        Box::pin(async move {
            check_key(key)?;
            let s = self.statements();
            let now = now_millis();
            let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(s.select_live)
                .bind(key)
                .bind(now)
                .fetch_optional(pool)
                .await?);
            Ok(row.map(|row| StateValue {
                value: row_text(&row),
                expires_in: remaining(row.2, now),
            }))
        })
    }

    fn take<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<String>> {
        Box::pin(async move {
            check_key(key)?;
            let now = now_millis();
            let row: Option<Row> = match self.statements().delete_returning {
                Some(sql) => on_pool!(self, pool => sqlx::query_as(sql)
                    .bind(key)
                    .fetch_optional(pool)
                    .await?),
                None => self.take_in_transaction(key).await?,
            };
            Ok(row.filter(|row| row.2 > now).map(|row| row_text(&row)))
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
            let s = self.statements();
            let now = now_millis();
            self.count_write(now).await?;
            let expires_at = expiry_millis(now, ttl);
            let (count, expires) = match (self.kind, expiry) {
                (DialectKind::MySql, _) => {
                    self.increment_in_transaction(key, expires_at, now, expiry)
                        .await?
                }
                (_, Expiry::Fixed) => on_pool!(self, pool => sqlx::query_as(s.increment_fixed)
                    .bind(key)
                    .bind(expires_at)
                    .bind(now)
                    .bind(now)
                    .fetch_one(pool)
                    .await?),
                (_, Expiry::Sliding) => {
                    on_pool!(self, pool => sqlx::query_as(s.increment_sliding)
                        .bind(key)
                        .bind(expires_at)
                        .bind(now)
                        .fetch_one(pool)
                        .await?)
                }
            };
            Ok(Counter {
                count: u64::try_from(count).unwrap_or(0),
                expires_in: remaining(expires, now),
            })
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StateFuture<'a, bool> {
        Box::pin(async move {
            check_key(key)?;
            let s = self.statements();
            let now = now_millis();
            let live: u64 = on_pool!(self, pool => {
                let live = sqlx::query(s.delete_live)
                    .bind(key)
                    .bind(now)
                    .execute(pool)
                    .await?
                    .rows_affected();
                sqlx::query(s.delete_key).bind(key).execute(pool).await?;
                live
            });
            Ok(live > 0)
        })
    }

    fn migrate(&self) -> StateFuture<'_, ()> {
        Box::pin(async move {
            let s = self.statements();
            on_pool!(self, pool => {
                sqlx::query(s.create_table).execute(pool).await?;
                sqlx::query(s.create_index).execute(pool).await?;
            });
            Ok(())
        })
    }
}
