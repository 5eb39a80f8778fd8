// An older epoch can be read for inspection, never restored: `load_epoch`
// gives a `StoredBundle`, which `Restore::open` does not take (Stage 21.0:
// no rollback via persistence).
use caelmor_persist::reference::Reference;
use caelmor_persist::{Epoch, MemStore, Restore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let older = store.load_epoch(Epoch(1)).unwrap().unwrap();
    let _restore = Restore::open(older, &authority);
}
