//! The OAuth example: sign in with Google or GitHub, or with a password, on SQLite.
//!
//! Run it with `cargo run -p oauth`. A provider is on when its client id and secret are set
//! (`GOOGLE_CLIENT_ID` and `GOOGLE_CLIENT_SECRET`, `GITHUB_CLIENT_ID` and
//! `GITHUB_CLIENT_SECRET`); with neither, the server still starts and its OAuth routes
//! return `404 OAuth provider '...' not found`.
//!
//! `GET /` is a page with a button per provider. A button asks
//! `/auth/oauth/{provider}/authorize` for the provider's URL, with the server's own callback
//! as `redirect_uri`, and sends the browser there. After the consent, the provider sends the
//! browser to that callback, which signs in and redirects to `OAUTH_REDIRECT_URL` with the
//! auth cookies set. By default that is the page itself, which then shows the account from
//! `/auth/me`.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use example_support::{Settings, exit_with};
use fastauth::oauth::Provider;

/// FastAuth's user, with no fields of the application's own: the attribute adds the
/// standard ones.
#[fastauth::user]
pub struct User {}

fastauth::fastauth! {
    user: User,
    database: Sqlite,
    providers: [Credentials, Google, GitHub],
}

/// The page, with `{{buttons}}` in place of one button per configured provider.
const PAGE: &str = include_str!("page.html");

/// Renders the page: a button per provider in `providers`, each carrying the callback URL
/// that the provider must send the browser to.
fn render_page(auth: &Auth, providers: &[Provider]) -> String {
    let buttons: String = providers
        .iter()
        .map(|provider| {
            format!(
                "<button data-provider=\"{id}\" data-callback=\"{callback}\">\
                 Sign in with {name}</button>\n",
                id = provider.id(),
                callback = escape_html(&auth.oauth_callback_url(*provider, false)),
                name = provider.name(),
            )
        })
        .collect();
    let buttons = if buttons.is_empty() {
        "<p>No provider is configured: set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or \
         GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET, and restart.</p>"
            .to_owned()
    } else {
        buttons
    };
    PAGE.replace("{{buttons}}", &buttons)
}

/// Escapes text for an HTML attribute value in double quotes.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[tokio::main]
async fn main() {
    example_support::init_tracing();
    let (settings, mut oauth) = Settings::load_with_oauth()
        .await
        .unwrap_or_else(|e| exit_with(&e));
    oauth.log_providers();
    let providers = oauth.providers();

    // Without a post-login redirect of its own, the callback sends the browser back to the
    // page, so that it can show who signed in.
    oauth
        .success_redirect
        .get_or_insert_with(|| format!("{}/", settings.base_url));
    let config = oauth.apply(settings.auth);

    let pool = example_support::open_sqlite(&settings.database_url)
        .await
        .unwrap_or_else(|e| exit_with(&e));
    let auth = Auth::with_pool(pool, config).unwrap_or_else(|e| exit_with(&e));
    auth.migrate()
        .await
        .unwrap_or_else(|e| exit_with(&format!("migrating: {e}")));
    auth.bootstrap_admin()
        .await
        .unwrap_or_else(|e| exit_with(&format!("creating the admin role: {e}")));

    let page = render_page(&auth, &providers);
    let app = Router::new()
        .route("/", get(move || std::future::ready(Html(page.clone()))))
        .merge(auth.router())
        .fallback(fastauth::http::error::not_found)
        .layer(axum::middleware::map_response(
            fastauth::http::error::json_for_empty_errors,
        ))
        .layer(auth.layer());

    if let Err(error) = example_support::serve(app, settings.bind).await {
        exit_with(&format!("serving on {}: {error}", settings.bind));
    }
}
