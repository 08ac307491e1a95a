//! The declaration's model: the user type, the database and the providers, checked against
//! the runtime's compiled-in features.

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::{Ident, Type};

use super::parse::{Entry, Input, Value};
use super::rbac::{self, GENERATED_TYPES, Rbac};
use crate::suggest;

/// The keys the declaration reads.
const KEYS: [&str; 6] = [
    "user",
    "database",
    "providers",
    "roles",
    "permissions",
    "name",
];

/// The name of the generated type unless `name:` gives another.
const DEFAULT_NAME: &str = "Auth";

/// A database the runtime can store users in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Database {
    Sqlite,
    Postgres,
    MySql,
}

impl Database {
    const ALL: [Database; 3] = [Database::Sqlite, Database::Postgres, Database::MySql];

    /// The name in the declaration, which is also the runtime's marker type.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "Sqlite",
            Database::Postgres => "Postgres",
            Database::MySql => "MySql",
        }
    }

    fn feature(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
            Database::MySql => "mysql",
        }
    }
}

/// A sign-in provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Credentials,
    MagicLink,
    Google,
    GitHub,
    Passkey,
}

impl Provider {
    const ALL: [Provider; 5] = [
        Provider::Credentials,
        Provider::MagicLink,
        Provider::Google,
        Provider::GitHub,
        Provider::Passkey,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Provider::Credentials => "Credentials",
            Provider::MagicLink => "MagicLink",
            Provider::Google => "Google",
            Provider::GitHub => "GitHub",
            Provider::Passkey => "Passkey",
        }
    }

    fn feature(self) -> &'static str {
        match self {
            Provider::Credentials => "credentials",
            Provider::MagicLink => "magic-links",
            Provider::Google => "oauth-google",
            Provider::GitHub => "oauth-github",
            Provider::Passkey => "passkeys",
        }
    }

    /// The runtime's constant in `__private::provider` for the provider's bit, or `None`
    /// while this version does not implement the provider.
    pub(crate) fn bit(self) -> Option<&'static str> {
        match self {
            Provider::Credentials => Some("CREDENTIALS"),
            Provider::MagicLink => Some("MAGIC_LINKS"),
            Provider::Google => Some("GOOGLE"),
            Provider::GitHub => Some("GITHUB"),
            Provider::Passkey => None,
        }
    }
}

/// The cargo features of the runtime, which switches on the macros' features of the same
/// name. Tests pass their own set to check each combination.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Features {
    enabled: fn(&str) -> bool,
}

/// Each feature of the macros and whether this build has it.
const COMPILED_FEATURES: [(&str, bool); 8] = [
    ("credentials", cfg!(feature = "credentials")),
    ("sqlite", cfg!(feature = "sqlite")),
    ("postgres", cfg!(feature = "postgres")),
    ("mysql", cfg!(feature = "mysql")),
    ("magic-links", cfg!(feature = "magic-links")),
    ("oauth-google", cfg!(feature = "oauth-google")),
    ("oauth-github", cfg!(feature = "oauth-github")),
    ("passkeys", cfg!(feature = "passkeys")),
];

impl Features {
    /// The features this build of the macros was compiled with.
    pub(crate) fn compiled() -> Self {
        Self {
            enabled: |feature| {
                COMPILED_FEATURES
                    .iter()
                    .any(|(name, on)| *name == feature && *on)
            },
        }
    }

    fn has(self, feature: &str) -> bool {
        (self.enabled)(feature)
    }
}

/// A checked declaration. A field is `None` when its entry is missing or invalid, which
/// `errors` then reports.
pub(crate) struct Declaration {
    pub(crate) name: Ident,
    pub(crate) user: Option<Type>,
    pub(crate) database: Option<(Database, Ident)>,
    pub(crate) providers: Vec<(Provider, Ident)>,
    /// The declared roles and permissions; `None` without `roles` and `permissions`.
    pub(crate) rbac: Option<Rbac>,
    /// Whether `name` is free, so that the service type can be generated under it.
    pub(crate) name_is_free: bool,
}

/// Builds and checks the declaration, pushing every error into `errors`.
pub(crate) fn build(input: Input, features: Features, errors: &mut Accumulator) -> Declaration {
    let mut declaration = Declaration {
        name: Ident::new(DEFAULT_NAME, Span::call_site()),
        user: None,
        database: None,
        providers: Vec::new(),
        rbac: None,
        name_is_free: true,
    };
    check_keys(&input.entries, errors);
    let (mut roles, mut grants) = (None, None);

    for Entry { key, value } in input.entries {
        match (key.to_string().as_str(), value) {
            ("user", Value::Type(ty)) => declaration.user = Some(*ty),
            ("name", Value::Ident(name)) => declaration.name = name,
            ("database", Value::Ident(name)) => {
                declaration.database = errors.handle(check_database(name, features));
            }
            ("providers", Value::List(span, names)) => {
                declaration.providers = check_providers(span, names, features, errors);
            }
            ("roles", Value::Names(span, names)) => roles = Some((span, names)),
            ("permissions", Value::Grants(entries)) => grants = Some(entries),
            _ => {}
        }
    }
    declaration.rbac = rbac::build(roles, grants, errors);
    declaration.name_is_free = check_name_is_free(&declaration, errors);
    declaration
}

/// With roles, `fastauth!` generates `Role` and `Permission` next to the service type, so
/// `name:` must not take either name.
fn check_name_is_free(declaration: &Declaration, errors: &mut Accumulator) -> bool {
    let name = declaration.name.to_string();
    let taken = declaration.rbac.is_some() && GENERATED_TYPES.contains(&name.as_str());
    if taken {
        errors.push(
            Error::custom(format!(
                "`name: {name}` collides with the enum `{name}` that `fastauth!` generates for \
                 the declared roles: choose another name, like `AppAuth`"
            ))
            .with_span(&declaration.name),
        );
    }
    !taken
}

/// Reports unknown, duplicate, missing and not-yet-supported keys.
fn check_keys(entries: &[Entry], errors: &mut Accumulator) {
    for (index, Entry { key, .. }) in entries.iter().enumerate() {
        let name = key.to_string();
        let message = if !KEYS.contains(&name.as_str()) {
            unknown("key", &name, &KEYS)
        } else if entries[..index].iter().any(|earlier| earlier.key == *key) {
            format!("duplicate key `{name}`: `fastauth!` takes each key once, so remove this one")
        } else {
            continue;
        };
        errors.push(Error::custom(message).with_span(key));
    }

    let missing = [
        (
            "user",
            "`user: User`, naming the struct that derives `AuthUser`",
        ),
        ("database", "for example `database: Sqlite`"),
        ("providers", "for example `providers: [Credentials]`"),
    ];
    for (key, example) in missing {
        // A misspelt key is reported as unknown with this key as its suggestion already.
        let present = entries.iter().any(|entry| {
            let name = entry.key.to_string();
            name == key
                || (!KEYS.contains(&name.as_str()) && suggest::closest(&name, &KEYS) == Some(key))
        });
        if !present {
            errors.push(Error::custom(format!(
                "`fastauth!` is missing the key `{key}`: add {example}"
            )));
        }
    }
}

fn check_database(name: Ident, features: Features) -> darling::Result<(Database, Ident)> {
    let text = name.to_string();
    let names = Database::ALL.map(Database::name);
    let Some(database) = Database::ALL.into_iter().find(|db| db.name() == text) else {
        return Err(Error::custom(unknown("database", &text, &names)).with_span(&name));
    };
    if !features.has(database.feature()) {
        return Err(
            Error::custom(not_compiled_in("database", &text, database.feature())).with_span(&name),
        );
    }
    Ok((database, name))
}

fn check_providers(
    span: Span,
    names: Vec<Ident>,
    features: Features,
    errors: &mut Accumulator,
) -> Vec<(Provider, Ident)> {
    if names.is_empty() {
        errors.push(
            Error::custom(
                "`providers` is empty: list at least one provider, for example `[Credentials]`",
            )
            .with_span(&span),
        );
    }
    let mut providers: Vec<(Provider, Ident)> = Vec::new();
    for name in names {
        if let Some(provider) = errors.handle(check_provider(&name, &providers, features)) {
            providers.push((provider, name));
        }
    }
    providers
}

fn check_provider(
    name: &Ident,
    earlier: &[(Provider, Ident)],
    features: Features,
) -> darling::Result<Provider> {
    let text = name.to_string();
    let names = Provider::ALL.map(Provider::name);
    let error = |message: String| Err(Error::custom(message).with_span(name));
    let Some(provider) = Provider::ALL.into_iter().find(|p| p.name() == text) else {
        return error(unknown("provider", &text, &names));
    };
    if earlier.iter().any(|(seen, _)| *seen == provider) {
        return error(format!(
            "provider `{text}` is listed twice: remove one of them"
        ));
    }
    if !features.has(provider.feature()) {
        return error(not_compiled_in("provider", &text, provider.feature()));
    }
    if provider.bit().is_none() {
        return error(format!(
            "provider `{text}` is not supported yet by this version of fastauth: remove it from \
             `providers`"
        ));
    }
    Ok(provider)
}

fn unknown(kind: &str, name: &str, known: &[&str]) -> String {
    let expected = suggest::one_of(known);
    match suggest::closest(name, known) {
        Some(close) => {
            format!("unknown {kind} `{name}`, expected {expected}: did you mean `{close}`?")
        }
        None => format!("unknown {kind} `{name}`, expected {expected}"),
    }
}

fn not_compiled_in(kind: &str, name: &str, feature: &str) -> String {
    format!("{kind} `{name}` is not compiled in: enable the \"{feature}\" feature of fastauth")
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// The default features of the runtime: credentials and SQLite.
    fn default_features() -> Features {
        Features {
            enabled: |feature| matches!(feature, "credentials" | "sqlite"),
        }
    }

    fn all_features() -> Features {
        Features { enabled: |_| true }
    }

    fn build_messages(input: Input, features: Features) -> (Declaration, Vec<String>) {
        let mut errors = Error::accumulator();
        let declaration = build(input, features, &mut errors);
        let messages = errors
            .into_inner()
            .iter()
            .map(ToString::to_string)
            .collect();
        (declaration, messages)
    }

    #[test]
    fn build_reads_every_key() {
        let input: Input = parse_quote! {
            name: MyAuth, providers: [Credentials], database: Sqlite, user: User,
        };
        let (declaration, errors) = build_messages(input, default_features());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(declaration.name, "MyAuth");
        assert_eq!(
            declaration.database.map(|(db, _)| db),
            Some(Database::Sqlite)
        );
        assert_eq!(declaration.providers.len(), 1);
        assert_eq!(declaration.providers[0].0, Provider::Credentials);
    }

    #[test]
    fn name_defaults_to_auth() {
        let input: Input = parse_quote!(user: User, database: Sqlite, providers: [Credentials]);
        let (declaration, _) = build_messages(input, default_features());
        assert_eq!(declaration.name, "Auth");
    }

    #[test]
    fn missing_keys_all_reported() {
        let input: Input = parse_quote!(name: MyAuth);
        let (_, errors) = build_messages(input, default_features());
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("`fastauth!` is missing the key `user`"));
        assert!(errors[1].starts_with("`fastauth!` is missing the key `database`"));
        assert!(errors[2].starts_with("`fastauth!` is missing the key `providers`"));
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let input: Input = parse_quote!(user: User, database: Sqlite, provider: [Credentials]);
        let (_, errors) = build_messages(input, default_features());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0],
            "unknown key `provider`, expected `user`, `database`, `providers`, `roles`, \
             `permissions` or `name`: did you mean `providers`?"
        );
    }

    #[test]
    fn duplicate_key_rejected() {
        let input: Input =
            parse_quote!(user: User, user: User, database: Sqlite, providers: [Credentials]);
        let (_, errors) = build_messages(input, default_features());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("duplicate key `user`"));
    }

    fn rbac_messages(roles_and_grants: &proc_macro2::TokenStream) -> (Declaration, Vec<String>) {
        let input: Input = parse_quote! {
            user: User, database: Sqlite, providers: [Credentials], #roles_and_grants
        };
        build_messages(input, default_features())
    }

    #[test]
    fn roles_and_grants_read() {
        let (declaration, errors) = rbac_messages(&quote::quote! {
            roles: [Admin, Editor, Viewer = "reader"],
            permissions: { Admin: [UsersRead, PostsWrite = "posts:write"], Editor: [PostsWrite] },
        });
        assert!(errors.is_empty(), "{errors:?}");
        let rbac = declaration.rbac.unwrap();
        let wire: Vec<&str> = rbac.roles.iter().map(|r| r.wire.as_str()).collect();
        assert_eq!(wire, ["admin", "editor", "reader"]);
        let permissions: Vec<&str> = rbac.permissions.iter().map(|p| p.wire.as_str()).collect();
        assert_eq!(permissions, ["users_read", "posts:write"]);
        assert_eq!(rbac.grants, [vec![0, 1], vec![1], vec![]]);
    }

    #[test]
    fn role_mistakes_all_reported() {
        let (_, errors) = rbac_messages(&quote::quote! {
            roles: [Admin, Editor, Admin, editor, ADMIN = "admin", Bad = "a/b"],
            permissions: { Editr: [X], Admin: [UsersRead, UsersRead], Admin: [Y] },
        });
        assert_eq!(errors.len(), 7, "{errors:?}");
        assert_eq!(
            errors[0],
            "role `Admin` is declared twice: remove one of them"
        );
        assert!(errors[1].starts_with("role `editor` must be an UpperCamelCase name"));
        assert!(errors[2].starts_with("roles `Admin` and `ADMIN` are both stored as \"admin\""));
        assert!(errors[3].starts_with("role name \"a/b\" contains `/`"));
        assert!(
            errors[4].starts_with("permissions granted to `Editr`, which is not a declared role")
        );
        assert!(errors[4].contains("did you mean"));
        assert_eq!(
            errors[5],
            "permission `UsersRead` is granted to `Admin` twice: remove one of them"
        );
        assert!(errors[6].starts_with("role `Admin` has a second entry in `permissions`"));
    }

    #[test]
    fn name_colliding_with_role_enum_rejected() {
        let (_, errors) = rbac_messages(&quote::quote!(roles: [Admin], name: Role));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("`name: Role` collides with the enum `Role`"));
    }

    #[test]
    fn database_feature_off_named() {
        let input: Input = parse_quote!(user: User, database: Postgres, providers: [Credentials]);
        let (_, errors) = build_messages(input, default_features());
        assert_eq!(
            errors,
            ["database `Postgres` is not compiled in: enable the \"postgres\" feature of fastauth"]
        );
    }

    #[test]
    fn unknown_database_lists_known() {
        let input: Input = parse_quote!(user: User, database: Mongo, providers: [Credentials]);
        let (_, errors) = build_messages(input, all_features());
        assert_eq!(
            errors,
            ["unknown database `Mongo`, expected `Sqlite`, `Postgres` or `MySql`"]
        );
    }

    #[test]
    fn provider_errors_each_reported() {
        let input: Input = parse_quote! {
            user: User, database: Sqlite,
            providers: [Credentials, Credentials, Facebook, MagicLink],
        };
        let (declaration, errors) = build_messages(input, default_features());
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(
            errors[0],
            "provider `Credentials` is listed twice: remove one of them"
        );
        assert!(errors[1].starts_with("unknown provider `Facebook`, expected `Credentials`"));
        assert_eq!(
            errors[2],
            "provider `MagicLink` is not compiled in: enable the \"magic-links\" feature of \
             fastauth"
        );
        assert_eq!(declaration.providers.len(), 1);
    }

    #[test]
    fn provider_not_implemented_yet() {
        let input: Input = parse_quote!(user: User, database: Sqlite, providers: [Passkey]);
        let (_, errors) = build_messages(input, all_features());
        assert_eq!(
            errors,
            [
                "provider `Passkey` is not supported yet by this version of fastauth: remove it \
              from `providers`"
            ]
        );
    }

    #[test]
    fn empty_providers_rejected() {
        let input: Input = parse_quote!(user: User, database: Sqlite, providers: []);
        let (_, errors) = build_messages(input, default_features());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("`providers` is empty"));
    }
}
