//! `inspect --json --index` writes its JSON as it goes (issue 10 item 7):
//! its peak memory is the verification's (the bundle and its structural
//! index), not a JSON value tree and a string of the whole report on top
//! (1.8 GiB, 63 times the bundle, on the large shard).
//!
//! Measured on the real process: its `VmHWM` (peak resident set) is read
//! from /proc while it writes — it is alive then, blocked on the pipe
//! until the test reads on — and compared between a medium shard (2.7 MiB
//! bundle, 131,064 records) and a small one, so that what the process
//! costs anyway (code, allocator, buffers) cancels out.

#![cfg(all(feature = "cli", target_os = "linux"))]

mod cli_support;

use std::path::Path;
use std::time::Duration;

use cli_support::{Run, bin, first_bundle, run_in, run_timed};

/// A demo shard in `<dir>/caelmor-data/shard-1`; its bundle's length.
fn demo(dir: &Path, args: &[&str]) -> u64 {
    let mut all = vec!["demo"];
    all.extend(args);
    let run = run_in(dir, &all);
    assert_eq!(run.code(), Some(0), "{}", run.both());
    std::fs::metadata(first_bundle(dir, 1)).unwrap().len()
}

fn inspect_json(dir: &Path) -> Run {
    let run = run_timed(
        bin()
            .args(["inspect", "--json", "--index"])
            .arg(first_bundle(dir, 1)),
        Duration::from_secs(120),
    );
    assert_eq!(run.code(), Some(0), "{}", run.both());
    assert!(run.peak > 0, "the peak could not be read: {}", run.both());
    run
}

const MIB: f64 = (1 << 20) as f64;

#[test]
fn inspect_json_index_peaks_near_the_bundle_not_at_a_tree_of_it() {
    let small_dir = tempfile::tempdir().unwrap();
    // Enough records that even the small report outgrows a pipe (so the
    // process is alive when sampled).
    let small_len = demo(
        small_dir.path(),
        &[
            "--players",
            "50",
            "--zones",
            "4",
            "--npcs",
            "100",
            "--items",
            "2000",
            "--quests",
            "100",
        ],
    );
    let medium_dir = tempfile::tempdir().unwrap();
    let medium_len = demo(medium_dir.path(), &["--size", "medium"]);

    let small = inspect_json(small_dir.path());
    let medium = inspect_json(medium_dir.path());
    // Every record is in the report.
    let json: serde_json::Value = serde_json::from_str(&medium.stdout).expect("JSON");
    assert_eq!(json["index"]["items"].as_array().unwrap().len(), 100_000);
    drop(json);

    let extra = medium.peak.saturating_sub(small.peak) as f64;
    let bundle = (medium_len - small_len) as f64;
    let ratio = extra / bundle;
    eprintln!(
        "inspect --json --index: medium bundle {:.2} MiB, peak {:.1} MiB; small bundle {:.2} MiB, peak {:.1} MiB; \
         {:.2} MiB more for {:.2} MiB more bundle: {ratio:.2}x; report {:.1} MiB in {:?}",
        medium_len as f64 / MIB,
        medium.peak as f64 / MIB,
        small_len as f64 / MIB,
        small.peak as f64 / MIB,
        extra / MIB,
        bundle / MIB,
        medium.stdout.len() as f64 / MIB,
        medium.took,
    );
    // The bundle's bytes and its structural index in memory come to about
    // three times the bundle (the same as `verify` alone); the report
    // itself adds a buffer. A value tree of the report was 63 times.
    assert!(
        ratio < 3.5,
        "peak grows {ratio:.2}x the bundle (medium {} B peak for {medium_len} B, small {} B for {small_len} B)",
        medium.peak,
        small.peak
    );
}
