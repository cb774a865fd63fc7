//! Composite indicators the JRC/OECD way (OECD/JRC *Handbook on Constructing Composite
//! Indicators*, 2008), following the definitions and defaults of COINr (JRC, R package,
//! version 1.1.14), so that a build reproduces COINr's numbers.
//!
//! A [`Framework`] (COINr's `iMeta`) is a tree: indicators (level 1) → aggregates → one
//! index. [`UnitData`] (COINr's `iData`) holds units × indicators with group and
//! denominator columns. The default build ([`Build::run`]) is COINr's:
//!
//! 1. **Denominate**: x / denominator, for indicators whose `Denominator` is set.
//! 2. **Impute**: a missing value takes the mean of its group (`EurAsia_group` in the
//!    ASEM example); other choices: group median, indicator mean or median, none.
//! 3. **Screen**: units with less than 90 % of indicators available are dropped.
//! 4. **Treat** (COINr `Treat` defaults): an indicator passes if |skew| < 2 or kurtosis
//!    < 3.5, with the sample-adjusted skewness G₁ = g₁·√(n(n−1))/(n−2) and excess kurtosis
//!    G₂ = ((n+1)g₂ + 6)(n−1)/((n−2)(n−3)) (g₁, g₂ the moment estimators). A failing
//!    indicator is winsorised one point at a time — the maximum replaced by the next
//!    highest value while the skew is ≥ 0, else the minimum by the next lowest — up to 5
//!    points, stopping as soon as it passes. If it still fails, the raw values are
//!    transformed instead by COINr's `log_CT`: ln(x − min + 0.01·(max − min)).
//! 5. **Normalise**: min-max to [0, 100] after multiplying by the indicator's direction
//!    (COINr's `n_minmax` with `l_u = c(0, 100)`; other normalisations take COINr's
//!    parameters and defaults too: z-score `m_sd = c(0, 1)`, ranks with ties at the
//!    lowest rank, `ties.method = "min"`).
//! 6. **Aggregate**: at each level, the weighted arithmetic mean of the children's scores
//!    with the `iMeta` weights (missing children skipped, the others' weights rescaled).
//!
//! Ranks are COINr's: highest score first, ties share the lowest rank.

mod build;
mod framework;
mod ops;
pub mod uncertainty;

pub use build::{Build, BuildSpec, Results, TreatDetail};
pub use framework::{Framework, Node, NodeKind, Panel, PanelImputation, UnitData};
pub use ops::{
    entropy_weights, pca_loadings, rank_values, ranks, Aggregation, Dataset, EffectiveWeight, Imputation,
    Normalisation, Ties, TreatSpec, Treatment, Weighting,
};

/// Why a framework, a data set or a build is refused. Each names the indicator or unit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompositeError {
    #[error("{file}: {message}")]
    Parse { file: &'static str, message: String },
    #[error("iMeta: the code `{0}` is defined twice")]
    Duplicate(String),
    #[error("iMeta: `{code}` has the parent `{parent}`, which is not an aggregate in the framework")]
    Orphan { code: String, parent: String },
    #[error("iMeta: the framework has a cycle through `{0}`")]
    Cycle(String),
    #[error("iMeta: aggregate `{0}` has no children")]
    Childless(String),
    #[error("iMeta: the framework needs exactly one root (an aggregate without a parent); found {0}")]
    Roots(String),
    #[error("iMeta: `{code}` has weight {weight}; weights must be finite and ≥ 0")]
    Weight { code: String, weight: f64 },
    #[error("iData: indicator `{0}` of the framework is not a column of the data")]
    MissingIndicator(String),
    #[error("iData: unit `{unit}`, column `{column}`: `{value}` is not a number")]
    NotNumber { unit: String, column: String, value: String },
    #[error("iData: unit `{0}` appears twice")]
    DuplicateUnit(String),
    #[error(
        "iData: indicator `{indicator}` names denominator `{denominator}`, which is not a column of the data"
    )]
    MissingDenominator { indicator: String, denominator: String },
    #[error("iData: group column `{0}` is missing")]
    MissingGroup(String),
    #[error("indicator `{0}` has no values left to normalise (all missing or constant)")]
    Degenerate(String),
    #[error("indicator `{0}` has no Target in the framework, which this normalisation needs")]
    NoTarget(String),
    #[error("indicator `{0}` has no values at all")]
    AllMissing(String),
    #[error("aggregate `{0}`: its children's weights sum to zero")]
    ZeroWeights(String),
    #[error("aggregate `{aggregate}`, unit `{unit}`: the {mean} mean needs positive scores, and `{child}` is {value}")]
    NonPositive { aggregate: String, unit: String, child: String, value: f64, mean: &'static str },
    #[error("no unit passes the data-availability screen at {0}")]
    NoUnits(f64),
    #[error("{option}: {message}")]
    BadOption { option: &'static str, message: String },
    #[error("PCA weights: level {level} has no groups to weight; choose one of the levels {levels}")]
    PcaLevel { level: u32, levels: String },
    #[error("signed PCA loadings can be negative weights, which the {0} mean cannot take; use the arithmetic mean or absolute loadings")]
    SignedWeights(&'static str),
}
