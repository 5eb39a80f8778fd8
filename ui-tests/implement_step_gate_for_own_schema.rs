// A step's gate cannot be implemented, even for one's own schema: the chain
// is closed, so `.world(..)` never runs at `Start`.
use caelmor_persist::gate::SaveStepWorld;
use caelmor_persist::reference::{Item, Npc, Player, Quest, Zone};
use caelmor_persist::{Schema, Start};

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

impl SaveStepWorld<Mine> for Start {}

fn main() {}
