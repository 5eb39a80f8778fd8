//! Why a store refused or failed, each cause with a stable code.
//!
//! Messages follow the Rust convention: a variant either prints its cause
//! or returns it from `source()`, never both, so a chain printed link by
//! link says everything once.

use core::fmt;

use super::backend::KeyFingerprint;
use crate::ids::{Epoch, Fence, ShardId};
use crate::rejection::Rejection;
use crate::save::Sealed;
use crate::schema::Schema;
use crate::shape::{ShapeMismatch, Untraceable};

/// Why a store refused or failed. [`StoreError::code`] gives the stable
/// code, which every message also starts with.
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
    /// The authority (or the one the bundle was sealed under) was
    /// superseded by a later claim.
    #[error("E-STORE-FENCED: {found} has been superseded; the shard's current fence is {current}")]
    Fenced {
        /// The shard's current fence.
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
    /// The authority, or the one that sealed the bundle, was minted by
    /// another store.
    #[error(
        "E-STORE-AUTHORITY: the authority, or the one that sealed the bundle, was minted by another store"
    )]
    ForeignAuthority,
    /// The epoch, fence or head version counter is exhausted.
    #[error("E-STORE-EXHAUSTED: the shard's epoch or fence counter is exhausted")]
    Exhausted,
    /// The latest committed epoch (or the one asked for) cannot be used:
    /// its bundle is missing, is not the bundle that was committed, or
    /// fails verification. The store never falls back to an older epoch
    /// instead.
    #[error("E-STORE-DAMAGED: {location}: {epoch}: {detail}")]
    Damaged {
        /// Where the shard lives.
        location: String,
        /// The epoch whose bundle is damaged.
        epoch: Epoch,
        /// What is wrong with it.
        detail: String,
        /// The verification rule it broke, if it was read and refused.
        rejection: Option<Rejection>,
    },
    /// The shard's head is gone although epochs remain: the record of
    /// which epoch is latest is lost, and starting over would be a rollback.
    #[error(
        "E-STORE-HEAD: {location}: the shard's head is missing, but it holds bundles up to {newest}; refusing to treat it as empty"
    )]
    HeadMissing {
        /// Where the shard lives.
        location: String,
        /// The newest epoch found.
        newest: Epoch,
    },
    /// The latest epoch was written under another schema name or version:
    /// a changed schema, not damage. Bring it forward with an explicit
    /// [migration](crate::migrate).
    #[error(
        "E-STORE-SCHEMA: {epoch} was written with schema {found_name:?} v{found_version}, this store reads {expected_name:?} v{expected_version}{}",
        also(.shapes)
    )]
    SchemaMismatch {
        /// The epoch.
        epoch: Epoch,
        /// The store's schema name.
        expected_name: String,
        /// The store's schema version.
        expected_version: u32,
        /// The schema name the bundle declares.
        found_name: String,
        /// The schema version the bundle declares.
        found_version: u32,
        /// What changed besides the name or version: the first record type
        /// (in [`System::ORDER`](crate::System::ORDER)) whose shape differs
        /// from the one the epoch carries, if any.
        shapes: Option<ShapeMismatch>,
    },
    /// The latest epoch was written under the same schema name and
    /// version, by a record type of another shape: a record type changed
    /// without a migration (and without a new `VERSION`), not damage. Same
    /// code as [`SchemaMismatch`](StoreError::SchemaMismatch): the schema
    /// the epoch was written under is not the one the store reads. Bring it
    /// forward with an explicit [migration](crate::migrate) from a schema
    /// holding the old record types.
    #[error(
        "E-STORE-SCHEMA: {epoch} was written with schema {schema_name:?} v{schema_version}, but its {} records by another record type than this store's: {}",
        .mismatch.system(),
        .mismatch.difference()
    )]
    ShapeMismatch {
        /// The epoch.
        epoch: Epoch,
        /// The schema name, the same in the bundle and the store.
        schema_name: String,
        /// The schema version, the same in the bundle and the store.
        schema_version: u32,
        /// Which system's record type differs (the first, in
        /// [`System::ORDER`](crate::System::ORDER)), both fingerprints, and
        /// the first difference.
        mismatch: ShapeMismatch,
    },
    /// A record type of the schema cannot be traced, so no bundle of it
    /// could be checked: refused before anything is written or read.
    #[error("E-SHAPE-UNTRACEABLE: {0}")]
    Untraceable(Untraceable),
    /// The shard is keyed with another key than this store's, or keyed
    /// where the store is not, or the reverse.
    #[error("E-STORE-KEY: the shard's digest key is {shard}, this store's is {store}")]
    KeyMismatch {
        /// The fingerprint the shard recorded at its first claim.
        shard: KeyFingerprint,
        /// This store's.
        store: KeyFingerprint,
    },
    /// A commit to a shard that was never claimed.
    #[error("E-STORE-UNCLAIMED: {location}: the shard has never been claimed")]
    NotClaimed {
        /// Where the shard lives.
        location: String,
    },
    /// Other writers kept changing the shard's head while this one tried to
    /// (only possible when the owner lock was bypassed).
    #[error("E-STORE-CONTENDED: {location}: the shard's head kept changing under this writer")]
    Contended {
        /// Where the shard lives.
        location: String,
    },
    /// Another owner holds the shard: another process, or another store in
    /// this one.
    #[error(
        "E-STORE-CLAIMED: the shard at {location} is claimed by another store (another process, or another store in this one)"
    )]
    Claimed {
        /// Where the shard lives.
        location: String,
    },
    /// A metadata record of the store is not in the one format it writes.
    #[error("E-STORE-META: {location} is not a valid metadata record: {detail}")]
    BadMetadata {
        /// The record.
        location: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Something the store reads is not a regular file (a FIFO, a device, a
    /// directory, a symbolic link).
    #[error("E-STORE-NOT-FILE: {location} is {kind}, not a regular file")]
    NotAFile {
        /// The path.
        location: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// Something the store reads is longer than it can be.
    #[error("E-STORE-TOO-LARGE: {location} holds {len} bytes; at most {limit} are expected")]
    TooLarge {
        /// The path.
        location: String,
        /// Its length.
        len: u64,
        /// The bound.
        limit: u64,
    },
    /// A file system operation failed. [`StoreError::code`] tells disk full
    /// (`E-STORE-FULL`), permission denied (`E-STORE-DENIED`) and read-only
    /// file system (`E-STORE-READONLY`) apart from other failures
    /// (`E-STORE-IO`). A failed commit leaves the previous epoch latest.
    #[error("{}: cannot {op} {location}", io_code(source))]
    Io {
        /// What the store was doing, e.g. `"write"`.
        op: &'static str,
        /// The file or directory.
        location: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A backend other than the file system failed (a database, a network
    /// store), with its own error as the source.
    #[error("E-STORE-BACKEND: cannot {op} at {location}")]
    Backend {
        /// What the store was doing.
        op: &'static str,
        /// Where the shard lives.
        location: String,
        /// The backend's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `; its player records were written by another record type: …`, or
/// nothing.
fn also(shapes: &Option<ShapeMismatch>) -> String {
    shapes.as_ref().map_or_else(String::new, |m| {
        format!(
            "; its {} records were written by another record type: {}",
            m.system(),
            m.difference()
        )
    })
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
            StoreError::Damaged { .. } => "E-STORE-DAMAGED",
            StoreError::HeadMissing { .. } => "E-STORE-HEAD",
            StoreError::SchemaMismatch { .. } | StoreError::ShapeMismatch { .. } => {
                "E-STORE-SCHEMA"
            }
            StoreError::Untraceable(_) => "E-SHAPE-UNTRACEABLE",
            StoreError::KeyMismatch { .. } => "E-STORE-KEY",
            StoreError::NotClaimed { .. } => "E-STORE-UNCLAIMED",
            StoreError::Contended { .. } => "E-STORE-CONTENDED",
            StoreError::Claimed { .. } => "E-STORE-CLAIMED",
            StoreError::BadMetadata { .. } => "E-STORE-META",
            StoreError::NotAFile { .. } => "E-STORE-NOT-FILE",
            StoreError::TooLarge { .. } => "E-STORE-TOO-LARGE",
            StoreError::Io { source, .. } => io_code(source),
            StoreError::Backend { .. } => "E-STORE-BACKEND",
        }
    }

    /// The verification rule a damaged bundle broke, if it was read.
    #[must_use]
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            StoreError::Damaged { rejection, .. } => rejection.as_ref(),
            _ => None,
        }
    }

    /// An I/O failure of `op` on `location`.
    pub(crate) fn io(
        op: &'static str,
        location: impl fmt::Display,
    ) -> impl FnOnce(std::io::Error) -> StoreError {
        let location = location.to_string();
        move |source| StoreError::Io {
            op,
            location,
            source,
        }
    }
}

/// A refused or failed commit. The bundle is handed back, so nothing is
/// lost: the server may retry it (after an I/O error) or discard it (after
/// a refusal, which retrying cannot change).
///
/// It displays as its [`StoreError`] and its `source()` is that error's
/// source, so the message is never printed twice.
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

    /// The stable code of the underlying [`StoreError`].
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.error.code()
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
        std::error::Error::source(&self.error)
    }
}

impl<S: Schema> From<CommitError<S>> for StoreError {
    fn from(error: CommitError<S>) -> Self {
        error.error
    }
}
