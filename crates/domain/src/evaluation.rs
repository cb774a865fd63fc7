//! Evaluation of the zone's institutions against service standards (C11, plan 四（二）): the
//! standards as data (`data/zone/standards.toml`), each read into a measure the platform keeps,
//! and the published method that turns an institution's figures into a score.

use crate::org::LifecycleStage;

/// Who a standard applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppliesTo {
    Insurer,
    Bank,
}

impl AppliesTo {
    pub const fn code(self) -> &'static str {
        match self {
            AppliesTo::Insurer => "insurer",
            AppliesTo::Bank => "bank",
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            AppliesTo::Insurer => "保险机构",
            AppliesTo::Bank => "银行",
        }
    }

    pub const fn label_en(self) -> &'static str {
        match self {
            AppliesTo::Insurer => "Insurers",
            AppliesTo::Bank => "Banks",
        }
    }
}

/// What a standard measures, per institution and calendar year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StandardMeasure {
    /// Of the claims decided in the year, the share (%) decided within these days of the report.
    ClaimsDecidedWithinDays(i64),
    /// Of the claim payments in the year, the share (%) made within these days of the decision.
    ClaimsPaidWithinDays(i64),
    /// Disputes raised ÷ policies in force × 1000.
    ComplaintsPerThousand,
    /// Of the enterprises insured in the year, the share (%) in these stages.
    EarlyStageShare(Vec<LifecycleStage>),
    /// New products submitted for filing in the year.
    ProductsFiled,
    /// Loans disbursed in the year.
    LoansDisbursed,
    /// Their principal, in 10,000 yuan.
    LoanPrincipalWan,
}

/// A standard.
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    pub id: String,
    pub applies_to: AppliesTo,
    pub name_zh: String,
    pub name_en: String,
    pub measure: StandardMeasure,
    pub target: f64,
    /// True: the figure should be at least the target; false: at most.
    pub at_least: bool,
    pub weight: f64,
    pub unit_zh: String,
    pub unit_en: String,
    pub source: String,
    pub confidence: String,
    pub reading_zh: String,
    pub reading_en: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: String,
    applies_to: String,
    name_zh: String,
    name_en: String,
    measure: String,
    days: Option<i64>,
    #[serde(default)]
    stages: Vec<String>,
    target: f64,
    direction: String,
    weight: f64,
    unit_zh: String,
    unit_en: String,
    source: String,
    confidence: String,
    reading_zh: String,
    reading_en: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    standard: Vec<Raw>,
}

/// Why a standards file was refused: every problem, each naming the standard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("standards: {}", .0.join("; "))]
pub struct StandardsError(pub Vec<String>);

/// Reads and checks a standards file, all of it or nothing: (version, standards).
pub fn parse(text: &str) -> Result<(String, Vec<Standard>), StandardsError> {
    let file: File = toml::from_str(text).map_err(|e| StandardsError(vec![e.to_string()]))?;
    let mut errors = Vec::new();
    let mut out: Vec<Standard> = Vec::new();
    for r in file.standard {
        let id = r.id.clone();
        if out.iter().any(|s| s.id == id) {
            errors.push(format!("`{id}` is defined twice"));
        }
        let applies_to = match r.applies_to.as_str() {
            "insurer" => Some(AppliesTo::Insurer),
            "bank" => Some(AppliesTo::Bank),
            other => {
                errors.push(format!("`{id}`: applies_to `{other}` is not insurer or bank"));
                None
            }
        };
        let days = |errors: &mut Vec<String>| match r.days {
            Some(d) if (0..=3650).contains(&d) => Some(d),
            _ => {
                errors.push(format!("`{id}`: days must be 0–3650"));
                None
            }
        };
        let measure = match r.measure.as_str() {
            "claims_decided_within_days" => days(&mut errors).map(StandardMeasure::ClaimsDecidedWithinDays),
            "claims_paid_within_days" => days(&mut errors).map(StandardMeasure::ClaimsPaidWithinDays),
            "complaints_per_thousand" => Some(StandardMeasure::ComplaintsPerThousand),
            "early_stage_share" => {
                let stages: Vec<Option<LifecycleStage>> =
                    r.stages.iter().map(|s| LifecycleStage::from_code(s)).collect();
                if stages.is_empty() || stages.iter().any(Option::is_none) {
                    errors.push(format!("`{id}`: stages must name lifecycle stages ({:?})", r.stages));
                    None
                } else {
                    Some(StandardMeasure::EarlyStageShare(stages.into_iter().flatten().collect()))
                }
            }
            "products_filed" => Some(StandardMeasure::ProductsFiled),
            "loans_disbursed" => Some(StandardMeasure::LoansDisbursed),
            "loan_principal_wan" => Some(StandardMeasure::LoanPrincipalWan),
            m => {
                errors.push(format!("`{id}`: measure `{m}` is not one the platform keeps"));
                None
            }
        };
        let bank_measure =
            matches!(measure, Some(StandardMeasure::LoansDisbursed | StandardMeasure::LoanPrincipalWan));
        if measure.is_some() && applies_to.is_some() && bank_measure != (applies_to == Some(AppliesTo::Bank))
        {
            errors.push(format!("`{id}`: the measure `{}` does not apply to {}", r.measure, r.applies_to));
        }
        let at_least = match r.direction.as_str() {
            "at_least" => Some(true),
            "at_most" => Some(false),
            other => {
                errors.push(format!("`{id}`: direction `{other}` is not at_least or at_most"));
                None
            }
        };
        if !r.target.is_finite() || r.target <= 0.0 {
            errors.push(format!("`{id}`: the target must be above zero"));
        }
        if !r.weight.is_finite() || r.weight <= 0.0 {
            errors.push(format!("`{id}`: the weight must be above zero"));
        }
        if !["C", "C-local", "U"].contains(&r.confidence.as_str()) {
            errors.push(format!("`{id}`: confidence `{}` is not C, C-local or U", r.confidence));
        }
        if let (Some(applies_to), Some(measure), Some(at_least)) = (applies_to, measure, at_least) {
            out.push(Standard {
                id,
                applies_to,
                name_zh: r.name_zh,
                name_en: r.name_en,
                measure,
                target: r.target,
                at_least,
                weight: r.weight,
                unit_zh: r.unit_zh,
                unit_en: r.unit_en,
                source: r.source,
                confidence: r.confidence,
                reading_zh: r.reading_zh,
                reading_en: r.reading_en,
            });
        }
    }
    if errors.is_empty() {
        Ok((file.version, out))
    } else {
        Err(StandardsError(errors))
    }
}

impl Standard {
    /// The figure's score, 0–100: at-least standards score the share of the target reached,
    /// at-most standards the target over the figure (100 at or below the target); capped at 100.
    pub fn score(&self, value: f64) -> f64 {
        if !value.is_finite() {
            return f64::NAN;
        }
        let s = if self.at_least {
            value / self.target * 100.0
        } else if value <= self.target {
            100.0
        } else {
            self.target / value * 100.0
        };
        s.clamp(0.0, 100.0)
    }

    /// Whether the figure meets the standard.
    pub fn met(&self, value: f64) -> bool {
        value.is_finite() && if self.at_least { value >= self.target } else { value <= self.target }
    }
}

/// The composite score: the weighted mean of the scores of the standards with a figure (the
/// others leave the mean, their weight with them); `None` when no standard has one.
pub fn composite(scores: &[(f64, f64)]) -> Option<f64> {
    let (mut sum, mut weights) = (0.0, 0.0);
    for (w, s) in scores {
        if s.is_finite() {
            sum += w * s;
            weights += w;
        }
    }
    (weights > 0.0).then(|| sum / weights)
}

/// The method, as published on the page.
pub const METHOD_ZH: &str = "每项标准按机构当年数据计分（0–100）：“不低于”类为达到目标的比例（达到或超过目标计 100 分），“不高于”类在目标以内计 100 分、超出时为目标值 ÷ 实际值 × 100。综合得分为各项得分按权重的加权平均；当年没有数据的标准（如无理赔）不计入，其权重随之剔除。保险机构的数据含其分支机构。";
pub const METHOD_EN: &str = "Each standard is scored 0–100 from the institution's figures for the year: an at-least standard scores the share of its target reached (100 at or above it); an at-most standard scores 100 within its target and target ÷ figure × 100 beyond it. The composite score is the weighted mean of the scores; a standard without a figure that year (no claims, say) is left out with its weight. An insurer's figures include its branches'.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_standards_load_and_score_as_published() {
        let (v, s) =
            parse(include_str!("../../../data/zone/standards.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v, "2026.1");
        assert_eq!(s.len(), 7);
        let decided =
            s.iter().find(|x| x.id == "claims_decided_30_days").unwrap_or_else(|| panic!("missing"));
        assert_eq!(decided.measure, StandardMeasure::ClaimsDecidedWithinDays(30));
        assert_eq!(decided.score(80.0), 80.0);
        assert_eq!(decided.score(100.0), 100.0);
        assert!(decided.met(100.0) && !decided.met(99.9));
        let complaints =
            s.iter().find(|x| x.id == "complaints_per_thousand").unwrap_or_else(|| panic!("missing"));
        assert_eq!(complaints.score(4.0), 100.0);
        assert_eq!(complaints.score(10.0), 50.0);
        assert_eq!(composite(&[(2.0, 80.0), (1.0, 50.0), (1.0, f64::NAN)]), Some(70.0));
        assert_eq!(composite(&[(1.0, f64::NAN)]), None);
    }

    #[test]
    fn bad_standards_are_refused_whole() {
        let text = include_str!("../../../data/zone/standards.toml");
        let e = parse(&text.replace("measure = \"products_filed\"", "measure = \"smiles\"")).unwrap_err();
        assert!(e.to_string().contains("`smiles`"), "{e}");
        let e = parse(&text.replace("target = 5\n", "target = 0\n")).unwrap_err();
        assert!(e.to_string().contains("above zero"), "{e}");
        let e = parse(&text.replace("measure = \"loans_disbursed\"", "measure = \"products_filed\""))
            .unwrap_err();
        assert!(e.to_string().contains("does not apply to bank"), "{e}");
    }
}
