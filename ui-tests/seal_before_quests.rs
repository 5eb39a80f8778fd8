// Sealing needs all five systems: `.seal()` does not exist at `ItemDone`.
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let _sealed = Save::begin(&authority)
        .players(&shard.players)
        .unwrap()
        .world(&shard.zones)
        .unwrap()
        .npcs(&shard.npcs)
        .unwrap()
        .items(&shard.items)
        .unwrap()
        .seal();
}
