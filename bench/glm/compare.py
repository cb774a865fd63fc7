"""Reads the JSON lines of glm-bench and anchors.py and prints the comparison table.

Usage: python3 compare.py RESULTS.jsonl
Coefficient agreement is the largest |b - b_ref| / max(|b_ref|, 1e-3) against statsmodels
fitted to tol=1e-12 (the 1e-3 floor keeps near-zero coefficients from inflating the ratio).
"""
import json, sys

rows, peak = {}, {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "peak_rss_mb" in d:
        peak[d["library"]] = d["peak_rss_mb"]
    else:
        rows[(d["library"], d["model"])] = d

def agreement(lib, model):
    # statsmodels at tol 1e-12 where it completes; its default fit (tol 1e-8) for Tweedie.
    ref = rows.get(("statsmodels-tight", model)) or rows.get(("statsmodels", model))
    got = rows.get((lib, model))
    if not ref or not got:
        return float("nan")
    worst = 0.0
    for k, b_ref in ref["coefficients"].items():
        b = got["coefficients"].get(k)
        if b is None:
            return float("inf")
        worst = max(worst, abs(b - b_ref) / max(abs(b_ref), 1e-3))
    return worst

libs = ["kebao", "glum", "glum-tight", "statsmodels"]
print(f"{'model':<9} " + " ".join(f"{l + ' fit s':>17}" for l in libs) + f" {'glum/kebao':>11} {'sm/kebao':>9}")
for model in ["poisson", "gamma", "tweedie"]:
    t = {l: rows.get((l, model), {}).get("fit_s", float("nan")) for l in libs}
    print(f"{model:<9} " + " ".join(f"{t[l]:>17.3f}" for l in libs) + f" {t['glum'] / t['kebao']:>11.2f} {t['statsmodels'] / t['kebao']:>9.1f}")
print()
print(f"{'model':<9} " + " ".join(f"{l + ' iters':>17}" for l in libs))
for model in ["poisson", "gamma", "tweedie"]:
    print(f"{model:<9} " + " ".join(f"{str(rows.get((l, model), {}).get('iterations', '-')):>17}" for l in libs))
print()
print("largest relative coefficient difference from statsmodels (tol 1e-12; Tweedie: default tol 1e-8):")
for model in ["poisson", "gamma", "tweedie"]:
    print(f"  {model:<9} " + "  ".join(f"{l}: {agreement(l, model):.1e}" for l in ["kebao", "glum", "glum-tight", "statsmodels"]))
print()
print("end to end (load CSV + three fits), s:")
for l in libs:
    r = [rows.get((l, m)) for m in ["poisson", "gamma", "tweedie"]]
    if all(r):
        print(f"  {l:<12} load {r[0]['load_s']:.2f} + fits {sum(x['fit_s'] for x in r):.2f} = {r[0]['load_s'] + sum(x['fit_s'] for x in r):.2f}")
print()
print("peak resident memory of the process (data + three fits), MB:")
for l, mb in peak.items():
    print(f"  {l:<18} {mb:8.0f}")
print()
print("end to end, Poisson (read the CSV + fit; Kebao also predicts every row), s:")
k, g = rows.get(("kebao", "poisson")), rows.get(("glum", "poisson"))
if k and g:
    tk = k["load_s"] + k["fit_s"] + k.get("score_s", 0.0)
    tg = g["load_s"] + g["fit_s"]
    print(f"  kebao  read {k['load_s']:.3f} + fit {k['fit_s']:.3f} + predict {k.get('score_s', 0.0):.3f} = {tk:.3f}")
    print(f"  glum   load {g['load_s']:.3f} + fit {g['fit_s']:.3f} = {tg:.3f}")
    print(f"  glum / kebao: {tg / tk:.2f}x (Kebao's read: {100 * k['load_s'] / tk:.0f} % of its time)")
