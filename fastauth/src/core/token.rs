//! Access and refresh JWTs: issuing and verifying.
//!
//! Tokens are JWTs signed with the configured secret (HS256 by default, or HS384/HS512) or
//! with the newest key of the key set (RS256, RS384, RS512, EdDSA), with the claims of
//! Python FastAuth plus `sid`, the session the token belongs to. Verification pins the
//! algorithm, allows no clock leeway and checks `typ`, `exp`, `nbf`, `iat`, `sub`, and
//! `iss`/`aud` when configured.

use std::collections::HashSet;
use std::time::Duration;

use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::config::{AuthConfig, ConfigError};
use super::keys::{JwtAlgorithm, KeySet, SharedKeySet, SigningKey};

/// The purpose of a token, from its `type` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Authenticates requests.
    Access,
    /// Obtains a new pair at `POST /auth/refresh`.
    Refresh,
}

/// The claims of a fastauth token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The token id (cuid2). Empty when a token from elsewhere has none; such a refresh
    /// token is never in the allowlist.
    #[serde(default)]
    pub jti: String,
    /// Issue time, Unix seconds; 0 when a token from elsewhere has none.
    #[serde(default)]
    pub iat: i64,
    /// Expiry, Unix seconds; the token is valid through this second.
    pub exp: i64,
    /// Access or refresh.
    #[serde(rename = "type")]
    pub token_type: TokenType,
    /// The user's address when the token was issued.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's display name when the token was issued.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the address was verified when the token was issued.
    #[serde(default)]
    pub email_verified: bool,
    /// The issuer, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audiences, when configured; FastAuth writes an array, others may write a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// The session (refresh family) the token belongs to; absent in FastAuth's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The user's roles when the token was issued, sorted; only with
    /// [`AuthConfig::roles_in_tokens`] on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The permissions of those roles, sorted; only with [`AuthConfig::roles_in_tokens`] on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// Every other claim: those a `modify_jwt` hook added, or another issuer's.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The `aud` claim, which RFC 7519 allows as a string or an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

/// The reason a token was rejected. Callers return the same 401 for every variant, so the
/// variants only serve logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWS, a bad signature, another algorithm, a bad `typ` header, or
    /// claims that are missing or malformed.
    #[error("malformed or wrongly signed token")]
    Invalid,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `iat` or `nbf` lies in the future.
    #[error("token not valid yet")]
    NotYetValid,
    /// `iss` or `aud` does not match the configuration.
    #[error("token issuer or audience does not match")]
    WrongIssuerOrAudience,
    /// A valid token of the other type.
    #[error("token of the wrong type")]
    WrongType,
}

/// The facts about a user that go into their tokens.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The user id.
    pub user_id: &'a str,
    /// The normalised address.
    pub email: &'a str,
    /// The display name.
    pub name: Option<&'a str>,
    /// Whether the address is verified.
    pub email_verified: bool,
    /// The user's roles and permissions, which go into the tokens when
    /// [`AuthConfig::roles_in_tokens`] is on.
    pub roles: Option<(&'a [String], &'a [String])>,
}

/// A freshly signed pair.
#[derive(Debug, Clone)]
pub struct IssuedPair {
    /// The access JWT.
    pub access_token: String,
    /// The refresh JWT.
    pub refresh_token: String,
    /// The refresh token's `jti`, to record in the allowlist.
    pub refresh_jti: String,
    /// When the refresh token expires.
    pub refresh_expires_at: OffsetDateTime,
    /// The refresh-token lifetime in seconds, the `Max-Age` of the refresh and CSRF cookies.
    pub refresh_expires_in: u64,
    /// The access-token lifetime in seconds, the `expires_in` of the response.
    pub expires_in: u64,
}

/// The keys a [`TokenSigner`] signs and verifies with.
#[derive(Clone)]
enum Keys {
    /// The shared secret of an HMAC algorithm.
    Hmac {
        encoding: EncodingKey,
        decoding: DecodingKey,
    },
    /// The key set of an asymmetric algorithm.
    Asymmetric(SharedKeySet),
}

/// Signs and verifies tokens with the configured algorithm and keys.
#[derive(Clone)]
pub struct TokenSigner {
    algorithm: JwtAlgorithm,
    keys: Keys,
    validation: Validation,
    issuer: Option<String>,
    audience: Vec<String>,
    access_ttl: Duration,
    roles_in_tokens: bool,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// Builds the signer from the configuration's algorithm, secret or key, lifetimes,
    /// issuer and audience.
    ///
    /// An asymmetric algorithm without a configured key starts with a key generated in
    /// process memory; [`crate::Auth::migrate`] then replaces the set with the keys of the
    /// store, so that every instance signs with the same key.
    pub fn new(config: &AuthConfig) -> Result<Self, ConfigError> {
        let algorithm = config.algorithm;
        let keys = if algorithm.is_asymmetric() {
            let now = OffsetDateTime::now_utc();
            let key = match &config.private_key_pem {
                Some(pem) => SigningKey::from_pem(algorithm, &pem.0, now)
                    .map_err(|e| ConfigError::new("private_key_pem", e.to_string()))?,
                None => {
                    SigningKey::generate(algorithm, now)
                        .map_err(|e| ConfigError::new("algorithm", e.to_string()))?
                        .0
                }
            };
            Keys::Asymmetric(SharedKeySet::new(KeySet::new(vec![std::sync::Arc::new(
                key,
            )])))
        } else {
            let secret = config.secret.as_bytes();
            let invalid =
                |e: jsonwebtoken::errors::Error| ConfigError::new("secret", e.to_string());
            Keys::Hmac {
                encoding: EncodingKey::from_secret(secret).map_err(invalid)?,
                decoding: DecodingKey::from_secret(secret).map_err(invalid)?,
            }
        };
        Ok(Self {
            algorithm,
            keys,
            validation: validation(config),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl: config.access_ttl,
            roles_in_tokens: config.roles_in_tokens,
        })
    }

    /// Returns the signing algorithm.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Returns the key set of an asymmetric algorithm; `None` for HMAC.
    pub fn key_set(&self) -> Option<&SharedKeySet> {
        match &self.keys {
            Keys::Asymmetric(set) => Some(set),
            Keys::Hmac { .. } => None,
        }
    }

    /// Signs a claim set ([`Claims`] or a JSON object) with the secret, or with the newest
    /// key and its `kid` in the header.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.algorithm.to_jsonwebtoken());
        match &self.keys {
            Keys::Hmac { encoding, .. } => jsonwebtoken::encode(&header, claims, encoding),
            Keys::Asymmetric(set) => {
                let set = set.snapshot();
                // The set starts with one key and a reload never empties it.
                let key = set.signing_key().ok_or_else(|| {
                    jsonwebtoken::errors::Error::from(
                        jsonwebtoken::errors::ErrorKind::InvalidKeyFormat,
                    )
                })?;
                header.kid = Some(key.kid().to_owned());
                jsonwebtoken::encode(&header, claims, key.encoding())
            }
        }
    }

    /// Issues an access and a refresh token for `subject`; the refresh token lives
    /// `refresh_ttl`.
    pub fn issue_pair(
        &self,
        subject: Subject<'_>,
        session_id: Option<&str>,
        refresh_ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<IssuedPair, jsonwebtoken::errors::Error> {
        let (access, refresh) = self.pair_claims(subject, session_id, refresh_ttl, now);
        let access_token = self.sign(&access)?;
        let refresh_token = self.sign(&refresh)?;
        Ok(self.assemble_pair(access_token, refresh_token, &refresh, refresh_ttl, now))
    }

    /// Builds the unsigned claims of an access and a refresh token for `subject`, for a
    /// caller that changes them before [`TokenSigner::sign`].
    pub fn pair_claims(
        &self,
        subject: Subject<'_>,
        session_id: Option<&str>,
        refresh_ttl: Duration,
        now: OffsetDateTime,
    ) -> (Claims, Claims) {
        let access = self.claims(subject, session_id, TokenType::Access, self.access_ttl, now);
        let refresh = self.claims(subject, session_id, TokenType::Refresh, refresh_ttl, now);
        (access, refresh)
    }

    /// Assembles a pair from its signed tokens and the claims of the refresh token, whose
    /// `jti` and `exp` the signed refresh token carries.
    pub fn assemble_pair(
        &self,
        access_token: String,
        refresh_token: String,
        refresh: &Claims,
        refresh_ttl: Duration,
        now: OffsetDateTime,
    ) -> IssuedPair {
        IssuedPair {
            access_token,
            refresh_token,
            refresh_expires_at: OffsetDateTime::from_unix_timestamp(refresh.exp)
                .unwrap_or(now + refresh_ttl),
            refresh_jti: refresh.jti.clone(),
            refresh_expires_in: refresh_ttl.as_secs(),
            expires_in: self.access_ttl.as_secs(),
        }
    }

    fn claims(
        &self,
        subject: Subject<'_>,
        session_id: Option<&str>,
        token_type: TokenType,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Claims {
        let iat = now.unix_timestamp();
        let (roles, permissions) = match subject.roles.filter(|_| self.roles_in_tokens) {
            Some((roles, permissions)) => (Some(roles.to_vec()), Some(permissions.to_vec())),
            None => (None, None),
        };
        Claims {
            sub: subject.user_id.to_owned(),
            jti: cuid2::create_id(),
            iat,
            exp: iat.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            token_type,
            email: Some(subject.email.to_owned()),
            name: subject.name.map(str::to_owned),
            email_verified: subject.email_verified,
            iss: self.issuer.clone(),
            aud: (!self.audience.is_empty()).then(|| Audience::Many(self.audience.clone())),
            sid: session_id.map(str::to_owned),
            roles,
            permissions,
            extra: serde_json::Map::new(),
        }
    }

    /// Verifies a token and checks that it is of `expected` type.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        let claims = self.verify_any(token)?;
        if claims.token_type == expected {
            Ok(claims)
        } else {
            Err(TokenError::WrongType)
        }
    }

    /// Verifies a token of either type.
    pub fn verify_any(&self, token: &str) -> Result<Claims, TokenError> {
        // A JWT of a few hundred bytes is normal; anything this large is an attack on the
        // base64 and JSON decoders.
        if token.len() > 8 * 1024 {
            return Err(TokenError::Invalid);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header
            .typ
            .as_deref()
            .is_some_and(|typ| !typ.eq_ignore_ascii_case("JWT"))
        {
            return Err(TokenError::Invalid);
        }
        // The algorithm is pinned: a token naming any other one (`none`, or HS256 under an
        // RSA configuration, whose "secret" would be the public key) is rejected before any
        // key is used.
        if header.alg != self.algorithm.to_jsonwebtoken() {
            return Err(TokenError::Invalid);
        }
        let claims = match &self.keys {
            Keys::Hmac { decoding, .. } => self.decode(token, decoding)?,
            Keys::Asymmetric(set) => {
                self.decode_with_set(token, header.kid.as_deref(), &set.snapshot())?
            }
        };
        if claims.sub.is_empty() {
            return Err(TokenError::Invalid);
        }
        if claims.iat > OffsetDateTime::now_utc().unix_timestamp() {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }
}

impl TokenSigner {
    fn decode(&self, token: &str, key: &DecodingKey) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| classify(&e))
    }

    /// Verifies with the key the header's `kid` names or, when there is no `kid` or it names
    /// no key of the set, with each key in turn, as the HTTP contract prescribes. Every key
    /// of the set has the configured algorithm.
    fn decode_with_set(
        &self,
        token: &str,
        kid: Option<&str>,
        set: &KeySet,
    ) -> Result<Claims, TokenError> {
        if let Some(key) = kid.and_then(|kid| set.find(kid)) {
            return self.decode(token, key.decoding());
        }
        for key in set.keys() {
            match self.decode(token, key.decoding()) {
                // Any error other than `Invalid` comes from the claims, so the signature
                // verified with this key.
                Err(TokenError::Invalid) => {}
                outcome => return outcome,
            }
        }
        Err(TokenError::Invalid)
    }
}

/// Builds the claim checks every token passes, pinned to the configured algorithm.
fn validation(config: &AuthConfig) -> Validation {
    let mut validation = Validation::new(config.algorithm.to_jsonwebtoken());
    validation.leeway = 0;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    if let Some(issuer) = &config.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    if config.audience.is_empty() {
        validation.validate_aud = false;
    } else {
        validation.set_audience(&config.audience);
        required.push("aud");
    }
    validation.set_required_spec_claims(&required);
    validation
}

fn classify(error: &jsonwebtoken::errors::Error) -> TokenError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenError::WrongIssuerOrAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" || claim == "aud" => {
            TokenError::WrongIssuerOrAudience
        }
        _ => TokenError::Invalid,
    }
}

/// Returns the claims every fastauth token carries, for tests that inspect tokens.
pub fn standard_claim_names() -> HashSet<&'static str> {
    [
        "sub",
        "jti",
        "iat",
        "exp",
        "type",
        "email",
        "name",
        "email_verified",
    ]
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests;
