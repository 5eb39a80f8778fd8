// Only a store mints a `ServerAuthority`: `mint` is private to the crate.
use caelmor_persist::reference::Reference;
use caelmor_persist::{Epoch, Fence, ServerAuthority, ShardId};

fn main() {
    let _forged = ServerAuthority::<Reference>::mint(1, ShardId(1), Fence(1), Some(Epoch(1)), None);
}
