// A bundle sealed under one schema cannot be committed to a store of
// another: the error says which schema the store takes.
use caelmor_persist::reference::{Item, Npc, Player, Quest, Reference, ShardSpec, Zone};
use caelmor_persist::{MemStore, Save, Schema, ShardId};

struct Other;
impl Schema for Other {
    const NAME: &'static str = "other";
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

fn main() {
    let shard = ShardSpec::small().generate(1);
    let mut theirs = MemStore::<Other>::new(ShardId(1));
    let their_authority = theirs.claim().unwrap();
    let sealed = Save::begin(&their_authority)
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
    let mut ours = MemStore::<Reference>::new(ShardId(1));
    let authority = ours.claim().unwrap();
    let _ = ours.commit(sealed, &authority);
}
