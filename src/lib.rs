//! # caelmor-persist
//!
//! All-or-nothing save and restore of an MMO server's five persisted
//! systems — players, the world, NPCs, items, quests — in the one order the
//! Caelmor persistence canon (Stage 21.0, Stage 21.2) allows, with every
//! forbidden ordering rejected by the compiler and every illegal bundle
//! rejected before anything is handed out.
//!
//! ## The protocol, in types
//!
//! A save is a chain of zero-sized typestates, in the order of
//! Stage 21.2 §5:
//!
//! [`Start`] → [`PlayerDone`] → [`WorldDone`] → [`NpcDone`] → [`ItemDone`] →
//! [`QuestDone`] → [`Sealed`]
//!
//! Each step exists only on the state before it, so skipping or reordering a
//! step does not compile; a failing step consumes the chain, so there is
//! never a half-saved value; and a [`Store`] commits only a [`Sealed`]
//! bundle, which only the last step produces. A restore walks the same
//! states (Stage 21.2 §6) after verifying the whole bundle, and hands out
//! each system as a [`Dormant`] value that only the completed chain's
//! [`Activation`] can release.
//!
//! ```
//! use caelmor_persist::{MemStore, Restore, Save, ShardId, Store};
//! use caelmor_persist::reference::{Reference, ShardSpec};
//!
//! // The server's five systems, in memory.
//! let world = ShardSpec::small().generate(7);
//!
//! // Claiming the shard mints the server's authority.
//! let mut store = MemStore::<Reference>::new(ShardId(1));
//! let mut authority = store.claim()?;
//!
//! // Save: one atomic bundle, in the canon's order.
//! let sealed = Save::begin(&authority)
//!     .players(&world.players)?
//!     .world(&world.zones)?
//!     .npcs(&world.npcs)?
//!     .items(&world.items)?
//!     .quests(&world.quests)?
//!     .seal();
//! store.commit(sealed, &mut authority)?;
//!
//! // Restore: verified in full, handed out in the same order, dormant.
//! let loaded = store.load_latest()?.expect("epoch 1 was committed");
//! let (restore, players) = Restore::open(loaded, &authority)?.players();
//! let (restore, zones) = restore.world();
//! let (restore, npcs) = restore.npcs();
//! let (restore, items) = restore.items();
//! let (restore, quests) = restore.quests();
//!
//! // Only now, and only with the authority, does anything become usable.
//! let active = restore.activate(&authority)?;
//! assert_eq!(active.activate(players)?, world.players);
//! assert_eq!(active.activate(items)?, world.items);
//! # let _ = (zones, npcs, quests);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Stores
//!
//! A [`Store`] commits a [`Sealed`] bundle whole or not at all, accepts only
//! the next epoch, refuses an authority (or a bundle sealed under one) that a
//! later claim has fenced out, and never falls back to an older epoch when
//! the latest is damaged. [`FileStore`] is the embedded default: one
//! directory per shard, one file per epoch, commits made durable with
//! write-temp, fsync, rename, fsync-directory, and an OS lock that makes one
//! process the shard's authority. [`MemStore`] keeps the same contract in
//! memory, for tests and examples.
//!
//! ## Cores
//!
//! A save step with a large section (16 Ki records or more) runs its checks
//! and encodes part of its records on a second thread while the calling
//! thread writes the rest; [`Restore::open`] decodes a large item section on
//! a second thread; digests of large bundles are computed on two. The
//! threads are scoped to the call, so records are borrowed, never kept:
//! that is why records must be `Send + Sync` ([`Record`]). The bytes, and
//! the first rejection, are the same however the work was shared, and if
//! no thread can be started the call runs on one. A [`FileStore`] load
//! decodes the records to verify them and hands them to the
//! [`Restore::open`] that follows, so a restore reads its bundle once.
//!
//! ## What the compiler refuses
//!
//! ```compile_fail
//! # use caelmor_persist::{MemStore, Save, ShardId, Store};
//! # use caelmor_persist::reference::{Reference, ShardSpec};
//! # let world = ShardSpec::small().generate(7);
//! # let mut store = MemStore::<Reference>::new(ShardId(1));
//! # let mut authority = store.claim().unwrap();
//! // World before players: Stage 21.2 §5 allows no other order.
//! let save = Save::begin(&authority).world(&world.zones);
//! ```
//!
//! ```compile_fail
//! # use caelmor_persist::{MemStore, Save, ShardId, Store};
//! # use caelmor_persist::reference::{Reference, ShardSpec};
//! # let world = ShardSpec::small().generate(7);
//! # let mut store = MemStore::<Reference>::new(ShardId(1));
//! # let mut authority = store.claim().unwrap();
//! // Committing a partial save: "call .world(..) next …"
//! let partial = Save::begin(&authority).players(&world.players).unwrap();
//! store.commit(partial, &mut authority);
//! ```
//!
//! The full list, one misuse per file with the compiler's message, is the
//! crate's `ui-tests/` directory.
//!
//! ## What is checked at run time
//!
//! Ids unique; every reference resolving inside the same bundle (NPC → zone;
//! item → zone, player, containing item, owner; quest → owner, zones); item
//! containment acyclic and rooted in a zone or a player — at each save step,
//! and again when a bundle is opened. Every seal opens: a save step reads
//! each record's id and references once, and decodes every record right
//! after encoding it, exactly as a restore will; a record that does not
//! come back the same is refused at its step (`E-RECORD-ROUNDTRIP`). The bundle is one digest-closed frame
//! whose every section carries the bundle's shard and epoch; a reader checks
//! the digest before decoding anything and rejects every non-canonical
//! encoding. Each refusal is a [`Rejection`] with a stable
//! [`RejectionCode`]. The [`format`](mod@format) module is the byte-level specification.
//!
//! ## Canon map
//!
//! | canon | enforced by |
//! | --- | --- |
//! | 21.2 §4 closed set of five systems | [`System`], [`Schema`] with exactly five record types, sealed states |
//! | 21.2 §5 save order | [`Save`] typestate chain |
//! | 21.2 §6 restore order, inactive until activated | [`Restore`] chain, [`Dormant`], [`Activation`] |
//! | 21.2 §7 legal edges only | the id types record traits return; [`ItemLocation`] has no NPC; [`System::dependencies`] const-checked |
//! | 21.2 §7 no cycles | const proof in [`system`](System); `E-CONTAINMENT-CYCLE` |
//! | 21.2 §5, §9.3 atomic | failing steps consume the chain; only [`Sealed`] commits; [`FileStore`] commits survive a crash whole or not at all |
//! | 21.2 §5 a save produces authoritative state or fails | every seal opens: records read once, each decoded again as [`Restore::open`] will; `E-RECORD-ROUNDTRIP` |
//! | 21.2 §8 no partial restore, no inference | [`Restore::open`] verifies all before handing out anything |
//! | 21.2 §9.4 deterministic | canonical encoding, fixed check order, stable codes |
//! | 21.0 mixed-epoch, client-influenced | per-section epoch and shard stamps; [`DigestKey`]; [`ServerAuthority`] |
//! | 21.2 §9.6 server authority | [`ServerAuthority`] minted only by [`Store::claim`], fenced |

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod authority;
mod check;
mod entry;
pub mod format;
pub mod gate;
mod ids;
mod parallel;
mod rejection;
mod restore;
mod save;
mod schema;
mod state;
mod store;
mod system;
mod verify;

#[cfg(feature = "reference")]
pub mod reference;

pub use authority::ServerAuthority;
pub use format::DigestKey;
pub use ids::{Epoch, Fence, ItemId, NpcId, PlayerId, QuestId, ShardId, ZoneId};
pub use rejection::{Edge, Part, Rejection, RejectionCode};
pub use restore::{Activation, ActivationError, Dormant, Restore};
pub use save::{Save, Sealed};
pub use schema::{
    ItemHolder, ItemLocation, ItemRecord, MAX_SCHEMA_NAME, NpcRecord, PlayerRecord, QuestRecord,
    Record, Schema, WorldRecord,
};
pub use state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, State, WorldDone};
pub use store::{
    CommitError, Committed, FileStore, FileStoreConfig, Loaded, MemStore, ShardDir, Store,
    StoreError,
};
pub use system::System;
pub use verify::{SectionSummary, Summary, Verified, VerifyOptions, verify};
