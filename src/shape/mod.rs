//! The serde-shape fingerprint of a record type.
//!
//! postcard is not self-describing: a bundle's bytes say nothing of the
//! types that wrote them, so a record type changed between save and restore
//! is read as if it had not changed — swapped fields swap values, a `u32`
//! that became an `i32` reads 500 as 250, reordered variants turn `Recruit`
//! into `Veteran`. The crate therefore carries the shape itself: this module
//! computes, from a record type alone, a canonical description of its serde
//! data-model [`Shape`] and a 32-byte [`Fingerprint`] of it, so that a bundle
//! written under one shape is refused under another.
//!
//! # How the shape is found
//!
//! [`shape_of::<T>()`](shape_of) needs no sample value: it drives `T`'s own
//! `Deserialize` with a tracing deserializer that answers every read with a
//! made-up value (zeros, `""`, `false`, no bytes; if those are refused: ones,
//! `"1"`, `true`, sixteen bytes) and writes down each data-model call, repeating until every enum
//! variant and every option, sequence and map content has been seen (see
//! `trace.rs`). It then serializes each value it built and checks that the
//! type's `Serialize` makes the same calls (`check.rs`): a fingerprint of
//! what is read is only worth something if it is also what is written.
//! Like postcard, the trace is not human-readable
//! (`Deserializer::is_human_readable` is `false`).
//!
//! This is the technique of `serde-reflection`, not the crate: its registry
//! keys types by their bare serde name, so two `Stats` from two modules, or
//! `Capped<u16>` next to `Capped<u32>`, conflict; it needs every nested enum
//! traced by name, which a generic `shape_of::<T>()` cannot name; and a
//! recursive enum whose first variant recurses sends it into unbounded
//! recursion. Here a node is identified by its visitor's exact type
//! (`typeid`), recursion is found by meeting the same node inside itself,
//! and every loop is bounded.
//!
//! # What the shape contains
//!
//! - every primitive by exact kind: `bool`, `i8`…`i128`, `u8`…`u128`,
//!   `f32`, `f64`, `char`, `str` (any string), `bytes` (`serde_bytes`; a
//!   `Vec<u8>` is a sequence of `u8`), `()`;
//! - unit, newtype, tuple and named-field structs, told apart;
//! - field names and their order;
//! - enums with all their variants: names, index order, and each variant's
//!   own content (unit, newtype, tuple, struct);
//! - `Option`, sequences (`Vec`, sets, slices), maps, tuples and arrays
//!   (`[T; N]` is a tuple of `N`);
//! - recursion, as a back-reference to the enclosing node of the same type
//!   (`List { next: Option<^List> }`), so recursive types terminate.
//!
//! Container names — the names of structs, enums, newtypes — are carried, to
//! explain a difference, but are **not part of the fingerprint**: renaming a
//! Rust type changes nothing postcard writes or reads, so a renamed type
//! still opens the bundles its old name wrote. Field and variant names
//! **are** part of it: postcard does not write them either, but a renamed
//! field (`gold` → `coins`) almost always means a changed meaning, and
//! refusing it is safe where accepting it is not. `#[serde(rename = ..)]`
//! names are what counts, not Rust identifiers.
//!
//! What is not serialized is not in the shape: `#[serde(skip)]` fields are
//! invisible, which is right, since they are not in the bytes either.
//!
//! # Encoding and fingerprint
//!
//! [`Shape::to_bytes`] is a canonical encoding (the grammar is in the
//! [format specification](crate::format#record-shapes), which carries it
//! in every bundle header): the same type gives the same bytes on every run, platform
//! and build; nothing in it depends on map iteration order, `TypeId`s or
//! addresses, and it decodes back ([`Shape::from_bytes`], bounded and
//! panic-free on hostile input) so that a bundle can carry the writer's
//! shapes and a reader can say what changed. [`Shape::fingerprint`] is
//! BLAKE3, in derive-key mode, of the encoding with container names left
//! empty. [`first_difference`] describes the first place two shapes differ
//! (`Player.gold: was u32, now u64`), and `None` means equal fingerprints.
//! A `Display` renders a shape on one line, for `inspect`.
//!
//! Changing the encoding, or the types of the reference schema, changes the
//! fingerprints pinned in this module's tests — and would make every stored
//! bundle refuse to open. That is what those tests are for.
//!
//! # What a fingerprint cannot see
//!
//! A fingerprint describes the serde calls a type's impls make on the values
//! a trace offers. It cannot see:
//!
//! - **A hand-written `Serialize` (or `Deserialize`) that branches on
//!   values.** The trace runs each on a few made-up values; a branch those
//!   values do not take (`if gold > 1000 { write a u64 } else { write a u32
//!   }`) is invisible. A branch they do take that disagrees with the other
//!   side is refused ([`ShapeErrorKind::SerializeMismatch`]), and so is a
//!   `Deserialize` that reads differently on two visits
//!   ([`ShapeErrorKind::Inconsistent`]) or reads fewer elements than it
//!   announced ([`ShapeErrorKind::Unsupported`]).
//! - **What a `with`, `serialize_with` or `deserialize_with` function
//!   means.** Its calls are the shape (a `with` module that writes a `u32`
//!   as text is `str`), its meaning is not: changing it from cents to
//!   copper, or to another text format, while it makes the same calls
//!   changes no fingerprint. A `serialize_with` without its
//!   `deserialize_with` that writes another kind than the field reads is
//!   refused by the check.
//! - **Changes of meaning under the same shape**: a `u32` of seconds that
//!   becomes a `u32` of milliseconds, a renamed Rust type, two variants that
//!   swap meanings but keep their names and contents.
//! - **Validation**: a type that now refuses values it used to accept has
//!   the same shape; its old bundles open and then fail to decode.
//!
//! Some attributes make a type untraceable; postcard cannot store those
//! either, so an error is the right answer, and it comes when the shape is
//! first asked for rather than when a bundle is read:
//!
//! - **`#[serde(untagged)]`** and **internally tagged** enums
//!   (`#[serde(tag = "..")]`), whose `Deserialize` calls `deserialize_any`,
//!   and **`#[serde(flatten)]`**, which reads its fields as a map keyed by
//!   name (`deserialize_identifier`): [`ShapeErrorKind::SelfDescribing`].
//! - **`skip_serializing_if`**: postcard writes nothing for a skipped field
//!   and then reads the next one in its place. The check refuses it (on the
//!   smallest value, where `Option::is_none` and `Vec::is_empty` hold).
//!   **`skip_deserializing`** is refused the same way.
//!
//! and some are invisible and harmless: **`#[serde(skip)]`** (not in the
//! bytes), **`#[serde(default)]`** (postcard writes every field, so the
//! default is never used), **`#[serde(rename)]`** on a container.
//!
//! The fingerprint is also strict where postcard is lenient: a variant
//! appended at the end, a `u16` widened to `u32` or a field renamed all
//! change it, though postcard might read the old bytes correctly. Telling a
//! safe change from an unsafe one is a migration's job, made explicit.
//!
//! **What an integrator should do.** Bump `Schema::VERSION` for every change
//! a fingerprint cannot see: of a record's meaning, of a hand-written
//! `Serialize`/`Deserialize`, of a `with` module. Old bundles are then
//! refused by version and brought forward by an explicit migration, never
//! read under the new meaning. A type whose `Deserialize` refuses both sets
//! of traced values ([`ShapeErrorKind::Refused`]) can check its invariant
//! after restoring instead, or store the field through a `with` module as a
//! plain number, text or bytes. A `Serialize` or `Deserialize` that panics on
//! a traced value is reported as [`ShapeErrorKind::Panicked`] where panics
//! unwind; under `panic = "abort"` it aborts.
//!
//! # Cost
//!
//! Tracing is a few microseconds per record type (the reference schema's five
//! types take well under a millisecond together) and is done once per type:
//! the crate keeps each record type's result for the life of the process,
//! and [`schema_shapes`] returns the kept ones.
//!
//! # Where the crate uses it
//!
//! Every bundle carries the shapes of its schema's five record types in its
//! header ([format](crate::format), rule 5), so that a typed reader refuses
//! a bundle written with another shape before it decodes a record
//! (`E-SHAPE`, naming the system and the first difference; a store's load
//! says `E-STORE-SCHEMA`), [`verify`](crate::verify()) reports them, and a
//! [migration](crate::migrate) is how old epochs are brought forward. A
//! schema with a record type that cannot be traced is refused when a store
//! claims its shard (`E-SHAPE-UNTRACEABLE`), before anything is written.

mod check;
mod diff;
mod display;
mod encode;
mod error;
mod graph;
mod model;
mod path;
mod schema;
mod trace;

// The tests use the reference schema's records.
#[cfg(all(test, feature = "reference"))]
mod tests;

use core::any::TypeId;
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use diff::first_difference;
pub use error::{ShapeError, ShapeErrorKind};
pub use model::{Fingerprint, Shape, ShapeDecodeError};
pub use schema::{ShapeMismatch, Untraceable, schema_shapes};

pub(crate) use schema::traced;

use model::MAX_ENCODED;

/// The serde data-model shape of `T`, traced from `T`'s `Deserialize` and
/// checked against its `Serialize` (see the module docs).
///
/// The same type always gives the same result, shape or error. Never
/// panics and never loops: a `Deserialize` or `Serialize` that panics on a
/// traced value is reported as [`ShapeErrorKind::Panicked`] (the panic hook
/// still prints its message).
///
/// # Errors
/// A type whose shape cannot be traced (see the module docs), naming the
/// type and the place inside it.
pub fn shape_of<T: Serialize + DeserializeOwned>() -> Result<Shape, ShapeError> {
    let shape = Shape::from_root(trace::trace::<T>()?);
    // Every shape the crate writes must be one the decoder reads back; the
    // unrolling already bounds nodes, depth and names, and this bounds what
    // they add up to.
    if shape.to_bytes().len() > MAX_ENCODED {
        return Err(ShapeError {
            record: core::any::type_name::<T>(),
            ty: core::any::type_name::<T>(),
            at: String::new(),
            kind: ShapeErrorKind::TooLarge {
                what: "bytes of encoding",
                limit: MAX_ENCODED,
            },
        });
    }
    Ok(shape)
}

/// [`shape_of::<T>()`](shape_of), traced once per type and process and
/// kept: every save and open of a schema asks for its five shapes.
///
/// Each distinct `T` costs one leaked allocation for the life of the
/// process; a program has a fixed, small set of record types. Errors are
/// kept too (they are as deterministic as shapes) and returned as clones.
pub(crate) fn cached_shape_of<T: Serialize + DeserializeOwned + 'static>()
-> Result<&'static Shape, ShapeError> {
    type Cache = RwLock<HashMap<TypeId, &'static Result<Shape, ShapeError>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();

    let cache = CACHE.get_or_init(Cache::default);
    let key = TypeId::of::<T>();
    // A poisoned lock only means another thread panicked while holding it;
    // the map itself is always whole (inserts of finished entries only).
    let known = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .copied();
    let entry = match known {
        Some(entry) => entry,
        None => {
            // Traced outside the lock: it runs the type's own code. Two
            // threads may both trace a new type; the first to insert wins
            // and the other's result, equal, is dropped.
            let traced = shape_of::<T>();
            let mut map = cache.write().unwrap_or_else(PoisonError::into_inner);
            *map.entry(key)
                .or_insert_with(|| Box::leak(Box::new(traced)))
        }
    };
    entry.as_ref().map_err(Clone::clone)
}
