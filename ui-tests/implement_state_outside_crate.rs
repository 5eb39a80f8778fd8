// The chain has exactly six states: `State` is sealed.
use caelmor_persist::State;

#[derive(Debug)]
struct GuildDone;

impl State for GuildDone {
    const COMPLETED: usize = 6;
}

fn main() {}
