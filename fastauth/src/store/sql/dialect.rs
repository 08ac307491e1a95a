//! The three SQL dialects: how each binds and reads [`Value`]s and names column types.
//!
//! Each dialect is a marker type implementing [`Dialect`] over its concrete sqlx driver, so
//! the store's logic is written once against [`Value`] rows and never against sqlx's generic
//! database traits.

use std::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::user::{SqlType, Value};

/// Which family of SQL a dialect speaks, where statements differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectKind {
    /// SQLite 3.35 or later.
    Sqlite,
    /// PostgreSQL 12 or later.
    Postgres,
    /// MariaDB 10.5 or later, or MySQL 8.
    MySql,
}

/// A SQL database that [`super::SqlStore`] can run on.
pub trait Dialect: Send + Sync + 'static {
    /// The sqlx connection pool.
    type Pool: Clone + Send + Sync + std::fmt::Debug + 'static;

    /// The dialect's family.
    const KIND: DialectKind;

    /// Runs a statement and returns the number of rows it changed.
    fn execute(
        pool: &Self::Pool,
        sql: &Arc<str>,
        args: &[Value],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    /// Runs a query and decodes its first row by `types`, column by column.
    fn fetch_optional(
        pool: &Self::Pool,
        sql: &Arc<str>,
        args: &[Value],
        types: &[SqlType],
    ) -> impl Future<Output = Result<Option<Vec<Value>>, sqlx::Error>> + Send;

    /// Runs a query and decodes every row by `types`.
    fn fetch_all(
        pool: &Self::Pool,
        sql: &Arc<str>,
        args: &[Value],
        types: &[SqlType],
    ) -> impl Future<Output = Result<Vec<Vec<Value>>, sqlx::Error>> + Send;

    /// Runs statements in one transaction, committed only when all of them succeed.
    fn execute_in_transaction(
        pool: &Self::Pool,
        statements: &[(&Arc<str>, &[Value])],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

impl DialectKind {
    /// The placeholder of the `n`-th argument, counting from 1.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            DialectKind::Postgres => format!("${n}"),
            DialectKind::Sqlite | DialectKind::MySql => "?".to_owned(),
        }
    }

    /// The column type for `sql_type`. `key` asks for a type that can be indexed, which
    /// MySQL only allows for bounded strings.
    pub(crate) fn column_type(self, sql_type: SqlType, key: bool) -> &'static str {
        match (self, sql_type) {
            // A binary collation compares strings exactly, as the other databases do: the
            // server's default (`utf8mb4_general_ci`) would make `résumé@example.com` and
            // `resume@example.com` one account, and `ADMIN` the role `admin`.
            (DialectKind::MySql, SqlType::Text) if key => {
                "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            }
            (DialectKind::MySql, SqlType::Text) => "TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            (_, SqlType::Text) => "VARCHAR",
            (_, SqlType::Bool) => "BOOLEAN",
            (_, SqlType::SmallInt) => "SMALLINT",
            (DialectKind::Sqlite, SqlType::Int | SqlType::BigInt) => "INTEGER",
            (_, SqlType::Int) => "INTEGER",
            (_, SqlType::BigInt) => "BIGINT",
            (DialectKind::Sqlite, SqlType::Double) => "FLOAT",
            (_, SqlType::Double) => "DOUBLE PRECISION",
            (DialectKind::Sqlite, SqlType::Timestamp) => "DATETIME",
            (DialectKind::Postgres, SqlType::Timestamp) => "TIMESTAMP WITH TIME ZONE",
            (DialectKind::MySql, SqlType::Timestamp) => "DATETIME(6)",
        }
    }

    /// The JSON column type of `fastauth_tokens.raw_data`.
    pub(crate) fn json_type(self) -> &'static str {
        "JSON"
    }

    /// An expression reading the string member `key` of the JSON column `column`.
    pub(crate) fn json_text(self, column: &str, key: &str) -> String {
        match self {
            DialectKind::Sqlite => format!("json_extract({column}, '$.{key}')"),
            DialectKind::Postgres => format!("({column}->>'{key}')"),
            DialectKind::MySql => format!("JSON_UNQUOTE(JSON_EXTRACT({column}, '$.{key}'))"),
        }
    }

    /// An aggregate that collects `expression` over a group into a JSON array, as text;
    /// `NULL` or `[]` for an empty group.
    pub(crate) fn json_array_agg(self, expression: &str) -> String {
        match self {
            DialectKind::Sqlite => format!("json_group_array({expression})"),
            DialectKind::Postgres => format!("json_agg({expression})::text"),
            // NOTE: MariaDB caps JSON_ARRAYAGG at `group_concat_max_len` bytes (1 MiB by
            // default), which bounds how many roles and permissions one user can have.
            DialectKind::MySql => format!("CAST(JSON_ARRAYAGG({expression}) AS CHAR)"),
        }
    }

    /// A placeholder whose text argument is stored into a JSON column.
    pub(crate) fn json_placeholder(self, n: usize) -> String {
        match self {
            DialectKind::Postgres => format!("CAST(${n} AS JSON)"),
            DialectKind::Sqlite | DialectKind::MySql => "?".to_owned(),
        }
    }
}

/// Drops sub-microsecond digits: every dialect stores microseconds, so a value read back
/// equals the value written.
pub(crate) fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.microsecond();
    t.replace_nanosecond(micros * 1_000).unwrap_or(t)
}

/// Formats a UTC timestamp the way SQLAlchemy stores a `DateTime` in SQLite
/// (`2024-01-31 12:00:00.123456`), so Python FastAuth reads what fastauth writes and the
/// text sorts in time order.
#[cfg(feature = "sqlite")]
fn sqlite_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Generates the fetch functions of a dialect from its bind and decode functions.
macro_rules! fetch_functions {
    ($db:ty, $pool:ty, $args:ty, $bind:path, $decode:path) => {
        async fn execute_impl(
            pool: &$pool,
            sql: &Arc<str>,
            args: &[Value],
        ) -> Result<u64, sqlx::Error> {
            let mut arguments = <$args>::default();
            for value in args {
                $bind(&mut arguments, value)?;
            }
            let done = sqlx::query_with(sqlx::AssertSqlSafe(Arc::clone(sql)), arguments)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        }

        async fn fetch_optional_impl(
            pool: &$pool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> Result<Option<Vec<Value>>, sqlx::Error> {
            let mut arguments = <$args>::default();
            for value in args {
                $bind(&mut arguments, value)?;
            }
            let row = sqlx::query_with(sqlx::AssertSqlSafe(Arc::clone(sql)), arguments)
                .fetch_optional(pool)
                .await?;
            row.map(|row| decode_row(&row, types)).transpose()
        }

        async fn fetch_all_impl(
            pool: &$pool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> Result<Vec<Vec<Value>>, sqlx::Error> {
            let mut arguments = <$args>::default();
            for value in args {
                $bind(&mut arguments, value)?;
            }
            let rows = sqlx::query_with(sqlx::AssertSqlSafe(Arc::clone(sql)), arguments)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|row| decode_row(row, types)).collect()
        }

        async fn execute_in_transaction_impl(
            pool: &$pool,
            statements: &[(&Arc<str>, &[Value])],
        ) -> Result<(), sqlx::Error> {
            let mut transaction = pool.begin().await?;
            for (sql, args) in statements {
                let mut arguments = <$args>::default();
                for value in *args {
                    $bind(&mut arguments, value)?;
                }
                sqlx::query_with(sqlx::AssertSqlSafe(Arc::clone(sql)), arguments)
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await
        }

        fn decode_row(
            row: &<$db as sqlx::Database>::Row,
            types: &[SqlType],
        ) -> Result<Vec<Value>, sqlx::Error> {
            types
                .iter()
                .enumerate()
                .map(|(index, sql_type)| $decode(row, index, *sql_type))
                .collect()
        }
    };
}

fn bind_error(error: sqlx::error::BoxDynError) -> sqlx::Error {
    sqlx::Error::Encode(error)
}

/// Reads column `index` as an optional value of Rust type `$ty` and wraps it.
macro_rules! get {
    ($row:expr, $index:expr, $ty:ty, $wrap:expr) => {
        sqlx::Row::try_get::<Option<$ty>, _>($row, $index)?.map_or(Value::Null, $wrap)
    };
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::Arguments as _;
    use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};

    impl Dialect for super::super::Sqlite {
        type Pool = SqlitePool;
        const KIND: DialectKind = DialectKind::Sqlite;

        fn execute(
            pool: &SqlitePool,
            sql: &Arc<str>,
            args: &[Value],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send {
            execute_impl(pool, sql, args)
        }

        fn fetch_optional(
            pool: &SqlitePool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> impl Future<Output = Result<Option<Vec<Value>>, sqlx::Error>> + Send {
            fetch_optional_impl(pool, sql, args, types)
        }

        fn fetch_all(
            pool: &SqlitePool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> impl Future<Output = Result<Vec<Vec<Value>>, sqlx::Error>> + Send {
            fetch_all_impl(pool, sql, args, types)
        }

        fn execute_in_transaction(
            pool: &SqlitePool,
            statements: &[(&Arc<str>, &[Value])],
        ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
            execute_in_transaction_impl(pool, statements)
        }
    }

    fn bind(arguments: &mut SqliteArguments, value: &Value) -> Result<(), sqlx::Error> {
        match value {
            Value::Null => arguments.add(None::<String>),
            Value::Text(s) => arguments.add(s.clone()),
            Value::Bool(b) => arguments.add(*b),
            Value::Int(i) => arguments.add(*i),
            Value::Double(f) => arguments.add(*f),
            Value::Timestamp(t) => arguments.add(sqlite_timestamp(*t)),
        }
        .map_err(bind_error)
    }

    fn decode(row: &SqliteRow, index: usize, sql_type: SqlType) -> Result<Value, sqlx::Error> {
        Ok(match sql_type {
            SqlType::Text => get!(row, index, String, Value::Text),
            SqlType::Bool => get!(row, index, bool, Value::Bool),
            SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
                get!(row, index, i64, Value::Int)
            }
            SqlType::Double => get!(row, index, f64, Value::Double),
            SqlType::Timestamp => get!(row, index, OffsetDateTime, Value::Timestamp),
        })
    }

    fetch_functions!(sqlx::Sqlite, SqlitePool, SqliteArguments, bind, decode);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sqlx::Arguments as _;
    use sqlx::postgres::{PgArguments, PgPool, PgRow};

    impl Dialect for super::super::Postgres {
        type Pool = PgPool;
        const KIND: DialectKind = DialectKind::Postgres;

        fn execute(
            pool: &PgPool,
            sql: &Arc<str>,
            args: &[Value],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send {
            execute_impl(pool, sql, args)
        }

        fn fetch_optional(
            pool: &PgPool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> impl Future<Output = Result<Option<Vec<Value>>, sqlx::Error>> + Send {
            fetch_optional_impl(pool, sql, args, types)
        }

        fn fetch_all(
            pool: &PgPool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> impl Future<Output = Result<Vec<Vec<Value>>, sqlx::Error>> + Send {
            fetch_all_impl(pool, sql, args, types)
        }

        fn execute_in_transaction(
            pool: &PgPool,
            statements: &[(&Arc<str>, &[Value])],
        ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
            execute_in_transaction_impl(pool, statements)
        }
    }

    fn bind(arguments: &mut PgArguments, value: &Value) -> Result<(), sqlx::Error> {
        match value {
            // An untyped NULL: PostgreSQL infers the parameter's type from the statement.
            Value::Null => arguments.add(None::<String>),
            Value::Text(s) => arguments.add(s.clone()),
            Value::Bool(b) => arguments.add(*b),
            Value::Int(i) => arguments.add(*i),
            Value::Double(f) => arguments.add(*f),
            Value::Timestamp(t) => arguments.add(*t),
        }
        .map_err(bind_error)
    }

    fn decode(row: &PgRow, index: usize, sql_type: SqlType) -> Result<Value, sqlx::Error> {
        Ok(match sql_type {
            SqlType::Text => get!(row, index, String, Value::Text),
            SqlType::Bool => get!(row, index, bool, Value::Bool),
            SqlType::SmallInt => get!(row, index, i16, |i| Value::Int(i64::from(i))),
            SqlType::Int => get!(row, index, i32, |i| Value::Int(i64::from(i))),
            SqlType::BigInt => get!(row, index, i64, Value::Int),
            SqlType::Double => get!(row, index, f64, Value::Double),
            SqlType::Timestamp => get!(row, index, OffsetDateTime, Value::Timestamp),
        })
    }

    fetch_functions!(sqlx::Postgres, PgPool, PgArguments, bind, decode);
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use sqlx::Arguments as _;
    use sqlx::mysql::{MySqlArguments, MySqlPool, MySqlRow};
    use time::PrimitiveDateTime;

    impl Dialect for super::super::MySql {
        type Pool = MySqlPool;
        const KIND: DialectKind = DialectKind::MySql;

        fn execute(
            pool: &MySqlPool,
            sql: &Arc<str>,
            args: &[Value],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send {
            execute_impl(pool, sql, args)
        }

        fn fetch_optional(
            pool: &MySqlPool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> impl Future<Output = Result<Option<Vec<Value>>, sqlx::Error>> + Send {
            fetch_optional_impl(pool, sql, args, types)
        }

        fn fetch_all(
            pool: &MySqlPool,
            sql: &Arc<str>,
            args: &[Value],
            types: &[SqlType],
        ) -> impl Future<Output = Result<Vec<Vec<Value>>, sqlx::Error>> + Send {
            fetch_all_impl(pool, sql, args, types)
        }

        fn execute_in_transaction(
            pool: &MySqlPool,
            statements: &[(&Arc<str>, &[Value])],
        ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
            execute_in_transaction_impl(pool, statements)
        }
    }

    fn bind(arguments: &mut MySqlArguments, value: &Value) -> Result<(), sqlx::Error> {
        match value {
            Value::Null => arguments.add(None::<String>),
            Value::Text(s) => arguments.add(s.clone()),
            Value::Bool(b) => arguments.add(*b),
            Value::Int(i) => arguments.add(*i),
            Value::Double(f) => arguments.add(*f),
            // DATETIME has no zone: fastauth stores UTC.
            Value::Timestamp(t) => {
                let utc = t.to_offset(time::UtcOffset::UTC);
                arguments.add(PrimitiveDateTime::new(utc.date(), utc.time()))
            }
        }
        .map_err(bind_error)
    }

    fn decode(row: &MySqlRow, index: usize, sql_type: SqlType) -> Result<Value, sqlx::Error> {
        Ok(match sql_type {
            SqlType::Text => get!(row, index, String, Value::Text),
            SqlType::Bool => get!(row, index, bool, Value::Bool),
            SqlType::SmallInt => get!(row, index, i16, |i| Value::Int(i64::from(i))),
            SqlType::Int => get!(row, index, i32, |i| Value::Int(i64::from(i))),
            SqlType::BigInt => get!(row, index, i64, Value::Int),
            SqlType::Double => get!(row, index, f64, Value::Double),
            SqlType::Timestamp => get!(row, index, PrimitiveDateTime, |t| {
                Value::Timestamp(t.assume_utc())
            }),
        })
    }

    fetch_functions!(sqlx::MySql, MySqlPool, MySqlArguments, bind, decode);
}
