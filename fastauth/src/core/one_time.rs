//! One-time tokens: 256 random bits, e-mailed as base64url and stored as their SHA-256.

use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::store::OneTimeKind;

/// The bytes of randomness in a raw token.
const TOKEN_BYTES: usize = 32;

/// The longest presented token worth hashing, in bytes: a raw token is 43 characters.
pub(crate) const MAX_TOKEN_CHARS: usize = 256;

/// A fresh one-time token: the raw value for the link and the hash for the store.
pub(crate) struct NewOneTime {
    /// The raw token: 32 random bytes, base64url without padding (43 characters).
    pub(crate) raw: String,
    /// The lower-case hex SHA-256 of `raw`.
    pub(crate) hash: String,
}

impl std::fmt::Debug for NewOneTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewOneTime(..)")
    }
}

/// Generates a token from a CSPRNG.
pub(crate) fn generate() -> NewOneTime {
    // `rand::random` draws from the thread-local ChaCha12 generator that the operating
    // system's entropy seeds, a CSPRNG.
    let bytes: [u8; TOKEN_BYTES] = rand::random();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&raw);
    NewOneTime { raw, hash }
}

/// Computes the stored form of a presented token: the lower-case hex SHA-256 of its UTF-8
/// bytes.
pub(crate) fn hash(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Returns the lifetime of a token of `kind`. Magic links take theirs from the configuration.
pub(crate) fn lifetime(kind: OneTimeKind, magic_link_ttl: Duration) -> Duration {
    match kind {
        OneTimeKind::Verification => Duration::from_secs(24 * 3600),
        OneTimeKind::PasswordReset | OneTimeKind::EmailChange => Duration::from_secs(30 * 60),
        OneTimeKind::MagicLink => magic_link_ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_token_is_43_urlsafe_characters() {
        let token = generate();
        assert_eq!(token.raw.len(), 43);
        assert!(
            token
                .raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(generate().raw, token.raw);
    }

    #[test]
    fn hash_is_hex_sha256() {
        // SHA-256 of "abc", from FIPS 180-2, appendix B.1.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = generate();
        assert_eq!(token.hash, hash(&token.raw));
        assert_eq!(token.hash.len(), 64);
    }
}
