//! Why a record type's shape could not be traced.

/// A record type whose shape cannot be traced, with the type and the place
/// inside the record that stopped the trace.
///
/// Every cause is a property of the type's `Serialize`/`Deserialize` code,
/// so the same type always gives the same error: an integrator fixes the
/// type (or its impls), never retries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot fingerprint the serde shape of `{record}`: {place}`{ty}` {kind}", place = Place(at))]
pub struct ShapeError {
    /// The record type traced (`type_name`, for people: not stable).
    pub(crate) record: &'static str,
    /// The type whose code stopped the trace (`type_name`, for people).
    pub(crate) ty: &'static str,
    /// Where inside the record, as `first_difference` writes paths
    /// (`Player.stats.strength`); empty when it is the whole record.
    pub(crate) at: String,
    /// What stopped it.
    pub(crate) kind: ShapeErrorKind,
}

/// `at Player.stats: ` or nothing.
struct Place<'a>(&'a str);

impl core::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "at {}: ", self.0)
        }
    }
}

impl ShapeError {
    /// The record type traced (`core::any::type_name`: for people, not a
    /// stable identifier).
    #[must_use]
    pub fn record(&self) -> &'static str {
        self.record
    }

    /// The type whose code stopped the trace (`core::any::type_name`).
    #[must_use]
    pub fn ty(&self) -> &'static str {
        self.ty
    }

    /// Where inside the record, as differences write paths
    /// (`Player.stats.strength`); empty when it is the whole record.
    #[must_use]
    pub fn at(&self) -> &str {
        &self.at
    }

    /// What stopped it.
    #[must_use]
    pub fn kind(&self) -> &ShapeErrorKind {
        &self.kind
    }
}

/// What stopped a trace. The texts complete "`Type` …".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeErrorKind {
    /// A `Deserialize` that validates refused the values a trace offers
    /// (zeros and empty strings, then ones and `"a"`).
    #[error(
        "refused every value the trace offered it (zeros, then ones): {reason}; a fingerprint \
         needs a Deserialize that accepts either (check the value after restoring instead), or \
         a `#[serde(with = ..)]` that stores it as a plain number, text or bytes"
    )]
    Refused {
        /// The type's own message.
        reason: String,
    },
    /// The type asks for something only a self-describing format has.
    #[error(
        "calls `{call}`, which only self-describing formats serve: untagged and internally tagged \
         enums, `#[serde(flatten)]` and impls that inspect their input cannot be traced, and \
         postcard cannot read them either"
    )]
    SelfDescribing {
        /// The `Deserializer` method it called.
        call: &'static str,
    },
    /// Something the tracer cannot follow, named.
    #[error("{what}")]
    Unsupported {
        /// What and why.
        what: &'static str,
    },
    /// The `Deserialize` asked for different things on different visits.
    #[error(
        "asked for {now} where it asked for {was} before: its Deserialize branches on the values \
         it reads or on outside state, so no single shape describes it"
    )]
    Inconsistent {
        /// What it asked for first.
        was: String,
        /// What it asked for later.
        now: String,
    },
    /// The `Serialize` of a traced value writes something other than what
    /// the `Deserialize` reads.
    #[error(
        "serializes {found} where its Deserialize reads {expected}: postcard would write one \
         thing and read another (a hand-written Serialize, `serialize_with`, \
         `skip_serializing_if` or `skip_deserializing`?)"
    )]
    SerializeMismatch {
        /// What the traced `Deserialize` reads there.
        expected: String,
        /// What the `Serialize` wrote.
        found: String,
    },
    /// The `Serialize` of a traced value failed.
    #[error("failed to serialize a value its own Deserialize built: {reason}")]
    SerializeFailed {
        /// The type's own message.
        reason: String,
    },
    /// A recursive type with no way down that ends.
    #[error(
        "has no finite value the trace can build: every way down leads back into it \
         (a recursive type needs an Option, a sequence, a map or an enum variant that stops)"
    )]
    NoFiniteValue,
    /// A `Serialize` or `Deserialize` panicked on a traced value.
    #[error("panicked while traced: {message}")]
    Panicked {
        /// The panic's message, when it has one.
        message: String,
    },
    /// The shape would exceed a bound every stored shape obeys.
    #[error("is too large to fingerprint: more than {limit} {what}")]
    TooLarge {
        /// What is counted.
        what: &'static str,
        /// The bound.
        limit: usize,
    },
    /// The tracer could not finish; a bug in the tracer, reported rather
    /// than looped on.
    #[error("could not be traced to the end ({what}); please report this type")]
    Stuck {
        /// Where it stopped.
        what: &'static str,
    },
}
