//! Roles and permissions: the traits behind the types `fastauth!` generates from its
//! `roles` and `permissions` keys, and the limits on role and permission names.
//!
//! Roles and permissions are plain strings in the store and on the wire. The declaration
//! gives each one the application declares at compile time a Rust name: a `Role` and a
//! `Permission` enum, and one marker type per name (`role::Admin`, `perm::PostsWrite`) for
//! the guards [`crate::HasRole`] and [`crate::HasPermission`]. Roles created at run time
//! through the API have no Rust name; check them with [`crate::CurrentUser::has_role`].

use std::fmt;

/// The maximum length of a role name, in characters.
pub const MAX_ROLE_CHARS: usize = 64;
/// The maximum length of a permission, in characters. Permissions are part of a primary key,
/// and on MySQL and MariaDB the store declares key columns as `VARCHAR(255)`.
pub const MAX_PERMISSION_CHARS: usize = 255;

/// Why a role name is invalid, or `None` when it is valid: 1 to 64 characters, no `/`
/// (a role name is a path segment of the role routes).
pub fn role_name_problem(name: &str) -> Option<&'static str> {
    let length = name.chars().count();
    if length == 0 {
        Some("a role name must have at least 1 character")
    } else if length > MAX_ROLE_CHARS {
        Some("a role name must have at most 64 characters")
    } else if name.contains('/') {
        Some("a role name must not contain `/`")
    } else {
        None
    }
}

/// Why a permission is invalid, or `None` when it is valid: 1 to 255 characters.
pub fn permission_problem(permission: &str) -> Option<&'static str> {
    let length = permission.chars().count();
    if length == 0 {
        Some("a permission must have at least 1 character")
    } else if length > MAX_PERMISSION_CHARS {
        Some("a permission must have at most 255 characters")
    } else {
        None
    }
}

/// A set of names declared in `fastauth!`: the generated `Role` and `Permission` enums.
pub trait Named: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// The kind of name, for error messages: `role` or `permission`.
    const KIND: &'static str;
    /// Every declared value, in declaration order.
    const ALL: &'static [Self];

    /// Returns the name stored and sent on the wire.
    fn as_str(self) -> &'static str;
}

/// A string that names no declared role or permission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`")]
pub struct UnknownName {
    /// `role` or `permission`.
    pub kind: &'static str,
    /// The string, cut to 64 characters.
    pub name: String,
}

/// Finds the declared value whose name is `name` (an exact comparison).
pub fn parse_named<T: Named>(name: &str) -> Result<T, UnknownName> {
    T::ALL
        .iter()
        .copied()
        .find(|value| value.as_str() == name)
        .ok_or_else(|| UnknownName {
            kind: T::KIND,
            name: name.chars().take(MAX_ROLE_CHARS).collect(),
        })
}

/// Deserialises a declared value from its name.
pub fn deserialize_named<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Named,
{
    let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
    parse_named(&name).map_err(serde::de::Error::custom)
}

/// The roles an application declared, with the permissions each one grants. `migrate`
/// creates them and their grants in the store.
pub trait DeclaredRoles: Send + Sync + 'static {
    /// `(role, permissions)` for every declared role.
    const GRANTS: &'static [(&'static str, &'static [&'static str])];
}

/// No declared roles: the default of [`crate::Auth`]'s `ROLES` parameter.
#[derive(Debug, Clone, Copy)]
pub enum NoRoles {}

impl DeclaredRoles for NoRoles {
    const GRANTS: &'static [(&'static str, &'static [&'static str])] = &[];
}

/// A role declared in `fastauth!`, as a type: the marker types of the generated `role`
/// module.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a role declared in `fastauth!`",
    label = "expected a marker of the generated `role` module, like `role::Admin`",
    note = "declare roles with `roles: [Admin, ...]` in `fastauth!` and name them as \
            `role::Admin`"
)]
pub trait RoleMarker: Send + Sync + 'static {
    /// The role's name.
    const NAME: &'static str;
}

/// A permission declared in `fastauth!`, as a type: the marker types of the generated
/// `perm` module.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a permission declared in `fastauth!`",
    label = "expected a marker of the generated `perm` module, like `perm::PostsWrite`",
    note = "grant permissions with `permissions: {{ Admin: [PostsWrite] }}` in `fastauth!` \
            and name them as `perm::PostsWrite`"
)]
pub trait PermissionMarker: Send + Sync + 'static {
    /// The permission's name.
    const NAME: &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_name_limits() {
        assert_eq!(role_name_problem("editor"), None);
        assert_eq!(role_name_problem(&"é".repeat(64)), None);
        assert!(role_name_problem("").is_some());
        assert!(role_name_problem(&"a".repeat(65)).is_some());
        assert!(role_name_problem("a/b").is_some());
    }

    #[test]
    fn permission_limits() {
        assert_eq!(permission_problem("posts:write"), None);
        assert!(permission_problem("").is_some());
        assert!(permission_problem(&"p".repeat(256)).is_some());
    }
}
