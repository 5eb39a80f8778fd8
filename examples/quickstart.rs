//! An integrator's first hour: your own five record types, a `FileStore`,
//! and the whole cycle — claim, save, commit, load, restore, activate.
//!
//! The crate's front page and README show this very file; the test suite
//! compiles and runs it (`cargo run --example quickstart`).

use caelmor_persist::{
    FileStore, ItemId, ItemLocation, ItemRecord, NpcId, NpcRecord, PlayerId, PlayerRecord, QuestId,
    QuestRecord, Restore, Save, Schema, ShardId, WorldRecord, ZoneId,
};
use serde::{Deserialize, Serialize};

// 1. One record type per system. Each trait asks only for the record's id
//    and the ids it refers to — the legal edges of Stage 21.2 §7. Everything
//    else is your data, stored and handed back exactly.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Player {
    id: PlayerId,
    name: String,
    gold: u64,
}
impl PlayerRecord for Player {
    fn id(&self) -> PlayerId {
        self.id
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Zone {
    id: ZoneId,
    name: String,
}
impl WorldRecord for Zone {
    fn id(&self) -> ZoneId {
        self.id
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Npc {
    id: NpcId,
    zone: ZoneId,
    health: u32,
}
impl NpcRecord for Npc {
    fn id(&self) -> NpcId {
        self.id
    }
    fn zone(&self) -> ZoneId {
        self.zone
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    id: ItemId,
    location: ItemLocation,
    owner: Option<PlayerId>,
    stack: u16,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Quest {
    id: QuestId,
    owner: PlayerId,
    zones: Vec<ZoneId>,
    stage: u8,
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

// 2. The schema: the five types, a name and a version.
struct MyGame;
impl Schema for MyGame {
    const NAME: &'static str = "my-game";
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The server's world, in memory.
    let players = vec![Player {
        id: PlayerId(1),
        name: "Aelin".into(),
        gold: 120,
    }];
    let zones = vec![Zone {
        id: ZoneId(1),
        name: "Harbor".into(),
    }];
    let npcs = vec![Npc {
        id: NpcId(1),
        zone: ZoneId(1),
        health: 40,
    }];
    let items = vec![
        Item {
            id: ItemId(1),
            location: ItemLocation::of(PlayerId(1)), // a bag in Aelin's inventory
            owner: Some(PlayerId(1)),
            stack: 1,
        },
        Item {
            id: ItemId(2),
            location: ItemLocation::of(ItemId(1)), // inside the bag
            owner: Some(PlayerId(1)),
            stack: 20,
        },
    ];
    let quests = vec![Quest {
        id: QuestId(1),
        owner: PlayerId(1),
        zones: vec![ZoneId(1)],
        stage: 2,
    }];

    // 3. Claim the shard: the store mints the server's authority.
    let root = tempfile::tempdir()?; // a server would use its data directory
    let mut store = FileStore::<MyGame>::open(root.path(), ShardId(1))?;
    let authority = store.claim()?;

    // 4. Save in the canon's order, seal, commit: all five systems or none.
    let sealed = Save::begin(&authority)
        .players(&players)?
        .world(&zones)?
        .npcs(&npcs)?
        .items(&items)?
        .quests(&quests)?
        .seal();
    let committed = store.commit(sealed, &authority)?;
    println!("committed {} ({} bytes)", committed.epoch, committed.bytes);

    // 5. After a restart: load the latest committed epoch (verified in
    //    full), restore it in the same order, activate all five together.
    let loaded = store.load_latest()?.expect("epoch 1 was committed");
    let active = Restore::open(loaded, &authority)?
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)?;
    assert_eq!(active.players, players);
    assert_eq!(active.items, items);
    println!(
        "restored {}: {} players, {} items",
        active.summary.epoch,
        active.players.len(),
        active.items.len()
    );
    Ok(())
}
