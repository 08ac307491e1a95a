//! The SQL store: FastAuth's tables on SQLite, PostgreSQL or MySQL/MariaDB through sqlx.

mod audit;
mod dialect;
mod oauth;
mod schema;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use time::OffsetDateTime;

use super::{
    KeyStore, OneTimeKind, OneTimeToken, RoleRecord, RoleStore, SessionRecord, SessionStore, Store,
    StoreError, StoredSigningKey, TokenStore, UserCore, UserRecord, UserStore, sorted_unique,
};
use crate::user::{AuthUser, NewUser, RowValues, StandardField, Value};

pub use audit::{AUDIT_TABLE, SqlAuditSink};
pub use dialect::{Dialect, DialectKind};
use schema::Statements;

/// SQLite through sqlx (the `sqlite` feature).
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

/// PostgreSQL through sqlx (the `postgres` feature).
#[cfg(feature = "postgres")]
#[derive(Debug, Clone, Copy)]
pub struct Postgres;

/// MySQL 8 and MariaDB through sqlx (the `mysql` feature).
#[cfg(feature = "mysql")]
#[derive(Debug, Clone, Copy)]
pub struct MySql;

/// The store on a SQL database, with FastAuth's table and column names.
///
/// Statements are rendered once, when the store is built, from the user struct's
/// [`crate::user::UserSchema`].
pub struct SqlStore<U, D: Dialect> {
    pool: D::Pool,
    statements: Arc<Statements>,
    _user: PhantomData<fn() -> U>,
}

impl<U, D: Dialect> Clone for SqlStore<U, D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            statements: Arc::clone(&self.statements),
            _user: PhantomData,
        }
    }
}

impl<U, D: Dialect> fmt::Debug for SqlStore<U, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &D::KIND)
            .field("table", &self.statements.table)
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser, D: Dialect> SqlStore<U, D> {
    /// Builds the store on `pool`; fails when the struct's schema cannot be stored.
    pub fn new(pool: D::Pool) -> Result<Self, StoreError> {
        let statements = Statements::render(&U::SCHEMA, D::KIND)?;
        Ok(Self {
            pool,
            statements: Arc::new(statements),
            _user: PhantomData,
        })
    }

    /// The connection pool.
    pub fn pool(&self) -> &D::Pool {
        &self.pool
    }

    async fn fetch_user(
        &self,
        sql: &Arc<str>,
        args: &[Value],
    ) -> Result<Option<UserRecord<U>>, StoreError> {
        let row = D::fetch_optional(&self.pool, sql, args, &self.statements.user_types).await?;
        row.map(|values| self.decode_user(values)).transpose()
    }

    /// Splits a row of the user select list into the runtime's view and the struct.
    fn decode_user(&self, mut values: Vec<Value>) -> Result<UserRecord<U>, StoreError> {
        let permissions = decode_name_array(values.pop(), "permissions")?;
        let roles = decode_name_array(values.pop(), "roles")?;
        let schema = &U::SCHEMA;
        let standard_count = StandardField::ALL.len();
        let struct_values = schema
            .columns
            .iter()
            .map(|column| match column.role {
                Some(role) => values[standard_index(role)].clone(),
                None => std::mem::replace(
                    &mut values[standard_count + self.statements.domain_index(column.column)],
                    Value::Null,
                ),
            })
            .collect();
        let user = U::from_row(RowValues::new(struct_values, schema.columns))?;
        let mut core = decode_core(values)?;
        core.roles = roles;
        core.permissions = permissions;
        Ok(UserRecord { user, core })
    }
}

/// The position of a standard field in the select list.
fn standard_index(field: StandardField) -> usize {
    StandardField::ALL
        .iter()
        .position(|f| *f == field)
        .unwrap_or_default()
}

fn decode_core(values: Vec<Value>) -> Result<UserCore, StoreError> {
    use crate::user::ColumnType;
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or(Value::Null);
    Ok(UserCore {
        id: String::from_value(next(), "id")?,
        email: String::from_value(next(), "email")?,
        name: Option::from_value(next(), "name")?,
        image: Option::from_value(next(), "image")?,
        password_hash: Option::from_value(next(), "hashed_password")?,
        email_verified: bool::from_value(next(), "email_verified")?,
        active: bool::from_value(next(), "is_active")?,
        roles: Vec::new(),
        permissions: Vec::new(),
    })
}

/// Reads a JSON array of names that a role aggregate of the user select list produced.
fn decode_name_array(
    value: Option<Value>,
    column: &'static str,
) -> Result<Vec<String>, StoreError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Text(text)) => text,
        Some(_) => {
            return Err(StoreError::Schema(format!(
                "`{column}` is not a JSON array"
            )));
        }
    };
    let names: Vec<String> = serde_json::from_str(&text).map_err(|error| {
        StoreError::Schema(format!(
            "`{column}` is not a JSON array of strings: {error}"
        ))
    })?;
    Ok(sorted_unique(names))
}

/// Groups `(role, permission or NULL)` rows by role, keeping the rows' order of roles.
fn group_role_rows(rows: Vec<Vec<Value>>) -> Vec<RoleRecord> {
    let mut records: Vec<RoleRecord> = Vec::new();
    for row in rows {
        let mut columns = row.into_iter();
        let (Some(Value::Text(name)), permission) = (columns.next(), columns.next()) else {
            continue;
        };
        if records.last().is_none_or(|last| last.name != name) {
            records.push(RoleRecord {
                name,
                permissions: Vec::new(),
            });
        }
        if let (Some(record), Some(Value::Text(permission))) = (records.last_mut(), permission) {
            record.permissions.push(permission);
        }
    }
    for record in &mut records {
        record.permissions = sorted_unique(std::mem::take(&mut record.permissions));
    }
    records
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

impl<U: AuthUser, D: Dialect> UserStore<U> for SqlStore<U, D> {
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord<U>>, StoreError> {
        self.fetch_user(&self.statements.user_by_email, &[text(email)])
            .await
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord<U>>, StoreError> {
        self.fetch_user(&self.statements.user_by_id, &[text(id)])
            .await
    }

    async fn find_user_in_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserRecord<U>>, StoreError> {
        let args = [text(session_id), text(user_id), Value::Timestamp(now)];
        self.fetch_user(&self.statements.user_in_session, &args)
            .await
    }

    async fn create_user(&self, user: &U, standard: &NewUser) -> Result<(), StoreError> {
        let created = Value::Timestamp(dialect::truncate_to_micros(standard.created_at));
        let mut args = vec![
            text(&standard.id),
            text(&standard.email),
            opt_text(standard.name.as_deref()),
            opt_text(standard.image.as_deref()),
            opt_text(standard.password_hash.as_deref()),
            Value::Bool(standard.email_verified),
            Value::Bool(standard.active),
            created.clone(),
            created,
        ];
        let values = user.to_values();
        args.extend(
            U::SCHEMA
                .columns
                .iter()
                .zip(values)
                .filter(|(column, _)| column.role.is_none())
                .map(|(_, value)| value),
        );
        match D::execute(&self.pool, &self.statements.insert_user, &args).await {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => Err(StoreError::DuplicateEmail),
            Err(error) => Err(error.into()),
        }
    }

    async fn update_password_hash(
        &self,
        user_id: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let now = dialect::truncate_to_micros(OffsetDateTime::now_utc());
        let args = [text(password_hash), Value::Timestamp(now), text(user_id)];
        D::execute(&self.pool, &self.statements.update_password, &args).await?;
        Ok(())
    }

    async fn clear_password_hash(&self, user_id: &str) -> Result<(), StoreError> {
        let args = [now_value(), text(user_id)];
        let sql = &self.statements.user_updates.clear_password;
        D::execute(&self.pool, sql, &args).await?;
        Ok(())
    }

    async fn set_email_verified(&self, user_id: &str, verified: bool) -> Result<(), StoreError> {
        let args = [Value::Bool(verified), now_value(), text(user_id)];
        let sql = &self.statements.user_updates.set_email_verified;
        D::execute(&self.pool, sql, &args).await?;
        Ok(())
    }

    async fn update_email(&self, user_id: &str, email: &str) -> Result<(), StoreError> {
        let args = [text(email), Value::Bool(true), now_value(), text(user_id)];
        let sql = &self.statements.user_updates.update_email;
        match D::execute(&self.pool, sql, &args).await {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => Err(StoreError::DuplicateEmail),
            Err(error) => Err(error.into()),
        }
    }

    async fn update_profile(
        &self,
        user_id: &str,
        name: Option<&str>,
        image: Option<&str>,
    ) -> Result<(), StoreError> {
        let args = [opt_text(name), opt_text(image), now_value(), text(user_id)];
        let sql = &self.statements.user_updates.update_profile;
        D::execute(&self.pool, sql, &args).await?;
        Ok(())
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        if self.find_user_by_id(user_id).await?.is_none() {
            return Ok(false);
        }
        let args = [text(user_id)];
        let statements: Vec<(&Arc<str>, &[Value])> = self
            .statements
            .user_updates
            .delete
            .iter()
            .map(|sql| (sql, &args[..]))
            .collect();
        D::execute_in_transaction(&self.pool, &statements).await?;
        Ok(true)
    }
}

/// Returns the current time as a stored timestamp.
fn now_value() -> Value {
    Value::Timestamp(dialect::truncate_to_micros(OffsetDateTime::now_utc()))
}

impl<U: AuthUser, D: Dialect> SessionStore for SqlStore<U, D> {
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let now = Value::Timestamp(dialect::truncate_to_micros(session.created_at));
        let purge = [text(&session.user_id), now];
        D::execute(&self.pool, &self.statements.purge_sessions, &purge).await?;

        let args = [
            text(&session.id),
            text(&session.user_id),
            Value::Timestamp(dialect::truncate_to_micros(session.expires_at)),
            opt_text(session.ip_address.as_deref()),
            opt_text(session.user_agent.as_deref()),
            Value::Timestamp(dialect::truncate_to_micros(session.created_at)),
        ];
        D::execute(&self.pool, &self.statements.insert_session, &args).await?;
        Ok(())
    }

    async fn extend_session(
        &self,
        user_id: &str,
        session_id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let args = [
            Value::Timestamp(dialect::truncate_to_micros(expires_at)),
            text(session_id),
            text(user_id),
            Value::Timestamp(now),
        ];
        let changed = D::execute(&self.pool, &self.statements.extend_session, &args).await?;
        Ok(changed > 0)
    }

    async fn delete_session(&self, user_id: &str, session_id: &str) -> Result<bool, StoreError> {
        let args = [text(session_id), text(user_id)];
        let deleted = D::execute(&self.pool, &self.statements.delete_session, &args).await?;
        Ok(deleted > 0)
    }

    async fn list_sessions(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let args = [text(user_id), Value::Timestamp(now)];
        let rows = D::fetch_all(
            &self.pool,
            &self.statements.list_sessions,
            &args,
            &SESSION_ROW,
        )
        .await?;
        rows.into_iter().map(session_from_row).collect()
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        let args = [text(user_id)];
        Ok(D::execute(&self.pool, &self.statements.delete_user_sessions, &args).await?)
    }
}

impl<U: AuthUser, D: Dialect> TokenStore for SqlStore<U, D> {
    async fn create_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        token: &OneTimeToken,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let statements = &self.statements.one_time;
        let now = now_value();
        let purge = [text(&token.user_id), text(kind.tag()), now.clone()];
        D::execute(&self.pool, &statements.purge, &purge).await?;

        let raw_data = match &token.email {
            Some(email) => Value::Text(serde_json::json!({ "email": email }).to_string()),
            None => Value::Null,
        };
        let args = [
            text(token_hash),
            text(&token.user_id),
            text(kind.tag()),
            raw_data,
            Value::Timestamp(dialect::truncate_to_micros(expires_at)),
            now,
        ];
        D::execute(&self.pool, &statements.insert, &args).await?;
        Ok(())
    }

    async fn consume_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        now: OffsetDateTime,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        let statements = &self.statements.one_time;
        let args = [text(token_hash), text(kind.tag()), Value::Timestamp(now)];
        let types = [crate::user::SqlType::Text, crate::user::SqlType::Text];
        let Some(row) = D::fetch_optional(&self.pool, &statements.find, &args, &types).await?
        else {
            return Ok(None);
        };
        // The read and the DELETE are two statements, but only the DELETE decides: the
        // database serialises concurrent deletes of one row, so exactly one caller sees a
        // row count of 1 and gets the token.
        let deleted = D::execute(&self.pool, &statements.delete, &args).await?;
        if deleted != 1 {
            return Ok(None);
        }
        let mut columns = row.into_iter();
        let (Some(Value::Text(user_id)), email) = (columns.next(), columns.next()) else {
            return Err(StoreError::Schema(
                "a one-time token row has an unexpected shape".to_owned(),
            ));
        };
        let email = match email {
            Some(Value::Text(email)) => Some(email),
            _ => None,
        };
        Ok(Some(OneTimeToken { user_id, email }))
    }

    async fn create_pending_magic_link(
        &self,
        token_hash: &str,
        email: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let statements = &self.statements.one_time;
        let now = now_value();
        D::execute(
            &self.pool,
            &statements.purge_pending,
            std::slice::from_ref(&now),
        )
        .await?;
        let expires_at = Value::Timestamp(dialect::truncate_to_micros(expires_at));
        let args = [text(token_hash), text(email), expires_at, now];
        D::execute(&self.pool, &statements.insert_pending, &args).await?;
        Ok(())
    }

    async fn consume_pending_magic_link(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let statements = &self.statements.one_time;
        let args = [text(token_hash), Value::Timestamp(now)];
        let types = [crate::user::SqlType::Text];
        let row = D::fetch_optional(&self.pool, &statements.find_pending, &args, &types).await?;
        let Some(Value::Text(email)) = row.and_then(|row| row.into_iter().next()) else {
            return Ok(None);
        };
        // As for the other one-time tokens, the DELETE's row count picks the one winner.
        let deleted = D::execute(&self.pool, &statements.delete_pending, &args).await?;
        Ok((deleted == 1).then_some(email))
    }

    async fn delete_one_time_tokens(
        &self,
        user_id: &str,
        kind: OneTimeKind,
    ) -> Result<u64, StoreError> {
        let args = [text(user_id), text(kind.tag())];
        let sql = &self.statements.one_time.delete_of_user;
        Ok(D::execute(&self.pool, sql, &args).await?)
    }

    async fn record_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        session_id: Option<&str>,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = dialect::truncate_to_micros(OffsetDateTime::now_utc());
        let purge = [text(user_id), Value::Timestamp(now)];
        D::execute(&self.pool, &self.statements.purge_refresh, &purge).await?;

        let raw_data = match session_id {
            Some(sid) => Value::Text(serde_json::json!({ "sid": sid }).to_string()),
            None => Value::Null,
        };
        let args = [
            text(jti),
            text(user_id),
            raw_data,
            Value::Timestamp(dialect::truncate_to_micros(expires_at)),
            Value::Timestamp(now),
        ];
        D::execute(&self.pool, &self.statements.insert_refresh, &args).await?;
        Ok(())
    }

    async fn consume_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        // One DELETE: the database serialises concurrent deletes of a row, so exactly one
        // of them sees a row count of 1.
        let args = [text(jti), text(user_id), Value::Timestamp(now)];
        let deleted = D::execute(&self.pool, &self.statements.consume_refresh, &args).await?;
        Ok(deleted == 1)
    }

    async fn is_refresh_token_recorded(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let args = [text(jti), text(user_id), Value::Timestamp(now)];
        let types = [crate::user::SqlType::Text];
        let row =
            D::fetch_optional(&self.pool, &self.statements.find_refresh, &args, &types).await?;
        Ok(row.is_some())
    }

    async fn revoke_session_refresh_tokens(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<u64, StoreError> {
        let args = [text(user_id), text(session_id)];
        Ok(D::execute(&self.pool, &self.statements.revoke_session_refresh, &args).await?)
    }

    async fn revoke_user_refresh_tokens(&self, user_id: &str) -> Result<u64, StoreError> {
        let args = [text(user_id)];
        Ok(D::execute(&self.pool, &self.statements.revoke_user_refresh, &args).await?)
    }
}

/// The column types of a `fastauth_sessions` row, in the order `list_sessions` selects them.
const SESSION_ROW: [crate::user::SqlType; 6] = {
    use crate::user::SqlType::{Text, Timestamp};
    [Text, Text, Timestamp, Text, Text, Timestamp]
};

fn session_from_row(row: Vec<Value>) -> Result<SessionRecord, StoreError> {
    let malformed = || StoreError::Schema("a session row has an unexpected shape".to_owned());
    let [id, user_id, expires_at, ip_address, user_agent, created_at] =
        <[Value; 6]>::try_from(row).map_err(|_| malformed())?;
    let text = |value: Value| match value {
        Value::Text(s) => Some(s),
        _ => None,
    };
    let timestamp = |value: Value| match value {
        Value::Timestamp(t) => Some(t),
        _ => None,
    };
    Ok(SessionRecord {
        id: text(id).ok_or_else(malformed)?,
        user_id: text(user_id).ok_or_else(malformed)?,
        expires_at: timestamp(expires_at).ok_or_else(malformed)?,
        ip_address: text(ip_address),
        user_agent: text(user_agent),
        created_at: timestamp(created_at).ok_or_else(malformed)?,
    })
}

/// The column types of a `(role, permission)` row.
const ROLE_ROW: [crate::user::SqlType; 2] =
    [crate::user::SqlType::Text, crate::user::SqlType::Text];

impl<U: AuthUser, D: Dialect> SqlStore<U, D> {
    async fn role_rows(
        &self,
        sql: &Arc<str>,
        args: &[Value],
    ) -> Result<Vec<RoleRecord>, StoreError> {
        let rows = D::fetch_all(&self.pool, sql, args, &ROLE_ROW).await?;
        Ok(group_role_rows(rows))
    }

    async fn role_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.find_role(name).await?.is_some())
    }

    async fn grant_each(&self, role: &str, permissions: &[String]) -> Result<(), StoreError> {
        for permission in permissions {
            let args = [text(role), text(permission)];
            D::execute(&self.pool, &self.statements.roles.grant, &args).await?;
        }
        Ok(())
    }
}

impl<U: AuthUser, D: Dialect> RoleStore for SqlStore<U, D> {
    fn supports_roles(&self) -> bool {
        true
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        self.role_rows(&self.statements.roles.list, &[]).await
    }

    async fn find_role(&self, name: &str) -> Result<Option<RoleRecord>, StoreError> {
        let mut records = self
            .role_rows(&self.statements.roles.find, &[text(name)])
            .await?;
        Ok(records.pop())
    }

    async fn create_role(&self, name: &str, permissions: &[String]) -> Result<bool, StoreError> {
        match D::execute(&self.pool, &self.statements.roles.insert, &[text(name)]).await {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => return Ok(false),
            Err(error) => return Err(error.into()),
        }
        self.grant_each(name, permissions).await?;
        Ok(true)
    }

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError> {
        // The foreign keys cascade in tables fastauth created; tables that Python FastAuth
        // created have no cascade, so the rows that point at the role go first.
        // NOTE: the three deletes run without a transaction: a failure between them leaves
        // the role in place with fewer assignments or permissions, never a dangling row.
        let roles = &self.statements.roles;
        let args = [text(name)];
        D::execute(&self.pool, &roles.delete_assignments, &args).await?;
        D::execute(&self.pool, &roles.delete_permissions, &args).await?;
        let deleted = D::execute(&self.pool, &roles.delete, &args).await?;
        Ok(deleted > 0)
    }

    async fn add_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        if !self.role_exists(role).await? {
            return Ok(false);
        }
        self.grant_each(role, permissions).await?;
        Ok(true)
    }

    async fn remove_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        if !self.role_exists(role).await? {
            return Ok(false);
        }
        for permission in permissions {
            let args = [text(role), text(permission)];
            D::execute(&self.pool, &self.statements.roles.revoke_permission, &args).await?;
        }
        Ok(true)
    }

    async fn assign_role(&self, user_id: &str, role: &str) -> Result<(), StoreError> {
        let args = [text(user_id), text(role)];
        D::execute(&self.pool, &self.statements.roles.assign, &args).await?;
        Ok(())
    }

    async fn revoke_role(&self, user_id: &str, role: &str) -> Result<bool, StoreError> {
        let args = [text(user_id), text(role)];
        let deleted = D::execute(&self.pool, &self.statements.roles.unassign, &args).await?;
        Ok(deleted > 0)
    }

    async fn user_roles(&self, user_id: &str) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let records = self
            .role_rows(&self.statements.roles.of_user, &[text(user_id)])
            .await?;
        let permissions = records
            .iter()
            .flat_map(|record| record.permissions.iter().cloned())
            .collect();
        let roles = records.into_iter().map(|record| record.name).collect();
        Ok((sorted_unique(roles), sorted_unique(permissions)))
    }
}

/// The column types of a `fastauth_signing_keys` row.
const KEY_ROW: [crate::user::SqlType; 4] = {
    use crate::user::SqlType::{Text, Timestamp};
    [Text, Text, Text, Timestamp]
};

impl<U: AuthUser, D: Dialect> KeyStore for SqlStore<U, D> {
    fn supports_signing_keys(&self) -> bool {
        true
    }

    async fn list_signing_keys(
        &self,
        algorithm: &str,
    ) -> Result<Vec<StoredSigningKey>, StoreError> {
        let rows = D::fetch_all(
            &self.pool,
            &self.statements.keys.list,
            &[text(algorithm)],
            &KEY_ROW,
        )
        .await?;
        rows.into_iter().map(signing_key_from_row).collect()
    }

    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        let args = [
            text(&key.kid),
            text(&key.algorithm),
            text(&key.private_key_pem),
            Value::Timestamp(dialect::truncate_to_micros(key.active_from)),
        ];
        D::execute(&self.pool, &self.statements.keys.insert, &args).await?;
        Ok(())
    }

    async fn delete_signing_key(&self, kid: &str) -> Result<(), StoreError> {
        D::execute(&self.pool, &self.statements.keys.delete, &[text(kid)]).await?;
        Ok(())
    }
}

fn signing_key_from_row(row: Vec<Value>) -> Result<StoredSigningKey, StoreError> {
    match <[Value; 4]>::try_from(row) {
        Ok(
            [
                Value::Text(kid),
                Value::Text(algorithm),
                Value::Text(private_key_pem),
                Value::Timestamp(active_from),
            ],
        ) => Ok(StoredSigningKey {
            kid,
            algorithm,
            private_key_pem,
            active_from,
        }),
        _ => Err(StoreError::Schema(
            "a `fastauth_signing_keys` row has an unexpected shape".to_owned(),
        )),
    }
}

impl<U: AuthUser, D: Dialect> Store<U> for SqlStore<U, D> {
    async fn start_session(
        &self,
        session: &SessionRecord,
        refresh_jti: &str,
    ) -> Result<(), StoreError> {
        let statements = &self.statements;
        let now = Value::Timestamp(dialect::truncate_to_micros(session.created_at));
        let expires_at = Value::Timestamp(dialect::truncate_to_micros(session.expires_at));
        let user_id = text(&session.user_id);
        let purge = [user_id.clone(), now.clone()];
        let insert_session = [
            text(&session.id),
            user_id.clone(),
            expires_at.clone(),
            opt_text(session.ip_address.as_deref()),
            opt_text(session.user_agent.as_deref()),
            now.clone(),
        ];
        let raw_data = Value::Text(serde_json::json!({ "sid": session.id }).to_string());
        let insert_refresh = [text(refresh_jti), user_id, raw_data, expires_at, now];
        // One transaction: one commit (and one fsync) per sign-in instead of four.
        D::execute_in_transaction(
            &self.pool,
            &[
                (&statements.purge_sessions, &purge),
                (&statements.insert_session, &insert_session),
                (&statements.purge_refresh, &purge),
                (&statements.insert_refresh, &insert_refresh),
            ],
        )
        .await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        for statement in &self.statements.create_tables {
            D::execute(&self.pool, statement, &[]).await?;
        }
        self.add_missing_domain_columns().await?;
        tracing::info!(
            target: "fastauth::store",
            table = self.statements.table.as_ref(),
            "database schema is up to date"
        );
        Ok(())
    }
}

impl<U: AuthUser, D: Dialect> SqlStore<U, D> {
    /// Adds the struct's domain columns that an existing users table lacks, as when
    /// fastauth takes over a table that Python FastAuth created.
    async fn add_missing_domain_columns(&self) -> Result<(), StoreError> {
        let types = [crate::user::SqlType::Text];
        let args = [text(&self.statements.table)];
        let existing: Vec<String> =
            D::fetch_all(&self.pool, &self.statements.list_columns, &args, &types)
                .await?
                .into_iter()
                .filter_map(|row| match row.into_iter().next() {
                    Some(Value::Text(name)) => Some(name.to_lowercase()),
                    _ => None,
                })
                .collect();
        for (column, statement) in &self.statements.add_domain_columns {
            if !existing.iter().any(|name| name == &column.to_lowercase()) {
                tracing::info!(
                    target: "fastauth::store",
                    table = self.statements.table.as_ref(),
                    column = column.as_str(),
                    "adding a column to the users table"
                );
                D::execute(&self.pool, statement, &[]).await?;
            }
        }
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
impl<U: AuthUser> SqlStore<U, Sqlite> {
    /// Builds the store on a SQLite pool.
    pub fn sqlite(pool: sqlx::SqlitePool) -> Result<Self, StoreError> {
        Self::new(pool)
    }
}

#[cfg(feature = "postgres")]
impl<U: AuthUser> SqlStore<U, Postgres> {
    /// Builds the store on a PostgreSQL pool.
    pub fn postgres(pool: sqlx::PgPool) -> Result<Self, StoreError> {
        Self::new(pool)
    }
}

#[cfg(feature = "mysql")]
impl<U: AuthUser> SqlStore<U, MySql> {
    /// Builds the store on a MySQL or MariaDB pool.
    pub fn mysql(pool: sqlx::MySqlPool) -> Result<Self, StoreError> {
        Self::new(pool)
    }
}
