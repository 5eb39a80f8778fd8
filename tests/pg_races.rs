//! `PgStore` writers racing on one shard, and writers killed with SIGKILL in
//! the middle of their commits, against a real PostgreSQL server the tests
//! start themselves.
//!
//! The writers are threads of this test, or this test binary run again as a
//! helper process ([`pg_writer_process`], selected by an environment
//! variable): each reads commands (claim, seal, commit, …) and reports what
//! the store told it, with the digests of every bundle it committed. Stale
//! writers are made the way failover makes them: a new claimant ends the
//! current owner's lock session (`pg_terminate_backend`, as an operator or a
//! dead network would) and claims; the old owner does not notice and
//! commits. Threads run without the owner lock at all. Either way the fence
//! alone must stop every stale commit.
//!
//! Everything is checked from the outside after every round: the shard's
//! rows, read with plain SQL, against what the writers were told.
#![cfg(feature = "postgres")]

#[path = "support/postgres.rs"]
mod pg;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    Epoch, Fence, PgBackend, PgOptions, PgStore, Restore, Save, Sealed, ServerAuthority, ShardId,
    StoreConfig, StoreError,
};

const SHARD: ShardId = ShardId(1);
/// Set (to the database URL) in a helper process.
const URL_ENV: &str = "CAELMOR_PG_RACE_URL";
/// Every epoch is kept, so that every acknowledged commit can be found.
const RETAIN: usize = 1 << 20;

/// A small world for the races: each (epoch, fence) differs, so the bytes
/// tell who wrote them.
fn small(epoch: Epoch, fence: Fence) -> Shard {
    ShardSpec {
        players: 3,
        zones: 2,
        npcs: 4,
        items: 12,
        quests: 3,
    }
    .generate(epoch.get() * 1_000_003 + fence.get())
}

/// A two-chunk world for the kills, so that a kill can land between the
/// statements of a commit: generated once per process, each (epoch, fence)
/// differing by its players' currency.
fn big(epoch: Epoch, fence: Fence) -> Shard {
    static BASE: OnceLock<Shard> = OnceLock::new();
    let mut w = BASE
        .get_or_init(|| {
            ShardSpec {
                players: 500,
                zones: 32,
                npcs: 5_000,
                items: 45_000,
                quests: 10_000,
            }
            .generate(7)
        })
        .clone();
    for p in &mut w.players {
        p.currency = epoch.get() * 1_000_003 + fence.get();
    }
    w
}

fn seal_world(authority: &ServerAuthority<Reference>, w: &Shard) -> Sealed<Reference> {
    Save::begin(authority)
        .players(&w.players)
        .and_then(|s| s.world(&w.zones))
        .and_then(|s| s.npcs(&w.npcs))
        .and_then(|s| s.items(&w.items))
        .and_then(|s| s.quests(&w.quests))
        .expect("the generated world is consistent")
        .seal()
}

fn hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn closing(sealed: &Sealed<Reference>) -> String {
    blake3::Hash::from_bytes(sealed.digest())
        .to_hex()
        .to_string()
}

/// How a writer claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// With the owner lock; a "claim" first ends the current owner's lock
    /// session, as failover does.
    Failover,
    /// Without the owner lock: the fence alone.
    NoLock,
}

fn open(url: &str, mode: Mode) -> Result<PgStore<Reference>, StoreError> {
    let backend = PgBackend::connect_with(
        url,
        SHARD,
        PgOptions::new().owner_lock(mode == Mode::Failover),
    )?;
    Ok(PgStore::with_backend(
        backend,
        StoreConfig::new().retain(RETAIN),
    ))
}

/// The server sessions holding an advisory lock in this database.
fn lock_holders(c: &mut postgres::Client) -> Vec<i32> {
    c.query(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        &[],
    )
    .expect("pg_locks")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Ends the current owner's lock session and waits until the server has
/// let it go: what an operator does in a failover, and what the server
/// does by itself when the owner's network dies.
fn end_owner_sessions(url: &str) {
    let mut c = pg::connect(url);
    let pids = lock_holders(&mut c);
    for pid in &pids {
        c.execute("SELECT pg_terminate_backend($1)", &[pid])
            .expect("terminate");
    }
    let t = Instant::now();
    while pids.iter().any(|p| lock_holders(&mut c).contains(p)) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "a terminated session keeps its lock"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

// ---------------------------------------------------------------------------
// The writer: a thread, or this binary as a helper process.

/// A writer's state and its command loop; `say` reports to the test.
fn serve(url: &str, mode: Mode, commands: impl Iterator<Item = String>, say: &dyn Fn(String)) {
    let mut store: Option<PgStore<Reference>> = None;
    let mut authority: Option<ServerAuthority<Reference>> = None;
    let mut pending: Option<Sealed<Reference>> = None;
    let claim = |failover: bool,
                 store: &mut Option<PgStore<Reference>>,
                 authority: &mut Option<ServerAuthority<Reference>>|
     -> bool {
        // The previous store goes first: its lock with it.
        *store = None;
        *authority = None;
        if failover && mode == Mode::Failover {
            end_owner_sessions(url);
        }
        let mut s = open(url, mode).expect("connect");
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
                    if lock_holders(&mut pg::connect(url)).is_empty() {
                        "free"
                    } else {
                        "held"
                    }
                } else {
                    "-"
                };
                say(format!("claim-failed {} {held}", e.code()));
                *store = Some(s);
                false
            }
        }
    };
    let commit = |store: &mut Option<PgStore<Reference>>,
                  authority: &mut Option<ServerAuthority<Reference>>,
                  sealed: Sealed<Reference>| {
        let (epoch, fence) = (sealed.epoch().get(), sealed.fence().get());
        let (digest, whole) = (closing(&sealed), hex(sealed.bytes()));
        let (Some(s), Some(a)) = (store.as_mut(), authority.as_mut()) else {
            panic!("commit without a claim");
        };
        say(format!("committing {epoch}"));
        match s.commit(sealed, a) {
            Ok(c) => {
                assert_eq!((c.epoch.get(), c.fence.get()), (epoch, fence));
                say(format!("committed {epoch} {fence} {digest} {whole}"));
            }
            Err(e) => say(format!("commit-failed {} {epoch} {fence}", e.code())),
        }
    };
    let small_seal =
        |a: &ServerAuthority<Reference>| seal_world(a, &small(a.next_epoch(), a.fence()));
    for line in commands {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["claim"] => {
                claim(true, &mut store, &mut authority);
            }
            ["claim-locked"] => {
                claim(false, &mut store, &mut authority);
            }
            ["seal"] => {
                let sealed = small_seal(authority.as_ref().expect("claimed"));
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
                let sealed = small_seal(authority.as_ref().expect("claimed"));
                commit(&mut store, &mut authority, sealed);
            }
            ["claim-commit"] => {
                if claim(true, &mut store, &mut authority) {
                    let sealed = small_seal(authority.as_ref().expect("claimed"));
                    commit(&mut store, &mut authority, sealed);
                }
            }
            // Claims with the lock (the previous writer was killed: its
            // lock goes with its connection, within milliseconds), then
            // commits two-chunk bundles until killed.
            ["loop"] => {
                let t = Instant::now();
                while !claim(false, &mut store, &mut authority) {
                    assert!(
                        t.elapsed() < Duration::from_secs(10),
                        "the lock stayed held"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
                loop {
                    let a = authority.as_ref().expect("claimed");
                    let sealed = seal_world(a, &big(a.next_epoch(), a.fence()));
                    commit(&mut store, &mut authority, sealed);
                }
            }
            ["exit"] => break,
            other => panic!("unknown command {other:?}"),
        }
    }
    say("bye".to_owned());
}

/// The helper process: one writer. Not a test of its own (ignored); the
/// tests below start it with `--ignored --exact pg_writer_process`.
#[test]
#[ignore = "a helper process of the race tests, run by them"]
fn pg_writer_process() {
    let Ok(url) = std::env::var(URL_ENV) else {
        return;
    };
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "RACE {line}").expect("stdout");
        out.flush().expect("stdout");
    };
    serve(
        &url,
        Mode::Failover,
        std::io::stdin().lock().lines().map_while(Result::ok),
        &say,
    );
    // No test harness summary after the protocol.
    std::process::exit(0);
}

// ---------------------------------------------------------------------------
// The orchestrator's side.

enum Input {
    Pipe(ChildStdin),
    Chan(Sender<String>),
}

/// A running writer: a process or a thread.
struct Writer {
    child: Option<Child>,
    input: Input,
    replies: Receiver<String>,
}

impl Writer {
    fn process(url: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "--ignored",
                "--exact",
                "pg_writer_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(URL_ENV, url)
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
                // The harness prints "test pg_writer_process ... " with no
                // newline before the first reply.
                if let Some((_, reply)) = line.split_once("RACE ")
                    && send.send(reply.to_owned()).is_err()
                {
                    break;
                }
            }
        });
        Self {
            child: Some(child),
            input: Input::Pipe(stdin),
            replies,
        }
    }

    fn thread(url: &str) -> Self {
        let (commands, inbox) = mpsc::channel::<String>();
        let (send, replies) = mpsc::channel();
        let url = url.to_owned();
        std::thread::spawn(move || {
            let say = move |line: String| {
                let _ = send.send(line);
            };
            serve(&url, Mode::NoLock, inbox.into_iter(), &say);
        });
        Self {
            child: None,
            input: Input::Chan(commands),
            replies,
        }
    }

    fn pid(&self) -> String {
        self.child
            .as_ref()
            .map_or_else(|| "thread".to_owned(), |c| c.id().to_string())
    }

    fn send(&mut self, command: &str) {
        match &mut self.input {
            Input::Pipe(stdin) => {
                writeln!(stdin, "{command}").expect("the writer is alive");
                stdin.flush().expect("the writer is alive");
            }
            Input::Chan(tx) => tx.send(command.to_owned()).expect("the writer is alive"),
        }
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
        if let Some(mut child) = self.child.take() {
            child.wait().expect("wait");
        }
    }
}

/// What a writer reported.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reply {
    Claimed {
        fence: u64,
    },
    ClaimFailed {
        code: String,
        lock: String,
    },
    Sealed {
        fence: u64,
    },
    Committing {
        epoch: u64,
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
    /// The bundle's closing digest, as the epoch's row records it.
    digest: String,
    /// BLAKE3 of the whole bundle.
    whole: String,
}

impl Reply {
    fn parse(line: &str) -> Self {
        let w: Vec<&str> = line.split_whitespace().collect();
        let n = |i: usize| -> u64 { w[i].parse().expect("a number") };
        match w[0] {
            "claimed" => Reply::Claimed { fence: n(1) },
            "claim-failed" => Reply::ClaimFailed {
                code: w[1].to_owned(),
                lock: w[2].to_owned(),
            },
            "sealed" => Reply::Sealed { fence: n(2) },
            "committing" => Reply::Committing { epoch: n(1) },
            "committed" => Reply::Committed(Ack {
                epoch: n(1),
                fence: n(2),
                digest: w[3].to_owned(),
                whole: w[4].to_owned(),
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

/// A commit's final reply, skipping its "committing" line.
fn recv_commit(w: &Writer) -> Reply {
    loop {
        match w.recv() {
            Reply::Committing { .. } => {}
            other => return other,
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

/// The figures of a race run.
#[derive(Debug, Default)]
struct Tally {
    rounds: usize,
    claims_ok: usize,
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

/// Everything the writers reported so far.
#[derive(Default)]
struct Ledger {
    /// Acknowledged claims: fence, and when the acknowledgement arrived.
    claims: Vec<(u64, Instant)>,
    acks: Vec<Ack>,
    /// Commits reported as failed: (epoch, fence).
    failed: Vec<(u64, u64)>,
}

/// The shard's rows, read by hand, against everything acknowledged so far.
fn check_history(c: &mut postgres::Client, ledger: &Ledger, tally: &mut Tally) {
    let head = c
        .query_one(
            "SELECT fence, coalesce(latest_epoch, 0), latest_fence FROM caelmor_head WHERE shard = 1",
            &[],
        )
        .expect("the head");
    let (head_fence, latest): (i64, i64) = (head.get(0), head.get(1));
    let rows: Vec<(u64, u64, String)> = c
        .query(
            "SELECT epoch, fence, digest FROM caelmor_epochs WHERE shard = 1 ORDER BY epoch",
            &[],
        )
        .expect("the epochs")
        .iter()
        .map(|r| {
            let d: &[u8] = r.get(2);
            (
                r.get::<_, i64>(0) as u64,
                r.get::<_, i64>(1) as u64,
                blake3::Hash::from_bytes(d.try_into().expect("32 bytes"))
                    .to_hex()
                    .to_string(),
            )
        })
        .collect();
    // Epochs 1..=latest, each exactly once, fences never going back, none
    // beyond the head's.
    let epochs: Vec<u64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(
        epochs,
        (1..=latest as u64).collect::<Vec<_>>(),
        "epochs are contiguous up to the head's latest"
    );
    for pair in rows.windows(2) {
        assert!(pair[1].1 >= pair[0].1, "fences never go back: {pair:?}");
    }
    assert!(rows.last().is_none_or(|r| r.1 <= head_fence as u64));
    let fences: BTreeSet<u64> = ledger.claims.iter().map(|c| c.0).collect();
    assert_eq!(
        fences.len(),
        ledger.claims.len(),
        "two claims got one fence"
    );
    assert!(fences.last().copied().unwrap_or(0) <= head_fence as u64);
    // Every stored epoch was acknowledged to exactly one writer, with its
    // bytes; every acknowledgement is stored.
    let mut by_epoch: BTreeMap<u64, Vec<&Ack>> = BTreeMap::new();
    for ack in &ledger.acks {
        by_epoch.entry(ack.epoch).or_default().push(ack);
    }
    let mut lost = 0;
    let mut unacknowledged = 0;
    for (epoch, fence, digest) in &rows {
        match by_epoch.get(epoch).map(Vec::as_slice) {
            None | Some([]) => unacknowledged += 1,
            Some([ack]) if ack.fence == *fence && &ack.digest == digest => {}
            Some(acks) => lost += acks.len(),
        }
        if ledger.failed.contains(&(*epoch, *fence)) {
            unacknowledged += 1;
        }
    }
    lost += ledger
        .acks
        .iter()
        .filter(|a| a.epoch > latest as u64)
        .count();
    tally.acknowledged_lost = lost;
    tally.landed_unacknowledged = unacknowledged;
}

fn note_claim(reply: &Reply, ledger: &mut Ledger, tally: &mut Tally) -> Option<u64> {
    match reply {
        Reply::Claimed { fence } => {
            tally.claims_ok += 1;
            ledger.claims.push((*fence, Instant::now()));
            Some(*fence)
        }
        Reply::ClaimFailed { code, lock } => {
            *tally
                .claim_failures
                .entry(format!("{code} (lock {lock})"))
                .or_default() += 1;
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

/// One race: `rounds` rounds of a stalled writer A, a new claimant B that
/// commits, then A's stale commit, B's next one and the claims and commits
/// of C and D, all at once — with processes, sometimes one frozen with
/// SIGSTOP and thawed; then (processes) a claim that does not end the
/// owner's session, refused while the lock is held.
fn race(kind: &str, rounds: usize, spawn: impl Fn(&str) -> Writer) -> Tally {
    let started = Instant::now();
    let db = pg::PgServer::shared().fresh_database(&format!("race_{kind}"));
    let url = db.url().to_owned();
    let mut c = db.connect();
    let mut writers: Vec<Writer> = (0..4).map(|_| spawn(&url)).collect();
    let processes = writers[0].child.is_some();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ledger = Ledger::default();
    let mut tally = Tally::default();
    for round in 0..rounds {
        let n = writers.len();
        let [a, b, cc, d] = [round % n, (round + 1) % n, (round + 2) % n, (round + 3) % n];
        writers[a].send("claim");
        let reply = writers[a].recv();
        let a_fence = note_claim(&reply, &mut ledger, &mut tally).expect("nobody else is claiming");
        writers[a].send("seal");
        let Reply::Sealed { fence } = writers[a].recv() else {
            panic!("seal")
        };
        assert_eq!(fence, a_fence);
        writers[b].send("claim");
        let reply = writers[b].recv();
        let b_fence = note_claim(&reply, &mut ledger, &mut tally).expect("nobody else is claiming");
        assert!(b_fence > a_fence);
        writers[b].send("seal-commit");
        let sent = Instant::now();
        let reply = recv_commit(&writers[b]);
        assert!(
            matches!(reply, Reply::Committed(_)),
            "B is current: {reply:?}"
        );
        note_commit(reply, sent, &mut ledger, &mut tally);
        // A resumes; B commits again; C and D claim and commit; all at once.
        let sent = Instant::now();
        writers[a].send("commit");
        writers[b].send("seal-commit");
        writers[cc].send("claim-commit");
        writers[d].send("claim-commit");
        if processes && rng.below(2) == 0 {
            let frozen = [b, cc, d][rng.below(3) as usize];
            std::thread::sleep(Duration::from_micros(rng.below(3000)));
            signal(&writers[frozen], "-STOP");
            std::thread::sleep(Duration::from_millis(5 + rng.below(15)));
            signal(&writers[frozen], "-CONT");
            tally.stops += 1;
        }
        let a_reply = recv_commit(&writers[a]);
        assert!(
            matches!(&a_reply, Reply::CommitFailed { code, .. } if code == "E-STORE-FENCED"),
            "round {round}: the stalled writer was superseded: {a_reply:?}"
        );
        let mut commits = vec![a_reply, recv_commit(&writers[b])];
        for w in [cc, d] {
            let reply = writers[w].recv();
            if note_claim(&reply, &mut ledger, &mut tally).is_some() {
                commits.push(recv_commit(&writers[w]));
            }
        }
        for reply in commits {
            note_commit(reply, sent, &mut ledger, &mut tally);
        }
        if processes {
            // Without ending the owner's session, a claim is refused.
            writers[a].send("claim-locked");
            let reply = writers[a].recv();
            assert!(
                matches!(&reply, Reply::ClaimFailed { code, lock } if code == "E-STORE-CLAIMED" && lock == "held"),
                "round {round}: {reply:?}"
            );
            note_claim(&reply, &mut ledger, &mut tally);
        }
        tally.rounds += 1;
        check_history(&mut c, &ledger, &mut tally);
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
    // acknowledged epoch reads back byte for byte.
    let store = open(&url, Mode::NoLock).expect("open");
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
        assert_eq!(hex(bundle.bytes()), ack.whole, "{ack:?}");
    }
    println!(
        "pg races ({kind}): {} rounds in {:.1} s, {} claims acknowledged, claim failures {:?} ({} spurious), \
         {} commits acknowledged, commit failures {:?} ({} spurious), {} writers frozen mid-round; \
         {} stale bundles landed, {} acknowledged commits lost, {} landed unacknowledged; \
         epochs 1..={} contiguous",
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
        latest.epoch().get(),
    );
    tally
}

const ROUNDS: usize = 100;

/// Four writer processes, 100 rounds, stale owners made by failover (the
/// owner's lock session ended under it). 0 stale commits, epochs
/// contiguous, fences monotonic, every acknowledged commit there.
#[test]
fn racing_writer_processes_with_failover_under_them() {
    let tally = race("processes", ROUNDS, Writer::process);
    assert!(tally.rounds >= 100);
    assert!(
        tally
            .commit_failures
            .get("E-STORE-FENCED")
            .copied()
            .unwrap_or(0)
            >= ROUNDS
    );
}

/// Four writer threads without the owner lock at all: the fence alone.
#[test]
fn racing_writer_threads_without_the_owner_lock() {
    let tally = race("threads", ROUNDS, Writer::thread);
    assert!(tally.rounds >= 100);
    assert!(
        tally
            .commit_failures
            .get("E-STORE-FENCED")
            .copied()
            .unwrap_or(0)
            >= ROUNDS
    );
}

const KILLS: usize = 20;

/// A writer process committing two-chunk bundles is killed with SIGKILL at
/// a random moment of a commit, 20 times. Each time a new owner claims
/// (the killed one's lock went with its connection) and finds the last
/// acknowledged epoch or the interrupted one, whole: restored record for
/// record; every acknowledged epoch is still there, byte for byte; and it
/// continues with the next epoch.
#[test]
fn kill_9_during_commits() {
    let started = Instant::now();
    let db = pg::PgServer::shared().fresh_database("kill_9");
    let url = db.url().to_owned();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut acks: Vec<Ack> = Vec::new();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut inside = 0;
    let mut lock_freed = Vec::new();
    for kill in 0..KILLS {
        let mut writer = Writer::process(&url);
        writer.send("loop");
        let Reply::Claimed { .. } = writer.recv() else {
            panic!("the killed writer's lock died with it")
        };
        // One commit through, timed; then a random moment of the next.
        let Reply::Committing { .. } = writer.recv() else {
            panic!("committing")
        };
        let t = Instant::now();
        let Reply::Committed(first) = writer.recv() else {
            panic!("commit")
        };
        let one = t.elapsed();
        acks.push(first);
        let Reply::Committing { epoch } = writer.recv() else {
            panic!("committing")
        };
        std::thread::sleep(Duration::from_micros(
            rng.below(one.as_micros() as u64 * 12 / 10 + 1),
        ));
        writer
            .child
            .as_mut()
            .expect("a process")
            .kill()
            .expect("SIGKILL");
        let killed_at = Instant::now();
        writer
            .child
            .as_mut()
            .expect("a process")
            .wait()
            .expect("wait");
        let mut last_committing = Some(epoch);
        while let Ok(line) = writer.replies.recv_timeout(Duration::from_millis(200)) {
            match Reply::parse(&line) {
                Reply::Committed(ack) => {
                    last_committing = None;
                    acks.push(ack);
                }
                Reply::Committing { epoch } => last_committing = Some(epoch),
                other => panic!("{other:?}"),
            }
        }
        if last_committing.is_some() {
            inside += 1;
        }
        let acked = acks.iter().map(|a| a.epoch).max().expect("one at least");
        // A new owner: the lock died with the writer's connection.
        let mut store = open(&url, Mode::Failover).expect("open");
        let authority = loop {
            match store.claim() {
                Ok(a) => break a,
                Err(e) if e.code() == "E-STORE-CLAIMED" => {
                    assert!(
                        killed_at.elapsed() < Duration::from_secs(10),
                        "kill {kill}: the dead writer's lock stayed held"
                    );
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("kill {kill}: {e}"),
            }
        };
        lock_freed.push(killed_at.elapsed());
        let latest = store
            .latest_epoch()
            .expect("head")
            .expect("committed")
            .get();
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
        // Every acknowledged epoch, byte for byte.
        for ack in &acks {
            let bundle = store
                .load_epoch(Epoch(ack.epoch))
                .unwrap_or_else(|e| panic!("kill {kill}: {ack:?}: {e}"))
                .unwrap_or_else(|| panic!("kill {kill}: {ack:?} lost"));
            assert_eq!(hex(bundle.bytes()), ack.whole, "kill {kill}: {ack:?}");
        }
        // The latest, whole: restored record for record.
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
        let expected = big(Epoch(latest), fence);
        assert!(
            active.players == expected.players
                && active.zones == expected.zones
                && active.npcs == expected.npcs
                && active.items == expected.items
                && active.quests == expected.quests,
            "kill {kill}: epoch {latest} restores record for record"
        );
        // The new owner continues.
        let sealed = seal_world(
            &authority,
            &small(authority.next_epoch(), authority.fence()),
        );
        let (digest, whole) = (closing(&sealed), hex(sealed.bytes()));
        let committed = store
            .commit(sealed, &authority)
            .expect("the new owner continues");
        assert_eq!(committed.epoch.get(), latest + 1);
        acks.push(Ack {
            epoch: committed.epoch.get(),
            fence: committed.fence.get(),
            digest,
            whole,
        });
    }
    assert!(inside > 0, "some kills land inside a commit: {outcomes:?}");
    let store = open(&url, Mode::NoLock).expect("open");
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
    lock_freed.sort();
    println!(
        "pg kill -9: {KILLS} writers killed in {:.1} s, {inside} of them inside a commit; after each the shard held {outcomes:?}; \
         the next owner's claim got the lock {:?}–{:?} after the kill (median {:?}); {} acknowledged commits, none lost",
        started.elapsed().as_secs_f64(),
        lock_freed[0],
        lock_freed[lock_freed.len() - 1],
        lock_freed[lock_freed.len() / 2],
        acks.len()
    );
}
