//! Shared by the fuzz targets.
#![allow(dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};

use caelmor_persist::reference::Reference;
use caelmor_persist::{
    Backend, Epoch, EpochRecord, Head, ServerAuthority, ShardId, Store, StoreConfig, StoreError,
    StoredEpoch, Swap,
};

/// The input, re-framed and re-digested (unkeyed) as a writer who bypasses
/// the server could do: the input is taken as preamble and body, its frame
/// length patched and a BLAKE3 digest appended. Without this, almost every
/// mutation stops at the digest (rule 4) and the decoder is never reached.
pub fn reframed(data: &[u8]) -> Option<Vec<u8>> {
    const PREAMBLE_LEN: usize = 18;
    if data.len() < PREAMBLE_LEN {
        return None;
    }
    let mut content = data.to_vec();
    let frame_len = (content.len() + 32) as u64;
    content[10..18].copy_from_slice(&frame_len.to_le_bytes());
    let digest = blake3::hash(&content);
    content.extend_from_slice(digest.as_bytes());
    Some(content)
}

#[derive(Debug, Default)]
struct Plot {
    head: Option<Head>,
    epochs: Vec<(StoredEpoch, Vec<u8>)>,
}

/// A backend in memory whose latest committed epoch can be set to any
/// bytes (an editor who rewrote a shard's bundle and its head), so that
/// the fuzzer's input reaches a real `load_latest` and restore. The store
/// over it still verifies everything it loads.
#[derive(Clone, Debug)]
pub struct Planted {
    shard: ShardId,
    plot: Arc<Mutex<Plot>>,
}

impl Planted {
    fn plot(&self) -> MutexGuard<'_, Plot> {
        self.plot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `bytes` (at least 32 of them) the latest committed `epoch`,
    /// under the shard's current fence, their last 32 bytes its digest.
    fn plant(&self, epoch: Epoch, bytes: &[u8]) {
        let mut plot = self.plot();
        let head = plot.head.expect("claimed before planting");
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&bytes[bytes.len() - 32..]);
        plot.head = Some(Head {
            version: head.version + 1,
            latest: Some(EpochRecord {
                epoch,
                fence: head.fence,
                len: bytes.len() as u64,
                digest,
            }),
            ..head
        });
        let stored = StoredEpoch {
            epoch,
            fence: head.fence,
        };
        plot.epochs = vec![(stored, bytes.to_vec())];
    }
}

impl Backend for Planted {
    fn shard(&self) -> ShardId {
        self.shard
    }

    fn location(&self) -> String {
        format!("planted:{}", self.shard)
    }

    fn head(&self) -> Result<Option<Head>, StoreError> {
        Ok(self.plot().head)
    }

    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        let mut plot = self.plot();
        if plot.head.as_ref() != expected {
            return Ok(Swap::Conflict);
        }
        plot.head = Some(*next);
        Ok(Swap::Done)
    }

    fn publish(&mut self, _: &Head, _: &Head, _: &[u8]) -> Result<Swap, StoreError> {
        // The fuzz targets never commit.
        Ok(Swap::Conflict)
    }

    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let plot = self.plot();
        match plot.epochs.iter().find(|(s, _)| *s == stored) {
            Some((_, bytes)) if bytes.len() as u64 > max_len => Err(StoreError::TooLarge {
                location: self.location(),
                len: bytes.len() as u64,
                limit: max_len,
            }),
            Some((_, bytes)) => Ok(Some(bytes.clone())),
            None => Ok(None),
        }
    }

    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        Ok(self.plot().epochs.iter().map(|(s, _)| *s).collect())
    }

    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError> {
        self.plot().epochs.retain(|(s, _)| *s != stored);
        Ok(())
    }
}

/// A freshly claimed store of shard 1 (unkeyed) whose latest committed
/// epoch is `bytes` as epoch 1, and its authority (fence 1).
pub fn planted(bytes: &[u8]) -> (Store<Reference, Planted>, ServerAuthority<Reference>) {
    let backend = Planted {
        shard: ShardId(1),
        plot: Arc::default(),
    };
    let mut store = Store::with_backend(backend.clone(), StoreConfig::new());
    let authority = store.claim().expect("a fresh planted shard claims");
    backend.plant(Epoch(1), bytes);
    (store, authority)
}
