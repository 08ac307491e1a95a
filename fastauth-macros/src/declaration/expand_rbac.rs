//! Generates the `Role` and `Permission` enums, the `role` and `perm` marker modules and
//! the grants table from the declared roles.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rbac::{Declared, Rbac};
use crate::runtime::Runtime;

/// Every item the roles generate.
pub(crate) fn expand(rbac: &Rbac, runtime: &Runtime) -> TokenStream {
    let roles = named_enum(&rbac.roles, "Role", "role", runtime);
    let permissions = named_enum(&rbac.permissions, "Permission", "permission", runtime);
    let grants = grants(rbac, runtime);
    let role_markers = markers(&rbac.roles, "role", "RoleMarker", runtime);
    let permission_markers = markers(&rbac.permissions, "perm", "PermissionMarker", runtime);

    quote! {
        #roles
        #permissions
        #grants
        #role_markers
        #permission_markers
    }
}

/// An enum of declared names with its string forms: `as_str`, `Display`, `FromStr` and
/// serde, all through the runtime's `Named` trait.
fn named_enum(names: &[Declared], type_name: &str, kind: &str, runtime: &Runtime) -> TokenStream {
    let ty = format_ident!("{}", type_name);
    let variants: Vec<_> = names.iter().map(|n| &n.ident).collect();
    let wires: Vec<_> = names.iter().map(|n| n.wire.as_str()).collect();
    let variant_docs: Vec<String> = wires.iter().map(|w| format!(" `{w}`")).collect();
    let doc = format!(" The {kind}s declared in `fastauth!`, each with its stored name.");
    let named = runtime.rbac("Named");
    let unknown = runtime.rbac("UnknownName");
    let parse = runtime.rbac("parse_named");
    let deserialize = runtime.rbac("deserialize_named");
    let serde = runtime.serde();

    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #ty {
            #(#[doc = #variant_docs] #variants,)*
        }

        #[automatically_derived]
        impl #ty {
            /// The name in the store and on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(Self::#variants => #wires,)*
                }
            }
        }

        #[automatically_derived]
        impl #named for #ty {
            const KIND: &'static str = #kind;
            const ALL: &'static [Self] = &[#(Self::#variants),*];

            fn as_str(self) -> &'static str {
                #ty::as_str(self)
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#ty::as_str(*self))
            }
        }

        #[automatically_derived]
        impl ::core::str::FromStr for #ty {
            type Err = #unknown;

            fn from_str(name: &str) -> ::core::result::Result<Self, #unknown> {
                #parse(name)
            }
        }

        #[automatically_derived]
        impl #serde::Serialize for #ty {
            fn serialize<S: #serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(#ty::as_str(*self))
            }
        }

        #[automatically_derived]
        impl<'de> #serde::Deserialize<'de> for #ty {
            fn deserialize<D: #serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                #deserialize(deserializer)
            }
        }
    }
}

/// `Role::permissions` and the `DeclaredRoles` table that `migrate` seeds the store from.
fn grants(rbac: &Rbac, runtime: &Runtime) -> TokenStream {
    let declared_roles = runtime.rbac("DeclaredRoles");
    let roles: Vec<_> = rbac.roles.iter().map(|r| &r.ident).collect();
    let role_wires: Vec<_> = rbac.roles.iter().map(|r| r.wire.as_str()).collect();
    let granted: Vec<Vec<_>> = rbac
        .grants
        .iter()
        .map(|indexes| indexes.iter().map(|&i| &rbac.permissions[i]).collect())
        .collect();
    let variants = granted
        .iter()
        .map(|permissions| permissions.iter().map(|p| &p.ident).collect::<Vec<_>>());
    let wires = granted.iter().map(|permissions| {
        permissions
            .iter()
            .map(|p| p.wire.as_str())
            .collect::<Vec<_>>()
    });

    quote! {
        #[automatically_derived]
        impl Role {
            /// The permissions the declaration grants this role.
            pub const fn permissions(self) -> &'static [Permission] {
                match self {
                    #(Self::#roles => &[#(Permission::#variants),*],)*
                }
            }
        }

        #[automatically_derived]
        impl #declared_roles for Role {
            const GRANTS: &'static [(&'static str, &'static [&'static str])] = &[
                #((#role_wires, &[#(#wires),*]),)*
            ];
        }
    }
}

/// `pub mod role { pub struct Admin; ... }`: one marker type per name, for the guards.
fn markers(names: &[Declared], module: &str, marker: &str, runtime: &Runtime) -> TokenStream {
    let module_ident = format_ident!("{}", module);
    let marker = runtime.rbac(marker);
    let module_doc = format!(
        " Marker types of the declared {}s, for the guards.",
        if module == "role" {
            "role"
        } else {
            "permission"
        }
    );
    let types = names.iter().map(|name| {
        let ident = &name.ident;
        let wire = &name.wire;
        let doc = format!(" `{wire}`, as a type.");
        quote! {
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            pub struct #ident;

            #[automatically_derived]
            impl #marker for #ident {
                const NAME: &'static str = #wire;
            }
        }
    });

    quote! {
        #[doc = #module_doc]
        pub mod #module_ident {
            #(#types)*
        }
    }
}
