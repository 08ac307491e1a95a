// A mistake in the derive is reported once: the declaration that names the struct adds no
// error of its own about the missing password hash column.
use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    pub id: String,
    #[auth(emial)]
    pub email: String,
    #[auth(password_hash)]
    pub password_hash: Option<String>,
}

fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials] }

fn main() {}
