//! The tracer: a `serde::Deserializer` that answers a record type's
//! `Deserialize` with made-up values and writes down every data-model call
//! it makes, pass after pass, until every enum variant and every
//! option/sequence/map content has been visited once.
//!
//! How it ends:
//! - A node is a (visitor type, call) pair. Meeting a node that is already
//!   being visited is a recursion: from there on the tracer only builds the
//!   cheapest value it can to get out — `None`, empty sequences and maps,
//!   and for an enum its first variant not yet known to lead back in — and
//!   learns nothing new. A variant that does lead back in while getting out
//!   is marked and the pass restarts; a type with no way out is an error.
//! - A pass visits one variant per enum it meets; the next pass steers to
//!   what is left. Every pass either learns something (a node, a slot, a
//!   variant, a dead end) or ends the trace, and the graph is bounded, so the
//!   number of passes is too; `MAX_PASSES` is a second fence.
//! - The stack of open visits is bounded, so a pass cannot recurse without
//!   end even if the rules above had a hole.
//!
//! Values offered: zeros, `false`, `""`, `'0'`, empty bytes. If a
//! `Deserialize` refuses them (a validating impl, `NonZeroU32`, a UUID's
//! sixteen bytes), the trace restarts once with ones, `true`, `"1"`, `'1'`,
//! sixteen `1` bytes, then gives up with [`ShapeErrorKind::Refused`].

use core::any::type_name;
use core::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde::de::value::U32Deserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};

use super::check;
use super::error::{ShapeError, ShapeErrorKind};
use super::graph::{Call, Graph, NodeId, Slot, VKind};
use super::model::{MAX_DEPTH, Node, Prim};

/// Passes before the tracer gives up. Each pass learns something, and a
/// record type's graph has at most a few hundred things to learn.
const MAX_PASSES: usize = 10_000;
/// Visits open at once. Outside a recursion each node is open at most once,
/// and inside one at most once more, so a shape within `MAX_DEPTH` never
/// comes close.
const MAX_OPEN: usize = 2 * MAX_DEPTH;
/// Data-model calls one pass may make: sixteen times the most nodes a shape
/// may have, which no type within that bound comes near.
const MAX_CALLS: usize = 16 * super::model::MAX_NODES;
/// The last set of values offered (0 = zeros, 1 = ones).
const MAX_LEVEL: u8 = 1;
/// The second string offered: parses as a number, which is what string
/// forms of numeric types (decimals, big integers) need.
const ONE_STR: &str = "1";
/// The second bytes offered: sixteen, the length a UUID's compact form
/// requires; any blob accepts them too.
const ONE_BYTES: [u8; 16] = [1; 16];

/// Traces `T` into the unrolled shape tree.
pub(super) fn trace<T: Serialize + DeserializeOwned>() -> Result<Node, ShapeError> {
    let record = type_name::<T>();
    let mut st = State::new(record);
    // Once everything is known, one last pass builds the smallest value
    // (every option `None`, every sequence and map empty) for the check: a
    // `skip_serializing_if = "Option::is_none"` only shows on such values.
    let mut smallest = false;
    for _ in 0..MAX_PASSES {
        st.begin_pass(smallest);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            T::deserialize(Tracer {
                st: &mut st,
                slot: Slot::Root,
            })
        }));
        let value = match outcome {
            Ok(value) => value,
            Err(panic) => {
                return Err(ShapeError {
                    record,
                    ty: st.culprit(),
                    at: st.path(),
                    kind: ShapeErrorKind::Panicked {
                        message: panic_message(&*panic),
                    },
                });
            }
        };
        // A check in `T`'s own `Deserialize`, after its last call into the
        // tracer, surfaces here first.
        let value = st.observe(value, record);
        match st.signal.take() {
            Some(Signal::Retry) => continue,
            Some(Signal::SkipSmallest) => return st.graph.expand(record),
            Some(Signal::Fatal(error)) => return Err(error),
            None => {}
        }
        let Ok(value) = value else {
            return Err(st.stuck("a pass failed without saying why"));
        };
        let Some(root) = st.graph.root else {
            return Err(ShapeError {
                record,
                ty: record,
                at: String::new(),
                kind: ShapeErrorKind::Unsupported {
                    what: "makes no data-model call: its Deserialize reads nothing, which no \
                           shape describes",
                },
            });
        };
        // The value went through every call this pass recorded: its
        // `Serialize` must make the same calls, or postcard would write one
        // shape and read another.
        check::check(&st.graph, record, &value)?;
        drop(value);
        if smallest {
            return st.graph.expand(record);
        }
        if !st.graph.pending(root) {
            smallest = true;
            continue;
        }
        if st.progress == 0 {
            return Err(st.stuck("a pass learned nothing new"));
        }
    }
    Err(ShapeError {
        record,
        ty: record,
        at: String::new(),
        kind: ShapeErrorKind::TooLarge {
            what: "tracing passes",
            limit: MAX_PASSES,
        },
    })
}

/// The text of a panic payload, when it is one.
pub(super) fn panic_message(panic: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// What the traced `Deserialize` sees as the deserializer's error.
#[derive(Debug)]
pub(super) enum TraceError {
    /// The type's own error: a validation, an unexpected call.
    Custom(String),
    /// The tracer stopped the pass (see `State::signal`).
    Stop,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Custom(msg) => f.write_str(msg),
            TraceError::Stop => f.write_str("shape trace stopped"),
        }
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError::Custom(msg.to_string())
    }
}

/// Why a pass stopped. Kept outside the error value, so a `Deserialize`
/// that swallows or rewraps errors cannot hide it.
enum Signal {
    /// Learned something that needs a fresh pass (a dead end, new values).
    Retry,
    /// The smallest value was refused (a non-empty list): it is only built
    /// for the check, so the trace ends without it.
    SkipSmallest,
    /// The trace cannot succeed.
    Fatal(ShapeError),
}

/// A visit in progress.
struct Frame {
    node: NodeId,
    /// The variant being visited, for an enum.
    variant: Option<usize>,
    /// The child slot being visited, for paths in errors.
    slot: Option<usize>,
    /// The type of the child being visited, where the seed tells it.
    child_ty: Option<&'static str>,
    /// Children read so far through `visit_seq`.
    read: usize,
    /// Only getting out of a recursion: choose cheaply, learn nothing.
    cut: bool,
}

/// What `State::enter` opened, for `State::leave`.
struct Entered {
    id: NodeId,
    cut: bool,
    /// This visit began getting out of a recursion.
    began_cut: bool,
}

struct State {
    graph: Graph,
    record: &'static str,
    stack: Vec<Frame>,
    /// Index of the frame where getting out of a recursion began.
    cut_from: Option<usize>,
    level: u8,
    /// This pass builds the smallest value, for the check only.
    smallest: bool,
    /// Data-model calls this pass.
    calls: usize,
    signal: Option<Signal>,
    /// Things learned this pass.
    progress: usize,
}

impl State {
    fn new(record: &'static str) -> State {
        State {
            graph: Graph::new(),
            record,
            stack: Vec::new(),
            cut_from: None,
            level: 0,
            smallest: false,
            calls: 0,
            signal: None,
            progress: 0,
        }
    }

    /// Starts a pass; a `smallest` one only builds a value, from the root.
    fn begin_pass(&mut self, smallest: bool) {
        self.stack.clear();
        self.cut_from = smallest.then_some(0);
        self.smallest = smallest;
        self.signal = None;
        self.progress = 0;
        self.calls = 0;
    }

    /// Counts one data-model call. A type whose graph is small can still
    /// unroll into an exponential value (each level naming the one below
    /// twice); the budget stops building it long before memory runs out.
    fn call(&mut self, ty: &'static str) -> Result<(), TraceError> {
        self.live()?;
        self.calls += 1;
        if self.calls > MAX_CALLS {
            return Err(self.fatal(
                ty,
                ShapeErrorKind::TooLarge {
                    what: "data-model calls in one pass",
                    limit: MAX_CALLS,
                },
            ));
        }
        Ok(())
    }

    fn live(&self) -> Result<(), TraceError> {
        match self.signal {
            None => Ok(()),
            Some(_) => Err(TraceError::Stop),
        }
    }

    fn path(&self) -> String {
        self.graph.path(
            self.record,
            self.stack.iter().map(|f| (f.node, f.variant, f.slot)),
        )
    }

    /// The type to blame for what the innermost visit ran into: the child
    /// being read, when its type is known, else the node being visited,
    /// else the record.
    fn culprit(&self) -> &'static str {
        match self.stack.last() {
            None => self.record,
            Some(f) => match (f.slot, f.child_ty) {
                (Some(_), Some(ty)) => ty,
                _ => self.graph.nodes[f.node].ty,
            },
        }
    }

    fn stuck(&self, what: &'static str) -> ShapeError {
        ShapeError {
            record: self.record,
            ty: self.record,
            at: String::new(),
            kind: ShapeErrorKind::Stuck { what },
        }
    }

    /// Ends the trace with `kind` (unless something ended it already).
    fn fatal(&mut self, ty: &'static str, kind: ShapeErrorKind) -> TraceError {
        if self.signal.is_none() {
            self.signal = Some(Signal::Fatal(ShapeError {
                record: self.record,
                ty,
                at: self.path(),
                kind,
            }));
        }
        TraceError::Stop
    }

    /// Turns the type's own error, the first time one is seen, into a
    /// retry with other values or the end of the trace.
    fn observe<R>(&mut self, r: Result<R, TraceError>, ty: &'static str) -> Result<R, TraceError> {
        match r {
            Ok(value) => Ok(value),
            Err(TraceError::Stop) => Err(TraceError::Stop),
            // A message built around our own `Stop` is still ours.
            Err(TraceError::Custom(_)) if self.signal.is_some() => Err(TraceError::Stop),
            Err(TraceError::Custom(_)) if self.smallest => {
                self.signal = Some(Signal::SkipSmallest);
                Err(TraceError::Stop)
            }
            Err(TraceError::Custom(reason)) => {
                if self.level < MAX_LEVEL {
                    self.level += 1;
                    self.signal = Some(Signal::Retry);
                    Err(TraceError::Stop)
                } else {
                    Err(self.fatal(ty, ShapeErrorKind::Refused { reason }))
                }
            }
        }
    }

    /// Puts `id` in `slot`, or checks it is what was there before.
    fn fill(&mut self, slot: Slot, id: NodeId, ty: &'static str) -> Result<(), TraceError> {
        let was = match self.graph.slot_mut(slot) {
            Some(place @ None) => {
                *place = Some(id);
                self.progress += 1;
                return Ok(());
            }
            Some(Some(was)) if *was == id => return Ok(()),
            Some(Some(was)) => Some(*was),
            None => None,
        };
        let ty = match slot {
            Slot::Root => ty,
            Slot::At { .. } => self.culprit(),
        };
        let kind = match was {
            Some(was) => ShapeErrorKind::Inconsistent {
                was: self.graph.nodes[was].call.describe(),
                now: self.graph.nodes[id].call.describe(),
            },
            // The tracer never offers a child beyond what the call announced.
            None => ShapeErrorKind::Unsupported {
                what: "read more elements than its data-model call announced",
            },
        };
        Err(self.fatal(ty, kind))
    }

    /// Opens a visit of a composite node.
    fn enter(
        &mut self,
        slot: Slot,
        visitor: core::any::TypeId,
        call: Call,
        ty: &'static str,
    ) -> Result<Entered, TraceError> {
        self.call(ty)?;
        let Some((id, new)) = self.graph.intern(visitor, call, ty) else {
            let limit = super::model::MAX_NODES;
            return Err(self.fatal(
                ty,
                ShapeErrorKind::TooLarge {
                    what: "distinct types",
                    limit,
                },
            ));
        };
        if new {
            self.progress += 1;
        }
        self.fill(slot, id, ty)?;
        if self.stack.len() >= MAX_OPEN {
            return Err(self.fatal(
                ty,
                ShapeErrorKind::TooLarge {
                    what: "levels of nesting",
                    limit: MAX_DEPTH,
                },
            ));
        }
        let mut began_cut = false;
        if let Some(at) = self.stack.iter().rposition(|f| f.node == id) {
            match self.cut_from {
                // Getting out came back to where it started: a dead end.
                Some(from) if at >= from => return Err(self.dead_end(at, ty)),
                Some(_) => {}
                None => {
                    self.cut_from = Some(self.stack.len());
                    began_cut = true;
                }
            }
        }
        let cut = self.cut_from.is_some();
        self.stack.push(Frame {
            node: id,
            variant: None,
            slot: None,
            child_ty: None,
            read: 0,
            cut,
        });
        Ok(Entered { id, cut, began_cut })
    }

    fn leave(&mut self, e: Entered) {
        self.stack.pop();
        if e.began_cut {
            self.cut_from = None;
        }
    }

    fn set_slot(&mut self, slot: Option<usize>) {
        self.set_child(slot, None);
    }

    /// After a child read returned a value: it must have made a
    /// data-model call, or there is nothing to describe it by.
    fn read_something(&mut self, slot: Slot, ty: &'static str) -> Result<(), TraceError> {
        if self.signal.is_none() && matches!(self.graph.slot_mut(slot), Some(None)) {
            let what = "makes no data-model call: its Deserialize reads nothing, which no shape \
                        describes";
            return Err(self.fatal(ty, ShapeErrorKind::Unsupported { what }));
        }
        Ok(())
    }

    /// After a `visit_seq` of a tuple, struct or variant returned a value:
    /// it must have read every element it announced, or what it reads
    /// depends on the values.
    fn read_all(&mut self, announced: usize, ty: &'static str) -> Result<(), TraceError> {
        let read = self.stack.last().map_or(announced, |f| f.read);
        if self.signal.is_none() && read < announced {
            let what = "reads fewer elements than its data-model call announced: what it reads \
                        depends on the values it reads, which no shape describes";
            return Err(self.fatal(ty, ShapeErrorKind::Unsupported { what }));
        }
        Ok(())
    }

    /// Notes which child the innermost visit reads, and its type if known.
    fn set_child(&mut self, slot: Option<usize>, ty: Option<&'static str>) {
        if let Some(top) = self.stack.last_mut() {
            top.slot = slot;
            top.child_ty = ty;
        }
    }

    /// Getting out of a recursion met the frame at `at` again. The last
    /// enum variant chosen on the way is marked as a dead end, and the pass
    /// restarts to choose another; with no variant to blame, or none left,
    /// the type has no finite value.
    fn dead_end(&mut self, at: usize, ty: &'static str) -> TraceError {
        let blame = self.stack[at..]
            .iter()
            .rev()
            .find_map(|f| f.variant.filter(|_| f.cut).map(|v| (f.node, v)));
        match blame {
            Some((node, v)) => {
                let n = &mut self.graph.nodes[node];
                n.dead_end[v] = true;
                if n.dead_end.iter().all(|&d| d) {
                    let ty = n.ty;
                    return self.fatal(ty, ShapeErrorKind::NoFiniteValue);
                }
                self.progress += 1;
                self.signal = Some(Signal::Retry);
                TraceError::Stop
            }
            None => self.fatal(ty, ShapeErrorKind::NoFiniteValue),
        }
    }

    /// Which variant of enum `id` this visit takes: one never visited,
    /// else one with something left below it, else (and always when getting
    /// out of a recursion) the first not known to lead back in.
    fn choose(&mut self, id: NodeId, cut: bool, ty: &'static str) -> Result<usize, TraceError> {
        if !cut {
            let n = self.graph.nodes[id].variants.len();
            if let Some(v) = self.graph.nodes[id]
                .variants
                .iter()
                .position(Option::is_none)
            {
                return Ok(v);
            }
            for v in 0..n {
                if self.graph.variant_pending(id, v) {
                    return Ok(v);
                }
            }
        }
        match self.graph.nodes[id].dead_end.iter().position(|&d| !d) {
            Some(v) => Ok(v),
            None => Err(self.fatal(ty, ShapeErrorKind::NoFiniteValue)),
        }
    }

    /// Records what variant `v` of enum `node` asked for.
    fn variant_kind(&mut self, node: NodeId, v: usize, kind: VKind) -> Result<(), TraceError> {
        self.live()?;
        let ty = self.graph.nodes[node].ty;
        let was = match self.graph.nodes[node].variants.get_mut(v) {
            Some(place @ None) => {
                *place = Some(super::graph::GVariant {
                    kind,
                    slots: vec![None; kind.slots()],
                });
                self.progress += 1;
                return Ok(());
            }
            Some(Some(g)) if g.kind == kind => return Ok(()),
            Some(Some(g)) => g.kind,
            None => {
                return Err(self.fatal(
                    ty,
                    ShapeErrorKind::Stuck {
                        what: "no such variant",
                    },
                ));
            }
        };
        Err(self.fatal(
            ty,
            ShapeErrorKind::Inconsistent {
                was: was.describe(),
                now: kind.describe(),
            },
        ))
    }
}

/// The deserializer handed to the traced type, one per value it reads.
struct Tracer<'s> {
    st: &'s mut State,
    slot: Slot,
}

impl Tracer<'_> {
    fn leaf<R>(
        self,
        prim: Prim,
        ty: &'static str,
        visit: impl FnOnce(u8) -> Result<R, TraceError>,
    ) -> Result<R, TraceError> {
        self.st.call(ty)?;
        self.st.fill(self.slot, Graph::prim(prim), ty)?;
        let r = visit(self.st.level);
        self.st.observe(r, ty)
    }

    /// Blames the culprit, not the visitor's value: that is often serde's
    /// private buffer type, while the type being read says what to fix.
    fn self_describing(self, call: &'static str) -> TraceError {
        let ty = self.st.culprit();
        self.st.fatal(ty, ShapeErrorKind::SelfDescribing { call })
    }

    /// Visits the children of a tuple-like node through `visit_seq`.
    fn elements<V: Visitor<'static>>(
        self,
        call: Call,
        len: impl FnOnce(&mut State, &Entered) -> usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let ty = type_name::<V::Value>();
        let e = self.st.enter(self.slot, typeid::of::<V>(), call, ty)?;
        let len = len(&mut *self.st, &e);
        let r = visitor.visit_seq(Elements {
            st: &mut *self.st,
            node: e.id,
            variant: None,
            next: 0,
            len,
        });
        let mut r = self.st.observe(r, ty);
        // A sequence's visitor stops at the end it is offered; a tuple's or
        // struct's must read all it announced.
        if r.is_ok()
            && call != Call::Seq
            && let Err(stop) = self.st.read_all(len, ty)
        {
            r = Err(stop);
        }
        self.st.leave(e);
        r
    }
}

/// Offers "one more" content while something below is left to learn, and
/// always once zeros were refused: empty may be what was refused (a list
/// that must not be empty). Never when getting out of a recursion.
fn one_if_pending(st: &mut State, e: &Entered) -> usize {
    usize::from(!e.cut && (st.level > 0 || st.graph.slot_pending(e.id, 0)))
}

macro_rules! primitive {
    ($($method:ident: $prim:ident, $visit:ident($value:expr);)*) => {$(
        fn $method<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, TraceError> {
            let value: fn(u8) -> _ = $value;
            self.leaf(Prim::$prim, type_name::<V::Value>(), |level| visitor.$visit(value(level)))
        }
    )*};
}

// `'static`: the traced type is `DeserializeOwned`, so any lifetime serves,
// and a fixed one keeps the visitor types' ids free of a caller's lifetime.
impl de::Deserializer<'static> for Tracer<'_> {
    type Error = TraceError;

    primitive! {
        deserialize_bool: Bool, visit_bool(|l| l == 1);
        deserialize_i8: I8, visit_i8(|l| l as i8);
        deserialize_i16: I16, visit_i16(i16::from);
        deserialize_i32: I32, visit_i32(i32::from);
        deserialize_i64: I64, visit_i64(i64::from);
        deserialize_i128: I128, visit_i128(i128::from);
        deserialize_u8: U8, visit_u8(|l| l);
        deserialize_u16: U16, visit_u16(u16::from);
        deserialize_u32: U32, visit_u32(u32::from);
        deserialize_u64: U64, visit_u64(u64::from);
        deserialize_u128: U128, visit_u128(u128::from);
        deserialize_f32: F32, visit_f32(f32::from);
        deserialize_f64: F64, visit_f64(f64::from);
        deserialize_char: Char, visit_char(|l| if l == 0 { '0' } else { '1' });
        deserialize_str: Str, visit_str(|l| if l == 0 { "" } else { ONE_STR });
        deserialize_string: Str, visit_string(|l| if l == 0 { String::new() } else { ONE_STR.to_owned() });
        deserialize_bytes: Bytes, visit_bytes(|l| if l == 0 { &[][..] } else { &ONE_BYTES[..] });
        deserialize_byte_buf: Bytes, visit_byte_buf(|l| if l == 0 { Vec::new() } else { ONE_BYTES.to_vec() });
    }

    fn deserialize_unit<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, TraceError> {
        self.leaf(Prim::Unit, type_name::<V::Value>(), |_| {
            visitor.visit_unit()
        })
    }

    fn deserialize_any<V: Visitor<'static>>(self, _: V) -> Result<V::Value, TraceError> {
        Err(self.self_describing("deserialize_any"))
    }

    fn deserialize_identifier<V: Visitor<'static>>(self, _: V) -> Result<V::Value, TraceError> {
        Err(self.self_describing("deserialize_identifier"))
    }

    fn deserialize_ignored_any<V: Visitor<'static>>(self, _: V) -> Result<V::Value, TraceError> {
        Err(self.self_describing("deserialize_ignored_any"))
    }

    fn deserialize_option<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let ty = type_name::<V::Value>();
        let e = self
            .st
            .enter(self.slot, typeid::of::<V>(), Call::Option, ty)?;
        let inner = Slot::At {
            node: e.id,
            variant: None,
            index: 0,
        };
        let r = if one_if_pending(self.st, &e) == 1 {
            self.st.set_slot(Some(0));
            let r = visitor.visit_some(Tracer {
                st: &mut *self.st,
                slot: inner,
            });
            r.and_then(|v| self.st.read_something(inner, ty).map(|()| v))
        } else {
            visitor.visit_none()
        };
        let r = self.st.observe(r, ty);
        self.st.leave(e);
        r
    }

    fn deserialize_unit_struct<V: Visitor<'static>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let ty = type_name::<V::Value>();
        let e = self
            .st
            .enter(self.slot, typeid::of::<V>(), Call::UnitStruct(name), ty)?;
        let r = visitor.visit_unit();
        let r = self.st.observe(r, ty);
        self.st.leave(e);
        r
    }

    fn deserialize_newtype_struct<V: Visitor<'static>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let ty = type_name::<V::Value>();
        let e = self
            .st
            .enter(self.slot, typeid::of::<V>(), Call::Newtype(name), ty)?;
        self.st.set_slot(Some(0));
        let inner = Slot::At {
            node: e.id,
            variant: None,
            index: 0,
        };
        let r = visitor.visit_newtype_struct(Tracer {
            st: &mut *self.st,
            slot: inner,
        });
        let r = r.and_then(|v| self.st.read_something(inner, ty).map(|()| v));
        let r = self.st.observe(r, ty);
        self.st.leave(e);
        r
    }

    fn deserialize_seq<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, TraceError> {
        self.elements(Call::Seq, one_if_pending, visitor)
    }

    fn deserialize_tuple<V: Visitor<'static>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.elements(Call::Tuple(len), |_, _| len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'static>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.elements(Call::TupleStruct(name, len), |_, _| len, visitor)
    }

    fn deserialize_struct<V: Visitor<'static>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        // Like postcard, a struct is its fields in order: `visit_seq`.
        self.elements(Call::Struct(name, fields), |_, _| fields.len(), visitor)
    }

    fn deserialize_map<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let ty = type_name::<V::Value>();
        let e = self.st.enter(self.slot, typeid::of::<V>(), Call::Map, ty)?;
        let pending = !e.cut
            && (self.st.level > 0
                || self.st.graph.slot_pending(e.id, 0)
                || self.st.graph.slot_pending(e.id, 1));
        let r = visitor.visit_map(Entries {
            st: &mut *self.st,
            node: e.id,
            left: usize::from(pending),
            key_read: false,
        });
        let r = self.st.observe(r, ty);
        self.st.leave(e);
        r
    }

    fn deserialize_enum<V: Visitor<'static>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let ty = type_name::<V::Value>();
        if variants.is_empty() {
            self.st.live()?;
            return Err(self.st.fatal(
                ty,
                ShapeErrorKind::Unsupported {
                    what: "is an enum without variants: it has no value to store",
                },
            ));
        }
        let e = self
            .st
            .enter(self.slot, typeid::of::<V>(), Call::Enum(name, variants), ty)?;
        let r = match self.st.choose(e.id, e.cut, ty) {
            Err(stop) => Err(stop),
            Ok(v) => {
                if let Some(top) = self.st.stack.last_mut() {
                    top.variant = Some(v);
                }
                let r = visitor.visit_enum(EnumTracer {
                    st: &mut *self.st,
                    node: e.id,
                    variant: v,
                });
                if r.is_ok()
                    && self.st.signal.is_none()
                    && self.st.graph.nodes[e.id].variants[v].is_none()
                {
                    Err(self.st.fatal(
                        ty,
                        ShapeErrorKind::Unsupported {
                            what: "returned from visiting an enum without reading its variant's content",
                        },
                    ))
                } else {
                    r
                }
            }
        };
        let r = self.st.observe(r, ty);
        self.st.leave(e);
        r
    }

    fn is_human_readable(&self) -> bool {
        // postcard is not: types such as `IpAddr` or `Duration`-likes from
        // other crates take their compact form, and so must the trace.
        false
    }
}

/// The children of a tuple, tuple struct, struct, sequence or variant.
struct Elements<'s> {
    st: &'s mut State,
    node: NodeId,
    variant: Option<usize>,
    next: usize,
    len: usize,
}

impl de::SeqAccess<'static> for Elements<'_> {
    type Error = TraceError;

    fn next_element_seed<S: DeserializeSeed<'static>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, TraceError> {
        self.st.live()?;
        if self.next >= self.len {
            return Ok(None);
        }
        // A sequence's elements all go in its one slot.
        let index = if matches!(self.st.graph.nodes[self.node].call, Call::Seq) {
            0
        } else {
            self.next
        };
        let ty = type_name::<S::Value>();
        self.st.set_child(Some(index), Some(ty));
        let slot = Slot::At {
            node: self.node,
            variant: self.variant,
            index,
        };
        let r = seed.deserialize(Tracer {
            st: &mut *self.st,
            slot,
        });
        let value = self.st.observe(r, ty)?;
        self.st.read_something(slot, ty)?;
        self.st.set_slot(None);
        if let Some(top) = self.st.stack.last_mut() {
            top.read += 1;
        }
        self.next += 1;
        Ok(Some(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len - self.next.min(self.len))
    }
}

/// The entries of a map: one, or none once nothing is left to learn.
struct Entries<'s> {
    st: &'s mut State,
    node: NodeId,
    left: usize,
    key_read: bool,
}

impl Entries<'_> {
    fn child<S: DeserializeSeed<'static>>(
        &mut self,
        index: usize,
        seed: S,
    ) -> Result<S::Value, TraceError> {
        let ty = type_name::<S::Value>();
        self.st.set_slot(Some(index));
        let slot = Slot::At {
            node: self.node,
            variant: None,
            index,
        };
        let r = seed.deserialize(Tracer {
            st: &mut *self.st,
            slot,
        });
        let value = self.st.observe(r, ty)?;
        self.st.read_something(slot, ty)?;
        self.st.set_slot(None);
        Ok(value)
    }
}

impl de::MapAccess<'static> for Entries<'_> {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'static>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        self.st.live()?;
        if self.left == 0 || self.key_read {
            return Ok(None);
        }
        let key = self.child(0, seed)?;
        self.key_read = true;
        Ok(Some(key))
    }

    fn next_value_seed<S: DeserializeSeed<'static>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, TraceError> {
        self.st.live()?;
        if !self.key_read || self.left == 0 {
            let ty = type_name::<S::Value>();
            return Err(self.st.fatal(
                ty,
                ShapeErrorKind::Unsupported {
                    what: "read a map value before its key",
                },
            ));
        }
        let value = self.child(1, seed)?;
        self.left -= 1;
        self.key_read = false;
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// One variant of an enum, as the traced visitor reads it.
struct EnumTracer<'s> {
    st: &'s mut State,
    node: NodeId,
    variant: usize,
}

impl EnumTracer<'_> {
    fn slot(&self, index: usize) -> Slot {
        Slot::At {
            node: self.node,
            variant: Some(self.variant),
            index,
        }
    }

    fn elements<V: Visitor<'static>>(
        self,
        kind: VKind,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.st.variant_kind(self.node, self.variant, kind)?;
        let r = visitor.visit_seq(Elements {
            st: &mut *self.st,
            node: self.node,
            variant: Some(self.variant),
            next: 0,
            len,
        });
        let ty = type_name::<V::Value>();
        let value = self.st.observe(r, ty)?;
        self.st.read_all(len, ty)?;
        Ok(value)
    }
}

impl<'s> de::EnumAccess<'static> for EnumTracer<'s> {
    type Error = TraceError;
    type Variant = EnumTracer<'s>;

    fn variant_seed<S: DeserializeSeed<'static>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), TraceError> {
        self.st.live()?;
        // postcard writes a variant as its index: so does the trace.
        let index = u32::try_from(self.variant).unwrap_or(u32::MAX);
        let r = seed.deserialize(U32Deserializer::<TraceError>::new(index));
        let tag = self.st.observe(r, type_name::<S::Value>())?;
        Ok((tag, self))
    }
}

impl de::VariantAccess<'static> for EnumTracer<'_> {
    type Error = TraceError;

    fn unit_variant(self) -> Result<(), TraceError> {
        self.st.variant_kind(self.node, self.variant, VKind::Unit)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'static>>(
        self,
        seed: S,
    ) -> Result<S::Value, TraceError> {
        self.st
            .variant_kind(self.node, self.variant, VKind::Newtype)?;
        let ty = type_name::<S::Value>();
        self.st.set_child(Some(0), Some(ty));
        let slot = self.slot(0);
        let r = seed.deserialize(Tracer {
            st: &mut *self.st,
            slot,
        });
        let value = self.st.observe(r, ty)?;
        self.st.read_something(slot, ty)?;
        Ok(value)
    }

    fn tuple_variant<V: Visitor<'static>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.elements(VKind::Tuple(len), len, visitor)
    }

    fn struct_variant<V: Visitor<'static>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.elements(VKind::Struct(fields), fields.len(), visitor)
    }
}
