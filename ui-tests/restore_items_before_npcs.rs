// A restore hands out NPCs before items: `.items()` does not exist at `WorldDone`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let restore = Restore::open(loaded, &authority).unwrap().players();
    let restore = restore.world();
    let _restore = restore.items();
}
