//! email-validator's `validate_email`: splitting the address and checking it as a whole.

use super::*;

/// Validates an address as email-validator does and returns its normalized form: the
/// NFC-normalized local part, `@`, and the Unicode form of the domain.
pub(super) fn validate_address(email: &str) -> Result<String, EmailError> {
    let parts = split_address(email)?;

    check_local_part(&parts.unquoted_local, parts.quoted)?;
    let local: String = parts.unquoted_local.nfc().collect();
    if local != parts.unquoted_local {
        check_local_part(&local, parts.quoted)
            .map_err(|error| EmailError::AfterNormalization(Box::new(error)))?;
    }
    if parts.quoted {
        return Err(EmailError::QuotedLocalPart);
    }

    let domain = check_domain_part(parts.domain)?;
    check_address_length(parts.local, parts.domain, &local, &domain)?;

    if parts.has_display_name {
        return Err(EmailError::DisplayName);
    }
    Ok(format!("{local}@{}", domain.unicode))
}

/// The parts of an address as email-validator's `split_email` separates them.
#[derive(Debug)]
pub(super) struct AddressParts<'a> {
    has_display_name: bool,
    /// Local part as written, with any quotes.
    local: &'a str,
    /// Local part without quotes and backslash escapes.
    unquoted_local: String,
    quoted: bool,
    domain: &'a str,
}

/// Splits an address at the first `@`-sign outside quotes, handling email-validator's own
/// `display name <address>` form.
pub(super) fn split_address(email: &str) -> Result<AddressParts<'_>, EmailError> {
    let (left, right) = split_at_unquoted(email, &['@', '<'])?;

    let (has_display_name, local, domain) = match right.strip_prefix('<') {
        Some(_) => {
            check_display_name(trim_end_python_space(left))?;
            let (local, domain) = split_at_unquoted(angle_bracket_content(right)?, &['@'])?;
            (true, local, domain)
        }
        None => (false, left, right),
    };

    let domain = domain.strip_prefix('@').unwrap_or(domain);
    let (unquoted_local, quoted) = unquote(local)?;
    Ok(AddressParts {
        has_display_name,
        local,
        unquoted_local,
        quoted,
        domain,
    })
}

/// Checks a display name that pydantic's pattern did not strip: unquoted names take only
/// letters, digits, the RFC 5322 atom symbols and spaces.
pub(super) fn check_display_name(name: &str) -> Result<(), EmailError> {
    let (name, quoted) = unquote(name)?;

    if !quoted {
        let bad = name
            .chars()
            .filter(|&c| (!is_ascii_atext(c) && c != ' ') || c == '.');
        let characters = describe_sorted_displays(bad);
        if !characters.is_empty() {
            return Err(EmailError::DisplayNameInvalidCharacters { characters });
        }
    }
    check_unsafe_chars(&name, true)
}

/// Returns the text between `<` and the closing `>`, which may only be followed by spaces.
pub(super) fn angle_bracket_content(right: &str) -> Result<&str, EmailError> {
    if !right.contains('>') {
        return Err(EmailError::UnclosedAngleBracket);
    }
    let right = right.trim_end_matches(' ');
    let content = right
        .strip_suffix('>')
        .ok_or(EmailError::TextAfterAngleBracket)?;
    Ok(content.strip_prefix('<').unwrap_or(content))
}

/// Splits `text` before the first character of `specials` outside double quotes. The right
/// part keeps that character. A special character that Unicode normalization would combine
/// with the next one (such as `<` followed by U+0338, which is `≮`) does not count.
pub(super) fn split_at_unquoted<'a>(
    text: &'a str,
    specials: &[char],
) -> Result<(&'a str, &'a str), EmailError> {
    let mut inside_quote = false;
    let mut escaped = false;

    for (index, c) in text.char_indices() {
        if combines_with_next(&text[index..]) {
            continue;
        }
        if inside_quote {
            if c == '\\' && !escaped {
                escaped = true;
            } else {
                inside_quote = c != '"' || escaped;
                escaped = false;
            }
        } else if c == '"' {
            inside_quote = true;
        } else if specials.contains(&c) {
            return Ok(text.split_at(index));
        }
    }
    Err(missing_at_sign(text))
}

/// Tests whether NFC changes the first character of `text`, looking at no more than the
/// 30 combining characters the Unicode Stream-Safe Text Format allows after it.
pub(super) fn combines_with_next(text: &str) -> bool {
    let first = text.chars().next();
    text.chars().take(32).nfc().next() != first
}

/// Returns the error for an address without an @-sign, naming a look-alike if there is one.
pub(super) fn missing_at_sign(text: &str) -> EmailError {
    match text.chars().find(|&c| c == '\u{FF20}' || c == '\u{FE6B}') {
        // The reference checks the full-width sign first, wherever either appears.
        Some(_) if text.contains('\u{FF20}') => EmailError::LookalikeAtSign {
            character: '\u{FF20}',
        },
        Some(character) => EmailError::LookalikeAtSign { character },
        None => EmailError::MissingAtSign,
    }
}

/// Removes surrounding double quotes and backslash escapes, returning the text and whether it
/// was quoted. Text after the closing quote is an error.
pub(super) fn unquote(text: &str) -> Result<(String, bool), EmailError> {
    let mut quoted = false;
    let mut escaped = false;
    let mut value = String::with_capacity(text.len());

    for (index, c) in text.char_indices() {
        if !quoted {
            if index == 0 && c == '"' {
                quoted = true;
            } else {
                value.push(c);
            }
        } else if escaped {
            value.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            let rest = &text[index + 1..];
            if !rest.is_empty() {
                let characters = rest
                    .chars()
                    .map(display_char)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(EmailError::TextAfterQuote { characters });
            }
            break;
        } else {
            value.push(c);
        }
    }
    Ok((value, quoted))
}
