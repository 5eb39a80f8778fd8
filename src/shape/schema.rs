//! A schema's five record shapes together: what a bundle carries, what a
//! reader requires, and the two ways that can fail, each naming the system.

use super::{Fingerprint, Shape, ShapeError, cached_shape_of, first_difference};
use crate::schema::Schema;
use crate::system::System;

/// The shapes of a schema's five record types, in [`System::ORDER`]: what
/// every bundle of `S` carries in its header, and what a reader of `S`
/// requires of a bundle.
///
/// Traced once per type and kept for the life of the process. Pinning
/// their fingerprints in a test of your own turns a record type changed
/// without a migration into a failing test, rather than a shard that
/// refuses to load after a deploy:
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::shape::schema_shapes;
/// use caelmor_persist::reference::Reference;
///
/// let [player, ..] = schema_shapes::<Reference>()?;
/// assert_eq!(
///     player.fingerprint().to_string(),
///     "18743dca31a768d26c55a80ec47e267e8669881d09629ec988fec0b757853234",
/// );
/// # Ok::<(), caelmor_persist::shape::Untraceable>(())
/// ```
///
/// # Errors
/// The first record type, in [`System::ORDER`], whose shape cannot be
/// traced (`E-SHAPE-UNTRACEABLE`).
pub fn schema_shapes<S: Schema>() -> Result<[&'static Shape; 5], Untraceable> {
    traced::<S>()
}

/// [`schema_shapes`], for the crate's own callers.
pub(crate) fn traced<S: Schema>() -> Result<[&'static Shape; 5], Untraceable> {
    let at = |system| move |error| Untraceable(Box::new((system, error)));
    Ok([
        cached_shape_of::<S::Player>().map_err(at(System::Player))?,
        cached_shape_of::<S::World>().map_err(at(System::World))?,
        cached_shape_of::<S::Npc>().map_err(at(System::Npc))?,
        cached_shape_of::<S::Item>().map_err(at(System::Item))?,
        cached_shape_of::<S::Quest>().map_err(at(System::Quest))?,
    ])
}

/// A schema with a record type whose shape cannot be traced: the system,
/// and the [`ShapeError`] naming the type, the place inside it and why.
/// Its code is `E-SHAPE-UNTRACEABLE`.
///
/// No bundle of such a schema could be checked, so a store refuses to claim
/// a shard for it (before anything is written) and a typed reader refuses
/// to read with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {} record type: {}", self.0.0, self.0.1)]
pub struct Untraceable(Box<(System, ShapeError)>);

impl Untraceable {
    /// The first system, in [`System::ORDER`], whose record type cannot be
    /// traced.
    #[must_use]
    pub fn system(&self) -> System {
        self.0.0
    }

    /// Which type, where inside it, and why.
    #[must_use]
    pub fn error(&self) -> &ShapeError {
        &self.0.1
    }
}

/// A bundle whose record type for one system has another shape than the
/// reader's, under the same schema name and version: a record type changed
/// without a migration. Its code is `E-SHAPE` (`E-STORE-SCHEMA` from a
/// store's load).
///
/// Displays as `the player records were written with another record type
/// than this reader's: Player.gold: was u32, now u64`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {} records were written with another record type than this reader's: {}",
    self.0.system,
    self.0.difference
)]
pub struct ShapeMismatch(Box<Mismatch>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Mismatch {
    system: System,
    expected: Fingerprint,
    found: Fingerprint,
    difference: String,
}

impl ShapeMismatch {
    /// `found`, the bundle's shape for `system`, against `expected`, the
    /// reader's; `None` if their fingerprints agree.
    pub(crate) fn between(system: System, found: &Shape, expected: &Shape) -> Option<Self> {
        if found.fingerprint() == expected.fingerprint() {
            return None;
        }
        Some(ShapeMismatch(Box::new(Mismatch {
            system,
            expected: expected.fingerprint(),
            found: found.fingerprint(),
            // Differing fingerprints always have a first difference (see
            // `first_difference`); the words are a fallback, never seen.
            difference: first_difference(found, expected)
                .unwrap_or_else(|| "the fingerprints differ".to_owned()),
        })))
    }

    /// The section whose record type changed: the first, in
    /// [`System::ORDER`].
    #[must_use]
    pub fn system(&self) -> System {
        self.0.system
    }

    /// The fingerprint of the reader's record type.
    #[must_use]
    pub fn expected(&self) -> Fingerprint {
        self.0.expected
    }

    /// The fingerprint of the shape the bundle carries.
    #[must_use]
    pub fn found(&self) -> Fingerprint {
        self.0.found
    }

    /// The first difference, from the bundle's shape to the reader's:
    /// `Player.gold: was u32, now u64`.
    #[must_use]
    pub fn difference(&self) -> &str {
        &self.0.difference
    }
}
