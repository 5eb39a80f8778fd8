//! The server's authority over a shard: the capability every save and
//! restore requires (Stage 21.2 §9.6: all persistence decisions are
//! server-owned).

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::format::DigestKey;
use crate::ids::{Epoch, Fence, ShardId};
use crate::parallel::Threads;
use crate::schema::Schema;
use crate::shape::Shape;
use crate::store::StoreConfig;

static NEXT_MINT: AtomicU64 = AtomicU64::new(1);

/// A process-unique number, drawn for every minted authority and every
/// opened restore, so that values from one cannot be used with another.
pub(crate) fn unique_token() -> u64 {
    NEXT_MINT.fetch_add(1, Ordering::Relaxed)
}

/// What a save's bundle is sealed for: the store that will commit it, the
/// shard, epoch and fence its header names, and the key of its digest.
/// [`Save::begin`](crate::Save::begin) takes it from an authority; a
/// migration's intermediate hop, from the save it continues.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub(crate) store: u64,
    pub(crate) shard: ShardId,
    pub(crate) epoch: Epoch,
    pub(crate) fence: Fence,
    pub(crate) key: Option<DigestKey>,
    /// Whether its seal may use a second thread.
    pub(crate) threads: Threads,
}

/// Proof that this server holds a store's claim on a shard.
///
/// Only [`Store::claim`](crate::Store::claim) mints one: the type has
/// private fields, no constructor, and is neither `Clone` nor `Default`, so
/// client code, a deserializer or a second task cannot conjure or duplicate
/// it (Stage 21.0: no client influence over persisted truth).
///
/// It carries the shard, the fence of its claim, the epoch the next save
/// will carry, and the store's digest key. It is tied to the store that
/// minted it: only that store commits what it seals, and only that store's
/// loads can be restored with it. When a later claim supersedes it, the
/// store refuses its commits (`E-STORE-FENCED`), its restores
/// (`E-RESTORE-FENCED`) and its activations (`E-ACTIVATE-FENCED`); in the
/// minting process it knows at once ([`is_current`](Self::is_current)),
/// elsewhere at the store's next read of the shard's head.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{Epoch, MemStore, ShardId};
/// # use caelmor_persist::reference::Reference;
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let authority = store.claim().unwrap();
/// assert_eq!(authority.shard(), ShardId(1));
/// assert_eq!(authority.next_epoch(), Epoch::FIRST);
/// assert!(authority.is_current());
/// let successor = store.claim().unwrap();
/// assert!(!authority.is_current());
/// assert!(successor.is_current());
/// ```
pub struct ServerAuthority<S: Schema> {
    pub(crate) store: u64,
    pub(crate) token: u64,
    pub(crate) shard: ShardId,
    pub(crate) fence: Fence,
    /// The epoch the next save carries: advanced by each commit, through
    /// a shared reference, so that the authority can be shared (e.g. in an
    /// `Arc`) between a game thread that seals and a thread that commits.
    next_epoch: AtomicU64,
    pub(crate) key: Option<DigestKey>,
    /// The shapes of the schema's record types, traced when the store
    /// claimed the shard, which refuses a schema it cannot trace: every
    /// bundle this authority seals carries them, and `Save::begin` needs
    /// no fallible step.
    pub(crate) shapes: [&'static Shape; 5],
    /// The minting store's [`Threads`] setting, for the saves it begins.
    pub(crate) threads: Threads,
    /// The newest fence the minting store has seen for the shard.
    current: Arc<AtomicU64>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema> ServerAuthority<S> {
    /// Mints an authority for a store whose latest committed epoch is
    /// `latest`. Only stores call this, from `claim`; `config` gives the
    /// digest key and the [`Threads`] setting, `current` is the store's
    /// view of the shard's newest fence, `shapes` the schema's.
    pub(crate) fn mint(
        store: u64,
        shard: ShardId,
        fence: Fence,
        latest: Option<Epoch>,
        config: &StoreConfig,
        shapes: [&'static Shape; 5],
        current: Arc<AtomicU64>,
    ) -> Self {
        Self {
            store,
            token: unique_token(),
            shard,
            fence,
            // With the epoch counter exhausted no save can commit: the
            // store refuses it with `E-STORE-EXHAUSTED`.
            next_epoch: AtomicU64::new(Epoch::after(latest).unwrap_or(Epoch(u64::MAX)).0),
            key: config.key_used().cloned(),
            shapes,
            threads: config.threads_used(),
            current,
            _schema: PhantomData,
        }
    }

    /// Whether no later claim of the shard is known to the store that
    /// minted this authority. A `false` is final; a `true` is as fresh as
    /// the store's last read of the shard's head (a claim by another
    /// process is seen at the store's next commit or load).
    #[must_use]
    pub fn is_current(&self) -> bool {
        self.current.load(Ordering::Acquire) <= self.fence.0
    }

    /// Where its next save goes.
    pub(crate) fn origin(&self) -> Origin {
        Origin {
            store: self.store,
            shard: self.shard,
            epoch: self.next_epoch(),
            fence: self.fence,
            key: self.key.clone(),
            threads: self.threads,
        }
    }

    /// Records that `epoch` was committed under this authority: the next
    /// save carries the epoch after it.
    pub(crate) fn committed(&self, epoch: Epoch) {
        let next = epoch.next().unwrap_or(epoch);
        self.next_epoch.fetch_max(next.0, Ordering::AcqRel);
    }

    /// The shard this authority governs.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.shard
    }

    /// The store's fence at the time of the claim.
    #[must_use]
    pub fn fence(&self) -> Fence {
        self.fence
    }

    /// The epoch the next save will carry: one past the latest commit.
    #[must_use]
    pub fn next_epoch(&self) -> Epoch {
        Epoch(self.next_epoch.load(Ordering::Acquire))
    }

    /// Whether bundles are digested with a key.
    #[must_use]
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }
}

impl<S: Schema> fmt::Debug for ServerAuthority<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerAuthority")
            .field("schema", &S::NAME)
            .field("shard", &self.shard)
            .field("fence", &self.fence)
            .field("next_epoch", &self.next_epoch())
            .field("keyed", &self.key.is_some())
            .field("current", &self.is_current())
            .finish_non_exhaustive()
    }
}
