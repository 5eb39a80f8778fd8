// Items come after NPCs: `.items(..)` does not exist at `WorldDone`.
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let _save = Save::begin(&authority)
        .players(&shard.players)
        .unwrap()
        .world(&shard.zones)
        .unwrap()
        .items(&shard.items);
}
