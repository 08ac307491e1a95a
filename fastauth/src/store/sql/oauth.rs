//! The OAuth accounts of the SQL store: FastAuth's `fastauth_oauth_accounts` table.

use std::sync::Arc;

use super::schema::{arc, create_table};
use super::{Dialect, DialectKind, SqlStore, dialect, is_unique_violation, text};
use crate::store::{OAuthAccount, OAuthStore, StoreError};
use crate::user::{AuthUser, SqlType, Value};

const OAUTH_ACCOUNTS: &str = "fastauth_oauth_accounts";

/// `(provider, provider_account_id, user_id, created_at)`.
const ACCOUNT_ROW: [SqlType; 4] = [
    SqlType::Text,
    SqlType::Text,
    SqlType::Text,
    SqlType::Timestamp,
];

/// The statements of the OAuth accounts, rendered for one dialect.
#[derive(Debug)]
pub(super) struct OAuthStatements {
    /// The table and its indexes, created only when an OAuth provider is enabled.
    create: Vec<Arc<str>>,
    find: Arc<str>,
    insert: Arc<str>,
    list: Arc<str>,
    /// The id of the oldest link of one provider of a user.
    oldest: Arc<str>,
    delete: Arc<str>,
    delete_of_user: Arc<str>,
}

impl OAuthStatements {
    /// Renders the statements; `users` and `user_id` name the users table and its key.
    pub(super) fn render(kind: DialectKind, users: &str, user_id: &str) -> Self {
        let p = |n| kind.placeholder(n);
        let key = kind.column_type(SqlType::Text, true);
        let text_type = kind.column_type(SqlType::Text, false);
        let ts = kind.column_type(SqlType::Timestamp, false);
        let t = OAUTH_ACCOUNTS;
        // FastAuth's columns, its unique constraint name included. The provider's tokens
        // stay NULL: fastauth does not keep them.
        let mut columns = vec![
            format!("id {key} NOT NULL PRIMARY KEY"),
            format!("provider {key} NOT NULL"),
            format!("provider_account_id {key} NOT NULL"),
            format!("user_id {key} NOT NULL"),
            format!("access_token {text_type} NULL"),
            format!("refresh_token {text_type} NULL"),
            format!("expires_at {ts} NULL"),
            format!("created_at {ts} NOT NULL"),
            "CONSTRAINT uq_fastauth_oauth_provider_account UNIQUE (provider, provider_account_id)"
                .to_owned(),
            format!("FOREIGN KEY (user_id) REFERENCES {users} ({user_id}) ON DELETE CASCADE"),
        ];

        let mut create = Vec::new();
        if kind == DialectKind::MySql {
            columns.push(format!("INDEX ix_{t}_user_id (user_id)"));
            create.push(arc(create_table(t, &columns)));
        } else {
            create.push(arc(create_table(t, &columns)));
            create.push(arc(format!(
                "CREATE INDEX IF NOT EXISTS ix_{t}_user_id ON {t} (user_id)"
            )));
        }

        let select = format!("SELECT provider, provider_account_id, user_id, created_at FROM {t}");
        Self {
            create,
            find: arc(format!(
                "{select} WHERE provider = {} AND provider_account_id = {}",
                p(1),
                p(2)
            )),
            insert: arc(format!(
                "INSERT INTO {t} (id, provider, provider_account_id, user_id, created_at) \
                 VALUES ({}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            )),
            list: arc(format!(
                "{select} WHERE user_id = {} ORDER BY created_at, id",
                p(1)
            )),
            oldest: arc(format!(
                "SELECT id FROM {t} WHERE user_id = {} AND provider = {} \
                 ORDER BY created_at, id LIMIT 1",
                p(1),
                p(2)
            )),
            delete: arc(format!(
                "DELETE FROM {t} WHERE id = {} AND user_id = {}",
                p(1),
                p(2)
            )),
            delete_of_user: arc(format!("DELETE FROM {t} WHERE user_id = {}", p(1))),
        }
    }
}

fn account_from_row(row: Vec<Value>) -> Result<OAuthAccount, StoreError> {
    match <[Value; 4]>::try_from(row) {
        Ok(
            [
                Value::Text(provider),
                Value::Text(provider_account_id),
                Value::Text(user_id),
                Value::Timestamp(created_at),
            ],
        ) => Ok(OAuthAccount {
            provider,
            provider_account_id,
            user_id,
            created_at,
        }),
        _ => Err(StoreError::Schema(format!(
            "a `{OAUTH_ACCOUNTS}` row has an unexpected shape"
        ))),
    }
}

impl<U: AuthUser, D: Dialect> OAuthStore for SqlStore<U, D> {
    fn supports_oauth(&self) -> bool {
        true
    }

    async fn migrate_oauth_accounts(&self) -> Result<(), StoreError> {
        for statement in &self.statements.oauth.create {
            D::execute(&self.pool, statement, &[]).await?;
        }
        Ok(())
    }

    async fn find_oauth_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<OAuthAccount>, StoreError> {
        let args = [text(provider), text(provider_account_id)];
        let sql = &self.statements.oauth.find;
        D::fetch_optional(&self.pool, sql, &args, &ACCOUNT_ROW)
            .await?
            .map(account_from_row)
            .transpose()
    }

    async fn create_oauth_account(&self, account: &OAuthAccount) -> Result<bool, StoreError> {
        let args = [
            text(&cuid2::create_id()),
            text(&account.provider),
            text(&account.provider_account_id),
            text(&account.user_id),
            Value::Timestamp(dialect::truncate_to_micros(account.created_at)),
        ];
        match D::execute(&self.pool, &self.statements.oauth.insert, &args).await {
            Ok(_) => Ok(true),
            // The unique constraint on (provider, provider_account_id) decides between
            // concurrent callers.
            Err(error) if is_unique_violation(&error) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    async fn list_oauth_accounts(&self, user_id: &str) -> Result<Vec<OAuthAccount>, StoreError> {
        let sql = &self.statements.oauth.list;
        let rows = D::fetch_all(&self.pool, sql, &[text(user_id)], &ACCOUNT_ROW).await?;
        rows.into_iter().map(account_from_row).collect()
    }

    async fn delete_oauth_account(
        &self,
        user_id: &str,
        provider: &str,
    ) -> Result<bool, StoreError> {
        let statements = &self.statements.oauth;
        let args = [text(user_id), text(provider)];
        // Two statements, as MySQL cannot delete from a table that a subquery reads.
        let Some(row) =
            D::fetch_optional(&self.pool, &statements.oldest, &args, &[SqlType::Text]).await?
        else {
            return Ok(false);
        };
        let Some(Value::Text(id)) = row.into_iter().next() else {
            return Err(StoreError::Schema(format!(
                "a `{OAUTH_ACCOUNTS}` id has an unexpected type"
            )));
        };
        let deleted =
            D::execute(&self.pool, &statements.delete, &[text(&id), text(user_id)]).await?;
        Ok(deleted > 0)
    }

    async fn delete_user_oauth_accounts(&self, user_id: &str) -> Result<u64, StoreError> {
        let sql = &self.statements.oauth.delete_of_user;
        Ok(D::execute(&self.pool, sql, &[text(user_id)]).await?)
    }
}
