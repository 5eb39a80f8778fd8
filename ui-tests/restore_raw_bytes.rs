// Raw bytes never restore as truth: only a store's load of its latest
// committed epoch makes a `Loaded`, so a sealed-but-uncommitted save (or a
// backup, or a file) cannot be opened (Stage 21.2 §5, §9.3).
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{Loaded, MemStore, Restore, Save, ShardId};

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
    let loaded = Loaded::<Reference>::new(sealed.into_bytes());
    let _restore = Restore::open(loaded, &authority);
}
