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
