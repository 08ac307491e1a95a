//! The derive's model of the user struct and the checks on it.

use darling::error::Accumulator;
use darling::{Error, Result};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, FieldsNamed, Ident, Type};

use super::parse::{self, FieldArgs};
use super::role::Role;

/// FastAuth's users table, used unless the struct names another one.
const DEFAULT_TABLE: &str = "fastauth_users";

/// The user struct.
pub(crate) struct Container {
    pub(crate) ident: Ident,
    pub(crate) table: String,
    /// In declaration order, which is also the order of the schema's columns.
    pub(crate) fields: Vec<Field>,
}

/// One named field of the user struct.
pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The role and the key token that gave it.
    pub(crate) role: Option<(Role, Ident)>,
    /// The `register` key token, if the field has it.
    pub(crate) register: Option<Ident>,
    pub(crate) column: String,
    /// The `column = "..."` literal, or the field's name if it has none.
    pub(crate) column_span: Span,
}

impl Field {
    pub(crate) fn role(&self) -> Option<Role> {
        self.role.as_ref().map(|(role, _)| *role)
    }

    /// The field's name without `r#`, as it appears in JSON and in the schema.
    pub(crate) fn name(&self) -> String {
        unraw(&self.ident)
    }

    /// Whether the register body carries this field in `Register` (a `name` field marked
    /// `register` takes the standard value instead).
    pub(crate) fn in_register_struct(&self) -> bool {
        self.register.is_some() && self.role.is_none()
    }
}

/// Builds the model of `input`, pushing every error into `errors`.
///
/// Returns `None` when the input is not a struct with named fields; otherwise returns the
/// model even if some checks failed, and the caller must look at `errors`.
pub(crate) fn build(input: &DeriveInput, errors: &mut Accumulator) -> Option<Container> {
    let args = parse::parse_container_args(&input.attrs, errors);
    errors.handle(check_no_generics(input));
    let named = errors.handle(check_shape(input))?;

    let fields: Vec<Field> = named
        .named
        .iter()
        .map(|field| build_field(field, errors))
        .collect();
    check_unique_roles(&fields, errors);
    check_required_role(&input.ident, &fields, Role::Id, errors);
    check_required_role(&input.ident, &fields, Role::Email, errors);
    check_register_roles(&fields, errors);
    check_unique_columns(&fields, errors);

    let table = args
        .table
        .map_or_else(|| DEFAULT_TABLE.to_owned(), |table| table.value());
    if table.is_empty() {
        errors.push(Error::custom(
            "the table name is empty: write a name or remove `table`",
        ));
    }
    Some(Container {
        ident: input.ident.clone(),
        table,
        fields,
    })
}

fn build_field(field: &syn::Field, errors: &mut Accumulator) -> Field {
    let FieldArgs {
        roles,
        register,
        column,
    } = parse::parse_field_args(&field.attrs, errors);
    let ident = field.ident.clone().expect("named fields have names");

    if let Some((_, extra)) = roles.get(1) {
        let keys: Vec<String> = roles
            .iter()
            .map(|(role, _)| format!("`{}`", role.key()))
            .collect();
        errors.push(
            Error::custom(format!(
                "a field plays one auth role, but `{ident}` is marked {}: keep one of them",
                keys.join(" and ")
            ))
            .with_span(extra),
        );
    }
    let role = roles.into_iter().next();

    let default_column = role
        .as_ref()
        .map_or_else(|| unraw(&ident), |(r, _)| r.default_column().to_owned());
    let (column, column_span) = match column {
        Some(literal) if literal.value().is_empty() => {
            errors.push(
                Error::custom("the column name is empty: write a name or remove `column`")
                    .with_span(&literal),
            );
            (default_column, literal.span())
        }
        Some(literal) => (literal.value(), literal.span()),
        None => (default_column, ident.span()),
    };

    Field {
        ty: field.ty.clone(),
        role,
        register,
        column,
        column_span,
        ident,
    }
}

fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
}

/// Requires a struct with named fields.
fn check_shape(input: &DeriveInput) -> Result<&FieldsNamed> {
    let ident = &input.ident;
    let (found, span) = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => return Ok(named),
            Fields::Unnamed(fields) => ("a tuple struct", fields.span()),
            Fields::Unit => ("a unit struct", ident.span()),
        },
        Data::Enum(data) => ("an enum", data.enum_token.span()),
        Data::Union(data) => ("a union", data.union_token.span()),
    };
    Err(Error::custom(format!(
        "`AuthUser` can only be derived for a struct with named fields, but `{ident}` is {found}: \
         write `struct {ident} {{ ... }}`"
    ))
    .with_span(&span))
}

/// Rejects type and lifetime parameters: the runtime stores the user type in `'static`
/// state and names it without parameters.
fn check_no_generics(input: &DeriveInput) -> Result<()> {
    let generics = &input.generics;
    if generics.params.is_empty() {
        return Ok(());
    }
    Err(Error::custom(format!(
        "`AuthUser` cannot be derived for a generic struct: remove the parameters of `{}`",
        input.ident
    ))
    .with_span(&generics.params))
}

fn check_unique_roles(fields: &[Field], errors: &mut Accumulator) {
    for (index, field) in fields.iter().enumerate() {
        let Some((role, key)) = &field.role else {
            continue;
        };
        let first = fields[..index]
            .iter()
            .find(|earlier| earlier.role() == Some(*role));
        if let Some(first) = first {
            errors.push(
                Error::custom(format!(
                    "field `{}` is already marked `#[auth({})]`: a role belongs to one field, \
                     so remove it from one of the two",
                    first.ident,
                    role.key()
                ))
                .with_span(key),
            );
        }
    }
}

fn check_required_role(ident: &Ident, fields: &[Field], role: Role, errors: &mut Accumulator) {
    if fields.iter().any(|field| field.role() == Some(role)) {
        return;
    }
    let key = role.key();
    let candidate = fields
        .iter()
        .find(|field| field.column == role.default_column());
    let target = match candidate {
        Some(field) => format!("field `{}`", field.ident),
        None => format!("the field that holds {}", role.description()),
    };
    errors.push(
        Error::custom(format!(
            "struct `{ident}` has no field marked `#[auth({key})]`: add `#[auth({key})]` to \
             {target}"
        ))
        .with_span(ident),
    );
}

/// Allows `register` on domain fields and on the `name` field only: the register body
/// carries the other roles itself (email, password) or the server sets them.
fn check_register_roles(fields: &[Field], errors: &mut Accumulator) {
    for field in fields {
        let (Some((role, _)), Some(register)) = (&field.role, &field.register) else {
            continue;
        };
        if *role != Role::Name {
            errors.push(
                Error::custom(format!(
                    "`register` cannot mark the `#[auth({})]` field: it works on domain fields \
                     and on the `name` field, so remove it here",
                    role.key()
                ))
                .with_span(register),
            );
        }
    }
}

/// Requires every column of the table to have one name: the struct's columns and the
/// columns the runtime keeps for the roles no field maps.
fn check_unique_columns(fields: &[Field], errors: &mut Accumulator) {
    for (index, field) in fields.iter().enumerate() {
        // A second claim of a role shares the first one's default column, and
        // `check_unique_roles` already reports it.
        if field.role().is_some() && fields[..index].iter().any(|f| f.role() == field.role()) {
            continue;
        }
        let earlier = fields[..index]
            .iter()
            .find(|earlier| earlier.column == field.column);
        let message = if let Some(earlier) = earlier {
            format!(
                "column `{}` is already the column of field `{}`: give one of them another \
                 column with `#[auth(column = \"...\")]`",
                field.column, earlier.ident
            )
        } else if let Some(role) = unmapped_role_with_column(fields, &field.column) {
            format!(
                "column `{}` is FastAuth's column for {}: mark the field `#[auth({})]` or give \
                 it another column with `#[auth(column = \"...\")]`",
                field.column,
                role.description(),
                role.key()
            )
        } else {
            continue;
        };
        errors.push(Error::custom(message).with_span(&field.column_span));
    }
}

/// The role, other than the required `id` and `email` whose absence is reported on its
/// own, that no field maps and whose column is `column`.
fn unmapped_role_with_column(fields: &[Field], column: &str) -> Option<Role> {
    let optional = Role::ALL
        .into_iter()
        .filter(|role| !matches!(role, Role::Id | Role::Email));
    optional.into_iter().find(|role| {
        role.default_column() == column && !fields.iter().any(|field| field.role() == Some(*role))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn build_messages(input: &DeriveInput) -> (Option<Container>, Vec<String>) {
        let mut errors = Error::accumulator();
        let container = build(input, &mut errors);
        let messages = errors
            .into_inner()
            .iter()
            .map(ToString::to_string)
            .collect();
        (container, messages)
    }

    #[test]
    fn build_reads_roles_and_columns() {
        let input: DeriveInput = parse_quote! {
            #[auth(table = "users")]
            struct User {
                #[auth(id)] id: String,
                #[auth(email)] email: String,
                #[auth(password_hash)] password_hash: Option<String>,
                #[auth(active)] enabled: bool,
                #[auth(register)] plan: String,
                #[auth(column = "score_value")] score: i64,
            }
        };
        let (container, errors) = build_messages(&input);
        assert!(errors.is_empty(), "{errors:?}");
        let container = container.expect("a named struct is modelled");
        assert_eq!(container.table, "users");
        let columns: Vec<&str> = container.fields.iter().map(|f| f.column.as_str()).collect();
        assert_eq!(
            columns,
            [
                "id",
                "email",
                "hashed_password",
                "is_active",
                "plan",
                "score_value"
            ]
        );
        assert!(container.fields[4].in_register_struct());
        assert!(!container.fields[5].in_register_struct());
    }

    #[test]
    fn default_table_is_fastauth_users() {
        let input: DeriveInput = parse_quote! {
            struct User { #[auth(id)] id: String, #[auth(email)] email: String }
        };
        let (container, _) = build_messages(&input);
        assert_eq!(container.expect("modelled").table, "fastauth_users");
    }

    #[test]
    fn missing_id_and_email_both_reported() {
        let input: DeriveInput = parse_quote! { struct User { plan: String } };
        let (_, errors) = build_messages(&input);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("struct `User` has no field marked `#[auth(id)]`"));
        assert!(errors[1].starts_with("struct `User` has no field marked `#[auth(email)]`"));
    }

    #[test]
    fn missing_email_names_unmarked_field() {
        let input: DeriveInput = parse_quote! {
            struct User { #[auth(id)] id: String, email: String }
        };
        let (_, errors) = build_messages(&input);
        assert_eq!(
            errors,
            [
                "struct `User` has no field marked `#[auth(email)]`: add `#[auth(email)]` to field \
              `email`"
            ]
        );
    }

    #[test]
    fn second_claim_of_role_names_first() {
        let input: DeriveInput = parse_quote! {
            struct User {
                #[auth(id)] id: String,
                #[auth(email)] email: String,
                #[auth(email)] contact: String,
            }
        };
        let (_, errors) = build_messages(&input);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("field `email` is already marked `#[auth(email)]`"));
    }

    #[test]
    fn register_on_email_rejected() {
        let input: DeriveInput = parse_quote! {
            struct User { #[auth(id)] id: String, #[auth(email, register)] email: String }
        };
        let (_, errors) = build_messages(&input);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("`register` cannot mark the `#[auth(email)]` field"));
    }

    #[test]
    fn register_on_name_allowed() {
        let input: DeriveInput = parse_quote! {
            struct User {
                #[auth(id)] id: String,
                #[auth(email)] email: String,
                #[auth(name, register)] name: Option<String>,
            }
        };
        let (container, errors) = build_messages(&input);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!container.expect("modelled").fields[2].in_register_struct());
    }

    #[test]
    fn duplicate_column_rejected() {
        let input: DeriveInput = parse_quote! {
            struct User {
                #[auth(id)] id: String,
                #[auth(email)] email: String,
                #[auth(column = "email")] backup_email: String,
            }
        };
        let (_, errors) = build_messages(&input);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("column `email` is already the column of field `email`"));
    }

    #[test]
    fn domain_field_on_runtime_column_rejected() {
        let input: DeriveInput = parse_quote! {
            struct User { #[auth(id)] id: String, #[auth(email)] email: String, name: String }
        };
        let (_, errors) = build_messages(&input);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("column `name` is FastAuth's column for the display name"));
    }

    #[test]
    fn enum_and_tuple_struct_rejected() {
        let input: DeriveInput = parse_quote! { enum User { A } };
        let (container, errors) = build_messages(&input);
        assert!(container.is_none());
        assert!(errors[0].contains("but `User` is an enum"), "{errors:?}");

        let input: DeriveInput = parse_quote! { struct User(String); };
        let (_, errors) = build_messages(&input);
        assert!(
            errors[0].contains("but `User` is a tuple struct"),
            "{errors:?}"
        );
    }

    #[test]
    fn generic_struct_rejected() {
        let input: DeriveInput = parse_quote! {
            struct User<T> { #[auth(id)] id: String, #[auth(email)] email: String, extra: T }
        };
        let (_, errors) = build_messages(&input);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("`AuthUser` cannot be derived for a generic struct"));
    }

    #[test]
    fn two_roles_on_one_field_rejected() {
        let input: DeriveInput = parse_quote! {
            struct User { #[auth(id, email)] id: String }
        };
        let (_, errors) = build_messages(&input);
        assert!(
            errors[0].starts_with("a field plays one auth role"),
            "{errors:?}"
        );
    }
}
