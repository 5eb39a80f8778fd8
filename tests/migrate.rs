//! The typed migration chain (issue 13): an old epoch, verified in full
//! under its own schema, mapped section by section in the canon's order,
//! checked by the new schema's save steps, sealed at the next epoch and
//! committed atomically by the shard's current authority — or nothing.

mod frozen;

use std::cell::Cell;

use caelmor_persist::migrate::{MigrateError, Migration, Unmappable};
use caelmor_persist::{
    Backend, Epoch, Fence, FileStore, Head, ItemId, MemBackend, MemStore, PlayerId, Restore, Save,
    Schema, ServerAuthority, Store, StoreConfig, StoreError, Swap, System, ZoneId,
};
use frozen::{Records, SHARD, V1ToV2, V2ToV3, v1, v2, v3};

/// Saves and commits `records` as the next epoch.
fn commit<S: Schema, B: caelmor_persist::Backend>(
    store: &mut Store<S, B>,
    authority: &mut ServerAuthority<S>,
    records: &Records<S>,
) {
    let (p, z, n, i, q) = records;
    let sealed = Save::begin(authority)
        .players(p)
        .and_then(|s| s.world(z))
        .and_then(|s| s.npcs(n))
        .and_then(|s| s.items(i))
        .and_then(|s| s.quests(q))
        .expect("a consistent shard")
        .seal();
    store.commit(sealed, authority).expect("commit");
}

/// Loads, restores and activates the latest epoch.
fn restored<S: Schema, B: caelmor_persist::Backend>(
    store: &Store<S, B>,
    authority: &ServerAuthority<S>,
) -> Records<S> {
    let loaded = store.load_latest().expect("load").expect("an epoch");
    let a = Restore::open(loaded, authority)
        .expect("open")
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(authority)
        .expect("activate");
    (a.players, a.zones, a.npcs, a.items, a.quests)
}

/// A shard in memory whose latest epoch, 1, was saved under v1; and a
/// store of schema `New` over the same shard, claimed (the v1 server is
/// gone: its store was dropped).
fn shard_at_v1<New: Schema>() -> (Store<New, MemBackend>, ServerAuthority<New>) {
    let backend = MemBackend::new(SHARD);
    let mut old = Store::<v1::Frozen, _>::with_backend(backend.clone(), StoreConfig::new());
    let mut authority = old.claim().expect("claim");
    commit(&mut old, &mut authority, &v1::shard());
    drop(old);
    let mut store = Store::<New, _>::with_backend(backend, StoreConfig::new());
    let authority = store.claim().expect("claim");
    (store, authority)
}

/// What `V1ToV2` makes of the v1 shard.
fn expected_v2() -> Records<v2::Frozen> {
    let (p, z, n, i, q) = v1::shard();
    let mut hop = V1ToV2;
    let p = hop.players(p).unwrap();
    let z = hop.world(z, &p).unwrap();
    let n = hop.npcs(n, &p, &z).unwrap();
    let i = hop.items(i, &p, &z, &n).unwrap();
    let q = hop.quests(q, &p, &z, &n, &i).unwrap();
    (p, z, n, i, q)
}

#[test]
fn a_changed_schema_is_refused_then_migrated_committed_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut old = FileStore::<v1::Frozen>::open(dir.path(), SHARD).unwrap();
        let mut authority = old.claim().unwrap();
        commit(&mut old, &mut authority, &v1::shard());
    }
    let mut store = FileStore::<v2::Frozen>::open(dir.path(), SHARD).unwrap();
    let authority = store.claim().unwrap();
    // Named for what it is: another schema, never damage.
    let refused = store.load_latest().unwrap_err();
    assert_eq!(refused.code(), "E-STORE-SCHEMA", "{refused}");
    assert!(matches!(refused, StoreError::SchemaMismatch { .. }));

    let migrating = store.migrate::<v1::Frozen>(&authority).unwrap();
    assert_eq!(migrating.source().epoch, Epoch(1));
    assert_eq!(migrating.source().schema_version, 1);
    assert_eq!(
        migrating.source().shapes,
        caelmor_persist::shape::schema_shapes::<v1::Frozen>()
            .unwrap()
            .map(|s| s.fingerprint())
    );
    assert_eq!(migrating.epoch(), Epoch(2));
    let sealed = migrating.run(V1ToV2).unwrap().seal();
    assert_eq!(sealed.epoch(), Epoch(2));
    // Nothing is written before the commit.
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
    let committed = store.commit(sealed, &authority).unwrap();
    assert_eq!(committed.epoch, Epoch(2));

    // The migrated epoch is what the next load restores, under v2.
    assert_eq!(restored(&store, &authority), expected_v2());
    // And again after a restart.
    drop(store);
    let store = FileStore::<v2::Frozen>::open(dir.path(), SHARD).unwrap();
    let mut store = store;
    let authority = store.claim().unwrap();
    assert_eq!(restored(&store, &authority), expected_v2());
    // The v1 epoch is history: readable, not restorable.
    let old = store.load_epoch(Epoch(1)).unwrap().expect("retained");
    assert_eq!(old.verified().summary.schema_version, 1);
}

#[test]
fn each_step_sees_the_earlier_migrated_sections_in_canonical_order() {
    let (store, _authority) = shard_at_v1::<v2::Frozen>();
    let authority = _authority;
    let seen = Cell::new(0);
    let sealed = store
        .migrate::<v1::Frozen>(&authority)
        .unwrap()
        .players(|old| {
            seen.set(seen.get() + 1);
            // Handed out in any order: the save step sorts.
            let mut new = V1ToV2.players(old)?;
            new.reverse();
            Ok(new)
        })
        .unwrap()
        .world(|old, players| {
            assert_eq!(seen.get(), 1);
            seen.set(2);
            let ids: Vec<PlayerId> = players.iter().map(|p| p.id).collect();
            assert_eq!(ids, [PlayerId(1), PlayerId(2), PlayerId(3)]);
            assert_eq!(players[1].gold, u64::from(u32::MAX));
            Ok(old)
        })
        .unwrap()
        .npcs(|old, players, zones| {
            assert_eq!(seen.get(), 2);
            seen.set(3);
            assert_eq!((players.len(), zones.len()), (3, 2));
            V1ToV2.npcs(old, players, zones)
        })
        .unwrap()
        .items(|old, players, zones, npcs| {
            assert_eq!(seen.get(), 3);
            seen.set(4);
            assert_eq!(npcs.iter().map(|n| n.level).sum::<u16>(), 3);
            V1ToV2.items(old, players, zones, npcs)
        })
        .unwrap()
        .quests(|old, players, zones, npcs, items| {
            assert_eq!(seen.get(), 4);
            seen.set(5);
            assert_eq!(items.len(), 5);
            V1ToV2.quests(old, players, zones, npcs, items)
        })
        .unwrap()
        .seal();
    assert_eq!(seen.get(), 5);
    // The same bytes as the hop run as a whole.
    let (store2, authority2) = shard_at_v1::<v2::Frozen>();
    let whole = store2
        .migrate::<v1::Frozen>(&authority2)
        .unwrap()
        .run(V1ToV2)
        .unwrap()
        .seal();
    assert_eq!(sealed.bytes(), whole.bytes());
}

/// Counts the calls of each mapping function of the hop it wraps, and
/// refuses at one step if told to.
struct Counting<M> {
    inner: M,
    calls: [u32; 5],
    refuse_at: Option<System>,
}

impl<M> Counting<M> {
    fn new(inner: M) -> Self {
        Counting {
            inner,
            calls: [0; 5],
            refuse_at: None,
        }
    }

    fn called(&mut self, system: System) -> Result<(), Unmappable> {
        self.calls[system.position()] += 1;
        match self.refuse_at {
            Some(s) if s == system => Err(Unmappable::new(format!("refused at the {s} step"))),
            _ => Ok(()),
        }
    }
}

impl<M: Migration<v1::Frozen, v2::Frozen>> Migration<v1::Frozen, v2::Frozen> for &mut Counting<M> {
    fn players(&mut self, old: Vec<v1::Player>) -> Result<Vec<v2::Player>, Unmappable> {
        self.called(System::Player)?;
        self.inner.players(old)
    }
    fn world(&mut self, old: Vec<v1::Zone>, p: &[v2::Player]) -> Result<Vec<v2::Zone>, Unmappable> {
        self.called(System::World)?;
        self.inner.world(old, p)
    }
    fn npcs(
        &mut self,
        old: Vec<v1::Npc>,
        p: &[v2::Player],
        z: &[v2::Zone],
    ) -> Result<Vec<v2::Npc>, Unmappable> {
        self.called(System::Npc)?;
        self.inner.npcs(old, p, z)
    }
    fn items(
        &mut self,
        old: Vec<v1::Item>,
        p: &[v2::Player],
        z: &[v2::Zone],
        n: &[v2::Npc],
    ) -> Result<Vec<v2::Item>, Unmappable> {
        self.called(System::Item)?;
        self.inner.items(old, p, z, n)
    }
    fn quests(
        &mut self,
        old: Vec<v1::Quest>,
        p: &[v2::Player],
        z: &[v2::Zone],
        n: &[v2::Npc],
        i: &[v2::Item],
    ) -> Result<Vec<v2::Quest>, Unmappable> {
        self.called(System::Quest)?;
        self.inner.quests(old, p, z, n, i)
    }
}

/// The shard's files: what a refused migration must leave as it was.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join(format!("shard-{}", SHARD.0)))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_refused_step_leaves_the_shard_at_the_old_epoch_with_nothing_written() {
    for system in System::ORDER {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut old = FileStore::<v1::Frozen>::open(dir.path(), SHARD).unwrap();
            let mut authority = old.claim().unwrap();
            commit(&mut old, &mut authority, &v1::shard());
        }
        let mut store = FileStore::<v2::Frozen>::open(dir.path(), SHARD).unwrap();
        let authority = store.claim().unwrap();
        let before = files(dir.path());
        let mut hop = Counting::new(V1ToV2);
        hop.refuse_at = Some(system);
        let refused = store
            .migrate::<v1::Frozen>(&authority)
            .unwrap()
            .run(&mut hop)
            .unwrap_err();
        assert_eq!(refused.code(), "E-MIGRATE-MAP", "{refused}");
        assert_eq!(
            refused.to_string(),
            format!(
                "E-MIGRATE-MAP: migrating the {system} section from \"caelmor-frozen\" v1 to \
                 \"caelmor-frozen\" v2: refused at the {system} step"
            )
        );
        // Each step ran once, in order, up to the one that refused.
        let expected: Vec<u32> = System::ORDER
            .iter()
            .map(|s| u32::from(s.position() <= system.position()))
            .collect();
        assert_eq!(hop.calls.to_vec(), expected, "{system}");
        assert_eq!(files(dir.path()), before, "nothing written ({system})");
        assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
        // The old epoch is still the latest, still v1, and the next
        // migration starts from it.
        assert_eq!(store.load_latest().unwrap_err().code(), "E-STORE-SCHEMA");
        let sealed = store
            .migrate::<v1::Frozen>(&authority)
            .unwrap()
            .run(V1ToV2)
            .unwrap()
            .seal();
        store.commit(sealed, &authority).unwrap();
        assert_eq!(restored(&store, &authority), expected_v2());
    }
}

#[test]
fn migrated_records_are_checked_by_the_save_steps() {
    let (store, authority) = shard_at_v1::<v2::Frozen>();
    // Dropping zone 2 leaves its NPCs dangling: the NPC save step refuses.
    let refused = store
        .migrate::<v1::Frozen>(&authority)
        .unwrap()
        .players(|old| V1ToV2.players(old))
        .unwrap()
        .world(|old, _| Ok(old.into_iter().filter(|z| z.id != ZoneId(2)).collect()))
        .unwrap()
        .npcs(|old, p, z| V1ToV2.npcs(old, p, z))
        .unwrap_err();
    assert_eq!(refused.code(), "E-DANGLING-REF", "{refused}");
    assert!(
        refused
            .to_string()
            .ends_with("(migrating from \"caelmor-frozen\" v1 to \"caelmor-frozen\" v2)"),
        "{refused}"
    );
    assert!(matches!(refused, MigrateError::Refused { .. }));
    // Two items with one id: the item save step refuses.
    let refused = store
        .migrate::<v1::Frozen>(&authority)
        .unwrap()
        .players(|old| V1ToV2.players(old))
        .unwrap()
        .world(|old, _| Ok(old))
        .unwrap()
        .npcs(|old, p, z| V1ToV2.npcs(old, p, z))
        .unwrap()
        .items(|old, p, z, n| {
            let mut new = V1ToV2.items(old, p, z, n)?;
            new[4].id = ItemId(1);
            Ok(new)
        })
        .unwrap_err();
    assert_eq!(refused.code(), "E-DUPLICATE-ID", "{refused}");
    assert_eq!(
        refused.rejection().map(|r| r.code().as_str()),
        Some("E-DUPLICATE-ID")
    );
    // A container cycle.
    let refused = store
        .migrate::<v1::Frozen>(&authority)
        .unwrap()
        .players(|old| V1ToV2.players(old))
        .unwrap()
        .world(|old, _| Ok(old))
        .unwrap()
        .npcs(|old, p, z| V1ToV2.npcs(old, p, z))
        .unwrap()
        .items(|old, p, z, n| {
            let mut new = V1ToV2.items(old, p, z, n)?;
            new[0].location = caelmor_persist::ItemLocation::Container(ItemId(3));
            Ok(new)
        })
        .unwrap_err();
    assert_eq!(refused.code(), "E-CONTAINMENT-CYCLE", "{refused}");
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
}

#[test]
fn only_the_current_authority_of_this_store_migrates_the_latest_epoch() {
    // Another store's authority.
    let (store, _authority) = shard_at_v1::<v2::Frozen>();
    let foreign = MemStore::<v2::Frozen>::new(SHARD).claim().unwrap();
    let refused = store.migrate::<v1::Frozen>(&foreign).unwrap_err();
    assert_eq!(refused.code(), "E-STORE-AUTHORITY", "{refused}");

    // Superseded through another handle on the shard (another process,
    // past the owner lock): this store has not seen the newer claim, so its
    // authority still looks current to it; the head's fence says otherwise.
    let backend = MemBackend::new(SHARD);
    let mut old = Store::<v1::Frozen, _>::with_backend(backend.clone(), StoreConfig::new());
    let mut authority = old.claim().expect("claim");
    commit(&mut old, &mut authority, &v1::shard());
    drop(old);
    let mut raw = backend.clone();
    let mut here = Store::<v2::Frozen, _>::with_backend(backend.clone(), StoreConfig::new());
    let unaware = here.claim().unwrap();
    let _elsewhere = Store::<v2::Frozen, _>::with_backend(backend, StoreConfig::new())
        .claim()
        .unwrap();
    let refused = here.migrate::<v1::Frozen>(&unaware).unwrap_err();
    assert_eq!(refused.code(), "E-STORE-FENCED", "{refused}");
    // A head whose fence went back (restored from an old copy): an
    // authority whose fence the head does not carry never migrates, even
    // one its store still takes for current.
    let mut here = Store::<v2::Frozen, _>::with_backend(raw.clone(), StoreConfig::new());
    let newest = here.claim().unwrap();
    assert_eq!(newest.fence(), Fence(4));
    let head = raw.head().unwrap().expect("a head");
    let rolled_back = Head {
        version: head.version + 1,
        fence: Fence(3),
        ..head
    };
    assert_eq!(raw.claim(Some(&head), &rolled_back).unwrap(), Swap::Done);
    assert!(newest.is_current(), "its store saw no later claim");
    let refused = here.migrate::<v1::Frozen>(&newest).unwrap_err();
    assert_eq!(refused.code(), "E-STORE-FENCED", "{refused}");

    // A superseded one: a later claim of the same shard fences it out.
    let (mut store, stale) = shard_at_v1::<v2::Frozen>();
    let current = store.claim().unwrap();
    let refused = store.migrate::<v1::Frozen>(&stale).unwrap_err();
    assert_eq!(refused.code(), "E-STORE-FENCED", "{refused}");
    // A migration sealed before the new claim cannot be committed either.
    let (mut store2, before) = shard_at_v1::<v2::Frozen>();
    let sealed = store2
        .migrate::<v1::Frozen>(&before)
        .unwrap()
        .run(V1ToV2)
        .unwrap()
        .seal();
    let _successor = store2.claim().unwrap();
    let refused = store2.commit(sealed, &before).unwrap_err();
    assert_eq!(refused.code(), "E-STORE-FENCED");
    assert_eq!(store2.latest_epoch().unwrap(), Some(Epoch(1)));
    // The current one migrates.
    let sealed = store
        .migrate::<v1::Frozen>(&current)
        .unwrap()
        .run(V1ToV2)
        .unwrap()
        .seal();
    store.commit(sealed, &current).unwrap();

    // Nothing to migrate on a shard that never committed.
    let mut empty = MemStore::<v2::Frozen>::new(SHARD);
    let authority = empty.claim().unwrap();
    let refused = empty.migrate::<v1::Frozen>(&authority).unwrap_err();
    assert_eq!(refused.code(), "E-MIGRATE-EMPTY", "{refused}");

    // Only the latest epoch, and only under the schema it was written
    // with: the latest is v2 now, so a migration from v1 is refused.
    let refused = store.migrate::<v1::Frozen>(&current).unwrap_err();
    assert_eq!(refused.code(), "E-STORE-SCHEMA", "{refused}");
}

#[test]
fn the_old_epoch_is_verified_in_full_before_any_mapping_runs() {
    let (store, authority) = shard_at_v1::<v2::Frozen>();
    // A byte of the latest bundle flipped on the "disk".
    let stored = store.committed().unwrap().pop().expect("epoch 1");
    let len = store.load_epoch(Epoch(1)).unwrap().unwrap().bytes().len();
    assert!(store.backend().tamper(stored, |b| b[len / 2] ^= 1));
    let mut hop = Counting::new(V1ToV2);
    let refused = store
        .migrate::<v1::Frozen>(&authority)
        .map(|m| m.run(&mut hop));
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), "E-STORE-DAMAGED", "{refused}");
    assert_eq!(hop.calls, [0; 5], "no mapping ran");
}

#[test]
fn hops_compose_and_give_what_committing_each_hop_gives() {
    // v1 → v3 in one commit, through v2.
    let (mut direct, authority) = shard_at_v1::<v3::Frozen>();
    let sealed = direct
        .migrate::<v1::Frozen>(&authority)
        .unwrap()
        .via(V1ToV2)
        .unwrap()
        .run(V2ToV3)
        .unwrap()
        .seal();
    assert_eq!(sealed.epoch(), Epoch(2));
    direct.commit(sealed, &authority).unwrap();
    let through = restored(&direct, &authority);

    // v1 → v2 committed, then v2 → v3 committed.
    let (mut at_v2, a2) = shard_at_v1::<v2::Frozen>();
    let sealed = at_v2
        .migrate::<v1::Frozen>(&a2)
        .unwrap()
        .run(V1ToV2)
        .unwrap()
        .seal();
    at_v2.commit(sealed, &a2).unwrap();
    let backend = at_v2.backend().clone();
    drop(at_v2);
    let mut at_v3 = Store::<v3::Frozen, _>::with_backend(backend, StoreConfig::new());
    let a3 = at_v3.claim().unwrap();
    let sealed = at_v3
        .migrate::<v2::Frozen>(&a3)
        .unwrap()
        .run(V2ToV3)
        .unwrap()
        .seal();
    at_v3.commit(sealed, &a3).unwrap();
    let stepwise = restored(&at_v3, &a3);
    assert_eq!(through, stepwise);

    // What v3 derived with the earlier sections in view.
    let (players, _, npcs, items, quests) = &through;
    assert_eq!(players[1].gold, u64::from(u32::MAX));
    assert_eq!(
        npcs.iter().map(|n| n.elite).collect::<Vec<_>>(),
        [false, true, true]
    );
    assert_eq!(
        items.iter().map(|i| i.soulbound).collect::<Vec<_>>(),
        [true, true, true, false, false]
    );
    assert_eq!(quests[0].stage, v3::Stage::NotStarted);
    assert_eq!(quests[1].stage, v3::Stage::Step(3));
    assert_eq!(quests[2].stage, v3::Stage::Done);
}

#[test]
fn an_intermediate_hop_is_checked_as_a_save_of_its_schema() {
    /// A v1 → v2 hop that duplicates a player id: v2's save step refuses
    /// it, although v3 never sees it.
    struct Broken;
    impl Migration<v1::Frozen, v2::Frozen> for Broken {
        fn players(&mut self, old: Vec<v1::Player>) -> Result<Vec<v2::Player>, Unmappable> {
            let mut new = V1ToV2.players(old)?;
            new[2].id = PlayerId(1);
            Ok(new)
        }
        fn world(
            &mut self,
            old: Vec<v1::Zone>,
            p: &[v2::Player],
        ) -> Result<Vec<v2::Zone>, Unmappable> {
            V1ToV2.world(old, p)
        }
        fn npcs(
            &mut self,
            old: Vec<v1::Npc>,
            p: &[v2::Player],
            z: &[v2::Zone],
        ) -> Result<Vec<v2::Npc>, Unmappable> {
            V1ToV2.npcs(old, p, z)
        }
        fn items(
            &mut self,
            old: Vec<v1::Item>,
            p: &[v2::Player],
            z: &[v2::Zone],
            n: &[v2::Npc],
        ) -> Result<Vec<v2::Item>, Unmappable> {
            V1ToV2.items(old, p, z, n)
        }
        fn quests(
            &mut self,
            old: Vec<v1::Quest>,
            p: &[v2::Player],
            z: &[v2::Zone],
            n: &[v2::Npc],
            i: &[v2::Item],
        ) -> Result<Vec<v2::Quest>, Unmappable> {
            V1ToV2.quests(old, p, z, n, i)
        }
    }
    let (store, authority) = shard_at_v1::<v3::Frozen>();
    let refused = store
        .migrate::<v1::Frozen>(&authority)
        .unwrap()
        .via(Broken)
        .unwrap_err();
    assert_eq!(refused.code(), "E-DUPLICATE-ID", "{refused}");
    assert!(
        refused
            .to_string()
            .ends_with("(migrating from \"caelmor-frozen\" v1 to \"caelmor-frozen\" v2)"),
        "{refused}"
    );
}

#[test]
fn the_same_epoch_and_the_same_hops_give_the_same_bytes() {
    let sealed = |shuffle: bool| {
        let (store, authority) = shard_at_v1::<v3::Frozen>();
        store
            .migrate::<v1::Frozen>(&authority)
            .unwrap()
            .via(V1ToV2)
            .unwrap()
            .players(|old| {
                let mut new = V2ToV3.players(old)?;
                if shuffle {
                    new.rotate_left(1);
                }
                Ok(new)
            })
            .unwrap()
            .world(|old, p| V2ToV3.world(old, p))
            .unwrap()
            .npcs(|old, p, z| V2ToV3.npcs(old, p, z))
            .unwrap()
            .items(|old, p, z, n| {
                let mut new = V2ToV3.items(old, p, z, n)?;
                if shuffle {
                    new.reverse();
                }
                Ok(new)
            })
            .unwrap()
            .quests(|old, p, z, n, i| V2ToV3.quests(old, p, z, n, i))
            .unwrap()
            .seal()
            .into_bytes()
    };
    let first = sealed(false);
    assert_eq!(first, sealed(false));
    assert_eq!(
        first,
        sealed(true),
        "canonical order, whatever the mapping's"
    );
}

/// A schema whose player type cannot be traced (an untagged enum, which
/// postcard cannot read either).
mod odd {
    use caelmor_persist::{PlayerId, PlayerRecord, Schema};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum Gold {
        Coins(u32),
        Note(String),
    }

    #[derive(Serialize, Deserialize)]
    pub struct Player {
        pub id: PlayerId,
        pub gold: Gold,
    }

    impl PlayerRecord for Player {
        fn id(&self) -> PlayerId {
            self.id
        }
    }

    pub struct Odd;
    impl Schema for Odd {
        const NAME: &'static str = "caelmor-frozen";
        const VERSION: u32 = 1;
        type Player = Player;
        type World = super::v1::Zone;
        type Npc = super::v1::Npc;
        type Item = super::v1::Item;
        type Quest = super::v1::Quest;
    }
}

#[test]
fn an_old_schema_that_cannot_be_traced_is_refused_before_anything_is_read() {
    let (store, authority) = shard_at_v1::<v2::Frozen>();
    let refused = store.migrate::<odd::Odd>(&authority).unwrap_err();
    assert_eq!(refused.code(), "E-SHAPE-UNTRACEABLE", "{refused}");
    let MigrateError::Untraceable(untraceable) = &refused else {
        panic!("{refused}");
    };
    assert_eq!(untraceable.system(), System::Player);
    assert!(
        refused
            .to_string()
            .starts_with("E-SHAPE-UNTRACEABLE: the player record type: cannot fingerprint"),
        "{refused}"
    );
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(1)));
}
