//! Login lockout, rate limits and the client address they are keyed by.
//!
//! The counters live in a [`StateStore`], so instances that share one count together.
//! Keys carry a SHA-256 of the normalised e-mail address, never the address itself.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::store::StoreError;
use crate::store::state::{Expiry, StateStore};

const SECURITY: &str = "fastauth::security";

/// Login lockout: after `max_attempts` failed logins for one address within `window`, every
/// login for it is refused for `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutConfig {
    /// Failed attempts that lock the address (default 5).
    pub max_attempts: u32,
    /// How long the lock lasts (default 300 s).
    pub duration: Duration,
    /// How long the failure counter lives after the latest failure (default 900 s), so
    /// only failures within this rolling window accumulate.
    pub window: Duration,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            duration: Duration::from_secs(300),
            window: Duration::from_secs(900),
        }
    }
}

/// A limit of `max_requests` per fixed `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub max_requests: u32,
    /// The window's length.
    pub window: Duration,
}

impl RateLimit {
    /// Creates a limit of `max_requests` per `window`.
    pub const fn new(max_requests: u32, window: Duration) -> Self {
        Self {
            max_requests,
            window,
        }
    }
}

/// The rate limits of the anonymous routes; both are off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests per client address and route. IPv6 clients are counted per /64 network,
    /// because a provider usually assigns a whole /64 to one customer.
    pub per_ip: Option<RateLimit>,
    /// Requests per account (the normalised e-mail address, or the user of a refresh
    /// token) and route.
    pub per_account: Option<RateLimit>,
}

/// A route that counts toward the rate limits. Each has counters of its own.
// NOTE: `Passkey` is checked by no route: passkeys do not exist in this version yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitedRoute {
    /// `POST /auth/login`.
    Login,
    /// `POST /auth/register`.
    Register,
    /// `POST /auth/refresh`.
    Refresh,
    /// `POST /auth/forgot-password`.
    ForgotPassword,
    /// `POST /auth/reset-password`.
    ResetPassword,
    /// `POST /auth/request-verify-email` and `/auth/verify-email`.
    Verification,
    /// `POST /auth/magic-links/login`.
    MagicLink,
    /// `POST /auth/passkeys/authenticate/*`.
    Passkey,
    /// `GET /auth/oauth/{provider}/authorize` and the OAuth callbacks, per client address.
    OAuth,
}

impl LimitedRoute {
    /// Returns the route's name in state keys and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::Refresh => "refresh",
            Self::ForgotPassword => "forgot-password",
            Self::ResetPassword => "reset-password",
            Self::Verification => "verification",
            Self::MagicLink => "magic-link",
            Self::Passkey => "passkey",
            Self::OAuth => "oauth",
        }
    }
}

/// The source of the client address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ClientIpSource {
    /// The TCP peer address (the default), for clients that connect directly.
    #[default]
    Socket,
    /// A header that trusted reverse proxies set, like `X-Forwarded-For` or `X-Real-IP`.
    ///
    /// The header may list several addresses, each proxy appending the address it received
    /// the request from. The client can write anything into the list before it reaches the
    /// first proxy, so the address used is the one `trusted_proxies` entries from the right:
    /// the one the outermost trusted proxy saw. With one proxy that is the last entry. When
    /// the header is missing or unreadable, the peer address is used.
    Header {
        /// The header's name, case-insensitive.
        name: String,
        /// How many proxies in front of the service append to the header (at least 1).
        trusted_proxies: usize,
    },
}

impl ClientIpSource {
    /// Chooses the client address from the peer address and the request's headers.
    pub fn client_ip(
        &self,
        peer: Option<IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<IpAddr> {
        let Self::Header {
            name,
            trusted_proxies,
        } = self
        else {
            return peer;
        };
        // Every occurrence of the header counts, in order, as one comma-separated list.
        let entries: Vec<&str> = headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let index = entries.len().checked_sub((*trusted_proxies).max(1));
        let forwarded = index.and_then(|i| parse_ip(entries[i]));
        if forwarded.is_none() {
            tracing::debug!(
                target: "fastauth::http",
                header = %name,
                "client address header missing or invalid: using the peer address"
            );
        }
        forwarded.or(peer)
    }
}

/// Parses an address as proxies write it: bare, `[v6]`, or with a port.
fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = text.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    text.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|v6| v6.parse().ok())
}

/// The limit that rejected a request, with the time until it lets requests through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The account is locked for this long.
    Locked(Duration),
    /// A rate limit is exhausted for this long.
    RateLimited(Duration),
}

/// Hashes a normalised address with SHA-256, in hex, for the account part of a state key.
fn account_key(account: &str) -> String {
    let digest = Sha256::digest(account.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Formats the client part of a rate-limit key: the address, or its /64 network for IPv6.
fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Checks whether the address is locked, before its password is checked.
pub(crate) async fn check_lockout(
    state: &dyn StateStore,
    email: &str,
) -> Result<Option<Refusal>, StoreError> {
    let lock = state
        .get(&format!("lockout:lock:{}", account_key(email)))
        .await?;
    Ok(lock.map(|lock| Refusal::Locked(lock.expires_in.max(Duration::from_millis(1)))))
}

/// Counts a failed login and locks the address when the count reaches the maximum. The
/// attempt that locks still gets the ordinary `401 Invalid email or password`. Returns whether
/// this failure set the lock.
pub(crate) async fn record_failure(
    state: &dyn StateStore,
    config: &LockoutConfig,
    email: &str,
) -> Result<bool, StoreError> {
    let account = account_key(email);
    let failures_key = format!("lockout:failures:{account}");
    let counter = state
        .increment(&failures_key, config.window, Expiry::Sliding)
        .await?;
    if counter.count < u64::from(config.max_attempts) {
        return Ok(false);
    }
    // Concurrent failures may all pass the maximum; only the first sets the lock, so the
    // others do not extend it.
    let lock_key = format!("lockout:lock:{account}");
    if !state.set_if_absent(&lock_key, "1", config.duration).await? {
        return Ok(false);
    }
    // When the lock expires, counting starts again from zero.
    state.delete(&failures_key).await?;
    Ok(true)
}

/// Clears the failure counter and any lock of an address: after a successful login or a
/// password reset.
pub(crate) async fn clear_lockout(state: &dyn StateStore, email: &str) -> Result<(), StoreError> {
    let account = account_key(email);
    state.delete(&format!("lockout:failures:{account}")).await?;
    state.delete(&format!("lockout:lock:{account}")).await?;
    Ok(())
}

/// Counts one request of `route` against the per-address and per-account limits, and
/// returns the longest wait when one is exceeded.
pub(crate) async fn check_rate_limits(
    state: &dyn StateStore,
    config: &RateLimitConfig,
    route: LimitedRoute,
    ip: Option<IpAddr>,
    account: Option<&str>,
) -> Result<Option<Refusal>, StoreError> {
    let route_name = route.as_str();
    if config.per_ip.is_some() && ip.is_none() {
        warn_unknown_client_once();
    }
    let mut wait: Option<Duration> = None;
    if let (Some(limit), Some(ip)) = (config.per_ip, ip) {
        let key = format!("rate:{route_name}:ip:{}", ip_key(ip));
        if let Some(retry) = count(state, &key, limit).await? {
            // The address is personal data: the log names the route only.
            tracing::info!(target: SECURITY, route = route_name, "address rate limit reached");
            wait = Some(retry);
        }
    }
    if let (Some(limit), Some(account)) = (config.per_account, account) {
        let key = format!("rate:{route_name}:account:{}", account_key(account));
        if let Some(retry) = count(state, &key, limit).await? {
            tracing::info!(target: SECURITY, route = route_name, "account rate limit reached");
            wait = Some(wait.map_or(retry, |w| w.max(retry)));
        }
    }
    Ok(wait.map(Refusal::RateLimited))
}

/// Logs, once per process, that per-address limits cannot apply without a client address.
fn warn_unknown_client_once() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            target: SECURITY,
            "a per-address rate limit is set but the client address is unknown, so only \
             per-account limits apply: serve the router with \
             `into_make_service_with_connect_info::<SocketAddr>()`"
        );
    });
}

/// Counts one request on `key`; the remaining window when the limit is exceeded.
async fn count(
    state: &dyn StateStore,
    key: &str,
    limit: RateLimit,
) -> Result<Option<Duration>, StoreError> {
    let counter = state.increment(key, limit.window, Expiry::Fixed).await?;
    if counter.count > u64::from(limit.max_requests) {
        Ok(Some(counter.expires_in.max(Duration::from_millis(1))))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    #[test]
    fn socket_source_ignores_headers() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = ClientIpSource::Socket.client_ip(Some(peer), &headers(&["203.0.113.9"]));
        assert_eq!(ip, Some(peer));
    }

    #[test]
    fn forwarded_for_counts_from_right() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let one = ClientIpSource::Header {
            name: "X-Forwarded-For".to_owned(),
            trusted_proxies: 1,
        };
        // The client forged the first entry; the proxy appended the real one.
        let forged = headers(&["1.2.3.4, 203.0.113.9"]);
        assert_eq!(
            one.client_ip(Some(peer), &forged),
            "203.0.113.9".parse().ok()
        );
        let two = ClientIpSource::Header {
            name: "x-forwarded-for".to_owned(),
            trusted_proxies: 2,
        };
        let split = headers(&["1.2.3.4", "203.0.113.9, 10.0.0.7"]);
        assert_eq!(
            two.client_ip(Some(peer), &split),
            "203.0.113.9".parse().ok()
        );
        // Fewer entries than proxies: the header cannot be trusted.
        assert_eq!(
            two.client_ip(Some(peer), &headers(&["203.0.113.9"])),
            Some(peer)
        );
        assert_eq!(one.client_ip(Some(peer), &HeaderMap::new()), Some(peer));
        assert_eq!(one.client_ip(Some(peer), &headers(&["junk"])), Some(peer));
    }

    #[test]
    fn forwarded_addresses_with_ports() {
        assert_eq!(parse_ip("203.0.113.9:4711"), "203.0.113.9".parse().ok());
        assert_eq!(parse_ip("[2001:db8::1]:443"), "2001:db8::1".parse().ok());
        assert_eq!(parse_ip("[2001:db8::1]"), "2001:db8::1".parse().ok());
        assert_eq!(parse_ip("unknown"), None);
    }

    #[test]
    fn ipv6_keyed_by_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_eq!(ip_key(a), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.1");
    }

    #[tokio::test]
    async fn lockout_after_max_failures() {
        let state = crate::store::MemoryStateStore::new();
        let config = LockoutConfig {
            max_attempts: 3,
            ..LockoutConfig::default()
        };
        for _ in 0..3 {
            assert_eq!(check_lockout(&state, "a@example.com").await.unwrap(), None);
            record_failure(&state, &config, "a@example.com")
                .await
                .unwrap();
        }
        let refusal = check_lockout(&state, "a@example.com").await.unwrap();
        let Some(Refusal::Locked(wait)) = refusal else {
            panic!("expected a lock, got {refusal:?}");
        };
        assert!(wait <= Duration::from_secs(300), "{wait:?}");
        assert!(wait > Duration::from_secs(298), "{wait:?}");
        assert_eq!(check_lockout(&state, "b@example.com").await.unwrap(), None);
        clear_lockout(&state, "a@example.com").await.unwrap();
        assert_eq!(check_lockout(&state, "a@example.com").await.unwrap(), None);
    }
}
