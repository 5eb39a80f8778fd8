//! The conformance suite a [`Backend`] runs to show it keeps the contract
//! (feature `conformance`).
//!
//! Every guarantee of a [`Store`] rests on a few things its backend must
//! get right: a head that is never older than the last swap, two
//! compare-and-swaps that refuse a stale expectation from any handle, and
//! bytes that come back exactly as published. [`check`] tries each of them
//! on fresh shards and, through a second handle on the same shard, the way
//! a second process or host would, then runs the store's own protocol on
//! top (claim, commit, load, fencing, damage).
//!
//! A backend's tests call it with two functions: one that gives a backend
//! for a new, empty shard, and one that opens a second handle on the shard
//! of a given backend.
//!
//! ```
//! use caelmor_persist::{conformance, MemBackend, ShardId};
//!
//! let mut next = 0;
//! let report = conformance::check(
//!     || { next += 1; MemBackend::new(ShardId(next)) },
//!     |backend: &MemBackend| backend.clone(),
//! )?;
//! assert_eq!(report.passed.len(), conformance::PROPERTIES.len());
//! # Ok::<(), conformance::Failure>(())
//! ```
//!
//! The crate's own tests run it on [`MemBackend`], [`FileBackend`](super::FileBackend)
//! and the PostgreSQL backend, and prove that it fails for deliberately
//! broken backends: one that accepts a stale expectation, one that answers
//! an older epoch's bytes, one that loses part of a bundle.

use core::fmt;

use super::backend::{Backend, EpochRecord, Head, KeyFingerprint, StoredEpoch, Swap};
use super::{Store, StoreConfig, StoreError};
use crate::ids::{Epoch, Fence};
use crate::reference::{Reference, ShardSpec};
use crate::restore::Restore;
use crate::save::Save;

#[cfg(doc)]
use super::MemBackend;

/// Every property [`check`] tries, by name, with what it requires.
pub const PROPERTIES: &[(&str, &str)] = &[
    ("empty-shard", "a new shard has no head and holds no epochs"),
    (
        "claim-creates-once",
        "a claim expecting no head creates it once; a second such claim conflicts and changes nothing",
    ),
    (
        "claim-refuses-stale",
        "a claim expecting a head that is no longer current conflicts and changes nothing, from either handle",
    ),
    (
        "publish-exact",
        "a publish makes the head the new one and the bytes readable exactly, from either handle",
    ),
    (
        "publish-refuses-stale",
        "a publish expecting a superseded head conflicts, leaves the head unchanged, and its bytes never become the latest",
    ),
    (
        "read-bounded",
        "a read never returns more or fewer bytes than were published: past its bound it fails, a missing epoch is None",
    ),
    (
        "large-bundle",
        "a bundle of several MiB comes back byte for byte",
    ),
    (
        "remove",
        "a removed epoch is no longer listed or readable, and the others are untouched",
    ),
    (
        "store-round-trip",
        "a Store over the backend claims, commits and loads a real bundle, and restores it record for record through a second handle",
    ),
    (
        "store-next-epoch-and-fencing",
        "through the Store, a superseded authority's commit is refused and the next epoch is the only one accepted",
    ),
];

/// Which property failed, and how.
#[derive(Debug)]
pub struct Failure {
    /// The property's name, from [`PROPERTIES`].
    pub property: &'static str,
    /// What happened instead.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backend conformance: property `{}` failed: {}",
            self.property, self.detail
        )
    }
}

impl std::error::Error for Failure {}

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct Report {
    /// The properties that held, in the order of [`PROPERTIES`].
    pub passed: Vec<&'static str>,
    /// Observations that are not failures (e.g. a backend without an owner
    /// lock).
    pub notes: Vec<String>,
}

type Outcome = Result<(), String>;

fn ensure(holds: bool, detail: impl FnOnce() -> String) -> Outcome {
    if holds { Ok(()) } else { Err(detail()) }
}

fn call<T>(what: &str, result: Result<T, StoreError>) -> Result<T, String> {
    result.map_err(|e| format!("{what} failed: {e}"))
}

/// A record of a publish of `bytes` as `epoch` under `fence`.
fn record(epoch: u64, fence: u64, bytes: &[u8]) -> EpochRecord {
    EpochRecord {
        epoch: Epoch(epoch),
        fence: Fence(fence),
        len: bytes.len() as u64,
        digest: *blake3::hash(bytes).as_bytes(),
    }
}

fn stored(record: &EpochRecord) -> StoredEpoch {
    StoredEpoch {
        epoch: record.epoch,
        fence: record.fence,
    }
}

/// Bytes that differ from epoch to epoch and do not compress.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = 0u64;
    while out.len() < len {
        let mut input = seed.to_le_bytes().to_vec();
        input.extend_from_slice(&block.to_le_bytes());
        out.extend_from_slice(blake3::hash(&input).as_bytes());
        block += 1;
    }
    out.truncate(len);
    out
}

/// A head after `head` (or the first) with the next fence.
fn claimed(head: Option<&Head>) -> Head {
    match head {
        None => Head::first(Fence(1), KeyFingerprint::UNKEYED),
        Some(h) => Head {
            version: h.version + 1,
            fence: Fence(h.fence.0 + 1),
            ..*h
        },
    }
}

fn published(head: &Head, record: EpochRecord) -> Head {
    Head {
        version: head.version + 1,
        latest: Some(record),
        ..*head
    }
}

/// Claims a fresh shard through `backend`, checking the swap succeeded.
fn first_claim<B: Backend>(backend: &mut B) -> Result<Head, String> {
    let first = claimed(None);
    let swap = call("claim of a new shard", backend.claim(None, &first))?;
    ensure(swap == Swap::Done, || {
        "the first claim of a new shard conflicted".to_owned()
    })?;
    Ok(first)
}

fn head_is<B: Backend>(backend: &B, expected: Option<&Head>, when: &str) -> Outcome {
    let head = call("head", backend.head())?;
    ensure(head.as_ref() == expected, || {
        format!("{when}: the head is {head:?}, expected {expected:?}")
    })
}

fn reads_exactly<B: Backend>(
    backend: &B,
    record: &EpochRecord,
    bytes: &[u8],
    when: &str,
) -> Outcome {
    let read = call("read", backend.read(stored(record), record.len))?;
    match read {
        Some(read) if read == bytes => Ok(()),
        Some(read) => Err(format!(
            "{when}: read {} bytes that differ from the {} published{}",
            read.len(),
            bytes.len(),
            if read.len() == bytes.len() {
                ""
            } else {
                " (a lost or extra part)"
            }
        )),
        None => Err(format!("{when}: the published epoch reads as missing")),
    }
}

fn empty_shard<B: Backend>(fresh: &mut dyn FnMut() -> B) -> Outcome {
    let backend = fresh();
    head_is(&backend, None, "a new shard")?;
    let listed = call("list", backend.list())?;
    ensure(listed.is_empty(), || {
        format!("a new shard lists {listed:?}")
    })
}

fn claim_creates_once<B: Backend>(
    fresh: &mut dyn FnMut() -> B,
    reopen: &mut dyn FnMut(&B) -> B,
) -> Outcome {
    let mut a = fresh();
    let mut b = reopen(&a);
    let first = first_claim(&mut a)?;
    head_is(&b, Some(&first), "the second handle after the first claim")?;
    let rival = Head {
        fence: Fence(7),
        ..first
    };
    let swap = call("a second claim expecting no head", b.claim(None, &rival))?;
    ensure(swap == Swap::Conflict, || {
        "a claim expecting no head succeeded although the shard has one".to_owned()
    })?;
    head_is(&a, Some(&first), "after the refused claim")
}

fn claim_refuses_stale<B: Backend>(
    fresh: &mut dyn FnMut() -> B,
    reopen: &mut dyn FnMut(&B) -> B,
) -> Outcome {
    let mut a = fresh();
    let mut b = reopen(&a);
    let first = first_claim(&mut a)?;
    let second = claimed(Some(&first));
    ensure(
        call("claim", b.claim(Some(&first), &second))? == Swap::Done,
        || "a claim expecting the current head conflicted".to_owned(),
    )?;
    // `a` still believes `first` is current.
    let stale = claimed(Some(&first));
    let stale = Head {
        fence: Fence(99),
        ..stale
    };
    ensure(
        call("stale claim", a.claim(Some(&first), &stale))? == Swap::Conflict,
        || "a claim expecting a superseded head succeeded".to_owned(),
    )?;
    // Same version as the current head, other content: still stale.
    let forged = Head {
        fence: Fence(42),
        ..first
    };
    let after = claimed(Some(&second));
    ensure(
        call("forged claim", a.claim(Some(&forged), &after))? == Swap::Conflict,
        || "a claim expecting a head that never existed succeeded".to_owned(),
    )?;
    head_is(&a, Some(&second), "after the refused claims")?;
    head_is(
        &b,
        Some(&second),
        "after the refused claims (second handle)",
    )
}

fn publish_exact<B: Backend>(
    fresh: &mut dyn FnMut() -> B,
    reopen: &mut dyn FnMut(&B) -> B,
) -> Outcome {
    let mut a = fresh();
    let b = reopen(&a);
    let first = first_claim(&mut a)?;
    let mut head = first;
    for epoch in 1..=3 {
        let bytes = payload(epoch, 1000 + epoch as usize);
        let rec = record(epoch, 1, &bytes);
        let next = published(&head, rec);
        ensure(
            call("publish", a.publish(&head, &next, &bytes))? == Swap::Done,
            || format!("publishing epoch {epoch} on the current head conflicted"),
        )?;
        head_is(&a, Some(&next), "after a publish")?;
        head_is(&b, Some(&next), "after a publish (second handle)")?;
        reads_exactly(&a, &rec, &bytes, "after a publish")?;
        reads_exactly(&b, &rec, &bytes, "after a publish (second handle)")?;
        head = next;
    }
    let listed = call("list", b.list())?;
    for epoch in 1..=3 {
        let s = StoredEpoch {
            epoch: Epoch(epoch),
            fence: Fence(1),
        };
        ensure(listed.contains(&s), || {
            format!("epoch {epoch} was published but is not listed: {listed:?}")
        })?;
    }
    Ok(())
}

fn publish_refuses_stale<B: Backend>(
    fresh: &mut dyn FnMut() -> B,
    reopen: &mut dyn FnMut(&B) -> B,
) -> Outcome {
    let mut a = fresh();
    let mut b = reopen(&a);
    let first = first_claim(&mut a)?;
    let bytes1 = payload(1, 2000);
    let rec1 = record(1, 1, &bytes1);
    let h1 = published(&first, rec1);
    ensure(
        call("publish", a.publish(&first, &h1, &bytes1))? == Swap::Done,
        || "publishing epoch 1 conflicted".to_owned(),
    )?;
    // A new owner claims through the second handle ...
    let h2 = claimed(Some(&h1));
    ensure(
        call("claim", b.claim(Some(&h1), &h2))? == Swap::Done,
        || "the new owner's claim conflicted".to_owned(),
    )?;
    // ... and the superseded owner tries to publish epoch 2 on what it saw.
    let stale_bytes = payload(2, 2100);
    let stale = record(2, 1, &stale_bytes);
    let stale_head = published(&h1, stale);
    ensure(
        call("stale publish", a.publish(&h1, &stale_head, &stale_bytes))? == Swap::Conflict,
        || "a publish under a superseded fence succeeded".to_owned(),
    )?;
    head_is(&a, Some(&h2), "after the stale publish")?;
    head_is(&b, Some(&h2), "after the stale publish (second handle)")?;
    // The new owner's epoch 2 lands; the stale one is never the latest.
    let fresh_bytes = payload(3, 2200);
    let current = record(2, 2, &fresh_bytes);
    let h3 = published(&h2, current);
    ensure(
        call("publish", b.publish(&h2, &h3, &fresh_bytes))? == Swap::Done,
        || "the new owner's publish conflicted after a refused stale one".to_owned(),
    )?;
    head_is(&a, Some(&h3), "after the new owner's publish")?;
    reads_exactly(&a, &current, &fresh_bytes, "the new owner's epoch 2")?;
    // A publish expecting the current version but another fence (a head
    // that never existed) conflicts too.
    let forged = Head {
        fence: Fence(1),
        ..h3
    };
    let bytes = payload(4, 10);
    let rec = record(3, 1, &bytes);
    ensure(
        call(
            "forged publish",
            a.publish(&forged, &published(&forged, rec), &bytes),
        )? == Swap::Conflict,
        || "a publish expecting a head that never existed succeeded".to_owned(),
    )?;
    head_is(&b, Some(&h3), "after the forged publish")
}

fn read_bounded<B: Backend>(fresh: &mut dyn FnMut() -> B) -> Outcome {
    let mut a = fresh();
    let first = first_claim(&mut a)?;
    let bytes = payload(5, 4096);
    let rec = record(1, 1, &bytes);
    let next = published(&first, rec);
    ensure(
        call("publish", a.publish(&first, &next, &bytes))? == Swap::Done,
        || "publish conflicted".to_owned(),
    )?;
    match a.read(stored(&rec), rec.len - 1) {
        Err(_) => {}
        Ok(Some(read)) => {
            return Err(format!(
                "a read bounded below the bundle's length returned {} bytes instead of failing",
                read.len()
            ));
        }
        Ok(None) => return Err("a bounded read of a published epoch said it is missing".into()),
    }
    let missing = StoredEpoch {
        epoch: Epoch(9),
        fence: Fence(1),
    };
    let read = call("read of a missing epoch", a.read(missing, 1 << 20))?;
    ensure(read.is_none(), || {
        "an epoch never published reads as present".to_owned()
    })
}

fn large_bundle<B: Backend>(
    fresh: &mut dyn FnMut() -> B,
    reopen: &mut dyn FnMut(&B) -> B,
) -> Outcome {
    let mut a = fresh();
    let b = reopen(&a);
    let first = first_claim(&mut a)?;
    // Several chunks of any reasonable chunk size, and not a multiple of one.
    let bytes = payload(6, (5 << 20) + 12_345);
    let rec = record(1, 1, &bytes);
    let next = published(&first, rec);
    ensure(
        call("publish", a.publish(&first, &next, &bytes))? == Swap::Done,
        || "publish conflicted".to_owned(),
    )?;
    reads_exactly(&b, &rec, &bytes, "a large bundle")
}

fn remove<B: Backend>(fresh: &mut dyn FnMut() -> B) -> Outcome {
    let mut a = fresh();
    let mut head = first_claim(&mut a)?;
    let mut records = Vec::new();
    for epoch in 1..=3 {
        let bytes = payload(10 + epoch, 300);
        let rec = record(epoch, 1, &bytes);
        let next = published(&head, rec);
        ensure(
            call("publish", a.publish(&head, &next, &bytes))? == Swap::Done,
            || "publish conflicted".to_owned(),
        )?;
        records.push((rec, bytes));
        head = next;
    }
    call("remove", a.remove(stored(&records[0].0)))?;
    let listed = call("list", a.list())?;
    ensure(!listed.contains(&stored(&records[0].0)), || {
        "a removed epoch is still listed".to_owned()
    })?;
    let read = call("read", a.read(stored(&records[0].0), 1 << 20))?;
    ensure(read.is_none(), || {
        "a removed epoch is still readable".to_owned()
    })?;
    for (rec, bytes) in &records[1..] {
        reads_exactly(&a, rec, bytes, "an epoch that was not removed")?;
    }
    head_is(&a, Some(&head), "after a removal")
}

fn shard_of(seed: u64) -> crate::reference::Shard {
    ShardSpec {
        players: 6,
        zones: 3,
        npcs: 8,
        items: 40,
        quests: 6,
    }
    .generate(seed)
}

fn seal(
    authority: &crate::authority::ServerAuthority<Reference>,
    seed: u64,
) -> Result<crate::save::Sealed<Reference>, String> {
    let w = shard_of(seed);
    Save::begin(authority)
        .players(&w.players)
        .and_then(|s| s.world(&w.zones))
        .and_then(|s| s.npcs(&w.npcs))
        .and_then(|s| s.items(&w.items))
        .and_then(|s| s.quests(&w.quests))
        .map(|s| s.seal())
        .map_err(|e| format!("sealing a generated shard failed: {e}"))
}

fn store_round_trip<B: Backend>(
    fresh: &mut dyn FnMut() -> B,
    reopen: &mut dyn FnMut(&B) -> B,
) -> Outcome {
    let backend = fresh();
    let second = reopen(&backend);
    let mut store = Store::<Reference, B>::with_backend(backend, StoreConfig::new());
    let authority = call("claim", store.claim())?;
    for seed in 1..=2 {
        let sealed = seal(&authority, seed)?;
        store
            .commit(sealed, &authority)
            .map_err(|e| format!("commit failed: {e}"))?;
    }
    let loaded = call("load_latest", store.load_latest())?
        .ok_or("a shard with two commits loads as empty")?;
    let active = Restore::open(loaded, &authority)
        .map_err(|e| e.to_string())?
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)
        .map_err(|e| e.to_string())?;
    let expected = shard_of(2);
    ensure(
        active.players == expected.players
            && active.zones == expected.zones
            && active.npcs == expected.npcs
            && active.items == expected.items
            && active.quests == expected.quests,
        || "the restored records differ from the committed ones".to_owned(),
    )?;
    // A second handle sees the same latest, whole.
    let reader = Store::<Reference, B>::with_backend(second, StoreConfig::new());
    let loaded = call("load_latest (second handle)", reader.load_latest())?
        .ok_or("the second handle sees an empty shard")?;
    ensure(loaded.epoch() == Epoch(2), || {
        format!("the second handle loads {}", loaded.epoch())
    })
}

fn store_next_epoch_and_fencing<B: Backend>(
    fresh: &mut dyn FnMut() -> B,
    reopen: &mut dyn FnMut(&B) -> B,
    report: &mut Report,
) -> Outcome {
    let backend = fresh();
    let mut store = Store::<Reference, B>::with_backend(backend, StoreConfig::new());
    let old = call("claim", store.claim())?;
    let stale = seal(&old, 1)?;
    // A later claim through the same store supersedes `old`.
    let current = call("second claim", store.claim())?;
    match store.commit(stale, &old) {
        Err(e) if e.code() == "E-STORE-FENCED" => {}
        Err(e) => {
            return Err(format!(
                "a superseded commit failed with {e}, not E-STORE-FENCED"
            ));
        }
        Ok(_) => return Err("a superseded authority's commit succeeded".to_owned()),
    }
    let first = seal(&current, 1)?;
    let early = seal(&current, 2)?;
    store
        .commit(first, &current)
        .map_err(|e| format!("commit failed: {e}"))?;
    // `early` was sealed for epoch 1 too: now it is not the next epoch.
    match store.commit(early, &current) {
        Err(e) if e.code() == "E-STORE-EPOCH" => {}
        Err(e) => {
            return Err(format!(
                "a repeated epoch failed with {e}, not E-STORE-EPOCH"
            ));
        }
        Ok(_) => return Err("an epoch was committed twice".to_owned()),
    }
    // Another handle (another process) claiming: refused by the owner
    // lock, or it supersedes the first store.
    let mut rival =
        Store::<Reference, B>::with_backend(reopen(store.backend()), StoreConfig::new());
    match rival.claim() {
        Err(e) if e.code() == "E-STORE-CLAIMED" => {
            report
                .notes
                .push("the backend's owner lock refuses a second handle's claim".to_owned());
        }
        Err(e) => return Err(format!("a second handle's claim failed with {e}")),
        Ok(successor) => {
            report.notes.push(
                "the backend has no owner lock: a second handle's claim supersedes the first"
                    .to_owned(),
            );
            let late = seal(&current, 3)?;
            match store.commit(late, &current) {
                Err(e) if e.code() == "E-STORE-FENCED" => {}
                Err(e) => {
                    return Err(format!(
                        "a commit superseded through another handle failed with {e}, not E-STORE-FENCED"
                    ));
                }
                Ok(_) => {
                    return Err("a commit superseded through another handle succeeded".to_owned());
                }
            }
            let next = seal(&successor, 4)?;
            rival
                .commit(next, &successor)
                .map_err(|e| format!("the successor's commit failed: {e}"))?;
        }
    }
    Ok(())
}

/// Runs every property of [`PROPERTIES`] against the backend, in order, and
/// stops at the first that fails.
///
/// `fresh` must give a backend for a new, empty shard on every call (each
/// property uses its own). `reopen` must give a second, independent handle
/// on the shard of the backend it is passed — what another process or host
/// would open.
///
/// # Errors
/// The first property that does not hold, and what happened instead.
pub fn check<B: Backend>(
    mut fresh: impl FnMut() -> B,
    mut reopen: impl FnMut(&B) -> B,
) -> Result<Report, Failure> {
    let fresh: &mut dyn FnMut() -> B = &mut fresh;
    let reopen: &mut dyn FnMut(&B) -> B = &mut reopen;
    let mut report = Report::default();
    for &(property, _) in PROPERTIES {
        let outcome = match property {
            "empty-shard" => empty_shard(fresh),
            "claim-creates-once" => claim_creates_once(fresh, reopen),
            "claim-refuses-stale" => claim_refuses_stale(fresh, reopen),
            "publish-exact" => publish_exact(fresh, reopen),
            "publish-refuses-stale" => publish_refuses_stale(fresh, reopen),
            "read-bounded" => read_bounded(fresh),
            "large-bundle" => large_bundle(fresh, reopen),
            "remove" => remove(fresh),
            "store-round-trip" => store_round_trip(fresh, reopen),
            "store-next-epoch-and-fencing" => {
                store_next_epoch_and_fencing(fresh, reopen, &mut report)
            }
            _ => Err("unknown property".to_owned()),
        };
        match outcome {
            Ok(()) => report.passed.push(property),
            Err(detail) => return Err(Failure { property, detail }),
        }
    }
    Ok(report)
}
