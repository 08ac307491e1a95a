use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(password_hash)]
    password_hash: Option<String>,
}

fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials, GitHub] }

fn main() {}
