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
        echo "  $test: $why"
      done
  fi
done
exit "$survived"
