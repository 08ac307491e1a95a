// The helpers take `AuthConfig` and `json!` values by value so that each call site builds
// its input inline.
#![allow(clippy::needless_pass_by_value)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use super::*;
use crate::core::config::Secret;

const SECRET: &str = "k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4";

fn signer(config: AuthConfig) -> TokenSigner {
    TokenSigner::new(&config).unwrap()
}

fn default_signer() -> TokenSigner {
    signer(AuthConfig::new(Secret::new(SECRET).unwrap()))
}

fn subject() -> Subject<'static> {
    Subject {
        user_id: "u1",
        email: "a@example.com",
        name: Some("Ada"),
        email_verified: false,
        roles: None,
    }
}

fn pair(signer: &TokenSigner) -> IssuedPair {
    let now = OffsetDateTime::now_utc();
    signer
        .issue_pair(subject(), Some("s1"), Duration::from_secs(3600), now)
        .unwrap()
}

/// Signs arbitrary header and claims JSON with HS256 and `secret`.
fn forge(header: serde_json::Value, claims: serde_json::Value, secret: &[u8]) -> String {
    use jsonwebtoken::crypto::sign;
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = EncodingKey::from_secret(secret).unwrap();
    let signature = sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{message}.{signature}")
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn fastauth_claims() -> serde_json::Value {
    json!({
        "sub": "u1", "jti": "j1", "iss": null, "aud": null,
        "iat": now(), "exp": now() + 900, "type": "access",
        "email": "a@example.com", "name": null, "email_verified": false
    })
}

#[test]
fn pair_round_trips() {
    let signer = default_signer();
    let pair = pair(&signer);
    let access = signer
        .verify(&pair.access_token, TokenType::Access)
        .unwrap();
    let refresh = signer
        .verify(&pair.refresh_token, TokenType::Refresh)
        .unwrap();
    assert_eq!(access.sub, "u1");
    assert_eq!(access.sid.as_deref(), Some("s1"));
    assert_eq!(access.email.as_deref(), Some("a@example.com"));
    assert_eq!(access.exp - access.iat, 900);
    assert_eq!(refresh.exp - refresh.iat, 3600);
    assert_eq!(refresh.jti, pair.refresh_jti);
    assert_ne!(access.jti, refresh.jti);
    assert_eq!(access.jti.len(), 24);
    assert_eq!(pair.expires_in, 900);
}

#[test]
fn claims_match_fastauth_names() {
    let signer = default_signer();
    let pair = pair(&signer);
    let payload = pair.access_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let object = claims.as_object().unwrap();
    for name in standard_claim_names() {
        assert!(object.contains_key(name), "missing claim {name}");
    }
    assert_eq!(object["type"], "access");
    assert!(!object.contains_key("iss"), "no issuer is configured");
    assert!(!object.contains_key("aud"), "no audience is configured");
}

#[test]
fn wrong_type_is_rejected() {
    let signer = default_signer();
    let pair = pair(&signer);
    assert_eq!(
        signer.verify(&pair.refresh_token, TokenType::Access),
        Err(TokenError::WrongType)
    );
    assert_eq!(
        signer.verify(&pair.access_token, TokenType::Refresh),
        Err(TokenError::WrongType)
    );
}

#[test]
fn fastauth_null_iss_aud_accepted() {
    let token = forge(
        json!({"alg": "HS256", "typ": "JWT"}),
        fastauth_claims(),
        SECRET.as_bytes(),
    );
    let claims = default_signer().verify(&token, TokenType::Access).unwrap();
    assert_eq!(claims.sid, None);
}

#[test]
fn other_key_is_rejected() {
    let token = forge(
        json!({"alg": "HS256", "typ": "JWT"}),
        fastauth_claims(),
        b"another-secret-of-sufficient-length-0123",
    );
    assert_eq!(
        default_signer().verify(&token, TokenType::Access),
        Err(TokenError::Invalid)
    );
}

#[test]
fn alg_none_is_rejected() {
    let message = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(fastauth_claims().to_string())
    );
    assert_eq!(
        default_signer().verify(&message, TokenType::Access),
        Err(TokenError::Invalid)
    );
}

#[test]
fn other_algorithm_is_rejected() {
    // A valid HS512 signature with the right secret still fails: the algorithm is pinned.
    let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::HS512), &fastauth_claims(), &key).unwrap();
    assert_eq!(
        default_signer().verify(&token, TokenType::Access),
        Err(TokenError::Invalid)
    );
}

#[test]
fn expired_is_rejected_without_leeway() {
    let mut claims = fastauth_claims();
    claims["exp"] = json!(now() - 2);
    claims["iat"] = json!(now() - 100);
    let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
    assert_eq!(
        default_signer().verify(&token, TokenType::Access),
        Err(TokenError::Expired)
    );
}

#[test]
fn future_iat_and_nbf_are_rejected() {
    let mut claims = fastauth_claims();
    claims["iat"] = json!(now() + 120);
    let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
    assert_eq!(
        default_signer().verify(&token, TokenType::Access),
        Err(TokenError::NotYetValid)
    );

    let mut claims = fastauth_claims();
    claims["nbf"] = json!(now() + 120);
    let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
    assert_eq!(
        default_signer().verify(&token, TokenType::Access),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn missing_exp_or_sub_is_rejected() {
    for field in ["exp", "sub", "type"] {
        let mut claims = fastauth_claims();
        claims.as_object_mut().unwrap().remove(field);
        let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
        assert!(
            default_signer().verify(&token, TokenType::Access).is_err(),
            "a token without `{field}` was accepted"
        );
    }
    let mut claims = fastauth_claims();
    claims["sub"] = json!("");
    let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
    assert_eq!(
        default_signer().verify(&token, TokenType::Access),
        Err(TokenError::Invalid)
    );
}

#[test]
fn missing_iat_and_jti_are_accepted() {
    // The verification rules check `iat` only when present and do not require `jti`.
    for field in ["iat", "jti"] {
        let mut claims = fastauth_claims();
        claims.as_object_mut().unwrap().remove(field);
        let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
        let verified = default_signer().verify(&token, TokenType::Access);
        assert!(verified.is_ok(), "a token without `{field}`: {verified:?}");
    }
}

#[test]
fn string_exp_is_rejected() {
    let mut claims = fastauth_claims();
    claims["exp"] = json!((now() + 900).to_string());
    let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
    assert!(default_signer().verify(&token, TokenType::Access).is_err());
}

#[test]
fn typ_header_must_be_jwt() {
    let token = forge(
        json!({"alg": "HS256", "typ": "at+jwt"}),
        fastauth_claims(),
        SECRET.as_bytes(),
    );
    assert_eq!(
        default_signer().verify(&token, TokenType::Access),
        Err(TokenError::Invalid)
    );
    let token = forge(
        json!({"alg": "HS256", "typ": "jwt"}),
        fastauth_claims(),
        SECRET.as_bytes(),
    );
    assert!(default_signer().verify(&token, TokenType::Access).is_ok());
}

#[test]
fn issuer_and_audience_are_enforced_when_configured() {
    let config = AuthConfig::new(Secret::new(SECRET).unwrap())
        .issuer("https://auth.example.com")
        .audience(["api", "web"]);
    let strict = signer(config);
    let pair = pair(&strict);
    assert!(strict.verify(&pair.access_token, TokenType::Access).is_ok());

    // A token from a signer without issuer and audience lacks both claims.
    let loose = pair_from_default();
    assert_eq!(
        strict.verify(&loose, TokenType::Access),
        Err(TokenError::WrongIssuerOrAudience)
    );

    let mut claims = fastauth_claims();
    claims["iss"] = json!("https://auth.example.com");
    claims["aud"] = json!("mobile");
    let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
    assert_eq!(
        strict.verify(&token, TokenType::Access),
        Err(TokenError::WrongIssuerOrAudience)
    );

    let mut claims = fastauth_claims();
    claims["iss"] = json!("https://auth.example.com");
    claims["aud"] = json!("web");
    let token = forge(json!({"alg": "HS256"}), claims, SECRET.as_bytes());
    assert!(strict.verify(&token, TokenType::Access).is_ok());
}

fn pair_from_default() -> String {
    pair(&default_signer()).access_token
}

#[test]
fn garbage_is_rejected() {
    let signer = default_signer();
    for token in [
        "",
        ".",
        "..",
        "a.b.c",
        "not a jwt",
        "ey.ey.ey",
        &"a".repeat(10_000),
    ] {
        assert_eq!(
            signer.verify(token, TokenType::Access),
            Err(TokenError::Invalid),
            "{token}"
        );
    }
}

#[test]
fn tampered_payload_is_rejected() {
    let signer = default_signer();
    let pair = pair(&signer);
    let parts: Vec<&str> = pair.access_token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("admin");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_eq!(
        signer.verify(&forged, TokenType::Access),
        Err(TokenError::Invalid)
    );
}

// Asymmetric algorithms and the key set.

const RSA_PEM: &str = include_str!("../keys/testdata/rsa2048_pkcs1.pem");
const RSA_PUBLIC_PEM: &str = include_str!("../keys/testdata/rsa2048_public.pem");
const ED25519_PEM: &str = include_str!("../keys/testdata/ed25519.pem");

fn keyed_signer(algorithm: JwtAlgorithm, pem: &str) -> TokenSigner {
    signer(
        AuthConfig::new(Secret::new(SECRET).unwrap())
            .algorithm(algorithm)
            .private_key_pem(pem),
    )
}

/// Returns the decoded header of a compact JWS.
fn header_of(token: &str) -> serde_json::Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// Signs `claims` with `key` under `algorithm`, with `kid` in the header when given.
fn sign_with(
    algorithm: Algorithm,
    kid: Option<&str>,
    claims: &serde_json::Value,
    key: &EncodingKey,
) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

#[test]
fn every_algorithm_round_trips() {
    for algorithm in JwtAlgorithm::ALL {
        let signer = match algorithm {
            JwtAlgorithm::EdDSA => keyed_signer(algorithm, ED25519_PEM),
            a if a.is_asymmetric() => keyed_signer(algorithm, RSA_PEM),
            a => signer(AuthConfig::new(Secret::new(SECRET).unwrap()).algorithm(a)),
        };
        let pair = pair(&signer);
        let header = header_of(&pair.access_token);
        assert_eq!(header["alg"], algorithm.as_str());
        assert_eq!(header["typ"], "JWT");
        let claims = signer.verify(&pair.access_token, TokenType::Access);
        assert_eq!(claims.map(|c| c.sub), Ok("u1".to_owned()), "{algorithm}");
        assert!(
            signer
                .verify(&pair.refresh_token, TokenType::Refresh)
                .is_ok()
        );
        match signer.key_set() {
            Some(set) => {
                let kid = set.snapshot().signing_key().unwrap().kid().to_owned();
                assert_eq!(header["kid"], kid.as_str(), "{algorithm}");
            }
            None => {
                assert!(
                    header.get("kid").is_none(),
                    "{algorithm}: no kid under HMAC"
                );
                assert!(!algorithm.is_asymmetric());
            }
        }
    }
}

#[test]
fn hmac_with_public_key_rejected() {
    // The classic confusion: a verifier that let the token pick HS256 would use the RSA
    // public key, which anyone can fetch from the JWKS, as the HMAC secret.
    let signer = keyed_signer(JwtAlgorithm::RS256, RSA_PEM);
    let kid = signer
        .key_set()
        .unwrap()
        .snapshot()
        .signing_key()
        .unwrap()
        .kid()
        .to_owned();
    let public_pem = EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes()).unwrap();
    for kid in [Some(kid.as_str()), None] {
        let forged = sign_with(Algorithm::HS256, kid, &fastauth_claims(), &public_pem);
        assert_eq!(signer.verify_any(&forged), Err(TokenError::Invalid));
    }
}

#[test]
fn alg_none_rejected_with_keys() {
    let signer = keyed_signer(JwtAlgorithm::EdDSA, ED25519_PEM);
    let pair = pair(&signer);
    let kid = header_of(&pair.access_token)["kid"].clone();
    let payload = pair.access_token.split('.').nth(1).unwrap().to_owned();
    for alg in ["none", "None", "NONE"] {
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "kid": kid }).to_string());
        for signature in ["", "AAAA"] {
            let token = format!("{header}.{payload}.{signature}");
            assert_eq!(signer.verify_any(&token), Err(TokenError::Invalid), "{alg}");
        }
    }
}

#[test]
fn other_asymmetric_algorithm_rejected() {
    let eddsa = keyed_signer(JwtAlgorithm::EdDSA, ED25519_PEM);
    let rs256 = keyed_signer(JwtAlgorithm::RS256, RSA_PEM);
    let rs512 = keyed_signer(JwtAlgorithm::RS512, RSA_PEM);
    let rsa_token = pair(&rs256).access_token;
    assert_eq!(eddsa.verify_any(&rsa_token), Err(TokenError::Invalid));
    assert_eq!(
        rs512.verify_any(&rsa_token),
        Err(TokenError::Invalid),
        "same key, other hash"
    );
    assert_eq!(
        default_signer().verify_any(&rsa_token),
        Err(TokenError::Invalid)
    );
    let hmac_token = pair(&default_signer()).access_token;
    assert_eq!(rs256.verify_any(&hmac_token), Err(TokenError::Invalid));
}

#[test]
fn unknown_kid_tries_every_key() {
    let signer = keyed_signer(JwtAlgorithm::RS256, RSA_PEM);
    let own_key = EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap();
    let claims = fastauth_claims();
    // Signed by a key of the set: accepted whatever `kid` the header names, because the
    // verifier then tries each key of the set.
    for kid in [Some("unknown-kid"), None] {
        let token = sign_with(Algorithm::RS256, kid, &claims, &own_key);
        assert!(signer.verify_any(&token).is_ok(), "{kid:?}");
    }
    // Signed by a key outside the set: rejected, with or without a `kid`.
    let stranger = SigningKey::generate(JwtAlgorithm::RS256, OffsetDateTime::now_utc()).unwrap();
    for kid in [Some(stranger.0.kid()), Some("unknown-kid"), None] {
        let token = sign_with(Algorithm::RS256, kid, &claims, stranger.0.encoding());
        assert_eq!(
            signer.verify_any(&token),
            Err(TokenError::Invalid),
            "{kid:?}"
        );
    }
}

#[test]
fn replaced_key_verifies_until_dropped() {
    let signer =
        signer(AuthConfig::new(Secret::new(SECRET).unwrap()).algorithm(JwtAlgorithm::EdDSA));
    let set = signer.key_set().unwrap().clone();
    let first = Arc::clone(set.snapshot().signing_key().unwrap());
    let old_token = pair(&signer).access_token;

    let later = OffsetDateTime::now_utc();
    assert!(later > first.active_from());
    let second = Arc::new(SigningKey::generate(JwtAlgorithm::EdDSA, later).unwrap().0);
    set.replace(KeySet::new(vec![Arc::clone(&first), Arc::clone(&second)]));
    let new_token = pair(&signer).access_token;
    assert_eq!(header_of(&new_token)["kid"], second.kid());
    assert!(
        signer.verify_any(&old_token).is_ok(),
        "the old key still verifies"
    );
    assert!(signer.verify_any(&new_token).is_ok());

    set.replace(KeySet::new(vec![second]));
    assert_eq!(signer.verify_any(&old_token), Err(TokenError::Invalid));
    assert!(signer.verify_any(&new_token).is_ok());
}

#[test]
fn invalid_private_key_is_config_error() {
    let config = AuthConfig::new(Secret::new(SECRET).unwrap())
        .algorithm(JwtAlgorithm::RS256)
        .private_key_pem(ED25519_PEM);
    let error = TokenSigner::new(&config).unwrap_err();
    assert_eq!(error.setting, "private_key_pem");
}
