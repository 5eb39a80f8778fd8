//! The embedded, durable backend: one directory per shard on the local file
//! system, one file per epoch, one small file per head version.
//!
//! ```text
//! <root>/
//!   shard-1/                                          one directory per shard
//!     lock                                            held (OS lock) by the owning store
//!     head-00000000000000000012                       the head, version 12: the latest
//!     head-00000000000000000011                       earlier heads (the last 64 are kept)
//!     epoch-00000000000000000041.fence-…0003.cpb      one bundle per epoch
//!     epoch-00000000000000000042.fence-…0003.cpb      ← what head 12 names as latest
//!     .epoch-00000000000000000043.fence-…0003.<n>.tmp a commit in progress, or a crash's leftover
//! ```
//!
//! **Nothing is ever replaced.** Every file is written under a temporary
//! name created exclusively (`O_CREAT | O_EXCL`: a symbolic link planted at
//! the name makes it fail), synced, and given its final name with
//! `link(2)`, which fails if the name exists. Bundle names carry the fence of
//! the writer, so two writers never contend for one name.
//!
//! **The head is a compare-and-swap.** Head `v + 1` is created only by the
//! writer that read head `v` as the latest; `link` lets exactly one writer
//! create it. So a commit is: publish the bundle file, sync the directory,
//! then create head `v + 1` naming it and sync the directory again — the
//! head's creation is the commit point. A superseded writer (its lock
//! bypassed: the lock file deleted, or a file system whose locks do not
//! reach other hosts) loses the race for head `v + 1` to the claim that
//! superseded it, and its bundle never becomes the latest.
//!
//! Old heads are pruned, so a writer that slept long enough could find
//! its `v + 1` free again: every head names the hash of the one it
//! replaced (`previous`), and a writer whose head is followed by one not
//! built on it withdraws it and reports a conflict. A claim removes the
//! temporaries of older fences; a writer whose temporary vanished before
//! its link was superseded, and reports a conflict too, not an I/O error.
//!
//! **A new shard is durable before anything in it is promised.** Opening
//! creates the shard directory (and the root) if needed; the shard's first
//! claim syncs the root and the root's parent before it creates the first
//! head, whoever created them — so an opener that crashed or failed before
//! syncing them is made good by the claim.
//!
//! The OS lock on `lock` only says "one owner at a time" (liveness): a
//! second store is refused at its claim (`E-STORE-CLAIMED`) instead of
//! superseding the first. Safety never depends on it.

mod head;
mod io;
mod read;
// The tests use the reference schema's records.
#[cfg(all(test, feature = "reference"))]
mod tests;

use core::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use self::read::read_bundle_file;

use self::io::{Io, RealIo};
use super::backend::{Backend, Head, StoredEpoch, Swap};
use super::{Store, StoreConfig, StoreError};
use crate::format::DigestKey;
use crate::ids::{Epoch, Fence, ShardId};
use crate::schema::Schema;

const EPOCH_PREFIX: &str = "epoch-";
const FENCE_INFIX: &str = ".fence-";
const EPOCH_SUFFIX: &str = ".cpb";
const HEAD_PREFIX: &str = "head-";
const DIGITS: usize = 20;
const LOCK_FILE: &str = "lock";
const TEMP_SUFFIX: &str = ".tmp";
/// The file an earlier layout of this store kept its fence in.
const LEGACY_FENCE_FILE: &str = "fence";

/// How many head versions are kept. Only the latest is needed; the ones
/// before it let a writer that lost a race find out that it did.
const HEADS_KEPT: u64 = 64;

fn number(n: u64) -> String {
    format!("{n:0DIGITS$}")
}

fn parse_number(digits: &str) -> Option<u64> {
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The layout of one shard's directory, for reading it without claiming it:
/// which epochs and heads it holds, and the names of its files.
///
/// [`FileBackend`] writes through this layout; operators' tools (the
/// `caelmor-persist log` command) read through it.
///
/// ```
/// use caelmor_persist::{Epoch, Fence, ShardDir, ShardId, StoredEpoch};
///
/// let dir = ShardDir::of("caelmor-data", ShardId(1));
/// assert!(dir.path().ends_with("shard-1"));
/// let stored = StoredEpoch { epoch: Epoch(42), fence: Fence(3) };
/// let name = ShardDir::epoch_file_name(stored);
/// assert_eq!(name, "epoch-00000000000000000042.fence-00000000000000000003.cpb");
/// assert_eq!(ShardDir::parse_epoch_file_name(&name), Some(stored));
/// assert_eq!(ShardDir::parse_epoch_file_name("epoch-42.cpb"), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShardDir {
    path: PathBuf,
}

impl ShardDir {
    /// The shard directory at `path` itself.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The directory of `shard` under a store root: `<root>/shard-<n>`.
    #[must_use]
    pub fn of(root: impl AsRef<Path>, shard: ShardId) -> Self {
        Self::new(root.as_ref().join(format!("shard-{}", shard.0)))
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file name of a bundle: `epoch-`, the epoch in 20 digits,
    /// `.fence-`, the writer's fence in 20 digits, `.cpb`; names sort by
    /// epoch.
    #[must_use]
    pub fn epoch_file_name(stored: StoredEpoch) -> String {
        format!(
            "{EPOCH_PREFIX}{}{FENCE_INFIX}{}{EPOCH_SUFFIX}",
            number(stored.epoch.0),
            number(stored.fence.0)
        )
    }

    /// The epoch and fence a bundle file's name stands for, or `None` for
    /// any other name (heads, temporaries, names not in the one exact form).
    #[must_use]
    pub fn parse_epoch_file_name(name: &str) -> Option<StoredEpoch> {
        let rest = name
            .strip_prefix(EPOCH_PREFIX)?
            .strip_suffix(EPOCH_SUFFIX)?;
        let (epoch, fence) = rest.split_once(FENCE_INFIX)?;
        let epoch = Epoch(parse_number(epoch)?);
        let fence = Fence(parse_number(fence)?);
        (epoch >= Epoch::FIRST && fence.0 >= 1).then_some(StoredEpoch { epoch, fence })
    }

    /// The file name of head version `version`.
    #[must_use]
    pub fn head_file_name(version: u64) -> String {
        format!("{HEAD_PREFIX}{}", number(version))
    }

    /// The head version a head file's name stands for.
    #[must_use]
    pub fn parse_head_file_name(name: &str) -> Option<u64> {
        parse_number(name.strip_prefix(HEAD_PREFIX)?).filter(|&v| v >= 1)
    }

    /// Whether a file name is a temporary file of an unfinished write (one
    /// in progress, or a crash's leftover).
    #[must_use]
    pub fn is_temporary(name: &str) -> bool {
        name.len() > 1 + TEMP_SUFFIX.len() && name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
    }

    /// The path of a bundle (whether or not it exists).
    #[must_use]
    pub fn epoch_path(&self, stored: StoredEpoch) -> PathBuf {
        self.path.join(Self::epoch_file_name(stored))
    }

    /// The path of head version `version`.
    #[must_use]
    pub fn head_path(&self, version: u64) -> PathBuf {
        self.path.join(Self::head_file_name(version))
    }

    /// The path of the lock file an owning store holds locked.
    #[must_use]
    pub fn lock_path(&self) -> PathBuf {
        self.path.join(LOCK_FILE)
    }

    /// Every name in the directory (none if it does not exist).
    ///
    /// # Errors
    /// An I/O code if the directory cannot be listed.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("list", self.path.display())(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(StoreError::io("list", self.path.display()))?;
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// The bundles the directory holds, by epoch and fence, oldest first —
    /// committed or not: [`Store::epochs`] tells which are committed.
    ///
    /// # Errors
    /// As [`ShardDir::names`].
    pub fn stored(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        let mut stored: Vec<StoredEpoch> = self
            .names()?
            .iter()
            .filter_map(|n| Self::parse_epoch_file_name(n))
            .collect();
        stored.sort_unstable();
        Ok(stored)
    }

    /// The head versions the directory holds, oldest first.
    ///
    /// # Errors
    /// As [`ShardDir::names`].
    pub fn head_versions(&self) -> Result<Vec<u64>, StoreError> {
        let mut versions: Vec<u64> = self
            .names()?
            .iter()
            .filter_map(|n| Self::parse_head_file_name(n))
            .collect();
        versions.sort_unstable();
        Ok(versions)
    }

    /// The committed epochs the directory holds, oldest first, each with
    /// the fence it was published under: what the head of `shard` names as
    /// latest, and the earlier epochs by the highest fence that published
    /// them (bundles of writers that lost their swap are left out). Reads
    /// the directory only; creates nothing.
    ///
    /// # Errors
    /// As [`ShardDir::head`].
    pub fn committed(&self, shard: ShardId) -> Result<Vec<StoredEpoch>, StoreError> {
        match self.head(shard)?.and_then(|h| h.latest) {
            None => Ok(Vec::new()),
            Some(latest) => Ok(crate::store::committed_candidates(&self.stored()?, &latest)),
        }
    }

    /// Temporary files left in the directory.
    ///
    /// # Errors
    /// As [`ShardDir::names`].
    pub fn temporaries(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(self
            .names()?
            .into_iter()
            .filter(|n| Self::is_temporary(n))
            .map(|n| self.path.join(n))
            .collect())
    }

    /// The shard's head: the highest head version, read strictly. `None`
    /// if the directory holds no head. An unreadable latest head is an
    /// error, never a reason to use an older one.
    ///
    /// # Errors
    /// `E-STORE-META` if the latest head file is not a valid head record
    /// for `shard` (or the directory is in an earlier layout);
    /// `E-STORE-NOT-FILE` if it is not a regular file; an I/O code.
    pub fn head(&self, shard: ShardId) -> Result<Option<Head>, StoreError> {
        Ok(self.read_head(shard)?.map(|stored| stored.head))
    }

    fn read_head(&self, shard: ShardId) -> Result<Option<head::Stored>, StoreError> {
        let names = self.names()?;
        let Some(version) = names
            .iter()
            .filter_map(|n| Self::parse_head_file_name(n))
            .max()
        else {
            if names.iter().any(|n| n == LEGACY_FENCE_FILE) {
                return Err(StoreError::BadMetadata {
                    location: self.path.join(LEGACY_FENCE_FILE).display().to_string(),
                    detail: "the shard is in the layout of an earlier caelmor-persist (a fence file, no head records); this version does not read it".to_owned(),
                });
            }
            return Ok(None);
        };
        self.read_head_version(shard, version).map(Some)
    }

    fn read_head_version(&self, shard: ShardId, version: u64) -> Result<head::Stored, StoreError> {
        let path = self.head_path(version);
        let bad = |detail: &str| StoreError::BadMetadata {
            location: path.display().to_string(),
            detail: detail.to_owned(),
        };
        let bytes = read::read_bounded(&path, head::MAX_LEN)?
            .ok_or_else(|| bad("it vanished while being read"))?;
        let stored = head::decode(shard, &bytes).map_err(bad)?;
        if stored.head.version != version {
            return Err(bad("its version differs from its name"));
        }
        Ok(stored)
    }
}

/// Creates `path` and whichever of its ancestors are missing, through the
/// I/O seam (so that the crash model sees each new directory entry), and
/// returns them, outermost first. A directory that another opener created
/// first is not a failure, and is returned too: that opener may not have
/// made it durable yet.
fn create_dirs<'p>(io: &dyn Io, path: &'p Path) -> Result<Vec<&'p Path>, StoreError> {
    let mut missing = Vec::new();
    let mut at = Some(path);
    while let Some(p) = at.filter(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
    {
        missing.push(p);
        at = p.parent();
    }
    missing.reverse();
    for p in &missing {
        match io.create_dir(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && p.is_dir() => {}
            Err(e) => return Err(StoreError::io("create directory", p.display())(e)),
        }
    }
    Ok(missing)
}

/// The directory holding `path`'s entry (`.` for a bare relative name;
/// none for the file system's root).
fn parent_of(path: &Path) -> Option<&Path> {
    path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    })
}

/// Where a [`FileBackend`]'s temporary file names come from: unique within
/// the process; the fence in the name makes them unique across writers.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// A shard in a directory of the local file system: the backend of
/// [`FileStore`].
///
///
/// ```text
/// <root>/
///   shard-1/                                          one directory per shard
///     lock                                            held (OS lock) by the owning store
///     head-00000000000000000012                       the head, version 12: the latest
///     head-00000000000000000011                       earlier heads (the last 64 are kept)
///     epoch-00000000000000000041.fence-…0003.cpb      one bundle per epoch
///     epoch-00000000000000000042.fence-…0003.cpb      ← what head 12 names as latest
///     .epoch-00000000000000000043.fence-…0003.<n>.tmp a commit in progress, or a crash's leftover
/// ```
///
/// **Nothing is ever replaced.** Every file is written under a temporary
/// name created exclusively (`O_CREAT | O_EXCL`: a symbolic link planted at
/// the name makes it fail), synced, and given its final name with
/// `link(2)`, which fails if the name exists. Bundle names carry the fence of
/// the writer, so two writers never contend for one name.
///
/// **The head is a compare-and-swap.** Head `v + 1` is created only by the
/// writer that read head `v` as the latest; `link` lets exactly one writer
/// create it. So a commit is: publish the bundle file, sync the directory,
/// then create head `v + 1` naming it and sync the directory again — the
/// head's creation is the commit point. A superseded writer (its lock
/// bypassed: the lock file deleted, or a file system whose locks do not
/// reach other hosts) loses the race for head `v + 1` to the claim that
/// superseded it, and its bundle never becomes the latest.
///
/// Old heads are pruned, so a writer that slept long enough could find
/// its `v + 1` free again: every head names the hash of the one it
/// replaced (`previous`), and a writer whose head is followed by one not
/// built on it withdraws it and reports a conflict. A claim removes the
/// temporaries of older fences; a writer whose temporary vanished before
/// its link was superseded, and reports a conflict too, not an I/O error.
///
/// **A new shard is durable before anything in it is promised.** Opening
/// creates the shard directory (and the root) if needed; the shard's first
/// claim syncs the root and the root's parent before it creates the first
/// head, whoever created them — so an opener that crashed or failed before
/// syncing them is made good by the claim.
///
/// The OS lock on `lock` only says "one owner at a time" (liveness): a
/// second store is refused at its claim (`E-STORE-CLAIMED`) instead of
/// superseding the first. Safety never depends on it.
pub struct FileBackend {
    shard: ShardId,
    dir: ShardDir,
    lock: Option<File>,
    io: Arc<dyn Io>,
}

impl FileBackend {
    /// The directory of `shard` under `root`, `<root>/shard-<n>`, created
    /// (with its parents) if needed.
    ///
    /// # Errors
    /// An I/O code if the directory cannot be created.
    pub fn open(root: impl AsRef<Path>, shard: ShardId) -> Result<Self, StoreError> {
        Self::open_io(root.as_ref(), shard, Arc::new(RealIo))
    }

    pub(crate) fn open_io(
        root: &Path,
        shard: ShardId,
        io: Arc<dyn Io>,
    ) -> Result<Self, StoreError> {
        let dir = ShardDir::of(root, shard);
        match fs::symlink_metadata(dir.path()) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) => {
                return Err(StoreError::NotAFile {
                    location: dir.path().display().to_string(),
                    kind: if meta.file_type().is_symlink() {
                        "a symbolic link, not a directory"
                    } else {
                        "not a directory"
                    },
                });
            }
            Err(_) => {
                // The shard directory's and the root's entries are made
                // durable by the shard's first claim (`claim`), whoever
                // created them: an open that failed or crashed half way is
                // made good there. Ancestors above the root that had to be
                // created too are synced now: nothing else knows of them.
                let root = dir.path().parent();
                for created in create_dirs(&*io, dir.path())? {
                    if created == dir.path() || Some(created) == root {
                        continue;
                    }
                    if let Some(parent) = parent_of(created) {
                        io.sync_dir(parent)
                            .map_err(StoreError::io("sync directory", parent.display()))?;
                    }
                }
            }
        }
        Ok(Self {
            shard,
            dir,
            lock: None,
            io,
        })
    }

    /// The shard's directory.
    #[must_use]
    pub fn dir(&self) -> &ShardDir {
        &self.dir
    }

    /// Whether this backend holds the shard's OS lock.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        self.io
            .sync_dir(self.dir.path())
            .map_err(StoreError::io("sync directory", self.dir.path().display()))
    }

    /// Writes `data` to a new temporary file (created exclusively, synced)
    /// named after `name` and `fence`, and returns its path.
    fn stage(&self, name: &str, fence: Fence, data: &[u8]) -> Result<PathBuf, StoreError> {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.path().join(format!(
            ".{name}.fence-{}.{}-{n}{TEMP_SUFFIX}",
            fence.0,
            std::process::id()
        ));
        let written = (|| {
            let mut file = self
                .io
                .create_new(&temp)
                .map_err(StoreError::io("create", temp.display()))?;
            self.io
                .write(&mut file, &temp, data)
                .map_err(StoreError::io("write", temp.display()))?;
            self.io
                .sync(&file, &temp)
                .map_err(StoreError::io("sync", temp.display()))
        })();
        match written {
            Ok(()) => Ok(temp),
            Err(e) => {
                let _ = self.io.remove(&temp);
                Err(e)
            }
        }
    }

    /// The compare-and-swap: creates head `next.version` (which must be the
    /// expected version + 1), linked to the expected head's file. Returns
    /// `Conflict` if another writer created that version first, or if the
    /// version after it exists and was not built on this one (the name was
    /// free only because it had been pruned).
    fn swap(&self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        let previous = match expected {
            None => None,
            Some(expected) => {
                match self.dir.read_head_version(self.shard, expected.version) {
                    Ok(stored) if stored.head == *expected => Some(stored.hash),
                    // The expected head is gone (pruned: no longer latest)
                    // or is not what the caller read.
                    Ok(_) | Err(StoreError::BadMetadata { .. }) => return Ok(Swap::Conflict),
                    Err(e) => return Err(e),
                }
            }
        };
        let want = expected.map_or(1, |h| h.version + 1);
        if next.version != want {
            return Ok(Swap::Conflict);
        }
        let bytes = head::encode(self.shard, next, previous.as_ref());
        let temp = self.stage(&ShardDir::head_file_name(next.version), next.fence, &bytes)?;
        let target = self.dir.head_path(next.version);
        let linked = self.io.link(&temp, &target);
        let _ = self.io.remove(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(Swap::Conflict),
            Err(e) if self.temp_removed(&e) => return Ok(Swap::Conflict),
            Err(e) => return Err(StoreError::io("link", target.display())(e)),
        }
        self.sync_dir()?;
        // A head after ours must have been built on ours; if one exists that
        // was not, our version's name had been pruned and reused: withdraw.
        let mine = head::link_of(&bytes);
        let later = self
            .dir
            .head_versions()?
            .into_iter()
            .find(|&v| v > next.version);
        if let Some(later) = later {
            let built_on_mine = later == next.version + 1
                && self
                    .dir
                    .read_head_version(self.shard, later)
                    .is_ok_and(|s| s.previous == Some(mine));
            if !built_on_mine {
                let _ = self.io.remove(&target);
                return Ok(Swap::Conflict);
            }
        }
        self.prune_heads(next.version);
        Ok(Swap::Done)
    }

    /// Whether a failed link means that this writer's temporary was
    /// removed under it. Only a claim removes other writers' temporaries,
    /// and only those of older fences: this writer has been superseded, and
    /// its swap is lost (a conflict, which the store reports as such), not
    /// failed.
    fn temp_removed(&self, error: &std::io::Error) -> bool {
        error.kind() == std::io::ErrorKind::NotFound && self.dir.path().is_dir()
    }

    /// Best effort: removes head versions that are no longer needed.
    fn prune_heads(&self, latest: u64) {
        let Ok(versions) = self.dir.head_versions() else {
            return;
        };
        for v in versions {
            if v + HEADS_KEPT <= latest {
                let _ = self.io.remove(&self.dir.head_path(v));
            }
        }
    }

    /// Best effort, after a claim: removes temporaries of writers with an
    /// older fence (they can never finish) — a name that is already gone is
    /// not a failure.
    fn remove_stale_temporaries(&self, fence: Fence) {
        let Ok(temps) = self.dir.temporaries() else {
            return;
        };
        for temp in temps {
            let name = temp.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let writer = name
                .split(".fence-")
                .nth(1)
                .and_then(|rest| rest.split('.').next())
                .and_then(|digits| digits.parse::<u64>().ok());
            if writer.is_none_or(|f| f < fence.0) {
                let _ = self.io.remove(&temp);
            }
        }
    }
}

impl fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileBackend")
            .field("shard", &self.shard)
            .field("dir", &self.dir.path())
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

impl Backend for FileBackend {
    fn shard(&self) -> ShardId {
        self.shard
    }

    fn location(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn location_of(&self, stored: StoredEpoch) -> String {
        self.dir.epoch_path(stored).display().to_string()
    }

    /// Takes an exclusive OS lock on the shard directory's `lock` file,
    /// kept until the backend is dropped.
    fn lock(&mut self) -> Result<(), StoreError> {
        if self.lock.is_some() {
            return Ok(());
        }
        let path = self.dir.lock_path();
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let file = options
            .open(&path)
            .map_err(StoreError::io("open", path.display()))?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(file);
                Ok(())
            }
            Err(TryLockError::WouldBlock) => Err(StoreError::Claimed {
                location: self.location(),
            }),
            Err(TryLockError::Error(source)) => Err(StoreError::Io {
                op: "lock",
                location: path.display().to_string(),
                source,
            }),
        }
    }

    fn settle(&mut self) -> Result<(), StoreError> {
        self.sync_dir()
    }

    fn head(&self) -> Result<Option<Head>, StoreError> {
        self.dir.head(self.shard)
    }

    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        if expected.is_none() {
            // The shard's first claim is the first promise made inside its
            // directory: the directory's entry in the root, and the root's
            // in its parent, must be durable first — whoever created them
            // (an open that failed or crashed before they were synced
            // leaves it to this claim).
            let root = parent_of(self.dir.path());
            for dir in [root, root.and_then(parent_of)].into_iter().flatten() {
                self.io
                    .sync_dir(dir)
                    .map_err(StoreError::io("sync directory", dir.display()))?;
            }
        }
        let swapped = self.swap(expected, next)?;
        if swapped == Swap::Done {
            self.remove_stale_temporaries(next.fence);
        }
        Ok(swapped)
    }

    fn publish(&mut self, expected: &Head, next: &Head, bundle: &[u8]) -> Result<Swap, StoreError> {
        let Some(latest) = next.latest else {
            return Ok(Swap::Conflict);
        };
        let stored = StoredEpoch {
            epoch: latest.epoch,
            fence: latest.fence,
        };
        let name = ShardDir::epoch_file_name(stored);
        let target = self.dir.epoch_path(stored);
        let temp = self.stage(&name, latest.fence, bundle)?;
        let mut linked = self.io.link(&temp, &target);
        if matches!(&linked, Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists) {
            // Only this writer (this fence) ever publishes under this name:
            // it is left over from its own earlier attempt, which no head
            // names (else this epoch would not be the next one) as long as
            // the head is still the expected one.
            if self.head()?.as_ref() != Some(expected) {
                let _ = self.io.remove(&temp);
                return Ok(Swap::Conflict);
            }
            linked = self
                .io
                .remove(&target)
                .and_then(|()| self.io.link(&temp, &target));
        }
        let _ = self.io.remove(&temp);
        if matches!(&linked, Err(e) if self.temp_removed(e)) {
            return Ok(Swap::Conflict);
        }
        linked.map_err(StoreError::io("link", target.display()))?;
        // The bundle's name must be durable before a head names it.
        self.sync_dir()?;
        let swapped = self.swap(Some(expected), next);
        if matches!(swapped, Ok(Swap::Conflict)) {
            // Never named by a head, and no other writer uses this name.
            let _ = self.io.remove(&target);
        }
        swapped
    }

    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError> {
        read::read_bounded(&self.dir.epoch_path(stored), max_len)
    }

    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        self.dir.stored()
    }

    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError> {
        let path = self.dir.epoch_path(stored);
        match self.io.remove(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("remove", path.display())(e)),
        }
    }
}

/// A [`Store`] that keeps a shard's epochs as files in one directory: the
/// embedded default, with nothing to install or start.
///
/// - **Atomic, durable commits.** The bundle is written to a temporary file
///   in the shard directory, synced, linked under its final name (never
///   replacing anything), and the directory is synced; then the next head
///   record is created the same way — that is the commit point — before
///   [`commit`](Store::commit) returns. After a crash at any point the shard
///   holds either the previous latest epoch or the new one, complete.
/// - **One owner, fenced.** [`claim`](Store::claim) takes an exclusive OS
///   lock on the shard directory's `lock` file, held until the store is
///   dropped: a claim by another process, or by another `FileStore` in this
///   one, fails with `E-STORE-CLAIMED`. Each claim increments the shard's
///   fence in a new head record, and a superseded writer cannot commit even
///   if the lock was bypassed.
/// - **No silent rollback.** The head records the latest committed epoch;
///   if its bundle is missing or damaged, [`load_latest`](Store::load_latest)
///   says so (`E-STORE-DAMAGED`) and never falls back to an older epoch; if
///   the head is missing while bundles remain, `E-STORE-HEAD`.
/// - **Hostile disks.** Files are read only if they are regular files (no
///   symbolic links, FIFOs or devices), and never beyond the length they can
///   have.
/// - **Retention.** The latest [`StoreConfig::retain`] epochs are kept;
///   older ones are removed after a successful commit.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{FileStore, Restore, Save, ShardId, StoreError};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let root = tempfile::tempdir()?;
/// let world = ShardSpec::small().generate(7);
///
/// let mut store = FileStore::<Reference>::open(root.path(), ShardId(1))?;
/// let authority = store.claim()?;
/// let sealed = Save::begin(&authority)
///     .players(&world.players)?
///     .world(&world.zones)?
///     .npcs(&world.npcs)?
///     .items(&world.items)?
///     .quests(&world.quests)?
///     .seal();
/// store.commit(sealed, &authority)?;
///
/// // While this store lives, nobody else can claim the shard.
/// let mut rival = FileStore::<Reference>::open(root.path(), ShardId(1))?;
/// let refused = rival.claim().unwrap_err();
/// assert_eq!(refused.code(), "E-STORE-CLAIMED");
///
/// // What was committed is on disk, verified on every load.
/// let loaded = store.load_latest()?.expect("epoch 1 was committed");
/// assert_eq!(loaded.epoch().get(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type FileStore<S> = Store<S, FileBackend>;

impl<S: Schema> Store<S, FileBackend> {
    /// Opens (creating it if needed) the directory of `shard` under `root`,
    /// `<root>/shard-<n>`, with unkeyed digests and the default retention.
    /// Opening does not claim: any number of stores may open a shard to
    /// read it.
    ///
    /// # Errors
    /// An I/O code if the directory cannot be created; `E-STORE-NOT-FILE`
    /// if the shard's path is not a directory.
    pub fn open(root: impl AsRef<Path>, shard: ShardId) -> Result<Self, StoreError> {
        Self::open_with(root, shard, StoreConfig::new())
    }

    /// As [`open`](Self::open), with bundles digested with `key`.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn with_key(
        root: impl AsRef<Path>,
        shard: ShardId,
        key: DigestKey,
    ) -> Result<Self, StoreError> {
        Self::open_with(root, shard, StoreConfig::new().key(key))
    }

    /// As [`open`](Self::open), with a configuration.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(
        root: impl AsRef<Path>,
        shard: ShardId,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        Ok(Self::with_backend(FileBackend::open(root, shard)?, config))
    }

    /// The shard's directory.
    #[must_use]
    pub fn dir(&self) -> &ShardDir {
        self.backend().dir()
    }
}
