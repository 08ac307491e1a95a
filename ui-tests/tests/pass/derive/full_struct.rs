// Every role, a register field, and domain fields of each supported type.
use fastauth::AuthUser;
use fastauth::user::{NewUser, RowValues, SqlType, StandardField};
use time::OffsetDateTime;

#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    pub id: String,
    #[auth(email)]
    pub email: String,
    #[auth(password_hash)]
    pub password_hash: Option<String>,
    #[auth(name, register)]
    pub name: Option<String>,
    #[auth(image)]
    pub image: Option<String>,
    #[auth(email_verified)]
    pub email_verified: bool,
    #[auth(active)]
    pub is_active: bool,
    #[auth(created_at)]
    pub created_at: OffsetDateTime,
    #[auth(updated_at)]
    pub updated_at: OffsetDateTime,
    #[auth(register)]
    pub display_name: Option<String>,
    pub age: i32,
    pub visits: i64,
    pub score: f64,
    pub newsletter: bool,
    pub last_seen: Option<OffsetDateTime>,
}

fn main() {
    let schema = User::SCHEMA;
    assert_eq!(schema.table, "fastauth_users");
    assert_eq!(schema.columns.len(), 15);
    for role in StandardField::ALL {
        assert_eq!(schema.column_of(role), role.default_column());
    }
    assert_eq!(schema.columns[2].column, "hashed_password");
    assert!(schema.columns[2].nullable);
    assert_eq!(schema.columns[10].sql_type, SqlType::Int);
    assert_eq!(schema.columns[12].sql_type, SqlType::Double);
    assert!(schema.columns[3].register && schema.columns[9].register);

    let standard = NewUser {
        id: "u1".to_owned(),
        email: "ada@example.com".to_owned(),
        password_hash: None,
        name: Some("Ada".to_owned()),
        image: None,
        email_verified: false,
        active: true,
        created_at: OffsetDateTime::UNIX_EPOCH,
    };
    let register = serde_json::from_str(r#"{"display_name": "ada", "email": "x"}"#).unwrap();
    let user = User::new_user(&standard, register).unwrap();
    assert_eq!(user.id(), "u1");
    assert_eq!(user.name.as_deref(), Some("Ada"));
    assert_eq!(user.display_name.as_deref(), Some("ada"));
    assert_eq!(user.age, 0);

    let row = RowValues::new(user.to_values(), User::SCHEMA.columns);
    let decoded = User::from_row(row).unwrap();
    assert_eq!(decoded.email, "ada@example.com");
    assert!(decoded.is_active);
}
