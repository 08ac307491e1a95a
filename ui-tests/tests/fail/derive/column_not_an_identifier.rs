// Table and column names are spliced into SQL, so only plain identifiers compile.
use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
#[auth(table = "users; --")]
pub struct User {
    #[auth(id)]
    pub id: String,
    #[auth(email, column = "e mail")]
    pub email: String,
}

fn main() {}
