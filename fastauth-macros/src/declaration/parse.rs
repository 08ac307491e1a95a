//! Parses the `key: value` entries of `fastauth! { ... }`.
//!
//! Syntax errors stop the parse; what the entries mean is checked by the model, which
//! reports every mistake at once.

use proc_macro2::TokenTree;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Token, Type, bracketed};

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
    /// The value of a key the parser does not know or does not read yet, skipped.
    Other,
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
            roles: [Admin],
            permissions: { Admin: [UsersRead] },
        };
        let keys: Vec<String> = input.entries.iter().map(|e| e.key.to_string()).collect();
        assert_eq!(
            keys,
            ["providers", "user", "database", "roles", "permissions"]
        );
        assert!(matches!(&input.entries[0].value, Value::List(_, names) if names.len() == 2));
        assert!(matches!(input.entries[1].value, Value::Type(_)));
        assert!(matches!(input.entries[2].value, Value::Ident(_)));
        assert!(matches!(input.entries[4].value, Value::Other));
    }

    #[test]
    fn missing_colon_rejected() {
        let result = syn::parse2::<Input>(quote::quote!(user User));
        assert!(result.is_err());
    }
}
