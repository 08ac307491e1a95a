//! Asymmetric signing keys and `GET /.well-known/jwks.json`. The scenarios cover the
//! published document, a round trip per algorithm checked against the JWKS as a resource
//! server would check it, keys shared through the database, and rotation with its grace
//! period. They also cover the forgeries a verifier must reject: algorithm confusion,
//! `alg: none` and keys outside the set.

use std::time::Duration;

use fastauth::JwtAlgorithm;
use fastauth::core::keys::SigningKey;
use fastauth_tests::{TestApp, TestDb, config, tokens};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

const JWKS: &str = "/.well-known/jwks.json";

/// Fetches the JWKS document and checks the status and the caching header.
async fn fetch_jwks(app: &TestApp) -> Value {
    let reply = app.get_with(JWKS, &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{JWKS}: {}", reply.text);
    assert_eq!(
        reply.header("cache-control"),
        Some("public, max-age=300"),
        "{JWKS} caching"
    );
    reply.json
}

/// Returns the `kid`s of a JWKS document, in order.
fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("`keys` is an array")
        .iter()
        .map(|key| key["kid"].as_str().expect("every key has a kid").to_owned())
        .collect()
}

async fn stored_keys(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) FROM fastauth_signing_keys").await
}

pub(crate) async fn jwks_publishes_generated_key(db: &TestDb) {
    let app = db.app(config().algorithm(JwtAlgorithm::RS256)).await;
    let jwks = fetch_jwks(&app).await;
    let keys = jwks["keys"].as_array().expect("`keys` is an array");
    assert_eq!(keys.len(), 1, "{jwks}");
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    assert!(
        key["n"].as_str().is_some_and(|n| n.len() == 342),
        "2048-bit n: {key}"
    );
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(
            key.get(private).is_none(),
            "private member `{private}` published"
        );
    }
    assert_eq!(stored_keys(db).await, 1, "the generated key is stored");

    let pair = app.register("jwks@example.com").await;
    let header = tokens::header(&pair.access);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], key["kid"]);
}

pub(crate) async fn jwks_absent_under_hmac(db: &TestDb) {
    let app = db.app(config()).await;
    let reply = app.get_with(JWKS, &[]).await;
    reply.assert_error(404, "Not Found");
    let pair = app.register("hmac@example.com").await;
    let header = tokens::header(&pair.access);
    assert_eq!(header["alg"], "HS256");
    assert!(header.get("kid").is_none(), "no kid under HMAC: {header}");
}

pub(crate) async fn keys_round_trip_every_algorithm(db: &TestDb) {
    let algorithms = [
        JwtAlgorithm::RS256,
        JwtAlgorithm::RS384,
        JwtAlgorithm::RS512,
        JwtAlgorithm::EdDSA,
    ];
    for algorithm in algorithms {
        let app = db.app(config().algorithm(algorithm)).await;
        let jwks = fetch_jwks(&app).await;
        assert_eq!(jwks["keys"][0]["alg"], algorithm.as_str());

        let email = format!("{}@example.com", algorithm.as_str().to_lowercase());
        let registered = app.register(&email).await;
        let pair = app.login(&email).await;
        for token in [&registered.access, &pair.access, &pair.refresh] {
            let claims = tokens::verify_with_jwks(token, &jwks)
                .unwrap_or_else(|e| panic!("{algorithm}: JWKS verification failed: {e}"));
            assert_eq!(claims["email"], email.as_str());
        }
        let me = app.me(&pair.access).await;
        assert_eq!(me.status.as_u16(), 200, "{algorithm} /auth/me: {}", me.text);

        let refreshed = app.refresh(&pair.refresh).await;
        assert_eq!(
            refreshed.status.as_u16(),
            200,
            "{algorithm}: {}",
            refreshed.text
        );
        let access = refreshed.json["access_token"]
            .as_str()
            .expect("a new access token");
        assert!(
            tokens::verify_with_jwks(access, &jwks).is_ok(),
            "{algorithm}"
        );
    }
    assert_eq!(
        stored_keys(db).await,
        4,
        "one generated key per algorithm is stored"
    );
}

pub(crate) async fn keys_shared_between_instances(db: &TestDb) {
    let first = db.app(config().algorithm(JwtAlgorithm::EdDSA)).await;
    // A second service on the same database, as another instance or a restart would be.
    let second = db.app(config().algorithm(JwtAlgorithm::EdDSA)).await;
    let jwks = fetch_jwks(&first).await;
    assert_eq!(kids(&jwks), kids(&fetch_jwks(&second).await));
    assert_eq!(stored_keys(db).await, 1);

    let pair = first.register("shared@example.com").await;
    let me = second.me(&pair.access).await;
    assert_eq!(
        me.status.as_u16(),
        200,
        "the other instance verifies: {}",
        me.text
    );
    let refreshed = second.refresh(&pair.refresh).await;
    assert_eq!(refreshed.status.as_u16(), 200, "{}", refreshed.text);
}

pub(crate) async fn pem_key_kid_is_thumbprint(db: &TestDb) {
    let created = time::OffsetDateTime::now_utc();
    let (key, pem) = SigningKey::generate(JwtAlgorithm::EdDSA, created).expect("generation");
    let keyed = || {
        config()
            .algorithm(JwtAlgorithm::EdDSA)
            .private_key_pem(&pem)
    };
    let app = db.app(keyed()).await;
    let jwks = fetch_jwks(&app).await;
    assert_eq!(kids(&jwks), vec![key.kid().to_owned()]);
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert!(jwks["keys"][0].get("d").is_none());
    assert_eq!(stored_keys(db).await, 0, "a configured key is not stored");

    let pair = app.register("pem@example.com").await;
    assert_eq!(tokens::header(&pair.access)["kid"], key.kid());
    let restarted = db.app(keyed()).await;
    assert_eq!(
        kids(&fetch_jwks(&restarted).await),
        kids(&jwks),
        "same kid after restart"
    );
    let me = restarted.me(&pair.access).await;
    assert_eq!(me.status.as_u16(), 200, "{}", me.text);
}

/// Registers an account and returns its id, its session id and the app's JWKS.
async fn signed_in(app: &TestApp, email: &str) -> (String, String, Value) {
    let pair = app.register(email).await;
    let claims = tokens::claims(&pair.access);
    let user_id = claims["sub"].as_str().expect("sub").to_owned();
    let sid = claims["sid"].as_str().expect("sid").to_owned();
    (user_id, sid, fetch_jwks(app).await)
}

pub(crate) async fn hmac_with_public_key_rejected(db: &TestDb) {
    let app = db.app(config().algorithm(JwtAlgorithm::RS256)).await;
    let (user_id, sid, jwks) = signed_in(&app, "confusion@example.com").await;
    let jwk = &jwks["keys"][0];
    let kid = jwk["kid"].as_str().expect("kid");
    let claims = tokens::access_claims(&user_id, &sid);

    // Every form of the public key an attacker could feed a verifier as the HMAC secret.
    let public_pem = tokens::rsa_public_pem(jwk);
    let secrets = [
        public_pem.clone(),
        public_pem.replace('\n', "\r\n"),
        public_pem.trim_end().to_owned(),
        jwk.to_string(),
        jwk["n"].as_str().expect("n").to_owned(),
    ];
    for secret in &secrets {
        let key = EncodingKey::from_secret(secret.as_bytes()).expect("any HMAC key");
        for algorithm in [Algorithm::HS256, Algorithm::HS512] {
            for header_kid in [Some(kid), None] {
                let forged = tokens::sign_with_key(algorithm, header_kid, &claims, &key);
                app.me(&forged).await.assert_not_authenticated();
            }
        }
    }
}

pub(crate) async fn alg_none_rejected_with_keys(db: &TestDb) {
    let app = db.app(config().algorithm(JwtAlgorithm::EdDSA)).await;
    let (user_id, sid, jwks) = signed_in(&app, "none@example.com").await;
    let kid = jwks["keys"][0]["kid"].as_str().expect("kid");
    let claims = tokens::access_claims(&user_id, &sid);
    let unsigned = tokens::unsigned(&claims);
    app.me(&unsigned).await.assert_not_authenticated();

    use base64::Engine as _;
    let encode =
        |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let payload = encode(&claims);
    for alg in ["none", "None", "NONE", ""] {
        let header = encode(&serde_json::json!({ "alg": alg, "typ": "JWT", "kid": kid }));
        for signature in ["", "c2lnbmF0dXJl"] {
            let forged = format!("{header}.{payload}.{signature}");
            app.me(&forged).await.assert_not_authenticated();
        }
    }
}

pub(crate) async fn unknown_key_rejected(db: &TestDb) {
    let app = db.app(config().algorithm(JwtAlgorithm::RS256)).await;
    let (user_id, sid, jwks) = signed_in(&app, "unknown@example.com").await;
    let served_kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_owned();
    let claims = tokens::access_claims(&user_id, &sid);

    let now = time::OffsetDateTime::now_utc();
    let (stranger, stranger_pem) =
        SigningKey::generate(JwtAlgorithm::RS256, now).expect("generation");
    let key = EncodingKey::from_rsa_pem(stranger_pem.as_bytes()).expect("PKCS#8 RSA");
    let header_kids = [
        Some(stranger.kid()),
        Some("not-a-known-kid"),
        Some(served_kid.as_str()),
        None,
    ];
    for header_kid in header_kids {
        let forged = tokens::sign_with_key(Algorithm::RS256, header_kid, &claims, &key);
        app.me(&forged).await.assert_not_authenticated();
        let reply = app.refresh(&forged).await;
        assert_eq!(reply.status.as_u16(), 401, "{header_kid:?}: {}", reply.text);
    }
}

pub(crate) async fn rotated_key_expires_after_grace(db: &TestDb) {
    let grace = Duration::from_secs(2);
    let (app, keys) = db
        .keyed_app(
            config()
                .algorithm(JwtAlgorithm::EdDSA)
                .key_grace_period(grace),
        )
        .await;
    let old_kid = kids(&fetch_jwks(&app).await).remove(0);
    let old = app.register("rotation@example.com").await;

    let new_kid = keys.rotate().await;
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        kids(&fetch_jwks(&app).await),
        vec![new_kid.clone(), old_kid.clone()],
        "the new key is listed first and the old one stays during the grace period"
    );
    let new = app.login("rotation@example.com").await;
    assert_eq!(tokens::header(&new.access)["kid"], new_kid.as_str());
    let me = app.me(&old.access).await;
    assert_eq!(me.status.as_u16(), 200, "old key within grace: {}", me.text);

    tokio::time::sleep(grace + Duration::from_millis(1500)).await;
    keys.reload().await;
    assert_eq!(kids(&fetch_jwks(&app).await), vec![new_kid.clone()]);
    assert_eq!(stored_keys(db).await, 1, "the retired key is deleted");
    app.me(&old.access).await.assert_not_authenticated();
    let reply = app.refresh(&old.refresh).await;
    reply.assert_error(401, "Invalid refresh token");
    let me = app.me(&new.access).await;
    assert_eq!(me.status.as_u16(), 200, "new key: {}", me.text);
}

pub(crate) async fn rotation_reaches_other_instance(db: &TestDb) {
    let keyed = || config().algorithm(JwtAlgorithm::RS256);
    let (first, first_keys) = db.keyed_app(keyed()).await;
    let (second, second_keys) = db.keyed_app(keyed()).await;
    let new_kid = first_keys.rotate().await;
    // The second instance would reload on its own within 30 s (`KEY_RELOAD_INTERVAL`);
    // the test reloads at once instead of waiting.
    second_keys.reload().await;
    assert_eq!(
        kids(&fetch_jwks(&second).await),
        kids(&fetch_jwks(&first).await)
    );

    let pair = first.register("rotated@example.com").await;
    assert_eq!(tokens::header(&pair.access)["kid"], new_kid.as_str());
    let me = second.me(&pair.access).await;
    assert_eq!(me.status.as_u16(), 200, "{}", me.text);
    let pair = second.login("rotated@example.com").await;
    assert_eq!(tokens::header(&pair.access)["kid"], new_kid.as_str());
}

pub(crate) async fn scheduled_key_signs_later(db: &TestDb) {
    let (app, keys) = db.keyed_app(config().algorithm(JwtAlgorithm::RS256)).await;
    let (second, second_keys) = db.keyed_app(config().algorithm(JwtAlgorithm::RS256)).await;
    let current_kid = kids(&fetch_jwks(&app).await).remove(0);
    let lead = Duration::from_secs(2);
    let scheduled_kid = keys.add(time::OffsetDateTime::now_utc() + lead).await;
    second_keys.reload().await;

    let expected = vec![scheduled_kid.clone(), current_kid.clone()];
    assert_eq!(
        kids(&fetch_jwks(&app).await),
        expected,
        "published before it signs"
    );
    assert_eq!(kids(&fetch_jwks(&second).await), expected);
    let early = app.register("scheduled@example.com").await;
    assert_eq!(tokens::header(&early.access)["kid"], current_kid.as_str());

    tokio::time::sleep(lead + Duration::from_millis(500)).await;
    // Both instances switch at the key's time, without a reload.
    for instance in [&app, &second] {
        let pair = instance.login("scheduled@example.com").await;
        assert_eq!(tokens::header(&pair.access)["kid"], scheduled_kid.as_str());
    }
    let pair = app.login("scheduled@example.com").await;
    let me = second.me(&pair.access).await;
    assert_eq!(me.status.as_u16(), 200, "{}", me.text);
    let me = app.me(&early.access).await;
    assert_eq!(
        me.status.as_u16(),
        200,
        "the previous key still verifies: {}",
        me.text
    );
}
