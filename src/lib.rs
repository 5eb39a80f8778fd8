//! # caelmor-persist
//!
//! All-or-nothing save and restore of an MMO server's five persisted
//! systems — players, the world, NPCs, items, quests — in the one order the
//! Caelmor persistence canon allows (Stage 21.0, Stage 21.2). Saving or
//! restoring in a forbidden order does not compile, and the compiler's
//! message names the next step; a bundle that is partial, mixed in time,
//! damaged, dangling or edited is refused, with a stable code, before
//! anything of it reaches the server.
//!
//! ## Quick start: your records, a file store
//!
//! Describe one record type per system (each trait asks only for the
//! record's id and the ids it refers to), name them in a [`Schema`], claim
//! a shard in a [`FileStore`], and walk the chains. This is
//! `examples/quickstart.rs` (`cargo run --example quickstart`):
//!
#![doc = concat!("```\n", include_str!("../examples/quickstart.rs"), "```")]
//!
//! ## The protocol, in types
//!
//! **Save** (Stage 21.2 §5). [`Save::begin`] takes the [`ServerAuthority`]
//! that [`Store::claim`] minted; the steps run in one order, each checking
//! its section against the earlier ones (unique ids, every reference
//! resolved, item containment acyclic) and consuming the chain if it fails:
//!
//! [`Start`] → [`PlayerDone`] → [`WorldDone`] → [`NpcDone`] → [`ItemDone`] →
//! [`QuestDone`] → [`Sealed`]
//!
//! A [`Sealed`] bundle is the only value [`Store::commit`] accepts, and
//! whatever [`Save::seal`] returns, a load of it verifies: every record was
//! decoded back while sealing and checked to reproduce its ids and
//! references.
//!
//! **Restore** (Stage 21.2 §6). [`Store::load_latest`] reads the epoch the
//! shard's head names — never an older one — and verifies every rule of the
//! [format](mod@format), every record decoded; only that [`Loaded`] value
//! can be restored, and only with the authority of the store that loaded
//! it, while it is current. The chain walks the same states; the restored
//! systems stay dormant inside it until [`Restore::activate`] releases all
//! five together as [`Activated`]. Nothing runs on a record before that.
//!
//! A step out of order, skipped or repeated, an early commit or activation,
//! and every other misuse the types can see fail to compile in the crate's
//! own words, e.g.:
//!
//! ```text
//! error[E0277]: this save is at `Start`: its next step is .players(..)
//! ```
//!
//! The full list, one misuse per file with the compiler's output, is the
//! crate's `ui-tests/` directory.
//!
//! ## Stores
//!
//! [`Store`] enforces what the canon asks of any store, over any
//! [`Backend`]: one authority at a time (fences; [`Store::claim`] supersedes
//! every earlier authority), only the next epoch, a commit whole or not at
//! all, a shard keyed or not for good, and a load that is the latest
//! committed epoch or an error — never a fallback to an older epoch
//! (Stage 21.0: no rollback via persistence). [`FileStore`] is the embedded
//! default (one directory per shard, crash-safe, nothing ever replaced);
//! [`MemStore`] keeps a shard in memory. `PgStore` (feature `postgres`)
//! keeps shards in PostgreSQL for servers on several hosts, one owner at a
//! time, with failover; its operations guide is the `deployment` page
//! (`docs/deployment.md`). A backend of your own implements the byte-level
//! [`Backend`] trait and proves it with the `conformance` suite.
//!
//! ## Changing a record type
//!
//! Every bundle carries the [shapes](shape) of the record types that wrote
//! it: an epoch written under another schema, or by a changed record type,
//! is refused with `E-STORE-SCHEMA` and the first difference, never
//! misread, and is brought forward by an explicit, typed
//! [migration](migrate) in the canon's order. The guide is in [`migrate`].
//!
//! ## Cores
//!
//! Large sections (4,096 records or more) are sealed on two threads, a
//! large item section (256 KiB or more) is opened on two, and bundles of
//! 1 MiB or more are digested on two: the second thread is scoped to the
//! call, which is why records are `Send + Sync` ([`Record`]). The bytes,
//! and the first rejection, are the same however the work was shared. A
//! server that wants its cores for itself sets
//! [`StoreConfig::threads`]`(`[`Threads::One`]`)` and nothing is ever
//! started; [`Threads`] says what that costs.
//!
//! ## Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | *(none)* | the library: schemas, both chains, [`FileStore`], [`MemStore`], [`verify`] |
//! | `reference` | a reference schema and a seeded shard generator (tests, examples, benches) |
//! | `conformance` | the backend conformance suite, for the tests of your own [`Backend`] |
//! | `postgres` | `PgStore`, a fenced multi-host store on PostgreSQL |
//! | `tracing` | `tracing` spans for every save step, seal, claim, commit, load, restore and activation |
//! | `cli` | the `caelmor-persist` command-line tool |
//!
//! The default build depends on none of them. Minimum Rust: 1.89.
//!
//! ## Observability
//!
//! With the `tracing` feature, every claim, save step, seal, commit, load,
//! restore and activation is a span carrying the shard, epoch, fence, sizes
//! and record counts; a subscriber that reports closed spans gives their
//! durations. `examples/tracing.rs` (`cargo run --example tracing --features
//! reference,tracing`), with `tracing_subscriber::fmt()` and
//! `FmtSpan::CLOSE`, prints (timestamps cut):
//!
//! ```text
//! INFO claim{shard=1 location=/tmp/.tmp0MlhKl/shard-1}: claimed fence=1
//! INFO claim{shard=1 location=/tmp/.tmp0MlhKl/shard-1}: close time.busy=6.36ms time.idle=15.1µs
//! INFO save_step{system="player" shard=1 epoch=1 records=20}: close time.busy=119µs time.idle=3.56µs
//! INFO save_step{system="world" shard=1 epoch=1 records=8}: close time.busy=35.6µs time.idle=3.62µs
//! INFO save_step{system="npc" shard=1 epoch=1 records=60}: close time.busy=157µs time.idle=3.35µs
//! INFO save_step{system="item" shard=1 epoch=1 records=300}: close time.busy=623µs time.idle=3.57µs
//! INFO save_step{system="quest" shard=1 epoch=1 records=80}: close time.busy=216µs time.idle=3.30µs
//! INFO seal{shard=1 epoch=1}: sealed bytes=8787
//! INFO seal{shard=1 epoch=1}: close time.busy=34.3µs time.idle=3.51µs
//! INFO commit{shard=1 epoch=1 fence=1 bytes=8787}: committed
//! INFO commit{shard=1 epoch=1 fence=1 bytes=8787}: close time.busy=6.58ms time.idle=4.98µs
//! INFO load{shard=1 location=/tmp/.tmp0MlhKl/shard-1}: read and verified epoch=1 fence=1 bytes=8787 records=468 schema="caelmor-reference"
//! INFO load{shard=1 location=/tmp/.tmp0MlhKl/shard-1}: close time.busy=1.18ms time.idle=7.21µs
//! INFO restore{shard=1 epoch=1 fence=1}: close time.busy=2.08µs time.idle=4.08µs
//! INFO activate{shard=1 epoch=1 fence=1}: close time.busy=1.02µs time.idle=1.78µs
//! ```
//!
//! Without the feature the crate contains no tracing code. A refused commit
//! is an event with its code (`commit refused: E-STORE-FENCED: …`).
//!
//! ## Canon map
//!
//! | canon | enforced by |
//! | --- | --- |
//! | 21.2 §4 closed set of five systems | [`System`], [`Schema`] with exactly five record types, sealed states |
//! | 21.2 §5 save order | the [`Save`] typestate chain |
//! | 21.2 §5, §9.3 atomic | failing steps consume the chain; only [`Sealed`] commits; a store commits whole or not at all, even across a crash |
//! | 21.2 §6 restore order, inactive until activated | the [`Restore`] chain; [`Restore::activate`] releases all five together |
//! | 21.2 §6 no logic or inference during restore | records stay inside the chain until activation; nothing is defaulted or repaired |
//! | 21.2 §7 legal edges only | the id types record traits return; [`ItemLocation`] has no NPC; [`System::dependencies`] const-checked |
//! | 21.2 §7 no cycles | const proof in [`System`]; `E-CONTAINMENT-CYCLE` |
//! | 21.2 §8 no partial restore, nothing missing or unresolved | a load verifies everything before anything is handed out |
//! | 21.2 §5 a save produces authoritative state or fails | every seal opens: records read once, each decoded again as a load will; `E-RECORD-ROUNDTRIP` |
//! | 21.2 §9.4 deterministic | canonical encoding, fixed check order, stable codes |
//! | 21.2 §9.6 server authority | [`ServerAuthority`] minted only by [`Store::claim`], fenced; restore only with the authority of the store that loaded |
//! | 21.0 no rollback, no mixed epochs, no client influence | next epoch only, no fallback, per-section stamps, [`DigestKey`] |

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod authority;
mod check;
mod entry;
pub mod format;
#[doc(hidden)]
pub mod gate;
mod ids;
pub mod migrate;
mod parallel;
mod rejection;
mod restore;
mod save;
mod schema;
pub mod shape;
mod state;
mod store;
mod system;
mod trace;
mod typed_reader;
mod verify;

/// The tests' second opinion, written without the crate's code
/// (`tests/independent`: a reader from the format specification alone and
/// the structural rules written again plainly), for the unit tests that
/// compare two of the crate's own paths.
#[cfg(test)]
#[allow(unreachable_pub)]
#[path = "../tests/independent/mod.rs"]
mod independent;

#[cfg(feature = "reference")]
#[cfg_attr(docsrs, doc(cfg(feature = "reference")))]
pub mod reference;

/// Running `PgStore` in production: one owner per shard, what the fence
/// guarantees and what the advisory lock only signals, failover step by
/// step, keepalives, connection poolers, tokio (`docs/deployment.md`).
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
#[doc = include_str!("../docs/deployment.md")]
pub mod deployment {}

pub use authority::ServerAuthority;
pub use format::DigestKey;
pub use ids::{Epoch, Fence, ItemId, NpcId, PlayerId, QuestId, ShardId, ZoneId};
pub use parallel::Threads;
pub use rejection::{Edge, Part, Rejection, RejectionCode};
pub use restore::{Activated, ActivationError, Restore, RestoreError};
pub use save::{Save, Sealed};
pub use schema::{
    ItemHolder, ItemLocation, ItemRecord, MAX_SCHEMA_NAME, NpcRecord, PlayerRecord, QuestRecord,
    Record, Schema, WorldRecord,
};
pub use state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, State, WorldDone};
pub use store::{
    Backend, CommitError, Committed, EpochRecord, FileBackend, FileStore, FileStoreConfig, Head,
    KeyFingerprint, Loaded, MemBackend, MemStore, ShardDir, Store, StoreConfig, StoreError,
    StoredBundle, StoredEpoch, Swap, read_bundle_file,
};
#[cfg(feature = "postgres")]
pub use store::{Keepalives, OwnerSession, PgBackend, PgError, PgOptions, PgStore};
pub use system::System;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub use store::conformance;

// The README's Rust code is compiled and run as doctests, so its walkthrough
// cannot drift from the API (tests/readme.rs checks it is
// examples/quickstart.rs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use verify::{SectionSummary, Summary, Verified, VerifyOptions, verify, verify_as};
