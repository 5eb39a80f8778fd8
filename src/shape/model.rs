//! The shape tree: what the tracer builds, the codec writes and reads back,
//! `Display` renders and `first_difference` compares.

use core::fmt;

use super::encode::{self, Names};

/// The deepest a shape may nest, counted in nodes from the root. The tracer
/// refuses a deeper type and the decoder refuses deeper bytes, so every shape
/// the tracer builds decodes, and hostile bytes cannot exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 128;
/// The most nodes a shape may have (every primitive counts). Record types
/// have tens; the bound stops a hostile encoding, and a type whose expansion
/// explodes (each level naming the one below twice), from costing more than
/// a few milliseconds.
pub(crate) const MAX_NODES: usize = 16_384;
/// The longest name (of a container, field or variant) in bytes. Rust
/// identifiers and sensible `#[serde(rename)]`s are far shorter.
pub(crate) const MAX_NAME: usize = 1_024;
/// The longest encoding the decoder accepts. Bounds what a bundle header can
/// make a reader allocate before anything else is checked.
pub(crate) const MAX_ENCODED: usize = 1 << 20;

/// A primitive of serde's data model, by exact kind: `u32` and `u64`, or
/// `u32` and `i32`, are different shapes even where postcard's varints
/// happen to read one as the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Prim {
    Bool,
    I8,
    I16,
    I32,
    I64,
    I128,
    U8,
    U16,
    U32,
    U64,
    U128,
    F32,
    F64,
    Char,
    /// `String`, `str`, `Box<str>`, `PathBuf`, …: serde's `string`.
    Str,
    /// serde's `bytes` (`serde_bytes`), not `Vec<u8>`, which is a sequence.
    Bytes,
    /// `()`.
    Unit,
}

impl Prim {
    /// Every primitive, in tag order: the tracer gives each a fixed node.
    pub(crate) const ALL: [Prim; 17] = [
        Prim::Bool,
        Prim::I8,
        Prim::I16,
        Prim::I32,
        Prim::I64,
        Prim::I128,
        Prim::U8,
        Prim::U16,
        Prim::U32,
        Prim::U64,
        Prim::U128,
        Prim::F32,
        Prim::F64,
        Prim::Char,
        Prim::Str,
        Prim::Bytes,
        Prim::Unit,
    ];

    /// How the primitive is written in `Display` and in differences.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Prim::Bool => "bool",
            Prim::I8 => "i8",
            Prim::I16 => "i16",
            Prim::I32 => "i32",
            Prim::I64 => "i64",
            Prim::I128 => "i128",
            Prim::U8 => "u8",
            Prim::U16 => "u16",
            Prim::U32 => "u32",
            Prim::U64 => "u64",
            Prim::U128 => "u128",
            Prim::F32 => "f32",
            Prim::F64 => "f64",
            Prim::Char => "char",
            Prim::Str => "str",
            Prim::Bytes => "bytes",
            Prim::Unit => "()",
        }
    }
}

/// One node of a shape.
///
/// Container names (`name`) are carried to explain a difference, not to
/// identify the shape: the fingerprint leaves them out (see the module docs).
/// Field and variant names are part of the shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Prim(Prim),
    UnitStruct {
        name: Box<str>,
    },
    Newtype {
        name: Box<str>,
        inner: Box<Node>,
    },
    Tuple(Vec<Node>),
    TupleStruct {
        name: Box<str>,
        items: Vec<Node>,
    },
    Struct {
        name: Box<str>,
        fields: Vec<Field>,
    },
    /// Every variant, in serde's index order (postcard writes the index).
    Enum {
        name: Box<str>,
        variants: Vec<Variant>,
    },
    Option(Box<Node>),
    Seq(Box<Node>),
    Map {
        key: Box<Node>,
        value: Box<Node>,
    },
    /// A type met again inside itself: the node `up` levels above this one
    /// (1 = the parent). A count of levels, not a name or a `TypeId`, so
    /// the encoding depends on the tree alone.
    Recursive {
        up: u32,
    },
}

/// A named field of a struct or of a struct variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: Box<str>,
    pub(crate) shape: Node,
}

/// One enum variant: its name and what it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Variant {
    pub(crate) name: Box<str>,
    pub(crate) payload: Payload,
}

/// What an enum variant carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Payload {
    Unit,
    Newtype(Node),
    Tuple(Vec<Node>),
    Struct(Vec<Field>),
}

impl Node {
    /// The container's name, for the kinds that have one.
    pub(crate) fn container_name(&self) -> Option<&str> {
        match self {
            Node::UnitStruct { name }
            | Node::Newtype { name, .. }
            | Node::TupleStruct { name, .. }
            | Node::Struct { name, .. }
            | Node::Enum { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// The 32-byte BLAKE3 fingerprint of a record type's shape (see
/// [`Shape::fingerprint`]): what a reader compares with the shape a bundle
/// carries. Displays as 64 lower-case hex digits, and serializes as them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub(crate) [u8; 32]);

impl Fingerprint {
    /// The raw 32 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Fingerprint {
    /// Lower-case hex, 64 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// The serde data-model shape of a record type, and its fingerprint.
///
/// `==` compares everything, container names included; two shapes whose
/// fingerprints are equal differ at most in container names, and
/// [`first_difference`](super::first_difference) reports `None` for them.
/// `Display` renders it on one line, Rust-like:
///
/// ```
/// use caelmor_persist::shape::shape_of;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Player { id: u64, gold: u32, rank: Rank }
/// #[derive(serde::Serialize, serde::Deserialize)]
/// enum Rank { Recruit, Veteran }
///
/// let shape = shape_of::<Player>()?;
/// assert_eq!(shape.to_string(), "Player { id: u64, gold: u32, rank: enum Rank { Recruit, Veteran } }");
/// assert_eq!(shape.fingerprint().to_string().len(), 64);
/// # Ok::<(), caelmor_persist::shape::ShapeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    root: Node,
    /// Computed once: a cached shape is asked for it on every save and open.
    fingerprint: Fingerprint,
}

/// Domain separation for the fingerprint: a BLAKE3 key derived from this
/// context, so no other hash the crate computes (the bundle digest) can
/// collide with a shape's by construction. Changing it changes every
/// fingerprint, so it never changes within one encoding version.
const FINGERPRINT_CONTEXT: &str = "caelmor-persist 2025-01 record shape fingerprint v1";

impl Shape {
    /// Wraps a root the caller has kept within the limits above.
    pub(crate) fn from_root(root: Node) -> Shape {
        let mut structural = Vec::new();
        encode::encode(&root, Names::Elide, &mut structural);
        let mut hasher = blake3::Hasher::new_derive_key(FINGERPRINT_CONTEXT);
        hasher.update(&structural);
        let fingerprint = Fingerprint(*hasher.finalize().as_bytes());
        Shape { root, fingerprint }
    }

    /// The root node.
    pub(crate) fn root(&self) -> &Node {
        &self.root
    }

    /// BLAKE3 (in derive-key mode, context `"caelmor-persist 2025-01 record
    /// shape fingerprint v1"`) of the canonical encoding of this shape with
    /// its container names left empty: the same for a
    /// type renamed in Rust, different for any change of fields, field
    /// names, variants, variant names or kinds.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The canonical encoding, container names included, for a bundle to
    /// carry so that a reader can explain a mismatch. Deterministic: it
    /// depends on the tree alone (no map order, `TypeId` or address).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        encode::encode(&self.root, Names::Keep, &mut out);
        out
    }

    /// Reads a shape back from [`to_bytes`](Self::to_bytes) output. Safe on
    /// hostile bytes: bounded in size, nodes and depth, no panics, and only
    /// the canonical encoding is accepted (re-encoding gives the same bytes).
    ///
    /// # Errors
    /// Bytes that are not the canonical encoding of a shape, with the
    /// offset where the decoder stopped.
    pub fn from_bytes(bytes: &[u8]) -> Result<Shape, ShapeDecodeError> {
        encode::decode(bytes).map(Shape::from_root)
    }

    /// The same shape with every container name emptied: what the
    /// fingerprint is computed from.
    #[cfg(test)]
    pub(crate) fn without_names(&self) -> Shape {
        let mut root = self.root.clone();
        strip(&mut root);
        Shape {
            root,
            fingerprint: self.fingerprint,
        }
    }
}

#[cfg(test)]
fn strip(node: &mut Node) {
    match node {
        Node::Prim(_) | Node::Recursive { .. } => {}
        Node::UnitStruct { name } => *name = Box::from(""),
        Node::Newtype { name, inner } => {
            *name = Box::from("");
            strip(inner);
        }
        Node::Tuple(items) => items.iter_mut().for_each(strip),
        Node::TupleStruct { name, items } => {
            *name = Box::from("");
            items.iter_mut().for_each(strip);
        }
        Node::Struct { name, fields } => {
            *name = Box::from("");
            fields.iter_mut().for_each(|f| strip(&mut f.shape));
        }
        Node::Enum { name, variants } => {
            *name = Box::from("");
            for variant in variants {
                match &mut variant.payload {
                    Payload::Unit => {}
                    Payload::Newtype(inner) => strip(inner),
                    Payload::Tuple(items) => items.iter_mut().for_each(strip),
                    Payload::Struct(fields) => fields.iter_mut().for_each(|f| strip(&mut f.shape)),
                }
            }
        }
        Node::Option(inner) | Node::Seq(inner) => strip(inner),
        Node::Map { key, value } => {
            strip(key);
            strip(value);
        }
    }
}

/// Why bytes are not a shape's canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a record shape: {reason} at byte {offset}")]
pub struct ShapeDecodeError {
    /// Where the decoder stopped.
    pub(crate) offset: usize,
    /// What it found there.
    pub(crate) reason: &'static str,
}

impl ShapeDecodeError {
    /// Where in the bytes the decoder stopped.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What it found there.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}
