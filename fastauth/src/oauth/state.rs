//! The record a flow keeps between the authorization URL and the callback, and the random
//! values it carries.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};

use super::{OAuthError, Provider};

/// How long a flow may take from the authorization URL to the callback.
pub const STATE_TTL: Duration = Duration::from_secs(600);

/// The `flow` of a link record. A record without `flow` is a sign-in.
const LINK_FLOW: &str = "link";

/// The longest `state` parameter looked up: ours are 43 characters.
const MAX_STATE_CHARS: usize = 64;

/// The state record, stored as JSON under `oauth_state:<state>` in the state store, with
/// FastAuth's field names.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct StateRecord {
    pub(crate) code_verifier: String,
    pub(crate) provider: String,
    /// `None` only in a record that another program wrote without it.
    #[serde(default)]
    pub(crate) redirect_uri: Option<serde_json::Value>,
    /// The OpenID Connect nonce; FastAuth's records have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_id: Option<String>,
}

impl std::fmt::Debug for StateRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The verifier and the nonce are secrets of the flow.
        f.debug_struct("StateRecord")
            .field("provider", &self.provider)
            .field("flow", &self.flow)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl StateRecord {
    /// Creates a record with a fresh verifier, and a nonce for OpenID Connect.
    pub(crate) fn new(provider: Provider, redirect_uri: &str, link_user: Option<&str>) -> Self {
        Self {
            code_verifier: random_base64url::<64>(),
            provider: provider.id().to_owned(),
            redirect_uri: Some(serde_json::Value::String(redirect_uri.to_owned())),
            nonce: (provider == Provider::Google).then(random_base64url::<32>),
            flow: link_user.map(|_| LINK_FLOW.to_owned()),
            user_id: link_user.map(str::to_owned),
        }
    }

    /// Returns the stored redirect URI, which the code exchange sends again.
    pub(crate) fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri
            .as_ref()
            .and_then(serde_json::Value::as_str)
    }

    /// Checks a record taken at a callback, in FastAuth's order: the flow, the provider,
    /// the redirect URI. `link` is true at the link callback.
    pub(crate) fn check(&self, provider: Provider, link: bool) -> Result<(), OAuthError> {
        let is_link = self.flow.as_deref() == Some(LINK_FLOW);
        if is_link != link {
            return Err(invalid(link));
        }
        if link && self.user_id.as_deref().is_none_or(str::is_empty) {
            return Err(invalid(link));
        }
        if self.provider != provider.id() {
            return Err(OAuthError::ProviderMismatch);
        }
        if self.redirect_uri().is_none() {
            return Err(OAuthError::MissingRedirectUri);
        }
        Ok(())
    }
}

/// Returns the error of a missing or wrong state at the sign-in or the link callback.
pub(crate) fn invalid(link: bool) -> OAuthError {
    if link {
        OAuthError::InvalidLinkState
    } else {
        OAuthError::InvalidState
    }
}

/// Returns a new `state`: 32 random bytes, base64url without padding (43 characters).
pub(crate) fn new_state() -> String {
    random_base64url::<32>()
}

/// Returns the state-store key of a `state`, or `None` for a value no flow of ours produced, which
/// then needs no lookup.
pub(crate) fn key(state: &str) -> Option<String> {
    let plausible = !state.is_empty()
        && state.len() <= MAX_STATE_CHARS
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then(|| format!("oauth_state:{state}"))
}

fn random_base64url<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a `redirect_uri` against the flow's own callback and the allowed list, as exact
/// strings.
pub(crate) fn redirect_allowed(redirect_uri: &str, own_callback: &str, allowed: &[String]) -> bool {
    redirect_uri == own_callback || allowed.iter().any(|entry| entry == redirect_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_have_wire_lengths() {
        assert_eq!(new_state().len(), 43);
        let record = StateRecord::new(Provider::Google, "https://app.example/cb", None);
        assert_eq!(record.code_verifier.len(), 86);
        assert_eq!(record.nonce.as_deref().map(str::len), Some(43));
        let github = StateRecord::new(Provider::GitHub, "https://app.example/cb", None);
        assert!(github.nonce.is_none());
    }

    #[test]
    fn records_use_fastauth_field_names() {
        let record = StateRecord::new(Provider::GitHub, "https://app.example/cb", Some("u1"));
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["provider"], "github");
        assert_eq!(json["redirect_uri"], "https://app.example/cb");
        assert_eq!(json["flow"], "link");
        assert_eq!(json["user_id"], "u1");
        assert!(json.get("nonce").is_none());
        let sign_in = StateRecord::new(Provider::GitHub, "https://app.example/cb", None);
        let json = serde_json::to_value(&sign_in).unwrap();
        assert!(json.get("flow").is_none());
        assert!(json.get("user_id").is_none());
    }

    #[test]
    fn checks_run_in_fastauth_order() {
        let sign_in = StateRecord::new(Provider::Google, "https://a/cb", None);
        assert_eq!(sign_in.check(Provider::Google, false), Ok(()));
        assert_eq!(
            sign_in.check(Provider::Google, true),
            Err(OAuthError::InvalidLinkState)
        );
        assert_eq!(
            sign_in.check(Provider::GitHub, false),
            Err(OAuthError::ProviderMismatch)
        );
        let link = StateRecord::new(Provider::Google, "https://a/cb", Some("u1"));
        assert_eq!(
            link.check(Provider::Google, false),
            Err(OAuthError::InvalidState)
        );
        assert_eq!(link.check(Provider::Google, true), Ok(()));
        let mut no_redirect = sign_in;
        no_redirect.redirect_uri = Some(serde_json::json!(5));
        assert_eq!(
            no_redirect.check(Provider::Google, false),
            Err(OAuthError::MissingRedirectUri)
        );
        // A record written by FastAuth, without nonce or flow, is a sign-in record.
        let python: StateRecord = serde_json::from_str(
            r#"{"code_verifier": "v", "provider": "github", "redirect_uri": "https://a/cb"}"#,
        )
        .unwrap();
        assert_eq!(python.check(Provider::GitHub, false), Ok(()));
    }

    #[test]
    fn keys_only_for_plausible_states() {
        assert_eq!(key("abc-_9").as_deref(), Some("oauth_state:abc-_9"));
        assert_eq!(key(""), None);
        assert_eq!(key("a b"), None);
        assert_eq!(key(&"a".repeat(65)), None);
        assert_eq!(key("ü"), None);
    }

    #[test]
    fn redirects_match_exactly() {
        let allowed = vec!["https://app.example/done".to_owned()];
        let own = "https://api.example/auth/oauth/google/callback";
        assert!(redirect_allowed(own, own, &allowed));
        assert!(redirect_allowed("https://app.example/done", own, &allowed));
        for rejected in [
            "https://app.example/done/",
            "https://app.example/done?x=1",
            "https://app.example.evil.test/done",
            "https://app.example@evil.test/done",
            "//app.example/done",
            "javascript:alert(1)",
            "HTTPS://app.example/done",
            "https://api.example/auth/oauth/github/callback",
        ] {
            assert!(!redirect_allowed(rejected, own, &allowed), "{rejected}");
        }
    }
}
