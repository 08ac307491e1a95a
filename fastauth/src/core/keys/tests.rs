use super::*;

const RSA_PKCS1: &str = include_str!("testdata/rsa2048_pkcs1.pem");
const RSA_PKCS8: &str = include_str!("testdata/rsa2048_pkcs8.pem");
const ED25519: &str = include_str!("testdata/ed25519.pem");
const RSA_1024: &str = include_str!("testdata/rsa1024.pem");
const P256: &str = include_str!("testdata/p256.pem");

/// The thumbprints of the test keys, computed with OpenSSL and Python's `hashlib` from the
/// RFC 7638 member strings, independently of this crate.
const RSA_KID: &str = "7xzBsxfZQGQDzSPmIqdX4kRQOPcMK9ZsEaEl7EHWeJc";
const ED25519_KID: &str = "WELwkv9_QTBZ9LGMP9RAAhkGN3WYkaMNhery5lClnWM";
const ED25519_X: &str = "fM4CQhfHHXg21YLzE5kxhT5guD8REEi16OC0ULd8aVg";

fn epoch() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
}

#[test]
fn algorithm_names_parse() {
    for algorithm in JwtAlgorithm::ALL {
        assert_eq!(algorithm.as_str().parse::<JwtAlgorithm>(), Ok(algorithm));
    }
    assert_eq!("eddsa".parse::<JwtAlgorithm>(), Ok(JwtAlgorithm::EdDSA));
    assert_eq!("rs256".parse::<JwtAlgorithm>(), Ok(JwtAlgorithm::RS256));
    assert!("none".parse::<JwtAlgorithm>().is_err());
    assert!("ES256".parse::<JwtAlgorithm>().is_err());
    assert!(!JwtAlgorithm::HS512.is_asymmetric());
    assert!(JwtAlgorithm::EdDSA.is_asymmetric());
}

#[test]
fn rsa_kid_is_rfc7638_thumbprint() {
    let pkcs1 = SigningKey::from_pem(JwtAlgorithm::RS256, RSA_PKCS1, epoch()).unwrap();
    let pkcs8 = SigningKey::from_pem(JwtAlgorithm::RS512, RSA_PKCS8, epoch()).unwrap();
    assert_eq!(pkcs1.kid(), RSA_KID);
    assert_eq!(
        pkcs8.kid(),
        RSA_KID,
        "the same key in PKCS#8 has the same kid"
    );
    let jwk = pkcs8.public_jwk();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(jwk["alg"], "RS512");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"], RSA_KID);
    assert_eq!(
        jwk["n"].as_str().map(str::len),
        Some(342),
        "2048 bits in base64url"
    );
}

#[test]
fn ed25519_kid_is_rfc7638_thumbprint() {
    let key = SigningKey::from_pem(JwtAlgorithm::EdDSA, ED25519, epoch()).unwrap();
    assert_eq!(key.kid(), ED25519_KID);
    let jwk = key.public_jwk();
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["x"], ED25519_X);
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["kid"], ED25519_KID);
}

#[test]
fn public_jwk_has_no_private_members() {
    for (algorithm, pem) in [
        (JwtAlgorithm::RS256, RSA_PKCS1),
        (JwtAlgorithm::EdDSA, ED25519),
    ] {
        let key = SigningKey::from_pem(algorithm, pem, epoch()).unwrap();
        let members = key.public_jwk().as_object().unwrap();
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                !members.contains_key(private),
                "{algorithm}: `{private}` published"
            );
        }
    }
}

#[test]
fn unusable_keys_are_rejected() {
    let cases = [
        (JwtAlgorithm::RS256, RSA_1024, "at least 2048"),
        (JwtAlgorithm::RS256, ED25519, "RSA"),
        (JwtAlgorithm::RS256, P256, "RSA"),
        (JwtAlgorithm::EdDSA, RSA_PKCS8, "Ed25519"),
        (JwtAlgorithm::EdDSA, "not a key", "Ed25519"),
    ];
    for (algorithm, pem, expected) in cases {
        let error = SigningKey::from_pem(algorithm, pem, epoch()).unwrap_err();
        assert!(error.to_string().contains(expected), "{algorithm}: {error}");
    }
    let error = SigningKey::from_pem(JwtAlgorithm::HS256, RSA_PKCS1, epoch()).unwrap_err();
    assert_eq!(error, KeyError::NotAsymmetric(JwtAlgorithm::HS256));
}

#[test]
fn generated_keys_reload_from_pem() {
    for algorithm in [JwtAlgorithm::RS256, JwtAlgorithm::EdDSA] {
        let (key, pem) = SigningKey::generate(algorithm, epoch()).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
        let reloaded = SigningKey::from_pem(algorithm, &pem, epoch()).unwrap();
        assert_eq!(reloaded.kid(), key.kid());
        assert_eq!(reloaded.public_jwk(), key.public_jwk());
        let (other, _) = SigningKey::generate(algorithm, epoch()).unwrap();
        assert_ne!(other.kid(), key.kid(), "two generated keys differ");
    }
}

#[test]
fn debug_hides_key_material() {
    let key = SigningKey::from_pem(JwtAlgorithm::EdDSA, ED25519, epoch()).unwrap();
    let debug = format!("{key:?}");
    assert!(debug.contains(ED25519_KID), "{debug}");
    assert!(!debug.contains("encoding"), "{debug}");
}

fn key_created(seconds: i64) -> Arc<SigningKey> {
    let created = epoch() + time::Duration::seconds(seconds);
    Arc::new(
        SigningKey::generate(JwtAlgorithm::EdDSA, created)
            .unwrap()
            .0,
    )
}

#[test]
fn key_set_signs_with_newest() {
    let old = key_created(10);
    let new = key_created(20);
    let set = KeySet::new(vec![Arc::clone(&old), Arc::clone(&new), Arc::clone(&old)]);
    assert_eq!(set.keys().len(), 2, "a repeated kid is listed once");
    assert_eq!(set.signing_key().unwrap().kid(), new.kid());
    assert_eq!(set.find(old.kid()).unwrap().kid(), old.kid());
    assert!(set.find("unknown").is_none());
    let jwks = set.jwks();
    assert_eq!(jwks["keys"][0]["kid"], new.kid());
    assert_eq!(jwks["keys"][1]["kid"], old.kid());
    assert_eq!(KeySet::default().jwks(), json!({ "keys": [] }));
}

#[test]
fn grace_period_starts_at_successor() {
    let first = key_created(0);
    let second = key_created(100);
    let third = key_created(200);
    let keys = || vec![Arc::clone(&first), Arc::clone(&second), Arc::clone(&third)];
    let at = |seconds| epoch() + time::Duration::seconds(seconds);
    let grace = Some(Duration::from_secs(50));

    // `first` was superseded at 100 and `second` at 200.
    let (kept, expired) = KeySet::partition_expired(keys(), grace, at(150));
    assert_eq!(kept.len(), 3);
    assert!(expired.is_empty());
    let (kept, expired) = KeySet::partition_expired(keys(), grace, at(151));
    assert_eq!(kept.len(), 2);
    assert_eq!(expired, vec![first.kid().to_owned()]);
    let (kept, expired) = KeySet::partition_expired(keys(), grace, at(10_000));
    assert_eq!(kept.len(), 1, "the newest key is never dropped");
    assert_eq!(kept[0].kid(), third.kid());
    assert_eq!(expired.len(), 2);
    let (kept, expired) = KeySet::partition_expired(keys(), None, at(10_000));
    assert_eq!(kept.len(), 3, "without a grace period every key is kept");
    assert!(expired.is_empty());
}

#[test]
fn scheduled_key_signs_from_its_time() {
    let current = key_created(0);
    let scheduled = key_created(100);
    let set = KeySet::new(vec![Arc::clone(&current), Arc::clone(&scheduled)]);
    let at = |seconds| epoch() + time::Duration::seconds(seconds);
    assert_eq!(set.signing_key_at(at(99)).unwrap().kid(), current.kid());
    assert_eq!(set.signing_key_at(at(100)).unwrap().kid(), scheduled.kid());
    assert_eq!(
        kids_of(&set.jwks()),
        vec![scheduled.kid(), current.kid()],
        "a scheduled key is published before it signs"
    );
    assert_eq!(
        set.signing_key_at(at(-5)).unwrap().kid(),
        current.kid(),
        "with every key in the future, the oldest signs"
    );

    // The current key's grace period only starts when its successor starts signing.
    let grace = Some(Duration::from_secs(10));
    let (kept, _) = KeySet::partition_expired(set.keys().to_vec(), grace, at(50));
    assert_eq!(kept.len(), 2);
    let (kept, expired) = KeySet::partition_expired(set.keys().to_vec(), grace, at(111));
    assert_eq!(kept.len(), 1);
    assert_eq!(expired, vec![current.kid().to_owned()]);
}

fn kids_of(jwks: &Value) -> Vec<&str> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect()
}
