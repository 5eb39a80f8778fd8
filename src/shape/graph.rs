//! What the tracer learns about a type, across its passes: one node per
//! (visitor type, data-model call), the children each node was seen to ask
//! for, and which enum variants are still to be visited. The finished graph
//! is unrolled into the shape tree, with a back-reference wherever a node
//! is met again inside itself.

use core::any::TypeId;
use std::collections::HashMap;

use super::error::{ShapeError, ShapeErrorKind};
use super::model::{Field, MAX_DEPTH, MAX_NAME, MAX_NODES, Node, Payload, Prim, Variant};
use super::path::Path;

pub(super) type NodeId = usize;

/// The data-model call a `Deserialize` made, with everything serde passes
/// along with it. Part of a node's identity: one visitor type could in
/// principle be handed to two different calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Call {
    Prim(Prim),
    UnitStruct(&'static str),
    Newtype(&'static str),
    Tuple(usize),
    TupleStruct(&'static str, usize),
    Struct(&'static str, &'static [&'static str]),
    Enum(&'static str, &'static [&'static str]),
    Option,
    Seq,
    Map,
}

impl Call {
    /// How many children a visit of this call asks for (an enum's are per
    /// variant).
    fn slots(self) -> usize {
        match self {
            Call::Prim(_) | Call::UnitStruct(_) | Call::Enum(..) => 0,
            Call::Newtype(_) | Call::Option | Call::Seq => 1,
            Call::Map => 2,
            Call::Tuple(n) | Call::TupleStruct(_, n) => n,
            Call::Struct(_, fields) => fields.len(),
        }
    }

    /// How a trace error names what it expected.
    pub(super) fn describe(self) -> String {
        match self {
            Call::Prim(p) => p.name().to_owned(),
            Call::UnitStruct(name) => format!("unit struct `{name}`"),
            Call::Newtype(name) => format!("newtype struct `{name}`"),
            Call::Tuple(n) => format!("a tuple of {n}"),
            Call::TupleStruct(name, n) => format!("tuple struct `{name}` of {n}"),
            Call::Struct(name, fields) => format!("struct `{name}` of {} fields", fields.len()),
            Call::Enum(name, variants) => format!("enum `{name}` of {} variants", variants.len()),
            Call::Option => "an option".to_owned(),
            Call::Seq => "a sequence".to_owned(),
            Call::Map => "a map".to_owned(),
        }
    }
}

/// What an enum variant's visitor asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VKind {
    Unit,
    Newtype,
    Tuple(usize),
    Struct(&'static [&'static str]),
}

impl VKind {
    pub(super) fn slots(self) -> usize {
        match self {
            VKind::Unit => 0,
            VKind::Newtype => 1,
            VKind::Tuple(n) => n,
            VKind::Struct(fields) => fields.len(),
        }
    }

    pub(super) fn describe(self) -> String {
        match self {
            VKind::Unit => "a unit variant".to_owned(),
            VKind::Newtype => "a newtype variant".to_owned(),
            VKind::Tuple(n) => format!("a tuple variant of {n}"),
            VKind::Struct(fields) => format!("a struct variant of {} fields", fields.len()),
        }
    }
}

pub(super) struct GVariant {
    pub(super) kind: VKind,
    pub(super) slots: Vec<Option<NodeId>>,
}

pub(super) struct GNode {
    pub(super) call: Call,
    /// `type_name` of the value the visitor builds: for messages only,
    /// never for identity or the encoding.
    pub(super) ty: &'static str,
    pub(super) slots: Vec<Option<NodeId>>,
    /// Per variant index: `None` until a pass has visited it.
    pub(super) variants: Vec<Option<GVariant>>,
    /// Variants that led back into their own enum while the tracer was only
    /// building a value to end a recursion: never chosen for that again.
    pub(super) dead_end: Vec<bool>,
    /// Nothing reachable from here is left to visit. Once true, stays true:
    /// a filled slot never empties.
    complete: bool,
}

/// Where a visit's node goes: the root, or a child slot of a node (of one
/// of its variants, for an enum).
#[derive(Clone, Copy, Debug)]
pub(super) enum Slot {
    Root,
    At {
        node: NodeId,
        variant: Option<usize>,
        index: usize,
    },
}

/// The most distinct (visitor, call) nodes one record type may have: a
/// bound on the tracer's memory, well above any real record's few dozen.
const MAX_GRAPH: usize = 4_096;

pub(super) struct Graph {
    pub(super) nodes: Vec<GNode>,
    index: HashMap<(TypeId, Call), NodeId>,
    pub(super) root: Option<NodeId>,
}

impl Graph {
    pub(super) fn new() -> Graph {
        // Primitives carry no visitor identity worth keeping (a leaf cannot
        // recurse) and their node is their tag, so `u32` met through two
        // visitors is one node.
        let nodes = Prim::ALL
            .iter()
            .map(|&p| GNode {
                call: Call::Prim(p),
                ty: p.name(),
                slots: Vec::new(),
                variants: Vec::new(),
                dead_end: Vec::new(),
                complete: true,
            })
            .collect();
        Graph {
            nodes,
            index: HashMap::new(),
            root: None,
        }
    }

    pub(super) fn prim(p: Prim) -> NodeId {
        p as usize
    }

    /// The node for `call` made with a visitor of type `visitor`, new or
    /// known; `None` when the graph is full.
    pub(super) fn intern(
        &mut self,
        visitor: TypeId,
        call: Call,
        ty: &'static str,
    ) -> Option<(NodeId, bool)> {
        if let Some(&id) = self.index.get(&(visitor, call)) {
            return Some((id, false));
        }
        if self.nodes.len() >= MAX_GRAPH {
            return None;
        }
        let id = self.nodes.len();
        let variants = match call {
            Call::Enum(_, names) => names.len(),
            _ => 0,
        };
        self.nodes.push(GNode {
            call,
            ty,
            slots: vec![None; call.slots()],
            variants: (0..variants).map(|_| None).collect(),
            dead_end: vec![false; variants],
            complete: false,
        });
        self.index.insert((visitor, call), id);
        Some((id, true))
    }

    /// The slot itself, if it exists (a hand-written visitor may ask for
    /// more children than its call announced; the tracer never offers them).
    pub(super) fn slot_mut(&mut self, slot: Slot) -> Option<&mut Option<NodeId>> {
        match slot {
            Slot::Root => Some(&mut self.root),
            Slot::At {
                node,
                variant: None,
                index,
            } => self.nodes.get_mut(node)?.slots.get_mut(index),
            Slot::At {
                node,
                variant: Some(v),
                index,
            } => self
                .nodes
                .get_mut(node)?
                .variants
                .get_mut(v)?
                .as_mut()?
                .slots
                .get_mut(index),
        }
    }

    fn children(&self, id: NodeId) -> impl Iterator<Item = Option<NodeId>> + '_ {
        let n = &self.nodes[id];
        n.slots.iter().copied().chain(
            n.variants
                .iter()
                .flatten()
                .flat_map(|v| v.slots.iter().copied()),
        )
    }

    fn unvisited_here(&self, id: NodeId) -> bool {
        self.nodes[id].variants.iter().any(Option::is_none)
            || self.children(id).any(|c| c.is_none())
    }

    /// Whether anything reachable from `id` is still to be visited.
    pub(super) fn pending(&mut self, id: NodeId) -> bool {
        if self.nodes[id].complete {
            return false;
        }
        let mut seen = vec![false; self.nodes.len()];
        let mut todo = vec![id];
        let mut reached = Vec::new();
        while let Some(n) = todo.pop() {
            if seen[n] || self.nodes[n].complete {
                continue;
            }
            seen[n] = true;
            if self.unvisited_here(n) {
                return true;
            }
            reached.push(n);
            todo.extend(self.children(n).flatten());
        }
        // Nothing below any node reached is left either: remember it.
        for n in reached {
            self.nodes[n].complete = true;
        }
        false
    }

    /// Whether a child slot still has something to visit below it.
    pub(super) fn slot_pending(&mut self, node: NodeId, index: usize) -> bool {
        match self.nodes[node].slots.get(index).copied().flatten() {
            None => true,
            Some(child) => self.pending(child),
        }
    }

    /// Whether an enum's variant still has something to visit below it.
    pub(super) fn variant_pending(&mut self, node: NodeId, v: usize) -> bool {
        let slots = match &self.nodes[node].variants[v] {
            None => return true,
            Some(variant) => variant.slots.clone(),
        };
        slots.into_iter().any(|s| match s {
            None => true,
            Some(child) => self.pending(child),
        })
    }

    /// The path to the innermost frame of `frames` (node, variant, child
    /// slot being visited), as trace errors show it.
    pub(super) fn path(
        &self,
        record: &'static str,
        frames: impl Iterator<Item = (NodeId, Option<usize>, Option<usize>)>,
    ) -> String {
        let root = self.root.and_then(|r| self.nodes[r].call.name());
        let mut path = Path::root(root, &Path::short(record));
        for (node, variant, slot) in frames {
            self.segment(&mut path, node, variant, slot);
        }
        path.into_string()
    }

    fn segment(&self, path: &mut Path, node: NodeId, variant: Option<usize>, slot: Option<usize>) {
        let call = self.nodes[node].call;
        if let (Call::Enum(_, names), Some(v)) = (call, variant) {
            path.variant(names.get(v).copied().unwrap_or("?"));
            let kind = self.nodes[node]
                .variants
                .get(v)
                .and_then(|g| g.as_ref())
                .map(|g| g.kind);
            match (kind, slot) {
                (Some(VKind::Struct(fields)), Some(i)) => {
                    path.field(fields.get(i).copied().unwrap_or("?"))
                }
                (_, Some(i)) => path.index(i),
                (_, None) => {}
            }
            return;
        }
        let Some(i) = slot else { return };
        match call {
            Call::Struct(_, fields) => path.field(fields.get(i).copied().unwrap_or("?")),
            Call::Option => path.some(),
            Call::Seq => path.element(),
            Call::Map if i == 0 => path.key(),
            Call::Map => path.value(),
            _ => path.index(i),
        }
    }

    /// Unrolls the finished graph from its root into the shape tree.
    pub(super) fn expand(&self, record: &'static str) -> Result<Node, ShapeError> {
        let root = self
            .root
            .ok_or_else(|| stuck(record, "the root was never visited"))?;
        self.unroll(
            root,
            &mut Unroll {
                record,
                above: Vec::new(),
                count: 0,
            },
        )
    }

    fn unroll(&self, id: NodeId, cx: &mut Unroll) -> Result<Node, ShapeError> {
        cx.count += 1;
        if cx.count > MAX_NODES {
            return Err(cx.too_large("nodes", MAX_NODES));
        }
        if cx.above.len() >= MAX_DEPTH {
            return Err(cx.too_large("levels of nesting", MAX_DEPTH));
        }
        if let Some(at) = cx.above.iter().rposition(|&a| a == id) {
            // `above.len() < MAX_DEPTH`, so this fits.
            let up = u32::try_from(cx.above.len() - at).unwrap_or(u32::MAX);
            return Ok(Node::Recursive { up });
        }
        let call = self.nodes[id].call;
        cx.above.push(id);
        let node = match call {
            Call::Prim(p) => Node::Prim(p),
            Call::UnitStruct(s) => Node::UnitStruct { name: cx.name(s)? },
            Call::Newtype(s) => Node::Newtype {
                name: cx.name(s)?,
                inner: Box::new(self.only(&self.nodes[id].slots, cx)?),
            },
            Call::Tuple(_) => Node::Tuple(self.all(&self.nodes[id].slots, cx)?),
            Call::TupleStruct(s, _) => Node::TupleStruct {
                name: cx.name(s)?,
                items: self.all(&self.nodes[id].slots, cx)?,
            },
            Call::Struct(s, fields) => Node::Struct {
                name: cx.name(s)?,
                fields: self.fields(fields, &self.nodes[id].slots, cx)?,
            },
            Call::Enum(s, names) => {
                let mut variants = Vec::with_capacity(names.len());
                for (v, &vname) in self.nodes[id].variants.iter().zip(names) {
                    let v = v
                        .as_ref()
                        .ok_or_else(|| stuck(cx.record, "a variant was never visited"))?;
                    let payload = match v.kind {
                        VKind::Unit => Payload::Unit,
                        VKind::Newtype => Payload::Newtype(self.only(&v.slots, cx)?),
                        VKind::Tuple(_) => Payload::Tuple(self.all(&v.slots, cx)?),
                        VKind::Struct(fields) => {
                            Payload::Struct(self.fields(fields, &v.slots, cx)?)
                        }
                    };
                    variants.push(Variant {
                        name: cx.name(vname)?,
                        payload,
                    });
                }
                Node::Enum {
                    name: cx.name(s)?,
                    variants,
                }
            }
            Call::Option => Node::Option(Box::new(self.only(&self.nodes[id].slots, cx)?)),
            Call::Seq => Node::Seq(Box::new(self.only(&self.nodes[id].slots, cx)?)),
            Call::Map => match self.all(&self.nodes[id].slots, cx)?.as_slice() {
                [key, value] => Node::Map {
                    key: Box::new(key.clone()),
                    value: Box::new(value.clone()),
                },
                _ => return Err(stuck(cx.record, "a map without one key and one value")),
            },
        };
        cx.above.pop();
        Ok(node)
    }

    fn all(&self, slots: &[Option<NodeId>], cx: &mut Unroll) -> Result<Vec<Node>, ShapeError> {
        slots
            .iter()
            .map(|slot| match slot {
                Some(child) => self.unroll(*child, cx),
                None => Err(stuck(cx.record, "a child was never visited")),
            })
            .collect()
    }

    fn only(&self, slots: &[Option<NodeId>], cx: &mut Unroll) -> Result<Node, ShapeError> {
        self.all(slots, cx)?
            .into_iter()
            .next()
            .ok_or_else(|| stuck(cx.record, "a wrapper without content"))
    }

    fn fields(
        &self,
        names: &[&'static str],
        slots: &[Option<NodeId>],
        cx: &mut Unroll,
    ) -> Result<Vec<Field>, ShapeError> {
        let shapes = self.all(slots, cx)?;
        names
            .iter()
            .zip(shapes)
            .map(|(&name, shape)| {
                Ok(Field {
                    name: cx.name(name)?,
                    shape,
                })
            })
            .collect()
    }
}

/// The state of one unrolling: the nodes above, and how many so far.
struct Unroll {
    record: &'static str,
    above: Vec<NodeId>,
    count: usize,
}

impl Unroll {
    /// Blames the record: no one type inside is at fault for the total.
    fn too_large(&self, what: &'static str, limit: usize) -> ShapeError {
        ShapeError {
            record: self.record,
            ty: self.record,
            at: String::new(),
            kind: ShapeErrorKind::TooLarge { what, limit },
        }
    }

    fn name(&self, s: &'static str) -> Result<Box<str>, ShapeError> {
        if s.len() > MAX_NAME {
            return Err(self.too_large("bytes in a name", MAX_NAME));
        }
        Ok(Box::from(s))
    }
}

impl Call {
    /// The container's serde name, for the kinds that have one.
    pub(super) fn name(self) -> Option<&'static str> {
        match self {
            Call::UnitStruct(s)
            | Call::Newtype(s)
            | Call::TupleStruct(s, _)
            | Call::Struct(s, _)
            | Call::Enum(s, _) => Some(s),
            _ => None,
        }
    }
}

/// The tracer finished without having visited everything: a bug in the
/// tracer, reported as an error rather than a panic.
fn stuck(record: &'static str, what: &'static str) -> ShapeError {
    ShapeError {
        record,
        ty: record,
        at: String::new(),
        kind: ShapeErrorKind::Stuck { what },
    }
}
