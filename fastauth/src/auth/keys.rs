//! Loading, persisting and rotating the generated signing keys of an asymmetric algorithm.
//!
//! Generated keys live in the store, so that every instance on one database signs with the
//! same key and verifies with all of them. Each instance reloads the set every
//! [`KEY_RELOAD_INTERVAL`]. When a rotation interval is set, the instance that finds the
//! newest key that old adds a successor, which is published [`KEY_PUBLICATION_LEAD`] before
//! it starts signing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use time::OffsetDateTime;

use super::{Auth, CORE};
use crate::core::keys::{KeySet, SigningKey};
use crate::core::rbac::DeclaredRoles;
use crate::store::{Store, StoreError, StoredSigningKey};
use crate::user::AuthUser;

/// How often each instance rereads the key set from the store, so that it verifies tokens
/// signed with a key another instance generated.
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// How long a key added by timed rotation is published before it signs. It is longer than
/// the JWKS cache lifetime (300 s) and than two reloads, so other instances and verifiers
/// that cache the JWKS know the key before they see a token it signed.
pub const KEY_PUBLICATION_LEAD: Duration = Duration::from_secs(300);

/// An error from loading, generating or rotating the signing keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyRotationError {
    /// The algorithm is HMAC or the key comes from the configuration.
    #[error("only generated keys of an asymmetric algorithm can be rotated")]
    NotRotatable,
    /// Generating the key failed.
    #[error(transparent)]
    Key(#[from] crate::core::keys::KeyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// Returns whether the signing keys are generated (and stored) rather than configured.
    fn generates_keys(&self) -> bool {
        let config = &self.inner.config;
        config.algorithm.is_asymmetric() && config.private_key_pem.is_none()
    }

    /// Loads the generated keys from the store, creating the first one when there is none,
    /// and starts the task that reloads and rotates them. Called by [`Auth::migrate`].
    pub(super) async fn start_signing_keys(&self) -> Result<(), KeyRotationError> {
        if !self.generates_keys() {
            return Ok(());
        }
        let stored = self.inner.store.supports_signing_keys();
        if stored {
            self.reload_signing_keys().await?;
        } else {
            // NOTE: with a store that keeps no keys, every process signs with a key of its
            // own, and tokens do not survive a restart or move between instances.
            tracing::warn!(
                target: CORE,
                "the store keeps no signing keys: this process signs with a key of its own"
            );
        }
        // Without a store there is nothing to reload, but a rotation interval still applies.
        let needs_task = stored || self.inner.config.key_rotation_interval.is_some();
        if needs_task && !self.inner.key_task_started.swap(true, Ordering::SeqCst) {
            self.spawn_key_task();
        }
        Ok(())
    }

    /// Rereads the generated keys from the store: drops the keys whose grace period is over
    /// (from the store too), and generates the first key when the store has none.
    pub async fn reload_signing_keys(&self) -> Result<(), KeyRotationError> {
        if !self.generates_keys() || !self.inner.store.supports_signing_keys() {
            return Ok(());
        }
        let Some(shared) = self.inner.signer.key_set() else {
            return Ok(());
        };
        let config = &self.inner.config;
        let now = OffsetDateTime::now_utc();
        let mut keys = self.stored_keys().await?;
        if keys.is_empty() {
            keys.push(self.generate_and_store(now).await?);
            // Another instance may have stored its first key at the same moment: read both.
            // NOTE: an instance that reads before the other one inserts misses that key, and
            // rejects its tokens until the next reload (at most 30 s later).
            keys = self.stored_keys().await?;
        }
        let grace = config.effective_key_grace_period();
        let (kept, expired) = KeySet::partition_expired(keys, grace, now);
        for kid in &expired {
            self.inner.store.delete_signing_key(kid).await?;
            tracing::info!(target: CORE, kid = %kid, "signing key retired after its grace period");
        }
        shared.replace(KeySet::new(kept));
        Ok(())
    }

    /// Generates and stores a new key, which signs on this instance at once and on the
    /// others after their next reload. The previous keys keep verifying for the grace
    /// period. Returns the new key's `kid`.
    pub async fn rotate_signing_key(&self) -> Result<String, KeyRotationError> {
        self.add_signing_key(OffsetDateTime::now_utc()).await
    }

    /// Generates and stores a new key that starts signing at `active_from`. Until then it is
    /// published in the JWKS and verifies, but the current key keeps signing. Returns the
    /// new key's `kid`.
    pub async fn add_signing_key(
        &self,
        active_from: OffsetDateTime,
    ) -> Result<String, KeyRotationError> {
        if !self.generates_keys() {
            return Err(KeyRotationError::NotRotatable);
        }
        let now = OffsetDateTime::now_utc();
        let key = self.generate_and_store(active_from).await?;
        let kid = key.kid().to_owned();
        if self.inner.store.supports_signing_keys() {
            self.reload_signing_keys().await?;
        } else if let Some(shared) = self.inner.signer.key_set() {
            let mut keys = shared.snapshot().keys().to_vec();
            keys.push(key);
            let grace = self.inner.config.effective_key_grace_period();
            shared.replace(KeySet::new(KeySet::partition_expired(keys, grace, now).0));
        }
        tracing::info!(target: CORE, kid = %kid, %active_from, "signing key added");
        Ok(kid)
    }

    /// Returns the stored keys of the configured algorithm. A row that does not parse is
    /// skipped and logged, so one damaged row does not stop the service.
    async fn stored_keys(&self) -> Result<Vec<Arc<SigningKey>>, StoreError> {
        let algorithm = self.inner.config.algorithm;
        let rows = self
            .inner
            .store
            .list_signing_keys(algorithm.as_str())
            .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            match SigningKey::from_pem(algorithm, &row.private_key_pem, row.active_from) {
                Ok(key) => keys.push(Arc::new(key)),
                Err(error) => tracing::error!(
                    target: CORE,
                    kid = %row.kid,
                    %error,
                    "a stored signing key is unusable and was skipped"
                ),
            }
        }
        Ok(keys)
    }

    async fn generate_and_store(
        &self,
        active_from: OffsetDateTime,
    ) -> Result<Arc<SigningKey>, KeyRotationError> {
        let algorithm = self.inner.config.algorithm;
        // RSA generation takes tens of milliseconds: keep it off the async workers.
        let generate = move || SigningKey::generate(algorithm, active_from);
        let (key, pem) = tokio::task::spawn_blocking(generate)
            .await
            .map_err(|_| crate::core::keys::KeyError::Generation(algorithm))??;
        let stored = StoredSigningKey {
            kid: key.kid().to_owned(),
            algorithm: algorithm.as_str().to_owned(),
            private_key_pem: pem,
            active_from,
        };
        self.inner.store.insert_signing_key(&stored).await?;
        tracing::info!(target: CORE, kid = %stored.kid, %algorithm, "signing key generated");
        Ok(Arc::new(key))
    }

    /// Spawns the task that reloads the key set and rotates the signing key when it has
    /// reached the rotation interval. The task ends when the service is dropped.
    // NOTE: tests drive `reload_signing_keys` and `rotate_signing_key` directly; the timer
    // itself, whose shortest period is a minute, runs in no test.
    fn spawn_key_task(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(KEY_RELOAD_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                // Key maintenance runs no hook and emits no security event.
                let auth = Self {
                    inner,
                    hooks: crate::core::hooks::HookRunner::default(),
                    events: crate::core::security::SecurityEvents::default(),
                    _roles: std::marker::PhantomData,
                };
                if let Err(error) = auth.maintain_signing_keys().await {
                    tracing::error!(target: CORE, %error, "reloading the signing keys failed");
                }
            }
        });
    }

    async fn maintain_signing_keys(&self) -> Result<(), KeyRotationError> {
        self.reload_signing_keys().await?;
        let Some(interval) = self.inner.config.key_rotation_interval else {
            return Ok(());
        };
        let Some(shared) = self.inner.signer.key_set() else {
            return Ok(());
        };
        // The newest key may be a successor that does not sign yet: then nothing is due.
        let now = OffsetDateTime::now_utc();
        let due = shared
            .snapshot()
            .keys()
            .first()
            .is_none_or(|newest| newest.active_from() + interval <= now);
        if due {
            self.add_signing_key(now + KEY_PUBLICATION_LEAD).await?;
        }
        Ok(())
    }
}
