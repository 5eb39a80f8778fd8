//! The tool with its standard output closed early, as `| head` closes it
//! (issue 10 item 7): no panic, no "failed printing to stdout", the work
//! done anyway, and the exit status the command's result gives — a reader
//! that stops reading does not turn a rejection into a success, nor a
//! success into a failure.

#![cfg(feature = "cli")]

mod cli_support;

use std::path::Path;

use caelmor_persist::reference::Reference;
use caelmor_persist::{Epoch, Fence, FileStore, ShardId};

use cli_support::{assert_no_panic, first_bundle, run_in, run_with_stdout_closed_after, tiny_demo};

/// A shard big enough that `inspect --index` prints far more than a pipe
/// holds (about 5,000 lines).
fn busy_demo(dir: &Path) {
    let run = run_in(
        dir,
        &[
            "demo",
            "--players",
            "50",
            "--zones",
            "4",
            "--npcs",
            "100",
            "--items",
            "5000",
            "--quests",
            "100",
        ],
    );
    assert_eq!(run.code(), Some(0), "{}", run.both());
}

/// The shard's latest epoch and fence, read back through a store.
fn latest(dir: &Path) -> Option<(Epoch, Fence)> {
    let store = FileStore::<Reference>::open(dir.join("caelmor-data"), ShardId(1)).expect("open");
    store
        .head()
        .expect("head")
        .and_then(|h| h.latest)
        .map(|l| (l.epoch, l.fence))
}

#[test]
fn demo_piped_to_head_still_commits_what_it_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    // `demo | head -1`: the reader goes away after the first line, before
    // the claim's line is printed. It used to panic there, after the claim
    // and before the commit: a fence bumped and nothing committed.
    let run = run_with_stdout_closed_after(tmp.path(), &["demo", "--size", "small"], 1);
    assert_no_panic(&run);
    assert_eq!(run.code(), Some(0), "{}", run.both());
    assert!(run.stderr.is_empty(), "{}", run.both());
    assert!(
        run.stdout.starts_with("caelmor-persist demo:"),
        "{}",
        run.both()
    );
    assert_eq!(latest(tmp.path()), Some((Epoch(1), Fence(1))));

    // Closed before it starts: the very first write fails; still committed.
    let run = run_with_stdout_closed_after(tmp.path(), &["demo", "--size", "small"], 0);
    assert_no_panic(&run);
    assert_eq!(run.code(), Some(0), "{}", run.both());
    assert!(run.stderr.is_empty(), "{}", run.both());
    assert_eq!(latest(tmp.path()), Some((Epoch(2), Fence(2))));

    // And the shard is sound: log says so.
    let log = run_in(tmp.path(), &["log", "caelmor-data/shard-1"]);
    assert_eq!(log.code(), Some(0), "{}", log.both());
}

#[test]
fn inspect_piped_to_head_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    busy_demo(tmp.path());
    let file = first_bundle(tmp.path(), 1);
    let file = file.to_str().unwrap();
    for args in [
        vec!["inspect", "--index", file],
        vec!["inspect", "--json", "--index", file],
    ] {
        for lines in [0, 3] {
            let run = run_with_stdout_closed_after(tmp.path(), &args, lines);
            assert_no_panic(&run);
            // The bundle was accepted: success, whoever read how much.
            assert_eq!(
                run.code(),
                Some(0),
                "{args:?} | head -{lines}: {}",
                run.both()
            );
            assert!(run.stderr.is_empty(), "{args:?}: {}", run.both());
            assert_eq!(run.stdout.lines().count(), lines, "{}", run.both());
        }
    }
}

#[test]
fn log_and_verify_piped_to_head_keep_their_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        assert_eq!(tiny_demo(tmp.path(), &[]).code(), Some(0));
    }
    let good = first_bundle(tmp.path(), 1);
    let good = good.to_str().unwrap();
    let bad = tmp.path().join("bad.cpb");
    std::fs::write(&bad, b"not a bundle").unwrap();
    let bad = bad.to_str().unwrap();

    let cases: [(Vec<&str>, i32); 5] = [
        (vec!["log", "caelmor-data/shard-1"], 0),
        (vec!["log", "caelmor-data"], 0),
        (vec!["verify", good, good], 0),
        // Rejected files still fail the run when nobody reads the report:
        // every file is checked regardless.
        (vec!["verify", good, bad], 1),
        (vec!["inspect", "--json", bad], 1),
    ];
    for (args, status) in &cases {
        for lines in [0, 1] {
            let run = run_with_stdout_closed_after(tmp.path(), args, lines);
            assert_no_panic(&run);
            assert_eq!(
                run.code(),
                Some(*status),
                "{args:?} | head -{lines}: {}",
                run.both()
            );
            assert!(run.stderr.is_empty(), "{args:?}: {}", run.both());
        }
    }

    // The damage log reports is still reported by the exit status.
    std::fs::write(first_bundle(tmp.path(), 1), b"damaged").unwrap();
    let run = run_with_stdout_closed_after(tmp.path(), &["log", "caelmor-data/shard-1"], 0);
    assert_no_panic(&run);
    assert_eq!(run.code(), Some(1), "{}", run.both());
}

#[test]
fn help_and_errors_survive_closed_streams() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [vec!["--help"], vec!["log", "--help"], vec!["--version"]] {
        let run = run_with_stdout_closed_after(tmp.path(), &args, 0);
        assert_no_panic(&run);
        assert_eq!(run.code(), Some(0), "{args:?}: {}", run.both());
    }
    // A failing command whose output nobody reads still says why on
    // standard error, and fails.
    let run = run_with_stdout_closed_after(tmp.path(), &["inspect", "/nonexistent.cpb"], 0);
    assert_no_panic(&run);
    assert_eq!(run.code(), Some(1), "{}", run.both());
    assert!(run.stderr.contains("E-STORE-IO"), "{}", run.both());
}

/// A write error other than a closed pipe (here /dev/full: no space left)
/// is a failure of the run, reported once on standard error after the
/// work is done: the demo still commits, and exits 1.
#[cfg(target_os = "linux")]
#[test]
fn output_to_a_full_device_fails_the_run_after_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let full = |args: &[&str]| {
        let o = cli_support::bin()
            .args(args)
            .current_dir(tmp.path())
            .stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .expect("the binary runs");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            err.matches("E-OUTPUT: cannot write to standard output: No space left on device")
                .count(),
            1,
            "{err}"
        );
    };
    full(&["demo", "--size", "small"]);
    assert_eq!(latest(tmp.path()), Some((Epoch(1), Fence(1))));
    let file = first_bundle(tmp.path(), 1);
    full(&["inspect", "--json", "--index", file.to_str().unwrap()]);
    full(&["log", "caelmor-data"]);
}
