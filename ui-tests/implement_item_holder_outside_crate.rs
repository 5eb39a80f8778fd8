// `ItemHolder` is sealed: no new kind of holder (an NPC's bag) can be added.
use caelmor_persist::{ItemHolder, ItemLocation, ZoneId};

#[derive(Clone, Copy)]
struct NpcBag;

impl ItemHolder for NpcBag {
    fn into_location(self) -> ItemLocation {
        ItemLocation::Zone(ZoneId(0))
    }
}

fn main() {}
