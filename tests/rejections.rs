//! Every rejection code, produced from a crafted bundle or a crafted save;
//! the order in which the format specification says rules are checked;
//! keyed digests; and a sweep showing that no damaged input panics.
//!
//! Bundles are crafted with the hand encoder of `tests/common`, which writes
//! the format from its specification and re-digests what it writes, so each
//! edit reaches the rule it targets instead of stopping at `E-DIGEST`.

#![cfg(feature = "reference")]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use caelmor_persist::format::{DIGEST_LEN, PREAMBLE_LEN};
use caelmor_persist::reference::{Item, Npc, Player, Quest, Reference, Shard, ShardSpec, Zone};
use caelmor_persist::{
    DigestKey, Edge, Epoch, ItemId, ItemLocation, MemStore, Part, PlayerId, PlayerRecord, QuestId,
    QuestRecord, Rejection, RejectionCode, Save, Schema, ShardId, System, VerifyOptions, ZoneId,
    verify, verify_as,
};
use common::{
    Bundle, EMPTY_FRAME, EPOCH, Header, SHARD, authority, enc, flip, frame, frame_len,
    keyed_authority, load_as, open, open_agreeing, open_as, redigest, redigest_keyed,
    reference_expect, reference_options, restore_bytes, save, saved_bytes, table, tiny,
    verify_agreeing, verify_plain, with_frame_len,
};
use serde::{Deserialize, Serialize, Serializer};

type Outcome = Result<(), Rejection>;

fn base() -> Bundle {
    Bundle::of(&tiny())
}

fn base_bytes() -> Vec<u8> {
    base().bytes()
}

/// Reads `bytes` with the typed reader (`verify_as`, every rule a store's
/// load applies) and the schema-agnostic one (`verify`, with a store's
/// expectations), and holds each to the independent reader of
/// `tests/independent` (written from the specification alone): the same
/// first rejection code, or acceptance of the same bundle. Returns the
/// typed reader's answer.
fn read(bytes: &[u8]) -> Outcome {
    verify_agreeing(
        "verify",
        bytes,
        &reference_options(EPOCH),
        &reference_expect(EPOCH, None),
    )
    .ok();
    open_agreeing("typed open", bytes, SHARD, EPOCH, None).map(|_| ())
}

/// [`read`], and a store's `load_latest` of the same bytes as its latest
/// epoch must refuse them with the same first rejection (bytes shorter than
/// a digest cannot be planted: a store knows the committed digest).
fn read_and_load(bytes: &[u8]) -> Outcome {
    let typed = read(bytes);
    if bytes.len() >= DIGEST_LEN {
        assert_eq!(
            load_as(bytes, SHARD, EPOCH, None),
            typed,
            "a store's load and the typed reader disagree"
        );
    }
    typed
}

// ===========================================================================
// Crafted bundles, one producer per case.
// ===========================================================================

// --- Rules 1-3: magic, version, frame --------------------------------------

fn wrong_magic() -> Vec<u8> {
    let mut b = base();
    b.magic = *b"CAELPRSX";
    b.bytes()
}

fn other_format_magic() -> Vec<u8> {
    let mut bytes = base_bytes();
    bytes[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    bytes
}

/// A bundle of format version 1, whose header carried no record shapes:
/// this build reads only version 2, and must not read one as the other.
fn format_version_1() -> Vec<u8> {
    let mut b = base();
    b.version = 1;
    b.bytes()
}

fn cut_last_byte() -> Vec<u8> {
    let bytes = base_bytes();
    bytes[..bytes.len() - 1].to_vec()
}

fn magic_prefix() -> Vec<u8> {
    b"CAEL".to_vec()
}

fn one_extra_byte() -> Vec<u8> {
    let mut bytes = base_bytes();
    bytes.push(0);
    bytes
}

fn frame_len_49() -> Vec<u8> {
    with_frame_len(&base_bytes(), (EMPTY_FRAME - 1) as u64)
}

// --- Rule 4: digest --------------------------------------------------------

fn flipped_payload_byte() -> Vec<u8> {
    let bytes = base_bytes();
    let last_payload_byte = bytes.len() - DIGEST_LEN - 1;
    flip(&bytes, last_payload_byte, 0x01)
}

// --- Rule 5: header ---------------------------------------------------------

fn empty_body() -> Vec<u8> {
    frame(base().content()[..PREAMBLE_LEN].to_vec(), None)
}

fn header_not_utf8() -> Vec<u8> {
    let mut b = base();
    // shard 1, epoch 1, fence 1, schema name of 2 bytes that are not UTF-8,
    // schema version 1.
    b.header = vec![1, 1, 1, 2, 0xff, 0xfe, 1];
    b.bytes()
}

fn header_overlong_shard() -> Vec<u8> {
    let mut b = base();
    assert_eq!(b.header[0], 1, "shard 1 is the one-byte varint 0x01");
    b.header.splice(0..1, [0x81, 0x00]);
    b.bytes()
}

// --- Rule 6: section table ----------------------------------------------------

fn table_overlong_count() -> Vec<u8> {
    let mut b = base();
    b.table = vec![0x85, 0x00, 0, 1, 2, 3, 4];
    b.bytes()
}

fn table_unknown_tag() -> Vec<u8> {
    let mut b = base();
    b.table = table(&[0, 1, 2, 3, 9]);
    b.bytes()
}

fn sections_duplicated() -> Vec<u8> {
    let mut b = base();
    let item = b.section(System::Item).clone();
    b.sections.insert(System::Item.position(), item);
    b.table = table(&[0, 1, 2, 3, 3, 4]);
    b.bytes()
}

fn section_dropped() -> Vec<u8> {
    let mut b = base();
    b.sections.remove(System::Item.position());
    b.table = table(&[0, 1, 2, 4]);
    b.bytes()
}

fn no_sections() -> Vec<u8> {
    let mut b = base();
    b.sections.clear();
    b.table = table(&[]);
    b.bytes()
}

fn sections_swapped() -> Vec<u8> {
    let mut b = base();
    b.sections.swap(1, 2);
    b.table = table(&[0, 2, 1, 3, 4]);
    b.bytes()
}

// --- Rule 7: sections -----------------------------------------------------------

/// World and NPC sections swapped under the canonical table: the second
/// section's stamp says NPC where the table says world.
fn stamp_tag_differs() -> Vec<u8> {
    let mut b = base();
    b.sections.swap(1, 2);
    b.bytes()
}

fn stamp_overlong_shard() -> Vec<u8> {
    let mut b = base();
    let s = b.section(System::World);
    assert_eq!(s.stamp, vec![1, 1, 1]);
    s.stamp = vec![1, 0x81, 0x00, 1];
    b.bytes()
}

/// The item section of a bundle of another shard, spliced in.
fn section_from_another_shard() -> Vec<u8> {
    let foreign = Bundle::with_header(
        &tiny(),
        &Header {
            shard: ShardId(9),
            ..Header::reference()
        },
    );
    let mut b = base();
    *b.section(System::Item) = foreign.sections[System::Item.position()].clone();
    b.bytes()
}

/// The item section of the next epoch's bundle, spliced in.
fn section_from_another_epoch() -> Vec<u8> {
    let mut later = tiny();
    later.items[0].stack = 2;
    let later = Bundle::with_header(
        &later,
        &Header {
            epoch: Epoch(2),
            ..Header::reference()
        },
    );
    let mut b = base();
    *b.section(System::Item) = later.sections[System::Item.position()].clone();
    b.bytes()
}

fn index_overlong_id() -> Vec<u8> {
    let mut b = base();
    let s = b.section(System::Player);
    assert_eq!(s.index, vec![2, 1, 2]);
    s.index = vec![2, 0x81, 0x00, 2];
    b.bytes()
}

fn players_unsorted() -> Vec<u8> {
    let mut shard = tiny();
    shard.players.reverse();
    Bundle::of(&shard).bytes()
}

fn players_duplicated() -> Vec<u8> {
    let mut shard = tiny();
    shard.players[1] = shard.players[0].clone();
    Bundle::of(&shard).bytes()
}

fn npc_in_missing_zone() -> Vec<u8> {
    let mut shard = tiny();
    shard.npcs[1].zone = ZoneId(9);
    Bundle::of(&shard).bytes()
}

fn items_in_a_cycle() -> Vec<u8> {
    let mut shard = tiny();
    shard.items[0].location = ItemLocation::Container(ItemId(3));
    Bundle::of(&shard).bytes()
}

fn payload_len_too_long() -> Vec<u8> {
    let mut b = base();
    let s = b.section(System::Npc);
    s.payload_len = Some(s.payload.len() as u64 + 10_000);
    b.bytes()
}

fn payload_len_missing() -> Vec<u8> {
    let mut b = base();
    let quest = b.sections.pop().expect("five sections");
    // The quest section ends after its index: no length, no payload.
    b.tail = [quest.stamp, quest.index].concat();
    b.bytes()
}

// --- Rule 8: after the last section --------------------------------------------

fn bytes_after_last_section() -> Vec<u8> {
    let mut b = base();
    b.tail = vec![0, 0, 0];
    b.bytes()
}

// --- Rule 9: expectations --------------------------------------------------------

fn other_schema_name() -> Vec<u8> {
    Bundle::with_header(
        &tiny(),
        &Header {
            schema_name: "other-game".into(),
            ..Header::reference()
        },
    )
    .bytes()
}

fn other_schema_version() -> Vec<u8> {
    Bundle::with_header(
        &tiny(),
        &Header {
            schema_version: 2,
            ..Header::reference()
        },
    )
    .bytes()
}

/// The reference header, its player shape saying `currency: u32` where
/// the reference player has a `u64`: a record type changed under the same
/// schema name and version.
fn header_with_player_currency_u32() -> Header {
    let mut header = Header::reference();
    let u64_tag = common::shape::U64;
    // The field name, then its node: `currency` is a `u64`.
    let mut needle = vec![8];
    needle.extend_from_slice(b"currency");
    let shape = &mut header.shapes[System::Player.position()];
    let at = shape
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("the player shape names `currency`")
        + needle.len();
    assert_eq!(shape[at], u64_tag);
    shape[at] = common::shape::U32;
    header
}

fn other_player_shape() -> Vec<u8> {
    Bundle::with_header(&tiny(), &header_with_player_currency_u32()).bytes()
}

/// The NPC shape is not a shape: a node tag the grammar does not have.
fn npc_shape_not_a_shape() -> Vec<u8> {
    let mut header = Header::reference();
    header.shapes[System::Npc.position()] = vec![0x01, 0x7f];
    Bundle::with_header(&tiny(), &header).bytes()
}

/// The item shape in a non-canonical encoding: its struct's field count as
/// a two-byte varint.
fn item_shape_not_canonical() -> Vec<u8> {
    let mut header = Header::reference();
    let shape = &mut header.shapes[System::Item.position()];
    // 0x01, STRUCT 0x24, name "Item" (4 bytes + its length), then the
    // field count, 6.
    assert_eq!(&shape[..7], &[0x01, 0x24, 4, b'I', b't', b'e', b'm']);
    assert_eq!(shape[7], 6);
    shape.splice(7..8, [0x86, 0x00]);
    Bundle::with_header(&tiny(), &header).bytes()
}

/// A schema whose quest record type cannot be traced: an untagged enum,
/// which postcard cannot read either.
mod untraceable {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum Either {
        Number(u32),
        Text(String),
    }

    #[derive(Serialize, Deserialize)]
    pub struct OddQuest {
        pub id: QuestId,
        pub owner: PlayerId,
        pub zones: Vec<ZoneId>,
        pub progress: Either,
    }

    impl QuestRecord for OddQuest {
        fn id(&self) -> QuestId {
            self.id
        }
        fn owner(&self) -> PlayerId {
            self.owner
        }
        fn zone_context(&self) -> &[ZoneId] {
            &self.zones
        }
    }

    pub struct Odd;

    impl Schema for Odd {
        const NAME: &'static str = "caelmor-reference";
        const VERSION: u32 = 1;
        type Player = Player;
        type World = Zone;
        type Npc = Npc;
        type Item = Item;
        type Quest = OddQuest;
    }
}

fn verified_as_untraceable_schema() -> Outcome {
    verify_as::<untraceable::Odd>(&base_bytes(), &VerifyOptions::new()).map(|_| ())
}

// --- Rule 10: records (typed open only) -------------------------------------------

/// A zone record whose biome is not a variant of `Biome`.
#[derive(Serialize)]
struct RawZone {
    id: ZoneId,
    name: String,
    biome: u32,
    level_range: (u16, u16),
}

fn zone_with_unknown_biome() -> Vec<u8> {
    let mut b = base();
    let zones = tiny().zones;
    let raw = [
        RawZone {
            id: zones[0].id,
            name: zones[0].name.clone(),
            biome: 99,
            level_range: zones[0].level_range,
        },
        RawZone {
            id: zones[1].id,
            name: zones[1].name.clone(),
            biome: 0,
            level_range: zones[1].level_range,
        },
    ];
    b.section(System::World).payload = raw.iter().flat_map(enc).collect();
    b.bytes()
}

fn one_player_record_missing() -> Vec<u8> {
    let mut b = base();
    b.section(System::Player).payload = enc(&tiny().players[0]);
    b.bytes()
}

fn player_record_overlong_id() -> Vec<u8> {
    let mut b = base();
    let players = tiny().players;
    let mut first = enc(&players[0]);
    assert_eq!(first[0], 1);
    first.splice(0..1, [0x81, 0x00]);
    b.section(System::Player).payload = [first, enc(&players[1])].concat();
    b.bytes()
}

fn bytes_after_last_npc_record() -> Vec<u8> {
    let mut b = base();
    b.section(System::Npc).payload.extend([0xaa, 0xbb]);
    b.bytes()
}

/// The index lists players 1 and 2; the payload holds players 1 and 3.
fn player_record_differs_from_index() -> Vec<u8> {
    let mut b = base();
    let mut players = tiny().players;
    players[1].id = PlayerId(3);
    b.section(System::Player).payload = players.iter().flat_map(enc).collect();
    b.bytes()
}

/// The index puts item 4 in zone 2; the record says zone 1.
fn item_record_differs_from_index() -> Vec<u8> {
    let mut b = base();
    let mut items = tiny().items;
    items[3].location = ItemLocation::Zone(ZoneId(1));
    b.section(System::Item).payload = items.iter().flat_map(enc).collect();
    b.bytes()
}

// ===========================================================================
// Crafted saves.
// ===========================================================================

/// Each list sorted by id, as the save chain would write it, so the hand
/// encoder and the save chain see the same sequence.
fn sorted(mut shard: Shard) -> Shard {
    shard.players.sort_by_key(|r| r.id);
    shard.zones.sort_by_key(|r| r.id);
    shard.npcs.sort_by_key(|r| r.id);
    shard.items.sort_by_key(|r| r.id);
    shard.quests.sort_by_key(|r| r.id);
    shard
}

/// Saves `shard`; the hand-encoded bundle of the same records must be
/// refused by the reader with the very same rejection (the rules are
/// written once, run on save and on load).
fn save_outcome(shard: Shard) -> Outcome {
    let shard = sorted(shard);
    let saved = save(&shard, &authority()).map(|_| ());
    let loaded = read(&Bundle::of(&shard).bytes());
    assert_eq!(saved, loaded, "save and load must refuse alike");
    saved
}

fn save_with(mutate: impl FnOnce(&mut Shard)) -> Outcome {
    let mut shard = tiny();
    mutate(&mut shard);
    save_outcome(shard)
}

fn dangling(edge: Edge) -> Outcome {
    save_with(|s| match edge {
        Edge::NpcZone => s.npcs[1].zone = ZoneId(9),
        Edge::ItemZone => s.items[3].location = ItemLocation::Zone(ZoneId(9)),
        Edge::ItemPlayer => s.items[0].location = ItemLocation::Player(PlayerId(9)),
        Edge::ItemOwner => s.items[3].owner = Some(PlayerId(9)),
        Edge::ItemItem => s.items[1].location = ItemLocation::Container(ItemId(9)),
        Edge::QuestPlayer => s.quests[0].owner = PlayerId(9),
        Edge::QuestZone => s.quests[1].zones = vec![ZoneId(2), ZoneId(9)],
    })
}

const EDGES: [(Edge, u64); 7] = [
    (Edge::NpcZone, 2),
    (Edge::ItemZone, 4),
    (Edge::ItemPlayer, 1),
    (Edge::ItemOwner, 4),
    (Edge::ItemItem, 2),
    (Edge::QuestPlayer, 1),
    (Edge::QuestZone, 2),
];

fn duplicate(system: System) -> Outcome {
    save_with(|s| match system {
        System::Player => s.players.push(s.players[1].clone()),
        System::World => s.zones.push(s.zones[0].clone()),
        System::Npc => s.npcs.push(s.npcs[0].clone()),
        System::Item => s.items.push(s.items[3].clone()),
        System::Quest => s.quests.push(s.quests[1].clone()),
    })
}

fn cycle_of_one() -> Outcome {
    save_with(|s| s.items[3].location = ItemLocation::Container(ItemId(4)))
}

fn cycle_of_three() -> Outcome {
    // 1 in 3, 3 in 2 (already), 2 in 1 (already).
    save_with(|s| s.items[0].location = ItemLocation::Container(ItemId(3)))
}

/// A schema whose player record can refuse to serialize.
mod poison {
    use super::*;

    fn refuse_if_set<S: Serializer>(poisoned: &bool, s: S) -> Result<S::Ok, S::Error> {
        if *poisoned {
            Err(serde::ser::Error::custom(
                "this record refuses to serialize",
            ))
        } else {
            s.serialize_bool(false)
        }
    }

    #[derive(Serialize, Deserialize)]
    pub struct PoisonPlayer {
        pub id: PlayerId,
        #[serde(serialize_with = "refuse_if_set")]
        pub poisoned: bool,
    }

    impl PlayerRecord for PoisonPlayer {
        fn id(&self) -> PlayerId {
            self.id
        }
    }

    pub struct Poison;

    impl Schema for Poison {
        const NAME: &'static str = "poison";
        const VERSION: u32 = 1;
        type Player = PoisonPlayer;
        type World = Zone;
        type Npc = Npc;
        type Item = Item;
        type Quest = Quest;
    }
}

fn unencodable_player() -> Outcome {
    save_poison(true)
}

/// A schema whose player record answers an id its encoding leaves out.
mod forgetful {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub struct ForgetfulPlayer {
        pub number: u64,
        /// Set at run time, never saved: a decoded player has none.
        #[serde(skip)]
        pub id: Option<PlayerId>,
    }

    impl PlayerRecord for ForgetfulPlayer {
        fn id(&self) -> PlayerId {
            self.id.unwrap_or(PlayerId(self.number))
        }
    }

    pub struct Forgetful;

    impl Schema for Forgetful {
        const NAME: &'static str = "forgetful";
        const VERSION: u32 = 1;
        type Player = ForgetfulPlayer;
        type World = Zone;
        type Npc = Npc;
        type Item = Item;
        type Quest = Quest;
    }
}

fn player_forgets_its_id() -> Outcome {
    use forgetful::{Forgetful, ForgetfulPlayer};
    let authority = MemStore::<Forgetful>::new(SHARD).claim().unwrap();
    let players = [
        ForgetfulPlayer {
            number: 1,
            id: None,
        },
        ForgetfulPlayer {
            number: 5,
            id: Some(PlayerId(2)),
        },
    ];
    let shard = tiny();
    let _sealed = Save::begin(&authority)
        .players(&players)?
        .world(&shard.zones)?
        .npcs(&shard.npcs)?
        .items(&shard.items)?
        .quests(&shard.quests)?
        .seal();
    Ok(())
}

fn save_poison(poisoned: bool) -> Outcome {
    use poison::{Poison, PoisonPlayer};
    let authority = MemStore::<Poison>::new(SHARD).claim().unwrap();
    let players = [
        PoisonPlayer {
            id: PlayerId(2),
            poisoned,
        },
        PoisonPlayer {
            id: PlayerId(1),
            poisoned: false,
        },
    ];
    let shard = tiny();
    let _sealed = Save::begin(&authority)
        .players(&players)?
        .world(&shard.zones)?
        .npcs(&shard.npcs)?
        .items(&shard.items)?
        .quests(&shard.quests)?
        .seal();
    Ok(())
}

// ===========================================================================
// One test per code, asserting the exact rejection.
// ===========================================================================

#[test]
fn e_magic() {
    assert_eq!(read(&wrong_magic()), Err(Rejection::BadMagic));
    assert_eq!(read(&other_format_magic()), Err(Rejection::BadMagic));
    assert_eq!(read(b""), Err(Rejection::BadMagic));
    assert_eq!(read(b"CAX"), Err(Rejection::BadMagic));
    assert_eq!(read(b"not a bundle at all"), Err(Rejection::BadMagic));
}

#[test]
fn e_version() {
    assert_eq!(
        read(&format_version_1()),
        Err(Rejection::UnsupportedVersion {
            found: 1,
            supported: 2
        })
    );
    for found in [0, 3, 0x0100, u16::MAX] {
        let mut b = base();
        b.version = found;
        assert_eq!(
            read(&b.bytes()),
            Err(Rejection::UnsupportedVersion {
                found,
                supported: 2
            })
        );
    }
}

#[test]
fn e_truncated() {
    let full = base_bytes();
    let len = full.len() as u64;
    assert_eq!(
        read(&cut_last_byte()),
        Err(Rejection::Truncated {
            part: "frame",
            needed: len,
            available: len - 1
        })
    );
    assert_eq!(
        read(&magic_prefix()),
        Err(Rejection::Truncated {
            part: "magic",
            needed: 8,
            available: 4
        })
    );
    assert_eq!(
        read(&full[..9]),
        Err(Rejection::Truncated {
            part: "format version",
            needed: 10,
            available: 9
        })
    );
    assert_eq!(
        read(&full[..12]),
        Err(Rejection::Truncated {
            part: "frame length",
            needed: 18,
            available: 12
        })
    );
    // Inside the frame (rule 7): a payload longer than what is left, and a
    // section that ends before its payload length.
    let npc_payload = base().sections[System::Npc.position()].payload.len() as u64;
    match read(&payload_len_too_long()) {
        Err(Rejection::Truncated {
            part: "section payload",
            needed,
            available,
        }) => {
            assert_eq!(needed, npc_payload + 10_000);
            assert!(available < needed);
        }
        other => panic!("expected E-TRUNCATED on the NPC payload, got {other:?}"),
    }
    assert_eq!(
        read(&payload_len_missing()),
        Err(Rejection::Truncated {
            part: "section payload length",
            needed: 8,
            available: 0
        })
    );
}

#[test]
fn e_trailing() {
    assert_eq!(
        read(&one_extra_byte()),
        Err(Rejection::TrailingBytes {
            part: Part::Frame,
            extra: 1
        })
    );
    assert_eq!(
        read(&bytes_after_last_section()),
        Err(Rejection::TrailingBytes {
            part: Part::Section(System::Quest),
            extra: 3
        })
    );
    // Inside a payload: only typed open can tell, schema-agnostic
    // verification accepts the bundle.
    let bytes = bytes_after_last_npc_record();
    assert!(verify_plain(&bytes).is_ok());
    assert_eq!(
        read(&bytes),
        Err(Rejection::TrailingBytes {
            part: Part::Payload(System::Npc),
            extra: 2
        })
    );
}

#[test]
fn e_frame() {
    for bytes in [
        frame_len_49(),
        with_frame_len(&base_bytes(), 0),
        table_unknown_tag(),
        stamp_tag_differs(),
    ] {
        assert_eq!(read(&bytes).unwrap_err().code(), RejectionCode::Frame);
    }
    // The smallest frame the reader accepts as a frame is 50 bytes; a
    // 50-byte frame then fails on its empty body, not on its length.
    assert_eq!(empty_body().len(), EMPTY_FRAME);
    assert_ne!(
        read(&empty_body()).unwrap_err().code(),
        RejectionCode::Frame
    );
}

#[test]
fn e_digest() {
    assert_eq!(
        read(&flipped_payload_byte()),
        Err(Rejection::DigestMismatch)
    );
    // Every byte after the preamble is covered, the digest itself included.
    let bytes = base_bytes();
    for at in [PREAMBLE_LEN, bytes.len() / 2, bytes.len() - 1] {
        assert_eq!(
            read(&flip(&bytes, at, 0x40)),
            Err(Rejection::DigestMismatch),
            "byte {at}"
        );
    }
}

#[test]
fn e_schema() {
    let expected = |found_name: &str, found_version| {
        Err(Rejection::SchemaMismatch {
            expected_name: "caelmor-reference".into(),
            expected_version: 1,
            found_name: found_name.into(),
            found_version,
        })
    };
    assert_eq!(read(&other_schema_name()), expected("other-game", 1));
    assert_eq!(
        read(&other_schema_version()),
        expected("caelmor-reference", 2)
    );
    // Without an expectation, verify accepts either.
    assert!(verify_plain(&other_schema_name()).is_ok());
    // A reader expecting that schema accepts it.
    let options = VerifyOptions::new().expect_schema("other-game", 1);
    assert!(verify(&other_schema_name(), &options).is_ok());
}

#[test]
fn e_shape() {
    let refused = read_and_load(&other_player_shape()).unwrap_err();
    let [player, ..] = caelmor_persist::shape::schema_shapes::<Reference>().unwrap();
    let Rejection::ShapeMismatch(mismatch) = &refused else {
        panic!("not E-SHAPE: {refused}");
    };
    assert_eq!(mismatch.system(), System::Player);
    assert_eq!(mismatch.expected(), player.fingerprint());
    assert_ne!(mismatch.found(), player.fingerprint());
    let found = mismatch.found();
    // From what the bundle says to what the reader's type is.
    assert_eq!(mismatch.difference(), "Player.currency: was u32, now u64");
    assert_eq!(
        refused.to_string(),
        "E-SHAPE: the player records were written with another record type than this reader's: \
         Player.currency: was u32, now u64"
    );
    // A schema-agnostic reader has no shapes to expect: it accepts, and
    // reports the fingerprint it found.
    let verified = verify_plain(&other_player_shape()).unwrap();
    assert_eq!(verified.summary.shapes[0], found);
    assert_eq!(verified.shapes[0].fingerprint(), found);
    assert!(verified.shapes[0].to_string().contains("currency: u32"));
}

/// A changed shape is rule 9: after the schema's name and version, before
/// the shard and the epoch, and before any record is decoded.
#[test]
fn e_shape_comes_after_the_name_and_version_and_before_the_rest() {
    let changed = header_with_player_currency_u32();
    let with = |edit: fn(&mut Header)| {
        let mut header = changed.clone();
        edit(&mut header);
        Bundle::with_header(&tiny(), &header)
    };
    let code = |b: &Bundle| read(&b.bytes()).unwrap_err().code();
    assert_eq!(code(&with(|h| h.schema_version = 2)), RejectionCode::Schema);
    assert_eq!(code(&with(|_| ())), RejectionCode::Shape);
    assert_eq!(
        open_as(&with(|_| ()).bytes(), ShardId(2), Epoch(2), None)
            .unwrap_err()
            .code(),
        RejectionCode::Shape
    );
    // A player record that would not decode is never reached.
    let mut b = with(|_| ());
    b.section(System::Player).payload.truncate(3);
    assert_eq!(code(&b), RejectionCode::Shape);
    // A renamed Rust type (the container name in the shape) is not a
    // change: postcard writes no names, and the fingerprint has none.
    let mut header = Header::reference();
    let player = &mut header.shapes[System::Player.position()];
    assert_eq!(&player[2..9], b"\x06Player");
    player[3] = b'Q';
    let renamed = Bundle::with_header(&tiny(), &header).bytes();
    assert_eq!(read_and_load(&renamed), Ok(()));
    assert!(
        verify_plain(&renamed).unwrap().shapes[0]
            .to_string()
            .starts_with("Qlayer {")
    );
}

#[test]
fn a_shape_that_is_not_one_is_e_decode_for_the_header_naming_the_system() {
    assert_eq!(
        read_and_load(&npc_shape_not_a_shape()),
        Err(Rejection::Undecodable {
            part: Part::Header,
            detail: "the npc record shape: not a record shape: unknown node tag at byte 1".into(),
        })
    );
    let refused = read_and_load(&item_shape_not_canonical()).unwrap_err();
    assert_eq!(refused.code(), RejectionCode::Decode);
    assert!(
        refused.to_string().contains("the item record shape"),
        "{refused}"
    );
}

#[test]
fn e_shape_untraceable_names_the_system_and_the_type() {
    let refused = verified_as_untraceable_schema().unwrap_err();
    let Rejection::Untraceable(untraceable) = &refused else {
        panic!("not E-SHAPE-UNTRACEABLE: {refused}");
    };
    assert_eq!(untraceable.system(), System::Quest);
    let record = untraceable.error().record();
    assert!(record.ends_with("OddQuest"), "{record}");
    let shown = refused.to_string();
    assert!(
        shown.starts_with("E-SHAPE-UNTRACEABLE: the quest record type: cannot fingerprint"),
        "{shown}"
    );
    assert!(shown.contains("Either"), "{shown}");
    // A store refuses to claim for such a schema, before anything is
    // written.
    let mut store = MemStore::<untraceable::Odd>::new(SHARD);
    let refused = store.claim().unwrap_err();
    assert_eq!(refused.code(), "E-SHAPE-UNTRACEABLE");
    assert!(
        refused
            .to_string()
            .starts_with("E-SHAPE-UNTRACEABLE: the quest record type: "),
        "{refused}"
    );
    assert_eq!(store.head().unwrap(), None, "nothing written");
}

fn opened_by_shard_2() -> Outcome {
    let typed = open_as(&base_bytes(), ShardId(2), EPOCH, None);
    assert_eq!(load_as(&base_bytes(), ShardId(2), EPOCH, None), typed);
    typed
}

#[test]
fn e_shard() {
    assert_eq!(
        opened_by_shard_2(),
        Err(Rejection::ShardMismatch {
            expected: ShardId(2),
            found: ShardId(1)
        })
    );
    let options = VerifyOptions::new().expect_shard(ShardId(2));
    assert_eq!(
        verify(&base_bytes(), &options).unwrap_err().code(),
        RejectionCode::Shard
    );
}

#[test]
fn e_shard_mixed() {
    assert_eq!(
        read(&section_from_another_shard()),
        Err(Rejection::ShardMixed {
            system: System::Item,
            found: ShardId(9),
            bundle: ShardId(1)
        })
    );
}

fn loaded_as_epoch_2() -> Outcome {
    let typed = open_as(&base_bytes(), SHARD, Epoch(2), None);
    assert_eq!(load_as(&base_bytes(), SHARD, Epoch(2), None), typed);
    typed
}

#[test]
fn e_epoch() {
    assert_eq!(
        loaded_as_epoch_2(),
        Err(Rejection::EpochMismatch {
            expected: Epoch(2),
            found: Epoch(1)
        })
    );
    let options = VerifyOptions::new().expect_epoch(Epoch(2));
    assert_eq!(
        verify(&base_bytes(), &options).unwrap_err().code(),
        RejectionCode::Epoch
    );
}

#[test]
fn e_epoch_mixed() {
    assert_eq!(
        read(&section_from_another_epoch()),
        Err(Rejection::EpochMixed {
            system: System::Item,
            found: Epoch(2),
            bundle: Epoch(1)
        })
    );
}

#[test]
fn e_section_missing() {
    assert_eq!(
        read(&section_dropped()),
        Err(Rejection::SectionMissing {
            system: System::Item
        })
    );
    assert_eq!(
        read(&no_sections()),
        Err(Rejection::SectionMissing {
            system: System::Player
        })
    );
}

#[test]
fn e_section_duplicate() {
    assert_eq!(
        read(&sections_duplicated()),
        Err(Rejection::SectionDuplicated {
            system: System::Item
        })
    );
}

#[test]
fn e_section_order() {
    assert_eq!(
        read(&sections_swapped()),
        Err(Rejection::SectionOrder {
            position: 1,
            expected: System::World,
            found: System::Npc
        })
    );
}

#[test]
fn e_noncanonical() {
    let cases = [
        (header_overlong_shard(), Part::Header),
        (table_overlong_count(), Part::SectionTable),
        (stamp_overlong_shard(), Part::Section(System::World)),
        (index_overlong_id(), Part::Section(System::Player)),
        (player_record_overlong_id(), Part::Record(System::Player, 0)),
    ];
    for (bytes, part) in cases {
        assert_eq!(read(&bytes), Err(Rejection::NonCanonical { part }));
    }
}

#[test]
fn e_record_order() {
    assert_eq!(
        read(&players_unsorted()),
        Err(Rejection::RecordOrder {
            system: System::Player,
            id: 1
        })
    );
}

#[test]
fn e_duplicate_id() {
    assert_eq!(
        read(&players_duplicated()),
        Err(Rejection::DuplicateId {
            system: System::Player,
            id: 1
        })
    );
    for (system, id) in [
        (System::Player, 2),
        (System::World, 1),
        (System::Npc, 1),
        (System::Item, 4),
        (System::Quest, 2),
    ] {
        assert_eq!(
            duplicate(system),
            Err(Rejection::DuplicateId { system, id })
        );
    }
}

#[test]
fn e_dangling_ref_on_every_edge() {
    assert_eq!(
        read(&npc_in_missing_zone()),
        Err(Rejection::DanglingRef {
            edge: Edge::NpcZone,
            from: 2,
            to: 9
        })
    );
    for (edge, from) in EDGES {
        assert_eq!(
            dangling(edge),
            Err(Rejection::DanglingRef { edge, from, to: 9 }),
            "{edge}"
        );
    }
}

#[test]
fn e_containment_cycle() {
    assert_eq!(
        cycle_of_one(),
        Err(Rejection::ContainmentCycle { item: ItemId(4) })
    );
    assert_eq!(
        cycle_of_three(),
        Err(Rejection::ContainmentCycle { item: ItemId(1) })
    );
    assert_eq!(
        read(&items_in_a_cycle()),
        Err(Rejection::ContainmentCycle { item: ItemId(1) })
    );
}

#[test]
fn e_index_mismatch() {
    for (bytes, system, position) in [
        (player_record_differs_from_index(), System::Player, 1),
        (item_record_differs_from_index(), System::Item, 3),
    ] {
        assert!(
            verify_plain(&bytes).is_ok(),
            "the index alone is consistent"
        );
        match read(&bytes) {
            Err(Rejection::IndexMismatch {
                system: s,
                position: p,
                ..
            }) => assert_eq!((s, p), (system, position)),
            other => panic!("expected E-INDEX-MISMATCH, got {other:?}"),
        }
    }
}

#[test]
fn e_decode() {
    let cases = [
        (empty_body(), Part::Header),
        (header_not_utf8(), Part::Header),
        (zone_with_unknown_biome(), Part::Record(System::World, 0)),
        (one_player_record_missing(), Part::Record(System::Player, 1)),
    ];
    for (bytes, expected) in cases {
        match read(&bytes) {
            Err(Rejection::Undecodable { part, detail }) => {
                assert_eq!(part, expected);
                assert!(!detail.is_empty());
            }
            other => panic!("expected E-DECODE at {expected}, got {other:?}"),
        }
    }
}

#[test]
fn e_encode() {
    match unencodable_player() {
        Err(Rejection::Unencodable { system, id, .. }) => {
            assert_eq!((system, id), (System::Player, 2));
        }
        other => panic!("expected E-ENCODE, got {other:?}"),
    }
    // Control: the same save without the failing record goes through.
    assert_eq!(save_poison(false), Ok(()));
}

#[test]
fn e_record_roundtrip() {
    // Player 2 was indexed as 2, encoded as number 5, and would decode as 5.
    assert_eq!(
        player_forgets_its_id(),
        Err(Rejection::RecordRoundtrip {
            system: System::Player,
            id: 2,
            detail: "decodes to other ids/references",
        })
    );
}

// ===========================================================================
// The order of the rules: the first that fails wins.
// ===========================================================================

#[test]
fn rules_1_to_4_in_order() {
    // Magic before version.
    let mut b = base();
    b.magic = *b"XXXXXXXX";
    b.version = 7;
    assert_eq!(read(&b.bytes()), Err(Rejection::BadMagic));
    // Version before the frame length.
    let short = format_version_1();
    assert_eq!(
        read(&short[..30]).unwrap_err().code(),
        RejectionCode::Version
    );
    // Frame length before the digest: a cut or extended frame never gets to
    // the digest.
    assert_eq!(
        read(&cut_last_byte()).unwrap_err().code(),
        RejectionCode::Truncated
    );
    assert_eq!(
        read(&flip(&one_extra_byte(), 20, 0xff)).unwrap_err().code(),
        RejectionCode::Trailing
    );
    // The digest before anything is decoded: a garbage body with a stale
    // digest is E-DIGEST, the same body re-digested is E-DECODE.
    let mut garbage = base_bytes();
    let end = garbage.len() - DIGEST_LEN;
    garbage[PREAMBLE_LEN..end].fill(0xff);
    assert_eq!(read(&garbage), Err(Rejection::DigestMismatch));
    assert_eq!(
        read(&redigest(&garbage)).unwrap_err().code(),
        RejectionCode::Decode
    );
}

#[test]
fn rules_5_to_8_in_order() {
    // Header before section table.
    let mut b = base();
    b.header.splice(0..1, [0x81, 0x00]);
    b.table = table(&[4, 3]);
    assert_eq!(
        read(&b.bytes()),
        Err(Rejection::NonCanonical { part: Part::Header })
    );
    // Table: tag by tag, unknown (E-FRAME) or repeated (E-SECTION-DUPLICATE),
    // whichever comes first; then missing; then order.
    for (tags, code) in [
        (&[0, 1, 9, 1][..], RejectionCode::Frame),
        (&[9, 0, 0][..], RejectionCode::Frame),
        (&[0, 0, 9][..], RejectionCode::SectionDuplicate),
        (&[0, 0, 1, 2, 3][..], RejectionCode::SectionDuplicate),
        (&[4, 3, 2, 1][..], RejectionCode::SectionMissing),
        (&[4, 3, 2, 1, 0][..], RejectionCode::SectionOrder),
    ] {
        let mut b = base();
        b.table = table(tags);
        assert_eq!(read(&b.bytes()).unwrap_err().code(), code, "{tags:?}");
    }
    // The section table before any section.
    let mut b = base();
    b.table = table(&[0, 1, 2, 3]);
    b.section(System::Player).stamp = vec![0, 5, 5];
    assert_eq!(
        read(&b.bytes()).unwrap_err().code(),
        RejectionCode::SectionMissing
    );
    // Within a stamp: tag, then shard, then epoch.
    let mut b = base();
    b.section(System::World).stamp = vec![1, 5, 5];
    assert_eq!(
        read(&b.bytes()).unwrap_err().code(),
        RejectionCode::ShardMixed
    );
    b.section(System::World).stamp = vec![4, 5, 5];
    assert_eq!(read(&b.bytes()).unwrap_err().code(), RejectionCode::Frame);
    // Sections in order: a fault in the NPC section wins over one in the
    // quest section, whatever the kinds.
    let mut shard = tiny();
    shard.npcs[0].zone = ZoneId(8);
    shard.quests.reverse();
    assert_eq!(
        read(&Bundle::of(&shard).bytes()),
        Err(Rejection::DanglingRef {
            edge: Edge::NpcZone,
            from: 1,
            to: 8
        })
    );
    // Within a section: ids, then references, then containment.
    let mut shard = tiny();
    shard.items[3].location = ItemLocation::Container(ItemId(4));
    shard.items[1].owner = Some(PlayerId(7));
    assert_eq!(
        read(&Bundle::of(&shard).bytes()).unwrap_err().code(),
        RejectionCode::DanglingRef
    );
    shard.items.swap(0, 1);
    assert_eq!(
        read(&Bundle::of(&shard).bytes()).unwrap_err().code(),
        RejectionCode::RecordOrder
    );
    // Every section before the bytes after the last one.
    let mut b = Bundle::of(&shard);
    b.tail = vec![1];
    assert_eq!(
        read(&b.bytes()).unwrap_err().code(),
        RejectionCode::RecordOrder
    );
}

#[test]
fn rule_7_the_stamp_is_checked_before_the_index_decodes() {
    // The stamp names the item section where the table says world, and the
    // index's only zone id is a varint longer than any u64: the stamp is
    // checked first.
    let mut b = base();
    let world = b.section(System::World);
    world.stamp = vec![3, 1, 1];
    world.index = [&[1][..], &[0xff; 10]].concat();
    world.payload.clear();
    assert_eq!(read(&b.bytes()).unwrap_err().code(), RejectionCode::Frame);
    // With the right tag, the index fails to decode.
    b.section(System::World).stamp = vec![1, 1, 1];
    match read(&b.bytes()) {
        Err(Rejection::Undecodable { part, .. }) => assert_eq!(part, Part::Section(System::World)),
        other => panic!("expected E-DECODE in the world index, got {other:?}"),
    }
}

#[test]
fn rule_7_ids_and_references_before_the_payload_length() {
    // Unsorted ids and a payload length far beyond the input: the index
    // rules are checked before the payload length.
    let mut shard = tiny();
    shard.players.reverse();
    let mut b = Bundle::of(&shard);
    b.section(System::Player).payload_len = Some(1 << 40);
    assert_eq!(
        read(&b.bytes()).unwrap_err().code(),
        RejectionCode::RecordOrder
    );
    // Sorted again, the payload length is what fails.
    let mut b = base();
    b.section(System::Player).payload_len = Some(1 << 40);
    assert_eq!(
        read(&b.bytes()).unwrap_err().code(),
        RejectionCode::Truncated
    );
    // A dangling reference also precedes the payload length.
    let mut shard = tiny();
    shard.items[0].owner = Some(PlayerId(9));
    let mut b = Bundle::of(&shard);
    b.section(System::Item).payload_len = Some(1 << 40);
    assert_eq!(
        read(&b.bytes()).unwrap_err().code(),
        RejectionCode::DanglingRef
    );
}

#[test]
fn rule_8_before_9_before_10() {
    // Bytes after the last section beat every expectation.
    let mut b = Bundle::with_header(
        &tiny(),
        &Header {
            schema_name: "other-game".into(),
            ..Header::reference()
        },
    );
    b.tail = vec![7];
    assert_eq!(
        read(&b.bytes()).unwrap_err().code(),
        RejectionCode::Trailing
    );
    // Schema, then shard, then epoch.
    let header = Header {
        shard: ShardId(5),
        epoch: Epoch(5),
        schema_version: 9,
        ..Header::reference()
    };
    let bytes = Bundle::with_header(&tiny(), &header).bytes();
    assert_eq!(read(&bytes).unwrap_err().code(), RejectionCode::Schema);
    let header = Header {
        schema_version: 1,
        ..header
    };
    let bytes = Bundle::with_header(&tiny(), &header).bytes();
    assert_eq!(read(&bytes).unwrap_err().code(), RejectionCode::Shard);
    assert_eq!(
        open_as(&bytes, ShardId(5), Epoch(1), None)
            .unwrap_err()
            .code(),
        RejectionCode::Epoch
    );
    // Expectations before any record is decoded.
    let bytes = zone_with_unknown_biome();
    assert_eq!(
        open_as(&bytes, SHARD, Epoch(3), None).unwrap_err().code(),
        RejectionCode::Epoch
    );
    // Records section by section: the player section's trailing bytes beat
    // the world section's undecodable record.
    let mut b = base();
    b.section(System::Player).payload.push(0);
    b.section(System::World).payload = vec![0xff; 4];
    assert_eq!(
        read(&b.bytes()),
        Err(Rejection::TrailingBytes {
            part: Part::Payload(System::Player),
            extra: 1
        })
    );
}

// ===========================================================================
// Keyed digests.
// ===========================================================================

const KEY: [u8; 32] = [0x11; 32];
const OTHER_KEY: [u8; 32] = [0x22; 32];

fn key_options(key: [u8; 32]) -> VerifyOptions {
    VerifyOptions::new().key(DigestKey::from_bytes(key))
}

#[test]
fn a_keyed_bundle_needs_its_key() {
    let mut store = MemStore::with_key(SHARD, DigestKey::from_bytes(KEY));
    let authority = store.claim().unwrap();
    let sealed = save(&tiny(), &authority).unwrap();
    let keyed = sealed.bytes().to_vec();
    store.commit(sealed, &authority).unwrap();
    let loaded = store.load_latest().unwrap().unwrap();

    // Its own key accepts it.
    assert!(verify(&keyed, &key_options(KEY)).is_ok());
    assert!(caelmor_persist::Restore::open(loaded, &authority).is_ok());
    // Another key refuses it.
    assert_eq!(
        verify(&keyed, &key_options(OTHER_KEY)).unwrap_err(),
        Rejection::DigestMismatch
    );
    assert_eq!(
        open_as(&keyed, SHARD, EPOCH, Some(OTHER_KEY)),
        Err(Rejection::DigestMismatch)
    );
    // No key refuses it.
    assert_eq!(verify_plain(&keyed).unwrap_err(), Rejection::DigestMismatch);
    assert_eq!(open(&keyed), Err(Rejection::DigestMismatch));
}

#[test]
fn an_unkeyed_bundle_is_refused_under_a_key() {
    let plain = saved_bytes(&tiny());
    assert!(open(&plain).is_ok());
    assert_eq!(
        verify(&plain, &key_options(KEY)).unwrap_err(),
        Rejection::DigestMismatch
    );
    assert_eq!(
        open_as(&plain, SHARD, EPOCH, Some(KEY)),
        Err(Rejection::DigestMismatch)
    );
}

#[test]
fn an_edit_with_a_recomputed_unkeyed_digest_is_refused_under_a_key() {
    // A player grants himself a fortune and recomputes the (unkeyed) digest.
    let mut edited = tiny();
    edited.players[1].currency = u64::MAX;
    let forged = Bundle::of(&edited).bytes();
    assert!(open(&forged).is_ok(), "the edit itself is a valid bundle");
    assert_eq!(
        open_as(&forged, SHARD, EPOCH, Some(KEY)),
        Err(Rejection::DigestMismatch)
    );
    // Editing the server's keyed bundle in place ("Kaelmor" → "kaelmor")
    // and recomputing the unkeyed digest.
    let keyed = saved_keyed_bundle();
    let at = keyed
        .windows(7)
        .position(|w| w == b"Kaelmor")
        .expect("the player's name is in the bundle");
    let forged = redigest(&flip(&keyed, at, 0x20));
    assert_eq!(
        verify(&forged, &key_options(KEY)).unwrap_err(),
        Rejection::DigestMismatch
    );
    assert_eq!(
        open_as(&forged, SHARD, EPOCH, Some(KEY)),
        Err(Rejection::DigestMismatch)
    );
    // Control: the same edit digested with the key passes, so it is the key,
    // not the edit, that the reader refused.
    let with_key = redigest_keyed(&flip(&keyed, at, 0x20), &KEY);
    assert!(open_as(&with_key, SHARD, EPOCH, Some(KEY)).is_ok());
    assert!(open(&forged).is_ok(), "unkeyed, the forgery would pass");
    // A keyed store whose bundle and head were both rewritten by the
    // forger still refuses it at the digest; an unkeyed one would load it.
    assert_eq!(
        load_as(&forged, SHARD, EPOCH, Some(KEY)),
        Err(Rejection::DigestMismatch)
    );
    assert_eq!(load_as(&forged, SHARD, EPOCH, None), Ok(()));
}

fn saved_keyed_bundle() -> Vec<u8> {
    save(&tiny(), &keyed_authority(KEY)).unwrap().into_bytes()
}

// ===========================================================================
// No input panics.
// ===========================================================================

/// Reads `bytes` with both readers inside `catch_unwind`; asserts neither
/// panics, both agree, and a second read gives the same answer.
fn guarded(bytes: &[u8]) -> Outcome {
    let once = || {
        catch_unwind(AssertUnwindSafe(|| read(bytes)))
            .unwrap_or_else(|_| panic!("a reader panicked on {} bytes", bytes.len()))
    };
    let first = once();
    assert_eq!(first, once(), "the same bytes must give the same answer");
    first
}

/// The first rejection of a bundle whose preamble or digest region was
/// damaged without re-digesting, computed from the specification.
fn expected_for_damaged_frame(bytes: &[u8]) -> RejectionCode {
    if bytes[..8] != *b"CAELPRST" {
        return RejectionCode::Magic;
    }
    if bytes[8..10] != [2, 0] {
        return RejectionCode::Version;
    }
    let declared = frame_len(bytes);
    let available = bytes.len() as u64;
    if declared < EMPTY_FRAME as u64 {
        RejectionCode::Frame
    } else if available < declared {
        RejectionCode::Truncated
    } else if available > declared {
        RejectionCode::Trailing
    } else {
        RejectionCode::Digest
    }
}

#[test]
fn every_truncation_is_rejected_without_panic() {
    for bytes in [base_bytes(), saved_bytes(&ShardSpec::small().generate(4))] {
        for len in 0..bytes.len() {
            let code = guarded(&bytes[..len]).unwrap_err().code();
            let expected = if len == 0 {
                RejectionCode::Magic
            } else {
                RejectionCode::Truncated
            };
            assert_eq!(code, expected, "truncated to {len} of {}", bytes.len());
        }
        assert_eq!(guarded(&bytes), Ok(()));
    }
}

#[test]
fn every_byte_flip_is_rejected_without_panic() {
    // The whole tiny bundle; the header region and digest of a small one.
    let tiny = base_bytes();
    let small = saved_bytes(&ShardSpec::small().generate(4));
    let small_positions: Vec<usize> = (0..160).chain(small.len() - 40..small.len()).collect();
    for (bytes, positions) in [
        (&tiny, (0..tiny.len()).collect::<Vec<_>>()),
        (&small, small_positions),
    ] {
        for at in positions {
            for mask in [0x01, 0x80, 0xff] {
                let damaged = flip(bytes, at, mask);
                let code = guarded(&damaged).unwrap_err().code();
                assert_eq!(
                    code,
                    expected_for_damaged_frame(&damaged),
                    "byte {at} ^ {mask:#04x}"
                );
            }
        }
    }
}

/// An accepted edit with a recomputed digest is a valid bundle of another
/// state (another fence, another value of a field: anyone can write one
/// when no key is set). It must be the one canonical encoding of what it
/// restores: the specification's encoder, given the records a store's load
/// and restore give back and the bundle's own header, writes these bytes.
fn canonical_encoding_of_what_it_restores(bytes: &[u8]) {
    let verified = verify_plain(bytes).expect("accepted");
    let summary = verified.summary;
    let records = restore_bytes(bytes, SHARD, summary.epoch, None).expect("accepted");
    let header = Header {
        shard: summary.shard,
        epoch: summary.epoch,
        fence: summary.fence,
        schema_name: summary.schema_name,
        schema_version: summary.schema_version,
        shapes: verified.shapes.map(|s| s.to_bytes()),
    };
    assert_eq!(
        Bundle::with_header(&records, &header).bytes(),
        bytes,
        "an accepted edit is not the canonical encoding of what it restores"
    );
}

#[test]
fn edited_and_redigested_bodies_never_panic() {
    let bytes = base_bytes();
    let end = bytes.len() - DIGEST_LEN;
    // Every answer below is held to the independent reader (in `read`):
    // the exact first rejection code, or acceptance of the same bundle.
    let mut codes: std::collections::BTreeMap<&str, u32> = Default::default();
    // Every single-byte edit of the body, with a recomputed digest.
    for at in PREAMBLE_LEN..end {
        for mask in [0x01, 0x02, 0x40, 0x80, 0xff] {
            let edited = redigest(&flip(&bytes, at, mask));
            match guarded(&edited) {
                Err(r) => {
                    *codes.entry(r.code().as_str()).or_default() += 1;
                    assert!(
                        !matches!(
                            r.code(),
                            RejectionCode::Magic | RejectionCode::Version | RejectionCode::Digest
                        ),
                        "byte {at} ^ {mask:#04x}: the digest was recomputed, yet {r}"
                    );
                }
                Ok(()) => {
                    *codes.entry("accepted").or_default() += 1;
                    canonical_encoding_of_what_it_restores(&edited);
                }
            }
        }
    }
    // The tally of this fixed sweep, exactly: a change of any rule's
    // reach shows here first.
    let tally: Vec<String> = codes.iter().map(|(c, n)| format!("{c} {n}")).collect();
    eprintln!("single-byte edits, re-digested: {}", tally.join(", "));
    assert_eq!(tally.join(", "), EDITED_BODY_TALLY, "single-byte edits");
    // Every truncation of the body, re-framed: always refused.
    let content = base().content();
    for len in PREAMBLE_LEN..content.len() {
        let cut = frame(content[..len].to_vec(), None);
        guarded(&cut).expect_err(&format!("body cut to {}", len - PREAMBLE_LEN));
    }
    // Random bodies and random multi-byte edits, seeded.
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    for _ in 0..1_000 {
        let len = rng.random_range(0..300);
        let mut content = base().content()[..PREAMBLE_LEN].to_vec();
        content.extend((0..len).map(|_| rng.random::<u8>()));
        guarded(&frame(content, None)).expect_err("a random body");

        let mut edited = bytes[..end].to_vec();
        for _ in 0..rng.random_range(1..6) {
            let at = rng.random_range(PREAMBLE_LEN..end);
            edited[at] = rng.random();
        }
        let edited = frame(edited, None);
        if guarded(&edited).is_ok() {
            canonical_encoding_of_what_it_restores(&edited);
        }
    }
}

/// What `edited_and_redigested_bodies_never_panic` finds among the 5 edits
/// of each body byte of the tiny bundle (TESTING.md).
const EDITED_BODY_TALLY: &str = "E-CONTAINMENT-CYCLE 2, E-DANGLING-REF 71, E-DECODE 1632, \
    E-DUPLICATE-ID 2, E-EPOCH-MIXED 30, E-FRAME 53, E-INDEX-MISMATCH 146, E-NONCANONICAL 13, \
    E-RECORD-ORDER 27, E-SCHEMA 54, E-SECTION-DUPLICATE 10, E-SECTION-MISSING 1, E-SHAPE 882, \
    E-SHARD-MIXED 28, E-TRAILING 6, E-TRUNCATED 197, accepted 646";

// ===========================================================================
// Coverage: every code has a case.
// ===========================================================================

/// How a case produces its rejection.
enum Input {
    /// Bytes, opened as shard 1, epoch 1 under the reference schema (and
    /// cross-checked against `verify`).
    Bytes(fn() -> Vec<u8>),
    /// Anything else: a save, other expectations.
    Run(fn() -> Outcome),
}

struct Case {
    code: RejectionCode,
    test: &'static str,
    input: Input,
}

fn case(code: RejectionCode, test: &'static str, input: Input) -> Case {
    Case { code, test, input }
}

fn cases() -> Vec<Case> {
    use Input::{Bytes, Run};
    use RejectionCode as C;
    vec![
        case(C::Magic, "e_magic", Bytes(wrong_magic)),
        case(C::Magic, "e_magic", Bytes(other_format_magic)),
        case(C::Version, "e_version", Bytes(format_version_1)),
        case(C::Truncated, "e_truncated", Bytes(cut_last_byte)),
        case(C::Truncated, "e_truncated", Bytes(magic_prefix)),
        case(C::Truncated, "e_truncated", Bytes(payload_len_too_long)),
        case(C::Truncated, "e_truncated", Bytes(payload_len_missing)),
        case(C::Trailing, "e_trailing", Bytes(one_extra_byte)),
        case(C::Trailing, "e_trailing", Bytes(bytes_after_last_section)),
        case(
            C::Trailing,
            "e_trailing",
            Bytes(bytes_after_last_npc_record),
        ),
        case(C::Frame, "e_frame", Bytes(frame_len_49)),
        case(C::Frame, "e_frame", Bytes(table_unknown_tag)),
        case(C::Frame, "e_frame", Bytes(stamp_tag_differs)),
        case(C::Digest, "e_digest", Bytes(flipped_payload_byte)),
        case(C::Schema, "e_schema", Bytes(other_schema_name)),
        case(C::Schema, "e_schema", Bytes(other_schema_version)),
        case(C::Shape, "e_shape", Bytes(other_player_shape)),
        case(
            C::ShapeUntraceable,
            "e_shape_untraceable",
            Run(verified_as_untraceable_schema),
        ),
        case(C::Decode, "e_decode", Bytes(npc_shape_not_a_shape)),
        case(C::Decode, "e_decode", Bytes(item_shape_not_canonical)),
        case(C::Shard, "e_shard", Run(opened_by_shard_2)),
        case(
            C::ShardMixed,
            "e_shard_mixed",
            Bytes(section_from_another_shard),
        ),
        case(C::Epoch, "e_epoch", Run(loaded_as_epoch_2)),
        case(
            C::EpochMixed,
            "e_epoch_mixed",
            Bytes(section_from_another_epoch),
        ),
        case(
            C::SectionMissing,
            "e_section_missing",
            Bytes(section_dropped),
        ),
        case(C::SectionMissing, "e_section_missing", Bytes(no_sections)),
        case(
            C::SectionDuplicate,
            "e_section_duplicate",
            Bytes(sections_duplicated),
        ),
        case(C::SectionOrder, "e_section_order", Bytes(sections_swapped)),
        case(
            C::NonCanonical,
            "e_noncanonical",
            Bytes(header_overlong_shard),
        ),
        case(
            C::NonCanonical,
            "e_noncanonical",
            Bytes(table_overlong_count),
        ),
        case(
            C::NonCanonical,
            "e_noncanonical",
            Bytes(stamp_overlong_shard),
        ),
        case(C::NonCanonical, "e_noncanonical", Bytes(index_overlong_id)),
        case(
            C::NonCanonical,
            "e_noncanonical",
            Bytes(player_record_overlong_id),
        ),
        case(C::RecordOrder, "e_record_order", Bytes(players_unsorted)),
        case(C::DuplicateId, "e_duplicate_id", Bytes(players_duplicated)),
        case(
            C::DuplicateId,
            "e_duplicate_id",
            Run(|| duplicate(System::Item)),
        ),
        case(
            C::DanglingRef,
            "e_dangling_ref_on_every_edge",
            Bytes(npc_in_missing_zone),
        ),
        case(
            C::DanglingRef,
            "e_dangling_ref_on_every_edge",
            Run(|| dangling(Edge::ItemOwner)),
        ),
        case(
            C::ContainmentCycle,
            "e_containment_cycle",
            Run(cycle_of_one),
        ),
        case(
            C::ContainmentCycle,
            "e_containment_cycle",
            Run(cycle_of_three),
        ),
        case(
            C::ContainmentCycle,
            "e_containment_cycle",
            Bytes(items_in_a_cycle),
        ),
        case(
            C::IndexMismatch,
            "e_index_mismatch",
            Bytes(player_record_differs_from_index),
        ),
        case(
            C::IndexMismatch,
            "e_index_mismatch",
            Bytes(item_record_differs_from_index),
        ),
        case(C::Decode, "e_decode", Bytes(empty_body)),
        case(C::Decode, "e_decode", Bytes(header_not_utf8)),
        case(C::Decode, "e_decode", Bytes(zone_with_unknown_biome)),
        case(C::Decode, "e_decode", Bytes(one_player_record_missing)),
        case(C::Encode, "e_encode", Run(unencodable_player)),
        case(
            C::RecordRoundtrip,
            "e_record_roundtrip",
            Run(player_forgets_its_id),
        ),
    ]
}

#[test]
fn every_code_is_covered_by_a_case() {
    let cases = cases();
    for code in RejectionCode::ALL {
        let covered = cases.iter().filter(|c| c.code == code).count();
        assert!(covered > 0, "{code} has no test case");
    }
    let mut strings: Vec<&str> = RejectionCode::ALL.iter().map(|c| c.as_str()).collect();
    strings.sort_unstable();
    strings.dedup();
    assert_eq!(
        strings.len(),
        RejectionCode::ALL.len(),
        "codes are distinct"
    );

    for case in &cases {
        let run = || match case.input {
            Input::Bytes(bytes) => read_and_load(&bytes()),
            Input::Run(run) => run(),
        };
        let first = run().expect_err(case.test);
        assert_eq!(first.code(), case.code, "{}: {first}", case.test);
        assert_eq!(case.code.to_string(), case.code.as_str());
        let shown = first.to_string();
        assert!(
            shown.starts_with(&format!("{}: ", case.code.as_str())),
            "{}: {shown}",
            case.test
        );
        assert_eq!(run(), Err(first), "{}: not deterministic", case.test);
    }
}
