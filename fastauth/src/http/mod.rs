//! The HTTP layer: the router, its handlers, the extractors and the error responses.

mod account;
pub mod body;
mod delivery;
pub mod error;
pub mod extract;
pub mod guard;
mod handlers;
mod jwks;
mod mail_routes;
#[cfg(feature = "oauth")]
mod oauth;
mod roles;
mod sessions;

pub use jwks::JWKS_PATH;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::auth::Auth;
use crate::core::rbac::DeclaredRoles;
use crate::store::Store;
use crate::user::AuthUser;
use extract::AuthHandle;

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// Builds the auth routes under the configured prefix, with this service's layer applied.
    ///
    /// Merge them into the application's router; add [`Auth::layer`] to the application's
    /// router too, so its own handlers can use [`extract::CurrentUser`].
    pub fn router(&self) -> Router {
        let prefix = self.config().prefix.clone();
        let mut routes = Router::new()
            .route("/me", get(handlers::me::<U, S, P, R>))
            .route("/logout", post(handlers::logout::<U, S, P, R>))
            .route("/refresh", post(handlers::refresh::<U, S, P, R>))
            .route(
                "/request-verify-email",
                post(mail_routes::request_verify_email::<U, S, P, R>),
            )
            // An explicit HEAD, because axum would otherwise run the GET handler for it and a
            // mail scanner's HEAD would redeem the token.
            .route(
                "/verify-email",
                get(mail_routes::verify_email_get::<U, S, P, R>)
                    .head(mail_routes::head_link)
                    .post(mail_routes::verify_email_post::<U, S, P, R>),
            )
            .route(
                "/forgot-password",
                post(mail_routes::forgot_password::<U, S, P, R>),
            )
            .route(
                "/reset-password",
                post(mail_routes::reset_password::<U, S, P, R>),
            )
            .route(
                "/account/profile",
                get(account::get_profile::<U, S, P, R>).merge(put(account::update_profile::<
                    U,
                    S,
                    P,
                    R,
                >)),
            )
            .route(
                "/account/change-password",
                post(account::change_password::<U, S, P, R>),
            )
            .route(
                "/account/change-email",
                post(account::change_email::<U, S, P, R>),
            )
            .route(
                "/account/confirm-email-change",
                get(account::confirm_email_change::<U, S, P, R>).head(mail_routes::head_link),
            )
            .route("/account", delete(account::delete_account::<U, S, P, R>))
            .route(
                "/token/introspect",
                post(sessions::introspect::<U, S, P, R>),
            )
            .route("/token/revoke", post(sessions::revoke_token::<U, S, P, R>))
            .route("/sessions", get(sessions::list::<U, S, P, R>))
            // Static segments win over `{session_id}`, so `all` is never taken as an id.
            .route("/sessions/all", delete(sessions::delete_all::<U, S, P, R>))
            .route(
                "/sessions/{session_id}",
                delete(sessions::delete_one::<U, S, P, R>),
            )
            .route(
                "/roles",
                get(roles::list::<U, S, P, R>).post(roles::create::<U, S, P, R>),
            )
            // NOTE: static segments win over `{role_name}`. So a role named `me`, `assign`,
            // `revoke` or `user` cannot be deleted or changed through these routes (405 or
            // 404), only through `Auth::delete_role` and the other `Auth` methods.
            .route("/roles/me", get(roles::me::<U, S, P, R>))
            .route("/roles/assign", post(roles::assign::<U, S, P, R>))
            .route("/roles/revoke", post(roles::revoke::<U, S, P, R>))
            .route("/roles/user/{user_id}", get(roles::of_user::<U, S, P, R>))
            .route("/roles/{role_name}", delete(roles::delete::<U, S, P, R>))
            .route(
                "/roles/{role_name}/permissions",
                post(roles::add_permissions::<U, S, P, R>)
                    .delete(roles::remove_permissions::<U, S, P, R>),
            );
        if Self::has_provider(crate::provider::CREDENTIALS) {
            routes = routes
                .route("/register", post(handlers::register::<U, S, P, R>))
                .route("/login", post(handlers::login::<U, S, P, R>));
        }
        if Self::has_provider(crate::provider::MAGIC_LINKS) {
            routes = routes
                .route(
                    "/magic-links/login",
                    post(mail_routes::magic_link_login::<U, S, P, R>),
                )
                .route(
                    "/magic-links/callback",
                    get(mail_routes::magic_link_callback::<U, S, P, R>)
                        .head(mail_routes::head_link),
                );
        }
        #[cfg(feature = "oauth")]
        if Self::has_provider(crate::provider::OAUTH) {
            routes = routes
                // Static segments win over `{provider}`.
                .route("/oauth/accounts", get(oauth::accounts::<U, S, P, R>))
                .route(
                    "/oauth/accounts/{provider}",
                    delete(oauth::unlink::<U, S, P, R>),
                )
                .route(
                    "/oauth/{provider}/authorize",
                    get(oauth::authorize::<U, S, P, R>),
                )
                // An explicit HEAD on the callbacks, because axum would otherwise run the GET
                // handler for it and a prefetch would use the state up.
                .route(
                    "/oauth/{provider}/callback",
                    get(oauth::callback::<U, S, P, R>).head(mail_routes::head_link),
                )
                .route("/oauth/{provider}/link", get(oauth::link::<U, S, P, R>))
                .route(
                    "/oauth/{provider}/link/callback",
                    get(oauth::link_callback::<U, S, P, R>).head(mail_routes::head_link),
                );
        }
        let mut routes = if prefix.is_empty() {
            routes
        } else {
            Router::new().nest(&prefix, routes)
        };
        // Under HMAC there is no public key to publish, so the path does not exist (404).
        if self.jwks().is_some() {
            routes = routes.route(jwks::JWKS_PATH, get(jwks::jwks::<U, S, P, R>));
        }
        routes
            .with_state(self.clone())
            .layer(axum::middleware::map_response(error::json_for_empty_errors))
            .layer(self.layer())
    }

    /// Returns the layer that lets [`extract::CurrentUser`] and [`extract::AccessClaims`]
    /// authenticate requests on any route of the application.
    pub fn layer(&self) -> axum::Extension<AuthHandle<U>> {
        axum::Extension(AuthHandle(std::sync::Arc::new(self.clone())))
    }
}
