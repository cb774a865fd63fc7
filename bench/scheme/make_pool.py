"""A pool for the scheme-simulation benchmark: N loans with different principals and PDs.

Usage: python3 make_pool.py OUT.csv [N] [SEED]  (columns principal,pd,lgd)
"""
import random, sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
with open(out, "w") as f:
    f.write("principal,pd,lgd\n")
    for _ in range(n):
        principal = rng.choice([100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000]) * rng.uniform(0.8, 1.2)
        pd = min(0.3, max(0.002, rng.lognormvariate(-4.0, 0.6)))  # median about 1.8 %
        f.write(f"{principal:.2f},{pd:.6f},0.45\n")
