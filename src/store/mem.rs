//! An in-memory store for tests, examples and single-process experiments.

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use std::collections::BTreeMap;

use super::{CommitError, Committed, Loaded, Store, admit, sealed};
use crate::authority::{ServerAuthority, unique_token};
use crate::format::DigestKey;
use crate::gate::Committable;
use crate::ids::{Epoch, Fence, ShardId};
use crate::schema::Schema;

/// A [`Store`] that keeps every committed epoch of one shard in memory.
///
/// It keeps the full contract — next epoch only, fencing, whole-bundle
/// commits — but nothing survives the process. Each [`claim`](Store::claim)
/// supersedes the previous authority, as a restarted server would.
///
/// ```
/// use caelmor_persist::{MemStore, ShardId, Store, StoreError};
/// use caelmor_persist::reference::Reference;
///
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let old = store.claim().unwrap();
/// let new = store.claim().unwrap();
/// assert!(new.fence() > old.fence());
/// assert!(store.load_latest().unwrap().is_none());
/// ```
pub struct MemStore<S: Schema> {
    id: u64,
    shard: ShardId,
    key: Option<DigestKey>,
    fence: Fence,
    epochs: BTreeMap<Epoch, Vec<u8>>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema> MemStore<S> {
    /// An empty store for `shard`, with unkeyed digests.
    #[must_use]
    pub fn new(shard: ShardId) -> Self {
        Self {
            id: unique_token(),
            shard,
            key: None,
            fence: Fence(0),
            epochs: BTreeMap::new(),
            _schema: PhantomData,
        }
    }

    /// An empty store whose bundles are digested with `key`.
    #[must_use]
    pub fn with_key(shard: ShardId, key: DigestKey) -> Self {
        Self {
            key: Some(key),
            ..Self::new(shard)
        }
    }

    /// The latest committed epoch, if any.
    #[must_use]
    pub fn latest_epoch(&self) -> Option<Epoch> {
        self.epochs.keys().next_back().copied()
    }

    /// Loads a named older epoch, explicitly (for operators and tests; a
    /// server restores with [`Store::load_latest`]).
    #[must_use]
    pub fn load_epoch(&self, epoch: Epoch) -> Option<Loaded> {
        self.epochs
            .get(&epoch)
            .map(|bytes| Loaded::new(bytes.clone(), epoch))
    }
}

impl<S: Schema> fmt::Debug for MemStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemStore")
            .field("shard", &self.shard)
            .field("fence", &self.fence)
            .field("latest", &self.latest_epoch())
            .finish_non_exhaustive()
    }
}

impl<S: Schema> sealed::Sealed for MemStore<S> {}

impl<S: Schema> Store<S> for MemStore<S> {
    type Error = Infallible;

    fn claim(&mut self) -> Result<ServerAuthority<S>, Infallible> {
        self.fence = Fence(self.fence.0 + 1);
        Ok(ServerAuthority::mint(
            self.id,
            self.shard,
            self.fence,
            self.latest_epoch(),
            self.key.clone(),
        ))
    }

    fn commit<B: Committable<S>>(
        &mut self,
        bundle: B,
        authority: &mut ServerAuthority<S>,
    ) -> Result<Committed, CommitError<S>> {
        let sealed = bundle.into_sealed();
        if let Err(error) = admit(
            self.id,
            self.shard,
            self.fence,
            self.latest_epoch(),
            &sealed,
            authority,
        ) {
            return Err(CommitError::new(error, sealed));
        }
        let committed = Committed::of(&sealed);
        self.epochs.insert(committed.epoch, sealed.into_bytes());
        authority.committed(committed.epoch);
        Ok(committed)
    }

    fn load_latest(&self) -> Result<Option<Loaded>, Infallible> {
        Ok(self
            .epochs
            .iter()
            .next_back()
            .map(|(&epoch, bytes)| Loaded::new(bytes.clone(), epoch)))
    }
}
