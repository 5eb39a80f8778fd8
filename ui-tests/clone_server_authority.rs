// A `ServerAuthority` cannot be duplicated: it is not `Clone`.
use caelmor_persist::reference::Reference;
use caelmor_persist::{MemStore, ServerAuthority, ShardId};

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let _copy: ServerAuthority<Reference> = authority.clone();
}
