//! The domain, after the @-sign, and the whole address's length.

use super::*;

/// The validated domain in its two forms.
#[derive(Debug)]
pub(super) struct DomainNames {
    /// Unicode form, used in the normalized address.
    pub(super) unicode: String,
    /// IDNA ASCII form, used for the length and special-use checks.
    pub(super) ascii: String,
}

/// Checks the part after the @-sign, rejecting bracketed IP addresses as pydantic does.
pub(super) fn check_domain_part(domain: &str) -> Result<DomainNames, EmailError> {
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        check_domain_literal(literal)?;
        return Err(EmailError::DomainLiteral);
    }
    check_domain_name(domain)
}

/// Checks the syntax of a bracketed address (RFC 5321 4.1.3), so the error names what is
/// wrong with it. A valid one is still rejected by the caller.
///
/// NOTE: the detail of an invalid IP address is Rust's parser message, not Python
/// `ipaddress`'s, so that part of the message differs from the reference.
pub(super) fn check_domain_literal(literal: &str) -> Result<(), EmailError> {
    if !literal.is_empty() && literal.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return match literal.parse::<Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(error) => Err(EmailError::InvalidBracketedIpv4 {
                detail: error.to_string(),
            }),
        };
    }
    if literal
        .get(..5)
        .is_some_and(|tag| tag.eq_ignore_ascii_case("ipv6:"))
    {
        return match literal[5..].parse::<Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(error) => Err(EmailError::InvalidBracketedIpv6 {
                detail: error.to_string(),
            }),
        };
    }
    if !literal.contains(':') {
        return Err(EmailError::MissingAddressLiteralTag);
    }

    let bad = literal
        .chars()
        .filter(|&c| !matches!(c, '\u{21}'..='\u{FA}'));
    let characters = describe_sorted_displays(bad);
    if !characters.is_empty() {
        return Err(EmailError::BracketedInvalidCharacters { characters });
    }
    Err(EmailError::UnknownAddressLiteralTag)
}

/// Checks a domain name as email-validator does: characters, UTS #46 mapping, label syntax,
/// IDNA 2008 encoding, lengths, the top-level domain and special-use names.
pub(super) fn check_domain_name(domain: &str) -> Result<DomainNames, EmailError> {
    let chars = domain.chars().count();
    if chars > MAX_DOMAIN_LEN {
        return Err(EmailError::DomainTooLong {
            excess: chars - MAX_DOMAIN_LEN,
        });
    }
    check_domain_chars(domain)?;

    let mapped = map_domain(domain)?;
    let characters = describe_sorted_displays(mapped.chars().filter(|&c| !is_hostname_char(c)));
    if !characters.is_empty() {
        return Err(EmailError::DomainInvalidAfterMapping { characters });
    }
    check_domain_dots(&mapped)?;
    check_reserved_hyphens(&mapped)?;

    let ascii = encode_domain(&mapped)?;
    check_ascii_domain(&ascii, domain)?;
    let unicode = if ascii.contains("xn--") {
        decode_domain(&ascii)?
    } else {
        ascii.clone()
    };
    Ok(DomainNames { unicode, ascii })
}

/// Rejects characters no host name may contain, unsafe characters, and characters that expand
/// to a period under compatibility decomposition (such as `⒈`).
pub(super) fn check_domain_chars(domain: &str) -> Result<(), EmailError> {
    let characters = describe_sorted_displays(domain.chars().filter(|&c| !is_hostname_char(c)));
    if !characters.is_empty() {
        return Err(EmailError::DomainInvalidCharacters { characters });
    }
    check_unsafe_chars(domain, false)?;

    let characters = describe_sorted_displays(domain.chars().filter(|&c| !is_uts46_valid(c)));
    if !characters.is_empty() {
        return Err(EmailError::DomainInvalidCharacters { characters });
    }
    Ok(())
}

/// Tests a character allowed in a host name before IDNA: ASCII letters, digits, `-`, `.`, or
/// any non-ASCII character.
pub(super) fn is_hostname_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c >= '\u{80}'
}

/// Tests email-validator's approximation of characters UTS #46 keeps. Only the decomposition
/// rule matters here because `check_unsafe_chars` already rejected the other categories.
pub(super) fn is_uts46_valid(c: char) -> bool {
    let code = c as u32;
    let exempt = (0x2010..=0x2060).contains(&code)
        && !(0x2024..=0x2026).contains(&code)
        && !(0x2028..=0x202E).contains(&code);
    if exempt || code == 0xFF0E {
        return true;
    }
    let mut has_period = false;
    decompose_compatible(c, |part| has_period |= part == '.' && c != '.');
    !has_period
}

/// Applies the UTS #46 mapping (non-transitional, without the STD3 rules): lower-cases,
/// NFC-normalizes and turns the ideographic and full-width full stops into periods. Punycode
/// labels are left encoded.
pub(super) fn map_domain(domain: &str) -> Result<String, EmailError> {
    let uts46 = Uts46::new();
    let mut mapped = String::with_capacity(domain.len());

    for (index, label) in domain.split(is_label_separator).enumerate() {
        if index > 0 {
            mapped.push('.');
        }
        if label.is_ascii() {
            mapped.push_str(&label.to_ascii_lowercase());
            continue;
        }
        let (unicode, result) =
            uts46.to_unicode(label.as_bytes(), AsciiDenyList::EMPTY, Hyphens::Allow);
        if result.is_err() {
            // NOTE: the idna crate also applies the Bidi, joiner and leading-mark rules here,
            // which the reference checks only after the period and hyphen rules. Such a domain
            // is rejected by both, but the message can differ from the reference's.
            let detail = format!("label '{label}' is not allowed by UTS #46");
            return Err(EmailError::DomainDisallowedCharacters { detail });
        }
        mapped.push_str(&unicode);
    }
    Ok(mapped)
}

/// Tests the four characters UTS #46 treats as label separators.
pub(super) fn is_label_separator(c: char) -> bool {
    matches!(c, '.' | '\u{3002}' | '\u{FF0E}' | '\u{FF61}')
}

/// Checks the placement of periods and hyphens (RFC 952, RFC 1123 2.1, RFC 5322 3.2.3).
pub(super) fn check_domain_dots(domain: &str) -> Result<(), EmailError> {
    use Symbol::{Hyphen, Period};

    if domain.ends_with('.') {
        return Err(EmailError::DomainEndsWith { symbol: Period });
    }
    if domain.starts_with('.') {
        return Err(EmailError::DomainStartsWith { symbol: Period });
    }
    if domain.contains("..") {
        return Err(EmailError::ConsecutivePeriods);
    }
    if domain.ends_with('-') {
        return Err(EmailError::DomainEndsWith { symbol: Hyphen });
    }
    if domain.starts_with('-') {
        return Err(EmailError::DomainStartsWith { symbol: Hyphen });
    }
    if domain.contains(".-") || domain.contains("-.") {
        return Err(EmailError::PeriodNextToHyphen);
    }
    Ok(())
}

/// Rejects RFC 5890's reserved labels: two characters then `--`, unless they are `xn`.
pub(super) fn check_reserved_hyphens(domain: &str) -> Result<(), EmailError> {
    for label in domain.split('.') {
        let mut chars = label.chars();
        let prefix: String = chars.by_ref().take(2).collect();
        let reserved = chars.as_str().starts_with("--") && prefix.chars().count() == 2;
        if reserved && !prefix.eq_ignore_ascii_case("xn") {
            return Err(EmailError::ReservedHyphens);
        }
    }
    Ok(())
}

/// Returns the IDNA ASCII form of a mapped domain, encoding each non-ASCII label to Punycode
/// after the IDNA 2008 label checks.
pub(super) fn encode_domain(mapped: &str) -> Result<String, EmailError> {
    if is_ascii_hostname(mapped) {
        return Ok(mapped.to_owned());
    }

    let mut labels = Vec::new();
    for label in mapped.split('.') {
        let encoded =
            encode_label(label).map_err(|detail| EmailError::InvalidIdnaLabel { detail })?;
        labels.push(encoded);
    }
    Ok(labels.join("."))
}

/// Returns one label in IDNA ASCII form, or the reason IDNA 2008 rejects it.
pub(super) fn encode_label(label: &str) -> Result<String, String> {
    let encoded = if label.is_ascii() {
        if label.starts_with("xn--") {
            decode_label(label)?;
        } else {
            check_idna_label(label)?;
        }
        label.to_owned()
    } else {
        check_idna_label(label)?;
        let punycode = idna::punycode::encode_str(label).ok_or("Punycode overflow")?;
        format!("xn--{punycode}")
    };

    if encoded.len() > MAX_LABEL_LEN {
        return Err("Label too long".to_owned());
    }
    Ok(encoded)
}

/// Tests the host-name form: ASCII labels of letters, digits and inner hyphens.
pub(super) fn is_ascii_hostname(domain: &str) -> bool {
    domain.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Checks the IDNA 2008 rules for one Unicode label (RFC 5891 5.4): NFC, hyphen positions,
/// no leading combining mark, protocol-valid code points and the CONTEXTO rules. Bidi and
/// joiner rules are checked by the idna crate's UTS #46 processing.
pub(super) fn check_idna_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("Empty Label".to_owned());
    }
    if !unicode_normalization::is_nfc(label) {
        return Err("Label must be in Normalization Form C".to_owned());
    }
    if label.chars().skip(2).take(2).eq("--".chars()) {
        return Err("Label has disallowed hyphens in 3rd and 4th position".to_owned());
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("Label must not start or end with a hyphen".to_owned());
    }
    if label.chars().next().is_some_and(is_combining_mark) {
        return Err("Label begins with an illegal combining character".to_owned());
    }

    let chars: Vec<char> = label.chars().collect();
    for (index, &c) in chars.iter().enumerate() {
        let code = c as u32;
        let position = index + 1;
        match check_contexto_rule(&chars, index) {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "Codepoint U+{code:04X} not allowed at position {position} in '{label}'"
                ));
            }
            None if is_idna_valid_code_point(c) => {}
            None => {
                return Err(format!(
                    "Codepoint U+{code:04X} at position {position} of '{label}' not allowed"
                ));
            }
        }
    }
    Ok(())
}

/// Tests a code point IDNA 2008 allows in a mapped label: lower-case ASCII letters, digits and
/// the hyphen, or a non-ASCII letter, digit or mark that case folding and NFKC leave unchanged
/// (RFC 5892's Unstable rule) and that is not an old Hangul jamo.
///
/// NOTE: this approximates RFC 5892's PVALID table from general properties, so a rare letter
/// or mark may be classed differently from the reference's table.
pub(super) fn is_idna_valid_code_point(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    }
    // RFC 5892 2.6 lists these exceptions to the derived classes.
    if matches!(c as u32, 0xDF | 0x3C2 | 0x6FD | 0x6FE | 0xF0B | 0x3007) {
        return true;
    }
    if matches!(
        c as u32,
        0x640 | 0x7FA | 0x302E | 0x302F | 0x3031..=0x3035 | 0x303B
    ) {
        return false;
    }
    let old_hangul_jamo = matches!(c as u32, 0x1100..=0x11FF | 0xA960..=0xA97F | 0xD7B0..=0xD7FF);
    let letter_digit_or_mark = c.is_alphanumeric() || is_combining_mark(c);
    letter_digit_or_mark && !old_hangul_jamo && is_public_assigned(c) && is_case_stable(c)
}

/// Tests whether full case folding followed by NFKC leaves `c` unchanged.
pub(super) fn is_case_stable(c: char) -> bool {
    let mut buffer = [0; 4];
    let text: &str = c.encode_utf8(&mut buffer);
    let folded = CaseMapper::new().fold_string(text);
    folded.nfkc().eq(text.chars())
}

/// Applies RFC 5892 Appendix A's rule to a CONTEXTO code point at `index`, or returns `None`
/// for every other code point.
pub(super) fn check_contexto_rule(label: &[char], index: usize) -> Option<bool> {
    let before = index.checked_sub(1).and_then(|i| label.get(i)).copied();
    let after = label.get(index + 1).copied();
    let holds = match label[index] {
        '\u{B7}' => before == Some('l') && after == Some('l'),
        '\u{375}' => after.is_some_and(is_greek),
        '\u{5F3}' | '\u{5F4}' => before.is_some_and(is_hebrew),
        '\u{30FB}' => label.iter().any(|&c| c != '\u{30FB}' && is_japanese(c)),
        '\u{660}'..='\u{669}' => !label.iter().any(|c| ('\u{6F0}'..='\u{6F9}').contains(c)),
        '\u{6F0}'..='\u{6F9}' => !label.iter().any(|c| ('\u{660}'..='\u{669}').contains(c)),
        _ => return None,
    };
    Some(holds)
}

/// Tests the Greek blocks, standing in for the Greek script property.
pub(super) fn is_greek(c: char) -> bool {
    matches!(c as u32, 0x370..=0x3FF | 0x1F00..=0x1FFF)
}

/// Tests the Hebrew blocks, standing in for the Hebrew script property.
pub(super) fn is_hebrew(c: char) -> bool {
    matches!(c as u32, 0x591..=0x5F4 | 0xFB1D..=0xFB4F)
}

/// Tests the Hiragana, Katakana and main Han blocks, standing in for those script properties.
pub(super) fn is_japanese(c: char) -> bool {
    matches!(
        c as u32,
        0x3005..=0x3007 | 0x3040..=0x30FF | 0x31F0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
            | 0xF900..=0xFAFF | 0xFF66..=0xFF9D | 0x20000..=0x3134F
    )
}

/// Checks the IDNA ASCII domain: lengths, a period, a top-level domain that ends in a letter,
/// and no special-use name.
pub(super) fn check_ascii_domain(ascii: &str, original: &str) -> Result<(), EmailError> {
    if ascii.len() > MAX_DOMAIN_LEN {
        let excess = ascii.len() - MAX_DOMAIN_LEN;
        return Err(if ascii == original {
            EmailError::DomainTooLong { excess }
        } else {
            EmailError::DomainTooLongAfterIdna { excess }
        });
    }
    if let Some(label) = ascii.split('.').find(|label| label.len() > MAX_LABEL_LEN) {
        return Err(EmailError::LabelTooLong {
            excess: label.len() - MAX_LABEL_LEN,
        });
    }

    if !ascii.contains('.') {
        return Err(EmailError::MissingPeriod);
    }
    if !ascii.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(EmailError::InvalidTopLevelDomain);
    }
    let special_use = SPECIAL_USE_DOMAINS.iter().any(|name| {
        ascii == *name
            || ascii
                .strip_suffix(name)
                .is_some_and(|rest| rest.ends_with('.'))
    });
    if special_use {
        return Err(EmailError::SpecialUseDomain);
    }
    Ok(())
}

/// Returns the Unicode form of an IDNA ASCII domain, checking that each Punycode label
/// decodes to a valid IDNA 2008 label and that the domain satisfies the Bidi rule as a whole.
pub(super) fn decode_domain(ascii: &str) -> Result<String, EmailError> {
    let invalid = |detail: String| EmailError::InvalidPunycode { detail };

    let mut labels = Vec::new();
    for label in ascii.split('.') {
        labels.push(decode_label(label).map_err(invalid)?);
    }
    let unicode = labels.join(".");

    let (_, result) =
        Uts46::new().to_unicode(ascii.as_bytes(), AsciiDenyList::EMPTY, Hyphens::Check);
    if result.is_err() {
        return Err(invalid(
            "Label fails the UTS #46 validity or Bidi rules".to_owned(),
        ));
    }
    let characters = describe_sorted_displays(unicode.chars().filter(|&c| !is_hostname_char(c)));
    if !characters.is_empty() {
        return Err(EmailError::DomainInvalidCharacters { characters });
    }
    check_unsafe_chars(&unicode, false)?;
    Ok(unicode)
}

/// Decodes one label: a Punycode `xn--` label to Unicode, any other label unchanged, with the
/// IDNA 2008 label checks.
pub(super) fn decode_label(label: &str) -> Result<String, String> {
    let lower = label.to_ascii_lowercase();
    let Some(punycode) = lower.strip_prefix("xn--") else {
        check_idna_label(&lower)?;
        return Ok(lower);
    };
    if punycode.is_empty() {
        return Err("Malformed A-label, no Punycode eligible content found".to_owned());
    }
    if punycode.ends_with('-') {
        return Err("A-label must not end with a hyphen".to_owned());
    }

    let decoded = idna::punycode::decode_to_string(punycode).ok_or("Invalid A-label")?;
    check_idna_label(&decoded)?;
    Ok(decoded)
}

// ---------------------------------------------------------------------------------------------
// Whole-address length
// ---------------------------------------------------------------------------------------------

/// Checks the 254-byte limit on the address as written, as normalized, and with the IDNA ASCII
/// domain, in email-validator's order and with its messages.
pub(super) fn check_address_length(
    original_local: &str,
    original_domain: &str,
    local: &str,
    domain: &DomainNames,
) -> Result<(), EmailError> {
    let original = format!("{original_local}@{original_domain}");
    if original.len() > MAX_ADDRESS_BYTES {
        return Err(EmailError::AddressTooLong {
            detail: original_excess(&original),
        });
    }

    let forms = [
        (format!("{local}@{}", domain.unicode), "after normalization"),
        (
            format!("{local}@{}", domain.ascii),
            "when the part after the @-sign is converted to IDNA ASCII",
        ),
    ];
    for (address, stage) in forms {
        if address.len() > MAX_ADDRESS_BYTES {
            let excess = count_too_many(address.len() - MAX_ADDRESS_BYTES, "byte");
            return Err(EmailError::AddressTooLong {
                detail: format!("{stage} ({excess})"),
            });
        }
    }
    Ok(())
}

/// Describes by how much the address as written is too long: in characters when it is ASCII,
/// otherwise as a range, because a multi-byte character counts more than once.
pub(super) fn original_excess(address: &str) -> String {
    let excess = address.len() - MAX_ADDRESS_BYTES;
    if address.chars().count() == address.len() {
        return format!("({})", count_too_many(excess, "character"));
    }

    let widest = address.chars().map(char::len_utf8).max().unwrap_or(1);
    let min_chars = (excess / widest).max(1);
    let plural = if excess > 1 { "s" } else { "" };
    if min_chars == excess {
        format!("({excess} character{plural} too many)")
    } else {
        format!("({min_chars}-{excess} character{plural} too many)")
    }
}
