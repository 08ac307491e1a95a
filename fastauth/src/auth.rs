//! [`Auth`], the configured service: the sign-in flows over a store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::core::AuthError;
use crate::core::config::{AuthConfig, ConfigError};
use crate::core::password::{PasswordHasher, Verified};
use crate::core::rbac::{DeclaredRoles, NoRoles};
use crate::core::token::{Claims, IssuedPair, Subject, TokenSigner, TokenType};
use crate::store::{SessionRecord, Store, StoreError, UserRecord};
use crate::user::{AuthUser, NewUser};

mod magic_link;
mod mail_flows;
mod roles;
mod sessions;

pub use roles::UserRoles;

const CORE: &str = "fastauth::core";
const SECURITY: &str = "fastauth::security";

/// The role that the role routes require, and that [`Auth::bootstrap_admin`] creates.
pub const ADMIN_ROLE: &str = "admin";

/// The configured authentication service of an application.
///
/// `fastauth!` names this type with the application's user struct, its store, the
/// enabled providers (a bit set of `PROVIDERS`) and, when it declares roles, the generated
/// `Role` enum as `ROLES`. Clones share one service.
pub struct Auth<U, S, const PROVIDERS: u32, ROLES = NoRoles> {
    pub(crate) inner: Arc<Inner<U, S>>,
    _roles: std::marker::PhantomData<fn() -> ROLES>,
}

pub(crate) struct Inner<U, S> {
    pub(crate) store: S,
    pub(crate) config: AuthConfig,
    pub(crate) signer: TokenSigner,
    pub(crate) hasher: PasswordHasher,
    pub(crate) templates: crate::mail::Templates,
    _user: std::marker::PhantomData<fn() -> U>,
}

impl<U, S, const P: u32, R> Clone for Auth<U, S, P, R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _roles: std::marker::PhantomData,
        }
    }
}

impl<U, S: fmt::Debug, const P: u32, R> fmt::Debug for Auth<U, S, P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("store", &self.inner.store)
            .field("prefix", &self.inner.config.prefix)
            .field("providers", &P)
            .finish_non_exhaustive()
    }
}

/// Building the service failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A setting is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store cannot be built for this user struct.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The client that signs in, recorded on the session.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer address.
    pub ip_address: Option<String>,
    /// The `User-Agent` header, cut to 512 characters.
    pub user_agent: Option<String>,
}

/// A completed sign-in: the user and the new pair.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The user id.
    pub user_id: String,
    /// The session the pair belongs to.
    pub session_id: String,
    /// The tokens.
    pub tokens: IssuedPair,
}

/// The result of a registration.
#[derive(Debug, Clone)]
pub enum Registered {
    /// The account was created and signed in.
    SignedIn(SignIn),
    /// Verification-required mode: the account was created, no session was started, and
    /// the verification e-mail was queued.
    VerificationSent {
        /// The new user's id.
        user_id: String,
    },
}

/// A registration request whose e-mail address is already normalised.
#[derive(Debug)]
pub struct Registration<R> {
    /// The normalised address.
    pub email: String,
    /// The password as typed.
    pub password: String,
    /// The display name.
    pub name: Option<String>,
    /// The struct's `#[auth(register)]` fields.
    pub extra: R,
}

/// The caller of an authenticated request, loaded by one indexed read.
#[derive(Debug, Clone)]
pub struct Authenticated<U> {
    /// The user and their auth columns.
    pub record: UserRecord<U>,
    /// The verified access-token claims.
    pub claims: Claims,
}

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// Builds the service on `store`. Checks the configuration and computes the dummy
    /// password hash (one Argon2 hash).
    pub fn new(store: S, mut config: AuthConfig) -> Result<Self, BuildError> {
        config.validate()?;
        if let Some(email) = &config.admin_email {
            let normalised = crate::email::normalize_email(email).map_err(|error| {
                ConfigError::new("admin_email", format!("invalid e-mail address: {error}"))
            })?;
            config.admin_email = Some(normalised);
        }
        let signer = TokenSigner::new(&config)?;
        let hasher = PasswordHasher::new(&config.password)?;
        let templates = crate::mail::Templates::new(config.template_dir.as_deref());
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                config,
                signer,
                hasher,
                templates,
                _user: std::marker::PhantomData,
            }),
            _roles: std::marker::PhantomData,
        })
    }

    /// Creates or updates the database tables, then creates the roles the declaration
    /// names and grants their permissions. Idempotent: run it at every start. Roles and
    /// permissions that exist already, including those created at run time, are kept.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let store = &self.inner.store;
        store.migrate().await?;
        for (role, permissions) in R::GRANTS {
            let permissions: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
            if !store.create_role(role, &permissions).await? {
                store.add_permissions(role, &permissions).await?;
            }
        }
        Ok(())
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// Checks whether a provider bit of `PROVIDERS` is set.
    pub const fn has_provider(bit: u32) -> bool {
        P & bit != 0
    }

    /// Creates an account with a password and signs it in, then sends the welcome e-mail. In
    /// verification-required mode it sends the verification e-mail instead and starts no
    /// session.
    pub async fn register(
        &self,
        registration: Registration<U::Register>,
        client: &ClientInfo,
    ) -> Result<Registered, AuthError> {
        let inner = &self.inner;
        inner
            .config
            .password
            .check(&registration.password)
            .map_err(AuthError::PasswordPolicy)?;
        if inner
            .store
            .find_user_by_email(&registration.email)
            .await?
            .is_some()
        {
            tracing::info!(target: CORE, reason = "email taken", "registration rejected");
            return Err(AuthError::EmailTaken);
        }

        let password_hash = inner.hasher.hash(&registration.password).await?;
        let standard = NewUser {
            id: cuid2::create_id(),
            email: registration.email,
            password_hash: Some(password_hash),
            name: registration.name,
            image: None,
            email_verified: false,
            active: true,
            created_at: OffsetDateTime::now_utc(),
        };
        let user = U::new_user(&standard, registration.extra).map_err(StoreError::from)?;
        match inner.store.create_user(&user, &standard).await {
            Err(StoreError::DuplicateEmail) => {
                tracing::info!(target: CORE, reason = "email taken", "registration rejected");
                return Err(AuthError::EmailTaken);
            }
            other => other?,
        }
        tracing::info!(target: CORE, user_id = %standard.id, "user registered");
        let roles = self.grant_admin_on_signup(&standard).await?;

        let core = crate::store::UserCore {
            id: standard.id.clone(),
            email: standard.email.clone(),
            password_hash: None,
            name: standard.name.clone(),
            image: None,
            email_verified: false,
            active: true,
            roles: Vec::new(),
            permissions: Vec::new(),
        };
        if inner.config.require_verified_email {
            self.request_verification(&core).await?;
            return Ok(Registered::VerificationSent {
                user_id: standard.id,
            });
        }
        let subject = Subject {
            user_id: &standard.id,
            email: &standard.email,
            name: standard.name.as_deref(),
            email_verified: false,
            roles: Some((&roles.0, &roles.1)),
        };
        let sign_in = self
            .start_session(subject, inner.config.refresh_ttl, client)
            .await?;
        let context = minijinja::context! { name => mail_flows::display_name(&core) };
        self.send_mail(
            crate::mail::MailKind::Welcome,
            &core.email,
            &core.id,
            context,
        );
        Ok(Registered::SignedIn(sign_in))
    }

    /// Checks an address and password and signs the user in. `remember` gives the refresh
    /// token the remember-me lifetime.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        remember: bool,
        client: &ClientInfo,
    ) -> Result<SignIn, AuthError> {
        let inner = &self.inner;
        // Longer than any valid password: refuse before spending a hash on it.
        if password.chars().count() > inner.config.password.max_length {
            tracing::info!(target: CORE, reason = "password too long", "login failed");
            return Err(AuthError::InvalidCredentials);
        }
        let record = inner.store.find_user_by_email(email).await?;
        let stored_hash = record
            .as_ref()
            .and_then(|r| r.core.password_hash.as_deref());
        // With no user or no password this verifies against the dummy hash, so the response
        // takes as long as for a wrong password.
        // NOTE: a hash made with costlier parameters (Python FastAuth's m=65536) takes longer
        // to verify than the dummy, until the first login rehashes it.
        let verified = inner.hasher.verify(password, stored_hash).await?;
        let record = match (record, &verified) {
            (Some(record), Verified::Yes | Verified::YesRehashed(_)) => record,
            (record, _) => {
                tracing::info!(
                    target: CORE,
                    user_id = record.as_ref().map(|r| r.core.id.as_str()),
                    reason = "invalid credentials",
                    "login failed"
                );
                return Err(AuthError::InvalidCredentials);
            }
        };
        if !record.core.active {
            tracing::info!(
                target: CORE,
                user_id = %record.core.id,
                reason = "account deactivated",
                "login failed"
            );
            return Err(AuthError::AccountDeactivated);
        }
        if inner.config.require_verified_email && !record.core.email_verified {
            tracing::info!(
                target: CORE,
                user_id = %record.core.id,
                reason = "email not verified",
                "login failed"
            );
            return Err(AuthError::EmailNotVerified);
        }
        if let Verified::YesRehashed(new_hash) = verified {
            inner
                .store
                .update_password_hash(&record.core.id, &new_hash)
                .await?;
            tracing::info!(
                target: CORE,
                user_id = %record.core.id,
                "password rehashed at the current parameters"
            );
        }

        let ttl = if remember {
            inner.config.remember_me_ttl
        } else {
            inner.config.refresh_ttl
        };
        let sign_in = self.start_session(subject_of(&record), ttl, client).await?;
        tracing::info!(
            target: CORE,
            user_id = %sign_in.user_id,
            session_id = %sign_in.session_id,
            remember,
            "login succeeded"
        );
        Ok(sign_in)
    }

    /// Rotates a refresh token into a new pair of the same session.
    ///
    /// A refresh token whose session is gone was ended on purpose (logout, revocation) and
    /// is only rejected. A recorded-once token of a live session that is no longer recorded
    /// was used before: that is a replay, and every session and refresh token of the user
    /// is revoked.
    pub async fn refresh(&self, refresh_token: &str) -> Result<SignIn, AuthError> {
        let inner = &self.inner;
        let claims = inner
            .signer
            .verify(refresh_token, TokenType::Refresh)
            .map_err(|error| {
                tracing::info!(target: CORE, %error, "refresh rejected");
                AuthError::InvalidRefreshToken
            })?;
        let now = OffsetDateTime::now_utc();
        let record = match &claims.sid {
            Some(sid) => {
                inner
                    .store
                    .find_user_in_session(&claims.sub, sid, now)
                    .await?
            }
            None => inner.store.find_user_by_id(&claims.sub).await?,
        };
        let Some(record) = record.filter(|r| r.core.active) else {
            tracing::info!(
                target: CORE,
                user_id = %claims.sub,
                "refresh rejected: user or session gone, or account deactivated"
            );
            return Err(AuthError::InvalidRefreshToken);
        };

        let consumed = inner
            .store
            .consume_refresh_token(&claims.jti, &claims.sub, now)
            .await?;
        if !consumed {
            let sessions = inner.store.delete_user_sessions(&claims.sub).await?;
            let tokens = inner.store.revoke_user_refresh_tokens(&claims.sub).await?;
            tracing::warn!(
                target: "fastauth::security",
                user_id = %claims.sub,
                session_id = claims.sid.as_deref(),
                sessions_revoked = sessions,
                refresh_tokens_revoked = tokens,
                "refresh token reuse detected: every session of the user was revoked"
            );
            return Err(AuthError::RefreshTokenReused);
        }

        let session_id = claims.sid.clone();
        let tokens = inner.signer.issue_pair(
            subject_of(&record),
            session_id.as_deref(),
            inner.config.refresh_ttl,
            now,
        )?;
        inner
            .store
            .record_refresh_token(
                &tokens.refresh_jti,
                &claims.sub,
                session_id.as_deref(),
                tokens.refresh_expires_at,
            )
            .await?;
        if let Some(sid) = &session_id {
            inner
                .store
                .extend_session(&claims.sub, sid, tokens.refresh_expires_at, now)
                .await?;
        }
        tracing::info!(
            target: CORE,
            user_id = %claims.sub,
            session_id = session_id.as_deref(),
            "refresh token rotated"
        );
        Ok(SignIn {
            user_id: claims.sub,
            session_id: session_id.unwrap_or_default(),
            tokens,
        })
    }

    /// Ends the session of an access token. A token without `sid` (issued by Python
    /// FastAuth) revokes every refresh token of the user, as FastAuth does.
    pub async fn logout(&self, claims: &Claims) -> Result<(), AuthError> {
        let store = &self.inner.store;
        match &claims.sid {
            Some(sid) => {
                store.delete_session(&claims.sub, sid).await?;
                store
                    .revoke_session_refresh_tokens(&claims.sub, sid)
                    .await?;
            }
            None => {
                store.revoke_user_refresh_tokens(&claims.sub).await?;
            }
        }
        tracing::info!(
            target: CORE,
            user_id = %claims.sub,
            session_id = claims.sid.as_deref(),
            "logged out"
        );
        Ok(())
    }

    /// Verifies an access token and loads its user and session in one read.
    pub async fn authenticate(&self, access_token: &str) -> Result<Authenticated<U>, AuthError> {
        let inner = &self.inner;
        let claims = inner
            .signer
            .verify(access_token, TokenType::Access)
            .map_err(|error| {
                tracing::debug!(target: CORE, %error, "access token rejected");
                AuthError::NotAuthenticated
            })?;
        let record = match &claims.sid {
            Some(sid) => {
                let now = OffsetDateTime::now_utc();
                inner
                    .store
                    .find_user_in_session(&claims.sub, sid, now)
                    .await?
            }
            None => inner.store.find_user_by_id(&claims.sub).await?,
        };
        let record = record.ok_or(AuthError::NotAuthenticated)?;
        if !record.core.active {
            return Err(AuthError::AccountDeactivated);
        }
        Ok(Authenticated { record, claims })
    }

    /// Verifies an access token without reading the store. Revocation then takes effect
    /// only when the token expires.
    pub fn verify_access_token(&self, access_token: &str) -> Result<Claims, AuthError> {
        self.inner
            .signer
            .verify(access_token, TokenType::Access)
            .map_err(|_| AuthError::NotAuthenticated)
    }

    async fn start_session(
        &self,
        subject: Subject<'_>,
        refresh_ttl: Duration,
        client: &ClientInfo,
    ) -> Result<SignIn, AuthError> {
        let inner = &self.inner;
        let now = OffsetDateTime::now_utc();
        let session_id = cuid2::create_id();
        let tokens = inner
            .signer
            .issue_pair(subject, Some(&session_id), refresh_ttl, now)?;
        let session = SessionRecord {
            id: session_id.clone(),
            user_id: subject.user_id.to_owned(),
            expires_at: tokens.refresh_expires_at,
            ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
            created_at: now,
        };
        inner
            .store
            .start_session(&session, &tokens.refresh_jti)
            .await?;
        Ok(SignIn {
            user_id: subject.user_id.to_owned(),
            session_id,
            tokens,
        })
    }
}

fn subject_of<U>(record: &UserRecord<U>) -> Subject<'_> {
    Subject {
        user_id: &record.core.id,
        email: &record.core.email,
        name: record.core.name.as_deref(),
        email_verified: record.core.email_verified,
        roles: Some((&record.core.roles, &record.core.permissions)),
    }
}

impl<U: AuthUser, D: crate::store::Dialect, const P: u32, R: DeclaredRoles>
    Auth<U, crate::store::SqlStore<U, D>, P, R>
{
    /// Builds the service on a SQL connection pool: `SqlitePool`, `PgPool` or `MySqlPool`,
    /// matching the declaration's `database`.
    pub fn with_pool(pool: D::Pool, config: AuthConfig) -> Result<Self, BuildError> {
        Self::new(crate::store::SqlStore::new(pool)?, config)
    }
}
