//! Reads and checks a bundle, rule by rule in the order the format
//! specification gives, without knowing the record types.

use serde::{Deserialize, Serialize};

use super::depth::{self, MAX_DEPTH};
use super::flavor::encodes_to;
use super::index_reader;
use super::wire::{Header, SectionStamp, StructuralIndex};
use super::{
    CANONICAL_TABLE, DIGEST_LEN, DigestKey, FORMAT_VERSION, MAGIC, PREAMBLE_LEN, digest,
    digest_matches, vec_for,
};
use crate::check;
use crate::parallel::Threads;
use crate::rejection::{Part, Rejection};
use crate::shape::Shape;
use crate::system::System;

/// A bundle whose frame, digest, header, table and every section's index
/// passed every rule. Payloads are still raw bytes.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    pub header: Header,
    /// The header's five record shapes, decoded, in [`System::ORDER`].
    pub shapes: [Shape; 5],
    pub index: StructuralIndex,
    /// Each section's record bytes, in [`System::ORDER`].
    pub payloads: [&'a [u8]; 5],
    /// Each section's total encoded size (stamp, index, length, payload).
    pub section_len: [u64; 5],
    pub digest: [u8; DIGEST_LEN],
    pub frame_len: u64,
}

/// Decodes one `T` from the front of `input`, requiring that it re-encodes to
/// exactly the bytes it was decoded from.
///
/// Every value the format decodes with serde (header, section table,
/// stamps, records) comes through here, so every one is held to the
/// nesting limit ([`MAX_DEPTH`](super::MAX_DEPTH)): a value nested deeper
/// is `E-DECODE` naming the limit, never a stack overflow.
pub(crate) fn take<'a, T>(input: &mut &'a [u8], part: Part) -> Result<T, Rejection>
where
    T: Deserialize<'a> + Serialize,
{
    let (value, rest) =
        depth::take_from_bytes::<T>(input).map_err(|(e, too_deep)| Rejection::Undecodable {
            part,
            detail: if too_deep {
                format!(
                    "nested deeper than {MAX_DEPTH} levels of struct, tuple, sequence, map, \
                     enum, option or newtype (the format's limit)"
                )
            } else {
                e.to_string()
            },
        })?;
    let used = &input[..input.len() - rest.len()];
    if !encodes_to(&value, used) {
        return Err(Rejection::NonCanonical { part });
    }
    *input = rest;
    Ok(value)
}

/// Rules 1-4: magic, version, frame length, digest. Returns the body.
pub(crate) fn frame<'a>(
    bytes: &'a [u8],
    key: Option<&DigestKey>,
    threads: Threads,
) -> Result<(&'a [u8], [u8; DIGEST_LEN]), Rejection> {
    let available = bytes.len() as u64;
    if bytes.len() < MAGIC.len() {
        return if MAGIC.starts_with(bytes) && !bytes.is_empty() {
            Err(Rejection::Truncated {
                part: "magic",
                needed: MAGIC.len() as u64,
                available,
            })
        } else {
            Err(Rejection::BadMagic)
        };
    }
    if bytes[..8] != MAGIC {
        return Err(Rejection::BadMagic);
    }
    let Some(version) = bytes.get(8..10) else {
        return Err(Rejection::Truncated {
            part: "format version",
            needed: 10,
            available,
        });
    };
    let version = u16::from_le_bytes([version[0], version[1]]);
    if version != FORMAT_VERSION {
        return Err(Rejection::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let Some(len) = bytes.get(10..PREAMBLE_LEN) else {
        return Err(Rejection::Truncated {
            part: "frame length",
            needed: PREAMBLE_LEN as u64,
            available,
        });
    };
    let mut len8 = [0; 8];
    len8.copy_from_slice(len);
    let frame_len = u64::from_le_bytes(len8);
    if frame_len < (PREAMBLE_LEN + DIGEST_LEN) as u64 {
        return Err(Rejection::Frame {
            detail: "the declared frame length is shorter than an empty frame",
        });
    }
    if available < frame_len {
        return Err(Rejection::Truncated {
            part: "frame",
            needed: frame_len,
            available,
        });
    }
    if available > frame_len {
        return Err(Rejection::TrailingBytes {
            part: Part::Frame,
            extra: available - frame_len,
        });
    }
    let (content, stored) = bytes.split_at(bytes.len() - DIGEST_LEN);
    let mut stored_digest = [0; DIGEST_LEN];
    stored_digest.copy_from_slice(stored);
    if !digest_matches(&stored_digest, &digest(content, key, threads)) {
        return Err(Rejection::DigestMismatch);
    }
    Ok((&content[PREAMBLE_LEN..], stored_digest))
}

/// Rule 5, after the header's canonical check: each of its five record
/// shapes, in order, is the canonical encoding of a shape (`E-DECODE` for
/// the header, naming the system). Returns them decoded.
pub(crate) fn shapes(header: &Header) -> Result<[Shape; 5], Rejection> {
    let decoded = |system: System| {
        header.shapes[system.position()]
            .decoded
            .clone()
            .map_err(|e| Rejection::Undecodable {
                part: Part::Header,
                detail: format!("the {system} record shape: {e}"),
            })
    };
    Ok([
        decoded(System::Player)?,
        decoded(System::World)?,
        decoded(System::Npc)?,
        decoded(System::Item)?,
        decoded(System::Quest)?,
    ])
}

/// The header of a bundle, read without checking anything before it: for
/// bytes already known to pass rules 1 to 5 (a store naming what a
/// refused bundle's schema changed). `None` for anything else.
pub(crate) fn header_of(bytes: &[u8]) -> Option<Header> {
    let mut body = bytes.get(PREAMBLE_LEN..)?;
    take(&mut body, Part::Header).ok()
}

/// Rule 6: the section table names each system once, in order.
pub(crate) fn section_table(tags: &[u8]) -> Result<(), Rejection> {
    let mut seen = [false; 5];
    for &tag in tags {
        let system = System::from_tag(tag).ok_or(Rejection::Frame {
            detail: "the section table names an unknown system tag",
        })?;
        if seen[system.position()] {
            return Err(Rejection::SectionDuplicated { system });
        }
        seen[system.position()] = true;
    }
    if let Some(missing) = System::ORDER.iter().find(|s| !seen[s.position()]) {
        return Err(Rejection::SectionMissing { system: *missing });
    }
    for (position, (&tag, expected)) in tags.iter().zip(System::ORDER).enumerate() {
        if tag != expected as u8 {
            let found = System::from_tag(tag).unwrap_or(expected);
            return Err(Rejection::SectionOrder {
                position,
                expected,
                found,
            });
        }
    }
    debug_assert_eq!(tags, CANONICAL_TABLE);
    Ok(())
}

/// Rule 7 for one section: the stamp, then the index.
pub(crate) fn stamp(body: &mut &[u8], system: System, header: &Header) -> Result<(), Rejection> {
    let part = Part::Section(system);
    let stamp: SectionStamp = take(body, part)?;
    if stamp.system != system as u8 {
        return Err(Rejection::Frame {
            detail: "a section's tag differs from the section table",
        });
    }
    if stamp.shard != header.shard {
        return Err(Rejection::ShardMixed {
            system,
            found: stamp.shard,
            bundle: header.shard,
        });
    }
    if stamp.epoch != header.epoch {
        return Err(Rejection::EpochMixed {
            system,
            found: stamp.epoch,
            bundle: header.epoch,
        });
    }
    Ok(())
}

pub(crate) fn payload<'a>(body: &mut &'a [u8]) -> Result<&'a [u8], Rejection> {
    let Some((len, rest)) = body.split_first_chunk::<8>() else {
        return Err(Rejection::Truncated {
            part: "section payload length",
            needed: 8,
            available: body.len() as u64,
        });
    };
    let len = u64::from_le_bytes(*len);
    let Some(payload) = usize::try_from(len).ok().and_then(|n| rest.get(..n)) else {
        return Err(Rejection::Truncated {
            part: "section payload",
            needed: len,
            available: rest.len() as u64,
        });
    };
    *body = &rest[payload.len()..];
    Ok(payload)
}

/// Rules 1-8: everything that can be checked without the record types.
pub(crate) fn parse<'a>(
    bytes: &'a [u8],
    key: Option<&DigestKey>,
    threads: Threads,
) -> Result<Parsed<'a>, Rejection> {
    let (mut body, digest) = frame(bytes, key, threads)?;
    let header: Header = take(&mut body, Part::Header)?;
    let shapes = shapes(&header)?;
    let tags: Vec<u8> = take(&mut body, Part::SectionTable)?;
    section_table(&tags)?;

    let mut index = StructuralIndex::default();
    let mut payloads: [&[u8]; 5] = [&[]; 5];
    let mut section_len = [0u64; 5];
    for system in System::ORDER {
        let before = body.len();
        stamp(&mut body, system, &header)?;
        let part = Part::Section(system);
        match system {
            System::Player => {
                index.players = index_reader::players(&mut body, part)?;
                check::sorted_unique(system, index.players.iter().map(|p| p.0))?;
            }
            System::World => {
                index.zones = index_reader::zones(&mut body, part)?;
                check::sorted_unique(system, index.zones.iter().map(|z| z.0))?;
            }
            System::Npc => {
                index.npcs = index_reader::npcs(&mut body, part)?;
                check::npcs(&index.npcs, &index.zones)?;
            }
            System::Item => {
                index.items = index_reader::items(&mut body, part)?;
                check::items(&index.items, &index.players, &index.zones)?;
            }
            System::Quest => {
                index.quests = index_reader::quests(&mut body, part)?;
                check::quests(&index.quests, &index.players, &index.zones)?;
            }
        }
        payloads[system.position()] = payload(&mut body)?;
        section_len[system.position()] = (before - body.len()) as u64;
    }
    if !body.is_empty() {
        return Err(Rejection::TrailingBytes {
            part: Part::Section(System::Quest),
            extra: body.len() as u64,
        });
    }
    Ok(Parsed {
        header,
        shapes,
        index,
        payloads,
        section_len,
        digest,
        frame_len: bytes.len() as u64,
    })
}

/// Rule 10 for one section: decodes `count` records of type `T`, each in its
/// canonical encoding, and asks `matches` whether record `n` reproduces index
/// entry `n` (returning what differs if not).
pub(crate) fn records<T>(
    payload: &[u8],
    count: usize,
    system: System,
    mut matches: impl FnMut(usize, &T) -> Result<(), &'static str>,
) -> Result<Vec<T>, Rejection>
where
    T: for<'de> Deserialize<'de> + Serialize,
{
    // The count comes from the index, whose entries are real, but nothing
    // yet says the payload holds that many records: reserve no more than
    // the payload could hold at one byte a record, and no more than
    // RESERVE_PER_BYTE bytes of records per payload byte (a record type can
    // be far larger in memory than its smallest encoding; an enum with a
    // large variant encodes its small one in a byte). Past that, the vector
    // grows only as records actually decode.
    let mut out = vec_for::<T>(count, payload.len(), 1);
    let mut rest = payload;
    for n in 0..count {
        let record: T = take(&mut rest, Part::Record(system, n as u64))?;
        matches(n, &record).map_err(|detail| Rejection::IndexMismatch {
            system,
            position: n as u64,
            detail,
        })?;
        out.push(record);
    }
    if !rest.is_empty() {
        return Err(Rejection::TrailingBytes {
            part: Part::Payload(system),
            extra: rest.len() as u64,
        });
    }
    Ok(out)
}
