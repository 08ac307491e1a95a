//! The in-memory store: for tests, prototypes and single-process tools. Everything is lost
//! when the process exits.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;

use super::{
    KeyStore, OAuthAccount, OAuthStore, OneTimeKind, OneTimeToken, RoleRecord, RoleStore,
    SessionRecord, SessionStore, Store, StoreError, StoredSigningKey, TokenStore, UserCore,
    UserRecord, UserStore,
};
use crate::user::{AuthUser, NewUser};

struct RefreshToken {
    user_id: String,
    session_id: Option<String>,
    expires_at: OffsetDateTime,
}

struct StoredOneTime {
    kind: OneTimeKind,
    token: OneTimeToken,
    expires_at: OffsetDateTime,
}

struct State<U> {
    users: HashMap<String, UserRecord<U>>,
    /// Normalised address to user id.
    emails: HashMap<String, String>,
    sessions: HashMap<String, SessionRecord>,
    refresh_tokens: HashMap<String, RefreshToken>,
    /// SHA-256 of a raw one-time token to the token.
    one_time_tokens: HashMap<String, StoredOneTime>,
    /// SHA-256 of a raw magic-link token to the address without an account, and expiry.
    pending_magic_links: HashMap<String, (String, OffsetDateTime)>,
    /// Role name to its permissions.
    roles: BTreeMap<String, BTreeSet<String>>,
    /// User id to the names of their roles.
    user_roles: HashMap<String, BTreeSet<String>>,
    /// Generated signing keys by `kid`.
    signing_keys: HashMap<String, StoredSigningKey>,
    /// OAuth links in the order they were made.
    oauth_accounts: Vec<OAuthAccount>,
}

impl<U: Clone> State<U> {
    /// A copy of a stored user with their current roles and permissions filled in.
    fn user_with_roles(&self, id: &str) -> Option<UserRecord<U>> {
        let mut record = self.users.get(id)?.clone();
        let (roles, permissions) = self.roles_of(id);
        record.core.roles = roles;
        record.core.permissions = permissions;
        Some(record)
    }

    fn roles_of(&self, user_id: &str) -> (Vec<String>, Vec<String>) {
        let Some(names) = self.user_roles.get(user_id) else {
            return (Vec::new(), Vec::new());
        };
        let permissions: BTreeSet<&String> = names
            .iter()
            .filter_map(|name| self.roles.get(name))
            .flatten()
            .collect();
        (
            names.iter().cloned().collect(),
            permissions.into_iter().cloned().collect(),
        )
    }
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
                one_time_tokens: HashMap::new(),
                pending_magic_links: HashMap::new(),
                roles: BTreeMap::new(),
                user_roles: HashMap::new(),
                signing_keys: HashMap::new(),
                oauth_accounts: Vec::new(),
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
            .and_then(|id| state.user_with_roles(id)))
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord<U>>, StoreError> {
        Ok(self.lock().user_with_roles(id))
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
        Ok(live.then(|| state.user_with_roles(user_id)).flatten())
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
            roles: Vec::new(),
            permissions: Vec::new(),
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

    async fn clear_password_hash(&self, user_id: &str) -> Result<(), StoreError> {
        if let Some(record) = self.lock().users.get_mut(user_id) {
            record.core.password_hash = None;
        }
        Ok(())
    }

    async fn set_email_verified(&self, user_id: &str, verified: bool) -> Result<(), StoreError> {
        if let Some(record) = self.lock().users.get_mut(user_id) {
            record.core.email_verified = verified;
        }
        Ok(())
    }

    async fn update_email(&self, user_id: &str, email: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state
            .emails
            .get(email)
            .is_some_and(|owner| owner != user_id)
        {
            return Err(StoreError::DuplicateEmail);
        }
        let Some(record) = state.users.get_mut(user_id) else {
            return Ok(());
        };
        let old = std::mem::replace(&mut record.core.email, email.to_owned());
        record.core.email_verified = true;
        state.emails.remove(&old);
        state.emails.insert(email.to_owned(), user_id.to_owned());
        Ok(())
    }

    async fn update_profile(
        &self,
        user_id: &str,
        name: Option<&str>,
        image: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(record) = self.lock().users.get_mut(user_id) {
            if let Some(name) = name {
                record.core.name = Some(name.to_owned());
            }
            if let Some(image) = image {
                record.core.image = Some(image.to_owned());
            }
        }
        Ok(())
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let Some(record) = state.users.remove(user_id) else {
            return Ok(false);
        };
        state.emails.remove(&record.core.email);
        state.sessions.retain(|_, s| s.user_id != user_id);
        state.refresh_tokens.retain(|_, t| t.user_id != user_id);
        state
            .one_time_tokens
            .retain(|_, t| t.token.user_id != user_id);
        state.user_roles.remove(user_id);
        state.oauth_accounts.retain(|a| a.user_id != user_id);
        Ok(true)
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

    async fn list_sessions(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let state = self.lock();
        let mut sessions: Vec<SessionRecord> = state
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && s.expires_at > now)
            .cloned()
            .collect();
        sessions.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(sessions)
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.sessions.len();
        state.sessions.retain(|_, s| s.user_id != user_id);
        Ok((before - state.sessions.len()) as u64)
    }
}

impl<U: AuthUser> TokenStore for MemoryStore<U> {
    async fn create_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        token: &OneTimeToken,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let now = OffsetDateTime::now_utc();
        state.one_time_tokens.retain(|_, t| t.expires_at > now);
        let stored = StoredOneTime {
            kind,
            token: token.clone(),
            expires_at,
        };
        state.one_time_tokens.insert(token_hash.to_owned(), stored);
        Ok(())
    }

    async fn consume_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        now: OffsetDateTime,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        let mut state = self.lock();
        let live = state
            .one_time_tokens
            .get(token_hash)
            .is_some_and(|t| t.kind == kind && t.expires_at > now);
        if !live {
            return Ok(None);
        }
        Ok(state.one_time_tokens.remove(token_hash).map(|t| t.token))
    }

    async fn create_pending_magic_link(
        &self,
        token_hash: &str,
        email: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let now = OffsetDateTime::now_utc();
        state
            .pending_magic_links
            .retain(|_, (_, expiry)| *expiry > now);
        state
            .pending_magic_links
            .insert(token_hash.to_owned(), (email.to_owned(), expires_at));
        Ok(())
    }

    async fn consume_pending_magic_link(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let mut state = self.lock();
        match state.pending_magic_links.remove(token_hash) {
            Some((email, expires_at)) if expires_at > now => Ok(Some(email)),
            _ => Ok(None),
        }
    }

    async fn delete_one_time_tokens(
        &self,
        user_id: &str,
        kind: OneTimeKind,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.one_time_tokens.len();
        state
            .one_time_tokens
            .retain(|_, t| !(t.token.user_id == user_id && t.kind == kind));
        Ok((before - state.one_time_tokens.len()) as u64)
    }

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

    async fn is_refresh_token_recorded(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let state = self.lock();
        Ok(state
            .refresh_tokens
            .get(jti)
            .is_some_and(|t| t.user_id == user_id && t.expires_at > now))
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

impl<U: AuthUser> RoleStore for MemoryStore<U> {
    fn supports_roles(&self) -> bool {
        true
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        let state = self.lock();
        Ok(state
            .roles
            .iter()
            .map(|(name, permissions)| role_record(name, permissions))
            .collect())
    }

    async fn find_role(&self, name: &str) -> Result<Option<RoleRecord>, StoreError> {
        let state = self.lock();
        Ok(state
            .roles
            .get(name)
            .map(|permissions| role_record(name, permissions)))
    }

    async fn create_role(&self, name: &str, permissions: &[String]) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if state.roles.contains_key(name) {
            return Ok(false);
        }
        let permissions = permissions.iter().cloned().collect();
        state.roles.insert(name.to_owned(), permissions);
        Ok(true)
    }

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let existed = state.roles.remove(name).is_some();
        for roles in state.user_roles.values_mut() {
            roles.remove(name);
        }
        Ok(existed)
    }

    async fn add_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let Some(granted) = state.roles.get_mut(role) else {
            return Ok(false);
        };
        granted.extend(permissions.iter().cloned());
        Ok(true)
    }

    async fn remove_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let Some(granted) = state.roles.get_mut(role) else {
            return Ok(false);
        };
        for permission in permissions {
            granted.remove(permission);
        }
        Ok(true)
    }

    async fn assign_role(&self, user_id: &str, role: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        state
            .user_roles
            .entry(user_id.to_owned())
            .or_default()
            .insert(role.to_owned());
        Ok(())
    }

    async fn revoke_role(&self, user_id: &str, role: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        Ok(state
            .user_roles
            .get_mut(user_id)
            .is_some_and(|roles| roles.remove(role)))
    }

    async fn user_roles(&self, user_id: &str) -> Result<(Vec<String>, Vec<String>), StoreError> {
        Ok(self.lock().roles_of(user_id))
    }
}

fn role_record(name: &str, permissions: &BTreeSet<String>) -> RoleRecord {
    RoleRecord {
        name: name.to_owned(),
        permissions: permissions.iter().cloned().collect(),
    }
}

impl<U: AuthUser> KeyStore for MemoryStore<U> {
    fn supports_signing_keys(&self) -> bool {
        true
    }

    async fn list_signing_keys(
        &self,
        algorithm: &str,
    ) -> Result<Vec<StoredSigningKey>, StoreError> {
        let state = self.lock();
        Ok(state
            .signing_keys
            .values()
            .filter(|key| key.algorithm == algorithm)
            .cloned()
            .collect())
    }

    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        let mut state = self.lock();
        state
            .signing_keys
            .entry(key.kid.clone())
            .or_insert_with(|| key.clone());
        Ok(())
    }

    async fn delete_signing_key(&self, kid: &str) -> Result<(), StoreError> {
        self.lock().signing_keys.remove(kid);
        Ok(())
    }
}

impl<U: AuthUser> OAuthStore for MemoryStore<U> {
    fn supports_oauth(&self) -> bool {
        true
    }

    async fn find_oauth_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<OAuthAccount>, StoreError> {
        let state = self.lock();
        Ok(state
            .oauth_accounts
            .iter()
            .find(|a| a.provider == provider && a.provider_account_id == provider_account_id)
            .cloned())
    }

    async fn create_oauth_account(&self, account: &OAuthAccount) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let taken = state.oauth_accounts.iter().any(|a| {
            a.provider == account.provider && a.provider_account_id == account.provider_account_id
        });
        if !taken {
            state.oauth_accounts.push(account.clone());
        }
        Ok(!taken)
    }

    async fn list_oauth_accounts(&self, user_id: &str) -> Result<Vec<OAuthAccount>, StoreError> {
        let state = self.lock();
        Ok(state
            .oauth_accounts
            .iter()
            .filter(|a| a.user_id == user_id)
            .cloned()
            .collect())
    }

    async fn delete_oauth_account(
        &self,
        user_id: &str,
        provider: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let oldest = state
            .oauth_accounts
            .iter()
            .position(|a| a.user_id == user_id && a.provider == provider);
        if let Some(index) = oldest {
            state.oauth_accounts.remove(index);
        }
        Ok(oldest.is_some())
    }

    async fn delete_user_oauth_accounts(&self, user_id: &str) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.oauth_accounts.len();
        state.oauth_accounts.retain(|a| a.user_id != user_id);
        Ok((before - state.oauth_accounts.len()) as u64)
    }
}

impl<U: AuthUser> Store<U> for MemoryStore<U> {}
