// A restore step cannot be repeated: after `.players()` the next step is
// `.world()`, and the error says so.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let _restore = Restore::open(loaded, &authority)
        .unwrap()
        .players()
        .players();
}
