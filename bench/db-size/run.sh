#!/usr/bin/env bash
# Database size after CYCLES acting cycles (default 10000) of a basket with
# FILLS fills (default 2000): this tree ("after") and the commit before the
# retention change ("before", in a temporary git worktree sharing this
# target directory). Needs PostgreSQL at 127.0.0.1:5432 (TEST_DATABASE_URL),
# like the tests. Results: bench/db-size/README.md.
#
#   bench/db-size/run.sh [CYCLES [FILLS [VACUUM_EVERY]]]
#   BEFORE_REF=<commit> bench/db-size/run.sh      # another "before"
#   ONLY=after bench/db-size/run.sh                # one side only
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
cycles=${1:-10000}
fills=${2:-2000}
vacuum_every=${3:-60}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
out=$CARGO_TARGET_DIR/db-size
mkdir -p "$out"

# The commit before the one that added the bounded-events migration (HEAD
# while the change is not committed).
added=$(git log --diff-filter=A --format=%H -n1 -- migrations/2026-11-25-000020_bounded_events/up.sql || true)
before=${BEFORE_REF:-${added:+$added^}}
before=${before:-HEAD}

if [ "${ONLY:-}" != before ]; then
  echo "== after: this tree"
  cargo run -q --release -p bot-daemon --example db_size -- "$cycles" "$fills" "$vacuum_every" | tee "$out/after.txt"
fi

if [ "${ONLY:-}" != after ]; then
  echo "== before: $(git rev-parse --short "$before")"
  wt=$(mktemp -d /tmp/db-size-before.XXXXXX)
  git worktree add -q --detach "$wt" "$before"
  trap 'git -C "$root" worktree remove --force "$wt"' EXIT
  # The same bench without the retention settings, which do not exist there.
  sed '/after-only begin/,/after-only end/d' crates/bot-daemon/examples/db_size.rs > "$wt/crates/bot-daemon/examples/db_size.rs"
  (cd "$wt" && cargo run -q --release -p bot-daemon --example db_size -- "$cycles" "$fills" "$vacuum_every") | tee "$out/before.txt"
fi

echo "== summary"
grep -h '^RESULT' "$out"/after.txt "$out"/before.txt 2>/dev/null || true
