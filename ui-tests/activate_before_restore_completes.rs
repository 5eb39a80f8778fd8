// Restored systems stay dormant until the whole restore is done: activating at
// `NpcDone` does not compile, and the error names `.items()`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let restore = Restore::open(loaded, &authority).unwrap().players();
    let restore = restore.world();
    let restore = restore.npcs();
    let _active = restore.activate(&authority);
}
