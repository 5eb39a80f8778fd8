//! Who may restore, and what: only the shard's current server, only the
//! latest committed epoch, all five systems or none (issue 9; Stage 21.2
//! §5, §8, §9.3, §9.6; Stage 21.0: no rollback via persistence).

#![cfg(feature = "reference")]

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    Backend, Epoch, FileStore, MemBackend, MemStore, Restore, Save, Sealed, ServerAuthority,
    ShardId, Store, StoreConfig,
};

fn world(seed: u64) -> Shard {
    ShardSpec {
        players: 5,
        zones: 3,
        npcs: 6,
        items: 20,
        quests: 4,
    }
    .generate(seed)
}

fn seal(authority: &ServerAuthority<Reference>, seed: u64) -> Sealed<Reference> {
    let w = world(seed);
    Save::begin(authority)
        .players(&w.players)
        .and_then(|s| s.world(&w.zones))
        .and_then(|s| s.npcs(&w.npcs))
        .and_then(|s| s.items(&w.items))
        .and_then(|s| s.quests(&w.quests))
        .expect("a generated shard saves")
        .seal()
}

fn commit<B: Backend>(
    store: &mut Store<Reference, B>,
    authority: &mut ServerAuthority<Reference>,
    seed: u64,
) {
    let sealed = seal(authority, seed);
    store.commit(sealed, authority).expect("commit");
}

#[test]
fn an_authority_of_another_store_cannot_restore_the_shard() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let mut authority = store.claim().expect("claim");
    commit(&mut store, &mut authority, 1);

    // A throwaway store for the same shard id mints an "impostor".
    let mut throwaway = MemStore::<Reference>::new(ShardId(1));
    let impostor = throwaway.claim().expect("claim");
    let loaded = store.load_latest().expect("load").expect("epoch 1");
    let refused = Restore::open(loaded, &impostor).expect_err("impostor");
    assert_eq!(refused.code(), "E-RESTORE-FOREIGN");

    // Two stores over one shard (two servers over one database): the
    // other store's authority, though current, did not load this epoch.
    let shared = MemBackend::new(ShardId(2));
    let mut first = Store::<Reference, _>::with_backend(shared.clone(), StoreConfig::new());
    let mut second = Store::<Reference, _>::with_backend(shared, StoreConfig::new());
    let mut a = first.claim().expect("claim");
    commit(&mut first, &mut a, 2);
    let b = second.claim().expect("claim");
    let loaded = first.load_latest().expect("load").expect("epoch 1");
    assert_eq!(
        Restore::open(loaded, &b)
            .expect_err("b did not load it")
            .code(),
        "E-RESTORE-FOREIGN"
    );
}

#[test]
fn a_superseded_authority_cannot_restore_or_activate() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let mut old = store.claim().expect("claim");
    commit(&mut store, &mut old, 1);

    // Loaded before the new claim, opened after it.
    let early = store.load_latest().expect("load").expect("epoch 1");
    let current = store.claim().expect("claim");
    assert!(!old.is_current() && current.is_current());
    let refused = Restore::open(early, &old).expect_err("superseded");
    assert_eq!(refused.code(), "E-RESTORE-FENCED");

    // Loaded after the new claim: the fence at the load is the new one.
    let late = store.load_latest().expect("load").expect("epoch 1");
    assert_eq!(
        Restore::open(late, &old).expect_err("superseded").code(),
        "E-RESTORE-FENCED"
    );

    // Opened while current, superseded before activation: no activation.
    let loaded = store.load_latest().expect("load").expect("epoch 1");
    let restore = Restore::open(loaded, &current)
        .expect("current")
        .players()
        .world()
        .npcs()
        .items()
        .quests();
    let _successor = store.claim().expect("claim");
    let refused = restore.activate(&current).expect_err("superseded");
    assert_eq!(refused.code(), "E-ACTIVATE-FENCED");
}

#[test]
fn a_claim_by_another_handle_is_seen_at_the_next_load() {
    // Two stores over one shard: the second's claim supersedes the first,
    // which learns it when it next reads the head.
    let shared = MemBackend::new(ShardId(3));
    let mut first = Store::<Reference, _>::with_backend(shared.clone(), StoreConfig::new());
    let mut second = Store::<Reference, _>::with_backend(shared, StoreConfig::new());
    let mut a = first.claim().expect("claim");
    commit(&mut first, &mut a, 3);
    let _b = second.claim().expect("claim");
    assert!(a.is_current(), "the first store has not read the head yet");
    let loaded = first.load_latest().expect("load").expect("epoch 1");
    assert!(!a.is_current(), "the load saw the newer fence");
    assert_eq!(
        Restore::open(loaded, &a).expect_err("superseded").code(),
        "E-RESTORE-FENCED"
    );
    // And its commits are refused: the head's fence moved on.
    let sealed = seal(&a, 4);
    let refused = first.commit(sealed, &a).expect_err("superseded");
    assert_eq!(refused.code(), "E-STORE-FENCED");
}

#[test]
fn only_the_latest_committed_epoch_is_restorable() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let mut authority = store.claim().expect("claim");
    commit(&mut store, &mut authority, 1);
    commit(&mut store, &mut authority, 2);

    // An older epoch can be read and verified, never restored: load_epoch
    // hands out bytes and a summary, and nothing turns them into a Loaded.
    let old = store.load_epoch(Epoch(1)).expect("read").expect("retained");
    assert_eq!(old.verified().summary.epoch, Epoch(1));
    let loaded = store.load_latest().expect("load").expect("latest");
    assert_eq!(loaded.epoch(), Epoch(2));
    let active = Restore::open(loaded, &authority)
        .expect("current")
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)
        .expect("current");
    let expected = world(2);
    assert_eq!(active.players, expected.players);
    assert_eq!(active.zones, expected.zones);
    assert_eq!(active.npcs, expected.npcs);
    assert_eq!(active.items, expected.items);
    assert_eq!(active.quests, expected.quests);
    assert_eq!(active.summary.epoch, Epoch(2));
}

#[test]
fn a_shard_keyed_at_its_first_claim_refuses_other_keys_before_writing() {
    use caelmor_persist::DigestKey;
    let root = tempfile::tempdir().expect("temp dir");
    let key = DigestKey::from_bytes([9; 32]);
    let mut keyed = FileStore::<Reference>::with_key(root.path(), ShardId(1), key).expect("open");
    let mut authority = keyed.claim().expect("claim");
    commit(&mut keyed, &mut authority, 1);
    drop(keyed);
    let before: Vec<_> = std::fs::read_dir(root.path().join("shard-1"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();

    for config in [
        StoreConfig::new(),
        StoreConfig::new().key(DigestKey::from_bytes([8; 32])),
    ] {
        let mut other =
            FileStore::<Reference>::open_with(root.path(), ShardId(1), config).expect("open");
        let refused = other.claim().expect_err("another key");
        assert_eq!(refused.code(), "E-STORE-KEY", "{refused}");
        assert_eq!(
            other.load_latest().expect_err("another key").code(),
            "E-STORE-KEY"
        );
    }
    let mut after: Vec<_> = std::fs::read_dir(root.path().join("shard-1"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after, "nothing was written by the refused stores");

    // The reverse: an unkeyed shard refuses a keyed store.
    let mut plain = FileStore::<Reference>::open(root.path(), ShardId(2)).expect("open");
    let mut authority = plain.claim().expect("claim");
    commit(&mut plain, &mut authority, 1);
    drop(plain);
    let mut keyed =
        FileStore::<Reference>::with_key(root.path(), ShardId(2), DigestKey::from_bytes([9; 32]))
            .expect("open");
    assert_eq!(keyed.claim().expect_err("keyed").code(), "E-STORE-KEY");
}

#[test]
fn a_missing_latest_bundle_is_damage_never_a_rollback() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut store = FileStore::<Reference>::open(root.path(), ShardId(1)).expect("open");
    let mut authority = store.claim().expect("claim");
    for seed in 1..=3 {
        commit(&mut store, &mut authority, seed);
    }
    let head = store.head().expect("head").expect("claimed");
    let latest = head.latest.expect("committed");
    let path = store.dir().epoch_path(caelmor_persist::StoredEpoch {
        epoch: latest.epoch,
        fence: latest.fence,
    });
    std::fs::remove_file(&path).expect("remove the latest bundle");
    let damaged = store.load_latest().expect_err("missing latest");
    assert_eq!(damaged.code(), "E-STORE-DAMAGED");
    assert!(damaged.to_string().contains("epoch#3"), "{damaged}");

    // Every bundle gone: still damaged, never an empty shard.
    for stored in store.dir().stored().expect("list") {
        std::fs::remove_file(store.dir().epoch_path(stored)).expect("remove");
    }
    assert_eq!(
        store.load_latest().expect_err("all gone").code(),
        "E-STORE-DAMAGED"
    );

    // The next commit is epoch 4: epoch 3 is never written again.
    let sealed = seal(&authority, 4);
    assert_eq!(sealed.epoch(), Epoch(4));
    store.commit(sealed, &authority).expect("commit");
    assert_eq!(store.latest_epoch().expect("head"), Some(Epoch(4)));
}

#[test]
fn a_lost_head_with_bundles_left_is_refused_not_empty() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut store = FileStore::<Reference>::open(root.path(), ShardId(1)).expect("open");
    let mut authority = store.claim().expect("claim");
    commit(&mut store, &mut authority, 1);
    commit(&mut store, &mut authority, 2);
    drop(store);
    let dir = caelmor_persist::ShardDir::of(root.path(), ShardId(1));
    for version in dir.head_versions().expect("heads") {
        std::fs::remove_file(dir.head_path(version)).expect("remove head");
    }
    let mut store = FileStore::<Reference>::open(root.path(), ShardId(1)).expect("open");
    assert_eq!(
        store.load_latest().expect_err("headless").code(),
        "E-STORE-HEAD"
    );
    assert_eq!(store.claim().expect_err("headless").code(), "E-STORE-HEAD");
    // The same in memory.
    let mut mem = MemStore::<Reference>::new(ShardId(1));
    let mut authority = mem.claim().expect("claim");
    commit(&mut mem, &mut authority, 1);
    mem.backend().forget_head();
    assert_eq!(
        mem.load_latest().expect_err("headless").code(),
        "E-STORE-HEAD"
    );
}

/// The store accepts exactly the next epoch, not any later one: a head
/// rolled back by one version (its newest record deleted) leaves an
/// authority two epochs ahead, and its bundle is refused.
#[test]
fn an_epoch_beyond_the_next_is_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut store = FileStore::<Reference>::open(root.path(), ShardId(1)).expect("open");
    let mut authority = store.claim().expect("claim");
    commit(&mut store, &mut authority, 1);
    commit(&mut store, &mut authority, 2);
    let newest = *store
        .dir()
        .head_versions()
        .expect("heads")
        .last()
        .expect("a head");
    std::fs::remove_file(store.dir().head_path(newest)).expect("remove the newest head");
    assert_eq!(store.latest_epoch().expect("head"), Some(Epoch(1)));
    let ahead = seal(&authority, 3);
    assert_eq!(ahead.epoch(), Epoch(3));
    let refused = store.commit(ahead, &authority).expect_err("beyond next");
    assert_eq!(refused.code(), "E-STORE-EPOCH", "{refused}");
    assert!(refused.to_string().contains("epoch#2"), "{refused}");
}
