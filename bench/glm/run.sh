#!/usr/bin/env bash
# GLM benchmark: Kebao vs glum vs statsmodels on one freMTPL-like data set, one thread each.
# Needs: python3 with numpy, pandas, glum, statsmodels (pip install glum statsmodels).
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${ROWS:-1000000}
data=${DATA:-/tmp/kebao-fremtpl-$rows.csv}
out=${OUT:-bench/out/glm-$(date +%Y%m%d-%H%M%S).jsonl}
mkdir -p "$(dirname "$out")"
[ -f "$data" ] || python3 bench/glm/make_data.py "$data" "$rows"
cargo build --release -q -p kebao-bench
target_dir=${CARGO_TARGET_DIR:-target}
# One thread for everyone; unset the OpenBLAS core override so numpy runs its best kernel.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 RAYON_NUM_THREADS=1
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
"$target_dir/release/glm-bench" "$data" > "$out"
python3 bench/glm/anchors.py "$data" glum >> "$out"
python3 bench/glm/anchors.py "$data" glum --tight >> "$out"
python3 bench/glm/anchors.py "$data" statsmodels >> "$out"
python3 bench/glm/anchors.py "$data" statsmodels --tight >> "$out"
python3 bench/glm/compare.py "$out"
