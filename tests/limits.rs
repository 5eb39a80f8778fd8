//! Hostile bundles against real limits (issue 10, item 5): counts that
//! declare far more than the bytes hold, and records nested a million
//! levels deep, must each be a typed rejection, never a dead process.
//!
//! Every check here runs in a child process (this test binary re-run on
//! one test, see [`in_child`]), so that an abort or a stack overflow shows
//! up as a failed test with the child's own words, not as the death of the
//! whole suite; and so that the child can put a real address-space limit
//! (`setrlimit(RLIMIT_AS)`) on itself. Each `child_*` test does nothing
//! unless it is that child.
//!
//! The bundles carry a valid unkeyed digest: anyone can recompute one, so
//! everything after the digest check must be safe against them.

// The crafted bundles are built with the shared test helpers, which use the
// reference schema.
#![cfg(feature = "reference")]
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Instant;

use caelmor_persist::format::{ItemEntry, MAX_DEPTH, RESERVE_PER_BYTE};
use caelmor_persist::{
    ItemId, ItemLocation, ItemRecord, MemStore, NpcId, NpcRecord, Part, PlayerId, PlayerRecord,
    QuestId, QuestRecord, Rejection, RejectionCode, Save, Schema, ServerAuthority, Summary, System,
    VerifyOptions, WorldRecord, ZoneId, verify, verify_as,
};
use common::{Bundle, EPOCH, Header, SHARD, Section, empty, enc};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------
// Running a check in a child process.
// ---------------------------------------------------------------------------

/// Set in a child to the name of the one test it is to run.
const CHILD: &str = "CAELMOR_LIMITS_CHILD";

/// Runs this binary's test `name` in a child process and returns what it
/// printed; fails if the child did not exit 0 after saying it was done.
fn in_child(name: &str) -> String {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        // One malloc arena: glibc otherwise reserves 64 MiB of address
        // space per thread that allocates, which would count against the
        // child's limit and its measured peak without being the crate's.
        .env("MALLOC_ARENA_MAX", "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child {name} failed: {:?} (signal {:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status,
        out.status.signal(),
    );
    assert!(
        stdout.contains(&done(name)),
        "child {name} never got to the end\n{stdout}\n{stderr}"
    );
    stdout
}

/// True in the child started to run `name`.
fn is_child(name: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(name)
}

fn done(name: &str) -> String {
    format!("child {name}: done")
}

/// A field of /proc/self/status, in bytes (`VmSize`, `VmPeak`, ...).
fn vm(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    let kib: u64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches(" kB")
        .parse()
        .expect("a number of kB");
    kib * 1024
}

/// Caps this process's address space at `bytes`: an allocation past it
/// fails, as on a machine (or container) with that much memory.
fn limit_address_space(bytes: u64) {
    use rustix::process::{Resource, Rlimit, setrlimit};
    setrlimit(
        Resource::As,
        Rlimit {
            current: Some(bytes),
            maximum: Some(bytes),
        },
    )
    .expect("setrlimit(RLIMIT_AS)");
}

const MIB: usize = 1 << 20;

// ---------------------------------------------------------------------------
// A schema whose records can nest, and one record type far larger in memory
// than its smallest encoding.
// ---------------------------------------------------------------------------

/// Nests through an enum: one level per node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Tree {
    Leaf,
    Node(Box<Tree>),
}

impl Tree {
    /// A tree of `levels` enum levels.
    fn deep(levels: u32) -> Tree {
        (1..levels).fold(Tree::Leaf, |t, _| Tree::Node(Box::new(t)))
    }
}

/// Nests through a struct and a sequence: two levels per node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Node {
    children: Vec<Node>,
}

/// 4 KiB in memory, one byte encoded when `Nothing`: large on purpose, the
/// shape that makes a record reservation per payload byte expensive.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Big {
    Nothing,
    Lots([[u64; 32]; 16]),
}

/// Nests through an enum, like [`Tree`], in the item records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Chain {
    End,
    Link(Box<Chain>),
}

impl Chain {
    fn deep(levels: u32) -> Chain {
        (1..levels).fold(Chain::End, |c, _| Chain::Link(Box::new(c)))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DPlayer {
    id: PlayerId,
    tree: Tree,
}
impl PlayerRecord for DPlayer {
    fn id(&self) -> PlayerId {
        self.id
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DZone {
    id: ZoneId,
    node: Node,
}
impl WorldRecord for DZone {
    fn id(&self) -> ZoneId {
        self.id
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DNpc {
    id: NpcId,
    zone: ZoneId,
}
impl NpcRecord for DNpc {
    fn id(&self) -> NpcId {
        self.id
    }
    fn zone(&self) -> ZoneId {
        self.zone
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DItem {
    id: ItemId,
    location: ItemLocation,
    owner: Option<PlayerId>,
    big: Big,
    chain: Chain,
}
impl ItemRecord for DItem {
    fn id(&self) -> ItemId {
        self.id
    }
    fn location(&self) -> ItemLocation {
        self.location
    }
    fn owner(&self) -> Option<PlayerId> {
        self.owner
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DQuest {
    id: QuestId,
    owner: PlayerId,
    zones: Vec<ZoneId>,
}
impl QuestRecord for DQuest {
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

struct Deep;
impl Schema for Deep {
    const NAME: &'static str = "limits-deep";
    const VERSION: u32 = 1;
    type Player = DPlayer;
    type World = DZone;
    type Npc = DNpc;
    type Item = DItem;
    type Quest = DQuest;
}

fn deep_authority() -> ServerAuthority<Deep> {
    MemStore::<Deep>::new(SHARD)
        .claim()
        .expect("MemStore claims are infallible")
}

/// Typed open of `bytes` under the deep schema, as `SHARD` at `EPOCH`:
/// every rule a store's load checks, records decoded.
fn open_deep(bytes: Vec<u8>) -> Result<Summary, Rejection> {
    verify_as::<Deep>(
        &bytes,
        &VerifyOptions::new().expect_shard(SHARD).expect_epoch(EPOCH),
    )
}

/// Every piece of a deep-schema bundle, as raw parts to be edited.
fn deep_bundle(
    players: &[DPlayer],
    zones: &[DZone],
    items: &[DItem],
    item_index: &[ItemEntry],
) -> Bundle {
    let header = Header {
        schema_name: Deep::NAME.to_owned(),
        schema_version: Deep::VERSION,
        shapes: caelmor_persist::shape::schema_shapes::<Deep>()
            .expect("the deep schema traces")
            .map(|s| s.to_bytes()),
        ..Header::reference()
    };
    let section = |system, index: Vec<u8>, payload: Vec<u8>| {
        let mut s = Section::new::<u8, u8>(system, SHARD, EPOCH, &[], &[]);
        s.index = index;
        s.payload = payload;
        s
    };
    let concat = |records: Vec<Vec<u8>>| records.concat();
    Bundle {
        sections: vec![
            section(
                System::Player,
                enc(&players.iter().map(|p| p.id).collect::<Vec<_>>()),
                concat(players.iter().map(enc).collect()),
            ),
            section(
                System::World,
                enc(&zones.iter().map(|z| z.id).collect::<Vec<_>>()),
                concat(zones.iter().map(enc).collect()),
            ),
            section(System::Npc, enc::<[u8]>(&[]), Vec::new()),
            section(
                System::Item,
                enc(item_index),
                concat(items.iter().map(enc).collect()),
            ),
            section(System::Quest, enc::<[u8]>(&[]), Vec::new()),
        ],
        header: enc(&header),
        ..Bundle::of(&empty())
    }
}

fn zone_one() -> DZone {
    DZone {
        id: ZoneId(1),
        node: Node { children: vec![] },
    }
}

fn entry(id: u64) -> ItemEntry {
    ItemEntry {
        id: ItemId(id),
        location: ItemLocation::Zone(ZoneId(1)),
        owner: None,
    }
}

fn item(id: u64, chain: Chain) -> DItem {
    DItem {
        id: ItemId(id),
        location: ItemLocation::Zone(ZoneId(1)),
        owner: None,
        big: Big::Nothing,
        chain,
    }
}

// ---------------------------------------------------------------------------
// The hostile bundles.
// ---------------------------------------------------------------------------

/// A reference bundle whose item index declares 2^40 entries, followed by
/// `len` bytes of `filler`: 0xff fails on the first entry (a varint longer
/// than ten bytes); 0x00 is a run of real four-byte entries (item 0, in
/// zone 0, no owner) that ends where the bytes do.
fn count_bomb(filler: u8, len: usize) -> Vec<u8> {
    let mut bundle = Bundle::of(&empty());
    let items = bundle.section(System::Item);
    items.index = enc(&(1u64 << 40));
    items.index.resize(items.index.len() + len, filler);
    let mut bytes = bundle.bytes();
    // Exactly the bundle's size, so that the address space measured
    // around a read is the read's.
    bytes.shrink_to_fit();
    bytes
}

/// A reference bundle whose header's player shape is a struct declaring
/// `len` fields (as many as the bytes after the count could hold, one
/// byte each) followed by `len` bytes of 0xff, on which the first field
/// fails (a name length longer than five bytes). A field is 64 bytes in
/// memory: believed, the count would reserve 64 bytes per byte.
fn shape_bomb(len: usize) -> Vec<u8> {
    let mut header = Header::reference();
    let mut shape = vec![0x01, 0x24, 0x00];
    common::shape::count(len, &mut shape);
    shape.resize(shape.len() + len, 0xff);
    header.shapes[System::Player.position()] = shape;
    let mut bytes = Bundle::with_header(&empty(), &header).bytes();
    bytes.shrink_to_fit();
    bytes
}

/// A deep-schema bundle with `count` valid item index entries and a
/// `payload_len`-byte item payload of garbage: the index makes the count
/// real, the payload cannot hold one record, and each record is 4 KiB in
/// memory.
fn record_bomb(count: u64, payload_len: usize) -> Vec<u8> {
    let index: Vec<ItemEntry> = (1..=count).map(entry).collect();
    let mut bundle = deep_bundle(&[], &[zone_one()], &[], &index);
    bundle.section(System::Item).payload = vec![0xff; payload_len];
    bundle.bytes()
}

/// `levels` levels of `tag` after a record's fixed part, closed by a 0: a
/// million-level `Tree::Node`, `Node { children: [..] }` or
/// `Chain::Link` chain in a million bytes.
fn nested(prefix: Vec<u8>, tag: u8, levels: usize) -> Vec<u8> {
    let mut out = prefix;
    out.resize(out.len() + levels, tag);
    out.push(0);
    out
}

/// A deep-schema bundle with one record of `system` nested `levels` deep
/// by its own type's recursion.
fn depth_bomb(system: System, levels: usize) -> Vec<u8> {
    let mut bundle = match system {
        System::Player => deep_bundle(
            &[DPlayer {
                id: PlayerId(1),
                tree: Tree::Leaf,
            }],
            &[],
            &[],
            &[],
        ),
        System::World => deep_bundle(&[], &[zone_one()], &[], &[]),
        System::Item => deep_bundle(&[], &[zone_one()], &[item(1, Chain::End)], &[entry(1)]),
        _ => unreachable!("the deep schema nests in players, zones and items"),
    };
    let payload = &mut bundle.section(system).payload;
    *payload = match system {
        // id 1, then Tree::Node (variant 1) `levels` times.
        System::Player => nested(vec![1], 1, levels),
        // id 1, then Node { children: [one] } `levels` times.
        System::World => nested(vec![1], 1, levels),
        // id 1, Zone(1), no owner, Big::Nothing, then Chain::Link.
        System::Item => nested(vec![1, 0, 1, 0, 0], 1, levels),
        _ => unreachable!(),
    };
    bundle.bytes()
}

fn assert_decode_refused(r: Result<impl Sized, Rejection>, part: Part, what: &str) -> String {
    match r {
        Err(e @ Rejection::Undecodable { part: p, .. }) if p == part => {
            assert_eq!(e.code(), RejectionCode::Decode);
            e.to_string()
        }
        Err(e) => panic!("{what}: expected E-DECODE in {part:?}, got {e}"),
        Ok(_) => panic!("{what}: accepted"),
    }
}

// ---------------------------------------------------------------------------
// 1. The report, under its 1 GiB address-space limit.
// ---------------------------------------------------------------------------

/// Records: 2^18 of them, 4 KiB each in memory, indexed for real, over a
/// 256 KiB payload of garbage.
const RECORDS: u64 = 1 << 18;
const RECORD_PAYLOAD: usize = 256 * 1024;

/// The report's bundle, its item index declaring 2^40 entries (32 MiB
/// here rather than 64: already past the limit for the old reader, and
/// half the hashing), and a valid index whose record payload cannot hold
/// its 2^18 records of 4 KiB. The old reader reserved 1.25 GiB for the
/// first (40 bytes of entry per byte left) and 1 GiB for the second (4 KiB
/// of record per payload byte), and a process limited to 1 GiB aborted
/// (SIGABRT, "memory allocation of … bytes failed"). Now each is `E-DECODE`
/// from `verify` and from typed open, and the child exits 0.
#[test]
fn hostile_counts_under_a_1_gib_address_space() {
    print!("{}", in_child("child_hostile_counts_1_gib"));
}

#[test]
fn child_hostile_counts_1_gib() {
    let me = "child_hostile_counts_1_gib";
    if !is_child(me) {
        return;
    }
    limit_address_space(1 << 30);
    let part = Part::Section(System::Item);
    // 0xff: the count is all there is. 0x00: a million real entries, then
    // the end of the bytes.
    for (filler, len) in [(0xff, 32 * MIB), (0x00, 4 * MIB)] {
        let started = Instant::now();
        let bytes = count_bomb(filler, len);
        let v = assert_decode_refused(verify(&bytes, &VerifyOptions::new()), part, "verify");
        let o = assert_decode_refused(common::open(&bytes), part, "typed open");
        println!(
            "{} MiB of {filler:#04x} after 2^40 declared items: verify {v}; open {o}; \
             VmPeak {} MiB; {:?}",
            len / MIB,
            vm("VmPeak") >> 20,
            started.elapsed()
        );
    }
    let started = Instant::now();
    let bytes = record_bomb(RECORDS, RECORD_PAYLOAD);
    assert!(
        verify(&bytes, &VerifyOptions::new()).is_ok(),
        "the index is valid"
    );
    let o = assert_decode_refused(
        open_deep(bytes),
        Part::Record(System::Item, 0),
        "typed open",
    );
    println!(
        "2^18 records of 4 KiB over 256 KiB: open {o}; VmPeak {} MiB; {:?}",
        vm("VmPeak") >> 20,
        started.elapsed()
    );
    println!("{}", done(me));
}

// ---------------------------------------------------------------------------
// 2. The bound itself: what a declared count may reserve.
// ---------------------------------------------------------------------------

/// What a count drives stays within `RESERVE_PER_BYTE` bytes per byte of
/// bundle, measured as the growth of the child's address space (reserved
/// pages count, touched or not), with no tight limit so that a larger
/// reservation would succeed and be seen: the old reader reserved 40 bytes
/// per byte for the item index, and `size_of` record bytes (here 4 KiB)
/// per payload byte.
#[test]
fn declared_counts_reserve_at_most_16_bytes_per_byte() {
    print!("{}", in_child("child_reserve_bound"));
}

#[test]
fn child_reserve_bound() {
    let me = "child_reserve_bound";
    if !is_child(me) {
        return;
    }
    // A safety net only, far above what the bound allows.
    limit_address_space(8 << 30);
    // Thread stacks and the harness's own allocations.
    let slack = 16 * MIB as u64;
    let bound = |bundle: &[u8]| RESERVE_PER_BYTE as u64 * bundle.len() as u64 + slack;
    // Smaller peak first: VmPeak only ever rises, so each operation is
    // measured from the address space in use just before it, and an
    // earlier, higher peak would hide a later one.
    // A record shape in a header: a bundle carries them, so their counts
    // are as hostile as the index's.
    let shape = shape_bomb(MIB - 16);
    let before = vm("VmSize");
    assert_decode_refused(
        verify(&shape, &VerifyOptions::new()),
        Part::Header,
        "verify",
    );
    assert_decode_refused(common::open(&shape), Part::Header, "typed open");
    let grown = vm("VmPeak").saturating_sub(before);
    println!(
        "a million fields declared by a header's shape in a {} MiB bundle: address space grew {} MiB (bound {} MiB)",
        shape.len() / MIB,
        grown >> 20,
        bound(&shape) >> 20
    );
    assert!(grown <= bound(&shape), "{grown} > {}", bound(&shape));
    drop(shape);

    let records = record_bomb(RECORDS, RECORD_PAYLOAD);
    let before = vm("VmSize");
    assert_decode_refused(
        open_deep(records.clone()),
        Part::Record(System::Item, 0),
        "typed open",
    );
    let grown = vm("VmPeak").saturating_sub(before);
    println!(
        "2^18 records of 4 KiB indexed in a {} MiB bundle: address space grew {} MiB (bound {} MiB)",
        records.len() / MIB,
        grown >> 20,
        bound(&records) >> 20
    );
    assert!(grown <= bound(&records), "{grown} > {}", bound(&records));
    drop(records);

    let count = count_bomb(0xff, 32 * MIB);
    let before = vm("VmSize");
    let part = Part::Section(System::Item);
    assert_decode_refused(verify(&count, &VerifyOptions::new()), part, "verify");
    assert_decode_refused(common::open(&count), part, "typed open");
    let grown = vm("VmPeak").saturating_sub(before);
    println!(
        "2^40 items declared in a {} MiB bundle: address space grew {} MiB (bound {} MiB)",
        count.len() / MIB,
        grown >> 20,
        bound(&count) >> 20
    );
    assert!(grown <= bound(&count), "{grown} > {}", bound(&count));
    println!("{}", done(me));
}

// ---------------------------------------------------------------------------
// 3. A reservation the allocator refuses is not fatal.
// ---------------------------------------------------------------------------

/// With less address space left than even the bounded reservation (a
/// tenth of the bytes' worth of entries for items: 320 MiB for 32 MiB), the
/// reservation is refused by the allocator; the reader then grows as
/// entries decode, and the garbage fails on its first entry. With
/// `Vec::with_capacity` the refusal aborted the process.
#[test]
fn a_refused_reservation_is_not_fatal() {
    print!("{}", in_child("child_refused_reservation"));
}

#[test]
fn child_refused_reservation() {
    let me = "child_refused_reservation";
    if !is_child(me) {
        return;
    }
    let bytes = count_bomb(0xff, 32 * MIB);
    // Room for a copy of the bundle (typed open's `Loaded`), not for the
    // index's reservation.
    limit_address_space(vm("VmSize") + 160 * MIB as u64);
    let part = Part::Section(System::Item);
    let v = assert_decode_refused(verify(&bytes, &VerifyOptions::new()), part, "verify");
    let o = assert_decode_refused(common::open(&bytes), part, "typed open");
    println!("under VmSize + 160 MiB: verify {v}; open {o}");
    println!("{}", done(me));
}

// ---------------------------------------------------------------------------
// 4. Records nested a million levels deep.
// ---------------------------------------------------------------------------

/// A million levels of a recursive record type, in the player section
/// (decoded on the calling thread), the world section (a struct and a
/// sequence per level) and the item section (a payload that large is
/// decoded on a second thread, whose stack is 2 MiB): `E-DECODE` naming the
/// limit, from typed open. `verify` does not decode records and accepts
/// all three. Without the limit each overflowed the stack and killed the
/// process (SIGSEGV / SIGABRT).
#[test]
fn records_nested_a_million_deep_are_refused() {
    print!("{}", in_child("child_nested_a_million_deep"));
}

#[test]
fn child_nested_a_million_deep() {
    let me = "child_nested_a_million_deep";
    if !is_child(me) {
        return;
    }
    for system in [System::Player, System::World, System::Item] {
        let bytes = depth_bomb(system, 1_000_000);
        assert!(verify(&bytes, &VerifyOptions::new()).is_ok());
        let o = assert_decode_refused(open_deep(bytes), Part::Record(system, 0), "typed open");
        assert!(
            o.contains(&format!("deeper than {MAX_DEPTH} levels")),
            "{o}"
        );
        println!("{system}: {o}");
    }
    println!("{}", done(me));
}

/// The limit is exact: a record of 128 levels opens, on either thread; a
/// crafted one of 129 is refused. A player record is 1 level and its tree
/// the rest; an item record is 1 and its chain the rest.
#[test]
fn records_at_the_depth_limit_open_and_one_level_more_does_not() {
    let authority = deep_authority();
    let players = vec![DPlayer {
        id: PlayerId(1),
        tree: Tree::deep(MAX_DEPTH - 1),
    }];
    // Enough items at the limit for the item payload to be decoded on the
    // second thread (typed open does so from 256 KiB).
    let items: Vec<DItem> = (1..=2200)
        .map(|id| item(id, Chain::deep(MAX_DEPTH - 1)))
        .collect();
    let sealed = Save::begin(&authority)
        .players(&players)
        .and_then(|s| s.world(&[zone_one()]))
        .and_then(|s| s.npcs(&[]))
        .and_then(|s| s.items(&items))
        .and_then(|s| s.quests(&[]))
        .expect("a consistent shard")
        .seal();
    let bytes = sealed.into_bytes();
    let summary = open_deep(bytes.clone()).expect("records at the limit open");
    assert!(
        summary.sections[System::Item.position()].payload_bytes > 256 * 1024,
        "the item records are decoded on the second thread"
    );
    assert_eq!(summary.sections[System::Item.position()].records, 2200);

    // One level more, written by hand (the save chain does not measure
    // depth): refused, in each section that can nest.
    let max = MAX_DEPTH as usize;
    for (system, levels) in [
        // The player struct, `levels` `Tree::Node`s and a `Tree::Leaf`:
        // levels + 2.
        (System::Player, max - 1),
        // The zone struct, its `Node`, `levels` pairs of a children vector
        // and the `Node` in it, and the last, empty, vector: 2 × levels + 3.
        (System::World, (max - 2) / 2),
        // The item struct, `levels` `Chain::Link`s and a `Chain::End`.
        (System::Item, max - 1),
    ] {
        let o = assert_decode_refused(
            open_deep(depth_bomb(system, levels)),
            Part::Record(system, 0),
            "typed open",
        );
        assert!(o.contains("deeper than 128 levels"), "{o}");
        assert!(
            open_deep(depth_bomb(system, levels - 1)).is_ok(),
            "{system} one level shallower opens"
        );
    }
}
