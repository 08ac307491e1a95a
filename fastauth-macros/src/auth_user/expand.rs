//! Generates the `AuthUser` impl from the model.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::model::{Container, Field};
use super::role::Role;
use crate::runtime::{Runtime, respan};

/// Generates the impl of `AuthUser` and its `Register` struct.
pub(crate) fn expand(container: &Container, runtime: &Runtime) -> TokenStream {
    let ident = &container.ident;
    let auth_user = runtime.auth_user();
    let register_struct = register_struct(container, runtime);
    let schema = schema(container, runtime);
    let methods = methods(container, runtime);
    let bounds = container
        .fields
        .iter()
        .flat_map(|field| bounds(field, runtime));

    quote! {
        const _: () = {
            #register_struct

            #[automatically_derived]
            impl #auth_user for #ident where #(#bounds,)* {
                type Register = __FastauthRegister;
                const SCHEMA: #schema;
                #methods
            }
        };
    }
}

/// Generates an impl whose methods are never called, emitted next to the errors so that
/// code using the struct as an `AuthUser` does not add errors of its own.
pub(crate) fn fallback(ident: &Ident, runtime: &Runtime) -> TokenStream {
    let auth_user = runtime.auth_user();
    let user_schema = runtime.user_schema();
    let serde = runtime.serde();
    let value = runtime.value();
    let row_values = runtime.row_values();
    let new_user = runtime.new_user();
    let decode_error = runtime.decode_error();
    let unreachable = quote!(::core::unreachable!(
        "`AuthUser` impl of a struct that failed to compile"
    ));

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #auth_user for #ident {
                type Register = #serde::de::IgnoredAny;
                const SCHEMA: #user_schema = #user_schema { table: "", columns: &[] };
                fn id(&self) -> &str { #unreachable }
                fn to_values(&self) -> ::std::vec::Vec<#value> { #unreachable }
                fn from_row(_: #row_values) -> ::core::result::Result<Self, #decode_error> {
                    #unreachable
                }
                fn new_user(
                    _: &#new_user,
                    _: Self::Register,
                ) -> ::core::result::Result<Self, #decode_error> {
                    #unreachable
                }
            }
        };
    }
}

/// Generates the struct `POST /auth/register` deserializes the `register` domain fields into. It
/// ignores unknown keys, because the same body carries the email, password and name.
fn register_struct(container: &Container, runtime: &Runtime) -> TokenStream {
    let serde = runtime.serde();
    let serde_text = runtime.serde_text();
    let fields = container
        .fields
        .iter()
        .filter(|field| field.in_register_struct());
    let fields = fields.map(|field| {
        let ident = &field.ident;
        let ty = &field.ty;
        quote!(#ident: #ty)
    });

    quote! {
        #[derive(#serde::Deserialize)]
        #[serde(crate = #serde_text)]
        #[doc(hidden)]
        pub struct __FastauthRegister {
            #(#fields,)*
        }
    }
}

/// Generates the type and value of `SCHEMA`, without the `const SCHEMA:` in front.
fn schema(container: &Container, runtime: &Runtime) -> TokenStream {
    let user_schema = runtime.user_schema();
    let table = &container.table;
    let columns = container
        .fields
        .iter()
        .map(|field| column_def(field, runtime));

    quote! {
        #user_schema = #user_schema {
            table: #table,
            columns: &[#(#columns),*],
        }
    }
}

/// Generates the field's `ColumnDef`. Its type goes through `ColumnType` with the span of the field's
/// type, so that a type with no column mapping is reported there.
fn column_def(field: &Field, runtime: &Runtime) -> TokenStream {
    let column_def = runtime.column_def();
    let name = field.name();
    let column = &field.column;
    let role = match field.role() {
        Some(role) => {
            let variant = standard_field(role, runtime);
            quote!(::core::option::Option::Some(#variant))
        }
        None => quote!(::core::option::Option::None),
    };
    let column_type = column_type(field, runtime);
    let register = field.register.is_some();

    quote! {
        #column_def {
            field: #name,
            column: #column,
            role: #role,
            sql_type: #column_type::SQL_TYPE,
            nullable: #column_type::NULLABLE,
            register: #register,
        }
    }
}

/// `<FieldType as ColumnType>`, spanned at the field's type so that a type with no column
/// mapping is reported there, with `ColumnType`'s message.
fn column_type(field: &Field, runtime: &Runtime) -> TokenStream {
    let span = field.ty.span();
    let ty = &field.ty;
    let trait_path = respan(runtime.column_type(), span);
    quote_spanned!(span=> <#ty as #trait_path>)
}

fn standard_field(role: Role, runtime: &Runtime) -> TokenStream {
    let standard_field = runtime.standard_field();
    let variant = Ident::new(role.variant(), Span::call_site());
    quote!(#standard_field::#variant)
}

fn methods(container: &Container, runtime: &Runtime) -> TokenStream {
    let value = runtime.value();
    let row_values = runtime.row_values();
    let new_user = runtime.new_user();
    let decode_error = runtime.decode_error();
    let id = container
        .fields
        .iter()
        .find(|field| field.role() == Some(Role::Id));
    let id = &id.expect("the model checked that a field is the id").ident;
    let values = container.fields.iter().map(|field| {
        let ident = &field.ident;
        let column_type = column_type(field, runtime);
        quote!(#column_type::to_value(&self.#ident))
    });
    let from_row = container.fields.iter().enumerate().map(|(index, field)| {
        let ident = &field.ident;
        let ty = &field.ty;
        quote_spanned!(ty.span()=> #ident: __fastauth_row.take::<#ty>(#index)?)
    });
    let new_user_fields = container
        .fields
        .iter()
        .map(|field| new_user_field(field, runtime));

    quote! {
        fn id(&self) -> &str {
            &self.#id
        }

        fn to_values(&self) -> ::std::vec::Vec<#value> {
            ::std::vec::Vec::from([#(#values),*])
        }

        fn from_row(
            mut __fastauth_row: #row_values,
        ) -> ::core::result::Result<Self, #decode_error> {
            ::core::result::Result::Ok(Self { #(#from_row,)* })
        }

        fn new_user(
            __fastauth_standard: &#new_user,
            __fastauth_register: Self::Register,
        ) -> ::core::result::Result<Self, #decode_error> {
            ::core::result::Result::Ok(Self { #(#new_user_fields,)* })
        }
    }
}

/// Generates the initializer of a field in `new_user`: the standard value for a role field, the
/// register body's value for a `register` field, `Default` for any other domain field.
fn new_user_field(field: &Field, runtime: &Runtime) -> TokenStream {
    let ident = &field.ident;
    let ty = &field.ty;
    if let Some(role) = field.role() {
        let variant = standard_field(role, runtime);
        quote_spanned!(ty.span()=> #ident: __fastauth_standard.take::<#ty>(#variant)?)
    } else if field.register.is_some() {
        quote!(#ident: __fastauth_register.#ident)
    } else {
        quote_spanned!(ty.span()=> #ident: ::core::default::Default::default())
    }
}

/// Generates the impl's bounds on a field's type: `ColumnType`, and the role's marker trait for a role
/// field. Each bound is spanned over the whole type, so that a missing impl is reported
/// there with the trait's own message and only once, since the impl's items may then assume
/// the bound.
fn bounds(field: &Field, runtime: &Runtime) -> Vec<TokenStream> {
    let ty = &field.ty;
    let end = last_token_span(ty);
    let mut traits = vec![runtime.column_type()];
    if let Some(role) = field.role() {
        traits.push(runtime.role_trait(role.type_check()));
    }
    traits
        .into_iter()
        .map(|path| {
            let path = respan(path, end);
            quote_spanned!(end=> #ty: #path)
        })
        .collect()
}

/// The span of the type's last token. The compiler reports a where-clause predicate from
/// its first token (the type's own) to its last (the trait path, given this span), which
/// covers exactly the type.
fn last_token_span(ty: &syn::Type) -> Span {
    let tokens = ty.to_token_stream();
    tokens
        .into_iter()
        .last()
        .map_or_else(|| ty.span(), |token| token.span())
}
