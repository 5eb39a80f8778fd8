// Each step consumes the save: the earlier state cannot be used again.
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let start = Save::begin(&authority);
    let _first = start.players(&shard.players);
    let _second = start.players(&shard.players);
}
