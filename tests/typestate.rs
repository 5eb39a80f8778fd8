//! Positive controls for the compile-time proof suite (`tests/ui.rs`): the
//! legal save and restore chains compile and round-trip a generated shard,
//! and the type-level facts the protocol rests on are pinned with
//! `static_assertions`.

#![cfg(feature = "reference")]

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    Activated, ItemDone, Loaded, MemStore, NpcDone, PlayerDone, QuestDone, Restore, Save, Sealed,
    ServerAuthority, ShardId, Start, WorldDone,
};
use static_assertions::{assert_eq_size, assert_impl_all, assert_not_impl_any};

// Every marker is zero-sized: the typestate costs nothing at run time.
assert_eq_size!(Start, ());
assert_eq_size!(PlayerDone, ());
assert_eq_size!(WorldDone, ());
assert_eq_size!(NpcDone, ());
assert_eq_size!(ItemDone, ());
assert_eq_size!(QuestDone, ());

// Advancing a chain changes only its type, never its layout size.
assert_eq_size!(Save<Reference, Start>, Save<Reference, PlayerDone>);
assert_eq_size!(Save<Reference, Start>, Save<Reference, WorldDone>);
assert_eq_size!(Save<Reference, Start>, Save<Reference, NpcDone>);
assert_eq_size!(Save<Reference, Start>, Save<Reference, ItemDone>);
assert_eq_size!(Save<Reference, Start>, Save<Reference, QuestDone>);
assert_eq_size!(Restore<Reference, Start>, Restore<Reference, PlayerDone>);
assert_eq_size!(Restore<Reference, Start>, Restore<Reference, WorldDone>);
assert_eq_size!(Restore<Reference, Start>, Restore<Reference, NpcDone>);
assert_eq_size!(Restore<Reference, Start>, Restore<Reference, ItemDone>);
assert_eq_size!(Restore<Reference, Start>, Restore<Reference, QuestDone>);

// A sealed bundle and the server's authority can be neither duplicated nor
// conjured.
assert_not_impl_any!(Sealed<Reference>: Clone, Default);
assert_not_impl_any!(ServerAuthority<Reference>: Clone, Default);

// A sealed bundle never comes out of a deserializer, but can be handed to the
// task that commits it.
assert_not_impl_any!(Sealed<Reference>: serde::de::DeserializeOwned);
assert_impl_all!(Sealed<Reference>: Send);

// A restorable epoch comes only from a store's load of its latest: it can
// be neither built, duplicated nor deserialized, and neither can a restore
// in progress.
assert_not_impl_any!(Loaded<Reference>: Clone, Default, serde::de::DeserializeOwned);
assert_not_impl_any!(Restore<Reference, Start>: Clone, Default);
assert_not_impl_any!(Restore<Reference, QuestDone>: Clone, Default);

fn shard() -> Shard {
    ShardSpec::small().generate(21)
}

fn seal(shard: &Shard, authority: &ServerAuthority<Reference>) -> Sealed<Reference> {
    Save::begin(authority)
        .players(&shard.players)
        .expect("players")
        .world(&shard.zones)
        .expect("world")
        .npcs(&shard.npcs)
        .expect("npcs")
        .items(&shard.items)
        .expect("items")
        .quests(&shard.quests)
        .expect("quests")
        .seal()
}

#[test]
fn the_legal_save_chain_compiles_and_commits() {
    let shard = shard();
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().expect("claim");

    let start: Save<Reference, Start> = Save::begin(&authority);
    let players: Save<Reference, PlayerDone> = start.players(&shard.players).expect("players");
    let world: Save<Reference, WorldDone> = players.world(&shard.zones).expect("world");
    let npcs: Save<Reference, NpcDone> = world.npcs(&shard.npcs).expect("npcs");
    let items: Save<Reference, ItemDone> = npcs.items(&shard.items).expect("items");
    let quests: Save<Reference, QuestDone> = items.quests(&shard.quests).expect("quests");
    let sealed: Sealed<Reference> = quests.seal();

    let epoch = sealed.epoch();
    let committed = store.commit(sealed, &authority).expect("commit");
    assert_eq!(committed.epoch, epoch);
    assert_eq!(store.latest_epoch().expect("head"), Some(epoch));
}

#[test]
fn the_legal_restore_chain_compiles_activates_and_round_trips() {
    let shard = shard();
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().expect("claim");
    let sealed = seal(&shard, &authority);
    store.commit(sealed, &authority).expect("commit");

    let loaded = store.load_latest().expect("load").expect("one epoch");
    let restore: Restore<Reference, Start> = Restore::open(loaded, &authority).expect("open");
    let restore: Restore<Reference, PlayerDone> = restore.players();
    let restore: Restore<Reference, WorldDone> = restore.world();
    let restore: Restore<Reference, NpcDone> = restore.npcs();
    let restore: Restore<Reference, ItemDone> = restore.items();
    let restore: Restore<Reference, QuestDone> = restore.quests();
    let active: Activated<Reference> = restore.activate(&authority).expect("activate");

    assert_eq!(active.players, shard.players);
    assert_eq!(active.zones, shard.zones);
    assert_eq!(active.npcs, shard.npcs);
    assert_eq!(active.items, shard.items);
    assert_eq!(active.quests, shard.quests);
}
