//! "Did you mean" suggestions and lists of known names for error messages.

/// Minimum similarity (normalized Damerau-Levenshtein, 0 to 1) for a known name to be
/// suggested; 0.6 accepts one typo in a five-letter word and rejects unrelated words.
const MIN_SIMILARITY: f64 = 0.6;

/// Returns the known name closest to `unknown`, compared without case, if any is close.
pub(crate) fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let unknown = unknown.to_lowercase();
    known
        .iter()
        .map(|name| {
            let similarity = strsim::normalized_damerau_levenshtein(&unknown, &name.to_lowercase());
            (similarity, *name)
        })
        .filter(|(similarity, _)| *similarity >= MIN_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// Formats names as "`a`, `b` or `c`".
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Formats the end of an "unknown name" message: a suggestion if one is close, else the
/// list of known names.
pub(crate) fn did_you_mean(unknown: &str, known: &[&str]) -> String {
    match closest(unknown, known) {
        Some(name) => format!("did you mean `{name}`?"),
        None => format!("expected {}", one_of(known)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typo() {
        assert_eq!(closest("emial", &["id", "email", "name"]), Some("email"));
        assert_eq!(
            closest("pasword_hash", &["password_hash", "name"]),
            Some("password_hash")
        );
    }

    #[test]
    fn closest_ignores_case() {
        assert_eq!(closest("Github", &["Google", "GitHub"]), Some("GitHub"));
    }

    #[test]
    fn closest_rejects_unrelated_word() {
        assert_eq!(closest("plan", &["id", "email", "register"]), None);
    }

    #[test]
    fn one_of_joins_names() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
