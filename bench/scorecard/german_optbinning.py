"""optbinning's default pipeline on German credit with the fixed split: per-variable IV on
the training rows and the test AUC (the reference of issue 4).
Usage: python3 german_optbinning.py data/reference/germancredit_split.csv
"""
import sys
import numpy as np
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

df = pd.read_csv(sys.argv[1])
y = (df.pop("creditability") == "bad").astype(int)
split = df.pop("split")
cats = [c for c in df.columns if df[c].dtype == object]
train, test = split == "train", split == "test"
bp = BinningProcess(variable_names=list(df.columns), categorical_variables=cats)
sc = Scorecard(binning_process=bp, estimator=LogisticRegression(), scaling_method="pdo_odds",
               scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
sc.fit(df[train], y[train])
p = sc.predict_proba(df[test])[:, 1]
print(f"test AUC: {roc_auc_score(y[test], p):.4f}")
summary = sc.binning_process_.summary().set_index("name")
for name in df.columns:
    print(f"{name}\t{summary.loc[name, 'iv']:.6f}\t{summary.loc[name, 'n_bins'] if 'n_bins' in summary.columns else ''}")
