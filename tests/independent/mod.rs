//! A second opinion for the tests, independent of the crate's code: a
//! reference reader written from the format specification alone
//! ([`reader`]) and the structural rules written a second time, plainly
//! ([`rules`]). Used wherever a test compares two of the crate's paths, so
//! that what the paths share cannot agree with itself.
//!
//! Included by path (it must not depend on the crate) from `tests/common`,
//! from the crate's own unit tests (`src/lib.rs`, under `cfg(test)`) and
//! from the fuzz targets.
#![allow(dead_code)]

pub mod reader;
pub mod rules;
