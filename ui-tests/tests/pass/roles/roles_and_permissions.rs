// Declared roles and permissions: the enums' string forms, the grants, the markers in
// guards, and a wire name the Rust name cannot say.
use std::str::FromStr;

use fastauth::{AuthUser, HasPermission, HasRole};

#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    id: String,
    #[auth(email)]
    email: String,
    #[auth(password_hash)]
    password_hash: Option<String>,
}

fastauth::fastauth! {
    user: User,
    database: Sqlite,
    providers: [Credentials],
    roles: [Admin, Editor, Viewer],
    permissions: {
        Admin: [UsersRead, UsersManage = "users:manage", PostsWrite],
        Editor: [PostsWrite],
    },
}

async fn publish(user: HasPermission<User, perm::PostsWrite>) -> String {
    user.email.clone()
}

async fn manage(user: HasRole<User, role::Admin>) -> String {
    user.core.id.clone()
}

fn main() {
    assert_eq!(Role::Admin.as_str(), "admin");
    assert_eq!(Role::Editor.to_string(), "editor");
    assert_eq!(Role::from_str("viewer"), Ok(Role::Viewer));
    assert!(Role::from_str("Viewer").is_err());
    assert_eq!(Permission::UsersManage.as_str(), "users:manage");
    assert_eq!(Role::Editor.permissions(), &[Permission::PostsWrite]);
    assert!(Role::Viewer.permissions().is_empty());
    assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
    let parsed: Permission = serde_json::from_str("\"posts_write\"").unwrap();
    assert_eq!(parsed, Permission::PostsWrite);
    assert!(serde_json::from_str::<Role>("\"owner\"").is_err());

    let _router: axum::Router = axum::Router::new()
        .route("/publish", axum::routing::get(publish))
        .route("/manage", axum::routing::get(manage));
    let _: Option<Auth> = None;
}
