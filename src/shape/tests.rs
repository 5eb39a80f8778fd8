//! Tests of the shape fingerprint: what it tells apart, what it must not,
//! its encoding and decoder, and what tracing cannot do.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::model::{Field, MAX_DEPTH, MAX_NODES, Node, Payload, Prim, Variant};
use super::{
    Fingerprint, Shape, ShapeDecodeError, ShapeError, ShapeErrorKind, cached_shape_of,
    first_difference, shape_of,
};
use crate::PlayerId;

fn shape<T: Serialize + DeserializeOwned>() -> Shape {
    shape_of::<T>().unwrap_or_else(|e| panic!("{e}"))
}

fn diff<A, B>() -> Option<String>
where
    A: Serialize + DeserializeOwned,
    B: Serialize + DeserializeOwned,
{
    first_difference(&shape::<A>(), &shape::<B>())
}

fn error<T: Serialize + DeserializeOwned>() -> ShapeError {
    match shape_of::<T>() {
        Ok(shape) => panic!("expected an error, traced {shape}"),
        Err(e) => e,
    }
}

/// The record of issue 13's table, and each change in it.
mod v1 {
    use super::*;
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) gold: u32,
        pub(super) xp: u32,
        pub(super) rank: Rank,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub(super) enum Rank {
        Recruit,
        Veteran,
    }
}

mod swapped {
    use super::*;
    #[derive(Debug, Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) xp: u32,
        pub(super) gold: u32,
        pub(super) rank: v1::Rank,
    }
}

mod renamed {
    use super::*;
    #[derive(Debug, Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) coins: u32,
        pub(super) xp: u32,
        pub(super) rank: v1::Rank,
    }
}

mod widened {
    use super::*;
    #[derive(Debug, Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) gold: u64,
        pub(super) xp: u32,
        pub(super) rank: v1::Rank,
    }
}

mod reordered {
    use super::*;
    #[derive(Debug, Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) gold: u32,
        pub(super) xp: u32,
        pub(super) rank: Rank,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub(super) enum Rank {
        Veteran,
        Recruit,
    }
}

mod signed {
    use super::*;
    #[derive(Debug, Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) gold: i32,
        pub(super) xp: u32,
        pub(super) rank: v1::Rank,
    }
}

fn saved_v1() -> Vec<u8> {
    let player = v1::Player {
        id: PlayerId(1),
        gold: 500,
        xp: 7,
        rank: v1::Rank::Recruit,
    };
    postcard::to_allocvec(&player).expect("encodes")
}

#[test]
fn the_five_changes_of_issue_13_each_change_the_fingerprint_and_are_named() {
    let old = shape::<v1::Player>();
    let bytes = saved_v1();
    let cases: [(&str, Shape, String); 5] = [
        (
            "swapped fields",
            shape::<swapped::Player>(),
            format!("{:?}", postcard::from_bytes::<swapped::Player>(&bytes)),
        ),
        (
            "renamed field",
            shape::<renamed::Player>(),
            format!("{:?}", postcard::from_bytes::<renamed::Player>(&bytes)),
        ),
        (
            "u32 to u64",
            shape::<widened::Player>(),
            format!("{:?}", postcard::from_bytes::<widened::Player>(&bytes)),
        ),
        (
            "reordered variants",
            shape::<reordered::Player>(),
            format!("{:?}", postcard::from_bytes::<reordered::Player>(&bytes)),
        ),
        (
            "u32 to i32",
            shape::<signed::Player>(),
            format!("{:?}", postcard::from_bytes::<signed::Player>(&bytes)),
        ),
    ];
    let expected = [
        "Player: field 1 was `gold: u32`, now `xp: u32`",
        "Player: field `gold` renamed or replaced by `coins`",
        "Player.gold: was u32, now u64",
        "Player.rank (Rank): variant 0 was `Recruit`, now `Veteran`",
        "Player.gold: was u32, now i32",
    ];
    for ((what, new, misread), expected) in cases.iter().zip(expected) {
        // What the fingerprint is for: postcard alone reads the old bytes
        // under every one of these types, and gets wrong values.
        assert!(misread.starts_with("Ok("), "{what}: {misread}");
        assert_ne!(old.fingerprint(), new.fingerprint(), "{what}");
        assert_eq!(
            first_difference(&old, new).as_deref(),
            Some(expected),
            "{what}"
        );
    }
    // The table's rows, as postcard misreads them.
    assert!(cases[0].2.contains("xp: 500, gold: 7"), "{}", cases[0].2);
    assert!(cases[3].2.contains("rank: Veteran"), "{}", cases[3].2);
    assert!(cases[4].2.contains("gold: 250"), "{}", cases[4].2);
    // And the differences are told the other way round too.
    assert_eq!(
        first_difference(&shape::<widened::Player>(), &old).as_deref(),
        Some("Player.gold: was u64, now u32")
    );
}

#[test]
fn the_shape_of_the_issue_record_reads_like_the_type() {
    assert_eq!(
        shape::<v1::Player>().to_string(),
        "Player { id: u64, gold: u32, xp: u32, rank: enum Rank { Recruit, Veteran } }"
    );
}

mod added {
    use super::*;
    #[derive(Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) gold: u32,
        pub(super) xp: u32,
        pub(super) rank: v1::Rank,
        pub(super) bonus: u8,
    }
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub(super) struct Inserted {
        pub(super) id: PlayerId,
        pub(super) bonus: u8,
        pub(super) gold: u32,
        pub(super) xp: u32,
        pub(super) rank: v1::Rank,
    }
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub(super) struct NewVariant {
        pub(super) id: PlayerId,
        pub(super) gold: u32,
        pub(super) xp: u32,
        pub(super) rank: Rank,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) enum Rank {
        Recruit,
        Veteran,
        General,
    }
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub(super) struct Optional {
        pub(super) id: PlayerId,
        pub(super) gold: Option<u32>,
        pub(super) xp: u32,
        pub(super) rank: v1::Rank,
    }
}

#[test]
fn adding_a_field_or_a_variant_changes_the_fingerprint() {
    let old = shape::<v1::Player>();
    for new in [
        shape::<added::Player>(),
        shape::<added::Inserted>(),
        shape::<added::NewVariant>(),
        shape::<added::Optional>(),
    ] {
        assert_ne!(old.fingerprint(), new.fingerprint(), "{new}");
    }
    assert_eq!(
        diff::<v1::Player, added::Player>().as_deref(),
        Some("Player: field 4 `bonus: u8` added")
    );
    assert_eq!(
        diff::<added::Player, v1::Player>().as_deref(),
        Some("Player: field 4 `bonus: u8` removed")
    );
    assert_eq!(
        diff::<v1::Player, added::Inserted>().as_deref(),
        Some("Player: field 1 `bonus: u8` added")
    );
    assert_eq!(
        diff::<added::Inserted, v1::Player>().as_deref(),
        Some("Player: field 1 `bonus: u8` removed")
    );
    assert_eq!(
        diff::<v1::Player, added::NewVariant>().as_deref(),
        Some("Player.rank (Rank): variant 2 `General` added")
    );
    assert_eq!(
        diff::<v1::Player, added::Optional>().as_deref(),
        Some("Player.gold: was u32, now Option<u32>")
    );
}

mod sequences {
    use super::*;
    #[derive(Serialize, Deserialize)]
    pub(super) struct Vector {
        pub(super) v: Vec<u32>,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Array {
        pub(super) v: [u32; 3],
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Tuple {
        pub(super) v: (u32, u32, u32),
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Longer {
        pub(super) v: [u32; 4],
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Set {
        pub(super) v: std::collections::BTreeSet<u32>,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Map {
        pub(super) v: std::collections::HashMap<u32, String>,
    }
}

#[test]
fn sequences_arrays_tuples_and_maps() {
    use sequences::*;
    assert_eq!(shape::<Vector>().to_string(), "Vector { v: [u32] }");
    assert_eq!(shape::<Array>().to_string(), "Array { v: (u32, u32, u32) }");
    assert_eq!(shape::<Map>().to_string(), "Map { v: {u32: str} }");
    assert_eq!(
        diff::<Vector, Array>().as_deref(),
        Some("Array.v: was [u32], now (u32, u32, u32)")
    );
    assert_eq!(
        diff::<Array, Longer>().as_deref(),
        Some("Longer.v: was (u32, u32, u32), now (u32, u32, u32, u32)")
    );
    // postcard writes an array and a tuple of the same items identically,
    // and a `Vec` and a set identically: serde's data model does not tell
    // them apart, and neither does the fingerprint.
    assert_eq!(
        shape::<Array>().fingerprint(),
        shape::<Tuple>().fingerprint()
    );
    assert_eq!(diff::<Array, Tuple>(), None);
    assert_eq!(
        shape::<Vector>().fingerprint(),
        shape::<Set>().fingerprint()
    );
    assert_eq!(
        diff::<Vector, Map>().as_deref(),
        Some("Map.v: was [u32], now {u32: str}")
    );
}

mod recursive {
    use super::*;
    #[derive(Serialize, Deserialize)]
    pub(super) struct List {
        pub(super) value: u32,
        pub(super) next: Option<Box<List>>,
    }
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "List")]
    pub(super) struct WideList {
        pub(super) value: u64,
        pub(super) next: Option<Box<WideList>>,
    }
    /// The first variant recurses: `serde-reflection` would not terminate.
    #[derive(Serialize, Deserialize)]
    pub(super) enum Expr {
        Add(Box<Expr>, Box<Expr>),
        Neg(Box<Expr>),
        Lit(i64),
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Tree {
        pub(super) label: String,
        pub(super) children: Vec<Tree>,
    }
    /// Two types through each other, both recursing first.
    #[derive(Serialize, Deserialize)]
    pub(super) enum Outer {
        Wrap(Box<Inner>),
        Stop,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) enum Inner {
        Back(Box<Outer>),
        Leaf(u8),
    }
    /// Recursion below the root, in a map's value.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Bag {
        pub(super) name: String,
        pub(super) slots: std::collections::BTreeMap<u8, Item>,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Item {
        pub(super) template: u32,
        pub(super) contents: Option<Box<Bag>>,
    }
}

#[test]
fn recursive_types_terminate_with_a_back_reference() {
    use recursive::*;
    assert_eq!(
        shape::<List>().to_string(),
        "List { value: u32, next: Option<^List> }"
    );
    assert_eq!(
        shape::<Expr>().to_string(),
        "enum Expr { Add(^Expr, ^Expr), Neg(^Expr), Lit(i64) }"
    );
    assert_eq!(
        shape::<Tree>().to_string(),
        "Tree { label: str, children: [^Tree] }"
    );
    assert_eq!(
        shape::<Outer>().to_string(),
        "enum Outer { Wrap(enum Inner { Back(^Outer), Leaf(u8) }), Stop }"
    );
    assert_eq!(
        shape::<Bag>().to_string(),
        "Bag { name: str, slots: {u8: Item { template: u32, contents: Option<^Bag> }} }"
    );
    // The back-reference is a count of levels: four up from `^Bag`
    // (the option, `Item`, the map, `Bag`) is the root.
    let Node::Struct { fields, .. } = shape::<Bag>().root().clone() else {
        panic!("Bag is a struct")
    };
    let Node::Map { value, .. } = &fields[1].shape else {
        panic!("slots is a map")
    };
    let Node::Struct { fields, .. } = &**value else {
        panic!("Item is a struct")
    };
    assert_eq!(
        fields[1].shape,
        Node::Option(Box::new(Node::Recursive { up: 4 }))
    );
    assert_eq!(
        diff::<List, WideList>().as_deref(),
        Some("List.value: was u32, now u64")
    );
}

mod skipping {
    use super::*;
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Plain")]
    pub(super) struct Defaulted {
        pub(super) a: u32,
        #[serde(default)]
        pub(super) b: u32,
    }
    mod as_text {
        use super::*;
        pub(crate) fn serialize<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(v)
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
            let text = String::deserialize(d)?;
            text.parse().map_err(serde::de::Error::custom)
        }
    }
    /// A `with` module on both sides: the shape is the calls it makes.
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Plain")]
    pub(super) struct AsText {
        pub(super) a: u32,
        #[serde(with = "as_text")]
        pub(super) b: u32,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Cached {
        pub(super) a: u32,
        #[serde(skip)]
        pub(super) cache: Vec<u8>,
        pub(super) b: u32,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Plain {
        pub(super) a: u32,
        pub(super) b: u32,
    }
}

#[test]
fn a_skipped_field_is_not_in_the_shape() {
    assert_eq!(
        shape::<skipping::Cached>().to_string(),
        "Cached { a: u32, b: u32 }"
    );
    assert_eq!(diff::<skipping::Cached, skipping::Plain>(), None);
    // Right, because the field is not in the bytes either.
    let cached = skipping::Cached {
        a: 1,
        cache: vec![9],
        b: 2,
    };
    let plain = skipping::Plain { a: 1, b: 2 };
    assert_eq!(
        postcard::to_allocvec(&cached).ok(),
        postcard::to_allocvec(&plain).ok()
    );
    assert_eq!(cached.cache, [9]);
}

#[test]
fn defaults_are_invisible_and_with_modules_are_their_calls() {
    // postcard always writes every field, so `#[serde(default)]` is never
    // used on its bytes, and is rightly not in the shape.
    assert_eq!(diff::<skipping::Plain, skipping::Defaulted>(), None);
    // A `with` module's calls are the shape: here text, where `u32` was.
    assert_eq!(
        diff::<skipping::Plain, skipping::AsText>().as_deref(),
        Some("Plain.b: was u32, now str")
    );
}

mod generic {
    use super::*;
    #[derive(Serialize, Deserialize)]
    pub(super) struct Capped<T> {
        pub(super) value: T,
        pub(super) max: T,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Stats {
        pub(super) health: Capped<u32>,
        pub(super) name: Capped<String>,
        pub(super) mana: Capped<u16>,
    }
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Stats")]
    pub(super) struct Wider {
        pub(super) health: Capped<u64>,
        pub(super) name: Capped<String>,
        pub(super) mana: Capped<u16>,
    }
    pub(super) mod player {
        use super::*;
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Stats {
            pub(crate) strength: u16,
        }
    }
    pub(super) mod npc {
        use super::*;
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Stats {
            pub(crate) aggro: f32,
        }
    }
    /// Two different types of one serde name in one record.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Both {
        pub(super) player: player::Stats,
        pub(super) npc: npc::Stats,
    }
}

#[test]
fn generic_types_and_same_named_types_are_told_apart() {
    use generic::*;
    assert_eq!(
        shape::<Stats>().to_string(),
        "Stats { health: Capped { value: u32, max: u32 }, name: Capped { value: str, max: str }, \
         mana: Capped { value: u16, max: u16 } }"
    );
    assert_eq!(
        diff::<Stats, Wider>().as_deref(),
        Some("Stats.health.value: was u32, now u64")
    );
    assert_ne!(
        shape::<Capped<u32>>().fingerprint(),
        shape::<Capped<i32>>().fingerprint()
    );
    assert_eq!(
        shape::<Both>().to_string(),
        "Both { player: Stats { strength: u16 }, npc: Stats { aggro: f32 } }"
    );
}

mod elsewhere {
    use super::*;
    #[derive(Serialize, Deserialize)]
    pub(super) struct Player {
        pub(super) id: PlayerId,
        pub(super) gold: u32,
        pub(super) xp: u32,
        pub(super) rank: Rank,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) enum Rank {
        Recruit,
        Veteran,
    }
    /// The same record, its Rust types renamed.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Hero {
        pub(super) id: PlayerId,
        pub(super) gold: u32,
        pub(super) xp: u32,
        pub(super) rank: Grade,
    }
    #[derive(Serialize, Deserialize)]
    pub(super) enum Grade {
        Recruit,
        Veteran,
    }
    /// Renamed in Rust, with the old serde name kept.
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Player")]
    pub(super) struct Kept {
        pub(super) id: PlayerId,
        #[serde(rename = "gold")]
        pub(super) coins: u32,
        pub(super) xp: u32,
        pub(super) rank: Rank,
    }
}

#[test]
fn identical_types_in_different_modules_have_the_same_shape() {
    assert_eq!(shape::<elsewhere::Player>(), shape::<v1::Player>());
    assert_eq!(
        shape::<elsewhere::Player>().to_bytes(),
        shape::<v1::Player>().to_bytes()
    );
    // serde names are what counts: a Rust rename under `#[serde(rename)]`
    // is no change at all.
    assert_eq!(shape::<elsewhere::Kept>(), shape::<v1::Player>());
}

#[test]
fn renaming_a_rust_type_keeps_the_fingerprint_but_not_the_names() {
    let old = shape::<v1::Player>();
    let new = shape::<elsewhere::Hero>();
    assert_eq!(old.fingerprint(), new.fingerprint());
    assert_eq!(first_difference(&old, &new), None);
    assert_ne!(old, new, "the names are carried, to explain differences");
    assert_eq!(old.without_names(), new.without_names());
    assert_eq!(
        new.to_string(),
        "Hero { id: u64, gold: u32, xp: u32, rank: enum Grade { Recruit, Veteran } }"
    );
}

/// A type that exercises every kind of node.
mod every {
    use super::*;
    #[derive(Serialize, Deserialize)]
    pub(super) struct Marker;
    #[derive(Serialize, Deserialize)]
    pub(super) struct Gold(pub(super) u32);
    #[derive(Serialize, Deserialize)]
    pub(super) struct Pair(pub(super) i8, pub(super) i16);
    /// serde's `bytes`, without a `serde_bytes` dependency.
    pub(super) struct Blob(pub(super) Vec<u8>);
    impl Serialize for Blob {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
    impl<'de> Deserialize<'de> for Blob {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Blob;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Blob, E> {
                    Ok(Blob(v.to_vec()))
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Blob, E> {
                    Ok(Blob(v))
                }
            }
            d.deserialize_byte_buf(V)
        }
    }
    #[derive(Serialize, Deserialize)]
    pub(super) enum Kinds {
        Unit,
        Newtype(u64),
        Tuple(f32, f64),
        Struct { flag: bool, letter: char },
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Every {
        pub(super) b: bool,
        pub(super) wide: (i32, i64, i128),
        pub(super) unsigned: (u8, u16, u32, u64, u128),
        pub(super) text: String,
        pub(super) blob: Blob,
        pub(super) unit: (),
        pub(super) marker: Marker,
        pub(super) gold: Gold,
        pub(super) pair: Pair,
        pub(super) kinds: Kinds,
        pub(super) maybe: Option<Vec<Option<u8>>>,
        pub(super) map: std::collections::BTreeMap<String, Kinds>,
        pub(super) phantom: core::marker::PhantomData<u8>,
        pub(super) empty: [u8; 0],
    }
}

#[test]
fn every_kind_of_node_is_traced_and_rendered() {
    assert_eq!(
        shape::<every::Every>().to_string(),
        "Every { b: bool, wide: (i32, i64, i128), unsigned: (u8, u16, u32, u64, u128), \
         text: str, blob: bytes, unit: (), marker: Marker, gold: Gold(u32), pair: Pair(i8, i16), \
         kinds: enum Kinds { Unit, Newtype(u64), Tuple(f32, f64), \
         Struct { flag: bool, letter: char } }, maybe: Option<[Option<u8>]>, \
         map: {str: enum Kinds { Unit, Newtype(u64), Tuple(f32, f64), Struct { flag: bool, letter: char } }}, \
         phantom: PhantomData, empty: tuple() }"
    );
    let s = shape::<every::Every>();
    assert_eq!(Shape::from_bytes(&s.to_bytes()), Ok(s.clone()));
    assert_eq!(
        s.without_names().to_string().get(..16),
        Some("struct { b: bool")
    );
}

/// One record and a change in each of its parts, for paths in differences.
mod paths {
    use super::*;
    pub(crate) mod a {
        use super::*;
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Item {
            pub(crate) durability: Option<u16>,
            pub(crate) progress: Vec<u32>,
            pub(crate) slots: std::collections::BTreeMap<u8, String>,
            pub(crate) range: (u16, u16),
            pub(crate) kind: Kind,
            pub(crate) gold: Gold,
        }
        #[derive(Serialize, Deserialize)]
        pub(crate) enum Kind {
            Plain,
            Sword { damage: u16 },
            Bag(u8, u8),
        }
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Gold(pub(crate) u32);
    }
    pub(crate) mod b {
        use super::*;
        macro_rules! item {
            ($durability:ty, $progress:ty, $key:ty, $value:ty, $range:ty, $kind:ty, $gold:ty) => {
                #[derive(Serialize, Deserialize)]
                pub(crate) struct Item {
                    pub(crate) durability: $durability,
                    pub(crate) progress: $progress,
                    pub(crate) slots: std::collections::BTreeMap<$key, $value>,
                    pub(crate) range: $range,
                    pub(crate) kind: $kind,
                    pub(crate) gold: $gold,
                }
            };
        }
        pub(crate) mod durability {
            use super::super::a::{Gold, Kind};
            use super::*;
            item!(Option<u32>, Vec<u32>, u8, String, (u16, u16), Kind, Gold);
        }
        pub(crate) mod progress {
            use super::super::a::{Gold, Kind};
            use super::*;
            item!(Option<u16>, Vec<i32>, u8, String, (u16, u16), Kind, Gold);
        }
        pub(crate) mod key {
            use super::super::a::{Gold, Kind};
            use super::*;
            item!(Option<u16>, Vec<u32>, u16, String, (u16, u16), Kind, Gold);
        }
        pub(crate) mod value {
            use super::super::a::{Gold, Kind};
            use super::*;
            item!(Option<u16>, Vec<u32>, u8, char, (u16, u16), Kind, Gold);
        }
        pub(crate) mod range {
            use super::super::a::{Gold, Kind};
            use super::*;
            item!(Option<u16>, Vec<u32>, u8, String, (u16, u32), Kind, Gold);
        }
        pub(crate) mod sword {
            use super::super::a::Gold;
            use super::*;
            #[derive(Serialize, Deserialize)]
            pub(crate) enum Kind {
                Plain,
                Sword { damage: u32 },
                Bag(u8, u8),
            }
            item!(Option<u16>, Vec<u32>, u8, String, (u16, u16), Kind, Gold);
        }
        pub(crate) mod plain {
            use super::super::a::Gold;
            use super::*;
            #[derive(Serialize, Deserialize)]
            pub(crate) enum Kind {
                Plain(u8),
                Sword { damage: u16 },
                Bag(u8, u8),
            }
            item!(Option<u16>, Vec<u32>, u8, String, (u16, u16), Kind, Gold);
        }
        pub(crate) mod bag {
            use super::super::a::Gold;
            use super::*;
            #[derive(Serialize, Deserialize)]
            pub(crate) enum Kind {
                Plain,
                Sword { damage: u16 },
                Pouch(u8, u8),
            }
            item!(Option<u16>, Vec<u32>, u8, String, (u16, u16), Kind, Gold);
        }
        pub(crate) mod gold {
            use super::super::a::Kind;
            use super::*;
            #[derive(Serialize, Deserialize)]
            pub(crate) struct Gold(pub(crate) u64);
            item!(Option<u16>, Vec<u32>, u8, String, (u16, u16), Kind, Gold);
        }
        pub(crate) mod field {
            use super::super::a::Gold;
            use super::*;
            #[derive(Serialize, Deserialize)]
            pub(crate) enum Kind {
                Plain,
                Sword { edge: u32 },
                Bag(u8, u8),
            }
            item!(Option<u16>, Vec<u32>, u8, String, (u16, u16), Kind, Gold);
        }
    }
}

#[test]
fn differences_have_paths_into_every_kind_of_node() {
    use paths::{a, b};
    let cases = [
        (
            diff::<a::Item, b::durability::Item>(),
            "Item.durability?: was u16, now u32",
        ),
        (
            diff::<a::Item, b::progress::Item>(),
            "Item.progress[]: was u32, now i32",
        ),
        (
            diff::<a::Item, b::key::Item>(),
            "Item.slots{key}: was u8, now u16",
        ),
        (
            diff::<a::Item, b::value::Item>(),
            "Item.slots{value}: was str, now char",
        ),
        (
            diff::<a::Item, b::range::Item>(),
            "Item.range.1: was u16, now u32",
        ),
        (
            diff::<a::Item, b::sword::Item>(),
            "Item.kind::Sword.damage: was u16, now u32",
        ),
        (
            diff::<a::Item, b::plain::Item>(),
            "Item.kind::Plain: was unit, now (u8)",
        ),
        (
            diff::<a::Item, b::bag::Item>(),
            "Item.kind (Kind): variant `Bag` renamed or replaced by `Pouch`",
        ),
        (
            diff::<a::Item, b::gold::Item>(),
            "Item.gold.0: was u32, now u64",
        ),
        (
            diff::<a::Item, b::field::Item>(),
            "Item.kind::Sword: field `damage: u16` renamed or replaced by `edge: u32`",
        ),
    ];
    for (found, expected) in cases {
        assert_eq!(found.as_deref(), Some(expected));
    }
}

/// The reference schema's shapes, pinned: a change of these types, or of
/// the shape encoding, changes them. CHANGING ANY OF THESE BREAKS EVERY
/// STORED BUNDLE of the reference schema (they will refuse to open): update
/// them only together with `Reference::VERSION` and a migration, or with a
/// new encoding version that still reads the old one.
#[cfg(feature = "reference")]
mod pinned {
    use super::*;
    use crate::reference::{Item, Npc, Player, Quest, Zone};

    pub(super) const PLAYER: &str = "Player { id: u64, name: str, level: u16, stats: Stats { strength: u16, agility: u16, \
         intellect: u16, stamina: u16 }, currency: u64, last_zone: u64, \
         last_position: Position { x: f32, y: f32, z: f32 } }";
    pub(super) const ZONE: &str = "Zone { id: u64, name: str, biome: enum Biome { Forest, Desert, \
         Tundra, Coast, Cavern, City }, level_range: (u16, u16) }";
    pub(super) const NPC: &str = "Npc { id: u64, template: u32, zone: u64, \
         position: Position { x: f32, y: f32, z: f32 }, health: u32, max_health: u32 }";
    pub(super) const ITEM: &str = "Item { id: u64, template: u32, stack: u16, \
         durability: Option<u16>, location: enum ItemLocation { Zone(u64), Player(u64), \
         Container(u64) }, owner: Option<u64> }";
    pub(super) const QUEST: &str = "Quest { id: u64, owner: u64, template: u32, stage: u16, \
         progress: [u32], zones: [u64] }";

    pub(super) const FINGERPRINTS: [&str; 5] = [
        // Player
        "18743dca31a768d26c55a80ec47e267e8669881d09629ec988fec0b757853234",
        // Zone
        "d27a4754ad85b1132012258117d99fb8bae4f8d74b53ccb9c83edef3907a398c",
        // Npc
        "dff93c895cb55fc57388aa0847eb7d7491690bdc5dc332728332fcc07a5a9c25",
        // Item
        "d587a7fa87f1c57e59b67d0454e66befee40f978e88a4b7dda2799680f1616bc",
        // Quest
        "9f02ed6faf33ea78bc2862614d5f99f9c5b7fd48928a940522468667a55a63b4",
    ];

    pub(super) fn shapes() -> [Shape; 5] {
        [
            shape::<Player>(),
            shape::<Zone>(),
            shape::<Npc>(),
            shape::<Item>(),
            shape::<Quest>(),
        ]
    }
}

#[cfg(feature = "reference")]
#[test]
fn the_reference_schema_has_its_pinned_shapes_and_fingerprints() {
    let shapes = pinned::shapes();
    let texts = [
        pinned::PLAYER,
        pinned::ZONE,
        pinned::NPC,
        pinned::ITEM,
        pinned::QUEST,
    ];
    for (shape, text) in shapes.iter().zip(texts) {
        assert_eq!(shape.to_string(), text);
    }
    let prints: Vec<Fingerprint> = shapes.iter().map(Shape::fingerprint).collect();
    let found: Vec<String> = prints.iter().map(ToString::to_string).collect();
    assert_eq!(prints[0].as_bytes().len(), 32);
    assert_eq!(found, pinned::FINGERPRINTS, "see the warning on `pinned`");
}

#[cfg(feature = "reference")]
#[test]
fn tracing_is_deterministic_and_cached() {
    use crate::reference::{Item, Player};
    let first = pinned::shapes();
    let second = pinned::shapes();
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.to_bytes(), b.to_bytes());
        assert_eq!(a.fingerprint(), b.fingerprint());
    }
    let cached = cached_shape_of::<Item>().expect("traces");
    assert!(core::ptr::eq(
        cached,
        cached_shape_of::<Item>().expect("traces")
    ));
    assert_eq!(cached, &first[3]);
    assert_ne!(cached, cached_shape_of::<Player>().expect("traces"));
    // Errors are kept too.
    let e = cached_shape_of::<untraceable::Untagged>().expect_err("refused");
    assert_eq!(cached_shape_of::<untraceable::Untagged>(), Err(e));
}

#[cfg(feature = "reference")]
#[test]
fn shapes_round_trip_through_their_bytes() {
    let mut shapes: Vec<Shape> = pinned::shapes().into();
    shapes.extend([
        shape::<every::Every>(),
        shape::<recursive::Bag>(),
        shape::<recursive::Expr>(),
        shape::<recursive::Outer>(),
        shape::<generic::Stats>(),
    ]);
    for s in shapes {
        let bytes = s.to_bytes();
        let back = Shape::from_bytes(&bytes).expect("decodes");
        assert_eq!(back, s);
        assert_eq!(back.fingerprint(), s.fingerprint());
        assert_eq!(back.to_bytes(), bytes);
        let bare = Shape::from_bytes(&s.without_names().to_bytes()).expect("decodes");
        assert_eq!(bare.fingerprint(), s.fingerprint());
    }
}

/// Types the tracer cannot, or must not, fingerprint.
mod untraceable {
    use super::*;
    use core::num::NonZeroU32;

    /// A `Deserialize` that validates: below 10 is refused, so the trace's
    /// zeros and ones both are.
    #[derive(Serialize)]
    pub(super) struct Quality(pub(super) u8);
    impl<'de> Deserialize<'de> for Quality {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let q = u8::deserialize(d)?;
            if q < 10 {
                return Err(serde::de::Error::custom("quality below 10"));
            }
            Ok(Quality(q))
        }
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Gear {
        pub(super) id: u64,
        pub(super) quality: Quality,
    }

    /// Refuses 0, accepts 1: traced with the second set of values.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Ids {
        pub(super) id: NonZeroU32,
        pub(super) name: String,
    }

    /// A `Serialize` that branches on the value: zero is written as a
    /// `u8`, which the trace's values reach.
    #[derive(Deserialize)]
    #[serde(transparent)]
    pub(super) struct Gold(pub(super) u32);
    impl Serialize for Gold {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if self.0 == 0 {
                s.serialize_u8(0)
            } else {
                s.serialize_u32(self.0)
            }
        }
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Purse {
        pub(super) gold: Gold,
    }

    /// The same kind of branch, on values the trace never offers: invisible.
    #[derive(Deserialize)]
    #[serde(transparent)]
    pub(super) struct Hoard(pub(super) u32);
    impl Serialize for Hoard {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if self.0 > 1000 {
                s.serialize_u64(u64::from(self.0))
            } else {
                s.serialize_u32(self.0)
            }
        }
    }

    fn as_text<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
    /// `serialize_with` without its `deserialize_with`.
    #[derive(Serialize, Deserialize)]
    pub(super) struct OneSided {
        #[serde(serialize_with = "as_text")]
        pub(super) gold: u32,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct SkipIf {
        pub(super) a: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) b: Option<u32>,
        pub(super) c: u32,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct SkipDe {
        pub(super) a: u32,
        #[serde(skip_deserializing)]
        pub(super) b: u32,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    #[serde(untagged)]
    pub(super) enum Untagged {
        Number(u32),
        Text(String),
    }

    #[derive(Serialize, Deserialize)]
    #[serde(tag = "kind")]
    pub(super) enum Tagged {
        A { x: u32 },
        B { y: u32 },
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct Flattened {
        pub(super) id: u64,
        #[serde(flatten)]
        pub(super) stats: generic::player::Stats,
    }

    /// Panics on what the trace offers.
    #[derive(Serialize)]
    pub(super) struct Fragile(pub(super) u32);
    impl<'de> Deserialize<'de> for Fragile {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let v = u32::deserialize(d)?;
            assert!(v > 5, "fragile value {v}");
            Ok(Fragile(v))
        }
    }

    /// No finite value: every way down is mandatory.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Endless(pub(super) Box<Endless>);

    /// No finite value: the only variant leads back in.
    #[derive(Serialize, Deserialize)]
    pub(super) enum Ouroboros {
        Tail(Box<Ouroboros>),
    }

    #[derive(Serialize, Deserialize)]
    pub(super) enum Never {}
    #[derive(Serialize, Deserialize)]
    pub(super) struct MaybeNever {
        pub(super) n: Option<Never>,
    }

    thread_local! {
        /// Flips on every read of a `Fickle`; its `Serialize` writes what
        /// was read last.
        static WIDE: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }
    /// Reads a `u32` on one visit and a `u64` on the next.
    pub(super) struct Fickle;
    impl Serialize for Fickle {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if WIDE.get() {
                s.serialize_u64(0)
            } else {
                s.serialize_u32(0)
            }
        }
    }
    impl<'de> Deserialize<'de> for Fickle {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let wide = !WIDE.get();
            WIDE.set(wide);
            if wide {
                u64::deserialize(d).map(|_| Fickle)
            } else {
                u32::deserialize(d).map(|_| Fickle)
            }
        }
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Moody {
        pub(super) a: Fickle,
    }

    macro_rules! doubling {
        ($first:ident $(, $next:ident)*) => {
            #[derive(Serialize, Deserialize)]
            pub(super) struct $first(pub(super) u8, pub(super) u8);
            doubling!(@ $first $(, $next)*);
        };
        (@ $prev:ident, $next:ident $(, $rest:ident)*) => {
            #[derive(Serialize, Deserialize)]
            pub(super) struct $next(pub(super) Box<$prev>, pub(super) Box<$prev>);
            doubling!(@ $next $(, $rest)*);
        };
        (@ $last:ident) => {};
    }
    // D13 unrolls to 2^14 - 1 nodes, D14 to 2^15 - 1: past `MAX_NODES`.
    // (Boxed, which serde does not see, so that a value fits on a stack.)
    // D18's one value takes 2^19 - 1 calls to build: past the budget, so
    // the trace stops before it has built much of it.
    doubling!(
        D0, D1, D2, D3, D4, D5, D6, D7, D8, D9, D10, D11, D12, D13, D14, D15, D16, D17, D18
    );
}

#[test]
fn a_validating_deserialize_is_an_error_naming_the_type() {
    let e = error::<untraceable::Gear>();
    assert!(matches!(e.kind, ShapeErrorKind::Refused { .. }), "{e}");
    assert!(e.ty.ends_with("Quality"), "{e}");
    assert_eq!(e.at, "Gear.quality");
    assert!(e.to_string().contains("quality below 10"), "{e}");
    // One that accepts ones is traced.
    assert_eq!(
        shape::<untraceable::Ids>().to_string(),
        "Ids { id: u32, name: str }"
    );
}

#[test]
fn a_serialize_that_branches_on_traced_values_is_an_error_naming_the_type() {
    let e = error::<untraceable::Purse>();
    assert_eq!(
        e.kind,
        ShapeErrorKind::SerializeMismatch {
            expected: "u32".to_owned(),
            found: "u8".to_owned()
        }
    );
    assert!(e.ty.ends_with("Gold"), "{e}");
    assert_eq!(e.at, "Purse.gold");
    // What a fingerprint cannot see: the branch the traced values skip.
    assert_eq!(shape::<untraceable::Hoard>().to_string(), "u32");
}

#[test]
fn attributes_that_break_the_symmetry_are_errors() {
    let e = error::<untraceable::OneSided>();
    assert!(
        matches!(&e.kind, ShapeErrorKind::SerializeMismatch { expected, found }
            if expected == "u32" && found == "str"),
        "{e}"
    );
    assert_eq!(e.at, "OneSided.gold");
    for e in [
        error::<untraceable::SkipIf>(),
        error::<untraceable::SkipDe>(),
    ] {
        assert!(
            matches!(e.kind, ShapeErrorKind::SerializeMismatch { .. }),
            "{e}"
        );
    }
}

#[test]
fn self_describing_attributes_are_errors() {
    for e in [
        error::<untraceable::Untagged>(),
        error::<untraceable::Tagged>(),
        error::<untraceable::Flattened>(),
    ] {
        assert!(
            matches!(e.kind, ShapeErrorKind::SelfDescribing { .. }),
            "{e}"
        );
    }
    // And postcard cannot read them back either.
    let bytes = postcard::to_allocvec(&untraceable::Untagged::Number(3)).expect("writes");
    assert!(postcard::from_bytes::<untraceable::Untagged>(&bytes).is_err());
}

#[test]
fn panics_bad_recursion_and_inconsistency_are_errors_not_panics_or_loops() {
    let e = error::<untraceable::Fragile>();
    assert!(
        matches!(&e.kind, ShapeErrorKind::Panicked { message } if message.contains("fragile")),
        "{e}"
    );
    for e in [
        error::<untraceable::Endless>(),
        error::<untraceable::Ouroboros>(),
    ] {
        assert_eq!(e.kind, ShapeErrorKind::NoFiniteValue, "{e}");
    }
    let e = error::<untraceable::MaybeNever>();
    assert!(matches!(e.kind, ShapeErrorKind::Unsupported { .. }), "{e}");
    let e = error::<untraceable::Moody>();
    assert!(matches!(e.kind, ShapeErrorKind::Inconsistent { .. }), "{e}");
}

#[test]
fn a_type_too_large_to_store_is_an_error() {
    assert!(shape_of::<untraceable::D12>().is_ok());
    let e = error::<untraceable::D14>();
    assert_eq!(
        e.kind,
        ShapeErrorKind::TooLarge {
            what: "nodes",
            limit: MAX_NODES
        },
        "{e}"
    );
    let e = error::<untraceable::D18>();
    assert!(
        matches!(e.kind, ShapeErrorKind::TooLarge { what, .. } if what.starts_with("data-model calls")),
        "{e}"
    );
}

#[test]
fn error_messages_name_the_record_the_type_and_the_place() {
    let e = error::<untraceable::Gear>();
    let text = e.to_string();
    assert!(
        text.starts_with("cannot fingerprint the serde shape of `"),
        "{text}"
    );
    assert!(text.contains("Gear`: at Gear.quality: `"), "{text}");
}

// ---- the decoder, on hostile bytes ----

fn leaf(p: Prim) -> Node {
    Node::Prim(p)
}

fn encoded(root: Node) -> Vec<u8> {
    Shape::from_root(root).to_bytes()
}

#[test]
fn the_decoder_refuses_truncated_and_trailing_bytes() {
    let bytes = shape::<every::Every>().to_bytes();
    for len in 0..bytes.len() {
        assert!(Shape::from_bytes(&bytes[..len]).is_err(), "prefix {len}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let e = Shape::from_bytes(&longer).expect_err("trailing");
    assert_eq!((e.offset, e.reason), (bytes.len(), "trailing bytes"));
}

#[test]
fn the_decoder_refuses_what_the_encoder_never_writes() {
    let reject = |bytes: &[u8], reason: &str| {
        let e: ShapeDecodeError = Shape::from_bytes(bytes).expect_err("refused");
        assert_eq!(e.reason, reason, "{bytes:?}");
    };
    reject(&[], "unexpected end");
    reject(&[2, 0], "unknown shape encoding version");
    reject(&[1, 0x11], "unknown node tag");
    reject(&[1, 0x1f], "unknown node tag");
    reject(&[1, 0x2a], "unknown node tag");
    // A count in a longer form than needed: 1 as [0x81, 0x00].
    reject(
        &[1, 0x22, 0x81, 0x00, 0x00],
        "count not in its shortest form",
    );
    reject(&[1, 0x22, 0xff, 0xff, 0xff, 0xff, 0x7f], "count too large");
    reject(
        &[1, 0x22, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        "count too long",
    );
    // More items than bytes left: no allocation of that size.
    reject(
        &[1, 0x22, 0xff, 0xff, 0xff, 0xff, 0x0f],
        "count larger than the bytes left",
    );
    reject(&[1, 0x20, 0x02, 0xff, 0xfe], "name is not UTF-8");
    reject(&[1, 0x20, 0x05, b'a'], "name runs past the end");
    let mut long_name = vec![1, 0x20, 0x81, 0x08];
    long_name.extend([b'a'; 1025]);
    reject(&long_name, "name too long");
    reject(
        &[1, 0x25, 0x00, 0x01, 0x01, b'A', 0x04],
        "unknown variant payload",
    );
    // A back-reference must land on a node above it.
    reject(&[1, 0x29, 0x01], "recursion to no enclosing node");
    reject(&[1, 0x26, 0x29, 0x00], "recursion to no enclosing node");
    reject(&[1, 0x26, 0x29, 0x02], "recursion to no enclosing node");
    assert!(Shape::from_bytes(&[1, 0x26, 0x29, 0x01]).is_ok());
    reject(
        &vec![0; super::model::MAX_ENCODED + 1],
        "longer than any shape may be",
    );
}

#[test]
fn the_decoder_bounds_depth_and_nodes() {
    // MAX_DEPTH options around a u8 is one level too deep.
    let mut deep = vec![1];
    deep.extend(std::iter::repeat_n(0x26, MAX_DEPTH));
    deep.push(Prim::U8 as u8);
    assert_eq!(
        Shape::from_bytes(&deep).expect_err("too deep").reason,
        "nested too deep"
    );
    let mut ok = vec![1];
    ok.extend(std::iter::repeat_n(0x26, MAX_DEPTH - 1));
    ok.push(Prim::U8 as u8);
    assert!(Shape::from_bytes(&ok).is_ok());
    // A tuple of MAX_NODES u8s is one node too many (the tuple counts).
    let mut wide = vec![1, 0x22];
    let mut n = MAX_NODES;
    while n >= 0x80 {
        wide.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    wide.push(n as u8);
    wide.extend(std::iter::repeat_n(Prim::U8 as u8, MAX_NODES));
    assert_eq!(
        Shape::from_bytes(&wide).expect_err("too many").reason,
        "too many nodes"
    );
}

#[test]
fn every_single_byte_change_is_refused_or_read_canonically() {
    // Each one-byte change of a real encoding either fails cleanly or reads
    // as a shape whose encoding is exactly the changed bytes: there is one
    // encoding per shape, so a fingerprint cannot be aliased.
    let bytes = shape::<every::Every>().to_bytes();
    for at in 0..bytes.len() {
        for value in [
            0u8,
            1,
            0x10,
            0x20,
            0x25,
            0x29,
            0x7f,
            0x80,
            0xff,
            bytes[at] ^ 1,
        ] {
            let mut changed = bytes.clone();
            changed[at] = value;
            if let Ok(shape) = Shape::from_bytes(&changed) {
                assert_eq!(shape.to_bytes(), changed, "byte {at} = {value:#x}");
            }
        }
    }
}

#[test]
fn the_fingerprint_ignores_container_names_and_nothing_else() {
    let named = |name: &str| Node::Struct {
        name: name.into(),
        fields: vec![Field {
            name: "a".into(),
            shape: leaf(Prim::U8),
        }],
    };
    let a = Shape::from_root(named("A"));
    let b = Shape::from_root(named("B"));
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.to_bytes(), b.to_bytes());
    let c = Shape::from_root(Node::Struct {
        name: "A".into(),
        fields: vec![Field {
            name: "b".into(),
            shape: leaf(Prim::U8),
        }],
    });
    assert_ne!(a.fingerprint(), c.fingerprint());
    // Kinds postcard writes the same are still told apart.
    let kinds = [
        leaf(Prim::U8),
        Node::Newtype {
            name: "".into(),
            inner: Box::new(leaf(Prim::U8)),
        },
        Node::Tuple(vec![leaf(Prim::U8)]),
        Node::TupleStruct {
            name: "".into(),
            items: vec![leaf(Prim::U8)],
        },
        leaf(Prim::Unit),
        Node::UnitStruct { name: "".into() },
        Node::Tuple(vec![]),
        Node::Enum {
            name: "".into(),
            variants: vec![Variant {
                name: "V".into(),
                payload: Payload::Newtype(leaf(Prim::U8)),
            }],
        },
    ];
    let prints: std::collections::BTreeSet<_> = kinds
        .iter()
        .map(|k| Shape::from_root(k.clone()).fingerprint())
        .collect();
    assert_eq!(prints.len(), kinds.len());
    assert_eq!(
        encoded(leaf(Prim::U8)),
        [super::encode::FORMAT, Prim::U8 as u8]
    );
}

#[test]
fn display_cuts_nothing_and_differences_quote_short() {
    let wide = Node::Tuple(vec![leaf(Prim::U128); 40]);
    let s = Shape::from_root(wide.clone()).to_string();
    assert_eq!(s.matches("u128").count(), 40);
    let narrow = Shape::from_root(Node::Tuple(vec![leaf(Prim::U128); 39]));
    let d = first_difference(&narrow, &Shape::from_root(wide)).expect("differs");
    assert!(d.starts_with("record: was (u128, "), "{d}");
    assert!(d.contains('…'), "{d}");
    assert!(d.chars().count() < 200, "{d}");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Small trees over few names and kinds, so that equal and
    /// nearly-equal pairs are common; back-references only where valid.
    fn node(depth: u32) -> BoxedStrategy<Node> {
        let names = prop::sample::select(vec!["", "a", "b"]);
        let prims = prop::sample::select(vec![Prim::U8, Prim::U32, Prim::Str]);
        let leafs = prop_oneof![
            prims.prop_map(Node::Prim),
            names
                .clone()
                .prop_map(|n| Node::UnitStruct { name: n.into() }),
        ];
        if depth == 0 {
            return leafs.boxed();
        }
        let inner = node(depth - 1);
        let fields = prop::collection::vec((names.clone(), inner.clone()), 0..3).prop_map(|fs| {
            fs.into_iter()
                .map(|(n, shape)| Field {
                    name: n.into(),
                    shape,
                })
                .collect::<Vec<_>>()
        });
        let payload = prop_oneof![
            Just(Payload::Unit),
            inner.clone().prop_map(Payload::Newtype),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Payload::Tuple),
            fields.clone().prop_map(Payload::Struct),
        ];
        prop_oneof![
            leafs,
            Just(Node::Recursive { up: 1 }),
            inner.clone().prop_map(|n| Node::Option(Box::new(n))),
            inner.clone().prop_map(|n| Node::Seq(Box::new(n))),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| Node::Map {
                key: Box::new(k),
                value: Box::new(v)
            }),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Node::Tuple),
            (names.clone(), fields).prop_map(|(n, fields)| Node::Struct {
                name: n.into(),
                fields
            }),
            (
                names.clone(),
                prop::collection::vec((names.clone(), payload), 0..3)
            )
                .prop_map(|(n, vs)| Node::Enum {
                    name: n.into(),
                    variants: vs
                        .into_iter()
                        .map(|(n, payload)| Variant {
                            name: n.into(),
                            payload
                        })
                        .collect()
                }),
            (names, inner).prop_map(|(n, i)| Node::Newtype {
                name: n.into(),
                inner: Box::new(i)
            }),
        ]
        .boxed()
    }

    /// A root cannot refer above itself: a back-reference at the root is
    /// replaced by a leaf.
    fn root() -> impl Strategy<Value = Shape> {
        node(3).prop_map(|n| match n {
            Node::Recursive { .. } => Shape::from_root(Node::Prim(Prim::U8)),
            n => Shape::from_root(n),
        })
    }

    proptest! {
        #[test]
        fn shapes_round_trip(s in root()) {
            let bytes = s.to_bytes();
            let back = Shape::from_bytes(&bytes).expect("decodes");
            prop_assert_eq!(back.to_bytes(), bytes);
            prop_assert_eq!(back, s);
        }

        #[test]
        fn no_difference_exactly_when_the_fingerprints_agree(a in root(), b in root()) {
            let d = first_difference(&a, &b);
            prop_assert_eq!(d.is_none(), a.fingerprint() == b.fingerprint(), "{:?}", d);
            prop_assert_eq!(first_difference(&a, &a.without_names()), None);
            prop_assert_eq!(
                super::super::diff::same(a.root(), b.root()),
                a.fingerprint() == b.fingerprint()
            );
        }

        #[test]
        fn the_decoder_never_panics(
            versioned in any::<bool>(),
            tail in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            // Mostly past the version byte, where the grammar starts.
            let mut bytes = if versioned { vec![super::super::encode::FORMAT] } else { Vec::new() };
            bytes.extend(tail);
            if let Ok(s) = Shape::from_bytes(&bytes) {
                prop_assert_eq!(s.to_bytes(), bytes);
            }
        }
    }
}

/// Prints what tracing the reference schema costs; run with
/// `cargo test --release --all-features --lib shape::tests::timing -- --ignored --nocapture`.
#[cfg(feature = "reference")]
#[test]
#[ignore = "a measurement, not a check"]
fn timing() {
    use crate::reference::{Item, Npc, Player, Quest, Zone};
    use std::time::Instant;
    let rounds = 1000;
    let mut best = std::time::Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let five = (
            shape_of::<Player>(),
            shape_of::<Zone>(),
            shape_of::<Npc>(),
            shape_of::<Item>(),
            shape_of::<Quest>(),
        );
        best = best.min(start.elapsed());
        let _ = std::hint::black_box(five);
    }
    let start = Instant::now();
    for _ in 0..rounds {
        let _ = std::hint::black_box(cached_shape_of::<Item>().map(|s| s.fingerprint()));
    }
    let cached = start.elapsed() / rounds;
    println!("five reference shapes, traced: best {best:?}; one cached lookup: {cached:?}");
}

/// Hand-written impls of the kinds real records use, and two that read
/// something no shape describes.
mod handwritten {
    use super::*;
    use serde::de::{Error as _, SeqAccess, Visitor};

    /// A UUID's compact form: exactly sixteen bytes.
    pub(super) struct Uuidish(pub(super) [u8; 16]);
    impl Serialize for Uuidish {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
    impl<'de> Deserialize<'de> for Uuidish {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let bytes = every::Blob::deserialize(d)?.0;
            let array = <[u8; 16]>::try_from(bytes.as_slice())
                .map_err(|_| D::Error::custom("a UUID is sixteen bytes"))?;
            Ok(Uuidish(array))
        }
    }

    /// A number kept as text (a decimal type's usual form).
    pub(super) struct Decimal(pub(super) i64);
    impl Serialize for Decimal {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(&self.0)
        }
    }
    impl<'de> Deserialize<'de> for Decimal {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = String::deserialize(d)?;
            text.parse().map(Decimal).map_err(D::Error::custom)
        }
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct Account {
        pub(super) id: Uuidish,
        pub(super) balance: Decimal,
    }

    /// Reads a flag, then a value only when the flag is set.
    pub(super) struct Conditional(pub(super) Option<u32>);
    impl Serialize for Conditional {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeTuple;
            let mut t = s.serialize_tuple(2)?;
            t.serialize_element(&self.0.is_some())?;
            t.serialize_element(&self.0.unwrap_or(0))?;
            t.end()
        }
    }
    impl<'de> Deserialize<'de> for Conditional {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Conditional;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("a flag and maybe a value")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Conditional, A::Error> {
                    let flag: bool = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::custom("no flag"))?;
                    if !flag {
                        return Ok(Conditional(None));
                    }
                    let value: u32 = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::custom("no value"))?;
                    Ok(Conditional(Some(value)))
                }
            }
            d.deserialize_tuple(2, V)
        }
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Buff {
        pub(super) strength: Conditional,
    }

    /// Reads nothing at all.
    pub(super) struct Nothing;
    impl Serialize for Nothing {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_unit()
        }
    }
    impl<'de> Deserialize<'de> for Nothing {
        fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Nothing)
        }
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct HoldsNothing {
        pub(super) a: u8,
        pub(super) nothing: Nothing,
    }
}

#[test]
fn hand_written_impls_that_refuse_zeros_are_traced_with_ones() {
    assert_eq!(
        shape::<handwritten::Account>().to_string(),
        "Account { id: bytes, balance: str }"
    );
}

#[test]
fn a_deserialize_that_reads_what_its_values_say_or_nothing_is_an_error() {
    let e = error::<handwritten::Buff>();
    assert!(
        matches!(e.kind, ShapeErrorKind::Unsupported { what } if what.starts_with("reads fewer")),
        "{e}"
    );
    assert_eq!(e.at, "Buff.strength");
    for e in [
        error::<handwritten::HoldsNothing>(),
        error::<handwritten::Nothing>(),
    ] {
        assert!(
            matches!(e.kind, ShapeErrorKind::Unsupported { what } if what.starts_with("makes no")),
            "{e}"
        );
        assert!(e.ty.ends_with("Nothing"), "{e}");
    }
}

mod nonempty {
    use super::*;
    /// A list that must not be empty.
    #[derive(Serialize)]
    #[serde(transparent)]
    pub(super) struct Tags(pub(super) Vec<u32>);
    impl<'de> Deserialize<'de> for Tags {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let tags = Vec::deserialize(d)?;
            if tags.is_empty() {
                return Err(serde::de::Error::custom("no tags"));
            }
            Ok(Tags(tags))
        }
    }
    #[derive(Serialize, Deserialize)]
    pub(super) struct Tagged {
        pub(super) kind: crate::reference::Biome,
        pub(super) tags: Tags,
    }
}

#[cfg(feature = "reference")]
#[test]
fn a_list_that_must_not_be_empty_is_traced() {
    // Later passes (for the enum's variants) and the smallest value offer
    // it empty: refused, then offered one element again.
    assert_eq!(
        shape::<nonempty::Tagged>().to_string(),
        "Tagged { kind: enum Biome { Forest, Desert, Tundra, Coast, Cavern, City }, tags: [u32] }"
    );
}
