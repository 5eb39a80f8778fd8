// NPCs refer to zones, so they come after the world: `.npcs(..)` does not
// exist at `PlayerDone`.
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let _save = Save::begin(&authority)
        .players(&shard.players)
        .unwrap()
        .npcs(&shard.npcs);
}
