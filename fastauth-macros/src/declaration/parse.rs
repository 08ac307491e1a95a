//! Parses the `key: value` entries of `fastauth! { ... }`.
//!
//! Syntax errors stop the parse; what the entries mean is checked by the model, which
//! reports every mistake at once.

use proc_macro2::TokenTree;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, Type, braced, bracketed};

/// The whole declaration, in source order.
pub(crate) struct Input {
    pub(crate) entries: Vec<Entry>,
}

/// One `key: value` entry.
pub(crate) struct Entry {
    pub(crate) key: Ident,
    pub(crate) value: Value,
}

/// An entry's value, parsed by the form its key expects.
pub(crate) enum Value {
    /// `user: path::to::User`.
    Type(Box<Type>),
    /// `database: Sqlite`, `name: MyAuth`.
    Ident(Ident),
    /// `providers: [Credentials, ...]`, with the bracket tokens for empty-list errors.
    List(proc_macro2::Span, Vec<Ident>),
    /// `roles: [Admin, UsersManage = "users:manage", ...]`.
    Names(proc_macro2::Span, Vec<Name>),
    /// `permissions: { Admin: [UsersRead, ...], ... }`.
    Grants(Vec<Grant>),
    /// The value of a key the parser does not know or does not read yet, skipped.
    Other,
}

/// A role or permission: its Rust name and, when given, its name on the wire.
pub(crate) struct Name {
    pub(crate) ident: Ident,
    pub(crate) wire: Option<LitStr>,
}

/// `Role: [Permission, ...]`, one entry of `permissions`.
pub(crate) struct Grant {
    pub(crate) role: Ident,
    pub(crate) permissions: Vec<Name>,
}

impl Parse for Name {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let ident = input.parse()?;
        let wire = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Self { ident, wire })
    }
}

impl Parse for Grant {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let role = input.parse()?;
        input.parse::<Token![:]>()?;
        let (_, permissions) = names(input)?;
        Ok(Self { role, permissions })
    }
}

/// `[Name, ...]` with the span of the brackets.
fn names(input: ParseStream<'_>) -> syn::Result<(proc_macro2::Span, Vec<Name>)> {
    let content;
    let brackets = bracketed!(content in input);
    let names = Punctuated::<Name, Token![,]>::parse_terminated(&content)?;
    Ok((brackets.span.join(), names.into_iter().collect()))
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let entries = Punctuated::<Entry, Token![,]>::parse_terminated(input)?;
        Ok(Self {
            entries: entries.into_iter().collect(),
        })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let value = match key.to_string().as_str() {
            "user" => Value::Type(input.parse()?),
            "database" | "name" => Value::Ident(input.parse()?),
            "providers" => {
                let content;
                let brackets = bracketed!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                Value::List(brackets.span.join(), names.into_iter().collect())
            }
            "roles" => {
                let (span, names) = names(input)?;
                Value::Names(span, names)
            }
            "permissions" => {
                let content;
                braced!(content in input);
                let grants = Punctuated::<Grant, Token![,]>::parse_terminated(&content)?;
                Value::Grants(grants.into_iter().collect())
            }
            _ => {
                skip_until_comma(input)?;
                Value::Other
            }
        };
        Ok(Self { key, value })
    }
}

/// Skips the tokens up to the next top-level comma, for a value the parser does not read.
fn skip_until_comma(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn input_parses_every_form() {
        let input: Input = parse_quote! {
            providers: [Credentials, Google],
            user: crate::models::User,
            database: Sqlite,
            roles: [Admin, Editor = "editor"],
            permissions: { Admin: [UsersRead, UsersManage = "users:manage"], Editor: [] },
            theme: Dark,
        };
        let keys: Vec<String> = input.entries.iter().map(|e| e.key.to_string()).collect();
        assert_eq!(
            keys,
            [
                "providers",
                "user",
                "database",
                "roles",
                "permissions",
                "theme"
            ]
        );
        assert!(matches!(&input.entries[0].value, Value::List(_, names) if names.len() == 2));
        assert!(matches!(input.entries[1].value, Value::Type(_)));
        assert!(matches!(input.entries[2].value, Value::Ident(_)));
        assert!(matches!(&input.entries[3].value, Value::Names(_, names)
            if names.len() == 2 && names[1].wire.as_ref().unwrap().value() == "editor"));
        assert!(matches!(&input.entries[4].value, Value::Grants(grants)
            if grants.len() == 2 && grants[0].permissions.len() == 2));
        assert!(matches!(input.entries[5].value, Value::Other));
    }

    #[test]
    fn missing_colon_rejected() {
        let result = syn::parse2::<Input>(quote::quote!(user User));
        assert!(result.is_err());
    }
}
