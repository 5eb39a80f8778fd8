//! The compile-time proof suite: every file in `ui-tests/` is one misuse of
//! the protocol, and each must fail to compile for its intended reason.
//!
//! The `.stderr` snapshots next to each case are one toolchain's exact
//! output: the one named in `ui-tests/TOOLCHAIN`. On that toolchain the
//! suite compares them exactly (trybuild). Compilers print the same errors
//! with small differences (type paths, notes, help lines), so on every other
//! toolchain each case is checked for what proves its point — that it fails
//! to compile, with the snapshot's error code and first message (the crate's
//! own words, where the crate speaks), type paths aside. Nothing is skipped:
//! every case is compiled on every toolchain. Every file in `ui-tests/pass/`
//! must build and run (the limits themselves compile). `CAELMOR_UI=exact` or
//! `CAELMOR_UI=loose` forces a mode; the loose check also runs on the pinned
//! toolchain, so that it is itself tested wherever the suite runs.

// The cases use the reference schema.
#![cfg(feature = "reference")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `rustc --version` of the compiler this test was built with.
fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(rustc)
        .arg("--version")
        .output()
        .expect("rustc --version runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The toolchain whose output the `.stderr` snapshots are, e.g. `1.95.0`.
fn pinned() -> String {
    fs::read_to_string(manifest_dir().join("ui-tests/TOOLCHAIN"))
        .expect("ui-tests/TOOLCHAIN names the snapshots' toolchain")
        .trim()
        .to_owned()
}

fn on_pinned_toolchain() -> bool {
    let version = rustc_version();
    version.starts_with(&format!("rustc {} ", pinned()))
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(manifest_dir().join("ui-tests"))
        .expect("ui-tests/ exists")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "the suite lost cases: {}", cases.len());
    cases
}

#[test]
fn ui() {
    let mode = std::env::var("CAELMOR_UI").unwrap_or_default();
    let exact = match mode.as_str() {
        "exact" => true,
        "loose" => false,
        _ => on_pinned_toolchain(),
    };
    if exact {
        let t = trybuild::TestCases::new();
        t.compile_fail("ui-tests/*.rs");
        // With a case that must pass, trybuild builds every case (`cargo
        // build`) instead of only checking them (`cargo check`, its mode
        // when all cases are compile-fail). `schema_name_too_long.rs` needs
        // the build: a schema name's length is a constant evaluated when
        // `Save::begin` is instantiated for the schema, which a check never
        // does.
        t.pass("ui-tests/pass/*.rs");
    } else {
        eprintln!(
            "{} is not the snapshots' toolchain ({}): checking every case's error code and message",
            rustc_version(),
            pinned()
        );
        loose_check();
    }
}

/// On the pinned toolchain the exact check ran above; this proves the loose
/// check, which other toolchains rely on, agrees with it.
#[test]
fn the_loose_check_accepts_the_snapshots() {
    if std::env::var("CAELMOR_UI").as_deref() == Ok("exact") {
        return;
    }
    if on_pinned_toolchain() {
        loose_check();
    }
}

/// Type paths differ between compilers (`caelmor_persist::reference::Reference`
/// or `Reference`): compare messages without them.
fn without_paths(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if c == ':' && chars.peek() == Some(&':') && !word.is_empty() {
            // `word::` is a path segment: drop it.
            chars.next();
            word.clear();
            continue;
        }
        out.push_str(&word);
        word.clear();
        out.push(c);
    }
    out.push_str(&word);
    out
}

/// The first `error[CODE]: message` line of a snapshot (or of a compiler's
/// diagnostics).
fn first_error(stderr: &str) -> Option<(String, String)> {
    stderr.lines().find_map(|line| {
        let rest = line.strip_prefix("error")?;
        let (code, message) = match rest.strip_prefix('[') {
            Some(rest) => {
                let (code, message) = rest.split_once("]: ")?;
                (code.to_owned(), message)
            }
            None => (String::new(), rest.strip_prefix(": ")?),
        };
        Some((code, message.to_owned()))
    })
}

/// Builds every case as a binary of a scratch crate that depends on this
/// one (a build, not a check: some errors appear only when generic code is
/// instantiated), and checks each fails with its snapshot's first error.
fn loose_check() {
    let root = manifest_dir();
    let scratch = root.join("target/ui-loose");
    fs::create_dir_all(scratch.join("src")).expect("scratch dir");
    let cases = cases();
    let mut manifest = format!(
        "[package]\nname = \"caelmor-persist-ui-loose\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\ncaelmor-persist = {{ path = {:?}, features = [\"reference\"] }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\n\
         postcard = {{ version = \"1\", default-features = false, features = [\"use-std\"] }}\n\n[workspace]\n",
        root.display().to_string()
    );
    let mut expected = BTreeMap::new();
    for case in &cases {
        let name = case.file_stem().and_then(|s| s.to_str()).expect("a name");
        let snapshot = case.with_extension("stderr");
        let stderr = fs::read_to_string(&snapshot)
            .unwrap_or_else(|_| panic!("{} has no .stderr snapshot", case.display()));
        let first = first_error(&stderr)
            .unwrap_or_else(|| panic!("{} holds no error line", snapshot.display()));
        expected.insert(name.to_owned(), first);
        manifest.push_str(&format!(
            "\n[[bin]]\nname = {name:?}\npath = {:?}\n",
            case.display().to_string()
        ));
    }
    // The cases that must build: each a binary too, expected to raise no
    // error at all.
    let mut passing = Vec::new();
    for case in fs::read_dir(root.join("ui-tests/pass"))
        .expect("ui-tests/pass/ exists")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    {
        let name = format!(
            "pass_{}",
            case.file_stem().and_then(|s| s.to_str()).expect("a name")
        );
        manifest.push_str(&format!(
            "\n[[bin]]\nname = {name:?}\npath = {:?}\n",
            case.display().to_string()
        ));
        passing.push(name);
    }
    fs::write(scratch.join("Cargo.toml"), manifest).expect("write manifest");
    // The crate's own lockfile pins the dependencies the cases compile with.
    let _ = fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .current_dir(&scratch)
        .args(["build", "--bins", "--keep-going", "--message-format=json"])
        .env("CARGO_TARGET_DIR", root.join("target/ui-loose/target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo check runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut found: BTreeMap<String, (String, String)> = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" || msg["message"]["level"] != "error" {
            continue;
        }
        let Some(target) = msg["target"]["name"].as_str() else {
            continue;
        };
        let code = msg["message"]["code"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let text = msg["message"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        found.entry(target.to_owned()).or_insert((code, text));
    }
    let mut failures = Vec::new();
    for name in &passing {
        if let Some((code, message)) = found.get(name) {
            failures.push(format!("{name}: must build, got error[{code}]: {message}"));
        }
    }
    for (name, (code, message)) in &expected {
        match found.get(name) {
            None => failures.push(format!("{name}: compiled, but must not")),
            Some((c, m)) if c != code || without_paths(m) != without_paths(message) => failures
                .push(format!(
                    "{name}: expected error[{code}]: {message}\n      got error[{c}]: {m}"
                )),
            Some(_) => {}
        }
    }
    assert!(
        found.len() >= expected.len() || !failures.is_empty(),
        "cargo check failed to run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases fail differently on {}:\n  {}",
        failures.len(),
        expected.len(),
        rustc_version(),
        failures.join("\n  ")
    );
    eprintln!(
        "{} cases fail to compile for their intended reason on {}",
        expected.len(),
        rustc_version()
    );
}

#[test]
fn paths_are_compared_without_their_modules() {
    assert_eq!(
        without_paths("`SaveNeedsWorld<caelmor_persist::reference::Reference>` x"),
        "`SaveNeedsWorld<Reference>` x"
    );
    assert_eq!(without_paths("a: b::c d"), "a: c d");
    assert_eq!(
        first_error("warning: x\nerror[E0277]: this save is at `Start`\n  --> a.rs"),
        Some(("E0277".to_owned(), "this save is at `Start`".to_owned()))
    );
    assert_eq!(
        first_error("error: unused\n"),
        Some((String::new(), "unused".to_owned()))
    );
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("ui-tests/TOOLCHAIN")
            .exists()
    );
}
