//! The backend conformance suite on the crate's own backends, and proof
//! that it catches backends that break the contract.

#![cfg(feature = "conformance")]

use std::sync::Mutex;

use caelmor_persist::conformance::{self, PROPERTIES};
use caelmor_persist::{
    Backend, FileBackend, Head, MemBackend, ShardId, StoreError, StoredEpoch, Swap,
};

fn mem() -> Result<conformance::Report, conformance::Failure> {
    let mut next = 0;
    conformance::check(
        || {
            next += 1;
            MemBackend::new(ShardId(next))
        },
        |backend: &MemBackend| backend.clone(),
    )
}

#[test]
fn the_memory_backend_conforms() {
    let report = mem().unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed.len(), PROPERTIES.len());
    assert!(
        report.notes.iter().any(|n| n.contains("no owner lock")),
        "{:?}",
        report.notes
    );
}

#[test]
fn the_file_backend_conforms() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut next = 0;
    let report = conformance::check(
        || {
            next += 1;
            FileBackend::open(root.path(), ShardId(next)).expect("open a new shard directory")
        },
        |backend: &FileBackend| {
            FileBackend::open(root.path(), backend.shard()).expect("open the shard again")
        },
    )
    .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed.len(), PROPERTIES.len());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("owner lock refuses")),
        "{:?}",
        report.notes
    );
}

/// How a deliberately broken backend misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    /// Its compare-and-swaps ignore what the caller expected: a superseded
    /// writer's publish lands.
    AcceptsStale,
    /// Asked for an epoch, it answers the oldest one it holds.
    FallsBack,
    /// It loses the second MiB of every bundle larger than that.
    LosesChunk,
}

#[derive(Clone, Debug)]
struct Broken {
    inner: MemBackend,
    flaw: Flaw,
    /// The head it reports, when it ignores expectations.
    forced: std::sync::Arc<Mutex<Option<Head>>>,
}

impl Backend for Broken {
    fn shard(&self) -> ShardId {
        self.inner.shard()
    }

    fn location(&self) -> String {
        format!("broken({:?}) {}", self.flaw, self.inner.location())
    }

    fn head(&self) -> Result<Option<Head>, StoreError> {
        let forced = *self.forced.lock().expect("not poisoned");
        match forced {
            Some(head) => Ok(Some(head)),
            None => self.inner.head(),
        }
    }

    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        if self.flaw == Flaw::AcceptsStale {
            *self.forced.lock().expect("not poisoned") = Some(*next);
            return Ok(Swap::Done);
        }
        self.inner.claim(expected, next)
    }

    fn publish(&mut self, expected: &Head, next: &Head, bundle: &[u8]) -> Result<Swap, StoreError> {
        if self.flaw == Flaw::AcceptsStale {
            // Store the bytes under whatever head is current, then force
            // the head.
            let current = self.head()?.expect("claimed");
            let _ = self.inner.publish(&current, next, bundle);
            *self.forced.lock().expect("not poisoned") = Some(*next);
            return Ok(Swap::Done);
        }
        self.inner.publish(expected, next, bundle)
    }

    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match self.flaw {
            Flaw::FallsBack => {
                let oldest = self.inner.list()?.into_iter().min();
                match oldest {
                    Some(oldest) => self.inner.read(oldest, u64::MAX),
                    None => Ok(None),
                }
            }
            Flaw::LosesChunk => Ok(self.inner.read(stored, max_len)?.map(|mut bytes| {
                if bytes.len() > 2 << 20 {
                    bytes.drain(1 << 20..2 << 20);
                }
                bytes
            })),
            Flaw::AcceptsStale => self.inner.read(stored, max_len),
        }
    }

    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        self.inner.list()
    }

    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError> {
        self.inner.remove(stored)
    }
}

fn check_broken(flaw: Flaw) -> conformance::Failure {
    let mut next = 0;
    conformance::check(
        || {
            next += 1;
            Broken {
                inner: MemBackend::new(ShardId(next)),
                flaw,
                forced: Default::default(),
            }
        },
        |backend: &Broken| backend.clone(),
    )
    .expect_err("a broken backend must fail the suite")
}

#[test]
fn a_backend_that_accepts_a_stale_expectation_fails() {
    let failure = check_broken(Flaw::AcceptsStale);
    assert_eq!(failure.property, "claim-creates-once", "{failure}");
    assert!(failure.to_string().contains("succeeded"), "{failure}");
}

#[test]
fn a_backend_that_falls_back_to_an_older_epoch_fails() {
    let failure = check_broken(Flaw::FallsBack);
    assert_eq!(failure.property, "publish-exact", "{failure}");
}

#[test]
fn a_backend_that_loses_a_chunk_fails() {
    let failure = check_broken(Flaw::LosesChunk);
    assert_eq!(failure.property, "large-bundle", "{failure}");
    assert!(failure.to_string().contains("lost or extra"), "{failure}");
}
