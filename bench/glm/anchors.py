"""GLM benchmark, the anchors' side: glum and statsmodels on the same CSV and models as
`glm-bench`, one thread each. Prints one JSON line per model and the peak memory.

Usage: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \
       python3 anchors.py DATA.csv glum|statsmodels [--tight]
--tight fits statsmodels with tol=1e-12 (the exactness reference) and glum with
gradient_tol=1e-10 (glum at an accuracy comparable to Kebao's); the default run times
each library at its own default tolerance.
"""
import json, resource, sys, time
import numpy as np
import pandas as pd

path, library = sys.argv[1], sys.argv[2]
tight = "--tight" in sys.argv
FACTORS = ["Area", "VehPower", "VehBrand", "Region", "VehGas"]
NUMERIC = ["DrivAge", "VehAge", "LogDensity"]

t = time.perf_counter()
df = pd.read_csv(path, dtype={c: "category" for c in FACTORS})
for c in FACTORS:  # treatment coding, first level in sorted (byte) order as the reference
    df[c] = df[c].cat.reorder_categories(sorted(df[c].cat.categories))
load_s = time.perf_counter() - t

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

def names():
    out = []
    for c in FACTORS:
        out += [f"{c}{l}" for l in df[c].cat.categories[1:]]
    return out + NUMERIC

def report(model, fit_s, coef, extra=None):
    line = {"library": library + ("-tight" if tight else ""), "model": model, "load_s": load_s, "fit_s": fit_s,
            "coefficients": coef}
    line.update(extra or {})
    print(json.dumps(line), flush=True)

sev = df[df.ClaimNb > 0]
models = {
    "poisson": (df, df.ClaimNb.to_numpy(float), None, np.log(df.Exposure.to_numpy())),
    "gamma": (sev, (sev.ClaimAmount / sev.ClaimNb).to_numpy(), sev.ClaimNb.to_numpy(float), None),
    "tweedie": (df, (df.ClaimAmount / df.Exposure).to_numpy(), df.Exposure.to_numpy(), None),
}

if library == "glum":
    from glum import GeneralizedLinearRegressor, TweedieDistribution
    fams = {"poisson": "poisson", "gamma": "gamma", "tweedie": TweedieDistribution(1.5)}
    for model, (d, y, w, off) in models.items():
        X = d[FACTORS + NUMERIC]
        kw = {"gradient_tol": 1e-10} if tight else {}
        m = GeneralizedLinearRegressor(family=fams[model], link="log", alpha=0, drop_first=True, fit_intercept=True, **kw)
        t = time.perf_counter()
        m.fit(X, y, sample_weight=w, offset=off)
        fit_s = time.perf_counter() - t
        coef = {"(Intercept)": float(m.intercept_)}
        coef.update({n: float(b) for n, b in zip(m.feature_names_, m.coef_)})
        # glum names dummies "Area[B]"; map to R's "AreaB".
        coef = {k.replace("[", "").replace("]", ""): v for k, v in coef.items()}
        report(model, fit_s, coef, {"iterations": int(m.n_iter_)})
elif library == "statsmodels":
    import statsmodels.api as sm
    fams = {"poisson": sm.families.Poisson(), "gamma": sm.families.Gamma(sm.families.links.Log()),
            "tweedie": sm.families.Tweedie(var_power=1.5, link=sm.families.links.Log())}
    for model, (d, y, w, off) in models.items():
        if tight and model == "tweedie":
            # statsmodels' Tweedie fit at tol=1e-12 grew past 23 GB and was killed by the
            # kernel on these 24 GB machines; the default-tolerance fit is the reference.
            continue
        X = pd.get_dummies(d[FACTORS], drop_first=True, dtype=float, prefix_sep="")
        X = pd.concat([X, d[NUMERIC].astype(float)], axis=1)
        X.insert(0, "(Intercept)", 1.0)
        kw = {}
        if off is not None:
            kw["offset"] = off
        if w is not None:
            kw["var_weights"] = w
        glm = sm.GLM(y, X.to_numpy(), family=fams[model], **kw)
        t = time.perf_counter()
        res = glm.fit(tol=1e-12 if tight else 1e-8, maxiter=200)
        fit_s = time.perf_counter() - t
        report(model, fit_s, dict(zip(X.columns, map(float, res.params))), {"deviance": float(res.deviance)})
print(json.dumps({"library": library + ("-tight" if tight else ""), "peak_rss_mb": peak_mb()}), flush=True)
