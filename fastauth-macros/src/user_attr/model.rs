//! The standard fields `#[fastauth::user]` adds, and the checks on the struct it receives.

use darling::Error;
use darling::error::Accumulator;
use syn::punctuated::Punctuated;
use syn::{Attribute, FieldsNamed, ItemStruct, Path, Token};

use crate::auth_user::Role;

/// The Rust type of a standard field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Text,
    OptionalText,
    Bool,
    Timestamp,
}

/// A field the attribute adds: its name, its role and its type.
pub(crate) struct StandardField {
    pub(crate) name: &'static str,
    pub(crate) role: Role,
    pub(crate) ty: FieldType,
}

/// The fields the attribute adds, in the order it adds them before the struct's own.
pub(crate) const STANDARD_FIELDS: [StandardField; 9] = [
    field("id", Role::Id, FieldType::Text),
    field("email", Role::Email, FieldType::Text),
    field("password_hash", Role::PasswordHash, FieldType::OptionalText),
    field("name", Role::Name, FieldType::OptionalText),
    field("image", Role::Image, FieldType::OptionalText),
    field("email_verified", Role::EmailVerified, FieldType::Bool),
    field("is_active", Role::Active, FieldType::Bool),
    field("created_at", Role::CreatedAt, FieldType::Timestamp),
    field("updated_at", Role::UpdatedAt, FieldType::Timestamp),
];

const fn field(name: &'static str, role: Role, ty: FieldType) -> StandardField {
    StandardField { name, role, ty }
}

/// Requires a struct with named fields and returns them.
pub(crate) fn check_shape(item: &ItemStruct) -> darling::Result<&FieldsNamed> {
    match &item.fields {
        syn::Fields::Named(named) => Ok(named),
        _ => Err(Error::custom(format!(
            "`#[fastauth::user]` needs a struct with named fields: write `struct {} {{ ... }}`",
            item.ident
        ))
        .with_span(&item.ident)),
    }
}

/// Rejects the struct's fields whose names the attribute's own fields take.
pub(crate) fn check_no_standard_names(
    item: &ItemStruct,
    fields: &FieldsNamed,
    errors: &mut Accumulator,
) {
    for ident in fields.named.iter().filter_map(|field| field.ident.as_ref()) {
        let name = ident.to_string();
        if STANDARD_FIELDS.iter().any(|standard| standard.name == name) {
            errors.push(
                Error::custom(format!(
                    "struct `{}` already has a field `{name}`, which `#[fastauth::user]` adds \
                     itself: rename the field, or replace `#[fastauth::user]` with \
                     `#[derive(AuthUser)]` and map your own fields with `#[auth(...)]`",
                    item.ident
                ))
                .with_span(ident),
            );
        }
    }
}

/// Whether one of the struct's `#[derive(...)]` attributes names a trait called `name`.
pub(crate) fn derives(attrs: &[Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .any(|attr| {
            let paths = attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated);
            paths.is_ok_and(|paths| {
                paths
                    .iter()
                    .any(|path| path.segments.last().is_some_and(|last| last.ident == name))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn standard_fields_use_role_keys() {
        let names: Vec<&str> = STANDARD_FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), Role::ALL.len());
        for standard in &STANDARD_FIELDS {
            assert!(Role::ALL.contains(&standard.role));
        }
        assert_eq!(STANDARD_FIELDS[6].name, "is_active");
        assert_eq!(STANDARD_FIELDS[6].role, Role::Active);
    }

    #[test]
    fn email_field_rejected() {
        let item: ItemStruct = parse_quote! { struct Member { email: String, plan: String } };
        let fields = check_shape(&item).expect("named fields");
        let mut errors = Error::accumulator();
        check_no_standard_names(&item, fields, &mut errors);
        let messages: Vec<String> = errors
            .into_inner()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("struct `Member` already has a field `email`"));
    }

    #[test]
    fn tuple_struct_rejected() {
        let item: ItemStruct = parse_quote! { struct Member(String); };
        assert!(check_shape(&item).is_err());
    }

    #[test]
    fn derives_finds_paths() {
        let item: ItemStruct = parse_quote! {
            #[derive(std::clone::Clone, PartialEq)]
            struct Member { plan: String }
        };
        assert!(derives(&item.attrs, "Clone"));
        assert!(!derives(&item.attrs, "Debug"));
    }
}
