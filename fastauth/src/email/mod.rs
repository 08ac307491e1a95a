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

mod address;
mod chars;
mod domain;
mod local;
mod wrapper;

use address::*;
use chars::*;
use domain::*;
use local::*;
use wrapper::*;

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

#[cfg(test)]
mod tests;
