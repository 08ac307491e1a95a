//! Magic links: a sign-in link e-mailed to an address, and the deferred sign-up of an
//! address without an account.

use minijinja::context;
use time::OffsetDateTime;

use super::mail_flows::display_name;
use super::{Auth, CORE, ClientInfo, SECURITY, SignIn};
use crate::core::AuthError;
use crate::core::one_time;
use crate::core::rbac::DeclaredRoles;
use crate::core::security::{SecurityEvent, SecurityEventKind as Kind};
use crate::mail::MailKind;
use crate::store::{OneTimeKind, OneTimeToken, Store, StoreError, UserRecord};
use crate::user::{AuthUser, NewUser};

/// The provider name that hooks and security events receive for magic-link sign-ins.
const MAGIC_LINK: &str = "magic_link";

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// E-mails a sign-in link to `email` (normalised). An active account gets a link bound
    /// to it, and an address without an account gets a link that creates the account when
    /// used. A deactivated account gets nothing. The caller responds the same in every case.
    pub async fn request_magic_link(&self, email: &str) -> Result<(), AuthError> {
        let inner = &self.inner;
        let record = inner.store.find_user_by_email(email).await?;
        let token = one_time::generate();
        let ttl = inner.config.magic_link_ttl;
        let expires_at = OffsetDateTime::now_utc() + ttl;
        let (name, user_id) = match &record {
            Some(record) if !record.core.active => {
                tracing::info!(
                    target: CORE,
                    user_id = %record.core.id,
                    "magic link requested for a deactivated account: nothing sent"
                );
                return Ok(());
            }
            Some(record) => {
                let stored = OneTimeToken {
                    user_id: record.core.id.clone(),
                    email: Some(email.to_owned()),
                };
                inner
                    .store
                    .create_one_time_token(&token.hash, OneTimeKind::MagicLink, &stored, expires_at)
                    .await?;
                (
                    display_name(&record.core).to_owned(),
                    record.core.id.clone(),
                )
            }
            None => {
                inner
                    .store
                    .create_pending_magic_link(&token.hash, email, expires_at)
                    .await?;
                (email.to_owned(), String::new())
            }
        };
        let url = self.link("/magic-links/callback", &token.raw);
        let context = context! { name, url, expires_in_minutes => ttl.as_secs() / 60 };
        self.send_mail(MailKind::MagicLink, email, &user_id, context);
        self.hooks().magic_link_sent(email, record.as_ref()).await?;
        tracing::info!(
            target: CORE,
            user_id = (!user_id.is_empty()).then_some(user_id.as_str()),
            "magic link requested"
        );
        Ok(())
    }

    /// Redeems a magic link and signs its account in, creating the account first when the
    /// link was sent to an address without one. The address counts as verified from then
    /// on. An account registered with a password but never verified loses that password
    /// and its sessions, so a person who registered the address before its owner keeps no
    /// access.
    pub async fn magic_link_sign_in(
        &self,
        raw: &str,
        client: &ClientInfo,
    ) -> Result<SignIn, AuthError> {
        let mut record = self.redeem_magic_link(raw).await?;
        if !record.core.active {
            tracing::info!(target: CORE, user_id = %record.core.id, "magic link: account inactive");
            return Err(AuthError::AccountInactive);
        }
        if !record.core.email_verified {
            self.verify_by_magic_link(&mut record).await?;
        }
        if !self.hooks().allow_signin(&record, MAGIC_LINK).await? {
            let event = SecurityEvent::new(Kind::SignInFailed)
                .user(&record.core.id)
                .provider(MAGIC_LINK)
                .reason("rejected by the allow_signin hook");
            self.security_events().emit(event).await;
            return Err(AuthError::LinkSignInNotAllowed);
        }
        let sign_in = self
            .start_session(&record, self.inner.config.refresh_ttl, client)
            .await?;
        let event = SecurityEvent::new(Kind::SignInSucceeded)
            .user(&sign_in.user_id)
            .session(Some(&sign_in.session_id))
            .provider(MAGIC_LINK);
        self.security_events().emit(event).await;
        // After the pair is issued, as the contract orders it for magic links.
        self.hooks().signin(&record, MAGIC_LINK).await?;
        tracing::info!(
            target: CORE,
            user_id = %sign_in.user_id,
            session_id = %sign_in.session_id,
            "magic link sign-in succeeded"
        );
        Ok(sign_in)
    }

    /// Consumes the token and loads, or creates, its account.
    async fn redeem_magic_link(&self, raw: &str) -> Result<UserRecord<U>, AuthError> {
        let store = &self.inner.store;
        if raw.is_empty() || raw.len() > one_time::MAX_TOKEN_CHARS {
            return Err(AuthError::InvalidMagicLink);
        }
        let hash = one_time::hash(raw);
        let now = OffsetDateTime::now_utc();
        if let Some(token) = store
            .consume_one_time_token(&hash, OneTimeKind::MagicLink, now)
            .await?
        {
            return store
                .find_user_by_id(&token.user_id)
                .await?
                .ok_or(AuthError::InvalidMagicLink);
        }
        let Some(email) = store.consume_pending_magic_link(&hash, now).await? else {
            tracing::info!(target: CORE, "magic link rejected");
            return Err(AuthError::InvalidMagicLink);
        };
        // The address may have been registered since the link was sent.
        if let Some(record) = store.find_user_by_email(&email).await? {
            return Ok(record);
        }
        self.create_magic_link_account(email).await
    }

    async fn create_magic_link_account(&self, email: String) -> Result<UserRecord<U>, AuthError> {
        let store = &self.inner.store;
        let standard = NewUser {
            id: cuid2::create_id(),
            email,
            password_hash: None,
            name: None,
            image: None,
            email_verified: false,
            active: true,
            created_at: OffsetDateTime::now_utc(),
        };
        let user = user_without_form::<U>(&standard)?;
        let created = match store.create_user(&user, &standard).await {
            // Created concurrently by another request: sign in to that account.
            Err(StoreError::DuplicateEmail) => false,
            other => {
                other?;
                tracing::info!(target: CORE, user_id = %standard.id, "user created by magic link");
                self.grant_admin_on_signup(&standard).await?;
                true
            }
        };
        let record = store
            .find_user_by_email(&standard.email)
            .await?
            .ok_or(AuthError::InvalidMagicLink)?;
        if created {
            let event = SecurityEvent::new(Kind::AccountCreated)
                .user(&record.core.id)
                .provider(MAGIC_LINK);
            self.security_events().emit(event).await;
            self.hooks().signup(&record).await?;
        }
        Ok(record)
    }

    /// Marks the address verified. The account's earlier holder may not own the address,
    /// so an unverified password, every session and every OAuth link go.
    async fn verify_by_magic_link(&self, record: &mut UserRecord<U>) -> Result<(), AuthError> {
        self.revoke_unproven_access(record, "magic link").await?;
        let store = &self.inner.store;
        store.set_email_verified(&record.core.id, true).await?;
        record.core.email_verified = true;
        tracing::info!(target: CORE, user_id = %record.core.id, "email verified by magic link");
        self.hooks().email_verify(record).await?;
        Ok(())
    }

    /// Ends what the holder of an unverified account could use, because the address owner
    /// just proved control of it (by `proof`, like `magic link`): the password, every session
    /// and refresh token, and every OAuth link. The owner can set a password through
    /// forgot-password.
    pub(crate) async fn revoke_unproven_access(
        &self,
        record: &mut UserRecord<U>,
        proof: &'static str,
    ) -> Result<(), AuthError> {
        let store = &self.inner.store;
        let user_id = record.core.id.clone();
        let had_password = record.core.password_hash.is_some();
        if had_password {
            store.clear_password_hash(&user_id).await?;
            record.core.password_hash = None;
        }
        let links = self.drop_unproven_links(&user_id).await?;
        self.end_every_session(&user_id, "address proven by its owner")
            .await?;
        tracing::warn!(
            target: SECURITY,
            user_id,
            proof,
            password_removed = had_password,
            links_removed = links,
            "the unverified account's earlier access was revoked: the address owner proved control"
        );
        Ok(())
    }
}

/// Builds the struct of an account created without a registration form (by a magic link or
/// an OAuth sign-in): its `#[auth(register)]` fields take the values of an empty body.
// NOTE: a struct with a required register field (not an `Option`, no serde default) cannot
// be created this way, and the callback then returns 500.
pub(crate) fn user_without_form<U: AuthUser>(standard: &NewUser) -> Result<U, StoreError> {
    let register = serde_json::from_value(serde_json::json!({})).map_err(|error| {
        StoreError::Schema(format!(
            "the register fields have no value for an empty body: {error}"
        ))
    })?;
    Ok(U::new_user(standard, register)?)
}
