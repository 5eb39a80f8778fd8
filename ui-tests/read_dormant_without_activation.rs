// A dormant value's content is private: only an `Activation` releases it.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, Restore, ShardId, Store};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let (_restore, players) = Restore::open(loaded, &authority).unwrap().players();
    let _players = players.value;
}
