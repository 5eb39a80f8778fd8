// No integrator code runs on restored records before activation: there is
// no `map` (or any other hook) on a restore in progress (Stage 21.2 §6:
// restore must not execute or infer runtime logic).
use caelmor_persist::reference::{Npc, Reference};
use caelmor_persist::{MemStore, Restore, ShardId};

fn run_npc_ai(npcs: Vec<Npc>) -> Vec<Npc> {
    npcs
}

fn main() {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let loaded = store.load_latest().unwrap().unwrap();
    let restore = Restore::open(loaded, &authority).unwrap().players().world().npcs();
    let _ = restore.map(run_npc_ai);
}
