//! Running the real `caelmor-persist` binary the way an operator's shell
//! does: with a deadline (a hostile file must not hang it), with standard
//! output closed early (`| head`), and with its peak memory measured.
//!
//! Each `tests/cli_*.rs` binary uses a subset of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_caelmor-persist"))
}

/// What a finished run left.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// From spawn to exit.
    pub took: Duration,
    /// The highest `VmHWM` seen while the child was alive and writing, in
    /// bytes (0 if it never could be read).
    pub peak: u64,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Both streams, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "status {:?}, {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status.code(),
            self.took,
            self.stdout,
            self.stderr
        )
    }

    /// Exit status 1, `code` on one of the streams, and no panic.
    pub fn assert_failed_with(&self, code: &str) {
        assert_eq!(self.code(), Some(1), "{}", self.both());
        assert!(
            self.stdout.contains(code) || self.stderr.contains(code),
            "expected {code}: {}",
            self.both()
        );
        assert_no_panic(self);
    }
}

/// Neither a panic nor a failed print on standard error.
pub fn assert_no_panic(run: &Run) {
    for bad in ["panicked", "failed printing", "RUST_BACKTRACE"] {
        assert!(!run.stderr.contains(bad), "{bad}: {}", run.both());
    }
    assert_ne!(run.code(), Some(101), "{}", run.both());
}

/// Bytes of `VmHWM` (peak resident set) of a live process; `None` once it
/// has exited (a zombie has no memory to report).
pub fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn drain(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Reads standard output in small chunks and samples the child's `VmHWM`
/// after each one. A child with more to write than a pipe holds blocks
/// until it is read, so it is still alive at each sample: the last sample
/// covers everything it did before its last ~64 KiB of output.
fn drain_sampling(
    mut from: impl Read + Send + 'static,
    pid: u32,
    peak: Arc<AtomicU64>,
) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match from.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    bytes.extend_from_slice(&chunk[..n]);
                    if let Some(hwm) = vm_hwm(pid) {
                        peak.fetch_max(hwm, Ordering::Relaxed);
                    }
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child` until `deadline`; kills it and fails the test if it
/// is still running then.
fn wait(
    mut child: Child,
    start: Instant,
    deadline: Duration,
    stdout: Option<JoinHandle<String>>,
    stderr: JoinHandle<String>,
    peak: &AtomicU64,
) -> Run {
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let out = stdout.map(|h| h.join().unwrap_or_default());
            panic!(
                "still running after {deadline:?}: killed\nstdout:\n{}\nstderr:\n{}",
                out.unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = start.elapsed();
    Run {
        status,
        stdout: stdout
            .map(|h| h.join().expect("stdout"))
            .unwrap_or_default(),
        stderr: stderr.join().expect("stderr"),
        took,
        peak: peak.load(Ordering::Relaxed),
    }
}

/// Runs `cmd` to its end (within `deadline`), capturing both streams and
/// sampling its peak memory.
pub fn run_timed(cmd: &mut Command, deadline: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let peak = Arc::new(AtomicU64::new(0));
    let stdout = drain_sampling(
        child.stdout.take().expect("stdout"),
        child.id(),
        peak.clone(),
    );
    let stderr = drain(child.stderr.take().expect("stderr"));
    wait(child, start, deadline, Some(stdout), stderr, &peak)
}

/// Runs `args` in `dir` within a minute.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_timed(bin().args(args).current_dir(dir), Duration::from_secs(60))
}

/// Runs `args` in `dir` with standard output a pipe whose reader reads
/// `lines` lines and then closes it, as `| head -<lines>` does (0: closed
/// before the child starts, so its very first write fails).
pub fn run_with_stdout_closed_after(dir: &Path, args: &[&str], lines: usize) -> Run {
    let (reader, writer) = std::io::pipe().expect("pipe");
    let reader = if lines == 0 {
        drop(reader);
        None
    } else {
        Some(reader)
    };
    let start = Instant::now();
    let mut child = {
        // The command holds a copy of the write end until it is dropped:
        // dropped here, so that only the child writes to the pipe.
        let mut cmd = bin();
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped());
        cmd.spawn().expect("the binary starts")
    };
    let stderr = drain(child.stderr.take().expect("stderr"));
    let mut head = String::new();
    if let Some(reader) = reader {
        let mut reader = BufReader::new(reader);
        for _ in 0..lines {
            if reader.read_line(&mut head).unwrap_or(0) == 0 {
                break;
            }
        }
        // Closing the read end: the child's next write fails with EPIPE.
    }
    let mut run = wait(
        child,
        start,
        Duration::from_secs(60),
        None,
        stderr,
        &AtomicU64::new(0),
    );
    run.stdout = head;
    run
}

/// Every entry under `dir` (recursively, not following links) with its
/// length and modification time: equal snapshots mean nothing was
/// created, removed or written.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut entries = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        let Ok(list) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in list.flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                todo.push(path.clone());
            }
            entries.push((path, meta.len(), meta.modified().ok()));
        }
    }
    entries.sort();
    entries
}

/// Asserts that a `: `-joined error line says no clause twice (issue 10
/// item 8: a message and its source both printing the same cause).
pub fn assert_says_once(line: &str) {
    let clauses: Vec<&str> = line.trim().split(": ").collect();
    for (i, clause) in clauses.iter().enumerate() {
        assert!(
            !clauses[i + 1..].contains(clause),
            "{clause:?} is said twice in {line:?}"
        );
    }
}

/// Runs a demo of a few records in `dir` (extra flags appended).
pub fn tiny_demo(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "demo",
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
    args.extend(extra);
    run_in(dir, &args)
}

/// The single bundle file of epoch 1 in `<dir>/caelmor-data/shard-<n>`.
pub fn first_bundle(dir: &Path, shard: u64) -> PathBuf {
    dir.join(format!(
        "caelmor-data/shard-{shard}/epoch-00000000000000000001.fence-00000000000000000001.cpb"
    ))
}

/// Makes a FIFO at `path` with the system's `mkfifo`.
pub fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A 1 GiB sparse file of zeros (no disk space, and no time to make).
pub fn sparse_gib(path: &Path) {
    let file = std::fs::File::create(path).expect("create");
    file.set_len(1 << 30).expect("set_len");
}
