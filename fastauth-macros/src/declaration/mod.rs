//! `fastauth! { ... }`: parse the declaration, check it, expand the configured auth type.

mod expand;
mod expand_rbac;
mod model;
mod parse;
mod rbac;

use darling::Error;
use proc_macro2::TokenStream;

use crate::runtime::Runtime;

/// Expands `fastauth! { input }`.
///
/// On errors it emits them all, plus the type alias built from the valid entries so that
/// code naming the type does not add errors of its own.
pub(crate) fn fastauth(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<parse::Input>(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let runtime = Runtime::find();
    let mut errors = Error::accumulator();
    let declaration = model::build(input, model::Features::compiled(), &mut errors);

    let mut tokens = expand::expand(&declaration, &runtime);
    if let Err(error) = errors.finish() {
        tokens.extend(error.write_errors());
    }
    tokens
}
