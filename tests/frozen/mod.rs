//! FROZEN. The schemas, hops and shard of the golden fixtures
//! (`tests/fixtures/migrate/`), exactly as they shipped.
//!
//! NEVER EDIT ANYTHING IN THIS FILE. Each schema below stands for a record
//! type that a server once shipped and whose bundles are on disk
//! somewhere; each hop, for a migration that shipped with the next
//! version. The fixtures prove that those bundles still open and still
//! migrate to the same bytes. A change here changes what the fixtures
//! test, not what the crate does: to test something new, add a new schema
//! (`v4`), a new hop and new fixtures, and leave these alone.
//!
//! The story: v1 ships; v2 widens a player's gold to `u64`, adds a rank,
//! gives NPCs a level and renames an item's `template` to `kind`; v3
//! derives, with the earlier migrated sections in view, an NPC's level
//! from its zone and whether an item is soulbound from its owner's rank,
//! and turns a quest's stage number into an enum.
#![allow(dead_code)]

use caelmor_persist::migrate::{Migration, Unmappable};
use caelmor_persist::{
    ItemId, ItemLocation, ItemRecord, NpcId, NpcRecord, PlayerId, PlayerRecord, QuestId,
    QuestRecord, Schema, WorldRecord, ZoneId,
};
use serde::{Deserialize, Serialize};

/// A schema's five sections, as records.
pub type Records<S> = (
    Vec<<S as Schema>::Player>,
    Vec<<S as Schema>::World>,
    Vec<<S as Schema>::Npc>,
    Vec<<S as Schema>::Item>,
    Vec<<S as Schema>::Quest>,
);

/// The shard every fixture is of.
pub const SHARD: caelmor_persist::ShardId = caelmor_persist::ShardId(7);

pub mod v1 {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Player {
        pub id: PlayerId,
        pub name: String,
        pub gold: u32,
        pub xp: u32,
        pub rank: Rank,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
    pub enum Rank {
        Recruit,
        Veteran,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Zone {
        pub id: ZoneId,
        pub name: String,
        pub danger: u8,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Npc {
        pub id: NpcId,
        pub zone: ZoneId,
        pub hp: u32,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Item {
        pub id: ItemId,
        pub template: u32,
        pub location: ItemLocation,
        pub owner: Option<PlayerId>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Quest {
        pub id: QuestId,
        pub owner: PlayerId,
        pub zones: Vec<ZoneId>,
        pub stage: u8,
    }

    impl PlayerRecord for Player {
        fn id(&self) -> PlayerId {
            self.id
        }
    }
    impl WorldRecord for Zone {
        fn id(&self) -> ZoneId {
            self.id
        }
    }
    impl NpcRecord for Npc {
        fn id(&self) -> NpcId {
            self.id
        }
        fn zone(&self) -> ZoneId {
            self.zone
        }
    }
    impl ItemRecord for Item {
        fn id(&self) -> ItemId {
            self.id
        }
        fn location(&self) -> ItemLocation {
            self.location
        }
        fn owner(&self) -> Option<PlayerId> {
            self.owner
        }
    }
    impl QuestRecord for Quest {
        fn id(&self) -> QuestId {
            self.id
        }
        fn owner(&self) -> PlayerId {
            self.owner
        }
        fn zone_context(&self) -> &[ZoneId] {
            &self.zones
        }
    }

    pub struct Frozen;
    impl Schema for Frozen {
        const NAME: &'static str = "caelmor-frozen";
        const VERSION: u32 = 1;
        type Player = Player;
        type World = Zone;
        type Npc = Npc;
        type Item = Item;
        type Quest = Quest;
    }

    /// The shard v1 saved: every kind of edge, items nested two deep.
    pub fn shard() -> Records<Frozen> {
        let player = |id, name: &str, gold, xp, rank| Player {
            id: PlayerId(id),
            name: name.to_owned(),
            gold,
            xp,
            rank,
        };
        let zone = |id, name: &str, danger| Zone {
            id: ZoneId(id),
            name: name.to_owned(),
            danger,
        };
        let npc = |id, zone, hp| Npc {
            id: NpcId(id),
            zone: ZoneId(zone),
            hp,
        };
        let item = |id, template, location, owner: Option<u64>| Item {
            id: ItemId(id),
            template,
            location,
            owner: owner.map(PlayerId),
        };
        let quest = |id, owner, zones: &[u64], stage| Quest {
            id: QuestId(id),
            owner: PlayerId(owner),
            zones: zones.iter().copied().map(ZoneId).collect(),
            stage,
        };
        (
            vec![
                player(1, "Kaelmor", 500, 7, Rank::Recruit),
                player(2, "Variel", u32::MAX, 1_000_000, Rank::Veteran),
                player(3, "Osk", 0, 0, Rank::Recruit),
            ],
            vec![zone(1, "Thendol", 1), zone(2, "Sagarith", 9)],
            vec![npc(1, 1, 40), npc(2, 2, 900), npc(3, 2, 1)],
            vec![
                item(1, 100, ItemLocation::Player(PlayerId(2)), Some(2)),
                item(2, 101, ItemLocation::Container(ItemId(1)), Some(2)),
                item(3, 102, ItemLocation::Container(ItemId(2)), Some(2)),
                item(4, 103, ItemLocation::Zone(ZoneId(2)), None),
                item(5, 104, ItemLocation::Player(PlayerId(1)), Some(1)),
            ],
            vec![
                quest(1, 1, &[2, 1], 0),
                quest(2, 2, &[2], 3),
                quest(3, 3, &[], 255),
            ],
        )
    }
}

pub mod v2 {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Player {
        pub id: PlayerId,
        pub name: String,
        pub gold: u64,
        pub xp: u32,
        pub rank: Rank,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
    pub enum Rank {
        Recruit,
        Veteran,
        Officer,
    }

    /// Unchanged since v1.
    pub use super::v1::Zone;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Npc {
        pub id: NpcId,
        pub zone: ZoneId,
        pub hp: u32,
        pub level: u16,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Item {
        pub id: ItemId,
        pub kind: u32,
        pub location: ItemLocation,
        pub owner: Option<PlayerId>,
    }

    /// Unchanged since v1.
    pub use super::v1::Quest;

    impl PlayerRecord for Player {
        fn id(&self) -> PlayerId {
            self.id
        }
    }
    impl NpcRecord for Npc {
        fn id(&self) -> NpcId {
            self.id
        }
        fn zone(&self) -> ZoneId {
            self.zone
        }
    }
    impl ItemRecord for Item {
        fn id(&self) -> ItemId {
            self.id
        }
        fn location(&self) -> ItemLocation {
            self.location
        }
        fn owner(&self) -> Option<PlayerId> {
            self.owner
        }
    }

    pub struct Frozen;
    impl Schema for Frozen {
        const NAME: &'static str = "caelmor-frozen";
        const VERSION: u32 = 2;
        type Player = Player;
        type World = Zone;
        type Npc = Npc;
        type Item = Item;
        type Quest = Quest;
    }

    /// The shard v2 saved (its own, not a migrated one).
    pub fn shard() -> Records<Frozen> {
        let (_, zones, _, _, quests) = super::v1::shard();
        (
            vec![
                Player {
                    id: PlayerId(1),
                    name: "Kaelmor".into(),
                    gold: 5_000_000_000,
                    xp: 8,
                    rank: Rank::Officer,
                },
                Player {
                    id: PlayerId(3),
                    name: "Osk".into(),
                    gold: 1,
                    xp: 2,
                    rank: Rank::Veteran,
                },
            ],
            zones,
            vec![Npc {
                id: NpcId(9),
                zone: ZoneId(1),
                hp: 12,
                level: 4,
            }],
            vec![Item {
                id: ItemId(8),
                kind: 7,
                location: ItemLocation::Player(PlayerId(3)),
                owner: Some(PlayerId(3)),
            }],
            quests
                .into_iter()
                .filter(|q| q.owner != PlayerId(2))
                .collect(),
        )
    }
}

pub mod v3 {
    use super::*;

    /// Unchanged since v2.
    pub use super::v2::{Player, Rank, Zone};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Npc {
        pub id: NpcId,
        pub zone: ZoneId,
        pub hp: u32,
        pub level: u16,
        pub elite: bool,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Item {
        pub id: ItemId,
        pub kind: u32,
        pub location: ItemLocation,
        pub owner: Option<PlayerId>,
        pub soulbound: bool,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Quest {
        pub id: QuestId,
        pub owner: PlayerId,
        pub zones: Vec<ZoneId>,
        pub stage: Stage,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
    pub enum Stage {
        NotStarted,
        Step(u8),
        Done,
    }

    impl NpcRecord for Npc {
        fn id(&self) -> NpcId {
            self.id
        }
        fn zone(&self) -> ZoneId {
            self.zone
        }
    }
    impl ItemRecord for Item {
        fn id(&self) -> ItemId {
            self.id
        }
        fn location(&self) -> ItemLocation {
            self.location
        }
        fn owner(&self) -> Option<PlayerId> {
            self.owner
        }
    }
    impl QuestRecord for Quest {
        fn id(&self) -> QuestId {
            self.id
        }
        fn owner(&self) -> PlayerId {
            self.owner
        }
        fn zone_context(&self) -> &[ZoneId] {
            &self.zones
        }
    }

    pub struct Frozen;
    impl Schema for Frozen {
        const NAME: &'static str = "caelmor-frozen";
        const VERSION: u32 = 3;
        type Player = Player;
        type World = Zone;
        type Npc = Npc;
        type Item = Item;
        type Quest = Quest;
    }
}

/// The hop that shipped with v2.
pub struct V1ToV2;

impl Migration<v1::Frozen, v2::Frozen> for V1ToV2 {
    fn players(&mut self, old: Vec<v1::Player>) -> Result<Vec<v2::Player>, Unmappable> {
        Ok(old
            .into_iter()
            .map(|p| v2::Player {
                id: p.id,
                name: p.name,
                gold: u64::from(p.gold),
                xp: p.xp,
                rank: match p.rank {
                    v1::Rank::Recruit => v2::Rank::Recruit,
                    v1::Rank::Veteran => v2::Rank::Veteran,
                },
            })
            .collect())
    }

    fn world(&mut self, old: Vec<v1::Zone>, _: &[v2::Player]) -> Result<Vec<v2::Zone>, Unmappable> {
        Ok(old)
    }

    fn npcs(
        &mut self,
        old: Vec<v1::Npc>,
        _: &[v2::Player],
        _: &[v2::Zone],
    ) -> Result<Vec<v2::Npc>, Unmappable> {
        Ok(old
            .into_iter()
            .map(|n| v2::Npc {
                id: n.id,
                zone: n.zone,
                hp: n.hp,
                level: 1,
            })
            .collect())
    }

    fn items(
        &mut self,
        old: Vec<v1::Item>,
        _: &[v2::Player],
        _: &[v2::Zone],
        _: &[v2::Npc],
    ) -> Result<Vec<v2::Item>, Unmappable> {
        Ok(old
            .into_iter()
            .map(|i| v2::Item {
                id: i.id,
                kind: i.template,
                location: i.location,
                owner: i.owner,
            })
            .collect())
    }

    fn quests(
        &mut self,
        old: Vec<v1::Quest>,
        _: &[v2::Player],
        _: &[v2::Zone],
        _: &[v2::Npc],
        _: &[v2::Item],
    ) -> Result<Vec<v2::Quest>, Unmappable> {
        Ok(old)
    }
}

/// The hop that shipped with v3: it reads the migrated zones (an NPC in a
/// zone of danger 5 or more is elite) and players (a veteran's or an
/// officer's items are soulbound).
pub struct V2ToV3;

impl Migration<v2::Frozen, v3::Frozen> for V2ToV3 {
    fn players(&mut self, old: Vec<v2::Player>) -> Result<Vec<v3::Player>, Unmappable> {
        Ok(old)
    }

    fn world(&mut self, old: Vec<v2::Zone>, _: &[v3::Player]) -> Result<Vec<v3::Zone>, Unmappable> {
        Ok(old)
    }

    fn npcs(
        &mut self,
        old: Vec<v2::Npc>,
        _: &[v3::Player],
        zones: &[v3::Zone],
    ) -> Result<Vec<v3::Npc>, Unmappable> {
        old.into_iter()
            .map(|n| {
                let zone = zones
                    .binary_search_by_key(&n.zone, |z| z.id)
                    .map_err(|_| Unmappable::new(format!("{} names no zone", n.id)))?;
                Ok(v3::Npc {
                    id: n.id,
                    zone: n.zone,
                    hp: n.hp,
                    level: n.level,
                    elite: zones[zone].danger >= 5,
                })
            })
            .collect()
    }

    fn items(
        &mut self,
        old: Vec<v2::Item>,
        players: &[v3::Player],
        _: &[v3::Zone],
        _: &[v3::Npc],
    ) -> Result<Vec<v3::Item>, Unmappable> {
        let senior = |owner: Option<PlayerId>| {
            owner
                .and_then(|o| players.binary_search_by_key(&o, |p| p.id).ok())
                .is_some_and(|at| players[at].rank != v3::Rank::Recruit)
        };
        Ok(old
            .into_iter()
            .map(|i| v3::Item {
                id: i.id,
                kind: i.kind,
                location: i.location,
                owner: i.owner,
                soulbound: senior(i.owner),
            })
            .collect())
    }

    fn quests(
        &mut self,
        old: Vec<v2::Quest>,
        _: &[v3::Player],
        _: &[v3::Zone],
        _: &[v3::Npc],
        _: &[v3::Item],
    ) -> Result<Vec<v3::Quest>, Unmappable> {
        Ok(old
            .into_iter()
            .map(|q| v3::Quest {
                id: q.id,
                owner: q.owner,
                zones: q.zones,
                stage: match q.stage {
                    0 => v3::Stage::NotStarted,
                    255 => v3::Stage::Done,
                    n => v3::Stage::Step(n),
                },
            })
            .collect())
    }
}
