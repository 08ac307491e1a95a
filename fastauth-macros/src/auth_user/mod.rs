//! `#[derive(AuthUser)]`: parse the `#[auth]` attributes, model the struct, expand the impl.

mod expand;
mod model;
mod parse;
mod role;

pub(crate) use expand::fallback;
pub(crate) use role::Role;

use darling::Error;
use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::runtime::Runtime;

/// Expands `#[derive(AuthUser)]` on `input`.
///
/// On errors it emits them all, plus a fallback impl (unless the struct is generic) so that
/// the struct's other uses compile.
pub(crate) fn derive_auth_user(input: &DeriveInput) -> TokenStream {
    let runtime = Runtime::find();
    let mut errors = Error::accumulator();
    let container = model::build(input, &mut errors);
    let errors = errors.into_inner();

    if let (Some(container), true) = (&container, errors.is_empty()) {
        return expand::expand(container, &runtime);
    }
    let mut tokens = Error::multiple(errors).write_errors();
    if input.generics.params.is_empty() {
        tokens.extend(fallback(&input.ident, &runtime));
    }
    tokens
}
