// A dormant value does not dereference to its content.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId, Store};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let (_restore, players) = Restore::open(loaded, &authority).unwrap().players();
    let _count = (*players).len();
}
