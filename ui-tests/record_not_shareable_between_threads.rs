// Records are plain data that sealing and opening may hand to a second core
// (`Record: Send + Sync`): a record with interior mutability is refused where
// it is declared a record, not at some later save.
use std::cell::Cell;

use caelmor_persist::{PlayerId, PlayerRecord};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Player {
    id: PlayerId,
    visits: Cell<u32>,
}

impl PlayerRecord for Player {
    fn id(&self) -> PlayerId {
        self.id
    }
}

fn main() {}
