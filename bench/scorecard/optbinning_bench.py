"""optbinning's BinningProcess + Scorecard on the benchmark data: train on the first 70 %,
test on the rest; times binning + WoE + fit + scoring on data in memory, loading apart.
Usage: OMP_NUM_THREADS=1 python3 optbinning_bench.py DATA.csv
"""
import json, sys, time
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
load_s = time.perf_counter() - t
y = df.pop("bad").to_numpy()
n_train = int(len(df) * 0.7)
cats = [c for c in df.columns if df[c].dtype == object]
t = time.perf_counter()
bp = BinningProcess(variable_names=list(df.columns), categorical_variables=cats)
sc = Scorecard(binning_process=bp, estimator=LogisticRegression(), scaling_method="pdo_odds",
               scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
sc.fit(df.iloc[:n_train], y[:n_train])
fit_s = time.perf_counter() - t
t = time.perf_counter()
p = sc.predict_proba(df.iloc[n_train:])[:, 1]
s = sc.score(df.iloc[n_train:])
score_s = time.perf_counter() - t
summary = sc.binning_process_.summary().set_index("name")
for name in df.columns:
    print(f"{name}\t{summary.loc[name, 'iv']:.6f}\t{summary.loc[name, 'n_bins']}", file=sys.stderr)
print(json.dumps({"library": "optbinning", "load_s": load_s, "fit_s": fit_s, "score_s": score_s,
                  "test_auc": roc_auc_score(y[n_train:], p)}))
