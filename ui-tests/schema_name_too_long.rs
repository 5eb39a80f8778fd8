// A schema name longer than the 255 bytes a bundle holds does not build
// once the schema saves (or restores).
use caelmor_persist::reference::{Item, Npc, Player, Quest, Zone};
use caelmor_persist::{MemStore, Save, Schema, ShardId};

struct Verbose;

impl Schema for Verbose {
    // 256 bytes: one more than a bundle holds.
    const NAME: &'static str = concat!(
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on--64",
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on--64",
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on--64",
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on--64",
    );
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

fn main() {
    let authority = MemStore::<Verbose>::new(ShardId(1)).claim().unwrap();
    let _save = Save::begin(&authority);
}
