use super::*;

/// Golden rows from `scripts/email_golden.py`, run against the Python reference.
const GOLDEN: &str = include_str!("../../tests/data/email_golden.json");

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
