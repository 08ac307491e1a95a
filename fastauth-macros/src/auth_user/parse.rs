//! Reads the `#[auth(...)]` attributes of the struct and of its fields.

use darling::ast::NestedMeta;
use darling::error::Accumulator;
use darling::{Error, Result};
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Meta};

use super::role::Role;
use crate::suggest;

/// The keys `#[auth(...)]` accepts on a field besides the role keys.
const REGISTER: &str = "register";
const COLUMN: &str = "column";
/// The keys `#[auth(...)]` accepts on the struct.
const TABLE: &str = "table";

/// One item of an `#[auth(...)]` list: a bare key or `key = "string"`.
pub(crate) enum AuthItem {
    Word(Ident),
    Value(Ident, LitStr),
}

/// The arguments of the struct's `#[auth(...)]`.
#[derive(Default)]
pub(crate) struct ContainerArgs {
    pub(crate) table: Option<LitStr>,
}

/// The arguments of a field's `#[auth(...)]`.
#[derive(Default)]
pub(crate) struct FieldArgs {
    /// Each role key with its token; more than one is an error the model reports.
    pub(crate) roles: Vec<(Role, Ident)>,
    pub(crate) register: Option<Ident>,
    pub(crate) column: Option<LitStr>,
}

/// Reads the `#[auth(...)]` attributes of the struct, collecting errors into `errors`.
pub(crate) fn parse_container_args(attrs: &[Attribute], errors: &mut Accumulator) -> ContainerArgs {
    let mut args = ContainerArgs::default();
    for item in auth_items(attrs, errors) {
        match item {
            AuthItem::Value(key, value) if key == TABLE => {
                check_identifier(&value, errors);
                set_once(&mut args.table, &key, value, errors);
            }
            AuthItem::Word(key) | AuthItem::Value(key, _) => {
                errors.push(unknown_container_key(&key));
            }
        }
    }
    args
}

/// Reads the `#[auth(...)]` attributes of a field, collecting errors into `errors`.
pub(crate) fn parse_field_args(attrs: &[Attribute], errors: &mut Accumulator) -> FieldArgs {
    let mut args = FieldArgs::default();
    for item in auth_items(attrs, errors) {
        match item {
            AuthItem::Word(key) if key == REGISTER => {
                set_once(&mut args.register, &key, key.clone(), errors);
            }
            AuthItem::Value(key, value) if key == COLUMN => {
                check_identifier(&value, errors);
                set_once(&mut args.column, &key, value, errors);
            }
            AuthItem::Word(key) => match Role::from_key(&key.to_string()) {
                Some(role) if args.roles.iter().any(|(seen, _)| *seen == role) => {
                    errors.push(duplicate_key(&key));
                }
                Some(role) => args.roles.push((role, key)),
                None => {
                    errors.push(unknown_field_key(&key, false));
                    // Recover as the role the message suggests, so the checks that follow
                    // do not also report that role as missing.
                    if let Some(role) = suggested_role(&key) {
                        args.roles.push((role, key));
                    }
                }
            },
            AuthItem::Value(key, _) => errors.push(unknown_field_key(&key, true)),
        }
    }
    args
}

/// Flattens every `#[auth(...)]` in `attrs` into its items, skipping malformed ones.
pub(crate) fn auth_items(attrs: &[Attribute], errors: &mut Accumulator) -> Vec<AuthItem> {
    let mut items = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("auth")) {
        let Some(list) = errors.handle(attr_list(attr)) else {
            continue;
        };
        for meta in &list {
            if let Some(item) = errors.handle(item_from_meta(meta)) {
                items.push(item);
            }
        }
    }
    items
}

fn attr_list(attr: &Attribute) -> Result<Vec<NestedMeta>> {
    let Meta::List(list) = &attr.meta else {
        return Err(Error::custom(
            "`#[auth]` needs a list of keys: write for example `#[auth(email)]`",
        )
        .with_span(attr));
    };
    Ok(NestedMeta::parse_meta_list(list.tokens.clone())?)
}

fn item_from_meta(meta: &NestedMeta) -> Result<AuthItem> {
    let NestedMeta::Meta(meta) = meta else {
        return Err(
            Error::custom("expected a key such as `email`, found a literal").with_span(meta),
        );
    };
    let key = meta.path().require_ident().map_err(Error::from)?.clone();
    match meta {
        Meta::Path(_) => Ok(AuthItem::Word(key)),
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(value),
                ..
            }) => Ok(AuthItem::Value(key, value.clone())),
            other => Err(Error::custom(format!(
                "`{key}` takes a string literal: write `{key} = \"...\"`"
            ))
            .with_span(other)),
        },
        Meta::List(_) => Err(Error::custom(format!(
            "`{key}(...)` is not a valid key: write `{key}` or `{key} = \"...\"`"
        ))
        .with_span(meta)),
    }
}

/// Reports a table or column name that is not a plain SQL identifier: the runtime splices
/// these names into SQL text, and would reject them at start-up anyway.
fn check_identifier(name: &LitStr, errors: &mut Accumulator) {
    let text = name.value();
    let mut chars = text.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && text.len() <= 63;
    if !valid {
        errors.push(
            Error::custom(format!(
                "`{text}` is not a plain SQL identifier: use ASCII letters, digits and `_`, \
                 starting with a letter or `_`, at most 63 characters"
            ))
            .with_span(name),
        );
    }
}

fn set_once<T>(slot: &mut Option<T>, key: &Ident, value: T, errors: &mut Accumulator) {
    if slot.is_some() {
        errors.push(duplicate_key(key));
    } else {
        *slot = Some(value);
    }
}

fn duplicate_key(key: &Ident) -> Error {
    Error::custom(format!(
        "duplicate key `{key}` in `#[auth]`: remove one of them"
    ))
    .with_span(key)
}

fn field_keys() -> Vec<&'static str> {
    let roles = Role::ALL.into_iter().map(Role::key);
    roles.chain([REGISTER, COLUMN]).collect()
}

/// The error for a key on a field that is not a field key, or that has the wrong form
/// (`with_value` tells whether it was written `key = "..."`).
fn unknown_field_key(key: &Ident, with_value: bool) -> Error {
    let name = key.to_string();
    let message = if name == TABLE {
        "`table` names the struct's table: move `#[auth(table = \"...\")]` onto the struct"
            .to_owned()
    } else if name == COLUMN {
        "`column` needs a value: write `column = \"...\"`".to_owned()
    } else if with_value && field_keys().contains(&name.as_str()) {
        format!("`{name}` takes no value: write `#[auth({name})]`")
    } else {
        let hint = suggest::did_you_mean(&name, &field_keys());
        format!("unknown key `{name}` in `#[auth]`: {hint}")
    };
    Error::custom(message).with_span(key)
}

fn suggested_role(key: &Ident) -> Option<Role> {
    let role_keys = Role::ALL.map(Role::key);
    suggest::closest(&key.to_string(), &role_keys).and_then(Role::from_key)
}

fn unknown_container_key(key: &Ident) -> Error {
    let name = key.to_string();
    let message = if field_keys().contains(&name.as_str()) {
        format!("`{name}` marks a field: move `#[auth({name})]` onto the field it describes")
    } else {
        let hint = suggest::did_you_mean(&name, &[TABLE]);
        format!("unknown key `{name}` in `#[auth]` on a struct: {hint}")
    };
    Error::custom(message).with_span(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn field_args(attrs: &[Attribute]) -> (FieldArgs, Vec<String>) {
        let mut errors = Error::accumulator();
        let args = parse_field_args(attrs, &mut errors);
        let messages = errors
            .into_inner()
            .iter()
            .map(ToString::to_string)
            .collect();
        (args, messages)
    }

    #[test]
    fn field_args_read_role_register_column() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(name, register, column = "nick")])];
        let (args, errors) = field_args(&attrs);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(args.roles.len(), 1);
        assert_eq!(args.roles[0].0, Role::Name);
        assert!(args.register.is_some());
        assert_eq!(args.column.map(|c| c.value()).as_deref(), Some("nick"));
    }

    #[test]
    fn field_args_merge_attributes() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(email)]), parse_quote!(#[doc = "x"])];
        let (args, errors) = field_args(&attrs);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(args.roles[0].0, Role::Email);
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(emial)])];
        let (_, errors) = field_args(&attrs);
        assert_eq!(
            errors,
            ["unknown key `emial` in `#[auth]`: did you mean `email`?"]
        );
    }

    #[test]
    fn unknown_key_recovers_as_suggested_role() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(pasword_hash)])];
        let (args, errors) = field_args(&attrs);
        assert_eq!(errors.len(), 1);
        assert_eq!(args.roles[0].0, Role::PasswordHash);
    }

    #[test]
    fn duplicate_column_key_rejected() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(column = "a", column = "b")])];
        let (_, errors) = field_args(&attrs);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("duplicate key `column`"),
            "{errors:?}"
        );
    }

    #[test]
    fn column_without_string_rejected() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(column = 3)])];
        let (_, errors) = field_args(&attrs);
        assert_eq!(
            errors,
            ["`column` takes a string literal: write `column = \"...\"`"]
        );
    }

    #[test]
    fn container_args_read_table() {
        let mut errors = Error::accumulator();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(table = "members")])];
        let args = parse_container_args(&attrs, &mut errors);
        assert!(errors.into_inner().is_empty());
        assert_eq!(args.table.map(|t| t.value()).as_deref(), Some("members"));
    }

    #[test]
    fn role_key_on_struct_rejected() {
        let mut errors = Error::accumulator();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[auth(email)])];
        parse_container_args(&attrs, &mut errors);
        let messages: Vec<String> = errors
            .into_inner()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages,
            ["`email` marks a field: move `#[auth(email)]` onto the field it describes"]
        );
    }
}
