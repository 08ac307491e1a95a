//! The flows that run through an inbox: address verification, password reset, address
//! change, and the account changes that end every session.

use minijinja::context;
use time::OffsetDateTime;

use super::{Auth, CORE, SECURITY};
use crate::core::AuthError;
use crate::core::limits;
use crate::core::one_time;
use crate::core::password::Verified;
use crate::core::rbac::DeclaredRoles;
use crate::core::security::{SecurityEvent, SecurityEventKind as Kind};
use crate::mail::MailKind;
use crate::store::{OneTimeKind, OneTimeToken, Store, StoreError, UserCore};
use crate::user::AuthUser;

/// How long after signing in a password-less account may delete itself.
const RECENT_SIGN_IN: time::Duration = time::Duration::minutes(5);

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// Creates a verification token for `user` and e-mails its link to the account
    /// address. Earlier verification tokens stay valid.
    pub async fn request_verification(&self, user: &UserCore) -> Result<(), AuthError> {
        let raw = self
            .create_one_time(OneTimeKind::Verification, &user.id, None)
            .await?;
        let url = self.link("/verify-email", &raw);
        let minutes = self.lifetime_minutes(OneTimeKind::Verification);
        let context = context! { name => display_name(user), url, expires_in_minutes => minutes };
        self.send_mail(MailKind::Verification, &user.email, &user.id, context);
        Ok(())
    }

    /// Sends a new verification link to `email` when it names an active, unverified
    /// account, and does nothing otherwise. The caller responds the same in both cases.
    pub async fn request_verification_by_email(&self, email: &str) -> Result<(), AuthError> {
        let record = self.inner.store.find_user_by_email(email).await?;
        match record {
            Some(record) if record.core.active && !record.core.email_verified => {
                self.request_verification(&record.core).await
            }
            _ => {
                tracing::info!(target: CORE, "verification request for no unverified account");
                Ok(())
            }
        }
    }

    /// Redeems a verification token: the owner's address becomes verified.
    pub async fn verify_email(&self, raw: &str) -> Result<String, AuthError> {
        let token = self
            .consume_one_time(OneTimeKind::Verification, raw)
            .await?
            .ok_or(AuthError::InvalidVerificationToken)?;
        let store = &self.inner.store;
        let Some(mut record) = store.find_user_by_id(&token.user_id).await? else {
            return Err(AuthError::InvalidVerificationToken);
        };
        if !record.core.email_verified && self.drop_unproven_links(&token.user_id).await? > 0 {
            // The person who signed in through those links has sessions too.
            self.end_every_session(&token.user_id, "unproven OAuth links removed")
                .await?;
        }
        store.set_email_verified(&token.user_id, true).await?;
        record.core.email_verified = true;
        tracing::info!(target: CORE, user_id = %token.user_id, "email verified");
        self.hooks().email_verify(&record).await?;
        Ok(token.user_id)
    }

    /// Creates a password-reset token and e-mails its link when `email` names an active
    /// account, and does nothing otherwise. The caller responds the same in both cases.
    pub async fn forgot_password(&self, email: &str) -> Result<(), AuthError> {
        let Some(record) = self.inner.store.find_user_by_email(email).await? else {
            tracing::info!(target: CORE, "password reset requested for an unknown address");
            return Ok(());
        };
        let user = &record.core;
        if !user.active {
            tracing::info!(
                target: CORE,
                user_id = %user.id,
                "password reset requested for a deactivated account: nothing sent"
            );
            return Ok(());
        }
        // NOTE: the token insert runs before the response, so a request for an existing
        // account takes one database write longer than for an unknown address.
        let raw = self
            .create_one_time(OneTimeKind::PasswordReset, &user.id, None)
            .await?;
        let url = self.link("/reset-password", &raw);
        let minutes = self.lifetime_minutes(OneTimeKind::PasswordReset);
        let context = context! { name => display_name(user), url, expires_in_minutes => minutes };
        self.send_mail(MailKind::PasswordReset, &user.email, &user.id, context);
        tracing::info!(target: CORE, user_id = %user.id, "password reset requested");
        Ok(())
    }

    /// Redeems a password-reset token: sets the new password, deletes every other reset
    /// token of the user, and ends every session and refresh token. The password rules are
    /// checked first, so a rejected password leaves the token usable.
    pub async fn reset_password(&self, raw: &str, new_password: &str) -> Result<(), AuthError> {
        let inner = &self.inner;
        inner
            .config
            .password
            .check(new_password)
            .map_err(AuthError::PasswordPolicy)?;
        let token = self
            .consume_one_time(OneTimeKind::PasswordReset, raw)
            .await?
            .ok_or(AuthError::InvalidResetToken)?;
        let Some(record) = inner.store.find_user_by_id(&token.user_id).await? else {
            return Err(AuthError::InvalidResetToken);
        };

        let hash = inner.hasher.hash(new_password).await?;
        inner
            .store
            .update_password_hash(&token.user_id, &hash)
            .await?;
        inner
            .store
            .delete_one_time_tokens(&token.user_id, OneTimeKind::PasswordReset)
            .await?;
        self.end_every_session(&token.user_id, "password reset")
            .await?;
        if !record.core.email_verified {
            self.drop_unproven_links(&token.user_id).await?;
        }

        // The reset link proves control of the address, so earlier failed logins no longer
        // count against it.
        limits::clear_lockout(&*inner.lockout_state, &record.core.email).await?;
        let event = SecurityEvent::new(Kind::PasswordReset).user(&token.user_id);
        self.security_events().emit(event).await;
        self.hooks().password_reset(&record).await?;
        Ok(())
    }

    /// Changes the password of a signed-in user who knows the current one, and ends every
    /// session, the caller's included.
    pub async fn change_password(
        &self,
        user: &UserCore,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), AuthError> {
        let inner = &self.inner;
        if !self.password_matches(user, current_password).await? {
            tracing::info!(target: CORE, user_id = %user.id, "password change: wrong password");
            return Err(AuthError::CurrentPasswordIncorrect);
        }
        inner
            .config
            .password
            .check(new_password)
            .map_err(AuthError::PasswordPolicy)?;
        let hash = inner.hasher.hash(new_password).await?;
        inner.store.update_password_hash(&user.id, &hash).await?;
        self.end_every_session(&user.id, "password changed").await?;
        let event = SecurityEvent::new(Kind::PasswordChanged).user(&user.id);
        self.security_events().emit(event).await;
        Ok(())
    }

    /// Starts an address change: checks the password and that no other account has
    /// `new_email` (normalised), then e-mails a confirmation link to the new address.
    pub async fn request_email_change(
        &self,
        user: &UserCore,
        new_email: &str,
        password: &str,
    ) -> Result<(), AuthError> {
        if !self.password_matches(user, password).await? {
            tracing::info!(target: CORE, user_id = %user.id, "email change: wrong password");
            return Err(AuthError::PasswordIncorrect);
        }
        let holder = self.inner.store.find_user_by_email(new_email).await?;
        if holder.is_some_and(|holder| holder.core.id != user.id) {
            return Err(AuthError::EmailInUse);
        }
        let data = Some(new_email.to_owned());
        let raw = self
            .create_one_time(OneTimeKind::EmailChange, &user.id, data)
            .await?;
        let url = self.link("/account/confirm-email-change", &raw);
        let minutes = self.lifetime_minutes(OneTimeKind::EmailChange);
        let context = context! {
            name => display_name(user),
            new_email,
            url,
            expires_in_minutes => minutes,
        };
        self.send_mail(MailKind::EmailChange, new_email, &user.id, context);
        tracing::info!(target: CORE, user_id = %user.id, "email change requested");
        Ok(())
    }

    /// Redeems an address-change token: the account moves to the new, verified address,
    /// every pending change token of the user is deleted, every session ends, and the
    /// previous address receives a notice.
    pub async fn confirm_email_change(&self, raw: &str) -> Result<(), AuthError> {
        let store = &self.inner.store;
        let token = self
            .consume_one_time(OneTimeKind::EmailChange, raw)
            .await?
            .ok_or(AuthError::InvalidOneTimeToken)?;
        let Some(new_email) = token.email else {
            return Err(AuthError::InvalidOneTimeToken);
        };
        let Some(record) = store.find_user_by_id(&token.user_id).await? else {
            return Err(AuthError::InvalidOneTimeToken);
        };
        match store.update_email(&token.user_id, &new_email).await {
            Err(StoreError::DuplicateEmail) => return Err(AuthError::EmailInUse),
            other => other?,
        }
        store
            .delete_one_time_tokens(&token.user_id, OneTimeKind::EmailChange)
            .await?;
        self.end_every_session(&token.user_id, "email changed")
            .await?;
        let event = SecurityEvent::new(Kind::EmailChanged).user(&token.user_id);
        self.security_events().emit(event).await;

        let old = &record.core;
        let context = context! {
            name => display_name(old),
            old_email => old.email.as_str(),
            new_email => new_email.as_str(),
        };
        self.send_mail(MailKind::EmailChanged, &old.email, &old.id, context);
        Ok(())
    }

    /// Sets the display name and the avatar URL; `None` leaves a field unchanged.
    pub async fn update_profile(
        &self,
        user_id: &str,
        name: Option<&str>,
        image: Option<&str>,
    ) -> Result<UserCore, AuthError> {
        let store = &self.inner.store;
        store.update_profile(user_id, name, image).await?;
        let record = store
            .find_user_by_id(user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        tracing::info!(target: CORE, user_id, "profile updated");
        Ok(record.core)
    }

    /// Deletes the caller's account and everything attached to it. An account with a
    /// password must send it; one without may delete itself within five minutes of
    /// signing in to the session `session_id`.
    pub async fn delete_account(
        &self,
        user: &UserCore,
        session_id: Option<&str>,
        password: Option<&str>,
    ) -> Result<(), AuthError> {
        let store = &self.inner.store;
        if user.password_hash.is_some() {
            let password = password.unwrap_or_default();
            if !self.password_matches(user, password).await? {
                tracing::info!(target: CORE, user_id = %user.id, "account deletion: wrong password");
                return Err(AuthError::PasswordIncorrect);
            }
        } else {
            let now = OffsetDateTime::now_utc();
            let sessions = store.list_sessions(&user.id, now).await?;
            let recent = session_id.is_some_and(|sid| {
                sessions
                    .iter()
                    .any(|s| s.id == sid && now - s.created_at < RECENT_SIGN_IN)
            });
            if !recent {
                return Err(AuthError::SignInAgain);
            }
        }
        if Self::has_provider(crate::provider::OAUTH) && store.supports_oauth() {
            store.delete_user_oauth_accounts(&user.id).await?;
        }
        store.delete_user(&user.id).await?;
        let event = SecurityEvent::new(Kind::AccountDeleted).user(&user.id);
        self.security_events().emit(event).await;
        self.hooks().account_deleted(&user.id).await?;
        Ok(())
    }

    /// Checks `password` against the user's hash; an account without a password never
    /// matches, after the same work as a wrong password.
    async fn password_matches(&self, user: &UserCore, password: &str) -> Result<bool, AuthError> {
        if password.chars().count() > self.inner.config.password.max_length {
            return Ok(false);
        }
        let verified = self
            .inner
            .hasher
            .verify(password, user.password_hash.as_deref())
            .await?;
        let matches = user.password_hash.is_some()
            && matches!(verified, Verified::Yes | Verified::YesRehashed(_));
        Ok(matches)
    }

    /// Revokes every refresh token and session of a user.
    pub(crate) async fn end_every_session(
        &self,
        user_id: &str,
        reason: &'static str,
    ) -> Result<(), AuthError> {
        let store = &self.inner.store;
        let tokens = store.revoke_user_refresh_tokens(user_id).await?;
        let sessions = store.delete_user_sessions(user_id).await?;
        tracing::info!(
            target: SECURITY,
            user_id,
            reason,
            sessions_revoked = sessions,
            refresh_tokens_revoked = tokens,
            "every session of the user was ended"
        );
        Ok(())
    }

    /// Removes every OAuth link of an account whose address was just proven for the first
    /// time, and returns how many there were. Links made before the proof came from a
    /// provider that did not vouch for the address, or from a link flow of the account's
    /// holder then, so they may belong to someone who never owned the address.
    pub(crate) async fn drop_unproven_links(&self, user_id: &str) -> Result<u64, AuthError> {
        let store = &self.inner.store;
        if !Self::has_provider(crate::provider::OAUTH) || !store.supports_oauth() {
            return Ok(0);
        }
        let dropped = store.delete_user_oauth_accounts(user_id).await?;
        if dropped > 0 {
            tracing::warn!(
                target: SECURITY,
                user_id,
                links_removed = dropped,
                "OAuth links made before the address was proven were removed"
            );
            let event = SecurityEvent::new(Kind::OAuthUnlinked)
                .user(user_id)
                .reason("made before the address was proven");
            self.security_events().emit(event).await;
        }
        Ok(dropped)
    }

    /// Stores a new one-time token and returns its raw value for the link.
    pub(crate) async fn create_one_time(
        &self,
        kind: OneTimeKind,
        user_id: &str,
        email: Option<String>,
    ) -> Result<String, AuthError> {
        let token = one_time::generate();
        let lifetime = one_time::lifetime(kind, self.inner.config.magic_link_ttl);
        let expires_at = OffsetDateTime::now_utc() + lifetime;
        let record = OneTimeToken {
            user_id: user_id.to_owned(),
            email,
        };
        self.inner
            .store
            .create_one_time_token(&token.hash, kind, &record, expires_at)
            .await?;
        tracing::debug!(target: CORE, user_id, kind = kind.tag(), "one-time token created");
        Ok(token.raw)
    }

    /// Consumes a presented one-time token of `kind`; `None` when it is unknown, expired,
    /// used, or of another kind.
    pub(crate) async fn consume_one_time(
        &self,
        kind: OneTimeKind,
        raw: &str,
    ) -> Result<Option<OneTimeToken>, AuthError> {
        if raw.is_empty() || raw.len() > one_time::MAX_TOKEN_CHARS {
            return Ok(None);
        }
        let now = OffsetDateTime::now_utc();
        let token = self
            .inner
            .store
            .consume_one_time_token(&one_time::hash(raw), kind, now)
            .await?;
        if token.is_none() {
            tracing::info!(target: CORE, kind = kind.tag(), "one-time token rejected");
        }
        Ok(token)
    }

    /// Builds an e-mailed link: `{base}{prefix}{path}?token={raw}`.
    pub(crate) fn link(&self, path: &str, raw: &str) -> String {
        let config = &self.inner.config;
        format!("{}{}{path}?token={raw}", config.link_base(), config.prefix)
    }

    fn lifetime_minutes(&self, kind: OneTimeKind) -> u64 {
        one_time::lifetime(kind, self.inner.config.magic_link_ttl).as_secs() / 60
    }

    /// Renders a message and hands it to the transport after the current request: a failure
    /// is logged with the user id and never reaches the caller.
    pub(crate) fn send_mail(
        &self,
        kind: MailKind,
        to: &str,
        user_id: &str,
        context: minijinja::Value,
    ) {
        let Some(transport) = self.inner.config.mail.clone() else {
            tracing::debug!(target: CORE, user_id, ?kind, "no mail transport: nothing sent");
            return;
        };
        let message = match self.inner.templates.render(kind, to, context) {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(target: CORE, user_id, ?kind, %error, "rendering e-mail failed");
                return;
            }
        };
        let user_id = user_id.to_owned();
        tokio::spawn(async move {
            match transport.0.send(&message).await {
                Ok(()) => tracing::info!(target: CORE, user_id, ?kind, "e-mail sent"),
                Err(error) => {
                    tracing::error!(target: CORE, user_id, ?kind, %error, "sending e-mail failed");
                }
            }
        });
    }
}

/// Returns the `name` variable of the templates: the display name, or the address when the
/// name is missing or empty.
pub(crate) fn display_name(user: &UserCore) -> &str {
    user.name
        .as_deref()
        .filter(|name| !name.is_empty())
        .unwrap_or(&user.email)
}
