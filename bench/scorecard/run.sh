#!/usr/bin/env bash
# Scorecard benchmark: Kebao vs optbinning (BinningProcess + Scorecard), one thread each,
# same data and split (first 700k rows train, last 300k test). Needs pip install optbinning.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${ROWS:-1000000}
data=${DATA:-/tmp/kebao-credit-$rows.csv}
[ -f "$data" ] || python3 bench/scorecard/make_data.py "$data" "$rows"
cargo build --release -q -p kebao-bench
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
k=$(target/release/scorecard-bench "$data" 2>/dev/null)
o=$(python3 bench/scorecard/optbinning_bench.py "$data" 2>/dev/null)
python3 - "$k" "$o" <<'PY'
import json, sys
k, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
tk, to = k["fit_s"] + k["score_s"], o["fit_s"] + o["score_s"]
print(f"{'':12} {'load s':>8} {'fit s':>8} {'score s':>8} {'total s':>8} {'test AUC':>9}")
for name, r, t in (("Kebao", k, tk), ("optbinning", o, to)):
    print(f"{name:12} {r['load_s']:>8.2f} {r['fit_s']:>8.2f} {r['score_s']:>8.2f} {t:>8.2f} {r['test_auc']:>9.4f}")
print(f"optbinning / Kebao (binning + WoE + fit + scoring, data in memory): {to / tk:.1f}×")
PY
