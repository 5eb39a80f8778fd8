// A `Sealed` bundle cannot be duplicated: it is not `Clone`.
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, Sealed, ShardId};

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let sealed = Save::begin(&authority)
        .players(&shard.players)
        .unwrap()
        .world(&shard.zones)
        .unwrap()
        .npcs(&shard.npcs)
        .unwrap()
        .items(&shard.items)
        .unwrap()
        .quests(&shard.quests)
        .unwrap()
        .seal();
    let _copy: Sealed<Reference> = sealed.clone();
}
