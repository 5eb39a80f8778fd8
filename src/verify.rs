//! Schema-agnostic verification: every rule of the format that can be
//! checked without the server's record types, for operators, tools and
//! stores.

use serde::Serialize;

use crate::format::reader::{self, Parsed};
use crate::format::wire::Header;
use crate::format::{DIGEST_LEN, DigestKey, FORMAT_VERSION, StructuralIndex};
use crate::ids::{Epoch, Fence, ShardId};
use crate::parallel::Threads;
use crate::rejection::Rejection;
use crate::schema::Schema;
use crate::shape::{Fingerprint, Shape, ShapeMismatch};
use crate::system::System;

/// What a reader expects of a bundle, beyond the format's own rules.
///
/// ```
/// use caelmor_persist::{DigestKey, Epoch, ShardId, VerifyOptions};
/// let options = VerifyOptions::new()
///     .key(DigestKey::from_bytes([1; 32]))
///     .expect_shard(ShardId(7))
///     .expect_epoch(Epoch(3))
///     .expect_schema("caelmor-reference", 1);
/// # let _ = options;
/// ```
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    key: Option<DigestKey>,
    schema: Option<(String, u32)>,
    /// The record shapes a typed reader requires, in [`System::ORDER`]:
    /// set only by the crate's typed readers, from their schema.
    shapes: Option<[&'static Shape; 5]>,
    shard: Option<ShardId>,
    epoch: Option<Epoch>,
    threads: Threads,
}

impl VerifyOptions {
    /// No key, no expectations: checks the format's rules only.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the digest with this key (bundles of a keyed store).
    #[must_use]
    pub fn key(mut self, key: DigestKey) -> Self {
        self.key = Some(key);
        self
    }

    /// What a typed reader of schema `S`, whose record types have
    /// `shapes`, expects of the bundle a store says holds `epoch` of
    /// `shard`, digested under `key`.
    pub(crate) fn for_schema<S: Schema>(
        shapes: [&'static Shape; 5],
        shard: ShardId,
        epoch: Epoch,
        key: Option<&DigestKey>,
    ) -> Self {
        // What a restore and a store's load expect of the bundle: like
        // `Save::begin`, it does not compile for a schema whose name is too
        // long.
        let () = crate::schema::NameFits::<S>::PROOF;
        Self {
            key: key.cloned(),
            schema: Some((S::NAME.to_owned(), S::VERSION)),
            shapes: Some(shapes),
            shard: Some(shard),
            epoch: Some(epoch),
            threads: Threads::default(),
        }
    }

    pub(crate) fn key_ref(&self) -> Option<&DigestKey> {
        self.key.as_ref()
    }

    /// Verifies on `threads` ([`Threads::Two`] unless told otherwise):
    /// the same answer either way, only the time differs.
    #[must_use]
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    pub(crate) fn threads_used(&self) -> Threads {
        self.threads
    }

    /// Requires this schema name and version (`E-SCHEMA`).
    #[must_use]
    pub fn expect_schema(mut self, name: impl Into<String>, version: u32) -> Self {
        self.schema = Some((name.into(), version));
        self
    }

    /// Requires this shard (`E-SHARD`).
    #[must_use]
    pub fn expect_shard(mut self, shard: ShardId) -> Self {
        self.shard = Some(shard);
        self
    }

    /// Requires this epoch (`E-EPOCH`).
    #[must_use]
    pub fn expect_epoch(mut self, epoch: Epoch) -> Self {
        self.epoch = Some(epoch);
        self
    }
}

/// Rule 9 of the format: what the reader expects.
pub(crate) fn expectations(header: &Header, options: &VerifyOptions) -> Result<(), Rejection> {
    // Rule 5's shape check, again: the typed reader's fast path reaches
    // here without `reader::parse`, and must accept exactly what it does.
    let found = reader::shapes(header)?;
    if let Some((name, version)) = &options.schema
        && (*name != header.schema_name || *version != header.schema_version)
    {
        return Err(Rejection::SchemaMismatch {
            expected_name: name.clone(),
            expected_version: *version,
            found_name: header.schema_name.clone(),
            found_version: header.schema_version,
        });
    }
    // The name and version are the integrator's declaration, checked
    // first; the shapes are what the record types are. Fingerprints, not
    // bytes: a Rust type renamed (and nothing else) still reads its bundles.
    if let Some(expected) = &options.shapes {
        for ((system, found), expected) in System::ORDER.into_iter().zip(&found).zip(expected) {
            if let Some(mismatch) = ShapeMismatch::between(system, found, expected) {
                return Err(Rejection::ShapeMismatch(mismatch));
            }
        }
    }
    if let Some(shard) = options.shard
        && shard != header.shard
    {
        return Err(Rejection::ShardMismatch {
            expected: shard,
            found: header.shard,
        });
    }
    if let Some(epoch) = options.epoch
        && epoch != header.epoch
    {
        return Err(Rejection::EpochMismatch {
            expected: epoch,
            found: header.epoch,
        });
    }
    Ok(())
}

/// Rules 1-9; shared with typed restore, which adds rule 10.
pub(crate) fn parse_expected<'a>(
    bytes: &'a [u8],
    options: &VerifyOptions,
) -> Result<Parsed<'a>, Rejection> {
    let parsed = reader::parse(bytes, options.key.as_ref(), options.threads)?;
    expectations(&parsed.header, options)?;
    Ok(parsed)
}

/// One section of a verified bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SectionSummary {
    /// The system.
    pub system: System,
    /// How many records it holds.
    pub records: u64,
    /// Its encoded size: stamp, index, payload length and payload.
    pub bytes: u64,
    /// The size of its record payload alone.
    pub payload_bytes: u64,
}

/// What a verified bundle holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The format version (always [`FORMAT_VERSION`] for an accepted bundle).
    pub format_version: u16,
    /// The shard.
    pub shard: ShardId,
    /// The epoch.
    pub epoch: Epoch,
    /// The fence it was sealed under.
    pub fence: Fence,
    /// The schema name.
    pub schema_name: String,
    /// The schema version.
    pub schema_version: u32,
    /// The fingerprints of the shapes of the record types that wrote it,
    /// in [`System::ORDER`] (the shapes themselves are in
    /// [`Verified::shapes`]).
    pub shapes: [Fingerprint; 5],
    /// The sections, in [`System::ORDER`].
    pub sections: [SectionSummary; 5],
    /// The closing digest.
    #[serde(serialize_with = "hex")]
    pub digest: [u8; DIGEST_LEN],
    /// The bundle's total size in bytes.
    pub total_bytes: u64,
}

fn hex<S: serde::Serializer>(d: &[u8; DIGEST_LEN], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&blake3::Hash::from_bytes(*d).to_hex())
}

impl Summary {
    /// The digest as lower-case hex.
    #[must_use]
    pub fn digest_hex(&self) -> String {
        blake3::Hash::from_bytes(self.digest).to_hex().to_string()
    }

    pub(crate) fn of(parsed: &Parsed<'_>) -> Summary {
        Summary::new(
            &parsed.header,
            parsed.index.counts().map(|n| n as usize),
            parsed.section_len,
            parsed.payloads.map(<[u8]>::len),
            parsed.digest,
            parsed.frame_len,
        )
    }

    /// From a header, each section's record count, encoded size and payload
    /// size in [`System::ORDER`], the digest and the total size.
    pub(crate) fn new(
        header: &Header,
        records: [usize; 5],
        section_len: [u64; 5],
        payload_len: [usize; 5],
        digest: [u8; DIGEST_LEN],
        total_bytes: u64,
    ) -> Summary {
        let sections = System::ORDER.map(|system| {
            let i = system.position();
            SectionSummary {
                system,
                records: records[i] as u64,
                bytes: section_len[i],
                payload_bytes: payload_len[i] as u64,
            }
        });
        Summary {
            format_version: FORMAT_VERSION,
            shard: header.shard,
            epoch: header.epoch,
            fence: header.fence,
            schema_name: header.schema_name.clone(),
            schema_version: header.schema_version,
            shapes: header.shapes.each_ref().map(|s| s.fingerprint()),
            sections,
            digest,
            total_bytes,
        }
    }
}

/// A bundle that passed schema-agnostic verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Header, sizes and digest.
    pub summary: Summary,
    /// The shapes of the record types that wrote it, in [`System::ORDER`]:
    /// what a typed reader's record types must match (`E-SHAPE`), and what
    /// [`first_difference`](crate::shape::first_difference) compares.
    pub shapes: [Shape; 5],
    /// Every id and reference, section by section.
    pub index: StructuralIndex,
}

/// Checks a bundle's framing, digest, header, section table, epochs, shard
/// stamps, canonical encoding and order, and full reference graph —
/// everything but the record payloads' types — and states the reader's
/// expectations, if any.
///
/// # Errors
/// The first rule that fails, in the order of the [format
/// specification](crate::format).
///
/// ```
/// use caelmor_persist::{verify, RejectionCode, VerifyOptions};
/// let err = verify(b"not a bundle", &VerifyOptions::new()).unwrap_err();
/// assert_eq!(err.code(), RejectionCode::Magic);
/// ```
pub fn verify(bytes: &[u8], options: &VerifyOptions) -> Result<Verified, Rejection> {
    let parsed = parse_expected(bytes, options)?;
    Ok(Verified {
        summary: Summary::of(&parsed),
        shapes: parsed.shapes,
        index: parsed.index,
    })
}

/// Checks a bundle against every rule of the format, as the typed restore
/// does — [`verify`]'s rules, the expectations (schema name and version,
/// then each record type's shape: `E-SHAPE` names the system and the first
/// difference, before any record is decoded), and then every record of
/// schema `S` decoded canonically and checked against the structural index
/// — and returns what it holds. The records are dropped: this is
/// inspection, never a way to restore (only a store's
/// [`load_latest`](crate::Store::load_latest) gives a restorable epoch).
///
/// # Errors
/// The first rule that fails, in the order of the [format
/// specification](crate::format); `E-SHAPE-UNTRACEABLE` if a record type
/// of `S` cannot be traced.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{verify_as, MemStore, Save, ShardId, VerifyOptions};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let world = ShardSpec::small().generate(2);
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let authority = store.claim()?;
/// let sealed = Save::begin(&authority).players(&world.players)?.world(&world.zones)?
///     .npcs(&world.npcs)?.items(&world.items)?.quests(&world.quests)?.seal();
/// let summary = verify_as::<Reference>(sealed.bytes(), &VerifyOptions::new())?;
/// assert_eq!(summary.epoch, sealed.epoch());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_as<S: Schema>(bytes: &[u8], options: &VerifyOptions) -> Result<Summary, Rejection> {
    let shapes = crate::shape::traced::<S>().map_err(Rejection::Untraceable)?;
    let options = VerifyOptions {
        schema: Some((S::NAME.to_owned(), S::VERSION)),
        shapes: Some(shapes),
        ..options.clone()
    };
    crate::typed_reader::read::<S>(bytes, &options).map(|opened| opened.summary)
}
