// A `Sealed` bundle cannot be assembled from parts: its fields are private.
use caelmor_persist::reference::Reference;
use caelmor_persist::{Epoch, Fence, Sealed, ShardId};
use std::marker::PhantomData;

fn main() {
    let _forged: Sealed<Reference> = Sealed {
        bytes: Vec::new(),
        digest: [0; 32],
        shard: ShardId(1),
        epoch: Epoch(1),
        fence: Fence(1),
        _schema: PhantomData,
    };
}
