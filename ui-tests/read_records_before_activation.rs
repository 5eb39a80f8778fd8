// While a restore runs, the restored systems are dormant inside the chain:
// no code reads them before activation (Stage 21.2 §6).
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let restore = Restore::open(loaded, &authority).unwrap().players();
    let _players = restore.opened.players;
}
