//! Credit scorecards the industry way: optimal binning (monotonic, with constraints),
//! weight of evidence and information value, logistic regression on the WoE features,
//! points scaled by points-to-double-odds, scoring with reason codes, and the usual
//! validation metrics (AUC, KS, Gini, confusion matrix, PSI/CSI).
//!
//! Conventions follow optbinning: WoE = ln(share of non-events / share of events), so a
//! higher WoE is a better bin; IV = Σ (share of non-events − share of events) · WoE.

mod binning;
mod metrics;
mod model;

pub use binning::{
    bin_categorical, bin_coded, bin_numeric, BinStat, Binning, BinningOptions, Trend, VariableBinning,
};
pub use metrics::{auc, confusion, ks, psi, Confusion};
pub use model::{Column, Frame, Reason, Scorecard, ScorecardOptions, Scored};

/// Why a scorecard cannot be built or used. Each variant names the column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScorecardError {
    #[error("the target must be 0/1; row {row} has {value}")]
    Target { row: usize, value: f64 },
    #[error("the target has a single class ({0} only): nothing to learn")]
    OneClass(u8),
    #[error("column `{column}` has {found} rows but the target has {expected}")]
    Length { column: String, expected: usize, found: usize },
    #[error("column `{column}`, row {row}: {value} is not a finite number")]
    NotFinite { column: String, row: usize, value: f64 },
    #[error("no variable is usable: {0}")]
    NoVariables(String),
    #[error("the model has no variable `{0}`")]
    UnknownColumn(String),
    #[error("logistic regression: {0}")]
    Fit(String),
}
