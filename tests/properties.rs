//! Property tests (proptest) over random shards from the reference generator:
//!
//! - seal → commit → load → open → activate gives back exactly the records,
//!   at any shard, epoch and key;
//! - the encoding is canonical: the bundle the save chain writes is the one
//!   the specification's hand encoder writes, and every bundle a reader
//!   accepts is re-saved, from the records it restores, into exactly the
//!   same bytes (`encode(decode(b)) == b`);
//! - the server's collection order never matters (shuffled input → identical
//!   bytes);
//! - random invalid shards (a duplicate id in each system, a dangling
//!   reference on each legal edge, a containment cycle of every length) are
//!   refused by the save step that owns the rule, with the right code and
//!   the right ids, and nothing is sealed: the store stays empty and the
//!   epoch stays free.
//!
//! Case counts are kept small (the whole file runs in a few seconds in
//! debug); `PROPTEST_CASES` raises them for a longer run.

#![cfg(feature = "reference")]

mod common;

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    DigestKey, Edge, Epoch, ItemId, ItemLocation, MemStore, PlayerId, Rejection, ServerAuthority,
    ShardId, System, VerifyOptions, ZoneId,
};
use common::independent::reader::Expect;
use common::independent::rules;
use common::{
    Bundle, Header, open_agreeing, plain_index, plain_rejection, restore, restore_bytes, save,
    shard_index, shuffled, verify_agreeing,
};
use proptest::prelude::*;
use proptest::sample::Index;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        ..ProptestConfig::default()
    }
}

/// Shard specs from empty to a few dozen records, every system possibly
/// empty.
fn any_spec() -> impl Strategy<Value = ShardSpec> {
    (0usize..6, 0usize..5, 0usize..8, 0usize..24, 0usize..8).prop_map(
        |(players, zones, npcs, items, quests)| ShardSpec {
            players,
            zones,
            npcs,
            items,
            quests,
        },
    )
}

/// Specs with at least one record in every system (so that every edge has
/// a record to carry it).
fn full_spec() -> impl Strategy<Value = ShardSpec> {
    (1usize..6, 1usize..5, 1usize..8, 1usize..24, 1usize..8).prop_map(
        |(players, zones, npcs, items, quests)| ShardSpec {
            players,
            zones,
            npcs,
            items,
            quests,
        },
    )
}

/// A store of `shard` that already committed `before` epochs of the empty
/// world, so that the next save carries epoch `before + 1`.
fn store_at(
    shard: ShardId,
    before: u64,
    key: Option<[u8; 32]>,
) -> (MemStore<Reference>, ServerAuthority<Reference>) {
    let mut store = match key {
        Some(k) => MemStore::with_key(shard, DigestKey::from_bytes(k)),
        None => MemStore::new(shard),
    };
    let authority = store.claim().expect("MemStore claims are infallible");
    let empty = ShardSpec {
        players: 0,
        zones: 0,
        npcs: 0,
        items: 0,
        quests: 0,
    }
    .generate(0);
    for _ in 0..before {
        let sealed = save(&empty, &authority).expect("the empty world is consistent");
        store.commit(sealed, &authority).expect("commit");
    }
    (store, authority)
}

fn any_key() -> impl Strategy<Value = Option<[u8; 32]>> {
    prop::option::of(any::<[u8; 32]>())
}

proptest! {
    #![proptest_config(config(96))]

    /// Seal → commit → load → open → activate gives back exactly the
    /// records, at any shard, epoch and key.
    #[test]
    fn save_then_restore_gives_back_exactly_the_records(
        spec in any_spec(),
        seed in any::<u64>(),
        shard_id in 1u64..1_000,
        before in 0u64..3,
        key in any_key(),
    ) {
        let shard = spec.generate(seed);
        let (mut store, authority) = store_at(ShardId(shard_id), before, key);
        let sealed = save(&shard, &authority).expect("generated shards are consistent");
        let bytes = sealed.bytes().to_vec();
        let digest = sealed.digest();
        prop_assert_eq!(sealed.epoch(), Epoch(before + 1));
        // What the save chain wrote, read by the independent reader of
        // tests/independent: accepted, with the crate's typed reading.
        prop_assert!(
            open_agreeing("sealed", &bytes, ShardId(shard_id), Epoch(before + 1), key).is_ok()
        );
        let committed = store.commit(sealed, &authority).expect("commit");
        prop_assert_eq!(committed.epoch, Epoch(before + 1));
        let stored = store.load_epoch(committed.epoch).expect("load").expect("kept");
        prop_assert_eq!(stored.bytes(), &bytes[..]);
        let loaded = store.load_latest().expect("load").expect("committed");
        prop_assert_eq!(loaded.epoch(), committed.epoch);
        prop_assert_eq!(loaded.summary().digest, digest);
        let back = restore(loaded, &authority).expect("a saved bundle restores");
        prop_assert_eq!(back, shard);
    }

    /// The crate's writer writes what the specification's hand encoder
    /// writes; the reader accepts it; and re-saving the records it restores,
    /// at the same epoch under the same authority, gives the same bytes.
    #[test]
    fn accepted_bytes_re_encode_to_themselves(
        spec in any_spec(),
        seed in any::<u64>(),
        shard_id in 1u64..1_000,
        before in 0u64..3,
        key in any_key(),
    ) {
        let shard = spec.generate(seed);
        let (_store, authority) = store_at(ShardId(shard_id), before, key);
        let epoch = Epoch(before + 1);
        // Bytes from the independent encoder: the specification alone.
        let header = Header {
            shard: ShardId(shard_id),
            epoch,
            ..Header::reference()
        };
        let hand = Bundle::with_header(&shard, &header);
        let b = match key {
            Some(k) => hand.keyed(&k),
            None => hand.bytes(),
        };
        let mut options = VerifyOptions::new();
        if let Some(k) = key {
            options = options.key(DigestKey::from_bytes(k));
        }
        // Held to the independent reader: the same header, sizes, index
        // and shapes.
        let expect = Expect { key, ..Expect::default() };
        let verified = verify_agreeing("hand-encoded", &b, &options, &expect)
            .expect("the hand-encoded bundle verifies");
        prop_assert_eq!(
            &plain_index(&verified.index),
            &shard_index(&sorted(&shard)),
            "the index is the records' own"
        );
        prop_assert_eq!(verified.summary.epoch, epoch);
        prop_assert_eq!(verified.summary.total_bytes, b.len() as u64);
        for (section, encoded) in verified.summary.sections.iter().zip(&hand.sections) {
            prop_assert_eq!(section.bytes, encoded.encode().len() as u64);
            prop_assert_eq!(section.payload_bytes, encoded.payload.len() as u64);
        }
        prop_assert_eq!(verified.index.counts(), [
            shard.players.len() as u64,
            shard.zones.len() as u64,
            shard.npcs.len() as u64,
            shard.items.len() as u64,
            shard.quests.len() as u64,
        ]);
        // As a server restores it: the store's latest epoch, loaded,
        // restored and activated.
        let decoded = restore_bytes(&b, ShardId(shard_id), epoch, key)
            .expect("the hand-encoded bundle restores");
        prop_assert_eq!(&decoded, &shard);
        let encoded = save(&decoded, &authority).expect("restored records save");
        prop_assert_eq!(encoded.epoch(), epoch);
        prop_assert_eq!(encoded.bytes(), &b[..], "encode(decode(b)) == b");
    }

    /// The order of the server's collections never reaches the bytes.
    #[test]
    fn shuffled_input_gives_identical_bytes(
        spec in any_spec(),
        seed in any::<u64>(),
        shuffle in any::<u64>(),
    ) {
        let shard = spec.generate(seed);
        let authority = common::authority();
        let reference = save(&shard, &authority).expect("consistent");
        let sealed = save(&shuffled(&shard, shuffle), &authority).expect("consistent");
        prop_assert_eq!(sealed.bytes(), reference.bytes());
        prop_assert_eq!(sealed.digest(), reference.digest());
    }
}

// ---------------------------------------------------------------------------
// Invalid shards.
// ---------------------------------------------------------------------------

/// Runs the save chain over `shard` against a fresh store; asserts that a
/// refusal leaves nothing sealed (the store holds no epoch, and a valid
/// save by the same authority still gets epoch 1 and commits), and returns
/// the refusal.
fn refused(shard: &Shard, valid: &Shard) -> Result<Rejection, TestCaseError> {
    // What the independent rules say of the records in canonical order
    // (tests/independent/rules.rs: no code shared with the crate's check).
    let independent = rules::all(&shard_index(&sorted(shard)));
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().expect("claim");
    let rejection = match save(shard, &authority) {
        Ok(sealed) => {
            return Err(TestCaseError::fail(format!(
                "an invalid shard was sealed at {}",
                sealed.epoch()
            )));
        }
        Err(r) => r,
    };
    prop_assert_eq!(
        plain_rejection(&rejection),
        independent.err(),
        "the independent rules disagree: {}",
        rejection
    );
    prop_assert_eq!(
        store.latest_epoch().expect("head"),
        None,
        "nothing was committed"
    );
    prop_assert!(store.load_latest().expect("load").is_none());
    prop_assert_eq!(authority.next_epoch(), Epoch(1), "the epoch stays free");
    let sealed = save(valid, &authority).expect("the valid shard saves");
    prop_assert_eq!(sealed.epoch(), Epoch(1));
    prop_assert_eq!(
        store.commit(sealed, &authority).expect("commit").epoch,
        Epoch(1)
    );
    Ok(rejection)
}

/// `shard` with every system's records in canonical order (by id; a stable
/// sort, so duplicates keep their input order).
fn sorted(shard: &Shard) -> Shard {
    let mut s = shard.clone();
    s.players.sort_by_key(|r| r.id);
    s.zones.sort_by_key(|r| r.id);
    s.npcs.sort_by_key(|r| r.id);
    s.items.sort_by_key(|r| r.id);
    s.quests.sort_by_key(|r| r.id);
    s
}

/// The step a rejection of `system`'s records comes from, seen from the
/// outside: the save of the earlier systems succeeds and the save of this
/// one fails. Checked by saving the earlier systems alone.
fn earlier_steps_pass(shard: &Shard, system: System) -> bool {
    let mut partial = shard.clone();
    let keep = system.position();
    if keep <= System::Player.position() {
        partial.players.clear();
    }
    if keep <= System::World.position() {
        partial.zones.clear();
    }
    if keep <= System::Npc.position() {
        partial.npcs.clear();
    }
    if keep <= System::Item.position() {
        partial.items.clear();
    }
    partial.quests.clear();
    // With the failing system and everything after it removed, the save
    // goes through: nothing before `system` was at fault.
    save(&partial, &common::authority()).is_ok()
}

const EDGES: [Edge; 7] = [
    Edge::NpcZone,
    Edge::ItemZone,
    Edge::ItemPlayer,
    Edge::ItemOwner,
    Edge::ItemItem,
    Edge::QuestPlayer,
    Edge::QuestZone,
];

proptest! {
    #![proptest_config(config(64))]

    /// A duplicated id in any system is refused by that system's step with
    /// `E-DUPLICATE-ID`, naming the id; nothing is sealed.
    #[test]
    fn duplicate_ids_are_refused_by_their_step(
        spec in full_spec(),
        seed in any::<u64>(),
        system in 0usize..5,
        victim in any::<Index>(),
        twin in any::<Index>(),
        shuffle in any::<u64>(),
    ) {
        let valid = spec.generate(seed);
        let mut shard = valid.clone();
        let system = System::ORDER[system];
        // Copy one record and give the copy the id of another (or its own).
        let id = match system {
            System::Player => {
                let mut r = shard.players[victim.index(shard.players.len())].clone();
                r.id = shard.players[twin.index(shard.players.len())].id;
                shard.players.push(r);
                shard.players.last().map(|r| r.id.0)
            }
            System::World => {
                let mut r = shard.zones[victim.index(shard.zones.len())].clone();
                r.id = shard.zones[twin.index(shard.zones.len())].id;
                shard.zones.push(r);
                shard.zones.last().map(|r| r.id.0)
            }
            System::Npc => {
                let mut r = shard.npcs[victim.index(shard.npcs.len())].clone();
                r.id = shard.npcs[twin.index(shard.npcs.len())].id;
                shard.npcs.push(r);
                shard.npcs.last().map(|r| r.id.0)
            }
            System::Item => {
                // A copy of a root item (no containment through it), so that
                // only the duplicate is wrong.
                let mut r = shard.items[victim.index(shard.items.len())].clone();
                r.id = shard.items[twin.index(shard.items.len())].id;
                r.location = ItemLocation::Zone(ZoneId(1));
                shard.items.push(r);
                shard.items.last().map(|r| r.id.0)
            }
            System::Quest => {
                let mut r = shard.quests[victim.index(shard.quests.len())].clone();
                r.id = shard.quests[twin.index(shard.quests.len())].id;
                shard.quests.push(r);
                shard.quests.last().map(|r| r.id.0)
            }
        }
        .expect("pushed");
        let shard = shuffled(&shard, shuffle);
        let rejection = refused(&shard, &valid)?;
        prop_assert_eq!(rejection, Rejection::DuplicateId { system, id });
        prop_assert!(earlier_steps_pass(&shard, system));
    }

    /// A reference to a record the bundle does not hold, on any legal edge,
    /// is refused by the referring system's step with `E-DANGLING-REF`,
    /// naming the edge, the referring record and the missing id.
    #[test]
    fn dangling_references_are_refused_on_every_edge(
        spec in full_spec(),
        seed in any::<u64>(),
        edge in 0usize..EDGES.len(),
        victim in any::<Index>(),
        beyond in 1u64..1_000,
        shuffle in any::<u64>(),
    ) {
        let valid = spec.generate(seed);
        let mut shard = valid.clone();
        let edge = EDGES[edge];
        // Ids are 1..=count, so count + beyond names nothing.
        let missing_zone = ZoneId(shard.zones.len() as u64 + beyond);
        let missing_player = PlayerId(shard.players.len() as u64 + beyond);
        let missing_item = ItemId(shard.items.len() as u64 + beyond);
        let (from, to) = match edge {
            Edge::NpcZone => {
                let n = &mut shard.npcs[victim.index(valid.npcs.len())];
                n.zone = missing_zone;
                (n.id.0, missing_zone.0)
            }
            Edge::ItemZone | Edge::ItemPlayer | Edge::ItemItem | Edge::ItemOwner => {
                let i = &mut shard.items[victim.index(valid.items.len())];
                match edge {
                    Edge::ItemZone => i.location = ItemLocation::Zone(missing_zone),
                    Edge::ItemPlayer => i.location = ItemLocation::Player(missing_player),
                    Edge::ItemItem => i.location = ItemLocation::Container(missing_item),
                    _ => i.owner = Some(missing_player),
                }
                let to = match edge {
                    Edge::ItemZone => missing_zone.0,
                    Edge::ItemItem => missing_item.0,
                    _ => missing_player.0,
                };
                (i.id.0, to)
            }
            Edge::QuestPlayer => {
                let q = &mut shard.quests[victim.index(valid.quests.len())];
                q.owner = missing_player;
                (q.id.0, missing_player.0)
            }
            Edge::QuestZone => {
                let q = &mut shard.quests[victim.index(valid.quests.len())];
                let at = beyond as usize % (q.zones.len() + 1);
                q.zones.insert(at, missing_zone);
                (q.id.0, missing_zone.0)
            }
        };
        let shard = shuffled(&shard, shuffle);
        let rejection = refused(&shard, &valid)?;
        prop_assert_eq!(rejection, Rejection::DanglingRef { edge, from, to });
        prop_assert!(earlier_steps_pass(&shard, edge.source()));
    }

    /// Items that contain each other in a cycle of any length, 1 to all the
    /// items, are refused by the item step with `E-CONTAINMENT-CYCLE`,
    /// naming the cycle's smallest id.
    #[test]
    fn containment_cycles_of_every_length_are_refused(
        spec in full_spec(),
        seed in any::<u64>(),
        members in any::<u64>(),
        length in any::<Index>(),
        shuffle in any::<u64>(),
    ) {
        let valid = spec.generate(seed);
        let mut shard = valid.clone();
        // `length` distinct items, in random order: each inside the next,
        // the last inside the first.
        let mut order: Vec<usize> = (0..shard.items.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(members));
        order.truncate(length.index(shard.items.len()) + 1);
        for (k, &at) in order.iter().enumerate() {
            let next = shard.items[order[(k + 1) % order.len()]].id;
            shard.items[at].location = ItemLocation::Container(next);
        }
        let smallest = order.iter().map(|&at| shard.items[at].id).min().expect("non-empty");
        let shard = shuffled(&shard, shuffle);
        let rejection = refused(&shard, &valid)?;
        prop_assert_eq!(rejection, Rejection::ContainmentCycle { item: smallest });
        prop_assert!(earlier_steps_pass(&shard, System::Item));
    }
}
