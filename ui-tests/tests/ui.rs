//! Compiles every case under `pass/` (which must build and run) and `fail/` (whose compiler
//! output must equal the `.stderr` file next to it). Regenerate those files with
//! `TRYBUILD=overwrite cargo test -p ui-tests`, then read each one.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/**/*.rs");
    cases.compile_fail("tests/fail/**/*.rs");
}
