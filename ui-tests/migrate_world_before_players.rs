// Migrating the world before the players: Stage 21.2 §5 allows no other
// order for a migration than for a save, and the error names `.players(..)`.
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
    let migrating = store.migrate::<Reference>(&authority).unwrap();
    let _ = migrating.world(|old, _players| Ok(old));
}
