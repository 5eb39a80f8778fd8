//! The `caelmor-persist` binary, driven as an operator would.

#![cfg(feature = "cli")]

mod cli_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use caelmor_persist::reference::Reference;
use caelmor_persist::{Epoch, Fence, FileStore, ShardDir, ShardId, StoredEpoch};

const TINY: [&str; 10] = [
    "--players",
    "3",
    "--zones",
    "2",
    "--npcs",
    "4",
    "--items",
    "10",
    "--quests",
    "3",
];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_caelmor-persist"))
}

fn run(args: &[&str], dir: &Path) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit status 1, one error line naming `code`, and no panic.
fn assert_clean_failure(o: &Output, code: &str) {
    let (out, err) = (stdout(o), stderr(o));
    assert_eq!(o.status.code(), Some(1), "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains(code) || err.contains(code),
        "expected {code}\nstdout: {out}\nstderr: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

fn demo(dir: &Path) -> Output {
    let mut args = vec!["demo"];
    args.extend(TINY);
    run(&args, dir)
}

/// The bundle of `epoch`, as a demo run under fence `epoch` writes it
/// (each run claims once and commits once).
fn epoch_file(root: &Path, epoch: u64) -> PathBuf {
    ShardDir::of(root.join("caelmor-data"), ShardId(1)).epoch_path(StoredEpoch {
        epoch: Epoch(epoch),
        fence: Fence(epoch),
    })
}

#[test]
fn demo_twice_commits_epochs_one_and_two_which_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let first = demo(tmp.path());
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert!(out.contains("committed epoch#1 under fence#1"), "{out}");
    assert!(out.contains("identical to what was saved: yes"), "{out}");
    for phase in [
        "claim", "generate", "save", "commit", "load", "restore", "activate",
    ] {
        assert!(out.contains(&format!("  {phase} ")), "{phase}: {out}");
    }
    for system in ["player", "world", "npc", "item", "quest"] {
        assert!(out.contains(&format!("  {system} ")), "{system}: {out}");
    }

    let second = demo(tmp.path());
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("committed epoch#2 under fence#2"),
        "{}",
        stdout(&second)
    );

    let files = [epoch_file(tmp.path(), 1), epoch_file(tmp.path(), 2)];
    let verify = bin().arg("verify").args(&files).output().unwrap();
    let out = stdout(&verify);
    assert!(verify.status.success(), "{out}{}", stderr(&verify));
    assert!(out.contains("epoch#1"), "{out}");
    assert!(out.contains("epoch#2"), "{out}");
    assert!(out.contains("2 accepted, 0 rejected"), "{out}");

    let log = run(&["log", "caelmor-data/shard-1"], tmp.path());
    let out = stdout(&log);
    assert!(log.status.success(), "{out}");
    assert!(
        out.contains("2 epochs, current fence#2, latest epoch#2, head version 4, unkeyed"),
        "{out}"
    );
    assert!(
        out.lines().filter(|l| l.ends_with(" ok")).count() == 2,
        "{out}"
    );
    // Each row: the commit time in RFC 3339 (UTC, to the second) and the
    // schema, read from the bundle.
    for row in out.lines().filter(|l| l.ends_with(" ok")) {
        let time = row.split_whitespace().nth(3).unwrap_or_default();
        assert!(
            time.len() == 20 && time.as_bytes()[10] == b'T' && time.ends_with('Z'),
            "{row}"
        );
        assert!(row.contains("caelmor-reference v1"), "{row}");
    }
    // Newest first, each with the fence it was committed under.
    let rows: Vec<&str> = out.lines().filter(|l| l.ends_with(" ok")).collect();
    assert!(rows[0].trim_start().starts_with("epoch#2") && rows[0].contains("fence#2"));
    assert!(rows[1].trim_start().starts_with("epoch#1") && rows[1].contains("fence#1"));
    assert!(!out.contains("not committed"), "{out}");
    // A store root lists its shards.
    let log = run(&["log", "caelmor-data"], tmp.path());
    assert!(
        stdout(&log).contains("shard-1: 2 epochs"),
        "{}",
        stdout(&log)
    );
}

#[test]
fn a_flipped_byte_fails_verification_with_the_digest_code() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(demo(tmp.path()).status.success());
    let good = epoch_file(tmp.path(), 1);
    let bad = tmp.path().join("flipped.cpb");
    let mut bytes = fs::read(&good).unwrap();
    bytes[60] ^= 0x40;
    fs::write(&bad, &bytes).unwrap();

    let o = bin().arg("verify").arg(&good).arg(&bad).output().unwrap();
    assert_clean_failure(&o, "E-DIGEST");
    let out = stdout(&o);
    assert!(out.contains("1 accepted, 1 rejected"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("REJECTED") && l.contains("flipped.cpb: E-DIGEST")),
        "{out}"
    );

    // The same damage in the shard directory: log marks the epoch.
    fs::write(&good, &bytes).unwrap();
    let log = run(&["log", "caelmor-data/shard-1"], tmp.path());
    assert_clean_failure(&log, "DAMAGED E-STORE-DAMAGED: E-DIGEST");
    assert!(
        stdout(&log).contains("the latest, epoch#1, cannot be loaded (E-STORE-DAMAGED)"),
        "{}",
        stdout(&log)
    );
}

/// Changed with the head records: `log` lists what the head says is
/// committed, says when the latest's bundle is gone (it used to list the
/// remaining epochs as if nothing had happened), and names bundles that no
/// head names as not committed.
#[test]
fn log_lists_what_the_head_committed() {
    let tmp = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        assert!(demo(tmp.path()).status.success());
    }
    // A stray copy under a later epoch's name: not committed.
    let stray = ShardDir::of(tmp.path().join("caelmor-data"), ShardId(1)).epoch_path(StoredEpoch {
        epoch: Epoch(9),
        fence: Fence(3),
    });
    fs::copy(epoch_file(tmp.path(), 1), &stray).unwrap();
    let o = run(&["log", "caelmor-data/shard-1"], tmp.path());
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("3 epochs, current fence#3, latest epoch#3"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("not committed") && l.contains("epoch-00000000000000000009")),
        "{out}"
    );

    // The latest deleted: log says it is damaged, and exits non-zero.
    fs::remove_file(epoch_file(tmp.path(), 3)).unwrap();
    let o = run(&["log", "caelmor-data/shard-1"], tmp.path());
    assert_clean_failure(&o, "DAMAGED E-STORE-DAMAGED");
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("epoch#3") && l.contains("missing")),
        "{out}"
    );
    // The next demo (a fresh world, not a restore) never commits epoch 3
    // again: it commits epoch 4, and its claim removed the stray bundle.
    let o = demo(tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("committed epoch#4 under fence#4"),
        "{}",
        stdout(&o)
    );
    assert!(!stray.exists());
}

#[test]
fn a_second_concurrent_claim_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut holder =
        FileStore::<Reference>::open(tmp.path().join("caelmor-data"), ShardId(1)).expect("open");
    let _authority = holder.claim().expect("claim");

    let o = demo(tmp.path());
    assert_clean_failure(&o, "E-STORE-CLAIMED");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("caelmor-persist: E-STORE-CLAIMED: "),
        "{err}"
    );

    drop(holder);
    let o = demo(tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("fence#2"), "{}", stdout(&o));
}

#[test]
fn damaged_and_non_bundle_files_give_clean_errors() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(demo(tmp.path()).status.success());
    let bundle = fs::read(epoch_file(tmp.path(), 1)).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "E-MAGIC"),
        ("text.txt", b"hello, world\n".to_vec(), "E-MAGIC"),
        ("magic-only", b"CAELPRST".to_vec(), "E-TRUNCATED"),
        (
            "half.cpb",
            bundle[..bundle.len() / 2].to_vec(),
            "E-TRUNCATED",
        ),
        ("longer.cpb", [&bundle[..], b"x"].concat(), "E-TRAILING"),
        (
            "version.cpb",
            {
                let mut b = bundle.clone();
                b[8] = 9;
                b
            },
            "E-VERSION",
        ),
        (
            "huge-frame.cpb",
            {
                let mut b = bundle[..18].to_vec();
                b[10..18].copy_from_slice(&u64::MAX.to_le_bytes());
                b
            },
            "E-TRUNCATED",
        ),
        ("zeros", vec![0; 4096], "E-MAGIC"),
        (
            // Named as epoch 7 of a store, but holding epoch 1.
            "epoch-00000000000000000007.fence-00000000000000000001.cpb",
            bundle.clone(),
            "E-EPOCH",
        ),
    ];
    for (name, bytes, code) in &cases {
        let path = tmp.path().join(name);
        fs::write(&path, bytes).unwrap();
        for args in [
            vec!["verify"],
            vec!["inspect"],
            vec!["inspect", "--json", "--index"],
        ] {
            let o = bin().args(&args).arg(&path).output().unwrap();
            assert_clean_failure(&o, code);
        }
    }
    // Not files at all (changed: read as a store reads, so a directory is
    // E-STORE-NOT-FILE and a missing file E-STORE-IO, with the OS's reason).
    let o = bin().arg("verify").arg(tmp.path()).output().unwrap();
    assert_clean_failure(&o, "E-STORE-NOT-FILE");
    let o = bin()
        .args(["inspect", "/nonexistent/bundle.cpb"])
        .output()
        .unwrap();
    assert_clean_failure(&o, "E-STORE-IO");
    assert!(stderr(&o).contains("No such file"), "{}", stderr(&o));
    let o = bin().args(["log", "/nonexistent/dir"]).output().unwrap();
    assert_clean_failure(&o, "E-IO");
    // A bad key file.
    let key = tmp.path().join("bad.key");
    fs::write(&key, b"not a key").unwrap();
    let o = bin()
        .args(["verify", "--key-file"])
        .arg(&key)
        .arg(epoch_file(tmp.path(), 1))
        .output()
        .unwrap();
    assert_clean_failure(&o, "E-KEY");
}

#[test]
fn inspect_reports_header_sections_and_index_as_text_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(demo(tmp.path()).status.success());
    let file = epoch_file(tmp.path(), 1);

    let o = bin()
        .args(["inspect", "--index"])
        .arg(&file)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    for field in [
        "epoch     epoch#1",
        "fence     fence#1",
        "shard     shard#1",
        "schema    caelmor-reference v1",
        "digest    ",
        "structural index",
        "item#1 ",
        "  shape    fingerprint       record type",
        "  player   18743dca31a768d2  Player { id: u64, name: str, level: u16,",
        "  quest    9f02ed6faf33ea78  Quest { id: u64, owner: u64,",
    ] {
        assert!(out.contains(field), "{field}: {out}");
    }

    let o = bin()
        .args(["inspect", "--json", "--index"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success());
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(json["accepted"], true);
    assert_eq!(json["summary"]["epoch"], 1);
    assert_eq!(json["summary"]["fence"], 1);
    assert_eq!(json["summary"]["schema_name"], "caelmor-reference");
    assert_eq!(json["summary"]["sections"][3]["records"], 10);
    assert_eq!(
        json["summary"]["shapes"][0],
        "18743dca31a768d26c55a80ec47e267e8669881d09629ec988fec0b757853234",
        "the player record type's fingerprint"
    );
    assert_eq!(
        json["summary"]["total_bytes"],
        fs::metadata(&file).unwrap().len()
    );
    assert_eq!(json["index"]["players"].as_array().unwrap().len(), 3);
    assert_eq!(
        json["summary"]["digest"].as_str().unwrap().len(),
        64,
        "hex digest"
    );

    let bad = tmp.path().join("bad");
    fs::write(&bad, b"nope").unwrap();
    let o = bin()
        .args(["inspect", "--json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(json["accepted"], false);
    assert_eq!(json["code"], "E-MAGIC");
}

#[test]
fn keyed_demo_bundles_verify_only_with_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("shard.key");
    fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let mut args = vec!["demo", "--key-file", "shard.key"];
    args.extend(TINY);
    let o = run(&args, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let file = epoch_file(tmp.path(), 1);

    let o = bin().arg("verify").arg(&file).output().unwrap();
    assert_clean_failure(&o, "E-DIGEST");
    let o = bin()
        .args(["verify", "--key-file"])
        .arg(&key)
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
}

#[test]
fn log_notes_leftovers_and_an_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(demo(tmp.path()).status.success());
    let shard = tmp.path().join("caelmor-data/shard-1");
    fs::write(
        shard.join(".epoch-00000000000000000002.fence-00000000000000000001.cpb.fence-1.7-0.tmp"),
        b"half",
    )
    .unwrap();
    let o = run(&["log", "caelmor-data/shard-1"], tmp.path());
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("leftover temporary file"),
        "{}",
        stdout(&o)
    );

    let empty = tempfile::tempdir().unwrap();
    let o = bin().arg("log").arg(empty.path()).output().unwrap();
    assert!(o.status.success());
    assert!(stdout(&o).contains("no epochs"), "{}", stdout(&o));
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["verify", "--help"],
        vec!["inspect", "--help"],
        vec!["log", "--help"],
    ] {
        let o = bin().args(&args).output().unwrap();
        assert!(o.status.success(), "{args:?}");
        let out = stdout(&o);
        assert!(out.contains("Usage: caelmor-persist"), "{args:?}: {out}");
    }
    let o = bin().arg("verify").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "usage errors exit 2");
}

/// Issue 10 item 7: sizes that cannot be generated are usage errors, found
/// before the claim — exit 2, and nothing created, claimed or written. They
/// used to panic (capacity overflow) or abort (allocation failure) after
/// the claim, leaving the fence bumped and nothing committed.
#[test]
fn impossible_sizes_are_usage_errors_that_touch_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let impossible: [&[&str]; 4] = [
        &["--items", "18446744073709551615"],
        &["--players", "4294967296"],
        &[
            "--npcs",
            "9223372036854775807",
            "--quests",
            "9223372036854775807",
        ],
        &["--size", "large", "--zones", "1000000000000"],
    ];
    // A new shard: its directory is never created.
    for flags in impossible {
        let mut args = vec!["demo"];
        args.extend(flags);
        let o = run(&args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(flags[flags.len() - 1]),
            "{}",
            stderr(&o)
        );
        assert!(
            !tmp.path().join("caelmor-data").exists(),
            "{flags:?} created the store"
        );
    }
    // An existing shard: not claimed (its head is unchanged), not touched.
    assert!(demo(tmp.path()).status.success());
    let before = cli_support::snapshot(tmp.path());
    for flags in impossible {
        let mut args = vec!["demo"];
        args.extend(flags);
        let o = run(&args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert_eq!(cli_support::snapshot(tmp.path()), before, "{flags:?}");
    }
    // Other usage errors are refused by the parser, just as early.
    for args in [
        vec!["demo", "--size", "huge"],
        vec!["demo", "--items", "18446744073709551616"],
        vec!["demo", "--players", "-1"],
        vec!["log", "--schema", "no-version", "caelmor-data"],
    ] {
        let o = run(&args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(cli_support::snapshot(tmp.path()), before, "{args:?}");
    }
    // The next real run commits the next epoch: nothing was claimed.
    let o = demo(tmp.path());
    assert!(
        stdout(&o).contains("committed epoch#2 under fence#2"),
        "{}",
        stdout(&o)
    );
}

/// Issue 10 item 8: an error and its sources, printed once each. The store
/// directory's parent is a file: the OS's reason used to be printed twice
/// (in the message and again as its source).
#[test]
fn an_os_error_is_said_once() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("not-a-dir"), b"a file").unwrap();
    let mut args = vec!["demo", "--dir", "not-a-dir"];
    args.extend(TINY);
    let o = run(&args, tmp.path());
    assert_clean_failure(&o, "E-STORE-IO");
    let err = stderr(&o);
    assert_eq!(
        err,
        "caelmor-persist: E-STORE-IO: cannot create directory not-a-dir/shard-1: Not a directory (os error 20)\n"
    );
    assert_eq!(err.matches("Not a directory").count(), 1, "{err}");
    cli_support::assert_says_once(&err);

    // A missing file to inspect, a missing key file: once each too.
    for args in [
        vec!["inspect", "missing.cpb"],
        vec!["verify", "--key-file", "missing.key", "missing.cpb"],
    ] {
        let o = run(&args, tmp.path());
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.matches("No such file").count(), 1, "{err}");
        cli_support::assert_says_once(&err);
    }
}

/// Issue 10 item 6: a shard records its key's fingerprint at its first
/// claim; a plain demo on a keyed shard (or a keyed one on a plain shard,
/// or another key) is refused before anything is written.
#[test]
fn keys_never_mix_in_one_shard() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("a.key"), "ab".repeat(32)).unwrap();
    fs::write(tmp.path().join("b.key"), "cd".repeat(32)).unwrap();
    let keyed = |key: &str| {
        let mut args = vec!["demo", "--key-file", key];
        args.extend(TINY);
        run(&args, tmp.path())
    };
    let o = keyed("a.key");
    assert!(o.status.success(), "{}", stderr(&o));
    let before = cli_support::snapshot(tmp.path());
    for o in [demo(tmp.path()), keyed("b.key")] {
        assert_clean_failure(&o, "E-STORE-KEY");
        assert!(stderr(&o).starts_with("caelmor-persist: E-STORE-KEY: "));
        cli_support::assert_says_once(&stderr(&o));
        assert_eq!(cli_support::snapshot(tmp.path()), before, "nothing written");
    }
    let o = keyed("a.key");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("committed epoch#2"), "{}", stdout(&o));

    // The other way round: a plain shard refuses a keyed run.
    let plain = tempfile::tempdir().unwrap();
    assert!(demo(plain.path()).status.success());
    let before = cli_support::snapshot(plain.path());
    let mut args = vec!["demo", "--key-file"];
    let key = tmp.path().join("a.key");
    args.push(key.to_str().unwrap());
    args.extend(TINY);
    let o = run(&args, plain.path());
    assert_clean_failure(&o, "E-STORE-KEY");
    assert_eq!(cli_support::snapshot(plain.path()), before);

    // `log` says the same of a key given for a plain shard.
    let o = run(
        &[
            "log",
            "--key-file",
            key.to_str().unwrap(),
            "caelmor-data/shard-1",
        ],
        plain.path(),
    );
    assert_clean_failure(&o, "E-STORE-KEY: the shard is unkeyed, --key-file has ");
    assert!(!stdout(&o).contains("DAMAGED"), "{}", stdout(&o));

    // An unkeyed bundle under a keyed shard's epoch name: another key
    // (none), not damage.
    fs::copy(epoch_file(plain.path(), 1), epoch_file(tmp.path(), 1)).unwrap();
    let o = run(
        &["log", "--key-file", "a.key", "caelmor-data/shard-1"],
        tmp.path(),
    );
    assert_clean_failure(
        &o,
        "OTHER KEY E-STORE-KEY: the bundle is unkeyed, the shard is keyed with ",
    );
    assert!(!stdout(&o).contains("DAMAGED"), "{}", stdout(&o));
}

/// Issue 10 item 7: `log` names each problem for what it is — it used to
/// call wrong keys and other schemas DAMAGED, and list another shard's
/// bundle as ok — and fails when the latest cannot be loaded.
#[test]
fn log_names_each_problem_for_what_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("a.key"), "ab".repeat(32)).unwrap();
    fs::write(tmp.path().join("b.key"), "cd".repeat(32)).unwrap();
    let keyed = |shard: &str| {
        let mut args = vec!["demo", "--key-file", "a.key", "--shard", shard];
        args.extend(TINY);
        let o = run(&args, tmp.path());
        assert!(o.status.success(), "{}", stderr(&o));
    };
    keyed("1");
    keyed("1");
    keyed("2");
    let log = |args: &[&str]| {
        let mut all = vec!["log"];
        all.extend(args);
        all.push("caelmor-data/shard-1");
        run(&all, tmp.path())
    };
    let row = |o: &Output, epoch: u64| -> String {
        stdout(o)
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("epoch#{epoch} ")))
            .unwrap_or_else(|| panic!("no row for epoch#{epoch}: {}", stdout(o)))
            .to_owned()
    };

    // With its key: sound.
    let o = log(&["--key-file", "a.key"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains(", keyed "), "{}", stdout(&o));

    // Without it: the key is named, not damage.
    let o = log(&[]);
    assert_clean_failure(&o, "E-STORE-KEY");
    let out = stdout(&o);
    assert!(
        out.contains("E-STORE-KEY: the shard is keyed with ")
            && out.contains("it needs --key-file"),
        "{out}"
    );
    assert!(
        row(&o, 2).ends_with("OTHER KEY E-STORE-KEY: keyed, and no --key-file given"),
        "{out}"
    );
    assert!(!out.contains("DAMAGED"), "{out}");
    assert!(
        out.contains("the latest, epoch#2, cannot be loaded (E-STORE-KEY)"),
        "{out}"
    );

    // With another key: both fingerprints, so the operator can tell which
    // key the shard wants.
    let o = log(&["--key-file", "b.key"]);
    assert_clean_failure(&o, "E-STORE-KEY");
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains("E-STORE-KEY: the shard is keyed with"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(", --key-file has "), "{line}");
    assert!(
        row(&o, 2).ends_with("OTHER KEY E-STORE-KEY: keyed with another key than --key-file's"),
        "{out}"
    );
    assert!(!out.contains("DAMAGED"), "{out}");

    // Another schema than the one the server reads: named, and the latest
    // cannot be loaded by that server.
    let o = log(&["--key-file", "a.key", "--schema", "guild-hall:3"]);
    assert_clean_failure(&o, "E-STORE-SCHEMA");
    assert!(
        row(&o, 2).contains(
            r#"OTHER SCHEMA E-STORE-SCHEMA: written with schema "caelmor-reference" v1, --schema is "guild-hall" v3"#
        ),
        "{}",
        stdout(&o)
    );
    let o = log(&["--key-file", "a.key", "--schema", "caelmor-reference:1"]);
    assert!(o.status.success(), "{}", stdout(&o));

    // Another shard's bundle under epoch 1's name (same key, same epoch,
    // same fence: only its header tells).
    let own = epoch_file(tmp.path(), 1);
    let own_bytes = fs::read(&own).unwrap();
    let other = ShardDir::of(tmp.path().join("caelmor-data"), ShardId(2)).epoch_path(StoredEpoch {
        epoch: Epoch(1),
        fence: Fence(1),
    });
    fs::copy(&other, &own).unwrap();
    let o = log(&["--key-file", "a.key"]);
    assert_clean_failure(&o, "OTHER SHARD E-SHARD");
    assert!(row(&o, 1).contains("shard#2"), "{}", stdout(&o));
    assert!(row(&o, 2).ends_with(" ok"), "{}", stdout(&o));
    // The latest is sound: only the older epoch is reported.
    assert!(!stdout(&o).contains("cannot be loaded"), "{}", stdout(&o));

    // Damage: a flipped byte in an older epoch.
    let mut flipped = own_bytes.clone();
    flipped[60] ^= 0x40;
    fs::write(&own, &flipped).unwrap();
    let o = log(&["--key-file", "a.key"]);
    assert_clean_failure(&o, "DAMAGED E-STORE-DAMAGED: E-DIGEST");
    assert!(row(&o, 1).contains("DAMAGED E-STORE-DAMAGED: E-DIGEST"));

    // Unreadable: a directory where the bundle should be.
    fs::remove_file(&own).unwrap();
    fs::create_dir(&own).unwrap();
    let o = log(&["--key-file", "a.key"]);
    assert_clean_failure(&o, "UNREADABLE E-STORE-NOT-FILE");
    assert!(row(&o, 1).contains("is a directory, not a regular file"));
    fs::remove_dir(&own).unwrap();

    // The latest replaced by another bundle (here epoch 1's, a byte
    // longer) or with its digest changed: not the one committed.
    fs::write(&own, &own_bytes).unwrap();
    let latest = epoch_file(tmp.path(), 2);
    let latest_bytes = fs::read(&latest).unwrap();
    fs::copy(&own, &latest).unwrap();
    let o = log(&["--key-file", "a.key"]);
    assert_clean_failure(&o, "DAMAGED E-STORE-DAMAGED: its bundle holds");
    assert!(
        stdout(&o).contains("the latest, epoch#2, cannot be loaded (E-STORE-DAMAGED)"),
        "{}",
        stdout(&o)
    );
    let mut redigested = latest_bytes.clone();
    *redigested.last_mut().unwrap() ^= 1;
    fs::write(&latest, &redigested).unwrap();
    let o = log(&["--key-file", "a.key"]);
    assert_clean_failure(
        &o,
        "DAMAGED E-STORE-DAMAGED: its bundle is not the one committed",
    );
    fs::write(&latest, &latest_bytes).unwrap();
    let o = log(&["--key-file", "a.key"]);
    assert!(o.status.success(), "{}", stdout(&o));

    // No head at all, bundles left: which epoch is latest is lost, and
    // log says so once, and fails.
    let shard = tmp.path().join("caelmor-data/shard-1");
    for entry in fs::read_dir(&shard).unwrap().flatten() {
        if entry.file_name().to_str().unwrap().starts_with("head-") {
            fs::remove_file(entry.path()).unwrap();
        }
    }
    let o = log(&["--key-file", "a.key"]);
    assert_clean_failure(&o, "E-STORE-HEAD");
    let first = stdout(&o).lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with("E-STORE-HEAD: caelmor-data/shard-1: "),
        "{first}"
    );
    cli_support::assert_says_once(&first);
    assert!(
        stdout(&o).contains("(no head: whether it was committed cannot be told)"),
        "{}",
        stdout(&o)
    );
}
