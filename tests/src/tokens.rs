//! Reading the claims of a token, and forging tokens as other issuers would sign them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// Decodes the payload of a compact JWS without verifying it.
pub fn claims(token: &str) -> Value {
    let payload = token
        .split('.')
        .nth(1)
        .expect("a JWT has a payload segment");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the payload is base64url without padding");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

/// Returns the `exp - iat` of a token, in seconds.
pub fn lifetime(token: &str) -> i64 {
    let claims = claims(token);
    let exp = claims["exp"].as_i64().expect("`exp` is an integer");
    let iat = claims["iat"].as_i64().expect("`iat` is an integer");
    exp - iat
}

/// Returns the current Unix time in seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Signs `claims` with HS256 and `secret`, as any JWT library would.
pub fn sign(claims: &Value, secret: &str) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes()).expect("an HMAC key of any length");
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("signing failed")
}

/// Builds an unsigned token with header `{"alg": "none"}` and an empty signature.
pub fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT" }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// Builds the claims Python FastAuth puts into an access token when no issuer or audience is
/// configured: no `sid`, and `iss` and `aud` present as `null`.
pub fn fastauth_access_claims(user_id: &str, email: &str, issued_at: i64, lifetime: i64) -> Value {
    json!({
        "sub": user_id,
        "jti": "k8d1r6x0m2p9q4w7e3t5y1u0",
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "type": "access",
        "email": email,
        "name": null,
        "email_verified": false,
        "iss": null,
        "aud": null,
    })
}

/// Decodes the header of a compact JWS.
pub fn header(token: &str) -> Value {
    let header = token.split('.').next().expect("a JWT has a header segment");
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .expect("the header is base64url without padding");
    serde_json::from_slice(&bytes).expect("the header is JSON")
}

/// Verifies `token` against the JWKS document `jwks` the way an independent resource server
/// would: picks the key by `kid`, pins the key's `alg`, and checks `exp` without leeway.
/// Returns the claims, or the reason the token was rejected.
pub fn verify_with_jwks(token: &str, jwks: &Value) -> Result<Value, String> {
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|e| format!("not a JWKS: {e}"))?;
    let kid = header(token)["kid"]
        .as_str()
        .ok_or("the token has no kid")?
        .to_owned();
    let jwk = set.find(&kid).ok_or(format!("no key {kid} in the JWKS"))?;
    let algorithm = jwk
        .common
        .key_algorithm
        .ok_or("the key has no alg")?
        .to_string()
        .parse::<Algorithm>()
        .map_err(|e| e.to_string())?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(algorithm);
    validation.leeway = 0;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// Returns the SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) of an RSA JWK: the
/// text an attacker would try as an HMAC secret.
pub fn rsa_public_pem(jwk: &Value) -> String {
    use aws_lc_rs::encoding::AsDer as _;
    let component = |name: &str| {
        let text = jwk[name].as_str().expect("RSA JWKs have `n` and `e`");
        URL_SAFE_NO_PAD.decode(text).expect("base64url")
    };
    let components = aws_lc_rs::signature::RsaPublicKeyComponents {
        n: component("n"),
        e: component("e"),
    };
    let der = components.as_der().expect("a valid RSA public key");
    pem::encode_config(
        &pem::Pem::new("PUBLIC KEY", der.as_ref().to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Signs `claims` with `algorithm` and `key`, with `kid` in the header when given.
pub fn sign_with_key(
    algorithm: Algorithm,
    kid: Option<&str>,
    claims: &Value,
    key: &EncodingKey,
) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("signing failed")
}

/// Builds the claims of a valid fastauth access token of `user_id` in session `sid`.
pub fn access_claims(user_id: &str, sid: &str) -> Value {
    json!({
        "sub": user_id,
        "jti": "q4w7e3t5y1u0k8d1r6x0m2p9",
        "iat": now(),
        "exp": now() + 900,
        "type": "access",
        "email": "forged@example.com",
        "name": null,
        "email_verified": false,
        "sid": sid,
    })
}
