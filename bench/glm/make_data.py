"""A freMTPL-like motor portfolio for the GLM benchmark, fixed seed.

1,000,000 policies; 5 categorical factors with 3 to 20 levels, 3 numeric variables,
exposure in (0, 1], claim frequency about 10 %, Gamma claim sizes.
Usage: python3 make_data.py OUT.csv [ROWS]
"""
import sys
import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(20201009)

def cat(levels, probs=None):
    k = len(levels)
    p = np.asarray(probs if probs is not None else rng.dirichlet(np.full(k, 4.0)))
    idx = rng.choice(k, size=n, p=p / p.sum())
    return np.asarray(levels)[idx], idx

area, area_i = cat(list("ABCDEF"))
power, power_i = cat([f"P{i:02d}" for i in range(4, 16)])
brand, brand_i = cat([f"B{i}" for i in (1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14)])
region, region_i = cat([f"R{i}" for i in range(11, 31)])
fuel, fuel_i = cat(["Diesel", "Electric", "Regular"], [0.48, 0.04, 0.48])
drivage = np.clip(rng.normal(45, 14, n), 18, 95).round()
vehage = np.clip(rng.exponential(7, n), 0, 40).round()
logdens = rng.normal(6.0, 1.8, n).round(3)
exposure = np.clip(rng.beta(2.0, 1.2, n), 0.005, 1.0).round(4)

eff = lambda k, s: rng.normal(0, s, k)
lin = (-2.35 + eff(6, 0.15)[area_i] + eff(12, 0.12)[power_i] + eff(11, 0.10)[brand_i]
       + eff(20, 0.15)[region_i] + np.array([0.05, -0.2, 0.0])[fuel_i]
       + 0.012 * (45 - drivage) / 10 - 0.01 * vehage + 0.05 * (logdens - 6))
claims = rng.poisson(exposure * np.exp(lin))
sev_mu = np.exp(7.3 + eff(6, 0.1)[area_i] + 0.05 * (logdens - 6) + np.array([0.1, 0.3, 0.0])[fuel_i])
shape = 1.5
amount = np.where(claims > 0, rng.gamma(shape * np.maximum(claims, 1), sev_mu / shape), 0.0).round(2)

with open(out, "w") as f:
    f.write("IDpol,ClaimNb,Exposure,Area,VehPower,VehBrand,Region,VehGas,DrivAge,VehAge,LogDensity,ClaimAmount\n")
    for row in zip(range(1, n + 1), claims, exposure, area, power, brand, region, fuel, drivage, vehage, logdens, amount):
        f.write("%d,%d,%.4f,%s,%s,%s,%s,%s,%d,%d,%.3f,%.2f\n" % row)
print(f"{out}: {n} rows, frequency {claims.sum() / exposure.sum():.4f}, {np.count_nonzero(claims)} policies with claims")
