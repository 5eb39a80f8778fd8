//! Issue 13's table, through a real store. A record type changed under the
//! same schema name and version used to restore wrong values without an
//! error (swapped fields swapped, `500` came back as `250`, `Recruit` as
//! `Veteran`). Each row is now refused by the store's load with
//! `E-STORE-SCHEMA` (`E-SHAPE` from a typed reader) naming the system and
//! the first difference, before any record is decoded; and each is brought
//! forward by a migration and restored right.

#![cfg(feature = "reference")]

use caelmor_persist::reference::{Item, Npc, Quest, ShardSpec, Zone};
use caelmor_persist::shape::schema_shapes;
use caelmor_persist::{
    Epoch, FileStore, ItemId, ItemLocation, PlayerId, PlayerRecord, QuestId, Rejection, Restore,
    Save, Schema, ShardId, StoreError, System, VerifyOptions, verify, verify_as,
};
use serde::{Deserialize, Serialize};

const SHARD: ShardId = ShardId(13);

/// A schema of the game: its player type, its version; the other
/// four record types are the reference ones.
macro_rules! schema {
    ($schema:ident, $player:ty, $version:expr) => {
        struct $schema;
        impl Schema for $schema {
            const NAME: &'static str = "issue-13";
            const VERSION: u32 = $version;
            type Player = $player;
            type World = Zone;
            type Npc = Npc;
            type Item = Item;
            type Quest = Quest;
        }
    };
}

macro_rules! player {
    ($($player:ty),*) => {$(
        impl PlayerRecord for $player {
            fn id(&self) -> PlayerId {
                self.id
            }
        }
    )*};
}

/// The player the issue saved.
mod v1 {
    use super::*;
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Player {
        pub id: PlayerId,
        pub gold: u32,
        pub xp: u32,
        pub rank: Rank,
    }
    #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
    pub enum Rank {
        Recruit,
        Veteran,
    }
}

/// Each row of the table, and two more.
mod rows {
    use super::*;
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub struct Swapped {
        pub id: PlayerId,
        pub xp: u32,
        pub gold: u32,
        pub rank: v1::Rank,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub struct Renamed {
        pub id: PlayerId,
        pub coins: u32,
        pub xp: u32,
        pub rank: v1::Rank,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub struct Widened {
        pub id: PlayerId,
        pub gold: u64,
        pub xp: u32,
        pub rank: v1::Rank,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub struct Reordered {
        pub id: PlayerId,
        pub gold: u32,
        pub xp: u32,
        pub rank: Rank,
    }
    #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
    pub enum Rank {
        Veteran,
        Recruit,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub struct Signed {
        pub id: PlayerId,
        pub gold: i32,
        pub xp: u32,
        pub rank: v1::Rank,
    }
    /// The "adding a field without a version bump", which used to
    /// be `E-STORE-DAMAGED … E-DECODE: … Hit the end of buffer`.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub struct Added {
        pub id: PlayerId,
        pub gold: u32,
        pub xp: u32,
        pub rank: v1::Rank,
        pub bonus: u8,
    }
    /// Only the Rust type's name differs: postcard writes no names.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub struct Hero {
        pub id: PlayerId,
        pub gold: u32,
        pub xp: u32,
        pub rank: v1::Rank,
    }
}

player!(
    v1::Player,
    rows::Swapped,
    rows::Renamed,
    rows::Widened,
    rows::Reordered,
    rows::Signed,
    rows::Added,
    rows::Hero
);
schema!(V1, v1::Player, 1);
schema!(SwappedFields, rows::Swapped, 1);
schema!(RenamedField, rows::Renamed, 1);
schema!(WidenedField, rows::Widened, 1);
schema!(ReorderedVariants, rows::Reordered, 1);
schema!(SignedField, rows::Signed, 1);
schema!(AddedField, rows::Added, 1);
schema!(RenamedType, rows::Hero, 1);
// The same record types, VERSION bumped and nothing else.
schema!(V1Bumped, v1::Player, 2);
// A changed shape and a bumped VERSION.
schema!(WidenedV2, rows::Widened, 2);

fn players() -> Vec<v1::Player> {
    vec![
        v1::Player {
            id: PlayerId(1),
            gold: 500,
            xp: 7,
            rank: v1::Rank::Recruit,
        },
        v1::Player {
            id: PlayerId(2),
            gold: 12,
            xp: 900,
            rank: v1::Rank::Veteran,
        },
    ]
}

/// The other four sections: generated zones and NPCs, one item on the
/// ground, one held by player 1, one quest of player 2.
fn rest() -> (Vec<Zone>, Vec<Npc>, Vec<Item>, Vec<Quest>) {
    let world = ShardSpec::small().generate(13);
    let zone = world.zones[0].id;
    let item = |id, location, owner| Item {
        id: ItemId(id),
        template: 3,
        stack: 1,
        durability: None,
        location,
        owner,
    };
    (
        world.zones,
        world.npcs,
        vec![
            item(1, ItemLocation::Zone(zone), None),
            item(2, ItemLocation::Player(PlayerId(1)), Some(PlayerId(1))),
        ],
        vec![Quest {
            id: QuestId(1),
            owner: PlayerId(2),
            template: 1,
            stage: 0,
            progress: vec![],
            zones: vec![zone],
        }],
    )
}

/// A shard directory whose latest epoch, 1, the v1 server committed; and
/// that epoch's bytes.
fn saved_by_v1() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (zones, npcs, items, quests) = rest();
    let mut store = FileStore::<V1>::open(dir.path(), SHARD).unwrap();
    let authority = store.claim().unwrap();
    let sealed = Save::begin(&authority)
        .players(&players())
        .and_then(|s| s.world(&zones))
        .and_then(|s| s.npcs(&npcs))
        .and_then(|s| s.items(&items))
        .and_then(|s| s.quests(&quests))
        .unwrap()
        .seal();
    let bytes = sealed.bytes().to_vec();
    store.commit(sealed, &authority).unwrap();
    (dir, bytes)
}

/// A row: the v1 epoch refused by a restarted server whose player type is
/// `S::Player`, naming the system and `difference`; refused alike by a
/// typed reader before any record is decoded; then migrated with `map`,
/// committed, and restored. Returns the restored players.
fn refused_then_migrated<S>(difference: &str, map: fn(v1::Player) -> S::Player) -> Vec<S::Player>
where
    S: Schema<World = Zone, Npc = Npc, Item = Item, Quest = Quest>,
{
    let (dir, bytes) = saved_by_v1();
    let mut store = FileStore::<S>::open(dir.path(), SHARD).unwrap();
    let authority = store.claim().unwrap();

    let refused = store.load_latest().expect_err("another record type");
    assert_eq!(refused.code(), "E-STORE-SCHEMA", "{refused}");
    let StoreError::ShapeMismatch {
        epoch,
        schema_name,
        schema_version,
        mismatch,
    } = &refused
    else {
        panic!("not a shape mismatch: {refused}");
    };
    assert_eq!(
        (*epoch, schema_name.as_str(), *schema_version),
        (Epoch(1), "issue-13", 1)
    );
    assert_eq!(mismatch.system(), System::Player);
    assert_eq!(mismatch.difference(), difference);
    let [v1_player, ..] = schema_shapes::<V1>().unwrap();
    let [player, ..] = schema_shapes::<S>().unwrap();
    assert_eq!(mismatch.found(), v1_player.fingerprint());
    assert_eq!(mismatch.expected(), player.fingerprint());
    assert_eq!(
        refused.to_string(),
        format!(
            "E-STORE-SCHEMA: epoch#1 was written with schema \"issue-13\" v1, but its player \
             records by another record type than this store's: {difference}"
        )
    );
    // Never damage: no rejection of the bytes is attached.
    assert!(refused.rejection().is_none());

    // A typed reader refuses it the same way: rule 9, before rule 10
    // decodes a record (the bytes hold valid v1 records, which every row's
    // type but one would decode into wrong values).
    let typed = verify_as::<S>(&bytes, &VerifyOptions::new()).unwrap_err();
    let Rejection::ShapeMismatch(m) = &typed else {
        panic!("not E-SHAPE: {typed}");
    };
    assert_eq!(m, mismatch);
    assert!(typed.to_string().starts_with("E-SHAPE: the player records"));
    // A schema-agnostic reader reports the shapes that wrote it.
    let verified = verify(&bytes, &VerifyOptions::new()).unwrap();
    assert_eq!(verified.summary.shapes[0], v1_player.fingerprint());
    assert_eq!(verified.shapes[0], *v1_player);

    // Brought forward, explicitly: epoch 2 under S.
    let sealed = store
        .migrate::<V1>(&authority)
        .unwrap()
        .players(|old| Ok(old.into_iter().map(map).collect()))
        .and_then(|m| m.world(|old, _| Ok(old)))
        .and_then(|m| m.npcs(|old, _, _| Ok(old)))
        .and_then(|m| m.items(|old, _, _, _| Ok(old)))
        .and_then(|m| m.quests(|old, _, _, _, _| Ok(old)))
        .unwrap()
        .seal();
    store.commit(sealed, &authority).unwrap();
    let active = Restore::open(store.load_latest().unwrap().unwrap(), &authority)
        .unwrap()
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)
        .unwrap();
    assert_eq!(active.summary.epoch, Epoch(2));
    let (zones, _, items, _) = rest();
    assert_eq!(active.zones, zones);
    assert_eq!(active.items, items);
    active.players
}

#[test]
fn row_1_fields_swapped() {
    let restored = refused_then_migrated::<SwappedFields>(
        "Player: field 1 was `gold: u32`, now `xp: u32`",
        |p| rows::Swapped {
            id: p.id,
            xp: p.xp,
            gold: p.gold,
            rank: p.rank,
        },
    );
    // Not `xp: 500, gold: 7`.
    assert_eq!((restored[0].gold, restored[0].xp), (500, 7));
}

#[test]
fn row_2_field_renamed() {
    let restored = refused_then_migrated::<RenamedField>(
        "Player: field `gold` renamed or replaced by `coins`",
        |p| rows::Renamed {
            id: p.id,
            coins: p.gold,
            xp: p.xp,
            rank: p.rank,
        },
    );
    assert_eq!(restored[0].coins, 500);
}

#[test]
fn row_3_u32_widened_to_u64() {
    let restored =
        refused_then_migrated::<WidenedField>("Player.gold: was u32, now u64", |p| rows::Widened {
            id: p.id,
            gold: u64::from(p.gold),
            xp: p.xp,
            rank: p.rank,
        });
    assert_eq!(restored[1].gold, 12);
}

#[test]
fn row_4_variants_reordered() {
    let restored = refused_then_migrated::<ReorderedVariants>(
        "Player.rank (Rank): variant 0 was `Recruit`, now `Veteran`",
        |p| rows::Reordered {
            id: p.id,
            gold: p.gold,
            xp: p.xp,
            rank: match p.rank {
                v1::Rank::Recruit => rows::Rank::Recruit,
                v1::Rank::Veteran => rows::Rank::Veteran,
            },
        },
    );
    // `Recruit` came back as `Recruit`.
    assert_eq!(
        [restored[0].rank, restored[1].rank],
        [rows::Rank::Recruit, rows::Rank::Veteran]
    );
}

#[test]
fn row_5_u32_to_i32() {
    let restored =
        refused_then_migrated::<SignedField>("Player.gold: was u32, now i32", |p| rows::Signed {
            id: p.id,
            gold: i32::try_from(p.gold).unwrap_or(i32::MAX),
            xp: p.xp,
            rank: p.rank,
        });
    // Not 250.
    assert_eq!(restored[0].gold, 500);
}

#[test]
fn a_field_added_without_a_version_bump_is_a_schema_change_not_damage() {
    let restored =
        refused_then_migrated::<AddedField>("Player: field 4 `bonus: u8` added", |p| rows::Added {
            id: p.id,
            gold: p.gold,
            xp: p.xp,
            rank: p.rank,
            bonus: 1,
        });
    assert_eq!(restored[1].bonus, 1);
}

#[test]
fn a_version_bump_alone_is_still_e_store_schema() {
    // The name and version are the integrator's declaration: identical
    // shapes do not make another version readable.
    let (dir, _) = saved_by_v1();
    let refused = {
        let mut store = FileStore::<V1Bumped>::open(dir.path(), SHARD).unwrap();
        let _authority = store.claim().unwrap();
        store.load_latest().unwrap_err()
    };
    assert_eq!(refused.code(), "E-STORE-SCHEMA");
    assert!(
        matches!(
            &refused,
            StoreError::SchemaMismatch {
                found_version: 1,
                expected_version: 2,
                shapes: None,
                ..
            }
        ),
        "{refused}"
    );
    assert_eq!(
        refused.to_string(),
        "E-STORE-SCHEMA: epoch#1 was written with schema \"issue-13\" v1, this store reads \
         \"issue-13\" v2"
    );
    // A version bump and a changed shape: the version is named first, and
    // what changed with it.
    let mut store = FileStore::<WidenedV2>::open(dir.path(), SHARD).unwrap();
    let _authority = store.claim().unwrap();
    let refused = store.load_latest().unwrap_err();
    let StoreError::SchemaMismatch {
        shapes: Some(changed),
        ..
    } = &refused
    else {
        panic!("{refused}");
    };
    assert_eq!(changed.system(), System::Player);
    assert_eq!(
        refused.to_string(),
        "E-STORE-SCHEMA: epoch#1 was written with schema \"issue-13\" v1, this store reads \
         \"issue-13\" v2; its player records were written by another record type: \
         Player.gold: was u32, now u64"
    );
}

#[test]
fn a_rust_type_renamed_and_nothing_else_still_loads() {
    let (dir, _) = saved_by_v1();
    let mut store = FileStore::<RenamedType>::open(dir.path(), SHARD).unwrap();
    let authority = store.claim().unwrap();
    let active = Restore::open(store.load_latest().unwrap().unwrap(), &authority)
        .unwrap()
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)
        .unwrap();
    assert_eq!(active.players[0].gold, 500);
    assert_eq!(active.zones, rest().0);
}
