//! The compile-time proof suite: every file in `ui-tests/` is one misuse of
//! the protocol, and each must fail to compile with the diagnostic recorded
//! next to it; every file in `ui-tests/pass/` must build and run.

// The cases use the reference schema.
#![cfg(feature = "reference")]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/*.rs");
    // With a case that must pass, trybuild builds every case (`cargo
    // build`) instead of only checking them (`cargo check`, its mode when
    // all cases are compile-fail). `schema_name_too_long.rs` needs the
    // build: a schema name's length is a constant evaluated when
    // `Save::begin` is instantiated for the schema, which a check never
    // does.
    t.pass("ui-tests/pass/*.rs");
}
