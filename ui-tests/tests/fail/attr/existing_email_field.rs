#[fastauth::user]
struct Member {
    email: String,
    plan: String,
}

fn main() {}
