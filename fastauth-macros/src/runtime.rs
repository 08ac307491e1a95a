//! The table of runtime paths: every item of the `fastauth` crate that generated code names.
//!
//! Generated code reaches the runtime only through `::fastauth::__private`, under the name
//! the user's `Cargo.toml` gives the crate.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};

/// The absolute path of the `fastauth` crate in the crate being compiled.
pub(crate) struct Runtime {
    root: TokenStream,
    root_text: String,
}

impl Runtime {
    /// Finds the runtime crate in the `Cargo.toml` of the crate being compiled.
    ///
    /// A lookup that fails (the macros used without the runtime) and the runtime's own
    /// tests both fall back to `::fastauth`, which the runtime makes resolvable inside
    /// itself with `extern crate self as fastauth`.
    pub(crate) fn find() -> Self {
        let name = match crate_name("fastauth") {
            Ok(FoundCrate::Name(name)) => name,
            Ok(FoundCrate::Itself) | Err(_) => "fastauth".to_owned(),
        };
        Self::named(&name)
    }

    /// Returns the runtime under the given crate name.
    pub(crate) fn named(name: &str) -> Self {
        let ident = format_ident!("{}", name);
        Self {
            root: quote!(::#ident),
            root_text: format!("::{name}"),
        }
    }

    fn private(&self, item: &str) -> TokenStream {
        let root = &self.root;
        let item: TokenStream = item.parse().expect("runtime paths are valid Rust paths");
        quote!(#root::__private::#item)
    }

    pub(crate) fn auth_user(&self) -> TokenStream {
        self.private("AuthUser")
    }

    /// Returns the path of the derive macro, which `#[fastauth::user]` adds to the struct.
    pub(crate) fn derive_auth_user(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::AuthUser)
    }

    pub(crate) fn column_def(&self) -> TokenStream {
        self.private("ColumnDef")
    }

    pub(crate) fn column_type(&self) -> TokenStream {
        self.private("ColumnType")
    }

    pub(crate) fn decode_error(&self) -> TokenStream {
        self.private("DecodeError")
    }

    pub(crate) fn new_user(&self) -> TokenStream {
        self.private("NewUser")
    }

    pub(crate) fn row_values(&self) -> TokenStream {
        self.private("RowValues")
    }

    pub(crate) fn standard_field(&self) -> TokenStream {
        self.private("StandardField")
    }

    pub(crate) fn user_schema(&self) -> TokenStream {
        self.private("UserSchema")
    }

    pub(crate) fn value(&self) -> TokenStream {
        self.private("Value")
    }

    /// Returns the path of a marker trait of `roles`, which checks the type of a role field.
    pub(crate) fn role_trait(&self, name: &str) -> TokenStream {
        self.private(&format!("roles::{name}"))
    }

    pub(crate) fn serde(&self) -> TokenStream {
        self.private("serde")
    }

    /// Returns the path of serde as a string, the form `#[serde(crate = "...")]` takes.
    pub(crate) fn serde_text(&self) -> String {
        format!("{}::__private::serde", self.root_text)
    }

    pub(crate) fn offset_date_time(&self) -> TokenStream {
        self.private("time::OffsetDateTime")
    }

    pub(crate) fn auth(&self) -> TokenStream {
        self.private("Auth")
    }

    pub(crate) fn sql_store(&self) -> TokenStream {
        self.private("SqlStore")
    }

    /// Returns the path of a database marker type such as `Sqlite`.
    pub(crate) fn database(&self, name: &str) -> TokenStream {
        self.private(name)
    }

    /// Returns the path of a bit of `Auth`'s `PROVIDERS` parameter, such as `CREDENTIALS`.
    pub(crate) fn provider_bit(&self, constant: &str) -> TokenStream {
        self.private(&format!("provider::{constant}"))
    }

    pub(crate) fn schema_has(&self) -> TokenStream {
        self.private("schema_has")
    }

    /// Returns the path of a trait or function of the runtime's RBAC module, such as
    /// `RoleMarker` or `parse_named`.
    pub(crate) fn rbac(&self, name: &str) -> TokenStream {
        self.private(name)
    }
}

/// Gives every token of `tokens` the span `span`, so that a compiler error in generated
/// code points at the user's token the code was generated for.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                TokenTree::Group(inner)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_paths_use_crate_name() {
        let runtime = Runtime::named("auth");
        let path = runtime.role_trait("Flag").to_string();
        assert_eq!(path, ":: auth :: __private :: roles :: Flag");
    }

    #[test]
    fn serde_text_uses_crate_name() {
        let runtime = Runtime::named("auth");
        assert_eq!(runtime.serde_text(), "::auth::__private::serde");
    }
}
