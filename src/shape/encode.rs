//! The canonical byte encoding of a shape, and its hostile-safe decoder.
//!
//! ```text
//! shape   = FORMAT node                       FORMAT = 0x01
//! node    = prim-tag                          0x00 bool … 0x10 unit (Prim::ALL order)
//!         | 0x20 name                         unit struct
//!         | 0x21 name node                    newtype struct
//!         | 0x22 count node*                  tuple
//!         | 0x23 name count node*             tuple struct
//!         | 0x24 name count (name node)*      struct: field name, field shape
//!         | 0x25 name count (name payload)*   enum: variants in index order
//!         | 0x26 node                         option
//!         | 0x27 node                         seq
//!         | 0x28 node node                    map: key, value
//!         | 0x29 count                        recursive: levels up (≥ 1)
//! payload = 0x00 | 0x01 node | 0x02 count node* | 0x03 count (name node)*
//! name    = count utf8-bytes                  at most MAX_NAME bytes
//! count   = LEB128 u32, shortest form only
//! ```
//!
//! Every value has exactly one encoding (shortest varints, fixed order, no
//! optional parts), so decoding then re-encoding gives the input back, and
//! the same type gives the same bytes on every platform and build.

use super::model::{
    Field, MAX_DEPTH, MAX_ENCODED, MAX_NAME, MAX_NODES, Node, Payload, Prim, ShapeDecodeError,
    Variant,
};

/// The encoding's version, its first byte. A change of the grammar above
/// changes every fingerprint, and so makes every stored bundle refuse to
/// open: it needs a new version and a reader for the old one.
pub(super) const FORMAT: u8 = 1;

const UNIT_STRUCT: u8 = 0x20;
const NEWTYPE: u8 = 0x21;
const TUPLE: u8 = 0x22;
const TUPLE_STRUCT: u8 = 0x23;
const STRUCT: u8 = 0x24;
const ENUM: u8 = 0x25;
const OPTION: u8 = 0x26;
const SEQ: u8 = 0x27;
const MAP: u8 = 0x28;
const RECURSIVE: u8 = 0x29;

const PAYLOAD_UNIT: u8 = 0;
const PAYLOAD_NEWTYPE: u8 = 1;
const PAYLOAD_TUPLE: u8 = 2;
const PAYLOAD_STRUCT: u8 = 3;

/// Whether container names are written (for a bundle to carry) or left
/// empty (for the fingerprint, which must not change when a Rust type is
/// renamed).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Names {
    Keep,
    Elide,
}

/// Appends the encoding of the shape rooted at `root`.
pub(super) fn encode(root: &Node, names: Names, out: &mut Vec<u8>) {
    out.push(FORMAT);
    node(root, names, out);
}

fn node(n: &Node, names: Names, out: &mut Vec<u8>) {
    let container = |out: &mut Vec<u8>, tag: u8, name: &str| {
        out.push(tag);
        string(if names == Names::Keep { name } else { "" }, out);
    };
    match n {
        Node::Prim(p) => out.push(*p as u8),
        Node::UnitStruct { name } => container(out, UNIT_STRUCT, name),
        Node::Newtype { name, inner } => {
            container(out, NEWTYPE, name);
            node(inner, names, out);
        }
        Node::Tuple(items) => {
            out.push(TUPLE);
            nodes(items, names, out);
        }
        Node::TupleStruct { name, items } => {
            container(out, TUPLE_STRUCT, name);
            nodes(items, names, out);
        }
        Node::Struct { name, fields: fs } => {
            container(out, STRUCT, name);
            fields(fs, names, out);
        }
        Node::Enum { name, variants } => {
            container(out, ENUM, name);
            count(variants.len(), out);
            for v in variants {
                string(&v.name, out);
                match &v.payload {
                    Payload::Unit => out.push(PAYLOAD_UNIT),
                    Payload::Newtype(inner) => {
                        out.push(PAYLOAD_NEWTYPE);
                        node(inner, names, out);
                    }
                    Payload::Tuple(items) => {
                        out.push(PAYLOAD_TUPLE);
                        nodes(items, names, out);
                    }
                    Payload::Struct(fs) => {
                        out.push(PAYLOAD_STRUCT);
                        fields(fs, names, out);
                    }
                }
            }
        }
        Node::Option(inner) => {
            out.push(OPTION);
            node(inner, names, out);
        }
        Node::Seq(inner) => {
            out.push(SEQ);
            node(inner, names, out);
        }
        Node::Map { key, value } => {
            out.push(MAP);
            node(key, names, out);
            node(value, names, out);
        }
        Node::Recursive { up } => {
            out.push(RECURSIVE);
            count(*up as usize, out);
        }
    }
}

fn nodes(items: &[Node], names: Names, out: &mut Vec<u8>) {
    count(items.len(), out);
    for item in items {
        node(item, names, out);
    }
}

fn fields(fs: &[Field], names: Names, out: &mut Vec<u8>) {
    count(fs.len(), out);
    for f in fs {
        string(&f.name, out);
        node(&f.shape, names, out);
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    count(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// LEB128. Every count in a shape is bounded far below `u32::MAX` (by
/// `MAX_NODES`, `MAX_NAME`, `MAX_DEPTH`), which the tracer enforces before
/// it builds a shape.
fn count(n: usize, out: &mut Vec<u8>) {
    let mut n = n as u64;
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

/// Reads a shape's root from `bytes`, which must hold exactly one shape.
pub(super) fn decode(bytes: &[u8]) -> Result<Node, ShapeDecodeError> {
    let mut d = Decoder {
        bytes,
        pos: 0,
        nodes: 0,
    };
    if bytes.len() > MAX_ENCODED {
        return Err(d.error("longer than any shape may be"));
    }
    if d.byte()? != FORMAT {
        return Err(d.error_before("unknown shape encoding version"));
    }
    let root = d.node(0)?;
    if d.pos != bytes.len() {
        return Err(d.error("trailing bytes"));
    }
    Ok(root)
}

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    nodes: usize,
}

impl Decoder<'_> {
    fn error(&self, reason: &'static str) -> ShapeDecodeError {
        ShapeDecodeError {
            offset: self.pos,
            reason,
        }
    }

    /// An error about the byte just read.
    fn error_before(&self, reason: &'static str) -> ShapeDecodeError {
        ShapeDecodeError {
            offset: self.pos.saturating_sub(1),
            reason,
        }
    }

    fn byte(&mut self) -> Result<u8, ShapeDecodeError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| self.error("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    /// A shortest-form LEB128 `u32`.
    fn count(&mut self) -> Result<usize, ShapeDecodeError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    self.pos = start;
                    return Err(self.error("count not in its shortest form"));
                }
                if value > u64::from(u32::MAX) {
                    self.pos = start;
                    return Err(self.error("count too large"));
                }
                return usize::try_from(value).map_err(|_| self.error("count too large"));
            }
        }
        self.pos = start;
        Err(self.error("count too long"))
    }

    /// A count of items that each take at least one byte: never more than
    /// the bytes left, so no allocation is larger than the input.
    fn items(&mut self) -> Result<usize, ShapeDecodeError> {
        let n = self.count()?;
        if n > self.bytes.len() - self.pos {
            return Err(self.error_before("count larger than the bytes left"));
        }
        Ok(n)
    }

    /// An empty vector with room for the `n` items a count announced, as
    /// far as the input can back them: never more than the nodes still
    /// allowed (each item is at least one), nor than
    /// [`RESERVE_PER_BYTE`](crate::format::RESERVE_PER_BYTE) bytes of memory
    /// per byte left; and a reservation the allocator refuses is skipped,
    /// the vector then growing as items decode. A shape is bytes a bundle
    /// header carries, so a count is a claim of hostile input until its
    /// items have decoded.
    fn room<T>(&self, n: usize) -> Vec<T> {
        let left = self.bytes.len() - self.pos;
        let budget = crate::format::RESERVE_PER_BYTE.saturating_mul(left) / size_of::<T>().max(1);
        let mut out = Vec::new();
        let _ = out.try_reserve_exact(n.min(MAX_NODES - self.nodes.min(MAX_NODES)).min(budget));
        out
    }

    fn name(&mut self) -> Result<Box<str>, ShapeDecodeError> {
        let len = self.count()?;
        if len > MAX_NAME {
            return Err(self.error_before("name too long"));
        }
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error("name runs past the end"))?;
        let text = core::str::from_utf8(&self.bytes[self.pos..end])
            .map_err(|_| self.error("name is not UTF-8"))?;
        self.pos = end;
        Ok(Box::from(text))
    }

    /// A node with `depth` nodes above it.
    fn node(&mut self, depth: usize) -> Result<Node, ShapeDecodeError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("nested too deep"));
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.error("too many nodes"));
        }
        let tag = self.byte()?;
        let below = depth + 1;
        Ok(match tag {
            t if usize::from(t) < Prim::ALL.len() => Node::Prim(Prim::ALL[usize::from(t)]),
            UNIT_STRUCT => Node::UnitStruct { name: self.name()? },
            NEWTYPE => Node::Newtype {
                name: self.name()?,
                inner: Box::new(self.node(below)?),
            },
            TUPLE => Node::Tuple(self.nodes(below)?),
            TUPLE_STRUCT => Node::TupleStruct {
                name: self.name()?,
                items: self.nodes(below)?,
            },
            STRUCT => Node::Struct {
                name: self.name()?,
                fields: self.fields(below)?,
            },
            ENUM => {
                let name = self.name()?;
                let n = self.items()?;
                let mut variants = self.room(n);
                for _ in 0..n {
                    let name = self.name()?;
                    let payload = match self.byte()? {
                        PAYLOAD_UNIT => Payload::Unit,
                        PAYLOAD_NEWTYPE => Payload::Newtype(self.node(below)?),
                        PAYLOAD_TUPLE => Payload::Tuple(self.nodes(below)?),
                        PAYLOAD_STRUCT => Payload::Struct(self.fields(below)?),
                        _ => return Err(self.error_before("unknown variant payload")),
                    };
                    variants.push(Variant { name, payload });
                }
                Node::Enum { name, variants }
            }
            OPTION => Node::Option(Box::new(self.node(below)?)),
            SEQ => Node::Seq(Box::new(self.node(below)?)),
            MAP => Node::Map {
                key: Box::new(self.node(below)?),
                value: Box::new(self.node(below)?),
            },
            RECURSIVE => {
                let up = self.count()?;
                // It must name a node above it: the root has none.
                if up == 0 || up > depth {
                    return Err(self.error_before("recursion to no enclosing node"));
                }
                Node::Recursive {
                    up: u32::try_from(up).map_err(|_| self.error_before("count too large"))?,
                }
            }
            _ => return Err(self.error_before("unknown node tag")),
        })
    }

    fn nodes(&mut self, depth: usize) -> Result<Vec<Node>, ShapeDecodeError> {
        let n = self.items()?;
        let mut items = self.room(n);
        for _ in 0..n {
            items.push(self.node(depth)?);
        }
        Ok(items)
    }

    fn fields(&mut self, depth: usize) -> Result<Vec<Field>, ShapeDecodeError> {
        let n = self.items()?;
        let mut fields = self.room(n);
        for _ in 0..n {
            let name = self.name()?;
            let shape = self.node(depth)?;
            fields.push(Field { name, shape });
        }
        Ok(fields)
    }
}
