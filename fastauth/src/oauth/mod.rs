//! OAuth sign-in: Google through OpenID Connect and GitHub through its OAuth apps (the
//! `oauth-google` and `oauth-github` features).
//!
//! [`GoogleConfig`] and [`GitHubConfig`] hold a provider's client credentials and endpoints;
//! [`crate::AuthConfig::google`] and [`crate::AuthConfig::github`] enable them. The flow
//! itself (state, PKCE, account resolution) lives on [`crate::Auth`], and the routes under
//! `/auth/oauth`.

mod error;
mod exchange;
#[cfg(feature = "oauth-github")]
mod github;
#[cfg(feature = "oauth-google")]
mod google;
pub(crate) mod state;
mod transport;

use std::fmt;

pub use error::OAuthError;
pub use state::STATE_TTL;

use transport::Transport;

/// The `tracing` target of the calls to providers.
const TARGET: &str = "fastauth::oauth";

/// An OAuth provider that fastauth signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Google, through OpenID Connect.
    Google,
    /// GitHub, through an OAuth app.
    GitHub,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Self; 2] = [Self::Google, Self::GitHub];

    /// Returns the id in paths, state records and the `provider` column: `google` or `github`.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::GitHub => "github",
        }
    }

    /// Returns the provider of a path segment, compared exactly.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.id() == id)
    }

    /// Returns the bit of the declaration's `PROVIDERS` set that enables this provider.
    pub const fn bit(self) -> u32 {
        match self {
            Self::Google => crate::provider::GOOGLE,
            Self::GitHub => crate::provider::GITHUB,
        }
    }

    /// Returns the name in error texts: `Google` or `GitHub`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::GitHub => "GitHub",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A client secret. Its `Debug` output never shows the value.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// The client of a Google (OpenID Connect) app.
#[cfg(feature = "oauth-google")]
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: ClientSecret,
    pub(crate) issuer_url: String,
    pub(crate) scopes: Vec<String>,
}

#[cfg(feature = "oauth-google")]
impl GoogleConfig {
    /// Google's issuer.
    pub const DEFAULT_ISSUER: &'static str = "https://accounts.google.com";

    /// Creates the client registered at Google, with the default issuer and the scopes
    /// `openid email profile`.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: ClientSecret::new(client_secret),
            issuer_url: Self::DEFAULT_ISSUER.to_owned(),
            scopes: ["openid", "email", "profile"].map(str::to_owned).to_vec(),
        }
    }

    /// Uses another OpenID provider in Google's place: its discovery document is read from
    /// `{issuer}/.well-known/openid-configuration`, and its `issuer` must equal `issuer`.
    pub fn issuer_url(mut self, issuer: impl Into<String>) -> Self {
        self.issuer_url = issuer.into();
        self
    }

    /// Replaces the requested scopes. Keep `openid`: without it no ID token comes back.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// The client of a GitHub OAuth app.
#[cfg(feature = "oauth-github")]
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: ClientSecret,
    pub(crate) auth_url: String,
    pub(crate) token_url: String,
    pub(crate) api_url: String,
    pub(crate) scopes: Vec<String>,
}

#[cfg(feature = "oauth-github")]
impl GitHubConfig {
    /// GitHub's authorization page.
    pub const DEFAULT_AUTH_URL: &'static str = "https://github.com/login/oauth/authorize";
    /// GitHub's token endpoint.
    pub const DEFAULT_TOKEN_URL: &'static str = "https://github.com/login/oauth/access_token";
    /// GitHub's REST API.
    pub const DEFAULT_API_URL: &'static str = "https://api.github.com";

    /// Creates the client of the OAuth app registered at GitHub, with GitHub's endpoints and the scope
    /// `user:email`.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: ClientSecret::new(client_secret),
            auth_url: Self::DEFAULT_AUTH_URL.to_owned(),
            token_url: Self::DEFAULT_TOKEN_URL.to_owned(),
            api_url: Self::DEFAULT_API_URL.to_owned(),
            scopes: vec!["user:email".to_owned()],
        }
    }

    /// Replaces the authorization page, as for GitHub Enterprise Server or a test server.
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = url.into();
        self
    }

    /// Replaces the token endpoint.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Replaces the API base: the profile is read from `{api}/user`, the addresses from
    /// `{api}/user/emails`.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into();
        self
    }

    /// Replaces the requested scopes. Without `user:email`, private addresses stay hidden.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// The OAuth settings of [`crate::AuthConfig`].
#[derive(Debug, Clone, Default)]
pub(crate) struct OAuthSettings {
    #[cfg(feature = "oauth-google")]
    pub(crate) google: Option<GoogleConfig>,
    #[cfg(feature = "oauth-github")]
    pub(crate) github: Option<GitHubConfig>,
    /// `redirect_uri` values accepted besides the server's own callbacks, compared exactly.
    pub(crate) allowed_redirects: Vec<String>,
    /// The URL a successful sign-in callback sends the browser to, with the auth cookies set.
    pub(crate) success_redirect: Option<String>,
}

impl OAuthSettings {
    /// Checks the URLs: every one must be absolute `http` or `https`, without a fragment.
    pub(crate) fn validate(&self) -> Result<(), crate::ConfigError> {
        let mut urls: Vec<(&'static str, &str)> = Vec::new();
        #[cfg(feature = "oauth-google")]
        if let Some(google) = &self.google {
            urls.push(("google.issuer_url", &google.issuer_url));
            check_client("google", &google.client_id, google.client_secret.expose())?;
        }
        #[cfg(feature = "oauth-github")]
        if let Some(github) = &self.github {
            urls.push(("github.auth_url", &github.auth_url));
            urls.push(("github.token_url", &github.token_url));
            urls.push(("github.api_url", &github.api_url));
            check_client("github", &github.client_id, github.client_secret.expose())?;
        }
        for redirect in &self.allowed_redirects {
            urls.push(("allowed_redirects", redirect));
        }
        if let Some(redirect) = &self.success_redirect {
            urls.push(("oauth_success_redirect", redirect));
        }
        for (setting, url) in urls {
            check_url(setting, url)?;
        }
        Ok(())
    }
}

fn check_client(provider: &'static str, id: &str, secret: &str) -> Result<(), crate::ConfigError> {
    if id.trim().is_empty() || secret.trim().is_empty() {
        return Err(crate::ConfigError::new(
            provider,
            "the client id and the client secret must not be empty",
        ));
    }
    Ok(())
}

fn check_url(setting: &'static str, value: &str) -> Result<(), crate::ConfigError> {
    let parsed = url::Url::parse(value).map_err(|error| {
        crate::ConfigError::new(setting, format!("`{value}` is not a URL: {error}"))
    })?;
    let problem = if !matches!(parsed.scheme(), "http" | "https") {
        Some("must start with https:// or http://")
    } else if parsed.fragment().is_some() {
        Some("must not have a #fragment")
    } else if !parsed.username().is_empty() || parsed.password().is_some() {
        Some("must not carry a user name or password")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(crate::ConfigError::new(
            setting,
            format!("`{value}` {problem}"),
        )),
        None => Ok(()),
    }
}

/// A user's profile at a provider, as the account resolution needs it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    /// The account id at the provider.
    pub(crate) id: String,
    /// The address as the provider sent it, not yet normalised.
    pub(crate) email: Option<String>,
    pub(crate) email_verified: bool,
    pub(crate) name: Option<String>,
    pub(crate) image: Option<String>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address and the name are personal data.
        f.debug_struct("Profile")
            .field("id", &self.id)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

/// The values the authorization URL carries besides the client's own settings.
pub(crate) struct AuthorizationRequest<'a> {
    pub(crate) state: &'a str,
    pub(crate) code_verifier: &'a str,
    /// OpenID Connect only.
    #[cfg_attr(not(feature = "oauth-google"), allow(dead_code))]
    pub(crate) nonce: Option<&'a str>,
    pub(crate) redirect_uri: &'a str,
}

/// The configured providers and the client they share.
#[derive(Debug)]
pub(crate) struct Providers {
    #[cfg(feature = "oauth-google")]
    google: Option<google::Google>,
    #[cfg(feature = "oauth-github")]
    github: Option<github::GitHub>,
}

impl Providers {
    /// Builds the providers that `settings` configures.
    pub(crate) fn new(settings: &OAuthSettings) -> Result<Self, crate::ConfigError> {
        // The client loads the TLS roots, so it is built only for a configured provider and
        // then shared.
        let mut transport: Option<Transport> = None;
        #[cfg(feature = "oauth-google")]
        let google = match settings.google.clone() {
            Some(config) => Some(google::Google::new(config, shared(&mut transport)?)),
            None => None,
        };
        #[cfg(feature = "oauth-github")]
        let github = match settings.github.clone() {
            Some(config) => Some(github::GitHub::new(config, shared(&mut transport)?)),
            None => None,
        };
        // Unused when the `oauth` feature is on without either provider feature.
        let _ = &mut transport;
        Ok(Self {
            #[cfg(feature = "oauth-google")]
            google,
            #[cfg(feature = "oauth-github")]
            github,
        })
    }

    /// Returns whether `provider` has a client configured.
    pub(crate) fn is_configured(&self, provider: Provider) -> bool {
        match provider {
            #[cfg(feature = "oauth-google")]
            Provider::Google => self.google.is_some(),
            #[cfg(feature = "oauth-github")]
            Provider::GitHub => self.github.is_some(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Builds the provider's authorization URL.
    pub(crate) async fn authorization_url(
        &self,
        provider: Provider,
        request: &AuthorizationRequest<'_>,
    ) -> Result<String, OAuthError> {
        match provider {
            #[cfg(feature = "oauth-google")]
            Provider::Google => match &self.google {
                Some(google) => google.authorization_url(request).await,
                None => Err(not_found(provider)),
            },
            #[cfg(feature = "oauth-github")]
            Provider::GitHub => match &self.github {
                Some(github) => github.authorization_url(request),
                None => Err(not_found(provider)),
            },
            #[allow(unreachable_patterns)]
            _ => {
                let _ = request;
                Err(not_found(provider))
            }
        }
    }

    /// Redeems the authorization code and reads the profile.
    pub(crate) async fn profile(
        &self,
        provider: Provider,
        code: &str,
        record: &state::StateRecord,
    ) -> Result<Profile, OAuthError> {
        match provider {
            #[cfg(feature = "oauth-google")]
            Provider::Google => match &self.google {
                Some(google) => google.profile(code, record).await,
                None => Err(not_found(provider)),
            },
            #[cfg(feature = "oauth-github")]
            Provider::GitHub => match &self.github {
                Some(github) => github.profile(code, record).await,
                None => Err(not_found(provider)),
            },
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (code, record);
                Err(not_found(provider))
            }
        }
    }
}

/// Returns the shared client, building it on first use.
#[cfg_attr(
    not(any(feature = "oauth-google", feature = "oauth-github")),
    allow(dead_code)
)]
fn shared(slot: &mut Option<Transport>) -> Result<Transport, crate::ConfigError> {
    if let Some(transport) = slot {
        return Ok(transport.clone());
    }
    let transport = Transport::new().map_err(|error| {
        crate::ConfigError::new("oauth", format!("the HTTP client cannot be built: {error}"))
    })?;
    *slot = Some(transport.clone());
    Ok(transport)
}

fn not_found(provider: Provider) -> OAuthError {
    OAuthError::ProviderNotFound(provider.id().to_owned())
}
