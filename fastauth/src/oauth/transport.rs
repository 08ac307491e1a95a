//! The HTTP client of the OAuth flows: reqwest with a 10-second timeout, no redirects, a cap
//! on every response, and an adapter that lets the `oauth2` crate send its token requests
//! through it.

use std::time::Duration;

use oauth2::http;

/// Every call to a provider gives up after this long.
pub(crate) const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest provider response read: discovery documents, key sets and profiles are a few
/// kilobytes.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The `User-Agent` of every call. GitHub refuses API calls without one.
const USER_AGENT: &str = "fastauth-rs";

/// A call to a provider failed before it produced a response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    /// Connecting, sending or reading failed, or the timeout passed.
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    /// The response is longer than [`MAX_RESPONSE_BYTES`].
    #[error("the response is longer than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The request could not be built.
    #[error("invalid request: {0}")]
    Build(#[from] http::Error),
}

/// A response of a provider.
#[derive(Debug)]
pub(crate) struct ProviderResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl ProviderResponse {
    /// Returns the body as text, for the `detail` of an error.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The shared client.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
}

impl Transport {
    pub(crate) fn new() -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            // A redirect would send the request, and its credentials, to a host that is not
            // configured.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self { client })
    }

    /// GETs `url` with `Accept: application/json` and, when given, a bearer token.
    pub(crate) async fn get(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<ProviderResponse, TransportError> {
        let mut request = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = read_capped(response).await?;
        Ok(ProviderResponse { status, body })
    }

    /// Sends a request that the `oauth2` crate built.
    pub(crate) async fn execute(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, TransportError> {
        let (parts, body) = request.into_parts();
        let response = self
            .client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = read_capped(response).await?;
        Ok(builder.body(body)?)
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(TransportError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
