// The longest schema name a bundle holds, 255 bytes, builds, saves and
// restores. (This case also makes trybuild build every case instead of
// only checking it: see tests/ui.rs.)
use caelmor_persist::reference::{Item, Npc, Player, Quest, Zone};
use caelmor_persist::{MAX_SCHEMA_NAME, MemStore, Restore, Save, Schema, ShardId, Store};

struct Verbose;

impl Schema for Verbose {
    // 255 bytes.
    const NAME: &'static str = concat!(
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on--64",
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on--64",
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on--64",
        "a-name-that-goes-on-and-on-a-name-that-goes-on-and-on-and-on-63",
    );
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

fn main() {
    assert_eq!(Verbose::NAME.len(), MAX_SCHEMA_NAME);
    let mut store = MemStore::<Verbose>::new(ShardId(1));
    let mut authority = store.claim().unwrap();
    let sealed = Save::begin(&authority)
        .players(&[])
        .and_then(|s| s.world(&[]))
        .and_then(|s| s.npcs(&[]))
        .and_then(|s| s.items(&[]))
        .and_then(|s| s.quests(&[]))
        .unwrap()
        .seal();
    store.commit(sealed, &mut authority).unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    Restore::open(loaded, &authority).unwrap();
}
