// A restore hands out the players first: `.world()` does not exist at `Start`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let _zones = Restore::open(loaded, &authority).unwrap().world();
}
