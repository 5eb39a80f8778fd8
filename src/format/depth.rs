//! A `serde::Deserializer` that delegates to postcard and refuses nesting
//! deeper than [`MAX_DEPTH`], so that decoding a record never recurses
//! further than a fixed bound, whatever the bytes say.
//!
//! Why: serde decodes a nested value with one native stack frame (several,
//! in fact) per level. A record type that can nest — `enum Tree { Leaf,
//! Node(Box<Tree>) }`, `struct Node { children: Vec<Node> }` — lets a
//! crafted bundle of a million one-byte levels overflow the stack, which
//! kills the process instead of returning a rejection. postcard has no
//! recursion limit of its own, and no maintained crate offers one for
//! serde (`serde_stacker` grows the stack instead, which only moves the
//! problem to the heap and to the recursive `Drop` of what was decoded), so
//! the crate counts the levels itself: every struct, tuple, tuple struct,
//! sequence, map, enum, option and newtype struct entered adds one, and
//! entering level [`MAX_DEPTH`]` + 1` is an error. Primitives, strings and
//! bytes do not nest and are not counted.
//!
//! The same wrapper also rations the size hints that collections see (see
//! [`Limits`]): postcard hints a sequence's declared length when that many
//! bytes are left, and serde reserves up to 1 MiB per hinted collection; the
//! ration keeps the room reserved ahead of decoding, across all the
//! collections of one value, to at most one element per input byte.
//!
//! Nothing here changes what decodes, only how deep and how much is
//! reserved in advance: a value within the limit decodes to exactly what
//! postcard alone gives (the tests hold it to that).

use core::cell::Cell;
use core::fmt;

use serde::de::{self, DeserializeSeed};

/// The deepest nesting a record may have: levels of struct, tuple, tuple
/// struct, sequence, map, enum, option and newtype struct, counted from the
/// record itself (a plain struct of integers is 1 level; `Vec<Vec<u8>>` is
/// 2; `Option<Box<T>>` is 1 plus `T`'s). Deep enough for any record a
/// server keeps (serde_json's default limit is the same number), and
/// shallow enough that the recursion it allows fits in a 2 MiB thread stack
/// with room to spare, even in a debug build.
pub const MAX_DEPTH: u32 = 128;

/// What one decode shares across its levels: whether the limit was hit (so
/// the caller can name it: postcard keeps no message for a custom error),
/// and the size-hint ration.
pub(crate) struct Limits {
    too_deep: Cell<bool>,
    /// How many more elements collections may be told to expect, in total.
    /// Starts at the input's length: each element of a collection takes at
    /// least one byte, except zero-sized ones, for which serde reserves
    /// nothing. A hint that does not fit is withheld; the collection then
    /// grows as its elements arrive, so the answer never changes, only
    /// where the memory is found.
    hints_left: Cell<usize>,
}

impl Limits {
    /// Fresh limits for decoding from `input_len` bytes.
    pub(crate) fn new(input_len: usize) -> Self {
        Self {
            too_deep: Cell::new(false),
            hints_left: Cell::new(input_len),
        }
    }

    /// Whether a decode under these limits went past [`MAX_DEPTH`].
    pub(crate) fn too_deep(&self) -> bool {
        self.too_deep.get()
    }

    /// The error for a value past the limit, noted as such. Out of line
    /// and cold: the check that leads here is on every nested value's
    /// path, and the refusal's code kept in it would keep the compiler from
    /// inlining that path into the record types' own decoders.
    #[cold]
    #[inline(never)]
    fn refuse<E: de::Error>(&self) -> E {
        self.too_deep.set(true);
        E::custom("nested too deep")
    }

    /// Passes a collection's size hint on if the ration still covers it.
    #[inline]
    fn ration(&self, hint: Option<usize>) -> Option<usize> {
        let hint = hint?;
        let left = self.hints_left.get();
        let rest = left.checked_sub(hint)?;
        self.hints_left.set(rest);
        Some(hint)
    }
}

/// Where a value is: how many counted levels enclose it, and the limits of
/// the decode. Carried by value down the wrappers, so that going a level
/// deeper is an addition in a register, and coming back up costs nothing.
#[derive(Clone, Copy)]
struct Level<'s> {
    depth: u32,
    limits: &'s Limits,
}

impl<'s> Level<'s> {
    /// The level of a value's parts, or a refusal if that is past the limit.
    #[inline]
    fn deeper<E: de::Error>(self) -> Result<Level<'s>, E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.limits.refuse());
        }
        Ok(Level {
            depth: self.depth + 1,
            limits: self.limits,
        })
    }
}

/// A deserializer that counts nesting: wraps `inner` under `limits`.
pub(crate) struct Deserializer<'s, D> {
    inner: D,
    level: Level<'s>,
}

impl<'s, D> Deserializer<'s, D> {
    /// `inner`, at the top level, counted against `limits`.
    pub(crate) fn new(inner: D, limits: &'s Limits) -> Self {
        Self::at(inner, Level { depth: 0, limits })
    }

    /// `inner`, for a value at `level`.
    #[inline]
    fn at(inner: D, level: Level<'s>) -> Self {
        Self { inner, level }
    }
}

/// The same wrapper around the visitors, seeds and accesses serde hands
/// down, so that every nested value is decoded through a counting
/// deserializer too, at its level.
struct Wrap<'s, T> {
    inner: T,
    level: Level<'s>,
}

impl<'s, T> Wrap<'s, T> {
    #[inline]
    fn new(inner: T, level: Level<'s>) -> Self {
        Self { inner, level }
    }
}

/// Methods that decode a value with no parts: passed straight on, visitor
/// and all. The inner deserializer is always postcard's (the one
/// [`take_from_bytes`] starts, or one postcard hands to a seed), and its leaf
/// methods give the visitor a value, never a deserializer or an access to
/// decode something nested with: nothing can get past the count here, and
/// not wrapping the visitor keeps the commonest calls (every integer and
/// string of every record) exactly as fast as postcard alone.
macro_rules! leaf {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {$(
        #[inline]
        fn $method<V: de::Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method($($arg,)* visitor)
        }
    )*};
}

/// Methods that decode a value with parts: its parts are one level deeper.
macro_rules! nested {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {$(
        #[inline]
        fn $method<V: de::Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            let parts = self.level.deeper()?;
            self.inner.$method($($arg,)* Wrap::new(visitor, parts))
        }
    )*};
}

impl<'de, D: de::Deserializer<'de>> de::Deserializer<'de> for Deserializer<'_, D> {
    type Error = D::Error;

    leaf! {
        deserialize_bool() deserialize_i8() deserialize_i16() deserialize_i32()
        deserialize_i64() deserialize_i128() deserialize_u8() deserialize_u16()
        deserialize_u32() deserialize_u64() deserialize_u128() deserialize_f32()
        deserialize_f64() deserialize_char() deserialize_str() deserialize_string()
        deserialize_bytes() deserialize_byte_buf() deserialize_unit()
        deserialize_unit_struct(name: &'static str) deserialize_identifier()
    }

    nested! {
        deserialize_any() deserialize_ignored_any() deserialize_option()
        deserialize_newtype_struct(name: &'static str) deserialize_seq()
        deserialize_tuple(len: usize) deserialize_tuple_struct(name: &'static str, len: usize)
        deserialize_map() deserialize_struct(name: &'static str, fields: &'static [&'static str])
        deserialize_enum(name: &'static str, variants: &'static [&'static str])
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Visitor methods that receive a finished value: passed straight on.
macro_rules! visit_value {
    ($($method:ident($ty:ty))*) => {$(
        #[inline]
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: de::Visitor<'de>> de::Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit_value! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_str(&str) visit_borrowed_str(&'de str) visit_string(String)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    #[inline]
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Deserializer::at(d, self.level))
    }

    #[inline]
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner
            .visit_newtype_struct(Deserializer::at(d, self.level))
    }

    #[inline]
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Wrap::new(seq, self.level))
    }

    #[inline]
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Wrap::new(map, self.level))
    }

    #[inline]
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(Wrap::new(data, self.level))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<'_, S> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.deserialize(Deserializer::at(d, self.level))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Wrap::new(seed, self.level))
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.level.limits.ration(self.inner.size_hint())
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Wrap::new(seed, self.level))
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(Wrap::new(seed, self.level))
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.level.limits.ration(self.inner.size_hint())
    }
}

impl<'de, 's, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Wrap<'s, A> {
    type Error = A::Error;
    type Variant = Wrap<'s, A::Variant>;

    #[inline]
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        let level = self.level;
        let (value, variant) = self.inner.variant_seed(Wrap::new(seed, level))?;
        Ok((value, Wrap::new(variant, level)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    #[inline]
    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    #[inline]
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(Wrap::new(seed, self.level))
    }

    // A tuple or struct variant's fields are one level below the enum, like
    // a struct's; the enum was counted, the fields' own parts will be.
    #[inline]
    fn tuple_variant<V: de::Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .tuple_variant(len, Wrap::new(visitor, self.level))
    }

    #[inline]
    fn struct_variant<V: de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, Wrap::new(visitor, self.level))
    }
}

/// Decodes one `T` from the front of `input` with postcard, nesting at most
/// [`MAX_DEPTH`] levels. Returns the value and the bytes after it, or
/// postcard's error and whether it was the depth limit that refused.
pub(crate) fn take_from_bytes<'a, T: de::Deserialize<'a>>(
    input: &'a [u8],
) -> Result<(T, &'a [u8]), (postcard::Error, bool)> {
    let limits = Limits::new(input.len());
    let mut postcard = postcard::Deserializer::from_bytes(input);
    let value = T::deserialize(Deserializer::new(&mut postcard, &limits))
        .map_err(|e| (e, limits.too_deep()))?;
    let rest = postcard.finalize().map_err(|e| (e, false))?;
    Ok((value, rest))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    use super::*;

    /// Nested through an enum's newtype variant: one level per node.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Tree {
        Leaf,
        Node(Box<Tree>),
    }

    impl Tree {
        fn deep(levels: u32) -> Tree {
            (1..levels).fold(Tree::Leaf, |t, _| Tree::Node(Box::new(t)))
        }
    }

    /// Nested through a struct and a sequence: two levels per node.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Node {
        children: Vec<Node>,
    }

    /// Nested through a struct and an option: two levels per node.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct List {
        next: Option<Box<List>>,
    }

    /// A tuple variant, a struct variant, a map, a newtype, borrowed and
    /// owned strings, bytes, every integer width: what must pass through
    /// unchanged.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Mixed<'a> {
        Unit,
        Pair(u8, i128),
        Fields {
            name: String,
            #[serde(borrow)]
            borrowed: &'a str,
            bytes: Vec<u8>,
        },
        Map(BTreeMap<u32, (Option<u64>, Wrapper)>),
        Floats(f32, f64, char, bool, u128, i8, i16, i32, i64, u16),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wrapper(u64);

    fn take<'a, T: Deserialize<'a>>(
        bytes: &'a [u8],
    ) -> Result<(T, usize), (postcard::Error, bool)> {
        take_from_bytes::<T>(bytes).map(|(v, rest)| (v, rest.len()))
    }

    #[test]
    fn a_tree_at_the_limit_decodes_and_one_level_more_is_refused() {
        let at_limit = postcard::to_allocvec(&Tree::deep(MAX_DEPTH)).unwrap();
        let (tree, rest) = take::<Tree>(&at_limit).expect("128 levels decode");
        assert_eq!((rest, tree == Tree::deep(MAX_DEPTH)), (0, true));
        let over = postcard::to_allocvec(&Tree::deep(MAX_DEPTH + 1)).unwrap();
        assert_eq!(
            take::<Tree>(&over).map(|_| ()),
            Err((postcard::Error::SerdeDeCustom, true))
        );
        // postcard alone accepts it: the limit is this module's.
        assert!(postcard::from_bytes::<Tree>(&over).is_ok());
    }

    #[test]
    fn structs_sequences_and_options_count_a_level_each() {
        // Node: struct + Vec per level. 64 nodes = 128 levels.
        let node = |levels: usize| {
            (1..levels).fold(Node { children: vec![] }, |n, _| Node { children: vec![n] })
        };
        let ok = postcard::to_allocvec(&node(64)).unwrap();
        assert!(take::<Node>(&ok).is_ok());
        let over = postcard::to_allocvec(&node(65)).unwrap();
        assert!(
            take::<Node>(&over).map(|_| ()).unwrap_err().1,
            "refused for depth"
        );

        let list = |levels: usize| {
            (1..levels).fold(List { next: None }, |l, _| List {
                next: Some(Box::new(l)),
            })
        };
        let ok = postcard::to_allocvec(&list(64)).unwrap();
        assert!(take::<List>(&ok).is_ok());
        let over = postcard::to_allocvec(&list(65)).unwrap();
        assert!(
            take::<List>(&over).map(|_| ()).unwrap_err().1,
            "refused for depth"
        );
    }

    /// A million levels, as an attacker writes them: without the limit this
    /// overflows the test thread's stack and kills the test binary.
    #[test]
    fn a_million_levels_are_refused_without_recursing_into_them() {
        let mut bytes = vec![1u8; 1_000_000];
        bytes.push(0);
        assert_eq!(
            take::<Tree>(&bytes).map(|_| ()),
            Err((postcard::Error::SerdeDeCustom, true))
        );
        // Sequences of one element, each a struct: [1, 1, 1, ...].
        let bytes = vec![1u8; 1_000_000];
        assert!(
            take::<Node>(&bytes).map(|_| ()).unwrap_err().1,
            "refused for depth"
        );
    }

    #[test]
    fn other_errors_are_not_called_too_deep() {
        assert_eq!(
            take::<Tree>(&[1, 1, 1]).map(|_| ()),
            Err((postcard::Error::DeserializeUnexpectedEnd, false))
        );
        assert_eq!(
            take::<Tree>(&[7]).map(|_| ()),
            Err((postcard::Error::SerdeDeCustom, false))
        );
    }

    #[test]
    fn the_level_count_comes_back_up_after_each_part() {
        // Many shallow siblings: the depth is restored after each, so a
        // wide value is never mistaken for a deep one.
        let wide = Node {
            children: (0..1000).map(|_| Node { children: vec![] }).collect(),
        };
        let bytes = postcard::to_allocvec(&wide).unwrap();
        assert_eq!(take::<Node>(&bytes).unwrap().0, wide);
        let list: Vec<Tree> = (0..4).map(|_| Tree::deep(MAX_DEPTH - 1)).collect();
        let bytes = postcard::to_allocvec(&list).unwrap();
        assert_eq!(take::<Vec<Tree>>(&bytes).unwrap().0.len(), 4);
    }

    #[test]
    fn size_hints_are_rationed_to_the_input() {
        let limits = Limits::new(10);
        assert_eq!(limits.ration(Some(4)), Some(4));
        assert_eq!(limits.ration(Some(7)), None, "4 + 7 > 10");
        assert_eq!(limits.ration(Some(6)), Some(6));
        assert_eq!(limits.ration(Some(1)), None);
        assert_eq!(limits.ration(Some(0)), Some(0));
        assert_eq!(limits.ration(None), None);
    }

    /// What a collection is told to expect; its elements are left unread.
    struct Seen;

    impl<'de> de::Visitor<'de> for Seen {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a collection")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, a: A) -> Result<Option<usize>, A::Error> {
            Ok(a.size_hint())
        }
        fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<Option<usize>, A::Error> {
            Ok(a.size_hint())
        }
    }

    #[derive(Debug, PartialEq)]
    struct SeqHint(Option<usize>);

    impl<'de> Deserialize<'de> for SeqHint {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_seq(Seen).map(SeqHint)
        }
    }

    #[derive(Debug, PartialEq)]
    struct MapHint(Option<usize>);

    impl<'de> Deserialize<'de> for MapHint {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(Seen).map(MapHint)
        }
    }

    /// Two sequences of 5 in 8 bytes: postcard hints 5 for each (5 bytes
    /// are left each time, as the spy reads no elements); the ration lets
    /// only one of them reserve.
    #[test]
    fn sequences_share_one_ration_of_hints() {
        let bytes = [5, 5, 0, 0, 0, 0, 0, 0];
        let theirs = postcard::take_from_bytes::<(SeqHint, SeqHint)>(&bytes)
            .unwrap()
            .0;
        assert_eq!(theirs, (SeqHint(Some(5)), SeqHint(Some(5))));
        let ours = take::<(SeqHint, SeqHint)>(&bytes).unwrap().0;
        assert_eq!(ours, (SeqHint(Some(5)), SeqHint(None)));
    }

    /// A map that declares 2^32 - 1 entries in 7 bytes: postcard hints the
    /// declared count for a map whatever is left, and serde's `HashMap`
    /// would reserve up to 1 MiB of entries on it. The ration withholds it.
    #[test]
    fn a_map_declaring_more_than_the_bytes_hold_gets_no_hint() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2];
        let theirs = postcard::take_from_bytes::<MapHint>(&bytes).unwrap().0;
        assert_eq!(theirs, MapHint(Some(u32::MAX as usize)));
        assert_eq!(take::<MapHint>(&bytes).unwrap().0, MapHint(None));
        let ok = [2, 1, 2, 3, 4];
        assert_eq!(take::<MapHint>(&ok).unwrap().0, MapHint(Some(2)));
    }

    fn mixed() -> impl Strategy<Value = Vec<u8>> {
        let map = proptest::collection::btree_map(
            any::<u32>(),
            (proptest::option::of(any::<u64>()), any::<u64>()),
            0..4,
        );
        prop_oneof![
            Just(postcard::to_allocvec(&Mixed::Unit).unwrap()),
            (any::<u8>(), any::<i128>())
                .prop_map(|(a, b)| postcard::to_allocvec(&Mixed::Pair(a, b)).unwrap()),
            (
                ".{0,8}",
                ".{0,8}",
                proptest::collection::vec(any::<u8>(), 0..8)
            )
                .prop_map(|(name, borrowed, bytes)| postcard::to_allocvec(
                    &Mixed::Fields {
                        name,
                        borrowed: &borrowed,
                        bytes,
                    }
                )
                .unwrap()),
            map.prop_map(|m| {
                let m = m
                    .into_iter()
                    .map(|(k, (a, b))| (k, (a, Wrapper(b))))
                    .collect();
                postcard::to_allocvec(&Mixed::Map(m)).unwrap()
            }),
            (
                any::<f32>(),
                any::<f64>(),
                any::<char>(),
                any::<bool>(),
                any::<u128>()
            )
                .prop_map(|(a, b, c, d, e)| postcard::to_allocvec(&Mixed::Floats(
                    a, b, c, d, e, -1, -2, -3, -4, 5
                ))
                .unwrap()),
        ]
    }

    proptest! {
        /// Within the limit, the wrapper decodes exactly what postcard
        /// alone decodes, and refuses exactly what it refuses, with the
        /// same error and the same bytes left.
        #[test]
        fn within_the_limit_the_answer_is_postcards(
            bytes in mixed(),
            edit in proptest::option::of((any::<usize>(), any::<u8>())),
        ) {
            let mut bytes = bytes;
            if let Some((at, b)) = edit && !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = b;
            }
            let ours = take_from_bytes::<Mixed<'_>>(&bytes).map_err(|(e, deep)| {
                assert!(!deep);
                e
            });
            let theirs = postcard::take_from_bytes::<Mixed<'_>>(&bytes);
            // Compared as text: a NaN float is not equal to itself.
            prop_assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        }
    }
}
