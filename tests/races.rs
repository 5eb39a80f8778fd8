//! Real processes racing on one shard with the OS lock bypassed (issue 10,
//! item 2), and real processes killed with SIGKILL in the middle of their
//! commits.
//!
//! The writers are this test binary run again as a helper process
//! ([`race_writer_process`], selected by an environment variable): each
//! reads commands on stdin (claim, seal, commit, …) and reports on stdout
//! what the store told it, with the BLAKE3 of every bundle it committed. A
//! writer gets past the lock the way an attacker (or a file system whose
//! locks do not reach other hosts) does: it deletes the `lock` file before
//! it claims.
//!
//! Everything is checked from the outside, after every round: the head
//! records and bundle files on disk, read by hand here, and what the
//! processes reported.

#![cfg(feature = "reference")]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    Epoch, Fence, FileStore, Restore, Save, Sealed, ServerAuthority, ShardDir, ShardId,
    StoreConfig, StoreError, StoredEpoch,
};

const SHARD: ShardId = ShardId(1);
/// Set (to the store root) in a helper process.
const ROOT_ENV: &str = "CAELMOR_RACE_WRITER_ROOT";
/// Every epoch is kept, so that every acknowledged commit can be found.
const RETAIN: usize = 1 << 20;

/// The world a writer saves at `epoch` under `fence`: each differs, so the
/// bytes tell who wrote them.
fn world(epoch: Epoch, fence: Fence) -> Shard {
    ShardSpec {
        players: 3,
        zones: 2,
        npcs: 4,
        items: 12,
        quests: 3,
    }
    .generate(epoch.get() * 1_000_003 + fence.get())
}

fn seal(authority: &ServerAuthority<Reference>) -> Sealed<Reference> {
    let w = world(authority.next_epoch(), authority.fence());
    Save::begin(authority)
        .players(&w.players)
        .and_then(|s| s.world(&w.zones))
        .and_then(|s| s.npcs(&w.npcs))
        .and_then(|s| s.items(&w.items))
        .and_then(|s| s.quests(&w.quests))
        .expect("the generated world is consistent")
        .seal()
}

fn open(root: &Path) -> Result<FileStore<Reference>, StoreError> {
    FileStore::open_with(root, SHARD, StoreConfig::new().retain(RETAIN))
}

fn hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

// ---------------------------------------------------------------------------
// The helper process.

/// Whether the lock file is held by someone right now: a claim refused
/// with `E-STORE-CLAIMED` is spurious unless it is.
fn lock_held(root: &Path) -> &'static str {
    let path = ShardDir::of(root, SHARD).lock_path();
    match fs::File::open(&path).map(|f| f.try_lock()) {
        Ok(Err(fs::TryLockError::WouldBlock)) => "held",
        _ => "free",
    }
}

/// The helper: one writer process. Not a test of its own (ignored); the
/// tests below start it with `--ignored --exact race_writer_process`.
#[test]
#[ignore = "a helper process of the race tests, run by them"]
fn race_writer_process() {
    let Some(root) = std::env::var_os(ROOT_ENV).map(PathBuf::from) else {
        return;
    };
    let mut store: Option<FileStore<Reference>> = None;
    let mut authority: Option<ServerAuthority<Reference>> = None;
    let mut pending: Option<Sealed<Reference>> = None;
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "RACE {line}").expect("stdout");
        out.flush().expect("stdout");
    };
    let claim = |bypass: bool,
                 store: &mut Option<FileStore<Reference>>,
                 authority: &mut Option<ServerAuthority<Reference>>|
     -> bool {
        // The previous store goes first: its lock with it.
        *store = None;
        *authority = None;
        if bypass {
            match fs::remove_file(ShardDir::of(&root, SHARD).lock_path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("cannot delete the lock file: {e}"),
            }
        }
        let mut s = open(&root).expect("open");
        match s.claim() {
            Ok(a) => {
                say(format!(
                    "claimed {} {}",
                    a.fence().get(),
                    a.next_epoch().get()
                ));
                *authority = Some(a);
                *store = Some(s);
                true
            }
            Err(e) => {
                let held = if matches!(e, StoreError::Claimed { .. }) {
                    lock_held(&root)
                } else {
                    "-"
                };
                say(format!("claim-failed {} {held}", e.code()));
                // Keep the store: a store whose lock was taken but whose
                // compare-and-swap lost keeps the lock, as a server would.
                *store = Some(s);
                false
            }
        }
    };
    let commit = |store: &mut Option<FileStore<Reference>>,
                  authority: &mut Option<ServerAuthority<Reference>>,
                  sealed: Sealed<Reference>| {
        let epoch = sealed.epoch().get();
        let fence = sealed.fence().get();
        let digest = hex(sealed.bytes());
        let (Some(s), Some(a)) = (store.as_mut(), authority.as_mut()) else {
            panic!("commit without a claim");
        };
        match s.commit(sealed, a) {
            Ok(c) => {
                assert_eq!((c.epoch.get(), c.fence.get()), (epoch, fence));
                say(format!("committed {epoch} {fence} {digest}"));
            }
            Err(e) => say(format!("commit-failed {} {epoch} {fence}", e.code())),
        }
    };
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["claim"] => {
                claim(true, &mut store, &mut authority);
            }
            ["claim-locked"] => {
                claim(false, &mut store, &mut authority);
            }
            ["seal"] => {
                let sealed = seal(authority.as_ref().expect("claimed"));
                say(format!(
                    "sealed {} {}",
                    sealed.epoch().get(),
                    sealed.fence().get()
                ));
                pending = Some(sealed);
            }
            ["commit"] => {
                let sealed = pending.take().expect("sealed");
                commit(&mut store, &mut authority, sealed);
            }
            ["seal-commit"] => {
                let sealed = seal(authority.as_ref().expect("claimed"));
                commit(&mut store, &mut authority, sealed);
            }
            ["claim-commit"] => {
                if claim(true, &mut store, &mut authority) {
                    let sealed = seal(authority.as_ref().expect("claimed"));
                    commit(&mut store, &mut authority, sealed);
                }
            }
            // Claims (the previous writer was killed: nothing to bypass),
            // then commits until killed.
            ["loop"] => {
                if claim(false, &mut store, &mut authority) {
                    loop {
                        let sealed = seal(authority.as_ref().expect("claimed"));
                        commit(&mut store, &mut authority, sealed);
                    }
                }
            }
            ["exit"] => break,
            other => panic!("unknown command {other:?}"),
        }
    }
    say("bye".to_owned());
    // No test harness summary after the protocol.
    std::process::exit(0);
}

// ---------------------------------------------------------------------------
// The orchestrator's side.

/// A running writer process.
struct Writer {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
}

impl Writer {
    fn spawn(root: &Path) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "--ignored",
                "--exact",
                "race_writer_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ROOT_ENV, root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn a writer");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (send, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The harness prints "test race_writer_process ... " with
                // no newline before the first reply.
                if let Some((_, reply)) = line.split_once("RACE ")
                    && send.send(reply.to_owned()).is_err()
                {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            replies,
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("the writer is alive");
        self.stdin.flush().expect("the writer is alive");
    }

    fn recv(&self) -> Reply {
        match self.replies.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => Reply::parse(&line),
            Err(e) => panic!("writer {} did not answer: {e:?}", self.pid()),
        }
    }

    fn exit(mut self) {
        self.send("exit");
        assert_eq!(self.recv(), Reply::Bye);
        self.child.wait().expect("wait");
    }
}

/// What a writer reported.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reply {
    Claimed {
        fence: u64,
        next: u64,
    },
    ClaimFailed {
        code: String,
        lock: String,
    },
    Sealed {
        epoch: u64,
        fence: u64,
    },
    Committed(Ack),
    CommitFailed {
        code: String,
        epoch: u64,
        fence: u64,
    },
    Bye,
}

/// An acknowledged commit: what the writer was told it committed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ack {
    epoch: u64,
    fence: u64,
    digest: String,
}

impl Reply {
    fn parse(line: &str) -> Self {
        let w: Vec<&str> = line.split_whitespace().collect();
        let n = |i: usize| -> u64 { w[i].parse().expect("a number") };
        match w[0] {
            "claimed" => Reply::Claimed {
                fence: n(1),
                next: n(2),
            },
            "claim-failed" => Reply::ClaimFailed {
                code: w[1].to_owned(),
                lock: w[2].to_owned(),
            },
            "sealed" => Reply::Sealed {
                epoch: n(1),
                fence: n(2),
            },
            "committed" => Reply::Committed(Ack {
                epoch: n(1),
                fence: n(2),
                digest: w[3].to_owned(),
            }),
            "commit-failed" => Reply::CommitFailed {
                code: w[1].to_owned(),
                epoch: n(2),
                fence: n(3),
            },
            "bye" => Reply::Bye,
            _ => panic!("unknown reply {line:?}"),
        }
    }
}

/// A small deterministic generator for delays and choices.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn signal(writer: &Writer, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &writer.pid()])
        .status()
        .expect("kill(1)");
    assert!(status.success(), "kill {sig}");
}

// ---------------------------------------------------------------------------
// The shard as it is on disk, read by hand.

/// One head file, read by hand from its text (the format is documented in
/// `src/store/file/head.rs`).
#[derive(Debug)]
struct HeadFile {
    version: u64,
    fence: u64,
    latest: Option<(u64, u64)>,
    previous: Option<String>,
    hash: String,
}

fn read_heads(dir: &ShardDir) -> Vec<HeadFile> {
    let mut heads = Vec::new();
    for version in dir.head_versions().expect("list heads") {
        let bytes = fs::read(dir.head_path(version)).expect("read a head");
        let text = String::from_utf8(bytes.clone()).expect("text");
        let field = |name: &str| -> &str {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|l| l.strip_prefix(' ')))
                .unwrap_or_else(|| panic!("head {version} has no {name} line"))
        };
        let latest = match field("latest") {
            "none" => None,
            l => {
                let w: Vec<&str> = l.split(' ').collect();
                Some((w[0].parse().expect("epoch"), w[2].parse().expect("fence")))
            }
        };
        heads.push(HeadFile {
            version: field("version").parse().expect("version"),
            fence: field("fence").parse().expect("fence"),
            latest,
            previous: match field("previous") {
                "none" => None,
                p => Some(p.to_owned()),
            },
            hash: hex(&bytes),
        });
    }
    heads
}

/// The figures of a race run.
#[derive(Debug, Default)]
struct Tally {
    rounds: usize,
    claims_ok: usize,
    /// Claim failures by code and whether the lock was held at the time.
    claim_failures: BTreeMap<String, usize>,
    spurious_claim_failures: usize,
    commits_ok: usize,
    commit_failures: BTreeMap<String, usize>,
    spurious_commit_failures: usize,
    stale_landed: usize,
    acknowledged_lost: usize,
    landed_unacknowledged: usize,
    stops: usize,
}

/// Everything the processes reported so far.
#[derive(Default)]
struct Ledger {
    /// Acknowledged claims: fence, and when the acknowledgement arrived.
    claims: Vec<(u64, Instant)>,
    acks: Vec<Ack>,
    /// Commits reported as failed: (epoch, fence).
    failed: Vec<(u64, u64)>,
}

/// Checks the shard on disk against everything acknowledged so far.
fn check_history(root: &Path, ledger: &Ledger, tally: &mut Tally) {
    let dir = ShardDir::of(root, SHARD);
    let heads = read_heads(&dir);
    let newest = heads.last().expect("a head");
    // The head chain: consecutive versions, each built on the one before,
    // fences never going back, the latest epoch never going back.
    for pair in heads.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(b.version, a.version + 1, "head versions are consecutive");
        assert_eq!(
            b.previous.as_deref(),
            Some(a.hash.as_str()),
            "head {} is built on head {}",
            b.version,
            a.version
        );
        assert!(b.fence >= a.fence, "fences never go back: {a:?} then {b:?}");
        assert!(
            b.latest.map(|l| l.0) >= a.latest.map(|l| l.0),
            "the latest epoch never goes back"
        );
        if b.latest != a.latest {
            let (epoch, fence) = b.latest.expect("a commit");
            assert_eq!(
                Some(epoch),
                a.latest.map_or(Some(1), |l| l.0.checked_add(1))
            );
            assert_eq!(fence, b.fence, "a commit is made under the current fence");
            assert_eq!(b.fence, a.fence, "a commit does not change the fence");
        }
    }
    // Every fence a claim was told it holds is unique.
    let fences: BTreeSet<u64> = ledger.claims.iter().map(|c| c.0).collect();
    assert_eq!(
        fences.len(),
        ledger.claims.len(),
        "two claims got one fence"
    );
    assert!(fences.last().copied().unwrap_or(0) <= newest.fence);
    // Every commit creates a head naming it, and at most 8 heads are
    // created per round while 64 are kept: every commit's head is seen here
    // at least once. Its epoch must have been acknowledged to exactly one
    // writer, under the fence the head names.
    let mut by_epoch: BTreeMap<u64, Vec<&Ack>> = BTreeMap::new();
    for ack in &ledger.acks {
        by_epoch.entry(ack.epoch).or_default().push(ack);
    }
    let mut lost = 0;
    let mut unacknowledged = 0;
    for head in &heads {
        let Some((epoch, fence)) = head.latest else {
            continue;
        };
        match by_epoch.get(&epoch).map(Vec::as_slice) {
            None | Some([]) => unacknowledged += 1,
            Some([ack]) if ack.fence == fence => {}
            // Told to another writer, or to several.
            Some(acks) => lost += acks.iter().filter(|a| a.fence != fence).count(),
        }
        if ledger.failed.contains(&(epoch, fence)) {
            // Landed, but its writer was told it failed.
            unacknowledged += 1;
        }
    }
    // The acknowledged commits: one per epoch from 1 to the latest, fences
    // non-decreasing, each one's bytes on disk as reported.
    let latest = newest.latest.map_or(0, |l| l.0);
    let mut previous_fence = 0;
    for epoch in 1..=latest {
        let Some(acks) = by_epoch.get(&epoch) else {
            unacknowledged += 1;
            continue;
        };
        let ack = acks[0];
        assert!(
            ack.fence >= previous_fence,
            "fences are monotonic over epochs"
        );
        previous_fence = ack.fence;
        let path = dir.epoch_path(StoredEpoch {
            epoch: Epoch(epoch),
            fence: Fence(ack.fence),
        });
        match fs::read(&path) {
            Ok(bytes) if hex(&bytes) == ack.digest => {}
            _ => lost += 1,
        }
    }
    lost += ledger.acks.iter().filter(|a| a.epoch > latest).count();
    tally.acknowledged_lost = lost;
    tally.landed_unacknowledged = unacknowledged;
}

/// Notes a claim's reply; returns the fence it was told it holds.
fn note_claim(reply: &Reply, ledger: &mut Ledger, tally: &mut Tally) -> Option<u64> {
    match reply {
        Reply::Claimed { fence, .. } => {
            tally.claims_ok += 1;
            ledger.claims.push((*fence, Instant::now()));
            Some(*fence)
        }
        Reply::ClaimFailed { code, lock } => {
            *tally
                .claim_failures
                .entry(format!("{code} (lock {lock})"))
                .or_default() += 1;
            // Refused while the lock really was held, or after losing the
            // compare-and-swap again and again to other writers.
            let legitimate =
                (code == "E-STORE-CLAIMED" && lock == "held") || code == "E-STORE-CONTENDED";
            if !legitimate {
                eprintln!("spurious claim failure: {reply:?}");
                tally.spurious_claim_failures += 1;
            }
            None
        }
        other => panic!("not a claim reply: {other:?}"),
    }
}

/// Notes a commit's reply, the commit having been asked for at `sent`.
/// Every claim acknowledged by then must be in the ledger.
fn note_commit(reply: Reply, sent: Instant, ledger: &mut Ledger, tally: &mut Tally) {
    match reply {
        Reply::Committed(ack) => {
            tally.commits_ok += 1;
            // Stale: a claim with a newer fence had been acknowledged
            // before this commit was even asked for.
            if ledger
                .claims
                .iter()
                .any(|&(fence, at)| fence > ack.fence && at < sent)
            {
                eprintln!("stale bundle landed: {ack:?}");
                tally.stale_landed += 1;
            }
            ledger.acks.push(ack);
        }
        Reply::CommitFailed { code, epoch, fence } => {
            // A commit may fail only because its writer was superseded.
            let superseded = ledger.claims.iter().any(|&(f, _)| f > fence);
            if code != "E-STORE-FENCED" || !superseded {
                eprintln!("spurious commit failure: {code} {epoch} {fence}");
                tally.spurious_commit_failures += 1;
            }
            *tally.commit_failures.entry(code).or_default() += 1;
            ledger.failed.push((epoch, fence));
        }
        other => panic!("not a commit reply: {other:?}"),
    }
}

fn scratch() -> tempfile::TempDir {
    // A real disk: fsyncs take real time, so stalls and kills land inside
    // commits.
    tempfile::tempdir().expect("tempdir")
}

// ---------------------------------------------------------------------------
// The tests.

const ROUNDS: usize = 120;

/// A stalled writer A (claimed, sealed, waiting), a new claimant B that
/// claims and commits, then A resumes and commits while B commits again and
/// two more writers claim and commit at the same moment — one of them
/// sometimes frozen with SIGSTOP in the middle and thawed with SIGCONT;
/// then a claim that does not bypass the lock, which must be refused while
/// the lock is held. 120 rounds; after each, the shard is checked from the
/// outside.
#[test]
fn racing_writers_with_the_lock_bypassed() {
    let started = Instant::now();
    let tmp = scratch();
    let root = tmp.path().join("store");
    let mut writers: Vec<Writer> = (0..4).map(|_| Writer::spawn(&root)).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ledger = Ledger::default();
    let mut tally = Tally::default();

    for round in 0..ROUNDS {
        let n = writers.len();
        let [a, b, c, d] = [round % n, (round + 1) % n, (round + 2) % n, (round + 3) % n];
        // A claims and seals, then stalls.
        writers[a].send("claim");
        let reply = writers[a].recv();
        let a_fence = note_claim(&reply, &mut ledger, &mut tally).expect("nobody else is claiming");
        writers[a].send("seal");
        let Reply::Sealed { fence, .. } = writers[a].recv() else {
            panic!("seal")
        };
        assert_eq!(fence, a_fence);
        // B claims past the lock and commits.
        writers[b].send("claim");
        let reply = writers[b].recv();
        let b_fence = note_claim(&reply, &mut ledger, &mut tally).expect("nobody else is claiming");
        assert!(b_fence > a_fence);
        writers[b].send("seal-commit");
        let sent = Instant::now();
        let reply = writers[b].recv();
        assert!(
            matches!(reply, Reply::Committed(_)),
            "B is current: {reply:?}"
        );
        note_commit(reply, sent, &mut ledger, &mut tally);
        // A resumes; B commits again; C and D claim and commit; all at once.
        let sent = Instant::now();
        writers[a].send("commit");
        writers[b].send("seal-commit");
        writers[c].send("claim-commit");
        writers[d].send("claim-commit");
        if rng.below(2) == 0 {
            let frozen = [b, c, d][rng.below(3) as usize];
            std::thread::sleep(Duration::from_micros(rng.below(3000)));
            signal(&writers[frozen], "-STOP");
            std::thread::sleep(Duration::from_millis(5 + rng.below(15)));
            signal(&writers[frozen], "-CONT");
            tally.stops += 1;
        }
        // Every reply first (the claims before the commits, so that a
        // commit refused because of C's or D's claim is seen as
        // superseded).
        let a_reply = writers[a].recv();
        assert!(
            matches!(&a_reply, Reply::CommitFailed { code, .. } if code == "E-STORE-FENCED"),
            "round {round}: the stalled writer was superseded: {a_reply:?}"
        );
        let mut commits = vec![a_reply, writers[b].recv()];
        for w in [c, d] {
            let reply = writers[w].recv();
            if note_claim(&reply, &mut ledger, &mut tally).is_some() {
                commits.push(writers[w].recv());
            }
        }
        for reply in commits {
            note_commit(reply, sent, &mut ledger, &mut tally);
        }
        // Without bypassing the lock, a claim is refused while it is held.
        writers[a].send("claim-locked");
        let reply = writers[a].recv();
        assert!(
            matches!(&reply, Reply::ClaimFailed { code, lock } if code == "E-STORE-CLAIMED" && lock == "held"),
            "round {round}: {reply:?}"
        );
        note_claim(&reply, &mut ledger, &mut tally);
        tally.rounds += 1;
        check_history(&root, &ledger, &mut tally);
        assert_eq!(tally.stale_landed, 0, "round {round}: {tally:?}");
        assert_eq!(tally.acknowledged_lost, 0, "round {round}: {tally:?}");
        assert_eq!(tally.landed_unacknowledged, 0, "round {round}: {tally:?}");
        assert_eq!(tally.spurious_claim_failures, 0, "round {round}: {tally:?}");
        assert_eq!(
            tally.spurious_commit_failures, 0,
            "round {round}: {tally:?}"
        );
    }
    for w in writers {
        w.exit();
    }
    // And through the library: the latest loads, verified, and every
    // acknowledged epoch reads back as reported.
    let store = open(&root).expect("open");
    let latest = store.load_latest().expect("load").expect("committed");
    assert_eq!(
        Some(latest.epoch().get()),
        ledger.acks.iter().map(|a| a.epoch).max()
    );
    for ack in &ledger.acks {
        let bundle = store
            .load_epoch(Epoch(ack.epoch))
            .expect("verifies")
            .expect("kept");
        assert_eq!(hex(bundle.bytes()), ack.digest, "{ack:?}");
    }
    println!(
        "races: {} rounds in {:.1} s, {} claims acknowledged, claim failures {:?} ({} spurious), \
         {} commits acknowledged, commit failures {:?} ({} spurious), {} writers frozen mid-round; \
         {} stale bundles landed, {} acknowledged commits lost, {} landed unacknowledged",
        tally.rounds,
        started.elapsed().as_secs_f64(),
        tally.claims_ok,
        tally.claim_failures,
        tally.spurious_claim_failures,
        tally.commits_ok,
        tally.commit_failures,
        tally.spurious_commit_failures,
        tally.stops,
        tally.stale_landed,
        tally.acknowledged_lost,
        tally.landed_unacknowledged,
    );
    assert_eq!(tally.rounds, ROUNDS, "every round ran its checks");
    // Each round: A's stale commit and the refused locked claim at least.
    assert!(
        tally
            .commit_failures
            .get("E-STORE-FENCED")
            .copied()
            .unwrap_or(0)
            >= ROUNDS
    );
}

const KILLS: usize = 60;

/// A writer committing epoch after epoch is killed with SIGKILL at a random
/// moment, 60 times. Each time the shard loads the last acknowledged epoch
/// or the one after it (whose commit the kill interrupted), whole: restored
/// record for record through the restore chain; every acknowledged epoch is
/// still there; and a new claimant continues with the next epoch.
#[test]
fn kill_9_during_commits() {
    let started = Instant::now();
    let tmp = scratch();
    let root = tmp.path().join("store");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut acks: Vec<Ack> = Vec::new();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut moments: BTreeMap<&str, usize> = BTreeMap::new();
    for kill in 0..KILLS {
        let mut writer = Writer::spawn(&root);
        writer.send("loop");
        let Reply::Claimed { .. } = writer.recv() else {
            panic!("the killed writer's lock died with it")
        };
        // Into the commit loop, then a random moment.
        let Reply::Committed(first) = writer.recv() else {
            panic!("commit")
        };
        acks.push(first);
        std::thread::sleep(Duration::from_micros(rng.below(20_000)));
        writer.child.kill().expect("SIGKILL");
        writer.child.wait().expect("wait");
        while let Ok(line) = writer.replies.recv_timeout(Duration::from_millis(200)) {
            match Reply::parse(&line) {
                Reply::Committed(ack) => acks.push(ack),
                other => panic!("{other:?}"),
            }
        }
        let acked = acks.iter().map(|a| a.epoch).max().expect("one at least");
        // From the outside: the latest is the last acknowledged or the next.
        let mut store = open(&root).expect("open");
        // Where the kill landed, as far as the files tell.
        let dir = store.dir();
        if !dir.temporaries().expect("list").is_empty() {
            *moments.entry("writing a temporary").or_default() += 1;
        }
        if dir.stored().expect("list").len() > store.epochs().expect("list").len() {
            *moments
                .entry("between publishing a bundle and its head")
                .or_default() += 1;
        }
        let loaded = store
            .load_latest()
            .unwrap_or_else(|e| panic!("kill {kill}: the latest loads whole: {e}"))
            .expect("committed");
        let latest = loaded.epoch().get();
        assert!(
            latest == acked || latest == acked + 1,
            "kill {kill}: latest {latest}, last acknowledged {acked}"
        );
        *outcomes
            .entry(if latest == acked {
                "the last acknowledged epoch"
            } else {
                "the interrupted commit's epoch, landed"
            })
            .or_default() += 1;
        // Every acknowledged epoch, byte for byte (one writer at a time:
        // the file named by its epoch and fence is the committed one; the
        // library's own reading of them is checked once, at the end).
        for ack in &acks {
            let path = store.dir().epoch_path(StoredEpoch {
                epoch: Epoch(ack.epoch),
                fence: Fence(ack.fence),
            });
            let bytes =
                fs::read(&path).unwrap_or_else(|e| panic!("kill {kill}: {ack:?} lost: {e}"));
            assert_eq!(hex(&bytes), ack.digest, "kill {kill}: {ack:?} lost");
        }
        // A new claimant restores it whole and continues.
        drop(loaded);
        let authority = store.claim().expect("the lock died with the writer");
        let fence = store
            .head()
            .expect("head")
            .and_then(|h| h.latest)
            .expect("latest")
            .fence;
        let loaded = store.load_latest().expect("load").expect("committed");
        let active = Restore::open(loaded, &authority)
            .expect("open")
            .players()
            .world()
            .npcs()
            .items()
            .quests()
            .activate(&authority)
            .expect("activate");
        let expected = world(Epoch(latest), fence);
        assert!(
            active.players == expected.players
                && active.zones == expected.zones
                && active.npcs == expected.npcs
                && active.items == expected.items
                && active.quests == expected.quests,
            "kill {kill}: epoch {latest} restores record for record"
        );
        let sealed = seal(&authority);
        let digest = hex(sealed.bytes());
        let committed = store
            .commit(sealed, &authority)
            .expect("the new claimant continues");
        assert_eq!(committed.epoch.get(), latest + 1);
        acks.push(Ack {
            epoch: committed.epoch.get(),
            fence: committed.fence.get(),
            digest,
        });
    }
    assert!(
        !moments.is_empty(),
        "some kills land inside a commit: {outcomes:?}"
    );
    let store = open(&root).expect("open");
    let kept: Vec<u64> = store
        .epochs()
        .expect("list")
        .iter()
        .map(|e| e.get())
        .collect();
    let last = acks.iter().map(|a| a.epoch).max().expect("acks");
    assert_eq!(
        kept,
        (1..=last).collect::<Vec<_>>(),
        "epochs are contiguous"
    );
    for ack in &acks {
        let bundle = store
            .load_epoch(Epoch(ack.epoch))
            .expect("verifies")
            .expect("kept");
        assert_eq!(hex(bundle.bytes()), ack.digest, "{ack:?}");
    }
    println!(
        "kill -9: {KILLS} writers killed during commits in {:.1} s; after each the shard held {outcomes:?}; \
         kills that left files of an unfinished commit: {moments:?}; {} acknowledged commits, none lost",
        started.elapsed().as_secs_f64(),
        acks.len()
    );
}
