#!/usr/bin/env bash
# The machine's durable-commit limits (issue 17): the ceiling any one-commit-per-command
# write path meets. SQLite: one writer, WAL, synchronous=FULL, one one-row insert per commit.
# PostgreSQL: pgbench with a one-row insert script, 1 client and 64 clients (synchronous_commit on).
# Usage: bench/commit/run.sh [postgres-url]   (default postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
url=${1:-postgres://postgres@127.0.0.1:5432/postgres}
secs=${SECS:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/commit.db" "$secs" <<'PY'
import sqlite3, sys, time
db, secs = sys.argv[1], float(sys.argv[2])
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=FULL")
c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < secs:
    c.execute("BEGIN IMMEDIATE"); c.execute("INSERT INTO t (v) VALUES ('x')"); c.execute("COMMIT"); n += 1
dt = time.perf_counter() - t0
print(f"sqlite  WAL synchronous=FULL, 1 writer: {n / dt:8.0f} commits/s ({n} in {dt:.1f} s)")
PY
psql -q "$url" -c "DROP TABLE IF EXISTS kebao_commit_bench; CREATE TABLE kebao_commit_bench (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)"
echo "INSERT INTO kebao_commit_bench (v) VALUES ('x');" > "$dir/insert.sql"
for c in 1 64; do
  j=$(( c < 2 ? 1 : 2 ))
  tps=$(pgbench -n -c "$c" -j "$j" -T "$secs" -f "$dir/insert.sql" "$url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  printf 'postgres synchronous_commit=on, %2d clients: %8.0f commits/s\n' "$c" "$tps"
done
psql -q "$url" -c "DROP TABLE kebao_commit_bench"
