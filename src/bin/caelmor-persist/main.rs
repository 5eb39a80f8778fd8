//! `caelmor-persist`: run the crate end to end on a local file store, and
//! check, inspect and list what was saved.
//!
//! Built with the `cli` feature: `cargo run --release --features cli -- demo`.
//! With `postgres` as well (`--features cli,postgres`), every command also
//! works on a PostgreSQL store with `--pg URL`; without it, `--pg` is a
//! usage error that says how to build it.

#![forbid(unsafe_code)]

mod bundle;
mod common;
mod demo;
mod log;
mod out;
mod pg;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::common::Failure;
use crate::out::{Out, warn};

/// Save and restore an MMO shard's five persisted systems, all or nothing;
/// check what was saved.
#[derive(Debug, Parser)]
#[command(
    name = "caelmor-persist",
    version,
    after_help = "Start with `caelmor-persist demo`; then `log ./caelmor-data/shard-1`.\n\
                  Errors are one line starting with a stable code (E-DIGEST, E-STORE-CLAIMED, …).\n\
                  Exit status: 0 success, 1 a rejected file or a failure, 2 a usage error\n\
                  (which touches nothing). A reader that closes the output early (`| head`)\n\
                  does not change it: the command still does its work and says how it went."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Demo(DemoArgs),
    Verify(VerifyArgs),
    Inspect(InspectArgs),
    Log(LogArgs),
}

/// Shard sizes for `demo --size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Size {
    /// 468 records: 20 players, 8 zones, 60 NPCs, 300 items, 80 quests.
    Small,
    /// 131,064 records: 1,000 players, 64 zones, 10,000 NPCs, 100,000 items, 20,000 quests.
    Medium,
    /// 1.3 million records: 10,000 players, 256 zones, 100,000 NPCs, 1,000,000 items, 200,000 quests.
    Large,
}

/// Generate a reference shard, commit it to a file store, load it back,
/// restore and activate it, and show what happened.
///
/// Claims shard `--shard` in `--dir` (a directory per shard, created if
/// needed), saves the generated shard through the typestate chain as the
/// next epoch, commits it (write and fsync the bundle, link it under its
/// name, then create the next head record naming it: the commit point),
/// loads the latest epoch back with full verification, restores it in the
/// canon's order and activates all five systems together. Prints the epoch, the fence, per-system record
/// counts and bytes, the bundle size and the time of each phase.
///
/// Running it again commits the next epoch. While it runs, a second claim of
/// the same shard fails with E-STORE-CLAIMED.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  caelmor-persist demo\n  caelmor-persist demo --size large\n  caelmor-persist demo --dir /tmp/store --players 10 --items 50\n  caelmor-persist demo --pg postgresql://game@db.internal/caelmor"
)]
struct DemoArgs {
    /// The store's root directory; the shard lives in <DIR>/shard-<N>.
    #[arg(long, value_name = "DIR", default_value = "./caelmor-data")]
    dir: PathBuf,
    /// Use the PostgreSQL database at URL instead of --dir (tables created
    /// if absent; needs the tool built with the postgres feature).
    #[arg(long, value_name = "URL", conflicts_with = "dir")]
    pg: Option<String>,
    /// The shard to claim.
    #[arg(long, value_name = "N", default_value_t = 1)]
    shard: u64,
    /// The shard size preset; the per-system flags below override it.
    #[arg(long, value_enum, default_value_t = Size::Medium)]
    size: Size,
    /// Number of players.
    #[arg(long, value_name = "N")]
    players: Option<usize>,
    /// Number of zones.
    #[arg(long, value_name = "N")]
    zones: Option<usize>,
    /// Number of NPCs.
    #[arg(long, value_name = "N")]
    npcs: Option<usize>,
    /// Number of items (about a third nested in containers).
    #[arg(long, value_name = "N")]
    items: Option<usize>,
    /// Number of quest states.
    #[arg(long, value_name = "N")]
    quests: Option<usize>,
    /// Generator seed [default: the epoch being committed, so each run's
    /// world differs].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Epochs to keep; older ones are removed after a successful commit.
    #[arg(long, value_name = "N", default_value_t = 8)]
    retain: usize,
    /// Digest bundles with this key (32 raw bytes or 64 hex digits).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

/// Check bundle files, without knowing their schema.
///
/// Applies every rule of the format that needs no record types: framing,
/// digest, header, section table, per-section shard and epoch stamps,
/// canonical encoding and order, unique ids, every reference, item
/// containment. A file named like a store's bundle (epoch-<E>.fence-<F>.cpb)
/// must hold that epoch.
/// Prints one line per file: `ok` with a summary, or `REJECTED` with the code
/// and the reason. Exit status 0 only if every file is accepted.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  caelmor-persist verify ./caelmor-data/shard-1/*.cpb\n  caelmor-persist verify --pg postgresql://game@db.internal/caelmor --epoch 3"
)]
struct VerifyArgs {
    /// Bundle files to check.
    // Not `conflicts_with = "pg"`: clap would then waive `--epoch`'s
    // requirement of --pg whenever a file is given. Both at once is refused
    // in main.
    #[arg(value_name = "FILE", required_unless_present = "pg")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    pg: PgEpochArgs,
    /// Check digests with this key (32 raw bytes or 64 hex digits); bundles
    /// of a keyed store are rejected (E-DIGEST) without it.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

/// Show what a bundle holds: header, fence, epoch, schema, per-section
/// record counts and byte sizes, digest, and (with --index) its structural
/// index.
///
/// The bundle is verified first (as `verify` does); a rejected file is one
/// error line with its code and exit status 1.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  caelmor-persist inspect ./caelmor-data/shard-1/epoch-00000000000000000001.fence-00000000000000000001.cpb\n  caelmor-persist inspect --json --index FILE | jq .summary.epoch\n  caelmor-persist inspect --pg postgresql://game@db.internal/caelmor --shard 1 --epoch 3"
)]
struct InspectArgs {
    /// The bundle file.
    // Not `conflicts_with = "pg"`: clap would then waive `--epoch`'s
    // requirement of --pg whenever a file is given. Both at once is refused
    // in main.
    #[arg(value_name = "FILE", required_unless_present = "pg")]
    file: Option<PathBuf>,
    #[command(flatten)]
    pg: PgEpochArgs,
    /// Print JSON (for scripts) instead of text.
    #[arg(long)]
    json: bool,
    /// Also print the structural index: every id and reference.
    #[arg(long)]
    index: bool,
    /// Check the digest with this key (32 raw bytes or 64 hex digits).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

/// List the epochs committed in a shard directory, as its head records them:
/// size, fence, commit time (the file's modification time), schema, and
/// whether each can be used.
///
/// DIR is a shard directory (e.g. ./caelmor-data/shard-1), or a store root,
/// whose shard-<N> directories are listed one after the other. Nothing is
/// created, claimed or written, and no schema type is needed: every
/// committed epoch's file is read as a store reads it and checked as
/// `verify` checks it, and each problem is named for what it is:
/// DAMAGED (missing, not the bundle committed, or refused by a rule of the
/// format: E-STORE-DAMAGED with the rule), UNREADABLE (not a regular file,
/// an I/O error), OTHER SHARD (a bundle whose header names another shard),
/// OTHER KEY (E-STORE-KEY: the shard records its key's fingerprint, and the
/// --key-file given is another one, or missing), OTHER SCHEMA (E-STORE-SCHEMA,
/// with --schema). Bundles no head names are listed as not committed, and
/// leftover temporary files are noted. Exit status 0 only if the latest
/// epoch can be loaded and every committed epoch is sound (an older epoch
/// under another schema, as a migration leaves, is shown but not a problem).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  caelmor-persist log ./caelmor-data/shard-1\n  caelmor-persist log --key-file shard.key --schema caelmor-reference:1 ./caelmor-data\n  caelmor-persist log --pg postgresql://game@db.internal/caelmor"
)]
struct LogArgs {
    /// The shard directory, or a store root.
    #[arg(value_name = "DIR", required_unless_present = "pg")]
    dir: Option<PathBuf>,
    /// List the shards of the PostgreSQL database at URL instead (nothing
    /// is created, claimed or written; needs the tool built with the
    /// postgres feature).
    // Not `conflicts_with = "dir"`: clap would then waive `--shard`'s
    // requirement of --pg whenever a directory is given. Both at once is
    // refused in main.
    #[arg(long, value_name = "URL")]
    pg: Option<String>,
    /// With --pg: only this shard [default: every shard in the database].
    #[arg(long, value_name = "N", requires = "pg")]
    shard: Option<u64>,
    /// Check digests with this key (32 raw bytes or 64 hex digits).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// The schema the shard's server reads, as NAME:VERSION (e.g.
    /// caelmor-reference:1): an epoch written under another is OTHER SCHEMA.
    #[arg(long, value_name = "NAME:VERSION", value_parser = parse_schema)]
    schema: Option<SchemaArg>,
}

/// One committed epoch of a PostgreSQL store, for `verify` and `inspect`.
#[derive(Debug, Args)]
struct PgEpochArgs {
    /// Read the epoch from the PostgreSQL database at URL instead of a file
    /// (nothing is created, claimed or written; needs the tool built with
    /// the postgres feature).
    #[arg(id = "pg", long = "pg", value_name = "URL", requires = "epoch")]
    url: Option<String>,
    /// With --pg: the epoch.
    #[arg(long, value_name = "N", requires = "pg")]
    epoch: Option<u64>,
    /// With --pg: the shard.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "pg")]
    shard: u64,
}

/// A schema name and version, from `--schema NAME:VERSION`.
#[derive(Clone, Debug)]
struct SchemaArg {
    name: String,
    version: u32,
}

fn parse_schema(text: &str) -> Result<SchemaArg, String> {
    let (name, version) = text
        .rsplit_once(':')
        .ok_or_else(|| "expected NAME:VERSION, e.g. caelmor-reference:1".to_owned())?;
    let version = version
        .parse()
        .map_err(|_| format!("{version:?} is not a schema version (a number)"))?;
    if name.is_empty() {
        return Err("the schema name is empty".to_owned());
    }
    Ok(SchemaArg {
        name: name.to_owned(),
        version,
    })
}

/// What a command reports: success, or some files rejected (already
/// printed).
enum Outcome {
    Success,
    Rejected,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (result, out) = match &cli.command {
        Command::Demo(args) => {
            if args.pg.is_some() {
                pg::available("demo");
            }
            // Usage errors are found before anything is opened, claimed or
            // created.
            let spec = demo::spec(args).unwrap_or_else(|message| usage_error("demo", &message));
            let mut out = Out::eager();
            let result = demo::run(args, spec, &mut out).map(|()| Outcome::Success);
            (result, out)
        }
        // Each file's line as soon as it is checked.
        Command::Verify(args) => {
            if args.pg.url.is_some() {
                if !args.files.is_empty() {
                    usage_error(
                        "verify",
                        "give bundle files, or --pg URL --epoch N, not both",
                    );
                }
                pg::available("verify");
            }
            let mut out = Out::eager();
            (bundle::verify(args, &mut out), out)
        }
        // Up to millions of index lines: written in large blocks.
        Command::Inspect(args) => {
            if args.pg.url.is_some() {
                if args.file.is_some() {
                    usage_error(
                        "inspect",
                        "give a bundle file, or --pg URL --epoch N, not both",
                    );
                }
                pg::available("inspect");
            }
            let mut out = Out::buffered();
            (bundle::inspect(args, &mut out), out)
        }
        Command::Log(args) => {
            let mut out = Out::eager();
            let result = match (&args.pg, &args.dir) {
                (Some(_), Some(_)) => {
                    usage_error("log", "give a shard directory, or --pg URL, not both")
                }
                (Some(url), None) => {
                    pg::available("log");
                    pg::log(url, args, &mut out)
                }
                (None, Some(dir)) => log::run(args, dir, &mut out),
                (None, None) => usage_error("log", "give a shard directory, or --pg URL"),
            };
            (result, out)
        }
    };
    // Standard output first, so that an error line comes after it.
    let output = out.finish();
    let mut status = match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected) => ExitCode::FAILURE,
        Err(failure) => {
            warn(format_args!("caelmor-persist: {failure}"));
            ExitCode::FAILURE
        }
    };
    if let Err(error) = output {
        warn(format_args!(
            "caelmor-persist: E-OUTPUT: cannot write to standard output: {error}"
        ));
        status = ExitCode::FAILURE;
    }
    status
}

/// Exits with clap's usage error (status 2) for `subcommand`.
fn usage_error(subcommand: &str, message: &str) -> ! {
    let mut cli = Cli::command();
    // Built, so that the subcommand's usage line carries the tool's name.
    cli.build();
    let error = match cli.find_subcommand_mut(subcommand) {
        Some(command) => command.error(clap::error::ErrorKind::ValueValidation, message),
        None => cli.error(clap::error::ErrorKind::ValueValidation, message),
    };
    error.exit()
}

/// Builds the error for a `Result<_, Failure>` context.
type CliResult<T> = Result<T, Failure>;
