//! Streams one bundle into one buffer: preamble and header first, then each
//! section as the save chain completes it, then the frame length and digest.
//!
//! # Every seal opens
//!
//! A section is written from a snapshot: each record's id and references
//! are read exactly once, as its index entry, and the section is sorted,
//! checked and indexed by those entries alone — a record whose methods
//! answer differently from one call to the next cannot make the checks see
//! one thing and the index say another.
//!
//! Then every record is proven, right after it is encoded: its bytes are
//! decoded the way [`Restore::open`](crate::Restore::open) decodes them
//! ([`reader::take`]: `take_from_bytes`, nothing left over, the same bytes
//! again when the decoded record is re-encoded), and the decoded record's
//! index entry must be the snapshot's. A record that fails is refused with
//! `E-RECORD-ROUNDTRIP`: its step fails and nothing is sealed, instead of a
//! bundle that every later load would refuse.

use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::flavor::append;
use super::index_reader;
use super::reader;
use super::wire::{Header, ItemEntry, NpcEntry, QuestEntry, QuestEntryRef, SectionStamp};
use super::{CANONICAL_TABLE, DIGEST_LEN, DigestKey, FORMAT_VERSION, MAGIC, PREAMBLE_LEN, digest};
use crate::ids::{Epoch, PlayerId, ShardId, ZoneId};
use crate::parallel::Threads;
use crate::rejection::{Part, Rejection};
use crate::schema::ItemLocation;
use crate::system::System;

/// Where index entries are written: appended to a buffer, or compared
/// with bytes already written ([`Compare`]).
pub(crate) trait Sink {
    fn put(&mut self, byte: u8);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, byte: u8) {
        self.push(byte);
    }
}

/// A sink that compares what is written with the front of `rest`, byte by
/// byte as it comes: a record's entry is checked against the index without
/// being written anywhere.
struct Compare<'a> {
    rest: &'a [u8],
    same: bool,
}

impl Sink for Compare<'_> {
    #[inline]
    fn put(&mut self, byte: u8) {
        match self.rest.split_first() {
            Some((&first, rest)) if first == byte => self.rest = rest,
            _ => {
                self.same = false;
                self.rest = &[];
            }
        }
    }
}

/// Writes `value` as a postcard varint: unsigned LEB128, seven bits a
/// byte, low bits first, the shortest form.
#[inline]
fn varint(sink: &mut impl Sink, mut value: u64) {
    while value >= 0x80 {
        sink.put(value as u8 | 0x80);
        value >>= 7;
    }
    sink.put(value as u8);
}

/// The varint at the front of index bytes this writer wrote: an entry's id.
/// Only used to name a record in a rejection, so a malformed varint (which
/// the writer never produces) gives 0 rather than a panic.
fn leading_varint(bytes: &[u8]) -> u64 {
    let mut out = 0u64;
    for (i, &b) in bytes.iter().take(10).enumerate() {
        out |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return out;
        }
    }
    0
}

/// A structural index entry, written exactly as the format specification
/// (and postcard, which the reader checks it with) lays it out, without
/// going through serde: the index is all varints and tags, and writing
/// them directly costs a fraction of a serializer call per field.
pub(crate) trait IndexEntry {
    fn write_to(&self, sink: &mut impl Sink);
    /// The id the entry indexes: the section's sort key, and what every
    /// entry's encoding starts with.
    fn id(&self) -> u64;

    /// Appends the entry to `buf`.
    #[inline]
    fn write(&self, buf: &mut Vec<u8>) {
        self.write_to(buf);
    }
}

impl<T: IndexEntry> IndexEntry for &T {
    #[inline]
    fn write_to(&self, sink: &mut impl Sink) {
        (**self).write_to(sink);
    }
    #[inline]
    fn id(&self) -> u64 {
        (**self).id()
    }
}

impl IndexEntry for PlayerId {
    #[inline]
    fn write_to(&self, sink: &mut impl Sink) {
        varint(sink, self.0);
    }
    #[inline]
    fn id(&self) -> u64 {
        self.0
    }
}

impl IndexEntry for ZoneId {
    #[inline]
    fn write_to(&self, sink: &mut impl Sink) {
        varint(sink, self.0);
    }
    #[inline]
    fn id(&self) -> u64 {
        self.0
    }
}

impl IndexEntry for NpcEntry {
    #[inline]
    fn write_to(&self, sink: &mut impl Sink) {
        varint(sink, self.id.0);
        varint(sink, self.zone.0);
    }
    #[inline]
    fn id(&self) -> u64 {
        self.id.0
    }
}

impl IndexEntry for ItemEntry {
    #[inline]
    fn write_to(&self, sink: &mut impl Sink) {
        varint(sink, self.id.0);
        let (variant, id) = match self.location {
            ItemLocation::Zone(z) => (0, z.0),
            ItemLocation::Player(p) => (1, p.0),
            ItemLocation::Container(c) => (2, c.0),
        };
        sink.put(variant);
        varint(sink, id);
        match self.owner {
            None => sink.put(0),
            Some(p) => {
                sink.put(1);
                varint(sink, p.0);
            }
        }
    }
    #[inline]
    fn id(&self) -> u64 {
        self.id.0
    }
}

impl IndexEntry for QuestEntryRef<'_> {
    #[inline]
    fn write_to(&self, sink: &mut impl Sink) {
        varint(sink, self.id.0);
        varint(sink, self.owner.0);
        varint(sink, self.zones.len() as u64);
        for z in self.zones {
            varint(sink, z.0);
        }
    }
    #[inline]
    fn id(&self) -> u64 {
        self.id.0
    }
}

impl IndexEntry for QuestEntry {
    #[inline]
    fn write_to(&self, sink: &mut impl Sink) {
        QuestEntryRef {
            id: self.id,
            owner: self.owner,
            zones: &self.zones,
        }
        .write_to(sink);
    }
    #[inline]
    fn id(&self) -> u64 {
        self.id.0
    }
}

/// An index entry as a value of its own, read back from the index bytes
/// the writer wrote: what the structural rules run on when the streamed
/// proof of them cannot decide, and what an unsorted section is sorted as.
pub(crate) trait OwnedEntry: IndexEntry + Sized + Send + Sync {
    /// Reads one section's index (its count, then the entries) from the
    /// front of `input`.
    fn read_index(input: &mut &[u8], part: Part) -> Result<Vec<Self>, Rejection>;
}

impl OwnedEntry for PlayerId {
    fn read_index(input: &mut &[u8], part: Part) -> Result<Vec<Self>, Rejection> {
        index_reader::players(input, part)
    }
}

impl OwnedEntry for ZoneId {
    fn read_index(input: &mut &[u8], part: Part) -> Result<Vec<Self>, Rejection> {
        index_reader::zones(input, part)
    }
}

impl OwnedEntry for NpcEntry {
    fn read_index(input: &mut &[u8], part: Part) -> Result<Vec<Self>, Rejection> {
        index_reader::npcs(input, part)
    }
}

impl OwnedEntry for ItemEntry {
    fn read_index(input: &mut &[u8], part: Part) -> Result<Vec<Self>, Rejection> {
        index_reader::items(input, part)
    }
}

impl OwnedEntry for QuestEntry {
    fn read_index(input: &mut &[u8], part: Part) -> Result<Vec<Self>, Rejection> {
        index_reader::quests(input, part)
    }
}

/// One section as a save step hands it to the writer: which system, how a
/// record's snapshot is taken, and the section's structural rules. The save
/// chain implements it once per system; the writer knows nothing of the
/// rules themselves.
pub(crate) trait Section: Sync {
    /// The schema's record type for this system.
    type Record: Serialize + DeserializeOwned + Sync;
    /// A record's index entry, as read from the record (it may borrow from
    /// it, as a quest's zone list does).
    type Entry<'r>: IndexEntry;
    /// The same entry read back from the index bytes.
    type Owned: OwnedEntry;
    /// A streamed proof of the structural rules over consecutive entries.
    type Run: Send + Sync;
    /// The section's system.
    const SYSTEM: System;

    /// Reads `record`'s id and references: the writer calls it once per
    /// record of the section (the snapshot), and once per decoded record
    /// (the proof).
    fn entry<'r>(&self, record: &'r Self::Record) -> Self::Entry<'r>;
    /// A proof of the rules over no entries yet, in a section of `count`.
    fn run(&self, count: usize) -> Self::Run;
    /// Takes the next entry into the proof.
    fn observe(&self, run: &mut Self::Run, entry: &Self::Entry<'_>);
    /// Whether the proofs of the first run of entries and (if the section
    /// was shared between two threads) the rest show that the rules hold
    /// for a section whose ids are strictly increasing. False proves
    /// nothing: [`Section::check`] then decides.
    fn holds(&self, head: &Self::Run, tail: Option<&Self::Run>) -> bool;
    /// The section's rules on all of its entries, in order: the rejection
    /// a section that breaks them gets.
    fn check(&self, entries: &[Self::Owned]) -> Result<(), Rejection>;
}

/// Where a section's snapshot comes from: the records themselves (read
/// once each), or entries already taken from them, sorted.
enum Source<'a, 'r, S: Section> {
    Records(&'a [&'r S::Record]),
    Sorted(&'a [S::Owned]),
}

impl<S: Section> Clone for Source<'_, '_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: Section> Copy for Source<'_, '_, S> {}

impl<S: Section> Source<'_, '_, S> {
    fn range(self, range: core::ops::Range<usize>) -> Self {
        match self {
            Source::Records(r) => Source::Records(&r[range]),
            Source::Sorted(e) => Source::Sorted(&e[range]),
        }
    }
}

/// What a run of the snapshot found out while writing its entries.
struct Snap<Run> {
    run: Run,
    first: Option<u64>,
    last: u64,
    /// Whether the ids were strictly increasing.
    increasing: bool,
}

/// Writes the index entries of `source` to `buf`, taking each record's
/// snapshot once and proving the section's rules on it as it goes. `total`
/// is how many entries `buf` is to take in this run and after it, for the
/// buffer's growth; `count` how many records the whole section holds, for
/// the rules.
fn snapshot<S: Section>(
    s: &S,
    source: Source<'_, '_, S>,
    buf: &mut Vec<u8>,
    total: usize,
    count: usize,
) -> Snap<S::Run> {
    let mut growth = Growth::new(buf, total);
    let mut snap = Snap {
        run: s.run(count),
        first: None,
        last: 0,
        increasing: true,
    };
    let track = |snap: &mut Snap<S::Run>, id: u64| {
        if snap.first.is_none() {
            snap.first = Some(id);
        } else {
            snap.increasing &= snap.last < id;
        }
        snap.last = id;
    };
    match source {
        Source::Records(records) => {
            for record in records {
                growth.next(buf);
                let entry = s.entry(record);
                s.observe(&mut snap.run, &entry);
                track(&mut snap, entry.id());
                entry.write(buf);
            }
        }
        Source::Sorted(entries) => {
            for entry in entries {
                growth.next(buf);
                track(&mut snap, entry.id());
                entry.write(buf);
            }
        }
    }
    snap
}

/// Why a record does not survive its own encoding: the `detail` of
/// [`Rejection::RecordRoundtrip`].
pub(crate) const DECODES_TO_OTHER: &str = "decodes to other ids/references";
/// See [`DECODES_TO_OTHER`].
pub(crate) const DOES_NOT_DECODE: &str = "does not decode";
/// See [`DECODES_TO_OTHER`].
pub(crate) const REENCODES_DIFFERENTLY: &str = "re-encodes differently";

/// Where the snapshot entries a run of records is proven against are: in
/// the buffer the records are encoded into (from this offset), or apart.
#[derive(Clone, Copy)]
enum Expected<'a> {
    Within(usize),
    Apart(&'a [u8]),
}

/// How often (in records) a run being proven looks whether its work is
/// still wanted.
const ABORT_EVERY: usize = 1024;

/// How many records this thread proves ahead at a time while it waits for
/// the second thread's snapshot.
const EARLY_CHUNK: usize = 256;

/// Encodes `records` onto `out`, proving each right after it is written:
/// decoded exactly as `open` decodes it, it must re-encode to the same
/// bytes and give back its snapshot entry, found at `expected` (the
/// entries of these records, in order). Stops at the first record that
/// fails, or, without an answer that counts, once `abort` is set.
/// `first` is the position of `records[0]` in the section; `growth` how
/// `out` grows. Returns how many bytes of snapshot entries the records
/// took.
fn encode_and_prove<S: Section>(
    s: &S,
    records: &[&S::Record],
    out: &mut Vec<u8>,
    expected: Expected<'_>,
    first: usize,
    growth: &mut Growth,
    abort: &AtomicBool,
) -> Result<usize, Rejection> {
    let start = match expected {
        Expected::Within(at) => at,
        Expected::Apart(_) => 0,
    };
    let mut cursor = start;
    for (n, record) in records.iter().enumerate() {
        if n % ABORT_EVERY == 0 && abort.load(Ordering::Relaxed) {
            return Ok(cursor - start);
        }
        // The record's id as its snapshot gave it (the entry at `cursor`
        // starts with it): the one a rejection names.
        let snapshot_id = |out: &[u8]| {
            let snapshot = match expected {
                Expected::Within(_) => out.get(cursor..),
                Expected::Apart(bytes) => bytes.get(cursor..),
            };
            leading_varint(snapshot.unwrap_or_default())
        };
        let fail = |out: &[u8], detail: &'static str| Rejection::RecordRoundtrip {
            system: S::SYSTEM,
            id: snapshot_id(out),
            detail,
        };
        growth.next(out);
        let start = out.len();
        if let Err(e) = append(*record, out) {
            return Err(encode_failed(S::SYSTEM, snapshot_id(out), e));
        }
        // Exactly what the typed reader does with a record's bytes.
        let mut bytes = &out[start..];
        let part = Part::Record(S::SYSTEM, (first + n) as u64);
        let decoded: S::Record = match reader::take(&mut bytes, part) {
            Ok(decoded) => decoded,
            Err(Rejection::NonCanonical { .. }) => return Err(fail(out, REENCODES_DIFFERENTLY)),
            Err(_) => return Err(fail(out, DOES_NOT_DECODE)),
        };
        if !bytes.is_empty() {
            // It decodes from fewer bytes than it was encoded to: what it
            // decodes to re-encodes to those fewer bytes, and a reader
            // would take the rest for the next record.
            return Err(fail(out, REENCODES_DIFFERENTLY));
        }
        let snapshot = match expected {
            Expected::Within(_) => &out[cursor..],
            Expected::Apart(bytes) => &bytes[cursor..],
        };
        // Entries are self-delimiting (no entry's encoding is a prefix of
        // another's), so matching the front of the snapshot's entries is
        // matching the record's own.
        let mut compare = Compare {
            rest: snapshot,
            same: true,
        };
        s.entry(&decoded).write_to(&mut compare);
        if !compare.same {
            return Err(fail(out, DECODES_TO_OTHER));
        }
        cursor += snapshot.len() - compare.rest.len();
    }
    Ok(cursor - start)
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

    /// A run of `total` items of which the first `done`, written from
    /// `start` on, are in the buffer already: the estimate goes on from
    /// their average size.
    fn resumed(start: usize, done: usize, total: usize) -> Self {
        Self { total, start, done }
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

/// A section of at least this many records is shared between two cores:
/// below it, starting a thread costs more than it saves.
const SECOND_CORE_FROM: usize = 4 * 1024;

/// The share of a large section's records (numerator, denominator) that the
/// second thread snapshots, encodes and proves, into buffers of its own,
/// while this one does the rest straight into the bundle. Its index entries
/// are copied into the bundle once both threads have taken their
/// snapshots, its records once they are proven; until then they are held
/// twice. Slightly more than half: this thread also copies the second
/// one's entries into the bundle and grows the bundle, and at an even split
/// (measured per thread on the reference shard) took about 4% longer.
const TAIL_SHARE: (usize, usize) = (51, 100);

/// Where a section shared between two threads is split: the records from
/// here on are the second thread's.
fn split_point(count: usize) -> usize {
    if count < SECOND_CORE_FROM {
        count
    } else {
        count - count / TAIL_SHARE.1 * TAIL_SHARE.0
    }
}

/// What the second thread publishes once its snapshot is taken.
struct Tail<Run> {
    index: Vec<u8>,
    snap: Snap<Run>,
}

/// Publishes "no snapshot" if the second thread unwinds before publishing
/// one, so that this thread never waits for it forever.
struct Unpublished<'a, T>(&'a OnceLock<Option<T>>);

impl<T> Drop for Unpublished<'_, T> {
    fn drop(&mut self) {
        let _ = self.0.set(None);
    }
}

/// How this thread's part of a shared section ended, when it did not fail.
enum Flow {
    /// Index and head written; the tail's records are to be appended.
    Written,
    /// The ids are not strictly increasing: the section is to be sorted.
    Unsorted,
}

/// A bundle under construction. Sections must be appended in
/// [`System::ORDER`]; the save chain's types guarantee that.
#[derive(Debug)]
pub(crate) struct BundleWriter {
    buf: Vec<u8>,
    shard: ShardId,
    epoch: Epoch,
    /// Where the current section's index starts (its count).
    index_at: usize,
    /// Where the current section's payload length goes.
    payload_len_at: usize,
    /// Whether large sections and the digest may use a second thread.
    threads: Threads,
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
            index_at: 0,
            payload_len_at: 0,
            threads: Threads::Two,
        }
    }

    /// Keeps the rest of the bundle's work on `threads`: with
    /// [`Threads::One`], no section is split and the digest is one pass,
    /// which gives the same bytes and the same rejections.
    pub(crate) fn on(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    fn stamp(&mut self, system: System) {
        let stamp = SectionStamp {
            system: system as u8,
            shard: self.shard,
            epoch: self.epoch,
        };
        let _ = append(&stamp, &mut self.buf);
        self.index_at = self.buf.len();
    }

    /// Appends one section: stamp, structural index, then the records, in
    /// canonical order (by id).
    ///
    /// Each record's id and references are read once ([`Section::entry`]);
    /// the section is sorted, checked and indexed by those entries alone.
    /// Then every record is encoded and proven (see the module's docs). A
    /// refusal by the structural rules comes before any encode or proof
    /// failure, and those come in record order, so the rejection, like the
    /// bytes, does not depend on how the work was shared out.
    pub(crate) fn section<S: Section>(
        &mut self,
        s: &S,
        records: &[&S::Record],
    ) -> Result<(), Rejection> {
        let split = match self.threads {
            Threads::Two => split_point(records.len()),
            Threads::One => records.len(),
        };
        self.section_split(s, records, split)
    }

    /// [`BundleWriter::section`], the records from `split` on snapshotted,
    /// encoded and proven on a second thread.
    fn section_split<S: Section>(
        &mut self,
        s: &S,
        records: &[&S::Record],
        split: usize,
    ) -> Result<(), Rejection> {
        self.stamp(S::SYSTEM);
        if self.write_section(s, Source::Records(records), records, split)? {
            return Ok(());
        }
        // Not in canonical order (or not unique): sort the snapshot, read
        // back from the index just written, never from the records again.
        let mut index = &self.buf[self.index_at..];
        let mut entries = S::Owned::read_index(&mut index, Part::Section(S::SYSTEM))?;
        self.buf.truncate(self.index_at);
        let mut order: Vec<(u64, usize)> = entries
            .iter()
            .enumerate()
            .map(|(at, e)| (e.id(), at))
            .collect();
        // By id, and among equal ids (which the rules refuse) by position:
        // the order of a stable sort.
        order.sort_unstable();
        let mut order: Vec<usize> = order.into_iter().map(|(_, at)| at).collect();
        let mut sorted = records.to_vec();
        permute(&mut order, &mut entries, &mut sorted);
        s.check(&entries)?;
        let written = self.write_section(s, Source::Sorted(&entries), &sorted, split)?;
        debug_assert!(written, "a sorted snapshot is always written");
        Ok(())
    }

    /// Writes the index and records of a section whose stamp is written.
    /// Returns false, having written only its index, when `source` is the
    /// records and their ids are not strictly increasing.
    fn write_section<S: Section>(
        &mut self,
        s: &S,
        source: Source<'_, '_, S>,
        records: &[&S::Record],
        split: usize,
    ) -> Result<bool, Rejection> {
        let count = records.len();
        let checked = matches!(source, Source::Sorted(_));
        let index_at = self.index_at;
        // The index is a postcard sequence: its length as a varint, then the
        // entries.
        varint(&mut self.buf, count as u64);
        let entries_at = self.buf.len();
        let split = split.min(count);
        if split == count {
            let snap = snapshot(s, source, &mut self.buf, count, count);
            if !checked {
                if !snap.increasing {
                    return Ok(false);
                }
                if !s.holds(&snap.run, None) {
                    self.check_whole(s, index_at)?;
                }
            }
            self.payload_len_at = self.buf.len();
            self.buf.extend_from_slice(&[0; 8]);
            let never = AtomicBool::new(false);
            let within = Expected::Within(entries_at);
            let mut growth = Growth::new(&self.buf, count);
            encode_and_prove(s, records, &mut self.buf, within, 0, &mut growth, &never)?;
            self.patch_payload_len();
            return Ok(true);
        }

        let (head, tail) = records.split_at(split);
        let published: OnceLock<Option<Tail<S::Run>>> = OnceLock::new();
        let abort = AtomicBool::new(false);
        // The second thread: the tail's snapshot into an index of its own,
        // published for this thread to copy into the bundle, then the
        // tail's records, encoded and proven against it.
        let side = || {
            let unpublished = Unpublished(&published);
            let mut index = Vec::new();
            let snap = snapshot(s, source.range(split..count), &mut index, tail.len(), count);
            let _ = published.set(Some(Tail { index, snap }));
            drop(unpublished);
            let Some(Some(mine)) = published.get() else {
                return None;
            };
            if !checked && !mine.snap.increasing {
                return None; // the section will be sorted first
            }
            let mut out = Vec::new();
            let apart = Expected::Apart(&mine.index);
            let mut growth = Growth::new(&out, tail.len());
            let proven = encode_and_prove(s, tail, &mut out, apart, split, &mut growth, &abort);
            Some(proven.map(|_| out))
        };
        // This thread: the head's snapshot into the bundle, the tail's
        // copied after it, the rules decided, then the head's records.
        let here = || -> Result<Flow, Rejection> {
            let snap = snapshot(s, source.range(0..split), &mut self.buf, count, count);
            let never = AtomicBool::new(false);
            // Until the second thread has published its snapshot, the head's
            // records cannot go into the bundle (the tail's entries come
            // first): rather than wait, prove them into a buffer of their
            // own, appended once those entries are in place. (Appended and
            // freed while the second thread's buffers are still small, it
            // does not raise the step's peak of memory.)
            let ahead = head.len();
            let (mut early, mut early_done, mut early_index) = (Vec::new(), 0, 0);
            let mut early_growth = Growth::new(&early, ahead);
            let mut early_failed = None;
            while published.get().is_none() && early_done < ahead && early_failed.is_none() {
                let upto = (early_done + EARLY_CHUNK).min(ahead);
                let apart = Expected::Apart(&self.buf[entries_at + early_index..]);
                let run = &head[early_done..upto];
                let growth = &mut early_growth;
                match encode_and_prove(s, run, &mut early, apart, early_done, growth, &never) {
                    Ok(used) => {
                        (early_done, early_index) = (upto, early_index + used);
                        #[cfg(test)]
                        tests::PROVEN_AHEAD.fetch_add(run.len(), Ordering::Relaxed);
                    }
                    Err(rejection) => early_failed = Some(rejection),
                }
            }
            // `None`: the second thread unwound; the join resumes its panic.
            let Some(tail_snap) = published.wait() else {
                return Ok(Flow::Unsorted);
            };
            let _ = self
                .buf
                .try_reserve_exact(tail_snap.index.len() + Growth::ROOM);
            self.buf.extend_from_slice(&tail_snap.index);
            if !checked {
                let joined = match (snap.first, tail_snap.snap.first) {
                    (Some(_), Some(first)) => snap.last < first,
                    _ => true,
                };
                if !(snap.increasing && tail_snap.snap.increasing && joined) {
                    abort.store(true, Ordering::Relaxed);
                    return Ok(Flow::Unsorted);
                }
                if !s.holds(&snap.run, Some(&tail_snap.snap.run))
                    && let Err(rejection) = self.check_whole(s, index_at)
                {
                    abort.store(true, Ordering::Relaxed);
                    return Err(rejection);
                }
            }
            // After the rules: the head's first records fail first.
            if let Some(rejection) = early_failed {
                abort.store(true, Ordering::Relaxed);
                return Err(rejection);
            }
            self.payload_len_at = self.buf.len();
            self.buf.extend_from_slice(&[0; 8]);
            let payload_at = self.buf.len();
            let _ = self.buf.try_reserve_exact(early.len() + Growth::ROOM);
            self.buf.extend_from_slice(&early);
            drop(early);
            let within = Expected::Within(entries_at + early_index);
            let rest = &head[early_done..];
            // Room for the head's records only: the tail's are appended
            // once the second thread's buffers can go, so that the bundle
            // does not hold room for them while they are held apart too.
            let mut growth = Growth::resumed(payload_at, early_done, head.len());
            let proven = encode_and_prove(
                s,
                rest,
                &mut self.buf,
                within,
                early_done,
                &mut growth,
                &never,
            );
            if proven.is_err() {
                abort.store(true, Ordering::Relaxed);
            }
            proven.map(|_| Flow::Written)
        };
        let (tail_out, flow) = crate::parallel::join(Threads::Two, side, here);
        // The tail's index entries are in the bundle now: let them go before
        // the bundle takes the tail's records.
        drop(published);
        match flow? {
            Flow::Unsorted => return Ok(false),
            Flow::Written => {}
        }
        // The head passed, so the tail's snapshot was strictly increasing
        // and the second thread encoded it; `None` cannot happen, and would
        // only send the section the long way round.
        let Some(tail_out) = tail_out else {
            return Ok(false);
        };
        let tail_out = tail_out?;
        // The room the tail needs, if the reservations fell short, and the
        // few bytes that follow it before the next reservation (the next
        // stamp): growing by a `push` or `extend_from_slice` alone would
        // double the bundle's buffer.
        let _ = self.buf.try_reserve_exact(tail_out.len() + Growth::ROOM);
        self.buf.extend_from_slice(&tail_out);
        self.patch_payload_len();
        Ok(true)
    }

    /// The section's rules on its whole index, read back from the bundle.
    fn check_whole<S: Section>(&self, s: &S, index_at: usize) -> Result<(), Rejection> {
        let mut index = &self.buf[index_at..];
        let entries = S::Owned::read_index(&mut index, Part::Section(S::SYSTEM))?;
        s.check(&entries)
    }

    /// The index entries of the section written last, read back: the ids a
    /// later section's references are resolved against.
    pub(crate) fn last_index<T: OwnedEntry>(&self, system: System) -> Result<Vec<T>, Rejection> {
        let mut index = &self.buf[self.index_at..];
        T::read_index(&mut index, Part::Section(system))
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
        let d = digest(&self.buf, key, self.threads);
        self.buf.extend_from_slice(&d);
        (self.buf, d)
    }

    /// Appends one section of `records` exactly as given, indexed by
    /// `entry`: no sorting, no rules, no proof. For tests that need bundles
    /// the save chain would refuse to write.
    #[cfg(test)]
    pub(crate) fn section_as_given<'a, R: Serialize, E: IndexEntry>(
        &mut self,
        system: System,
        records: &'a [R],
        entry: impl Fn(&'a R) -> E,
    ) {
        self.stamp(system);
        varint(&mut self.buf, records.len() as u64);
        for r in records {
            entry(r).write(&mut self.buf);
        }
        self.payload_len_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 8]);
        for r in records {
            append(r, &mut self.buf).expect("test records encode");
        }
        self.patch_payload_len();
    }
}

/// Puts `entries` and `records` into the order `order` gives (`order[k]` is
/// where the k-th element now is), in place, following each cycle of the
/// permutation once. `order` is used up.
fn permute<A, B>(order: &mut [usize], a: &mut [A], b: &mut [B]) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        if order[start] == DONE {
            continue;
        }
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            a.swap(at, from);
            b.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::*;
    use crate::ids::{ItemId, NpcId, QuestId};
    use crate::rejection::Edge;

    /// What goes wrong with a test record, if anything.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Fault {
        None,
        /// Its `Serialize` fails.
        Encode,
        /// It encodes to bytes its `Deserialize` refuses.
        Decode,
        /// It encodes a flag that decoding drops: the decoded record
        /// re-encodes to other bytes.
        Reencode,
        /// It encodes one byte more than decoding reads.
        Longer,
        /// It encodes another id than it answers.
        OtherId,
    }

    /// A test record: an id, encoded as `(id, flag)`, and a fault.
    #[derive(Debug)]
    struct Rec {
        id: u64,
        fault: Fault,
    }

    impl Serialize for Rec {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.fault {
                Fault::None => (self.id, 0u8).serialize(s),
                Fault::Encode => Err(serde::ser::Error::custom("refused")),
                Fault::Decode => (self.id, 2u8).serialize(s),
                Fault::Reencode => (self.id, 1u8).serialize(s),
                Fault::Longer => (self.id, 0u8, 7u8).serialize(s),
                Fault::OtherId => (self.id + 1, 0u8).serialize(s),
            }
        }
    }

    impl<'de> Deserialize<'de> for Rec {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let (id, flag) = <(u64, u8)>::deserialize(d)?;
            if flag > 1 {
                return Err(serde::de::Error::custom("flag"));
            }
            Ok(Rec {
                id,
                fault: Fault::None,
            })
        }
    }

    /// How many records were proven ahead while waiting for the second
    /// thread's snapshot, over all the tests.
    pub(super) static PROVEN_AHEAD: core::sync::atomic::AtomicUsize =
        core::sync::atomic::AtomicUsize::new(0);

    /// A section of test records indexed by their ids, with a rule that
    /// the streamed proof cannot decide for the id `doubt`, the rules on
    /// the whole index refuse for the id `refuse`, and entries from the id
    /// `slow_from` on that take a while to read (so that the second thread
    /// publishes its snapshot late, and this one proves records ahead).
    struct Recs {
        doubt: Option<u64>,
        refuse: Option<u64>,
        slow_from: Option<u64>,
        /// The id whose entry panics when read (integrator code can).
        panics_at: Option<u64>,
    }

    const PLAIN: Recs = Recs {
        doubt: None,
        refuse: None,
        slow_from: None,
        panics_at: None,
    };

    /// [`PLAIN`], slow to read from the id `from` on.
    fn slow(from: u64) -> Recs {
        Recs {
            slow_from: Some(from),
            ..PLAIN
        }
    }

    impl Section for Recs {
        type Record = Rec;
        type Entry<'r> = PlayerId;
        type Owned = PlayerId;
        type Run = bool;
        const SYSTEM: System = System::Player;

        fn entry(&self, record: &Rec) -> PlayerId {
            if self.slow_from.is_some_and(|from| record.id >= from) {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            assert!(Some(record.id) != self.panics_at, "integrator code panics");
            PlayerId(record.id)
        }
        fn run(&self, _: usize) -> bool {
            true
        }
        fn observe(&self, run: &mut bool, e: &PlayerId) {
            *run &= Some(e.0) != self.doubt && Some(e.0) != self.refuse;
        }
        fn holds(&self, head: &bool, tail: Option<&bool>) -> bool {
            *head && tail.is_none_or(|t| *t)
        }
        fn check(&self, ids: &[PlayerId]) -> Result<(), Rejection> {
            crate::check::sorted_unique(System::Player, ids.iter().map(|p| p.0))?;
            match ids.iter().find(|p| Some(p.0) == self.refuse) {
                Some(p) => Err(Rejection::DanglingRef {
                    edge: Edge::NpcZone,
                    from: p.0,
                    to: 0,
                }),
                None => Ok(()),
            }
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

    /// One section of `records` through [`BundleWriter::section_split`].
    fn written(records: &[Rec], rules: &Recs, split: usize) -> Result<Vec<u8>, Rejection> {
        let refs: Vec<&Rec> = records.iter().collect();
        let mut w = BundleWriter::begin(&header());
        w.section_split(rules, &refs, split)?;
        Ok(w.finish(None).0)
    }

    /// The same section written through [`BundleWriter::section`].
    fn sealed(records: &[Rec]) -> Result<Vec<u8>, Rejection> {
        let refs: Vec<&Rec> = records.iter().collect();
        let mut w = BundleWriter::begin(&header());
        w.section(&PLAIN, &refs)?;
        Ok(w.finish(None).0)
    }

    /// The section as a plain writer with no snapshot, rules or proof
    /// writes it, in the order given.
    fn as_given(records: &[Rec]) -> Vec<u8> {
        let mut w = BundleWriter::begin(&header());
        w.section_as_given(System::Player, records, |r| PlayerId(r.id));
        w.finish(None).0
    }

    fn recs(ids: impl IntoIterator<Item = u64>, faults: &[(u64, Fault)]) -> Vec<Rec> {
        ids.into_iter()
            .map(|id| Rec {
                id,
                fault: faults
                    .iter()
                    .find(|(at, _)| *at == id)
                    .map_or(Fault::None, |(_, f)| *f),
            })
            .collect()
    }

    /// Every way a section of `n` records can be shared: one thread, the
    /// second thread taking none, one, a third, half, all but one, all.
    fn splits(n: usize) -> [usize; 7] {
        [n, n + 1, n - 1, n / 2, n / 3, 1, 0]
    }

    /// A fixed shuffle (an odd multiplier is a permutation modulo 2^k).
    fn shuffled(n: u64) -> Vec<u64> {
        let size = n.next_power_of_two();
        (0..size)
            .map(|i| i.wrapping_mul(0x9e37_79b9) % size)
            .filter(|&i| i < n)
            .collect()
    }

    #[test]
    fn a_section_is_written_alike_however_it_is_shared() {
        let n = 3000;
        let expected = as_given(&recs(0..n as u64, &[]));
        for split in splits(n) {
            let bytes = written(&recs(0..n as u64, &[]), &PLAIN, split);
            assert_eq!(bytes.as_ref(), Ok(&expected), "split {split}");
            // Whatever the streamed proof cannot decide, the whole index
            // does, to the same bytes.
            let doubt = Recs {
                doubt: Some(7),
                ..PLAIN
            };
            let bytes = written(&recs(0..n as u64, &[]), &doubt, split);
            assert_eq!(bytes.as_ref(), Ok(&expected), "split {split}");
        }
        for n in [
            SECOND_CORE_FROM - 1,
            SECOND_CORE_FROM,
            3 * SECOND_CORE_FROM + 7,
        ] {
            let records = recs(0..n as u64, &[]);
            assert_eq!(sealed(&records), Ok(as_given(&records)), "{n}");
        }
    }

    /// While the second thread is slow to take its snapshot, this one
    /// proves the first records of its part ahead, into a buffer of their
    /// own: the bytes and the first failure are the same.
    #[test]
    fn records_proven_ahead_are_written_and_refused_alike() {
        let n = 1200u64;
        let split = n as usize / 2;
        // Slow from the second thread's part on: 600 reads of 50 µs.
        let late = slow(split as u64);
        let before = PROVEN_AHEAD.load(Ordering::Relaxed);
        let expected = as_given(&recs(0..n, &[]));
        assert_eq!(written(&recs(0..n, &[]), &late, split), Ok(expected));
        assert!(
            PROVEN_AHEAD.load(Ordering::Relaxed) > before,
            "some records were proven ahead"
        );
        for (fault, at) in [
            (Fault::OtherId, 20),
            (Fault::Encode, 100),
            (Fault::Decode, 500),
        ] {
            let faulty = recs(0..n, &[(at, fault), (700, Fault::Reencode)]);
            let shared = written(&faulty, &late, split).err();
            assert_eq!(
                shared,
                written(&faulty, &PLAIN, n as usize).err(),
                "{fault:?}"
            );
            assert!(matches!(
                shared,
                Some(Rejection::RecordRoundtrip { id, .. } | Rejection::Unencodable { id, .. })
                    if id == at
            ));
        }
        // The rules still come first.
        let refused = Recs {
            refuse: Some(900),
            ..late
        };
        let faulty = recs(0..n, &[(20, Fault::Decode)]);
        assert!(matches!(
            written(&faulty, &refused, split),
            Err(Rejection::DanglingRef { from: 900, .. })
        ));
    }

    /// Integrator code that panics on the second thread before it has
    /// published its snapshot: the panic reaches the caller, instead of
    /// this thread waiting for the snapshot forever. (And on this thread.)
    #[test]
    fn a_panic_while_taking_a_snapshot_reaches_the_caller() {
        let n = 1000u64;
        for panics_at in [900, 100] {
            let rules = Recs {
                panics_at: Some(panics_at),
                ..PLAIN
            };
            let records = recs(0..n, &[]);
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                written(&records, &rules, n as usize / 2)
            }));
            assert!(caught.is_err(), "{panics_at}");
        }
    }

    #[test]
    fn records_in_any_order_are_written_as_sorted_ones() {
        let n = 2500;
        let expected = as_given(&recs(0..n, &[]));
        let ids = shuffled(n);
        assert_ne!(ids, (0..n).collect::<Vec<_>>());
        for split in splits(n as usize) {
            let bytes = written(&recs(ids.iter().copied(), &[]), &PLAIN, split);
            assert_eq!(bytes.as_ref(), Ok(&expected), "split {split}");
            // Sorted halves that do not join.
            let halves = (n / 2..n).chain(0..n / 2);
            let bytes = written(&recs(halves, &[]), &PLAIN, split);
            assert_eq!(bytes.as_ref(), Ok(&expected), "split {split}");
        }
        let large = 2 * SECOND_CORE_FROM as u64;
        let records = recs(shuffled(large), &[]);
        assert_eq!(sealed(&records), Ok(as_given(&recs(0..large, &[]))));
    }

    #[test]
    fn each_fault_is_named_by_the_snapshot_id() {
        let roundtrip = |id, detail| Rejection::RecordRoundtrip {
            system: System::Player,
            id,
            detail,
        };
        let cases = [
            (Fault::Decode, roundtrip(5, DOES_NOT_DECODE)),
            (Fault::Reencode, roundtrip(5, REENCODES_DIFFERENTLY)),
            (Fault::Longer, roundtrip(5, REENCODES_DIFFERENTLY)),
            (Fault::OtherId, roundtrip(5, DECODES_TO_OTHER)),
        ];
        for (fault, expected) in cases {
            for split in splits(10) {
                let records = recs(0..10, &[(5, fault)]);
                assert_eq!(written(&records, &PLAIN, split), Err(expected.clone()));
            }
        }
        let records = recs(0..10, &[(5, Fault::Encode)]);
        assert!(matches!(
            written(&records, &PLAIN, 3),
            Err(Rejection::Unencodable { id: 5, .. })
        ));
    }

    #[test]
    fn the_first_failure_wins_however_the_work_was_shared() {
        let n = 2000u64;
        let first_failure = |records: &[Rec], rules: &Recs| {
            let answers: Vec<_> = splits(n as usize)
                .into_iter()
                .map(|split| written(records, rules, split).err())
                .collect();
            assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
            answers[0].clone()
        };
        let id_of = |r: Option<Rejection>| match r {
            Some(Rejection::RecordRoundtrip { id, .. } | Rejection::Unencodable { id, .. }) => {
                Some(id)
            }
            _ => None,
        };
        let faults = [
            Fault::Encode,
            Fault::Decode,
            Fault::Reencode,
            Fault::OtherId,
        ];
        for a in faults {
            for b in faults {
                // In both halves, in the head only, in the tail only.
                let both = recs(0..n, &[(300, a), (1700, b)]);
                assert_eq!(id_of(first_failure(&both, &PLAIN)), Some(300));
                let tail = recs(0..n, &[(1700, b), (1800, a)]);
                assert_eq!(id_of(first_failure(&tail, &PLAIN)), Some(1700));
                // Out of order: the first in canonical order.
                let mut ids = shuffled(n);
                ids.reverse();
                let unsorted = recs(ids, &[(1200, a), (400, b)]);
                assert_eq!(id_of(first_failure(&unsorted, &PLAIN)), Some(400));
            }
        }
        // The rules come before any encode or proof failure.
        let faulty = recs(0..n, &[(10, Fault::Encode), (1500, Fault::OtherId)]);
        for refuse in [5, 1900] {
            let rules = Recs {
                refuse: Some(refuse),
                ..PLAIN
            };
            assert_eq!(
                first_failure(&faulty, &rules),
                Some(Rejection::DanglingRef {
                    edge: Edge::NpcZone,
                    from: refuse,
                    to: 0
                })
            );
        }
        let duplicated = recs((0..n).map(|i| i.min(n - 2)), &[(3, Fault::Decode)]);
        assert_eq!(
            first_failure(&duplicated, &PLAIN),
            Some(Rejection::DuplicateId {
                system: System::Player,
                id: n - 2
            })
        );
    }

    /// Appending a second thread's records leaves room for what follows,
    /// so that the next section's first bytes do not double the buffer.
    #[test]
    fn shared_sections_leave_the_bundle_close_to_its_length() {
        // Large enough that the first reservations' guesses are corrected.
        let records = recs(0..64 * 1024, &[]);
        let refs: Vec<&Rec> = records.iter().collect();
        let mut w = BundleWriter::begin(&header());
        for _ in 0..3 {
            w.section(&PLAIN, &refs).expect("valid");
        }
        let bytes = w.finish(None).0;
        assert!(
            bytes.capacity() <= bytes.len() + bytes.len() / 8,
            "{} bytes in a buffer of {}",
            bytes.len(),
            bytes.capacity()
        );
    }

    /// `Schema::NAME` is at most 255 bytes at compile time; a reader takes
    /// any length, so that no bundle (one written before that check, say)
    /// is unreadable for its name.
    #[test]
    fn a_schema_name_over_the_limit_is_still_read() {
        let mut long = header();
        long.schema_name = "n".repeat(crate::schema::MAX_SCHEMA_NAME + 45);
        let mut w = BundleWriter::begin(&long);
        for system in System::ORDER {
            w.section_as_given(system, &[] as &[PlayerId], |p| *p);
        }
        let bytes = w.finish(None).0;
        let verified = crate::verify(&bytes, &crate::VerifyOptions::new()).expect("readable");
        assert_eq!(verified.summary.schema_name, long.schema_name);
    }

    #[test]
    fn permuting_follows_every_cycle() {
        let n = 1000;
        let ids = shuffled(n as u64);
        // Where each id now is, by id: the order that sorts them.
        let mut order = vec![0; n];
        for (at, &id) in ids.iter().enumerate() {
            order[id as usize] = at;
        }
        let mut a = ids.clone();
        let mut b: Vec<String> = ids.iter().map(u64::to_string).collect();
        permute(&mut order, &mut a, &mut b);
        assert_eq!(a, (0..n as u64).collect::<Vec<_>>());
        assert!(b.iter().enumerate().all(|(i, s)| *s == i.to_string()));
    }

    fn entry_bytes(entry: impl IndexEntry) -> Vec<u8> {
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

    /// The hand-written index encoding is postcard's, byte for byte, and
    /// every entry starts with its id.
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
            assert_eq!(leading_varint(&v), a);
            assert_eq!(
                entry_bytes(PlayerId(a)),
                postcard::to_allocvec(&PlayerId(a)).unwrap()
            );
            assert_eq!(
                entry_bytes(ZoneId(a)),
                postcard::to_allocvec(&ZoneId(a)).unwrap()
            );
            for &b in &ids[..4] {
                let npc = NpcEntry {
                    id: NpcId(a),
                    zone: ZoneId(b),
                };
                assert_eq!(entry_bytes(npc), postcard::to_allocvec(&npc).unwrap());
                assert_eq!(leading_varint(&entry_bytes(npc)), npc.id());
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
                        assert_eq!(entry_bytes(item), postcard::to_allocvec(&item).unwrap());
                        assert_eq!(leading_varint(&entry_bytes(item)), item.id());
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
                    assert_eq!(entry_bytes(&quest), expected);
                    let owned = QuestEntry {
                        id: QuestId(b),
                        owner: PlayerId(a),
                        zones: zones[..n].to_vec(),
                    };
                    assert_eq!(entry_bytes(&owned), expected);
                    assert_eq!(leading_varint(&expected), b);
                }
            }
        }
    }
}
