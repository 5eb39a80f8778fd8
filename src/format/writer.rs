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

/// A section of at least this many records is shared between two cores:
/// below it, starting a thread costs more than it saves.
const SECOND_CORE_FROM: usize = 16 * 1024;

/// The share of a large section's records (numerator, denominator) that the
/// second thread encodes after the checks, while this one writes the index
/// and the rest: on the reference shard's item section, where the checks
/// cost about as much as writing the index, 3/5 finished both threads
/// together (measured against 2/5, 1/2, 2/3 and 7/10). Those records are
/// copied once more, into the bundle, and are held twice until then.
const TAIL_SHARE: (usize, usize) = (3, 5);

/// Encodes `records` back to back into a buffer of their own.
fn encode_alone<'r, R>(
    system: System,
    records: &[&'r R],
    id_of: &impl Fn(&R) -> u64,
) -> Result<Vec<u8>, Rejection>
where
    R: Serialize + 'r,
{
    let mut out = Vec::new();
    let mut growth = Growth::new(&out, records.len());
    for record in records {
        growth.next(&mut out);
        append(*record, &mut out).map_err(|e| encode_failed(system, id_of(record), e))?;
    }
    Ok(out)
}

/// A bundle under construction. Sections must be appended in
/// [`System::ORDER`]; the save chain's types guarantee that.
#[derive(Debug)]
pub(crate) struct BundleWriter {
    buf: Vec<u8>,
    shard: ShardId,
    epoch: Epoch,
    /// Where the current section's payload length goes.
    payload_len_at: usize,
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
            payload_len_at: 0,
        }
    }

    /// Appends one section: stamp, structural index, then the records.
    ///
    /// `check` runs the section's structural rules and may refuse it;
    /// `index` writes one entry per record, in the same (canonical) order;
    /// `id_of` names a record in an encode error. A refusal by `check` comes
    /// before any encode error, and encode errors come in record order, so
    /// the rejection does not depend on how the work was shared out.
    ///
    /// A large section is shared between two cores: a second thread runs
    /// the checks and then encodes the last [`TAIL_SHARE`] of the records
    /// into a buffer of its own, while this one writes the index and the
    /// other records straight into the bundle, then appends that buffer.
    pub(crate) fn section<'r, R>(
        &mut self,
        system: System,
        records: &[&'r R],
        check: impl Fn() -> Result<(), Rejection> + Sync,
        index: impl FnOnce(&mut IndexWriter<'_>),
        id_of: impl Fn(&R) -> u64 + Sync,
    ) -> Result<(), Rejection>
    where
        R: Serialize + Sync + 'r,
    {
        let stamp = SectionStamp {
            system: system as u8,
            shard: self.shard,
            epoch: self.epoch,
        };
        let _ = append(&stamp, &mut self.buf);
        if records.len() < SECOND_CORE_FROM {
            check()?;
            return self.index_and_records(system, records, index, &[], &id_of);
        }
        let split = records.len() - records.len() / TAIL_SHARE.1 * TAIL_SHARE.0;
        let (head, tail) = records.split_at(split);
        let ((checked, tail), head) = crate::parallel::join(
            || {
                let checked = check();
                let tail = match checked {
                    Ok(()) => encode_alone(system, tail, &id_of),
                    Err(_) => Ok(Vec::new()),
                };
                (checked, tail)
            },
            || self.index_and_records(system, head, index, tail, &id_of),
        );
        checked?;
        head?;
        let tail = tail?;
        // The room the tail needs, if the reservations fell short, and the
        // few bytes that follow it before the next reservation (the next
        // stamp): growing by a `push` or `extend_from_slice` alone would
        // double the bundle's buffer.
        let _ = self.buf.try_reserve_exact(tail.len() + Growth::ROOM);
        self.buf.extend_from_slice(&tail);
        self.patch_payload_len();
        Ok(())
    }

    /// The section's index (one entry for each of `head` and `tail`), its
    /// payload length (patched once the payload is complete) and the
    /// records of `head`, leaving room for those of `tail`.
    fn index_and_records<'r, R>(
        &mut self,
        system: System,
        head: &[&'r R],
        index: impl FnOnce(&mut IndexWriter<'_>),
        tail: &[&'r R],
        id_of: &impl Fn(&R) -> u64,
    ) -> Result<(), Rejection>
    where
        R: Serialize + 'r,
    {
        let count = head.len() + tail.len();
        // The index is a postcard sequence: its length as a varint, then the
        // entries.
        varint(&mut self.buf, count as u64);
        let mut entries = IndexWriter {
            growth: Growth::new(&self.buf, count),
            buf: &mut self.buf,
        };
        index(&mut entries);
        debug_assert_eq!(entries.growth.done, count, "one entry per record");
        self.payload_len_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 8]);
        // Reservations count the tail's records too, so that appending them
        // finds the room already there.
        let mut growth = Growth::new(&self.buf, count);
        for record in head {
            growth.next(&mut self.buf);
            append(*record, &mut self.buf).map_err(|e| encode_failed(system, id_of(record), e))?;
        }
        if tail.is_empty() {
            self.patch_payload_len();
        }
        Ok(())
    }

    /// Writes the length of the payload that ends the buffer into its slot.
    fn patch_payload_len(&mut self) {
        let at = self.payload_len_at;
        let payload_len = (self.buf.len() - at - 8) as u64;
        self.buf[at..at + 8].copy_from_slice(&payload_len.to_le_bytes());
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

    /// A record that fails to encode when asked to.
    struct Flaky {
        id: u64,
        fails: bool,
    }

    impl Serialize for Flaky {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if self.fails {
                return Err(serde::ser::Error::custom("refused"));
            }
            s.serialize_u64(self.id.wrapping_mul(0x9e37_79b9))
        }
    }

    fn header() -> Header {
        let shape = crate::shape::shape_of::<u64>().expect("a u64 traces");
        Header::new(
            ShardId(1),
            Epoch(1),
            crate::ids::Fence(1),
            ("test", 1),
            [&shape; 5],
        )
    }

    /// One section of `records` written through [`BundleWriter::section`],
    /// refused by `check` if it says so.
    fn one_section(records: &[Flaky], refuse: Option<u64>) -> Result<Vec<u8>, Rejection> {
        let refs: Vec<&Flaky> = records.iter().collect();
        let mut w = BundleWriter::begin(&header());
        w.section(
            System::Player,
            &refs,
            || match refuse {
                Some(id) => Err(Rejection::DuplicateId {
                    system: System::Player,
                    id,
                }),
                None => Ok(()),
            },
            |ix| refs.iter().for_each(|r| ix.push(PlayerId(r.id))),
            |r| r.id,
        )?;
        Ok(w.finish(None).0)
    }

    /// The same section written by one thread, in one piece.
    fn one_thread(records: &[Flaky]) -> Vec<u8> {
        let refs: Vec<&Flaky> = records.iter().collect();
        let mut w = BundleWriter::begin(&header());
        let _ = append(
            &SectionStamp {
                system: System::Player as u8,
                shard: ShardId(1),
                epoch: Epoch(1),
            },
            &mut w.buf,
        );
        w.index_and_records(
            System::Player,
            &refs,
            |ix| refs.iter().for_each(|r| ix.push(PlayerId(r.id))),
            &[],
            &|r: &Flaky| r.id,
        )
        .expect("nothing fails");
        w.finish(None).0
    }

    fn flaky(n: usize, failing: &[usize]) -> Vec<Flaky> {
        (0..n)
            .map(|i| Flaky {
                id: i as u64,
                fails: failing.contains(&i),
            })
            .collect()
    }

    #[test]
    fn a_section_shared_between_two_threads_is_the_one_thread_section() {
        for n in [
            SECOND_CORE_FROM - 1,
            SECOND_CORE_FROM,
            3 * SECOND_CORE_FROM + 7,
        ] {
            let records = flaky(n, &[]);
            assert_eq!(
                one_section(&records, None).expect("valid"),
                one_thread(&records),
                "{n}"
            );
        }
    }

    /// Appending a second thread's records leaves room for what follows,
    /// so that the next section's first bytes do not double the buffer.
    #[test]
    fn shared_sections_leave_the_bundle_close_to_its_length() {
        let records = flaky(4 * SECOND_CORE_FROM, &[]);
        let refs: Vec<&Flaky> = records.iter().collect();
        let mut w = BundleWriter::begin(&header());
        for system in [System::Player, System::World, System::Npc] {
            w.section(
                system,
                &refs,
                || Ok(()),
                |ix| refs.iter().for_each(|r| ix.push(PlayerId(r.id))),
                |r| r.id,
            )
            .expect("valid");
        }
        let bytes = w.finish(None).0;
        assert!(
            bytes.capacity() <= bytes.len() + bytes.len() / 8,
            "{} bytes in a buffer of {}",
            bytes.len(),
            bytes.capacity()
        );
    }

    #[test]
    fn the_first_failure_wins_however_the_work_was_shared() {
        let n = 2 * SECOND_CORE_FROM;
        let split = n - n / TAIL_SHARE.1 * TAIL_SHARE.0;
        let (head, tail) = (split / 2, split + 10);
        let failed_at = |r: Result<Vec<u8>, Rejection>| match r {
            Err(Rejection::Unencodable { id, .. }) => Some(id),
            _ => None,
        };
        // Encode failures in both halves: the earlier record is named.
        assert_eq!(
            failed_at(one_section(&flaky(n, &[head, tail]), None)),
            Some(head as u64)
        );
        // Only in the half the second thread encodes.
        assert_eq!(
            failed_at(one_section(&flaky(n, &[tail]), None)),
            Some(tail as u64)
        );
        // A refusal by the checks comes before any encode failure.
        assert_eq!(
            one_section(&flaky(n, &[head, tail]), Some(7)),
            Err(Rejection::DuplicateId {
                system: System::Player,
                id: 7
            })
        );
    }

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
