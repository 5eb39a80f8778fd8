//! The crash-consistency proof of [`FileStore`], through the I/O seam.
//!
//! [`FaultIo`] runs every mutating file system operation of a commit or a
//! claim for real, counts them, and can stop the "process" before any of
//! them or in the middle of a write (after a prefix of the data), or fail
//! one with the error a full disk, a permission or a read-only mount gives.
//! It also remembers what the real file system would not yet have made
//! durable — data written but not synced, directory entries created,
//! renamed or removed since the last directory sync — so that each crash
//! point is checked both as a process crash (the files as they are) and as
//! every power loss the stopping point allows (unsynced data intact, torn or
//! lost; any suffix of the unsynced directory changes undone).
//!
//! At every resulting state, the shard is reopened with the real file
//! system code and must hold either the previous latest epoch or the new
//! one, complete (it restores in full, record for record), never anything
//! that restores partially; it must then claim, clean up, and commit the
//! next epoch.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, ErrorKind, Write};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use super::io::{Io, RealIo};
use super::{FileStore, FileStoreConfig, ShardDir};
use crate::authority::ServerAuthority;
use crate::format::{DIGEST_LEN, PREAMBLE_LEN};
use crate::ids::{Epoch, Fence, ShardId};
use crate::reference::{Reference, Shard, ShardSpec};
use crate::restore::Restore;
use crate::save::{Save, Sealed};
use crate::store::{Loaded, Store, StoreError};

const SHARD: ShardId = ShardId(1);

fn spec() -> ShardSpec {
    ShardSpec {
        players: 3,
        zones: 2,
        npcs: 4,
        items: 12,
        quests: 3,
    }
}

/// The world saved at `epoch`: each epoch's differs, so a restore tells
/// which epoch it came from.
fn world(epoch: Epoch) -> Shard {
    spec().generate(epoch.0)
}

fn seal(authority: &ServerAuthority<Reference>) -> Sealed<Reference> {
    let w = world(authority.next_epoch());
    Save::begin(authority)
        .players(&w.players)
        .and_then(|s| s.world(&w.zones))
        .and_then(|s| s.npcs(&w.npcs))
        .and_then(|s| s.items(&w.items))
        .and_then(|s| s.quests(&w.quests))
        .expect("the generated world is consistent")
        .seal()
}

fn restore_all(loaded: Loaded, authority: &ServerAuthority<Reference>) -> Shard {
    let (r, players) = Restore::open(loaded, authority)
        .expect("a loaded bundle restores")
        .players();
    let (r, zones) = r.world();
    let (r, npcs) = r.npcs();
    let (r, items) = r.items();
    let (r, quests) = r.quests();
    let active = r.activate(authority).expect("same authority");
    Shard {
        players: active.activate(players).expect("same restore"),
        zones: active.activate(zones).expect("same restore"),
        npcs: active.activate(npcs).expect("same restore"),
        items: active.activate(items).expect("same restore"),
        quests: active.activate(quests).expect("same restore"),
    }
}

fn real_store(root: &Path, retain: usize) -> FileStore<Reference> {
    FileStore::open_with(root, SHARD, FileStoreConfig::new().retain(retain)).expect("open")
}

/// A shard holding epochs 1..=epochs, claimed once (fence 1), released.
fn prepare(root: &Path, epochs: u64, retain: usize) {
    let mut store = real_store(root, retain);
    let mut authority = store.claim().expect("claim");
    for _ in 0..epochs {
        store
            .commit(seal(&authority), &mut authority)
            .expect("commit");
    }
}

// ---------------------------------------------------------------------------
// The fault-injecting seam.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Write,
    Sync,
    Rename,
    SyncDir,
    Remove,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// The process dies just before armed operation `n` (0-based).
    CrashBefore(usize),
    /// The process dies during armed operation `n`, a write, after
    /// `prefix` bytes of it reached the file.
    CrashInWrite {
        op: usize,
        prefix: usize,
    },
    /// Armed operation `n` fails with `kind` (a write after writing
    /// `prefix` bytes, if given); later ones fail too if `sticky`.
    Fail {
        op: usize,
        kind: ErrorKind,
        sticky: bool,
        prefix: Option<usize>,
    },
}

/// A change to the shard directory's entries not yet made durable by a
/// directory sync. Names are file names inside the shard directory.
#[derive(Clone, Debug)]
enum Entry {
    Created(String),
    Renamed {
        from: String,
        to: String,
        replaced: Option<Vec<u8>>,
    },
    Removed {
        name: String,
        content: Vec<u8>,
    },
}

#[derive(Debug, Default)]
struct FaultState {
    fault: Option<Fault>,
    armed: bool,
    count: usize,
    dead: bool,
    failing: Option<ErrorKind>,
    ops: Vec<(Op, usize)>,
    unsynced_data: Vec<String>,
    unsynced_entries: Vec<Entry>,
}

#[derive(Debug, Default)]
struct FaultIo {
    state: Mutex<FaultState>,
}

fn name(path: &Path) -> String {
    path.file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned()
}

fn crashed() -> io::Error {
    io::Error::other("simulated crash: the process is gone")
}

/// What an armed operation must do.
enum Verdict {
    Run,
    /// Write only this prefix, then report this error.
    Partial(usize, io::Error),
    Refuse(io::Error),
}

impl FaultIo {
    fn new(fault: Fault) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(FaultState {
                fault: Some(fault),
                ..FaultState::default()
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state.lock().expect("not poisoned")
    }

    fn arm(&self) {
        self.lock().armed = true;
    }

    /// Stops injecting faults (after an injected error, to retry).
    fn heal(&self) {
        let mut s = self.lock();
        s.fault = Some(Fault::None);
        s.failing = None;
    }

    fn ops(&self) -> Vec<(Op, usize)> {
        self.lock().ops.clone()
    }

    fn volatile(&self) -> (Vec<String>, Vec<Entry>) {
        let s = self.lock();
        (s.unsynced_data.clone(), s.unsynced_entries.clone())
    }

    fn decide(&self, op: Op, len: usize) -> Verdict {
        let mut s = self.lock();
        if s.dead {
            return Verdict::Refuse(crashed());
        }
        if let Some(kind) = s.failing {
            return Verdict::Refuse(io::Error::from(kind));
        }
        if !s.armed {
            return Verdict::Run;
        }
        let n = s.count;
        s.count += 1;
        s.ops.push((op, len));
        match s.fault.unwrap_or(Fault::None) {
            Fault::CrashBefore(at) if at == n => {
                s.dead = true;
                Verdict::Refuse(crashed())
            }
            Fault::CrashInWrite { op: at, prefix } if at == n => {
                assert_eq!(op, Op::Write, "a partial write is injected into a write");
                s.dead = true;
                Verdict::Partial(prefix, crashed())
            }
            Fault::Fail {
                op: at,
                kind,
                sticky,
                prefix,
            } if at == n => {
                if sticky {
                    s.failing = Some(kind);
                }
                match prefix {
                    Some(p) if op == Op::Write => Verdict::Partial(p, io::Error::from(kind)),
                    _ => Verdict::Refuse(io::Error::from(kind)),
                }
            }
            _ => Verdict::Run,
        }
    }
}

impl Io for FaultIo {
    fn create(&self, path: &Path) -> io::Result<fs::File> {
        match self.decide(Op::Create, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        let existed = path.exists();
        let file = RealIo.create(path)?;
        let mut s = self.lock();
        let n = name(path);
        if !existed {
            s.unsynced_entries.push(Entry::Created(n.clone()));
        }
        if !s.unsynced_data.contains(&n) {
            s.unsynced_data.push(n);
        }
        Ok(file)
    }

    fn write(&self, file: &mut fs::File, path: &Path, data: &[u8]) -> io::Result<()> {
        match self.decide(Op::Write, data.len()) {
            Verdict::Run => RealIo.write(file, path, data),
            Verdict::Partial(prefix, e) => {
                file.write_all(&data[..prefix.min(data.len())])?;
                Err(e)
            }
            Verdict::Refuse(e) => Err(e),
        }
    }

    fn sync(&self, file: &fs::File, path: &Path) -> io::Result<()> {
        match self.decide(Op::Sync, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        RealIo.sync(file, path)?;
        let n = name(path);
        self.lock().unsynced_data.retain(|d| *d != n);
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        match self.decide(Op::Rename, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        let replaced = fs::read(to).ok();
        RealIo.rename(from, to)?;
        let (from, to) = (name(from), name(to));
        let mut s = self.lock();
        s.unsynced_data.retain(|d| *d != to);
        for d in &mut s.unsynced_data {
            if *d == from {
                d.clone_from(&to);
            }
        }
        s.unsynced_entries
            .push(Entry::Renamed { from, to, replaced });
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        match self.decide(Op::SyncDir, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        RealIo.sync_dir(dir)?;
        self.lock().unsynced_entries.clear();
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        match self.decide(Op::Remove, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        let content = fs::read(path).unwrap_or_default();
        RealIo.remove(path)?;
        let n = name(path);
        let mut s = self.lock();
        s.unsynced_data.retain(|d| *d != n);
        s.unsynced_entries.push(Entry::Removed { name: n, content });
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Power loss: what the disk may hold after the machine stops.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Data {
    Intact,
    Torn,
    Lost,
}

/// The files of a shard directory.
type Snapshot = BTreeMap<String, Vec<u8>>;

fn snapshot(dir: &Path) -> Snapshot {
    fs::read_dir(dir)
        .expect("the shard directory")
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = fs::read(e.path()).expect("readable");
            (name, bytes)
        })
        .collect()
}

/// Lays out `files` in a fresh shard directory under `root`, then applies
/// a power loss: unsynced data `data`, and the last `undone` unsynced
/// directory changes undone.
fn materialize(
    root: &Path,
    files: &Snapshot,
    unsynced: &[String],
    entries: &[Entry],
    undone: usize,
    data: Data,
) {
    let dir = ShardDir::of(root, SHARD);
    fs::create_dir_all(dir.path()).expect("mkdir");
    for (name, bytes) in files {
        fs::write(dir.path().join(name), bytes).expect("write");
    }
    for name in unsynced {
        let path = dir.path().join(name);
        if let Ok(bytes) = fs::read(&path) {
            let keep = match data {
                Data::Intact => bytes.len(),
                Data::Torn => bytes.len() / 2,
                Data::Lost => 0,
            };
            fs::write(&path, &bytes[..keep]).expect("truncate");
        }
    }
    for entry in entries.iter().rev().take(undone) {
        match entry {
            Entry::Created(name) => {
                let _ = fs::remove_file(dir.path().join(name));
            }
            Entry::Renamed { from, to, replaced } => {
                fs::rename(dir.path().join(to), dir.path().join(from)).expect("undo rename");
                if let Some(bytes) = replaced {
                    fs::write(dir.path().join(to), bytes).expect("restore replaced");
                }
            }
            Entry::Removed { name, content } => {
                fs::write(dir.path().join(name), content).expect("undo remove");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The invariant.

/// Reopens the shard with the real file system and checks it holds one of
/// `allowed` as its latest epoch, complete; that every epoch file in it is
/// complete; that it claims (above `fence_at_least`), cleans up, and commits
/// the next epoch. Returns the latest epoch found.
fn check_shard(root: &Path, allowed: &[Option<Epoch>], fence_at_least: Fence) -> Option<Epoch> {
    let mut store = real_store(root, 64);
    let loaded = store
        .load_latest()
        .expect("the latest epoch is complete and verifies");
    let latest = loaded.as_ref().map(Loaded::epoch);
    assert!(
        allowed.contains(&latest),
        "latest {latest:?} is not one of {allowed:?}"
    );
    for epoch in store.epochs().expect("list") {
        assert!(
            store
                .load_epoch(epoch)
                .expect("every epoch file is complete")
                .is_some(),
            "{epoch} listed but absent"
        );
    }
    let mut authority = store
        .claim()
        .expect("the shard can be claimed after a crash");
    assert!(authority.fence() > fence_at_least);
    assert!(
        store.dir().temporaries().expect("list").is_empty(),
        "the claim cleaned temporary leftovers"
    );
    if let Some(loaded) = loaded {
        let epoch = loaded.epoch();
        assert_eq!(
            restore_all(loaded, &authority),
            world(epoch),
            "{epoch} restores in full, record for record"
        );
    }
    let next = latest.map_or(Epoch::FIRST, |e| e.next().expect("small"));
    assert_eq!(authority.next_epoch(), next);
    let committed = store
        .commit(seal(&authority), &mut authority)
        .expect("the shard commits again after a crash");
    assert_eq!(committed.epoch, next);
    assert_eq!(
        store.load_latest().expect("load").map(|l| l.epoch()),
        Some(next)
    );
    latest
}

/// What a scenario run left behind.
struct Run {
    /// Whether the armed operation reported success.
    ok: bool,
    /// The shard directory's files.
    files: Snapshot,
    /// Files whose data was not yet synced.
    unsynced: Vec<String>,
    /// Directory changes not yet synced.
    entries: Vec<Entry>,
    /// The armed operations that ran (or were stopped), with write sizes.
    ops: Vec<(Op, usize)>,
}

/// One crash scenario: a prepared shard, then one armed operation (a commit
/// or a claim) through [`FaultIo`].
#[derive(Clone, Copy, Debug)]
struct Scenario {
    name: &'static str,
    /// Epochs committed before the armed operation.
    before: u64,
    retain: usize,
    /// The armed operation is a claim (else: claim unarmed, commit armed).
    claim: bool,
}

impl Scenario {
    /// Runs the scenario with `fault`.
    fn run(&self, root: &Path, fault: Fault) -> Run {
        prepare(root, self.before, self.retain);
        let dir = ShardDir::of(root, SHARD);
        if self.claim {
            // Leftovers of an earlier crash, for the claim to clean.
            let next = Epoch(self.before + 1);
            fs::write(super::temp_path(&dir.epoch_path(next)), b"half a bund").expect("plant");
            fs::write(super::temp_path(&dir.fence_path()), b"caelmor-per").expect("plant");
        }
        let io = FaultIo::new(fault);
        let mut store = FileStore::<Reference>::open_io(
            root,
            SHARD,
            FileStoreConfig::new().retain(self.retain),
            io.clone(),
        )
        .expect("open");
        let ok = if self.claim {
            io.arm();
            store.claim().is_ok()
        } else {
            let mut authority = store.claim().expect("unarmed claim");
            let sealed = seal(&authority);
            io.arm();
            store.commit(sealed, &mut authority).is_ok()
        };
        drop(store);
        let (unsynced, entries) = io.volatile();
        Run {
            ok,
            files: snapshot(dir.path()),
            unsynced,
            entries,
            ops: io.ops(),
        }
    }

    fn allowed(&self, ok: bool) -> Vec<Option<Epoch>> {
        let previous = (self.before > 0).then_some(Epoch(self.before));
        if self.claim {
            vec![previous]
        } else if ok {
            vec![Some(Epoch(self.before + 1))]
        } else {
            vec![previous, Some(Epoch(self.before + 1))]
        }
    }

    /// Every crash point of the armed operation: before each of its
    /// operations, after the last, and inside each write at several
    /// prefixes of the data. Then the points where an operation fails and
    /// the process carries on until the power goes: each directory sync
    /// failing (once, or for good), so that the renames and removals it
    /// should have made durable may be lost; and each write failing half
    /// way (a full disk), so that a torn prefix is left behind.
    fn crash_points(&self) -> Vec<Fault> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let Run { ok, ops, .. } = self.run(tmp.path(), Fault::None);
        assert!(ok, "{}: the unfaulted run succeeds", self.name);
        let mut points: Vec<Fault> = (0..=ops.len()).map(Fault::CrashBefore).collect();
        for (n, &(op, len)) in ops.iter().enumerate() {
            if op != Op::Write {
                continue;
            }
            let mut prefixes = vec![
                0,
                1,
                PREAMBLE_LEN,
                len / 2,
                len.saturating_sub(DIGEST_LEN),
                len - 1,
            ];
            prefixes.retain(|&p| p < len);
            prefixes.sort_unstable();
            prefixes.dedup();
            points.extend(
                prefixes
                    .into_iter()
                    .map(|prefix| Fault::CrashInWrite { op: n, prefix }),
            );
        }
        for (n, &(op, len)) in ops.iter().enumerate() {
            match op {
                Op::SyncDir => points.extend([false, true].map(|sticky| Fault::Fail {
                    op: n,
                    kind: ErrorKind::Other,
                    sticky,
                    prefix: None,
                })),
                Op::Write => points.push(Fault::Fail {
                    op: n,
                    kind: ErrorKind::StorageFull,
                    sticky: false,
                    prefix: Some(len / 2),
                }),
                _ => {}
            }
        }
        points
    }
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "first commit into an empty shard",
        before: 0,
        retain: 8,
        claim: false,
    },
    Scenario {
        name: "commit of the next epoch",
        before: 1,
        retain: 8,
        claim: false,
    },
    Scenario {
        name: "commit that prunes the oldest epoch",
        before: 2,
        retain: 2,
        claim: false,
    },
    Scenario {
        name: "claim: clean leftovers, replace the fence",
        before: 1,
        retain: 8,
        claim: true,
    },
];

/// A claim removes the leftovers, syncs the directory once for their
/// removal, then replaces the fence atomically.
#[test]
fn claim_path_is_the_documented_sequence() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ops = SCENARIOS[3].run(tmp.path(), Fault::None).ops;
    let kinds: Vec<Op> = ops.iter().map(|&(op, _)| op).collect();
    assert_eq!(
        kinds,
        [
            Op::Remove,
            Op::Remove,
            Op::SyncDir,
            Op::Create,
            Op::Write,
            Op::Sync,
            Op::Rename,
            Op::SyncDir
        ]
    );
}

#[test]
fn commit_path_is_the_documented_sequence() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ops = SCENARIOS[2].run(tmp.path(), Fault::None).ops;
    let kinds: Vec<Op> = ops.iter().map(|&(op, _)| op).collect();
    assert_eq!(
        kinds,
        [
            Op::Create,
            Op::Write,
            Op::Sync,
            Op::Rename,
            Op::SyncDir,
            Op::Remove
        ]
    );
}

#[test]
fn every_crash_point_leaves_the_previous_or_the_new_epoch_complete() {
    let mut points = 0;
    let mut states = 0;
    let mut report = Vec::new();
    for scenario in SCENARIOS {
        let crash_points = scenario.crash_points();
        let mut scenario_states = 0;
        for fault in &crash_points {
            let tmp = tempfile::tempdir().expect("tempdir");
            let Run {
                ok,
                files,
                unsynced,
                entries,
                ..
            } = scenario.run(tmp.path(), *fault);
            let datas: &[Data] = if unsynced.is_empty() {
                &[Data::Intact]
            } else {
                &[Data::Intact, Data::Torn, Data::Lost]
            };
            for undone in 0..=entries.len() {
                for &data in datas {
                    let after = tempfile::tempdir().expect("tempdir");
                    materialize(after.path(), &files, &unsynced, &entries, undone, data);
                    let allowed = scenario.allowed(ok);
                    let fence_before = Fence(1);
                    let found = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        check_shard(after.path(), &allowed, fence_before)
                    }));
                    assert!(
                        found.is_ok(),
                        "{}: {fault:?}, {undone} directory changes undone, data {data:?}",
                        scenario.name
                    );
                    scenario_states += 1;
                }
            }
        }
        let failures = crash_points
            .iter()
            .filter(|f| matches!(f, Fault::Fail { .. }))
            .count();
        report.push(format!(
            "{}: {} crash points ({} of them a failed directory sync or write, then power loss), {} states",
            scenario.name,
            crash_points.len(),
            failures,
            scenario_states
        ));
        points += crash_points.len();
        states += scenario_states;
    }
    println!("crash-consistency: {points} crash points, {states} post-crash states checked");
    for line in report {
        println!("  {line}");
    }
    assert!(points >= 40, "{points}");
}

/// Disk full, permission denied, read-only file system: at every step of a
/// commit, transient or lasting, the commit fails with a typed error (or,
/// past the point of durability, succeeds), the previous epoch stays latest
/// and intact, and the bundle handed back commits once the fault is gone.
#[test]
fn io_errors_are_typed_and_leave_the_previous_epoch() {
    let scenario = SCENARIOS[2];
    let tmp = tempfile::tempdir().expect("tempdir");
    let ops = scenario.run(tmp.path(), Fault::None).ops;
    let durable_after = ops
        .iter()
        .position(|&(op, _)| op == Op::SyncDir)
        .expect("a directory sync");
    let mut cases = 0;
    for (kind, code) in [
        (ErrorKind::StorageFull, "E-STORE-FULL"),
        (ErrorKind::PermissionDenied, "E-STORE-DENIED"),
        (ErrorKind::ReadOnlyFilesystem, "E-STORE-READONLY"),
        (ErrorKind::Other, "E-STORE-IO"),
    ] {
        for (n, &(op, len)) in ops.iter().enumerate() {
            for sticky in [false, true] {
                for prefix in [None, Some(len / 2)] {
                    if prefix.is_some() && op != Op::Write {
                        continue;
                    }
                    let tmp = tempfile::tempdir().expect("tempdir");
                    prepare(tmp.path(), scenario.before, scenario.retain);
                    let io = FaultIo::new(Fault::Fail {
                        op: n,
                        kind,
                        sticky,
                        prefix,
                    });
                    let mut store = FileStore::<Reference>::open_io(
                        tmp.path(),
                        SHARD,
                        FileStoreConfig::new().retain(scenario.retain),
                        io.clone(),
                    )
                    .expect("open");
                    let mut authority = store.claim().expect("claim");
                    io.arm();
                    let result = store.commit(seal(&authority), &mut authority);
                    let previous = Epoch(scenario.before);
                    let new = Epoch(scenario.before + 1);
                    if n > durable_after {
                        // Pruning is best effort: the commit stands.
                        assert_eq!(result.expect("durable").epoch, new);
                    } else {
                        let err = result.expect_err("the fault fails the commit");
                        assert_eq!(err.error.code(), code, "{kind:?} at {op:?}: {}", err.error);
                        assert!(matches!(err.error, StoreError::Io { .. }));
                        assert!(err.to_string().starts_with(code));
                        // A lasting failure of the directory sync cannot take
                        // the rename back: the new epoch, complete, is
                        // visible; a retry makes it durable.
                        let allowed: &[Epoch] = if sticky && op == Op::SyncDir {
                            &[previous, new]
                        } else {
                            &[previous]
                        };
                        let latest = store.load_latest().expect("load").map(|l| l.epoch());
                        assert!(
                            latest.is_some_and(|e| allowed.contains(&e)),
                            "{kind:?} at {op:?}: the previous epoch stays latest, not {latest:?}"
                        );
                        if !sticky {
                            assert!(
                                store.dir().temporaries().expect("list").is_empty(),
                                "a failed commit cleans up after itself"
                            );
                        }
                        io.heal();
                        let retried = store
                            .commit(err.into_sealed(), &mut authority)
                            .expect("the handed-back bundle commits once the fault is gone");
                        assert_eq!(retried.epoch, new);
                    }
                    drop(store);
                    check_shard(tmp.path(), &[Some(new)], Fence(1));
                    cases += 1;
                }
            }
        }
    }
    println!("typed I/O errors: {cases} injected failures checked");
}

/// A claim that cannot write its fence fails with a typed error and leaves
/// the shard as it was.
#[test]
fn claim_errors_are_typed() {
    for (kind, code) in [
        (ErrorKind::StorageFull, "E-STORE-FULL"),
        (ErrorKind::PermissionDenied, "E-STORE-DENIED"),
        (ErrorKind::ReadOnlyFilesystem, "E-STORE-READONLY"),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        prepare(tmp.path(), 1, 8);
        let io = FaultIo::new(Fault::Fail {
            op: 0,
            kind,
            sticky: true,
            prefix: None,
        });
        io.arm();
        let mut store =
            FileStore::<Reference>::open_io(tmp.path(), SHARD, FileStoreConfig::new(), io)
                .expect("open");
        let err = store.claim().expect_err("the fence cannot be written");
        assert_eq!(err.code(), code);
        assert_eq!(
            ShardDir::of(tmp.path(), SHARD).fence().expect("fence"),
            Fence(1)
        );
        drop(store);
        check_shard(tmp.path(), &[Some(Epoch(1))], Fence(1));
    }
}

/// Hand-crafted: the fence moves on disk behind the store's back (as a
/// claim that bypassed the lock would); the commit re-reads it and refuses
/// the bundle sealed under the older fence.
#[test]
fn commit_rereads_the_fence() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut store = real_store(tmp.path(), 8);
    let mut authority = store.claim().expect("claim");
    assert_eq!(authority.fence(), Fence(1));
    let sealed = seal(&authority);
    fs::write(
        store.dir().fence_path(),
        super::fence_contents(Fence(2)).as_bytes(),
    )
    .expect("overwrite");
    let err = store.commit(sealed, &mut authority).expect_err("fenced");
    assert!(
        matches!(
            err.error,
            StoreError::Fenced {
                current: Fence(2),
                found: Fence(1)
            }
        ),
        "{}",
        err.error
    );
    assert!(store.latest_epoch().expect("list").is_none());
}

/// A directory sync that fails after the rename takes the rename back, so
/// that what is visible agrees with the error.
#[test]
fn failed_directory_sync_undoes_the_rename() {
    let tmp = tempfile::tempdir().expect("tempdir");
    prepare(tmp.path(), 1, 8);
    let io = FaultIo::new(Fault::Fail {
        op: 4,
        kind: ErrorKind::Other,
        sticky: false,
        prefix: None,
    });
    let mut store =
        FileStore::<Reference>::open_io(tmp.path(), SHARD, FileStoreConfig::new(), io.clone())
            .expect("open");
    let mut authority = store.claim().expect("claim");
    io.arm();
    let err = store
        .commit(seal(&authority), &mut authority)
        .expect_err("sync fails");
    assert_eq!(io.ops()[4].0, Op::SyncDir);
    assert_eq!(err.error.code(), "E-STORE-IO");
    assert_eq!(store.epochs().expect("list"), [Epoch(1)]);
    assert!(store.dir().temporaries().expect("list").is_empty());
}

#[test]
fn fence_file_format_is_strict() {
    assert_eq!(
        super::parse_fence(b"caelmor-persist fence 7\n"),
        Some(Fence(7))
    );
    // The largest fence has 20 digits.
    assert_eq!(
        super::parse_fence(b"caelmor-persist fence 18446744073709551615\n"),
        Some(Fence(u64::MAX))
    );
    for bad in [
        &b""[..],
        b"caelmor-persist fence 7",
        b"caelmor-persist fence \n",
        b"caelmor-persist fence -1\n",
        b"caelmor-persist fence +7\n",
        b"caelmor-persist fence 000000000000000000007\n",
        b"caelmor-persist fence 99999999999999999999\n",
        b"caelmor-persist fence 7\n\n",
        b"\xff",
    ] {
        assert_eq!(super::parse_fence(bad), None, "{bad:?}");
    }
}
