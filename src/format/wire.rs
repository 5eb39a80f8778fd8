//! The serde types that appear on the wire, in the order they appear.

use serde::{Deserialize, Serialize};

use crate::ids::{Epoch, Fence, ItemId, NpcId, PlayerId, QuestId, ShardId, ZoneId};
use crate::schema::ItemLocation;

/// The bundle header: which shard, which point in time, under which fence
/// and schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub shard: ShardId,
    pub epoch: Epoch,
    pub fence: Fence,
    pub schema_name: String,
    pub schema_version: u32,
}

/// What every section starts with: its system's tag and the bundle's shard
/// and epoch, so that a section spliced in from another bundle is caught
/// even when the digest was recomputed (Stage 21.0: mixed-epoch state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SectionStamp {
    pub system: u8,
    pub shard: ShardId,
    pub epoch: Epoch,
}

/// The structural index entry of one NPC: its id and the zone it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpcEntry {
    /// The NPC's id.
    pub id: NpcId,
    /// The zone it belongs to (edge npc→zone).
    pub zone: ZoneId,
}

/// The structural index entry of one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemEntry {
    /// The item's id.
    pub id: ItemId,
    /// Where it is (edges item→zone, item→player, item→item).
    pub location: ItemLocation,
    /// Its owner, if any (edge item→player).
    pub owner: Option<PlayerId>,
}

/// The structural index entry of one quest state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestEntry {
    /// The quest state's id.
    pub id: QuestId,
    /// Its owner (edge quest→player).
    pub owner: PlayerId,
    /// Its world context (edges quest→zone), in the record's order.
    pub zones: Vec<ZoneId>,
}

/// [`QuestEntry`] borrowing its zones from the record it indexes: the same
/// fields in the same order, so it encodes to exactly the same bytes, without
/// a vector per quest.
#[derive(Serialize)]
pub(crate) struct QuestEntryRef<'a> {
    pub id: QuestId,
    pub owner: PlayerId,
    pub zones: &'a [ZoneId],
}

/// Every id and reference of a bundle, section by section: what
/// schema-agnostic verification checks, without the record types.
///
/// Each list is in canonical order (sorted by id, no duplicates).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructuralIndex {
    /// Player ids.
    pub players: Vec<PlayerId>,
    /// Zone ids of the world.
    pub zones: Vec<ZoneId>,
    /// NPC entries.
    pub npcs: Vec<NpcEntry>,
    /// Item entries.
    pub items: Vec<ItemEntry>,
    /// Quest entries.
    pub quests: Vec<QuestEntry>,
}

impl StructuralIndex {
    /// How many records each section holds, in [`System::ORDER`](crate::System::ORDER).
    #[must_use]
    pub fn counts(&self) -> [u64; 5] {
        [
            self.players.len() as u64,
            self.zones.len() as u64,
            self.npcs.len() as u64,
            self.items.len() as u64,
            self.quests.len() as u64,
        ]
    }
}
