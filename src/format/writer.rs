//! Streams one bundle into one buffer: preamble and header first, then each
//! section as the save chain completes it, then the frame length and digest.

use serde::Serialize;

use super::flavor::append;
use super::wire::{Header, ItemEntry, NpcEntry, QuestEntryRef, SectionStamp};
use super::{CANONICAL_TABLE, DIGEST_LEN, DigestKey, FORMAT_VERSION, MAGIC, PREAMBLE_LEN, digest};
use crate::ids::{Epoch, PlayerId, ShardId, ZoneId};
use crate::rejection::Rejection;
use crate::schema::ItemLocation;
use crate::system::System;

/// Appends `value` as a postcard varint: unsigned LEB128, seven bits a
/// byte, low bits first, the shortest form.
#[inline]
fn varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push(value as u8 | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// A structural index entry, written exactly as the format specification
/// (and postcard, which the reader checks it with) lays it out, without
/// going through serde: the index is all varints and tags, and writing
/// them directly costs a fraction of a serializer call per field.
pub(crate) trait IndexEntry {
    fn write(&self, buf: &mut Vec<u8>);
}

impl IndexEntry for PlayerId {
    fn write(&self, buf: &mut Vec<u8>) {
        varint(buf, self.0);
    }
}

impl IndexEntry for ZoneId {
    fn write(&self, buf: &mut Vec<u8>) {
        varint(buf, self.0);
    }
}

impl IndexEntry for NpcEntry {
    fn write(&self, buf: &mut Vec<u8>) {
        varint(buf, self.id.0);
        varint(buf, self.zone.0);
    }
}

impl IndexEntry for ItemEntry {
    fn write(&self, buf: &mut Vec<u8>) {
        varint(buf, self.id.0);
        let (variant, id) = match self.location {
            ItemLocation::Zone(z) => (0, z.0),
            ItemLocation::Player(p) => (1, p.0),
            ItemLocation::Container(c) => (2, c.0),
        };
        varint(buf, variant);
        varint(buf, id);
        match self.owner {
            None => buf.push(0),
            Some(p) => {
                buf.push(1);
                varint(buf, p.0);
            }
        }
    }
}

impl IndexEntry for QuestEntryRef<'_> {
    fn write(&self, buf: &mut Vec<u8>) {
        varint(buf, self.id.0);
        varint(buf, self.owner.0);
        varint(buf, self.zones.len() as u64);
        for z in self.zones {
            varint(buf, z.0);
        }
    }
}

/// How a run of items (a section's index entries, or its records) grows the
/// bundle's buffer.
///
/// Whenever the buffer is about to run out of room, room for all the items
/// still to come is reserved in one step — as many as remain, at the
/// average size written so far in this run, plus a sixteenth — instead of
/// letting the buffer double: the bundle's buffer then ends close to its
/// length rather than up to twice it. A reservation is never larger than
/// the buffer's capacity (what doubling would add). If the estimate falls
/// short the next reservation corrects it; if a reservation cannot be made,
/// the buffer grows as usual.
struct Growth {
    total: usize,
    start: usize,
    done: usize,
}

impl Growth {
    /// Room always left for the item being written and the few bytes that
    /// follow a run (a payload length, the next section's stamp).
    const ROOM: usize = 4096;
    /// The size assumed for an item before any was written.
    const FIRST_GUESS: usize = 16;

    fn new(buf: &[u8], total: usize) -> Self {
        Self {
            total,
            start: buf.len(),
            done: 0,
        }
    }

    /// Called before writing each item.
    #[inline]
    fn next(&mut self, buf: &mut Vec<u8>) {
        if buf.capacity() - buf.len() < Self::ROOM {
            let per_item = match self.done {
                0 => Self::FIRST_GUESS,
                n => (buf.len() - self.start).div_ceil(n),
            };
            let rest = self
                .total
                .saturating_sub(self.done)
                .saturating_mul(per_item);
            let wanted = rest.saturating_add(rest / 16).saturating_add(Self::ROOM);
            // Never more than doubling would take: a run whose first items
            // are much larger than the rest cannot make it reserve more.
            let _ = buf.try_reserve_exact(wanted.min(buf.capacity().max(Self::ROOM)));
        }
        self.done += 1;
    }
}

/// Writes a section's index entries, one per record, in record order.
pub(crate) struct IndexWriter<'a> {
    buf: &'a mut Vec<u8>,
    growth: Growth,
}

impl IndexWriter<'_> {
    /// Appends the next entry.
    #[inline]
    pub(crate) fn push(&mut self, entry: impl IndexEntry) {
        self.growth.next(self.buf);
        entry.write(self.buf);
    }
}

/// A bundle under construction. Sections must be appended in
/// [`System::ORDER`]; the save chain's types guarantee that.
#[derive(Debug)]
pub(crate) struct BundleWriter {
    buf: Vec<u8>,
    shard: ShardId,
    epoch: Epoch,
}

fn encode_failed(system: System, id: u64, e: postcard::Error) -> Rejection {
    Rejection::Unencodable {
        system,
        id,
        detail: e.to_string(),
    }
}

impl BundleWriter {
    /// Writes the preamble (with a placeholder frame length), the header and
    /// the section table.
    pub(crate) fn begin(header: &Header) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&MAGIC);
        buf.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        buf.extend_from_slice(&[0; 8]);
        // Encoding plain ids, integers and a string into a Vec cannot fail.
        let _ = append(header, &mut buf);
        let _ = append(&CANONICAL_TABLE[..], &mut buf);
        debug_assert!(buf.len() > PREAMBLE_LEN);
        Self {
            buf,
            shard: header.shard,
            epoch: header.epoch,
        }
    }

    /// Appends one section: stamp, structural index, then the records.
    ///
    /// `index` writes one entry per record, in the same (canonical) order,
    /// and may refuse the section (its checks run in the same pass over the
    /// records); `id_of` names a record in an encode error.
    pub(crate) fn section<'r, R>(
        &mut self,
        system: System,
        records: &[&'r R],
        index: impl FnOnce(&mut IndexWriter<'_>) -> Result<(), Rejection>,
        id_of: impl Fn(&R) -> u64,
    ) -> Result<(), Rejection>
    where
        R: Serialize + 'r,
    {
        let stamp = SectionStamp {
            system: system as u8,
            shard: self.shard,
            epoch: self.epoch,
        };
        let _ = append(&stamp, &mut self.buf);
        // The index is a postcard sequence: its length as a varint, then the
        // entries.
        varint(&mut self.buf, records.len() as u64);
        let mut entries = IndexWriter {
            growth: Growth::new(&self.buf, records.len()),
            buf: &mut self.buf,
        };
        index(&mut entries)?;
        debug_assert_eq!(entries.growth.done, records.len(), "one entry per record");
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 8]);
        let mut growth = Growth::new(&self.buf, records.len());
        for record in records {
            growth.next(&mut self.buf);
            append(*record, &mut self.buf).map_err(|e| encode_failed(system, id_of(record), e))?;
        }
        let payload_len = (self.buf.len() - len_at - 8) as u64;
        self.buf[len_at..len_at + 8].copy_from_slice(&payload_len.to_le_bytes());
        Ok(())
    }

    /// Patches the frame length, appends the digest and returns the bundle
    /// and its digest.
    pub(crate) fn finish(mut self, key: Option<&DigestKey>) -> (Vec<u8>, [u8; DIGEST_LEN]) {
        let frame_len = (self.buf.len() + DIGEST_LEN) as u64;
        self.buf[10..18].copy_from_slice(&frame_len.to_le_bytes());
        let d = digest(&self.buf, key);
        self.buf.extend_from_slice(&d);
        (self.buf, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NpcId;
    use crate::ids::{ItemId, QuestId};

    fn written(entry: impl IndexEntry) -> Vec<u8> {
        let mut out = Vec::new();
        entry.write(&mut out);
        out
    }

    fn run(sizes: impl ExactSizeIterator<Item = usize>) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut growth = Growth::new(&buf, sizes.len());
        for size in sizes {
            growth.next(&mut buf);
            buf.extend(core::iter::repeat_n(7, size));
        }
        buf
    }

    #[test]
    fn buffers_end_close_to_their_length() {
        let even = run(core::iter::repeat_n(10, 100_000));
        assert!(
            even.capacity() <= even.len() + even.len() / 8,
            "{}",
            even.capacity()
        );
        // Items that shrink after the first: never more than doubling.
        let skewed = run((0..100_000).map(|n| if n < 4 { 100_000 } else { 1 }));
        assert!(skewed.capacity() <= 2 * skewed.len() + Growth::ROOM);
    }

    /// The hand-written index encoding is postcard's, byte for byte.
    #[test]
    fn index_entries_are_written_as_postcard_writes_them() {
        let ids = [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            300,
            u64::from(u32::MAX),
            (1 << 56) - 1,
            1 << 63,
            u64::MAX,
        ];
        for &a in &ids {
            let mut v = Vec::new();
            varint(&mut v, a);
            assert_eq!(v, postcard::to_allocvec(&a).unwrap(), "{a}");
            assert_eq!(
                written(PlayerId(a)),
                postcard::to_allocvec(&PlayerId(a)).unwrap()
            );
            assert_eq!(
                written(ZoneId(a)),
                postcard::to_allocvec(&ZoneId(a)).unwrap()
            );
            for &b in &ids[..4] {
                let npc = NpcEntry {
                    id: NpcId(a),
                    zone: ZoneId(b),
                };
                assert_eq!(written(npc), postcard::to_allocvec(&npc).unwrap());
                for location in [
                    ItemLocation::Zone(ZoneId(b)),
                    ItemLocation::Player(PlayerId(b)),
                    ItemLocation::Container(ItemId(b)),
                ] {
                    for owner in [None, Some(PlayerId(b)), Some(PlayerId(a))] {
                        let item = ItemEntry {
                            id: ItemId(a),
                            location,
                            owner,
                        };
                        assert_eq!(written(item), postcard::to_allocvec(&item).unwrap());
                    }
                }
                let zones = [ZoneId(a), ZoneId(b), ZoneId(1)];
                for n in 0..=zones.len() {
                    let quest = QuestEntryRef {
                        id: QuestId(b),
                        owner: PlayerId(a),
                        zones: &zones[..n],
                    };
                    let expected = postcard::to_allocvec(&quest).unwrap();
                    assert_eq!(written(quest), expected);
                }
            }
        }
    }
}
