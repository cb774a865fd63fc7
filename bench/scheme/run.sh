#!/usr/bin/env bash
# Scheme simulation (issue 20): `kebao scheme simulate` side by side with the numpy reference
# (../shared/bench/scheme_numpy_ref.py, run as it is), one thread each, on the same pool file:
# 100,000 scenarios × 5,000 loans with different principals and PDs.
#   bash bench/scheme/run.sh [SCENARIOS] [LOANS]
set -euo pipefail
cd "$(dirname "$0")/../.."
SCEN=${1:-100000}
LOANS=${2:-5000}
REF=${REF:-../shared/bench/scheme_numpy_ref.py}
POOL=/tmp/kebao-scheme-pool-$LOANS.csv
python3 bench/scheme/make_pool.py "$POOL" "$LOANS"
cargo build --release -q -p kebao
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
echo "== numpy reference"
python3 "$REF" --pool "$POOL" --rho 0.2 --insurer-share 0.8 --premium-rate 0.025 --threshold 1.2 \
    --fund-share 0.8 --fund-size 20000000 --scenarios "$SCEN" --seed 1 > /tmp/kebao-scheme-ref.json
echo "== kebao"
/usr/bin/time -f "kebao wall %e s, max RSS %M KB" target/release/kebao scheme simulate --scheme bench/scheme/scheme.toml \
    --pool "$POOL" --rho 0.2 --scenarios "$SCEN" --seed 1 --out /tmp/kebao-scheme-kebao.json | tee /tmp/kebao-scheme-kebao.txt
python3 - <<'PY'
import json, re
ref = json.load(open("/tmp/kebao-scheme-ref.json"))
k = json.load(open("/tmp/kebao-scheme-kebao.json"))
secs = float(re.search(r"in ([0-9.]+) s", open("/tmp/kebao-scheme-kebao.txt").read()).group(1))
print(f"numpy {ref['seconds']:.3f} s, kebao {secs:.3f} s: ratio {ref['seconds'] / secs:.2f}x")
def row(name, r, kk):
    se = max(r["se"], kk["se"])
    print(f"  {name:12s} mean numpy {r['mean']:>16,.0f}  kebao {kk['value']:>16,.0f}  diff {abs(r['mean'] - kk['value']) / se:5.2f} se")
row("gross", ref["gross"], k["gross"]["mean"])
row("insurer net", ref["insurer_net"], k["insurer"]["mean"])
row("bank", ref["bank"], k["bank"]["mean"])
row("fund", ref["fund"], k["fund"]["mean"])
for q, kq in (("var_990", "var_99"), ("var_999", "var_999"), ("es_990", "es_99")):
    print(f"  gross {kq}: numpy {ref['gross'][q]:,.0f}  kebao {k['gross'][kq]['value']:,.0f} (se {k['gross'][kq]['se']:,.0f})")
print(f"  P(fund pays) numpy {ref['p_fund_pays']:.4f} kebao {k['p_fund_pays']['value']:.4f} (se {k['p_fund_pays']['se']:.4f})")
print(f"  P(fund exhausted) numpy {ref['p_fund_exhausted']:.4f} kebao {k['p_fund_exhausted']['value']:.4f}")
PY
