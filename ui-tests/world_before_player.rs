// Naming the world step by path does not get around the order either: it
// takes a save at `PlayerDone`, and a fresh save is at `Start`.
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let start = Save::begin(&authority);
    let _save = Save::world(start, &shard.zones);
}
