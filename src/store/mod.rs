//! Where sealed bundles go: the [`Store`] contract and its implementations.
//!
//! A store commits a [`Sealed`] bundle whole or not at all, accepts only the
//! next epoch (Stage 21.0: no rollback via persistence), refuses an
//! authority that a later claim has fenced out (Stage 21.2 §9.6), and loads
//! the latest epoch without ever falling back silently to an older one.

mod file;
mod mem;

pub use file::{FileStore, FileStoreConfig, ShardDir};
pub use mem::MemStore;

use core::any::Any;
use core::fmt;
use std::sync::Arc;

use crate::authority::ServerAuthority;
use crate::format::{DigestKey, typed_reader};
use crate::gate::Committable;
use crate::ids::{Epoch, Fence, ShardId};
use crate::rejection::Rejection;
use crate::save::Sealed;
use crate::schema::Schema;

pub(crate) mod sealed {
    /// Stores live in this crate: only they can mint a `ServerAuthority`.
    pub trait Sealed {}
}

/// A bundle's bytes as a store loaded them, with the epoch the store says
/// they hold. [`Restore::open`](crate::Restore::open) rejects the bytes if
/// they hold any other epoch (`E-EPOCH`).
///
/// ```
/// use caelmor_persist::{Epoch, Loaded, MemStore, RejectionCode, Restore, ShardId, Store};
/// use caelmor_persist::reference::Reference;
///
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let authority = store.claim().unwrap();
/// let junk = Loaded::new(b"definitely not a bundle".to_vec(), Epoch(1));
/// let err = Restore::open(junk, &authority).unwrap_err();
/// assert_eq!(err.code(), RejectionCode::Magic);
/// ```
#[derive(Clone)]
pub struct Loaded {
    bytes: Vec<u8>,
    epoch: Epoch,
    /// The records, when the store that loaded the bytes already read them
    /// to verify the bundle; see [`Loaded::opened`].
    opened: Option<Arc<Opened>>,
}

/// A bundle a store has already read, every rule checked, for one schema,
/// key and shard: what [`Restore::open`](crate::Restore::open) would do
/// again otherwise.
struct Opened {
    key: Option<DigestKey>,
    shard: ShardId,
    /// A `typed_reader::Opened<S>` for the store's schema `S`.
    records: Box<dyn Any + Send + Sync>,
}

impl Loaded {
    /// Wraps bytes obtained from a store (or a backup, or a test) with the
    /// epoch they are expected to hold.
    #[must_use]
    pub fn new(bytes: Vec<u8>, epoch: Epoch) -> Self {
        Self {
            bytes,
            epoch,
            opened: None,
        }
    }

    /// Bytes a store has read for schema `S` under `key`, expecting `shard`
    /// and `epoch`, every rule of the format checked: a restore with the
    /// same schema, key and shard takes the records instead of reading the
    /// bytes again.
    pub(crate) fn opened<S: Schema>(
        bytes: Vec<u8>,
        epoch: Epoch,
        key: Option<DigestKey>,
        shard: ShardId,
        records: typed_reader::Opened<S>,
    ) -> Self {
        Self {
            bytes,
            epoch,
            opened: Some(Arc::new(Opened {
                key,
                shard,
                records: Box::new(records),
            })),
        }
    }

    /// The records a store read while loading, if it read them for schema
    /// `S` under `key`, expecting `shard`, and no clone of this value still
    /// shares them; `None` means "read the bytes".
    pub(crate) fn take_opened<S: Schema>(
        &mut self,
        key: Option<&DigestKey>,
        shard: ShardId,
    ) -> Option<typed_reader::Opened<S>> {
        let opened = self.opened.take()?;
        if opened.key.as_ref() != key || opened.shard != shard {
            return None;
        }
        let opened = Arc::try_unwrap(opened).ok()?;
        opened.records.downcast().ok().map(|records| *records)
    }

    /// The bundle's bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The epoch the store says these bytes hold.
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }
}

/// Equal when they hold the same bytes for the same epoch, whether or not a
/// store already read them.
impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        self.epoch == other.epoch && self.bytes == other.bytes
    }
}

impl Eq for Loaded {}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("epoch", &self.epoch)
            .field("bytes", &self.bytes.len())
            .field("read_by_store", &self.opened.is_some())
            .finish()
    }
}

/// What a successful commit recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Committed {
    /// The shard.
    pub shard: ShardId,
    /// The epoch now latest.
    pub epoch: Epoch,
    /// The fence it was committed under.
    pub fence: Fence,
    /// The bundle's size in bytes.
    pub bytes: u64,
}

impl Committed {
    /// What committing `sealed` records.
    pub(crate) fn of<S: Schema>(sealed: &Sealed<S>) -> Self {
        Self {
            shard: sealed.shard(),
            epoch: sealed.epoch(),
            fence: sealed.fence(),
            bytes: sealed.bytes().len() as u64,
        }
    }
}

/// Why a store refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The bundle's epoch is not exactly one past the latest commit.
    #[error("E-STORE-EPOCH: the store's next epoch is {expected}, the bundle carries {found}")]
    EpochNotNext {
        /// The only epoch the store accepts now.
        expected: Epoch,
        /// The bundle's epoch.
        found: Epoch,
    },
    /// The authority (or the bundle's sealing authority) was superseded.
    #[error("E-STORE-FENCED: {found} has been superseded; the shard's current fence is {current}")]
    Fenced {
        /// The store's current fence.
        current: Fence,
        /// The stale fence presented.
        found: Fence,
    },
    /// The bundle or authority belongs to another shard.
    #[error("E-STORE-SHARD: this store holds {expected}, not {found}")]
    ShardMismatch {
        /// The store's shard.
        expected: ShardId,
        /// The shard presented.
        found: ShardId,
    },
    /// The authority was minted by another store.
    #[error(
        "E-STORE-AUTHORITY: the authority, or the one that sealed the bundle, was minted by another store"
    )]
    ForeignAuthority,
    /// The epoch counter is exhausted.
    #[error("E-STORE-EXHAUSTED: the epoch counter is exhausted")]
    Exhausted,
    /// A stored bundle failed verification.
    #[error("E-STORE-DAMAGED: {epoch} failed verification: {rejection}")]
    Damaged {
        /// The epoch whose bundle is damaged.
        epoch: Epoch,
        /// Why.
        rejection: Rejection,
    },
    /// A stored bundle file failed verification (a [`FileStore`]). The store
    /// never falls back to an older epoch instead.
    #[error("E-STORE-DAMAGED: {} ({epoch}) failed verification: {rejection}", path.display())]
    DamagedFile {
        /// The damaged file.
        path: std::path::PathBuf,
        /// The epoch its name says it holds.
        epoch: Epoch,
        /// Why it was refused.
        rejection: Rejection,
    },
    /// Another store holds the shard's claim: another process, or another
    /// [`FileStore`] in this one. It holds it until that store is dropped.
    #[error(
        "E-STORE-CLAIMED: the shard at {} is claimed by another store (another process, or another FileStore in this one)",
        path.display()
    )]
    Claimed {
        /// The shard directory.
        path: std::path::PathBuf,
    },
    /// The store's metadata (its fence file) is not in the one format the
    /// store writes.
    #[error("E-STORE-META: {} is not a valid metadata file: {detail}", path.display())]
    BadMetadata {
        /// The metadata file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A file system operation failed. [`StoreError::code`] tells disk full
    /// (`E-STORE-FULL`), permission denied (`E-STORE-DENIED`) and read-only
    /// file system (`E-STORE-READONLY`) apart from other failures
    /// (`E-STORE-IO`). A failed commit leaves the previous epoch latest.
    #[error("{}: cannot {op} {}: {source}", io_code(source), path.display())]
    Io {
        /// What the store was doing, e.g. `"write"`.
        op: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

fn io_code(error: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "E-STORE-FULL",
        ErrorKind::PermissionDenied => "E-STORE-DENIED",
        ErrorKind::ReadOnlyFilesystem => "E-STORE-READONLY",
        _ => "E-STORE-IO",
    }
}

impl StoreError {
    /// The stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::EpochNotNext { .. } => "E-STORE-EPOCH",
            StoreError::Fenced { .. } => "E-STORE-FENCED",
            StoreError::ShardMismatch { .. } => "E-STORE-SHARD",
            StoreError::ForeignAuthority => "E-STORE-AUTHORITY",
            StoreError::Exhausted => "E-STORE-EXHAUSTED",
            StoreError::Damaged { .. } | StoreError::DamagedFile { .. } => "E-STORE-DAMAGED",
            StoreError::Claimed { .. } => "E-STORE-CLAIMED",
            StoreError::BadMetadata { .. } => "E-STORE-META",
            StoreError::Io { source, .. } => io_code(source),
        }
    }
}

/// A refused or failed commit. The bundle is handed back, so nothing is
/// lost: the server may retry it (after an I/O error) or discard it (after
/// a refusal, which retrying cannot change).
pub struct CommitError<S: Schema> {
    /// Why the commit did not happen.
    pub error: StoreError,
    // Boxed: errors stay small, and only the failure path pays for it.
    sealed: Box<Sealed<S>>,
}

impl<S: Schema> CommitError<S> {
    pub(crate) fn new(error: StoreError, sealed: Sealed<S>) -> Self {
        Self {
            error,
            sealed: Box::new(sealed),
        }
    }

    /// Takes the bundle back.
    #[must_use]
    pub fn into_sealed(self) -> Sealed<S> {
        *self.sealed
    }
}

impl<S: Schema> fmt::Debug for CommitError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommitError")
            .field("error", &self.error)
            .field("sealed", &self.sealed)
            .finish()
    }
}

impl<S: Schema> fmt::Display for CommitError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<S: Schema> std::error::Error for CommitError<S> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The contract every store keeps. Sealed: a store mints
/// [`ServerAuthority`] values, so stores live in this crate, where their
/// fencing is proven by its tests.
pub trait Store<S: Schema>: sealed::Sealed {
    /// The error of claims and loads (commit errors are [`CommitError`]).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Makes the caller the shard's authority: increments the fence, which
    /// supersedes every earlier authority of this store.
    ///
    /// # Errors
    /// When the store cannot be claimed.
    fn claim(&mut self) -> Result<ServerAuthority<S>, Self::Error>;

    /// Commits a sealed bundle whole, or nothing.
    ///
    /// Only [`Sealed`] is accepted: passing an unfinished [`Save`](crate::Save)
    /// does not compile, and the message names the step still missing.
    ///
    /// # Errors
    /// [`StoreError::EpochNotNext`], [`StoreError::Fenced`],
    /// [`StoreError::ShardMismatch`], [`StoreError::ForeignAuthority`], or an
    /// I/O failure; the bundle is handed back in every case.
    fn commit<B: Committable<S>>(
        &mut self,
        bundle: B,
        authority: &mut ServerAuthority<S>,
    ) -> Result<Committed, CommitError<S>>;

    /// Loads the latest committed epoch, or `None` for an empty shard.
    ///
    /// # Errors
    /// When the latest epoch cannot be read. A store never answers with an
    /// older epoch instead (that would be a rollback, Stage 21.0).
    fn load_latest(&self) -> Result<Option<Loaded>, Self::Error>;
}

/// The epoch the next commit must carry when `latest` is the latest one
/// committed, or `None` when the counter is exhausted.
pub(crate) fn epoch_after(latest: Option<Epoch>) -> Option<Epoch> {
    latest.map_or(Some(Epoch::FIRST), Epoch::next)
}

/// The checks every store makes before it writes anything; shared so each
/// store enforces the same contract in the same order.
pub(crate) fn admit<S: Schema>(
    store_id: u64,
    shard: ShardId,
    fence: Fence,
    latest: Option<Epoch>,
    sealed: &Sealed<S>,
    authority: &ServerAuthority<S>,
) -> Result<(), StoreError> {
    for found in [authority.shard, sealed.shard()] {
        if found != shard {
            return Err(StoreError::ShardMismatch {
                expected: shard,
                found,
            });
        }
    }
    // Fence before identity: a bundle from before a restart carries both a
    // stale fence and a dead store instance, and "superseded" is the
    // operator's real problem.
    for found in [authority.fence, sealed.fence()] {
        if found != fence {
            return Err(StoreError::Fenced {
                current: fence,
                found,
            });
        }
    }
    // A bundle sealed under another store's authority (perhaps with another
    // key) must not become this store's truth.
    if authority.store != store_id || sealed.store != store_id {
        return Err(StoreError::ForeignAuthority);
    }
    let expected = epoch_after(latest).ok_or(StoreError::Exhausted)?;
    if sealed.epoch() != expected {
        return Err(StoreError::EpochNotNext {
            expected,
            found: sealed.epoch(),
        });
    }
    Ok(())
}
