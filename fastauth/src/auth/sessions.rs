//! Sessions and single tokens: listing and ending a user's sessions, inspecting a token and
//! revoking one refresh token.

use time::OffsetDateTime;

use super::{Auth, CORE, SECURITY};
use crate::core::AuthError;
use crate::core::rbac::DeclaredRoles;
use crate::core::security::{SecurityEvent, SecurityEventKind as Kind};
use crate::core::token::{Claims, TokenType};
use crate::store::{SessionRecord, Store};
use crate::user::AuthUser;

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// Lists a user's unexpired sessions, newest first.
    pub async fn list_sessions(&self, user_id: &str) -> Result<Vec<SessionRecord>, AuthError> {
        let now = OffsetDateTime::now_utc();
        Ok(self.inner.store.list_sessions(user_id, now).await?)
    }

    /// Ends one of a user's sessions: deletes it and revokes its refresh family, so its
    /// access tokens stop working at once. [`AuthError::SessionNotFound`] when the session
    /// is unknown, expired or another user's.
    pub async fn revoke_session(&self, user_id: &str, session_id: &str) -> Result<(), AuthError> {
        let store = &self.inner.store;
        let now = OffsetDateTime::now_utc();
        let live = store
            .list_sessions(user_id, now)
            .await?
            .iter()
            .any(|s| s.id == session_id);
        if !live || !store.delete_session(user_id, session_id).await? {
            return Err(AuthError::SessionNotFound);
        }
        let tokens = store
            .revoke_session_refresh_tokens(user_id, session_id)
            .await?;
        let event = SecurityEvent::new(Kind::SessionRevoked)
            .user(user_id)
            .session(Some(session_id))
            .reason(format!(
                "revoked by the user; {tokens} refresh tokens revoked"
            ));
        self.events.emit(event).await;
        Ok(())
    }

    /// Ends every session of a user and revokes all their refresh tokens.
    pub async fn revoke_all_sessions(&self, user_id: &str) -> Result<(), AuthError> {
        let store = &self.inner.store;
        let sessions = store.delete_user_sessions(user_id).await?;
        let tokens = store.revoke_user_refresh_tokens(user_id).await?;
        let event = SecurityEvent::new(Kind::SessionRevoked)
            .user(user_id)
            .reason(format!(
                "all sessions revoked by the user: {sessions} sessions and {tokens} refresh \
                 tokens"
            ));
        self.events.emit(event).await;
        Ok(())
    }

    /// Returns the claims of a token that is usable now, or `None`. A token is unusable when
    /// it fails verification, when it is a refresh token whose `jti` is no longer recorded,
    /// or when it names a session that no longer exists.
    pub async fn introspect(&self, token: &str) -> Result<Option<Claims>, AuthError> {
        let inner = &self.inner;
        let Ok(claims) = inner.signer.verify_any(token) else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        if claims.token_type == TokenType::Refresh
            && !inner
                .store
                .is_refresh_token_recorded(&claims.jti, &claims.sub, now)
                .await?
        {
            return Ok(None);
        }
        if let Some(sid) = &claims.sid
            && inner
                .store
                .find_user_in_session(&claims.sub, sid, now)
                .await?
                .is_none()
        {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// Revokes one of the caller's refresh tokens: removes its `jti` and, when the `jti` was
    /// still recorded, ends its session. Succeeds when the `jti` was already gone.
    pub async fn revoke_refresh_token(
        &self,
        caller_id: &str,
        token: &str,
    ) -> Result<(), AuthError> {
        let inner = &self.inner;
        let claims = inner.signer.verify_any(token).map_err(|error| {
            tracing::info!(target: CORE, %error, "token revocation rejected");
            AuthError::InvalidToken
        })?;
        if claims.token_type != TokenType::Refresh {
            return Err(AuthError::NotRefreshToken);
        }
        if claims.sub != caller_id {
            tracing::warn!(
                target: SECURITY,
                user_id = caller_id,
                "revocation of another user's token rejected"
            );
            return Err(AuthError::ForeignToken);
        }

        let now = OffsetDateTime::now_utc();
        let store = &inner.store;
        let live = store
            .consume_refresh_token(&claims.jti, &claims.sub, now)
            .await?;
        if live && let Some(sid) = &claims.sid {
            store.delete_session(&claims.sub, sid).await?;
            store
                .revoke_session_refresh_tokens(&claims.sub, sid)
                .await?;
            let event = SecurityEvent::new(Kind::SessionRevoked)
                .user(&claims.sub)
                .session(Some(sid))
                .reason("its refresh token was revoked");
            self.events.emit(event).await;
        }
        tracing::info!(target: CORE, user_id = %claims.sub, live, "refresh token revoked");
        Ok(())
    }
}
