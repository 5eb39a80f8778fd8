//! A backend in memory, for tests, examples and single-process experiments.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::backend::{Backend, Head, StoredEpoch, Swap};
use super::{Store, StoreConfig, StoreError};
use crate::format::DigestKey;
use crate::ids::ShardId;
use crate::schema::Schema;

/// A [`Store`] whose shard lives in memory: the full contract, nothing
/// survives the process.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{MemStore, ShardId};
/// use caelmor_persist::reference::Reference;
///
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let old = store.claim().unwrap();
/// let new = store.claim().unwrap();
/// assert!(new.fence() > old.fence());
/// assert!(store.load_latest().unwrap().is_none());
/// ```
pub type MemStore<S> = Store<S, MemBackend>;

impl<S: Schema> Store<S, MemBackend> {
    /// An empty shard in memory, with unkeyed digests.
    #[must_use]
    pub fn new(shard: ShardId) -> Self {
        Self::with_backend(MemBackend::new(shard), StoreConfig::new())
    }

    /// An empty shard in memory whose bundles are digested with `key`.
    #[must_use]
    pub fn with_key(shard: ShardId, key: DigestKey) -> Self {
        Self::with_backend(MemBackend::new(shard), StoreConfig::new().key(key))
    }
}

#[derive(Debug, Default)]
struct Shelf {
    head: Option<Head>,
    epochs: BTreeMap<StoredEpoch, Vec<u8>>,
}

/// A shard held in memory. Clones share the shard, so two stores over
/// clones of one backend behave like two servers over one database: they
/// race, and the head's compare-and-swap decides.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{MemBackend, ShardId, Store, StoreConfig, StoreError};
/// use caelmor_persist::reference::Reference;
///
/// let shared = MemBackend::new(ShardId(1));
/// let mut first = Store::<Reference, _>::with_backend(shared.clone(), StoreConfig::new());
/// let mut second = Store::<Reference, _>::with_backend(shared, StoreConfig::new());
/// let stale = first.claim()?;
/// let current = second.claim()?;
/// assert!(current.fence() > stale.fence());
/// # Ok::<(), StoreError>(())
/// ```
#[derive(Clone, Debug)]
pub struct MemBackend {
    shard: ShardId,
    shelf: Arc<Mutex<Shelf>>,
}

impl MemBackend {
    /// An empty shard.
    #[must_use]
    pub fn new(shard: ShardId) -> Self {
        Self {
            shard,
            shelf: Arc::default(),
        }
    }

    fn shelf(&self) -> MutexGuard<'_, Shelf> {
        // A panic while holding the lock cannot leave a half-made change:
        // every change below is one assignment or insertion.
        self.shelf
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Changes the stored bytes of an epoch in place, as a failing disk or
    /// an editor would; `false` if there are none. For tests of how a server
    /// copes with damage: the store must refuse what this produces.
    pub fn tamper(&self, stored: StoredEpoch, edit: impl FnOnce(&mut Vec<u8>)) -> bool {
        match self.shelf().epochs.get_mut(&stored) {
            Some(bytes) => {
                edit(bytes);
                true
            }
            None => false,
        }
    }

    /// Loses the shard's head, as a deleted metadata file would.
    pub fn forget_head(&self) {
        self.shelf().head = None;
    }
}

impl Backend for MemBackend {
    fn shard(&self) -> ShardId {
        self.shard
    }

    fn location(&self) -> String {
        format!("memory:{}", self.shard)
    }

    fn head(&self) -> Result<Option<Head>, StoreError> {
        Ok(self.shelf().head)
    }

    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        let mut shelf = self.shelf();
        if shelf.head.as_ref() != expected {
            return Ok(Swap::Conflict);
        }
        shelf.head = Some(*next);
        Ok(Swap::Done)
    }

    fn publish(&mut self, expected: &Head, next: &Head, bundle: &[u8]) -> Result<Swap, StoreError> {
        let mut shelf = self.shelf();
        if shelf.head.as_ref() != Some(expected) {
            return Ok(Swap::Conflict);
        }
        let Some(latest) = next.latest else {
            return Ok(Swap::Conflict);
        };
        shelf.epochs.insert(
            StoredEpoch {
                epoch: latest.epoch,
                fence: latest.fence,
            },
            bundle.to_vec(),
        );
        shelf.head = Some(*next);
        Ok(Swap::Done)
    }

    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let shelf = self.shelf();
        let Some(bytes) = shelf.epochs.get(&stored) else {
            return Ok(None);
        };
        if bytes.len() as u64 > max_len {
            return Err(StoreError::TooLarge {
                location: format!("{} {}", self.location(), stored.epoch),
                len: bytes.len() as u64,
                limit: max_len,
            });
        }
        Ok(Some(bytes.clone()))
    }

    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        Ok(self.shelf().epochs.keys().copied().collect())
    }

    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError> {
        self.shelf().epochs.remove(&stored);
        Ok(())
    }
}
