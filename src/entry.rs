//! A record's structural index entry: its id and the ids it refers to, as
//! the [format](crate::format)'s structural index records them.
//!
//! One function per system, each reading the record's reference methods
//! once. The save chain takes every record's entry exactly once, as the
//! snapshot it sorts, checks and indexes by; the seal's proof and the typed
//! reader take the entry of each decoded record with the same functions and
//! compare it with the index. Both sides build entries here, so that neither
//! the format nor the save chain depends on the other for them.

use crate::format::wire::{ItemEntry, NpcEntry, QuestEntryRef};
use crate::ids::{PlayerId, ZoneId};
use crate::schema::{ItemRecord, NpcRecord, PlayerRecord, QuestRecord, WorldRecord};

/// A player's index entry: its id.
pub(crate) fn player<R: PlayerRecord>(r: &R) -> PlayerId {
    r.id()
}

/// A zone's index entry: its id.
pub(crate) fn zone<R: WorldRecord>(r: &R) -> ZoneId {
    r.id()
}

/// An NPC's index entry: its id and its zone.
pub(crate) fn npc<R: NpcRecord>(r: &R) -> NpcEntry {
    NpcEntry {
        id: r.id(),
        zone: r.zone(),
    }
}

/// An item's index entry: its id, location and owner.
pub(crate) fn item<R: ItemRecord>(r: &R) -> ItemEntry {
    ItemEntry {
        id: r.id(),
        location: r.location(),
        owner: r.owner(),
    }
}

/// A quest's index entry, borrowing its zone list from the record: the
/// slice is read once, and what it holds cannot change while it is borrowed.
pub(crate) fn quest<R: QuestRecord>(r: &R) -> QuestEntryRef<'_> {
    QuestEntryRef {
        id: r.id(),
        owner: r.owner(),
        zones: r.zone_context(),
    }
}
