use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
#[auth(tabel = "users")]
struct User {
    #[auth(id)]
    id: String,
    #[auth(pasword_hash)]
    password_hash: Option<String>,
}

fn main() {}
