//! A reference reader, written from the format specification in
//! `src/format/mod.rs` alone, for the tests only: bytes in, the rules in
//! the specification's order, the first rejection code out — or, for a
//! bundle every rule accepts, its header, structural index and payload
//! slices.
//!
//! It calls none of the crate's code and copies none of it: varints, the
//! shape grammar and the frame are read by hand here, BLAKE3 comes from the
//! `blake3` crate and the structural rules from [`super::rules`]. A typed
//! reader's rule 10 (decoding records) needs the record types, which the
//! caller supplies through [`Records`]. So when a test compares the crate's
//! first rejection with this reader's, the two answers come from two
//! readings of the specification, and a bug the crate's readers share (they
//! share most of their code) cannot agree with itself.
//!
//! Simplicity over speed: every rule is a plain check in the order the
//! specification lists them, the whole structural index is kept, and
//! nothing is reserved ahead from a count.

use super::rules::{self, Index, Item, Loc, Quest};

/// "CAELPRST".
pub const MAGIC: [u8; 8] = *b"CAELPRST";
/// The format version this build reads (the specification's "Layout" and
/// its note on version 1).
pub const VERSION: u16 = 2;
const PREAMBLE: usize = 18;
const DIGEST: usize = 32;
/// Rule 3: the size of an empty frame.
const EMPTY_FRAME: u64 = 50;

/// What a reader states (rule 9) and the key it holds (rule 4).
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub key: Option<[u8; 32]>,
    pub schema: Option<(String, u32)>,
    /// A typed reader's record shapes, as canonical encodings, in section
    /// order; compared by fingerprint, that is with container names empty.
    pub shapes: Option<[Vec<u8>; 5]>,
    pub shard: Option<u64>,
    pub epoch: Option<u64>,
}

/// One record's index entry, as the record itself gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Player(u64),
    Zone(u64),
    /// (npc id, zone id).
    Npc(u64, u64),
    Item(Item),
    Quest(Quest),
}

/// One record decoded from the front of a payload.
pub struct Decoded {
    /// How many bytes it took.
    pub len: usize,
    /// The record encoded again.
    pub encoded: Vec<u8>,
    /// Its ids and references.
    pub entry: Entry,
}

/// A typed reader's record types (rule 10).
pub trait Records {
    /// The record of section `system` at the front of `bytes`, or `None`
    /// when none decodes there.
    fn decode(&self, system: usize, bytes: &[u8]) -> Option<Decoded>;
}

/// A bundle every rule accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read<'a> {
    pub shard: u64,
    pub epoch: u64,
    pub fence: u64,
    pub schema_name: String,
    pub schema_version: u32,
    /// The header's five shapes, as the bundle carries them.
    pub shapes: [Vec<u8>; 5],
    pub index: Index,
    /// Each section whole: stamp, index, payload length, payload.
    pub sections: [&'a [u8]; 5],
    /// Each section's record payload.
    pub payloads: [&'a [u8]; 5],
    pub digest: [u8; 32],
}

/// The first rule a bundle breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The specification's code, e.g. `"E-DIGEST"`.
    pub code: &'static str,
    /// The rule's number in the specification's list.
    pub rule: u8,
    /// What was wrong, for the test's message.
    pub why: String,
}

fn refuse<T>(rule: u8, code: &'static str, why: impl Into<String>) -> Result<T, Refused> {
    Err(Refused {
        code,
        rule,
        why: why.into(),
    })
}

/// Reads `bytes` under `expect`; with `records`, as a typed reader (the
/// shapes of rule 9 and rule 10), else as a schema-agnostic one.
pub fn read<'a>(
    bytes: &'a [u8],
    expect: &Expect,
    records: Option<&dyn Records>,
) -> Result<Read<'a>, Refused> {
    // Rule 1: magic.
    if bytes.len() < MAGIC.len() {
        if !bytes.is_empty() && MAGIC.starts_with(bytes) {
            return refuse(1, "E-TRUNCATED", "a prefix of the magic");
        }
        return refuse(1, "E-MAGIC", "shorter than the magic");
    }
    if bytes[..8] != MAGIC {
        return refuse(1, "E-MAGIC", "not the magic");
    }
    // Rule 2: format version.
    if bytes.len() < 10 {
        return refuse(2, "E-TRUNCATED", "no format version");
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return refuse(2, "E-VERSION", format!("version {version}"));
    }
    // Rule 3: frame length.
    if bytes.len() < PREAMBLE {
        return refuse(3, "E-TRUNCATED", "no frame length");
    }
    let frame_len = u64::from_le_bytes(bytes[10..18].try_into().expect("8 bytes"));
    if frame_len < EMPTY_FRAME {
        return refuse(3, "E-FRAME", format!("frame_len {frame_len}"));
    }
    let available = bytes.len() as u64;
    if available < frame_len {
        return refuse(3, "E-TRUNCATED", "shorter than the frame");
    }
    if available > frame_len {
        return refuse(3, "E-TRAILING", "longer than the frame");
    }
    // Rule 4: digest, before anything is decoded.
    let covered = &bytes[..bytes.len() - DIGEST];
    let computed = match &expect.key {
        Some(key) => blake3::keyed_hash(key, covered),
        None => blake3::hash(covered),
    };
    let digest: [u8; 32] = bytes[bytes.len() - DIGEST..].try_into().expect("32 bytes");
    if computed.as_bytes() != &digest {
        return refuse(4, "E-DIGEST", "digest");
    }
    let mut body = Cursor::new(&bytes[PREAMBLE..bytes.len() - DIGEST]);

    // Rule 5: the header decodes, is canonical, and carries five shapes.
    let header = header(&mut body).or_else(|()| refuse(5, "E-DECODE", "header"))?;
    if header.overlong {
        return refuse(5, "E-NONCANONICAL", "header");
    }
    let mut trees = Vec::new();
    for (system, shape) in header.shapes.iter().enumerate() {
        match shape_tree(shape) {
            Some(tree) => trees.push(tree),
            None => return refuse(5, "E-DECODE", format!("shape {system}")),
        }
    }

    // Rule 6: the section table.
    let mut table_cursor = body.clone();
    let Ok(count) = table_cursor.varint(64) else {
        return refuse(6, "E-DECODE", "table count");
    };
    let mut tags = Vec::new();
    for _ in 0..count {
        match table_cursor.byte() {
            Ok(tag) => tags.push(tag),
            Err(()) => return refuse(6, "E-DECODE", "table tags"),
        }
    }
    if table_cursor.overlong {
        return refuse(6, "E-NONCANONICAL", "table count");
    }
    body = table_cursor;
    let mut named = [false; 5];
    for &tag in &tags {
        if tag > 4 {
            return refuse(6, "E-FRAME", format!("tag {tag}"));
        }
        if named[tag as usize] {
            return refuse(6, "E-SECTION-DUPLICATE", format!("tag {tag}"));
        }
        named[tag as usize] = true;
    }
    if named.contains(&false) {
        return refuse(6, "E-SECTION-MISSING", "a tag is absent");
    }
    if tags != [0, 1, 2, 3, 4] {
        return refuse(6, "E-SECTION-ORDER", format!("{tags:?}"));
    }

    // Rule 7: each section, in order.
    let mut index = Index::default();
    let mut sections: [&[u8]; 5] = [&[]; 5];
    let mut payloads: [&[u8]; 5] = [&[]; 5];
    for system in 0..5 {
        let start = body.at;
        let mut stamp = body.clone();
        let (Ok(tag), Ok(shard), Ok(epoch)) = (stamp.byte(), stamp.varint(64), stamp.varint(64))
        else {
            return refuse(7, "E-DECODE", format!("stamp {system}"));
        };
        if stamp.overlong {
            return refuse(7, "E-NONCANONICAL", format!("stamp {system}"));
        }
        body = stamp;
        if tag as usize != system {
            return refuse(7, "E-FRAME", format!("stamp tag {tag} in section {system}"));
        }
        if shard != header.shard {
            return refuse(7, "E-SHARD-MIXED", format!("section {system}"));
        }
        if epoch != header.epoch {
            return refuse(7, "E-EPOCH-MIXED", format!("section {system}"));
        }
        let mut entries = body.clone();
        if entries_of(&mut entries, system, &mut index).is_err() {
            return refuse(7, "E-DECODE", format!("index {system}"));
        }
        if entries.overlong {
            return refuse(7, "E-NONCANONICAL", format!("index {system}"));
        }
        body = entries;
        if let Err(broken) = rules::section(system, &index) {
            return refuse(7, broken.code(), format!("{broken:?}"));
        }
        let Ok(len) = body.take(8) else {
            return refuse(7, "E-TRUNCATED", format!("payload length {system}"));
        };
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        if len > body.left() as u64 {
            return refuse(7, "E-TRUNCATED", format!("payload {system}"));
        }
        payloads[system] = body.take(len as usize).expect("fits");
        sections[system] = &body.bytes[start..body.at];
    }

    // Rule 8: nothing after the last section.
    if body.left() > 0 {
        return refuse(8, "E-TRAILING", "after the last section");
    }

    // Rule 9: the reader's expectations.
    if let Some((name, version)) = &expect.schema
        && (*name != header.schema_name || *version != header.schema_version)
    {
        return refuse(9, "E-SCHEMA", "schema");
    }
    if records.is_some()
        && let Some(own) = &expect.shapes
    {
        for (system, (found, own)) in trees.iter().zip(own).enumerate() {
            let own = shape_tree(own).expect("the reader's own shapes are shapes");
            if found.blank() != own.blank() {
                return refuse(9, "E-SHAPE", format!("shape {system}"));
            }
        }
    }
    if expect.shard.is_some_and(|s| s != header.shard) {
        return refuse(9, "E-SHARD", "shard");
    }
    if expect.epoch.is_some_and(|e| e != header.epoch) {
        return refuse(9, "E-EPOCH", "epoch");
    }

    // Rule 10: the records, for a typed reader.
    if let Some(records) = records {
        for (system, payload) in payloads.iter().enumerate() {
            let expected = entries_list(&index, system);
            let mut rest: &[u8] = payload;
            for (n, entry) in expected.iter().enumerate() {
                let Some(decoded) = records.decode(system, rest) else {
                    return refuse(10, "E-DECODE", format!("record {n} of {system}"));
                };
                if decoded.encoded != rest[..decoded.len] {
                    return refuse(10, "E-NONCANONICAL", format!("record {n} of {system}"));
                }
                if decoded.entry != *entry {
                    return refuse(10, "E-INDEX-MISMATCH", format!("record {n} of {system}"));
                }
                rest = &rest[decoded.len..];
            }
            if !rest.is_empty() {
                return refuse(10, "E-TRAILING", format!("after the records of {system}"));
            }
        }
    }

    Ok(Read {
        shard: header.shard,
        epoch: header.epoch,
        fence: header.fence,
        schema_name: header.schema_name,
        schema_version: header.schema_version,
        shapes: header.shapes,
        index,
        sections,
        payloads,
        digest,
    })
}

/// The index entries of section `system`, as records would give them.
fn entries_list(index: &Index, system: usize) -> Vec<Entry> {
    match system {
        rules::PLAYER => index.players.iter().map(|&p| Entry::Player(p)).collect(),
        rules::WORLD => index.zones.iter().map(|&z| Entry::Zone(z)).collect(),
        rules::NPC => index.npcs.iter().map(|&(n, z)| Entry::Npc(n, z)).collect(),
        rules::ITEM => index.items.iter().map(|&i| Entry::Item(i)).collect(),
        _ => index.quests.iter().cloned().map(Entry::Quest).collect(),
    }
}

/// Bytes read front to back; remembers whether a varint was longer than
/// its shortest form (decodable, but not what re-encoding gives).
#[derive(Clone)]
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    overlong: bool,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            overlong: false,
        }
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, ()> {
        let b = *self.bytes.get(self.at).ok_or(())?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ()> {
        if n > self.left() {
            return Err(());
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    /// An unsigned LEB128 varint of a `bits`-wide integer: at most
    /// ceil(bits / 7) bytes, the last of which carries no bit the integer
    /// has no room for.
    fn varint(&mut self, bits: u32) -> Result<u64, ()> {
        let most = bits.div_ceil(7);
        let mut value = 0u64;
        for k in 0..most {
            let b = self.byte()?;
            let low = u64::from(b & 0x7f);
            if k == most - 1 && (b & 0x80 != 0 || low >> (bits - 7 * k) != 0) {
                return Err(());
            }
            value |= low << (7 * k);
            if b & 0x80 == 0 {
                // The shortest form never ends in a zero byte after the first.
                self.overlong |= k > 0 && b == 0;
                return Ok(value);
            }
        }
        unreachable!("the last byte either ends the varint or fails")
    }

    /// A varint length and that many bytes.
    fn bytes_field(&mut self) -> Result<&'a [u8], ()> {
        let len = self.varint(64)?;
        self.take(usize::try_from(len).map_err(|_| ())?)
    }
}

struct Header {
    shard: u64,
    epoch: u64,
    fence: u64,
    schema_name: String,
    schema_version: u32,
    shapes: [Vec<u8>; 5],
    overlong: bool,
}

/// The header, as the specification lists its fields.
fn header(body: &mut Cursor<'_>) -> Result<Header, ()> {
    let shard = body.varint(64)?;
    let epoch = body.varint(64)?;
    let fence = body.varint(64)?;
    let name = std::str::from_utf8(body.bytes_field()?).map_err(|_| ())?;
    let schema_version = u32::try_from(body.varint(32)?).map_err(|_| ())?;
    let mut shapes: [Vec<u8>; 5] = Default::default();
    for shape in &mut shapes {
        *shape = body.bytes_field()?.to_vec();
    }
    Ok(Header {
        shard,
        epoch,
        fence,
        schema_name: name.to_owned(),
        schema_version,
        shapes,
        overlong: body.overlong,
    })
}

/// The index of section `system` (varint count, entries), appended to
/// `index`.
fn entries_of(c: &mut Cursor<'_>, system: usize, index: &mut Index) -> Result<(), ()> {
    let count = c.varint(64)?;
    for _ in 0..count {
        let id = c.varint(64)?;
        match system {
            rules::PLAYER => index.players.push(id),
            rules::WORLD => index.zones.push(id),
            rules::NPC => {
                let zone = c.varint(64)?;
                index.npcs.push((id, zone));
            }
            rules::ITEM => {
                let variant = c.varint(32)?;
                let to = c.varint(64)?;
                let loc = match variant {
                    0 => Loc::Zone(to),
                    1 => Loc::Player(to),
                    2 => Loc::Container(to),
                    _ => return Err(()),
                };
                let owner = match c.byte()? {
                    0 => None,
                    1 => Some(c.varint(64)?),
                    _ => return Err(()),
                };
                index.items.push(Item { id, loc, owner });
            }
            _ => {
                let owner = c.varint(64)?;
                let zones = c.varint(64)?;
                let mut quest = Quest {
                    id,
                    owner,
                    zones: Vec::new(),
                };
                for _ in 0..zones {
                    quest.zones.push(c.varint(64)?);
                }
                index.quests.push(quest);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Record shapes ("Record shapes" in the specification).
// ---------------------------------------------------------------------------

const SHAPE_MAX_BYTES: usize = 1 << 20;
const SHAPE_MAX_NODES: usize = 16_384;
const SHAPE_MAX_DEPTH: usize = 128;
const SHAPE_MAX_NAME: usize = 1_024;

/// A decoded shape node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Prim(u8),
    Unit(String),
    Newtype(String, Box<Node>),
    Tuple(Vec<Node>),
    TupleStruct(String, Vec<Node>),
    Struct(String, Vec<(String, Node)>),
    Enum(String, Vec<(String, Payload)>),
    Option(Box<Node>),
    Seq(Box<Node>),
    Map(Box<Node>, Box<Node>),
    Recursion(u32),
}

/// An enum variant's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Unit,
    Newtype(Node),
    Tuple(Vec<Node>),
    Struct(Vec<(String, Node)>),
}

/// `bytes` as a shape, if they are the canonical encoding of one.
pub fn shape_tree(bytes: &[u8]) -> Option<Node> {
    if bytes.len() > SHAPE_MAX_BYTES || bytes.first() != Some(&0x01) {
        return None;
    }
    let mut d = ShapeDecoder {
        c: Cursor::new(&bytes[1..]),
        nodes: 0,
    };
    let root = d.node(1).ok()?;
    // Nothing may follow the root.
    (d.c.left() == 0).then_some(root)
}

impl Node {
    /// The encoding with every container name empty: what the fingerprint
    /// is taken of.
    pub fn blank(&self) -> Vec<u8> {
        let mut out = vec![0x01];
        self.encode(&mut out, true);
        out
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0x01];
        self.encode(&mut out, false);
        out
    }

    fn encode(&self, out: &mut Vec<u8>, blank: bool) {
        let container = |out: &mut Vec<u8>, name: &str| name_to(out, if blank { "" } else { name });
        match self {
            Node::Prim(tag) => out.push(*tag),
            Node::Unit(name) => {
                out.push(0x20);
                container(out, name);
            }
            Node::Newtype(name, inner) => {
                out.push(0x21);
                container(out, name);
                inner.encode(out, blank);
            }
            Node::Tuple(items) => {
                out.push(0x22);
                count_to(out, items.len());
                items.iter().for_each(|n| n.encode(out, blank));
            }
            Node::TupleStruct(name, items) => {
                out.push(0x23);
                container(out, name);
                count_to(out, items.len());
                items.iter().for_each(|n| n.encode(out, blank));
            }
            Node::Struct(name, fields) => {
                out.push(0x24);
                container(out, name);
                fields_to(out, fields, blank);
            }
            Node::Enum(name, variants) => {
                out.push(0x25);
                container(out, name);
                count_to(out, variants.len());
                for (variant, payload) in variants {
                    name_to(out, variant);
                    match payload {
                        Payload::Unit => out.push(0x00),
                        Payload::Newtype(n) => {
                            out.push(0x01);
                            n.encode(out, blank);
                        }
                        Payload::Tuple(items) => {
                            out.push(0x02);
                            count_to(out, items.len());
                            items.iter().for_each(|n| n.encode(out, blank));
                        }
                        Payload::Struct(fields) => {
                            out.push(0x03);
                            fields_to(out, fields, blank);
                        }
                    }
                }
            }
            Node::Option(inner) => {
                out.push(0x26);
                inner.encode(out, blank);
            }
            Node::Seq(inner) => {
                out.push(0x27);
                inner.encode(out, blank);
            }
            Node::Map(k, v) => {
                out.push(0x28);
                k.encode(out, blank);
                v.encode(out, blank);
            }
            Node::Recursion(up) => {
                out.push(0x29);
                count_to(out, *up as usize);
            }
        }
    }
}

fn count_to(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn name_to(out: &mut Vec<u8>, name: &str) {
    count_to(out, name.len());
    out.extend_from_slice(name.as_bytes());
}

fn fields_to(out: &mut Vec<u8>, fields: &[(String, Node)], blank: bool) {
    count_to(out, fields.len());
    for (field, node) in fields {
        name_to(out, field);
        node.encode(out, blank);
    }
}

struct ShapeDecoder<'a> {
    c: Cursor<'a>,
    nodes: usize,
}

impl ShapeDecoder<'_> {
    /// A LEB128 u32 in its shortest form.
    fn count(&mut self) -> Result<u32, ()> {
        let before = self.c.overlong;
        let n = self.c.varint(32)?;
        if self.c.overlong && !before {
            return Err(());
        }
        u32::try_from(n).map_err(|_| ())
    }

    /// A count of items that each take at least a byte: never more than
    /// the bytes that follow.
    fn items(&mut self) -> Result<usize, ()> {
        let n = self.count()? as usize;
        if n > self.c.left() {
            return Err(());
        }
        Ok(n)
    }

    fn name(&mut self) -> Result<String, ()> {
        let len = self.count()? as usize;
        if len > SHAPE_MAX_NAME {
            return Err(());
        }
        let bytes = self.c.take(len)?;
        Ok(std::str::from_utf8(bytes).map_err(|_| ())?.to_owned())
    }

    /// A node `depth` levels deep (the root is 1).
    fn node(&mut self, depth: usize) -> Result<Node, ()> {
        if depth > SHAPE_MAX_DEPTH {
            return Err(());
        }
        self.nodes += 1;
        if self.nodes > SHAPE_MAX_NODES {
            return Err(());
        }
        let tag = self.c.byte()?;
        Ok(match tag {
            0x00..=0x10 => Node::Prim(tag),
            0x20 => Node::Unit(self.name()?),
            0x21 => Node::Newtype(self.name()?, Box::new(self.node(depth + 1)?)),
            0x22 => Node::Tuple(self.nodes_list(depth)?),
            0x23 => {
                let name = self.name()?;
                Node::TupleStruct(name, self.nodes_list(depth)?)
            }
            0x24 => {
                let name = self.name()?;
                Node::Struct(name, self.fields(depth)?)
            }
            0x25 => {
                let name = self.name()?;
                let n = self.items()?;
                let mut variants = Vec::new();
                for _ in 0..n {
                    let variant = self.name()?;
                    let payload = match self.c.byte()? {
                        0x00 => Payload::Unit,
                        0x01 => Payload::Newtype(self.node(depth + 1)?),
                        0x02 => Payload::Tuple(self.nodes_list(depth)?),
                        0x03 => Payload::Struct(self.fields(depth)?),
                        _ => return Err(()),
                    };
                    variants.push((variant, payload));
                }
                Node::Enum(name, variants)
            }
            0x26 => Node::Option(Box::new(self.node(depth + 1)?)),
            0x27 => Node::Seq(Box::new(self.node(depth + 1)?)),
            0x28 => {
                let key = self.node(depth + 1)?;
                Node::Map(Box::new(key), Box::new(self.node(depth + 1)?))
            }
            0x29 => {
                let up = self.count()?;
                // The enclosing node `up` levels up must exist.
                if up == 0 || up as usize >= depth {
                    return Err(());
                }
                Node::Recursion(up)
            }
            _ => return Err(()),
        })
    }

    fn nodes_list(&mut self, depth: usize) -> Result<Vec<Node>, ()> {
        let n = self.items()?;
        (0..n).map(|_| self.node(depth + 1)).collect()
    }

    fn fields(&mut self, depth: usize) -> Result<Vec<(String, Node)>, ()> {
        let n = self.items()?;
        (0..n)
            .map(|_| Ok((self.name()?, self.node(depth + 1)?)))
            .collect()
    }
}
