//! Signing keys: the JWT algorithms, asymmetric keys loaded from PEM or generated, their
//! `kid`, and the key set that signs and verifies tokens.
//!
//! A key's `kid` is its RFC 7638 thumbprint (SHA-256, base64url), so every instance and
//! every restart gives the same key the same `kid`. The key set lists the newest key first.
//! The newest key whose `active_from` has come signs, and every key in the set verifies, so
//! a key can be published before it signs.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// The JWT signing algorithms fastauth supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256 and the shared secret (the default).
    HS256,
    /// HMAC with SHA-384 and the shared secret.
    HS384,
    /// HMAC with SHA-512 and the shared secret.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// Ed25519 signatures.
    EdDSA,
}

impl JwtAlgorithm {
    /// Every supported algorithm, in the order error messages list them.
    pub const ALL: [JwtAlgorithm; 7] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::EdDSA,
    ];

    /// Returns the `alg` header value, like `RS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Returns whether the algorithm signs with a key pair rather than the shared secret.
    pub fn is_asymmetric(self) -> bool {
        !matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    pub(crate) fn to_jsonwebtoken(self) -> Algorithm {
        match self {
            Self::HS256 => Algorithm::HS256,
            Self::HS384 => Algorithm::HS384,
            Self::HS512 => Algorithm::HS512,
            Self::RS256 => Algorithm::RS256,
            Self::RS384 => Algorithm::RS384,
            Self::RS512 => Algorithm::RS512,
            Self::EdDSA => Algorithm::EdDSA,
        }
    }

    fn is_rsa(self) -> bool {
        matches!(self, Self::RS256 | Self::RS384 | Self::RS512)
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`JwtAlgorithm::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown JWT algorithm `{0}`: expected HS256, HS384, HS512, RS256, RS384, RS512 or EdDSA")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for JwtAlgorithm {
    type Err = UnknownAlgorithm;

    /// Parses an `alg` name. The case of the letters does not matter, so `eddsa` is `EdDSA`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownAlgorithm(name.to_owned()))
    }
}

/// A private key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text is not PEM, or not a private key of the algorithm's kind.
    #[error("not {expected} private key in PEM (PKCS#1 or PKCS#8): {reason}")]
    Invalid {
        /// The kind of key the algorithm needs, with its article.
        expected: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// An HMAC algorithm has no key pair.
    #[error("{0} signs with the shared secret, not with a key pair")]
    NotAsymmetric(JwtAlgorithm),
    /// The random key generator failed.
    #[error("generating a {0} key failed")]
    Generation(JwtAlgorithm),
}

/// The smallest accepted RSA modulus, in bits (RFC 7518, section 3.3, requires 2048).
pub const MIN_RSA_BITS: usize = 2048;

/// An asymmetric key pair of the key set.
pub struct SigningKey {
    kid: String,
    algorithm: JwtAlgorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_jwk: Value,
    active_from: OffsetDateTime,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("active_from", &self.active_from)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a private key in PEM: RSA as PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8
    /// (`PRIVATE KEY`), Ed25519 as PKCS#8. RSA keys must have at least [`MIN_RSA_BITS`] bits.
    pub fn from_pem(
        algorithm: JwtAlgorithm,
        pem: &str,
        active_from: OffsetDateTime,
    ) -> Result<Self, KeyError> {
        if algorithm.is_rsa() {
            Self::rsa_from_pem(algorithm, pem, active_from)
        } else if algorithm == JwtAlgorithm::EdDSA {
            Self::ed25519_from_pem(pem, active_from)
        } else {
            Err(KeyError::NotAsymmetric(algorithm))
        }
    }

    /// Generates a key pair for `algorithm` (RSA keys have 2048 bits) that signs from
    /// `active_from` on, and returns it with its private key as PKCS#8 PEM, the form the key
    /// store keeps.
    pub fn generate(
        algorithm: JwtAlgorithm,
        active_from: OffsetDateTime,
    ) -> Result<(Self, String), KeyError> {
        let failed = |_| KeyError::Generation(algorithm);
        let der = if algorithm.is_rsa() {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(failed)?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = pair.as_der().map_err(failed)?;
            der.as_ref().to_vec()
        } else if algorithm == JwtAlgorithm::EdDSA {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = pair.as_der().map_err(failed)?;
            der.as_ref().to_vec()
        } else {
            return Err(KeyError::NotAsymmetric(algorithm));
        };
        let pem = pem::encode_config(
            &pem::Pem::new("PRIVATE KEY", der),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        );
        let key = Self::from_pem(algorithm, &pem, active_from)?;
        Ok((key, pem))
    }

    fn rsa_from_pem(
        algorithm: JwtAlgorithm,
        pem: &str,
        active_from: OffsetDateTime,
    ) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::Invalid {
            expected: "an RSA",
            reason,
        };

        // jsonwebtoken reduces PKCS#1 and PKCS#8 alike to the PKCS#1 DER it signs with.
        let encoding =
            EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        let too_small = || format!("the key must have at least {MIN_RSA_BITS} bits");
        // aws-lc rejects moduli under 2048 bits itself, as `TooSmall`.
        let pair = RsaKeyPair::from_der(encoding.as_bytes()).map_err(|e| match e.to_string() {
            reason if reason == "TooSmall" => invalid(too_small()),
            reason => invalid(reason),
        })?;
        if pair.public_modulus_len() * 8 < MIN_RSA_BITS {
            return Err(invalid(too_small()));
        }

        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let n = URL_SAFE_NO_PAD.encode(&public.n);
        let e = URL_SAFE_NO_PAD.encode(&public.e);
        // RFC 7638: the required members in lexicographic order, without whitespace.
        let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        let public_jwk = json!({
            "kty": "RSA",
            "n": n,
            "e": e,
            "kid": kid,
            "use": "sig",
            "alg": algorithm.as_str(),
        });
        Ok(Self {
            kid,
            algorithm,
            decoding: DecodingKey::from_rsa_raw_components(&public.n, &public.e),
            encoding,
            public_jwk,
            active_from,
        })
    }

    fn ed25519_from_pem(pem: &str, active_from: OffsetDateTime) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::Invalid {
            expected: "an Ed25519",
            reason,
        };
        let encoding =
            EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        let pair =
            Ed25519KeyPair::from_pkcs8(encoding.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        let public = pair.public_key().as_ref().to_vec();
        let x = URL_SAFE_NO_PAD.encode(&public);
        let kid = thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
        let public_jwk = json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": x,
            "kid": kid,
            "use": "sig",
            "alg": "EdDSA",
        });
        Ok(Self {
            kid,
            algorithm: JwtAlgorithm::EdDSA,
            decoding: DecodingKey::from_ed_der(&public),
            encoding,
            public_jwk,
            active_from,
        })
    }

    /// Returns the key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Returns the algorithm this key signs and verifies with, and only with.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Returns when the key starts signing: its creation, or a later time for a key
    /// published ahead of use.
    pub fn active_from(&self) -> OffsetDateTime {
        self.active_from
    }

    /// Returns the public key as a JWK with `kid`, `use` and `alg`, and no private member.
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    pub(crate) fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// Computes the base64url SHA-256 of the canonical JWK members (RFC 7638, section 3).
fn thumbprint(canonical_members: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical_members.as_bytes()))
}

/// The keys that verify tokens, newest `active_from` first.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<SigningKey>>,
}

impl KeySet {
    /// Builds a set, sorting the keys newest first and dropping repeated `kid`s.
    pub fn new(mut keys: Vec<Arc<SigningKey>>) -> Self {
        keys.sort_by(|a, b| b.active_from.cmp(&a.active_from).then(a.kid.cmp(&b.kid)));
        let mut seen = std::collections::HashSet::new();
        keys.retain(|key| seen.insert(key.kid.clone()));
        Self { keys }
    }

    /// Returns the signing key now: the newest key whose `active_from` has come.
    pub fn signing_key(&self) -> Option<&Arc<SigningKey>> {
        self.signing_key_at(OffsetDateTime::now_utc())
    }

    /// Returns the signing key at `now`. When every key starts later (a clock set back),
    /// the oldest one signs, so a non-empty set always has a signing key.
    pub fn signing_key_at(&self, now: OffsetDateTime) -> Option<&Arc<SigningKey>> {
        self.keys
            .iter()
            .find(|key| key.active_from <= now)
            .or_else(|| self.keys.last())
    }

    /// Finds the key with this `kid`.
    pub fn find(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// Returns every key, newest first.
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.keys
    }

    /// Returns the JWKS document: `{"keys": [...]}` with the public part of every key.
    pub fn jwks(&self) -> Value {
        let keys: Vec<&Value> = self.keys.iter().map(|key| key.public_jwk()).collect();
        json!({ "keys": keys })
    }

    /// Splits the keys into those still in the set at `now` and the `kid`s of those whose
    /// grace period is over. A key's grace period starts when the next newer key starts
    /// signing. The newest key is always kept, and a `grace` of `None` keeps every key.
    pub fn partition_expired(
        keys: Vec<Arc<SigningKey>>,
        grace: Option<Duration>,
        now: OffsetDateTime,
    ) -> (Vec<Arc<SigningKey>>, Vec<String>) {
        let sorted = Self::new(keys).keys;
        let Some(grace) = grace else {
            return (sorted, Vec::new());
        };
        let mut kept = Vec::new();
        let mut expired = Vec::new();
        let mut superseded_at: Option<OffsetDateTime> = None;
        for key in sorted {
            match superseded_at {
                Some(at) if at + grace < now => expired.push(key.kid.clone()),
                _ => kept.push(Arc::clone(&key)),
            }
            superseded_at = Some(key.active_from);
        }
        (kept, expired)
    }
}

/// The current key set, shared by the signer, the JWKS route and the rotation task.
/// Readers clone the current `Arc` under a read lock, and a reload swaps it under a write
/// lock, so neither holds the lock while it signs, verifies or reads the store.
#[derive(Debug, Clone, Default)]
pub struct SharedKeySet(Arc<RwLock<Arc<KeySet>>>);

impl SharedKeySet {
    /// Wraps a set.
    pub fn new(set: KeySet) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(set))))
    }

    /// Returns the current set.
    pub fn snapshot(&self) -> Arc<KeySet> {
        match self.0.read() {
            Ok(guard) => Arc::clone(&guard),
            // A writer only swaps an `Arc`, so a poisoned lock still holds a whole set.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the current set.
    pub fn replace(&self, set: KeySet) {
        let set = Arc::new(set);
        match self.0.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }
}

#[cfg(test)]
mod tests;
