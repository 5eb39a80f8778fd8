// `Dormant::map` takes a plain `fn`: a closure that captures a variable
// cannot carry the content out before activation.
use caelmor_persist::reference::{Player, Reference};
use caelmor_persist::{MemStore, Restore, ShardId, Store};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let (_restore, players) = Restore::open(loaded, &authority).unwrap().players();
    let mut leaked: Option<Vec<Player>> = None;
    let _still_dormant = players.map(|content| leaked = Some(content));
    drop(leaked);
}
