// Committing a migration whose quest step has not run: the error says that
// only a `Sealed` bundle is committable, and lists the steps that end in
// one.
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
    let unfinished = store
        .migrate::<Reference>(&authority)
        .unwrap()
        .players(|old| Ok(old))
        .unwrap()
        .world(|old, _| Ok(old))
        .unwrap()
        .npcs(|old, _, _| Ok(old))
        .unwrap()
        .items(|old, _, _, _| Ok(old))
        .unwrap();
    let _ = store.commit(unfinished, &authority);
}
