//! Lifecycle hooks: application code that runs at fixed points of the sign-in flows.
//!
//! An application implements [`AuthHooks`] for a type of its own, overriding only the hooks
//! it needs, and passes it to [`crate::Auth::with_hooks`]. Every flow calls the hooks through
//! one [`HookRunner`], so a flow added later (e-mail links, OAuth, passkeys) fires them the
//! same way.
//!
//! A hook that returns an error aborts the request with `500 Internal Server Error`. What the
//! flow did before the hook ran (an account created, a refresh token consumed) is not undone.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use super::AuthError;
use crate::store::{SessionRecord, UserRecord};
use crate::user::AuthUser;

const CORE: &str = "fastauth::core";

/// The claims a `modify_jwt` hook must leave unchanged: the allowlist, the session check and
/// the expiry that fastauth records are computed from them.
pub const PROTECTED_CLAIMS: [&str; 6] = ["sub", "jti", "type", "sid", "iat", "exp"];

/// A hook failed. The request that ran it returns 500, and the cause goes to the log.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HookError(Box<dyn std::error::Error + Send + Sync>);

impl HookError {
    /// Wraps the error a hook ran into.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// The result of a hook.
pub type HookResult<T = ()> = Result<T, HookError>;

/// A passkey, as the passkey hooks see it: ids and the name, never the public key.
#[derive(Debug, Clone)]
pub struct PasskeyInfo {
    /// The credential id, base64url without padding.
    pub credential_id: String,
    /// The name the user gave the passkey.
    pub name: Option<String>,
}

/// Code an application runs at the lifecycle events of its users. Every method has a no-op
/// default, and `allow_signin` allows every sign-in by default.
///
/// Implement the methods with `async fn`:
///
/// ```
/// use fastauth::core::hooks::{AuthHooks, HookResult};
/// use fastauth::store::UserRecord;
///
/// # #[derive(fastauth::AuthUser, Clone, Debug)]
/// # struct User {
/// #     #[auth(id)] id: String,
/// #     #[auth(email)] email: String,
/// #     #[auth(password_hash)] password_hash: Option<String>,
/// # }
/// struct Audit;
///
/// impl AuthHooks<User> for Audit {
///     async fn on_signin(&self, user: &UserRecord<User>, provider: &str) -> HookResult {
///         tracing::info!(user_id = %user.core.id, provider, "signed in");
///         Ok(())
///     }
///
///     async fn modify_jwt(
///         &self,
///         claims: &mut serde_json::Map<String, serde_json::Value>,
///         _user: &UserRecord<User>,
///     ) -> HookResult {
///         claims.insert("tenant".into(), "acme".into());
///         Ok(())
///     }
/// }
/// ```
pub trait AuthHooks<U: AuthUser>: Send + Sync + 'static {
    /// Runs when an account is created (`POST /auth/register`), after its default role
    /// is assigned and before its first tokens are issued.
    fn on_signup(&self, user: &UserRecord<U>) -> impl Future<Output = HookResult> + Send {
        let _ = user;
        async { Ok(()) }
    }

    /// Runs when a sign-in succeeded. `provider` is `"credentials"` for `POST /auth/login`.
    /// It runs before the tokens are issued, and never for registration or refresh.
    fn on_signin(
        &self,
        user: &UserRecord<U>,
        provider: &str,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (user, provider);
        async { Ok(()) }
    }

    /// Runs at `POST /auth/logout`, before the session is revoked.
    fn on_signout(&self, user: &UserRecord<U>) -> impl Future<Output = HookResult> + Send {
        let _ = user;
        async { Ok(()) }
    }

    /// Runs at `POST /auth/refresh`, after the old refresh token is consumed and before the
    /// new pair is issued.
    fn on_token_refresh(&self, user: &UserRecord<U>) -> impl Future<Output = HookResult> + Send {
        let _ = user;
        async { Ok(()) }
    }

    /// Runs when the verified flag of an address is set by a verification link, a magic
    /// link or an OAuth sign-in.
    fn on_email_verify(&self, user: &UserRecord<U>) -> impl Future<Output = HookResult> + Send {
        let _ = user;
        async { Ok(()) }
    }

    /// Runs when `POST /auth/reset-password` succeeded.
    fn on_password_reset(&self, user: &UserRecord<U>) -> impl Future<Output = HookResult> + Send {
        let _ = user;
        async { Ok(()) }
    }

    /// Runs when a provider account was linked to a signed-in user (never on OAuth sign-in).
    fn on_oauth_link(
        &self,
        user: &UserRecord<U>,
        provider: &str,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (user, provider);
        async { Ok(()) }
    }

    /// Runs after a magic-link e-mail was handed to the transport. `user` is the account of
    /// that address when it exists already.
    fn on_magic_link_sent(
        &self,
        email: &str,
        user: Option<&UserRecord<U>>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (email, user);
        async { Ok(()) }
    }

    /// Runs when a passkey was registered.
    fn on_passkey_registered(
        &self,
        user: &UserRecord<U>,
        passkey: &PasskeyInfo,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (user, passkey);
        async { Ok(()) }
    }

    /// Runs when a passkey was deleted.
    fn on_passkey_deleted(
        &self,
        user: &UserRecord<U>,
        passkey: &PasskeyInfo,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (user, passkey);
        async { Ok(()) }
    }

    /// Runs after an account was deleted, with the id it had.
    fn on_account_deleted(&self, user_id: &str) -> impl Future<Output = HookResult> + Send {
        let _ = user_id;
        async { Ok(()) }
    }

    /// Decides whether a user whose credentials are valid may sign in. `false` rejects the
    /// sign-in with 403 before any token is issued or `on_signin` runs. Consulted by login,
    /// never by registration or refresh.
    fn allow_signin(
        &self,
        user: &UserRecord<U>,
        provider: &str,
    ) -> impl Future<Output = HookResult<bool>> + Send {
        let _ = (user, provider);
        async { Ok(true) }
    }

    /// Changes the claims of a token before it is signed: runs once for the access token and
    /// once for the refresh token of every pair (the `type` claim distinguishes them). It may
    /// add claims or change any claim except [`PROTECTED_CLAIMS`]; changing one of those
    /// fails the request.
    fn modify_jwt(
        &self,
        claims: &mut Map<String, Value>,
        user: &UserRecord<U>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (claims, user);
        async { Ok(()) }
    }

    /// Changes a session record before it is stored, for instance to drop or shorten the
    /// client's address. Changes to `id`, `user_id`, `created_at` and `expires_at` are
    /// ignored, because the tokens already name the session and carry its expiry.
    fn modify_session(
        &self,
        session: &mut SessionRecord,
        user: &UserRecord<U>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (session, user);
        async { Ok(()) }
    }
}

/// No hooks: every default.
impl<U: AuthUser> AuthHooks<U> for () {}

/// [`AuthHooks`] behind a pointer: the same methods returning boxed futures.
trait DynHooks<U>: Send + Sync {
    fn on_signup<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult>;
    fn on_signin<'a>(&'a self, user: &'a UserRecord<U>, p: &'a str) -> BoxFuture<'a, HookResult>;
    fn on_signout<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult>;
    fn on_token_refresh<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult>;
    fn on_email_verify<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult>;
    fn on_password_reset<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult>;
    fn on_oauth_link<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        provider: &'a str,
    ) -> BoxFuture<'a, HookResult>;
    fn on_magic_link_sent<'a>(
        &'a self,
        email: &'a str,
        user: Option<&'a UserRecord<U>>,
    ) -> BoxFuture<'a, HookResult>;
    fn on_passkey_registered<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        passkey: &'a PasskeyInfo,
    ) -> BoxFuture<'a, HookResult>;
    fn on_passkey_deleted<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        passkey: &'a PasskeyInfo,
    ) -> BoxFuture<'a, HookResult>;
    fn on_account_deleted<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, HookResult>;
    fn allow_signin<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        provider: &'a str,
    ) -> BoxFuture<'a, HookResult<bool>>;
    fn modify_jwt<'a>(
        &'a self,
        claims: &'a mut Map<String, Value>,
        user: &'a UserRecord<U>,
    ) -> BoxFuture<'a, HookResult>;
    fn modify_session<'a>(
        &'a self,
        session: &'a mut SessionRecord,
        user: &'a UserRecord<U>,
    ) -> BoxFuture<'a, HookResult>;
}

impl<U: AuthUser, H: AuthHooks<U>> DynHooks<U> for H {
    fn on_signup<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_signup(self, user))
    }

    fn on_signin<'a>(&'a self, user: &'a UserRecord<U>, p: &'a str) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_signin(self, user, p))
    }

    fn on_signout<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_signout(self, user))
    }

    fn on_token_refresh<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_token_refresh(self, user))
    }

    fn on_email_verify<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_email_verify(self, user))
    }

    fn on_password_reset<'a>(&'a self, user: &'a UserRecord<U>) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_password_reset(self, user))
    }

    fn on_oauth_link<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        provider: &'a str,
    ) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_oauth_link(self, user, provider))
    }

    fn on_magic_link_sent<'a>(
        &'a self,
        email: &'a str,
        user: Option<&'a UserRecord<U>>,
    ) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_magic_link_sent(self, email, user))
    }

    fn on_passkey_registered<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        passkey: &'a PasskeyInfo,
    ) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_passkey_registered(self, user, passkey))
    }

    fn on_passkey_deleted<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        passkey: &'a PasskeyInfo,
    ) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_passkey_deleted(self, user, passkey))
    }

    fn on_account_deleted<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::on_account_deleted(self, user_id))
    }

    fn allow_signin<'a>(
        &'a self,
        user: &'a UserRecord<U>,
        provider: &'a str,
    ) -> BoxFuture<'a, HookResult<bool>> {
        Box::pin(AuthHooks::allow_signin(self, user, provider))
    }

    fn modify_jwt<'a>(
        &'a self,
        claims: &'a mut Map<String, Value>,
        user: &'a UserRecord<U>,
    ) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::modify_jwt(self, claims, user))
    }

    fn modify_session<'a>(
        &'a self,
        session: &'a mut SessionRecord,
        user: &'a UserRecord<U>,
    ) -> BoxFuture<'a, HookResult> {
        Box::pin(AuthHooks::modify_session(self, session, user))
    }
}

/// The one place the flows call hooks from: it skips everything when no hooks are set, and
/// turns a failing hook into [`AuthError::Hook`] after logging it.
pub struct HookRunner<U> {
    hooks: Option<Arc<dyn DynHooks<U>>>,
}

impl<U> Clone for HookRunner<U> {
    fn clone(&self) -> Self {
        Self {
            hooks: self.hooks.clone(),
        }
    }
}

impl<U> Default for HookRunner<U> {
    fn default() -> Self {
        Self { hooks: None }
    }
}

impl<U> std::fmt::Debug for HookRunner<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookRunner")
            .field("set", &self.hooks.is_some())
            .finish()
    }
}

/// Logs a failed hook and turns it into the error that aborts the request.
fn failed(hook: &'static str, user_id: Option<&str>, error: HookError) -> AuthError {
    tracing::error!(target: CORE, hook, user_id, %error, "hook failed: the request is aborted");
    AuthError::Hook {
        hook,
        source: error,
    }
}

impl<U: AuthUser> HookRunner<U> {
    /// Runs `hooks` from now on.
    pub(crate) fn new(hooks: impl AuthHooks<U>) -> Self {
        Self {
            hooks: Some(Arc::new(hooks)),
        }
    }

    /// Returns whether hooks are set.
    pub fn is_set(&self) -> bool {
        self.hooks.is_some()
    }

    /// Runs `on_signup`.
    pub async fn signup(&self, user: &UserRecord<U>) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_signup(user)
            .await
            .map_err(|e| failed("on_signup", id, e))
    }

    /// Runs `on_signin`.
    pub async fn signin(&self, user: &UserRecord<U>, provider: &str) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_signin(user, provider)
            .await
            .map_err(|e| failed("on_signin", id, e))
    }

    /// Runs `on_signout`.
    pub async fn signout(&self, user: &UserRecord<U>) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_signout(user)
            .await
            .map_err(|e| failed("on_signout", id, e))
    }

    /// Runs `on_token_refresh`.
    pub async fn token_refresh(&self, user: &UserRecord<U>) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_token_refresh(user)
            .await
            .map_err(|e| failed("on_token_refresh", id, e))
    }

    /// Runs `on_email_verify`.
    pub async fn email_verify(&self, user: &UserRecord<U>) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_email_verify(user)
            .await
            .map_err(|e| failed("on_email_verify", id, e))
    }

    /// Runs `on_password_reset`.
    pub async fn password_reset(&self, user: &UserRecord<U>) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_password_reset(user)
            .await
            .map_err(|e| failed("on_password_reset", id, e))
    }

    /// Runs `on_oauth_link`.
    pub async fn oauth_link(&self, user: &UserRecord<U>, provider: &str) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_oauth_link(user, provider)
            .await
            .map_err(|e| failed("on_oauth_link", id, e))
    }

    /// Runs `on_magic_link_sent`.
    pub async fn magic_link_sent(
        &self,
        email: &str,
        user: Option<&UserRecord<U>>,
    ) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = user.map(|u| u.core.id.as_str());
        hooks
            .on_magic_link_sent(email, user)
            .await
            .map_err(|e| failed("on_magic_link_sent", id, e))
    }

    /// Runs `on_passkey_registered`.
    pub async fn passkey_registered(
        &self,
        user: &UserRecord<U>,
        passkey: &PasskeyInfo,
    ) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_passkey_registered(user, passkey)
            .await
            .map_err(|e| failed("on_passkey_registered", id, e))
    }

    /// Runs `on_passkey_deleted`.
    pub async fn passkey_deleted(
        &self,
        user: &UserRecord<U>,
        passkey: &PasskeyInfo,
    ) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        hooks
            .on_passkey_deleted(user, passkey)
            .await
            .map_err(|e| failed("on_passkey_deleted", id, e))
    }

    /// Runs `on_account_deleted`.
    pub async fn account_deleted(&self, user_id: &str) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        hooks
            .on_account_deleted(user_id)
            .await
            .map_err(|e| failed("on_account_deleted", Some(user_id), e))
    }

    /// Runs `allow_signin`; `true` without hooks.
    pub async fn allow_signin(
        &self,
        user: &UserRecord<U>,
        provider: &str,
    ) -> Result<bool, AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(true);
        };
        let id = Some(user.core.id.as_str());
        hooks
            .allow_signin(user, provider)
            .await
            .map_err(|e| failed("allow_signin", id, e))
    }

    /// Runs `modify_jwt` on the claims of one token, and checks that it left the
    /// [`PROTECTED_CLAIMS`] as they were.
    pub async fn modify_jwt(
        &self,
        claims: &mut Map<String, Value>,
        user: &UserRecord<U>,
    ) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        let before: Vec<Option<Value>> = PROTECTED_CLAIMS
            .iter()
            .map(|name| claims.get(*name).cloned())
            .collect();
        hooks
            .modify_jwt(claims, user)
            .await
            .map_err(|e| failed("modify_jwt", id, e))?;
        for (name, old) in PROTECTED_CLAIMS.iter().zip(before) {
            if claims.get(*name) != old.as_ref() {
                let message = format!("the hook changed the protected claim `{name}`");
                return Err(failed("modify_jwt", id, HookError::new(message)));
            }
        }
        Ok(())
    }

    /// Runs `modify_session` and restores the fields the hook may not change.
    pub async fn modify_session(
        &self,
        session: &mut SessionRecord,
        user: &UserRecord<U>,
    ) -> Result<(), AuthError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let id = Some(user.core.id.as_str());
        let original = session.clone();
        hooks
            .modify_session(session, user)
            .await
            .map_err(|e| failed("modify_session", id, e))?;
        session.id = original.id;
        session.user_id = original.user_id;
        session.created_at = original.created_at;
        session.expires_at = original.expires_at;
        Ok(())
    }
}
