use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(password_hash, register)]
    password_hash: Option<String>,
}

fn main() {}
