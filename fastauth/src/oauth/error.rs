//! The errors of the OAuth flows, each with the HTTP status and text FastAuth's API uses.

/// The reason an OAuth request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The path names a provider that is not declared or not configured.
    #[error("OAuth provider '{0}' not found")]
    ProviderNotFound(String),
    /// The `redirect_uri` is neither the flow's own callback nor an allowed redirect.
    #[error("redirect_uri is not allowed")]
    RedirectNotAllowed,
    /// The provider sent the browser back with an `error` parameter.
    #[error("OAuth provider returned an error: {0}")]
    ProviderReturnedError(String),
    /// The sign-in state is unknown, expired, used, or belongs to a link flow.
    #[error("Invalid or expired OAuth state")]
    InvalidState,
    /// The link state is unknown, expired, used, or belongs to a sign-in flow.
    #[error("Invalid or expired link state")]
    InvalidLinkState,
    /// The state was issued for another provider.
    #[error("OAuth state provider mismatch")]
    ProviderMismatch,
    /// The state record has no `redirect_uri`.
    #[error("OAuth state is missing redirect_uri")]
    MissingRedirectUri,
    /// The provider rejected the authorization code, or its ID token did not verify.
    #[error("{provider} token exchange failed: {detail}")]
    TokenExchange {
        /// `Google` or `GitHub`.
        provider: &'static str,
        /// The provider's response, or `invalid id_token`.
        detail: String,
    },
    /// The provider's profile endpoint rejected the access token.
    #[error("{provider} user info failed: {detail}")]
    UserInfo {
        /// `Google` or `GitHub`.
        provider: &'static str,
        /// The provider's response.
        detail: String,
    },
    /// GitHub's address list could not be read.
    #[error("Failed to fetch GitHub emails")]
    GitHubEmails,
    /// The GitHub account has no address at all.
    #[error("No email found on GitHub account")]
    NoGitHubEmail,
    /// The provider's profile has no usable e-mail address.
    #[error("OAuth provider did not return an email")]
    NoEmail,
    /// An account has the provider's address, and the provider does not vouch for it.
    #[error("OAuth provider email is not verified")]
    EmailNotVerified,
    /// The provider account is linked to a user already.
    #[error("This provider account is already linked to a user")]
    AlreadyLinked,
    /// The link's user no longer exists.
    #[error("Linked user account not found")]
    LinkedUserNotFound,
    /// The user who started a link flow no longer exists.
    #[error("Linking user not found")]
    LinkingUserNotFound,
    /// The link callback carries the credentials of another user than the state's.
    #[error("Link state belongs to another user")]
    LinkStateOfAnotherUser,
    /// The caller has no link of this provider.
    #[error("No linked {0} account found")]
    NoLinkedAccount(String),
    /// The provider could not be reached, timed out, or returned a broken document.
    #[error("OAuth provider unavailable")]
    Unavailable,
}

/// The maximum length of a provider's response repeated in an error, in characters.
const MAX_DETAIL_CHARS: usize = 300;

/// Cuts a provider's response for the `detail` of an error: at most [`MAX_DETAIL_CHARS`]
/// characters, control characters replaced.
pub(crate) fn provider_detail(text: &str) -> String {
    let mut detail: String = text
        .trim()
        .chars()
        .take(MAX_DETAIL_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim().chars().count() > MAX_DETAIL_CHARS {
        detail.push('\u{2026}');
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_detail_is_cut_and_cleaned() {
        assert_eq!(provider_detail(" {\"error\":\"x\"}\n"), "{\"error\":\"x\"}");
        assert_eq!(provider_detail("a\u{0}b"), "a b");
        let long = "x".repeat(400);
        let detail = provider_detail(&long);
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(detail.ends_with('\u{2026}'));
    }
}
