//! The `roles` and `permissions` keys: the declared roles, the permissions they grant, and
//! the checks on both.

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::Ident;

use super::parse::{Grant, Name};
use crate::suggest;

/// The maximum length of a role name that the runtime accepts, in characters.
const MAX_ROLE_CHARS: usize = 64;
/// The maximum length of a permission that the runtime accepts, in characters.
const MAX_PERMISSION_CHARS: usize = 255;

/// The names `fastauth!` generates next to the declared roles. A `name:` equal to one of
/// them would define the item twice.
pub(crate) const GENERATED_TYPES: [&str; 2] = ["Role", "Permission"];

/// A declared role or permission.
pub(crate) struct Declared {
    /// The Rust name: the enum variant and the marker type.
    pub(crate) ident: Ident,
    /// The name in the store and on the wire.
    pub(crate) wire: String,
}

/// The checked `roles` and `permissions` keys.
pub(crate) struct Rbac {
    pub(crate) roles: Vec<Declared>,
    pub(crate) permissions: Vec<Declared>,
    /// For each role, in the order of `roles`, the indexes in `permissions` it grants.
    pub(crate) grants: Vec<Vec<usize>>,
}

/// What a name is, for messages and limits.
#[derive(Clone, Copy)]
enum Kind {
    Role,
    Permission,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::Permission => "permission",
        }
    }

    fn max_chars(self) -> usize {
        match self {
            Kind::Role => MAX_ROLE_CHARS,
            Kind::Permission => MAX_PERMISSION_CHARS,
        }
    }
}

/// Builds the roles model; `None` when the declaration has neither key.
pub(crate) fn build(
    roles: Option<(Span, Vec<Name>)>,
    grants: Option<Vec<Grant>>,
    errors: &mut Accumulator,
) -> Option<Rbac> {
    if roles.is_none() && grants.is_none() {
        return None;
    }
    let mut rbac = Rbac {
        roles: Vec::new(),
        permissions: Vec::new(),
        grants: Vec::new(),
    };
    let (span, names) = roles.unwrap_or_else(|| (Span::call_site(), Vec::new()));
    if names.is_empty() {
        errors.push(
            Error::custom(
                "`roles` is empty or missing: list the roles, for example `roles: [Admin]`",
            )
            .with_span(&span),
        );
    }
    for name in names {
        if let Some(role) = errors.handle(check_name(name, Kind::Role, &rbac.roles)) {
            rbac.roles.push(role);
            rbac.grants.push(Vec::new());
        }
    }
    let mut granted: Vec<&Ident> = Vec::new();
    let grants = grants.unwrap_or_default();
    for grant in &grants {
        add_grant(&mut rbac, grant, &granted, errors);
        granted.push(&grant.role);
    }
    Some(rbac)
}

/// Records the permissions of one `Role: [...]` entry.
fn add_grant(rbac: &mut Rbac, grant: &Grant, earlier: &[&Ident], errors: &mut Accumulator) {
    let role_names: Vec<String> = rbac.roles.iter().map(|r| r.ident.to_string()).collect();
    let Some(role) = rbac.roles.iter().position(|r| r.ident == grant.role) else {
        let known: Vec<&str> = role_names.iter().map(String::as_str).collect();
        let role = &grant.role;
        let fix = match suggest::closest(&role.to_string(), &known) {
            Some(close) => format!("did you mean `{close}`? Otherwise add `{role}` to `roles`"),
            None => format!("add `{role}` to `roles`"),
        };
        errors.push(
            Error::custom(format!(
                "permissions granted to `{role}`, which is not a declared role: {fix}"
            ))
            .with_span(role),
        );
        return;
    };
    if earlier.contains(&&grant.role) {
        errors.push(
            Error::custom(format!(
                "role `{}` has a second entry in `permissions`: merge its permissions into the \
                 first one",
                grant.role
            ))
            .with_span(&grant.role),
        );
        return;
    }
    for name in &grant.permissions {
        if let Some(index) = errors.handle(permission_index(rbac, name)) {
            if rbac.grants[role].contains(&index) {
                errors.push(
                    Error::custom(format!(
                        "permission `{}` is granted to `{}` twice: remove one of them",
                        name.ident, grant.role
                    ))
                    .with_span(&name.ident),
                );
            } else {
                rbac.grants[role].push(index);
            }
        }
    }
}

/// The index of a permission in `rbac.permissions`, adding it on its first grant.
fn permission_index(rbac: &mut Rbac, name: &Name) -> darling::Result<usize> {
    if let Some(index) = rbac.permissions.iter().position(|p| p.ident == name.ident) {
        let first = &rbac.permissions[index];
        return match &name.wire {
            Some(wire) if wire.value() != first.wire => Err(Error::custom(format!(
                "permission `{}` is named \"{}\" here but \"{}\" where it is first granted: \
                 give it one name, or write the name only once",
                name.ident,
                wire.value(),
                first.wire
            ))
            .with_span(wire)),
            _ => Ok(index),
        };
    }
    let declared = check_name(
        Name {
            ident: name.ident.clone(),
            wire: name.wire.clone(),
        },
        Kind::Permission,
        &rbac.permissions,
    )?;
    rbac.permissions.push(declared);
    Ok(rbac.permissions.len() - 1)
}

/// Checks a new role or permission against the rules and the names declared before it.
fn check_name(name: Name, kind: Kind, earlier: &[Declared]) -> darling::Result<Declared> {
    let word = kind.word();
    let text = name.ident.to_string();
    if !text.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err(Error::custom(format!(
            "{word} `{text}` must be an UpperCamelCase name, because it becomes a type: write \
             `{} = \"{text}\"` to keep `{text}` as its stored name",
            upper_camel_case(&text)
        ))
        .with_span(&name.ident));
    }
    if earlier.iter().any(|d| d.ident == name.ident) {
        return Err(Error::custom(format!(
            "{word} `{text}` is declared twice: remove one of them"
        ))
        .with_span(&name.ident));
    }
    let wire = name
        .wire
        .as_ref()
        .map_or_else(|| snake_case(&text), syn::LitStr::value);
    let span = name
        .wire
        .as_ref()
        .map_or(name.ident.span(), syn::LitStr::span);
    if let Some(problem) = wire_problem(&wire, kind) {
        return Err(Error::custom(format!("{word} name \"{wire}\" {problem}")).with_span(&span));
    }
    if let Some(other) = earlier.iter().find(|d| d.wire == wire) {
        return Err(Error::custom(format!(
            "{word}s `{}` and `{text}` are both stored as \"{wire}\": give one of them another \
             name with `{text} = \"...\"`",
            other.ident
        ))
        .with_span(&span));
    }
    Ok(Declared {
        ident: name.ident,
        wire,
    })
}

fn wire_problem(wire: &str, kind: Kind) -> Option<String> {
    let length = wire.chars().count();
    if length == 0 {
        Some("is empty: give it at least one character".to_owned())
    } else if length > kind.max_chars() {
        Some(format!(
            "is longer than {} characters: shorten it",
            kind.max_chars()
        ))
    } else if matches!(kind, Kind::Role) && wire.contains('/') {
        Some("contains `/`, which a role name in a URL path cannot: remove it".to_owned())
    } else {
        None
    }
}

/// `UsersRead` → `users_read`, `HTTPAdmin` → `http_admin`: a word starts at an upper-case
/// letter that follows a lower-case letter or digit, or that precedes a lower-case letter.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if previous.is_lowercase()
                || previous.is_ascii_digit()
                || (previous.is_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn upper_camel_case(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_splits_words() {
        assert_eq!(snake_case("Admin"), "admin");
        assert_eq!(snake_case("UsersRead"), "users_read");
        assert_eq!(snake_case("HTTPAdmin"), "http_admin");
        assert_eq!(snake_case("Level2Access"), "level2_access");
    }

    #[test]
    fn upper_camel_case_joins_words() {
        assert_eq!(upper_camel_case("admin"), "Admin");
        assert_eq!(upper_camel_case("posts_write"), "PostsWrite");
    }
}
