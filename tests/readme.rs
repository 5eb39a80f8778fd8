//! The README's walkthrough is `examples/quickstart.rs`, verbatim: the
//! doctests compile and run the README's copy, this test keeps it the file.

#[test]
fn the_readme_walkthrough_is_the_quickstart_example() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/quickstart.rs");
    let section = readme
        .split("## Integrating it")
        .nth(1)
        .expect("README has an 'Integrating it' section");
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section holds a Rust block");
    assert_eq!(
        block, example,
        "README.md's walkthrough differs from examples/quickstart.rs: copy the file into the README"
    );
}

#[test]
fn the_readme_starts_with_the_two_commands() {
    let readme = include_str!("../README.md");
    let head: Vec<&str> = readme.lines().take(6).collect();
    assert!(
        head.iter()
            .any(|l| l.starts_with("cargo run --release --features cli -- demo"))
    );
    assert!(
        head.iter()
            .any(|l| l.starts_with("cargo test --all-features"))
    );
    let ci = include_str!("../.ci/run");
    assert!(
        ci.contains("\ncargo test --all-features\n"),
        ".ci/run runs the README's test command"
    );
}
