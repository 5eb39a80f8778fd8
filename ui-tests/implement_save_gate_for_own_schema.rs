// The "needs step" traits cannot be implemented, even for one's own schema,
// so a partial save never becomes committable.
use caelmor_persist::gate::SaveNeedsWorld;
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

impl SaveNeedsWorld<Mine> for PlayerDone {
    fn absurd<T>() -> T {
        unreachable!()
    }
}

fn main() {}
