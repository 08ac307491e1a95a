use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(column = "email")]
    backup_email: String,
}

fn main() {}
