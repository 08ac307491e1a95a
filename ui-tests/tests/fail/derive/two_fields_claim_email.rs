use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(email)]
    contact_email: String,
}

fn main() {}
