use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User {
    user_id: String,
    #[auth(email)]
    email: String,
}

fn main() {}
