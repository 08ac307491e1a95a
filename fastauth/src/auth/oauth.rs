//! The OAuth flows: the authorization URL, the sign-in and link callbacks, and the links of
//! an account.

use time::OffsetDateTime;

use super::magic_link::user_without_form;
use super::{Auth, CORE, ClientInfo, SECURITY, SignIn};
use crate::core::AuthError;
use crate::core::rbac::DeclaredRoles;
use crate::core::security::{SecurityEvent, SecurityEventKind as Kind};
use crate::oauth::state::{self, StateRecord};
use crate::oauth::{AuthorizationRequest, OAuthError, Profile, Provider, STATE_TTL};
use crate::store::{OAuthAccount, Store, StoreError, UserRecord};
use crate::user::{AuthUser, MAX_IMAGE_CHARS, MAX_NAME_CHARS, NewUser};

/// The maximum length of a provider id repeated in a `not found` response, in characters.
const MAX_ECHOED_PROVIDER_CHARS: usize = 64;

/// The maximum length of a `redirect_uri` that is compared, because no allowed value is longer.
const MAX_REDIRECT_URI_CHARS: usize = 2048;

/// Returns a provider id from a path, cut for repeating in an error text.
fn echoed(id: &str) -> String {
    id.chars().take(MAX_ECHOED_PROVIDER_CHARS).collect()
}

/// The outcome of an OAuth sign-in, for the events and hooks that follow it.
struct Resolved<U> {
    record: UserRecord<U>,
    created: bool,
    newly_verified: bool,
}

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// Finds a provider that the declaration enables and the configuration sets up.
    fn oauth_provider(&self, id: &str) -> Result<Provider, AuthError> {
        match Provider::from_id(id) {
            Some(provider)
                if Self::has_provider(provider.bit())
                    && self.inner.oauth.is_configured(provider) =>
            {
                Ok(provider)
            }
            _ => Err(OAuthError::ProviderNotFound(echoed(id)).into()),
        }
    }

    /// Returns the server's own callback URL of a provider's sign-in or link flow.
    pub fn oauth_callback_url(&self, provider: Provider, link: bool) -> String {
        let config = &self.inner.config;
        let suffix = if link { "/link/callback" } else { "/callback" };
        format!(
            "{}{}/oauth/{}{suffix}",
            config.link_base(),
            config.prefix,
            provider.id()
        )
    }

    fn require_oauth_store(&self) -> Result<(), AuthError> {
        if self.inner.store.supports_oauth() {
            Ok(())
        } else {
            Err(StoreError::OAuthNotSupported.into())
        }
    }

    /// Starts a sign-in flow (`link_user` `None`) or a link flow for `link_user`: checks
    /// `redirect_uri`, stores the state record for [`crate::oauth::STATE_TTL`], and returns
    /// the provider's authorization URL.
    pub async fn oauth_authorization_url(
        &self,
        provider: &str,
        redirect_uri: &str,
        link_user: Option<&str>,
    ) -> Result<String, AuthError> {
        let provider = self.oauth_provider(provider)?;
        if link_user.is_some() {
            self.require_oauth_store()?;
        }

        let own_callback = self.oauth_callback_url(provider, link_user.is_some());
        let allowed = &self.inner.config.oauth.allowed_redirects;
        if redirect_uri.len() > MAX_REDIRECT_URI_CHARS
            || !state::redirect_allowed(redirect_uri, &own_callback, allowed)
        {
            tracing::info!(target: CORE, provider = provider.id(), "OAuth redirect_uri rejected");
            return Err(OAuthError::RedirectNotAllowed.into());
        }

        let state_value = state::new_state();
        let record = StateRecord::new(provider, redirect_uri, link_user);
        let request = AuthorizationRequest {
            state: &state_value,
            code_verifier: &record.code_verifier,
            nonce: record.nonce.as_deref(),
            redirect_uri,
        };
        let url = self
            .inner
            .oauth
            .authorization_url(provider, &request)
            .await?;

        let key = state::key(&state_value).ok_or(OAuthError::InvalidState)?;
        let json =
            serde_json::to_string(&record).map_err(|error| StoreError::Other(Box::new(error)))?;
        self.inner.state.set(&key, &json, STATE_TTL).await?;
        tracing::info!(
            target: CORE,
            provider = provider.id(),
            flow = if link_user.is_some() { "link" } else { "sign-in" },
            user_id = link_user,
            "OAuth flow started"
        );
        Ok(url)
    }

    /// Takes the state record of a callback: it works once, even if a later step fails.
    async fn take_state(
        &self,
        provider: Provider,
        state_value: &str,
        link: bool,
    ) -> Result<StateRecord, AuthError> {
        let Some(key) = state::key(state_value) else {
            return Err(state::invalid(link).into());
        };
        let Some(json) = self.inner.state.take(&key).await? else {
            tracing::info!(target: CORE, provider = provider.id(), "OAuth state unknown, used or expired");
            return Err(state::invalid(link).into());
        };
        let record: StateRecord =
            serde_json::from_str(&json).map_err(|_| AuthError::from(state::invalid(link)))?;
        record.check(provider, link)?;
        Ok(record)
    }

    /// Completes a sign-in flow: redeems `code`, resolves the account (an existing link, an
    /// account with the provider's verified address, or a new account), and starts a
    /// session.
    pub async fn oauth_sign_in(
        &self,
        provider: &str,
        code: &str,
        state_value: &str,
        client: &ClientInfo,
    ) -> Result<SignIn, AuthError> {
        let provider = self.oauth_provider(provider)?;
        self.require_oauth_store()?;
        let record = self.take_state(provider, state_value, false).await?;
        let profile = self.inner.oauth.profile(provider, code, &record).await?;

        let resolved = self.resolve_oauth_account(provider, &profile).await?;
        let user = &resolved.record;
        if self.inner.config.require_verified_email && !user.core.email_verified {
            tracing::info!(target: CORE, user_id = %user.core.id, "OAuth sign-in: address not verified");
            self.oauth_sign_in_failed(provider, Some(&user.core.id), "email not verified")
                .await;
            return Err(AuthError::EmailNotVerified);
        }

        if resolved.created {
            self.hooks().signup(user).await?;
        }
        if resolved.newly_verified {
            self.hooks().email_verify(user).await?;
        }
        // Before the pair is issued: FastAuth runs it there for OAuth, unlike for magic links.
        self.hooks().signin(user, provider.id()).await?;
        let sign_in = self
            .start_session(user, self.inner.config.refresh_ttl, client)
            .await?;
        let event = SecurityEvent::new(Kind::SignInSucceeded)
            .user(&sign_in.user_id)
            .session(Some(&sign_in.session_id))
            .provider(provider.id());
        self.security_events().emit(event).await;
        tracing::info!(
            target: CORE,
            user_id = %sign_in.user_id,
            session_id = %sign_in.session_id,
            provider = provider.id(),
            created = resolved.created,
            "OAuth sign-in succeeded"
        );
        Ok(sign_in)
    }

    async fn oauth_sign_in_failed(
        &self,
        provider: Provider,
        user_id: Option<&str>,
        reason: &'static str,
    ) {
        let event = SecurityEvent::new(Kind::SignInFailed)
            .maybe_user(user_id)
            .provider(provider.id())
            .reason(reason);
        self.security_events().emit(event).await;
    }

    /// Finds the account of a provider profile through its link or its address, or creates
    /// one.
    async fn resolve_oauth_account(
        &self,
        provider: Provider,
        profile: &Profile,
    ) -> Result<Resolved<U>, AuthError> {
        let store = &self.inner.store;
        let email = profile
            .email
            .as_deref()
            .filter(|e| !e.is_empty())
            .and_then(|e| crate::email::normalize_email(e).ok());
        let Some(email) = email else {
            self.oauth_sign_in_failed(provider, None, "no usable email from the provider")
                .await;
            return Err(OAuthError::NoEmail.into());
        };

        if let Some(link) = store.find_oauth_account(provider.id(), &profile.id).await? {
            let Some(mut record) = store.find_user_by_id(&link.user_id).await? else {
                self.oauth_sign_in_failed(provider, None, "linked user not found")
                    .await;
                return Err(OAuthError::LinkedUserNotFound.into());
            };
            self.check_oauth_sign_in_allowed(&record, provider).await?;
            // The provider vouches for its own address only: a link made by the link flow
            // may carry another address than the account's.
            let newly_verified =
                profile.email_verified && !record.core.email_verified && record.core.email == email;
            if newly_verified {
                // The link may come from a link flow of the account's earlier holder, so every
                // link goes with the rest and this one is made again.
                self.revoke_unproven_access(&mut record, "OAuth sign-in")
                    .await?;
                self.create_link(provider, profile, &record.core.id).await?;
                self.inner
                    .store
                    .set_email_verified(&record.core.id, true)
                    .await?;
                record.core.email_verified = true;
                tracing::info!(target: CORE, user_id = %record.core.id, "email verified by OAuth sign-in");
            }
            return Ok(Resolved {
                record,
                created: false,
                newly_verified,
            });
        }

        // A concurrent sign-in may create the account between the lookup and the insert:
        // the second pass then takes the existing-account branch.
        for _ in 0..2 {
            if let Some(record) = store.find_user_by_email(&email).await? {
                return self.link_existing_account(provider, profile, record).await;
            }
            if let Some(resolved) = self.create_oauth_account(provider, profile, &email).await? {
                return Ok(resolved);
            }
        }
        Err(OAuthError::AlreadyLinked.into())
    }

    async fn check_oauth_sign_in_allowed(
        &self,
        record: &UserRecord<U>,
        provider: Provider,
    ) -> Result<(), AuthError> {
        let user_id = Some(record.core.id.as_str());
        if !record.core.active {
            tracing::info!(target: CORE, user_id = %record.core.id, "OAuth sign-in: account deactivated");
            self.oauth_sign_in_failed(provider, user_id, "account deactivated")
                .await;
            return Err(AuthError::AccountDeactivated);
        }
        if !self.hooks().allow_signin(record, provider.id()).await? {
            tracing::info!(target: CORE, user_id = %record.core.id, "OAuth sign-in rejected by allow_signin");
            self.oauth_sign_in_failed(provider, user_id, "rejected by the allow_signin hook")
                .await;
            return Err(AuthError::LinkSignInNotAllowed);
        }
        Ok(())
    }

    /// Links the provider account to the account that has its address, which the provider
    /// must vouch for.
    async fn link_existing_account(
        &self,
        provider: Provider,
        profile: &Profile,
        mut record: UserRecord<U>,
    ) -> Result<Resolved<U>, AuthError> {
        if !profile.email_verified {
            tracing::info!(
                target: CORE,
                user_id = %record.core.id,
                provider = provider.id(),
                "OAuth sign-in rejected: the provider does not vouch for the address"
            );
            let reason = "provider does not vouch for the address";
            self.oauth_sign_in_failed(provider, Some(&record.core.id), reason)
                .await;
            return Err(OAuthError::EmailNotVerified.into());
        }
        self.check_oauth_sign_in_allowed(&record, provider).await?;
        let newly_verified = !record.core.email_verified;
        if newly_verified {
            self.revoke_unproven_access(&mut record, "OAuth sign-in")
                .await?;
            self.inner
                .store
                .set_email_verified(&record.core.id, true)
                .await?;
            record.core.email_verified = true;
        }
        self.create_link(provider, profile, &record.core.id).await?;
        Ok(Resolved {
            record,
            created: false,
            newly_verified,
        })
    }

    /// Creates an account for a new address; `None` when another request created it first.
    async fn create_oauth_account(
        &self,
        provider: Provider,
        profile: &Profile,
        email: &str,
    ) -> Result<Option<Resolved<U>>, AuthError> {
        let store = &self.inner.store;
        let standard = NewUser {
            id: cuid2::create_id(),
            email: email.to_owned(),
            password_hash: None,
            // Bounded as the profile route bounds them; an avatar URL cut short would be
            // broken, so a longer one is left out.
            name: profile
                .name
                .as_ref()
                .map(|name| name.chars().take(MAX_NAME_CHARS).collect()),
            image: profile
                .image
                .clone()
                .filter(|image| image.chars().count() <= MAX_IMAGE_CHARS),
            email_verified: profile.email_verified,
            active: true,
            created_at: OffsetDateTime::now_utc(),
        };

        let user = user_without_form::<U>(&standard)?;
        match store.create_user(&user, &standard).await {
            Err(StoreError::DuplicateEmail) => return Ok(None),
            other => other?,
        }
        tracing::info!(target: CORE, user_id = %standard.id, provider = provider.id(), "user created by OAuth sign-in");
        let event = SecurityEvent::new(Kind::AccountCreated)
            .user(&standard.id)
            .provider(provider.id());
        self.security_events().emit(event).await;

        let mut record = UserRecord::created(user, standard.clone());
        // A rejection leaves the account unlinked and without the admin role, as FastAuth
        // does.
        if !self.hooks().allow_signin(&record, provider.id()).await? {
            tracing::info!(target: CORE, user_id = %record.core.id, "OAuth sign-in rejected by allow_signin");
            let reason = "rejected by the allow_signin hook";
            self.oauth_sign_in_failed(provider, Some(&record.core.id), reason)
                .await;
            return Err(AuthError::LinkSignInNotAllowed);
        }
        self.create_link(provider, profile, &record.core.id).await?;
        let (roles, permissions) = self.grant_admin_on_signup(&standard).await?;
        record.core.roles = roles;
        record.core.permissions = permissions;
        Ok(Some(Resolved {
            record,
            created: true,
            newly_verified: false,
        }))
    }

    async fn create_link(
        &self,
        provider: Provider,
        profile: &Profile,
        user_id: &str,
    ) -> Result<(), AuthError> {
        let account = OAuthAccount {
            provider: provider.id().to_owned(),
            provider_account_id: profile.id.clone(),
            user_id: user_id.to_owned(),
            created_at: OffsetDateTime::now_utc(),
        };
        if !self.inner.store.create_oauth_account(&account).await? {
            tracing::info!(target: CORE, user_id, provider = provider.id(), "provider account linked to a user already");
            return Err(OAuthError::AlreadyLinked.into());
        }
        let event = SecurityEvent::new(Kind::OAuthLinked)
            .user(user_id)
            .provider(provider.id());
        self.security_events().emit(event).await;
        Ok(())
    }

    /// Completes a link flow: the provider account becomes a way to sign in to the state's
    /// user. `caller` is the user id of valid credentials sent with the callback, if any; it
    /// must be the state's user.
    pub async fn oauth_link(
        &self,
        provider: &str,
        code: &str,
        state_value: &str,
        caller: Option<&str>,
    ) -> Result<(), AuthError> {
        let provider = self.oauth_provider(provider)?;
        self.require_oauth_store()?;
        let record = self.take_state(provider, state_value, true).await?;
        let user_id = record.user_id.clone().unwrap_or_default();
        if caller.is_some_and(|caller| caller != user_id) {
            tracing::warn!(target: SECURITY, user_id, provider = provider.id(), "link callback carried another user's credentials");
            return Err(OAuthError::LinkStateOfAnotherUser.into());
        }
        let profile = self.inner.oauth.profile(provider, code, &record).await?;
        let user = self
            .inner
            .store
            .find_user_by_id(&user_id)
            .await?
            .ok_or(OAuthError::LinkingUserNotFound)?;
        // The store's uniqueness rule rejects a provider account linked to anyone already.
        self.create_link(provider, &profile, &user_id).await?;
        self.hooks().oauth_link(&user, provider.id()).await?;
        tracing::info!(target: CORE, user_id, provider = provider.id(), "OAuth account linked");
        Ok(())
    }

    /// Lists the OAuth links of a user, oldest first.
    pub async fn oauth_accounts(&self, user_id: &str) -> Result<Vec<OAuthAccount>, AuthError> {
        self.require_oauth_store()?;
        Ok(self.inner.store.list_oauth_accounts(user_id).await?)
    }

    /// Removes the oldest link of `provider` of a user.
    pub async fn oauth_unlink(&self, user_id: &str, provider: &str) -> Result<(), AuthError> {
        self.require_oauth_store()?;
        if !self
            .inner
            .store
            .delete_oauth_account(user_id, provider)
            .await?
        {
            return Err(OAuthError::NoLinkedAccount(echoed(provider)).into());
        }
        let event = SecurityEvent::new(Kind::OAuthUnlinked)
            .user(user_id)
            .provider(provider);
        self.security_events().emit(event).await;
        tracing::info!(target: CORE, user_id, "OAuth account unlinked");
        Ok(())
    }
}
