// `Committable` cannot be implemented for an unsealed save, even for one's own
// schema, so a partial save never reaches a store.
use caelmor_persist::gate::Committable;
use caelmor_persist::reference::{Item, Npc, Player, Quest, Zone};
use caelmor_persist::{PlayerDone, Save, Schema, Sealed};

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

impl Committable<Mine> for Save<Mine, PlayerDone> {
    fn into_sealed(self) -> Sealed<Mine> {
        unreachable!()
    }
}

fn main() {}
