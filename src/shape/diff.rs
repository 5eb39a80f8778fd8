//! The first difference between two shapes, in words, with a path.
//!
//! The walk is a pre-order over both trees at once, so "first" is the same
//! on every run: the earliest field, element or variant (in declaration
//! order) where the two disagree. Container names are not compared, like
//! the fingerprint; the path is written with the new shape's names.

use super::display::{quote, quote_field, quote_payload, quote_variant};
use super::model::{Field, Node, Payload, Shape, Variant};
use super::path::Path;

/// The first place where `new` differs from `old`, in words with a path —
/// `Player.gold: was u32, now u64` — or `None` exactly when their
/// fingerprints agree (barring a BLAKE3 collision).
///
/// "First" is the earliest field, element or variant in declaration order,
/// found by walking both shapes together; container names are not
/// compared, and the path is written with `new`'s names.
///
/// ```
/// use caelmor_persist::shape::{first_difference, shape_of};
/// mod v1 {
///     #[derive(serde::Serialize, serde::Deserialize)]
///     pub struct Player { pub id: u64, pub gold: u32 }
/// }
/// mod v2 {
///     #[derive(serde::Serialize, serde::Deserialize)]
///     pub struct Player { pub id: u64, pub gold: u64 }
/// }
/// let (old, new) = (shape_of::<v1::Player>()?, shape_of::<v2::Player>()?);
/// assert_eq!(first_difference(&old, &new).as_deref(), Some("Player.gold: was u32, now u64"));
/// assert_eq!(first_difference(&old, &old), None);
/// # Ok::<(), caelmor_persist::shape::ShapeError>(())
/// ```
#[must_use]
pub fn first_difference(old: &Shape, new: &Shape) -> Option<String> {
    let mut diff = Diff {
        path: Path::root(new.root().container_name(), "record"),
        old: Vec::new(),
        new: Vec::new(),
    };
    diff.node(old.root(), new.root())
}

/// Structural equality, container names aside: what the fingerprint sees.
pub(super) fn same(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Prim(x), Node::Prim(y)) => x == y,
        (Node::Recursive { up: x }, Node::Recursive { up: y }) => x == y,
        (Node::UnitStruct { .. }, Node::UnitStruct { .. }) => true,
        (Node::Newtype { inner: x, .. }, Node::Newtype { inner: y, .. })
        | (Node::Option(x), Node::Option(y))
        | (Node::Seq(x), Node::Seq(y)) => same(x, y),
        (Node::Tuple(xs), Node::Tuple(ys))
        | (Node::TupleStruct { items: xs, .. }, Node::TupleStruct { items: ys, .. }) => {
            same_all(xs, ys)
        }
        (Node::Struct { fields: xs, .. }, Node::Struct { fields: ys, .. }) => same_fields(xs, ys),
        (Node::Enum { variants: xs, .. }, Node::Enum { variants: ys, .. }) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|(x, y)| x.name == y.name && same_payload(&x.payload, &y.payload))
        }
        (Node::Map { key: k, value: v }, Node::Map { key: l, value: w }) => {
            same(k, l) && same(v, w)
        }
        _ => false,
    }
}

fn same_payload(p: &Payload, q: &Payload) -> bool {
    match (p, q) {
        (Payload::Unit, Payload::Unit) => true,
        (Payload::Newtype(x), Payload::Newtype(y)) => same(x, y),
        (Payload::Tuple(xs), Payload::Tuple(ys)) => same_all(xs, ys),
        (Payload::Struct(xs), Payload::Struct(ys)) => same_fields(xs, ys),
        _ => false,
    }
}

fn same_all(xs: &[Node], ys: &[Node]) -> bool {
    xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
}

fn same_fields(xs: &[Field], ys: &[Field]) -> bool {
    xs.len() == ys.len()
        && xs
            .iter()
            .zip(ys)
            .all(|(x, y)| x.name == y.name && same(&x.shape, &y.shape))
}

struct Diff<'a> {
    path: Path,
    /// The nodes above the current one, in each tree: `^Name` in quotes.
    old: Vec<&'a Node>,
    new: Vec<&'a Node>,
}

/// Where a list of fields or variants appears in a message.
enum Kind {
    Field,
    Variant,
}

impl Kind {
    fn word(&self) -> &'static str {
        match self {
            Kind::Field => "field",
            Kind::Variant => "variant",
        }
    }
}

impl<'a> Diff<'a> {
    fn node(&mut self, a: &'a Node, b: &'a Node) -> Option<String> {
        match (a, b) {
            (Node::Prim(x), Node::Prim(y)) if x == y => None,
            (Node::Recursive { up: x }, Node::Recursive { up: y }) if x == y => None,
            (Node::UnitStruct { .. }, Node::UnitStruct { .. }) => None,
            (Node::Newtype { inner: x, .. }, Node::Newtype { inner: y, .. }) => {
                self.below(a, b, |d| d.index(0, x, y))
            }
            (Node::Tuple(xs), Node::Tuple(ys))
            | (Node::TupleStruct { items: xs, .. }, Node::TupleStruct { items: ys, .. })
                if xs.len() == ys.len() =>
            {
                self.below(a, b, |d| d.items(xs, ys))
            }
            (Node::Struct { fields: xs, .. }, Node::Struct { fields: ys, .. }) => {
                self.below(a, b, |d| {
                    let label = d.label(b);
                    d.fields(&label, xs, ys)
                })
            }
            (Node::Enum { variants: xs, .. }, Node::Enum { variants: ys, .. }) => {
                self.below(a, b, |d| d.variants(xs, ys))
            }
            (Node::Option(x), Node::Option(y)) => {
                self.below(a, b, |d| d.step(Path::some, |d| d.node(x, y)))
            }
            (Node::Seq(x), Node::Seq(y)) => {
                self.below(a, b, |d| d.step(Path::element, |d| d.node(x, y)))
            }
            (Node::Map { key: k, value: v }, Node::Map { key: l, value: w }) => {
                self.below(a, b, |d| {
                    d.step(Path::key, |d| d.node(k, l))
                        .or_else(|| d.step(Path::value, |d| d.node(v, w)))
                })
            }
            _ => Some(format!(
                "{}: was {}, now {}",
                self.path.as_str(),
                quote(a, &mut self.old),
                quote(b, &mut self.new)
            )),
        }
    }

    /// Runs `f` with `a` and `b` as the innermost nodes above.
    fn below(
        &mut self,
        a: &'a Node,
        b: &'a Node,
        f: impl FnOnce(&mut Self) -> Option<String>,
    ) -> Option<String> {
        self.old.push(a);
        self.new.push(b);
        let found = f(self);
        self.old.pop();
        self.new.pop();
        found
    }

    /// Runs `f` one path segment further down.
    fn step(
        &mut self,
        segment: impl FnOnce(&mut Path),
        f: impl FnOnce(&mut Self) -> Option<String>,
    ) -> Option<String> {
        let mark = self.path.mark();
        segment(&mut self.path);
        let found = f(self);
        self.path.reset(mark);
        found
    }

    fn index(&mut self, i: usize, x: &'a Node, y: &'a Node) -> Option<String> {
        self.step(|p| p.index(i), |d| d.node(x, y))
    }

    fn items(&mut self, xs: &'a [Node], ys: &'a [Node]) -> Option<String> {
        xs.iter()
            .zip(ys)
            .enumerate()
            .find_map(|(i, (x, y))| self.index(i, x, y))
    }

    /// The path, and the container's name after it when the path does not
    /// already end with it: `Player`, `Player.rank (Rank)`.
    fn label(&self, b: &Node) -> String {
        let path = self.path.as_str();
        match b.container_name() {
            Some(name) if !name.is_empty() && path != name => format!("{path} ({name})"),
            _ => path.to_owned(),
        }
    }

    fn fields(&mut self, label: &str, xs: &'a [Field], ys: &'a [Field]) -> Option<String> {
        for i in 0..xs.len().max(ys.len()) {
            let (x, y) = (xs.get(i), ys.get(i));
            if let (Some(x), Some(y)) = (x, y)
                && x.name == y.name
            {
                let found = self.step(|p| p.field(&x.name), |d| d.node(&x.shape, &y.shape));
                if found.is_some() {
                    return found;
                }
                continue;
            }
            let same_shape = matches!((x, y), (Some(x), Some(y)) if same(&x.shape, &y.shape));
            let x = x.map(|x| (x.name.as_ref(), quote_field(x, &mut self.old)));
            let y = y.map(|y| (y.name.as_ref(), quote_field(y, &mut self.new)));
            let in_old = |name: &str| xs.iter().any(|f| *f.name == *name);
            let in_new = |name: &str| ys.iter().any(|f| *f.name == *name);
            let at = At {
                label,
                kind: Kind::Field,
                i,
                same_shape,
            };
            return Some(at.words(x, y, in_old, in_new));
        }
        None
    }

    fn variants(&mut self, xs: &'a [Variant], ys: &'a [Variant]) -> Option<String> {
        let label = self.label(self.new.last().copied()?);
        for i in 0..xs.len().max(ys.len()) {
            let (x, y) = (xs.get(i), ys.get(i));
            if let (Some(x), Some(y)) = (x, y)
                && x.name == y.name
            {
                let found = self.step(
                    |p| p.variant(&x.name),
                    |d| d.payload(&x.payload, &y.payload),
                );
                if found.is_some() {
                    return found;
                }
                continue;
            }
            let same_shape =
                matches!((x, y), (Some(x), Some(y)) if same_payload(&x.payload, &y.payload));
            let x = x.map(|x| (x.name.as_ref(), quote_variant(x, &mut self.old)));
            let y = y.map(|y| (y.name.as_ref(), quote_variant(y, &mut self.new)));
            let in_old = |name: &str| xs.iter().any(|v| *v.name == *name);
            let in_new = |name: &str| ys.iter().any(|v| *v.name == *name);
            let at = At {
                label: &label,
                kind: Kind::Variant,
                i,
                same_shape,
            };
            return Some(at.words(x, y, in_old, in_new));
        }
        None
    }

    fn payload(&mut self, p: &'a Payload, q: &'a Payload) -> Option<String> {
        match (p, q) {
            (Payload::Unit, Payload::Unit) => None,
            (Payload::Newtype(x), Payload::Newtype(y)) => self.index(0, x, y),
            (Payload::Tuple(xs), Payload::Tuple(ys)) if xs.len() == ys.len() => self.items(xs, ys),
            (Payload::Struct(xs), Payload::Struct(ys)) => {
                let label = self.path.as_str().to_owned();
                self.fields(&label, xs, ys)
            }
            _ => Some(format!(
                "{}: was {}, now {}",
                self.path.as_str(),
                quote_payload(p, &mut self.old),
                quote_payload(q, &mut self.new)
            )),
        }
    }
}

/// The first place where two lists of fields (or variants) stop agreeing
/// on names.
struct At<'l> {
    /// The list's owner: `Player`, `Player.rank (Rank)`.
    label: &'l str,
    kind: Kind,
    /// Position in the lists.
    i: usize,
    /// Both entries exist and carry the same shape.
    same_shape: bool,
}

impl At<'_> {
    /// `old` and `new` are the entries there (name, quote); `in_old` and
    /// `in_new` tell whether a name is anywhere in the other list.
    fn words(
        &self,
        old: Option<(&str, String)>,
        new: Option<(&str, String)>,
        in_old: impl Fn(&str) -> bool,
        in_new: impl Fn(&str) -> bool,
    ) -> String {
        let (label, word, i) = (self.label, self.kind.word(), self.i);
        match (old, new) {
            (Some((_, quoted)), None) => format!("{label}: {word} {i} `{quoted}` removed"),
            (None, Some((_, quoted))) => format!("{label}: {word} {i} `{quoted}` added"),
            (None, None) => format!("{label}: {word} {i} differs"),
            (Some((o, oq)), Some((n, nq))) => match (in_new(o), in_old(n)) {
                // Neither name is in the other list: the old entry is gone
                // and a new one stands in its place.
                (false, false) if self.same_shape => {
                    format!("{label}: {word} `{o}` renamed or replaced by `{n}`")
                }
                (false, false) => format!("{label}: {word} `{oq}` renamed or replaced by `{nq}`"),
                (true, false) => format!("{label}: {word} {i} `{nq}` added"),
                (false, true) => format!("{label}: {word} {i} `{oq}` removed"),
                // Both names are still there: moved.
                (true, true) => format!("{label}: {word} {i} was `{oq}`, now `{nq}`"),
            },
        }
    }
}
