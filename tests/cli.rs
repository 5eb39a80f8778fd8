//! The `caelmor-persist` binary, driven as an operator would.

#![cfg(feature = "cli")]

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
        out.contains("2 epochs, current fence#2, latest epoch#2, head version 4"),
        "{out}"
    );
    assert!(
        out.lines().filter(|l| l.ends_with(" ok")).count() == 2,
        "{out}"
    );
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
    assert_clean_failure(&log, "DAMAGED E-DIGEST");
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
