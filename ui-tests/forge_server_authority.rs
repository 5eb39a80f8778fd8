// A `ServerAuthority` cannot be written as a literal: its fields are private.
use caelmor_persist::reference::Reference;
use caelmor_persist::{Epoch, Fence, ServerAuthority, ShardId};
use std::marker::PhantomData;

fn main() {
    let _forged: ServerAuthority<Reference> = ServerAuthority {
        store: 1,
        token: 1,
        shard: ShardId(1),
        fence: Fence(1),
        next_epoch: Epoch(1),
        key: None,
        _schema: PhantomData,
    };
}
