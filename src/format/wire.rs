//! The serde types that appear on the wire, in the order they appear.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::ids::{Epoch, Fence, ItemId, NpcId, PlayerId, QuestId, ShardId, ZoneId};
use crate::schema::ItemLocation;
use crate::shape::{Fingerprint, Shape, ShapeDecodeError};

/// The bundle header: which shard, which point in time, under which fence
/// and schema, and the shapes of the schema's five record types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub shard: ShardId,
    pub epoch: Epoch,
    pub fence: Fence,
    pub schema_name: String,
    pub schema_version: u32,
    /// In [`System::ORDER`](crate::System::ORDER). An array is a serde
    /// tuple: postcard writes the five byte strings back to back, with no
    /// count.
    pub shapes: [HeaderShape; 5],
}

impl Header {
    /// The header of a bundle of shard `shard` at `epoch` under `fence`,
    /// of the schema named `schema_name` v`schema_version` whose record
    /// types have these shapes.
    pub(crate) fn new(
        shard: ShardId,
        epoch: Epoch,
        fence: Fence,
        (schema_name, schema_version): (&str, u32),
        shapes: [&Shape; 5],
    ) -> Self {
        Header {
            shard,
            epoch,
            fence,
            schema_name: schema_name.to_owned(),
            schema_version,
            shapes: shapes.map(HeaderShape::of),
        }
    }
}

/// One record type's shape as a header carries it: a byte string holding
/// its canonical encoding, and what those bytes decode to.
///
/// Decoding never fails on the bytes' content, only on the byte string's
/// framing: a shape that does not decode is kept as its error, so that
/// rule 5 of the [format](super) can name the system (postcard reduces a
/// deserializer's own message to "custom error"). It is encoded as the
/// bytes it was read from, so the header's canonical check compares them
/// as they are; the shape decoder accepts only canonical encodings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeaderShape {
    pub bytes: Vec<u8>,
    pub decoded: Result<Shape, ShapeDecodeError>,
}

impl HeaderShape {
    pub(crate) fn of(shape: &Shape) -> Self {
        HeaderShape {
            bytes: shape.to_bytes(),
            decoded: Ok(shape.clone()),
        }
    }

    fn read(bytes: Vec<u8>) -> Self {
        let decoded = Shape::from_bytes(&bytes);
        HeaderShape { bytes, decoded }
    }

    /// The fingerprint, once rule 5 has accepted the shape. A summary is
    /// only ever made of an accepted header; the zero fingerprint of a
    /// shape that did not decode is never shown.
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        self.decoded
            .as_ref()
            .map_or(Fingerprint([0; 32]), Shape::fingerprint)
    }
}

impl Serialize for HeaderShape {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.bytes)
    }
}

impl<'de> Deserialize<'de> for HeaderShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl de::Visitor<'_> for Bytes {
            type Value = HeaderShape;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a record shape's bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<HeaderShape, E> {
                Ok(HeaderShape::read(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<HeaderShape, E> {
                Ok(HeaderShape::read(v))
            }
        }
        d.deserialize_bytes(Bytes)
    }
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
