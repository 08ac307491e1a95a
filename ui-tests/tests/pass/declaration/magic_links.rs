// Magic links alone, without a password column, and next to credentials.
use fastauth::AuthUser;

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

mod links_only {
    use super::Member;
    fastauth::fastauth! { user: Member, database: Sqlite, providers: [MagicLink] }
}

mod both {
    use super::User;
    fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials, MagicLink] }
}

fn main() {
    assert!(links_only::Auth::has_provider(fastauth::provider::MAGIC_LINKS));
    assert!(!links_only::Auth::has_provider(fastauth::provider::CREDENTIALS));
    assert!(both::Auth::has_provider(fastauth::provider::MAGIC_LINKS));
}
