//! The one way a place inside a record type is written, in trace errors and
//! in differences alike: `Player.stats.strength`, `Zone.level_range.0`,
//! `Item.location::Zone.0`, `Item.durability?`, `Quest.progress[]`,
//! `Inventory.slots{key}`.

use core::fmt::Write as _;

/// A path being built, one segment at a time; [`Path::mark`] and
/// [`Path::reset`] let a walk step back out of a segment.
pub(super) struct Path(String);

impl Path {
    /// A path at a record's root, labelled with the root container's name,
    /// else with `fallback` (the root has none: a tuple, a sequence, a name
    /// emptied by [`Shape::without_names`](super::Shape::without_names)).
    pub(super) fn root(name: Option<&str>, fallback: &str) -> Path {
        match name {
            Some(name) if !name.is_empty() => Path(name.to_owned()),
            _ => Path(fallback.to_owned()),
        }
    }

    /// A Rust type's name without its module path, as a root label:
    /// `my_game::records::Player` → `Player`.
    pub(super) fn short(type_name: &str) -> String {
        let (head, generics) = type_name.split_at(type_name.find('<').unwrap_or(type_name.len()));
        let last = head.rsplit("::").next().unwrap_or(head);
        format!("{last}{generics}")
    }

    pub(super) fn field(&mut self, name: &str) {
        self.0.push('.');
        self.0.push_str(name);
    }

    pub(super) fn index(&mut self, i: usize) {
        let _ = write!(self.0, ".{i}");
    }

    pub(super) fn variant(&mut self, name: &str) {
        self.0.push_str("::");
        self.0.push_str(name);
    }

    pub(super) fn some(&mut self) {
        self.0.push('?');
    }

    pub(super) fn element(&mut self) {
        self.0.push_str("[]");
    }

    pub(super) fn key(&mut self) {
        self.0.push_str("{key}");
    }

    pub(super) fn value(&mut self) {
        self.0.push_str("{value}");
    }

    pub(super) fn mark(&self) -> usize {
        self.0.len()
    }

    pub(super) fn reset(&mut self, mark: usize) {
        self.0.truncate(mark);
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    pub(super) fn into_string(self) -> String {
        self.0
    }
}
