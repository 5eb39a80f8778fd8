//! A compact, one-line rendering of a shape, Rust-like, for `inspect` and
//! for differences:
//!
//! ```text
//! Item { id: u64, durability: Option<u16>, location: enum ItemLocation { Zone(u64), Player(u64) } }
//! Zone { level_range: (u16, u16) }   Quest { progress: [u32] }   Bag { slots: {u8: Item} }
//! List { next: Option<^List> }       ^Name: the enclosing `Name`, met again inside itself
//! ```

use core::fmt::{self, Write};

use super::model::{Field, Node, Payload, Shape, Variant};

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        node(self.root(), &mut Vec::new(), f)
    }
}

/// The longest rendering a difference quotes before cutting it short.
const QUOTE: usize = 80;

/// `n` rendered for a message, with the nodes above it (for `^Name`), cut to
/// a readable length.
pub(super) fn quote<'a>(n: &'a Node, above: &mut Vec<&'a Node>) -> String {
    let mut s = String::new();
    let _ = node(n, above, &mut s);
    cut(s)
}

/// A field as a difference quotes it: `gold: u32`.
pub(super) fn quote_field<'a>(f: &'a Field, above: &mut Vec<&'a Node>) -> String {
    let mut s = String::new();
    let _ = field(f, above, &mut s);
    cut(s)
}

/// A variant as a difference quotes it: `Recruit`, `Zone(u64)`.
pub(super) fn quote_variant<'a>(v: &'a Variant, above: &mut Vec<&'a Node>) -> String {
    let mut s = String::new();
    let _ = variant(v, above, &mut s);
    cut(s)
}

/// What a variant carries, as a difference quotes it.
pub(super) fn quote_payload<'a>(p: &'a Payload, above: &mut Vec<&'a Node>) -> String {
    let mut s = String::new();
    let _ = match p {
        Payload::Unit => s.write_str("unit"),
        _ => payload(p, above, &mut s),
    };
    cut(s)
}

fn cut(mut s: String) -> String {
    if s.chars().count() > QUOTE {
        let end = s.char_indices().nth(QUOTE - 1).map_or(s.len(), |(i, _)| i);
        s.truncate(end);
        s.push('…');
    }
    s
}

/// Renders `n`; `above` holds the nodes above it, outermost first, and is
/// left as it was found.
fn node<'a>(n: &'a Node, above: &mut Vec<&'a Node>, out: &mut impl Write) -> fmt::Result {
    match n {
        Node::Prim(p) => return out.write_str(p.name()),
        Node::Recursive { up } => return recursive(*up, above, out),
        _ => {}
    }
    above.push(n);
    let result = composite(n, above, out);
    above.pop();
    result
}

fn composite<'a>(n: &'a Node, above: &mut Vec<&'a Node>, out: &mut impl Write) -> fmt::Result {
    match n {
        Node::Prim(_) | Node::Recursive { .. } => Ok(()),
        Node::UnitStruct { name } => out.write_str(label(name, "struct")),
        Node::Newtype { name, inner } => {
            write!(out, "{}(", label(name, "newtype"))?;
            node(inner, above, out)?;
            out.write_char(')')
        }
        Node::Tuple(items) if items.is_empty() => out.write_str("tuple()"),
        Node::Tuple(items) => tuple(items, above, out),
        Node::TupleStruct { name, items } => {
            out.write_str(label(name, "struct "))?;
            tuple(items, above, out)
        }
        Node::Struct { name, fields } => {
            out.write_str(label(name, "struct"))?;
            braces(fields, above, out)
        }
        Node::Enum { name, variants } => {
            out.write_str("enum ")?;
            if !name.is_empty() {
                write!(out, "{name} ")?;
            }
            out.write_char('{')?;
            for (i, v) in variants.iter().enumerate() {
                out.write_str(if i == 0 { " " } else { ", " })?;
                variant(v, above, out)?;
            }
            out.write_str(if variants.is_empty() { "}" } else { " }" })
        }
        Node::Option(inner) => {
            out.write_str("Option<")?;
            node(inner, above, out)?;
            out.write_char('>')
        }
        Node::Seq(inner) => {
            out.write_char('[')?;
            node(inner, above, out)?;
            out.write_char(']')
        }
        Node::Map { key, value } => {
            out.write_char('{')?;
            node(key, above, out)?;
            out.write_str(": ")?;
            node(value, above, out)?;
            out.write_char('}')
        }
    }
}

fn label<'n>(name: &'n str, unnamed: &'n str) -> &'n str {
    if name.is_empty() { unnamed } else { name }
}

/// `^Name` for a named container, `^3` (three levels up) otherwise.
fn recursive(up: u32, above: &[&Node], out: &mut impl Write) -> fmt::Result {
    let target = (up as usize)
        .checked_sub(1)
        .and_then(|k| above.len().checked_sub(k + 1))
        .and_then(|i| above.get(i));
    match target.and_then(|t| t.container_name()) {
        Some(name) if !name.is_empty() => write!(out, "^{name}"),
        _ => write!(out, "^{up}"),
    }
}

/// `(a, b)`, and `(a,)` for one item so that it reads as a tuple.
fn tuple<'a>(items: &'a [Node], above: &mut Vec<&'a Node>, out: &mut impl Write) -> fmt::Result {
    out.write_char('(')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.write_str(", ")?;
        }
        node(item, above, out)?;
    }
    out.write_str(if items.len() == 1 { ",)" } else { ")" })
}

fn braces<'a>(fields: &'a [Field], above: &mut Vec<&'a Node>, out: &mut impl Write) -> fmt::Result {
    if fields.is_empty() {
        return out.write_str(" {}");
    }
    out.write_str(" {")?;
    for (i, f) in fields.iter().enumerate() {
        out.write_str(if i == 0 { " " } else { ", " })?;
        field(f, above, out)?;
    }
    out.write_str(" }")
}

fn field<'a>(f: &'a Field, above: &mut Vec<&'a Node>, out: &mut impl Write) -> fmt::Result {
    write!(out, "{}: ", f.name)?;
    node(&f.shape, above, out)
}

fn variant<'a>(v: &'a Variant, above: &mut Vec<&'a Node>, out: &mut impl Write) -> fmt::Result {
    out.write_str(&v.name)?;
    payload(&v.payload, above, out)
}

fn payload<'a>(p: &'a Payload, above: &mut Vec<&'a Node>, out: &mut impl Write) -> fmt::Result {
    match p {
        Payload::Unit => Ok(()),
        Payload::Newtype(inner) => {
            out.write_char('(')?;
            node(inner, above, out)?;
            out.write_char(')')
        }
        Payload::Tuple(items) => tuple(items, above, out),
        Payload::Struct(fields) => braces(fields, above, out),
    }
}
