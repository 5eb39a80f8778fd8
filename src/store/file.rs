//! The embedded, durable store: one directory per shard on the local file
//! system, one file per epoch.
//!
//! ```text
//! <root>/
//!   shard-1/                              one directory per shard
//!     lock                                held (OS lock) by the claiming store
//!     fence                               "caelmor-persist fence 3\n"
//!     epoch-00000000000000000041.cpb      one bundle per epoch; names sort by epoch
//!     epoch-00000000000000000042.cpb      ← the latest
//!     .epoch-00000000000000000043.cpb.tmp a commit in progress (or a crash's leftover)
//! ```
//!
//! A commit writes the bundle to a temporary file in the shard directory,
//! syncs it, renames it into place and syncs the directory; the fence file
//! is replaced the same way. Loads ignore temporary files; the next claim
//! removes them. Epochs beyond the retention are removed after a commit,
//! without a directory sync of their own (a removal a crash undoes only
//! brings back an older epoch, pruned again by the next commit).

mod io;
#[cfg(all(test, feature = "reference"))]
mod tests;

use core::fmt;
use core::marker::PhantomData;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use self::io::{Io, RealIo};
use super::{CommitError, Committed, Loaded, Store, StoreError, admit, sealed};
use crate::authority::{ServerAuthority, unique_token};
use crate::format::typed_reader;
use crate::format::{DIGEST_LEN, DigestKey};
use crate::gate::Committable;
use crate::ids::{Epoch, Fence, ShardId};
use crate::save::Sealed;
use crate::schema::Schema;
use crate::verify::VerifyOptions;

const EPOCH_PREFIX: &str = "epoch-";
const EPOCH_SUFFIX: &str = ".cpb";
const EPOCH_DIGITS: usize = 20;
const FENCE_FILE: &str = "fence";
const LOCK_FILE: &str = "lock";
const TEMP_SUFFIX: &str = ".tmp";
const FENCE_MAGIC: &str = "caelmor-persist fence ";

fn io_error(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| StoreError::Io { op, path, source }
}

/// A failed atomic write: the error, and whether the new file was left
/// visible (renamed into place, durability unknown).
struct WriteFailure {
    error: StoreError,
    visible: bool,
}

impl WriteFailure {
    fn before_rename(error: StoreError) -> Self {
        Self {
            error,
            visible: false,
        }
    }
}

/// The layout of one shard's directory, for reading it without claiming it:
/// which epochs it holds, its fence, and the names of its files.
///
/// [`FileStore`] writes through this layout; operators' tools (the
/// `caelmor-persist log` command) read through it.
///
/// ```
/// use caelmor_persist::{Epoch, ShardDir, ShardId};
///
/// let dir = ShardDir::of("caelmor-data", ShardId(1));
/// assert!(dir.path().ends_with("shard-1"));
/// assert_eq!(
///     ShardDir::epoch_file_name(Epoch(42)),
///     "epoch-00000000000000000042.cpb"
/// );
/// assert_eq!(
///     ShardDir::parse_epoch_file_name("epoch-00000000000000000042.cpb"),
///     Some(Epoch(42))
/// );
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

    /// The file name of an epoch's bundle: `epoch-` and the epoch in 20
    /// zero-padded digits, then `.cpb`, so that names sort by epoch.
    #[must_use]
    pub fn epoch_file_name(epoch: Epoch) -> String {
        format!(
            "{EPOCH_PREFIX}{:0width$}{EPOCH_SUFFIX}",
            epoch.0,
            width = EPOCH_DIGITS
        )
    }

    /// The epoch an epoch file's name stands for, or `None` for any other
    /// name (temporary files, metadata, names not in the one exact form).
    #[must_use]
    pub fn parse_epoch_file_name(name: &str) -> Option<Epoch> {
        let digits = name
            .strip_prefix(EPOCH_PREFIX)?
            .strip_suffix(EPOCH_SUFFIX)?;
        if digits.len() != EPOCH_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let epoch = Epoch(digits.parse().ok()?);
        (epoch >= Epoch::FIRST).then_some(epoch)
    }

    /// Whether a file name is a temporary file of an unfinished write (a
    /// commit in progress, or a crash's leftover).
    #[must_use]
    pub fn is_temporary(name: &str) -> bool {
        name.len() > 1 + TEMP_SUFFIX.len() && name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
    }

    /// The path of an epoch's bundle (whether or not it exists).
    #[must_use]
    pub fn epoch_path(&self, epoch: Epoch) -> PathBuf {
        self.path.join(Self::epoch_file_name(epoch))
    }

    /// The path of the fence file.
    #[must_use]
    pub fn fence_path(&self) -> PathBuf {
        self.path.join(FENCE_FILE)
    }

    /// The path of the lock file a claiming store holds locked.
    #[must_use]
    pub fn lock_path(&self) -> PathBuf {
        self.path.join(LOCK_FILE)
    }

    fn names(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("list", &self.path)(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error("list", &self.path))?;
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// The epochs whose bundle files the directory holds, oldest first. A
    /// directory that does not exist holds none.
    ///
    /// # Errors
    /// `E-STORE-IO` (or a more specific I/O code) if the directory cannot be
    /// listed.
    pub fn epochs(&self) -> Result<Vec<Epoch>, StoreError> {
        let mut epochs: Vec<Epoch> = self
            .names()?
            .iter()
            .filter_map(|n| Self::parse_epoch_file_name(n))
            .collect();
        epochs.sort_unstable();
        Ok(epochs)
    }

    /// The latest epoch whose bundle file the directory holds.
    ///
    /// # Errors
    /// As [`ShardDir::epochs`].
    pub fn latest_epoch(&self) -> Result<Option<Epoch>, StoreError> {
        Ok(self.epochs()?.last().copied())
    }

    /// Temporary files left in the directory, by name.
    ///
    /// # Errors
    /// As [`ShardDir::epochs`].
    pub fn temporaries(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut names: Vec<String> = self
            .names()?
            .into_iter()
            .filter(|n| Self::is_temporary(n))
            .collect();
        names.sort_unstable();
        Ok(names.into_iter().map(|n| self.path.join(n)).collect())
    }

    /// The shard's current fence: that of its latest claim, or `fence#0` if
    /// it was never claimed.
    ///
    /// # Errors
    /// `E-STORE-META` if the fence file is not in the format the store
    /// writes; an I/O code if it cannot be read.
    pub fn fence(&self) -> Result<Fence, StoreError> {
        let path = self.fence_path();
        let text = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Fence(0)),
            Err(e) => return Err(io_error("read", &path)(e)),
        };
        parse_fence(&text).ok_or_else(|| StoreError::BadMetadata {
            path,
            detail: format!("expected \"{FENCE_MAGIC}<number>\" and a newline"),
        })
    }
}

fn fence_contents(fence: Fence) -> String {
    format!("{FENCE_MAGIC}{}\n", fence.0)
}

fn parse_fence(bytes: &[u8]) -> Option<Fence> {
    let text = core::str::from_utf8(bytes).ok()?;
    let digits = text.strip_prefix(FENCE_MAGIC)?.strip_suffix('\n')?;
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Fence)
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}{TEMP_SUFFIX}"))
}

/// How a [`FileStore`] is set up: its digest key and how many epochs it
/// keeps.
///
/// ```
/// use caelmor_persist::{DigestKey, FileStoreConfig};
/// let config = FileStoreConfig::new()
///     .key(DigestKey::from_bytes([7; 32]))
///     .retain(3);
/// assert_eq!(config.retained(), 3);
/// assert_eq!(FileStoreConfig::new().retained(), FileStoreConfig::DEFAULT_RETAIN);
/// ```
#[derive(Clone, Debug)]
pub struct FileStoreConfig {
    key: Option<DigestKey>,
    retain: usize,
}

impl Default for FileStoreConfig {
    fn default() -> Self {
        Self {
            key: None,
            retain: Self::DEFAULT_RETAIN,
        }
    }
}

impl FileStoreConfig {
    /// How many epochs a store keeps unless told otherwise.
    pub const DEFAULT_RETAIN: usize = 8;

    /// Unkeyed digests, [`DEFAULT_RETAIN`](Self::DEFAULT_RETAIN) epochs kept.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Digests bundles with `key`, and verifies loads with it.
    #[must_use]
    pub fn key(mut self, key: DigestKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Keeps the latest `epochs` epochs (at least 1: the latest is never
    /// removed). Older ones are removed after each successful commit.
    #[must_use]
    pub fn retain(mut self, epochs: usize) -> Self {
        self.retain = epochs.max(1);
        self
    }

    /// How many epochs are kept.
    #[must_use]
    pub fn retained(&self) -> usize {
        self.retain
    }

    /// Whether bundles are digested with a key.
    #[must_use]
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }
}

/// A [`Store`] that keeps a shard's epochs as files in one directory: the
/// embedded default, with nothing to install or start.
///
/// - **Atomic, durable commits.** The bundle is written to a temporary file
///   in the shard directory, synced, renamed into place, and the directory
///   is synced, before [`commit`](Store::commit) returns. After a crash at
///   any point the shard holds either the previous latest epoch or the new
///   one, complete.
/// - **One authority.** [`claim`](Store::claim) takes an exclusive OS lock
///   on the shard directory's `lock` file and holds it until the store is
///   dropped: a claim by another process, or by another `FileStore` in this
///   one, fails with `E-STORE-CLAIMED`. Each claim increments and persists
///   the shard's fence, so bundles sealed under an earlier claim are refused
///   (`E-STORE-FENCED`).
/// - **No silent rollback.** [`load_latest`](Store::load_latest) verifies
///   the latest bundle against every rule of the format, its records
///   included; if it is damaged the error names the file and its epoch
///   (`E-STORE-DAMAGED`) and the store does not fall back to an older
///   epoch. [`FileStore::load_epoch`] loads an older one, explicitly.
/// - **One read.** Verifying a bundle means reading its records; the
///   [`Loaded`] value carries them, and a [`Restore::open`](crate::Restore::open)
///   under this store's schema, key and shard takes them instead of reading
///   the bytes again. (Any other restore, or a clone of the `Loaded`, reads
///   the bytes.)
/// - **Retention.** The latest [`FileStoreConfig::retain`] epochs are kept;
///   older ones are removed after a successful commit, never before, and
///   never the latest.
///
/// ```
/// use caelmor_persist::{FileStore, Restore, Save, ShardId, Store, StoreError};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let root = tempfile::tempdir()?;
/// let world = ShardSpec::small().generate(7);
///
/// let mut store = FileStore::<Reference>::open(root.path(), ShardId(1))?;
/// let mut authority = store.claim()?;
/// let sealed = Save::begin(&authority)
///     .players(&world.players)?
///     .world(&world.zones)?
///     .npcs(&world.npcs)?
///     .items(&world.items)?
///     .quests(&world.quests)?
///     .seal();
/// store.commit(sealed, &mut authority)?;
///
/// // While this store lives, nobody else can claim the shard.
/// let mut rival = FileStore::<Reference>::open(root.path(), ShardId(1))?;
/// let refused = rival.claim().unwrap_err();
/// assert!(matches!(refused, StoreError::Claimed { .. }));
/// assert_eq!(refused.code(), "E-STORE-CLAIMED");
///
/// // What was committed is on disk, verified on every load.
/// let loaded = store.load_latest()?.expect("epoch 1 was committed");
/// let restore = Restore::open(loaded, &authority)?;
/// assert_eq!(restore.epoch().get(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FileStore<S: Schema> {
    id: u64,
    shard: ShardId,
    dir: ShardDir,
    config: FileStoreConfig,
    fence: Fence,
    lock: Option<File>,
    /// A commit of this store that is visible but whose directory sync
    /// failed: its epoch and digest, so that retrying it completes it.
    unsynced: Option<(Epoch, [u8; DIGEST_LEN])>,
    io: Arc<dyn Io>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema> FileStore<S> {
    /// Opens (creating it if needed) the directory of `shard` under `root`,
    /// `<root>/shard-<n>`, with unkeyed digests and the default retention.
    /// Opening does not claim: any number of stores may open a shard to
    /// read it.
    ///
    /// # Errors
    /// An I/O code if the directory cannot be created;
    /// `E-STORE-META` if its fence file is not valid.
    pub fn open(root: impl AsRef<Path>, shard: ShardId) -> Result<Self, StoreError> {
        Self::open_with(root, shard, FileStoreConfig::new())
    }

    /// As [`open`](Self::open), with bundles digested with `key` (see
    /// [`MemStore::with_key`](crate::MemStore::with_key)).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn with_key(
        root: impl AsRef<Path>,
        shard: ShardId,
        key: DigestKey,
    ) -> Result<Self, StoreError> {
        Self::open_with(root, shard, FileStoreConfig::new().key(key))
    }

    /// As [`open`](Self::open), with a configuration.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(
        root: impl AsRef<Path>,
        shard: ShardId,
        config: FileStoreConfig,
    ) -> Result<Self, StoreError> {
        Self::open_io(root.as_ref(), shard, config, Arc::new(RealIo))
    }

    pub(crate) fn open_io(
        root: &Path,
        shard: ShardId,
        config: FileStoreConfig,
        io: Arc<dyn Io>,
    ) -> Result<Self, StoreError> {
        let dir = ShardDir::of(root, shard);
        if !dir.path().is_dir() {
            fs::create_dir_all(dir.path()).map_err(io_error("create directory", dir.path()))?;
            // Make the new directory's own entry durable.
            if let Some(parent) = dir.path().parent().filter(|p| !p.as_os_str().is_empty()) {
                io.sync_dir(parent)
                    .map_err(io_error("sync directory", parent))?;
            }
        }
        let fence = dir.fence()?;
        Ok(Self {
            id: unique_token(),
            shard,
            dir,
            config,
            fence,
            lock: None,
            unsynced: None,
            io,
            _schema: PhantomData,
        })
    }

    /// The shard this store holds.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.shard
    }

    /// The shard's directory.
    #[must_use]
    pub fn dir(&self) -> &ShardDir {
        &self.dir
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &FileStoreConfig {
        &self.config
    }

    /// The fence of this store's latest claim, or the shard's fence when
    /// the store was opened if it has not claimed yet.
    #[must_use]
    pub fn fence(&self) -> Fence {
        self.fence
    }

    /// Whether this store holds the shard's claim (and its lock).
    #[must_use]
    pub fn is_claimed(&self) -> bool {
        self.lock.is_some()
    }

    /// The latest committed epoch, if any.
    ///
    /// # Errors
    /// An I/O code if the directory cannot be listed.
    pub fn latest_epoch(&self) -> Result<Option<Epoch>, StoreError> {
        self.dir.latest_epoch()
    }

    /// Every epoch the directory holds, oldest first.
    ///
    /// # Errors
    /// An I/O code if the directory cannot be listed.
    pub fn epochs(&self) -> Result<Vec<Epoch>, StoreError> {
        self.dir.epochs()
    }

    /// Loads a named epoch, explicitly (for operators and tests; a server
    /// restores with [`Store::load_latest`]). `None` if the store does not
    /// hold it (never committed, or pruned).
    ///
    /// # Errors
    /// `E-STORE-DAMAGED` (naming the file and epoch) if the bundle fails
    /// verification (every rule of the format, records included); an I/O
    /// code if it cannot be read.
    pub fn load_epoch(&self, epoch: Epoch) -> Result<Option<Loaded>, StoreError> {
        match self.load_verified(epoch) {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    fn load_verified(&self, epoch: Epoch) -> Result<Loaded, StoreError> {
        let path = self.dir.epoch_path(epoch);
        let bytes = fs::read(&path).map_err(io_error("read", &path))?;
        let options = VerifyOptions::for_schema::<S>(self.shard, epoch, self.config.key.as_ref());
        // Verified by reading the records, which the restore that follows
        // a load then takes over instead of reading them again.
        let opened = typed_reader::read::<S>(&bytes, &options);
        match opened {
            Ok(records) => Ok(Loaded::opened(
                bytes,
                epoch,
                self.config.key.clone(),
                self.shard,
                records,
            )),
            Err(rejection) => Err(StoreError::DamagedFile {
                path,
                epoch,
                rejection,
            }),
        }
    }

    /// Replaces `target` with `data`, atomically and durably: temporary
    /// file, write, sync, rename, directory sync. `target_is_new` says that
    /// `target` did not exist before, so that a rename whose durability is
    /// unknown (the directory sync failed) can be undone.
    fn write_atomic(
        &self,
        target: &Path,
        data: &[u8],
        target_is_new: bool,
    ) -> Result<(), WriteFailure> {
        let temp = temp_path(target);
        let staged = (|| {
            let mut file = self.io.create(&temp).map_err(io_error("create", &temp))?;
            self.io
                .write(&mut file, &temp, data)
                .map_err(io_error("write", &temp))?;
            self.io.sync(&file, &temp).map_err(io_error("sync", &temp))
        })();
        if let Err(error) = staged {
            let _ = self.io.remove(&temp);
            return Err(WriteFailure::before_rename(error));
        }
        if let Err(source) = self.io.rename(&temp, target) {
            let _ = self.io.remove(&temp);
            return Err(WriteFailure::before_rename(StoreError::Io {
                op: "rename into place",
                path: target.to_owned(),
                source,
            }));
        }
        if let Err(source) = self.io.sync_dir(self.dir.path()) {
            // The rename is visible but may not survive a crash: take it
            // back, so that what is visible agrees with the error.
            let undone = target_is_new && self.io.rename(target, &temp).is_ok();
            if undone {
                let _ = self.io.remove(&temp);
            }
            return Err(WriteFailure {
                error: StoreError::Io {
                    op: "sync directory",
                    path: self.dir.path().to_owned(),
                    source,
                },
                visible: !undone,
            });
        }
        Ok(())
    }

    fn try_commit(
        &mut self,
        sealed: &Sealed<S>,
        authority: &ServerAuthority<S>,
    ) -> Result<Committed, StoreError> {
        // Re-read what is on disk: the fence may have moved on since this
        // store's claim if anything bypassed its lock.
        let mut latest = self.dir.latest_epoch()?;
        let fence = self.dir.fence()?.max(self.fence);
        // The retry of this store's own commit whose directory sync failed
        // and whose rename could not be taken back: the very same bundle is
        // already visible as the latest, and only needs to be made durable.
        let retry = self.unsynced == Some((sealed.epoch(), sealed.digest()))
            && latest == Some(sealed.epoch());
        if retry {
            latest = sealed
                .epoch()
                .0
                .checked_sub(1)
                .filter(|&e| e > 0)
                .map(Epoch);
        }
        admit(self.id, self.shard, fence, latest, sealed, authority)?;
        if retry {
            self.io
                .sync_dir(self.dir.path())
                .map_err(io_error("sync directory", self.dir.path()))?;
        } else {
            let target = self.dir.epoch_path(sealed.epoch());
            if let Err(failure) = self.write_atomic(&target, sealed.bytes(), true) {
                if failure.visible {
                    self.unsynced = Some((sealed.epoch(), sealed.digest()));
                }
                return Err(failure.error);
            }
        }
        self.unsynced = None;
        Ok(Committed::of(sealed))
    }

    /// Removes epochs older than the retained ones, oldest first, after a
    /// successful commit. Best effort: the commit is already durable, so a
    /// failure here is left for the next commit to retry.
    ///
    /// The removals are not followed by a directory sync: one that a crash
    /// undoes brings back an epoch older than the durable latest, which no
    /// load picks over it and the next commit prunes again. A sync here
    /// would cost every commit a second journal flush to make sure of
    /// nothing (the crash model in `file/tests.rs` loses such removals).
    fn prune(&self, latest: Epoch) {
        let Ok(epochs) = self.dir.epochs() else {
            return;
        };
        let excess = epochs.len().saturating_sub(self.config.retain.max(1));
        for &epoch in epochs.iter().take(excess) {
            if epoch >= latest || self.io.remove(&self.dir.epoch_path(epoch)).is_err() {
                break;
            }
        }
    }

    /// Removes temporary leftovers of interrupted writes.
    fn clean_temporaries(&self) -> Result<(), StoreError> {
        let temporaries = self.dir.temporaries()?;
        for temp in &temporaries {
            self.io.remove(temp).map_err(io_error("remove", temp))?;
        }
        if !temporaries.is_empty() {
            self.io
                .sync_dir(self.dir.path())
                .map_err(io_error("sync directory", self.dir.path()))?;
        }
        Ok(())
    }

    /// Takes the shard's OS lock, unless this store already holds it.
    fn lock(&mut self) -> Result<(), StoreError> {
        if self.lock.is_some() {
            return Ok(());
        }
        let path = self.dir.lock_path();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error("open", &path))?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(file);
                Ok(())
            }
            Err(TryLockError::WouldBlock) => Err(StoreError::Claimed {
                path: self.dir.path().to_owned(),
            }),
            Err(TryLockError::Error(source)) => Err(StoreError::Io {
                op: "lock",
                path,
                source,
            }),
        }
    }
}

impl<S: Schema> fmt::Debug for FileStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("schema", &S::NAME)
            .field("shard", &self.shard)
            .field("dir", &self.dir.path())
            .field("fence", &self.fence)
            .field("claimed", &self.is_claimed())
            .field("retain", &self.config.retain)
            .finish_non_exhaustive()
    }
}

impl<S: Schema> sealed::Sealed for FileStore<S> {}

impl<S: Schema> Store<S> for FileStore<S> {
    type Error = StoreError;

    /// Takes the shard's OS lock (kept until the store is dropped), removes
    /// temporary leftovers, then increments and persists the fence.
    ///
    /// # Errors
    /// `E-STORE-CLAIMED` while another store holds the shard; `E-STORE-META`
    /// for an invalid fence file; an I/O code if the lock, the cleanup or
    /// the fence cannot be written.
    fn claim(&mut self) -> Result<ServerAuthority<S>, StoreError> {
        self.lock()?;
        self.clean_temporaries()?;
        let current = self.dir.fence()?.max(self.fence);
        let fence = current
            .0
            .checked_add(1)
            .map(Fence)
            .ok_or(StoreError::Exhausted)?;
        self.write_atomic(
            &self.dir.fence_path(),
            fence_contents(fence).as_bytes(),
            false,
        )
        .map_err(|failure| failure.error)?;
        self.fence = fence;
        Ok(ServerAuthority::mint(
            self.id,
            self.shard,
            fence,
            self.dir.latest_epoch()?,
            self.config.key.clone(),
        ))
    }

    fn commit<B: Committable<S>>(
        &mut self,
        bundle: B,
        authority: &mut ServerAuthority<S>,
    ) -> Result<Committed, CommitError<S>> {
        let sealed = bundle.into_sealed();
        match self.try_commit(&sealed, authority) {
            Ok(committed) => {
                authority.committed(committed.epoch);
                self.prune(committed.epoch);
                Ok(committed)
            }
            Err(error) => Err(CommitError::new(error, sealed)),
        }
    }

    /// Loads and verifies the latest epoch's bundle.
    ///
    /// # Errors
    /// `E-STORE-DAMAGED`, naming the file and the epoch, if it fails
    /// verification — the store does not fall back to an older epoch; an
    /// I/O code if it cannot be read.
    fn load_latest(&self) -> Result<Option<Loaded>, StoreError> {
        match self.dir.latest_epoch()? {
            None => Ok(None),
            Some(epoch) => self.load_verified(epoch).map(Some),
        }
    }
}
