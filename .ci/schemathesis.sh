#!/usr/bin/env bash
# Schemathesis over the whole JSON API: a fresh small demo zone, served on a free loopback
# port, fuzzed from its own OpenAPI document with every check, once with a bearer token
# (platform.admin) and once anonymously. Fails on any server error or schema violation.
#
#   .ci/schemathesis.sh [path/to/kebao]     (default: builds `kebao` with cargo)
#
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 5), SCHEMATHESIS_SEED (default 1),
# SCHEMATHESIS_VENV (default /tmp/kebao-schemathesis-venv), SCHEMATHESIS_REPORT (a directory
# for JUnit reports; default none).
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: v4 changed the CLI; a new release can bring new checks, taken on deliberately.
SCHEMATHESIS_VERSION=4.32.5
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-5}
seed=${SCHEMATHESIS_SEED:-1}
venv=${SCHEMATHESIS_VENV:-/tmp/kebao-schemathesis-venv}
config="$PWD/.ci/schemathesis.toml"

say() { printf '== %s\n' "$*"; }

# --- schemathesis ----------------------------------------------------------------------
st="$venv/bin/schemathesis"
if ! "$st" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv" || {
    echo "python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- the server ------------------------------------------------------------------------
if [ $# -ge 1 ]; then
  kebao=$1
else
  say "cargo build -p kebao"
  cargo build --quiet -p kebao
  kebao="${CARGO_TARGET_DIR:-$PWD/target}/debug/kebao"
fi

dir=$(mktemp -d /tmp/kebao-schemathesis.XXXXXX)
server=""
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap stop EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
say "kebao demo on $base (database and key in $dir)"
KEBAO_SIGNING_KEY="$dir/signing.key" KEBAO_LOG=warn \
  "$kebao" demo --database "sqlite://$dir/demo.db" --enterprises 20 --port "$port" >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$dir/server.log" >&2; echo "the demo server died" >&2; exit 1; fi
  sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null

token=$(curl -fsS -X POST "$base/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"username":"platform.admin","password":"kebao-demo-2026","name":"schemathesis"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# --- the runs --------------------------------------------------------------------------
# The two runs go side by side, one worker each: schemathesis's threads can trip over each
# other inside Python's `ast` (hypothesis describing its strategies), separate processes cannot.
run() {
  local name=$1; shift
  local report=()
  if [ -n "${SCHEMATHESIS_REPORT:-}" ]; then
    mkdir -p "$SCHEMATHESIS_REPORT"
    report=(--report junit --report-junit-path "$SCHEMATHESIS_REPORT/$name.xml")
  fi
  mkdir -p "$dir/$name"
  # From a scratch directory: schemathesis keeps a cache in its working directory.
  (cd "$dir/$name" && "$st" --config-file "$config" run "$base/api/v1/openapi.json" --url "$base" \
    --checks all --max-examples "$max_examples" --seed "$seed" --no-shrink --workers 1 \
    --request-timeout 30 --no-color "${report[@]}" "$@") >"$dir/$name.out" 2>&1
}

say "schemathesis $SCHEMATHESIS_VERSION, --checks all --max-examples $max_examples --seed $seed: authenticated (platform.admin) and anonymous"
run authenticated -H "Authorization: Bearer $token" & auth=$!
run anonymous & anon=$!
status=0
wait "$auth" || status=1
wait "$anon" || status=1
for name in authenticated anonymous; do
  say "schemathesis ($name)"
  cat "$dir/$name.out"
done
if [ "$status" != 0 ]; then
  echo "schemathesis found failures; the server's log:" >&2
  tail -n 50 "$dir/server.log" >&2 || true
fi
exit "$status"
