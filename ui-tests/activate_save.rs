// Activation belongs to a completed restore, never to a save.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let _active = Save::begin(&authority).activate(&authority);
}
