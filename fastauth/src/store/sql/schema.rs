//! Renders the DDL and the statements of the SQL store from the user struct's schema.

use std::sync::Arc;

use super::DialectKind;
use crate::store::StoreError;
use crate::user::{SqlType, StandardField, UserSchema};

const SESSIONS: &str = "fastauth_sessions";
const TOKENS: &str = "fastauth_tokens";
/// Magic links requested for addresses without an account. `fastauth_tokens.user_id`
/// references a user, so these rows cannot live there.
const PENDING_MAGIC_LINKS: &str = "fastauth_pending_magic_links";
const REFRESH_KIND: &str = "refresh_jti";
const ROLES: &str = "fastauth_roles";
const ROLE_PERMISSIONS: &str = "fastauth_role_permissions";
const USER_ROLES: &str = "fastauth_user_roles";
const SIGNING_KEYS: &str = "fastauth_signing_keys";

/// Every statement the store runs, rendered for one dialect and one user struct.
#[derive(Debug)]
pub(super) struct Statements {
    pub(super) table: Arc<str>,
    /// The types of the user select list: the standard columns, the domain columns, then
    /// the user's roles and permissions as JSON arrays.
    pub(super) user_types: Vec<SqlType>,
    domain_columns: Vec<&'static str>,
    pub(super) user_by_email: Arc<str>,
    pub(super) user_by_id: Arc<str>,
    pub(super) user_in_session: Arc<str>,
    pub(super) insert_user: Arc<str>,
    pub(super) update_password: Arc<str>,
    pub(super) insert_session: Arc<str>,
    pub(super) purge_sessions: Arc<str>,
    pub(super) extend_session: Arc<str>,
    pub(super) delete_session: Arc<str>,
    pub(super) delete_user_sessions: Arc<str>,
    pub(super) list_sessions: Arc<str>,
    pub(super) insert_refresh: Arc<str>,
    pub(super) purge_refresh: Arc<str>,
    pub(super) consume_refresh: Arc<str>,
    pub(super) find_refresh: Arc<str>,
    pub(super) revoke_session_refresh: Arc<str>,
    pub(super) revoke_user_refresh: Arc<str>,
    pub(super) one_time: OneTimeStatements,
    pub(super) user_updates: UserUpdateStatements,
    pub(super) roles: RoleStatements,
    pub(super) keys: KeyStatements,
    pub(super) oauth: super::oauth::OAuthStatements,
    pub(super) create_tables: Vec<Arc<str>>,
    pub(super) list_columns: Arc<str>,
    /// `ALTER TABLE ... ADD COLUMN` for each domain column, run when the column is missing.
    pub(super) add_domain_columns: Vec<(String, Arc<str>)>,
}

impl Statements {
    pub(super) fn domain_index(&self, column: &str) -> usize {
        self.domain_columns
            .iter()
            .position(|c| *c == column)
            .unwrap_or_default()
    }

    pub(super) fn render(schema: &UserSchema, kind: DialectKind) -> Result<Self, StoreError> {
        check_identifier(schema.table)?;
        for column in schema.columns {
            check_identifier(column.column)?;
        }

        let t = schema.table;
        let p = |n| kind.placeholder(n);
        let standard: Vec<&str> = StandardField::ALL
            .iter()
            .map(|f| schema.column_of(*f))
            .collect();
        let domain: Vec<&'static str> = schema.domain_columns().map(|c| c.column).collect();
        let all_columns: Vec<&str> = standard.iter().chain(domain.iter()).copied().collect();
        let id = schema.column_of(StandardField::Id);
        let mut select_list = all_columns
            .iter()
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        select_list.push_str(&roles_of_user_columns(kind, id));
        let user_types = StandardField::ALL
            .iter()
            .map(|f| f.sql_type())
            .chain(schema.domain_columns().map(|c| c.sql_type))
            .chain([SqlType::Text, SqlType::Text])
            .collect();
        let email = schema.column_of(StandardField::Email);
        let password = schema.column_of(StandardField::PasswordHash);
        let updated = schema.column_of(StandardField::UpdatedAt);
        let placeholders = (1..=all_columns.len())
            .map(p)
            .collect::<Vec<_>>()
            .join(", ");
        let sid = kind.json_text("raw_data", "sid");

        Ok(Self {
            table: Arc::from(t),
            user_types,
            user_by_email: arc(format!(
                "SELECT {select_list} FROM {t} u WHERE u.{email} = {}",
                p(1)
            )),
            user_by_id: arc(format!(
                "SELECT {select_list} FROM {t} u WHERE u.{id} = {}",
                p(1)
            )),
            user_in_session: arc(format!(
                "SELECT {select_list} FROM {SESSIONS} s JOIN {t} u ON u.{id} = s.user_id \
                 WHERE s.id = {} AND s.user_id = {} AND s.expires_at > {}",
                p(1),
                p(2),
                p(3)
            )),
            insert_user: arc(format!(
                "INSERT INTO {t} ({}) VALUES ({placeholders})",
                all_columns.join(", ")
            )),
            update_password: arc(format!(
                "UPDATE {t} SET {password} = {}, {updated} = {} WHERE {id} = {}",
                p(1),
                p(2),
                p(3)
            )),
            insert_session: arc(format!(
                "INSERT INTO {SESSIONS} (id, user_id, expires_at, ip_address, user_agent, \
                 created_at) VALUES ({}, {}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6)
            )),
            purge_sessions: arc(format!(
                "DELETE FROM {SESSIONS} WHERE user_id = {} AND expires_at <= {}",
                p(1),
                p(2)
            )),
            extend_session: arc(format!(
                "UPDATE {SESSIONS} SET expires_at = {} \
                 WHERE id = {} AND user_id = {} AND expires_at > {}",
                p(1),
                p(2),
                p(3),
                p(4)
            )),
            delete_session: arc(format!(
                "DELETE FROM {SESSIONS} WHERE id = {} AND user_id = {}",
                p(1),
                p(2)
            )),
            delete_user_sessions: arc(format!("DELETE FROM {SESSIONS} WHERE user_id = {}", p(1))),
            list_sessions: arc(format!(
                "SELECT id, user_id, expires_at, ip_address, user_agent, created_at \
                 FROM {SESSIONS} WHERE user_id = {} AND expires_at > {} \
                 ORDER BY created_at DESC, id DESC",
                p(1),
                p(2)
            )),
            insert_refresh: arc(format!(
                "INSERT INTO {TOKENS} (token, user_id, token_type, raw_data, expires_at, \
                 created_at) VALUES ({}, {}, '{REFRESH_KIND}', {}, {}, {})",
                p(1),
                p(2),
                kind.json_placeholder(3),
                p(4),
                p(5)
            )),
            purge_refresh: arc(format!(
                "DELETE FROM {TOKENS} WHERE user_id = {} AND token_type = '{REFRESH_KIND}' \
                 AND expires_at <= {}",
                p(1),
                p(2)
            )),
            consume_refresh: arc(format!(
                "DELETE FROM {TOKENS} WHERE token = {} AND token_type = '{REFRESH_KIND}' \
                 AND user_id = {} AND expires_at > {}",
                p(1),
                p(2),
                p(3)
            )),
            find_refresh: arc(format!(
                "SELECT token FROM {TOKENS} WHERE token = {} AND token_type = '{REFRESH_KIND}' \
                 AND user_id = {} AND expires_at > {}",
                p(1),
                p(2),
                p(3)
            )),
            revoke_session_refresh: arc(format!(
                "DELETE FROM {TOKENS} WHERE user_id = {} AND token_type = '{REFRESH_KIND}' \
                 AND {sid} = {}",
                p(1),
                p(2)
            )),
            revoke_user_refresh: arc(format!(
                "DELETE FROM {TOKENS} WHERE user_id = {} AND token_type = '{REFRESH_KIND}'",
                p(1)
            )),
            one_time: OneTimeStatements::render(kind),
            user_updates: UserUpdateStatements::render(schema, kind),
            roles: RoleStatements::render(kind),
            keys: KeyStatements::render(kind),
            oauth: super::oauth::OAuthStatements::render(kind, t, id),
            create_tables: create_tables(schema, kind),
            list_columns: arc(list_columns(kind)),
            add_domain_columns: add_domain_columns(schema, kind),
            domain_columns: domain,
        })
    }
}

/// The statements on one-time tokens: rows of `fastauth_tokens` keyed by the SHA-256 of
/// the raw token, whose `raw_data` contains `{"email": ...}` for an e-mail change.
#[derive(Debug)]
pub(super) struct OneTimeStatements {
    pub(super) insert: Arc<str>,
    pub(super) purge: Arc<str>,
    pub(super) find: Arc<str>,
    pub(super) delete: Arc<str>,
    pub(super) delete_of_user: Arc<str>,
    pub(super) insert_pending: Arc<str>,
    pub(super) purge_pending: Arc<str>,
    pub(super) find_pending: Arc<str>,
    pub(super) delete_pending: Arc<str>,
}

impl OneTimeStatements {
    fn render(kind: DialectKind) -> Self {
        let p = |n| kind.placeholder(n);
        let email = kind.json_text("raw_data", "email");
        Self {
            insert: arc(format!(
                "INSERT INTO {TOKENS} (token, user_id, token_type, raw_data, expires_at, \
                 created_at) VALUES ({}, {}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                kind.json_placeholder(4),
                p(5),
                p(6)
            )),
            purge: arc(format!(
                "DELETE FROM {TOKENS} WHERE user_id = {} AND token_type = {} \
                 AND expires_at <= {}",
                p(1),
                p(2),
                p(3)
            )),
            find: arc(format!(
                "SELECT user_id, {email} FROM {TOKENS} \
                 WHERE token = {} AND token_type = {} AND expires_at > {}",
                p(1),
                p(2),
                p(3)
            )),
            delete: arc(format!(
                "DELETE FROM {TOKENS} WHERE token = {} AND token_type = {} AND expires_at > {}",
                p(1),
                p(2),
                p(3)
            )),
            delete_of_user: arc(format!(
                "DELETE FROM {TOKENS} WHERE user_id = {} AND token_type = {}",
                p(1),
                p(2)
            )),
            insert_pending: arc(format!(
                "INSERT INTO {PENDING_MAGIC_LINKS} (token, email, expires_at, created_at) \
                 VALUES ({}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4)
            )),
            purge_pending: arc(format!(
                "DELETE FROM {PENDING_MAGIC_LINKS} WHERE expires_at <= {}",
                p(1)
            )),
            find_pending: arc(format!(
                "SELECT email FROM {PENDING_MAGIC_LINKS} WHERE token = {} AND expires_at > {}",
                p(1),
                p(2)
            )),
            delete_pending: arc(format!(
                "DELETE FROM {PENDING_MAGIC_LINKS} WHERE token = {} AND expires_at > {}",
                p(1),
                p(2)
            )),
        }
    }
}

/// The statements that change or delete one user.
#[derive(Debug)]
pub(super) struct UserUpdateStatements {
    pub(super) clear_password: Arc<str>,
    pub(super) set_email_verified: Arc<str>,
    pub(super) update_email: Arc<str>,
    pub(super) update_profile: Arc<str>,
    /// Run in order in one transaction: the dependent rows, then the user. Tables that
    /// Python FastAuth created have no `ON DELETE CASCADE`, so the rows go explicitly.
    pub(super) delete: [Arc<str>; 4],
}

impl UserUpdateStatements {
    fn render(schema: &UserSchema, kind: DialectKind) -> Self {
        let t = schema.table;
        let p = |n| kind.placeholder(n);
        let col = |f: StandardField| schema.column_of(f);
        let id = col(StandardField::Id);
        let updated = col(StandardField::UpdatedAt);
        let verified = col(StandardField::EmailVerified);
        let (name, image) = (col(StandardField::Name), col(StandardField::Image));
        Self {
            clear_password: arc(format!(
                "UPDATE {t} SET {} = NULL, {updated} = {} WHERE {id} = {}",
                col(StandardField::PasswordHash),
                p(1),
                p(2)
            )),
            set_email_verified: arc(format!(
                "UPDATE {t} SET {verified} = {}, {updated} = {} WHERE {id} = {}",
                p(1),
                p(2),
                p(3)
            )),
            update_email: arc(format!(
                "UPDATE {t} SET {} = {}, {verified} = {}, {updated} = {} WHERE {id} = {}",
                col(StandardField::Email),
                p(1),
                p(2),
                p(3),
                p(4)
            )),
            update_profile: arc(format!(
                "UPDATE {t} SET {name} = COALESCE({}, {name}), {image} = COALESCE({}, {image}), \
                 {updated} = {} WHERE {id} = {}",
                p(1),
                p(2),
                p(3),
                p(4)
            )),
            delete: [
                arc(format!("DELETE FROM {USER_ROLES} WHERE user_id = {}", p(1))),
                arc(format!("DELETE FROM {SESSIONS} WHERE user_id = {}", p(1))),
                arc(format!("DELETE FROM {TOKENS} WHERE user_id = {}", p(1))),
                arc(format!("DELETE FROM {t} WHERE {id} = {}", p(1))),
            ],
        }
    }
}

/// The two select-list entries that add a user's role names and permissions, as JSON arrays
/// (or `NULL` for none), to a read of the users table aliased `u`. They are correlated
/// subqueries on the primary keys of the role tables, so the read stays one indexed query.
fn roles_of_user_columns(kind: DialectKind, id: &str) -> String {
    let roles = kind.json_array_agg("ur.role_name");
    let permissions = kind.json_array_agg("rp.permission");
    format!(
        ", (SELECT {roles} FROM {USER_ROLES} ur WHERE ur.user_id = u.{id}), \
         (SELECT {permissions} FROM {USER_ROLES} ur \
         JOIN {ROLE_PERMISSIONS} rp ON rp.role_name = ur.role_name WHERE ur.user_id = u.{id})"
    )
}

/// The statements of the signing-key store.
#[derive(Debug)]
pub(super) struct KeyStatements {
    /// `(kid, algorithm, private_key, active_from)` rows of one algorithm.
    pub(super) list: Arc<str>,
    /// Inserts a key; a `kid` stored already is left alone.
    pub(super) insert: Arc<str>,
    pub(super) delete: Arc<str>,
}

impl KeyStatements {
    fn render(kind: DialectKind) -> Self {
        let p = |n| kind.placeholder(n);
        let ignore_duplicate = match kind {
            DialectKind::MySql => " ON DUPLICATE KEY UPDATE kid = kid",
            DialectKind::Sqlite | DialectKind::Postgres => " ON CONFLICT DO NOTHING",
        };
        Self {
            list: arc(format!(
                "SELECT kid, algorithm, private_key, active_from FROM {SIGNING_KEYS} \
                 WHERE algorithm = {}",
                p(1)
            )),
            insert: arc(format!(
                "INSERT INTO {SIGNING_KEYS} (kid, algorithm, private_key, active_from) \
                 VALUES ({}, {}, {}, {}){ignore_duplicate}",
                p(1),
                p(2),
                p(3),
                p(4)
            )),
            delete: arc(format!("DELETE FROM {SIGNING_KEYS} WHERE kid = {}", p(1))),
        }
    }
}

/// The statements of the role store.
#[derive(Debug)]
pub(super) struct RoleStatements {
    /// Every role with each of its permissions: `(name, permission or NULL)` rows.
    pub(super) list: Arc<str>,
    /// The rows of `list` for one role.
    pub(super) find: Arc<str>,
    pub(super) insert: Arc<str>,
    pub(super) delete: Arc<str>,
    pub(super) delete_assignments: Arc<str>,
    pub(super) delete_permissions: Arc<str>,
    /// Inserts a permission of a role; a permission the role has already is left alone.
    pub(super) grant: Arc<str>,
    pub(super) revoke_permission: Arc<str>,
    /// Gives a user a role; a role the user holds already is left alone.
    pub(super) assign: Arc<str>,
    pub(super) unassign: Arc<str>,
    /// The roles of a user with each of their permissions: `(role, permission or NULL)`.
    pub(super) of_user: Arc<str>,
}

impl RoleStatements {
    fn render(kind: DialectKind) -> Self {
        let p = |n| kind.placeholder(n);
        let list = format!(
            "SELECT r.name, rp.permission FROM {ROLES} r \
             LEFT JOIN {ROLE_PERMISSIONS} rp ON rp.role_name = r.name"
        );
        let ignore_duplicate = |column: &str| match kind {
            DialectKind::MySql => format!(" ON DUPLICATE KEY UPDATE {column} = {column}"),
            DialectKind::Sqlite | DialectKind::Postgres => " ON CONFLICT DO NOTHING".to_owned(),
        };
        Self {
            find: arc(format!("{list} WHERE r.name = {}", p(1))),
            list: arc(format!("{list} ORDER BY r.name")),
            insert: arc(format!("INSERT INTO {ROLES} (name) VALUES ({})", p(1))),
            delete: arc(format!("DELETE FROM {ROLES} WHERE name = {}", p(1))),
            delete_assignments: arc(format!(
                "DELETE FROM {USER_ROLES} WHERE role_name = {}",
                p(1)
            )),
            delete_permissions: arc(format!(
                "DELETE FROM {ROLE_PERMISSIONS} WHERE role_name = {}",
                p(1)
            )),
            grant: arc(format!(
                "INSERT INTO {ROLE_PERMISSIONS} (role_name, permission) VALUES ({}, {}){}",
                p(1),
                p(2),
                ignore_duplicate("permission")
            )),
            revoke_permission: arc(format!(
                "DELETE FROM {ROLE_PERMISSIONS} WHERE role_name = {} AND permission = {}",
                p(1),
                p(2)
            )),
            assign: arc(format!(
                "INSERT INTO {USER_ROLES} (user_id, role_name) VALUES ({}, {}){}",
                p(1),
                p(2),
                ignore_duplicate("role_name")
            )),
            unassign: arc(format!(
                "DELETE FROM {USER_ROLES} WHERE user_id = {} AND role_name = {}",
                p(1),
                p(2)
            )),
            of_user: arc(format!(
                "SELECT ur.role_name, rp.permission FROM {USER_ROLES} ur \
                 LEFT JOIN {ROLE_PERMISSIONS} rp ON rp.role_name = ur.role_name \
                 WHERE ur.user_id = {} ORDER BY ur.role_name",
                p(1)
            )),
        }
    }
}

pub(super) fn arc(s: String) -> Arc<str> {
    Arc::from(s)
}

/// Table and column names are spliced into SQL text, so only plain identifiers pass.
fn check_identifier(name: &str) -> Result<(), StoreError> {
    let mut chars = name.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid_start && valid_rest && name.len() <= 63 {
        Ok(())
    } else {
        Err(StoreError::Schema(format!(
            "`{name}` is not a plain SQL identifier: use ASCII letters, digits and `_`, \
             starting with a letter, at most 63 characters"
        )))
    }
}

fn list_columns(kind: DialectKind) -> String {
    match kind {
        DialectKind::Sqlite => "SELECT name FROM pragma_table_info(?)".to_owned(),
        DialectKind::Postgres => "SELECT column_name::text FROM information_schema.columns \
                                  WHERE table_name = $1 AND table_schema = current_schema()"
            .to_owned(),
        DialectKind::MySql => "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                               WHERE table_name = ? AND table_schema = DATABASE()"
            .to_owned(),
    }
}

/// The SQL literal a new NOT NULL domain column gets in existing rows.
fn zero_literal(sql_type: SqlType, kind: DialectKind) -> &'static str {
    match sql_type {
        SqlType::Text => "''",
        SqlType::Bool if kind == DialectKind::Postgres => "FALSE",
        SqlType::Bool | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => "0",
        SqlType::Double => "0",
        SqlType::Timestamp => "'1970-01-01 00:00:00'",
    }
}

fn domain_column_ddl(column: &crate::user::ColumnDef, kind: DialectKind) -> String {
    let ty = kind.column_type(column.sql_type, false);
    if column.nullable {
        format!("{} {ty} NULL", column.column)
    } else {
        // A default lets rows be inserted by code that does not know the column: Python
        // FastAuth, or another app struct on the same table.
        let zero = zero_literal(column.sql_type, kind);
        format!("{} {ty} NOT NULL DEFAULT {zero}", column.column)
    }
}

fn add_domain_columns(schema: &UserSchema, kind: DialectKind) -> Vec<(String, Arc<str>)> {
    schema
        .domain_columns()
        .map(|column| {
            let ddl = format!(
                "ALTER TABLE {} ADD COLUMN {}",
                schema.table,
                domain_column_ddl(column, kind)
            );
            (column.column.to_owned(), arc(ddl))
        })
        .collect()
}

/// `CREATE TABLE IF NOT EXISTS` for the users, sessions and tokens tables, with FastAuth's
/// column names, so a database either library created works with both.
fn create_tables(schema: &UserSchema, kind: DialectKind) -> Vec<Arc<str>> {
    let t = schema.table;
    let key = kind.column_type(SqlType::Text, true);
    let text = kind.column_type(SqlType::Text, false);
    let boolean = kind.column_type(SqlType::Bool, false);
    let ts = kind.column_type(SqlType::Timestamp, false);
    let json = kind.json_type();
    let col = |f: StandardField| schema.column_of(f);
    let id = col(StandardField::Id);
    let mysql = kind == DialectKind::MySql;

    let mut users = vec![
        format!("{id} {key} NOT NULL PRIMARY KEY"),
        format!("{} {key} NOT NULL", col(StandardField::Email)),
        format!("{} {text} NULL", col(StandardField::Name)),
        format!("{} {text} NULL", col(StandardField::Image)),
        format!("{} {text} NULL", col(StandardField::PasswordHash)),
        format!("{} {boolean} NOT NULL", col(StandardField::EmailVerified)),
        format!("{} {boolean} NOT NULL", col(StandardField::Active)),
        format!("{} {ts} NOT NULL", col(StandardField::CreatedAt)),
        format!("{} {ts} NOT NULL", col(StandardField::UpdatedAt)),
        format!("deleted_at {ts} NULL"),
    ];
    users.extend(schema.domain_columns().map(|c| domain_column_ddl(c, kind)));
    if mysql {
        users.push(format!(
            "UNIQUE KEY ix_{t}_email ({})",
            col(StandardField::Email)
        ));
    }

    let references = format!("REFERENCES {t} ({id}) ON DELETE CASCADE");
    let mut sessions = vec![
        format!("id {key} NOT NULL PRIMARY KEY"),
        format!("user_id {key} NOT NULL"),
        format!("expires_at {ts} NOT NULL"),
        format!("ip_address {text} NULL"),
        format!("user_agent {text} NULL"),
        format!("created_at {ts} NOT NULL"),
    ];
    let mut tokens = vec![
        format!("token {key} NOT NULL PRIMARY KEY"),
        format!("user_id {key} NOT NULL"),
        format!("token_type {key} NOT NULL"),
        format!("raw_data {json} NULL"),
        format!("expires_at {ts} NOT NULL"),
        format!("created_at {ts} NOT NULL"),
    ];
    for (table, columns) in [(SESSIONS, &mut sessions), (TOKENS, &mut tokens)] {
        columns.push(format!("FOREIGN KEY (user_id) {references}"));
        if mysql {
            columns.push(format!("INDEX ix_{table}_user_id (user_id)"));
        }
    }

    let pending = vec![
        format!("token {key} NOT NULL PRIMARY KEY"),
        format!("email {key} NOT NULL"),
        format!("expires_at {ts} NOT NULL"),
        format!("created_at {ts} NOT NULL"),
    ];
    let (role_permissions, user_roles) = role_tables(kind, &references);
    let mut statements = vec![
        create_table(t, &users),
        create_table(SESSIONS, &sessions),
        create_table(TOKENS, &tokens),
        create_table(ROLES, &[format!("name {key} NOT NULL PRIMARY KEY")]),
        create_table(ROLE_PERMISSIONS, &role_permissions),
        create_table(USER_ROLES, &user_roles),
        create_table(
            SIGNING_KEYS,
            &[
                format!("kid {key} NOT NULL PRIMARY KEY"),
                format!("algorithm {key} NOT NULL"),
                format!("private_key {text} NOT NULL"),
                format!("active_from {ts} NOT NULL"),
            ],
        ),
        create_table(PENDING_MAGIC_LINKS, &pending),
    ];
    if !mysql {
        let email = col(StandardField::Email);
        statements.push(format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS ix_{t}_email ON {t} ({email})"
        ));
        for table in [SESSIONS, TOKENS] {
            statements.push(format!(
                "CREATE INDEX IF NOT EXISTS ix_{table}_user_id ON {table} (user_id)"
            ));
        }
    }
    statements.into_iter().map(arc).collect()
}

/// The columns of `fastauth_role_permissions` and `fastauth_user_roles`. Their composite
/// primary keys lead with the column every lookup filters on, so they double as the indexes.
fn role_tables(kind: DialectKind, user_reference: &str) -> (Vec<String>, Vec<String>) {
    let key = kind.column_type(SqlType::Text, true);
    let role_reference = format!("REFERENCES {ROLES} (name) ON DELETE CASCADE");
    let role_permissions = vec![
        format!("role_name {key} NOT NULL"),
        format!("permission {key} NOT NULL"),
        "PRIMARY KEY (role_name, permission)".to_owned(),
        format!("FOREIGN KEY (role_name) {role_reference}"),
    ];
    let user_roles = vec![
        format!("user_id {key} NOT NULL"),
        format!("role_name {key} NOT NULL"),
        "PRIMARY KEY (user_id, role_name)".to_owned(),
        format!("FOREIGN KEY (user_id) {user_reference}"),
        format!("FOREIGN KEY (role_name) {role_reference}"),
    ];
    (role_permissions, user_roles)
}

pub(super) fn create_table(name: &str, columns: &[String]) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {name} (\n    {}\n)",
        columns.join(",\n    ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        assert!(check_identifier("fastauth_users").is_ok());
        assert!(check_identifier("_x1").is_ok());
        assert!(check_identifier("1users").is_err());
        assert!(check_identifier("users; DROP TABLE x").is_err());
        assert!(check_identifier("").is_err());
        assert!(check_identifier(&"a".repeat(64)).is_err());
    }
}
