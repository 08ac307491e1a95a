use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
}

fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials] }

fn main() {}
