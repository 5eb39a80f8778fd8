//! The other half of a trace: each value a tracing pass built is serialized
//! through a `Serializer` that follows the traced graph and refuses any call
//! the `Deserialize` would not read back there.
//!
//! A fingerprint describes what the `Deserialize` reads; postcard writes
//! what the `Serialize` writes. Where the two disagree on the traced values
//! (a `serialize_with` without its `deserialize_with`, `skip_serializing_if`,
//! `skip_deserializing`, a hand-written `Serialize` whose branch for these
//! values writes another kind) a bundle would be misread whatever the
//! fingerprint says, so the trace fails instead. Branches the traced values
//! do not take stay unseen: see the module docs.
//!
//! Container, field and variant names are not compared: postcard writes
//! none, and `#[serde(rename(serialize = ..))]` may differ legitimately.

use core::any::type_name;
use core::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde::ser;

use super::error::{ShapeError, ShapeErrorKind};
use super::graph::{Call, Graph, NodeId, VKind};
use super::model::Prim;
use super::trace::panic_message;

/// Serializes `value`, a value the trace of the graph's root type built,
/// against the graph.
pub(super) fn check<T: Serialize + ?Sized>(
    graph: &Graph,
    record: &'static str,
    value: &T,
) -> Result<(), ShapeError> {
    let Some(root) = graph.root else {
        return Ok(());
    };
    let mut cx = Ctx {
        graph,
        record,
        stack: Vec::new(),
        error: None,
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        value.serialize(Checker {
            cx: &mut cx,
            node: root,
            ty: record,
        })
    }));
    let result = match outcome {
        Ok(result) => result,
        Err(panic) => {
            return Err(cx.error(
                record,
                ShapeErrorKind::Panicked {
                    message: panic_message(&*panic),
                },
            ));
        }
    };
    if let Some(error) = cx.error.take() {
        return Err(error);
    }
    match result {
        Ok(()) => Ok(()),
        Err(CheckError::Custom(reason)) => {
            Err(cx.error(record, ShapeErrorKind::SerializeFailed { reason }))
        }
        Err(CheckError::Stop) => Err(ShapeError {
            record,
            ty: record,
            at: String::new(),
            kind: ShapeErrorKind::Stuck {
                what: "the serialize check stopped without saying why",
            },
        }),
    }
}

/// What the checked `Serialize` sees as the serializer's error.
#[derive(Debug)]
pub(super) enum CheckError {
    Custom(String),
    /// The check failed; the reason is in `Ctx::error`.
    Stop,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Custom(msg) => f.write_str(msg),
            CheckError::Stop => f.write_str("shape check stopped"),
        }
    }
}

impl std::error::Error for CheckError {}

impl ser::Error for CheckError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CheckError::Custom(msg.to_string())
    }
}

struct Ctx<'g> {
    graph: &'g Graph,
    record: &'static str,
    /// (node, variant, child slot) of the compounds being written.
    stack: Vec<(NodeId, Option<usize>, Option<usize>)>,
    error: Option<ShapeError>,
}

impl Ctx<'_> {
    fn error(&self, ty: &'static str, kind: ShapeErrorKind) -> ShapeError {
        ShapeError {
            record: self.record,
            ty,
            at: self.graph.path(self.record, self.stack.iter().copied()),
            kind,
        }
    }

    /// Records the first failure, blamed on `ty`: the type whose
    /// `Serialize` was writing.
    fn fail(&mut self, ty: &'static str, kind: ShapeErrorKind) -> CheckError {
        if self.error.is_none() {
            self.error = Some(self.error(ty, kind));
        }
        CheckError::Stop
    }

    fn mismatch(&mut self, ty: &'static str, expected: String, found: String) -> CheckError {
        self.fail(ty, ShapeErrorKind::SerializeMismatch { expected, found })
    }

    /// The node in a child slot, which the trace must have filled.
    fn child(
        &mut self,
        ty: &'static str,
        node: NodeId,
        variant: Option<usize>,
        index: usize,
    ) -> Result<NodeId, CheckError> {
        let n = &self.graph.nodes[node];
        let slot = match variant {
            None => n.slots.get(index),
            Some(v) => n
                .variants
                .get(v)
                .and_then(Option::as_ref)
                .and_then(|g| g.slots.get(index)),
        };
        match slot.copied().flatten() {
            Some(child) => Ok(child),
            None => Err(self.mismatch(
                ty,
                "nothing there".to_owned(),
                format!("a value in position {index}"),
            )),
        }
    }

    /// Writes one child of `node` through the check.
    fn write<U: Serialize + ?Sized>(
        &mut self,
        node: NodeId,
        variant: Option<usize>,
        index: usize,
        value: &U,
    ) -> Result<(), CheckError> {
        let ty = type_name::<U>();
        let child = self.child(ty, node, variant, index)?;
        self.stack.push((node, variant, Some(index)));
        let r = value.serialize(Checker {
            cx: &mut *self,
            node: child,
            ty,
        });
        let r = match r {
            Err(CheckError::Custom(reason)) => {
                Err(self.fail(ty, ShapeErrorKind::SerializeFailed { reason }))
            }
            other => other,
        };
        self.stack.pop();
        r
    }
}

/// The serializer for one value, at one node of the graph.
struct Checker<'a, 'g> {
    cx: &'a mut Ctx<'g>,
    node: NodeId,
    /// The type whose `Serialize` is writing this value: blamed for a
    /// mismatch.
    ty: &'static str,
}

impl<'a, 'g> Checker<'a, 'g> {
    fn call(&self) -> Call {
        self.cx.graph.nodes[self.node].call
    }

    fn expect(&mut self, ok: bool, found: impl FnOnce() -> String) -> Result<(), CheckError> {
        if ok {
            Ok(())
        } else {
            let expected = self.call().describe();
            Err(self.cx.mismatch(self.ty, expected, found()))
        }
    }

    fn prim(mut self, p: Prim) -> Result<(), CheckError> {
        let ok = self.call() == Call::Prim(p);
        self.expect(ok, || p.name().to_owned())
    }

    fn compound(self, variant: Option<usize>, len: usize) -> Compound<'a, 'g> {
        Compound {
            cx: self.cx,
            node: self.node,
            ty: self.ty,
            variant,
            next: 0,
            len,
        }
    }

    /// Checks an enum variant write: the index must be one the trace
    /// visited, with the same kind of content.
    fn variant(
        &mut self,
        index: u32,
        name: &'static str,
        same_kind: impl FnOnce(VKind) -> bool,
        found: &str,
    ) -> Result<usize, CheckError> {
        let v = index as usize;
        let n = &self.cx.graph.nodes[self.node];
        let kind = match n.call {
            Call::Enum(..) => n.variants.get(v).and_then(Option::as_ref).map(|g| g.kind),
            _ => None,
        };
        match kind {
            Some(kind) if same_kind(kind) => Ok(v),
            Some(kind) => {
                let expected = format!("variant {v} as {}", kind.describe());
                Err(self.cx.mismatch(
                    self.ty,
                    expected,
                    format!("variant {v} `{name}` as {found}"),
                ))
            }
            None => {
                let expected = self.call().describe();
                Err(self
                    .cx
                    .mismatch(self.ty, expected, format!("variant {v} `{name}` ({found})")))
            }
        }
    }
}

macro_rules! primitive {
    ($($method:ident($ty:ty): $prim:ident;)*) => {$(
        fn $method(self, _: $ty) -> Result<(), CheckError> {
            self.prim(Prim::$prim)
        }
    )*};
}

impl<'a, 'g> ser::Serializer for Checker<'a, 'g> {
    type Ok = ();
    type Error = CheckError;
    type SerializeSeq = Compound<'a, 'g>;
    type SerializeTuple = Compound<'a, 'g>;
    type SerializeTupleStruct = Compound<'a, 'g>;
    type SerializeTupleVariant = Compound<'a, 'g>;
    type SerializeMap = Compound<'a, 'g>;
    type SerializeStruct = Compound<'a, 'g>;
    type SerializeStructVariant = Compound<'a, 'g>;

    primitive! {
        serialize_bool(bool): Bool;
        serialize_i8(i8): I8;
        serialize_i16(i16): I16;
        serialize_i32(i32): I32;
        serialize_i64(i64): I64;
        serialize_i128(i128): I128;
        serialize_u8(u8): U8;
        serialize_u16(u16): U16;
        serialize_u32(u32): U32;
        serialize_u64(u64): U64;
        serialize_u128(u128): U128;
        serialize_f32(f32): F32;
        serialize_f64(f64): F64;
        serialize_char(char): Char;
        serialize_str(&str): Str;
        serialize_bytes(&[u8]): Bytes;
    }

    fn serialize_unit(self) -> Result<(), CheckError> {
        self.prim(Prim::Unit)
    }

    fn serialize_none(mut self) -> Result<(), CheckError> {
        let ok = self.call() == Call::Option;
        self.expect(ok, || "None".to_owned())
    }

    fn serialize_some<U: Serialize + ?Sized>(mut self, value: &U) -> Result<(), CheckError> {
        let ok = self.call() == Call::Option;
        self.expect(ok, || "Some(..)".to_owned())?;
        self.cx.write(self.node, None, 0, value)
    }

    fn serialize_unit_struct(mut self, name: &'static str) -> Result<(), CheckError> {
        let ok = matches!(self.call(), Call::UnitStruct(_));
        self.expect(ok, || Call::UnitStruct(name).describe())
    }

    fn serialize_newtype_struct<U: Serialize + ?Sized>(
        mut self,
        name: &'static str,
        value: &U,
    ) -> Result<(), CheckError> {
        let ok = matches!(self.call(), Call::Newtype(_));
        self.expect(ok, || Call::Newtype(name).describe())?;
        self.cx.write(self.node, None, 0, value)
    }

    fn serialize_seq(mut self, _: Option<usize>) -> Result<Compound<'a, 'g>, CheckError> {
        let ok = self.call() == Call::Seq;
        self.expect(ok, || Call::Seq.describe())?;
        Ok(self.compound(None, usize::MAX))
    }

    fn serialize_tuple(mut self, len: usize) -> Result<Compound<'a, 'g>, CheckError> {
        let ok = self.call() == Call::Tuple(len);
        self.expect(ok, || Call::Tuple(len).describe())?;
        Ok(self.compound(None, len))
    }

    fn serialize_tuple_struct(
        mut self,
        name: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'g>, CheckError> {
        let ok = matches!(self.call(), Call::TupleStruct(_, n) if n == len);
        self.expect(ok, || Call::TupleStruct(name, len).describe())?;
        Ok(self.compound(None, len))
    }

    fn serialize_map(mut self, _: Option<usize>) -> Result<Compound<'a, 'g>, CheckError> {
        let ok = self.call() == Call::Map;
        self.expect(ok, || Call::Map.describe())?;
        Ok(self.compound(None, usize::MAX))
    }

    fn serialize_struct(
        mut self,
        name: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'g>, CheckError> {
        let ok = matches!(self.call(), Call::Struct(_, fields) if fields.len() == len);
        self.expect(ok, || format!("struct `{name}` of {len} fields"))?;
        Ok(self.compound(None, len))
    }

    fn serialize_unit_variant(
        mut self,
        _: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<(), CheckError> {
        self.variant(index, variant, |k| k == VKind::Unit, "a unit variant")
            .map(drop)
    }

    fn serialize_newtype_variant<U: Serialize + ?Sized>(
        mut self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        value: &U,
    ) -> Result<(), CheckError> {
        let v = self.variant(index, variant, |k| k == VKind::Newtype, "a newtype variant")?;
        self.cx.write(self.node, Some(v), 0, value)
    }

    fn serialize_tuple_variant(
        mut self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'g>, CheckError> {
        let found = format!("a tuple variant of {len}");
        let v = self.variant(index, variant, |k| k == VKind::Tuple(len), &found)?;
        Ok(self.compound(Some(v), len))
    }

    fn serialize_struct_variant(
        mut self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'g>, CheckError> {
        let found = format!("a struct variant of {len} fields");
        let same = |k| matches!(k, VKind::Struct(fields) if fields.len() == len);
        let v = self.variant(index, variant, same, &found)?;
        Ok(self.compound(Some(v), len))
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// The parts of a sequence, tuple, map, struct or variant being written.
struct Compound<'a, 'g> {
    cx: &'a mut Ctx<'g>,
    node: NodeId,
    ty: &'static str,
    variant: Option<usize>,
    /// Parts written so far.
    next: usize,
    /// Parts the trace read (`usize::MAX`: any number, for sequences and
    /// maps).
    len: usize,
}

impl Compound<'_, '_> {
    /// Writes the next part into slot `index`.
    fn part<U: Serialize + ?Sized>(&mut self, index: usize, value: &U) -> Result<(), CheckError> {
        if self.next >= self.len {
            let expected = format!("{} parts", self.len);
            let found = format!("a part {}", self.next + 1);
            return Err(self.cx.mismatch(self.ty, expected, found));
        }
        self.next += 1;
        self.cx.write(self.node, self.variant, index, value)
    }

    fn positional<U: Serialize + ?Sized>(&mut self, value: &U) -> Result<(), CheckError> {
        self.part(self.next, value)
    }

    fn end(self) -> Result<(), CheckError> {
        if self.len != usize::MAX && self.next != self.len {
            let expected = format!("{} parts", self.len);
            let found = format!("{} parts", self.next);
            return Err(self.cx.mismatch(self.ty, expected, found));
        }
        Ok(())
    }

    fn skipped(&mut self, key: &'static str) -> CheckError {
        let expected = format!("{} fields", self.len);
        let found = format!("field `{key}` skipped");
        self.cx.mismatch(self.ty, expected, found)
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = CheckError;
    fn serialize_element<U: Serialize + ?Sized>(&mut self, value: &U) -> Result<(), CheckError> {
        // Every element of a sequence has the one element shape.
        self.part(0, value)
    }
    fn end(self) -> Result<(), CheckError> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = CheckError;
    fn serialize_element<U: Serialize + ?Sized>(&mut self, value: &U) -> Result<(), CheckError> {
        self.positional(value)
    }
    fn end(self) -> Result<(), CheckError> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = CheckError;
    fn serialize_field<U: Serialize + ?Sized>(&mut self, value: &U) -> Result<(), CheckError> {
        self.positional(value)
    }
    fn end(self) -> Result<(), CheckError> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = CheckError;
    fn serialize_field<U: Serialize + ?Sized>(&mut self, value: &U) -> Result<(), CheckError> {
        self.positional(value)
    }
    fn end(self) -> Result<(), CheckError> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = CheckError;
    fn serialize_key<U: Serialize + ?Sized>(&mut self, key: &U) -> Result<(), CheckError> {
        self.cx.write(self.node, None, 0, key)
    }
    fn serialize_value<U: Serialize + ?Sized>(&mut self, value: &U) -> Result<(), CheckError> {
        self.cx.write(self.node, None, 1, value)
    }
    fn end(self) -> Result<(), CheckError> {
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = CheckError;
    fn serialize_field<U: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &U,
    ) -> Result<(), CheckError> {
        self.positional(value)
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), CheckError> {
        // postcard writes nothing for a skipped field and reads the next
        // one in its place.
        Err(self.skipped(key))
    }
    fn end(self) -> Result<(), CheckError> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = CheckError;
    fn serialize_field<U: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &U,
    ) -> Result<(), CheckError> {
        self.positional(value)
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), CheckError> {
        Err(self.skipped(key))
    }
    fn end(self) -> Result<(), CheckError> {
        Compound::end(self)
    }
}
