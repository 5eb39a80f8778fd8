// An empty save is not a bundle: the store's error names `.players(..)`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let save = Save::begin(&authority);
    let _ = store.commit(save, &authority);
}
