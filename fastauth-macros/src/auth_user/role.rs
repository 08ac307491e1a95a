//! The auth roles a field can play: the macro's mirror of the runtime's `StandardField`.

/// An auth role, named in `#[auth(...)]` by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Id,
    Email,
    PasswordHash,
    Name,
    Image,
    EmailVerified,
    Active,
    CreatedAt,
    UpdatedAt,
}

impl Role {
    pub(crate) const ALL: [Role; 9] = [
        Role::Id,
        Role::Email,
        Role::PasswordHash,
        Role::Name,
        Role::Image,
        Role::EmailVerified,
        Role::Active,
        Role::CreatedAt,
        Role::UpdatedAt,
    ];

    /// The key of `#[auth(...)]` that gives a field this role.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Role::Id => "id",
            Role::Email => "email",
            Role::PasswordHash => "password_hash",
            Role::Name => "name",
            Role::Image => "image",
            Role::EmailVerified => "email_verified",
            Role::Active => "active",
            Role::CreatedAt => "created_at",
            Role::UpdatedAt => "updated_at",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.key() == key)
    }

    /// The name of the runtime's `StandardField` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Role::Id => "Id",
            Role::Email => "Email",
            Role::PasswordHash => "PasswordHash",
            Role::Name => "Name",
            Role::Image => "Image",
            Role::EmailVerified => "EmailVerified",
            Role::Active => "Active",
            Role::CreatedAt => "CreatedAt",
            Role::UpdatedAt => "UpdatedAt",
        }
    }

    /// The column FastAuth's schema gives the role; must equal the runtime's
    /// `StandardField::default_column`, which the ui pass cases assert.
    pub(crate) fn default_column(self) -> &'static str {
        match self {
            Role::PasswordHash => "hashed_password",
            Role::Active => "is_active",
            other => other.key(),
        }
    }

    /// The marker trait of the runtime's `roles` module that the field's type must implement.
    pub(crate) fn type_check(self) -> &'static str {
        match self {
            Role::Id | Role::Email => "RequiredText",
            Role::PasswordHash | Role::Name | Role::Image => "OptionalText",
            Role::EmailVerified | Role::Active => "Flag",
            Role::CreatedAt | Role::UpdatedAt => "Timestamp",
        }
    }

    /// What the field holds, for the message about a missing required role.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Role::Id => "the user id",
            Role::Email => "the address",
            Role::PasswordHash => "the password hash",
            Role::Name => "the display name",
            Role::Image => "the avatar URL",
            Role::EmailVerified => "whether the address is verified",
            Role::Active => "whether the account may sign in",
            Role::CreatedAt => "the creation time",
            Role::UpdatedAt => "the last update time",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_key_inverts_key() {
        for role in Role::ALL {
            assert_eq!(Role::from_key(role.key()), Some(role));
        }
        assert_eq!(Role::from_key("register"), None);
    }

    #[test]
    fn default_column_renames_two_roles() {
        assert_eq!(Role::PasswordHash.default_column(), "hashed_password");
        assert_eq!(Role::Active.default_column(), "is_active");
        assert_eq!(Role::Email.default_column(), "email");
    }
}
