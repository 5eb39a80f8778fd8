// A `ServerAuthority` cannot be written as a literal: its fields are private.
use caelmor_persist::reference::Reference;
use caelmor_persist::{Fence, ServerAuthority, ShardId};
use std::marker::PhantomData;

fn main() {
    let _forged: ServerAuthority<Reference> = ServerAuthority {
        store: 1,
        token: 1,
        shard: ShardId(1),
        fence: Fence(1),
        next_epoch: std::sync::atomic::AtomicU64::new(1),
        key: None,
        current: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1)),
        _schema: PhantomData,
    };
}
