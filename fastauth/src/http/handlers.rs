//! The handlers of `/auth/register`, `/login`, `/refresh`, `/logout` and `/me`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, RequestPartsExt as _};
use serde_json::{Value, json};

use super::body::{Fields, JsonBody};
use super::delivery::{check_csrf, clear_cookies, sign_in_response};
use super::error::ApiError;
use super::extract::{CurrentUser, cookie};
use crate::auth::{Auth, ClientInfo, Registered, Registration};
use crate::core::cookies::TokenDelivery;
use crate::core::limits::LimitedRoute;
use crate::core::rbac::DeclaredRoles;
use crate::store::{Store, UserRecord};
use crate::user::AuthUser;

use crate::user::MAX_NAME_CHARS;

/// The longest string accepted in a `#[auth(register)]` field of the app's own, in
/// characters, as for `image`.
const MAX_REGISTER_FIELD_CHARS: usize = 2048;
/// The longest `User-Agent` kept on a session, in characters.
const MAX_USER_AGENT_CHARS: usize = 512;

/// The client's address and user agent: recorded on the session it signs in to, and the
/// key of its rate limits. The address follows [`crate::AuthConfig::client_ip`].
pub(crate) struct Client(pub(crate) ClientInfo);

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> FromRequestParts<Auth<U, S, P, R>>
    for Client
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        auth: &Auth<U, S, P, R>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extract::<ConnectInfo<SocketAddr>>()
            .await
            .ok()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = auth.config().client_ip.client_ip(peer, &parts.headers);
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
        Ok(Self(ClientInfo {
            ip,
            ip_address: ip.map(|ip| ip.to_string()),
            user_agent,
        }))
    }
}

pub(super) async fn register<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let email = fields.email("email");
    let password = fields.required_string("password");
    let name = fields.optional_string("name", MAX_NAME_CHARS);
    let extra = match register_fields::<U>(object) {
        Ok(extra) => Some(extra),
        Err(entry) => {
            fields.push(entry);
            None
        }
    };
    fields.finish()?;
    let (Some(email), Some(password), Some(extra)) = (email, password, extra) else {
        return Err(ApiError::internal(
            &"register fields passed validation but are missing",
        ));
    };

    auth.check_rate_limit(LimitedRoute::Register, &client, Some(&email))
        .await?;
    let registration = Registration {
        email,
        password,
        name,
        extra,
    };
    match auth.register(registration, &client).await? {
        Registered::SignedIn(sign_in) => Ok(sign_in_response(
            auth.config(),
            StatusCode::CREATED,
            &sign_in,
        )),
        Registered::VerificationSent { .. } => Ok((
            StatusCode::CREATED,
            Json(json!({ "message": "Verification email sent" })),
        )
            .into_response()),
    }
}

/// Deserialises the struct's `#[auth(register)]` fields from the body, or describes the
/// first problem as a 422 entry.
fn register_fields<U: AuthUser>(
    object: &serde_json::Map<String, Value>,
) -> Result<U::Register, Value> {
    let register_columns = U::SCHEMA
        .columns
        .iter()
        .filter(|c| c.register && c.role.is_none());
    for column in register_columns {
        if let Some(Value::String(text)) = object.get(column.field)
            && text.chars().count() > MAX_REGISTER_FIELD_CHARS
        {
            return Err(json!({
                "type": "string_too_long",
                "loc": ["body", column.field],
                "msg": format!(
                    "String should have at most {MAX_REGISTER_FIELD_CHARS} characters"
                ),
                "ctx": { "max_length": MAX_REGISTER_FIELD_CHARS },
            }));
        }
    }
    let value = Value::Object(object.clone());
    serde_path_to_error::deserialize::<_, U::Register>(value).map_err(|error| {
        let mut loc = vec![Value::from("body")];
        loc.extend(
            error
                .path()
                .to_string()
                .split('.')
                .filter(|segment| !segment.is_empty() && *segment != "?")
                .map(Value::from),
        );
        json!({
            "type": "value_error",
            "loc": loc,
            "msg": error.inner().to_string(),
        })
    })
}

pub(super) async fn login<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let email = fields.email("email");
    let password = fields.required_string("password");
    let remember = fields.lax_bool("remember", false);
    fields.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::internal(
            &"login fields passed validation but are missing",
        ));
    };

    auth.check_rate_limit(LimitedRoute::Login, &client, Some(&email))
        .await?;
    let sign_in = auth.login(&email, &password, remember, &client).await?;
    Ok(sign_in_response(auth.config(), StatusCode::OK, &sign_in))
}

pub(super) async fn refresh<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    method: Method,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let from_body = match &body {
        Some(object) => {
            let mut fields = Fields::new(object);
            let token = fields.required_string("refresh_token");
            fields.finish()?;
            token.filter(|t| !t.is_empty())
        }
        None => None,
    };
    let cookies = &auth.config().cookies;
    let token = match from_body {
        Some(token) => token,
        None => {
            let token = cookie(&headers, &cookies.refresh_name)
                .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Refresh token required"))?;
            // A browser attaches the refresh cookie to cross-site requests too.
            check_csrf(cookies, &method, &headers)?;
            token
        }
    };
    // The account is the token's user only when its signature verifies, so that a forged
    // token cannot spend another user's budget.
    let account = auth.refresh_token_subject(&token);
    auth.check_rate_limit(LimitedRoute::Refresh, &client, account.as_deref())
        .await?;
    let sign_in = auth.refresh(&token).await?;
    Ok(sign_in_response(auth.config(), StatusCode::OK, &sign_in))
}

pub(super) async fn logout<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: Result<CurrentUser<U>, ApiError>,
) -> Response {
    let config = auth.config();
    let cookie_mode = config.token_delivery == TokenDelivery::Cookie;
    let response = match current {
        Ok(current) => {
            let CurrentUser { user, core, claims } = current;
            let record = UserRecord { user, core };
            match auth.logout(&record, &claims).await {
                Ok(()) => Json(json!({ "message": "Logged out" })).into_response(),
                Err(error) => return ApiError::from(error).into_response(),
            }
        }
        // A client whose access token expired can still sign out and drop its cookies. A
        // CSRF failure (403) clears nothing, so a forged request cannot sign anyone out.
        Err(error) if cookie_mode && error.status() == StatusCode::UNAUTHORIZED => {
            error.into_response()
        }
        Err(error) => return error.into_response(),
    };
    if cookie_mode {
        clear_cookies(config, response)
    } else {
        response
    }
}

pub(super) async fn me<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(_auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
) -> Json<Value> {
    let core = &current.core;
    Json(json!({
        "id": core.id,
        "email": core.email,
        "name": core.name,
        "image": core.image,
        "email_verified": core.email_verified,
        "is_active": core.active,
    }))
}
