//! Reads a section's structural index straight from the bytes, without
//! serde and without re-encoding it afterwards.
//!
//! The index is all varints, option tags and one enum tag. Decoding it with
//! postcard and then re-encoding it to prove it was canonical (rule 7 of the
//! [format](super)) took about as long as decoding the records themselves;
//! this reader gives the same answers in one pass. It accepts exactly what
//! postcard accepts, fails with the same postcard error where postcard
//! fails, and notes every over-long varint as it goes — the only
//! non-canonical form an index can take — so that, as before, a bundle that
//! does not decode is `E-DECODE` and one that decodes but is not canonical
//! is `E-NONCANONICAL`. The test at the bottom holds it to the serde path on
//! valid, edited and random bytes.
//!
//! Memory: an index's declared count reserves at most what the bytes left
//! could hold at the entries' smallest encoding, and never more than
//! [`RESERVE_PER_BYTE`] bytes per byte left ([`vec_for`](super::vec_for)); so an index
//! costs at most 16 bytes of memory per byte of bundle (entries are 8 to 40
//! bytes in memory, at least 1 to 4 encoded), whatever it declares.

use postcard::Error;

use super::wire::{ItemEntry, NpcEntry, QuestEntry};
use super::{RESERVE_PER_BYTE, vec_for};
use crate::ids::{ItemId, NpcId, PlayerId, QuestId, ZoneId};
use crate::rejection::{Part, Rejection};
use crate::schema::ItemLocation;
use crate::system::System;

// The fewest bytes each kind of index entry takes: one per varint and per
// tag (Stage 21.2 §7's edges, as the format's index table lists them).
/// A player entry: its id.
const MIN_PLAYER: usize = 1;
/// A zone entry: its id.
const MIN_ZONE: usize = 1;
/// An NPC entry: its id and its zone.
const MIN_NPC: usize = 2;
/// An item entry: its id, the location's variant and id, the owner's tag.
const MIN_ITEM: usize = 4;
/// A quest entry: its id, its owner and the length of its zone list.
const MIN_QUEST: usize = 3;

// A valid index is reserved in one step, never cut short by the memory
// bound: every entry fits in RESERVE_PER_BYTE bytes per byte of its
// smallest encoding (the largest ratio is a quest's, 40 bytes for 3).
const _: () = {
    assert!(size_of::<PlayerId>() <= RESERVE_PER_BYTE * MIN_PLAYER);
    assert!(size_of::<ZoneId>() <= RESERVE_PER_BYTE * MIN_ZONE);
    assert!(size_of::<NpcEntry>() <= RESERVE_PER_BYTE * MIN_NPC);
    assert!(size_of::<ItemEntry>() <= RESERVE_PER_BYTE * MIN_ITEM);
    assert!(size_of::<QuestEntry>() <= RESERVE_PER_BYTE * MIN_QUEST);
};

/// A cursor over index bytes that remembers whether everything it read was
/// in its shortest form.
struct Cursor<'a> {
    rest: &'a [u8],
    canonical: bool,
}

impl Cursor<'_> {
    #[inline]
    fn byte(&mut self) -> Result<u8, Error> {
        let (&first, rest) = self
            .rest
            .split_first()
            .ok_or(Error::DeserializeUnexpectedEnd)?;
        self.rest = rest;
        Ok(first)
    }

    /// An unsigned LEB128 varint of at most `MAX_BYTES` bytes whose last
    /// byte is at most `LAST_MAX` when all `MAX_BYTES` are used: postcard's
    /// rule for a `u64` (10, 1) or a `u32` (5, 15).
    #[inline]
    fn varint<const MAX_BYTES: u32, const LAST_MAX: u8>(&mut self) -> Result<u64, Error> {
        // Most index varints (tags, small ids) are one byte.
        if let Some((&first, rest)) = self.rest.split_first()
            && first < 0x80
        {
            self.rest = rest;
            return Ok(u64::from(first));
        }
        let mut out = 0u64;
        for i in 0..MAX_BYTES {
            let byte = self.byte()?;
            out |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if i == MAX_BYTES - 1 && byte > LAST_MAX {
                    return Err(Error::DeserializeBadVarint);
                }
                // A varint of more than one byte that ends in a zero byte
                // says the same as a shorter one: over-long.
                self.canonical &= byte != 0;
                return Ok(out);
            }
        }
        Err(Error::DeserializeBadVarint)
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, Error> {
        self.varint::<10, 1>()
    }

    /// Steps over a `u64` varint without assembling its value: eight bytes
    /// at a time, the varint ends at the first byte whose top bit is clear.
    /// Accepts and refuses exactly what [`Cursor::u64`] does.
    #[inline]
    fn skip_u64(&mut self) -> Result<(), Error> {
        if let Some(word) = self.rest.first_chunk::<8>() {
            let ends = !u64::from_le_bytes(*word) & 0x8080_8080_8080_8080;
            if ends != 0 {
                // At most eight bytes: at most 56 bits, never an overflow.
                let len = (ends.trailing_zeros() / 8 + 1) as usize;
                self.canonical &= len == 1 || word[len - 1] != 0;
                self.rest = &self.rest[len..];
                return Ok(());
            }
        }
        // Nine or ten bytes, or fewer than eight left.
        self.u64().map(drop)
    }

    /// An enum's variant index: postcard writes it as a `u32` varint.
    #[inline]
    fn variant(&mut self) -> Result<u64, Error> {
        self.varint::<5, 0x0f>()
    }

    /// A sequence: its length, then that many elements, each at least
    /// `min_encoded` bytes long.
    fn seq<T>(
        &mut self,
        min_encoded: usize,
        mut element: impl FnMut(&mut Self) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let len = usize::try_from(self.u64()?).map_err(|_| Error::DeserializeBadVarint)?;
        // The length is only a claim: reserve what the bytes left could
        // hold at the elements' smallest encoding (see `vec_for`), so
        // that 2^40 declared items reserve a tenth of the bytes' worth of
        // entries, not forty times the bytes.
        let mut out = vec_for::<T>(len, self.rest.len(), min_encoded);
        for _ in 0..len {
            out.push(element(self)?);
        }
        Ok(out)
    }
}

fn player(c: &mut Cursor<'_>) -> Result<PlayerId, Error> {
    c.u64().map(PlayerId)
}

fn zone(c: &mut Cursor<'_>) -> Result<ZoneId, Error> {
    c.u64().map(ZoneId)
}

fn npc(c: &mut Cursor<'_>) -> Result<NpcEntry, Error> {
    Ok(NpcEntry {
        id: NpcId(c.u64()?),
        zone: zone(c)?,
    })
}

fn item(c: &mut Cursor<'_>) -> Result<ItemEntry, Error> {
    let id = ItemId(c.u64()?);
    let location = match c.variant()? {
        0 => ItemLocation::Zone(zone(c)?),
        1 => ItemLocation::Player(player(c)?),
        2 => ItemLocation::Container(ItemId(c.u64()?)),
        // serde's derived visitor refuses an unknown variant index with a
        // custom error, which postcard reports as this.
        _ => return Err(Error::SerdeDeCustom),
    };
    let owner = match c.byte()? {
        0 => None,
        1 => Some(player(c)?),
        _ => return Err(Error::DeserializeBadOption),
    };
    Ok(ItemEntry {
        id,
        location,
        owner,
    })
}

fn quest(c: &mut Cursor<'_>) -> Result<QuestEntry, Error> {
    Ok(QuestEntry {
        id: QuestId(c.u64()?),
        owner: player(c)?,
        zones: c.seq(MIN_ZONE, zone)?,
    })
}

/// Decodes one index (a sequence of entries) from the front of `input`:
/// `E-DECODE` if it does not decode, `E-NONCANONICAL` if it decodes from
/// anything but its one canonical encoding. Advances `input` past it.
fn index<T>(
    input: &mut &[u8],
    part: Part,
    min_encoded: usize,
    entry: fn(&mut Cursor<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Rejection> {
    let mut cursor = Cursor {
        rest: input,
        canonical: true,
    };
    let entries = cursor
        .seq(min_encoded, entry)
        .map_err(|e| Rejection::Undecodable {
            part,
            detail: e.to_string(),
        })?;
    if !cursor.canonical {
        return Err(Rejection::NonCanonical { part });
    }
    *input = cursor.rest;
    Ok(entries)
}

/// The player section's index.
pub(crate) fn players(input: &mut &[u8], part: Part) -> Result<Vec<PlayerId>, Rejection> {
    index(input, part, MIN_PLAYER, player)
}

/// The world section's index.
pub(crate) fn zones(input: &mut &[u8], part: Part) -> Result<Vec<ZoneId>, Rejection> {
    index(input, part, MIN_ZONE, zone)
}

/// The NPC section's index.
pub(crate) fn npcs(input: &mut &[u8], part: Part) -> Result<Vec<NpcEntry>, Rejection> {
    index(input, part, MIN_NPC, npc)
}

/// The item section's index.
pub(crate) fn items(input: &mut &[u8], part: Part) -> Result<Vec<ItemEntry>, Rejection> {
    index(input, part, MIN_ITEM, item)
}

/// The quest section's index.
pub(crate) fn quests(input: &mut &[u8], part: Part) -> Result<Vec<QuestEntry>, Rejection> {
    index(input, part, MIN_QUEST, quest)
}

/// Hands the item index whose entries [`walk`] returned to `take`, one
/// entry at a time, without keeping them; stops at the first entry `take`
/// refuses. True if every entry decoded and was taken.
pub(crate) fn for_each_item(
    entries: &[u8],
    count: usize,
    mut take: impl FnMut(&ItemEntry) -> bool,
) -> bool {
    let mut cursor = Cursor {
        rest: entries,
        canonical: true,
    };
    for _ in 0..count {
        match item(&mut cursor) {
            Ok(entry) if take(&entry) => {}
            _ => return false,
        }
    }
    cursor.canonical && cursor.rest.is_empty()
}

/// The item index whose entries [`walk`] returned, as values.
pub(crate) fn item_entries(entries: &[u8], count: usize) -> Option<Vec<ItemEntry>> {
    let mut out = vec_for::<ItemEntry>(count, entries.len(), MIN_ITEM);
    for_each_item(entries, count, |e| {
        out.push(*e);
        true
    })
    .then_some(out)
}

/// Walks one index without keeping it, for the typed restore's one-pass
/// reader: checks that it decodes and is canonical, advances `input` past
/// it and returns its entry count and the bytes of its entries (after the
/// count), which the reader then compares with the records' own entries.
/// `None` when the index is not valid; which rule failed is for
/// [`reader::parse`](super::reader::parse) to say.
pub(crate) fn walk<'a>(input: &mut &'a [u8], system: System) -> Option<(usize, &'a [u8])> {
    let mut cursor = Cursor {
        rest: input,
        canonical: true,
    };
    let count = usize::try_from(cursor.u64().ok()?).ok()?;
    let entries = cursor.rest;
    let skip: fn(&mut Cursor<'_>) -> Result<(), Error> = match system {
        System::Player | System::World => |c| c.skip_u64(),
        System::Npc => |c| {
            c.skip_u64()?;
            c.skip_u64()
        },
        System::Item => |c| {
            c.skip_u64()?;
            if c.variant()? > 2 {
                return Err(Error::SerdeDeCustom);
            }
            c.skip_u64()?;
            match c.byte()? {
                0 => Ok(()),
                1 => c.skip_u64(),
                _ => Err(Error::DeserializeBadOption),
            }
        },
        System::Quest => |c| {
            c.skip_u64()?;
            c.skip_u64()?;
            let zones = c.u64()?;
            (0..zones).try_for_each(|_| c.skip_u64())
        },
    };
    for _ in 0..count {
        skip(&mut cursor).ok()?;
    }
    if !cursor.canonical {
        return None;
    }
    let walked = &entries[..entries.len() - cursor.rest.len()];
    *input = cursor.rest;
    Some((count, walked))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::format::reader::take;

    const PART: Part = Part::Section(System::Item);

    /// What the serde path (decode, then re-encode and compare) says of
    /// `bytes`, and how much it leaves.
    fn by_serde<T: Serialize + DeserializeOwned>(
        bytes: &[u8],
    ) -> Result<(Vec<T>, usize), Rejection> {
        let mut input = bytes;
        take::<Vec<T>>(&mut input, PART).map(|v| (v, input.len()))
    }

    fn by_hand<T>(
        bytes: &[u8],
        read: fn(&mut &[u8], Part) -> Result<Vec<T>, Rejection>,
    ) -> Result<(Vec<T>, usize), Rejection> {
        let mut input = bytes;
        read(&mut input, PART).map(|v| (v, input.len()))
    }

    /// Both readers give the same answer for `bytes`, read as each of the
    /// five indexes.
    fn agree(bytes: &[u8]) {
        assert_eq!(
            by_hand(bytes, players),
            by_serde(bytes),
            "players {bytes:02x?}"
        );
        assert_eq!(by_hand(bytes, zones), by_serde(bytes), "zones {bytes:02x?}");
        assert_eq!(by_hand(bytes, npcs), by_serde(bytes), "npcs {bytes:02x?}");
        assert_eq!(by_hand(bytes, items), by_serde(bytes), "items {bytes:02x?}");
        assert_eq!(
            by_hand(bytes, quests),
            by_serde(bytes),
            "quests {bytes:02x?}"
        );
    }

    /// Ids of every varint length, and the edges of each.
    fn id() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..300,
            (0u32..64).prop_map(|bits| 1u64 << bits),
            (1u32..64).prop_map(|bits| (1u64 << bits) - 1),
            any::<u64>(),
        ]
    }

    fn location() -> impl Strategy<Value = ItemLocation> {
        prop_oneof![
            id().prop_map(|z| ItemLocation::Zone(ZoneId(z))),
            id().prop_map(|p| ItemLocation::Player(PlayerId(p))),
            id().prop_map(|c| ItemLocation::Container(ItemId(c))),
        ]
    }

    fn item_entry() -> impl Strategy<Value = ItemEntry> {
        (id(), location(), proptest::option::of(id())).prop_map(|(i, location, owner)| ItemEntry {
            id: ItemId(i),
            location,
            owner: owner.map(PlayerId),
        })
    }

    fn quest_entry() -> impl Strategy<Value = QuestEntry> {
        (id(), id(), proptest::collection::vec(id(), 0..4)).prop_map(|(q, p, zones)| QuestEntry {
            id: QuestId(q),
            owner: PlayerId(p),
            zones: zones.into_iter().map(ZoneId).collect(),
        })
    }

    fn encode<T: Serialize>(value: &T) -> Vec<u8> {
        postcard::to_allocvec(value).expect("index values encode")
    }

    /// A valid encoding of an index of one of the kinds.
    fn encoded() -> impl Strategy<Value = Vec<u8>> {
        let npc = (id(), id()).prop_map(|(n, z)| NpcEntry {
            id: NpcId(n),
            zone: ZoneId(z),
        });
        prop_oneof![
            proptest::collection::vec(id().prop_map(PlayerId), 0..8).prop_map(|v| encode(&v)),
            proptest::collection::vec(npc, 0..8).prop_map(|v| encode(&v)),
            proptest::collection::vec(item_entry(), 0..8).prop_map(|v| encode(&v)),
            proptest::collection::vec(quest_entry(), 0..6).prop_map(|v| encode(&v)),
        ]
    }

    /// One edit of valid bytes: the kinds of damage a valid digest can still
    /// carry (a buggy writer, an editor).
    #[derive(Clone, Debug)]
    enum Edit {
        Set(usize, u8),
        Insert(usize, u8),
        Delete(usize),
        /// Rewrites the byte at a position as a two-byte over-long varint.
        Lengthen(usize),
        Truncate(usize),
    }

    fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
        if bytes.is_empty() {
            return;
        }
        let at = |n: usize| n % bytes.len();
        match *edit {
            Edit::Set(n, b) => {
                let i = at(n);
                bytes[i] = b;
            }
            Edit::Insert(n, b) => {
                let i = at(n);
                bytes.insert(i, b);
            }
            Edit::Delete(n) => {
                let i = at(n);
                bytes.remove(i);
            }
            Edit::Lengthen(n) => {
                let i = at(n);
                if bytes[i] < 0x80 {
                    bytes[i] |= 0x80;
                    bytes.insert(i + 1, 0);
                }
            }
            Edit::Truncate(n) => {
                let i = at(n);
                bytes.truncate(i);
            }
        }
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(n, b)| Edit::Set(n, b)),
            (any::<usize>(), any::<u8>()).prop_map(|(n, b)| Edit::Insert(n, b)),
            any::<usize>().prop_map(Edit::Delete),
            any::<usize>().prop_map(Edit::Lengthen),
            any::<usize>().prop_map(Edit::Truncate),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn valid_indexes_read_the_same(bytes in encoded(), tail in proptest::collection::vec(any::<u8>(), 0..3)) {
            let mut input = bytes;
            input.extend(tail);
            agree(&input);
        }

        #[test]
        fn edited_indexes_read_the_same(bytes in encoded(), edits in proptest::collection::vec(edit(), 1..4)) {
            let mut input = bytes;
            for e in &edits {
                apply(&mut input, e);
            }
            agree(&input);
        }

        #[test]
        fn random_bytes_read_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            agree(&bytes);
        }
    }

    #[test]
    fn every_kind_of_failure_is_the_serde_paths() {
        let cases: &[&[u8]] = &[
            &[],           // no length
            &[1],          // a length and no entry
            &[0x80, 0x00], // over-long length
            &[0xff; 11],   // a varint longer than ten bytes
            &[
                1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
            ], // u64 overflow
            &[1, 5, 3, 1, 0], // item: unknown location variant
            &[1, 5, 0, 1, 2], // item: option tag 2
            &[1, 5, 0x80, 0x00, 1, 0], // item: over-long variant
            &[1, 5, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 0], // item: variant over u32
            &[1, 5, 0x80, 0x80, 0x80, 0x80, 0x0f, 1, 0], // item: large variant
            &[1, 5, 6, 0x80, 0x00], // quest: over-long zone count
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // huge length
        ];
        for bytes in cases {
            agree(bytes);
        }
    }
}
