use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
struct User<T> {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    extra: T,
}

fn main() {}
