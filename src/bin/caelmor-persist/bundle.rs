//! `verify` and `inspect`: one bundle file at a time, schema-agnostic.

use std::path::Path;

use caelmor_persist::format::StructuralIndex;
use caelmor_persist::{DigestKey, ItemLocation, Summary, Verified, verify as check};

use crate::common::{Failure, options_for, read_bundle, read_key, shown};
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

pub(crate) fn verify(args: &VerifyArgs) -> CliResult<Outcome> {
    let key = key(args.key_file.as_deref())?;
    let (mut accepted, mut rejected) = (0usize, 0usize);
    for path in &args.files {
        match verified(path, key.as_ref()) {
            Ok(v) => {
                accepted += 1;
                println!("ok        {}: {}", shown(path), brief(&v.summary));
            }
            Err(failure) => {
                rejected += 1;
                println!("REJECTED  {}: {failure}", shown(path));
            }
        }
    }
    println!("{accepted} accepted, {rejected} rejected");
    Ok(if rejected == 0 {
        Outcome::Success
    } else {
        Outcome::Rejected
    })
}

pub(crate) fn inspect(args: &InspectArgs) -> CliResult<Outcome> {
    let key = key(args.key_file.as_deref())?;
    let result = verified(&args.file, key.as_ref());
    if args.json {
        let value = match &result {
            Ok(v) => {
                let mut value = serde_json::json!({
                    "file": shown(&args.file),
                    "accepted": true,
                    "keyed": key.is_some(),
                    "summary": v.summary,
                });
                if args.index {
                    value["index"] =
                        serde_json::to_value(&v.index).map_err(|e| Failure::new("E-JSON", e))?;
                }
                value
            }
            Err(failure) => {
                serde_json::json!({
                    "file": shown(&args.file),
                    "accepted": false,
                    "code": failure.code(),
                    "message": failure.to_string(),
                })
            }
        };
        let text = serde_json::to_string_pretty(&value).map_err(|e| Failure::new("E-JSON", e))?;
        println!("{text}");
        return Ok(if result.is_ok() {
            Outcome::Success
        } else {
            Outcome::Rejected
        });
    }
    let v = result?;
    let s = &v.summary;
    println!("file      {}", shown(&args.file));
    println!(
        "format    caelmor-persist bundle, format version {}",
        s.format_version
    );
    println!("shard     {}", s.shard);
    println!("epoch     {}", s.epoch);
    println!("fence     {}", s.fence);
    println!("schema    {} v{}", s.schema_name, s.schema_version);
    println!("size      {} bytes", s.total_bytes);
    println!(
        "digest    {} ({})",
        s.digest_hex(),
        if key.is_some() {
            "keyed BLAKE3, verified with the key"
        } else {
            "BLAKE3, verified"
        }
    );
    println!();
    println!(
        "  {:<8} {:>10} {:>14} {:>14}",
        "section", "records", "bytes", "payload bytes"
    );
    for section in s.sections {
        println!(
            "  {:<8} {:>10} {:>14} {:>14}",
            section.system, section.records, section.bytes, section.payload_bytes
        );
    }
    // The record types that wrote it: what a server's record types must
    // match to load it, and what a migration from it starts from.
    println!();
    println!("  {:<8} {:<16}  record type", "shape", "fingerprint");
    for (section, shape) in s.sections.iter().zip(&v.shapes) {
        let fingerprint = shape.fingerprint().to_string();
        println!(
            "  {:<8} {:<16}  {shape}",
            section.system,
            &fingerprint[..16]
        );
    }
    if args.index {
        println!();
        print_index(&v.index);
    }
    Ok(Outcome::Success)
}

fn location(l: ItemLocation) -> String {
    match l {
        ItemLocation::Zone(z) => format!("in {z}"),
        ItemLocation::Player(p) => format!("held by {p}"),
        ItemLocation::Container(i) => format!("inside {i}"),
    }
}

fn print_index(index: &StructuralIndex) {
    println!("structural index");
    for p in &index.players {
        println!("  {p}");
    }
    for z in &index.zones {
        println!("  {z}");
    }
    for n in &index.npcs {
        println!("  {} in {}", n.id, n.zone);
    }
    for i in &index.items {
        match i.owner {
            Some(owner) => println!("  {} {}, owned by {owner}", i.id, location(i.location)),
            None => println!("  {} {}", i.id, location(i.location)),
        }
    }
    for q in &index.quests {
        let zones: Vec<String> = q.zones.iter().map(ToString::to_string).collect();
        println!("  {} of {}, zones {}", q.id, q.owner, zones.join(" "));
    }
}
