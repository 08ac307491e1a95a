//! Generates the configured auth type and its compile-time checks.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};

use super::model::{Declaration, Provider};
use crate::runtime::{Runtime, respan};

/// Generates `pub type <name> = Auth<User, SqlStore<User, Db>, { providers }>` and, with
/// the credentials provider, the check that the user struct maps a password hash.
pub(crate) fn expand(declaration: &Declaration, runtime: &Runtime) -> TokenStream {
    let name = &declaration.name;
    let auth = runtime.auth();
    let user = user_type(declaration);
    let store = store(declaration, runtime);
    let providers = provider_bits(declaration, runtime);
    let doc = doc(declaration);
    let checks = declaration
        .providers
        .iter()
        .map(|(provider, token)| provider_check(declaration, *provider, token, runtime));
    let (roles, role_items) = match &declaration.rbac {
        Some(rbac) => (quote!(, Role), super::expand_rbac::expand(rbac, runtime)),
        None => (TokenStream::new(), TokenStream::new()),
    };

    // A `name` that collides with a generated enum is reported; the alias is left out so
    // that the collision does not add errors of its own.
    let alias = declaration.name_is_free.then(|| {
        quote! {
            #[doc = #doc]
            pub type #name = #auth<#user, #store, { #providers } #roles>;
        }
    });

    quote! {
        #alias
        #role_items
        #(#checks)*
    }
}

/// The user type, or `()` when the declaration has none, so that the alias still exists
/// next to the error.
fn user_type(declaration: &Declaration) -> TokenStream {
    match &declaration.user {
        Some(user) => user.to_token_stream(),
        None => quote!(()),
    }
}

/// `SqlStore<User, Db>`, or `()` when the database is missing or invalid.
fn store(declaration: &Declaration, runtime: &Runtime) -> TokenStream {
    let Some((database, token)) = &declaration.database else {
        return quote!(());
    };
    let sql_store = runtime.sql_store();
    let user = user_type(declaration);
    let database = respan(runtime.database(database.name()), token.span());
    quote!(#sql_store<#user, #database>)
}

/// The providers' bits joined with `|`, or `0` for none.
fn provider_bits(declaration: &Declaration, runtime: &Runtime) -> TokenStream {
    let bits: Vec<TokenStream> = declaration
        .providers
        .iter()
        .filter_map(|(provider, _)| provider.bit())
        .map(|bit| runtime.provider_bit(bit))
        .collect();
    if bits.is_empty() {
        return quote!(0);
    }
    quote!(#(#bits)|*)
}

fn doc(declaration: &Declaration) -> String {
    let user = user_type(declaration).to_string().replace(' ', "");
    let database = declaration
        .database
        .as_ref()
        .map_or("none", |(db, _)| db.name());
    let providers: Vec<String> = declaration
        .providers
        .iter()
        .map(|(provider, _)| format!("`{}`", provider.name()))
        .collect();
    format!(
        " The auth service that `fastauth!` configured: user `{user}`, database `{database}`, \
         providers {}.",
        providers.join(", ")
    )
}

/// The compile-time check of what a provider requires of the user struct, spanned at the
/// provider's name.
fn provider_check(
    declaration: &Declaration,
    provider: Provider,
    token: &syn::Ident,
    runtime: &Runtime,
) -> Option<TokenStream> {
    if provider != Provider::Credentials {
        return None;
    }
    let user = declaration.user.as_ref()?;
    let user_name = user.to_token_stream().to_string().replace(' ', "");
    let message = format!(
        "the `Credentials` provider needs a password hash column: mark an `Option<String>` \
         field of `{user_name}` with `#[auth(password_hash)]`"
    );
    let span = token.span();
    let schema_has = respan(runtime.schema_has(), span);
    let auth_user = respan(runtime.auth_user(), span);
    let standard_field = respan(runtime.standard_field(), span);

    Some(quote_spanned! {span=>
        const _: () = ::core::assert!(
            #schema_has(&<#user as #auth_user>::SCHEMA, #standard_field::PasswordHash),
            #message
        );
    })
}
