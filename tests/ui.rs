//! The compile-time proof suite: every file in `ui-tests/` is one misuse of
//! the protocol, and each must fail to compile with the diagnostic recorded
//! next to it.

// The cases use the reference schema.
#![cfg(feature = "reference")]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/*.rs");
}
