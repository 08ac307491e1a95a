//! The security event stream: one structured record per security-relevant step.
//!
//! Every event goes to `tracing` under the target `fastauth::security`, with the event's
//! fields (`kind`, `user_id`, `session_id`, ...) as structured fields, and to the
//! [`SecuritySink`] given to [`crate::Auth::with_security_sink`], if any. Events carry ids and
//! short reasons, never an address, a password or a token.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use time::OffsetDateTime;

use crate::store::StoreError;

/// The `tracing` target of security events.
pub const TARGET: &str = "fastauth::security";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecurityEventKind {
    /// An account was created.
    AccountCreated,
    /// A sign-in succeeded and started a session.
    SignInSucceeded,
    /// A sign-in was rejected, for the `reason` given.
    SignInFailed,
    /// Too many failed sign-ins locked an account (or an unknown address).
    AccountLocked,
    /// A refresh token was presented after it had been used or revoked, so every session
    /// of its user was revoked.
    RefreshTokenReused,
    /// A session was ended: by logout, by the user, or with a revoked refresh token.
    SessionRevoked,
    /// A password was reset through an e-mailed link.
    PasswordReset,
    /// A signed-in user changed their password.
    PasswordChanged,
    /// The address of an account changed.
    EmailChanged,
    /// A user was given a role.
    RoleAssigned,
    /// A role was taken from a user.
    RoleRevoked,
    /// A role was created.
    RoleCreated,
    /// A role was deleted and taken from every user.
    RoleDeleted,
    /// Permissions were granted to or removed from a role, as `reason` lists.
    RolePermissionsChanged,
    /// A provider account was linked to a user.
    OAuthLinked,
    /// A provider account was unlinked from a user.
    OAuthUnlinked,
    /// An account was deleted.
    AccountDeleted,
}

impl SecurityEventKind {
    /// Returns the stable name of the kind, as written to logs and to the audit table.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccountCreated => "account_created",
            Self::SignInSucceeded => "sign_in_succeeded",
            Self::SignInFailed => "sign_in_failed",
            Self::AccountLocked => "account_locked",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::EmailChanged => "email_changed",
            Self::RoleAssigned => "role_assigned",
            Self::RoleRevoked => "role_revoked",
            Self::RoleCreated => "role_created",
            Self::RoleDeleted => "role_deleted",
            Self::RolePermissionsChanged => "role_permissions_changed",
            Self::OAuthLinked => "oauth_linked",
            Self::OAuthUnlinked => "oauth_unlinked",
            Self::AccountDeleted => "account_deleted",
        }
    }

    /// Returns whether the event suggests an attack, so it is logged at `WARN` rather than
    /// `INFO`.
    pub const fn is_alert(self) -> bool {
        matches!(self, Self::AccountLocked | Self::RefreshTokenReused)
    }
}

/// One security event. Build it with [`SecurityEvent::new`] and the setters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SecurityEvent {
    /// What happened.
    pub kind: SecurityEventKind,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The user the event is about; `None` for a failed sign-in of an unknown address.
    pub user_id: Option<String>,
    /// The session concerned.
    pub session_id: Option<String>,
    /// The user who acted, when it is someone else than `user_id` (an administrator).
    pub actor_id: Option<String>,
    /// The sign-in method or OAuth provider: `credentials`, `google`, ...
    pub provider: Option<String>,
    /// The role concerned.
    pub role: Option<String>,
    /// A short reason in words, like `invalid credentials` or `logout`.
    pub reason: Option<String>,
}

impl SecurityEvent {
    /// Starts an event of `kind` that happens now.
    pub fn new(kind: SecurityEventKind) -> Self {
        Self {
            kind,
            occurred_at: OffsetDateTime::now_utc(),
            user_id: None,
            session_id: None,
            actor_id: None,
            provider: None,
            role: None,
            reason: None,
        }
    }

    /// Sets the user.
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the user when one is known.
    pub fn maybe_user(mut self, user_id: Option<&str>) -> Self {
        self.user_id = user_id.map(str::to_owned);
        self
    }

    /// Sets the session when one is known.
    pub fn session(mut self, session_id: Option<&str>) -> Self {
        self.session_id = session_id.map(str::to_owned);
        self
    }

    /// Sets the acting user when one is known.
    pub fn actor(mut self, actor_id: Option<&str>) -> Self {
        self.actor_id = actor_id.map(str::to_owned);
        self
    }

    /// Sets the provider.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Sets the role.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// Stores security events somewhere lasting, such as an audit table.
///
/// [`crate::Auth`] awaits [`SecuritySink::record`] in the request that caused the event. A
/// failure is logged and never fails that request, and the event is still in the `tracing`
/// stream.
pub trait SecuritySink: Send + Sync + 'static {
    /// Stores one event.
    fn record(&self, event: &SecurityEvent) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Creates the sink's storage; [`crate::Auth::migrate`] calls it. Does nothing by
    /// default.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }
}

trait DynSink: Send + Sync {
    fn record<'a>(&'a self, event: &'a SecurityEvent) -> BoxFuture<'a, Result<(), StoreError>>;
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

impl<T: SecuritySink> DynSink for T {
    fn record<'a>(&'a self, event: &'a SecurityEvent) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(SecuritySink::record(self, event))
    }

    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(SecuritySink::migrate(self))
    }
}

/// Sends events to `tracing` and to the sink.
#[derive(Clone, Default)]
pub struct SecurityEvents {
    sink: Option<Arc<dyn DynSink>>,
}

impl std::fmt::Debug for SecurityEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityEvents")
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

impl SecurityEvents {
    pub(crate) fn with_sink(sink: impl SecuritySink) -> Self {
        Self {
            sink: Some(Arc::new(sink)),
        }
    }

    /// Logs `event` and hands it to the sink.
    pub async fn emit(&self, event: SecurityEvent) {
        log(&event);
        let Some(sink) = &self.sink else {
            return;
        };
        if let Err(error) = sink.record(&event).await {
            tracing::error!(
                target: TARGET,
                kind = event.kind.as_str(),
                user_id = event.user_id.as_deref(),
                %error,
                "writing a security event to its sink failed"
            );
        }
    }

    /// Creates the sink's storage, if a sink is set.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        match &self.sink {
            Some(sink) => sink.migrate().await,
            None => Ok(()),
        }
    }
}

fn log(event: &SecurityEvent) {
    macro_rules! emit_at {
        ($level:ident) => {
            tracing::$level!(
                target: TARGET,
                kind = event.kind.as_str(),
                user_id = event.user_id.as_deref(),
                session_id = event.session_id.as_deref(),
                actor_id = event.actor_id.as_deref(),
                provider = event.provider.as_deref(),
                role = event.role.as_deref(),
                reason = event.reason.as_deref(),
                "security event: {}",
                event.kind.as_str()
            )
        };
    }
    if event.kind.is_alert() {
        emit_at!(warn);
    } else {
        emit_at!(info);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt as _};

    use super::*;

    /// The target, level and fields of one logged event.
    type Logged = (String, tracing::Level, Vec<(String, String)>);

    /// The events logged while it is the subscriber.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<Logged>>>);

    struct Fields(Vec<(String, String)>);

    impl Visit for Fields {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_owned(), value.to_owned()));
        }

        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push((field.name().to_owned(), format!("{value:?}")));
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Captured {
        fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            let metadata = event.metadata();
            self.0.lock().expect("not poisoned").push((
                metadata.target().to_owned(),
                *metadata.level(),
                fields.0,
            ));
        }
    }

    /// A sink that keeps every event it is given.
    #[derive(Clone, Default)]
    struct Memory(Arc<Mutex<Vec<SecurityEvent>>>);

    impl SecuritySink for Memory {
        async fn record(&self, event: &SecurityEvent) -> Result<(), StoreError> {
            self.0.lock().expect("not poisoned").push(event.clone());
            Ok(())
        }
    }

    fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    #[tokio::test]
    async fn events_logged_under_security_target() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(captured.clone());
        let _guard = tracing::subscriber::set_default(subscriber);
        let sink = Memory::default();
        let events = SecurityEvents::with_sink(sink.clone());

        let reuse = SecurityEvent::new(SecurityEventKind::RefreshTokenReused)
            .user("u1")
            .session(Some("s1"));
        events.emit(reuse.clone()).await;
        let failure = SecurityEvent::new(SecurityEventKind::SignInFailed)
            .maybe_user(None)
            .provider("credentials")
            .reason("invalid credentials");
        events.emit(failure.clone()).await;

        let logged = captured.0.lock().expect("not poisoned").clone();
        assert_eq!(logged.len(), 2);
        let (target, level, fields) = &logged[0];
        assert_eq!(target, TARGET);
        assert_eq!(*level, tracing::Level::WARN);
        assert_eq!(field(fields, "kind"), Some("refresh_token_reused"));
        assert_eq!(field(fields, "user_id"), Some("u1"));
        assert_eq!(field(fields, "session_id"), Some("s1"));
        let (target, level, fields) = &logged[1];
        assert_eq!(target, TARGET);
        assert_eq!(*level, tracing::Level::INFO);
        assert_eq!(field(fields, "kind"), Some("sign_in_failed"));
        assert_eq!(field(fields, "user_id"), None);
        assert_eq!(field(fields, "reason"), Some("invalid credentials"));

        let stored = sink.0.lock().expect("not poisoned").clone();
        assert_eq!(stored, vec![reuse, failure]);
    }

    #[test]
    fn kind_names_are_unique() {
        use SecurityEventKind as K;
        let kinds = [
            K::AccountCreated,
            K::SignInSucceeded,
            K::SignInFailed,
            K::AccountLocked,
            K::RefreshTokenReused,
            K::SessionRevoked,
            K::PasswordReset,
            K::PasswordChanged,
            K::EmailChanged,
            K::RoleAssigned,
            K::RoleRevoked,
            K::RoleCreated,
            K::RoleDeleted,
            K::RolePermissionsChanged,
            K::OAuthLinked,
            K::OAuthUnlinked,
            K::AccountDeleted,
        ];
        let names: std::collections::HashSet<_> = kinds.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), kinds.len());
    }
}
