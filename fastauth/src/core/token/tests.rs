// The helpers take `AuthConfig` and `json!` values by value so that each call site builds
// its input inline.
#![allow(clippy::needless_pass_by_value)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

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
