//! Why a bundle or a save step was refused: one variant per cause, each with
//! a stable code.
//!
//! Codes are part of the public contract: scripts, logs and alerts may match
//! on them, so a code is never renamed or reused for another cause. The
//! checks run in one fixed order (documented in [`crate::format`]), so the
//! same bytes always give the same first rejection (Stage 21.2 §9.4).

use core::fmt;

use crate::ids::{Epoch, ItemId, ShardId};
use crate::shape::{ShapeMismatch, Untraceable};
use crate::system::System;

/// A stable, machine-readable rejection code.
///
/// ```
/// use caelmor_persist::RejectionCode;
/// assert_eq!(RejectionCode::Digest.as_str(), "E-DIGEST");
/// assert_eq!(RejectionCode::ALL.len(), 25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RejectionCode {
    /// `E-MAGIC`: the bytes do not start with the bundle magic.
    Magic,
    /// `E-VERSION`: a format version this build does not read.
    Version,
    /// `E-TRUNCATED`: fewer bytes than the frame declares.
    Truncated,
    /// `E-TRAILING`: bytes left over after a complete frame, section or record list.
    Trailing,
    /// `E-FRAME`: the frame is self-inconsistent (declared length, tags).
    Frame,
    /// `E-DIGEST`: the digest does not match (damage, an edit, or the wrong key).
    Digest,
    /// `E-SCHEMA`: written under another schema name or version.
    Schema,
    /// `E-SHAPE`: written with another shape of a record type than the
    /// reader's, under the same schema name and version: a record type
    /// changed without a migration.
    Shape,
    /// `E-SHAPE-UNTRACEABLE`: the reader's (or writer's) schema has a
    /// record type whose serde shape cannot be traced, so no bundle of it
    /// can be checked or written.
    ShapeUntraceable,
    /// `E-SHARD`: the bundle belongs to another shard than the one expected.
    Shard,
    /// `E-SHARD-MIXED`: a section is stamped with another shard than the header.
    ShardMixed,
    /// `E-EPOCH`: the bundle's epoch is not the one the store says it loaded.
    Epoch,
    /// `E-EPOCH-MIXED`: a section is stamped with another epoch than the header.
    EpochMixed,
    /// `E-SECTION-MISSING`: one of the five sections is absent.
    SectionMissing,
    /// `E-SECTION-DUPLICATE`: a section appears more than once.
    SectionDuplicate,
    /// `E-SECTION-ORDER`: the sections are not in the order of Stage 21.2 §5.
    SectionOrder,
    /// `E-NONCANONICAL`: decodable, but not the one canonical encoding.
    NonCanonical,
    /// `E-RECORD-ORDER`: records are not sorted by id.
    RecordOrder,
    /// `E-DUPLICATE-ID`: two records of one system share an id.
    DuplicateId,
    /// `E-DANGLING-REF`: a reference names a record the bundle does not hold.
    DanglingRef,
    /// `E-CONTAINMENT-CYCLE`: items contain each other in a cycle.
    ContainmentCycle,
    /// `E-INDEX-MISMATCH`: a decoded record disagrees with the structural index.
    IndexMismatch,
    /// `E-DECODE`: bytes that cannot be decoded as what they must be,
    /// including a value nested deeper than
    /// [`MAX_DEPTH`](crate::format::MAX_DEPTH).
    Decode,
    /// `E-ENCODE`: a record's `Serialize` implementation failed during a save.
    Encode,
    /// `E-RECORD-ROUNDTRIP`: during a save, a record did not survive its own
    /// encoding: decoded the way a restore decodes it, it did not decode,
    /// re-encoded to other bytes, or gave other ids or references than the
    /// step read from it. The step is refused, so that nothing is sealed
    /// that no restore could open.
    RecordRoundtrip,
}

impl RejectionCode {
    /// Every code, once each.
    pub const ALL: [RejectionCode; 25] = [
        RejectionCode::Magic,
        RejectionCode::Version,
        RejectionCode::Truncated,
        RejectionCode::Trailing,
        RejectionCode::Frame,
        RejectionCode::Digest,
        RejectionCode::Schema,
        RejectionCode::Shape,
        RejectionCode::ShapeUntraceable,
        RejectionCode::Shard,
        RejectionCode::ShardMixed,
        RejectionCode::Epoch,
        RejectionCode::EpochMixed,
        RejectionCode::SectionMissing,
        RejectionCode::SectionDuplicate,
        RejectionCode::SectionOrder,
        RejectionCode::NonCanonical,
        RejectionCode::RecordOrder,
        RejectionCode::DuplicateId,
        RejectionCode::DanglingRef,
        RejectionCode::ContainmentCycle,
        RejectionCode::IndexMismatch,
        RejectionCode::Decode,
        RejectionCode::Encode,
        RejectionCode::RecordRoundtrip,
    ];

    /// The stable code string, e.g. `"E-DIGEST"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Magic => "E-MAGIC",
            RejectionCode::Version => "E-VERSION",
            RejectionCode::Truncated => "E-TRUNCATED",
            RejectionCode::Trailing => "E-TRAILING",
            RejectionCode::Frame => "E-FRAME",
            RejectionCode::Digest => "E-DIGEST",
            RejectionCode::Schema => "E-SCHEMA",
            RejectionCode::Shape => "E-SHAPE",
            RejectionCode::ShapeUntraceable => "E-SHAPE-UNTRACEABLE",
            RejectionCode::Shard => "E-SHARD",
            RejectionCode::ShardMixed => "E-SHARD-MIXED",
            RejectionCode::Epoch => "E-EPOCH",
            RejectionCode::EpochMixed => "E-EPOCH-MIXED",
            RejectionCode::SectionMissing => "E-SECTION-MISSING",
            RejectionCode::SectionDuplicate => "E-SECTION-DUPLICATE",
            RejectionCode::SectionOrder => "E-SECTION-ORDER",
            RejectionCode::NonCanonical => "E-NONCANONICAL",
            RejectionCode::RecordOrder => "E-RECORD-ORDER",
            RejectionCode::DuplicateId => "E-DUPLICATE-ID",
            RejectionCode::DanglingRef => "E-DANGLING-REF",
            RejectionCode::ContainmentCycle => "E-CONTAINMENT-CYCLE",
            RejectionCode::IndexMismatch => "E-INDEX-MISMATCH",
            RejectionCode::Decode => "E-DECODE",
            RejectionCode::Encode => "E-ENCODE",
            RejectionCode::RecordRoundtrip => "E-RECORD-ROUNDTRIP",
        }
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference edge of Stage 21.2 §7, named in dangling-reference rejections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edge {
    /// An NPC's zone.
    NpcZone,
    /// An item lying in a zone.
    ItemZone,
    /// An item held by a player.
    ItemPlayer,
    /// An item's owning player.
    ItemOwner,
    /// An item inside a container item.
    ItemItem,
    /// A quest's owning player.
    QuestPlayer,
    /// A zone of a quest's world context.
    QuestZone,
}

impl Edge {
    /// The system the reference points to.
    #[must_use]
    pub const fn target(self) -> System {
        match self {
            Edge::NpcZone | Edge::ItemZone | Edge::QuestZone => System::World,
            Edge::ItemPlayer | Edge::ItemOwner | Edge::QuestPlayer => System::Player,
            Edge::ItemItem => System::Item,
        }
    }

    /// The system the reference starts from.
    #[must_use]
    pub const fn source(self) -> System {
        match self {
            Edge::NpcZone => System::Npc,
            Edge::ItemZone | Edge::ItemPlayer | Edge::ItemOwner | Edge::ItemItem => System::Item,
            Edge::QuestPlayer | Edge::QuestZone => System::Quest,
        }
    }

    /// A short name such as `"npc→zone"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Edge::NpcZone => "npc→zone",
            Edge::ItemZone => "item→zone",
            Edge::ItemPlayer => "item→player",
            Edge::ItemOwner => "item→player (owner)",
            Edge::ItemItem => "item→item",
            Edge::QuestPlayer => "quest→player",
            Edge::QuestZone => "quest→zone",
        }
    }
}

impl fmt::Display for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which part of a bundle a rejection is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The frame: preamble, body and digest as a whole.
    Frame,
    /// The header (shard, epoch, fence, schema).
    Header,
    /// The section table.
    SectionTable,
    /// A section's stamp and structural index.
    Section(System),
    /// The record payload of a section.
    Payload(System),
    /// The record at this position (0-based) of a section's payload.
    Record(System, u64),
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Frame => f.write_str("frame"),
            Part::Header => f.write_str("header"),
            Part::SectionTable => f.write_str("section table"),
            Part::Section(s) => write!(f, "{s} section index"),
            Part::Payload(s) => write!(f, "{s} section payload"),
            Part::Record(s, n) => write!(f, "{s} record at position {n}"),
        }
    }
}

/// Why a bundle was refused, or why a save step failed.
///
/// `Display` says which rule failed and where; [`Rejection::code`] gives the
/// stable code.
///
/// ```
/// use caelmor_persist::{Rejection, RejectionCode};
/// let r = Rejection::DigestMismatch;
/// assert_eq!(r.code(), RejectionCode::Digest);
/// assert!(r.to_string().starts_with("E-DIGEST"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// See [`RejectionCode::Magic`].
    #[error("E-MAGIC: not a caelmor-persist bundle (the first 8 bytes are not the magic)")]
    BadMagic,
    /// See [`RejectionCode::Version`].
    #[error(
        "E-VERSION: format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion {
        /// The version the bundle declares.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// See [`RejectionCode::Truncated`].
    #[error(
        "E-TRUNCATED: {part}: the bundle needs {needed} bytes but only {available} are present"
    )]
    Truncated {
        /// What was being read.
        part: &'static str,
        /// Bytes required.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// See [`RejectionCode::Trailing`].
    #[error("E-TRAILING: {extra} unexpected bytes after the end of the {part}")]
    TrailingBytes {
        /// Where the extra bytes were found.
        part: Part,
        /// How many.
        extra: u64,
    },
    /// See [`RejectionCode::Frame`].
    #[error("E-FRAME: {detail}")]
    Frame {
        /// Which framing rule failed.
        detail: &'static str,
    },
    /// See [`RejectionCode::Digest`].
    #[error(
        "E-DIGEST: the digest does not match the content (damaged, edited outside the server, or a different key)"
    )]
    DigestMismatch,
    /// See [`RejectionCode::Schema`].
    #[error(
        "E-SCHEMA: written with schema {found_name:?} v{found_version}, expected {expected_name:?} v{expected_version}"
    )]
    SchemaMismatch {
        /// The schema the reader uses.
        expected_name: String,
        /// Its version.
        expected_version: u32,
        /// The schema the bundle declares.
        found_name: String,
        /// Its version.
        found_version: u32,
    },
    /// See [`RejectionCode::Shape`].
    #[error("E-SHAPE: {0}")]
    ShapeMismatch(ShapeMismatch),
    /// See [`RejectionCode::ShapeUntraceable`].
    #[error("E-SHAPE-UNTRACEABLE: {0}")]
    Untraceable(Untraceable),
    /// See [`RejectionCode::Shard`].
    #[error("E-SHARD: the bundle belongs to {found}, expected {expected}")]
    ShardMismatch {
        /// The shard the reader expected.
        expected: ShardId,
        /// The shard in the header.
        found: ShardId,
    },
    /// See [`RejectionCode::ShardMixed`].
    #[error("E-SHARD-MIXED: the {system} section is stamped {found}, the bundle is {bundle}")]
    ShardMixed {
        /// The offending section.
        system: System,
        /// Its stamp.
        found: ShardId,
        /// The header's shard.
        bundle: ShardId,
    },
    /// See [`RejectionCode::Epoch`].
    #[error("E-EPOCH: the bundle holds {found}, but {expected} was loaded")]
    EpochMismatch {
        /// The epoch the store says it loaded.
        expected: Epoch,
        /// The epoch in the header.
        found: Epoch,
    },
    /// See [`RejectionCode::EpochMixed`].
    #[error(
        "E-EPOCH-MIXED: the {system} section is from {found}, the bundle is {bundle} (Stage 21.0: mixed-epoch state)"
    )]
    EpochMixed {
        /// The offending section.
        system: System,
        /// Its stamp.
        found: Epoch,
        /// The header's epoch.
        bundle: Epoch,
    },
    /// See [`RejectionCode::SectionMissing`].
    #[error(
        "E-SECTION-MISSING: the {system} section is missing (Stage 21.2 §8: no partial restore)"
    )]
    SectionMissing {
        /// The absent system.
        system: System,
    },
    /// See [`RejectionCode::SectionDuplicate`].
    #[error("E-SECTION-DUPLICATE: the {system} section appears more than once")]
    SectionDuplicated {
        /// The repeated system.
        system: System,
    },
    /// See [`RejectionCode::SectionOrder`].
    #[error(
        "E-SECTION-ORDER: section {position} is {found}, but Stage 21.2 §5 puts {expected} there"
    )]
    SectionOrder {
        /// 0-based position in the section table.
        position: usize,
        /// The system the order requires there.
        expected: System,
        /// The system found there.
        found: System,
    },
    /// See [`RejectionCode::NonCanonical`].
    #[error("E-NONCANONICAL: the {part} decodes but is not in its one canonical encoding")]
    NonCanonical {
        /// The part whose bytes differ from their re-encoding.
        part: Part,
    },
    /// See [`RejectionCode::RecordOrder`].
    #[error(
        "E-RECORD-ORDER: {system} record id {id} is out of order (records must be sorted by id)"
    )]
    RecordOrder {
        /// The section.
        system: System,
        /// The first id found smaller than its predecessor.
        id: u64,
    },
    /// See [`RejectionCode::DuplicateId`].
    #[error("E-DUPLICATE-ID: {system} id {id} appears more than once")]
    DuplicateId {
        /// The section.
        system: System,
        /// The repeated id.
        id: u64,
    },
    /// See [`RejectionCode::DanglingRef`].
    #[error("E-DANGLING-REF: {edge}: {} id {from} names {} id {to}, which this bundle does not hold", edge.source(), edge.target())]
    DanglingRef {
        /// The edge the reference travels.
        edge: Edge,
        /// The id of the referring record.
        from: u64,
        /// The id it names.
        to: u64,
    },
    /// See [`RejectionCode::ContainmentCycle`].
    #[error(
        "E-CONTAINMENT-CYCLE: {item} is (transitively) inside itself (Stage 21.2 §7: cycles are forbidden)"
    )]
    ContainmentCycle {
        /// The smallest item id on the cycle.
        item: ItemId,
    },
    /// See [`RejectionCode::IndexMismatch`].
    #[error(
        "E-INDEX-MISMATCH: {system} record at position {position} does not match the structural index ({detail})"
    )]
    IndexMismatch {
        /// The section.
        system: System,
        /// The record's position in the section.
        position: u64,
        /// What differs.
        detail: &'static str,
    },
    /// See [`RejectionCode::Decode`].
    #[error("E-DECODE: the {part} cannot be decoded: {detail}")]
    Undecodable {
        /// What was being decoded.
        part: Part,
        /// The decoder's reason.
        detail: String,
    },
    /// See [`RejectionCode::Encode`].
    #[error("E-ENCODE: {system} record id {id} failed to serialize: {detail}")]
    Unencodable {
        /// The section.
        system: System,
        /// The record's id.
        id: u64,
        /// The serializer's reason.
        detail: String,
    },
    /// See [`RejectionCode::RecordRoundtrip`].
    #[error(
        "E-RECORD-ROUNDTRIP: {system} record id {id} does not survive its own encoding: it {detail} (no restore could open a bundle holding it, so the save step refuses it)"
    )]
    RecordRoundtrip {
        /// The section.
        system: System,
        /// The record's id, as the step read it.
        id: u64,
        /// What differed: `"decodes to other ids/references"` (its id or
        /// references, read from the decoded record, are not the ones read
        /// from the record), `"does not decode"`, or `"re-encodes
        /// differently"` (the decoded record encodes to other bytes, as a
        /// map that iterates in another order does).
        detail: &'static str,
    },
}

impl Rejection {
    /// The stable code of this rejection.
    #[must_use]
    pub const fn code(&self) -> RejectionCode {
        match self {
            Rejection::BadMagic => RejectionCode::Magic,
            Rejection::UnsupportedVersion { .. } => RejectionCode::Version,
            Rejection::Truncated { .. } => RejectionCode::Truncated,
            Rejection::TrailingBytes { .. } => RejectionCode::Trailing,
            Rejection::Frame { .. } => RejectionCode::Frame,
            Rejection::DigestMismatch => RejectionCode::Digest,
            Rejection::SchemaMismatch { .. } => RejectionCode::Schema,
            Rejection::ShapeMismatch(_) => RejectionCode::Shape,
            Rejection::Untraceable(_) => RejectionCode::ShapeUntraceable,
            Rejection::ShardMismatch { .. } => RejectionCode::Shard,
            Rejection::ShardMixed { .. } => RejectionCode::ShardMixed,
            Rejection::EpochMismatch { .. } => RejectionCode::Epoch,
            Rejection::EpochMixed { .. } => RejectionCode::EpochMixed,
            Rejection::SectionMissing { .. } => RejectionCode::SectionMissing,
            Rejection::SectionDuplicated { .. } => RejectionCode::SectionDuplicate,
            Rejection::SectionOrder { .. } => RejectionCode::SectionOrder,
            Rejection::NonCanonical { .. } => RejectionCode::NonCanonical,
            Rejection::RecordOrder { .. } => RejectionCode::RecordOrder,
            Rejection::DuplicateId { .. } => RejectionCode::DuplicateId,
            Rejection::DanglingRef { .. } => RejectionCode::DanglingRef,
            Rejection::ContainmentCycle { .. } => RejectionCode::ContainmentCycle,
            Rejection::IndexMismatch { .. } => RejectionCode::IndexMismatch,
            Rejection::Undecodable { .. } => RejectionCode::Decode,
            Rejection::Unencodable { .. } => RejectionCode::Encode,
            Rejection::RecordRoundtrip { .. } => RejectionCode::RecordRoundtrip,
        }
    }
}
