// Stage 21.2 §7: an item never depends on an NPC.
use caelmor_persist::{ItemLocation, NpcId};

fn main() {
    let _location = ItemLocation::of(NpcId(1));
}
