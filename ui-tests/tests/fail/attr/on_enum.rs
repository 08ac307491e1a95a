#[fastauth::user]
enum Member {
    Guest,
}

fn main() {}
