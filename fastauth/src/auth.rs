//! [`Auth`], the configured service: the sign-in flows over a store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::core::AuthError;
use crate::core::config::{AuthConfig, ConfigError};
use crate::core::hooks::{AuthHooks, HookRunner};
use crate::core::limits::{self, LimitedRoute};
use crate::core::password::{PasswordHasher, Verified};
use crate::core::rbac::{DeclaredRoles, NoRoles};
use crate::core::security::{
    SecurityEvent, SecurityEventKind as Kind, SecurityEvents, SecuritySink,
};
use crate::core::token::{Claims, IssuedPair, Subject, TokenSigner, TokenType};
use crate::store::{MemoryStateStore, SessionRecord, StateStore, Store, StoreError, UserRecord};
use crate::user::{AuthUser, NewUser};

mod keys;
mod magic_link;
mod mail_flows;
#[cfg(feature = "oauth")]
mod oauth;
mod roles;
mod sessions;

pub use keys::{KEY_PUBLICATION_LEAD, KEY_RELOAD_INTERVAL, KeyRotationError};
pub use roles::UserRoles;

const CORE: &str = "fastauth::core";
const SECURITY: &str = crate::core::security::TARGET;

/// The `provider` of an e-mail and password sign-in, as hooks and security events name it.
const CREDENTIALS: &str = "credentials";

/// The role that the role routes require, and that [`Auth::bootstrap_admin`] creates.
pub const ADMIN_ROLE: &str = "admin";

/// The configured authentication service of an application.
///
/// `fastauth!` names this type with the application's user struct, its store, the
/// enabled providers (a bit set of `PROVIDERS`) and, when it declares roles, the generated
/// `Role` enum as `ROLES`. Clones share one service.
pub struct Auth<U, S, const PROVIDERS: u32, ROLES = NoRoles> {
    pub(crate) inner: Arc<Inner<U, S>>,
    pub(crate) hooks: HookRunner<U>,
    pub(crate) events: SecurityEvents,
    _roles: std::marker::PhantomData<fn() -> ROLES>,
}

pub(crate) struct Inner<U, S> {
    pub(crate) store: S,
    pub(crate) config: AuthConfig,
    pub(crate) signer: TokenSigner,
    pub(crate) hasher: PasswordHasher,
    /// Whether the task that reloads and rotates the signing keys runs.
    key_task_started: std::sync::atomic::AtomicBool,
    pub(crate) state: Arc<dyn StateStore>,
    pub(crate) lockout_state: Arc<dyn StateStore>,
    pub(crate) templates: crate::mail::Templates,
    #[cfg(feature = "oauth")]
    pub(crate) oauth: crate::oauth::Providers,
    _user: std::marker::PhantomData<fn() -> U>,
}

impl<U, S, const P: u32, R> Clone for Auth<U, S, P, R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            hooks: self.hooks.clone(),
            events: self.events.clone(),
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
            .field("hooks", &self.hooks)
            .field("events", &self.events)
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
    /// The client address: the peer's, or the one a trusted proxy header names
    /// ([`AuthConfig::client_ip`]). Rate limits are keyed by it.
    pub ip: Option<std::net::IpAddr>,
    /// The same address as text, as the session records it.
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
        let state = config
            .state_store
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryStateStore::new()));
        let lockout_state = config
            .lockout_store
            .clone()
            .unwrap_or_else(|| Arc::clone(&state));
        let templates = crate::mail::Templates::new(config.template_dir.as_deref());
        #[cfg(feature = "oauth")]
        let oauth = crate::oauth::Providers::new(&config.oauth)?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                config,
                signer,
                hasher,
                key_task_started: std::sync::atomic::AtomicBool::new(false),
                state,
                lockout_state,
                templates,
                #[cfg(feature = "oauth")]
                oauth,
                _user: std::marker::PhantomData,
            }),
            hooks: HookRunner::default(),
            events: SecurityEvents::default(),
            _roles: std::marker::PhantomData,
        })
    }

    /// Runs `hooks` at the lifecycle events of users (see [`AuthHooks`]), in place of the
    /// hooks set before. Clones of this service made earlier keep the hooks they had.
    pub fn with_hooks(mut self, hooks: impl AuthHooks<U>) -> Self {
        self.hooks = HookRunner::new(hooks);
        self
    }

    /// Hands every security event to `sink` as well as to `tracing`, and makes
    /// [`Auth::migrate`] create the sink's storage. Clones of this service made earlier keep
    /// the sink they had.
    pub fn with_security_sink(mut self, sink: impl SecuritySink) -> Self {
        self.events = SecurityEvents::with_sink(sink);
        self
    }

    /// Returns the hooks, for flows that run them.
    pub fn hooks(&self) -> &HookRunner<U> {
        &self.hooks
    }

    /// Returns the security event stream, for flows that emit events.
    pub fn security_events(&self) -> &SecurityEvents {
        &self.events
    }

    /// Creates or updates the database tables (and the storage of the security sink, when
    /// one is set), then creates the roles the declaration names and grants their
    /// permissions. Idempotent: run it at every start. Roles and permissions that exist
    /// already, including those created at run time, are kept.
    ///
    /// With an asymmetric algorithm and no configured key, it also loads the signing keys
    /// from the store, generating the first one, and starts the task that reloads them
    /// every [`KEY_RELOAD_INTERVAL`] and rotates them. Before this call, the process signs
    /// with a key of its own.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let store = &self.inner.store;
        store.migrate().await?;
        self.events.migrate().await?;
        self.start_signing_keys()
            .await
            .map_err(|error| match error {
                KeyRotationError::Store(error) => error,
                other => StoreError::Other(Box::new(other)),
            })?;
        if P & crate::provider::OAUTH != 0 {
            store.migrate_oauth_accounts().await?;
        }
        self.inner.state.migrate().await?;
        if !Arc::ptr_eq(&self.inner.state, &self.inner.lockout_state) {
            self.inner.lockout_state.migrate().await?;
        }
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

    /// Returns the JWKS document (`{"keys": [...]}`, public keys only) of an asymmetric
    /// algorithm, or `None` under HMAC, whose secret is never published.
    pub fn jwks(&self) -> Option<serde_json::Value> {
        let set = self.inner.signer.key_set()?;
        Some(set.snapshot().jwks())
    }

    /// The store of short-lived state: rate-limit counters, and whatever else every
    /// instance must share for a few minutes (see [`AuthConfig::state_store`]).
    pub fn state_store(&self) -> &Arc<dyn StateStore> {
        &self.inner.state
    }

    /// Counts one request of `route` against the configured rate limits, per client address
    /// and, when `account` (a normalised e-mail address or a user id) is given, per
    /// account. Returns [`AuthError::RateLimited`] when a limit is exceeded. A route opts in
    /// to rate limiting by calling this before it does any work.
    pub async fn check_rate_limit(
        &self,
        route: LimitedRoute,
        client: &ClientInfo,
        account: Option<&str>,
    ) -> Result<(), AuthError> {
        let inner = &self.inner;
        let limits = &inner.config.rate_limits;
        if limits.per_ip.is_none() && limits.per_account.is_none() {
            return Ok(());
        }
        let refusal =
            limits::check_rate_limits(&*inner.state, limits, route, client.ip, account).await?;
        match refusal {
            Some(refusal) => Err(refusal.into()),
            None => Ok(()),
        }
    }

    /// Clears the failed-login counter and any lock of a normalised address, as a password
    /// reset does.
    pub async fn clear_lockout(&self, email: &str) -> Result<(), AuthError> {
        limits::clear_lockout(&*self.inner.lockout_state, email).await?;
        Ok(())
    }

    /// Returns the user id of a refresh token whose signature and expiry verify, without
    /// reading the store: the account a refresh request is rate-limited by.
    pub fn refresh_token_subject(&self, refresh_token: &str) -> Option<String> {
        let claims = self
            .inner
            .signer
            .verify(refresh_token, TokenType::Refresh)
            .ok()?;
        Some(claims.sub)
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
        let event = SecurityEvent::new(Kind::AccountCreated)
            .user(&standard.id)
            .provider(CREDENTIALS);
        self.events.emit(event).await;
        let (roles, permissions) = self.grant_admin_on_signup(&standard).await?;
        let mut record = UserRecord::created(user, standard);
        record.core.roles = roles;
        record.core.permissions = permissions;
        self.hooks.signup(&record).await?;
        if inner.config.require_verified_email {
            self.request_verification(&record.core).await?;
            return Ok(Registered::VerificationSent {
                user_id: record.core.id,
            });
        }
        let sign_in = self
            .start_session(&record, inner.config.refresh_ttl, client)
            .await?;
        let context = minijinja::context! { name => mail_flows::display_name(&record.core) };
        self.send_mail(
            crate::mail::MailKind::Welcome,
            &record.core.email,
            &record.core.id,
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
        let lockout = inner.config.lockout.as_ref();
        // Unknown addresses lock exactly like accounts, so a lock reveals nothing.
        if lockout.is_some()
            && let Some(refusal) = limits::check_lockout(&*inner.lockout_state, email).await?
        {
            tracing::info!(target: CORE, reason = "address locked", "login rejected");
            return Err(refusal.into());
        }
        // Longer than any valid password: refuse before spending a hash on it.
        if password.chars().count() > inner.config.password.max_length {
            self.sign_in_failed(None, "password too long").await;
            self.count_failed_login(email, None).await?;
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
                let user_id = record.as_ref().map(|r| r.core.id.as_str());
                self.sign_in_failed(user_id, "invalid credentials").await;
                self.count_failed_login(email, user_id).await?;
                return Err(AuthError::InvalidCredentials);
            }
        };
        if !record.core.active {
            self.sign_in_failed(Some(&record.core.id), "account deactivated")
                .await;
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

        if lockout.is_some() {
            limits::clear_lockout(&*inner.lockout_state, email).await?;
        }

        if !self.hooks.allow_signin(&record, CREDENTIALS).await? {
            self.sign_in_failed(Some(&record.core.id), "rejected by the allow_signin hook")
                .await;
            return Err(AuthError::SignInNotAllowed);
        }
        self.hooks.signin(&record, CREDENTIALS).await?;

        let ttl = if remember {
            inner.config.remember_me_ttl
        } else {
            inner.config.refresh_ttl
        };
        let sign_in = self.start_session(&record, ttl, client).await?;
        let event = SecurityEvent::new(Kind::SignInSucceeded)
            .user(&sign_in.user_id)
            .session(Some(&sign_in.session_id))
            .provider(CREDENTIALS)
            .reason(if remember { "remember me" } else { "login" });
        self.events.emit(event).await;
        Ok(sign_in)
    }

    /// Counts a failed login toward the lockout of `email`, and emits `AccountLocked` when
    /// this failure locks it.
    async fn count_failed_login(
        &self,
        email: &str,
        user_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let Some(lockout) = &self.inner.config.lockout else {
            return Ok(());
        };
        let state = &*self.inner.lockout_state;
        if limits::record_failure(state, lockout, email).await? {
            let event = SecurityEvent::new(Kind::AccountLocked)
                .maybe_user(user_id)
                .reason("repeated failed logins");
            self.events.emit(event).await;
        }
        Ok(())
    }

    async fn sign_in_failed(&self, user_id: Option<&str>, reason: &'static str) {
        let event = SecurityEvent::new(Kind::SignInFailed)
            .maybe_user(user_id)
            .provider(CREDENTIALS)
            .reason(reason);
        self.events.emit(event).await;
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
            let event = SecurityEvent::new(Kind::RefreshTokenReused)
                .user(&claims.sub)
                .session(claims.sid.as_deref())
                .reason(format!(
                    "{sessions} sessions and {tokens} refresh tokens of the user revoked"
                ));
            self.events.emit(event).await;
            return Err(AuthError::RefreshTokenReused);
        }
        self.hooks.token_refresh(&record).await?;

        let session_id = claims.sid.clone();
        let tokens = self
            .issue_pair(
                &record,
                session_id.as_deref(),
                inner.config.refresh_ttl,
                now,
            )
            .await?;
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

    /// Ends the session of an access token of `user`, after running the `on_signout` hook.
    /// A token without `sid` (issued by Python FastAuth) revokes every refresh token of the
    /// user, as FastAuth does.
    pub async fn logout(&self, user: &UserRecord<U>, claims: &Claims) -> Result<(), AuthError> {
        self.hooks.signout(user).await?;
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
        let event = SecurityEvent::new(Kind::SessionRevoked)
            .user(&claims.sub)
            .session(claims.sid.as_deref())
            .reason("logout");
        self.events.emit(event).await;
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

    /// Starts a session for `user`: issues a pair naming a new session id, runs
    /// `modify_session`, then stores the session with the refresh token's `jti`.
    async fn start_session(
        &self,
        user: &UserRecord<U>,
        refresh_ttl: Duration,
        client: &ClientInfo,
    ) -> Result<SignIn, AuthError> {
        let now = OffsetDateTime::now_utc();
        let session_id = cuid2::create_id();
        let tokens = self
            .issue_pair(user, Some(&session_id), refresh_ttl, now)
            .await?;
        let mut session = SessionRecord {
            id: session_id.clone(),
            user_id: user.core.id.clone(),
            expires_at: tokens.refresh_expires_at,
            ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
            created_at: now,
        };
        self.hooks.modify_session(&mut session, user).await?;
        self.inner
            .store
            .start_session(&session, &tokens.refresh_jti)
            .await?;
        Ok(SignIn {
            user_id: user.core.id.clone(),
            session_id,
            tokens,
        })
    }

    /// Issues a pair for `user`, running `modify_jwt` on each token's claims when hooks
    /// are set.
    async fn issue_pair(
        &self,
        user: &UserRecord<U>,
        session_id: Option<&str>,
        refresh_ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<IssuedPair, AuthError> {
        let signer = &self.inner.signer;
        if !self.hooks.is_set() {
            return Ok(signer.issue_pair(subject_of(user), session_id, refresh_ttl, now)?);
        }
        let (access, refresh) = signer.pair_claims(subject_of(user), session_id, refresh_ttl, now);
        let access_token = self.sign_modified(&access, user).await?;
        let refresh_token = self.sign_modified(&refresh, user).await?;
        Ok(signer.assemble_pair(access_token, refresh_token, &refresh, refresh_ttl, now))
    }

    /// Signs `claims` after `modify_jwt` changed them.
    async fn sign_modified(
        &self,
        claims: &Claims,
        user: &UserRecord<U>,
    ) -> Result<String, AuthError> {
        let mut object: serde_json::Map<String, serde_json::Value> = serde_json::to_value(claims)
            .and_then(serde_json::from_value)
            .map_err(jsonwebtoken::errors::Error::from)?;
        self.hooks.modify_jwt(&mut object, user).await?;
        Ok(self.inner.signer.sign(&object)?)
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

impl<U: AuthUser, D: crate::store::state::StateDialect, const P: u32, R: DeclaredRoles>
    Auth<U, crate::store::SqlStore<U, D>, P, R>
{
    /// Builds the service on a SQL connection pool: `SqlitePool`, `PgPool` or `MySqlPool`,
    /// matching the declaration's `database`. The lockout counters, and the other
    /// short-lived state unless the configuration names a state store, live in the same
    /// database ([`crate::store::SqlStateStore`]).
    pub fn with_pool(pool: D::Pool, mut config: AuthConfig) -> Result<Self, BuildError> {
        let database_state: Arc<dyn StateStore> = Arc::new(D::state_store(&pool));
        if config.state_store.is_none() {
            config.state_store = Some(Arc::clone(&database_state));
        }
        if config.lockout_store.is_none() {
            config.lockout_store = Some(database_state);
        }
        Self::new(crate::store::SqlStore::new(pool)?, config)
    }
}
