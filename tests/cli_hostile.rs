//! The tool against files that are not what their names say (issue 10
//! item 4, the CLI part): a FIFO, `/dev/zero` behind a symbolic link, a
//! directory, a 1 GiB sparse file — as a bundle to `verify` and `inspect`,
//! as a key file, and in place of a shard's files under `log`. Each must be
//! answered promptly with a typed code: no hang, no read of a device, no
//! gigabyte in memory.
//!
//! Every run is a real process with a deadline (killed and failed if it
//! hangs) under a 256 MiB address-space limit (`ulimit -v`), so a run
//! that tried to hold the sparse file or read `/dev/zero` whole dies of
//! it instead of passing slowly.

#![cfg(all(feature = "cli", target_os = "linux"))]

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cli_support::{Run, first_bundle, mkfifo, run_timed, snapshot, sparse_gib, tiny_demo};

/// What a hostile file is, and the code each reader must answer with.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    Fifo,
    DevZero,
    Directory,
    Sparse,
}

const ALL: [Hostile; 4] = [
    Hostile::Fifo,
    Hostile::DevZero,
    Hostile::Directory,
    Hostile::Sparse,
];

impl Hostile {
    /// Puts one at `path`.
    fn plant(self, path: &Path) {
        match self {
            Hostile::Fifo => mkfifo(path),
            Hostile::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
            Hostile::Directory => std::fs::create_dir(path).unwrap(),
            Hostile::Sparse => sparse_gib(path),
        }
    }

    /// The code for it as a bundle (read as a store reads: never through
    /// a link; a file of zeros is not a bundle by its first bytes).
    fn as_bundle(self) -> &'static str {
        match self {
            Hostile::Fifo | Hostile::DevZero | Hostile::Directory => "E-STORE-NOT-FILE",
            Hostile::Sparse => "E-MAGIC",
        }
    }

    /// What the key file reader says of it (links are followed there: a
    /// key is often a link into a secrets mount; the target must be a
    /// small regular file).
    fn as_key(self) -> &'static str {
        match self {
            Hostile::Fifo => "is a FIFO, not a regular file",
            Hostile::DevZero => "is a device, not a regular file",
            Hostile::Directory => "is a directory, not a regular file",
            Hostile::Sparse => "holds 1073741824 bytes",
        }
    }
}

/// The longest a hostile file may take to be answered (the debug binary
/// answers each in milliseconds; the old reader hung on a FIFO forever and
/// took 2 s and 1 GiB for the sparse file).
const PROMPT: Duration = Duration::from_secs(5);

/// Runs the tool in `dir` with at most 256 MiB of address space, killed
/// after 20 s; asserts it answered within [`PROMPT`] without a panic.
fn hostile_run(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 262144 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_caelmor-persist"))
        .args(args)
        .current_dir(dir);
    let run = run_timed(&mut cmd, Duration::from_secs(20));
    cli_support::assert_no_panic(&run);
    assert!(
        run.took < PROMPT,
        "{args:?} took {:?}: {}",
        run.took,
        run.both()
    );
    eprintln!("{:>8.1?}  {}", run.took, args.join(" "));
    run
}

/// A shard of two epochs in `<dir>/caelmor-data/shard-1`.
fn two_epochs(dir: &Path) {
    for _ in 0..2 {
        let run = tiny_demo(dir, &[]);
        assert_eq!(run.code(), Some(0), "{}", run.both());
    }
}

fn epoch_file(dir: &Path, epoch: u64) -> PathBuf {
    dir.join(format!(
        "caelmor-data/shard-1/epoch-{epoch:020}.fence-{epoch:020}.cpb"
    ))
}

#[test]
fn hostile_files_given_as_bundles_are_refused_promptly() {
    let tmp = tempfile::tempdir().unwrap();
    two_epochs(tmp.path());
    for hostile in ALL {
        let path = tmp.path().join(format!("{hostile:?}.cpb"));
        hostile.plant(&path);
        let path = path.to_str().unwrap();
        let code = hostile.as_bundle();

        let run = hostile_run(tmp.path(), &["verify", path]);
        run.assert_failed_with(code);
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with("REJECTED") && l.contains(code)),
            "{hostile:?}: {}",
            run.both()
        );

        let run = hostile_run(tmp.path(), &["inspect", "--index", path]);
        run.assert_failed_with(code);
        assert!(run.stderr.contains(code), "{hostile:?}: {}", run.both());

        let run = hostile_run(tmp.path(), &["inspect", "--json", "--index", path]);
        assert_eq!(run.code(), Some(1), "{}", run.both());
        let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(json["accepted"], false);
        assert_eq!(json["code"], code, "{hostile:?}: {}", run.both());
    }
}

#[test]
fn hostile_key_files_are_refused_promptly_and_touch_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    two_epochs(tmp.path());
    let good = first_bundle(tmp.path(), 1);
    let good = good.to_str().unwrap();
    for hostile in ALL {
        let key = tmp.path().join(format!("{hostile:?}.key"));
        hostile.plant(&key);
        let key = key.to_str().unwrap();
        let before = snapshot(tmp.path());
        for args in [
            vec!["verify", "--key-file", key, good],
            vec!["inspect", "--key-file", key, good],
            vec!["log", "--key-file", key, "caelmor-data/shard-1"],
            vec!["demo", "--key-file", key, "--size", "small"],
            // A new shard: its directory must not be created either.
            vec!["demo", "--key-file", key, "--dir", "elsewhere"],
        ] {
            let run = hostile_run(tmp.path(), &args);
            run.assert_failed_with("E-KEY");
            assert!(
                run.stderr.contains(hostile.as_key()),
                "{hostile:?} {args:?}: {}",
                run.both()
            );
            assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.both());
        }
        // Nothing claimed, created or written.
        assert_eq!(snapshot(tmp.path()), before, "{hostile:?}");
    }
}

#[test]
fn hostile_files_in_a_shard_are_named_by_log_promptly() {
    for hostile in ALL {
        for epoch in [2, 1] {
            let tmp = tempfile::tempdir().unwrap();
            two_epochs(tmp.path());
            let file = epoch_file(tmp.path(), epoch);
            std::fs::remove_file(&file).unwrap();
            hostile.plant(&file);
            let run = hostile_run(tmp.path(), &["log", "caelmor-data/shard-1"]);
            assert_eq!(run.code(), Some(1), "{hostile:?} {epoch}: {}", run.both());
            let row = run
                .stdout
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("epoch#{epoch} ")))
                .unwrap_or_else(|| panic!("a row for epoch#{epoch}: {}", run.both()));
            let expected = match hostile {
                Hostile::Sparse => "DAMAGED E-STORE-DAMAGED: E-MAGIC",
                _ => "UNREADABLE E-STORE-NOT-FILE",
            };
            assert!(row.contains(expected), "{hostile:?}: {row}\n{}", run.both());
            // The other epoch is still checked, and sound.
            let other = 3 - epoch;
            assert!(
                run.stdout
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("epoch#{other} "))
                        && l.ends_with(" ok")),
                "{}",
                run.both()
            );
            if epoch == 2 {
                assert!(
                    run.stdout.contains("the latest, epoch#2, cannot be loaded"),
                    "{}",
                    run.both()
                );
            }
        }
    }
}

#[test]
fn a_hostile_head_is_named_by_log_promptly() {
    for hostile in ALL {
        let tmp = tempfile::tempdir().unwrap();
        two_epochs(tmp.path());
        let shard = tmp.path().join("caelmor-data/shard-1");
        let head = std::fs::read_dir(&shard)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("head-")
            })
            .max()
            .unwrap();
        std::fs::remove_file(&head).unwrap();
        hostile.plant(&head);
        let run = hostile_run(tmp.path(), &["log", "caelmor-data"]);
        let code = match hostile {
            Hostile::Sparse => "E-STORE-TOO-LARGE",
            _ => "E-STORE-NOT-FILE",
        };
        run.assert_failed_with(code);
        assert!(
            run.stdout
                .contains("whether it was committed cannot be told"),
            "{}",
            run.both()
        );
    }
}
