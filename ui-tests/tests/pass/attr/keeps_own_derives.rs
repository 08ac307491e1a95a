// A struct that already derives `Clone` and `Debug` keeps its own derives.
#[fastauth::user]
#[derive(Clone, Debug, PartialEq)]
struct Member {
    plan: String,
}

fn main() {
    use fastauth::AuthUser;
    assert_eq!(Member::SCHEMA.table, "fastauth_users");
}
