// A schema has exactly five record types: a sixth system has nowhere to go.
use caelmor_persist::Schema;
use caelmor_persist::reference::{Item, Npc, Player, Quest, Zone};

struct WithGuilds;

impl Schema for WithGuilds {
    const NAME: &'static str = "with-guilds";
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
    type Guild = Player;
}

fn main() {}
