//! The store contract on `MemStore` (next epoch only, fencing, foreign
//! authorities and shards, whole-or-nothing commits that hand the bundle
//! back) and the activation rules of a restore.

#![cfg(feature = "reference")]

mod common;

use caelmor_persist::reference::{Reference, Shard};
use caelmor_persist::{
    ActivationError, CommitError, DigestKey, Epoch, Fence, ItemId, ItemLocation, Loaded, MemStore,
    Rejection, RejectionCode, Restore, Sealed, ShardId, Store, StoreError, ZoneId,
};
use common::{save, tiny};

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

#[test]
fn commits_go_to_the_next_epoch_only() {
    let shard = tiny();
    let mut store = store();
    let mut authority = store.claim().unwrap();
    // Two saves sealed at the same epoch.
    let first = save(&shard, &authority).unwrap();
    let second = save(&shard, &authority).unwrap();
    assert_eq!((first.epoch(), second.epoch()), (Epoch(1), Epoch(1)));
    let second_bytes = second.bytes().to_vec();

    store.commit(first, &mut authority).unwrap();
    let back = refused(
        store.commit(second, &mut authority),
        "E-STORE-EPOCH",
        &second_bytes,
    );
    assert_eq!(back.epoch(), Epoch(1));
    assert_eq!(store.latest_epoch(), Some(Epoch(1)));

    // The refusal names what the store expected.
    let again = store.commit(back, &mut authority).unwrap_err();
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
    assert_eq!(store.commit(third, &mut authority).unwrap().epoch, Epoch(2));
}

#[test]
fn a_superseded_authority_is_fenced_out() {
    let shard = tiny();
    let mut store = store();
    let mut old = store.claim().unwrap();
    let mut new = store.claim().unwrap();
    assert!(new.fence() > old.fence());

    // The old authority commits its own bundle: fenced.
    let stale = save(&shard, &old).unwrap();
    let stale_bytes = stale.bytes().to_vec();
    let stale = refused(
        store.commit(stale, &mut old),
        "E-STORE-FENCED",
        &stale_bytes,
    );

    // A bundle sealed under the old authority, committed by the new one:
    // still fenced, the bundle carries the fence it was sealed under.
    assert_eq!(stale.fence(), Fence(1));
    let err = store.commit(stale, &mut new).unwrap_err();
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
    assert_eq!(store.latest_epoch(), None, "nothing was written");

    // The new authority's own bundle commits.
    let fresh = save(&shard, &new).unwrap();
    assert_eq!(fresh.fence(), Fence(2));
    store.commit(fresh, &mut new).unwrap();
    assert_eq!(store.latest_epoch(), Some(Epoch(1)));
}

#[test]
fn an_authority_from_another_store_is_refused() {
    let shard = tiny();
    let mut store = store();
    let mut other = MemStore::<Reference>::new(ShardId(1));
    let _own = store.claim().unwrap();
    let mut foreign = other.claim().unwrap();
    // Same shard, same fence number, same epoch: only the minting store differs.
    assert_eq!(foreign.fence(), _own.fence());
    let sealed = save(&shard, &foreign).unwrap();
    let bytes = sealed.bytes().to_vec();
    refused(
        store.commit(sealed, &mut foreign),
        "E-STORE-AUTHORITY",
        &bytes,
    );
    assert_eq!(store.latest_epoch(), None);
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
    let mut own = store.claim().unwrap();
    let foreign = other.claim().unwrap();
    assert_eq!(own.fence(), foreign.fence());
    let sealed = save(&shard, &foreign).unwrap();
    let bytes = sealed.bytes().to_vec();
    refused(store.commit(sealed, &mut own), "E-STORE-AUTHORITY", &bytes);
    assert_eq!(store.latest_epoch(), None);
    // The same shard sealed under the store's own authority commits.
    let sealed = save(&shard, &own).unwrap();
    store.commit(sealed, &mut own).unwrap();
    assert_eq!(store.latest_epoch(), Some(Epoch(1)));
}

#[test]
fn a_bundle_or_authority_for_another_shard_is_refused() {
    let shard = tiny();
    let mut store = store();
    let mut authority = store.claim().unwrap();

    // A bundle sealed for shard 2, committed with this store's authority.
    let mut other = MemStore::<Reference>::new(ShardId(2));
    let mut other_authority = other.claim().unwrap();
    let sealed = save(&shard, &other_authority).unwrap();
    assert_eq!(sealed.shard(), ShardId(2));
    let bytes = sealed.bytes().to_vec();
    let back = refused(
        store.commit(sealed, &mut authority),
        "E-STORE-SHARD",
        &bytes,
    );

    // The shard-2 store accepts it, so the bundle itself was fine.
    other.commit(back, &mut other_authority).unwrap();
    assert_eq!(store.latest_epoch(), None);
}

#[test]
fn a_failed_commit_changes_nothing_and_the_store_keeps_going() {
    let shard = tiny();
    let mut store = store();
    let mut authority = store.claim().unwrap();
    let first = save(&shard, &authority).unwrap();
    let first_bytes = first.bytes().to_vec();
    let duplicate = save(&shard, &authority).unwrap();
    store.commit(first, &mut authority).unwrap();
    let _ = store.commit(duplicate, &mut authority).unwrap_err();

    let latest = store.load_latest().unwrap().unwrap();
    assert_eq!(latest.epoch(), Epoch(1));
    assert_eq!(latest.bytes(), &first_bytes[..]);
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
    let mut authority = store.claim().unwrap();

    let err = save(&broken(), &authority).unwrap_err();
    assert_eq!(err.code(), RejectionCode::DanglingRef);
    // Nothing was reserved or written.
    assert_eq!(store.load_latest().unwrap(), None);
    assert_eq!(authority.next_epoch(), Epoch(1));

    // A fresh save at the same epoch commits.
    let sealed = save(&tiny(), &authority).unwrap();
    assert_eq!(sealed.epoch(), Epoch(1));
    let committed = store.commit(sealed, &mut authority).unwrap();
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
    assert_eq!(store.latest_epoch(), Some(Epoch(1)));
    let sealed = save(&tiny(), &authority).unwrap();
    assert_eq!(
        store.commit(sealed, &mut authority).unwrap().epoch,
        Epoch(2)
    );
}

fn committed_store() -> (
    MemStore<Reference>,
    caelmor_persist::ServerAuthority<Reference>,
) {
    let mut store = store();
    let mut authority = store.claim().unwrap();
    let sealed = save(&tiny(), &authority).unwrap();
    store.commit(sealed, &mut authority).unwrap();
    (store, authority)
}

#[test]
fn a_dormant_value_of_another_restore_cannot_be_activated() {
    let (store, authority) = committed_store();
    let loaded = store.load_latest().unwrap().unwrap();

    // Two restores of the very same bytes.
    let (a, a_players) = Restore::open(loaded.clone(), &authority).unwrap().players();
    let (b, b_players) = Restore::open(loaded, &authority).unwrap().players();
    let (a, _) = a.world();
    let (a, _) = a.npcs();
    let (a, _) = a.items();
    let (a, _) = a.quests();
    let (b, _) = b.world();
    let (b, _) = b.npcs();
    let (b, _) = b.items();
    let (b, b_quests) = b.quests();
    let active_a = a.activate(&authority).unwrap();
    let active_b = b.activate(&authority).unwrap();

    let err = active_a.activate(b_players).unwrap_err();
    assert_eq!(err, ActivationError::ForeignDormant);
    assert_eq!(err.code(), "E-ACTIVATE-FOREIGN");
    assert!(err.to_string().starts_with("E-ACTIVATE-FOREIGN"));
    // A mapped dormant value stays bound to its restore.
    let err = active_a.activate(b_quests.map(|q| q.len())).unwrap_err();
    assert_eq!(err, ActivationError::ForeignDormant);

    // Each activation releases its own values.
    assert_eq!(active_a.activate(a_players).unwrap(), tiny().players);
    let _ = active_b;
}

#[test]
fn activation_requires_the_authority_that_opened_the_restore() {
    let (mut store, authority) = committed_store();
    let loaded = store.load_latest().unwrap().unwrap();
    let (r, players) = Restore::open(loaded.clone(), &authority).unwrap().players();
    let (r, _) = r.world();
    let (r, _) = r.npcs();
    let (r, _) = r.items();
    let (r, _) = r.quests();

    // A later authority of the same store is not the one that opened it.
    let successor = store.claim().unwrap();
    let err = r.activate(&successor).unwrap_err();
    assert_eq!(err, ActivationError::ForeignAuthority);
    assert_eq!(err.code(), "E-ACTIVATE-AUTHORITY");
    assert!(err.to_string().starts_with("E-ACTIVATE-AUTHORITY"));
    drop(players);

    // Nor is one from another store of the same shard.
    let stranger = MemStore::<Reference>::new(ShardId(1)).claim().unwrap();
    let (r, _) = Restore::open(loaded.clone(), &authority).unwrap().players();
    let (r, _) = r.world();
    let (r, _) = r.npcs();
    let (r, _) = r.items();
    let (r, _) = r.quests();
    assert_eq!(
        r.activate(&stranger).unwrap_err(),
        ActivationError::ForeignAuthority
    );

    // The opener succeeds.
    let (r, players) = Restore::open(loaded, &authority).unwrap().players();
    let (r, _) = r.world();
    let (r, _) = r.npcs();
    let (r, _) = r.items();
    let (r, _) = r.quests();
    let active = r.activate(&authority).unwrap();
    assert_eq!(active.activate(players).unwrap(), tiny().players);
}

#[test]
fn load_epoch_and_load_latest_never_mix_epochs() {
    let mut store = store();
    let mut authority = store.claim().unwrap();
    let mut shard = tiny();
    let mut bytes = Vec::new();
    for round in 0..3u64 {
        shard.players[0].currency = round;
        let sealed = save(&shard, &authority).unwrap();
        bytes.push(sealed.bytes().to_vec());
        store.commit(sealed, &mut authority).unwrap();
    }
    let latest = store.load_latest().unwrap().unwrap();
    assert_eq!(latest, Loaded::new(bytes[2].clone(), Epoch(3)));
    for (i, b) in bytes.iter().enumerate() {
        let e = Epoch(i as u64 + 1);
        assert_eq!(store.load_epoch(e).unwrap(), Loaded::new(b.clone(), e));
    }
    assert_eq!(store.load_epoch(Epoch(4)), None);
    // An older epoch presented as the latest is caught on open (E-EPOCH).
    let err = Restore::open(Loaded::new(bytes[0].clone(), Epoch(3)), &authority).unwrap_err();
    assert_eq!(err.code(), RejectionCode::Epoch);
}
