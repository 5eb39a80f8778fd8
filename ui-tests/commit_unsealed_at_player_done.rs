// Committing a partial save: the store's error names `.world(..)`.
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, ShardId};

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let partial = Save::begin(&authority).players(&shard.players).unwrap();
    let _ = store.commit(partial, &authority);
}
