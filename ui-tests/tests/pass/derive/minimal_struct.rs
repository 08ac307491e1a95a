// The smallest struct the credentials provider accepts: id, email and password hash.
use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(password_hash)]
    password_hash: Option<String>,
}

fn main() {
    let columns: Vec<&str> = User::SCHEMA.columns.iter().map(|c| c.column).collect();
    assert_eq!(columns, ["id", "email", "hashed_password"]);
    let _: <User as AuthUser>::Register = serde_json::from_str(r#"{"any": 1}"#).unwrap();
}
