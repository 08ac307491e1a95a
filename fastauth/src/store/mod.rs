//! Persistence: the store traits and their SQL and in-memory implementations.
//!
//! Each concern has its own trait: [`UserStore`], [`SessionStore`], [`TokenStore`],
//! [`RoleStore`], [`KeyStore`] and [`OAuthStore`], which [`Store`] bundles. An application can implement them for its own type
//! and pass that to [`crate::Auth`] in place of [`SqlStore`] or [`MemoryStore`].

mod memory;
mod sql;
pub mod state;

use std::future::Future;

use time::OffsetDateTime;

use crate::user::{AuthUser, NewUser};

pub use memory::MemoryStore;
#[cfg(feature = "mysql")]
pub use sql::MySql;
#[cfg(feature = "postgres")]
pub use sql::Postgres;
#[cfg(feature = "sqlite")]
pub use sql::Sqlite;
pub use sql::{AUDIT_TABLE, Dialect, DialectKind, SqlAuditSink, SqlStore};
#[cfg(feature = "redis")]
pub use state::RedisStateStore;
pub use state::{MemoryStateStore, SqlStateStore, StateStore};

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A user with this e-mail address already exists.
    #[error("a user with this email address already exists")]
    DuplicateEmail,
    /// A row could not be turned into the user struct.
    #[error("a stored user could not be read: {0}")]
    Decode(#[from] crate::user::DecodeError),
    /// The struct's schema cannot be stored (for example a column name that is not a plain
    /// SQL identifier).
    #[error("invalid user schema: {0}")]
    Schema(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The store keeps no roles: its [`RoleStore`] is the default one.
    #[error("RBAC is not configured: this store keeps no roles")]
    RolesNotSupported,
    /// The store keeps no OAuth accounts: its [`OAuthStore`] is the default one.
    #[error("oauth_adapter is not configured: this store keeps no OAuth accounts")]
    OAuthNotSupported,
    /// A custom store failed.
    #[error("{0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// The auth state of a user that the runtime reads whatever the struct maps.
#[derive(Clone)]
pub struct UserCore {
    /// The user id.
    pub id: String,
    /// The normalised address.
    pub email: String,
    /// The Argon2 PHC string, if the account has a password.
    pub password_hash: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// The avatar URL.
    pub image: Option<String>,
    /// Whether the address was proven.
    pub email_verified: bool,
    /// Whether the account may sign in.
    pub active: bool,
    /// The names of the user's roles, sorted and without duplicates. Empty when the store
    /// keeps no roles.
    pub roles: Vec<String>,
    /// The union of the permissions of the user's roles, sorted and without duplicates.
    pub permissions: Vec<String>,
}

impl UserCore {
    /// Whether the user holds the role `name` (an exact, case-sensitive comparison).
    pub fn has_role(&self, name: &str) -> bool {
        self.roles
            .binary_search_by(|role| role.as_str().cmp(name))
            .is_ok()
    }

    /// Whether one of the user's roles grants `permission` (an exact comparison).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions
            .binary_search_by(|p| p.as_str().cmp(permission))
            .is_ok()
    }
}

impl std::fmt::Debug for UserCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address is personal data and the hash a secret: neither goes to logs.
        f.debug_struct("UserCore")
            .field("id", &self.id)
            .field("email_verified", &self.email_verified)
            .field("active", &self.active)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A stored user: the application's struct and the runtime's view of the same row.
#[derive(Debug, Clone)]
pub struct UserRecord<U> {
    /// The application's struct.
    pub user: U,
    /// The auth columns.
    pub core: UserCore,
}

impl<U> UserRecord<U> {
    /// Returns the record of a user just inserted from `standard`, who holds no roles yet.
    pub(crate) fn created(user: U, standard: NewUser) -> Self {
        Self {
            user,
            core: UserCore {
                id: standard.id,
                email: standard.email,
                password_hash: standard.password_hash,
                name: standard.name,
                image: standard.image,
                email_verified: standard.email_verified,
                active: standard.active,
                roles: Vec::new(),
                permissions: Vec::new(),
            },
        }
    }
}

/// One sign-in: the refresh family whose id is the `sid` claim of its tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// The session id (cuid2).
    pub id: String,
    /// The user who signed in.
    pub user_id: String,
    /// When the current refresh token of the session expires.
    pub expires_at: OffsetDateTime,
    /// The client's address, when known.
    pub ip_address: Option<String>,
    /// The client's `User-Agent`, when sent.
    pub user_agent: Option<String>,
    /// When the session started.
    pub created_at: OffsetDateTime,
}

/// Persists users.
pub trait UserStore<U: AuthUser>: Send + Sync + 'static {
    /// Finds a user by normalised e-mail address.
    fn find_user_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<UserRecord<U>>, StoreError>> + Send;

    /// Finds a user by id.
    fn find_user_by_id(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<UserRecord<U>>, StoreError>> + Send;

    /// Finds a user together with one of their unexpired sessions, in one read; `None` when
    /// either is missing. Every authenticated request with a `sid` claim makes this call.
    fn find_user_in_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<UserRecord<U>>, StoreError>> + Send;

    /// Inserts a new user; [`StoreError::DuplicateEmail`] when the address is taken.
    fn create_user(
        &self,
        user: &U,
        standard: &NewUser,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces a user's password hash (a rehash at new parameters, or a new password).
    fn update_password_hash(
        &self,
        user_id: &str,
        password_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a user's password, so that only the other sign-in methods remain.
    fn clear_password_hash(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets whether a user's address is verified.
    fn set_email_verified(
        &self,
        user_id: &str,
        verified: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces a user's address by a normalised, verified one. Fails with
    /// [`StoreError::DuplicateEmail`] when another account has it.
    fn update_email(
        &self,
        user_id: &str,
        email: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets the display name and the avatar URL; `None` leaves a column unchanged.
    fn update_profile(
        &self,
        user_id: &str,
        name: Option<&str>,
        image: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a user and everything attached to them: sessions, tokens of every kind and
    /// role assignments. `false` when there was no such user.
    fn delete_user(&self, user_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Persists sessions.
pub trait SessionStore: Send + Sync + 'static {
    /// Inserts a session.
    fn create_session(
        &self,
        session: &SessionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Moves an unexpired session's expiry; `false` when the session is gone.
    fn extend_session(
        &self,
        user_id: &str,
        session_id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes one session of a user; `false` when there was none.
    fn delete_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Lists a user's unexpired sessions, newest first.
    fn list_sessions(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send;

    /// Deletes every session of a user and returns how many there were.
    fn delete_user_sessions(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The purpose of a one-time token, stored as FastAuth's `token_type` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OneTimeKind {
    /// Proves the account's address: `verification`.
    Verification,
    /// Sets a new password: `password_reset`.
    PasswordReset,
    /// Moves the account to a new address: `email_change`.
    EmailChange,
    /// Signs in from an e-mailed link: `magic_link_login_request`.
    MagicLink,
}

impl OneTimeKind {
    /// Returns the `token_type` tag that FastAuth stores for this kind.
    pub const fn tag(self) -> &'static str {
        match self {
            Self::Verification => "verification",
            Self::PasswordReset => "password_reset",
            Self::EmailChange => "email_change",
            Self::MagicLink => "magic_link_login_request",
        }
    }
}

/// A stored one-time token, as its redemption returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    /// The owner's user id.
    pub user_id: String,
    /// The address the token carries: the new address of an e-mail change. `None` for the
    /// other kinds.
    pub email: Option<String>,
}

/// Persists the refresh-token allowlist (the `jti` of every refresh token still usable)
/// and the one-time tokens of the e-mailed links.
///
/// One-time tokens are stored under the lower-case hex SHA-256 of the raw token, never the
/// raw token itself.
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a one-time token under `token_hash`, and purges the expired tokens of the same
    /// user and kind.
    fn create_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        token: &OneTimeToken,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes an unexpired one-time token of `kind` and returns it. Of several concurrent
    /// calls with one hash, exactly one gets `Some`.
    fn consume_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<OneTimeToken>, StoreError>> + Send;

    /// Stores a magic link requested for an address that has no account yet, keyed by the
    /// token's hash, and purges expired ones. The account is created when the link is used.
    fn create_pending_magic_link(
        &self,
        token_hash: &str,
        email: &str,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes an unexpired pending magic link and returns its normalised address. Of
    /// several concurrent calls with one hash, exactly one gets `Some`.
    fn consume_pending_magic_link(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Deletes every one-time token of `kind` of a user and returns how many there were.
    fn delete_one_time_tokens(
        &self,
        user_id: &str,
        kind: OneTimeKind,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records a newly issued refresh token.
    fn record_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        session_id: Option<&str>,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes an unexpired recorded refresh token and reports whether this call deleted it.
    /// Of several concurrent calls with one `jti`, exactly one gets `true`.
    fn consume_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Checks whether an unexpired refresh token of `user_id` is recorded, without
    /// consuming it.
    fn is_refresh_token_recorded(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the refresh tokens of one session and returns how many there were.
    fn revoke_session_refresh_tokens(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes every refresh token of a user and returns how many there were.
    fn revoke_user_refresh_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// A role and the permissions it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    /// The role's name.
    pub name: String,
    /// Its permissions, sorted and without duplicates.
    pub permissions: Vec<String>,
}

/// Persists roles, the permissions they grant and which user holds which role, in FastAuth's
/// tables `fastauth_roles`, `fastauth_role_permissions` and `fastauth_user_roles`.
///
/// The user reads of [`UserStore`] also return the user's roles and permissions
/// ([`UserCore::roles`]), in the same read, so that a guard costs no extra round trip.
///
/// Every method has a default that fails with [`StoreError::RolesNotSupported`], so a
/// custom store without roles implements this trait with an empty `impl` block; the role
/// routes then answer `RBAC is not configured`.
pub trait RoleStore: Send + Sync + 'static {
    /// Returns whether this store keeps roles. The defaults of the other methods assume it
    /// does not.
    fn supports_roles(&self) -> bool {
        false
    }

    /// Lists every role with its permissions, sorted by name.
    fn list_roles(&self) -> impl Future<Output = Result<Vec<RoleRecord>, StoreError>> + Send {
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Finds one role.
    fn find_role(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<RoleRecord>, StoreError>> + Send {
        let _ = name;
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Creates a role with `permissions`; `false` when a role of that name exists already
    /// (and then changes nothing).
    fn create_role(
        &self,
        name: &str,
        permissions: &[String],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (name, permissions);
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Deletes a role, its permissions and every assignment of it; `false` when there was
    /// no such role.
    fn delete_role(&self, name: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = name;
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Adds permissions to a role, keeping those it has; `false` when there is no such role.
    fn add_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (role, permissions);
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Removes permissions from a role, ignoring those it lacks; `false` when there is no
    /// such role.
    fn remove_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (role, permissions);
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Gives a user a role they may hold already. The caller checks that both exist.
    fn assign_role(
        &self,
        user_id: &str,
        role: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (user_id, role);
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Takes a role from a user; `false` when they did not hold it.
    fn revoke_role(
        &self,
        user_id: &str,
        role: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (user_id, role);
        async { Err(StoreError::RolesNotSupported) }
    }

    /// Returns the roles of a user and the union of their permissions, both sorted and
    /// without duplicates, or empty lists for an unknown user.
    fn user_roles(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<(Vec<String>, Vec<String>), StoreError>> + Send {
        let _ = user_id;
        async { Err(StoreError::RolesNotSupported) }
    }
}

/// A generated signing key as the store keeps it. Its `Debug` output never shows the private
/// key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// The key id, the RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The `alg` the key signs with, like `RS256`.
    pub algorithm: String,
    /// The private key, PKCS#8 PEM.
    // NOTE: stored unencrypted, so anyone who can read this table can sign tokens.
    pub private_key_pem: String,
    /// When the key starts signing: its creation, or a later time for a key published
    /// ahead of use. The newest key whose time has come signs.
    pub active_from: OffsetDateTime,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("active_from", &self.active_from)
            .finish_non_exhaustive()
    }
}

/// Persists generated signing keys in `fastauth_signing_keys`, so that every instance on the
/// same database signs and verifies with the same keys.
///
/// Every method has a default for a store that keeps no keys: each process then signs with
/// a key of its own, generated at start-up, which other instances do not know.
pub trait KeyStore: Send + Sync + 'static {
    /// Returns whether this store keeps signing keys.
    fn supports_signing_keys(&self) -> bool {
        false
    }

    /// Lists the keys of one algorithm, in any order.
    fn list_signing_keys(
        &self,
        algorithm: &str,
    ) -> impl Future<Output = Result<Vec<StoredSigningKey>, StoreError>> + Send {
        let _ = algorithm;
        async { Ok(Vec::new()) }
    }

    /// Inserts a key; a key whose `kid` is stored already is left as it is.
    fn insert_signing_key(
        &self,
        key: &StoredSigningKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = key;
        async { Ok(()) }
    }

    /// Deletes the key with this `kid`, if there is one.
    fn delete_signing_key(&self, kid: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = kid;
        async { Ok(()) }
    }
}

/// A link between a user and an account at an OAuth provider, a row of
/// `fastauth_oauth_accounts`. Provider access and refresh tokens are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthAccount {
    /// The provider id: `google` or `github`.
    pub provider: String,
    /// The account's id at the provider: the OpenID `sub`, or GitHub's numeric id in decimal.
    pub provider_account_id: String,
    /// The linked user.
    pub user_id: String,
    /// When the link was made.
    pub created_at: OffsetDateTime,
}

/// Persists the links between users and their accounts at OAuth providers.
///
/// Every method has a default that fails with [`StoreError::OAuthNotSupported`], so a custom
/// store without OAuth implements this trait with an empty `impl` block. The OAuth routes then
/// return `oauth_adapter is not configured`.
pub trait OAuthStore: Send + Sync + 'static {
    /// Returns whether this store keeps OAuth accounts.
    fn supports_oauth(&self) -> bool {
        false
    }

    /// Creates the table of OAuth accounts. [`crate::Auth::migrate`] calls it when the
    /// declaration enables an OAuth provider. Idempotent.
    fn migrate_oauth_accounts(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }

    /// Finds the link of one provider account.
    fn find_oauth_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> impl Future<Output = Result<Option<OAuthAccount>, StoreError>> + Send {
        let _ = (provider, provider_account_id);
        async { Err(StoreError::OAuthNotSupported) }
    }

    /// Creates a link; `false` when the provider account is linked already, to anyone (and
    /// then changes nothing). Of several concurrent calls for one provider account, exactly
    /// one gets `true`.
    fn create_oauth_account(
        &self,
        account: &OAuthAccount,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = account;
        async { Err(StoreError::OAuthNotSupported) }
    }

    /// Lists a user's links, oldest first.
    fn list_oauth_accounts(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<OAuthAccount>, StoreError>> + Send {
        let _ = user_id;
        async { Err(StoreError::OAuthNotSupported) }
    }

    /// Deletes the oldest link of `provider` of a user; `false` when the user has none.
    fn delete_oauth_account(
        &self,
        user_id: &str,
        provider: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (user_id, provider);
        async { Err(StoreError::OAuthNotSupported) }
    }

    /// Deletes every link of a user and returns how many there were.
    fn delete_user_oauth_accounts(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = user_id;
        async { Err(StoreError::OAuthNotSupported) }
    }
}

/// Sorts `names` and removes duplicates: the form every role and permission list takes.
pub(crate) fn sorted_unique(mut names: Vec<String>) -> Vec<String> {
    names.sort_unstable();
    names.dedup();
    names
}

/// Everything [`crate::Auth`] persists.
pub trait Store<U: AuthUser>:
    UserStore<U> + SessionStore + TokenStore + RoleStore + KeyStore + OAuthStore
{
    /// Records a new session and its first refresh token. The SQL store writes both in one
    /// transaction; the default calls [`SessionStore::create_session`] and then
    /// [`TokenStore::record_refresh_token`].
    fn start_session(
        &self,
        session: &SessionRecord,
        refresh_jti: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            self.create_session(session).await?;
            let expires_at = session.expires_at;
            let sid = Some(session.id.as_str());
            self.record_refresh_token(refresh_jti, &session.user_id, sid, expires_at)
                .await
        }
    }

    /// Creates or updates the tables. Idempotent; the in-memory store does nothing.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }
}
