//! What a load hands out: the latest committed epoch, restorable; an older
//! one, for inspection only.

use core::fmt;

use crate::ids::{Epoch, Fence, ShardId};
use crate::schema::Schema;
use crate::typed_reader::Opened;
use crate::verify::{Summary, Verified};

/// The latest committed epoch of a shard, verified in full by the store
/// that loaded it: the only input [`Restore::open`](crate::Restore::open)
/// accepts.
///
/// Only [`Store::load_latest`](crate::Store::load_latest) makes one: it
/// cannot be built from bytes, cloned or deserialized, so a restore can
/// only ever bring back what was committed as a shard's latest truth —
/// never raw bytes, a backup or an older epoch (Stage 21.0: no rollback via
/// persistence; Stage 21.2 §5, §9.3: only a committed, atomic save is
/// truth). It remembers which store loaded it and under which fence, so
/// that only that store's current authority can restore it.
///
/// It holds the decoded records (they were decoded to verify the bundle),
/// not the bytes.
#[must_use = "a loaded epoch does nothing until it is restored"]
pub struct Loaded<S: Schema> {
    opened: Opened<S>,
    store: u64,
    fence: Fence,
}

impl<S: Schema> Loaded<S> {
    pub(crate) fn new(opened: Opened<S>, store: u64, fence: Fence) -> Self {
        Self {
            opened,
            store,
            fence,
        }
    }

    /// What the bundle holds: shard, epoch, fence, sizes, digest.
    #[must_use]
    pub fn summary(&self) -> &Summary {
        &self.opened.summary
    }

    /// The epoch loaded.
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        self.opened.summary.epoch
    }

    /// The shard loaded.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.opened.summary.shard
    }

    /// The shard's fence when it was loaded: only an authority holding this
    /// fence can restore it.
    #[must_use]
    pub fn fence(&self) -> Fence {
        self.fence
    }

    /// The store that loaded it, and its records.
    pub(crate) fn into_parts(self) -> (u64, Fence, Opened<S>) {
        (self.store, self.fence, self.opened)
    }
}

impl<S: Schema> fmt::Debug for Loaded<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("schema", &S::NAME)
            .field("shard", &self.shard())
            .field("epoch", &self.epoch())
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

/// A committed epoch read for inspection: its bytes and what schema-agnostic
/// verification found in them. It cannot be restored.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{Epoch, MemStore, Save, ShardId};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let world = ShardSpec::small().generate(1);
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let authority = store.claim()?;
/// for _ in 0..2 {
///     let sealed = Save::begin(&authority).players(&world.players)?.world(&world.zones)?
///         .npcs(&world.npcs)?.items(&world.items)?.quests(&world.quests)?.seal();
///     store.commit(sealed, &authority)?;
/// }
/// let first = store.load_epoch(Epoch(1))?.expect("epoch 1 is retained");
/// assert_eq!(first.verified().summary.epoch, Epoch(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StoredBundle {
    bytes: Vec<u8>,
    verified: Verified,
}

impl StoredBundle {
    pub(crate) fn new(bytes: Vec<u8>, verified: Verified) -> Self {
        Self { bytes, verified }
    }

    /// The bundle's bytes, exactly as stored.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Consumes it, returning the bytes.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// What verification found: header, sizes, digest, every id and
    /// reference.
    #[must_use]
    pub fn verified(&self) -> &Verified {
        &self.verified
    }
}

impl fmt::Debug for StoredBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredBundle")
            .field("summary", &self.verified.summary)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}
