// Two hops that do not line up: after .via(V1ToV2) the migration is at v2,
// and the v1 → v2 hop cannot follow it into v3.
use caelmor_persist::migrate::{Migration, Unmappable};
use caelmor_persist::reference::{Item, Npc, Player, Quest, Reference, Zone};
use caelmor_persist::{MemStore, Schema, ShardId};

macro_rules! version {
    ($schema:ident, $version:expr) => {
        struct $schema;
        impl Schema for $schema {
            const NAME: &'static str = "caelmor-reference";
            const VERSION: u32 = $version;
            type Player = Player;
            type World = Zone;
            type Npc = Npc;
            type Item = Item;
            type Quest = Quest;
        }
    };
}
version!(V2, 2);
version!(V3, 3);

/// A hop whose records do not change.
macro_rules! hop {
    ($hop:ident: $old:ty => $new:ty) => {
        struct $hop;
        impl Migration<$old, $new> for $hop {
            fn players(&mut self, old: Vec<Player>) -> Result<Vec<Player>, Unmappable> {
                Ok(old)
            }
            fn world(&mut self, old: Vec<Zone>, _: &[Player]) -> Result<Vec<Zone>, Unmappable> {
                Ok(old)
            }
            fn npcs(&mut self, old: Vec<Npc>, _: &[Player], _: &[Zone]) -> Result<Vec<Npc>, Unmappable> {
                Ok(old)
            }
            fn items(&mut self, old: Vec<Item>, _: &[Player], _: &[Zone], _: &[Npc]) -> Result<Vec<Item>, Unmappable> {
                Ok(old)
            }
            fn quests(&mut self, old: Vec<Quest>, _: &[Player], _: &[Zone], _: &[Npc], _: &[Item]) -> Result<Vec<Quest>, Unmappable> {
                Ok(old)
            }
        }
    };
}
hop!(V1ToV2: Reference => V2);
hop!(V2ToV3: V2 => V3);

fn main() {
    let mut store = MemStore::<V3>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let _ = store
        .migrate::<Reference>(&authority)
        .unwrap()
        .via(V1ToV2)
        .unwrap()
        .run(V1ToV2);
    let _unused = V2ToV3;
}
