//! The handlers of `/auth/oauth/*`: the sign-in and link flows and the account's links.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::delivery::{sign_in_redirect, sign_in_response};
use super::error::ApiError;
use super::extract::{CurrentUser, access_token};
use super::handlers::Client;
use crate::auth::Auth;
use crate::core::limits::LimitedRoute;
use crate::core::rbac::DeclaredRoles;
use crate::oauth::OAuthError;
use crate::store::Store;
use crate::user::AuthUser;

/// The longest `error` parameter of a provider repeated in the response.
const MAX_PROVIDER_ERROR_CHARS: usize = 128;

/// Reads required query parameters, or returns one 422 listing every missing one.
fn required<'a, const N: usize>(
    query: &'a HashMap<String, String>,
    names: [&str; N],
) -> Result<[&'a str; N], ApiError> {
    let missing: Vec<Value> = names
        .iter()
        .filter(|name| !query.contains_key(**name))
        .map(|name| {
            json!({
                "type": "missing",
                "loc": ["query", name],
                "msg": "Field required",
                "input": null,
            })
        })
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    Ok(names.map(|name| query.get(name).map_or("", String::as_str)))
}

/// Rejects a callback that carries the provider's `error` instead of a code.
fn provider_error(query: &HashMap<String, String>) -> Result<(), ApiError> {
    match query.get("error") {
        Some(error) => {
            let error: String = error
                .chars()
                .take(MAX_PROVIDER_ERROR_CHARS)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            Err(OAuthError::ProviderReturnedError(error).into())
        }
        None => Ok(()),
    }
}

pub(super) async fn authorize<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Path(provider): Path<String>,
    Client(client): Client,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let [redirect_uri] = required(&query, ["redirect_uri"])?;
    // Each call stores a state record for ten minutes, so anonymous calls are counted.
    auth.check_rate_limit(LimitedRoute::OAuth, &client, None)
        .await?;
    let url = auth
        .oauth_authorization_url(&provider, redirect_uri, None)
        .await?;
    Ok(Json(json!({ "url": url })))
}

pub(super) async fn callback<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Path(provider): Path<String>,
    Client(client): Client,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    provider_error(&query)?;
    let [code, state] = required(&query, ["code", "state"])?;
    auth.check_rate_limit(LimitedRoute::OAuth, &client, None)
        .await?;
    let sign_in = auth.oauth_sign_in(&provider, code, state, &client).await?;
    let config = auth.config();
    Ok(match &config.oauth.success_redirect {
        Some(location) => sign_in_redirect(config, location, &sign_in),
        None => sign_in_response(config, StatusCode::OK, &sign_in),
    })
}

pub(super) async fn link<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    Path(provider): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let [redirect_uri] = required(&query, ["redirect_uri"])?;
    let url = auth
        .oauth_authorization_url(&provider, redirect_uri, Some(&current.core.id))
        .await?;
    Ok(Json(json!({ "url": url })))
}

pub(super) async fn link_callback<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Path(provider): Path<String>,
    Client(client): Client,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    provider_error(&query)?;
    let [code, state] = required(&query, ["code", "state"])?;
    auth.check_rate_limit(LimitedRoute::OAuth, &client, None)
        .await?;
    // Credentials are optional here; only valid ones of another user matter.
    let caller = access_token(&headers, &auth.config().cookies.access_name)
        .and_then(|(token, _)| auth.verify_access_token(&token).ok())
        .map(|claims| claims.sub);
    auth.oauth_link(&provider, code, state, caller.as_deref())
        .await?;
    let mut name = provider.to_lowercase();
    if let Some(first) = name.get(..1) {
        name = first.to_uppercase() + &name[1..];
    }
    Ok(Json(json!({
        "message": format!("{name} account linked successfully")
    })))
}

pub(super) async fn accounts<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
) -> Result<Json<Value>, ApiError> {
    let accounts = auth.oauth_accounts(&current.core.id).await?;
    let listed: Vec<Value> = accounts
        .iter()
        .map(|a| {
            json!({
                "provider": a.provider,
                "provider_account_id": a.provider_account_id,
            })
        })
        .collect();
    Ok(Json(Value::Array(listed)))
}

pub(super) async fn unlink<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    auth.oauth_unlink(&current.core.id, &provider).await?;
    Ok(Json(json!({ "message": "Account unlinked" })).into_response())
}
