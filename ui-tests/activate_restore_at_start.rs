// Activating a freshly opened restore does not compile; the error names
// `.players()`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let _active = Restore::open(loaded, &authority)
        .unwrap()
        .activate(&authority);
}
