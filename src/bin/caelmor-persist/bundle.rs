//! `verify` and `inspect`: one bundle file at a time, schema-agnostic.

use std::path::Path;

use caelmor_persist::format::StructuralIndex;
use caelmor_persist::{DigestKey, ItemLocation, Summary, Verified, verify as check};
use serde::Serializer as _;
use serde::ser::SerializeMap;

use crate::common::{Failure, options_for, read_bundle, read_key, shown};
use crate::out::{Out, outln};
use crate::{CliResult, InspectArgs, Outcome, VerifyArgs};

fn key(path: Option<&Path>) -> CliResult<Option<DigestKey>> {
    path.map(read_key).transpose()
}

/// Reads and verifies one file; the failure line carries the code.
fn verified(path: &Path, key: Option<&DigestKey>) -> CliResult<Verified> {
    let bytes = read_bundle(path)?;
    Ok(check(&bytes, &options_for(path, key))?)
}

fn records(summary: &Summary) -> u64 {
    summary.sections.iter().map(|s| s.records).sum()
}

/// The one-line summary of an accepted bundle.
pub(crate) fn brief(summary: &Summary) -> String {
    format!(
        "{} {} {}, schema {} v{}, {} records, {} bytes, digest {}",
        summary.shard,
        summary.epoch,
        summary.fence,
        summary.schema_name,
        summary.schema_version,
        records(summary),
        summary.total_bytes,
        &summary.digest_hex()[..16]
    )
}

/// Checks every file even once nobody reads the report: the exit status
/// says whether all of them were accepted.
pub(crate) fn verify(args: &VerifyArgs, out: &mut Out) -> CliResult<Outcome> {
    let key = key(args.key_file.as_deref())?;
    let (mut accepted, mut rejected) = (0usize, 0usize);
    let mut sources: Vec<(String, CliResult<Verified>)> = Vec::new();
    if let (Some(url), Some(epoch)) = (&args.pg.url, args.pg.epoch) {
        // A store that cannot be reached at all is the command's failure,
        // not a rejected bundle.
        let (name, result) = crate::pg::verified(url, args.pg.shard, epoch, key.as_ref())?;
        sources.push((name, result));
    }
    let files = args
        .files
        .iter()
        .map(|path| (shown(path), verified(path, key.as_ref())));
    for (name, result) in sources.into_iter().chain(files) {
        match result {
            Ok(v) => {
                accepted += 1;
                outln!(out, "ok        {name}: {}", brief(&v.summary));
            }
            Err(failure) => {
                rejected += 1;
                outln!(out, "REJECTED  {name}: {failure}");
            }
        }
    }
    outln!(out, "{accepted} accepted, {rejected} rejected");
    Ok(if rejected == 0 {
        Outcome::Success
    } else {
        Outcome::Rejected
    })
}

pub(crate) fn inspect(args: &InspectArgs, out: &mut Out) -> CliResult<Outcome> {
    let key = key(args.key_file.as_deref())?;
    // The bundle's bytes are dropped here: only the summary and the index
    // are kept while the report is written.
    let (name, result) = match (&args.file, &args.pg.url, args.pg.epoch) {
        (Some(file), _, _) => (shown(file), verified(file, key.as_ref())),
        (None, Some(url), Some(epoch)) => {
            crate::pg::verified(url, args.pg.shard, epoch, key.as_ref())?
        }
        _ => crate::usage_error("inspect", "give a bundle file, or --pg URL --epoch N"),
    };
    if args.json {
        let outcome = if result.is_ok() {
            Outcome::Success
        } else {
            Outcome::Rejected
        };
        match write_json(out, &name, args, key.is_some(), &result) {
            Ok(()) => outln!(out),
            // A closed pipe is recorded by `out` and is not the command's
            // failure; any other write error is reported by `out` too.
            Err(e) if e.is_io() => {}
            Err(e) => return Err(Failure::new("E-JSON", e)),
        }
        return Ok(outcome);
    }
    let v = result?;
    let s = &v.summary;
    outln!(
        out,
        "{}{name}",
        if args.file.is_some() {
            "file      "
        } else {
            "from      "
        }
    );
    outln!(
        out,
        "format    caelmor-persist bundle, format version {}",
        s.format_version
    );
    outln!(out, "shard     {}", s.shard);
    outln!(out, "epoch     {}", s.epoch);
    outln!(out, "fence     {}", s.fence);
    outln!(out, "schema    {} v{}", s.schema_name, s.schema_version);
    outln!(out, "size      {} bytes", s.total_bytes);
    outln!(
        out,
        "digest    {} ({})",
        s.digest_hex(),
        if key.is_some() {
            "keyed BLAKE3, verified with the key"
        } else {
            "BLAKE3, verified"
        }
    );
    outln!(out);
    outln!(
        out,
        "  {:<8} {:>10} {:>14} {:>14}",
        "section",
        "records",
        "bytes",
        "payload bytes"
    );
    for section in s.sections {
        outln!(
            out,
            "  {:<8} {:>10} {:>14} {:>14}",
            section.system,
            section.records,
            section.bytes,
            section.payload_bytes
        );
    }
    // The record types that wrote it: what a server's record types must
    // match to load it, and what a migration from it starts from.
    outln!(out);
    outln!(out, "  {:<8} {:<16}  record type", "shape", "fingerprint");
    for (section, shape) in s.sections.iter().zip(&v.shapes) {
        let fingerprint = shape.fingerprint().to_string();
        outln!(
            out,
            "  {:<8} {:<16}  {shape}",
            section.system,
            &fingerprint[..16]
        );
    }
    if args.index {
        outln!(out);
        print_index(out, &v.index);
    }
    Ok(Outcome::Success)
}

/// Writes the JSON report straight to standard output, entry by entry:
/// serde's derived `Serialize` walks the index's lists as it writes them,
/// so the only copy of the index is the verified one (building a
/// `serde_json::Value` tree and a `String` of the 28.8 MiB large shard's
/// index took 1.8 GiB).
fn write_json(
    out: &mut Out,
    name: &str,
    args: &InspectArgs,
    keyed: bool,
    result: &CliResult<Verified>,
) -> Result<(), serde_json::Error> {
    let mut json = serde_json::Serializer::pretty(out);
    let mut map = (&mut json).serialize_map(None)?;
    // A file's path, or where in a database the epoch was read.
    map.serialize_entry(
        if args.file.is_some() {
            "file"
        } else {
            "source"
        },
        name,
    )?;
    match result {
        Ok(v) => {
            map.serialize_entry("accepted", &true)?;
            map.serialize_entry("keyed", &keyed)?;
            map.serialize_entry("summary", &v.summary)?;
            if args.index {
                map.serialize_entry("index", &v.index)?;
            }
        }
        Err(failure) => {
            map.serialize_entry("accepted", &false)?;
            map.serialize_entry("code", failure.code())?;
            map.serialize_entry("message", &failure.to_string())?;
        }
    }
    map.end()
}

fn location(l: ItemLocation) -> String {
    match l {
        ItemLocation::Zone(z) => format!("in {z}"),
        ItemLocation::Player(p) => format!("held by {p}"),
        ItemLocation::Container(i) => format!("inside {i}"),
    }
}

/// The index as text. Only output is left to do, so once the reader has
/// gone away (`| head`), it stops.
fn print_index(out: &mut Out, index: &StructuralIndex) {
    outln!(out, "structural index");
    for p in &index.players {
        outln!(out, "  {p}");
    }
    for z in &index.zones {
        outln!(out, "  {z}");
    }
    for n in &index.npcs {
        if !out.is_open() {
            return;
        }
        outln!(out, "  {} in {}", n.id, n.zone);
    }
    for i in &index.items {
        if !out.is_open() {
            return;
        }
        match i.owner {
            Some(owner) => outln!(out, "  {} {}, owned by {owner}", i.id, location(i.location)),
            None => outln!(out, "  {} {}", i.id, location(i.location)),
        }
    }
    for q in &index.quests {
        if !out.is_open() {
            return;
        }
        let zones: Vec<String> = q.zones.iter().map(ToString::to_string).collect();
        outln!(out, "  {} of {}, zones {}", q.id, q.owner, zones.join(" "));
    }
}
