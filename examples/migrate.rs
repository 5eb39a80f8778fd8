//! Changing a record type, end to end, on a temporary `FileStore`
//! (issue 13):
//!
//! 1. yesterday's server (the reference schema, v1) saves epoch 1;
//! 2. today's server (v2: a player's `currency` is now `gold`, and players
//!    have a title) tries to load it and is refused with `E-STORE-SCHEMA`,
//!    naming what changed — never a misread, never "damaged";
//! 3. it migrates the epoch, in the canon's order, and commits epoch 2;
//! 4. it loads and restores epoch 2 under v2.
//!
//! ```text
//! cargo run --example migrate
//! ```

use caelmor_persist::migrate::{Migration, Unmappable};
use caelmor_persist::reference::{
    self, Item, Npc, Position, Quest, Reference, ShardSpec, Stats, Zone,
};
use caelmor_persist::{FileStore, PlayerId, PlayerRecord, Restore, Save, Schema, ShardId};
use serde::{Deserialize, Serialize};

/// v2 of the reference game's player record: `currency` renamed `gold`,
/// and a title at the end.
#[derive(Debug, Serialize, Deserialize)]
struct Player {
    id: PlayerId,
    name: String,
    level: u16,
    stats: Stats,
    gold: u64,
    last_zone: u64,
    last_position: Position,
    title: Option<String>,
}

impl PlayerRecord for Player {
    fn id(&self) -> PlayerId {
        self.id
    }
}

/// v2: the same name, the next version, a new player record; the other
/// four record types did not change.
struct ReferenceV2;

impl Schema for ReferenceV2 {
    const NAME: &'static str = Reference::NAME;
    const VERSION: u32 = 2;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

/// The hop that ships with v2.
struct GoldAndTitles;

impl Migration<Reference, ReferenceV2> for GoldAndTitles {
    fn players(&mut self, old: Vec<reference::Player>) -> Result<Vec<Player>, Unmappable> {
        Ok(old
            .into_iter()
            .map(|p| Player {
                id: p.id,
                name: p.name,
                level: p.level,
                stats: p.stats,
                gold: p.currency,
                last_zone: p.last_zone,
                last_position: p.last_position,
                title: (p.level >= 50).then(|| "Veteran".to_owned()),
            })
            .collect())
    }

    fn world(&mut self, old: Vec<Zone>, _: &[Player]) -> Result<Vec<Zone>, Unmappable> {
        Ok(old)
    }

    fn npcs(&mut self, old: Vec<Npc>, _: &[Player], _: &[Zone]) -> Result<Vec<Npc>, Unmappable> {
        Ok(old)
    }

    fn items(
        &mut self,
        old: Vec<Item>,
        _: &[Player],
        _: &[Zone],
        _: &[Npc],
    ) -> Result<Vec<Item>, Unmappable> {
        Ok(old)
    }

    fn quests(
        &mut self,
        old: Vec<Quest>,
        _: &[Player],
        _: &[Zone],
        _: &[Npc],
        _: &[Item],
    ) -> Result<Vec<Quest>, Unmappable> {
        Ok(old)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let shard = ShardId(1);
    let world = ShardSpec::small().generate(7);

    // 1. Yesterday's server.
    {
        let mut store = FileStore::<Reference>::open(dir.path(), shard)?;
        let authority = store.claim()?;
        let sealed = Save::begin(&authority)
            .players(&world.players)?
            .world(&world.zones)?
            .npcs(&world.npcs)?
            .items(&world.items)?
            .quests(&world.quests)?
            .seal();
        let committed = store.commit(sealed, &authority)?;
        println!(
            "v1 saved {} ({} bytes) under {:?} v{}",
            committed.epoch,
            committed.bytes,
            Reference::NAME,
            Reference::VERSION
        );
    }

    // 2. Today's server, restarted on v2.
    let mut store = FileStore::<ReferenceV2>::open(dir.path(), shard)?;
    let authority = store.claim()?;
    let refused = store
        .load_latest()
        .expect_err("epoch 1 was written under v1");
    println!("v2 load: {refused}");
    assert_eq!(refused.code(), "E-STORE-SCHEMA");

    // 3. Migrate, in the canon's order, and commit the next epoch.
    let migrating = store.migrate::<Reference>(&authority)?;
    println!(
        "migrating {} (schema {:?} v{}, verified in full) to {}",
        migrating.source().epoch,
        migrating.source().schema_name,
        migrating.source().schema_version,
        migrating.epoch()
    );
    let sealed = migrating.run(GoldAndTitles)?.seal();
    let committed = store.commit(sealed, &authority)?;
    println!(
        "v2 committed {} ({} bytes)",
        committed.epoch, committed.bytes
    );

    // 4. What the next load restores.
    let loaded = store.load_latest()?.expect("epoch 2 was committed");
    let active = Restore::open(loaded, &authority)?
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)?;
    let titled = active.players.iter().filter(|p| p.title.is_some()).count();
    println!(
        "v2 restored {}: {} players ({titled} titled), {} zones, {} npcs, {} items, {} quests",
        active.summary.epoch,
        active.players.len(),
        active.zones.len(),
        active.npcs.len(),
        active.items.len(),
        active.quests.len()
    );
    for (old, new) in world.players.iter().zip(&active.players) {
        assert_eq!((old.id, old.currency), (new.id, new.gold));
    }
    assert_eq!(active.items, world.items);
    Ok(())
}
