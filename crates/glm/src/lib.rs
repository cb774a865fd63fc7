//! Generalised linear models for non-life pricing, the way actuaries fit rating plans:
//! Poisson frequency, Gamma severity, Tweedie pure premium, Binomial and Gaussian, with
//! exposure offsets, prior weights, categorical rating factors and an optional L2 penalty.
//!
//! The fit is iteratively reweighted least squares. Categorical factors are never
//! expanded into dense columns: the normal equations' blocks between and within factors
//! are count tables built in one pass over the rows, so an iteration costs
//! O(n·(F+K)²) for F factors and K numeric columns, not O(n·p²) (glum's `tabmat` idea).
//! The small p×p system is solved by Cholesky (nalgebra).
//!
//! Output follows R's `glm`: treatment coding with the first level (in sorted order, or
//! numeric order when every level is a number) as the reference, aliased coefficients
//! reported as such, dispersion by Pearson χ²/(n−p) where it is estimated, z or t tests,
//! R's deviance, null deviance and AIC.
//!
//! ```text
//! let data = Data::new(&y).offset(&log_exposure).factor(Factor::from_strings("area", &areas)?);
//! let fit = fit(&data, &Spec::new(Family::Poisson))?;
//! ```

mod design;
mod family;
mod fit;
pub mod plan;
mod stats;

pub use design::{Data, Factor, LevelCoder};
pub use family::{Family, Link};
pub use fit::{fit, Coefficient, Fit, Spec, TestKind};

/// Why a model cannot be fitted. Every variant names what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GlmError {
    /// Columns differ in length.
    #[error("column `{column}` has {found} rows but the response has {expected}")]
    Length { column: String, expected: usize, found: usize },
    /// A value is NaN, infinite or missing.
    #[error("row {row}: `{column}` is not a finite number")]
    NotFinite { column: String, row: usize },
    /// The response is outside the family's support.
    #[error("row {row}: the response {value} is outside the support of the {family} family ({support})")]
    Support { family: &'static str, support: &'static str, value: f64, row: usize },
    /// A weight is negative.
    #[error("row {row}: the weight {value} is negative")]
    NegativeWeight { row: usize, value: f64 },
    /// A factor has fewer than two levels.
    #[error("factor `{0}` has a single level: a coefficient for it cannot be estimated")]
    SingleLevel(String),
    /// The chosen reference level does not occur.
    #[error("factor `{factor}` has no level `{level}` to use as the reference")]
    UnknownReference { factor: String, level: String },
    /// A level met in prediction was not seen in fitting.
    #[error("factor `{factor}`: level `{level}` was not in the data the model was fitted on")]
    UnknownLevel { factor: String, level: String },
    /// The link does not fit the family.
    #[error("the {link} link cannot be used with the {family} family")]
    Link { family: &'static str, link: &'static str },
    /// A Tweedie power outside (1, 2).
    #[error("the Tweedie power must lie strictly between 1 and 2, not {0}")]
    TweediePower(f64),
    /// Nothing to fit.
    #[error("no observations with a positive weight")]
    Empty,
    /// More coefficients than observations.
    #[error("{p} coefficients cannot be estimated from {n} observations")]
    TooFewRows { n: usize, p: usize },
    /// The iterations did not converge.
    #[error("no convergence after {iterations} iterations (relative deviance change {change:.3e})")]
    NoConvergence { iterations: usize, change: f64 },
    /// The fit broke down numerically (fitted values outside the family's range).
    #[error("the fit broke down: {0}")]
    Numerical(String),
    /// An option is out of range.
    #[error("{0}")]
    Option(String),
}
