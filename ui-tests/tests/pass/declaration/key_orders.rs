// The declaration's keys in any order, with a trailing comma, and `name:` for the type.
use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(password_hash)]
    password_hash: Option<String>,
}

mod default_name {
    use super::User;
    fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials] }
}

mod reversed {
    fastauth::fastauth! {
        providers: [Credentials],
        database: Sqlite,
        user: super::User,
        name: AppAuth,
    }
}

mod name_first {
    use super::User;
    fastauth::fastauth! { name: Service, providers: [Credentials,], user: User, database: Sqlite, }
}

fn main() {
    let _: Option<default_name::Auth> = None;
    let _: Option<reversed::AppAuth> = None;
    let _: Option<name_first::Service> = None;
    let same: fn(default_name::Auth) -> reversed::AppAuth = |auth| auth;
    let _ = same;
}
