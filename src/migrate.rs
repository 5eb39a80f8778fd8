//! Changing a record type: how a shard's saved epochs are brought forward
//! to a new schema, explicitly, atomically and in the canon's order.
//!
//! # Changing a record type
//!
//! Every patch of a game changes some record type. postcard, which the
//! bundles are written in, does not describe itself: read under a changed
//! type, old bytes come back as wrong values (swapped fields swap, a `u32`
//! read as an `i32` halves, reordered enum variants trade places), or as a
//! decode error that looks like damage. So every bundle carries the
//! [shapes](crate::shape) of the five record types that wrote it, traced by
//! the crate from the types themselves, and a store refuses to load an
//! epoch written under another schema — another [`Schema::NAME`] or
//! [`Schema::VERSION`], or a record type of another shape — with
//! `E-STORE-SCHEMA`, naming the system and the first difference
//! (`Player.gold: was u32, now u64`). Nothing is ever read as something
//! else, and nothing migrates on load: bringing old epochs forward is this
//! module's explicit, typed chain.
//!
//! ## What to do when you change one
//!
//! 1. **Keep the old types.** Move the record types as they shipped into a
//!    module of their own (`v1`), with a schema naming them (`GameV1`, with
//!    the old `NAME` and `VERSION`), and never edit them again: they are
//!    how your server reads the epochs already on disk.
//! 2. **Bump [`Schema::VERSION`]** of the current schema. A changed shape
//!    is refused even without it, but the version is what operators and
//!    tools see, and it is the only thing that marks the changes a
//!    fingerprint cannot see (below).
//! 3. **Write the hop**: an `impl` [`Migration`]`<GameV1, GameV2>`, one
//!    function per system, each mapping the old section to the new one
//!    with the already-migrated earlier sections in view.
//! 4. **At start-up**, when [`load_latest`](crate::Store::load_latest)
//!    says `E-STORE-SCHEMA`, migrate and commit, then load again:
//!
#![cfg_attr(feature = "reference", doc = "```")]
#![cfg_attr(not(feature = "reference"), doc = "```ignore")]
//! use caelmor_persist::migrate::{Migration, Unmappable};
//! use caelmor_persist::reference::{Item, Npc, Quest, Reference, ShardSpec, Zone};
//! use caelmor_persist::{MemBackend, PlayerId, PlayerRecord, Restore, Save, Schema, ShardId};
//! use caelmor_persist::{Store, StoreConfig};
//! use serde::{Deserialize, Serialize};
//!
//! // v2 of the reference game: `currency` is now `gold`, and players have
//! // a title. The other four record types did not change.
//! #[derive(Debug, Serialize, Deserialize)]
//! struct Player { id: PlayerId, name: String, level: u16, gold: u64, title: Option<String> }
//! impl PlayerRecord for Player { fn id(&self) -> PlayerId { self.id } }
//!
//! struct GameV2;
//! impl Schema for GameV2 {
//!     const NAME: &'static str = "caelmor-reference";
//!     const VERSION: u32 = 2;
//!     type Player = Player; type World = Zone; type Npc = Npc; type Item = Item; type Quest = Quest;
//! }
//!
//! /// The hop that ships with v2.
//! struct GoldAndTitles;
//! impl Migration<Reference, GameV2> for GoldAndTitles {
//!     fn players(&mut self, old: Vec<caelmor_persist::reference::Player>)
//!         -> Result<Vec<Player>, Unmappable> {
//!         Ok(old.into_iter().map(|p| Player {
//!             id: p.id, name: p.name, level: p.level, gold: p.currency,
//!             title: (p.level >= 60).then(|| "Veteran".to_owned()),
//!         }).collect())
//!     }
//!     // Unchanged sections go through as they are.
//!     fn world(&mut self, old: Vec<Zone>, _: &[Player]) -> Result<Vec<Zone>, Unmappable> {
//!         Ok(old)
//!     }
//!     fn npcs(&mut self, old: Vec<Npc>, _: &[Player], _: &[Zone]) -> Result<Vec<Npc>, Unmappable> {
//!         Ok(old)
//!     }
//!     fn items(&mut self, old: Vec<Item>, _: &[Player], _: &[Zone], _: &[Npc])
//!         -> Result<Vec<Item>, Unmappable> {
//!         Ok(old)
//!     }
//!     fn quests(&mut self, old: Vec<Quest>, _: &[Player], _: &[Zone], _: &[Npc], _: &[Item])
//!         -> Result<Vec<Quest>, Unmappable> {
//!         Ok(old)
//!     }
//! }
//!
//! // Yesterday's server saved epoch 1 under v1 (the reference schema).
//! let disk = MemBackend::new(ShardId(1));
//! let world = ShardSpec::small().generate(7);
//! let mut v1 = Store::<Reference, _>::with_backend(disk.clone(), StoreConfig::new());
//! let authority = v1.claim()?;
//! let sealed = Save::begin(&authority).players(&world.players)?.world(&world.zones)?
//!     .npcs(&world.npcs)?.items(&world.items)?.quests(&world.quests)?.seal();
//! v1.commit(sealed, &authority)?;
//! drop(v1);
//!
//! // Today's server runs v2.
//! let mut store = Store::<GameV2, _>::with_backend(disk, StoreConfig::new());
//! let authority = store.claim()?;
//! let loaded = match store.load_latest() {
//!     Err(e) if e.code() == "E-STORE-SCHEMA" => {
//!         // Epoch 1 read and verified in full as v1, mapped in the canon's
//!         // order, checked by v2's save steps, sealed as epoch 2.
//!         let sealed = store.migrate::<Reference>(&authority)?.run(GoldAndTitles)?.seal();
//!         store.commit(sealed, &authority)?;
//!         store.load_latest()?
//!     }
//!     other => other?,
//! };
//! let active = Restore::open(loaded.expect("a committed epoch"), &authority)?
//!     .players().world().npcs().items().quests()
//!     .activate(&authority)?;
//! assert_eq!(active.summary.epoch.get(), 2);
//! assert_eq!(active.players[0].gold, world.players[0].currency);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The steps can also be written in place, one closure per system, in the
//! same order (a step out of order, a skipped step or a commit before
//! `.seal()` does not compile, and the compiler names the next step):
//!
//! ```text
//! store.migrate::<GameV1>(&authority)?
//!     .players(|old| Ok(old.into_iter().map(Player::from).collect()))?
//!     .world(|old, _players| Ok(old))?
//!     .npcs(|old, _players, _zones| Ok(old))?
//!     .items(|old, _players, _zones, _npcs| Ok(old))?
//!     .quests(|old, _players, _zones, _npcs, _items| Ok(old))?
//!     .seal()
//! ```
//!
//! ## Several versions
//!
//! A server at v3 may find an epoch of v1 (a shard that was down for two
//! releases) or of v2. Keep every shipped schema and every shipped hop,
//! and compose them: [`Migrate::via`] runs a hop into an intermediate
//! schema, [`Migrate::run`] the last one into the store's. The types only
//! line up hop by hop, so a missing hop does not compile (the compiler
//! says "`V2ToV3` is not a migration from `GameV1` to `GameV3`"). Which
//! schema the latest epoch was written under is in its summary, readable
//! without its record types:
//!
//! ```text
//! let latest = store.latest_epoch()?.expect("a committed epoch");
//! let written = store.load_epoch(latest)?.expect("the latest").verified().summary.schema_version;
//! let sealed = match written {
//!     1 => store.migrate::<GameV1>(&authority)?.via(V1ToV2)?.run(V2ToV3)?.seal(),
//!     2 => store.migrate::<GameV2>(&authority)?.run(V2ToV3)?.seal(),
//!     _ => unreachable!("v3 loads as it is; anything else is not ours"),
//! };
//! store.commit(sealed, &authority)?;
//! ```
//!
//! An intermediate hop is checked and sealed as a save of its schema would
//! be, then thrown away: the shard goes from the old epoch to the new one
//! in one commit, and ends where committing each hop in turn would have.
//!
//! ## What the chain guarantees
//!
//! - **The old epoch is verified in full first**, under the old schema:
//!   every rule of the [format](crate::format), every record decoded and
//!   checked, its shapes those of the old record types — before any
//!   mapping runs. A damaged or edited old epoch is refused
//!   (`E-STORE-DAMAGED`), never migrated.
//! - **In the canon's order** (Stage 21.2 §5): players, world, NPCs, items,
//!   quests, each step with the migrated earlier sections in view.
//! - **Checked like a save.** A migration is a [`Save`] of the new schema
//!   fed by your mappings: each step runs the very checks of the matching
//!   save step (ids unique, references resolving, containment acyclic),
//!   and writes canonical bytes. The same old epoch and the same mappings
//!   give the same bytes, whatever order a mapping returns its records in.
//! - **Atomic.** The result is a [`Sealed`] bundle at the next epoch, which
//!   the store commits like any save: whole or not at all (Stage 21.2 §5,
//!   §9.3). A mapping that refuses ([`Unmappable`], `E-MIGRATE-MAP`), a
//!   step whose checks fail, or an abandoned chain leaves the shard at the
//!   old epoch with nothing written.
//! - **Server authority** (Stage 21.2 §9.6). Only the shard's current
//!   authority, of this store, migrates, and only the latest committed
//!   epoch; the migrated epoch is what the next
//!   [`load_latest`](crate::Store::load_latest) restores, and the old one
//!   stays in the store's history, readable, never restorable.
//!
//! ## What a fingerprint cannot see
//!
//! A shape is traced from what a type's `Serialize` and `Deserialize` do on
//! a few made-up values (see [`shape`](crate::shape) for the whole list).
//! It cannot see a change of **meaning** under the same shape (seconds that
//! become milliseconds, two variants that swap meanings but keep their
//! names), a hand-written `Serialize` that **branches on values** the trace
//! does not offer, what a `#[serde(with = ..)]` function **means**, or a
//! `Deserialize` that starts **refusing** values it used to accept. For
//! each of those, bump [`Schema::VERSION`] and write a hop anyway: the old
//! epochs are then refused by version (`E-STORE-SCHEMA`) and brought
//! forward by your mapping, never read under the new meaning.
//!
//! Conversely, renaming a Rust type changes nothing (postcard writes no
//! names, and neither does the fingerprint), and a field renamed with
//! `#[serde(rename = "old_name")]` keeps its old shape.
//!
//! Pin your schema's fingerprints in a test of your own
//! ([`shape::schema_shapes`](crate::shape::schema_shapes)): a record type
//! changed by accident then fails in CI, not at a shard's next start.
//!
//! ## Cost
//!
//! One pass: the old epoch is read and decoded once (as a load), each
//! section is mapped (moving what does not change costs nothing) and saved
//! once (as a seal); an intermediate hop adds one save of its schema. On
//! the reference large shard a one-hop migration costs about what a load
//! and a seal cost together (`examples/bench_report.rs`).

use core::fmt;
use core::mem;

use crate::authority::ServerAuthority;
use crate::gate;
use crate::rejection::Rejection;
use crate::save::{Save, Sealed};
use crate::schema::{ItemRecord, NpcRecord, PlayerRecord, QuestRecord, Schema, WorldRecord};
use crate::shape::Untraceable;
use crate::state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, State, WorldDone};
use crate::store::{Backend, Store, StoreError};
use crate::system::System;
use crate::typed_reader::Opened;
use crate::verify::Summary;

/// One hop of a migration: how the records of schema `Old` become those of
/// schema `New`, one section at a time, in the order of Stage 21.2 §5.
///
/// Each function receives the old section by value (move what does not
/// change: a `String` moved costs nothing) and, read-only, the sections
/// of `New` already migrated — the earlier sections of the save order,
/// already checked and in canonical order (by id). It returns the new
/// section, in any order: a step may drop, split or merge records, and the
/// save step that follows holds the result to the rules of every save
/// (ids unique, every reference resolving, containment acyclic). It may
/// refuse with an [`Unmappable`], which abandons the whole migration.
///
/// The crate calls the five functions in order, each once, on an old epoch
/// it has verified in full; `&mut self` lets a hop carry what one section
/// taught it to a later one. A section whose record type did not change is
/// returned as it came: `Ok(old)`.
///
/// Hops compose: [`Migrate::via`] runs one into an intermediate schema, and
/// [`Migrate::run`] the last one into the store's, so a server brings any
/// shipped epoch forward with the hops it already has, one per version. A
/// hop that does not start where the previous one ended does not compile.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::migrate::{Migration, Unmappable};
/// # use caelmor_persist::{ItemRecord, NpcRecord, PlayerRecord, QuestRecord, Schema, WorldRecord};
/// # use caelmor_persist::{PlayerId, ZoneId};
/// # use caelmor_persist::reference::{Item, Npc, Quest, Zone};
/// # use serde::{Deserialize, Serialize};
/// # mod v1 {
/// #     use super::*;
/// #     #[derive(Serialize, Deserialize)]
/// #     pub struct Player { pub id: PlayerId, pub gold: u32 }
/// #     impl PlayerRecord for Player { fn id(&self) -> PlayerId { self.id } }
/// #     pub struct Game;
/// #     impl Schema for Game {
/// #         const NAME: &'static str = "game"; const VERSION: u32 = 1;
/// #         type Player = Player; type World = Zone; type Npc = Npc; type Item = Item; type Quest = Quest;
/// #     }
/// # }
/// # mod v2 {
/// #     use super::*;
/// #     #[derive(Serialize, Deserialize)]
/// #     pub struct Player { pub id: PlayerId, pub gold: u64, pub home: Option<ZoneId> }
/// #     impl PlayerRecord for Player { fn id(&self) -> PlayerId { self.id } }
/// #     pub struct Game;
/// #     impl Schema for Game {
/// #         const NAME: &'static str = "game"; const VERSION: u32 = 2;
/// #         type Player = Player; type World = Zone; type Npc = Npc; type Item = Item; type Quest = Quest;
/// #     }
/// # }
/// /// v1 → v2: gold widened to u64, and a home zone nobody has yet.
/// struct WidenGold;
///
/// impl Migration<v1::Game, v2::Game> for WidenGold {
///     fn players(&mut self, old: Vec<v1::Player>) -> Result<Vec<v2::Player>, Unmappable> {
///         Ok(old
///             .into_iter()
///             .map(|p| v2::Player { id: p.id, gold: u64::from(p.gold), home: None })
///             .collect())
///     }
///     fn world(&mut self, old: Vec<Zone>, _: &[v2::Player]) -> Result<Vec<Zone>, Unmappable> {
///         Ok(old)
///     }
///     fn npcs(&mut self, old: Vec<Npc>, _: &[v2::Player], _: &[Zone]) -> Result<Vec<Npc>, Unmappable> {
///         Ok(old)
///     }
///     fn items(
///         &mut self,
///         old: Vec<Item>,
///         _: &[v2::Player],
///         _: &[Zone],
///         _: &[Npc],
///     ) -> Result<Vec<Item>, Unmappable> {
///         Ok(old)
///     }
///     fn quests(
///         &mut self,
///         old: Vec<Quest>,
///         _: &[v2::Player],
///         _: &[Zone],
///         _: &[Npc],
///         _: &[Item],
///     ) -> Result<Vec<Quest>, Unmappable> {
///         Ok(old)
///     }
/// }
/// # fn main() {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a migration from `{Old}` to `{New}`",
    label = "not a hop from `{Old}` to `{New}`",
    note = "a migration goes one hop at a time, each starting at the schema the previous one reached: `.via(hop)` into each schema in between, then `.run(last_hop)` into the store's schema; a hop is an `impl Migration<Old, New>`"
)]
pub trait Migration<Old: Schema, New: Schema> {
    /// Step 1 of 5: Player Identity and PlayerSave.
    ///
    /// # Errors
    /// [`Unmappable`] abandons the migration; nothing is written.
    fn players(&mut self, old: Vec<Old::Player>) -> Result<Vec<New::Player>, Unmappable>;

    /// Step 2 of 5: the world's zones, with the migrated players in view.
    ///
    /// # Errors
    /// [`Unmappable`] abandons the migration; nothing is written.
    fn world(
        &mut self,
        old: Vec<Old::World>,
        players: &[New::Player],
    ) -> Result<Vec<New::World>, Unmappable>;

    /// Step 3 of 5: NPC state, with the migrated players and zones in view.
    ///
    /// # Errors
    /// [`Unmappable`] abandons the migration; nothing is written.
    fn npcs(
        &mut self,
        old: Vec<Old::Npc>,
        players: &[New::Player],
        zones: &[New::World],
    ) -> Result<Vec<New::Npc>, Unmappable>;

    /// Step 4 of 5: item state, with the migrated players, zones and NPCs
    /// in view.
    ///
    /// # Errors
    /// [`Unmappable`] abandons the migration; nothing is written.
    fn items(
        &mut self,
        old: Vec<Old::Item>,
        players: &[New::Player],
        zones: &[New::World],
        npcs: &[New::Npc],
    ) -> Result<Vec<New::Item>, Unmappable>;

    /// Step 5 of 5: quest state, with every other migrated section in view.
    ///
    /// # Errors
    /// [`Unmappable`] abandons the migration; nothing is written.
    fn quests(
        &mut self,
        old: Vec<Old::Quest>,
        players: &[New::Player],
        zones: &[New::World],
        npcs: &[New::Npc],
        items: &[New::Item],
    ) -> Result<Vec<New::Quest>, Unmappable>;
}

/// A record a migration step cannot map, with the step's own reason: the
/// whole migration is abandoned, and nothing is written (`E-MIGRATE-MAP`).
///
/// ```
/// use caelmor_persist::migrate::Unmappable;
/// let refused = Unmappable::new(format_args!("player {}: {} gold does not fit in a u32", 7, 1u64 << 40));
/// assert_eq!(refused.reason(), "player 7: 1099511627776 gold does not fit in a u32");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmappable {
    reason: String,
}

impl Unmappable {
    /// Refuses with `reason`: say which record and why.
    #[must_use]
    pub fn new(reason: impl fmt::Display) -> Self {
        Unmappable {
            reason: reason.to_string(),
        }
    }

    /// The reason given.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Unmappable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Unmappable {}

/// A schema's name and version, as messages quote it: `"game" v2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaLabel {
    /// [`Schema::NAME`].
    pub name: &'static str,
    /// [`Schema::VERSION`].
    pub version: u32,
}

impl SchemaLabel {
    /// The label of `S`.
    #[must_use]
    pub fn of<S: Schema>() -> Self {
        SchemaLabel {
            name: S::NAME,
            version: S::VERSION,
        }
    }
}

impl fmt::Display for SchemaLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} v{}", self.name, self.version)
    }
}

/// Why a migration did not happen. Whatever the cause, nothing was
/// written: the shard is still at the epoch it was at. [`code`] gives the
/// stable code, which every message also starts with.
///
/// [`code`]: MigrateError::code
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The old epoch could not be read as the old schema, or the authority
    /// may not migrate: the store's own error and code — `E-STORE-SCHEMA`
    /// if the latest epoch was not written under the old schema (another
    /// name, version or record shape), `E-STORE-DAMAGED` if it fails
    /// verification, `E-STORE-AUTHORITY` or `E-STORE-FENCED` if the
    /// authority is not this store's current one.
    #[error(transparent)]
    Store(StoreError),
    /// A schema of the migration has a record type whose shape cannot be
    /// traced (`E-SHAPE-UNTRACEABLE`).
    #[error("E-SHAPE-UNTRACEABLE: {0}")]
    Untraceable(Untraceable),
    /// The shard has never committed an epoch: there is nothing to migrate.
    #[error("E-MIGRATE-EMPTY: {location}: the shard has no committed epoch to migrate")]
    Empty {
        /// Where the shard lives.
        location: String,
    },
    /// A mapping function refused (`E-MIGRATE-MAP`).
    #[error("E-MIGRATE-MAP: migrating the {system} section from {from} to {to}: {reason}")]
    Unmappable {
        /// The step that refused.
        system: System,
        /// The hop's old schema.
        from: SchemaLabel,
        /// The hop's new schema.
        to: SchemaLabel,
        /// The step's reason.
        reason: Unmappable,
    },
    /// The migrated records broke a rule of the save step that checked
    /// them: the rejection's own code (`E-DUPLICATE-ID`, `E-DANGLING-REF`,
    /// `E-CONTAINMENT-CYCLE`, `E-ENCODE`, …).
    #[error("{rejection} (migrating from {from} to {to})")]
    Refused {
        /// The hop's old schema.
        from: SchemaLabel,
        /// The hop's new schema, whose save step refused.
        to: SchemaLabel,
        /// The rule the migrated section broke.
        rejection: Rejection,
    },
}

impl MigrateError {
    /// The stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            MigrateError::Store(e) => e.code(),
            MigrateError::Untraceable(_) => "E-SHAPE-UNTRACEABLE",
            MigrateError::Empty { .. } => "E-MIGRATE-EMPTY",
            MigrateError::Unmappable { .. } => "E-MIGRATE-MAP",
            MigrateError::Refused { rejection, .. } => rejection.code().as_str(),
        }
    }

    /// The rule migrated records broke, or the verification rule the old
    /// epoch broke, if that is why.
    #[must_use]
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            MigrateError::Store(e) => e.rejection(),
            MigrateError::Refused { rejection, .. } => Some(rejection),
            _ => None,
        }
    }
}

impl From<StoreError> for MigrateError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Untraceable(u) => MigrateError::Untraceable(u),
            other => MigrateError::Store(other),
        }
    }
}

/// The five sections of one schema, as records.
struct Sections<S: Schema> {
    players: Vec<S::Player>,
    zones: Vec<S::World>,
    npcs: Vec<S::Npc>,
    items: Vec<S::Item>,
    quests: Vec<S::Quest>,
}

impl<S: Schema> Sections<S> {
    fn empty() -> Self {
        Sections {
            players: Vec::new(),
            zones: Vec::new(),
            npcs: Vec::new(),
            items: Vec::new(),
            quests: Vec::new(),
        }
    }
}

/// The latest committed epoch of a shard being migrated from schema `Old`
/// to schema `New`, section by section, at state `St`: the save chain of
/// `New`, fed by mappings of the old sections.
///
/// ```text
/// store.migrate::<Old>(&authority)?        Migrate<Old, New, Start>   the old epoch, verified in full
///   .players(|old| ..)?                    Migrate<Old, New, PlayerDone>
///   .world(|old, players| ..)?             Migrate<Old, New, WorldDone>
///   .npcs(|old, players, zones| ..)?       Migrate<Old, New, NpcDone>
///   .items(|old, players, zones, npcs| ..)?
///   .quests(|old, players, zones, npcs, items| ..)?
///   .seal()                                Sealed<New>   ← the next epoch, for store.commit
/// ```
///
/// or, with a [`Migration`] impl, `.run(hop)?.seal()`, and through
/// intermediate schemas `.via(v1_to_v2)?.run(v2_to_v3)?.seal()`.
///
/// Each step maps its old section and hands the result to the matching
/// step of a [`Save`] of `New`, which checks it exactly as it checks any
/// save (ids unique, references resolving in this bundle, containment
/// acyclic and rooted) and writes it in canonical order. A step that fails
/// consumes the chain: there is no half-migrated value left, and nothing
/// was written. Calling a step out of order, skipping one, or committing
/// before [`seal`](Migrate::seal) does not compile, and the compiler's
/// message names the next step.
///
/// The same old epoch and the same mappings give the same bytes.
#[must_use = "a migration does nothing until it is sealed and committed"]
pub struct Migrate<Old: Schema, New: Schema, St: State> {
    /// What the old epoch held: shard, epoch, schema, shapes, sizes.
    source: Summary,
    /// The old sections not yet mapped; each step takes its own.
    old: Sections<Old>,
    /// The migrated sections so far, in canonical order.
    new: Sections<New>,
    save: Save<New, St>,
}

impl<Old: Schema, New: Schema, St: State> fmt::Debug for Migrate<Old, New, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrate")
            .field("from", &SchemaLabel::of::<Old>())
            .field("to", &SchemaLabel::of::<New>())
            .field("state", &core::any::type_name::<St>())
            .field("source", &self.source.epoch)
            .field("epoch", &self.save.epoch())
            .finish_non_exhaustive()
    }
}

impl<New: Schema, B: Backend> Store<New, B> {
    /// Starts migrating the shard's latest committed epoch, written under
    /// schema `Old`, to this store's schema, as the next epoch.
    ///
    /// The old epoch is read exactly as [`load_latest`](Store::load_latest)
    /// reads it, but as a bundle of `Old`: every rule of the
    /// [format](crate::format), every record decoded and checked, its
    /// shapes those of `Old`'s record types — all before any mapping runs.
    /// Only the shard's current server migrates (Stage 21.2 §9.6), and only
    /// the latest epoch: `authority` must be this store's, and current.
    ///
    /// Nothing is written until the sealed result is committed with
    /// [`commit`](Store::commit), atomically, as any save; if any step
    /// refuses, the shard stays at the old epoch. Nothing migrates on load:
    /// a store whose latest epoch has another schema refuses to load it
    /// (`E-STORE-SCHEMA`) until a migration has been committed.
    ///
    /// # Errors
    /// `E-MIGRATE-EMPTY` if the shard has never committed; the store's
    /// errors for the old epoch (`E-STORE-SCHEMA` if it was not written
    /// under `Old`, `E-STORE-DAMAGED`, `E-STORE-HEAD`, `E-STORE-KEY`);
    /// `E-STORE-AUTHORITY` for another store's authority; `E-STORE-FENCED`
    /// for a superseded one; `E-SHAPE-UNTRACEABLE` if a record type of
    /// `Old` cannot be traced.
    pub fn migrate<Old: Schema>(
        &self,
        authority: &ServerAuthority<New>,
    ) -> Result<Migrate<Old, New, Start>, MigrateError> {
        let Some(opened) = self.latest_for_migration::<Old>(authority)? else {
            return Err(MigrateError::Empty {
                location: self.backend().location(),
            });
        };
        let Opened {
            summary,
            players,
            zones,
            npcs,
            items,
            quests,
        } = opened;
        Ok(Migrate {
            source: summary,
            old: Sections {
                players,
                zones,
                npcs,
                items,
                quests,
            },
            new: Sections::empty(),
            save: Save::begin(authority),
        })
    }
}

impl<Old: Schema, New: Schema, St: State> Migrate<Old, New, St> {
    /// What the old epoch held, as the store verified it: shard, epoch,
    /// schema name, version and shapes, sizes, digest.
    #[must_use]
    pub fn source(&self) -> &Summary {
        &self.source
    }

    /// The epoch the migrated bundle will carry: the one after the source.
    #[must_use]
    pub fn epoch(&self) -> crate::Epoch {
        self.save.epoch()
    }

    fn unmappable(system: System, reason: Unmappable) -> MigrateError {
        MigrateError::Unmappable {
            system,
            from: SchemaLabel::of::<Old>(),
            to: SchemaLabel::of::<New>(),
            reason,
        }
    }

    fn refused(rejection: Rejection) -> MigrateError {
        MigrateError::Refused {
            from: SchemaLabel::of::<Old>(),
            to: SchemaLabel::of::<New>(),
            rejection,
        }
    }

    /// Step 1 of 5: maps the old players and saves them as `New`'s player
    /// section, checked as the save step checks it. Only at `Start`.
    ///
    /// # Errors
    /// `E-MIGRATE-MAP` if `map` refuses; the save step's rejection
    /// (`E-DUPLICATE-ID`, `E-ENCODE`). The migration is gone; nothing was
    /// written.
    pub fn players<F>(self, map: F) -> Result<Migrate<Old, New, PlayerDone>, MigrateError>
    where
        St: gate::MigrateStepPlayers<Old, New>,
        F: FnOnce(Vec<Old::Player>) -> Result<Vec<New::Player>, Unmappable>,
    {
        let Migrate {
            source,
            mut old,
            mut new,
            save,
        } = self;
        let mut players =
            map(mem::take(&mut old.players)).map_err(|e| Self::unmappable(System::Player, e))?;
        // The gate has proven that `St` is `Start`.
        let save = save
            .advance::<Start>()
            .players(&players)
            .map_err(Self::refused)?;
        // What later steps see is what a restore would hand out: canonical
        // order (already so for a mapping that kept the order).
        players.sort_by_key(PlayerRecord::id);
        new.players = players;
        Ok(Migrate {
            source,
            old,
            new,
            save,
        })
    }

    /// Step 2 of 5: maps the old zones, with the migrated players in view.
    /// Only at `PlayerDone`.
    ///
    /// # Errors
    /// `E-MIGRATE-MAP`; `E-DUPLICATE-ID`, `E-ENCODE`. The migration is
    /// gone; nothing was written.
    pub fn world<F>(self, map: F) -> Result<Migrate<Old, New, WorldDone>, MigrateError>
    where
        St: gate::MigrateStepWorld<Old, New>,
        F: FnOnce(Vec<Old::World>, &[New::Player]) -> Result<Vec<New::World>, Unmappable>,
    {
        let Migrate {
            source,
            mut old,
            mut new,
            save,
        } = self;
        let mut zones = map(mem::take(&mut old.zones), &new.players)
            .map_err(|e| Self::unmappable(System::World, e))?;
        let save = save
            .advance::<PlayerDone>()
            .world(&zones)
            .map_err(Self::refused)?;
        zones.sort_by_key(WorldRecord::id);
        new.zones = zones;
        Ok(Migrate {
            source,
            old,
            new,
            save,
        })
    }

    /// Step 3 of 5: maps the old NPCs, with the migrated players and zones
    /// in view. Only at `WorldDone`.
    ///
    /// # Errors
    /// `E-MIGRATE-MAP`; `E-DUPLICATE-ID`, `E-DANGLING-REF` (npc→zone),
    /// `E-ENCODE`. The migration is gone; nothing was written.
    pub fn npcs<F>(self, map: F) -> Result<Migrate<Old, New, NpcDone>, MigrateError>
    where
        St: gate::MigrateStepNpcs<Old, New>,
        F: FnOnce(
            Vec<Old::Npc>,
            &[New::Player],
            &[New::World],
        ) -> Result<Vec<New::Npc>, Unmappable>,
    {
        let Migrate {
            source,
            mut old,
            mut new,
            save,
        } = self;
        let mut npcs = map(mem::take(&mut old.npcs), &new.players, &new.zones)
            .map_err(|e| Self::unmappable(System::Npc, e))?;
        let save = save
            .advance::<WorldDone>()
            .npcs(&npcs)
            .map_err(Self::refused)?;
        npcs.sort_by_key(NpcRecord::id);
        new.npcs = npcs;
        Ok(Migrate {
            source,
            old,
            new,
            save,
        })
    }

    /// Step 4 of 5: maps the old items, with the migrated players, zones
    /// and NPCs in view. Only at `NpcDone`.
    ///
    /// # Errors
    /// `E-MIGRATE-MAP`; `E-DUPLICATE-ID`, `E-DANGLING-REF` (item→zone,
    /// item→player, item→item), `E-CONTAINMENT-CYCLE`, `E-ENCODE`. The
    /// migration is gone; nothing was written.
    pub fn items<F>(self, map: F) -> Result<Migrate<Old, New, ItemDone>, MigrateError>
    where
        St: gate::MigrateStepItems<Old, New>,
        F: FnOnce(
            Vec<Old::Item>,
            &[New::Player],
            &[New::World],
            &[New::Npc],
        ) -> Result<Vec<New::Item>, Unmappable>,
    {
        let Migrate {
            source,
            mut old,
            mut new,
            save,
        } = self;
        let mut items = map(
            mem::take(&mut old.items),
            &new.players,
            &new.zones,
            &new.npcs,
        )
        .map_err(|e| Self::unmappable(System::Item, e))?;
        let save = save
            .advance::<NpcDone>()
            .items(&items)
            .map_err(Self::refused)?;
        items.sort_by_key(ItemRecord::id);
        new.items = items;
        Ok(Migrate {
            source,
            old,
            new,
            save,
        })
    }

    /// Step 5 of 5: maps the old quests, with every other migrated section
    /// in view. Only at `ItemDone`.
    ///
    /// # Errors
    /// `E-MIGRATE-MAP`; `E-DUPLICATE-ID`, `E-DANGLING-REF` (quest→player,
    /// quest→zone), `E-ENCODE`. The migration is gone; nothing was written.
    pub fn quests<F>(self, map: F) -> Result<Migrate<Old, New, QuestDone>, MigrateError>
    where
        St: gate::MigrateStepQuests<Old, New>,
        F: FnOnce(
            Vec<Old::Quest>,
            &[New::Player],
            &[New::World],
            &[New::Npc],
            &[New::Item],
        ) -> Result<Vec<New::Quest>, Unmappable>,
    {
        let Migrate {
            source,
            mut old,
            mut new,
            save,
        } = self;
        let mut quests = map(
            mem::take(&mut old.quests),
            &new.players,
            &new.zones,
            &new.npcs,
            &new.items,
        )
        .map_err(|e| Self::unmappable(System::Quest, e))?;
        let save = save
            .advance::<ItemDone>()
            .quests(&quests)
            .map_err(Self::refused)?;
        quests.sort_by_key(QuestRecord::id);
        new.quests = quests;
        Ok(Migrate {
            source,
            old,
            new,
            save,
        })
    }

    /// All five steps with one [`Migration`] hop from `Old` to `New`.
    /// Only at `Start`.
    ///
    /// # Errors
    /// As the five steps.
    pub fn run<M>(self, mut hop: M) -> Result<Migrate<Old, New, QuestDone>, MigrateError>
    where
        St: gate::MigrateStepPlayers<Old, New>,
        M: Migration<Old, New>,
    {
        self.players(|old| hop.players(old))?
            .world(|old, p| hop.world(old, p))?
            .npcs(|old, p, z| hop.npcs(old, p, z))?
            .items(|old, p, z, n| hop.items(old, p, z, n))?
            .quests(|old, p, z, n, i| hop.quests(old, p, z, n, i))
    }

    /// One hop through an intermediate schema `Mid`: runs `hop` from `Old`
    /// to `Mid`, checked step by step as a save of `Mid` (and sealed, so
    /// that the intermediate epoch is exactly one `Mid` could have
    /// committed), then continues from its records towards `New`. Only at
    /// `Start`.
    ///
    /// The intermediate bundle is not written: the shard goes from the old
    /// epoch to the final one in one commit.
    ///
    /// # Errors
    /// As the five steps, for the hop; `E-SHAPE-UNTRACEABLE` if a record
    /// type of `Mid` cannot be traced.
    pub fn via<Mid, M>(self, hop: M) -> Result<Migrate<Mid, New, Start>, MigrateError>
    where
        St: gate::MigrateStepPlayers<Old, New>,
        Mid: Schema,
        M: Migration<Old, Mid>,
    {
        let shapes = crate::shape::traced::<Mid>().map_err(MigrateError::Untraceable)?;
        let Migrate {
            source, old, save, ..
        } = self;
        let save = save.advance::<Start>();
        let hop_save = Save::<Mid, Start>::begin_at(save.origin(), shapes);
        let hop = Migrate::<Old, Mid, Start> {
            source: source.clone(),
            old,
            new: Sections::empty(),
            save: hop_save,
        }
        .run(hop)?;
        // Sealed as a save of `Mid` would be: every check a commit of the
        // intermediate epoch would have passed, then thrown away.
        let Migrate { new, save: mid, .. } = hop;
        drop(mid.seal());
        Ok(Migrate {
            source,
            old: new,
            new: Sections::empty(),
            save,
        })
    }
}

impl<Old: Schema, New: Schema, St: State> Migrate<Old, New, St> {
    /// Closes the migrated bundle: the next epoch of the shard, under
    /// `New`, the only value a [`Store`] commits. Only at `QuestDone`.
    #[must_use]
    pub fn seal(self) -> Sealed<New>
    where
        St: gate::MigrateStepSeal<Old, New>,
    {
        self.save.advance::<QuestDone>().seal()
    }
}
