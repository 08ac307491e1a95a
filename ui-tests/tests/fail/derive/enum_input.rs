use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
enum User {
    Guest,
    Member { id: String, email: String },
}

fn main() {}
