//! The whole build, stage by stage, with COINr's defaults.

use crate::framework::{Framework, UnitData};
use crate::ops::{
    self, Aggregation, Dataset, EffectiveWeight, Imputation, Normalisation, TreatSpec, Treatment, Weighting,
};
use crate::CompositeError;

/// What a build does; `BuildSpec::coinr_default(group)` is COINr's default build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSpec {
    pub denominate: bool,
    pub imputation: Imputation,
    /// Keep units with at least this share of indicators present (0 keeps all).
    pub screen_threshold: f64,
    /// `None` skips treatment.
    pub treatment: Option<TreatSpec>,
    pub normalisation: Normalisation,
    pub weighting: Weighting,
    pub aggregation: Aggregation,
}

impl BuildSpec {
    /// COINr's default: denominate, impute by group mean, screen at 90 %, default
    /// treatment, min-max 0–100, arithmetic means.
    pub fn coinr_default(group: &str) -> BuildSpec {
        BuildSpec {
            denominate: true,
            imputation: Imputation::GroupMean(group.to_owned()),
            screen_threshold: 0.9,
            treatment: Some(TreatSpec::default()),
            normalisation: Normalisation::COINR_MINMAX,
            weighting: Weighting::Given,
            aggregation: Aggregation::ArithmeticMean,
        }
    }
}

/// What treatment did to one indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatDetail {
    pub code: String,
    pub treatment: Treatment,
}

/// Scores and ranks per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub units: Vec<String>,
    /// Aggregate codes, the index first, then by level downwards, in framework order.
    pub codes: Vec<String>,
    /// One column per code.
    pub scores: Vec<Vec<f64>>,
    /// Ranks on the index.
    pub ranks: Vec<Option<usize>>,
}

/// A finished build: every stage, the treatment details and the results.
#[derive(Debug, Clone, PartialEq)]
pub struct Build {
    /// (stage name, data set): Denominated, Imputed, Screened, Treated, Normalised, Aggregated.
    pub stages: Vec<(&'static str, Dataset)>,
    pub removed_units: Vec<String>,
    pub treat_details: Vec<TreatDetail>,
    /// The weights the aggregation used, child by child, lowest level first.
    pub weights: Vec<EffectiveWeight>,
    pub results: Results,
}

impl Build {
    /// Runs a build.
    pub fn run(fw: &Framework, data: &UnitData, spec: &BuildSpec) -> Result<Build, CompositeError> {
        // Options are checked before any work.
        spec.normalisation.check()?;
        spec.weighting.check(fw, spec.aggregation)?;
        let mut stages = Vec::new();
        let raw = ops::denominate(
            data,
            &Framework {
                nodes: fw
                    .nodes
                    .iter()
                    .cloned()
                    .map(|mut n| {
                        if !spec.denominate {
                            n.denominator = None;
                        }
                        n
                    })
                    .collect(),
                ..fw.clone()
            },
        );
        stages.push(("Denominated", raw.clone()));
        let imputed = ops::impute(&raw, &spec.imputation, data)?;
        stages.push(("Imputed", imputed.clone()));
        let (screened, removed_units) = ops::screen(&imputed, spec.screen_threshold)?;
        stages.push(("Screened", screened.clone()));
        let (treated, details) = match &spec.treatment {
            Some(t) => ops::treat(&screened, t),
            None => (screened.clone(), vec![Treatment::None; screened.codes.len()]),
        };
        stages.push(("Treated", treated.clone()));
        let normalised = ops::normalise(&treated, fw, spec.normalisation)?;
        stages.push(("Normalised", normalised.clone()));
        let (aggregated, weights) =
            ops::aggregate_weighted(&normalised, fw, spec.aggregation, &spec.weighting)?;
        stages.push(("Aggregated", aggregated.clone()));
        let mut order: Vec<&crate::Node> = fw.aggregates_bottom_up();
        // Highest level first; within a level, framework order (the sort is stable).
        order.sort_by_key(|n| std::cmp::Reverse(n.level));
        let codes: Vec<String> = order.iter().map(|n| n.code.clone()).collect();
        let scores: Vec<Vec<f64>> =
            codes.iter().map(|c| aggregated.column(c).map(<[f64]>::to_vec).unwrap_or_default()).collect();
        let ranks = ops::ranks(scores.first().map(Vec::as_slice).unwrap_or(&[]));
        Ok(Build {
            stages,
            removed_units,
            treat_details: treated
                .codes
                .iter()
                .cloned()
                .zip(details)
                .map(|(code, treatment)| TreatDetail { code, treatment })
                .collect(),
            weights,
            results: Results { units: aggregated.units.clone(), codes, scores, ranks },
        })
    }

    /// A stage by name.
    pub fn stage(&self, name: &str) -> Option<&Dataset> {
        self.stages.iter().find(|(n, _)| *n == name).map(|(_, d)| d)
    }
}
