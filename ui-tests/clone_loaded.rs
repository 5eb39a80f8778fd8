// A loaded epoch cannot be duplicated (to restore it twice, or keep a copy
// past a later claim): `Loaded` is not `Clone`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let _authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let _copy = loaded.clone();
}
