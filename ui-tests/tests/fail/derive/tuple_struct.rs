use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User(String, String);

fn main() {}
