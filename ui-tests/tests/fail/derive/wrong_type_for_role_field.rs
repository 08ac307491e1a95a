use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(email_verified)]
    email_verified: String,
}

fn main() {}
