// Google alone, without a password column, and next to credentials and magic links.
use fastauth::AuthUser;
use fastauth::oauth::GoogleConfig;

#[derive(AuthUser, Clone, Debug)]
pub struct Member {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
}

#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(password_hash)]
    password_hash: Option<String>,
}

mod google_only {
    use super::Member;
    fastauth::fastauth! { user: Member, database: Sqlite, providers: [Google] }
}

mod all {
    use super::User;
    fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials, MagicLink, Google] }
}

fn main() {
    assert!(google_only::Auth::has_provider(fastauth::provider::GOOGLE));
    assert!(!google_only::Auth::has_provider(fastauth::provider::GITHUB));
    assert!(!google_only::Auth::has_provider(fastauth::provider::CREDENTIALS));
    assert!(all::Auth::has_provider(fastauth::provider::GOOGLE));
    assert!(all::Auth::has_provider(fastauth::provider::MAGIC_LINKS));
    let config = fastauth::AuthConfig::new(fastauth::Secret::generate())
        .google(GoogleConfig::new("client-id", "client-secret"))
        .allowed_redirects(["https://app.example/oauth/done"]);
    let _ = config;
}
