//! The local part, before the @-sign.

use super::*;

/// Checks the local part: an RFC 5322 dot-atom extended to Unicode by RFC 6531, or a quoted
/// string of printable characters. The 64-octet limit is not checked because email-validator
/// applies it only in strict mode, and pydantic does not enable that.
pub(super) fn check_local_part(local: &str, quoted: bool) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if is_dot_atom(local, is_ascii_atext) {
        return Ok(());
    }
    if is_dot_atom(local, is_intl_atext) {
        return check_unsafe_chars(local, false);
    }
    if quoted {
        let bad = local
            .chars()
            .filter(|&c| !(matches!(c, ' '..='~') || c >= '\u{80}'));
        let characters = describe_sorted_displays(bad);
        if !characters.is_empty() {
            return Err(EmailError::QuotedLocalPartInvalidCharacters { characters });
        }
        return check_unsafe_chars(local, true);
    }

    let bad = local.chars().filter(|&c| c != '.' && !is_intl_atext(c));
    let characters = describe_sorted_displays(bad);
    if !characters.is_empty() {
        return Err(EmailError::LocalPartInvalidCharacters { characters });
    }
    if local.ends_with('.') {
        return Err(EmailError::LocalPartEndsWithPeriod);
    }
    if local.starts_with('.') {
        return Err(EmailError::LocalPartStartsWithPeriod);
    }
    if local.contains("..") {
        return Err(EmailError::ConsecutivePeriods);
    }
    Err(EmailError::LocalPartInvalidCharacters {
        characters: String::new(),
    })
}

/// Tests the dot-atom form: runs of `is_atext` characters separated by single periods.
pub(super) fn is_dot_atom(text: &str, is_atext: fn(char) -> bool) -> bool {
    text.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// Tests RFC 5322 `atext`: ASCII letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
pub(super) fn is_ascii_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// Tests RFC 6531 `atext`: ASCII `atext` or any non-ASCII character.
pub(super) fn is_intl_atext(c: char) -> bool {
    is_ascii_atext(c) || c >= '\u{80}'
}
