//! Character classes and the names used in messages.

use super::*;

/// Rejects characters that make an address unsafe to show or compare: controls, format and
/// private-use characters, unassigned code points, line and paragraph separators, spaces
/// (unless `allow_space`), and a combining mark at the start.
pub(super) fn check_unsafe_chars(text: &str, allow_space: bool) -> Result<(), EmailError> {
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
pub(super) enum CharClass {
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
pub(super) fn classify(c: char) -> CharClass {
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
pub(super) fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Tests the format characters (`Cf`) of Unicode 15.1, a superset of Python 3.11's Unicode 14
/// set, where the extra Egyptian hieroglyph controls were unassigned and so rejected as well.
pub(super) fn is_format_char(c: char) -> bool {
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
pub(super) fn describe_sorted_displays(chars: impl Iterator<Item = char>) -> String {
    let displays: BTreeSet<String> = chars.map(display_char).collect();
    displays.into_iter().collect::<Vec<_>>().join(", ")
}

/// Shows one character in an error: quoted when visible, otherwise by its Unicode name or
/// code point, as email-validator's `safe_character_display` does.
///
/// NOTE: only the names of spaces, common format characters and a few combining marks are
/// known here. Other invisible characters show as `U+XXXX` where the reference shows the name.
pub(super) fn display_char(c: char) -> String {
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
pub(super) fn character_name(c: char) -> Option<&'static str> {
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
pub(super) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// Returns `text` without surrounding whitespace, as Python's `str.strip()` does.
pub(super) fn trim_python_space(text: &str) -> &str {
    text.trim_matches(is_python_space)
}

/// Returns `text` without leading whitespace, as Python's `str.lstrip()` does.
pub(super) fn trim_start_python_space(text: &str) -> &str {
    text.trim_start_matches(is_python_space)
}

/// Returns `text` without trailing whitespace, as Python's `str.rstrip()` does.
pub(super) fn trim_end_python_space(text: &str) -> &str {
    text.trim_end_matches(is_python_space)
}
