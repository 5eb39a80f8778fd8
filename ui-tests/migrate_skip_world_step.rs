// Skipping the world step of a migration: the NPC step needs the migrated
// zones, and the error names `.world(..)`.
use caelmor_persist::reference::{Item, Npc, Player, Quest, Reference, Zone};
use caelmor_persist::{MemStore, Schema, ShardId};

struct V2;
impl Schema for V2 {
    const NAME: &'static str = "caelmor-reference";
    const VERSION: u32 = 2;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

fn main() {
    let mut store = MemStore::<V2>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let _ = store
        .migrate::<Reference>(&authority)
        .unwrap()
        .players(|old| Ok(old))
        .unwrap()
        .npcs(|old, _players, _zones| Ok(old));
}
