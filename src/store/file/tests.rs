//! The crash model of [`FileBackend`](super::FileBackend), through the I/O
//! seam ([`Io`]).
//!
//! [`FaultIo`] runs every mutating file-system operation of opening a new
//! shard, a claim and a commit for real, counts them, and can stop the
//! "process" before any of them or in the middle of a write (after a prefix
//! of the data), or fail any one with the error a full disk, a permission,
//! a read-only mount or a failing device gives.
//!
//! It also keeps what a real disk would not have made durable yet, **per
//! directory**: data written to a file but not synced, and the entries
//! created, linked or removed in each directory since *that* directory was
//! last synced. A sync of one directory says nothing about another's
//! entries (a sync aimed at the wrong directory must not look like a
//! correct one).
//!
//! Every crash point is then checked as a process crash (the files as they
//! are) and as every power loss the point allows: each name changed since
//! its directory's last sync may be found in any state it passed through
//! since then — which is what undoing any subset of the directory's
//! unsynced changes gives, not only a suffix of them — and the data of
//! each unsynced file intact, torn (half of it) or lost. A directory whose
//! own creation is undone takes its whole content with it.
//!
//! At every resulting state the shard is reopened with the real file-system
//! code, and must show what each step that returned `Ok` promised: the
//! latest epoch is the one the last acknowledged commit made (or the one a
//! commit in progress was making), complete — it restores record for record
//! through `load_latest`, `Restore::open`, the five steps and `activate` —
//! never an older one, never "empty" once a commit was acknowledged; the
//! next claim gets a fence above every acknowledged claim's; and the shard
//! claims, cleans up and commits the next epoch.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::io::{Io, RealIo};
use super::{FileBackend, FileStore, ShardDir};
use crate::authority::ServerAuthority;
use crate::format::{DIGEST_LEN, PREAMBLE_LEN};
use crate::ids::{Epoch, Fence, ShardId};
use crate::reference::{Reference, Shard, ShardSpec};
use crate::restore::Restore;
use crate::save::{Save, Sealed};
use crate::store::{Loaded, Store, StoreConfig, StoreError};

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

/// Restores `loaded` through the whole chain and activates it.
fn restore_all(loaded: Loaded<Reference>, authority: &ServerAuthority<Reference>) -> Shard {
    let active = Restore::open(loaded, authority)
        .expect("a loaded bundle opens with the authority of its store")
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(authority)
        .expect("the same, current authority activates");
    Shard {
        players: active.players,
        zones: active.zones,
        npcs: active.npcs,
        items: active.items,
        quests: active.quests,
    }
}

/// A scratch directory, in memory where the machine has one: the model
/// decides what is durable, so real `fsync`s only cost time.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("tempdir")
}

/// The store root inside a scratch directory: not the scratch directory
/// itself, so that a new store's root is created too.
fn root_of(base: &Path) -> PathBuf {
    base.join("store")
}

fn store_with(
    root: &Path,
    io: Arc<dyn Io>,
    retain: usize,
) -> Result<FileStore<Reference>, StoreError> {
    Ok(Store::with_backend(
        FileBackend::open_io(root, SHARD, io)?,
        StoreConfig::new().retain(retain),
    ))
}

fn real_store(root: &Path, retain: usize) -> FileStore<Reference> {
    store_with(root, Arc::new(RealIo), retain).expect("open")
}

fn errno_error(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

// ---------------------------------------------------------------------------
// The fault-injecting seam.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    CreateDir,
    Create,
    Write,
    Sync,
    Link,
    SyncDir,
    Remove,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// The process dies just before armed operation `n` (0-based).
    CrashBefore(usize),
    /// The process dies during armed operation `op`, a write, after
    /// `prefix` bytes of it reached the file.
    CrashInWrite {
        op: usize,
        prefix: usize,
    },
    /// Armed operation `op` fails with `errno` (a write after writing
    /// `prefix` bytes, if given); every later one fails too if `sticky`.
    Fail {
        op: usize,
        errno: i32,
        sticky: bool,
        prefix: Option<usize>,
    },
}

/// One armed operation as it ran (or was stopped, or failed).
#[derive(Clone, Debug)]
struct OpRecord {
    op: Op,
    path: PathBuf,
    len: usize,
    failed: bool,
}

/// Our own inode numbers: hard links share one.
type Ino = u64;

/// What a name in a directory refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Absent,
    File(Ino),
    Dir,
}

/// A change of one directory entry not yet made durable by a sync of that
/// directory.
#[derive(Clone, Debug)]
struct Change {
    name: String,
    before: Node,
    after: Node,
}

/// What the disk has not made durable yet.
#[derive(Clone, Debug, Default)]
struct Volatile {
    next_ino: Ino,
    /// The inode of each name the seam created, linked, or found and
    /// touched; names the seam never touched are durable as they are.
    inos: BTreeMap<PathBuf, Ino>,
    /// The content of inodes at the time a name of theirs was removed.
    removed: BTreeMap<Ino, Vec<u8>>,
    /// Inodes whose data is not durable.
    unsynced: BTreeSet<Ino>,
    /// Per directory, the changes of its entries since its last sync.
    entries: BTreeMap<PathBuf, Vec<Change>>,
}

impl Volatile {
    fn ino_of(&mut self, path: &Path) -> Ino {
        if let Some(&ino) = self.inos.get(path) {
            return ino;
        }
        self.next_ino += 1;
        self.inos.insert(path.to_path_buf(), self.next_ino);
        self.next_ino
    }

    fn new_ino(&mut self, path: &Path) -> Ino {
        self.next_ino += 1;
        self.inos.insert(path.to_path_buf(), self.next_ino);
        self.next_ino
    }

    fn change(&mut self, path: &Path, before: Node, after: Node) {
        let dir = path.parent().expect("a parent").to_path_buf();
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        self.entries.entry(dir).or_default().push(Change {
            name,
            before,
            after,
        });
    }
}

/// An operation to run just before armed operation `n`, e.g. another
/// writer's claim, to interleave two writers deterministically.
type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct FaultState {
    fault: Option<Fault>,
    armed: bool,
    count: usize,
    dead: bool,
    failing: Option<i32>,
    ops: Vec<OpRecord>,
    volatile: Volatile,
    hooks: BTreeMap<usize, Hook>,
}

#[derive(Default)]
struct FaultIo {
    state: Mutex<FaultState>,
}

impl std::fmt::Debug for FaultIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaultIo")
    }
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
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

    /// If the process crashed, a new one starts: operations run again.
    /// Returns whether it had crashed.
    fn revive(&self) -> bool {
        let mut s = self.lock();
        std::mem::replace(&mut s.dead, false)
    }

    fn hook(&self, before_op: usize, hook: Hook) {
        self.lock().hooks.insert(before_op, hook);
    }

    fn ops(&self) -> Vec<OpRecord> {
        self.lock().ops.clone()
    }

    fn volatile(&self) -> Volatile {
        self.lock().volatile.clone()
    }

    fn decide(&self, op: Op, path: &Path, len: usize) -> Verdict {
        let (verdict, hook) = {
            let mut s = self.lock();
            if s.dead {
                return Verdict::Refuse(crashed());
            }
            if !s.armed {
                return Verdict::Run;
            }
            let n = s.count;
            s.count += 1;
            let hook = s.hooks.remove(&n);
            let verdict = if let Some(errno) = s.failing {
                Verdict::Refuse(errno_error(errno))
            } else {
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
                        errno,
                        sticky,
                        prefix,
                    } if at == n => {
                        if sticky {
                            s.failing = Some(errno);
                        }
                        match prefix {
                            Some(p) if op == Op::Write => Verdict::Partial(p, errno_error(errno)),
                            _ => Verdict::Refuse(errno_error(errno)),
                        }
                    }
                    _ => Verdict::Run,
                }
            };
            let failed = !matches!(verdict, Verdict::Run);
            s.ops.push(OpRecord {
                op,
                path: path.to_path_buf(),
                len,
                failed,
            });
            (verdict, hook)
        };
        // Outside the lock: the hook is another writer with its own seam.
        if let Some(hook) = hook {
            hook();
        }
        verdict
    }

    fn track(&self, f: impl FnOnce(&mut Volatile)) {
        f(&mut self.lock().volatile);
    }
}

impl Io for FaultIo {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        match self.decide(Op::CreateDir, path, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        RealIo.create_dir(path)?;
        self.track(|v| v.change(path, Node::Absent, Node::Dir));
        Ok(())
    }

    fn create_new(&self, path: &Path) -> io::Result<fs::File> {
        match self.decide(Op::Create, path, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        let file = RealIo.create_new(path)?;
        self.track(|v| {
            let ino = v.new_ino(path);
            v.unsynced.insert(ino);
            v.change(path, Node::Absent, Node::File(ino));
        });
        Ok(file)
    }

    fn write(&self, file: &mut fs::File, path: &Path, data: &[u8]) -> io::Result<()> {
        let verdict = self.decide(Op::Write, path, data.len());
        // Whatever reaches the file is not durable before a sync.
        self.track(|v| {
            let ino = v.ino_of(path);
            v.unsynced.insert(ino);
        });
        match verdict {
            Verdict::Run => RealIo.write(file, path, data),
            Verdict::Partial(prefix, e) => {
                file.write_all(&data[..prefix.min(data.len())])?;
                Err(e)
            }
            Verdict::Refuse(e) => Err(e),
        }
    }

    fn sync(&self, file: &fs::File, path: &Path) -> io::Result<()> {
        match self.decide(Op::Sync, path, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        RealIo.sync(file, path)?;
        self.track(|v| {
            let ino = v.ino_of(path);
            v.unsynced.remove(&ino);
        });
        Ok(())
    }

    fn link(&self, from: &Path, to: &Path) -> io::Result<()> {
        match self.decide(Op::Link, to, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        RealIo.link(from, to)?;
        self.track(|v| {
            let ino = v.ino_of(from);
            v.inos.insert(to.to_path_buf(), ino);
            v.change(to, Node::Absent, Node::File(ino));
        });
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        match self.decide(Op::SyncDir, dir, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        RealIo.sync_dir(dir)?;
        // This directory's entries only: not its parent's, not its
        // children's, not a sibling's.
        self.track(|v| {
            v.entries.remove(dir);
        });
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        match self.decide(Op::Remove, path, 0) {
            Verdict::Run => {}
            Verdict::Partial(_, e) | Verdict::Refuse(e) => return Err(e),
        }
        let content = fs::read(path).ok();
        RealIo.remove(path)?;
        self.track(|v| {
            let ino = v.ino_of(path);
            v.inos.remove(path);
            v.removed.insert(ino, content.unwrap_or_default());
            v.change(path, Node::File(ino), Node::Absent);
        });
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Power loss: what the disk may hold after the machine stops.

/// A file tree: each path (absolute, under a scratch directory) is a
/// directory or a file with its bytes and, if the seam touched it, its
/// inode.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Dir,
    File(Vec<u8>, Option<Ino>),
}

type Tree = BTreeMap<PathBuf, Item>;

fn snapshot(base: &Path, volatile: &Volatile) -> Tree {
    fn walk(dir: &Path, volatile: &Volatile, tree: &mut Tree) {
        for entry in fs::read_dir(dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            let meta = fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                tree.insert(path.clone(), Item::Dir);
                walk(&path, volatile, tree);
            } else {
                let bytes = fs::read(&path).expect("readable");
                let ino = volatile.inos.get(&path).copied();
                tree.insert(path, Item::File(bytes, ino));
            }
        }
    }
    let mut tree = Tree::new();
    walk(base, volatile, &mut tree);
    tree
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Data {
    Intact,
    Torn,
    Lost,
}

const DATA: [Data; 3] = [Data::Intact, Data::Torn, Data::Lost];

/// Every distinct tree a power loss can leave, from the files as they are
/// (`tree`) and what was not durable (`volatile`).
fn power_losses(base: &Path, tree: &Tree, volatile: &Volatile) -> Vec<Tree> {
    // The bytes of an inode: from a live name, or as it was removed.
    let mut content: BTreeMap<Ino, Vec<u8>> = volatile.removed.clone();
    for item in tree.values() {
        if let Item::File(bytes, Some(ino)) = item {
            content.insert(*ino, bytes.clone());
        }
    }
    // Each changed name, and every state it passed through since its
    // directory's last sync.
    let mut names: Vec<(PathBuf, Vec<Node>)> = Vec::new();
    for (dir, changes) in &volatile.entries {
        let mut by_name: BTreeMap<&str, Vec<Node>> = BTreeMap::new();
        for c in changes {
            let states = by_name.entry(&c.name).or_insert_with(|| vec![c.before]);
            states.push(c.after);
        }
        for (name, mut states) in by_name {
            states.sort_unstable();
            states.dedup();
            names.push((dir.join(name), states));
        }
    }
    let combinations: usize = names.iter().map(|(_, s)| s.len()).product();
    assert!(combinations <= 1 << 12, "{combinations} combinations");
    let mut out: BTreeSet<Tree> = BTreeSet::new();
    for mut pick in 0..combinations {
        let mut t = tree.clone();
        for (path, states) in &names {
            let state = states[pick % states.len()];
            pick /= states.len();
            match state {
                Node::Absent => {
                    t.remove(path);
                }
                Node::Dir => {
                    t.insert(path.clone(), Item::Dir);
                }
                Node::File(ino) => {
                    let bytes = content.get(&ino).cloned().unwrap_or_default();
                    t.insert(path.clone(), Item::File(bytes, Some(ino)));
                }
            }
        }
        // A directory whose entry is gone takes its content with it.
        let dirs: BTreeSet<PathBuf> = t
            .iter()
            .filter(|(_, i)| matches!(i, Item::Dir))
            .map(|(p, _)| p.clone())
            .collect();
        t.retain(|p, _| {
            p.ancestors()
                .skip(1)
                .take_while(|a| *a != base)
                .all(|a| dirs.contains(a))
        });
        // The data of each unsynced inode still reachable, every way.
        let unsynced: Vec<Ino> = t
            .values()
            .filter_map(|i| match i {
                Item::File(_, Some(ino)) if volatile.unsynced.contains(ino) => Some(*ino),
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for mut variant in 0..DATA.len().pow(unsynced.len() as u32) {
            let mut v = t.clone();
            for ino in &unsynced {
                let data = DATA[variant % DATA.len()];
                variant /= DATA.len();
                for item in v.values_mut() {
                    if let Item::File(bytes, Some(i)) = item
                        && i == ino
                    {
                        let keep = match data {
                            Data::Intact => bytes.len(),
                            Data::Torn => bytes.len() / 2,
                            Data::Lost => 0,
                        };
                        bytes.truncate(keep);
                    }
                }
            }
            out.insert(v);
        }
    }
    // Inode numbers are bookkeeping, not state: two trees with the same
    // bytes at the same names are one state.
    let mut distinct: BTreeSet<Tree> = BTreeSet::new();
    for t in out {
        distinct.insert(
            t.into_iter()
                .map(|(p, i)| match i {
                    Item::File(bytes, _) => (p, Item::File(bytes, None)),
                    Item::Dir => (p, Item::Dir),
                })
                .collect(),
        );
    }
    distinct.into_iter().collect()
}

/// Lays `tree` (taken under `from`) out under the empty directory `to`.
fn materialize(tree: &Tree, from: &Path, to: &Path) {
    for (path, item) in tree {
        let at = to.join(path.strip_prefix(from).expect("under the base"));
        match item {
            Item::Dir => fs::create_dir_all(&at).expect("mkdir"),
            Item::File(bytes, _) => {
                fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
                fs::write(&at, bytes).expect("write");
            }
        }
    }
}

/// Copies a prepared tree into a fresh scratch directory.
fn copy_tree(from: &Path, to: &Path) {
    let tree = snapshot(from, &Volatile::default());
    materialize(&tree, from, to);
}

// ---------------------------------------------------------------------------
// What every state must show.

/// What the steps that returned before the crash promised.
#[derive(Clone, Copy, Debug)]
struct Promise {
    /// The latest epoch of the last acknowledged commit (or of the
    /// prepared shard).
    latest: Option<Epoch>,
    /// The epoch of a commit that did not return `Ok` (crashed or failed):
    /// it may or may not have become the latest.
    in_progress: Option<Epoch>,
    /// The fence of the last acknowledged claim (or of the prepared shard):
    /// the next claim must get a higher one.
    fence: Fence,
}

impl Promise {
    fn allowed(&self) -> Vec<Option<Epoch>> {
        let mut allowed = vec![self.latest];
        if let Some(e) = self.in_progress {
            allowed.push(Some(e));
        }
        allowed
    }
}

/// Reopens the shard under `root` with the real file system and checks the
/// promise: the latest epoch is an allowed one, complete, restored record
/// for record; every committed epoch kept loads; the next claim's fence is
/// above the promised one; the claim leaves only committed bundles and no
/// temporaries; the next epoch commits and loads. Returns the latest epoch
/// found.
fn check_shard(root: &Path, promise: &Promise) -> Option<Epoch> {
    let mut store = real_store(root, 64);
    let loaded = store
        .load_latest()
        .unwrap_or_else(|e| panic!("the latest epoch is complete and verifies: {e}"));
    let latest = loaded.as_ref().map(Loaded::epoch);
    assert!(
        promise.allowed().contains(&latest),
        "latest {latest:?} is not one of {:?}",
        promise.allowed()
    );
    for epoch in store.epochs().expect("list") {
        assert!(
            store
                .load_epoch(epoch)
                .unwrap_or_else(|e| panic!("{epoch} is committed and kept, so complete: {e}"))
                .is_some(),
            "{epoch} listed but absent"
        );
    }
    let authority = store
        .claim()
        .unwrap_or_else(|e| panic!("the shard can be claimed after a crash: {e}"));
    assert!(
        authority.fence() > promise.fence,
        "the claim got {} after {} was acknowledged",
        authority.fence(),
        promise.fence
    );
    // A temporary of this very fence can only be a crashed attempt at this
    // same claim (a head that never landed), and is harmless: the next
    // claim removes it.
    let stale: Vec<PathBuf> = store
        .dir()
        .temporaries()
        .expect("list")
        .into_iter()
        .filter(|t| temp_fence(t).is_none_or(|f| f < authority.fence()))
        .collect();
    assert_eq!(
        stale,
        Vec::<PathBuf>::new(),
        "the claim removes the temporaries of older fences"
    );
    assert_eq!(
        store.dir().stored().expect("list").len(),
        store.epochs().expect("list").len(),
        "the claim removes bundles that were never committed"
    );
    // The load before the claim was under the previous fence: load again
    // under this one to restore.
    let loaded = store.load_latest().expect("load");
    assert_eq!(loaded.as_ref().map(Loaded::epoch), latest);
    if let Some(loaded) = loaded {
        let epoch = loaded.epoch();
        assert!(
            restore_all(loaded, &authority) == world(epoch),
            "{epoch} restores in full, record for record"
        );
    }
    let next = latest.map_or(Epoch::FIRST, |e| e.next().expect("small"));
    assert_eq!(authority.next_epoch(), next);
    let committed = store
        .commit(seal(&authority), &authority)
        .unwrap_or_else(|e| panic!("the shard commits again after a crash: {e}"));
    assert_eq!(committed.epoch, next);
    assert_eq!(
        store.load_latest().expect("load").map(|l| l.epoch()),
        Some(next)
    );
    latest
}

/// The writer's fence a temporary's name carries
/// (`.<final name>.fence-<n>.<pid>-<k>.tmp`).
fn temp_fence(path: &Path) -> Option<Fence> {
    let name = path.file_name()?.to_str()?;
    let digits = name.rsplit_once(".fence-")?.1.split('.').next()?;
    digits.parse().ok().map(Fence)
}

// ---------------------------------------------------------------------------
// Scenarios.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Open the store (creating the shard's directory, and the root, if
    /// they are missing).
    Open,
    Claim,
    Commit,
    /// The process exits (or, if it crashed earlier, is gone) and a new
    /// one carries on from here with the disk as the crash left it, before
    /// any power loss.
    Restart,
}

/// What a scenario run left behind.
struct Run {
    promise: Promise,
    /// The whole scratch directory's files.
    tree: Tree,
    volatile: Volatile,
    ops: Vec<OpRecord>,
    /// Whether every step returned `Ok`.
    ok: bool,
}

/// One crash scenario: a prepared scratch directory, then armed steps
/// through [`FaultIo`].
#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    /// Lays out the store under the scratch directory; returns what it
    /// promises.
    prepare: fn(&Path) -> Promise,
    steps: &'static [Step],
    retain: usize,
}

/// Nothing: not even the store root.
fn prepare_nothing(_base: &Path) -> Promise {
    Promise {
        latest: None,
        in_progress: None,
        fence: Fence(0),
    }
}

/// A store root holding another shard, but not ours.
fn prepare_root(base: &Path) -> Promise {
    let root = root_of(base);
    let mut other = Store::<Reference, _>::with_backend(
        FileBackend::open(&root, ShardId(2)).expect("open"),
        StoreConfig::new(),
    );
    let _ = other.claim().expect("claim");
    prepare_nothing(base)
}

/// Epochs 1 and 2 under fence 1, and what a crashed writer of fence 1
/// left: epoch 3 published but never committed, and two temporaries.
fn prepare_leftovers(base: &Path) -> Promise {
    let root = root_of(base);
    let mut store = real_store(&root, 8);
    let authority = store.claim().expect("claim");
    for _ in 0..2 {
        store.commit(seal(&authority), &authority).expect("commit");
    }
    let dir = store.dir().clone();
    let unpublished = seal(&authority);
    let stored = crate::store::StoredEpoch {
        epoch: Epoch(3),
        fence: Fence(1),
    };
    fs::write(dir.epoch_path(stored), unpublished.bytes()).expect("plant");
    let name = ShardDir::epoch_file_name(stored);
    fs::write(
        dir.path().join(format!(".{name}.fence-1.1-0.tmp")),
        &unpublished.bytes()[..100],
    )
    .expect("plant");
    let head = ShardDir::head_file_name(4);
    fs::write(
        dir.path().join(format!(".{head}.fence-1.1-1.tmp")),
        b"caelmor-persist head 1\nshard 1\n",
    )
    .expect("plant");
    Promise {
        latest: Some(Epoch(2)),
        in_progress: None,
        fence: Fence(1),
    }
}

/// 64 epochs under fence 1, two kept: 65 heads, 64 of them kept.
fn prepare_many_heads(base: &Path) -> Promise {
    let root = root_of(base);
    let mut store = real_store(&root, 2);
    let authority = store.claim().expect("claim");
    for _ in 0..64 {
        store.commit(seal(&authority), &authority).expect("commit");
    }
    assert_eq!(store.dir().head_versions().expect("list").len(), 64);
    Promise {
        latest: Some(Epoch(64)),
        in_progress: None,
        fence: Fence(1),
    }
}

const SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "a new store: create the root and the shard, first claim, first commit",
        prepare: prepare_nothing,
        steps: &[Step::Open, Step::Claim, Step::Commit],
        retain: 8,
    },
    Scenario {
        name: "a new shard in an existing root: create it, first claim, first commit",
        prepare: prepare_root,
        steps: &[Step::Open, Step::Claim, Step::Commit],
        retain: 8,
    },
    Scenario {
        name: "a new store, a crash anywhere, then another process: open, claim, commit",
        prepare: prepare_nothing,
        steps: &[
            Step::Open,
            Step::Claim,
            Step::Commit,
            Step::Restart,
            Step::Open,
            Step::Claim,
            Step::Commit,
        ],
        retain: 8,
    },
    Scenario {
        name: "claim over a crash's leftovers, then two commits",
        prepare: prepare_leftovers,
        steps: &[Step::Open, Step::Claim, Step::Commit, Step::Commit],
        retain: 8,
    },
    Scenario {
        name: "claim and commit that prune the oldest epoch and the oldest head",
        prepare: prepare_many_heads,
        steps: &[Step::Open, Step::Claim, Step::Commit],
        retain: 2,
    },
];

impl Scenario {
    /// Prepares the scenario once, in a directory to copy for each run.
    fn template(&self) -> (tempfile::TempDir, Promise) {
        let dir = scratch();
        let promise = (self.prepare)(dir.path());
        (dir, promise)
    }

    /// Runs the steps with `fault` in `base`, a copy of the template.
    fn run(&self, template: &(tempfile::TempDir, Promise), base: &Path, fault: Fault) -> Run {
        copy_tree(template.0.path(), base);
        let mut promise = template.1;
        let root = root_of(base);
        let io = FaultIo::new(fault);
        io.arm();
        let mut store = None;
        let mut authority = None;
        let mut ok = true;
        let mut steps = self.steps.iter();
        while let Some(step) = steps.next() {
            let done = match step {
                Step::Restart => {
                    store = None;
                    authority = None;
                    true
                }
                Step::Open => match store_with(&root, io.clone(), self.retain) {
                    Ok(s) => {
                        store = Some(s);
                        true
                    }
                    Err(_) => false,
                },
                Step::Claim => match store.as_mut().expect("opened").claim() {
                    Ok(a) => {
                        // The claim's head is durable, and it carries the
                        // latest epoch the claim saw: that one is promised
                        // now, whatever a crashed commit left.
                        promise.fence = a.fence();
                        promise.latest =
                            (a.next_epoch() > Epoch::FIRST).then(|| Epoch(a.next_epoch().0 - 1));
                        promise.in_progress = None;
                        authority = Some(a);
                        true
                    }
                    Err(_) => false,
                },
                Step::Commit => {
                    let a = authority.as_mut().expect("claimed");
                    let sealed = seal(a);
                    let epoch = sealed.epoch();
                    match store.as_mut().expect("opened").commit(sealed, a) {
                        Ok(c) => {
                            assert_eq!(c.epoch, epoch);
                            promise.latest = Some(epoch);
                            true
                        }
                        Err(_) => {
                            promise.in_progress = Some(epoch);
                            false
                        }
                    }
                }
            };
            if !done {
                ok = false;
                // A process that crashed is followed by the next one, if
                // the scenario has one; a step that failed ends the run.
                if !io.revive() || !steps.any(|s| *s == Step::Restart) {
                    break;
                }
                store = None;
                authority = None;
            }
        }
        // The process is gone: its lock with it.
        drop(store);
        let volatile = io.volatile();
        Run {
            promise,
            tree: snapshot(base, &volatile),
            volatile,
            ops: io.ops(),
            ok,
        }
    }

    /// Every crash point: before each operation and after the last, inside
    /// each write at several prefixes of its data; and each operation other
    /// than a (best-effort) removal failing — a directory sync once or for
    /// good — after which the process carries on until the power goes.
    fn crash_points(&self, template: &(tempfile::TempDir, Promise)) -> Vec<Fault> {
        let base = scratch();
        let run = self.run(template, base.path(), Fault::None);
        assert!(run.ok, "{}: the unfaulted run succeeds", self.name);
        let mut points: Vec<Fault> = (0..=run.ops.len()).map(Fault::CrashBefore).collect();
        for (n, r) in run.ops.iter().enumerate() {
            if r.op != Op::Write {
                continue;
            }
            let len = r.len;
            let mut prefixes = vec![
                1,
                PREAMBLE_LEN,
                len / 2,
                len.saturating_sub(DIGEST_LEN),
                len - 1,
            ];
            prefixes.retain(|&p| p > 0 && p < len);
            prefixes.sort_unstable();
            prefixes.dedup();
            points.extend(
                prefixes
                    .into_iter()
                    .map(|prefix| Fault::CrashInWrite { op: n, prefix }),
            );
        }
        for (n, r) in run.ops.iter().enumerate() {
            let fail = |errno, sticky, prefix| Fault::Fail {
                op: n,
                errno,
                sticky,
                prefix,
            };
            match r.op {
                Op::CreateDir | Op::Create => points.push(fail(libc::EACCES, false, None)),
                Op::Write => points.push(fail(libc::ENOSPC, false, Some(r.len / 2))),
                Op::Sync | Op::Link => points.push(fail(libc::EIO, false, None)),
                Op::SyncDir => {
                    points.extend([false, true].map(|sticky| fail(libc::EIO, sticky, None)));
                }
                Op::Remove => {}
            }
        }
        points
    }
}

/// How the crash model went: per scenario, crash points, of which failures,
/// and distinct post-crash states checked.
fn explore(scenario: &Scenario) -> (usize, usize, usize) {
    let template = scenario.template();
    let points = scenario.crash_points(&template);
    let mut states = 0;
    for fault in &points {
        let base = scratch();
        let run = scenario.run(&template, base.path(), *fault);
        for (k, tree) in power_losses(base.path(), &run.tree, &run.volatile)
            .iter()
            .enumerate()
        {
            let after = scratch();
            materialize(tree, base.path(), after.path());
            let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
                check_shard(&root_of(after.path()), &run.promise)
            }));
            if checked.is_err() {
                let files: Vec<String> = tree
                    .iter()
                    .map(|(p, i)| {
                        let p = p.strip_prefix(base.path()).expect("under base").display();
                        match i {
                            Item::Dir => format!("{p}/"),
                            Item::File(b, _) => format!("{p} ({} bytes)", b.len()),
                        }
                    })
                    .collect();
                panic!(
                    "{}: {fault:?}, power-loss state {k}: {:?} promised; files:\n  {}",
                    scenario.name,
                    run.promise,
                    files.join("\n  ")
                );
            }
            states += 1;
        }
    }
    let failures = points
        .iter()
        .filter(|f| matches!(f, Fault::Fail { .. }))
        .count();
    (points.len(), failures, states)
}

/// Explores one scenario and checks the figures TESTING.md states: crash
/// points, of which an operation failing, and distinct post-crash states.
fn crash_model(scenario: &Scenario, expected: (usize, usize, usize)) {
    let figures = explore(scenario);
    println!(
        "crash model: {}: {} crash points ({} of them an operation failing, then power loss), {} post-crash states",
        scenario.name, figures.0, figures.1, figures.2
    );
    assert_eq!(figures, expected, "{}", scenario.name);
}

#[test]
fn crash_model_new_store() {
    crash_model(&SCENARIOS[0], (62, 24, 187));
}

#[test]
fn crash_model_new_shard() {
    crash_model(&SCENARIOS[1], (60, 23, 177));
}

#[test]
fn crash_model_crash_then_another_process() {
    crash_model(&SCENARIOS[2], (113, 42, 284));
}

#[test]
fn crash_model_claim_over_leftovers_then_two_commits() {
    crash_model(&SCENARIOS[3], (89, 30, 668));
}

#[test]
fn crash_model_pruning() {
    crash_model(&SCENARIOS[4], (55, 18, 228));
}

// ---------------------------------------------------------------------------
// The operations, in order.

/// What an operation touched, for reading a sequence: the directories by
/// role, the files by kind.
fn label(base: &Path, path: &Path) -> &'static str {
    let root = root_of(base);
    let shard = ShardDir::of(&root, SHARD);
    if path == base {
        return "the root's parent";
    }
    if path == root {
        return "root";
    }
    if path == shard.path() {
        return "shard";
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let temp = ShardDir::is_temporary(name);
    match (name.trim_start_matches('.').split('-').next(), temp) {
        (Some("head"), false) => "head",
        (Some("head"), true) => "head temp",
        (Some("epoch"), false) => "bundle",
        (Some("epoch"), true) => "bundle temp",
        _ => "other",
    }
}

fn sequence(scenario: &Scenario) -> Vec<(Op, &'static str)> {
    let template = scenario.template();
    let base = scratch();
    let run = scenario.run(&template, base.path(), Fault::None);
    assert!(run.ok);
    run.ops
        .iter()
        .map(|r| (r.op, label(base.path(), &r.path)))
        .collect()
}

/// A new store: the root and the shard directory are created; their
/// entries are synced by the first claim, before its head is created; the
/// bundle's name is synced before the head that names it is created, and
/// that head is synced before the commit returns.
#[test]
fn a_new_store_s_first_claim_and_commit_are_the_documented_sequence() {
    use Op::*;
    assert_eq!(
        sequence(&SCENARIOS[0]),
        [
            (CreateDir, "root"),
            (CreateDir, "shard"),
            // claim
            (SyncDir, "root"),
            (SyncDir, "the root's parent"),
            (Create, "head temp"),
            (Write, "head temp"),
            (Sync, "head temp"),
            (Link, "head"),
            (Remove, "head temp"),
            (SyncDir, "shard"),
            // commit
            (Create, "bundle temp"),
            (Write, "bundle temp"),
            (Sync, "bundle temp"),
            (Link, "bundle"),
            (Remove, "bundle temp"),
            (SyncDir, "shard"),
            (Create, "head temp"),
            (Write, "head temp"),
            (Sync, "head temp"),
            (Link, "head"),
            (Remove, "head temp"),
            (SyncDir, "shard"),
        ]
    );
}

/// A claim over a crash's leftovers removes them after its head is
/// durable, and a commit prunes after its head is durable; neither waits
/// for its removals to be durable (a removal a crash undoes only brings
/// back something a later claim or commit removes again).
#[test]
fn claims_and_commits_clean_up_after_their_head_is_durable() {
    use Op::*;
    let head = [
        (Create, "head temp"),
        (Write, "head temp"),
        (Sync, "head temp"),
        (Link, "head"),
        (Remove, "head temp"),
        (SyncDir, "shard"),
    ];
    let bundle = [
        (Create, "bundle temp"),
        (Write, "bundle temp"),
        (Sync, "bundle temp"),
        (Link, "bundle"),
        (Remove, "bundle temp"),
        (SyncDir, "shard"),
    ];
    let mut claim_then_two_commits: Vec<(Op, &str)> = head.to_vec();
    // The two temporaries, then the bundle never committed.
    claim_then_two_commits.extend([
        (Remove, "bundle temp"),
        (Remove, "head temp"),
        (Remove, "bundle"),
    ]);
    for _ in 0..2 {
        claim_then_two_commits.extend(bundle);
        claim_then_two_commits.extend(head);
    }
    assert_eq!(sequence(&SCENARIOS[3]), claim_then_two_commits);

    let mut pruning: Vec<(Op, &str)> = head.to_vec();
    pruning.push((Remove, "head"));
    pruning.extend(bundle);
    pruning.extend(head);
    pruning.extend([(Remove, "head"), (Remove, "bundle")]);
    assert_eq!(sequence(&SCENARIOS[4]), pruning);
}

// ---------------------------------------------------------------------------
// Injected I/O errors.

/// The code a failure with `errno` must be reported with.
fn code_of(errno: i32) -> &'static str {
    match errno {
        libc::ENOSPC => "E-STORE-FULL",
        libc::EACCES => "E-STORE-DENIED",
        libc::EROFS => "E-STORE-READONLY",
        _ => "E-STORE-IO",
    }
}

/// What a failed step reported.
struct Failure {
    code: &'static str,
    text: String,
    io: bool,
}

impl Failure {
    fn of(error: &StoreError) -> Self {
        Self {
            code: error.code(),
            text: error.to_string(),
            io: matches!(error, StoreError::Io { .. }),
        }
    }
}

/// The latest epoch and the head's fence, read with the real file system
/// and no claim.
fn on_disk(root: &Path) -> (Option<Epoch>, Fence) {
    let store = real_store(root, 64);
    let latest = store
        .load_latest()
        .unwrap_or_else(|e| panic!("the latest epoch is intact: {e}"))
        .map(|l| l.epoch());
    let fence = store.head().expect("head").map_or(Fence(0), |h| h.fence);
    (latest, fence)
}

/// Runs `scenario`'s steps with `fault`; a step that fails must fail with
/// `code`, leave the latest epoch as it was (or, if the new head was
/// already linked when the failure came, the new one), and succeed when
/// retried once the fault is gone; a step that succeeds despite the fault
/// must have met it only in best-effort removals. Then the shard is checked
/// like a crash state.
fn fail_and_retry(
    scenario: &Scenario,
    template: &(tempfile::TempDir, Promise),
    fault: Fault,
    code: &str,
) {
    let base = scratch();
    copy_tree(template.0.path(), base.path());
    let root = root_of(base.path());
    let mut promise = template.1;
    let io = FaultIo::new(fault);
    io.arm();
    let mut store: Option<FileStore<Reference>> = None;
    let mut authority = None;
    let mut pending = None;
    for step in scenario.steps {
        let mut retried = false;
        loop {
            let from = io.ops().len();
            let result: Result<(), Failure> = match step {
                Step::Restart => unreachable!("not used here"),
                Step::Open => store_with(&root, io.clone(), scenario.retain)
                    .map(|s| {
                        store = Some(s);
                    })
                    .map_err(|e| Failure::of(&e)),
                Step::Claim => store
                    .as_mut()
                    .expect("opened")
                    .claim()
                    .map(|a| {
                        promise.fence = a.fence();
                        authority = Some(a);
                    })
                    .map_err(|e| Failure::of(&e)),
                Step::Commit => {
                    let a = authority.as_mut().expect("claimed");
                    let sealed = pending.take().unwrap_or_else(|| seal(a));
                    let epoch = sealed.epoch();
                    match store.as_mut().expect("opened").commit(sealed, a) {
                        Ok(c) => {
                            assert_eq!(c.epoch, epoch);
                            promise.latest = Some(epoch);
                            Ok(())
                        }
                        Err(e) => {
                            let failure = Failure::of(&e.error);
                            pending = Some(e.into_sealed());
                            Err(failure)
                        }
                    }
                }
            };
            let ops = io.ops();
            let mine = &ops[from..];
            match result {
                Ok(()) => {
                    if !retried {
                        assert!(
                            mine.iter().all(|r| !r.failed || r.op == Op::Remove),
                            "{step:?} succeeded although {fault:?} failed an operation it needs"
                        );
                    }
                    break;
                }
                Err(failure) => {
                    let text = &failure.text;
                    assert!(
                        !retried,
                        "{step:?} fails again once the fault is gone: {text}"
                    );
                    assert_eq!(failure.code, code, "{step:?} under {fault:?}: {text}");
                    assert!(failure.io, "an I/O failure is StoreError::Io: {text}");
                    assert!(text.starts_with(code), "{text}");
                    let head_linked = mine.iter().any(|r| {
                        r.op == Op::Link && !r.failed && label(base.path(), &r.path) == "head"
                    });
                    let (latest, fence) = on_disk(&root);
                    match (step, head_linked) {
                        (Step::Commit, true) => assert_eq!(
                            latest,
                            pending.as_ref().map(Sealed::epoch),
                            "the head was linked: the new epoch is visible, complete"
                        ),
                        _ => assert_eq!(latest, promise.latest, "the previous epoch is intact"),
                    }
                    if !head_linked {
                        assert!(fence <= promise.fence.max(template.1.fence));
                    }
                    io.heal();
                    retried = true;
                }
            }
        }
    }
    drop(store);
    // Then the power goes: every state it may leave keeps the promise.
    let volatile = io.volatile();
    let tree = snapshot(base.path(), &volatile);
    for t in power_losses(base.path(), &tree, &volatile) {
        let after = scratch();
        materialize(&t, base.path(), after.path());
        check_shard(&root_of(after.path()), &promise);
    }
}

/// Disk full, permission denied, read-only file system, a failing device:
/// at every operation of opening a new store, a claim over leftovers and a
/// commit that prunes, failing once or for good (a write after half its
/// data), each step either succeeds (the fault hit only a best-effort
/// removal) or fails with the fault's code, leaves the previous epoch
/// intact, and succeeds once the fault is gone.
#[test]
fn io_errors_are_typed_leave_the_previous_epoch_and_clear_on_retry() {
    let mut cases = 0;
    for scenario in [&SCENARIOS[0], &IO_ERRORS] {
        let template = scenario.template();
        let clean = {
            let base = scratch();
            scenario.run(&template, base.path(), Fault::None).ops
        };
        for errno in [libc::ENOSPC, libc::EACCES, libc::EROFS, libc::EIO] {
            for (n, r) in clean.iter().enumerate() {
                for sticky in [false, true] {
                    for prefix in [None, Some(r.len / 2)] {
                        if prefix.is_some() && r.op != Op::Write {
                            continue;
                        }
                        let fault = Fault::Fail {
                            op: n,
                            errno,
                            sticky,
                            prefix,
                        };
                        let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            fail_and_retry(scenario, &template, fault, code_of(errno));
                        }));
                        assert!(
                            checked.is_ok(),
                            "{}: {fault:?} at {:?}",
                            scenario.name,
                            r.op
                        );
                        cases += 1;
                    }
                }
            }
        }
    }
    println!("injected I/O errors: {cases} cases, each typed, each retried, then every power loss");
    assert_eq!(cases, 400);
}

/// A claim over a crash's leftovers, then a commit that prunes an epoch.
const IO_ERRORS: Scenario = Scenario {
    name: "claim over leftovers, commit that prunes",
    prepare: prepare_leftovers,
    steps: &[Step::Open, Step::Claim, Step::Commit],
    retain: 2,
};

// ---------------------------------------------------------------------------
// A superseded writer, stalled at every operation of its commit.

/// The head's fence and latest epoch (with the fence it was committed
/// under), read with the real file system.
fn head_of(root: &Path) -> (Fence, Option<(Epoch, Fence)>) {
    let head = ShardDir::of(root, SHARD)
        .head(SHARD)
        .expect("head")
        .expect("claimed");
    (head.fence, head.latest.map(|l| (l.epoch, l.fence)))
}

/// Writer A claims and seals, and is stalled before each operation of its
/// commit in turn while writer B — the lock bypassed: its file deleted —
/// claims (and, in a second round, commits). Whatever the interleaving: B's
/// claim is never undone (the head's fence stays B's), A's commit succeeds
/// only if its head was created before B's claim (and is then the epoch B's
/// commit builds on), and otherwise fails with `E-STORE-FENCED`; B's
/// acknowledged commit is the latest.
#[test]
fn a_superseded_writer_never_lands_wherever_it_stalls() {
    let template = IO_ERRORS.template();
    let before = template.1.latest.expect("prepared");
    let clean = {
        let base = scratch();
        IO_ERRORS.run(&template, base.path(), Fault::None).ops
    };
    // The operations of A's commit: those after the claim's last.
    let commit_ops = clean.len()
        - clean
            .iter()
            .position(|r| r.op == Op::Create && r.path.to_string_lossy().contains(".epoch-"))
            .expect("a bundle temp");
    let mut cases = 0;
    for b_commits in [false, true] {
        for k in 0..=commit_ops {
            let base = scratch();
            copy_tree(template.0.path(), base.path());
            let root = root_of(base.path());
            let io = FaultIo::new(Fault::None);
            let mut a = store_with(&root, io.clone(), IO_ERRORS.retain).expect("open");
            let a_authority = a.claim().expect("A claims");
            let a_fence = a_authority.fence();
            let sealed = seal(&a_authority);
            let mine = sealed.epoch();
            assert_eq!(mine, before.next().expect("small"));
            let b_result = Arc::new(Mutex::new(None));
            let b = {
                let root = root.clone();
                let b_result = Arc::clone(&b_result);
                move || {
                    // The attacker's way past the lock: delete its file.
                    fs::remove_file(ShardDir::of(&root, SHARD).lock_path()).expect("unlink");
                    let mut store = real_store(&root, 64);
                    let authority = store.claim().expect("B claims past the deleted lock");
                    let committed = b_commits.then(|| {
                        store
                            .commit(seal(&authority), &authority)
                            .expect("B, the current claim, commits")
                    });
                    *b_result.lock().expect("lock") = Some((authority.fence(), committed));
                }
            };
            io.arm();
            io.hook(k, Box::new(b));
            let result = a.commit(sealed, &a_authority);
            let ops = io.ops();
            if k == ops.len() {
                // B comes after the whole of A's commit.
                let hook = io.lock().hooks.remove(&k).expect("not run");
                hook();
            }
            let (b_fence, b_committed) = b_result.lock().expect("lock").take().expect("B ran");
            assert!(b_fence > a_fence);
            let a_landed_first = ops[..k.min(ops.len())]
                .iter()
                .any(|r| r.op == Op::Link && !r.failed && label(base.path(), &r.path) == "head");
            let context = format!("B after {k} of A's operations, B commits: {b_commits}");
            match &result {
                Ok(c) => {
                    assert!(
                        a_landed_first,
                        "{context}: A's commit succeeded after B's claim"
                    );
                    assert_eq!(c.epoch, mine);
                }
                Err(e) => {
                    assert!(
                        !a_landed_first,
                        "{context}: A's commit landed but failed: {e}"
                    );
                    assert_eq!(e.code(), "E-STORE-FENCED", "{context}: {e}");
                }
            }
            let (fence, latest) = head_of(&root);
            assert_eq!(fence, b_fence, "{context}: B's claim is never undone");
            let expected_latest = match (&b_committed, a_landed_first) {
                (Some(c), _) => {
                    let built_on = if a_landed_first { mine } else { before };
                    assert_eq!(Some(c.epoch), built_on.next(), "{context}");
                    Some((c.epoch, b_fence))
                }
                (None, true) => Some((mine, a_fence)),
                (None, false) => Some((before, template.1.fence)),
            };
            assert_eq!(latest, expected_latest, "{context}");
            drop(a);
            check_shard(
                &root,
                &Promise {
                    latest: expected_latest.map(|l| l.0),
                    in_progress: None,
                    fence: b_fence,
                },
            );
            cases += 1;
        }
    }
    println!("a superseded writer: {cases} interleavings");
    assert_eq!(cases, 28);
}
