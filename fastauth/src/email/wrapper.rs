//! pydantic's checks around email-validator: length, line breaks and the `Name <address>` form.

use super::*;

/// Applies pydantic's `validate_email` steps before email-validator: the length limit, the
/// line-break check, the `Name <address>` form and the surrounding-whitespace strip.
pub(super) fn strip_pydantic_wrapper(input: &str) -> Result<&str, EmailError> {
    let chars = input.chars().count();
    if chars > MAX_INPUT_CHARS {
        return Err(EmailError::InputTooLong { chars });
    }
    if input.contains(['\r', '\n']) {
        return Err(EmailError::LineBreak);
    }

    let address = match_display_name_form(input).unwrap_or(input);
    Ok(trim_python_space(address))
}

/// Returns the address inside `Name <address>`, `"Name" <address>` or `<address>` when the
/// whole input has that form, as pydantic's `pretty_email_regex` matches it.
///
/// The regular expression is `\s*(?:NAME|"QUOTED")?\s*<(.+)>\s*`, tried in that order. Its
/// greedy `(.+)>` always ends at the last `>` when only whitespace follows it.
pub(super) fn match_display_name_form(input: &str) -> Option<&str> {
    let inner = trim_end_python_space(input).strip_suffix('>')?;

    unquoted_name_address(inner)
        .or_else(|| quoted_name_address(inner))
        .or_else(|| bare_bracket_address(inner))
}

/// Matches `NAME <address` (the `>` already removed), where the name is words of
/// `pretty_email_regex`'s name characters separated by whitespace.
pub(super) fn unquoted_name_address(inner: &str) -> Option<&str> {
    let open = inner.find('<')?;
    let name = &inner[..open];
    let only_name_chars = name
        .chars()
        .all(|c| is_display_name_char(c) || is_python_space(c));
    let has_name = name.chars().any(is_display_name_char);

    let address = &inner[open + 1..];
    (only_name_chars && has_name && !address.is_empty()).then_some(address)
}

/// Matches `"QUOTED" <address`, choosing the last closing quote that still leaves a match, as
/// the regular expression's greedy quantifier does.
pub(super) fn quoted_name_address(inner: &str) -> Option<&str> {
    let quoted = trim_start_python_space(inner).strip_prefix('"')?;

    for (close, _) in quoted.match_indices('"').rev() {
        if close == 0 {
            continue;
        }
        let Some(rest) = trim_start_python_space(&quoted[close + 1..]).strip_prefix('<') else {
            continue;
        };
        if !rest.is_empty() {
            return Some(rest);
        }
    }
    None
}

/// Matches `<address` with only whitespace before the bracket.
pub(super) fn bare_bracket_address(inner: &str) -> Option<&str> {
    let address = trim_start_python_space(inner).strip_prefix('<')?;
    (!address.is_empty()).then_some(address)
}

/// Tests a character of pydantic's unquoted display-name class `[\w.!#$%&'*+\-/=?^_`{|}~]`.
pub(super) fn is_display_name_char(c: char) -> bool {
    is_python_word_char(c) || ".!#$%&'*+-/=?^`{|}~".contains(c)
}

/// Tests Python's Unicode `\w`: letters, numbers and the underscore.
///
/// NOTE: Rust's `is_alphanumeric` also covers the Other_Alphabetic marks and circled letters,
/// which Python's `\w` does not. Marks and circled letters are excluded here, which leaves
/// differences only in rare characters.
pub(super) fn is_python_word_char(c: char) -> bool {
    let circled_letter = matches!(
        c as u32,
        0x24B6..=0x24E9 | 0x1F130..=0x1F149 | 0x1F150..=0x1F169 | 0x1F170..=0x1F189
    );
    c == '_' || (c.is_alphanumeric() && !is_combining_mark(c) && !circled_letter)
}
