//! The in-memory store: for tests, prototypes and single-process tools. Everything is lost
//! when the process exits.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;

use super::{
    SessionRecord, SessionStore, Store, StoreError, TokenStore, UserCore, UserRecord, UserStore,
};
use crate::user::{AuthUser, NewUser};

struct RefreshToken {
    user_id: String,
    session_id: Option<String>,
    expires_at: OffsetDateTime,
}

struct State<U> {
    users: HashMap<String, UserRecord<U>>,
    /// Normalised address to user id.
    emails: HashMap<String, String>,
    sessions: HashMap<String, SessionRecord>,
    refresh_tokens: HashMap<String, RefreshToken>,
}

/// A store that keeps everything in process memory. Clones share the same data.
pub struct MemoryStore<U> {
    state: Arc<Mutex<State<U>>>,
}

impl<U> Clone for MemoryStore<U> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
        }
    }
}

impl<U> Default for MemoryStore<U> {
    fn default() -> Self {
        Self::new()
    }
}

impl<U> fmt::Debug for MemoryStore<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl<U> MemoryStore<U> {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                users: HashMap::new(),
                emails: HashMap::new(),
                sessions: HashMap::new(),
                refresh_tokens: HashMap::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<U>> {
        // A panic while the lock was held leaves maps that are still consistent: every
        // mutation below is a single insert or remove.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<U: AuthUser> UserStore<U> for MemoryStore<U> {
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord<U>>, StoreError> {
        let state = self.lock();
        Ok(state
            .emails
            .get(email)
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord<U>>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn find_user_in_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserRecord<U>>, StoreError> {
        let state = self.lock();
        let live = state
            .sessions
            .get(session_id)
            .is_some_and(|s| s.user_id == user_id && s.expires_at > now);
        Ok(live.then(|| state.users.get(user_id).cloned()).flatten())
    }

    async fn create_user(&self, user: &U, standard: &NewUser) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.emails.contains_key(&standard.email) {
            return Err(StoreError::DuplicateEmail);
        }
        let core = UserCore {
            id: standard.id.clone(),
            email: standard.email.clone(),
            password_hash: standard.password_hash.clone(),
            name: standard.name.clone(),
            image: standard.image.clone(),
            email_verified: standard.email_verified,
            active: standard.active,
        };
        state
            .emails
            .insert(standard.email.clone(), standard.id.clone());
        state.users.insert(
            standard.id.clone(),
            UserRecord {
                user: user.clone(),
                core,
            },
        );
        Ok(())
    }

    async fn update_password_hash(
        &self,
        user_id: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        if let Some(record) = self.lock().users.get_mut(user_id) {
            record.core.password_hash = Some(password_hash.to_owned());
        }
        Ok(())
    }
}

impl<U: AuthUser> SessionStore for MemoryStore<U> {
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut state = self.lock();
        let now = session.created_at;
        state.sessions.retain(|_, s| s.expires_at > now);
        state.sessions.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn extend_session(
        &self,
        user_id: &str,
        session_id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.sessions.get_mut(session_id) {
            Some(s) if s.user_id == user_id && s.expires_at > now => {
                s.expires_at = expires_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_session(&self, user_id: &str, session_id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let owned = state
            .sessions
            .get(session_id)
            .is_some_and(|s| s.user_id == user_id);
        if owned {
            state.sessions.remove(session_id);
        }
        Ok(owned)
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.sessions.len();
        state.sessions.retain(|_, s| s.user_id != user_id);
        Ok((before - state.sessions.len()) as u64)
    }
}

impl<U: AuthUser> TokenStore for MemoryStore<U> {
    async fn record_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        session_id: Option<&str>,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let now = OffsetDateTime::now_utc();
        state.refresh_tokens.retain(|_, t| t.expires_at > now);
        state.refresh_tokens.insert(
            jti.to_owned(),
            RefreshToken {
                user_id: user_id.to_owned(),
                session_id: session_id.map(str::to_owned),
                expires_at,
            },
        );
        Ok(())
    }

    async fn consume_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let usable = state
            .refresh_tokens
            .get(jti)
            .is_some_and(|t| t.user_id == user_id && t.expires_at > now);
        if usable {
            state.refresh_tokens.remove(jti);
        }
        Ok(usable)
    }

    async fn revoke_session_refresh_tokens(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.refresh_tokens.len();
        state
            .refresh_tokens
            .retain(|_, t| !(t.user_id == user_id && t.session_id.as_deref() == Some(session_id)));
        Ok((before - state.refresh_tokens.len()) as u64)
    }

    async fn revoke_user_refresh_tokens(&self, user_id: &str) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.refresh_tokens.len();
        state.refresh_tokens.retain(|_, t| t.user_id != user_id);
        Ok((before - state.refresh_tokens.len()) as u64)
    }
}

impl<U: AuthUser> Store<U> for MemoryStore<U> {}
