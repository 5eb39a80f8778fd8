//! A realistic reference schema and a deterministic generator of consistent
//! shards, for tests, examples, benchmarks and the command-line tool.
//!
//! Enabled by the `reference` feature (on by default). A real server defines
//! its own [`Schema`](crate::Schema); this one shows what a typical MMO's
//! records look like and gives the crate something real to save.
//!
//! ```
//! use caelmor_persist::reference::ShardSpec;
//! let a = ShardSpec::small().generate(9);
//! let b = ShardSpec::small().generate(9);
//! assert_eq!(a, b, "same seed, same shard");
//! assert_eq!(a.players.len(), ShardSpec::small().players);
//! ```

mod generate;
mod records;

pub use generate::{Shard, ShardSpec};
pub use records::{Biome, Item, Npc, Player, Position, Quest, Reference, Stats, Zone};
