//! The bundle format, version 1: postcard inside a fixed frame, closed by a
//! BLAKE3 digest.
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
//!   format_version  u16le     1
//!   frame_len       u64le     length of the whole bundle, digest included
//!
//! body (postcard)
//!   header          shard varint, epoch varint, fence varint,
//!                   schema_name (varint length + UTF-8), schema_version varint;
//!                   a writer's schema_name is at most 255 bytes
//!                   (`Schema::NAME`, checked at compile time), a reader
//!                   takes any length
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
//! # Rules, in the order they are checked
//!
//! Every reader (typed [`Restore::open`](crate::Restore::open) and
//! schema-agnostic [`verify`](crate::verify())) applies the same rules in the
//! same order and stops at the first that fails, so the same bytes (and the
//! same expectations) always give the same rejection.
//!
//! 1. The first 8 bytes are the magic (`E-MAGIC`; a non-empty input shorter
//!    than 8 bytes that is a prefix of it is `E-TRUNCATED`).
//! 2. The format version is 1 (`E-VERSION`).
//! 3. `frame_len` is at least 50, the size of an empty frame (`E-FRAME`);
//!    the input is not shorter (`E-TRUNCATED`) or longer (`E-TRAILING`).
//! 4. The digest matches, computed with the reader's key if it has one
//!    (`E-DIGEST`). Nothing is decoded before this check.
//! 5. The header decodes (`E-DECODE`) and re-encodes to the same bytes
//!    (`E-NONCANONICAL`).
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
//!    names a record of an earlier section, or for items another item of the
//!    same section (`E-DANGLING-REF`); item containment has no cycle
//!    (`E-CONTAINMENT-CYCLE`); then `payload_len` is present and fits in
//!    what is left (`E-TRUNCATED`).
//! 8. Nothing follows the last section (`E-TRAILING`).
//! 9. Expectations the reader states, if any: schema name and version
//!    (`E-SCHEMA`), shard (`E-SHARD`), epoch (`E-EPOCH`).
//! 10. Typed restore only, section by section in order: each record decodes
//!     (`E-DECODE`), re-encodes to the same bytes (`E-NONCANONICAL`) and
//!     reproduces its index entry (`E-INDEX-MISMATCH`); nothing follows the
//!     last record (`E-TRAILING`).
//!
//! Steps 5 to 10 can only fail for bytes that carry a valid digest: a buggy
//! writer, or an editor who recomputed an unkeyed digest. They are checked
//! anyway; a key makes the second case impossible.
//!
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

mod digest;
pub(crate) mod flavor;
mod index_reader;
pub(crate) mod reader;
pub(crate) mod typed_reader;
pub(crate) mod wire;
pub(crate) mod writer;

pub use digest::{DIGEST_LEN, DigestKey};
pub use wire::{ItemEntry, NpcEntry, QuestEntry, StructuralIndex};

pub(crate) use digest::{digest, digest_matches};

/// The 8 bytes every bundle starts with.
pub const MAGIC: [u8; 8] = *b"CAELPRST";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;

/// Bytes before the body: magic, version, frame length.
pub const PREAMBLE_LEN: usize = 8 + 2 + 8;

/// The system tags of the one valid section table (Stage 21.2 §5).
pub(crate) const CANONICAL_TABLE: [u8; 5] = [0, 1, 2, 3, 4];
