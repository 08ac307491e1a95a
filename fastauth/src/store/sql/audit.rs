//! [`SqlAuditSink`]: security events as rows of `fastauth_audit_events`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::dialect::{self, Dialect, DialectKind};
use crate::core::security::{SecurityEvent, SecuritySink};
use crate::store::StoreError;
use crate::user::{SqlType, Value};

/// The audit table's name.
pub const AUDIT_TABLE: &str = "fastauth_audit_events";

/// A [`SecuritySink`] that inserts every event into the table `fastauth_audit_events` of a
/// SQLite, PostgreSQL or MySQL/MariaDB database.
///
/// The table has no foreign key to the users table, so the trail of a deleted account stays.
/// [`crate::Auth::migrate`] creates it when the sink is set.
pub struct SqlAuditSink<D: Dialect> {
    pool: D::Pool,
    create: Vec<Arc<str>>,
    insert: Arc<str>,
    _dialect: PhantomData<fn() -> D>,
}

impl<D: Dialect> fmt::Debug for SqlAuditSink<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlAuditSink")
            .field("dialect", &D::KIND)
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> Clone for SqlAuditSink<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            create: self.create.clone(),
            insert: Arc::clone(&self.insert),
            _dialect: PhantomData,
        }
    }
}

impl<D: Dialect> SqlAuditSink<D> {
    /// Builds the sink on a connection pool of the dialect's database.
    pub fn new(pool: D::Pool) -> Self {
        let kind = D::KIND;
        let placeholders: Vec<String> = (1..=9).map(|n| kind.placeholder(n)).collect();
        let insert = format!(
            "INSERT INTO {AUDIT_TABLE} (id, kind, user_id, session_id, actor_id, provider, \
             role, reason, occurred_at) VALUES ({})",
            placeholders.join(", ")
        );
        Self {
            pool,
            create: create_statements(kind),
            insert: Arc::from(insert),
            _dialect: PhantomData,
        }
    }
}

fn create_statements(kind: DialectKind) -> Vec<Arc<str>> {
    let key = kind.column_type(SqlType::Text, true);
    let text = kind.column_type(SqlType::Text, false);
    let ts = kind.column_type(SqlType::Timestamp, false);
    let mut columns = vec![
        format!("id {key} NOT NULL PRIMARY KEY"),
        format!("kind {key} NOT NULL"),
        format!("user_id {key} NULL"),
        format!("session_id {key} NULL"),
        format!("actor_id {key} NULL"),
        format!("provider {text} NULL"),
        format!("role {text} NULL"),
        format!("reason {text} NULL"),
        format!("occurred_at {ts} NOT NULL"),
    ];
    let mut statements = Vec::new();
    if kind == DialectKind::MySql {
        columns.push(format!("INDEX ix_{AUDIT_TABLE}_user_id (user_id)"));
        columns.push(format!("INDEX ix_{AUDIT_TABLE}_occurred_at (occurred_at)"));
    }
    statements.push(format!(
        "CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (\n    {}\n)",
        columns.join(",\n    ")
    ));
    if kind != DialectKind::MySql {
        for column in ["user_id", "occurred_at"] {
            statements.push(format!(
                "CREATE INDEX IF NOT EXISTS ix_{AUDIT_TABLE}_{column} ON {AUDIT_TABLE} ({column})"
            ));
        }
    }
    statements.into_iter().map(Arc::from).collect()
}

fn optional(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |v| Value::Text(v.to_owned()))
}

impl<D: Dialect> SecuritySink for SqlAuditSink<D> {
    async fn record(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        let args = [
            Value::Text(cuid2::create_id()),
            Value::Text(event.kind.as_str().to_owned()),
            optional(event.user_id.as_deref()),
            optional(event.session_id.as_deref()),
            optional(event.actor_id.as_deref()),
            optional(event.provider.as_deref()),
            optional(event.role.as_deref()),
            optional(event.reason.as_deref()),
            Value::Timestamp(dialect::truncate_to_micros(event.occurred_at)),
        ];
        D::execute(&self.pool, &self.insert, &args).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        for statement in &self.create {
            D::execute(&self.pool, statement, &[]).await?;
        }
        tracing::info!(target: "fastauth::store", table = AUDIT_TABLE, "audit table is up to date");
        Ok(())
    }
}
