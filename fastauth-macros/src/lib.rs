//! Procedural macros of fastauth. Use them through the `fastauth` crate, which re-exports
//! them and holds the items their generated code names.

mod auth_user;
mod declaration;
mod runtime;
mod suggest;
mod user_attr;

use proc_macro::TokenStream;

/// Implements `fastauth::AuthUser` for a struct with named fields.
///
/// Mark the fields that play an auth role with `#[auth(role)]`; the struct needs at least
/// `id` and `email`. The other fields are the application's own columns.
///
/// ```ignore
/// use fastauth::AuthUser;
/// use time::OffsetDateTime;
///
/// #[derive(AuthUser, Clone, Debug)]
/// #[auth(table = "users")]
/// pub struct User {
///     #[auth(id)] pub id: String,
///     #[auth(email)] pub email: String,
///     #[auth(password_hash)] pub password_hash: Option<String>,
///     #[auth(created_at)] pub created_at: OffsetDateTime,
///     #[auth(register)] pub display_name: Option<String>,
///     #[auth(column = "plan_name")] pub plan: String,
/// }
/// ```
///
/// Field keys: the roles `id`, `email`, `password_hash`, `name`, `image`, `email_verified`,
/// `active`, `created_at` and `updated_at`; `register` for a domain field (or the `name`
/// field) that `POST /auth/register` accepts; `column = "..."` for the SQL column's name.
/// Struct key: `table = "..."`, `fastauth_users` by default.
#[proc_macro_derive(AuthUser, attributes(auth))]
pub fn derive_auth_user(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    auth_user::derive_auth_user(&input).into()
}

/// Adds FastAuth's standard fields to a struct of domain fields and derives `AuthUser`.
///
/// The added fields are `id`, `email`, `password_hash`, `name`, `image`, `email_verified`,
/// `is_active`, `created_at` and `updated_at`. The struct also gets `Clone` and `Debug`
/// unless it derives them. Arguments become the struct's `#[auth(...)]`.
///
/// ```ignore
/// #[fastauth::user(table = "members")]
/// pub struct Member {
///     #[auth(register)]
///     pub display_name: Option<String>,
/// }
/// ```
#[proc_macro_attribute]
pub fn user(args: TokenStream, item: TokenStream) -> TokenStream {
    user_attr::user(&args.into(), item.into()).into()
}

/// Declares the application's auth service: its user struct, database, providers and,
/// optionally, its roles and the permissions each role grants.
///
/// Generates `pub type Auth` (or the type `name:` gives) with every piece as a concrete
/// type. Keys may come in any order.
///
/// ```ignore
/// fastauth::fastauth! {
///     user: User,
///     database: Sqlite,
///     providers: [Credentials],
///     roles: [Admin, Editor],
///     permissions: { Admin: [UsersManage = "users:manage"], Editor: [PostsWrite] },
///     name: AppAuth,
/// }
/// ```
///
/// With `roles`, it also generates the enums `Role` and `Permission` (each with `as_str`,
/// `Display`, `FromStr` and serde through the stored name, which is the snake_case of the
/// Rust name unless `Name = "..."` gives another), `Role::permissions`, and the marker
/// modules `role` and `perm` for the guards: `HasRole<User, role::Admin>`,
/// `HasPermission<User, perm::PostsWrite>`. `migrate` creates the declared roles and
/// grants in the store.
#[proc_macro]
pub fn fastauth(input: TokenStream) -> TokenStream {
    declaration::fastauth(input.into()).into()
}
