//! The HTTP layer: the router, its handlers, the extractors and the error responses.

pub mod body;
pub mod error;
pub mod extract;
mod handlers;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::Auth;
use crate::store::Store;
use crate::user::AuthUser;
use extract::AuthHandle;

impl<U: AuthUser, S: Store<U>, const P: u32> Auth<U, S, P> {
    /// Builds the auth routes under the configured prefix, with this service's layer applied.
    ///
    /// Merge them into the application's router; add [`Auth::layer`] to the application's
    /// router too, so its own handlers can use [`extract::CurrentUser`].
    pub fn router(&self) -> Router {
        let prefix = self.config().prefix.clone();
        let mut routes = Router::new()
            .route("/me", get(handlers::me::<U, S, P>))
            .route("/logout", post(handlers::logout::<U, S, P>))
            .route("/refresh", post(handlers::refresh::<U, S, P>));
        if Self::has_provider(crate::provider::CREDENTIALS) {
            routes = routes
                .route("/register", post(handlers::register::<U, S, P>))
                .route("/login", post(handlers::login::<U, S, P>));
        }
        let routes = if prefix.is_empty() {
            routes
        } else {
            Router::new().nest(&prefix, routes)
        };
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
