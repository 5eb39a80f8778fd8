#!/usr/bin/env bash
# Plants known bugs in the crate, one at a time, and checks that each makes
# a test fail (issue 11: evidence that can fail). Runs on a copy of HEAD
# (git archive), so the working tree is never touched; commit first.
#
#   scripts/plant-bugs.sh            every plant
#   scripts/plant-bugs.sh a c        only the plants named a and c
#
# Each plant is one perl substitution that must match exactly once (so a
# plant that no longer applies is reported, not silently skipped), and the
# cargo test arguments of the suites expected to catch it. The script prints
# which tests failed for each plant and exits non-zero if any plant survives
# or does not apply.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A target directory of its own: the planted builds never mix with the
# working tree's.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/plant-bugs}"

# name|file|perl substitution|cargo test arguments
plants=(
  # The shard directory's sync (which makes a linked bundle or head
  # durable) aimed at the store root instead.
  'a|src/store/file/mod.rs|s{\.sync_dir\(self\.dir\.path\(\)\)}{.sync_dir(self.dir.path().parent().expect("a root"))}|--lib store::file'
  # No directory sync between linking the bundle and creating the head
  # that names it.
  'b|src/store/file/mod.rs|s{(// The bundle.s name must be durable before a head names it\.\n\s*)self\.sync_dir\(\)\?;}{$1}|--lib store::file'
  # No sync of the root (the new shard directory's parent) at the
  # shard's first claim.
  'c|src/store/file/mod.rs|s{for dir in \[root, root\.and_then\(parent_of\)\]}{for dir in [root.and_then(parent_of)]}|--lib store::file'
  # The head created by rename(2), replacing whatever is there, instead of
  # link(2), which fails if the version exists.
  'd|src/store/file/mod.rs|s{let linked = self\.io\.link\(&temp, &target\);}{let linked = std::fs::rename(&temp, &target);}|--lib store::file'
  'd|src/store/file/mod.rs|s{let linked = self\.io\.link\(&temp, &target\);}{let linked = std::fs::rename(&temp, &target);}|--test races'
  # A bundle's temporary removed by a newer claim before its link reported
  # as an I/O error instead of a lost swap (E-STORE-FENCED).
  'e|src/store/file/mod.rs|s{if matches!\(&linked, Err\(e\) if self\.temp_removed\(e\)\)}{if false}|--lib store::file'
  'e|src/store/file/mod.rs|s{if matches!\(&linked, Err\(e\) if self\.temp_removed\(e\)\)}{if false}|--test races'
  # The survivors of the first audit (issue 11, items 1 and 2; (a) above
  # is its third).
  # The store admits any epoch from the next one on (`!=` weakened to `<`).
  'f|src/store/mod.rs|s{if record\.epoch != expected \{}{if record.epoch < expected \{}|--test stores --test truth_boundary'
  # The containment walk marks only the first item of a walked path as
  # rooted: the rest are met again as "on the path", a false cycle.
  'g|src/check.rs|s{for &p in &path \{}{for &p in path.iter().take(1) \{}|--test containment'
  # The guarantees of the bundle format.
  # Decode before digest: a bundle whose digest is wrong is checked only
  # once its header decodes, so damage in the header is reported as a
  # decoding failure instead of E-DIGEST.
  'h|src/format/reader.rs|s{if !digest_matches\(&stored_digest, &digest\(content, key, threads\)\) \{}{if !digest_matches(&stored_digest, &digest(content, key, threads)) && take::<Header>(&mut &content[PREAMBLE_LEN..], Part::Header).is_ok() \{}|--test rejections --test corruption'
  # Bytes left after a section's last record accepted.
  'i|src/format/reader.rs|s{if !rest\.is_empty\(\) \{}{if false \{}|--test rejections --test corruption'
  # Records never compared with their index entries (rule 10).
  'j|src/format/reader.rs|s{matches\(n, &record\)\.map_err\(}{Ok::<(), &str>(()).map_err(}|--test rejections --test corruption'
  # The shapes of the record types that wrote a bundle never compared
  # with the reader's (E-SHAPE).
  'k|src/verify.rs|s{ShapeMismatch::between\(system, found, expected\) \{}{ShapeMismatch::between(system, found, expected).and(None::<ShapeMismatch>) \{}|--test schema_change'
  # The seal's proof that each record decodes to what its index entry
  # says (E-RECORD-ROUNDTRIP) skipped.
  'l|src/format/writer.rs|s{if !compare\.same \{}{if false \{}|--test every_seal_opens'
  # The store's guarantees.
  # A commit checks the authority's fence but not the bundle's: a bundle
  # sealed before a newer claim lands under the new authority.
  'm|src/store/mod.rs|s{for found in \[authority\.fence, sealed\.fence\(\)\]}{for found in [authority.fence]}|--test file_store --test stores'
  # A bundle sealed under another store's authority committed by this
  # store's authority.
  'n|src/store/mod.rs|s{if authority\.store != self\.id \x7c\x7c sealed\.store != self\.id \{}{if authority.store != self.id \{}|--test file_store --test stores'
  # A damaged latest epoch falls back to the newest older one that reads.
  'o|src/store/mod.rs|s{let opened = self\.read_latest_as::<S>\(&latest\)\?;}{let opened = match self.read_latest_as::<S>(&latest) { Ok(opened) => opened, Err(error) => { let mut older = None; for s in committed_candidates(&self.backend.list()?, &latest) { if s.epoch < latest.epoch { older = older.max(Some(s)); } } let Some(older) = older else { return Err(error) }; let Some(bytes) = self.backend.read(older, self.config.max_bundle_len)? else { return Err(error) }; let options = VerifyOptions::for_schema::<S>(shapes_of::<S>()?, self.shard(), older.epoch, self.config.key.as_ref()); match typed_reader::read::<S>(&bytes, &options) { Ok(opened) => opened, Err(_) => return Err(error) } } };}|--test truth_boundary --test file_store --test stores'
  # A shard keyed otherwise (or not at all) read and claimed anyway.
  'p|src/store/mod.rs|s{if head\.key == self\.key \{}{if true \{}|--test truth_boundary --test file_store'
  # Restore's provenance: a load of another store restored.
  'q|src/restore.rs|s{if store != authority\.store \{}{if false \{}|--test truth_boundary --test stores'
  # Restore's provenance: a load made under an older claim restored by a
  # newer authority (only a superseded authority refused).
  'r|src/restore.rs|s{if fence != authority\.fence \x7c\x7c !authority\.is_current\(\) \{}{if !authority.is_current() \{}|--test truth_boundary --test stores'
  # A migration by a superseded authority.
  's|src/store/mod.rs|s{if authority\.fence != head\.fence \x7c\x7c !authority\.is_current\(\) \{}{if false \{}|--test migrate'
  # A migration by another store's authority.
  't|src/store/mod.rs|s{if authority\.store != self\.id \{}{if false \{}|--test migrate'
  # A new store's root not synced into its parent at the first claim: a
  # power loss can take the whole store with an acknowledged claim and
  # commit.
  'u|src/store/file/mod.rs|s{for dir in \[root, root\.and_then\(parent_of\)\]}{for dir in [root]}|--lib store::file'
  # Threads::One ignored: the scoped join still starts its thread (the
  # item section's decode on a load), the writer still splits a large
  # section, the digest still hashes in two halves.
  'v|src/parallel.rs|s{    if threads == Threads::One \{}{    if false \{}|--test one_thread'
  'w|src/format/writer.rs|s{Threads::One => records\.len\(\),}{Threads::One => split_point(records.len()),}|--test one_thread'
  'x|src/format/digest.rs|s{if threads == Threads::Two && bytes\.len\(\) >= TWO_THREADS_FROM \{}{if bytes.len() >= TWO_THREADS_FROM \{}|--test one_thread'
)

want=("$@")
survived=0
for plant in "${plants[@]}"; do
  IFS='|' read -r name file subst args <<<"$plant"
  if [[ ${#want[@]} -gt 0 && ! " ${want[*]} " =~ " $name " ]]; then
    continue
  fi
  rm -rf "$work/tree"
  mkdir -p "$work/tree"
  git archive HEAD | tar -x -C "$work/tree"
  if ! PLANT="$subst" perl -0pi -e '$n = eval $ENV{PLANT}; die $@ if $@; die "matched " . ($n || 0) . " times\n" unless $n == 1' "$work/tree/$file"; then
    echo "plant $name: does not apply to $file"
    survived=1
    continue
  fi
  # shellcheck disable=SC2086 # the arguments are meant to split
  if (cd "$work/tree" && cargo test --features reference $args) >"$work/log" 2>&1; then
    echo "plant $name ($args): SURVIVED"
    survived=1
  elif ! grep -q '^test result' "$work/log"; then
    echo "plant $name ($args): does not build"
    tail -20 "$work/log"
    survived=1
  else
    echo "plant $name ($args): caught by"
    # Each failing test, with the first line of its first panic message:
    # a figure or a sequence that changed is a weaker catch than a broken
    # promise.
    grep -E '^test .* FAILED$' "$work/log" | sed -e 's/^test //' -e 's/ \.\.\. FAILED$//' |
      while read -r test; do
        why=$(awk -v t="$test" '
          $0 ~ "^---- " t " stdout ----$" { on = 1; next }
          on && /panicked at/ { getline; print; exit }' "$work/log")
        echo "  $test: ${why:0:200}"
      done
  fi
done
exit "$survived"
