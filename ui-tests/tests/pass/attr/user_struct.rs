// `#[fastauth::user]` adds the standard fields before the struct's own and derives
// `AuthUser` and `Clone`, and a `Debug` that hides the password hash.
use fastauth::AuthUser;
use fastauth::user::StandardField;

#[fastauth::user(table = "members")]
pub struct Member {
    #[auth(register)]
    pub display_name: Option<String>,
    pub plan: String,
}

fn main() {
    let schema = Member::SCHEMA;
    assert_eq!(schema.table, "members");
    assert_eq!(schema.columns.len(), 11);
    for role in StandardField::ALL {
        assert_eq!(schema.column_of(role), role.default_column());
    }
    assert_eq!(schema.columns[9].field, "display_name");
    assert!(schema.columns[9].register);

    fn clone_and_debug<T: Clone + std::fmt::Debug>() {}
    clone_and_debug::<Member>();

    let member = Member {
        id: "m1".to_owned(),
        email: "m@example.com".to_owned(),
        password_hash: Some("$argon2id$secret".to_owned()),
        name: None,
        image: None,
        email_verified: false,
        is_active: true,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        updated_at: time::OffsetDateTime::UNIX_EPOCH,
        display_name: None,
        plan: String::new(),
    };
    let debug = format!("{member:?}");
    assert!(!debug.contains("$argon2id$secret"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(debug.contains("m@example.com"), "{debug}");
}
