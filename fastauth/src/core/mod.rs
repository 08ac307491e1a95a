//! Core logic: passwords, tokens, configuration and the sign-in flows. Knows no web
//! framework; the `http` layer adapts it.

pub mod config;
pub mod cookies;
pub mod hooks;
pub mod keys;
pub mod limits;
pub(crate) mod one_time;
pub mod password;
pub mod rbac;
pub mod security;
pub mod token;

use crate::store::StoreError;

impl From<limits::Refusal> for AuthError {
    fn from(refusal: limits::Refusal) -> Self {
        match refusal {
            limits::Refusal::Locked(retry_after) => Self::AccountLocked { retry_after },
            limits::Refusal::RateLimited(retry_after) => Self::RateLimited { retry_after },
        }
    }
}

/// Why a sign-in flow failed. The `http` layer turns each variant into the contract's
/// status code and `detail` text.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown address, wrong password, or an account without a password.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The account exists but `is_active` is false.
    #[error("account is deactivated")]
    AccountDeactivated,
    /// Registration with an address that is taken.
    #[error("a user with this email already exists")]
    EmailTaken,
    /// The new password breaks a rule; the message is the API's `detail`.
    #[error("{0}")]
    PasswordPolicy(String),
    /// No usable access token.
    #[error("not authenticated")]
    NotAuthenticated,
    /// The refresh token is invalid, of another type, or its user or session is gone.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// A refresh token that was already used or revoked was presented again.
    #[error("refresh token has already been used")]
    RefreshTokenReused,
    /// The store keeps no roles.
    #[error("RBAC is not configured")]
    RolesNotConfigured,
    /// A role of this name exists already.
    #[error("role already exists")]
    RoleExists,
    /// No role has this name.
    #[error("role not found")]
    RoleNotFound,
    /// No user has this id.
    #[error("user not found")]
    UserNotFound,
    /// The session is unknown, expired, or another user's.
    #[error("session not found")]
    SessionNotFound,
    /// A token to revoke fails verification.
    #[error("invalid token")]
    InvalidToken,
    /// A token to revoke is an access token.
    #[error("only refresh tokens can be revoked")]
    NotRefreshToken,
    /// A token to revoke belongs to another user.
    #[error("cannot revoke another user's token")]
    ForeignToken,
    /// A role name or permission breaks a limit; the message says which.
    #[error("{0}")]
    InvalidName(&'static str),
    /// The `allow_signin` hook rejected the sign-in.
    #[error("sign in not allowed")]
    SignInNotAllowed,
    /// The `allow_signin` hook rejected a sign-in by link (magic link, OAuth, passkey),
    /// which the contract reports with its own wording.
    #[error("sign-in not allowed")]
    LinkSignInNotAllowed,
    /// A hook returned an error.
    #[error("hook `{hook}` failed: {source}")]
    Hook {
        /// The hook's name, like `on_signin`.
        hook: &'static str,
        /// The error the hook returned.
        #[source]
        source: hooks::HookError,
    },
    /// Too many failed logins for this address: it is locked for `retry_after`.
    #[error("account is locked for {} more seconds", retry_after.as_secs())]
    AccountLocked {
        /// The time until the lock expires.
        retry_after: std::time::Duration,
    },
    /// A rate limit of the route is exhausted for `retry_after`.
    #[error("too many requests: retry in {} seconds", retry_after.as_secs())]
    RateLimited {
        /// The time until the window ends.
        retry_after: std::time::Duration,
    },
    /// A verification token is unknown, expired, used, or of another kind.
    #[error("invalid or expired verification token")]
    InvalidVerificationToken,
    /// A password-reset token is unknown, expired, used, or of another kind.
    #[error("invalid or expired reset token")]
    InvalidResetToken,
    /// An address-change token is unknown, expired, used, or of another kind.
    #[error("invalid or expired token")]
    InvalidOneTimeToken,
    /// The current password sent to change it is wrong, or the account has none.
    #[error("current password is incorrect")]
    CurrentPasswordIncorrect,
    /// The password sent to confirm an account change is wrong, or the account has none.
    #[error("password is incorrect")]
    PasswordIncorrect,
    /// Another account has the address.
    #[error("email is already in use")]
    EmailInUse,
    /// A password-less account must have signed in recently to delete itself.
    #[error("please sign in again to confirm")]
    SignInAgain,
    /// A magic link is unknown, expired, used, or its account is gone.
    #[error("invalid or expired magic link")]
    InvalidMagicLink,
    /// A magic link's account is deactivated.
    #[error("account is inactive")]
    AccountInactive,
    /// Verification-required mode: the account's address is not verified.
    #[error("email not verified")]
    EmailNotVerified,
    /// An OAuth flow was refused.
    #[cfg(feature = "oauth")]
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] password::HashError),
    /// Signing a token failed.
    #[error("signing a token failed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}
