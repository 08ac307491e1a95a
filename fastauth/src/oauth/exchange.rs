//! The authorization-code grant through the `oauth2` crate: the authorization URL with PKCE,
//! and the code exchange.

use std::borrow::Cow;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::error::provider_detail;
use super::transport::{Transport, TransportError};
use super::{AuthorizationRequest, ClientSecret, OAuthError};

/// The token response member that OpenID Connect adds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The tokens a code was exchanged for.
pub(crate) struct Tokens {
    pub(crate) access_token: String,
    #[cfg_attr(not(feature = "oauth-google"), allow(dead_code))]
    pub(crate) id_token: Option<String>,
}

/// One provider's client: its endpoints and credentials.
pub(crate) struct CodeGrant<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a ClientSecret,
    pub(crate) auth_url: &'a str,
    pub(crate) token_url: &'a str,
    /// Whether the secret goes in an `Authorization: Basic` header rather than the form.
    pub(crate) basic_auth: bool,
    /// `Google` or `GitHub`, for error texts.
    pub(crate) provider: &'static str,
}

impl CodeGrant<'_> {
    fn client(&self) -> Result<Client, OAuthError> {
        // The URLs were checked when the configuration or the discovery document was read.
        let auth_url =
            AuthUrl::new(self.auth_url.to_owned()).map_err(|_| OAuthError::Unavailable)?;
        let token_url =
            TokenUrl::new(self.token_url.to_owned()).map_err(|_| OAuthError::Unavailable)?;
        let auth_type = if self.basic_auth {
            AuthType::BasicAuth
        } else {
            AuthType::RequestBody
        };
        Ok(
            oauth2::Client::new(ClientId::new(self.client_id.to_owned()))
                .set_client_secret(oauth2::ClientSecret::new(
                    self.client_secret.expose().to_owned(),
                ))
                .set_auth_uri(auth_url)
                .set_token_uri(token_url)
                .set_auth_type(auth_type),
        )
    }

    /// Builds the authorization URL: the client, the redirect URI, the scopes, the state,
    /// the PKCE challenge (S256), and `extra` parameters.
    pub(crate) fn authorization_url(
        &self,
        request: &AuthorizationRequest<'_>,
        scopes: &[String],
        extra: &[(&str, &str)],
    ) -> Result<String, OAuthError> {
        let client = self.client()?;
        let redirect = redirect_url(request.redirect_uri)?;
        let verifier = PkceCodeVerifier::new(request.code_verifier.to_owned());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let state = request.state.to_owned();
        let mut builder = client
            .authorize_url(|| CsrfToken::new(state))
            .set_redirect_uri(Cow::Owned(redirect))
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge);
        for (name, value) in extra {
            builder = builder.add_extra_param(*name, *value);
        }
        Ok(builder.url().0.into())
    }

    /// Exchanges `code`, sending the stored redirect URI and the PKCE verifier.
    pub(crate) async fn exchange(
        &self,
        transport: &Transport,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<Tokens, OAuthError> {
        let client = self.client()?;
        let redirect = redirect_url(redirect_uri)?;
        // Each request's future owns a clone of the client (an `Arc` inside), which keeps
        // the future `Send` for every lifetime, as axum handlers need.
        let send = |request| {
            let transport = transport.clone();
            async move { transport.execute(request).await }
        };
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.to_owned()))
            .set_redirect_uri(Cow::Owned(redirect))
            .request_async(&send)
            .await
            .map_err(|error| self.error_of(error))?;
        Ok(Tokens {
            access_token: response.access_token().secret().clone(),
            id_token: response.extra_fields().id_token.clone(),
        })
    }

    fn error_of(&self, error: RequestTokenError<TransportError, BasicErrorResponse>) -> OAuthError {
        let detail = match error {
            RequestTokenError::Request(error) => {
                tracing::warn!(
                    target: super::TARGET,
                    provider = self.provider,
                    %error,
                    "token endpoint unreachable"
                );
                return OAuthError::Unavailable;
            }
            RequestTokenError::ServerResponse(body) => {
                serde_json::to_string(&body).unwrap_or_else(|_| body.error().to_string())
            }
            RequestTokenError::Parse(_, body) => unreadable_token_response(&body),
            RequestTokenError::Other(text) => text,
        };
        OAuthError::TokenExchange {
            provider: self.provider,
            detail: provider_detail(&detail),
        }
    }
}

/// Returns the detail of a token response the client could not read. GitHub responds 200
/// with an `error` member, whose code is the detail. A body that carries tokens is never
/// repeated, because the detail goes back to the caller.
fn unreadable_token_response(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(object)) => match object.get("error") {
            Some(serde_json::Value::String(code)) => code.clone(),
            _ if object.keys().any(|k| k.ends_with("token")) => {
                "the token response is not valid".to_owned()
            }
            _ => String::from_utf8_lossy(body).into_owned(),
        },
        _ => String::from_utf8_lossy(body).into_owned(),
    }
}

fn redirect_url(redirect_uri: &str) -> Result<RedirectUrl, OAuthError> {
    // Checked against the allow-list before it was stored; a record that another program
    // wrote may still hold anything.
    RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| OAuthError::MissingRedirectUri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses_are_not_repeated() {
        let with_tokens = br#"{"access_token":"a","id_token":5,"refresh_token":"secret"}"#;
        assert_eq!(
            unreadable_token_response(with_tokens),
            "the token response is not valid"
        );
        let github = br#"{"error":"bad_verification_code","error_description":"x"}"#;
        assert_eq!(unreadable_token_response(github), "bad_verification_code");
        assert_eq!(
            unreadable_token_response(b"<html>oops</html>"),
            "<html>oops</html>"
        );
    }
}
