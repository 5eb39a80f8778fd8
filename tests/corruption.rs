//! The corruption campaign: damaged and edited variants of several real
//! bundles, each read by both readers (typed `verify_as`, the rules a
//! store's load applies before a restore, and schema-agnostic `verify`,
//! with the expectations a store states).
//!
//! For every variant: neither reader panics (`catch_unwind`); no variant
//! that differs from the original is accepted by typed open; `verify`
//! accepts a different variant only when typed open refuses it on the
//! records themselves (rule 10); and where `verify` refuses, typed open
//! refuses with the very same first rejection.
//!
//! Kinds:
//! - without re-digesting (damage): every single-bit flip of every byte,
//!   every truncation length, seeded random insertions and deletions;
//! - with the unkeyed digest recomputed (a writer who bypasses the server):
//!   random insertions and deletions, section swaps, duplicated and dropped
//!   sections (with the table left alone or edited to match), edited epochs
//!   (header, one stamp, all stamps, both), edited references (index only,
//!   record only, both; to a missing or another existing record), and
//!   non-canonical varints (every byte that can end a varint, re-encoded
//!   one byte longer; and every varint field of the header widened to every
//!   longer length);
//! - the same re-digested edits of a keyed bundle, read under its key:
//!   every one is refused with `E-DIGEST`.
//!
//! Each test prints (to stderr) how many variants of each kind it tried and
//! how the readers refused them; TESTING.md records the numbers.

#![cfg(feature = "reference")]

mod common;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use caelmor_persist::format::{DIGEST_LEN, PREAMBLE_LEN};
use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    DigestKey, Epoch, ItemId, ItemLocation, Part, PlayerId, Rejection, RejectionCode, System,
    VerifyOptions, ZoneId, verify, verify_as,
};
use common::{
    Bundle, EPOCH, Header, SHARD, Section, agree, enc, frame, item_index, npc_index, quest_index,
    redigest, reference_expect, reference_options, restore_bytes, saved_bytes, second_agnostic,
    second_typed, table, tiny,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const KEY: [u8; 32] = [0x3c; 32];

/// The real bundles of the campaign: the hand-written shard with every kind
/// of edge, an empty one, a few-of-everything one, and `ShardSpec::small()`.
fn shards() -> Vec<(&'static str, Shard)> {
    let mini = ShardSpec {
        players: 3,
        zones: 2,
        npcs: 4,
        items: 12,
        quests: 3,
    };
    let none = ShardSpec {
        players: 0,
        zones: 0,
        npcs: 0,
        items: 0,
        quests: 0,
    };
    vec![
        ("tiny", tiny()),
        ("empty", none.generate(1)),
        ("mini", mini.generate(7)),
        ("small", ShardSpec::small().generate(4)),
    ]
}

/// The size of each original bundle, as TESTING.md states it (section 2):
/// every per-byte figure there follows from it.
fn bundle_len(name: &str) -> usize {
    match name {
        "tiny" => 810,
        "empty" => 606,
        "mini" => 1_035,
        "small" => 8_764,
        _ => unreachable!("{name}"),
    }
}

/// How the variants of one kind fared.
#[derive(Default)]
struct Tally {
    tried: u64,
    codes: BTreeMap<&'static str, u64>,
}

/// Reads variants of one original with both readers and keeps the tallies.
struct Judge {
    original: Vec<u8>,
    key: Option<[u8; 32]>,
    /// What `verify` states: a store's expectations.
    options: VerifyOptions,
    /// What typed open states (it adds the schema itself).
    typed_options: VerifyOptions,
    /// How many of the crate's answers were held to the independent
    /// reader's (two per variant: typed open and `verify`).
    agreed: u64,
    /// Whether a variant may be a valid bundle of another state (random
    /// edits with a recomputed digest); it must then be canonical.
    valid_edits: bool,
    tallies: BTreeMap<String, Tally>,
}

impl Judge {
    fn new(original: Vec<u8>) -> Self {
        Self {
            original,
            key: None,
            options: reference_options(EPOCH),
            typed_options: VerifyOptions::new().expect_shard(SHARD).expect_epoch(EPOCH),
            agreed: 0,
            valid_edits: false,
            tallies: BTreeMap::new(),
        }
    }

    fn keyed(original: Vec<u8>, key: [u8; 32]) -> Self {
        Self {
            original,
            key: Some(key),
            options: reference_options(EPOCH).key(DigestKey::from_bytes(key)),
            typed_options: VerifyOptions::new()
                .expect_shard(SHARD)
                .expect_epoch(EPOCH)
                .key(DigestKey::from_bytes(key)),
            agreed: 0,
            valid_edits: false,
            tallies: BTreeMap::new(),
        }
    }

    /// Reads `bytes` with both of the crate's readers and with the
    /// independent reader of `tests/independent` (written from the
    /// specification alone); asserts no panic, that each of the crate's
    /// readers gives the independent reader's answer (the same first
    /// rejection code, or acceptance with the same header, sizes, index and
    /// shapes), and that typed open accepts nothing but the original;
    /// returns the first rejection, if any.
    fn read(&mut self, kind: &str, bytes: &[u8]) -> Option<Rejection> {
        let typed = catch_unwind(AssertUnwindSafe(|| {
            verify_as::<Reference>(bytes, &self.typed_options)
        }))
        .unwrap_or_else(|_| panic!("{kind}: typed open panicked on {bytes:02x?}"));
        let agnostic = catch_unwind(AssertUnwindSafe(|| verify(bytes, &self.options)))
            .unwrap_or_else(|_| panic!("{kind}: verify panicked on {bytes:02x?}"));
        let second_typed = second_typed(bytes, SHARD, EPOCH, self.key);
        let second_agnostic = second_agnostic(bytes, &reference_expect(EPOCH, self.key));
        agree(
            || format!("{kind}, typed open, {bytes:02x?}"),
            bytes,
            typed.as_ref().map(|s| (s, None)),
            &second_typed,
        );
        agree(
            || format!("{kind}, verify, {bytes:02x?}"),
            bytes,
            agnostic.as_ref().map(|v| (&v.summary, Some(v))),
            &second_agnostic,
        );
        self.agreed += 2;
        let same = bytes == self.original.as_slice();
        if typed.is_ok() && !same {
            assert!(
                self.valid_edits,
                "{kind}: typed open accepted a variant: {bytes:02x?}"
            );
            self.canonical(kind, bytes);
        }
        let tally = self.tallies.entry(kind.to_owned()).or_default();
        tally.tried += 1;
        let code = typed
            .as_ref()
            .err()
            .map_or("accepted", |r| r.code().as_str());
        *tally.codes.entry(code).or_default() += 1;
        typed.err()
    }

    /// An accepted edit (possible only when `valid_edits`: random edits
    /// with a recomputed unkeyed digest can land on a valid bundle of
    /// another state, say another fence or another record field) must be
    /// the one canonical encoding of what it restores: the specification's
    /// encoder, given the restored records and the bundle's own header,
    /// writes exactly these bytes.
    fn canonical(&self, kind: &str, bytes: &[u8]) {
        let verified = verify(bytes, &self.options).expect("typed open accepted it");
        let summary = verified.summary;
        // What a server would run: the bytes as a store's latest epoch,
        // loaded, restored and activated.
        let records = restore_bytes(bytes, SHARD, EPOCH, self.key).expect("typed open accepted it");
        let header = Header {
            shard: summary.shard,
            epoch: summary.epoch,
            fence: summary.fence,
            schema_name: summary.schema_name,
            schema_version: summary.schema_version,
            // As the bundle carries them: a shape's container names may
            // differ from the reference's (a renamed Rust type) and still
            // open, and the decoder reads only canonical encodings.
            shapes: verified.shapes.map(|s| s.to_bytes()),
        };
        assert_eq!(
            Bundle::with_header(&records, &header).bytes(),
            bytes,
            "{kind}: an accepted edit is not the canonical encoding of what it restores"
        );
    }

    /// Reads a variant that differs from the original: it must be refused.
    fn refuse(&mut self, kind: &str, bytes: &[u8]) -> Rejection {
        assert_ne!(bytes, self.original.as_slice(), "{kind}: not a variant");
        self.read(kind, bytes)
            .unwrap_or_else(|| panic!("{kind}: accepted"))
    }

    /// How many variants of `kind` typed open accepted.
    fn accepted(&self, kind: &str) -> u64 {
        self.tallies
            .get(kind)
            .and_then(|t| t.codes.get("accepted"))
            .copied()
            .unwrap_or(0)
    }

    fn tried(&self, kind: &str) -> u64 {
        self.tallies.get(kind).map_or(0, |t| t.tried)
    }

    fn refused_with(&self, kind: &str, code: RejectionCode) -> u64 {
        self.tallies
            .get(kind)
            .and_then(|t| t.codes.get(code.as_str()))
            .copied()
            .unwrap_or(0)
    }

    fn report(&self, bundle: &str) {
        for (kind, tally) in &self.tallies {
            let codes: Vec<String> = tally
                .codes
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            eprintln!(
                "corruption: {bundle} ({} bytes): {kind}: {} variants [{}]",
                self.original.len(),
                tally.tried,
                codes.join(", ")
            );
        }
        eprintln!(
            "corruption: {bundle}: {} answers of the crate's readers held to the independent reader's, all agreeing",
            self.agreed
        );
    }
}

// ---------------------------------------------------------------------------
// Damage: no digest recomputed.
// ---------------------------------------------------------------------------

/// Every single-bit flip of every byte.
#[test]
fn every_bit_flip_is_refused() {
    for (name, shard) in shards() {
        let original = saved_bytes(&shard);
        let mut judge = Judge::new(original.clone());
        assert_eq!(judge.read("original", &original), None);
        let len = original.len();
        assert_eq!(len, bundle_len(name), "{name}: the size TESTING.md states");
        if name == "small" {
            let records = shard.players.len()
                + shard.zones.len()
                + shard.npcs.len()
                + shard.items.len()
                + shard.quests.len();
            assert_eq!(records, 468, "small: the records TESTING.md states");
        }
        for at in 0..len {
            for bit in 0..8 {
                let mut damaged = original.clone();
                damaged[at] ^= 1 << bit;
                let r = judge.refuse("bit flip", &damaged);
                // Without a recomputed digest, the frame rules or the
                // digest refuse it: nothing is decoded.
                assert!(
                    matches!(
                        r.code(),
                        RejectionCode::Magic
                            | RejectionCode::Version
                            | RejectionCode::Frame
                            | RejectionCode::Truncated
                            | RejectionCode::Trailing
                            | RejectionCode::Digest
                    ),
                    "{name}: byte {at} bit {bit}: {r}"
                );
            }
        }
        assert_eq!(judge.tried("bit flip"), 8 * len as u64);
        judge.report(name);
    }
}

/// Every truncation length, 0 to one byte short.
#[test]
fn every_truncation_is_refused() {
    for (name, shard) in shards() {
        let original = saved_bytes(&shard);
        let mut judge = Judge::new(original.clone());
        for len in 0..original.len() {
            let r = judge.refuse("truncation", &original[..len]);
            // The rejection names what the cut left incomplete.
            let (part, needed) = match len {
                1..8 => ("magic", 8),
                8..10 => ("format version", 10),
                10..18 => ("frame length", 18),
                _ => ("frame", original.len() as u64),
            };
            let expected = if len == 0 {
                Rejection::BadMagic
            } else {
                Rejection::Truncated {
                    part,
                    needed,
                    available: len as u64,
                }
            };
            assert_eq!(r, expected, "{name}: cut to {len}");
        }
        assert_eq!(judge.tried("truncation"), original.len() as u64);
        // Bytes past the frame are counted.
        for extra in 1..=3u64 {
            let mut longer = original.clone();
            longer.extend((0..extra).map(|n| n as u8));
            assert_eq!(
                judge.refuse("trailing bytes", &longer),
                Rejection::TrailingBytes {
                    part: Part::Frame,
                    extra
                },
                "{name}"
            );
        }
        judge.report(name);
    }
}

/// `bytes` with `n` random bytes inserted at a random position.
fn insert(rng: &mut ChaCha8Rng, bytes: &[u8], lo: usize, hi: usize) -> Vec<u8> {
    let at = rng.random_range(lo..=hi);
    let n = rng.random_range(1..=4);
    let mut out = bytes[..at].to_vec();
    out.extend((0..n).map(|_| rng.random::<u8>()));
    out.extend(&bytes[at..]);
    out
}

/// `bytes` with 1 to 4 bytes at a random position removed.
fn delete(rng: &mut ChaCha8Rng, bytes: &[u8], lo: usize, hi: usize) -> Vec<u8> {
    let n = rng.random_range(1..=4usize).min(hi - lo);
    let at = rng.random_range(lo..=hi - n);
    let mut out = bytes[..at].to_vec();
    out.extend(&bytes[at + n..]);
    out
}

/// Seeded random insertions and deletions, raw and re-digested.
#[test]
fn random_insertions_and_deletions_are_refused() {
    const PER_KIND: usize = 2_500;
    let mut rng = ChaCha8Rng::seed_from_u64(0xCAE1_4409);
    // Valid bundles of another state among the re-digested edits, over all
    // four bundles (seeded, so exact): each was checked canonical.
    let mut accepted = (0, 0);
    for (name, shard) in shards() {
        let original = saved_bytes(&shard);
        let mut judge = Judge::new(original.clone());
        let len = original.len();
        let body_end = len - DIGEST_LEN;
        for _ in 0..PER_KIND {
            let v = insert(&mut rng, &original, 0, len);
            judge.refuse("insertion", &v);
            let v = delete(&mut rng, &original, 0, len);
            judge.refuse("deletion", &v);
            // Inside the body, with the frame and digest recomputed: the
            // structural rules have to catch it, unless it happens to be a
            // valid bundle of another state, which must then be canonical.
            judge.valid_edits = true;
            let v = redigest(&insert(&mut rng, &original, PREAMBLE_LEN, body_end));
            let r = judge.read("insertion, re-digested", &v);
            assert_ne!(r.map(|r| r.code()), Some(RejectionCode::Digest));
            let v = redigest(&delete(&mut rng, &original, PREAMBLE_LEN, body_end));
            let r = judge.read("deletion, re-digested", &v);
            assert_ne!(r.map(|r| r.code()), Some(RejectionCode::Digest));
            judge.valid_edits = false;
        }
        for kind in [
            "insertion",
            "deletion",
            "insertion, re-digested",
            "deletion, re-digested",
        ] {
            assert_eq!(judge.tried(kind), PER_KIND as u64, "{name}: {kind}");
        }
        assert_eq!(judge.accepted("insertion"), 0, "{name}");
        assert_eq!(judge.accepted("deletion"), 0, "{name}");
        accepted.0 += judge.accepted("insertion, re-digested");
        accepted.1 += judge.accepted("deletion, re-digested");
        judge.report(name);
    }
    // The figures TESTING.md states (section 2).
    assert_eq!(
        accepted,
        (2, 0),
        "valid bundles of another state among the re-digested insertions and deletions"
    );
}

// ---------------------------------------------------------------------------
// Structural edits, digest recomputed.
// ---------------------------------------------------------------------------

/// The structural variants of `shard`'s bundle, by kind, each re-digested
/// with `key` (unkeyed if none). Every one differs from the original.
fn structural_variants(shard: &Shard, key: Option<&[u8; 32]>) -> Vec<(&'static str, Vec<u8>)> {
    let base = Bundle::of(shard);
    let seal = |b: &Bundle| match key {
        Some(k) => b.keyed(k),
        None => b.bytes(),
    };
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();

    // Section swaps: every pair, table left alone or swapped along.
    for i in 0..5 {
        for j in i + 1..5 {
            for swap_table in [false, true] {
                let mut b = base.clone();
                b.sections.swap(i, j);
                if swap_table {
                    let mut tags = common::CANONICAL_TABLE;
                    tags.swap(i, j);
                    b.table = table(&tags);
                }
                out.push(("section swap", seal(&b)));
            }
        }
    }
    // Duplicated sections: each section again at every position, table
    // left alone or listing the duplicate.
    for s in 0..5 {
        for at in 0..=5 {
            for list_it in [false, true] {
                let mut b = base.clone();
                b.sections.insert(at, base.sections[s].clone());
                if list_it {
                    let mut tags = common::CANONICAL_TABLE.to_vec();
                    tags.insert(at, s as u8);
                    b.table = table(&tags);
                }
                out.push(("duplicated section", seal(&b)));
            }
        }
    }
    // Dropped sections: each one, table left alone or without its tag; and
    // all of them.
    for s in 0..5 {
        for unlist_it in [false, true] {
            let mut b = base.clone();
            b.sections.remove(s);
            if unlist_it {
                let mut tags = common::CANONICAL_TABLE.to_vec();
                tags.remove(s);
                b.table = table(&tags);
            }
            out.push(("dropped section", seal(&b)));
        }
    }
    for unlist_them in [false, true] {
        let mut b = base.clone();
        b.sections.clear();
        if unlist_them {
            b.table = table(&[]);
        }
        out.push(("dropped section", seal(&b)));
    }

    // Edited epochs: the header's, one stamp's, every stamp's, or all of
    // them together (a consistent bundle of another epoch, which the store's
    // expectation refuses).
    for epoch in [0, 2, 3, 127, 128, 1 << 32, u64::MAX] {
        let epoch = Epoch(epoch);
        let header = Header {
            epoch,
            ..Header::reference()
        };
        let mut b = base.clone();
        b.header = enc(&header);
        out.push(("edited epoch", seal(&b)));
        for s in 0..5 {
            let mut b = base.clone();
            b.sections[s] = restamped(&base.sections[s], s, epoch);
            out.push(("edited epoch", seal(&b)));
        }
        for with_header in [false, true] {
            let mut b = base.clone();
            for s in 0..5 {
                b.sections[s] = restamped(&base.sections[s], s, epoch);
            }
            if with_header {
                b.header = enc(&header);
            }
            out.push(("edited epoch", seal(&b)));
        }
    }

    // Edited references.
    for edited in reference_edits(shard) {
        out.push(("edited reference", seal(&edited)));
    }

    // Non-canonical varints. Every body byte that could end a varint
    // (continuation bit clear), re-encoded one byte longer: every one of the
    // first 1024 body bytes, then one byte in 8.
    let content = base.content();
    let positions =
        (PREAMBLE_LEN..content.len()).filter(|&at| at < PREAMBLE_LEN + 1024 || at % 8 == 0);
    for at in positions {
        if content[at] & 0x80 == 0 {
            let mut v = content[..at].to_vec();
            v.push(content[at] | 0x80);
            v.push(0);
            v.extend(&content[at + 1..]);
            out.push(("non-canonical varint", frame(v, key)));
        }
    }
    // Every varint field of the header, widened to every longer length up
    // to the 10 bytes a u64 may take.
    let h = Header::reference();
    let widen = |value: u64, width: usize| -> Vec<u8> {
        let mut v = Vec::new();
        let mut rest = value;
        for k in 0..width {
            let low = (rest & 0x7f) as u8;
            rest >>= 7;
            v.push(if k + 1 < width { low | 0x80 } else { low });
        }
        v
    };
    let name = enc(&h.schema_name);
    let fields = |shard: Vec<u8>, epoch: Vec<u8>, fence: Vec<u8>, version: Vec<u8>| {
        let mut v = shard;
        v.extend(epoch);
        v.extend(fence);
        v.extend(&name);
        v.extend(version);
        v
    };
    for width in 2..=10usize {
        let canonical = || {
            (
                enc(&h.shard),
                enc(&h.epoch),
                enc(&h.fence),
                enc(&h.schema_version),
            )
        };
        for field in 0..4 {
            let (mut s, mut e, mut f, mut ver) = canonical();
            match field {
                0 => s = widen(h.shard.0, width),
                1 => e = widen(h.epoch.0, width),
                2 => f = widen(h.fence.0, width),
                _ if width > 5 => continue, // a u32 takes at most 5 bytes
                _ => ver = widen(u64::from(h.schema_version), width),
            }
            let mut b = base.clone();
            b.header = fields(s, e, f, ver);
            out.push(("non-canonical varint", seal(&b)));
        }
    }
    out
}

/// `section` (the `s`-th of the canonical layout) with its stamp's epoch
/// replaced.
fn restamped(section: &Section, s: usize, epoch: Epoch) -> Section {
    let mut out = section.clone();
    out.stamp = enc(&common::Stamp {
        tag: s as u8,
        shard: SHARD,
        epoch,
    });
    out
}

/// Bundles whose references were edited: for every reference of the
/// shard, retargeted in the index only, in the record only, or in both;
/// to a record the bundle does not hold, or to another one it does.
fn reference_edits(shard: &Shard) -> Vec<Bundle> {
    let zones = shard.zones.len() as u64;
    let players = shard.players.len() as u64;
    let items = shard.items.len() as u64;
    let other = |id: u64, count: u64| if count > 1 { id % count + 1 } else { id };
    // Each edit: the shard with one reference changed, and whether the
    // change keeps it resolving (then only an index/record disagreement can
    // catch it).
    let mut edits: Vec<(Shard, bool)> = Vec::new();
    // Every record of the small bundles; about 24 per system of the larger.
    let sample = |len: usize| (0..len).step_by((len / 24).max(1));
    for n in sample(shard.npcs.len()) {
        for (target, resolves) in [
            (zones + 1, false),
            (other(shard.npcs[n].zone.0, zones), true),
        ] {
            let mut e = shard.clone();
            e.npcs[n].zone = ZoneId(target);
            edits.push((e, resolves));
        }
    }
    for n in sample(shard.items.len()) {
        let mut locations = vec![
            (ItemLocation::Zone(ZoneId(zones + 1)), false),
            (ItemLocation::Player(PlayerId(players + 1)), false),
            (ItemLocation::Container(ItemId(items + 1)), false),
        ];
        match shard.items[n].location {
            ItemLocation::Zone(z) if zones > 1 => {
                locations.push((ItemLocation::Zone(ZoneId(other(z.0, zones))), true));
            }
            ItemLocation::Player(p) if players > 1 => {
                locations.push((ItemLocation::Player(PlayerId(other(p.0, players))), true));
            }
            _ => {}
        }
        for (location, resolves) in locations {
            let mut e = shard.clone();
            e.items[n].location = location;
            edits.push((e, resolves));
        }
        for owner in [Some(PlayerId(players + 1)), None] {
            if shard.items[n].owner != owner {
                let mut e = shard.clone();
                e.items[n].owner = owner;
                edits.push((e, owner.is_none()));
            }
        }
    }
    for n in sample(shard.quests.len()) {
        let mut e = shard.clone();
        e.quests[n].owner = PlayerId(players + 1);
        edits.push((e, false));
        let mut e = shard.clone();
        e.quests[n].owner = PlayerId(other(shard.quests[n].owner.0, players));
        edits.push((e, players > 1));
        let mut e = shard.clone();
        e.quests[n].zones.push(ZoneId(zones + 1));
        edits.push((e, false));
        let mut e = shard.clone();
        e.quests[n].zones[0] = ZoneId(other(shard.quests[n].zones[0].0, zones));
        edits.push((e, zones > 1));
    }

    let mut out = Vec::new();
    for (edited, resolves) in edits {
        // Index only, record only.
        for (index_of, records_of) in [(&edited, shard), (shard, &edited)] {
            out.push(mixed(shard, index_of, records_of));
        }
        // Both, when the edit does not resolve (a consistent edit to an
        // existing record is a valid bundle of another state).
        if !resolves {
            out.push(mixed(shard, &edited, &edited));
        }
    }
    out
}

/// The bundle of `base` with the npc, item and quest sections encoded from
/// `index_of`'s index and `records_of`'s records.
fn mixed(base: &Shard, index_of: &Shard, records_of: &Shard) -> Bundle {
    let mut b = Bundle::of(base);
    b.sections[System::Npc.position()] = Section::new(
        System::Npc,
        SHARD,
        EPOCH,
        &npc_index(&index_of.npcs),
        &records_of.npcs,
    );
    b.sections[System::Item.position()] = Section::new(
        System::Item,
        SHARD,
        EPOCH,
        &item_index(&index_of.items),
        &records_of.items,
    );
    b.sections[System::Quest.position()] = Section::new(
        System::Quest,
        SHARD,
        EPOCH,
        &quest_index(&index_of.quests),
        &records_of.quests,
    );
    b
}

#[test]
fn structural_edits_with_a_recomputed_digest_are_refused() {
    for (name, shard) in shards() {
        let original = saved_bytes(&shard);
        // The hand encoder (from the specification alone) writes what the
        // crate writes, so its edits are edits of the real bundle.
        assert_eq!(Bundle::of(&shard).bytes(), original, "{name}");
        let mut judge = Judge::new(original);
        for (kind, variant) in structural_variants(&shard, None) {
            let r = judge.refuse(kind, &variant);
            assert!(
                !matches!(
                    r.code(),
                    RejectionCode::Magic | RejectionCode::Version | RejectionCode::Digest
                ),
                "{name}: {kind}: the digest was recomputed, yet {r}"
            );
        }
        for kind in [
            "section swap",
            "duplicated section",
            "dropped section",
            "edited epoch",
            "edited reference",
            "non-canonical varint",
        ] {
            // The empty shard holds no reference to edit.
            let expected = name != "empty" || kind != "edited reference";
            assert_eq!(judge.tried(kind) > 0, expected, "{name}: {kind}");
        }
        // The figures TESTING.md states (section 2): how many variants of
        // each kind, and which rule refuses them.
        let (references, varints, noncanonical) = match name {
            "tiny" => (88, 778, 89),
            "empty" => (0, 586, 57),
            "mini" => (230, 927, 128),
            "small" => (792, 1_655, 278),
            _ => unreachable!("{name}"),
        };
        for (kind, tried) in [
            ("section swap", 20),
            ("duplicated section", 60),
            ("dropped section", 12),
            ("edited epoch", 56),
            ("edited reference", references),
            ("non-canonical varint", varints),
        ] {
            assert_eq!(judge.tried(kind), tried, "{name}: {kind}");
        }
        // Each kind reaches the rule written for it.
        assert_eq!(
            judge.refused_with("section swap", RejectionCode::SectionOrder),
            10,
            "{name}: every swap with its table swapped along"
        );
        assert_eq!(
            judge.refused_with("section swap", RejectionCode::Frame),
            10,
            "{name}: every swap with its table left alone"
        );
        assert_eq!(
            judge.refused_with("duplicated section", RejectionCode::SectionDuplicate),
            30,
            "{name}"
        );
        assert_eq!(
            judge.refused_with("dropped section", RejectionCode::SectionMissing),
            6,
            "{name}"
        );
        assert_eq!(
            judge.refused_with("edited epoch", RejectionCode::EpochMixed),
            49,
            "{name}: every inconsistent epoch edit"
        );
        assert_eq!(
            judge.refused_with("edited epoch", RejectionCode::Epoch),
            7,
            "{name}: every consistent epoch edit, refused by the expectation"
        );
        assert_eq!(
            judge.refused_with("edited reference", RejectionCode::DanglingRef)
                + judge.refused_with("edited reference", RejectionCode::IndexMismatch),
            references,
            "{name}: every reference edit refused as dangling or as an index mismatch"
        );
        if name != "empty" {
            assert!(judge.refused_with("edited reference", RejectionCode::DanglingRef) > 0);
            assert!(judge.refused_with("edited reference", RejectionCode::IndexMismatch) > 0);
        }
        assert_eq!(
            judge.refused_with("non-canonical varint", RejectionCode::NonCanonical),
            noncanonical,
            "{name}"
        );
        judge.report(name);
    }
}

/// Item 3 of the campaign: under a key, every re-digested (unkeyed) edit of
/// a keyed bundle is refused at the digest, before anything is decoded;
/// the same edits digested with the key reach the structural rules.
#[test]
fn under_a_key_every_unkeyed_re_digested_edit_is_refused_at_the_digest() {
    let shard = tiny();
    let keyed_original = Bundle::of(&shard).keyed(&KEY);
    let mut judge = Judge::keyed(keyed_original.clone(), KEY);
    assert_eq!(judge.read("original", &keyed_original), None);
    for (kind, variant) in structural_variants(&shard, None) {
        let r = judge.refuse(kind, &variant);
        assert_eq!(r, Rejection::DigestMismatch, "{kind}");
    }
    // Control: the same edits, digested with the key, are refused by the
    // rules written for them, not by the digest.
    let mut control = Judge::keyed(keyed_original, KEY);
    for (kind, variant) in structural_variants(&shard, Some(&KEY)) {
        let r = control.refuse(kind, &variant);
        assert_ne!(r.code(), RejectionCode::Digest, "{kind}");
    }
    assert_eq!(
        judge.tallies.values().map(|t| t.tried).sum::<u64>(),
        control.tallies.values().map(|t| t.tried).sum::<u64>() + 1
    );
    // The figure TESTING.md states (section 2), the original aside.
    assert_eq!(
        control.tallies.values().map(|t| t.tried).sum::<u64>(),
        1_014,
        "keyed structural edits"
    );
    judge.report("tiny, keyed, unkeyed edits");
}
