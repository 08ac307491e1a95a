//! Configuration, checked once when [`crate::Auth`] is built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::cookies::{CookieConfig, SameSite, TokenDelivery};
use super::keys::JwtAlgorithm;
use super::limits::{ClientIpSource, LockoutConfig, RateLimit, RateLimitConfig};
use crate::store::StateStore;

/// A setting with an invalid value; the message names the setting and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{setting}`: {message}")]
pub struct ConfigError {
    /// The setting's name.
    pub setting: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self {
            setting,
            message: message.into(),
        }
    }
}

/// The HMAC secret that signs tokens. Its `Debug` output never shows the value.
#[derive(Clone)]
pub struct Secret(String);

/// The shortest accepted secret, in bytes: an HS256 key should be at least as long as the
/// hash output (RFC 7518, section 3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Secrets copied from documentation and templates. A secret containing one of these is
/// refused, because everyone who read the same page knows it.
const PLACEHOLDERS: [&str; 8] = [
    "changeme",
    "change-me",
    "change_me",
    "your-secret",
    "your_secret",
    "replace-me",
    "placeholder",
    "secret-key-here",
];

impl Secret {
    /// Checks a secret: at least [`MIN_SECRET_BYTES`] bytes, not a known placeholder, and
    /// not one character repeated.
    pub fn new(secret: impl Into<String>) -> Result<Self, ConfigError> {
        let secret = secret.into();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::new(
                "secret",
                format!(
                    "the secret is {} bytes long and must be at least {MIN_SECRET_BYTES}: \
                     generate one with `openssl rand -base64 48`",
                    secret.len()
                ),
            ));
        }
        let lower = secret.to_lowercase();
        if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
            return Err(ConfigError::new(
                "secret",
                "the secret looks like a documentation placeholder: \
                 generate one with `openssl rand -base64 48`",
            ));
        }
        let mut chars = secret.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(ConfigError::new(
                "secret",
                "the secret repeats one character: generate one with `openssl rand -base64 48`",
            ));
        }
        Ok(Self(secret))
    }

    /// Generates a random 64-byte secret, for development servers that were given none.
    pub fn generate() -> Self {
        use base64::Engine as _;
        let bytes: [u8; 48] = rand::random();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Password rules and hashing parameters.
#[derive(Debug, Clone)]
pub struct PasswordConfig {
    /// Minimum length in Unicode scalar values (default 8).
    pub min_length: usize,
    /// Maximum length in Unicode scalar values (default 128); longer passwords are rejected
    /// before any hashing.
    pub max_length: usize,
    /// Require an ASCII upper-case letter.
    pub require_uppercase: bool,
    /// Require an ASCII lower-case letter.
    pub require_lowercase: bool,
    /// Require a decimal digit.
    pub require_digit: bool,
    /// Require one of `` !@#$%^&*(),.?":{}|<> ``.
    pub require_special: bool,
    /// Argon2id memory cost in KiB (default 19456, OWASP's recommendation).
    pub memory_kib: u32,
    /// Argon2id iterations (default 2).
    pub iterations: u32,
    /// Argon2id lanes (default 1).
    pub parallelism: u32,
    /// How many hashes may run at once (default: the number of CPUs).
    pub max_concurrent_hashes: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            require_uppercase: false,
            require_lowercase: false,
            require_digit: false,
            require_special: false,
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

impl PasswordConfig {
    /// The parameters Python FastAuth (argon2-cffi's defaults) writes: m=65536, t=3, p=4.
    pub fn argon2_cffi_compatible() -> Self {
        Self {
            memory_kib: 65_536,
            iterations: 3,
            parallelism: 4,
            ..Self::default()
        }
    }

    /// The first policy rule `password` breaks, as the message the API returns.
    pub fn check(&self, password: &str) -> Result<(), String> {
        let length = password.chars().count();
        if length < self.min_length {
            return Err(format!(
                "Password must be at least {} characters long",
                self.min_length
            ));
        }
        if length > self.max_length {
            return Err(format!(
                "Password must be at most {} characters long",
                self.max_length
            ));
        }
        let rules: [PasswordRule; 4] = [
            (
                self.require_uppercase,
                |c| c.is_ascii_uppercase(),
                "Password must contain at least one uppercase letter",
            ),
            (
                self.require_lowercase,
                |c| c.is_ascii_lowercase(),
                "Password must contain at least one lowercase letter",
            ),
            (
                self.require_digit,
                |c| c.is_ascii_digit(),
                "Password must contain at least one digit",
            ),
            (
                self.require_special,
                |c| "!@#$%^&*(),.?\":{}|<>".contains(c),
                "Password must contain at least one special character",
            ),
        ];
        for (required, matches, message) in rules {
            if required && !password.chars().any(matches) {
                return Err(message.to_owned());
            }
        }
        Ok(())
    }
}

/// A password rule: whether it is on, the character test and the message when no
/// character passes.
type PasswordRule = (bool, fn(char) -> bool, &'static str);

/// The longest accepted token lifetime: ten years. Longer ones would overflow the
/// timestamps computed from them.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Everything [`crate::Auth`] needs besides its store.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub(crate) secret: Secret,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) remember_me_ttl: Duration,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Vec<String>,
    pub(crate) prefix: String,
    pub(crate) password: PasswordConfig,
    pub(crate) roles_in_tokens: bool,
    pub(crate) admin_email: Option<String>,
    pub(crate) token_delivery: TokenDelivery,
    pub(crate) cookies: CookieConfig,
    pub(crate) base_url: Option<String>,
    pub(crate) algorithm: JwtAlgorithm,
    pub(crate) private_key_pem: Option<PrivateKeyPem>,
    pub(crate) key_rotation_interval: Option<Duration>,
    pub(crate) key_grace_period: Option<Duration>,
    pub(crate) lockout: Option<LockoutConfig>,
    pub(crate) rate_limits: RateLimitConfig,
    pub(crate) client_ip: ClientIpSource,
    pub(crate) state_store: Option<Arc<dyn StateStore>>,
    pub(crate) lockout_store: Option<Arc<dyn StateStore>>,
    pub(crate) mail: Option<crate::mail::SharedTransport>,
    pub(crate) template_dir: Option<std::path::PathBuf>,
    pub(crate) require_verified_email: bool,
    pub(crate) magic_link_ttl: Duration,
    #[cfg(feature = "oauth")]
    pub(crate) oauth: crate::oauth::OAuthSettings,
}

/// A private key in PEM. Its `Debug` output never shows the key.
#[derive(Clone)]
pub(crate) struct PrivateKeyPem(pub(crate) String);

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

impl AuthConfig {
    /// A configuration with the given signing secret and every other setting at its
    /// default: access tokens 900 s, refresh tokens 30 days, remember-me 90 days, no
    /// issuer or audience, routes under `/auth`.
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            remember_me_ttl: Duration::from_secs(90 * 24 * 3600),
            issuer: None,
            audience: Vec::new(),
            prefix: "/auth".to_owned(),
            password: PasswordConfig::default(),
            roles_in_tokens: false,
            admin_email: None,
            token_delivery: TokenDelivery::Bearer,
            cookies: CookieConfig::default(),
            base_url: None,
            algorithm: JwtAlgorithm::HS256,
            private_key_pem: None,
            key_rotation_interval: None,
            key_grace_period: None,
            lockout: Some(LockoutConfig::default()),
            rate_limits: RateLimitConfig::default(),
            client_ip: ClientIpSource::Socket,
            state_store: None,
            lockout_store: None,
            mail: None,
            template_dir: None,
            require_verified_email: false,
            magic_link_ttl: Duration::from_secs(15 * 60),
            #[cfg(feature = "oauth")]
            oauth: crate::oauth::OAuthSettings::default(),
        }
    }

    /// Sets the signing algorithm (default HS256, with the secret).
    ///
    /// An asymmetric algorithm (RS256, RS384, RS512, EdDSA) signs with the key of
    /// [`AuthConfig::private_key_pem`] when one is set. Otherwise the service generates a
    /// key pair and keeps it in the store, so every instance on the same database signs with
    /// the same key. The public keys are served at `/.well-known/jwks.json`.
    pub fn algorithm(mut self, algorithm: JwtAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the private key of an asymmetric algorithm, in PEM: RSA as PKCS#1 or PKCS#8
    /// (at least 2048 bits), Ed25519 as PKCS#8. The key is checked when the service is built.
    pub fn private_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.private_key_pem = Some(PrivateKeyPem(pem.into()));
        self
    }

    /// Replaces the signing key with a newly generated one whenever the current one is this
    /// old. Only for generated keys (no [`AuthConfig::private_key_pem`]). Without an
    /// interval, keys change only through [`crate::Auth::rotate_signing_key`].
    pub fn key_rotation_interval(mut self, interval: Duration) -> Self {
        self.key_rotation_interval = Some(interval);
        self
    }

    /// Sets how long a replaced key keeps verifying tokens after its successor was created.
    ///
    /// The default depends on the rotation interval: with one, the longer of twice the
    /// interval and the longest token lifetime, so that every token a key signed expires
    /// before the key is dropped. Without one, replaced keys are kept.
    pub fn key_grace_period(mut self, grace: Duration) -> Self {
        self.key_grace_period = Some(grace);
        self
    }

    /// Returns the signing algorithm.
    pub fn signing_algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Returns how long a replaced key keeps verifying, or `None` when replaced keys are
    /// kept (see [`AuthConfig::key_grace_period`]).
    pub fn effective_key_grace_period(&self) -> Option<Duration> {
        if let Some(grace) = self.key_grace_period {
            return Some(grace);
        }
        let interval = self.key_rotation_interval?;
        let longest_token = self
            .access_ttl
            .max(self.refresh_ttl)
            .max(self.remember_me_ttl);
        Some(interval.saturating_mul(2).max(longest_token))
    }

    /// Sets the transport of the e-mails the flows send (verification, password reset,
    /// address change, magic link, welcome). Without one, tokens are still created and no
    /// e-mail leaves.
    pub fn mail(mut self, transport: impl crate::mail::MailTransport) -> Self {
        self.mail = Some(crate::mail::SharedTransport(std::sync::Arc::new(transport)));
        self
    }

    /// Sets a transport shared with other code, as [`AuthConfig::mail`] does.
    pub fn mail_shared(
        mut self,
        transport: std::sync::Arc<dyn crate::mail::MailTransport>,
    ) -> Self {
        self.mail = Some(crate::mail::SharedTransport(transport));
        self
    }

    /// Names a directory whose template files replace the built-in ones of the same name
    /// (`verification.jinja2`, `verification.txt.jinja2`, ...). Missing files stay built in.
    pub fn template_dir(mut self, directory: impl Into<std::path::PathBuf>) -> Self {
        self.template_dir = Some(directory.into());
        self
    }

    /// Requires a verified address before any sign-in: registration then issues no tokens
    /// and sends the verification e-mail, and login of an unverified account fails
    /// with `403 Email not verified`. Off by default.
    pub fn require_verified_email(mut self, required: bool) -> Self {
        self.require_verified_email = required;
        self
    }

    /// Sets the lifetime of magic links; 15 minutes by default.
    pub fn magic_link_ttl(mut self, ttl: Duration) -> Self {
        self.magic_link_ttl = ttl;
        self
    }

    /// Returns the base URL that e-mailed links start with: the configured one without a
    /// trailing `/`, else `http://localhost:8000`.
    pub fn link_base(&self) -> &str {
        self.base_url
            .as_deref()
            .map_or("http://localhost:8000", |url| url.trim_end_matches('/'))
    }

    /// Adds `roles` and `permissions` arrays to every token, for guards that read only the
    /// claims (`HasRoleClaim`, `HasPermissionClaim`). Off by default.
    ///
    /// A token then carries the roles its user had when it was issued: a role revoked later
    /// still passes these guards until the access token expires (the access-token lifetime,
    /// 900 s by default), and a role granted later appears after the next refresh. The
    /// guards that read the store (`HasRole`, `HasPermission`) see every change at once.
    pub fn roles_in_tokens(mut self, enabled: bool) -> Self {
        self.roles_in_tokens = enabled;
        self
    }

    /// Names the account that gets the `admin` role: at start-up through
    /// [`crate::Auth::bootstrap_admin`] if the account exists, else when it registers. The
    /// address is normalised like every e-mail address of the API.
    ///
    /// Whoever first registers this address becomes an administrator, so set it only until
    /// the intended person has an account.
    pub fn admin_email(mut self, email: impl Into<String>) -> Self {
        self.admin_email = Some(email.into());
        self
    }

    /// Sets the access-token lifetime.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Sets the refresh-token lifetime.
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// Sets the refresh-token lifetime of a login with `"remember": true`.
    pub fn remember_me_ttl(mut self, ttl: Duration) -> Self {
        self.remember_me_ttl = ttl;
        self
    }

    /// Sets the `iss` claim written into tokens and required of every verified token.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the `aud` claim written into tokens; a verified token must name one of them.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the route prefix (default `/auth`): a leading `/`, no trailing `/`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Chooses how sign-in responses deliver the tokens (default [`TokenDelivery::Bearer`]).
    pub fn token_delivery(mut self, delivery: TokenDelivery) -> Self {
        self.token_delivery = delivery;
        self
    }

    /// Sets the cookie names, attributes and the CSRF check.
    pub fn cookies(mut self, cookies: CookieConfig) -> Self {
        self.cookies = cookies;
        self
    }

    /// Sets the public base URL of the service, like `https://app.example.com`. Cookies are
    /// `Secure` unless this URL is plain `http`, and an explicit [`CookieConfig::secure`]
    /// overrides that default.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Returns whether the auth cookies carry `Secure`: the explicit setting, else on unless
    /// the base URL is plain `http`.
    pub fn cookie_secure(&self) -> bool {
        self.cookies.secure.unwrap_or_else(|| {
            !self
                .base_url
                .as_deref()
                .is_some_and(|url| url.to_ascii_lowercase().starts_with("http://"))
        })
    }

    /// Sets the login lockout (default: 5 failures within 900 s lock the address for
    /// 300 s); `None` turns it off.
    pub fn lockout(mut self, lockout: Option<LockoutConfig>) -> Self {
        self.lockout = lockout;
        self
    }

    /// Sets the rate limits of the anonymous routes (default: none).
    pub fn rate_limits(mut self, limits: RateLimitConfig) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Sets where the client address comes from (default: the TCP peer). Name a header only
    /// when every request passes through proxies that set it, or clients choose their own
    /// address.
    pub fn client_ip(mut self, source: ClientIpSource) -> Self {
        self.client_ip = source;
        self
    }

    /// Sets the store of short-lived state, such as rate-limit counters. Default: the
    /// service's SQL database with [`crate::Auth::with_pool`], else process memory. Several
    /// instances behind one load balancer need a shared one: SQL or Redis. Lockout counters
    /// have a setting of their own, [`AuthConfig::lockout_store`].
    pub fn state_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.state_store = Some(store);
        self
    }

    /// Sets the store of failed-login counters and locks. Default: the service's SQL
    /// database with [`crate::Auth::with_pool`], even when the state store is Redis, so that
    /// locks survive a restart of Redis. Without `with_pool`, the [`AuthConfig::state_store`].
    pub fn lockout_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.lockout_store = Some(store);
        self
    }

    /// Sets the password rules and hashing parameters.
    pub fn password(mut self, password: PasswordConfig) -> Self {
        self.password = password;
        self
    }

    /// Checks the settings that can only be checked together.
    /// Signs in with Google: the declaration must list `Google`. Without this setting the
    /// Google routes return `404 OAuth provider 'google' not found`.
    #[cfg(feature = "oauth-google")]
    pub fn google(mut self, google: crate::oauth::GoogleConfig) -> Self {
        self.oauth.google = Some(google);
        self
    }

    /// Signs in with GitHub: the declaration must list `GitHub`. Without this setting the
    /// GitHub routes return `404 OAuth provider 'github' not found`.
    #[cfg(feature = "oauth-github")]
    pub fn github(mut self, github: crate::oauth::GitHubConfig) -> Self {
        self.oauth.github = Some(github);
        self
    }

    /// Accepts these `redirect_uri` values at `/oauth/{provider}/authorize` and `/link`,
    /// besides the server's own callback URLs (`{base_url}{prefix}/oauth/{provider}/callback`
    /// and `.../link/callback`). Values are compared as exact strings: list each front-end
    /// page as the provider sends the browser to it. Anything else is refused with
    /// `400 redirect_uri is not allowed`.
    #[cfg(feature = "oauth")]
    pub fn allowed_redirects<I, S>(mut self, redirects: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.oauth.allowed_redirects = redirects.into_iter().map(Into::into).collect();
        self
    }

    /// After a successful OAuth sign-in callback, responds `302` to `url` with the auth
    /// cookies set, in either delivery mode, instead of a JSON body. Tokens never appear in
    /// the URL.
    #[cfg(feature = "oauth")]
    pub fn oauth_success_redirect(mut self, url: impl Into<String>) -> Self {
        self.oauth.success_redirect = Some(url.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        #[cfg(feature = "oauth")]
        self.oauth.validate()?;
        let prefix = &self.prefix;
        let prefix_ok = prefix.is_empty()
            || (prefix.starts_with('/') && !prefix.ends_with('/') && !prefix.contains("//"));
        if !prefix_ok {
            return Err(ConfigError::new(
                "prefix",
                format!("`{prefix}` must start with `/` and not end with `/`, like `/auth`"),
            ));
        }
        if let Some(directory) = &self.template_dir
            && !directory.is_dir()
        {
            return Err(ConfigError::new(
                "template_dir",
                format!("{} is not a directory", directory.display()),
            ));
        }
        for (setting, ttl) in [
            ("magic_link_ttl", self.magic_link_ttl),
            ("access_ttl", self.access_ttl),
            ("refresh_ttl", self.refresh_ttl),
            ("remember_me_ttl", self.remember_me_ttl),
        ] {
            if ttl.as_secs() == 0 {
                return Err(ConfigError::new(setting, "must be at least one second"));
            }
            if ttl > MAX_TOKEN_TTL {
                return Err(ConfigError::new(
                    setting,
                    format!(
                        "{} seconds is longer than the maximum of {} (ten years)",
                        ttl.as_secs(),
                        MAX_TOKEN_TTL.as_secs()
                    ),
                ));
            }
        }
        if self.cookies.same_site == SameSite::None && !self.cookie_secure() {
            return Err(ConfigError::new(
                "cookies.same_site",
                "SameSite=None requires Secure cookies, and browsers drop the cookies otherwise: \
                 set `secure` to true or choose Lax or Strict",
            ));
        }
        let names = [
            &self.cookies.access_name,
            &self.cookies.refresh_name,
            &self.cookies.csrf_name,
            &self.cookies.csrf_header,
        ];
        if names.iter().any(|name| !is_token(name)) {
            return Err(ConfigError::new(
                "cookies",
                "cookie and header names must be non-empty and contain only letters, digits \
                 and `!#$%&'*+-.^_`|~`",
            ));
        }
        self.validate_signing()?;
        self.validate_limits()?;
        let p = &self.password;
        if p.min_length == 0 || p.min_length > p.max_length {
            return Err(ConfigError::new(
                "password.min_length",
                format!(
                    "must be between 1 and max_length ({}), got {}",
                    p.max_length, p.min_length
                ),
            ));
        }
        if p.max_length > 4096 {
            return Err(ConfigError::new(
                "password.max_length",
                format!("must be at most 4096 characters, got {}", p.max_length),
            ));
        }
        Ok(())
    }
}

impl AuthConfig {
    fn validate_signing(&self) -> Result<(), ConfigError> {
        if !self.algorithm.is_asymmetric() && self.private_key_pem.is_some() {
            return Err(ConfigError::new(
                "private_key_pem",
                format!(
                    "{} signs with the secret and uses no private key: choose RS256, RS384, \
                     RS512 or EdDSA, or remove the key",
                    self.algorithm
                ),
            ));
        }
        if let Some(interval) = self.key_rotation_interval {
            if !self.algorithm.is_asymmetric() {
                return Err(ConfigError::new(
                    "key_rotation_interval",
                    format!(
                        "{} signs with the secret, which is not rotated: choose RS256, RS384, \
                         RS512 or EdDSA, or remove the interval",
                        self.algorithm
                    ),
                ));
            }
            if self.private_key_pem.is_some() {
                return Err(ConfigError::new(
                    "key_rotation_interval",
                    "only generated keys are rotated: remove the private key or the interval",
                ));
            }
            if interval < MIN_KEY_ROTATION_INTERVAL || interval > MAX_TOKEN_TTL {
                return Err(ConfigError::new(
                    "key_rotation_interval",
                    format!(
                        "{} seconds is outside {} seconds to ten years",
                        interval.as_secs(),
                        MIN_KEY_ROTATION_INTERVAL.as_secs()
                    ),
                ));
            }
        }
        if self
            .key_grace_period
            .is_some_and(|grace| grace > MAX_TOKEN_TTL)
        {
            return Err(ConfigError::new(
                "key_grace_period",
                "must be at most ten years",
            ));
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        if let Some(lockout) = &self.lockout {
            if lockout.max_attempts == 0 {
                return Err(ConfigError::new(
                    "lockout.max_attempts",
                    "must be at least 1",
                ));
            }
            if lockout.duration.is_zero() || lockout.window.is_zero() {
                return Err(ConfigError::new(
                    "lockout",
                    "`duration` and `window` must be at least one second",
                ));
            }
        }
        let limits = [
            ("rate_limits.per_ip", self.rate_limits.per_ip),
            ("rate_limits.per_account", self.rate_limits.per_account),
        ];
        for (setting, limit) in limits {
            if let Some(RateLimit {
                max_requests,
                window,
            }) = limit
                && (max_requests == 0 || window.is_zero())
            {
                return Err(ConfigError::new(
                    setting,
                    "`max_requests` and `window` must be above zero",
                ));
            }
        }
        if let ClientIpSource::Header {
            name,
            trusted_proxies,
        } = &self.client_ip
        {
            if !is_token(name) {
                return Err(ConfigError::new(
                    "client_ip",
                    format!("`{name}` is not a valid header name"),
                ));
            }
            if *trusted_proxies == 0 {
                return Err(ConfigError::new(
                    "client_ip",
                    "`trusted_proxies` must be at least 1: the header is only as trustworthy \
                     as the proxy that sets it",
                ));
            }
        }
        Ok(())
    }
}

/// The shortest key rotation interval: rotating more often than every minute would outrun
/// the other instances, which reload the key set once a minute.
pub const MIN_KEY_ROTATION_INTERVAL: Duration = Duration::from_secs(60);

/// Checks that `name` is an HTTP token (RFC 9110, section 5.6.2), as cookie and header
/// names must be.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secret_is_rejected() {
        let error = Secret::new("short").unwrap_err();
        assert_eq!(error.setting, "secret");
        assert!(error.message.contains("5 bytes"), "{}", error.message);
    }

    #[test]
    fn placeholder_secret_is_rejected() {
        assert!(Secret::new("please-changeme-before-deploying-this-app").is_err());
        assert!(Secret::new("a".repeat(40)).is_err());
        assert!(Secret::new("k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4").is_ok());
    }

    #[test]
    fn secret_debug_hides_value() {
        let secret = Secret::new("k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn policy_messages_in_order() {
        let strict = PasswordConfig {
            require_uppercase: true,
            require_lowercase: true,
            require_digit: true,
            require_special: true,
            ..PasswordConfig::default()
        };
        let cases = [
            ("short", "Password must be at least 8 characters long"),
            (
                "alllowercase",
                "Password must contain at least one uppercase letter",
            ),
            (
                "ALLUPPERCASE",
                "Password must contain at least one lowercase letter",
            ),
            ("NoDigitsHere", "Password must contain at least one digit"),
            (
                "NoSpecial123",
                "Password must contain at least one special character",
            ),
        ];
        for (password, message) in cases {
            assert_eq!(strict.check(password).unwrap_err(), message, "{password}");
        }
        assert!(strict.check("Good1Pass!").is_ok());
        let long = "é".repeat(129);
        assert_eq!(
            PasswordConfig::default().check(&long).unwrap_err(),
            "Password must be at most 128 characters long"
        );
        // Counted in characters, not bytes: 8 two-byte characters pass.
        assert!(PasswordConfig::default().check(&"é".repeat(8)).is_ok());
    }

    #[test]
    fn same_site_none_needs_secure() {
        let insecure = CookieConfig {
            same_site: SameSite::None,
            secure: Some(false),
            ..CookieConfig::default()
        };
        let config = AuthConfig::new(Secret::generate()).cookies(insecure);
        assert_eq!(config.validate().unwrap_err().setting, "cookies.same_site");
        let plain_http = CookieConfig {
            same_site: SameSite::None,
            ..CookieConfig::default()
        };
        let config = AuthConfig::new(Secret::generate())
            .base_url("http://127.0.0.1:8000")
            .cookies(plain_http.clone());
        assert!(config.validate().is_err());
        let config = AuthConfig::new(Secret::generate()).cookies(plain_http);
        assert!(config.validate().is_ok(), "Secure is on by default");
    }

    #[test]
    fn secure_default_follows_base_url() {
        let config = AuthConfig::new(Secret::generate());
        assert!(config.cookie_secure());
        assert!(
            !config
                .clone()
                .base_url("http://localhost:8000")
                .cookie_secure()
        );
        assert!(config.clone().base_url("https://a.example").cookie_secure());
        let explicit = CookieConfig {
            secure: Some(true),
            ..CookieConfig::default()
        };
        let config = config.base_url("http://localhost").cookies(explicit);
        assert!(config.cookie_secure());
    }

    #[test]
    fn limits_are_checked() {
        let config = || AuthConfig::new(Secret::generate());
        let no_attempts = LockoutConfig {
            max_attempts: 0,
            ..LockoutConfig::default()
        };
        let error = config().lockout(Some(no_attempts)).validate().unwrap_err();
        assert_eq!(error.setting, "lockout.max_attempts");
        let no_window = LockoutConfig {
            window: Duration::ZERO,
            ..LockoutConfig::default()
        };
        assert!(config().lockout(Some(no_window)).validate().is_err());
        assert!(config().lockout(None).validate().is_ok());

        let zero = RateLimitConfig {
            per_account: Some(RateLimit::new(0, Duration::from_secs(60))),
            per_ip: None,
        };
        let error = config().rate_limits(zero).validate().unwrap_err();
        assert_eq!(error.setting, "rate_limits.per_account");

        let header = |name: &str, trusted_proxies| ClientIpSource::Header {
            name: name.to_owned(),
            trusted_proxies,
        };
        let no_proxies = config().client_ip(header("X-Forwarded-For", 0));
        assert_eq!(no_proxies.validate().unwrap_err().setting, "client_ip");
        let bad_name = config().client_ip(header("X Forwarded For", 1));
        assert_eq!(bad_name.validate().unwrap_err().setting, "client_ip");
        assert!(
            config()
                .client_ip(header("X-Real-IP", 1))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn prefix_is_checked() {
        let secret = Secret::generate();
        assert!(AuthConfig::new(secret.clone()).validate().is_ok());
        assert!(
            AuthConfig::new(secret.clone())
                .prefix("auth")
                .validate()
                .is_err()
        );
        assert!(AuthConfig::new(secret).prefix("/auth/").validate().is_err());
    }
}
