#!/usr/bin/env bash
# Scorecard benchmark: Kebao vs optbinning (BinningProcess + Scorecard), one thread each,
# same data and split (first 700k rows train, last 300k test), timed end to end: reading the
# CSV, binning + WoE + fit, scoring the test rows. Then `kebao fit scorecard` on the same file
# as a user runs it, with its wall time and peak memory. Needs pip install optbinning.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${ROWS:-1000000}
data=${DATA:-/tmp/kebao-credit-$rows.csv}
target_dir=${CARGO_TARGET_DIR:-target}
[ -f "$data" ] || python3 bench/scorecard/make_data.py "$data" "$rows"
cargo build --release -q -p kebao -p kebao-bench
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
k=$("$target_dir/release/scorecard-bench" "$data" 2>/dev/null)
o=$(python3 bench/scorecard/optbinning_bench.py "$data" 2>/dev/null)
python3 - "$k" "$o" <<'PY'
import json, sys
k, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'':12} {'read s':>8} {'fit s':>8} {'score s':>8} {'total s':>8} {'test AUC':>9}")
tot = {}
for name, r in (("Kebao", k), ("optbinning", o)):
    tot[name] = r["load_s"] + r["fit_s"] + r["score_s"]
    print(f"{name:12} {r['load_s']:>8.3f} {r['fit_s']:>8.3f} {r['score_s']:>8.3f} {tot[name]:>8.3f} {r['test_auc']:>9.4f}")
print(f"Kebao's read: {100 * k['load_s'] / tot['Kebao']:.0f} % of its end-to-end time")
print(f"optbinning / Kebao, end to end (read + binning + WoE + fit + scoring): {tot['optbinning'] / tot['Kebao']:.1f}x")
PY
size=$(stat -c %s "$data")
log=$(mktemp)
/usr/bin/time -v "$target_dir/release/kebao" fit scorecard --data "$data" --target bad > /dev/null 2> "$log"
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
python3 - "$size" "$rss" "$wall" <<'PY'
import sys
size, rss, wall = int(sys.argv[1]), int(sys.argv[2]) * 1024, sys.argv[3]
print(f"kebao fit scorecard --target bad: wall {wall}, peak resident {rss / 1e6:.0f} MB "
      f"= {rss / size:.2f}x the file ({size / 1e6:.0f} MB)")
PY
rm -f "$log"
