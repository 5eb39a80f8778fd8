//! Shared helpers for the integration tests.
//!
//! - A hand encoder that writes bundles section by section, straight from the
//!   byte-level specification in `caelmor_persist::format`, with postcard and
//!   blake3 only: no code of the crate's writer is reused. Every part is kept
//!   as raw bytes so that a test can swap, duplicate, drop or corrupt it.
//! - An editor that re-frames and re-digests edited bytes (the "editor who
//!   recomputed an unkeyed digest" the specification talks about).
//! - The reference readers and a small hand-written shard.
//! - The second opinion: [`independent`], a reference reader written from
//!   the specification alone and the structural rules written again
//!   plainly, with the glue that holds the crate's answers to it, code for
//!   code ([`second_typed`], [`second_agnostic`], [`agree`]).
//! - [`Planted`], a backend whose latest committed epoch is whatever bytes a
//!   test plants (an editor who rewrote a shard's head as well as its
//!   bundle), so that crafted bytes can go through a store's
//!   `load_latest` and the whole restore, as a server would restore them.
//!
//! Each test binary uses a subset of this module.
#![allow(dead_code)]

use caelmor_persist::format::{
    DIGEST_LEN, FORMAT_VERSION, ItemEntry, MAGIC, NpcEntry, PREAMBLE_LEN, QuestEntry,
};
use caelmor_persist::reference::{
    Biome, Item, Npc, Player, Position, Quest, Reference, Shard, Stats, Zone,
};
use std::sync::{Arc, Mutex, MutexGuard};

use caelmor_persist::{
    ActivationError, Backend, DigestKey, Epoch, EpochRecord, Fence, Head, ItemId, ItemLocation,
    Loaded, MemStore, NpcId, PlayerId, QuestId, Rejection, Restore, RestoreError, Save, Schema,
    Sealed, ServerAuthority, ShardId, Store, StoreConfig, StoreError, StoredEpoch, Swap, System,
    Verified, VerifyOptions, ZoneId, verify, verify_as,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[path = "../independent/mod.rs"]
pub mod independent;

use independent::reader::{self as second, Decoded, Entry, Expect, Records};
use independent::rules;

/// The shard, epoch and fence of a first save on a fresh store of `SHARD`.
pub const SHARD: ShardId = ShardId(1);
pub const EPOCH: Epoch = Epoch(1);
pub const FENCE: Fence = Fence(1);

/// The smallest empty frame: preamble and digest.
pub const EMPTY_FRAME: usize = PREAMBLE_LEN + DIGEST_LEN;

// ---------------------------------------------------------------------------
// Encoding, per the specification.
// ---------------------------------------------------------------------------

/// postcard encoding of one value.
pub fn enc<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("test values always encode")
}

/// The header, as the specification lists it. `shapes` are five byte
/// strings (postcard writes a `Vec<u8>` as its length and its bytes, and an
/// array as its elements back to back).
#[derive(Clone, Debug, Serialize)]
pub struct Header {
    pub shard: ShardId,
    pub epoch: Epoch,
    pub fence: Fence,
    pub schema_name: String,
    pub schema_version: u32,
    pub shapes: [Vec<u8>; 5],
}

impl Header {
    /// The header of a first save of `SHARD` under the reference schema.
    pub fn reference() -> Self {
        Header {
            shard: SHARD,
            epoch: EPOCH,
            fence: FENCE,
            schema_name: Reference::NAME.to_owned(),
            schema_version: Reference::VERSION,
            shapes: reference_shapes(),
        }
    }
}

/// The record-shape encoding, written from the grammar in the
/// specification ("Record shapes"), not with the crate's encoder.
pub mod shape {
    /// The encoding's version byte, then the root node.
    pub fn root(node: Vec<u8>) -> Vec<u8> {
        let mut out = vec![0x01];
        out.extend(node);
        out
    }

    /// A LEB128 count.
    pub fn count(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    pub fn name(s: &str, out: &mut Vec<u8>) {
        count(s.len(), out);
        out.extend_from_slice(s.as_bytes());
    }

    pub const BOOL: u8 = 0x00;
    pub const U8: u8 = 0x06;
    pub const U16: u8 = 0x07;
    pub const U32: u8 = 0x08;
    pub const U64: u8 = 0x09;
    pub const I32: u8 = 0x03;
    pub const F32: u8 = 0x0b;
    pub const STR: u8 = 0x0e;

    pub fn prim(tag: u8) -> Vec<u8> {
        vec![tag]
    }

    pub fn strukt(container: &str, fields: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0x24];
        name(container, &mut out);
        count(fields.len(), &mut out);
        for (field, node) in fields {
            name(field, &mut out);
            out.extend(node);
        }
        out
    }

    /// An enum whose variants are unit (`None`) or newtype (`Some(node)`).
    pub fn enumeration(container: &str, variants: &[(&str, Option<Vec<u8>>)]) -> Vec<u8> {
        let mut out = vec![0x25];
        name(container, &mut out);
        count(variants.len(), &mut out);
        for (variant, payload) in variants {
            name(variant, &mut out);
            match payload {
                None => out.push(0x00),
                Some(node) => {
                    out.push(0x01);
                    out.extend(node);
                }
            }
        }
        out
    }

    pub fn tuple(items: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![0x22];
        count(items.len(), &mut out);
        for item in items {
            out.extend(item);
        }
        out
    }

    pub fn option(inner: Vec<u8>) -> Vec<u8> {
        let mut out = vec![0x26];
        out.extend(inner);
        out
    }

    pub fn seq(inner: Vec<u8>) -> Vec<u8> {
        let mut out = vec![0x27];
        out.extend(inner);
        out
    }
}

/// The canonical shape bytes of the reference schema's five record types
/// (ids are `#[serde(transparent)]`: plain `u64`s).
pub fn reference_shapes() -> [Vec<u8>; 5] {
    use shape::*;
    let u = || prim(U64);
    let position = || {
        strukt(
            "Position",
            &[("x", prim(F32)), ("y", prim(F32)), ("z", prim(F32))],
        )
    };
    let player = strukt(
        "Player",
        &[
            ("id", u()),
            ("name", prim(STR)),
            ("level", prim(U16)),
            (
                "stats",
                strukt(
                    "Stats",
                    &[
                        ("strength", prim(U16)),
                        ("agility", prim(U16)),
                        ("intellect", prim(U16)),
                        ("stamina", prim(U16)),
                    ],
                ),
            ),
            ("currency", u()),
            ("last_zone", u()),
            ("last_position", position()),
        ],
    );
    let zone = strukt(
        "Zone",
        &[
            ("id", u()),
            ("name", prim(STR)),
            (
                "biome",
                enumeration(
                    "Biome",
                    &[
                        ("Forest", None),
                        ("Desert", None),
                        ("Tundra", None),
                        ("Coast", None),
                        ("Cavern", None),
                        ("City", None),
                    ],
                ),
            ),
            ("level_range", tuple(&[prim(U16), prim(U16)])),
        ],
    );
    let npc = strukt(
        "Npc",
        &[
            ("id", u()),
            ("template", prim(U32)),
            ("zone", u()),
            ("position", position()),
            ("health", prim(U32)),
            ("max_health", prim(U32)),
        ],
    );
    let item = strukt(
        "Item",
        &[
            ("id", u()),
            ("template", prim(U32)),
            ("stack", prim(U16)),
            ("durability", option(prim(U16))),
            (
                "location",
                enumeration(
                    "ItemLocation",
                    &[
                        ("Zone", Some(u())),
                        ("Player", Some(u())),
                        ("Container", Some(u())),
                    ],
                ),
            ),
            ("owner", option(u())),
        ],
    );
    let quest = strukt(
        "Quest",
        &[
            ("id", u()),
            ("owner", u()),
            ("template", prim(U32)),
            ("stage", prim(U16)),
            ("progress", seq(prim(U32))),
            ("zones", seq(u())),
        ],
    );
    [player, zone, npc, item, quest].map(root)
}

/// A section stamp: tag u8, shard varint, epoch varint.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stamp {
    pub tag: u8,
    pub shard: ShardId,
    pub epoch: Epoch,
}

/// A section as raw parts.
#[derive(Clone, Debug)]
pub struct Section {
    /// The encoded stamp.
    pub stamp: Vec<u8>,
    /// The encoded index (varint count, entries).
    pub index: Vec<u8>,
    /// When set, written instead of the payload's real length.
    pub payload_len: Option<u64>,
    /// The records, back to back.
    pub payload: Vec<u8>,
}

impl Section {
    /// Encodes `index` and `records` under a stamp for `system`.
    pub fn new<I: Serialize, R: Serialize>(
        system: System,
        shard: ShardId,
        epoch: Epoch,
        index: &[I],
        records: &[R],
    ) -> Self {
        let mut payload = Vec::new();
        for record in records {
            payload.extend(enc(record));
        }
        Section {
            stamp: enc(&Stamp {
                tag: system as u8,
                shard,
                epoch,
            }),
            index: enc(index),
            payload_len: None,
            payload,
        }
    }

    /// stamp, index, payload_len u64le, payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.stamp.clone();
        out.extend(&self.index);
        let len = self.payload_len.unwrap_or(self.payload.len() as u64);
        out.extend(len.to_le_bytes());
        out.extend(&self.payload);
        out
    }
}

pub fn player_index(players: &[Player]) -> Vec<PlayerId> {
    players.iter().map(|p| p.id).collect()
}

pub fn zone_index(zones: &[Zone]) -> Vec<ZoneId> {
    zones.iter().map(|z| z.id).collect()
}

pub fn npc_index(npcs: &[Npc]) -> Vec<NpcEntry> {
    npcs.iter()
        .map(|n| NpcEntry {
            id: n.id,
            zone: n.zone,
        })
        .collect()
}

pub fn item_index(items: &[Item]) -> Vec<ItemEntry> {
    items
        .iter()
        .map(|i| ItemEntry {
            id: i.id,
            location: i.location,
            owner: i.owner,
        })
        .collect()
}

pub fn quest_index(quests: &[Quest]) -> Vec<QuestEntry> {
    quests
        .iter()
        .map(|q| QuestEntry {
            id: q.id,
            owner: q.owner,
            zones: q.zones.clone(),
        })
        .collect()
}

/// The five sections of `shard`, records in the order given (the hand
/// encoder never sorts), stamped with `id` and `epoch`.
pub fn sections(shard: &Shard, id: ShardId, epoch: Epoch) -> Vec<Section> {
    vec![
        Section::new(
            System::Player,
            id,
            epoch,
            &player_index(&shard.players),
            &shard.players,
        ),
        Section::new(
            System::World,
            id,
            epoch,
            &zone_index(&shard.zones),
            &shard.zones,
        ),
        Section::new(System::Npc, id, epoch, &npc_index(&shard.npcs), &shard.npcs),
        Section::new(
            System::Item,
            id,
            epoch,
            &item_index(&shard.items),
            &shard.items,
        ),
        Section::new(
            System::Quest,
            id,
            epoch,
            &quest_index(&shard.quests),
            &shard.quests,
        ),
    ]
}

/// The one valid section table.
pub const CANONICAL_TABLE: [u8; 5] = [0, 1, 2, 3, 4];

/// A section table with these tags (varint count, one byte per tag).
pub fn table(tags: &[u8]) -> Vec<u8> {
    enc(tags)
}

/// A bundle as raw parts, to be edited and then framed.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub magic: [u8; 8],
    pub version: u16,
    pub header: Vec<u8>,
    pub table: Vec<u8>,
    pub sections: Vec<Section>,
    /// Bytes after the last section, inside the frame.
    pub tail: Vec<u8>,
}

impl Bundle {
    /// `shard` under `Header::reference()`.
    pub fn of(shard: &Shard) -> Self {
        Self::with_header(shard, &Header::reference())
    }

    /// `shard` under `header`, every section stamped with its shard and epoch.
    pub fn with_header(shard: &Shard, header: &Header) -> Self {
        Bundle {
            magic: MAGIC,
            version: FORMAT_VERSION,
            header: enc(header),
            table: table(&CANONICAL_TABLE),
            sections: sections(shard, header.shard, header.epoch),
            tail: Vec::new(),
        }
    }

    /// The section of `system`, assuming the canonical layout.
    pub fn section(&mut self, system: System) -> &mut Section {
        &mut self.sections[system.position()]
    }

    /// Preamble (frame length still zero) and body: what the digest covers.
    pub fn content(&self) -> Vec<u8> {
        let mut out = self.magic.to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend([0; 8]);
        out.extend(&self.header);
        out.extend(&self.table);
        for section in &self.sections {
            out.extend(section.encode());
        }
        out.extend(&self.tail);
        out
    }

    /// Framed with an unkeyed digest.
    pub fn bytes(&self) -> Vec<u8> {
        frame(self.content(), None)
    }

    /// Framed with a keyed digest.
    pub fn keyed(&self, key: &[u8; 32]) -> Vec<u8> {
        frame(self.content(), Some(key))
    }
}

// ---------------------------------------------------------------------------
// The editor: framing and digests.
// ---------------------------------------------------------------------------

/// Patches the frame length of `content` (preamble and body) and appends the
/// digest: BLAKE3 of everything before it, keyed if a key is given.
pub fn frame(mut content: Vec<u8>, key: Option<&[u8; 32]>) -> Vec<u8> {
    assert!(
        content.len() >= PREAMBLE_LEN,
        "content must hold a preamble"
    );
    let frame_len = (content.len() + DIGEST_LEN) as u64;
    content[10..18].copy_from_slice(&frame_len.to_le_bytes());
    let digest = match key {
        Some(k) => blake3::keyed_hash(k, &content),
        None => blake3::hash(&content),
    };
    content.extend_from_slice(digest.as_bytes());
    content
}

/// Re-frames and re-digests (unkeyed) an edited bundle whose last 32 bytes
/// are a stale digest.
pub fn redigest(edited: &[u8]) -> Vec<u8> {
    frame(edited[..edited.len() - DIGEST_LEN].to_vec(), None)
}

/// Like [`redigest`], with a keyed digest.
pub fn redigest_keyed(edited: &[u8], key: &[u8; 32]) -> Vec<u8> {
    frame(edited[..edited.len() - DIGEST_LEN].to_vec(), Some(key))
}

/// The body of a framed bundle: between the preamble and the digest.
pub fn body(bundle: &[u8]) -> &[u8] {
    &bundle[PREAMBLE_LEN..bundle.len() - DIGEST_LEN]
}

/// `bytes` with byte `at` xor-ed with `mask` (no re-digest).
pub fn flip(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= mask;
    out
}

/// `bytes` with the declared frame length replaced (no re-digest).
pub fn with_frame_len(bytes: &[u8], frame_len: u64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[10..18].copy_from_slice(&frame_len.to_le_bytes());
    out
}

/// The frame length a bundle declares.
pub fn frame_len(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[10..18].try_into().expect("8 bytes"))
}

// ---------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------

/// A hand-written consistent shard with every kind of edge: two of each
/// system, items in a zone, held by a player, and nested two deep.
pub fn tiny() -> Shard {
    let at = Position {
        x: 1.5,
        y: -2.0,
        z: 3.25,
    };
    let stats = Stats {
        strength: 10,
        agility: 11,
        intellect: 12,
        stamina: 13,
    };
    Shard {
        players: vec![
            Player {
                id: PlayerId(1),
                name: "Kaelmor".into(),
                level: 12,
                stats,
                currency: 500,
                last_zone: 1,
                last_position: at,
            },
            Player {
                id: PlayerId(2),
                name: "Variel".into(),
                level: 60,
                stats,
                currency: 1_000_000,
                last_zone: 2,
                last_position: at,
            },
        ],
        zones: vec![
            Zone {
                id: ZoneId(1),
                name: "Thendol".into(),
                biome: Biome::Forest,
                level_range: (1, 10),
            },
            Zone {
                id: ZoneId(2),
                name: "Sagarith".into(),
                biome: Biome::City,
                level_range: (30, 40),
            },
        ],
        npcs: vec![
            Npc {
                id: NpcId(1),
                template: 7,
                zone: ZoneId(1),
                position: at,
                health: 50,
                max_health: 100,
            },
            Npc {
                id: NpcId(2),
                template: 8,
                zone: ZoneId(2),
                position: at,
                health: 1,
                max_health: 1,
            },
        ],
        items: vec![
            Item {
                id: ItemId(1),
                template: 100,
                stack: 1,
                durability: Some(900),
                location: ItemLocation::Player(PlayerId(1)),
                owner: Some(PlayerId(1)),
            },
            Item {
                id: ItemId(2),
                template: 101,
                stack: 1,
                durability: None,
                location: ItemLocation::Container(ItemId(1)),
                owner: Some(PlayerId(1)),
            },
            Item {
                id: ItemId(3),
                template: 102,
                stack: 20,
                durability: None,
                location: ItemLocation::Container(ItemId(2)),
                owner: Some(PlayerId(1)),
            },
            Item {
                id: ItemId(4),
                template: 103,
                stack: 1,
                durability: Some(0),
                location: ItemLocation::Zone(ZoneId(2)),
                owner: None,
            },
        ],
        quests: vec![
            Quest {
                id: QuestId(1),
                owner: PlayerId(1),
                template: 5,
                stage: 2,
                progress: vec![3, 4],
                zones: vec![ZoneId(2), ZoneId(1)],
            },
            Quest {
                id: QuestId(2),
                owner: PlayerId(2),
                template: 6,
                stage: 0,
                progress: vec![],
                zones: vec![ZoneId(2)],
            },
        ],
    }
}

/// A shard with no records at all.
pub fn empty() -> Shard {
    Shard {
        players: Vec::new(),
        zones: Vec::new(),
        npcs: Vec::new(),
        items: Vec::new(),
        quests: Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// The crate's chains.
// ---------------------------------------------------------------------------

/// A fresh authority over `shard` (from a store nobody else uses).
pub fn authority_for(shard: ShardId) -> ServerAuthority<Reference> {
    MemStore::<Reference>::new(shard)
        .claim()
        .expect("MemStore claims are infallible")
}

/// A fresh authority over `SHARD`.
pub fn authority() -> ServerAuthority<Reference> {
    authority_for(SHARD)
}

/// A fresh authority of a store keyed with `key`.
pub fn keyed_authority(key: [u8; 32]) -> ServerAuthority<Reference> {
    MemStore::<Reference>::with_key(SHARD, DigestKey::from_bytes(key))
        .claim()
        .expect("MemStore claims are infallible")
}

/// The whole save chain over `shard`.
pub fn save(
    shard: &Shard,
    authority: &ServerAuthority<Reference>,
) -> Result<Sealed<Reference>, Rejection> {
    Ok(Save::begin(authority)
        .players(&shard.players)?
        .world(&shard.zones)?
        .npcs(&shard.npcs)?
        .items(&shard.items)?
        .quests(&shard.quests)?
        .seal())
}

/// The bytes the save chain writes for `shard` as a first save of `SHARD`.
pub fn saved_bytes(shard: &Shard) -> Vec<u8> {
    save(shard, &authority())
        .expect("fixture shards are consistent")
        .into_bytes()
}

/// Why a whole restore (open, five steps, activation) failed.
#[derive(Debug)]
pub enum RestoreFailure {
    Open(RestoreError),
    Activation(ActivationError),
}

/// The whole restore chain, activated: the records exactly as handed back.
pub fn restore(
    loaded: Loaded<Reference>,
    authority: &ServerAuthority<Reference>,
) -> Result<Shard, RestoreFailure> {
    let active = Restore::open(loaded, authority)
        .map_err(RestoreFailure::Open)?
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(authority)
        .map_err(RestoreFailure::Activation)?;
    Ok(Shard {
        players: active.players,
        zones: active.zones,
        npcs: active.npcs,
        items: active.items,
        quests: active.quests,
    })
}

/// Typed verification (every rule, records included, as a store's load
/// applies them) of `bytes` as `SHARD` at `EPOCH`, unkeyed: the first
/// rejection.
pub fn open(bytes: &[u8]) -> Result<(), Rejection> {
    open_as(bytes, SHARD, EPOCH, None)
}

/// Typed verification as `shard` at `epoch`, under `key` if given.
pub fn open_as(
    bytes: &[u8],
    shard: ShardId,
    epoch: Epoch,
    key: Option<[u8; 32]>,
) -> Result<(), Rejection> {
    let mut options = VerifyOptions::new().expect_shard(shard).expect_epoch(epoch);
    if let Some(key) = key {
        options = options.key(DigestKey::from_bytes(key));
    }
    verify_as::<Reference>(bytes, &options).map(|_| ())
}

// ---------------------------------------------------------------------------
// A backend that holds planted bytes.
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Plot {
    head: Option<Head>,
    epochs: Vec<(StoredEpoch, Vec<u8>)>,
}

/// A backend in memory whose latest committed epoch can be set to any
/// bytes: what an editor achieves who rewrites a shard's bundle *and* its
/// head (the head's digest is not keyed). The store over it still verifies
/// everything it loads; this only lets crafted bytes reach a real
/// `load_latest` and restore. Otherwise it keeps the backend contract.
#[derive(Clone, Debug)]
pub struct Planted {
    shard: ShardId,
    plot: Arc<Mutex<Plot>>,
}

impl Planted {
    pub fn new(shard: ShardId) -> Self {
        Self {
            shard,
            plot: Arc::default(),
        }
    }

    fn plot(&self) -> MutexGuard<'_, Plot> {
        self.plot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `bytes` the latest committed epoch `epoch`, under the shard's
    /// current fence, as the head names it (its closing 32 bytes as the
    /// committed digest). The shard must have been claimed.
    pub fn plant(&self, epoch: Epoch, bytes: Vec<u8>) {
        let mut plot = self.plot();
        let head = plot.head.expect("claim the shard before planting");
        let mut digest = [0u8; 32];
        let tail = &bytes[bytes.len().saturating_sub(32)..];
        digest[32 - tail.len()..].copy_from_slice(tail);
        let stored = StoredEpoch {
            epoch,
            fence: head.fence,
        };
        plot.head = Some(Head {
            version: head.version + 1,
            latest: Some(EpochRecord {
                epoch,
                fence: head.fence,
                len: bytes.len() as u64,
                digest,
            }),
            ..head
        });
        plot.epochs.retain(|(s, _)| *s != stored);
        plot.epochs.push((stored, bytes));
    }
}

impl Backend for Planted {
    fn shard(&self) -> ShardId {
        self.shard
    }

    fn location(&self) -> String {
        format!("planted:{}", self.shard)
    }

    fn head(&self) -> Result<Option<Head>, StoreError> {
        Ok(self.plot().head)
    }

    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        let mut plot = self.plot();
        if plot.head.as_ref() != expected {
            return Ok(Swap::Conflict);
        }
        plot.head = Some(*next);
        Ok(Swap::Done)
    }

    fn publish(&mut self, expected: &Head, next: &Head, bundle: &[u8]) -> Result<Swap, StoreError> {
        let mut plot = self.plot();
        let Some(latest) = next.latest else {
            return Ok(Swap::Conflict);
        };
        if plot.head.as_ref() != Some(expected) {
            return Ok(Swap::Conflict);
        }
        let stored = StoredEpoch {
            epoch: latest.epoch,
            fence: latest.fence,
        };
        plot.epochs.retain(|(s, _)| *s != stored);
        plot.epochs.push((stored, bundle.to_vec()));
        plot.head = Some(*next);
        Ok(Swap::Done)
    }

    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let plot = self.plot();
        let Some((_, bytes)) = plot.epochs.iter().find(|(s, _)| *s == stored) else {
            return Ok(None);
        };
        if bytes.len() as u64 > max_len {
            return Err(StoreError::TooLarge {
                location: self.location(),
                len: bytes.len() as u64,
                limit: max_len,
            });
        }
        Ok(Some(bytes.clone()))
    }

    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        Ok(self.plot().epochs.iter().map(|(s, _)| *s).collect())
    }

    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError> {
        self.plot().epochs.retain(|(s, _)| *s != stored);
        Ok(())
    }
}

/// A claimed store of `shard` (keyed with `key`, if given) whose latest
/// committed epoch is `bytes` as `epoch`, and its authority.
pub fn planted(
    bytes: &[u8],
    shard: ShardId,
    epoch: Epoch,
    key: Option<[u8; 32]>,
) -> (Store<Reference, Planted>, ServerAuthority<Reference>) {
    let mut config = StoreConfig::new();
    if let Some(key) = key {
        config = config.key(DigestKey::from_bytes(key));
    }
    planted_with(bytes, shard, epoch, config)
}

/// [`planted`], the store set up by `config`.
pub fn planted_with(
    bytes: &[u8],
    shard: ShardId,
    epoch: Epoch,
    config: StoreConfig,
) -> (Store<Reference, Planted>, ServerAuthority<Reference>) {
    let backend = Planted::new(shard);
    let mut store = Store::with_backend(backend.clone(), config);
    let authority = store.claim().expect("a fresh planted shard claims");
    backend.plant(epoch, bytes.to_vec());
    (store, authority)
}

/// What a store's `load_latest` says of `bytes` planted as the latest epoch
/// `epoch` of `shard` (under `key`, if given): `Ok`, or the rule it broke,
/// with `E-STORE-SCHEMA` turned back into the `E-SCHEMA` or `E-SHAPE`
/// rejection it stands for. Every other refusal must be `E-STORE-DAMAGED` carrying its
/// rejection. `bytes` must be at least a digest long (the head records the
/// committed digest: shorter bytes are damaged before any rule is read).
pub fn load_as(
    bytes: &[u8],
    shard: ShardId,
    epoch: Epoch,
    key: Option<[u8; 32]>,
) -> Result<(), Rejection> {
    assert!(bytes.len() >= DIGEST_LEN, "too short to plant");
    let (store, _authority) = planted(bytes, shard, epoch, key);
    match store.load_latest() {
        Ok(loaded) => {
            let loaded = loaded.expect("an epoch was planted");
            assert_eq!((loaded.shard(), loaded.epoch()), (shard, epoch));
            Ok(())
        }
        Err(StoreError::SchemaMismatch {
            epoch: at,
            expected_name,
            expected_version,
            found_name,
            found_version,
            ..
        }) => {
            assert_eq!(at, epoch);
            Err(Rejection::SchemaMismatch {
                expected_name,
                expected_version,
                found_name,
                found_version,
            })
        }
        Err(StoreError::ShapeMismatch {
            epoch: at,
            schema_name,
            schema_version,
            mismatch,
        }) => {
            assert_eq!(at, epoch);
            // Only once the name and version matched.
            assert_eq!(
                (schema_name.as_str(), schema_version),
                (Reference::NAME, Reference::VERSION)
            );
            Err(Rejection::ShapeMismatch(mismatch))
        }
        Err(StoreError::Damaged {
            epoch: at,
            rejection: Some(rejection),
            ..
        }) => {
            assert_eq!(at, epoch);
            Err(rejection)
        }
        Err(other) => panic!("a load refused planted bytes without a rejection: {other}"),
    }
}

/// Loads `bytes` as the latest epoch `epoch` of `shard` through a real
/// store (under `key`, if given), restores and activates it: the records a
/// server would run, or why it could not.
pub fn restore_bytes(
    bytes: &[u8],
    shard: ShardId,
    epoch: Epoch,
    key: Option<[u8; 32]>,
) -> Result<Shard, StoreError> {
    let (store, authority) = planted(bytes, shard, epoch, key);
    let loaded = store.load_latest()?.expect("an epoch was planted");
    Ok(restore(loaded, &authority).expect("its own authority, still current"))
}

/// Schema-agnostic verification with no key and no expectations.
pub fn verify_plain(bytes: &[u8]) -> Result<Verified, Rejection> {
    verify(bytes, &VerifyOptions::new())
}

/// The expectations typed open states for `SHARD` at `epoch` (no key).
pub fn reference_options(epoch: Epoch) -> VerifyOptions {
    VerifyOptions::new()
        .expect_schema(Reference::NAME, Reference::VERSION)
        .expect_shard(SHARD)
        .expect_epoch(epoch)
}

/// The same records in an order drawn from `seed`: what a save must put
/// back in canonical order.
pub fn shuffled(shard: &Shard, seed: u64) -> Shard {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = shard.clone();
    s.players.shuffle(&mut rng);
    s.zones.shuffle(&mut rng);
    s.npcs.shuffle(&mut rng);
    s.items.shuffle(&mut rng);
    s.quests.shuffle(&mut rng);
    s
}

// ---------------------------------------------------------------------------
// The second opinion: the independent reader, and the crate held to it.
// ---------------------------------------------------------------------------

/// The reference schema's record types for the independent reader's rule
/// 10: postcard and serde's derives, nothing of the crate's readers.
pub struct ReferenceRecords;

impl Records for ReferenceRecords {
    fn decode(&self, system: usize, bytes: &[u8]) -> Option<Decoded> {
        fn take<T: DeserializeOwned + Serialize>(
            bytes: &[u8],
            entry: impl Fn(&T) -> Entry,
        ) -> Option<Decoded> {
            let (value, rest) = postcard::take_from_bytes::<T>(bytes).ok()?;
            Some(Decoded {
                len: bytes.len() - rest.len(),
                encoded: enc(&value),
                entry: entry(&value),
            })
        }
        match system {
            rules::PLAYER => take(bytes, |p: &Player| Entry::Player(p.id.0)),
            rules::WORLD => take(bytes, |z: &Zone| Entry::Zone(z.id.0)),
            rules::NPC => take(bytes, |n: &Npc| Entry::Npc(n.id.0, n.zone.0)),
            rules::ITEM => take(bytes, |i: &Item| {
                Entry::Item(rules::Item {
                    id: i.id.0,
                    loc: plain_location(i.location),
                    owner: i.owner.map(|p| p.0),
                })
            }),
            _ => take(bytes, |q: &Quest| {
                Entry::Quest(rules::Quest {
                    id: q.id.0,
                    owner: q.owner.0,
                    zones: q.zones.iter().map(|z| z.0).collect(),
                })
            }),
        }
    }
}

pub fn plain_location(location: ItemLocation) -> rules::Loc {
    match location {
        ItemLocation::Zone(z) => rules::Loc::Zone(z.0),
        ItemLocation::Player(p) => rules::Loc::Player(p.0),
        ItemLocation::Container(c) => rules::Loc::Container(c.0),
    }
}

pub fn crate_location(location: rules::Loc) -> ItemLocation {
    match location {
        rules::Loc::Zone(z) => ItemLocation::Zone(ZoneId(z)),
        rules::Loc::Player(p) => ItemLocation::Player(PlayerId(p)),
        rules::Loc::Container(c) => ItemLocation::Container(ItemId(c)),
    }
}

/// The crate's structural index as plain ids, for comparison with the
/// independent reader's.
pub fn plain_index(index: &caelmor_persist::format::StructuralIndex) -> rules::Index {
    rules::Index {
        players: index.players.iter().map(|p| p.0).collect(),
        zones: index.zones.iter().map(|z| z.0).collect(),
        npcs: index.npcs.iter().map(|n| (n.id.0, n.zone.0)).collect(),
        items: index
            .items
            .iter()
            .map(|i| rules::Item {
                id: i.id.0,
                loc: plain_location(i.location),
                owner: i.owner.map(|p| p.0),
            })
            .collect(),
        quests: index
            .quests
            .iter()
            .map(|q| rules::Quest {
                id: q.id.0,
                owner: q.owner.0,
                zones: q.zones.iter().map(|z| z.0).collect(),
            })
            .collect(),
    }
}

/// A shard's records as the plain index the independent rules read.
pub fn shard_index(shard: &Shard) -> rules::Index {
    rules::Index {
        players: shard.players.iter().map(|p| p.id.0).collect(),
        zones: shard.zones.iter().map(|z| z.id.0).collect(),
        npcs: shard.npcs.iter().map(|n| (n.id.0, n.zone.0)).collect(),
        items: shard
            .items
            .iter()
            .map(|i| rules::Item {
                id: i.id.0,
                loc: plain_location(i.location),
                owner: i.owner.map(|p| p.0),
            })
            .collect(),
        quests: shard
            .quests
            .iter()
            .map(|q| rules::Quest {
                id: q.id.0,
                owner: q.owner.0,
                zones: q.zones.iter().map(|z| z.0).collect(),
            })
            .collect(),
    }
}

/// What a typed reader of the reference schema expects of `shard` at
/// `epoch`, under `key`: schema name and version, the reference shapes
/// (written by hand from the grammar), shard and epoch.
pub fn typed_expect(shard: ShardId, epoch: Epoch, key: Option<[u8; 32]>) -> Expect {
    Expect {
        key,
        schema: Some((Reference::NAME.to_owned(), Reference::VERSION)),
        shapes: Some(reference_shapes()),
        shard: Some(shard.0),
        epoch: Some(epoch.0),
    }
}

/// The independent reader's answer for `bytes` read as a typed reader of
/// the reference schema reads them.
pub fn second_typed(
    bytes: &[u8],
    shard: ShardId,
    epoch: Epoch,
    key: Option<[u8; 32]>,
) -> Result<second::Read<'_>, second::Refused> {
    second::read(
        bytes,
        &typed_expect(shard, epoch, key),
        Some(&ReferenceRecords),
    )
}

/// The independent reader's answer for `bytes` read as `verify` reads
/// them, under `expect` (whose shapes a schema-agnostic reader ignores).
pub fn second_agnostic<'a>(
    bytes: &'a [u8],
    expect: &Expect,
) -> Result<second::Read<'a>, second::Refused> {
    second::read(bytes, expect, None)
}

/// Asserts that one of the crate's answers is the independent reader's:
/// the same rejection code, or both accepting, and then the same header,
/// section sizes, digest (and structural index and shapes, when the
/// crate's answer carries them). `what` names the case in a failure's
/// message (a closure: a bundle's bytes are only formatted on failure).
pub fn agree(
    what: impl Fn() -> String,
    bytes: &[u8],
    ours: Result<(&caelmor_persist::Summary, Option<&Verified>), &Rejection>,
    theirs: &Result<second::Read<'_>, second::Refused>,
) {
    match (ours, theirs) {
        (Err(r), Err(t)) => {
            if r.code().as_str() != t.code {
                panic!(
                    "{}: the crate says {r}, the specification's reader says {} at rule {} ({})",
                    what(),
                    t.code,
                    t.rule,
                    t.why
                );
            }
        }
        (Ok(_), Err(t)) => panic!(
            "{}: the crate accepted what the specification's reader refuses with {} at rule {} ({})",
            what(),
            t.code,
            t.rule,
            t.why
        ),
        (Err(r), Ok(_)) => panic!(
            "{}: the crate refused ({r}) what the specification's reader accepts",
            what()
        ),
        (Ok((summary, verified)), Ok(t)) => {
            assert_eq!(
                (
                    summary.shard.0,
                    summary.epoch.0,
                    summary.fence.0,
                    summary.schema_name.as_str(),
                    summary.schema_version
                ),
                (
                    t.shard,
                    t.epoch,
                    t.fence,
                    t.schema_name.as_str(),
                    t.schema_version
                ),
                "{}: header",
                what()
            );
            assert_eq!(summary.digest, t.digest, "{}: digest", what());
            assert_eq!(summary.total_bytes, bytes.len() as u64, "{}: size", what());
            let counts = t.index.counts();
            for (k, s) in summary.sections.iter().enumerate() {
                assert_eq!(
                    (s.records, s.bytes, s.payload_bytes),
                    (
                        counts[k] as u64,
                        t.sections[k].len() as u64,
                        t.payloads[k].len() as u64
                    ),
                    "{}: section {k}",
                    what()
                );
            }
            if let Some(verified) = verified {
                assert_eq!(plain_index(&verified.index), t.index, "{}: index", what());
                let shapes = verified.shapes.each_ref().map(|s| s.to_bytes());
                assert_eq!(shapes, t.shapes, "{}: shapes", what());
            }
        }
    }
}

/// `verify` under `options` (which must state what `expect` states) held
/// to the independent reader: its answer, once agreement is asserted.
pub fn verify_agreeing(
    what: &str,
    bytes: &[u8],
    options: &VerifyOptions,
    expect: &Expect,
) -> Result<Verified, Rejection> {
    let ours = verify(bytes, options);
    let theirs = second_agnostic(bytes, expect);
    agree(
        || format!("{what} (verify)"),
        bytes,
        ours.as_ref().map(|v| (&v.summary, Some(v))),
        &theirs,
    );
    ours
}

/// Typed verification (`verify_as::<Reference>`, every rule a store's load
/// applies) as `shard` at `epoch` under `key`, held to the independent
/// reader's typed reading: its answer, once agreement is asserted.
pub fn open_agreeing(
    what: &str,
    bytes: &[u8],
    shard: ShardId,
    epoch: Epoch,
    key: Option<[u8; 32]>,
) -> Result<caelmor_persist::Summary, Rejection> {
    let mut options = VerifyOptions::new().expect_shard(shard).expect_epoch(epoch);
    if let Some(key) = key {
        options = options.key(DigestKey::from_bytes(key));
    }
    let ours = verify_as::<Reference>(bytes, &options);
    let theirs = second_typed(bytes, shard, epoch, key);
    agree(
        || format!("{what} (typed)"),
        bytes,
        ours.as_ref().map(|s| (s, None)),
        &theirs,
    );
    ours
}

/// The expectations `reference_options(epoch)` states, for the
/// independent reader (schema-agnostic: no shapes).
pub fn reference_expect(epoch: Epoch, key: Option<[u8; 32]>) -> Expect {
    Expect {
        shapes: None,
        ..typed_expect(SHARD, epoch, key)
    }
}

/// A structural rejection of the crate as the independent rules name it
/// (`None` for any other rejection).
pub fn plain_rejection(r: &Rejection) -> Option<rules::Broken> {
    use caelmor_persist::Edge;
    Some(match r {
        Rejection::RecordOrder { system, id } => rules::Broken::Order {
            system: system.position(),
            id: *id,
        },
        Rejection::DuplicateId { system, id } => rules::Broken::Duplicate {
            system: system.position(),
            id: *id,
        },
        Rejection::DanglingRef { edge, from, to } => rules::Broken::Dangling {
            edge: match edge {
                Edge::NpcZone => rules::Edge::NpcZone,
                Edge::ItemZone => rules::Edge::ItemZone,
                Edge::ItemPlayer => rules::Edge::ItemPlayer,
                Edge::ItemOwner => rules::Edge::ItemOwner,
                Edge::ItemItem => rules::Edge::ItemItem,
                Edge::QuestPlayer => rules::Edge::QuestPlayer,
                Edge::QuestZone => rules::Edge::QuestZone,
            },
            from: *from,
            to: *to,
        },
        Rejection::ContainmentCycle { item } => rules::Broken::Cycle { smallest: item.0 },
        _ => return None,
    })
}
