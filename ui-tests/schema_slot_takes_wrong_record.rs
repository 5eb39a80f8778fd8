// A record type in the wrong slot of a schema: the error names the trait the
// slot takes.
use caelmor_persist::Schema;
use caelmor_persist::reference::{Item, Npc, Player, Quest};

struct Mine;
impl Schema for Mine {
    const NAME: &'static str = "mine";
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Player;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

fn main() {}
