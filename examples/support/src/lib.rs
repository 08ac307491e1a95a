//! Settings from the environment and serving, shared by the fastauth example servers.
//!
//! Every variable is read once at start-up. An invalid value ends the process with status 2
//! and a one-line message on standard error that names the variable.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use std::sync::Arc;

use fastauth::mail::{ConsoleTransport, SmtpTransport, WebhookTransport};
use fastauth::oauth::{GitHubConfig, GoogleConfig, Provider};
use fastauth::{
    AuthConfig, ClientIpSource, CookieConfig, JwtAlgorithm, LockoutConfig, RateLimit,
    RateLimitConfig, Secret, TokenDelivery,
};
use tokio::net::TcpListener;

/// A variable with an invalid value.
#[derive(Debug)]
pub struct SettingError(String);

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingError {}

fn invalid(name: &str, value: &str, expected: &str) -> SettingError {
    SettingError(format!("invalid {name}={value:?}: expected {expected}"))
}

/// Reads a variable; an empty value counts as unset.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn seconds(name: &str, default: u64) -> Result<Duration, SettingError> {
    match var(name) {
        None => Ok(Duration::from_secs(default)),
        Some(value) => match value.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
            _ => Err(invalid(name, &value, "a whole number of seconds above 0")),
        },
    }
}

/// Parses a boolean the way the reference server does: `1/true/yes/on`, `0/false/no/off`.
pub fn boolean(name: &str, default: bool) -> Result<bool, SettingError> {
    match var(name) {
        None => Ok(default),
        Some(value) => match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(invalid(
                name,
                &value,
                "one of 1, true, yes, on, 0, false, no, off",
            )),
        },
    }
}

/// The settings of an example server.
#[derive(Debug)]
pub struct Settings {
    /// `FASTAUTH_BIND`, default `127.0.0.1:8000`.
    pub bind: SocketAddr,
    /// `DATABASE_URL`, default `sqlite://fastauth.db`.
    pub database_url: String,
    /// `FASTAUTH_BASE_URL`, default `http://` + the bind address.
    pub base_url: String,
    /// `REDIS_URL`: where rate-limit counters and other short-lived state live when set.
    pub redis_url: Option<String>,
    /// The auth configuration built from the token and secret variables.
    pub auth: AuthConfig,
}

impl Settings {
    /// Reads every variable and chooses where short-lived state lives. Rate-limit counters
    /// (and later OAuth states and passkey challenges) go to Redis when `REDIS_URL` is set,
    /// shared by every instance, else to process memory. Lockout counters stay in the
    /// database, the default of `with_pool`.
    pub async fn load() -> Result<Self, SettingError> {
        reject_unsupported_settings(&[
            "GOOGLE_CLIENT_ID",
            "GITHUB_CLIENT_ID",
            "FASTAUTH_CORS_ORIGINS",
        ])?;
        Self::load_checked().await
    }

    async fn load_checked() -> Result<Self, SettingError> {
        let mut settings = Self::from_env_checked()?;
        let state: Arc<dyn fastauth::store::StateStore> = match &settings.redis_url {
            Some(url) => {
                let store = fastauth::store::RedisStateStore::connect(url)
                    .await
                    .map_err(|e| SettingError(format!("REDIS_URL: connecting failed: {e}")))?;
                tracing::info!("short-lived state is kept in Redis");
                Arc::new(store)
            }
            None => Arc::new(fastauth::store::MemoryStateStore::new()),
        };
        settings.auth = settings.auth.state_store(state);
        Ok(settings)
    }

    /// Reads every variable and the OAuth ones ([`OAuthSettings::from_env`]), for the
    /// examples whose declaration lists `Google` and `GitHub`. The OAuth settings are
    /// returned apart, so that the caller can add defaults of its own before
    /// [`OAuthSettings::apply`].
    pub async fn load_with_oauth() -> Result<(Self, OAuthSettings), SettingError> {
        reject_unsupported_settings(&["FASTAUTH_CORS_ORIGINS"])?;
        let oauth = OAuthSettings::from_env()?;
        Ok((Self::load_checked().await?, oauth))
    }

    /// Reads every variable, without connecting to anything. The OAuth variables are
    /// rejected: [`Settings::load_with_oauth`] reads them.
    pub fn from_env() -> Result<Self, SettingError> {
        reject_unsupported_settings(&[
            "GOOGLE_CLIENT_ID",
            "GITHUB_CLIENT_ID",
            "FASTAUTH_CORS_ORIGINS",
        ])?;
        Self::from_env_checked()
    }

    /// Reads every variable except those that `reject_unsupported_settings` checked.
    fn from_env_checked() -> Result<Self, SettingError> {
        let bind_text = var("FASTAUTH_BIND").unwrap_or_else(|| "127.0.0.1:8000".to_owned());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            invalid(
                "FASTAUTH_BIND",
                &bind_text,
                "host:port, like 127.0.0.1:8000",
            )
        })?;
        let database_url = var("DATABASE_URL").unwrap_or_else(|| "sqlite://fastauth.db".to_owned());
        let base_url = base_url(bind)?;

        let delivery = token_delivery()?;
        // Secure only over https by default, so plain-HTTP test clients keep the cookies.
        let secure = boolean("FASTAUTH_COOKIE_SECURE", base_url.starts_with("https://"))?;

        let algorithm = jwt_algorithm()?;
        let secret = secret(&base_url, algorithm)?;
        let mut auth = AuthConfig::new(secret)
            .access_ttl(seconds("FASTAUTH_ACCESS_TOKEN_TTL", 900)?)
            .refresh_ttl(seconds("FASTAUTH_REFRESH_TOKEN_TTL", 2_592_000)?)
            .remember_me_ttl(seconds("FASTAUTH_REMEMBER_ME_TTL", 7_776_000)?)
            .token_delivery(delivery)
            .base_url(base_url.clone())
            .cookies(CookieConfig {
                secure: Some(secure),
                ..CookieConfig::default()
            });
        if let Some(issuer) = var("FASTAUTH_JWT_ISSUER") {
            auth = auth.issuer(issuer);
        }
        if let Some(audience) = var("FASTAUTH_JWT_AUDIENCE") {
            let list: Vec<String> = audience
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            if !list.is_empty() {
                auth = auth.audience(list);
            }
        }
        // The account with this address gets the `admin` role: `bootstrap_admin` grants it
        // at start-up when the account exists, and registration grants it otherwise.
        if let Some(email) = var("FASTAUTH_ADMIN_EMAIL") {
            auth = auth.admin_email(email);
        }
        auth = auth.algorithm(algorithm);
        if let Some(path) = var("FASTAUTH_JWT_PRIVATE_KEY") {
            auth = auth.private_key_pem(private_key(&path, algorithm)?);
        }
        auth = mail_transport(auth)?
            .require_verified_email(boolean("FASTAUTH_REQUIRE_VERIFIED_EMAIL", false)?);

        let auth = auth
            .lockout(Some(lockout()?))
            .rate_limits(rate_limits()?)
            .client_ip(client_ip()?);
        let redis_url = var("REDIS_URL");
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(invalid(
                "REDIS_URL",
                url,
                "redis://host:port or rediss://host:port",
            ));
        }

        Ok(Self {
            bind,
            database_url,
            base_url,
            redis_url,
            auth,
        })
    }
}

/// Reads `FASTAUTH_JWT_ALG`: `HS256` (default), `HS384`, `HS512`, `RS256`, `RS384`, `RS512`
/// or `EdDSA`.
fn jwt_algorithm() -> Result<JwtAlgorithm, SettingError> {
    match var("FASTAUTH_JWT_ALG") {
        None => Ok(JwtAlgorithm::HS256),
        Some(value) => value.parse().map_err(|_| {
            invalid(
                "FASTAUTH_JWT_ALG",
                &value,
                "HS256, HS384, HS512, RS256, RS384, RS512 or EdDSA",
            )
        }),
    }
}

/// Reads the PEM file that `FASTAUTH_JWT_PRIVATE_KEY` names. The service checks the key
/// itself when it is built.
fn private_key(path: &str, algorithm: JwtAlgorithm) -> Result<String, SettingError> {
    if !algorithm.is_asymmetric() {
        return Err(SettingError(format!(
            "FASTAUTH_JWT_PRIVATE_KEY is set, but FASTAUTH_JWT_ALG={algorithm} signs with \
             FASTAUTH_SECRET: set FASTAUTH_JWT_ALG to RS256, RS384, RS512 or EdDSA, or unset \
             the key"
        )));
    }
    std::fs::read_to_string(path).map_err(|error| {
        SettingError(format!(
            "FASTAUTH_JWT_PRIVATE_KEY={path:?}: reading the PEM file failed: {error}"
        ))
    })
}

/// Reads `FASTAUTH_SECRET`. HMAC algorithms need it outside development; asymmetric ones
/// sign with their keys, so a missing secret is replaced by a random one, unused for tokens.
fn secret(base_url: &str, algorithm: JwtAlgorithm) -> Result<Secret, SettingError> {
    if let Some(secret) = var("FASTAUTH_SECRET") {
        return Secret::new(secret).map_err(|e| SettingError(format!("FASTAUTH_SECRET: {e}")));
    }
    if algorithm.is_asymmetric() {
        return Ok(Secret::generate());
    }
    if is_dev_host(base_url) {
        tracing::warn!(
            "FASTAUTH_SECRET is not set: signing with a random development secret. \
             Tokens stop working when the server restarts. Set FASTAUTH_SECRET \
             (at least 32 bytes) for anything but local development."
        );
        return Ok(Secret::generate());
    }
    Err(SettingError(format!(
        "FASTAUTH_SECRET is required when FASTAUTH_BASE_URL ({base_url}) is not a loopback \
         address: set it to at least 32 random bytes"
    )))
}

fn positive(name: &str) -> Result<Option<u64>, SettingError> {
    match var(name) {
        None => Ok(None),
        Some(value) => match value.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(invalid(name, &value, "a whole number above 0")),
        },
    }
}

/// Reads `FASTAUTH_MAX_LOGIN_ATTEMPTS` (default 5) and `FASTAUTH_LOCKOUT_SECONDS` (300).
fn lockout() -> Result<LockoutConfig, SettingError> {
    let defaults = LockoutConfig::default();
    let max_attempts = match positive("FASTAUTH_MAX_LOGIN_ATTEMPTS")? {
        None => defaults.max_attempts,
        Some(n) => u32::try_from(n).map_err(|_| {
            invalid(
                "FASTAUTH_MAX_LOGIN_ATTEMPTS",
                &n.to_string(),
                "a whole number from 1 to 4294967295",
            )
        })?,
    };
    let duration =
        positive("FASTAUTH_LOCKOUT_SECONDS")?.map_or(defaults.duration, Duration::from_secs);
    Ok(LockoutConfig {
        max_attempts,
        duration,
        ..defaults
    })
}

/// Parses `<count>/<seconds>`, like `10/60`.
fn rate_limit(name: &str) -> Result<Option<RateLimit>, SettingError> {
    let Some(value) = var(name) else {
        return Ok(None);
    };
    let parsed = value.split_once('/').and_then(|(count, seconds)| {
        let count = count.trim().parse::<u32>().ok().filter(|n| *n > 0)?;
        let seconds = seconds.trim().parse::<u64>().ok().filter(|n| *n > 0)?;
        Some(RateLimit::new(count, Duration::from_secs(seconds)))
    });
    match parsed {
        Some(limit) => Ok(Some(limit)),
        None => Err(invalid(name, &value, "<count>/<seconds>, like 10/60")),
    }
}

/// Reads `FASTAUTH_RATE_LIMIT` (per client address and route) and
/// `FASTAUTH_ACCOUNT_RATE_LIMIT` (per account and route); both unset by default.
fn rate_limits() -> Result<RateLimitConfig, SettingError> {
    Ok(RateLimitConfig {
        per_ip: rate_limit("FASTAUTH_RATE_LIMIT")?,
        per_account: rate_limit("FASTAUTH_ACCOUNT_RATE_LIMIT")?,
    })
}

/// Reads `FASTAUTH_CLIENT_IP_HEADER` (unset: the peer address) and
/// `FASTAUTH_TRUSTED_PROXIES` (how many proxies append to that header, default 1).
fn client_ip() -> Result<ClientIpSource, SettingError> {
    let proxies = positive("FASTAUTH_TRUSTED_PROXIES")?;
    let Some(name) = var("FASTAUTH_CLIENT_IP_HEADER") else {
        if proxies.is_some() {
            return Err(SettingError(
                "FASTAUTH_TRUSTED_PROXIES needs FASTAUTH_CLIENT_IP_HEADER: name the header \
                 the proxies set, like X-Forwarded-For"
                    .to_owned(),
            ));
        }
        return Ok(ClientIpSource::Socket);
    };
    let valid_name = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_name {
        return Err(invalid(
            "FASTAUTH_CLIENT_IP_HEADER",
            &name,
            "a header name, like X-Forwarded-For",
        ));
    }
    let trusted_proxies = usize::try_from(proxies.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok(ClientIpSource::Header {
        name,
        trusted_proxies,
    })
}

/// Sets the mail transport that `FASTAUTH_EMAIL` names: `console` (default; messages on
/// standard output), `smtp` (to `FASTAUTH_SMTP_URL`, default `smtp://127.0.0.1:1025`) or
/// `webhook` (to `FASTAUTH_WEBHOOK_URL`, required). `FASTAUTH_EMAIL_FROM` is the SMTP
/// `From`, default `FastAuth <noreply@localhost>`.
fn mail_transport(auth: AuthConfig) -> Result<AuthConfig, SettingError> {
    let transport = var("FASTAUTH_EMAIL").unwrap_or_else(|| "console".to_owned());
    match transport.to_ascii_lowercase().as_str() {
        "console" => Ok(auth.mail(ConsoleTransport)),
        "smtp" => {
            let url =
                var("FASTAUTH_SMTP_URL").unwrap_or_else(|| "smtp://127.0.0.1:1025".to_owned());
            let from = var("FASTAUTH_EMAIL_FROM")
                .unwrap_or_else(|| "FastAuth <noreply@localhost>".to_owned());
            let smtp = SmtpTransport::from_url(&url, &from).map_err(|error| {
                SettingError(format!("FASTAUTH_SMTP_URL or FASTAUTH_EMAIL_FROM: {error}"))
            })?;
            Ok(auth.mail(smtp))
        }
        "webhook" => {
            let url = var("FASTAUTH_WEBHOOK_URL").ok_or_else(|| {
                SettingError(
                    "FASTAUTH_WEBHOOK_URL is required when FASTAUTH_EMAIL=webhook: set it to \
                     the URL that receives the JSON POSTs"
                        .to_owned(),
                )
            })?;
            let webhook = WebhookTransport::new(&url)
                .map_err(|error| SettingError(format!("FASTAUTH_WEBHOOK_URL: {error}")))?;
            Ok(auth.mail(webhook))
        }
        _ => Err(invalid(
            "FASTAUTH_EMAIL",
            &transport,
            "console, smtp or webhook",
        )),
    }
}

/// Reads `FASTAUTH_TOKEN_DELIVERY`: `bearer` (default, alias `json`) or `cookie`.
fn token_delivery() -> Result<TokenDelivery, SettingError> {
    let Some(value) = var("FASTAUTH_TOKEN_DELIVERY") else {
        return Ok(TokenDelivery::Bearer);
    };
    match value.to_ascii_lowercase().as_str() {
        "bearer" | "json" => Ok(TokenDelivery::Bearer),
        "cookie" => Ok(TokenDelivery::Cookie),
        _ => Err(invalid(
            "FASTAUTH_TOKEN_DELIVERY",
            &value,
            "bearer, json or cookie",
        )),
    }
}

fn base_url(bind: SocketAddr) -> Result<String, SettingError> {
    let Some(url) = var("FASTAUTH_BASE_URL") else {
        let host = match bind.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        return Ok(format!("http://{host}:{}", bind.port()));
    };
    let trimmed = url.trim_end_matches('/').to_owned();
    let has_host = trimmed
        .split_once("://")
        .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && !rest.is_empty());
    if has_host {
        Ok(trimmed)
    } else {
        Err(invalid(
            "FASTAUTH_BASE_URL",
            &url,
            "an absolute http or https URL, like https://app.example.com",
        ))
    }
}

/// Checks whether the base URL's host is `localhost` or a loopback address.
fn is_dev_host(base_url: &str) -> bool {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Rejects the variables of capabilities this example does not have, so that a server
/// never runs without a capability or protection its operator asked for.
fn reject_unsupported_settings(names: &[&str]) -> Result<(), SettingError> {
    for name in names {
        if var(name).is_none() {
            continue;
        }
        let message = match *name {
            "GOOGLE_CLIENT_ID" | "GITHUB_CLIENT_ID" => format!(
                "{name} is set, but this example has no OAuth sign-in: unset it, or run \
                 examples/oauth or examples/full"
            ),
            _ => format!("{name} is not supported by this version yet: unset it"),
        };
        return Err(SettingError(message));
    }
    Ok(())
}

/// The OAuth variables: the providers with a client, and the redirect settings.
#[derive(Debug, Default)]
pub struct OAuthSettings {
    /// Set when `GOOGLE_CLIENT_ID` and `GOOGLE_CLIENT_SECRET` are.
    pub google: Option<GoogleConfig>,
    /// Set when `GITHUB_CLIENT_ID` and `GITHUB_CLIENT_SECRET` are.
    pub github: Option<GitHubConfig>,
    /// `FASTAUTH_ALLOWED_REDIRECTS`: `redirect_uri` values accepted besides the server's own
    /// callback URLs.
    pub allowed_redirects: Vec<String>,
    /// `FASTAUTH_OAUTH_REDIRECT_URL` or `OAUTH_REDIRECT_URL`: where a successful sign-in
    /// callback sends the browser.
    pub success_redirect: Option<String>,
}

impl OAuthSettings {
    /// Reads the OAuth variables. A provider is on when its client id and secret are both
    /// set; one without the other is an error that names the missing variable.
    pub fn from_env() -> Result<Self, SettingError> {
        let google = match client("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")? {
            None => None,
            Some((id, secret)) => {
                let mut google = GoogleConfig::new(id, secret);
                if let Some(issuer) = absolute_url("GOOGLE_ISSUER_URL")? {
                    google = google.issuer_url(issuer.trim_end_matches('/'));
                }
                Some(google)
            }
        };
        let github = match client("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")? {
            None => None,
            Some((id, secret)) => {
                let mut github = GitHubConfig::new(id, secret);
                if let Some(url) = absolute_url("GITHUB_AUTH_URL")? {
                    github = github.auth_url(url);
                }
                if let Some(url) = absolute_url("GITHUB_TOKEN_URL")? {
                    github = github.token_url(url);
                }
                if let Some(url) = absolute_url("GITHUB_API_URL")? {
                    github = github.api_url(url.trim_end_matches('/'));
                }
                Some(github)
            }
        };
        Ok(Self {
            google,
            github,
            allowed_redirects: allowed_redirects()?,
            success_redirect: success_redirect()?,
        })
    }

    /// Returns the providers that have a client, in the order Google, GitHub.
    pub fn providers(&self) -> Vec<Provider> {
        let mut providers = Vec::new();
        if self.google.is_some() {
            providers.push(Provider::Google);
        }
        if self.github.is_some() {
            providers.push(Provider::GitHub);
        }
        providers
    }

    /// Logs which providers are on, and never a client id or secret.
    pub fn log_providers(&self) {
        let on = |enabled: bool| if enabled { "on" } else { "off" };
        tracing::info!(
            google = on(self.google.is_some()),
            github = on(self.github.is_some()),
            "OAuth sign-in providers"
        );
    }

    /// Adds these settings to `auth`.
    pub fn apply(self, mut auth: AuthConfig) -> AuthConfig {
        if let Some(google) = self.google {
            auth = auth.google(google);
        }
        if let Some(github) = self.github {
            auth = auth.github(github);
        }
        if let Some(url) = self.success_redirect {
            auth = auth.oauth_success_redirect(url);
        }
        auth.allowed_redirects(self.allowed_redirects)
    }
}

/// Reads a provider's client id and secret: both or neither.
fn client(id_name: &str, secret_name: &str) -> Result<Option<(String, String)>, SettingError> {
    match (var(id_name), var(secret_name)) {
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(SettingError(format!(
            "{secret_name} is required when {id_name} is set: set both, or unset {id_name}"
        ))),
        (None, Some(_)) => Err(SettingError(format!(
            "{id_name} is required when {secret_name} is set: set both, or unset {secret_name}"
        ))),
    }
}

/// Checks that `url` is an absolute `http` or `https` URL with a host. The library checks
/// the rest when the service is built.
fn is_absolute_url(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.starts_with('/')
    })
}

/// Reads a variable that must be an absolute `http` or `https` URL.
fn absolute_url(name: &str) -> Result<Option<String>, SettingError> {
    match var(name) {
        None => Ok(None),
        Some(url) if is_absolute_url(&url) => Ok(Some(url)),
        Some(url) => Err(invalid(
            name,
            &url,
            "an absolute http or https URL, like https://app.example.com/path",
        )),
    }
}

/// Reads `FASTAUTH_ALLOWED_REDIRECTS`: absolute URLs separated by commas. Entries are
/// trimmed, and empty ones are ignored.
fn allowed_redirects() -> Result<Vec<String>, SettingError> {
    const NAME: &str = "FASTAUTH_ALLOWED_REDIRECTS";
    let Some(list) = var(NAME) else {
        return Ok(Vec::new());
    };
    let mut redirects = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if !is_absolute_url(entry) {
            return Err(invalid(
                NAME,
                entry,
                "absolute http or https URLs separated by commas",
            ));
        }
        redirects.push(entry.to_owned());
    }
    Ok(redirects)
}

/// Reads the post-login redirect: `FASTAUTH_OAUTH_REDIRECT_URL`, or `OAUTH_REDIRECT_URL`
/// after Python FastAuth's setting `oauth_redirect_url`. Both set to different values is an
/// error.
fn success_redirect() -> Result<Option<String>, SettingError> {
    let ours = absolute_url("FASTAUTH_OAUTH_REDIRECT_URL")?;
    let fastauth = absolute_url("OAUTH_REDIRECT_URL")?;
    match (ours, fastauth) {
        (Some(ours), Some(theirs)) if ours != theirs => Err(SettingError(
            "FASTAUTH_OAUTH_REDIRECT_URL and OAUTH_REDIRECT_URL differ: set only one of them"
                .to_owned(),
        )),
        (ours, theirs) => Ok(ours.or(theirs)),
    }
}

/// Opens the SQLite database that `DATABASE_URL` names: a file, created when missing, or
/// `sqlite::memory:`.
pub async fn open_sqlite(url: &str) -> Result<sqlx::SqlitePool, SettingError> {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};

    let options: SqliteConnectOptions = url
        .parse()
        .map_err(|e| SettingError(format!("invalid DATABASE_URL={url:?}: {e}")))?;
    // Each connection to `sqlite::memory:` opens a database of its own, so an in-memory
    // database gets one connection that is never closed.
    let pool_options = if url.contains(":memory:") {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new()
    };
    // WAL (sqlx's default) with NORMAL sync, as in the basic example.
    let options = options
        .create_if_missing(true)
        .synchronous(SqliteSynchronous::Normal);
    pool_options.connect_with(options).await.map_err(|e| {
        SettingError(format!(
            "DATABASE_URL={url:?}: opening the database failed: {e}"
        ))
    })
}

/// Prints `message` as one line on standard error and exits with status 2.
pub fn exit_with(message: &dyn std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    use std::io::IsTerminal as _;
    let filter = match var("RUST_LOG") {
        None => tracing_subscriber::EnvFilter::new("info"),
        Some(value) => tracing_subscriber::EnvFilter::try_new(&value).unwrap_or_else(|e| {
            exit_with(&invalid("RUST_LOG", &value, &format!("a log filter ({e})")))
        }),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// How long requests in flight may run after SIGTERM or Ctrl-C before the server stops.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Binds, prints `fastauth-example listening on http://host:port` on standard output, and
/// serves until SIGTERM or Ctrl-C, letting requests in flight finish for up to
/// 10 s (`SHUTDOWN_GRACE`).
pub async fn serve(router: axum::Router, bind: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(bind).await?;
    let local = listener.local_addr()?;
    let host = match local.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "fastauth-example listening on http://{host}:{}",
            local.port()
        )?;
        stdout.flush()?;
    }
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(true);
    };
    let server = axum::serve(listener, service).with_graceful_shutdown(signal);
    // A client that stalls mid-request would otherwise keep the server alive forever.
    let deadline = async move {
        let _ = stopping_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server.into_future() => result?,
        () = deadline => {
            tracing::warn!(
                grace_seconds = SHUTDOWN_GRACE.as_secs(),
                "requests still in flight after the grace period: stopping anyway"
            );
        }
    }
    tracing::info!("server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "listening for Ctrl-C failed");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "listening for SIGTERM failed");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_hosts() {
        assert!(is_dev_host("http://127.0.0.1:8000"));
        assert!(is_dev_host("http://127.3.2.1"));
        assert!(is_dev_host("http://localhost:3000/app"));
        assert!(is_dev_host("http://[::1]:8000"));
        assert!(!is_dev_host("https://auth.example.com"));
        assert!(!is_dev_host("http://10.0.0.1:8000"));
    }
}
