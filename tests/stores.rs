//! The store contract on `MemStore` (next epoch only, fencing, foreign
//! authorities and shards, whole-or-nothing commits that hand the bundle
//! back, no fallback from a damaged latest), who may restore a loaded
//! epoch, and the activation rules of a restore.

#![cfg(feature = "reference")]

mod common;

use caelmor_persist::reference::{Reference, Shard};
use caelmor_persist::{
    ActivationError, Backend, CommitError, DigestKey, Epoch, EpochRecord, Fence, Head, ItemId,
    ItemLocation, MemBackend, MemStore, Rejection, RejectionCode, Restore, RestoreError, Sealed,
    ShardId, Store, StoreConfig, StoreError, StoredEpoch, Swap, ZoneId,
};
use common::{planted, restore, save, tiny};

fn store() -> MemStore<Reference> {
    MemStore::new(ShardId(1))
}

/// Asserts the commit failed with `code`, that the store still holds
/// nothing new, and that the bundle comes back byte for byte.
fn refused(
    result: Result<caelmor_persist::Committed, CommitError<Reference>>,
    code: &str,
    original: &[u8],
) -> Sealed<Reference> {
    let err = result.expect_err("the commit must be refused");
    assert_eq!(err.error.code(), code, "{err}");
    assert!(err.to_string().starts_with(code), "{err}");
    let back = err.into_sealed();
    assert_eq!(back.bytes(), original, "the bundle is handed back intact");
    back
}

/// The same records with one field changed: another state.
fn changed(shard: &Shard) -> Shard {
    let mut changed = shard.clone();
    changed.players[0].currency += 1;
    changed
}

#[test]
fn commits_go_to_the_next_epoch_only() {
    let shard = tiny();
    let mut store = store();
    let authority = store.claim().unwrap();
    // Two saves of different states sealed at the same epoch.
    let first = save(&shard, &authority).unwrap();
    let second = save(&changed(&shard), &authority).unwrap();
    assert_eq!((first.epoch(), second.epoch()), (Epoch(1), Epoch(1)));
    let second_bytes = second.bytes().to_vec();

    store.commit(first, &authority).unwrap();
    let back = refused(
        store.commit(second, &authority),
        "E-STORE-EPOCH",
        &second_bytes,
    );
    assert_eq!(back.epoch(), Epoch(1));
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));

    // The refusal names what the store expected.
    let again = store.commit(back, &authority).unwrap_err();
    assert!(matches!(
        again.error,
        StoreError::EpochNotNext {
            expected: Epoch(2),
            found: Epoch(1)
        }
    ));

    // The authority moved on: the next save is epoch 2 and commits.
    assert_eq!(authority.next_epoch(), Epoch(2));
    let third = save(&shard, &authority).unwrap();
    assert_eq!(store.commit(third, &authority).unwrap().epoch, Epoch(2));
}

/// The store accepts exactly the next epoch, not any later one (issue 11,
/// item 1: `!=` weakened to `<` survived). A head rolled back one version
/// through a second handle on the backend (its newest commit lost) leaves
/// the authority two epochs ahead of it; that authority's next bundle is
/// refused, naming the epoch the head expects.
#[test]
fn an_epoch_beyond_the_next_is_refused() {
    let backend = MemBackend::new(ShardId(1));
    let mut raw = backend.clone();
    let mut store = MemStore::<Reference>::with_backend(backend, StoreConfig::new());
    let authority = store.claim().unwrap();
    store
        .commit(save(&tiny(), &authority).unwrap(), &authority)
        .unwrap();
    let after_first = raw.head().unwrap().expect("a head");
    store
        .commit(save(&changed(&tiny()), &authority).unwrap(), &authority)
        .unwrap();
    let after_second = raw.head().unwrap().expect("a head");
    let rolled_back = Head {
        version: after_second.version + 1,
        ..after_first
    };
    assert_eq!(
        raw.claim(Some(&after_second), &rolled_back).unwrap(),
        Swap::Done
    );
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
    let ahead = save(&tiny(), &authority).unwrap();
    assert_eq!(ahead.epoch(), Epoch(3));
    let bytes = ahead.bytes().to_vec();
    let back = refused(store.commit(ahead, &authority), "E-STORE-EPOCH", &bytes);
    let again = store.commit(back, &authority).unwrap_err();
    assert!(
        matches!(
            again.error,
            StoreError::EpochNotNext {
                expected: Epoch(2),
                found: Epoch(3)
            }
        ),
        "{again}"
    );
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
}

/// A `MemBackend` whose next publish first lets a rival, through a second
/// handle on the same shard, move the head: what a writer sees that lost
/// the race between reading the head and swapping it.
struct Interfering {
    inner: MemBackend,
    rival: Option<Rival>,
}

/// What the rival does to the shard, once.
type Rival = Box<dyn FnOnce(&mut MemBackend) + Send>;

impl Backend for Interfering {
    fn shard(&self) -> ShardId {
        self.inner.shard()
    }
    fn location(&self) -> String {
        self.inner.location()
    }
    fn head(&self) -> Result<Option<Head>, StoreError> {
        self.inner.head()
    }
    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        self.inner.claim(expected, next)
    }
    fn publish(&mut self, expected: &Head, next: &Head, bundle: &[u8]) -> Result<Swap, StoreError> {
        if let Some(rival) = self.rival.take() {
            rival(&mut self.inner.clone());
        }
        self.inner.publish(expected, next, bundle)
    }
    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read(stored, max_len)
    }
    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        self.inner.list()
    }
    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError> {
        self.inner.remove(stored)
    }
}

/// A commit whose swap lost a race is told what moved the head: a newer
/// claim (`E-STORE-FENCED`), a commit under the same fence, possible only
/// past the owner lock (`E-STORE-EPOCH`, naming the epoch now expected),
/// or anything else (`E-STORE-CONTENDED`). Nothing of the loser lands.
#[test]
fn a_lost_swap_is_named_for_what_moved_the_head() {
    let rivals: [(&str, Rival); 3] = [
        (
            "E-STORE-EPOCH",
            Box::new(|other: &mut MemBackend| {
                // Another writer with the same fence (past the owner lock)
                // publishes epoch 1 first; the backend compares heads only,
                // so its bytes need not be a bundle here.
                let head = other.head().unwrap().expect("claimed");
                let next = Head {
                    version: head.version + 1,
                    latest: Some(EpochRecord {
                        epoch: Epoch(1),
                        fence: head.fence,
                        len: 5,
                        digest: [7; 32],
                    }),
                    ..head
                };
                assert_eq!(other.publish(&head, &next, b"rival").unwrap(), Swap::Done);
            }),
        ),
        (
            "E-STORE-CONTENDED",
            Box::new(|other: &mut MemBackend| {
                // The head changes, but neither its fence nor its latest.
                let head = other.head().unwrap().expect("claimed");
                let next = Head {
                    version: head.version + 1,
                    ..head
                };
                assert_eq!(other.claim(Some(&head), &next).unwrap(), Swap::Done);
            }),
        ),
        (
            "E-STORE-FENCED",
            Box::new(|other: &mut MemBackend| {
                let mut store =
                    MemStore::<Reference>::with_backend(other.clone(), StoreConfig::new());
                store.claim().unwrap();
            }),
        ),
    ];
    for (code, rival) in rivals {
        let inner = MemBackend::new(ShardId(1));
        let backend = Interfering {
            inner: inner.clone(),
            rival: Some(rival),
        };
        let mut store = Store::<Reference, Interfering>::with_backend(backend, StoreConfig::new());
        let authority = store.claim().unwrap();
        let sealed = save(&tiny(), &authority).unwrap();
        let bytes = sealed.bytes().to_vec();
        let back = refused(store.commit(sealed, &authority), code, &bytes);
        let latest = inner.head().unwrap().expect("a head").latest;
        match code {
            "E-STORE-EPOCH" => {
                assert_eq!(latest.map(|l| l.epoch), Some(Epoch(1)));
                assert_eq!(latest.map(|l| l.digest), Some([7; 32]), "the rival's");
                let again = store.commit(back, &authority).unwrap_err();
                assert!(
                    matches!(
                        again.error,
                        StoreError::EpochNotNext {
                            expected: Epoch(2),
                            found: Epoch(1)
                        }
                    ),
                    "{again}"
                );
            }
            _ => assert_eq!(latest, None, "{code}: nothing landed"),
        }
        assert_eq!(
            inner.list().unwrap().len(),
            usize::from(code == "E-STORE-EPOCH"),
            "{code}: only the rival's bytes are stored"
        );
    }
}

/// Committing again the very bundle that is already the latest (a retry
/// after an error that left the outcome unknown) is not a second epoch: it
/// succeeds as the same commit, and changes nothing.
#[test]
fn committing_the_latest_bundle_again_is_the_same_commit() {
    let shard = tiny();
    let mut store = store();
    let authority = store.claim().unwrap();
    let first = save(&shard, &authority).unwrap();
    let identical = save(&shard, &authority).unwrap();
    let too_late = save(&shard, &authority).unwrap();
    assert_eq!(first.bytes(), identical.bytes());
    let committed = store.commit(first, &authority).unwrap();
    let again = store.commit(identical, &authority).unwrap();
    assert_eq!(again, committed);
    assert_eq!(store.epochs().unwrap(), [Epoch(1)]);
    assert_eq!(authority.next_epoch(), Epoch(2));
    // Once a later epoch is latest, the same bytes are an old epoch.
    let later = save(&changed(&shard), &authority).unwrap();
    store.commit(later, &authority).unwrap();
    let bytes = too_late.bytes().to_vec();
    refused(store.commit(too_late, &authority), "E-STORE-EPOCH", &bytes);
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(2)));
}

#[test]
fn a_superseded_authority_is_fenced_out() {
    let shard = tiny();
    let mut store = store();
    let old = store.claim().unwrap();
    let new = store.claim().unwrap();
    assert!(new.fence() > old.fence());

    // The old authority commits its own bundle: fenced.
    let stale = save(&shard, &old).unwrap();
    let stale_bytes = stale.bytes().to_vec();
    let stale = refused(store.commit(stale, &old), "E-STORE-FENCED", &stale_bytes);

    // A bundle sealed under the old authority, committed by the new one:
    // still fenced, the bundle carries the fence it was sealed under.
    assert_eq!(stale.fence(), Fence(1));
    let err = store.commit(stale, &new).unwrap_err();
    assert!(
        matches!(
            err.error,
            StoreError::Fenced {
                current: Fence(2),
                found: Fence(1)
            }
        ),
        "{err}"
    );
    assert_eq!(err.into_sealed().bytes(), &stale_bytes[..]);
    assert_eq!(store.latest_epoch().unwrap(), None, "nothing was written");

    // The new authority's own bundle commits.
    let fresh = save(&shard, &new).unwrap();
    assert_eq!(fresh.fence(), Fence(2));
    store.commit(fresh, &new).unwrap();
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
}

#[test]
fn an_authority_from_another_store_is_refused() {
    let shard = tiny();
    let mut store = store();
    let mut other = MemStore::<Reference>::new(ShardId(1));
    let _own = store.claim().unwrap();
    let foreign = other.claim().unwrap();
    // Same shard, same fence number, same epoch: only the minting store differs.
    assert_eq!(foreign.fence(), _own.fence());
    let sealed = save(&shard, &foreign).unwrap();
    let bytes = sealed.bytes().to_vec();
    refused(store.commit(sealed, &foreign), "E-STORE-AUTHORITY", &bytes);
    assert_eq!(store.latest_epoch().unwrap(), None);
}

#[test]
fn a_bundle_sealed_under_another_stores_authority_is_refused() {
    // Two stores of the same shard, with different keys, both at fence 1:
    // the committing authority is this store's own, only the bundle's
    // sealing authority is foreign. Committing it would make a latest
    // epoch this store can never restore (its digest uses the other key).
    let shard = tiny();
    let mut store = MemStore::<Reference>::with_key(ShardId(1), DigestKey::from_bytes([1; 32]));
    let mut other = MemStore::<Reference>::with_key(ShardId(1), DigestKey::from_bytes([2; 32]));
    let own = store.claim().unwrap();
    let foreign = other.claim().unwrap();
    assert_eq!(own.fence(), foreign.fence());
    let sealed = save(&shard, &foreign).unwrap();
    let bytes = sealed.bytes().to_vec();
    refused(store.commit(sealed, &own), "E-STORE-AUTHORITY", &bytes);
    assert_eq!(store.latest_epoch().unwrap(), None);
    // The same shard sealed under the store's own authority commits.
    let sealed = save(&shard, &own).unwrap();
    store.commit(sealed, &own).unwrap();
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
}

#[test]
fn a_bundle_or_authority_for_another_shard_is_refused() {
    let shard = tiny();
    let mut store = store();
    let authority = store.claim().unwrap();

    // A bundle sealed for shard 2, committed with this store's authority.
    let mut other = MemStore::<Reference>::new(ShardId(2));
    let other_authority = other.claim().unwrap();
    let sealed = save(&shard, &other_authority).unwrap();
    assert_eq!(sealed.shard(), ShardId(2));
    let bytes = sealed.bytes().to_vec();
    let back = refused(store.commit(sealed, &authority), "E-STORE-SHARD", &bytes);

    // The shard-2 store accepts it, so the bundle itself was fine.
    other.commit(back, &other_authority).unwrap();
    assert_eq!(store.latest_epoch().unwrap(), None);
}

#[test]
fn a_failed_commit_changes_nothing_and_the_store_keeps_going() {
    let shard = tiny();
    let mut store = store();
    let authority = store.claim().unwrap();
    let first = save(&shard, &authority).unwrap();
    let first_bytes = first.bytes().to_vec();
    let first_digest = first.digest();
    let rival = save(&changed(&shard), &authority).unwrap();
    store.commit(first, &authority).unwrap();
    let err = store.commit(rival, &authority).unwrap_err();
    assert_eq!(err.code(), "E-STORE-EPOCH");

    let latest = store.load_latest().unwrap().unwrap();
    assert_eq!(latest.epoch(), Epoch(1));
    assert_eq!(latest.summary().digest, first_digest);
    assert_eq!(store.epochs().unwrap(), [Epoch(1)]);
    let stored = store.load_epoch(Epoch(1)).unwrap().unwrap();
    assert_eq!(stored.bytes(), &first_bytes[..]);
    assert_eq!(authority.next_epoch(), Epoch(2));
}

/// A shard whose item step fails (an item inside a container that does not
/// exist).
fn broken() -> Shard {
    let mut shard = tiny();
    shard.items[1].location = ItemLocation::Container(ItemId(77));
    shard
}

#[test]
fn a_failed_save_step_leaves_nothing() {
    let mut store = store();
    let authority = store.claim().unwrap();

    let err = save(&broken(), &authority).unwrap_err();
    assert_eq!(err.code(), RejectionCode::DanglingRef);
    // Nothing was reserved or written.
    assert!(store.load_latest().unwrap().is_none());
    assert_eq!(store.latest_epoch().unwrap(), None);
    assert_eq!(authority.next_epoch(), Epoch(1));

    // A fresh save at the same epoch commits.
    let sealed = save(&tiny(), &authority).unwrap();
    assert_eq!(sealed.epoch(), Epoch(1));
    let committed = store.commit(sealed, &authority).unwrap();
    assert_eq!(committed.epoch, Epoch(1));

    // And a failure at the last step (quest → missing zone) is no different.
    let mut late = tiny();
    late.quests[1].zones.push(ZoneId(404));
    let err = save(&late, &authority).unwrap_err();
    assert_eq!(
        err,
        Rejection::DanglingRef {
            edge: caelmor_persist::Edge::QuestZone,
            from: 2,
            to: 404
        }
    );
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
    let sealed = save(&tiny(), &authority).unwrap();
    assert_eq!(store.commit(sealed, &authority).unwrap().epoch, Epoch(2));
}

fn committed_store() -> (
    MemStore<Reference>,
    caelmor_persist::ServerAuthority<Reference>,
) {
    let mut store = store();
    let authority = store.claim().unwrap();
    let sealed = save(&tiny(), &authority).unwrap();
    store.commit(sealed, &authority).unwrap();
    (store, authority)
}

#[test]
fn an_epoch_loaded_by_another_store_cannot_be_restored() {
    // Two stores of the same shard, both at fence 1, both at epoch 1 of
    // the same records: only the store that loaded differs.
    let (store, authority) = committed_store();
    let (other, other_authority) = committed_store();
    assert_eq!(authority.fence(), other_authority.fence());

    let err = Restore::open(other.load_latest().unwrap().unwrap(), &authority).unwrap_err();
    assert_eq!(err, RestoreError::ForeignStore);
    assert_eq!(err.code(), "E-RESTORE-FOREIGN");
    assert!(err.to_string().starts_with("E-RESTORE-FOREIGN: "), "{err}");
    // A throwaway store's authority cannot restore the real shard either.
    let impostor = MemStore::<Reference>::new(ShardId(1)).claim().unwrap();
    let err = Restore::open(store.load_latest().unwrap().unwrap(), &impostor).unwrap_err();
    assert_eq!(err.code(), "E-RESTORE-FOREIGN");

    // Each store's own authority restores its own load.
    let loaded = store.load_latest().unwrap().unwrap();
    assert_eq!(restore(loaded, &authority).unwrap(), tiny());
    let loaded = other.load_latest().unwrap().unwrap();
    assert_eq!(restore(loaded, &other_authority).unwrap(), tiny());
}

#[test]
fn activation_requires_the_authority_that_opened_the_restore() {
    let (mut store, authority) = committed_store();
    let open = |store: &MemStore<Reference>| {
        Restore::open(store.load_latest().unwrap().unwrap(), &authority)
            .unwrap()
            .players()
            .world()
            .npcs()
            .items()
            .quests()
    };

    // An authority from another store of the same shard.
    let stranger = MemStore::<Reference>::new(ShardId(1)).claim().unwrap();
    let err = open(&store).activate(&stranger).unwrap_err();
    assert_eq!(err, ActivationError::ForeignAuthority);
    assert_eq!(err.code(), "E-ACTIVATE-AUTHORITY");
    assert!(err.to_string().starts_with("E-ACTIVATE-AUTHORITY"));

    // The opener succeeds, with all five systems at once.
    let active = open(&store).activate(&authority).unwrap();
    assert_eq!(active.players, tiny().players);
    assert_eq!(active.zones, tiny().zones);
    assert_eq!(active.npcs, tiny().npcs);
    assert_eq!(active.items, tiny().items);
    assert_eq!(active.quests, tiny().quests);
    assert_eq!(active.summary.epoch, Epoch(1));

    // Two restores opened by the current authority; then a later claim.
    let before_claim = open(&store);
    let also_before = open(&store);
    let successor = store.claim().unwrap();
    assert!(!authority.is_current() && successor.is_current());
    // The successor did not open them: E-ACTIVATE-AUTHORITY…
    assert_eq!(
        before_claim.activate(&successor).unwrap_err(),
        ActivationError::ForeignAuthority
    );
    // …and their opener has been superseded: E-ACTIVATE-FENCED.
    let err = also_before.activate(&authority).unwrap_err();
    assert_eq!(err, ActivationError::Fenced { fence: Fence(1) });
    assert_eq!(err.code(), "E-ACTIVATE-FENCED");
    assert!(err.to_string().starts_with("E-ACTIVATE-FENCED: "), "{err}");

    // The successor restores and activates what it loads.
    let loaded = store.load_latest().unwrap().unwrap();
    assert_eq!(loaded.fence(), Fence(2));
    assert_eq!(restore(loaded, &successor).unwrap(), tiny());
}

#[test]
fn only_the_current_claim_restores() {
    let (mut store, authority) = committed_store();
    let first_load = store.load_latest().unwrap().unwrap();
    let second_load = store.load_latest().unwrap().unwrap();
    assert_eq!(first_load.fence(), Fence(1));
    let successor = store.claim().unwrap();

    // Loaded under fence 1, then superseded: refused to its own authority…
    let err = Restore::open(first_load, &authority).unwrap_err();
    assert_eq!(
        err,
        RestoreError::Fenced {
            loaded_under: Fence(1),
            authority: Fence(1)
        }
    );
    assert_eq!(err.code(), "E-RESTORE-FENCED");
    assert!(err.to_string().starts_with("E-RESTORE-FENCED: "), "{err}");
    // …and to the successor, which must load the epoch itself.
    assert_eq!(
        Restore::open(second_load, &successor).unwrap_err(),
        RestoreError::Fenced {
            loaded_under: Fence(1),
            authority: Fence(2)
        }
    );
    // A load under the new fence is refused to the superseded authority…
    let under_2 = store.load_latest().unwrap().unwrap();
    assert_eq!(under_2.fence(), Fence(2));
    assert_eq!(
        Restore::open(under_2, &authority).unwrap_err(),
        RestoreError::Fenced {
            loaded_under: Fence(2),
            authority: Fence(1)
        }
    );
    // …and restores for the successor.
    let under_2 = store.load_latest().unwrap().unwrap();
    assert_eq!(restore(under_2, &successor).unwrap(), tiny());
}

#[test]
fn a_server_superseded_by_another_store_stops_when_its_store_sees_the_head() {
    // Two stores over one backend: two servers of one shard, one database.
    let shared = MemBackend::new(ShardId(1));
    let mut a = Store::<Reference, _>::with_backend(shared.clone(), StoreConfig::new());
    let mut b = Store::<Reference, _>::with_backend(shared, StoreConfig::new());
    let a_auth = a.claim().unwrap();
    a.commit(save(&tiny(), &a_auth).unwrap(), &a_auth).unwrap();
    let opened = Restore::open(a.load_latest().unwrap().unwrap(), &a_auth)
        .unwrap()
        .players()
        .world()
        .npcs()
        .items()
        .quests();

    // B takes the shard over; A's store learns it at its next read.
    let b_auth = b.claim().unwrap();
    assert_eq!(b_auth.fence(), Fence(2));
    let reloaded = a.load_latest().unwrap().unwrap();
    assert_eq!(reloaded.fence(), Fence(2));
    assert!(!a_auth.is_current());
    assert_eq!(
        Restore::open(reloaded, &a_auth).unwrap_err().code(),
        "E-RESTORE-FENCED"
    );
    assert_eq!(
        opened.activate(&a_auth).unwrap_err(),
        ActivationError::Fenced { fence: Fence(1) }
    );
    let stale = save(&tiny(), &a_auth).unwrap();
    let err = a.commit(stale, &a_auth).unwrap_err();
    assert_eq!(err.code(), "E-STORE-FENCED");
    // B restores A's epoch and commits the next one.
    assert_eq!(
        restore(b.load_latest().unwrap().unwrap(), &b_auth).unwrap(),
        tiny()
    );
    let next = save(&tiny(), &b_auth).unwrap();
    assert_eq!(b.commit(next, &b_auth).unwrap().epoch, Epoch(2));
}

#[test]
fn load_epoch_and_load_latest_never_mix_epochs() {
    let mut store = store();
    let authority = store.claim().unwrap();
    let mut shard = tiny();
    let mut bytes = Vec::new();
    let mut digests = Vec::new();
    for round in 0..3u64 {
        shard.players[0].currency = round;
        let sealed = save(&shard, &authority).unwrap();
        bytes.push(sealed.bytes().to_vec());
        digests.push(sealed.digest());
        store.commit(sealed, &authority).unwrap();
    }
    let latest = store.load_latest().unwrap().unwrap();
    assert_eq!(latest.epoch(), Epoch(3));
    assert_eq!(latest.summary().digest, digests[2]);
    for (i, b) in bytes.iter().enumerate() {
        let e = Epoch(i as u64 + 1);
        let stored = store.load_epoch(e).unwrap().expect("kept");
        assert_eq!(stored.bytes(), &b[..]);
        assert_eq!(stored.verified().summary.epoch, e);
        assert_eq!(stored.verified().summary.digest, digests[i]);
    }
    assert!(store.load_epoch(Epoch(4)).unwrap().is_none());

    // An older epoch's bytes where the latest's should be: not the bundle
    // that was committed, so damaged — never loaded as the latest.
    let latest = StoredEpoch {
        epoch: Epoch(3),
        fence: Fence(1),
    };
    let backend = store.backend().clone();
    assert!(backend.tamper(latest, |b| b.clone_from(&bytes[0])));
    let err = store.load_latest().unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Damaged {
                epoch: Epoch(3),
                rejection: None,
                ..
            }
        ),
        "{err:?}"
    );
    // Even with a head rewritten to name those bytes, the bundle says it is
    // epoch 1: refused by the epoch expectation (E-EPOCH).
    let (planted, _authority) = planted(&bytes[0], ShardId(1), Epoch(3), None);
    let err = planted.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-DAMAGED");
    assert_eq!(
        err.rejection(),
        Some(&Rejection::EpochMismatch {
            expected: Epoch(3),
            found: Epoch(1)
        })
    );
    assert_eq!(err.rejection().unwrap().code(), RejectionCode::Epoch);
}

#[test]
fn a_damaged_or_missing_latest_is_an_error_never_a_fallback() {
    let mut store = store();
    let authority = store.claim().unwrap();
    for _ in 0..2 {
        let sealed = save(&tiny(), &authority).unwrap();
        store.commit(sealed, &authority).unwrap();
    }
    let backend = store.backend().clone();
    let latest = StoredEpoch {
        epoch: Epoch(2),
        fence: Fence(1),
    };
    // One flipped byte of the latest.
    assert!(backend.tamper(latest, |b| b[40] ^= 1));
    let err = store.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-DAMAGED");
    assert!(
        err.to_string()
            .starts_with("E-STORE-DAMAGED: memory:shard#1 (epoch#2, fence#1): epoch#2: "),
        "{err}"
    );
    assert!(matches!(
        err,
        StoreError::Damaged {
            epoch: Epoch(2),
            ..
        }
    ));
    assert_eq!(
        store.load_epoch(Epoch(2)).unwrap_err().code(),
        "E-STORE-DAMAGED"
    );
    // The older epoch is readable for inspection, never loaded instead.
    assert!(store.load_epoch(Epoch(1)).unwrap().is_some());
    // The damage is not repaired by a claim, and nothing commits over it
    // as epoch 2.
    let successor = store.claim().unwrap();
    assert_eq!(successor.next_epoch(), Epoch(3));
    assert_eq!(store.load_latest().unwrap_err().code(), "E-STORE-DAMAGED");
    let next = save(&tiny(), &successor).unwrap();
    assert_eq!(store.commit(next, &successor).unwrap().epoch, Epoch(3));
    assert_eq!(store.load_latest().unwrap().unwrap().epoch(), Epoch(3));

    // A lost head while epochs remain: never an empty shard.
    backend.forget_head();
    let err = store.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-HEAD");
    assert!(
        matches!(
            err,
            StoreError::HeadMissing {
                newest: Epoch(3),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.claim().unwrap_err().code(), "E-STORE-HEAD");
}

#[test]
fn a_shard_keeps_its_key() {
    let shared = MemBackend::new(ShardId(1));
    let keyed = StoreConfig::new().key(DigestKey::from_bytes([1; 32]));
    let mut first = Store::<Reference, _>::with_backend(shared.clone(), keyed);
    let authority = first.claim().unwrap();
    first
        .commit(save(&tiny(), &authority).unwrap(), &authority)
        .unwrap();

    // Another key, or none: refused before anything is written or read.
    for config in [
        StoreConfig::new(),
        StoreConfig::new().key(DigestKey::from_bytes([2; 32])),
    ] {
        let mut other = Store::<Reference, _>::with_backend(shared.clone(), config);
        let err = other.claim().unwrap_err();
        assert_eq!(err.code(), "E-STORE-KEY");
        assert!(matches!(err, StoreError::KeyMismatch { .. }));
        assert_eq!(other.load_latest().unwrap_err().code(), "E-STORE-KEY");
    }
    assert_eq!(first.latest_epoch().unwrap(), Some(Epoch(1)));
    assert!(authority.is_current(), "a refused claim supersedes nobody");
}
