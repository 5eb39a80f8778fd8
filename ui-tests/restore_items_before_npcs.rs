// A restore hands out NPCs before items: `.items()` does not exist at `WorldDone`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId, Store};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let (restore, _players) = Restore::open(loaded, &authority).unwrap().players();
    let (restore, _zones) = restore.world();
    let (_restore, _items) = restore.items();
}
