"""A credit data set for the scorecard benchmark, fixed seed: 1,000,000 rows, 10 numeric
variables (two with about 5 % missing), 5 categorical, about 8 % bad.
Usage: python3 make_data.py OUT.csv [ROWS]
"""
import sys
import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(20201009)
num = rng.normal(size=(n, 10))
num[:, 3] = np.exp(num[:, 3])            # skewed
num[:, 7] = np.round(np.abs(num[:, 7]) * 10)
cats = {
    "region": (rng.integers(0, 12, n), 12),
    "industry": (rng.integers(0, 20, n), 20),
    "stage": (rng.integers(0, 6, n), 6),
    "legal_form": (rng.integers(0, 4, n), 4),
    "bank": (rng.integers(0, 9, n), 9),
}
eff = {k: rng.normal(0, 0.35, size) for k, (_, size) in cats.items()}
lin = -2.55 + num[:, 0] * 0.6 - num[:, 1] * 0.4 + 0.3 * np.log(num[:, 3]) + 0.25 * (num[:, 5] ** 2 - 1) - 0.02 * num[:, 7]
for k, (codes, _) in cats.items():
    lin += eff[k][codes]
bad = rng.random(n) < 1 / (1 + np.exp(-lin))
miss1 = rng.random(n) < 0.05
miss2 = rng.random(n) < 0.05
with open(out, "w") as f:
    f.write(",".join([f"x{i}" for i in range(10)] + list(cats) + ["bad"]) + "\n")
    for r in range(n):
        xs = ["" if (i == 2 and miss1[r]) or (i == 6 and miss2[r]) else f"{num[r, i]:.5f}" for i in range(10)]
        cs = [f"{k[:3]}{cats[k][0][r]}" for k in cats]
        f.write(",".join(xs + cs + [str(int(bad[r]))]) + "\n")
print(f"{out}: {n} rows, bad rate {bad.mean():.4f}")
