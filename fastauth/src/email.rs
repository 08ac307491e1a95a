//! E-mail address validation and normalization, compatible with Python FastAuth.
//!
//! Python FastAuth (PyPI `sreekarnv-fastauth` 0.5.8) validates every address with pydantic's
//! `EmailStr` (pydantic 2.14, which calls email-validator 2.4 with `check_deliverability=False`)
//! and then stores `str(email).strip().casefold()`. [`normalize_email`] reproduces that pipeline
//! so both accept and reject the same inputs and store the same string: a user registered by
//! one can sign in through the other. `tests/data/email_golden.json`, written by
//! `scripts/email_golden.py` from the Python reference, pins the behaviour.
//!
//! The steps follow email-validator's order because the first failing check decides the
//! message: pydantic's wrapper (length, line breaks, `Name <address>`), splitting at the
//! `@`-sign, the local part, the domain, the total length. A quoted local part, a bracketed IP
//! address and a display name that pydantic did not strip are rejected, as pydantic's defaults
//! do.
//!
//! NOTE: Python 3.11 uses Unicode 14 while the Rust crates use newer Unicode data, so a
//! character assigned after Unicode 14 is accepted here but rejected by the reference as
//! unassigned.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use icu_casemap::CaseMapper;
use idna::uts46::{AsciiDenyList, Hyphens, Uts46};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_compatible, is_combining_mark, is_public_assigned};

/// Maximum length of the input in characters, pydantic's `MAX_EMAIL_LENGTH`.
const MAX_INPUT_CHARS: usize = 2048;
/// Maximum length of the address in UTF-8 bytes (RFC 5321 4.5.3.1.3 with RFC 3696 errata).
const MAX_ADDRESS_BYTES: usize = 254;
/// Maximum length of the domain in octets (RFC 1035 2.3.4, less the root label).
const MAX_DOMAIN_LEN: usize = 253;
/// Maximum length of one domain label in octets (RFC 1035 2.3.1).
const MAX_LABEL_LEN: usize = 63;
/// Domains that email-validator rejects, with every subdomain: IANA special-use names that
/// cannot have globally deliverable mailboxes.
const SPECIAL_USE_DOMAINS: [&str; 6] = ["arpa", "invalid", "local", "localhost", "onion", "test"];

/// Validates an e-mail address and returns the form Python FastAuth stores and looks up.
///
/// The address is trimmed, its local part NFC-normalized, a Punycode domain converted to
/// Unicode and lower-cased, and then the whole address is case-folded with full Unicode case
/// folding (Python's `str.casefold()`), so `Straße@Example.com` becomes `strasse@example.com`.
/// A `Name <address>` input is reduced to the address, as pydantic's `EmailStr` does.
pub(crate) fn normalize_email(input: &str) -> Result<String, EmailError> {
    let address = strip_pydantic_wrapper(input)?;
    let normalized = validate_address(address)?;
    let folded = CaseMapper::new().fold_string(&normalized);
    Ok(trim_python_space(&folded).to_owned())
}

/// Reason an e-mail address is rejected. `Display` is our own wording, while
/// [`EmailError::pydantic_message`] reproduces the reference's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EmailError {
    #[error("the email address has {chars} characters: shorten it to at most 2048")]
    InputTooLong { chars: usize },
    #[error("the email address contains a line break: remove carriage returns and line feeds")]
    LineBreak,
    #[error("the email address has no @-sign: write it in the form name@example.com")]
    MissingAtSign,
    #[error("the email address has {} instead of an @-sign: type @", lookalike_name(*character))]
    LookalikeAtSign { character: char },
    #[error("the display name contains {characters}, allowed only in quotes: quote the name")]
    DisplayNameInvalidCharacters { characters: String },
    #[error("the `<` before the address has no matching `>` at the end: add it or remove the `<`")]
    UnclosedAngleBracket,
    #[error("text follows the `>` after the address: remove it")]
    TextAfterAngleBracket,
    #[error("the quoted part before the @-sign is followed by {characters}: remove them")]
    TextAfterQuote { characters: String },
    #[error("the part before the @-sign is empty: add the mailbox name")]
    EmptyLocalPart,
    #[error("the part before the @-sign contains invalid characters {characters}: remove them")]
    LocalPartInvalidCharacters { characters: String },
    #[error("the quoted part before the @-sign contains invalid characters {characters}")]
    QuotedLocalPartInvalidCharacters { characters: String },
    #[error("the email address contains unsafe characters {characters}: remove them")]
    UnsafeCharacters { characters: String },
    #[error("the email address starts with a period: remove it")]
    LocalPartStartsWithPeriod,
    #[error("the part before the @-sign ends with a period: remove it")]
    LocalPartEndsWithPeriod,
    #[error("the email address has two periods in a row: remove one")]
    ConsecutivePeriods,
    #[error("after Unicode normalization, {0}")]
    AfterNormalization(Box<EmailError>),
    #[error("quotes around the part before the @-sign are not supported: remove them")]
    QuotedLocalPart,
    #[error("the part after the @-sign is empty: add a domain such as example.com")]
    EmptyDomain,
    #[error("a bracketed IP address after the @-sign is not supported: use a domain name")]
    DomainLiteral,
    #[error(
        "the IPv4 address in brackets after the @-sign is invalid ({detail}): use a domain name"
    )]
    InvalidBracketedIpv4 { detail: String },
    #[error(
        "the IPv6 address in brackets after the @-sign is invalid ({detail}): use a domain name"
    )]
    InvalidBracketedIpv6 { detail: String },
    #[error("the text in brackets after the @-sign is not an IP address: use a domain name")]
    MissingAddressLiteralTag,
    #[error("the text in brackets after the @-sign contains invalid characters {characters}")]
    BracketedInvalidCharacters { characters: String },
    #[error("the text in brackets after the @-sign has an unknown tag: use a domain name")]
    UnknownAddressLiteralTag,
    #[error("the part after the @-sign is {excess} characters too long: shorten it to 253")]
    DomainTooLong { excess: usize },
    #[error("the part after the @-sign is {excess} bytes too long as IDNA ASCII: shorten it")]
    DomainTooLongAfterIdna { excess: usize },
    #[error("the part after the @-sign contains invalid characters {characters}: remove them")]
    DomainInvalidCharacters { characters: String },
    #[error("the part after the @-sign contains {characters} after Unicode normalization")]
    DomainInvalidAfterMapping { characters: String },
    #[error("the part after the @-sign contains characters IDNA does not allow ({detail})")]
    DomainDisallowedCharacters { detail: String },
    #[error("the part after the @-sign starts with a {symbol}: remove it")]
    DomainStartsWith { symbol: Symbol },
    #[error("the email address ends with a {symbol}: remove it")]
    DomainEndsWith { symbol: Symbol },
    #[error("the part after the @-sign has a period next to a hyphen: remove one of them")]
    PeriodNextToHyphen,
    #[error("a domain label has two dashes in the 3rd and 4th position, reserved for Punycode")]
    ReservedHyphens,
    #[error("the part after the @-sign is not a valid internationalized domain ({detail})")]
    InvalidIdnaLabel { detail: String },
    #[error("a label of the part after the @-sign is {excess} characters over the limit of 63")]
    LabelTooLong { excess: usize },
    #[error("the part after the @-sign has no period: write the full domain, such as example.com")]
    MissingPeriod,
    #[error("the part after the @-sign does not end in a top-level domain such as .com")]
    InvalidTopLevelDomain,
    #[error("the part after the @-sign is a special-use or reserved domain: use a public one")]
    SpecialUseDomain,
    #[error("the Punycode part after the @-sign is not valid IDNA ({detail})")]
    InvalidPunycode { detail: String },
    #[error("the email address is too long {detail}: shorten it to at most 254 bytes")]
    AddressTooLong { detail: String },
    #[error("the email address has a display name or angle brackets: send the bare address")]
    DisplayName,
}

/// Character named in a misplaced-character error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Symbol {
    Period,
    Hyphen,
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Symbol::Period => "period",
            Symbol::Hyphen => "hyphen",
        })
    }
}

impl EmailError {
    /// Returns the message pydantic's `EmailStr` reports for this rejection:
    /// `value is not a valid email address: <reason>`, with email-validator 2.4's reason.
    pub(crate) fn pydantic_message(&self) -> String {
        format!("value is not a valid email address: {}", self.reason())
    }

    /// Returns email-validator's reason text (pydantic's own for the first two variants).
    fn reason(&self) -> String {
        use EmailError::*;
        match self {
            InputTooLong { .. } => {
                format!("Length must not exceed {MAX_INPUT_CHARS} characters")
            }
            LineBreak => "Carriage return and line feed characters are not allowed".into(),
            MissingAtSign => "An email address must have an @-sign.".into(),
            LookalikeAtSign {
                character: '\u{FF20}',
            } => "The email address has the \"full-width\" \
                at-sign (@) character instead of a regular at-sign."
                .into(),
            LookalikeAtSign { .. } => "The email address has the \"small commercial at\" \
                character instead of a regular at-sign."
                .into(),
            DisplayNameInvalidCharacters { characters } => format!(
                "The display name contains invalid characters when not quoted: {characters}."
            ),
            UnclosedAngleBracket => "An open angle bracket at the start of the email address \
                has to be followed by a close angle bracket at the end."
                .into(),
            TextAfterAngleBracket => "There can't be anything after the email address.".into(),
            TextAfterQuote { characters } => {
                format!("Extra character(s) found after close quote: {characters}")
            }
            EmptyLocalPart => "There must be something before the @-sign.".into(),
            LocalPartInvalidCharacters { characters } if characters.is_empty() => {
                "The email address contains invalid characters before the @-sign.".into()
            }
            LocalPartInvalidCharacters { characters } => format!(
                "The email address contains invalid characters before the @-sign: {characters}."
            ),
            QuotedLocalPartInvalidCharacters { characters } => format!(
                "The email address contains invalid characters in quotes before the @-sign: \
                {characters}."
            ),
            UnsafeCharacters { characters } => {
                format!("The email address contains unsafe characters: {characters}.")
            }
            LocalPartStartsWithPeriod => "An email address cannot start with a period.".into(),
            LocalPartEndsWithPeriod => {
                "An email address cannot have a period immediately before the @-sign.".into()
            }
            ConsecutivePeriods => "An email address cannot have two periods in a row.".into(),
            AfterNormalization(inner) => format!("After Unicode normalization: {}", inner.reason()),
            QuotedLocalPart => "Quoting the part before the @-sign is not allowed here.".into(),
            _ => self.domain_reason(),
        }
    }

    /// Returns email-validator's reason text for the domain and length variants.
    fn domain_reason(&self) -> String {
        use EmailError::*;
        match self {
            EmptyDomain => "There must be something after the @-sign.".into(),
            DomainLiteral => "A bracketed IP address after the @-sign is not allowed here.".into(),
            InvalidBracketedIpv4 { detail } => format!(
                "The address in brackets after the @-sign is not valid: It is not an IPv4 \
                address ({detail}) or is missing an address literal tag."
            ),
            InvalidBracketedIpv6 { detail } => {
                format!("The IPv6 address in brackets after the @-sign is not valid ({detail}).")
            }
            MissingAddressLiteralTag => "The part after the @-sign in brackets is not an IPv4 \
                address and has no address literal tag."
                .into(),
            BracketedInvalidCharacters { characters } => format!(
                "The part after the @-sign contains invalid characters in brackets: \
                {characters}."
            ),
            UnknownAddressLiteralTag => "The part after the @-sign contains an invalid address \
                literal tag in brackets."
                .into(),
            DomainTooLong { excess } => format!(
                "The email address is too long after the @-sign ({}).",
                count_too_many(*excess, "character")
            ),
            DomainTooLongAfterIdna { excess } => format!(
                "The email address is too long after the @-sign ({} after IDNA encoding).",
                count_too_many(*excess, "byte")
            ),
            DomainInvalidCharacters { characters } => {
                format!("The part after the @-sign contains invalid characters: {characters}.")
            }
            DomainInvalidAfterMapping { characters } => format!(
                "The part after the @-sign contains invalid characters after Unicode \
                normalization: {characters}."
            ),
            DomainDisallowedCharacters { detail } => {
                format!("The part after the @-sign contains invalid characters ({detail}).")
            }
            DomainStartsWith { symbol } => {
                format!("An email address cannot have a {symbol} immediately after the @-sign.")
            }
            DomainEndsWith { symbol } => format!("An email address cannot end with a {symbol}."),
            PeriodNextToHyphen => {
                "An email address cannot have a period and a hyphen next to each other.".into()
            }
            ReservedHyphens => "An email address cannot have two letters followed by two dashes \
                immediately after the @-sign or after a period, except Punycode."
                .into(),
            InvalidIdnaLabel { detail } => {
                format!("The part after the @-sign is invalid ({detail}).")
            }
            LabelTooLong { excess } => format!(
                "After the @-sign, periods cannot be separated by so many characters ({}).",
                count_too_many(*excess, "character")
            ),
            MissingPeriod => {
                "The part after the @-sign is not valid. It should have a period.".into()
            }
            InvalidTopLevelDomain => "The part after the @-sign is not valid. It is not within \
                a valid top-level domain."
                .into(),
            SpecialUseDomain => "The part after the @-sign is a special-use or reserved name \
                that cannot be used with email."
                .into(),
            InvalidPunycode { detail } => {
                format!("The part after the @-sign is not valid IDNA ({detail}).")
            }
            AddressTooLong { detail } => format!("The email address is too long {detail}."),
            DisplayName => "A display name and angle brackets around the email address are not \
                permitted here."
                .into(),
            _ => String::new(),
        }
    }
}

/// Returns a readable name for a look-alike of the @-sign.
fn lookalike_name(character: char) -> &'static str {
    if character == '\u{FF20}' {
        "the full-width at-sign (U+FF20)"
    } else {
        "the small commercial at (U+FE6B)"
    }
}

/// Formats email-validator's excess count, such as `1 character too many`.
fn count_too_many(excess: usize, unit: &str) -> String {
    let plural = if excess > 1 { "s" } else { "" };
    format!("{excess} {unit}{plural} too many")
}

// ---------------------------------------------------------------------------------------------
// pydantic's wrapper around email-validator
// ---------------------------------------------------------------------------------------------

/// Applies pydantic's `validate_email` steps before email-validator: the length limit, the
/// line-break check, the `Name <address>` form and the surrounding-whitespace strip.
fn strip_pydantic_wrapper(input: &str) -> Result<&str, EmailError> {
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
fn match_display_name_form(input: &str) -> Option<&str> {
    let inner = trim_end_python_space(input).strip_suffix('>')?;

    unquoted_name_address(inner)
        .or_else(|| quoted_name_address(inner))
        .or_else(|| bare_bracket_address(inner))
}

/// Matches `NAME <address` (the `>` already removed), where the name is words of
/// `pretty_email_regex`'s name characters separated by whitespace.
fn unquoted_name_address(inner: &str) -> Option<&str> {
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
fn quoted_name_address(inner: &str) -> Option<&str> {
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
fn bare_bracket_address(inner: &str) -> Option<&str> {
    let address = trim_start_python_space(inner).strip_prefix('<')?;
    (!address.is_empty()).then_some(address)
}

/// Tests a character of pydantic's unquoted display-name class `[\w.!#$%&'*+\-/=?^_`{|}~]`.
fn is_display_name_char(c: char) -> bool {
    is_python_word_char(c) || ".!#$%&'*+-/=?^`{|}~".contains(c)
}

/// Tests Python's Unicode `\w`: letters, numbers and the underscore.
///
/// NOTE: Rust's `is_alphanumeric` also covers the Other_Alphabetic marks and circled letters,
/// which Python's `\w` does not. Marks and circled letters are excluded here, which leaves
/// differences only in rare characters.
fn is_python_word_char(c: char) -> bool {
    let circled_letter = matches!(
        c as u32,
        0x24B6..=0x24E9 | 0x1F130..=0x1F149 | 0x1F150..=0x1F169 | 0x1F170..=0x1F189
    );
    c == '_' || (c.is_alphanumeric() && !is_combining_mark(c) && !circled_letter)
}

// ---------------------------------------------------------------------------------------------
// email-validator's validate_email
// ---------------------------------------------------------------------------------------------

/// Validates an address as email-validator does and returns its normalized form: the
/// NFC-normalized local part, `@`, and the Unicode form of the domain.
fn validate_address(email: &str) -> Result<String, EmailError> {
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
struct AddressParts<'a> {
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
fn split_address(email: &str) -> Result<AddressParts<'_>, EmailError> {
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
fn check_display_name(name: &str) -> Result<(), EmailError> {
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
fn angle_bracket_content(right: &str) -> Result<&str, EmailError> {
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
fn split_at_unquoted<'a>(
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
fn combines_with_next(text: &str) -> bool {
    let first = text.chars().next();
    text.chars().take(32).nfc().next() != first
}

/// Returns the error for an address without an @-sign, naming a look-alike if there is one.
fn missing_at_sign(text: &str) -> EmailError {
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
fn unquote(text: &str) -> Result<(String, bool), EmailError> {
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

// ---------------------------------------------------------------------------------------------
// Local part
// ---------------------------------------------------------------------------------------------

/// Checks the local part: an RFC 5322 dot-atom extended to Unicode by RFC 6531, or a quoted
/// string of printable characters. The 64-octet limit is not checked because email-validator
/// applies it only in strict mode, and pydantic does not enable that.
fn check_local_part(local: &str, quoted: bool) -> Result<(), EmailError> {
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
fn is_dot_atom(text: &str, is_atext: fn(char) -> bool) -> bool {
    text.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// Tests RFC 5322 `atext`: ASCII letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
fn is_ascii_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// Tests RFC 6531 `atext`: ASCII `atext` or any non-ASCII character.
fn is_intl_atext(c: char) -> bool {
    is_ascii_atext(c) || c >= '\u{80}'
}

// ---------------------------------------------------------------------------------------------
// Domain
// ---------------------------------------------------------------------------------------------

/// The validated domain in its two forms.
#[derive(Debug)]
struct DomainNames {
    /// Unicode form, used in the normalized address.
    unicode: String,
    /// IDNA ASCII form, used for the length and special-use checks.
    ascii: String,
}

/// Checks the part after the @-sign, rejecting bracketed IP addresses as pydantic does.
fn check_domain_part(domain: &str) -> Result<DomainNames, EmailError> {
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
fn check_domain_literal(literal: &str) -> Result<(), EmailError> {
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
fn check_domain_name(domain: &str) -> Result<DomainNames, EmailError> {
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
fn check_domain_chars(domain: &str) -> Result<(), EmailError> {
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
fn is_hostname_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c >= '\u{80}'
}

/// Tests email-validator's approximation of characters UTS #46 keeps. Only the decomposition
/// rule matters here because `check_unsafe_chars` already rejected the other categories.
fn is_uts46_valid(c: char) -> bool {
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
fn map_domain(domain: &str) -> Result<String, EmailError> {
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
fn is_label_separator(c: char) -> bool {
    matches!(c, '.' | '\u{3002}' | '\u{FF0E}' | '\u{FF61}')
}

/// Checks the placement of periods and hyphens (RFC 952, RFC 1123 2.1, RFC 5322 3.2.3).
fn check_domain_dots(domain: &str) -> Result<(), EmailError> {
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
fn check_reserved_hyphens(domain: &str) -> Result<(), EmailError> {
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
fn encode_domain(mapped: &str) -> Result<String, EmailError> {
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
fn encode_label(label: &str) -> Result<String, String> {
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
fn is_ascii_hostname(domain: &str) -> bool {
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
fn check_idna_label(label: &str) -> Result<(), String> {
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
fn is_idna_valid_code_point(c: char) -> bool {
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
fn is_case_stable(c: char) -> bool {
    let mut buffer = [0; 4];
    let text: &str = c.encode_utf8(&mut buffer);
    let folded = CaseMapper::new().fold_string(text);
    folded.nfkc().eq(text.chars())
}

/// Applies RFC 5892 Appendix A's rule to a CONTEXTO code point at `index`, or returns `None`
/// for every other code point.
fn check_contexto_rule(label: &[char], index: usize) -> Option<bool> {
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
fn is_greek(c: char) -> bool {
    matches!(c as u32, 0x370..=0x3FF | 0x1F00..=0x1FFF)
}

/// Tests the Hebrew blocks, standing in for the Hebrew script property.
fn is_hebrew(c: char) -> bool {
    matches!(c as u32, 0x591..=0x5F4 | 0xFB1D..=0xFB4F)
}

/// Tests the Hiragana, Katakana and main Han blocks, standing in for those script properties.
fn is_japanese(c: char) -> bool {
    matches!(
        c as u32,
        0x3005..=0x3007 | 0x3040..=0x30FF | 0x31F0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
            | 0xF900..=0xFAFF | 0xFF66..=0xFF9D | 0x20000..=0x3134F
    )
}

/// Checks the IDNA ASCII domain: lengths, a period, a top-level domain that ends in a letter,
/// and no special-use name.
fn check_ascii_domain(ascii: &str, original: &str) -> Result<(), EmailError> {
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
fn decode_domain(ascii: &str) -> Result<String, EmailError> {
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
fn decode_label(label: &str) -> Result<String, String> {
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
fn check_address_length(
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
fn original_excess(address: &str) -> String {
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

// ---------------------------------------------------------------------------------------------
// Character classes and display
// ---------------------------------------------------------------------------------------------

/// Rejects characters that make an address unsafe to show or compare: controls, format and
/// private-use characters, unassigned code points, line and paragraph separators, spaces
/// (unless `allow_space`), and a combining mark at the start.
fn check_unsafe_chars(text: &str, allow_space: bool) -> Result<(), EmailError> {
    let mut bad = BTreeSet::new();
    for (index, c) in text.chars().enumerate() {
        let unsafe_char = match classify(c) {
            CharClass::Visible => false,
            CharClass::Mark => index == 0,
            CharClass::Space => !allow_space,
            CharClass::Other => true,
        };
        if unsafe_char {
            bad.insert(c);
        }
    }

    if bad.is_empty() {
        return Ok(());
    }
    let characters = bad
        .into_iter()
        .map(display_char)
        .collect::<Vec<_>>()
        .join(", ");
    Err(EmailError::UnsafeCharacters { characters })
}

/// Broad Unicode general category, as far as email-validator distinguishes them.
#[derive(Debug, PartialEq, Eq)]
enum CharClass {
    /// Letter, number, punctuation or symbol (`L`, `N`, `P`, `S`).
    Visible,
    /// Combining mark (`M`).
    Mark,
    /// Space separator (`Zs`).
    Space,
    /// Control, format, private-use, unassigned, line or paragraph separator.
    Other,
}

/// Returns the broad general category of `c`.
fn classify(c: char) -> CharClass {
    if is_space_separator(c) {
        CharClass::Space
    } else if c.is_control()
        || is_format_char(c)
        || !is_public_assigned(c)
        || matches!(c, '\u{2028}' | '\u{2029}')
    {
        CharClass::Other
    } else if is_combining_mark(c) {
        CharClass::Mark
    } else {
        CharClass::Visible
    }
}

/// Tests the space separators (`Zs`).
fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Tests the format characters (`Cf`) of Unicode 15.1, a superset of Python 3.11's Unicode 14
/// set, where the extra Egyptian hieroglyph controls were unassigned and so rejected as well.
fn is_format_char(c: char) -> bool {
    matches!(
        c as u32,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Returns the displays of `chars`, deduplicated, sorted and joined with `, ` (the order of
/// email-validator's `sorted(set(...))`, which sorts the display strings).
fn describe_sorted_displays(chars: impl Iterator<Item = char>) -> String {
    let displays: BTreeSet<String> = chars.map(display_char).collect();
    displays.into_iter().collect::<Vec<_>>().join(", ")
}

/// Shows one character in an error: quoted when visible, otherwise by its Unicode name or
/// code point, as email-validator's `safe_character_display` does.
///
/// NOTE: only the names of spaces, common format characters and a few combining marks are
/// known here. Other invisible characters show as `U+XXXX` where the reference shows the name.
fn display_char(c: char) -> String {
    if c == '\\' {
        return "\"\\\"".to_owned();
    }
    if classify(c) == CharClass::Visible {
        return if c == '\'' {
            "\"'\"".to_owned()
        } else {
            format!("'{c}'")
        };
    }
    if let Some(name) = character_name(c) {
        return name.to_owned();
    }

    let code = c as u32;
    if code < 0xFFFF {
        format!("U+{code:04X}")
    } else {
        format!("U+{code:08X}")
    }
}

/// Returns the Unicode name of the invisible characters most likely to appear in an address.
fn character_name(c: char) -> Option<&'static str> {
    let name = match c {
        ' ' => "SPACE",
        '\u{A0}' => "NO-BREAK SPACE",
        '\u{AD}' => "SOFT HYPHEN",
        '\u{300}' => "COMBINING GRAVE ACCENT",
        '\u{301}' => "COMBINING ACUTE ACCENT",
        '\u{302}' => "COMBINING CIRCUMFLEX ACCENT",
        '\u{303}' => "COMBINING TILDE",
        '\u{308}' => "COMBINING DIAERESIS",
        '\u{338}' => "COMBINING LONG SOLIDUS OVERLAY",
        '\u{1680}' => "OGHAM SPACE MARK",
        '\u{2000}' => "EN QUAD",
        '\u{2001}' => "EM QUAD",
        '\u{2002}' => "EN SPACE",
        '\u{2003}' => "EM SPACE",
        '\u{2004}' => "THREE-PER-EM SPACE",
        '\u{2005}' => "FOUR-PER-EM SPACE",
        '\u{2006}' => "SIX-PER-EM SPACE",
        '\u{2007}' => "FIGURE SPACE",
        '\u{2008}' => "PUNCTUATION SPACE",
        '\u{2009}' => "THIN SPACE",
        '\u{200A}' => "HAIR SPACE",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{202F}' => "NARROW NO-BREAK SPACE",
        '\u{205F}' => "MEDIUM MATHEMATICAL SPACE",
        '\u{2060}' => "WORD JOINER",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{3000}' => "IDEOGRAPHIC SPACE",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE",
        _ => return None,
    };
    Some(name)
}

/// Tests Python's `str.isspace()`: Unicode White_Space plus the information separators
/// U+001C to U+001F, which Python's `strip()` also removes.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// Returns `text` without surrounding whitespace, as Python's `str.strip()` does.
fn trim_python_space(text: &str) -> &str {
    text.trim_matches(is_python_space)
}

/// Returns `text` without leading whitespace, as Python's `str.lstrip()` does.
fn trim_start_python_space(text: &str) -> &str {
    text.trim_start_matches(is_python_space)
}

/// Returns `text` without trailing whitespace, as Python's `str.rstrip()` does.
fn trim_end_python_space(text: &str) -> &str {
    text.trim_end_matches(is_python_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden rows from `scripts/email_golden.py`, run against the Python reference.
    const GOLDEN: &str = include_str!("../tests/data/email_golden.json");

    /// Inputs whose accept/reject result or output differs from the reference, with the reason.
    const OUTPUT_DIFFERENCES: &[(&str, &str)] = &[];

    /// Rejected inputs whose pydantic message differs from the reference, with the reason.
    const MESSAGE_DIFFERENCES: &[(&str, &str)] = &[];

    fn golden_rows() -> Vec<(String, Option<String>, Option<String>)> {
        let rows: Vec<serde_json::Value> = serde_json::from_str(GOLDEN).expect("golden JSON");
        rows.iter()
            .map(|row| {
                let text = |key: &str| row[key].as_str().map(str::to_owned);
                (
                    text("input").expect("input is a string"),
                    text("output"),
                    text("error"),
                )
            })
            .collect()
    }

    #[test]
    fn golden_table_has_required_rows() {
        let rows = golden_rows();
        assert!(rows.len() >= 60, "only {} golden rows", rows.len());
        for required in [
            "Straße@Example.com",
            "kate@xn--gthub-n4a.com",
            "a@localhost",
        ] {
            assert!(
                rows.iter().any(|(input, _, _)| input == required),
                "missing {required}"
            );
        }
    }

    #[test]
    fn golden_outputs_match_reference() {
        let mut failures = Vec::new();
        for (input, expected, _) in golden_rows() {
            if OUTPUT_DIFFERENCES
                .iter()
                .any(|(skipped, _)| *skipped == input)
            {
                continue;
            }
            let actual = normalize_email(&input).ok();
            if actual != expected {
                failures.push(format!("{input:?}: expected {expected:?}, got {actual:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} rows differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn golden_messages_match_reference() {
        let mut failures = Vec::new();
        for (input, _, expected) in golden_rows() {
            let Some(expected) = expected else { continue };
            if MESSAGE_DIFFERENCES
                .iter()
                .chain(OUTPUT_DIFFERENCES)
                .any(|(s, _)| *s == input)
            {
                continue;
            }
            let actual = normalize_email(&input).map_err(|error| error.pydantic_message());
            if actual.as_ref().err() != Some(&expected) {
                failures.push(format!(
                    "{input:?}:\n  expected {expected}\n  got      {actual:?}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} rows differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn case_folding_is_full() {
        let cases = [
            ("Straße@Example.com", "strasse@example.com"),
            ("\u{212A}elvin@example.com", "kelvin@example.com"),
            ("\u{130}@example.com", "i\u{307}@example.com"),
            ("\u{131}@example.com", "\u{131}@example.com"),
            (
                "\u{FF21}\u{FF22}@example.com",
                "\u{FF41}\u{FF42}@example.com",
            ),
            ("\u{FB00}@example.com", "ff@example.com"),
            ("\u{3BF}\u{3C2}@example.com", "\u{3BF}\u{3C3}@example.com"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_email(input).as_deref(),
                Ok(expected),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn punycode_domain_becomes_unicode() {
        let normalized = normalize_email("kate@XN--GTHUB-N4A.COM");
        assert_eq!(normalized.as_deref(), Ok("kate@g\u{131}thub.com"));
    }

    #[test]
    fn local_part_is_nfc_normalized() {
        let normalized = normalize_email("Jose\u{301}@example.com");
        assert_eq!(normalized.as_deref(), Ok("jos\u{E9}@example.com"));
    }

    #[test]
    fn special_use_domains_rejected() {
        for name in SPECIAL_USE_DOMAINS {
            let subdomain = format!("a@mail.{name}");
            assert_eq!(
                normalize_email(&subdomain),
                Err(EmailError::SpecialUseDomain)
            );
            let bare = format!("a@{name}");
            assert_eq!(normalize_email(&bare), Err(EmailError::MissingPeriod));
        }
    }

    #[test]
    fn display_name_form_reduced_to_address() {
        let normalized = normalize_email("  Jane Doe <Jane@Example.com> ");
        assert_eq!(normalized.as_deref(), Ok("jane@example.com"));
    }

    #[test]
    fn pydantic_message_has_prefix() {
        let error = normalize_email("random-text").unwrap_err();
        assert_eq!(error, EmailError::MissingAtSign);
        assert_eq!(
            error.pydantic_message(),
            "value is not a valid email address: An email address must have an @-sign."
        );
    }

    #[test]
    fn display_messages_start_lowercase() {
        let inputs = [
            "",
            "a@b@c.com",
            "\"a\"@example.com",
            "a@[1.2.3.4]",
            "a@x.test",
            "a\u{0}@x.com",
        ];
        for input in inputs {
            let error = normalize_email(input).unwrap_err();
            let message = error.to_string();
            assert!(
                message.starts_with(char::is_lowercase),
                "message {message:?}"
            );
            assert!(!message.ends_with('.'), "message {message:?}");
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        let long_ascii = "a".repeat(10_000);
        let long_at = format!("{}@{}.com", "b".repeat(5_000), "c".repeat(4_990));
        let long_unicode = "\u{301}\u{338}<\"@".repeat(400);
        let inputs = [
            "",
            "@",
            "@@@",
            "<>",
            "\"",
            "\"\\",
            "<@>",
            " <a@b.com",
            "\u{10FFFF}@\u{10FFFF}.com",
            "\u{FFFD}@xn--.com",
            "a@xn--",
            "a@xn---.com",
            "a@[]",
            "a@[IPv6:]",
            "\u{E0001}@example.com",
            "a@\u{FF0E}\u{3002}",
            long_ascii.as_str(),
            long_at.as_str(),
            long_unicode.as_str(),
        ];
        for input in inputs {
            let result = normalize_email(input);
            if let Err(error) = result {
                assert!(!error.pydantic_message().is_empty());
            }
        }
    }

    #[test]
    fn long_input_reports_pydantic_limit() {
        let error = normalize_email(&"a".repeat(10_000)).unwrap_err();
        assert_eq!(error, EmailError::InputTooLong { chars: 10_000 });
    }
}
