// `RestoreComplete` cannot be implemented for an unfinished state, even for
// one's own schema, so an incomplete restore never activates.
use caelmor_persist::gate::RestoreComplete;
use caelmor_persist::reference::{Item, Npc, Player, Quest, Zone};
use caelmor_persist::{PlayerDone, Schema};

struct Mine;

impl Schema for Mine {
    const NAME: &'static str = "mine";
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

impl RestoreComplete<Mine> for PlayerDone {}

fn main() {}
