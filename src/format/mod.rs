//! The bundle format, version 2: postcard inside a fixed frame, closed by a
//! BLAKE3 digest, carrying the shapes of the record types that wrote it.
//!
//! The canon leaves storage formats open (Stage 21.0, "Scope"); this module
//! is where the crate makes its choice, and this page is its complete
//! specification. Integers marked *varint* are postcard's unsigned LEB128
//! varints; *u16le* / *u64le* are fixed-width little-endian.
//!
//! # Layout
//!
//! ```text
//! bundle   = preamble body digest
//!
//! preamble (18 bytes)
//!   magic           8 bytes   "CAELPRST"
//!   format_version  u16le     2
//!   frame_len       u64le     length of the whole bundle, digest included
//!
//! body (postcard)
//!   header          shard varint, epoch varint, fence varint,
//!                   schema_name (varint length + UTF-8), schema_version varint,
//!                   (a writer's schema_name is at most 255 bytes,
//!                   `Schema::NAME`, checked at compile time; a reader
//!                   takes any length)
//!                   shapes: 5 × (varint length + bytes), no count, in the
//!                   order player, world, npc, item, quest: each the
//!                   canonical encoding of that system's record type's shape
//!                   (see Record shapes)
//!   section_table   varint count, then `count` system tags, one byte each
//!                   (0 player, 1 world, 2 npc, 3 item, 4 quest);
//!                   the only valid table is [5, 0, 1, 2, 3, 4]
//!   section         × count, in table order:
//!     stamp         tag u8, shard varint, epoch varint
//!     index         varint count, then `count` index entries (below)
//!     payload_len   u64le
//!     payload       `payload_len` bytes: `count` records of the schema's
//!                   type for this system, postcard-encoded back to back
//!
//! digest (32 bytes)
//!   BLAKE3 of bytes [0, frame_len - 32): blake3::keyed_hash(key, …) when
//!   the server configures a key, blake3::hash(…) otherwise
//! ```
//!
//! Index entries (the structural index, readable without the record types):
//!
//! | section | entry |
//! | --- | --- |
//! | player | player id varint |
//! | world | zone id varint |
//! | npc | npc id varint, zone id varint |
//! | item | item id varint; location: variant varint (0 zone, 1 player, 2 container) + id varint; owner: 0, or 1 + player id varint |
//! | quest | quest id varint, owner player id varint, zones: varint count + zone id varints |
//!
//! `payload_len` is fixed-width so that the writer can stream records
//! straight into the bundle and patch the length afterwards, without
//! encoding anything twice.
//!
//! Version 1 was the same frame without the header's shapes. This build
//! reads version 2 only: a version-1 bundle is `E-VERSION`, never read as
//! if its record types were known.
//!
//! # Record shapes
//!
//! postcard is not self-describing: the same bytes decode under a record
//! type whose fields were swapped, widened, renamed or whose variants were
//! reordered, and give wrong values. So the header carries, for each
//! system, the serde data-model shape of the record type that wrote the
//! section, traced by the crate from the type itself
//! ([`shape`](crate::shape)), and a typed reader whose record type has
//! another shape refuses the bundle before it decodes a record (rule 9).
//! The whole shape is carried, not only its fingerprint, so that a refusal
//! can say what changed (`Player.gold: was u32, now u64`) and `verify` can
//! show what wrote a bundle; it costs a few hundred bytes a bundle (the
//! reference schema's five: 462 bytes, decoded in about 20 µs).
//!
//! A shape's canonical encoding (at most 1 MiB, 16 384 nodes, nested at
//! most 128 nodes deep, names at most 1 024 bytes of UTF-8):
//!
//! ```text
//! shape   = 0x01 node                         encoding version 1
//! node    = prim-tag                          0x00 bool, 0x01 i8, 0x02 i16, 0x03 i32,
//!                                             0x04 i64, 0x05 i128, 0x06 u8, 0x07 u16,
//!                                             0x08 u32, 0x09 u64, 0x0a u128, 0x0b f32,
//!                                             0x0c f64, 0x0d char, 0x0e str, 0x0f bytes,
//!                                             0x10 unit
//!         | 0x20 name                         unit struct
//!         | 0x21 name node                    newtype struct
//!         | 0x22 count node*                  tuple (and array)
//!         | 0x23 name count node*             tuple struct
//!         | 0x24 name count (name node)*      struct: each field's name and shape, in order
//!         | 0x25 name count (name payload)*   enum: each variant, in index order
//!         | 0x26 node                         option
//!         | 0x27 node                         sequence
//!         | 0x28 node node                    map: key, value
//!         | 0x29 count                        recursion: the enclosing node `count` levels up (≥ 1)
//! payload = 0x00                              unit variant
//!         | 0x01 node                         newtype variant
//!         | 0x02 count node*                  tuple variant
//!         | 0x03 count (name node)*           struct variant
//! name    = count UTF-8 bytes                 a container, field or variant name
//! count   = unsigned LEB128 u32 in its shortest form
//! ```
//!
//! A count of nodes, fields or variants is never more than the bytes that
//! follow it. Every shape has exactly one encoding, so a valid one decodes
//! and re-encodes to the same bytes. Container names (of structs, enums,
//! newtypes) are carried to explain a difference; field and variant names
//! are part of the shape. A shape's **fingerprint** is
//! `blake3::derive_key("caelmor-persist 2025-01 record shape fingerprint v1", e)`
//! where `e` is its encoding with every container name empty (length 0):
//! two shapes are the same when their fingerprints are, so a Rust type
//! renamed (and nothing else) still reads its bundles.
//!
//! # Rules, in the order they are checked
//!
//! Every reader (typed [`Restore::open`](crate::Restore::open) and
//! schema-agnostic [`verify`](crate::verify())) applies the same rules in the
//! same order and stops at the first that fails, so the same bytes (and the
//! same expectations) always give the same rejection.
//!
//! 1. The first 8 bytes are the magic (`E-MAGIC`; a non-empty input shorter
//!    than 8 bytes that is a prefix of it is `E-TRUNCATED`).
//! 2. The format version is 2 (`E-VERSION`).
//! 3. `frame_len` is at least 50, the size of an empty frame (`E-FRAME`);
//!    the input is not shorter (`E-TRUNCATED`) or longer (`E-TRAILING`).
//! 4. The digest matches, computed with the reader's key if it has one
//!    (`E-DIGEST`). Nothing is decoded before this check.
//! 5. The header decodes (`E-DECODE`) and re-encodes to the same bytes
//!    (`E-NONCANONICAL`); then each of its five shapes, in order, is the
//!    canonical encoding of a record shape (`E-DECODE` for the header,
//!    naming the system: "the npc record shape: …").
//! 6. The section table decodes and re-encodes to the same bytes; then its
//!    tags, one by one in table order: each is a known system (`E-FRAME`)
//!    that no earlier tag named (`E-SECTION-DUPLICATE`); then none is absent
//!    (`E-SECTION-MISSING`); then they are in the order of Stage 21.2 §5
//!    (`E-SECTION-ORDER`).
//! 7. For each section, in order: the stamp decodes and re-encodes to the
//!    same bytes; its tag is the table's (`E-FRAME`), its shard and epoch
//!    are the header's (`E-SHARD-MIXED`, `E-EPOCH-MIXED`); the index decodes
//!    and re-encodes to the same bytes; ids are strictly increasing
//!    (`E-RECORD-ORDER`, `E-DUPLICATE-ID`); every reference, entry by entry,
//!    names a record of an earlier section, or for an item's container an
//!    item of the same section, itself included (`E-DANGLING-REF`); item
//!    containment has no cycle, an item inside itself being one of length 1
//!    (`E-CONTAINMENT-CYCLE`, naming the smallest id of the cycle reached
//!    first when chains are followed from each item in id order); then
//!    `payload_len` is present and fits in what is left (`E-TRUNCATED`).
//! 8. Nothing follows the last section (`E-TRAILING`).
//! 9. Expectations the reader states, if any, in this order: schema name and
//!    version (`E-SCHEMA`); then, for a typed reader only, the record
//!    shapes, system by system in the order of Stage 21.2 §5: each has the
//!    fingerprint of the reader's record type for that system (`E-SHAPE`,
//!    naming the system and the first difference, from the bundle's shape
//!    to the reader's); shard (`E-SHARD`); epoch (`E-EPOCH`). A typed
//!    reader whose own record type cannot be traced refuses every bundle
//!    before reading it (`E-SHAPE-UNTRACEABLE`).
//! 10. Typed restore only, section by section in order: each record decodes,
//!     nested no deeper than [`MAX_DEPTH`] (`E-DECODE`; see
//!     [Limits](#limits)), re-encodes to the same bytes (`E-NONCANONICAL`) and
//!     reproduces its index entry (`E-INDEX-MISMATCH`); nothing follows the
//!     last record (`E-TRAILING`).
//!
//! Steps 5 to 10 can only fail for bytes that carry a valid digest: a buggy
//! writer, or an editor who recomputed an unkeyed digest. They are checked
//! anyway; a key makes the second case impossible.
//!
//! # Limits
//!
//! An unkeyed digest can be recomputed by anyone, so everything after rule 4
//! reads bytes that may have been crafted. Whatever they declare, reading
//! them ends in an answer — a value or a typed rejection — and never in a
//! stack overflow or an allocation failure that ends the process.
//!
//! **Nesting.** Every value decoded with serde (header, section table,
//! stamps and, in practice the only ones that can nest, records) may nest at
//! most [`MAX_DEPTH`] = 128 levels, counting each struct, tuple, tuple
//! struct, sequence, map, enum, option and newtype struct entered (a record
//! of plain fields is 1 level; a `Vec<Vec<u8>>` field adds 2). A deeper
//! value is `E-DECODE` for the part it is in, with a detail naming the
//! limit (for a record: rule 10, at that record). A writer must not write a
//! record nested deeper: no reader accepts it. The limit bounds the
//! recursion of decoding, of the canonical re-encoding check and of dropping
//! what was decoded, and fits in a 2 MiB thread stack (the item records of
//! a large bundle are decoded on a second thread).
//!
//! **Allocation.** A count or length in the bytes is a claim, not a fact.
//! Every buffer a reader sizes from one (an index's entries, a quest's
//! zones, a section's records) reserves ahead of decoding no more entries
//! than the unread bytes could hold at the entries' smallest encoding, and
//! no more than [`RESERVE_PER_BYTE`] = 16 bytes of memory per unread byte;
//! past its reservation a buffer grows only as entries actually decode, and
//! a reservation the allocator refuses is skipped, not fatal. Every index
//! entry is at most 16 times its smallest encoding in memory (8 to 40 bytes
//! for 1 to 4 encoded), so the structural index [`verify`](crate::verify())
//! returns costs at most 16 bytes per byte of the index, whatever the
//! counts say, and the index reader fills at most two buffers at once (a
//! quest index and one quest's zones). Inside a record, postcard announces
//! a sequence's length only when that many bytes are left (a map's
//! always), the decoder passes announcements on for at most one element per
//! byte left in the payload, for all of the record's collections together,
//! and serde reserves at most 1 MiB per collection on what it is told;
//! strings and byte strings are never longer than the bytes that hold them.
//! Beyond that, decoded records cost what the schema's types cost in
//! memory, as any decoded value does.
//!
//! **Shapes.** A header's shapes are read as byte strings no longer than
//! the bytes that hold them, and each is decoded within the bounds listed
//! under [Record shapes](#record-shapes): at most 1 MiB, 16 384 nodes and
//! 128 levels. A count of fields, variants or items is refused when it is
//! larger than the bytes left, and reserves ahead of decoding no more items
//! than the nodes still allowed, nor more than [`RESERVE_PER_BYTE`] bytes
//! of memory per byte left; a refused reservation is skipped. A decoded
//! shape costs at most about 1 MiB (16 384 nodes).
//!
//! Neither limit changes what a valid bundle written by this crate's save
//! chain decodes to, for records nested no deeper than [`MAX_DEPTH`]; both
//! are part of the format since version 1.
//! # Rules at save time
//!
//! The writer (the save chain's steps) adds two rules of its own, so that a
//! bundle it seals passes rule 10 — every seal opens:
//!
//! - Each record's id and references are read once, as its index entry;
//!   the section is sorted by those ids, checked against rule 7 and written
//!   as its index from those entries alone, never from the record again.
//! - Right after a record is encoded, its bytes are decoded as rule 10
//!   decodes them: they must decode with nothing left over, re-encode to
//!   the same bytes, and the decoded record's index entry must be the one
//!   read in the first rule. A record that fails is refused with
//!   `E-RECORD-ROUNDTRIP` ("does not decode", "re-encodes differently",
//!   "decodes to other ids/references"), after any refusal by rule 7 and in
//!   record order with `E-ENCODE`; the step fails and nothing is sealed.
//!
//! What this cannot prove is a record whose decoding is not a function of
//! its bytes — a `HashMap`, whose iteration order depends on a random seed
//! per map, may decode into the saved order by chance (for two entries,
//! half of the time) and into another at the next load. Records that encode
//! maps should use ordered ones (`BTreeMap`, a sorted `Vec`).

pub(crate) mod depth;
mod digest;
pub(crate) mod flavor;
pub(crate) mod index_reader;
pub(crate) mod reader;
pub(crate) mod wire;
pub(crate) mod writer;

pub use depth::MAX_DEPTH;
pub use digest::{DIGEST_LEN, DigestKey};
pub use wire::{ItemEntry, NpcEntry, QuestEntry, StructuralIndex};

pub(crate) use digest::{digest, digest_matches};

/// The 8 bytes every bundle starts with.
pub const MAGIC: [u8; 8] = *b"CAELPRST";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 2;

/// Bytes before the body: magic, version, frame length.
pub const PREAMBLE_LEN: usize = 8 + 2 + 8;

/// The system tags of the one valid section table (Stage 21.2 §5).
pub(crate) const CANONICAL_TABLE: [u8; 5] = [0, 1, 2, 3, 4];

/// The most memory a buffer sized from a count in the bytes may reserve
/// ahead of decoding, in bytes per byte of input still unread.
///
/// A count says how many entries follow; nothing makes it true. So no
/// reader reserves room for more entries than the unread bytes could hold
/// at their smallest encoding, nor more than this many bytes of memory per
/// unread byte, whatever the count: a bundle that declares 2^40 entries
/// reserves at most `RESERVE_PER_BYTE ×` its own size, and a buffer that
/// needs more than its reservation grows only as entries actually decode.
/// Every structural index entry fits in the bound at its smallest encoding
/// (checked at compile time in the index reader), so a valid index is
/// still reserved in one step.
pub const RESERVE_PER_BYTE: usize = 16;

/// How many `T`s to reserve for `declared` entries, each at least
/// `min_encoded` bytes long, that are to be decoded from `bytes_left`
/// unread bytes: the smallest of the three bounds, never more than
/// [`RESERVE_PER_BYTE`]` × bytes_left` bytes.
pub(crate) fn capacity_for<T>(declared: usize, bytes_left: usize, min_encoded: usize) -> usize {
    let could_fit = bytes_left / min_encoded.max(1);
    let budget = RESERVE_PER_BYTE.saturating_mul(bytes_left) / size_of::<T>().max(1);
    declared.min(could_fit).min(budget)
}

/// An empty vector with room for [`capacity_for`] `T`s, or none if the
/// allocator refuses that much.
///
/// The room is a guess made before any entry is decoded. A refusal (an
/// address-space limit, a busy machine) says nothing about the bytes, so it
/// must not end the process as `Vec::with_capacity` would: the vector then
/// grows as entries actually decode, and a count the bytes do not back,
/// the usual reason for a large guess, fails on the bytes long before it
/// needs that memory.
pub(crate) fn vec_for<T>(declared: usize, bytes_left: usize, min_encoded: usize) -> Vec<T> {
    let mut out = Vec::new();
    let _ = out.try_reserve_exact(capacity_for::<T>(declared, bytes_left, min_encoded));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_count_reserves_what_the_bytes_could_hold_and_no_more() {
        // The count is believed when the bytes could hold it.
        assert_eq!(capacity_for::<u64>(10, 100, 1), 10);
        // Not past what the bytes could hold at the smallest encoding.
        assert_eq!(capacity_for::<u64>(1 << 40, 100, 4), 25);
        assert_eq!(capacity_for::<u64>(usize::MAX, 100, 0), 100);
        // Not past RESERVE_PER_BYTE bytes of memory per byte.
        assert_eq!(capacity_for::<[u8; 1024]>(1 << 40, 100, 1), 1);
        assert_eq!(capacity_for::<[u8; 1024]>(1 << 40, 63, 1), 0);
        for (declared, left, min) in [(1usize << 40, 1usize << 26, 1usize), (5, 7, 3)] {
            let n = capacity_for::<[u64; 5]>(declared, left, min);
            assert!(n * size_of::<[u64; 5]>() <= RESERVE_PER_BYTE * left);
        }
        // Zero-sized entries cost nothing and are never divided by.
        assert_eq!(capacity_for::<()>(7, 3, 1), 3);
    }
}
