//! The integrator's record types, one per system, and the little the crate
//! needs to know about them: each record's id and the ids it refers to
//! (DESIGN "Vocabulary").
//!
//! The reference types encode the legal edges of Stage 21.2 §7. A record can
//! only return the id types its trait asks for, so an illegal edge is a type
//! error rather than a runtime check:
//!
//! | system | may refer to | through |
//! | --- | --- | --- |
//! | Player | nothing | [`PlayerRecord`] has no reference method |
//! | World | nothing | [`WorldRecord`] has no reference method |
//! | NPC | its zone | [`NpcRecord::zone`] |
//! | Item | a zone, a player, or a containing item; an owning player | [`ItemLocation`], [`ItemRecord::owner`] |
//! | Quest | its owning player; the zones of its world context | [`QuestRecord::owner`], [`QuestRecord::zone_context`] |
//!
//! Everything else in a record is opaque data to this crate: it is stored
//! and handed back exactly, never interpreted, defaulted or repaired
//! (Stage 21.2 §6: restore must not infer).

use core::fmt;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::ids::{ItemId, NpcId, PlayerId, QuestId, ZoneId};

/// The integrator's choice of record types: exactly one per system of
/// Stage 21.2 §4, plus a schema name and version stamped into every bundle.
///
/// There is no way to add a sixth system: the save and restore chains have
/// exactly five steps, one per associated type.
///
/// A bundle written under one `(NAME, VERSION)` is rejected when opened under
/// another (`E-SCHEMA`), and so is one whose record types had another serde
/// shape (`E-SHAPE`: every bundle carries the [shapes](crate::shape) of the
/// five types that wrote it). Bringing old epochs to a new schema is an
/// explicit [migration](crate::migrate), never something the loader does
/// quietly.
///
/// ```
/// use caelmor_persist::{ItemId, ItemLocation, NpcId, PlayerId, QuestId, ZoneId};
/// use caelmor_persist::{ItemRecord, NpcRecord, PlayerRecord, QuestRecord, Schema, WorldRecord};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Player { id: PlayerId, name: String }
/// impl PlayerRecord for Player { fn id(&self) -> PlayerId { self.id } }
///
/// #[derive(Serialize, Deserialize)]
/// struct Zone { id: ZoneId }
/// impl WorldRecord for Zone { fn id(&self) -> ZoneId { self.id } }
///
/// #[derive(Serialize, Deserialize)]
/// struct Npc { id: NpcId, zone: ZoneId }
/// impl NpcRecord for Npc {
///     fn id(&self) -> NpcId { self.id }
///     fn zone(&self) -> ZoneId { self.zone }
/// }
///
/// #[derive(Serialize, Deserialize)]
/// struct Item { id: ItemId, bag: PlayerId }
/// impl ItemRecord for Item {
///     fn id(&self) -> ItemId { self.id }
///     fn location(&self) -> ItemLocation { ItemLocation::of(self.bag) }
///     fn owner(&self) -> Option<PlayerId> { Some(self.bag) }
/// }
///
/// #[derive(Serialize, Deserialize)]
/// struct Quest { id: QuestId, owner: PlayerId, zones: Vec<ZoneId> }
/// impl QuestRecord for Quest {
///     fn id(&self) -> QuestId { self.id }
///     fn owner(&self) -> PlayerId { self.owner }
///     fn zone_context(&self) -> &[ZoneId] { &self.zones }
/// }
///
/// struct MyGame;
/// impl Schema for MyGame {
///     const NAME: &'static str = "my-game";
///     const VERSION: u32 = 1;
///     type Player = Player;
///     type World = Zone;
///     type Npc = Npc;
///     type Item = Item;
///     type Quest = Quest;
/// }
/// ```
pub trait Schema: 'static {
    /// A name for the schema, checked on restore. At most
    /// [`MAX_SCHEMA_NAME`] (255) bytes: a longer name does not compile
    /// once the schema is used by [`Save::begin`](crate::Save::begin) or
    /// [`Restore::open`](crate::Restore::open) (error E0080, "Schema::NAME
    /// is longer than 255 bytes").
    const NAME: &'static str;
    /// The schema's version, checked on restore. Bump it with every change
    /// of a record type, including the changes a shape fingerprint cannot
    /// see (a field's meaning, a hand-written `Serialize`): see
    /// [Changing a record type](crate::migrate#changing-a-record-type).
    const VERSION: u32;
    /// Player Identity and PlayerSave.
    type Player: PlayerRecord;
    /// One zone of the world's structural composition.
    type World: WorldRecord;
    /// One NPC's persisted state.
    type Npc: NpcRecord;
    /// One item instance's persisted state.
    type Item: ItemRecord;
    /// One player-owned quest state.
    type Quest: QuestRecord;
}

/// The longest [`Schema::NAME`], in bytes.
pub const MAX_SCHEMA_NAME: usize = 255;

/// Proof that a schema's name fits, evaluated at compile time for every
/// schema that saves or restores: the constant is used in
/// [`Save::begin`](crate::Save::begin) and in the readers a restore and a
/// store's load go through, so instantiating them for a schema whose name
/// is too long fails to build. (It fails `cargo build`, not `cargo check`:
/// constants of generic code are evaluated when it is instantiated, which
/// a check never does.)
pub(crate) struct NameFits<S>(core::marker::PhantomData<fn() -> S>);

impl<S: Schema> NameFits<S> {
    pub(crate) const PROOF: () = assert!(
        S::NAME.len() <= MAX_SCHEMA_NAME,
        "Schema::NAME is longer than 255 bytes (MAX_SCHEMA_NAME): choose a shorter schema name"
    );
}

/// A persisted record: serializable, decodable without borrowing the
/// bundle, and plain data that may cross threads.
///
/// Implemented for every `T: Serialize + DeserializeOwned + Send + Sync +
/// 'static`; it only names the bound the record traits share. `'static`
/// (records own their data) lets a store that verified a bundle by reading
/// its records hand them to the restore. `Send + Sync` lets sealing
/// encode one section's records on a second core while this one checks
/// them, and opening decode one section on a second core while this one
/// decodes the others; the records of a save are borrowed for the length of
/// one step and never kept. Records are the state a server persists (ids,
/// numbers, strings, vectors), which is `Send + Sync` by construction; a
/// record holding an `Rc` or a `Cell` is refused at compile time.
pub trait Record: Serialize + DeserializeOwned + Send + Sync + 'static {}
impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Record for T {}

/// Player Identity and PlayerSave. Refers to nothing: Stage 21.2 §7 forbids
/// Player → World, so a last-known position is plain data that the server
/// interprets after activation, never a reference restore must resolve.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a player record",
    label = "not a PlayerRecord",
    note = "the `Player` slot of a `Schema` takes a type implementing `PlayerRecord` (Player Identity and PlayerSave, Stage 21.2 §4): its id is a `PlayerId`"
)]
pub trait PlayerRecord: Record {
    /// The player's id, unique within the bundle.
    fn id(&self) -> PlayerId;
}

/// One zone of the world's structural composition. Refers to nothing:
/// Stage 21.2 §7 forbids World → NPC, Item or Quest.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a world record",
    label = "not a WorldRecord",
    note = "the `World` slot of a `Schema` takes a type implementing `WorldRecord` (one zone of the world, Stage 21.2 §4): its id is a `ZoneId`"
)]
pub trait WorldRecord: Record {
    /// The zone's id, unique within the bundle.
    fn id(&self) -> ZoneId;
}

/// One NPC's persisted state. Refers to the zone it belongs to
/// (Stage 21.2 §7: NPC → World).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an NPC record",
    label = "not a NpcRecord",
    note = "the `Npc` slot of a `Schema` takes a type implementing `NpcRecord` (Stage 21.2 §4): its id is an `NpcId` and it names its `ZoneId`"
)]
pub trait NpcRecord: Record {
    /// The NPC's id, unique within the bundle.
    fn id(&self) -> NpcId;
    /// The zone the NPC belongs to; it must be a zone of the same bundle.
    fn zone(&self) -> ZoneId;
}

/// One item instance. Refers to where it is (a zone, a player, or a
/// containing item) and optionally to an owning player
/// (Stage 21.2 §7: Item → World, Player). Never to an NPC.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an item record",
    label = "not a ItemRecord",
    note = "the `Item` slot of a `Schema` takes a type implementing `ItemRecord` (Stage 21.2 §4): its id is an `ItemId`, with an `ItemLocation` and an optional owner"
)]
pub trait ItemRecord: Record {
    /// The item's id, unique within the bundle.
    fn id(&self) -> ItemId;
    /// Where the item is. Containment must be acyclic and every chain of
    /// containers must end in a zone or a player.
    fn location(&self) -> ItemLocation;
    /// The owning player, where ownership applies.
    fn owner(&self) -> Option<PlayerId>;
}

/// One player-owned quest state. Refers to its owner and to the zones that
/// form its world context (Stage 21.2 §7: Quest → PlayerSave, world context).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a quest record",
    label = "not a QuestRecord",
    note = "the `Quest` slot of a `Schema` takes a type implementing `QuestRecord` (Stage 21.2 §4): its id is a `QuestId`, with its owner and the zones of its world context"
)]
pub trait QuestRecord: Record {
    /// The quest state's id, unique within the bundle.
    fn id(&self) -> QuestId;
    /// The player who owns this quest state.
    fn owner(&self) -> PlayerId;
    /// The zones this quest state refers to, in the record's own order.
    fn zone_context(&self) -> &[ZoneId];
}

/// Where an item is: the only three places Stage 21.2 §7 allows.
///
/// There is deliberately no NPC variant, and [`ItemLocation::of`] accepts
/// only the id types of legal holders: an NPC's loot is an item located in
/// the NPC's zone, or not persisted at all.
///
/// ```
/// use caelmor_persist::{ItemId, ItemLocation, PlayerId, ZoneId};
/// assert_eq!(ItemLocation::of(ZoneId(1)), ItemLocation::Zone(ZoneId(1)));
/// assert_eq!(ItemLocation::of(PlayerId(2)), ItemLocation::Player(PlayerId(2)));
/// assert_eq!(ItemLocation::of(ItemId(3)), ItemLocation::Container(ItemId(3)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ItemLocation {
    /// Lying in a zone of the world.
    Zone(ZoneId),
    /// Held by a player: inventory, bank or equipment.
    Player(PlayerId),
    /// Inside another item (a bag, a chest).
    Container(ItemId),
}

impl ItemLocation {
    /// The location "held by `holder`", for any legal holder id.
    #[must_use]
    pub fn of<H: ItemHolder>(holder: H) -> ItemLocation {
        holder.into_location()
    }
}

impl fmt::Display for ItemLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemLocation::Zone(z) => write!(f, "in {z}"),
            ItemLocation::Player(p) => write!(f, "held by {p}"),
            ItemLocation::Container(i) => write!(f, "inside {i}"),
        }
    }
}

mod sealed {
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot hold items: the legal holders are `ZoneId`, `PlayerId` and `ItemId` (Stage 21.2 §7), and the set is closed",
        label = "not a legal item holder"
    )]
    pub trait Sealed {}
    impl Sealed for super::ZoneId {}
    impl Sealed for super::PlayerId {}
    impl Sealed for super::ItemId {}
}

/// An id that may hold an item: a zone, a player or a containing item
/// (Stage 21.2 §7). Sealed: no other type can become a holder.
#[diagnostic::on_unimplemented(
    message = "an item cannot be located in `{Self}`",
    label = "not a legal item holder",
    note = "Stage 21.2 §7 lets an item depend on the world (a zone) and on a player; an item may also sit inside another item",
    note = "legal holders are `ZoneId`, `PlayerId` and `ItemId`; an NPC's loot is an item in the NPC's zone"
)]
pub trait ItemHolder: sealed::Sealed + Copy {
    /// The location "held by this id".
    fn into_location(self) -> ItemLocation;
}

impl ItemHolder for ZoneId {
    fn into_location(self) -> ItemLocation {
        ItemLocation::Zone(self)
    }
}
impl ItemHolder for PlayerId {
    fn into_location(self) -> ItemLocation {
        ItemLocation::Player(self)
    }
}
impl ItemHolder for ItemId {
    fn into_location(self) -> ItemLocation {
        ItemLocation::Container(self)
    }
}

// NpcId must never become a holder; keep the import honest.
static_assertions::assert_not_impl_any!(NpcId: ItemHolder);
