//! Rewrites the struct with the standard fields and the derives.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::{Attribute, Field, Fields, ItemStruct, parse_quote};

use super::model::{self, FieldType, STANDARD_FIELDS};
use crate::runtime::Runtime;

/// The struct with the standard fields before its own, `#[derive(AuthUser)]` and `args`
/// as its `#[auth(...)]`.
pub(crate) fn expand(mut item: ItemStruct, args: &TokenStream, runtime: &Runtime) -> TokenStream {
    if let Fields::Named(named) = &mut item.fields {
        let own = std::mem::take(&mut named.named);
        named.named.extend(
            STANDARD_FIELDS
                .iter()
                .map(|field| standard_field(field, runtime)),
        );
        named.named.extend(own);
    }

    let derive_auth_user = runtime.derive_auth_user();
    let mut derives = vec![derive_auth_user];
    if !model::derives(&item.attrs, "Clone") {
        derives.push(quote!(::core::clone::Clone));
    }
    let debug = if model::derives(&item.attrs, "Debug") {
        TokenStream::new()
    } else {
        redacted_debug(&item)
    };
    let derive: Attribute = parse_quote!(#[derive(#(#derives),*)]);
    item.attrs.insert(0, derive);
    if !args.is_empty() {
        item.attrs.push(parse_quote!(#[auth(#args)]));
    }
    quote!(#item #debug)
}

/// A `Debug` impl that prints every field but the password hash, so that logging a user
/// with `{:?}` leaks no secret.
fn redacted_debug(item: &ItemStruct) -> TokenStream {
    let ident = &item.ident;
    let name = ident.to_string();
    let fields = item.fields.iter().filter_map(|field| {
        let field_ident = field.ident.as_ref()?;
        let label = field_ident.to_string();
        Some(if label == "password_hash" {
            quote!(.field(#label, &self.#field_ident.as_ref().map(|_| "<redacted>")))
        } else {
            quote!(.field(#label, &self.#field_ident))
        })
    });
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name) #(#fields)* .finish()
            }
        }
    }
}

/// The struct unchanged except for the `Clone` and `Debug` derives, plus an `AuthUser`
/// fallback impl, emitted next to the errors.
pub(crate) fn fallback(mut item: ItemStruct, runtime: &Runtime) -> TokenStream {
    let derives = missing_std_derives(&item.attrs);
    if !derives.is_empty() {
        item.attrs.insert(0, parse_quote!(#[derive(#(#derives),*)]));
    }
    let fallback = crate::auth_user::fallback(&item.ident, runtime);
    quote!(#item #fallback)
}

/// The `Clone` and `Debug` derives the struct does not already have, which `AuthUser`
/// requires.
fn missing_std_derives(attrs: &[Attribute]) -> Vec<TokenStream> {
    let mut derives = Vec::new();
    if !model::derives(attrs, "Clone") {
        derives.push(quote!(::core::clone::Clone));
    }
    if !model::derives(attrs, "Debug") {
        derives.push(quote!(::core::fmt::Debug));
    }
    derives
}

fn standard_field(field: &model::StandardField, runtime: &Runtime) -> Field {
    let name = syn::Ident::new(field.name, proc_macro2::Span::call_site());
    let key = syn::Ident::new(field.role.key(), proc_macro2::Span::call_site());
    let ty = match field.ty {
        FieldType::Text => quote!(::std::string::String),
        FieldType::OptionalText => quote!(::core::option::Option<::std::string::String>),
        FieldType::Bool => quote!(bool),
        FieldType::Timestamp => runtime.offset_date_time(),
    };
    let tokens = quote!(#[auth(#key)] pub #name: #ty);
    Field::parse_named
        .parse2(tokens)
        .expect("standard fields are valid named fields")
}
