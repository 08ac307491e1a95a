//! `#[fastauth::user]`: add the standard auth fields to a struct of domain fields.

mod expand;
mod model;

use darling::Error;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Item;

use crate::runtime::Runtime;

/// Expands `#[fastauth::user(args)]` on `item`. The arguments become the struct's
/// `#[auth(...)]`, which the derive checks.
pub(crate) fn user(args: &TokenStream, item: TokenStream) -> TokenStream {
    let runtime = Runtime::find();
    let item = match syn::parse2::<Item>(item) {
        Ok(Item::Struct(item)) => item,
        Ok(other) => {
            let error = Error::custom(
                "`#[fastauth::user]` applies to a struct with named fields: move it onto one",
            )
            .with_span(&other)
            .write_errors();
            return quote!(#error #other);
        }
        Err(error) => return error.into_compile_error(),
    };

    let mut errors = Error::accumulator();
    if let Some(fields) = errors.handle(model::check_shape(&item)) {
        model::check_no_standard_names(&item, fields, &mut errors);
    }
    match errors.finish() {
        Ok(()) => expand::expand(item, args, &runtime),
        Err(error) => {
            let error = error.write_errors();
            let fallback = expand::fallback(item, &runtime);
            quote!(#error #fallback)
        }
    }
}
