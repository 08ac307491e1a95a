//! GitHub through an OAuth app: the code exchange, the profile, and the verified address.

use serde::Deserialize;

use super::error::provider_detail;
use super::exchange::CodeGrant;
use super::state::StateRecord;
use super::transport::Transport;
use super::{AuthorizationRequest, GitHubConfig, OAuthError, Profile, TARGET};

const PROVIDER: &str = "GitHub";

/// The GitHub provider.
#[derive(Debug)]
pub(crate) struct GitHub {
    config: GitHubConfig,
    transport: Transport,
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: Option<String>,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

impl GitHub {
    pub(crate) fn new(config: GitHubConfig, transport: Transport) -> Self {
        Self { config, transport }
    }

    fn grant(&self) -> CodeGrant<'_> {
        CodeGrant {
            client_id: &self.config.client_id,
            client_secret: &self.config.client_secret,
            auth_url: &self.config.auth_url,
            token_url: &self.config.token_url,
            basic_auth: false,
            provider: PROVIDER,
        }
    }

    pub(crate) fn authorization_url(
        &self,
        request: &AuthorizationRequest<'_>,
    ) -> Result<String, OAuthError> {
        self.grant()
            .authorization_url(request, &self.config.scopes, &[])
    }

    pub(crate) async fn profile(
        &self,
        code: &str,
        record: &StateRecord,
    ) -> Result<Profile, OAuthError> {
        let redirect_uri = record
            .redirect_uri()
            .ok_or(OAuthError::MissingRedirectUri)?;
        let tokens = self
            .grant()
            .exchange(&self.transport, code, &record.code_verifier, redirect_uri)
            .await?;

        let api = self.config.api_url.trim_end_matches('/');
        let response = self
            .transport
            .get(&format!("{api}/user"), Some(&tokens.access_token))
            .await
            .map_err(unreachable)?;
        let rejected = || OAuthError::UserInfo {
            provider: PROVIDER,
            detail: provider_detail(&response.text()),
        };
        if response.status != 200 {
            return Err(rejected());
        }

        let user: User = serde_json::from_slice(&response.body).map_err(|_| rejected())?;
        let response = self
            .transport
            .get(&format!("{api}/user/emails"), Some(&tokens.access_token))
            .await
            .map_err(unreachable)?;
        if response.status != 200 {
            return Err(OAuthError::GitHubEmails);
        }
        let emails: Vec<Email> =
            serde_json::from_slice(&response.body).map_err(|_| OAuthError::GitHubEmails)?;

        let (email, email_verified) = choose_email(user.email.as_deref(), &emails)?;
        Ok(Profile {
            id: user.id.to_string(),
            email: Some(email),
            email_verified,
            name: user.name.filter(|n| !n.is_empty()).or(user.login),
            image: user.avatar_url,
        })
    }
}

fn unreachable(error: super::transport::TransportError) -> OAuthError {
    tracing::warn!(target: TARGET, provider = PROVIDER, %error, "API unreachable");
    OAuthError::Unavailable
}

/// Picks the address and whether it is verified. A public profile address counts as verified
/// only when the address list has it verified. Without one, the verified primary address wins,
/// then the primary one, then the first.
fn choose_email(public: Option<&str>, emails: &[Email]) -> Result<(String, bool), OAuthError> {
    if let Some(public) = public.filter(|e| !e.is_empty()) {
        let normalised = crate::email::normalize_email(public).ok();
        let verified = emails.iter().any(|entry| {
            entry.verified
                && normalised.is_some()
                && crate::email::normalize_email(&entry.email).ok() == normalised
        });
        return Ok((public.to_owned(), verified));
    }
    let chosen = emails
        .iter()
        .find(|e| e.primary && e.verified)
        .or_else(|| emails.iter().find(|e| e.primary))
        .or_else(|| emails.first())
        .ok_or(OAuthError::NoGitHubEmail)?;
    Ok((chosen.email.clone(), chosen.verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(address: &str, primary: bool, verified: bool) -> Email {
        Email {
            email: address.to_owned(),
            primary,
            verified,
        }
    }

    #[test]
    fn public_address_is_verified_only_by_the_list() {
        let list = [
            email("a@example.com", true, true),
            email("b@example.com", false, false),
        ];
        assert_eq!(
            choose_email(Some("A@Example.com"), &list).unwrap(),
            ("A@Example.com".to_owned(), true)
        );
        assert_eq!(
            choose_email(Some("b@example.com"), &list).unwrap(),
            ("b@example.com".to_owned(), false)
        );
        assert_eq!(
            choose_email(Some("c@example.com"), &list).unwrap(),
            ("c@example.com".to_owned(), false)
        );
    }

    #[test]
    fn without_public_address_the_list_decides() {
        let list = [
            email("first@example.com", false, true),
            email("primary@example.com", true, false),
        ];
        assert_eq!(
            choose_email(None, &list).unwrap(),
            ("primary@example.com".to_owned(), false)
        );
        let list = [
            email("first@example.com", false, true),
            email("primary@example.com", true, true),
        ];
        assert_eq!(
            choose_email(None, &list).unwrap(),
            ("primary@example.com".to_owned(), true)
        );
        let list = [email("first@example.com", false, true)];
        assert_eq!(
            choose_email(None, &list).unwrap(),
            ("first@example.com".to_owned(), true)
        );
        assert_eq!(choose_email(None, &[]), Err(OAuthError::NoGitHubEmail));
    }
}
