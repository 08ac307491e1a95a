//! Google through OpenID Connect: discovery, the code exchange, the ID token checked against
//! the provider's keys, and the userinfo profile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq as _;
use tokio::sync::RwLock;

use super::error::provider_detail;
use super::exchange::CodeGrant;
use super::state::StateRecord;
use super::transport::Transport;
use super::{AuthorizationRequest, GoogleConfig, OAuthError, Profile, TARGET};

const PROVIDER: &str = "Google";

/// A key set older than this is fetched again before use, so that keys the provider
/// withdrew stop verifying.
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

/// The signature algorithms an ID token may use. Never `none`, never an HMAC: the client
/// secret is not a key the provider signs with.
const ID_TOKEN_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The seconds of clock difference tolerated on `exp` and `iat`.
const CLOCK_LEEWAY_SECONDS: u64 = 60;

/// The part of the discovery document fastauth uses.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

impl Discovery {
    /// Returns whether the client secret goes in a Basic header: only when the provider lists
    /// `client_secret_basic` and not `client_secret_post`.
    fn basic_auth(&self) -> bool {
        self.token_endpoint_auth_methods_supported
            .as_ref()
            .is_some_and(|methods| {
                methods.iter().any(|m| m == "client_secret_basic")
                    && !methods.iter().any(|m| m == "client_secret_post")
            })
    }
}

struct CachedKeys {
    keys: JwkSet,
    fetched: Instant,
}

/// The Google provider: its configuration and what it caches of the provider.
pub(crate) struct Google {
    config: GoogleConfig,
    transport: Transport,
    /// Read on first use; a failed read is tried again at the next request.
    discovery: RwLock<Option<Arc<Discovery>>>,
    keys: RwLock<Option<Arc<CachedKeys>>>,
}

impl std::fmt::Debug for Google {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Google")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The claims of an ID token that fastauth checks itself; `iss`, `aud` and `exp` are checked
/// by the decoder.
#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    aud: Audience,
    #[serde(default)]
    azp: Option<String>,
}

// `Many` comes first: untagged variants are tried in order, and `IgnoredAny` would take
// an array too.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Audience {
    Many(Vec<String>),
    One(serde::de::IgnoredAny),
    #[default]
    Missing,
}

impl Google {
    pub(crate) fn new(config: GoogleConfig, transport: Transport) -> Self {
        Self {
            config,
            transport,
            discovery: RwLock::new(None),
            keys: RwLock::new(None),
        }
    }

    fn issuer(&self) -> &str {
        without_trailing_slash(&self.config.issuer_url)
    }

    async fn discovery(&self) -> Result<Arc<Discovery>, OAuthError> {
        if let Some(discovery) = self.discovery.read().await.as_ref() {
            return Ok(Arc::clone(discovery));
        }
        let mut slot = self.discovery.write().await;
        if let Some(discovery) = slot.as_ref() {
            return Ok(Arc::clone(discovery));
        }

        let url = format!("{}/.well-known/openid-configuration", self.issuer());
        let unavailable = |reason: &str| {
            tracing::warn!(target: TARGET, provider = PROVIDER, reason, "discovery failed");
            OAuthError::Unavailable
        };
        let response = self
            .transport
            .get(&url, None)
            .await
            .map_err(|error| unavailable(&error.to_string()))?;
        if response.status != 200 {
            return Err(unavailable(&format!("status {}", response.status)));
        }
        let discovery: Discovery = serde_json::from_slice(&response.body)
            .map_err(|error| unavailable(&format!("invalid document: {error}")))?;
        if without_trailing_slash(&discovery.issuer) != self.issuer() {
            return Err(unavailable("the document names another issuer"));
        }
        for endpoint in [
            &discovery.authorization_endpoint,
            &discovery.token_endpoint,
            &discovery.userinfo_endpoint,
            &discovery.jwks_uri,
        ] {
            if url::Url::parse(endpoint).is_err() {
                return Err(unavailable("an endpoint is not a URL"));
            }
        }
        tracing::info!(target: TARGET, provider = PROVIDER, "discovery document read");
        let discovery = Arc::new(discovery);
        *slot = Some(Arc::clone(&discovery));
        Ok(discovery)
    }

    fn grant<'a>(&'a self, discovery: &'a Discovery) -> CodeGrant<'a> {
        CodeGrant {
            client_id: &self.config.client_id,
            client_secret: &self.config.client_secret,
            auth_url: &discovery.authorization_endpoint,
            token_url: &discovery.token_endpoint,
            basic_auth: discovery.basic_auth(),
            provider: PROVIDER,
        }
    }

    pub(crate) async fn authorization_url(
        &self,
        request: &AuthorizationRequest<'_>,
    ) -> Result<String, OAuthError> {
        let discovery = self.discovery().await?;
        let mut extra = vec![("access_type", "offline"), ("prompt", "consent")];
        if let Some(nonce) = request.nonce {
            extra.push(("nonce", nonce));
        }
        self.grant(&discovery)
            .authorization_url(request, &self.config.scopes, &extra)
    }

    pub(crate) async fn profile(
        &self,
        code: &str,
        record: &StateRecord,
    ) -> Result<Profile, OAuthError> {
        let discovery = self.discovery().await?;
        let redirect_uri = record
            .redirect_uri()
            .ok_or(OAuthError::MissingRedirectUri)?;
        let tokens = self
            .grant(&discovery)
            .exchange(&self.transport, code, &record.code_verifier, redirect_uri)
            .await?;
        // The `openid` scope always brings an ID token: one missing is rejected rather than
        // skipped, so that its checks cannot be bypassed.
        let wants_id_token = self.config.scopes.iter().any(|s| s == "openid");
        let subject = match (&tokens.id_token, wants_id_token) {
            (Some(id_token), _) => Some(
                self.verify_id_token(&discovery, id_token, record.nonce.as_deref())
                    .await?,
            ),
            (None, true) => {
                tracing::warn!(target: TARGET, provider = PROVIDER, "token response without an ID token");
                return Err(invalid_id_token());
            }
            (None, false) => None,
        };
        let profile = self
            .userinfo(&discovery.userinfo_endpoint, &tokens.access_token)
            .await?;
        if let Some(subject) = subject
            && subject != profile.id
        {
            tracing::warn!(target: TARGET, provider = PROVIDER, "ID token and userinfo name different subjects");
            return Err(invalid_id_token());
        }
        Ok(profile)
    }

    /// Checks an ID token and returns its `sub`.
    async fn verify_id_token(
        &self,
        discovery: &Discovery,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<String, OAuthError> {
        let reject = |reason: &str| {
            tracing::warn!(target: TARGET, provider = PROVIDER, reason, "ID token rejected");
            invalid_id_token()
        };
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| reject("malformed"))?;
        if !ID_TOKEN_ALGORITHMS.contains(&header.alg) {
            return Err(reject("algorithm not accepted"));
        }
        let jwk = self
            .key(&discovery.jwks_uri, header.kid.as_deref())
            .await?
            .ok_or_else(|| match header.kid {
                Some(_) => reject("no key of the provider has this kid"),
                None => reject("no kid, and the provider has several keys"),
            })?;
        if let Some(key_algorithm) = &jwk.common.key_algorithm
            && key_algorithm.to_string() != format!("{:?}", header.alg)
        {
            return Err(reject("the key is for another algorithm"));
        }

        let key = DecodingKey::from_jwk(&jwk).map_err(|_| reject("unusable key"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[&self.config.client_id]);
        let mut issuers = vec![discovery.issuer.clone()];
        // Google's tokens may name the issuer without the scheme.
        if self.issuer() == GoogleConfig::DEFAULT_ISSUER {
            issuers.push("accounts.google.com".to_owned());
        }
        validation.set_issuer(&issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|error| reject(&error.to_string()))?
            .claims;

        // With several audiences, the authorized party must be this client (OpenID Connect
        // Core, section 3.1.3.7).
        if let Audience::Many(audiences) = &claims.aud
            && audiences.len() > 1
            && claims.azp.as_deref() != Some(self.config.client_id.as_str())
        {
            return Err(reject("several audiences and another authorized party"));
        }
        match (nonce, claims.nonce.as_deref()) {
            (Some(expected), Some(got))
                if bool::from(expected.as_bytes().ct_eq(got.as_bytes())) => {}
            (None, None) => {}
            _ => return Err(reject("nonce mismatch")),
        }
        Ok(claims.sub)
    }

    /// Finds the provider's key `kid`, fetching the key set when it is not cached, is old,
    /// or lacks the key (the provider rotated). Tokens come from the token endpoint only,
    /// so an unknown `kid` costs one fetch per sign-in at most.
    async fn key(&self, jwks_uri: &str, kid: Option<&str>) -> Result<Option<Jwk>, OAuthError> {
        let cached = self.keys.read().await.clone();
        if let Some(cached) = &cached
            && cached.fetched.elapsed() < JWKS_MAX_AGE
            && let Some(jwk) = find_key(&cached.keys, kid)
        {
            return Ok(Some(jwk.clone()));
        }
        let response = self.transport.get(jwks_uri, None).await.map_err(|error| {
            tracing::warn!(target: TARGET, provider = PROVIDER, %error, "key set unreachable");
            OAuthError::Unavailable
        })?;
        let keys: JwkSet = match (response.status, serde_json::from_slice(&response.body)) {
            (200, Ok(keys)) => keys,
            (status, _) => {
                tracing::warn!(target: TARGET, provider = PROVIDER, status, "key set unreadable");
                return Err(OAuthError::Unavailable);
            }
        };
        tracing::info!(target: TARGET, provider = PROVIDER, keys = keys.keys.len(), "key set fetched");
        let found = find_key(&keys, kid).cloned();
        *self.keys.write().await = Some(Arc::new(CachedKeys {
            keys,
            fetched: Instant::now(),
        }));
        Ok(found)
    }

    async fn userinfo(&self, endpoint: &str, access_token: &str) -> Result<Profile, OAuthError> {
        let response = self
            .transport
            .get(endpoint, Some(access_token))
            .await
            .map_err(|error| {
                tracing::warn!(target: TARGET, provider = PROVIDER, %error, "userinfo unreachable");
                OAuthError::Unavailable
            })?;
        let rejected = || OAuthError::UserInfo {
            provider: PROVIDER,
            detail: provider_detail(&response.text()),
        };
        if response.status != 200 {
            return Err(rejected());
        }
        let info: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|_| rejected())?;
        let Some(sub) = info.get("sub").and_then(serde_json::Value::as_str) else {
            return Err(rejected());
        };
        let text = |name: &str| {
            info.get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let email_verified = match info.get("email_verified") {
            Some(serde_json::Value::Bool(verified)) => *verified,
            Some(serde_json::Value::String(verified)) => verified.eq_ignore_ascii_case("true"),
            _ => false,
        };
        Ok(Profile {
            id: sub.to_owned(),
            email: text("email"),
            email_verified,
            name: text("name"),
            image: text("picture"),
        })
    }
}

/// Returns the key named `kid`, or the only key of a set when the token names none.
fn find_key<'a>(keys: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => keys
            .keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid)),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
}

/// Removes one trailing `/`, as the issuer comparison ignores it.
fn without_trailing_slash(url: &str) -> &str {
    url.strip_suffix('/').unwrap_or(url)
}

fn invalid_id_token() -> OAuthError {
    OAuthError::TokenExchange {
        provider: PROVIDER,
        detail: "invalid id_token".to_owned(),
    }
}
