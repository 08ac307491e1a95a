//! A database of its own for every test: a temporary SQLite file, a fresh PostgreSQL schema
//! or a fresh MariaDB database, dropped when the test ends.
//!
//! The servers are found through `FASTAUTH_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and `FASTAUTH_TEST_MYSQL` (default
//! `mysql://root@127.0.0.1:3306/test`). A server that cannot be reached fails the test: these
//! tests never skip.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::str::FromStr;

use fastauth::AuthConfig;
use fastauth::core::hooks::AuthHooks;
use fastauth::store::{MySql, Postgres, SqlAuditSink, Sqlite};
use futures_util::FutureExt as _;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, Row as _};

use crate::client::TestApp;

const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_DEFAULT: &str = "mysql://root@127.0.0.1:3306/test";

/// Connections per test. Tests run in parallel, so each keeps its pool small.
const MAX_CONNECTIONS: u32 = 4;

/// The database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh schema in PostgreSQL.
    Postgres,
    /// A fresh database in MariaDB (or MySQL).
    MariaDb,
}

/// The pool of a test database.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MariaDb(MySqlPool),
}

/// One test's database; [`run`] creates it before the scenario and drops it afterwards.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    pool: Pool,
    /// The schema (PostgreSQL) or database (MariaDB) to drop at the end.
    namespace: Option<String>,
    /// The directory of the SQLite file, removed when the value is dropped.
    _directory: Option<tempfile::TempDir>,
}

type Scenario<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs `scenario` on a new database of `backend` and drops the database afterwards, also
/// when the scenario panics.
pub async fn run<F>(backend: Backend, scenario: F)
where
    F: for<'a> FnOnce(&'a TestDb) -> Scenario<'a>,
{
    let db = TestDb::create(backend).await;
    let outcome = AssertUnwindSafe(scenario(&db)).catch_unwind().await;
    db.destroy().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Marks SQL text as checked: the tests write their statements themselves, and the only
/// names spliced in come from [`random_name`] or from values the test created.
fn trusted(sql: impl Into<String>) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql.into())
}

fn random_name() -> String {
    format!("fa_test_{:016x}", rand::random::<u64>())
}

fn server_url(variable: &str, default: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn unreachable(server: &str, variable: &str, url: &str, error: &sqlx::Error) -> ! {
    panic!(
        "{server} is not reachable at {url}: {error}. These tests need it running: start it \
         with `scripts/test.sh` (which starts PostgreSQL and MariaDB and then runs the tests), \
         or set {variable} to the URL of a running server"
    )
}

/// The signing keys of an application built by [`TestDb::keyed_app`].
#[derive(Debug)]
pub enum KeyControl {
    /// The SQLite service.
    Sqlite(crate::sqlite::SqliteAuth),
    /// The PostgreSQL service.
    Postgres(crate::postgres::PgAuth),
    /// The MariaDB service.
    MariaDb(crate::mysql::MySqlAuth),
}

impl KeyControl {
    /// Generates and stores a new signing key and returns its `kid`.
    pub async fn rotate(&self) -> String {
        let result = match self {
            Self::Sqlite(auth) => auth.rotate_signing_key().await,
            Self::Postgres(auth) => auth.rotate_signing_key().await,
            Self::MariaDb(auth) => auth.rotate_signing_key().await,
        };
        result.expect("rotating the signing key failed")
    }

    /// Generates and stores a key that starts signing at `active_from`, and returns its `kid`.
    pub async fn add(&self, active_from: time::OffsetDateTime) -> String {
        let result = match self {
            Self::Sqlite(auth) => auth.add_signing_key(active_from).await,
            Self::Postgres(auth) => auth.add_signing_key(active_from).await,
            Self::MariaDb(auth) => auth.add_signing_key(active_from).await,
        };
        result.expect("adding a signing key failed")
    }

    /// Rereads the key set from the database.
    pub async fn reload(&self) {
        let result = match self {
            Self::Sqlite(auth) => auth.reload_signing_keys().await,
            Self::Postgres(auth) => auth.reload_signing_keys().await,
            Self::MariaDb(auth) => auth.reload_signing_keys().await,
        };
        result.expect("reloading the signing keys failed");
    }
}

impl TestDb {
    /// Creates an empty database of `backend`.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::create_sqlite().await,
            Backend::Postgres => Self::create_postgres().await,
            Backend::MariaDb => Self::create_mariadb().await,
        }
    }

    async fn create_sqlite() -> Self {
        let directory = tempfile::tempdir().expect("creating a temporary directory failed");
        let options = SqliteConnectOptions::new()
            .filename(directory.path().join("fastauth.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .expect("opening the SQLite file failed");
        Self {
            backend: Backend::Sqlite,
            pool: Pool::Sqlite(pool),
            namespace: None,
            _directory: Some(directory),
        }
    }

    async fn create_postgres() -> Self {
        let variable = "FASTAUTH_TEST_POSTGRES";
        let url = server_url(variable, POSTGRES_DEFAULT);
        let base = PgConnectOptions::from_str(&url).expect("FASTAUTH_TEST_POSTGRES is a URL");
        let schema = random_name();
        let mut admin = base
            .connect()
            .await
            .unwrap_or_else(|e| unreachable("PostgreSQL", variable, &url, &e));
        sqlx::query(trusted(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .expect("CREATE SCHEMA failed");
        admin.close().await.ok();

        let options = base.options([("search_path", schema.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .unwrap_or_else(|e| unreachable("PostgreSQL", variable, &url, &e));
        Self {
            backend: Backend::Postgres,
            pool: Pool::Postgres(pool),
            namespace: Some(schema),
            _directory: None,
        }
    }

    async fn create_mariadb() -> Self {
        let variable = "FASTAUTH_TEST_MYSQL";
        let url = server_url(variable, MYSQL_DEFAULT);
        let base = MySqlConnectOptions::from_str(&url).expect("FASTAUTH_TEST_MYSQL is a URL");
        let database = random_name();
        let mut admin = base
            .connect()
            .await
            .unwrap_or_else(|e| unreachable("MariaDB", variable, &url, &e));
        sqlx::query(trusted(format!("CREATE DATABASE {database}")))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE failed");
        admin.close().await.ok();

        let pool = MySqlPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(base.database(&database))
            .await
            .unwrap_or_else(|e| unreachable("MariaDB", variable, &url, &e));
        Self {
            backend: Backend::MariaDb,
            pool: Pool::MariaDb(pool),
            namespace: Some(database),
            _directory: None,
        }
    }

    /// Closes the pool and drops the schema or database. A failure to drop is printed, not
    /// raised, so it cannot hide the scenario's own result.
    async fn destroy(self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
            Pool::MariaDb(pool) => pool.close().await,
        }
        let Some(namespace) = &self.namespace else {
            return;
        };
        let result = match self.backend {
            Backend::Sqlite => Ok(()),
            Backend::Postgres => drop_schema(namespace).await,
            Backend::MariaDb => drop_database(namespace).await,
        };
        if let Err(error) = result {
            eprintln!("dropping the test database {namespace} failed: {error}");
        }
    }

    /// Returns the database this test runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Builds the application on this database with `config` and creates its tables.
    pub async fn app(&self, config: AuthConfig) -> TestApp {
        self.app_with(config, None::<()>, false).await
    }

    /// Builds the application with `hooks`, if any, and, when `audit` is true, the SQL audit
    /// sink on the same database, and creates its tables.
    pub async fn app_with<H: AuthHooks<crate::User>>(
        &self,
        config: AuthConfig,
        hooks: Option<H>,
        audit: bool,
    ) -> TestApp {
        let router = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut auth = crate::sqlite::SqliteAuth::with_pool(pool.clone(), config)
                    .expect("building the SQLite service failed");
                if let Some(hooks) = hooks {
                    auth = auth.with_hooks(hooks);
                }
                if audit {
                    auth = auth.with_security_sink(SqlAuditSink::<Sqlite>::new(pool.clone()));
                }
                auth.migrate().await.expect("migrating SQLite failed");
                crate::application(auth.router(), auth.layer())
            }
            Pool::Postgres(pool) => {
                let mut auth = crate::postgres::PgAuth::with_pool(pool.clone(), config)
                    .expect("building the PostgreSQL service failed");
                if let Some(hooks) = hooks {
                    auth = auth.with_hooks(hooks);
                }
                if audit {
                    auth = auth.with_security_sink(SqlAuditSink::<Postgres>::new(pool.clone()));
                }
                auth.migrate().await.expect("migrating PostgreSQL failed");
                crate::application(auth.router(), auth.layer())
            }
            Pool::MariaDb(pool) => {
                let mut auth = crate::mysql::MySqlAuth::with_pool(pool.clone(), config)
                    .expect("building the MariaDB service failed");
                if let Some(hooks) = hooks {
                    auth = auth.with_hooks(hooks);
                }
                if audit {
                    auth = auth.with_security_sink(SqlAuditSink::<MySql>::new(pool.clone()));
                }
                auth.migrate().await.expect("migrating MariaDB failed");
                crate::application(auth.router(), auth.layer())
            }
        };
        TestApp::new(router)
    }

    /// Builds the application like [`TestDb::app`] and also returns a handle on its signing
    /// keys, to rotate and reload them as the background task would.
    pub async fn keyed_app(&self, config: AuthConfig) -> (TestApp, KeyControl) {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let auth = crate::sqlite::SqliteAuth::with_pool(pool.clone(), config)
                    .expect("building the SQLite service failed");
                auth.migrate().await.expect("migrating SQLite failed");
                let app = crate::application(auth.router(), auth.layer());
                (TestApp::new(app), KeyControl::Sqlite(auth))
            }
            Pool::Postgres(pool) => {
                let auth = crate::postgres::PgAuth::with_pool(pool.clone(), config)
                    .expect("building the PostgreSQL service failed");
                auth.migrate().await.expect("migrating PostgreSQL failed");
                let app = crate::application(auth.router(), auth.layer());
                (TestApp::new(app), KeyControl::Postgres(auth))
            }
            Pool::MariaDb(pool) => {
                let auth = crate::mysql::MySqlAuth::with_pool(pool.clone(), config)
                    .expect("building the MariaDB service failed");
                auth.migrate().await.expect("migrating MariaDB failed");
                let app = crate::application(auth.router(), auth.layer());
                (TestApp::new(app), KeyControl::MariaDb(auth))
            }
        }
    }

    /// Builds the SQL state store on this database and creates its table.
    pub async fn state_store(&self) -> std::sync::Arc<dyn fastauth::store::StateStore> {
        use fastauth::store::SqlStateStore;
        let store: std::sync::Arc<dyn fastauth::store::StateStore> = match &self.pool {
            Pool::Sqlite(pool) => std::sync::Arc::new(SqlStateStore::sqlite(pool.clone())),
            Pool::Postgres(pool) => std::sync::Arc::new(SqlStateStore::postgres(pool.clone())),
            Pool::MariaDb(pool) => std::sync::Arc::new(SqlStateStore::mysql(pool.clone())),
        };
        store
            .migrate()
            .await
            .expect("creating fastauth_state failed");
        store
    }

    /// Runs a statement and returns the number of rows it changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(trusted(sql))
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            Pool::Postgres(pool) => sqlx::query(trusted(sql))
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            Pool::MariaDb(pool) => sqlx::query(trusted(sql))
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
        };
        result.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
    }

    /// Runs a query whose first column is an integer (`COUNT(*)`) and returns its value.
    pub async fn count(&self, sql: &str) -> i64 {
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(trusted(sql))
                .fetch_one(pool)
                .await
                .map(|r| r.get(0)),
            Pool::Postgres(pool) => sqlx::query(trusted(sql))
                .fetch_one(pool)
                .await
                .map(|r| r.get(0)),
            Pool::MariaDb(pool) => sqlx::query(trusted(sql))
                .fetch_one(pool)
                .await
                .map(|r| r.get(0)),
        };
        result.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
    }

    /// Runs a query whose first column is a nullable string and returns its value.
    pub async fn text(&self, sql: &str) -> Option<String> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(trusted(sql))
                .fetch_one(pool)
                .await
                .map(|r| r.get(0)),
            Pool::Postgres(pool) => sqlx::query(trusted(sql))
                .fetch_one(pool)
                .await
                .map(|r| r.get(0)),
            Pool::MariaDb(pool) => sqlx::query(trusted(sql))
                .fetch_one(pool)
                .await
                .map(|r| r.get(0)),
        };
        result.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
    }

    /// Closes the pool, so that every later database read of the application fails.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
            Pool::MariaDb(pool) => pool.close().await,
        }
    }
}

async fn drop_schema(schema: &str) -> Result<(), sqlx::Error> {
    let url = server_url("FASTAUTH_TEST_POSTGRES", POSTGRES_DEFAULT);
    let mut connection = sqlx::PgConnection::connect(&url).await?;
    sqlx::query(trusted(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
        .execute(&mut connection)
        .await?;
    connection.close().await
}

async fn drop_database(database: &str) -> Result<(), sqlx::Error> {
    let url = server_url("FASTAUTH_TEST_MYSQL", MYSQL_DEFAULT);
    let mut connection = sqlx::MySqlConnection::connect(&url).await?;
    sqlx::query(trusted(format!("DROP DATABASE IF EXISTS {database}")))
        .execute(&mut connection)
        .await?;
    connection.close().await
}
