//! The risk lab's words (C9): what a model is and where it stands.

use crate::org::string_enum;

string_enum! {
    /// What a model is.
    ModelKind {
        Glm = "glm", "广义线性模型（费率）", "GLM (rating)";
        Scorecard = "scorecard", "评分卡", "Scorecard";
    }
}

string_enum! {
    /// Where a model stands: uploaded and awaiting a second person's approval, approved for
    /// use, or retired (kept, never used again).
    ModelStatus {
        Submitted = "submitted", "待审批", "Awaiting approval";
        Approved = "approved", "已批准使用", "Approved for use";
        Retired = "retired", "已停用", "Retired";
    }
}

string_enum! {
    /// What an experience extract holds.
    ExtractKind {
        Claims = "claims", "理赔经验（按保单年度）", "Claims experience (per policy-year)";
        Loans = "loans", "贷款结果（含申请时的企业信息）", "Loan outcomes (with the borrower's facts at application)";
    }
}

string_enum! {
    /// On what footing the data leaves the platform (rules.md §11.2–11.3): an institution's own
    /// business, or the zone's supervision of all of it.
    ExtractBasis {
        OwnBook = "own_book", "本机构自有业务（定价、准备金与风险管理）", "The institution's own business (pricing, reserving, risk management)";
        Supervision = "supervision", "示范区监管与统计（全部业务）", "The zone's supervision and statistics (all business)";
    }
}

/// A column of an extract: its name in the file, its labels, and whether it is a category
/// (a rating factor or a categorical candidate) or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractColumn {
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub categorical: bool,
    /// Whether a model may use it (identifiers, dates and outcomes may not).
    pub candidate: bool,
}

const fn col(
    name: &'static str,
    zh: &'static str,
    en: &'static str,
    categorical: bool,
    candidate: bool,
) -> ExtractColumn {
    ExtractColumn { name, zh, en, categorical, candidate }
}

/// The columns of a claims extract, in file order: one row per policy and policy-year.
pub const CLAIMS_COLUMNS: &[ExtractColumn] = &[
    col(
        "policy_ref",
        "保单代号（仅本提取内有效）",
        "Policy reference (valid within this extract)",
        true,
        false,
    ),
    col("policy_year", "保单年度", "Policy year", false, false),
    col("period_start", "年度起期", "Period start", true, false),
    col("period_end", "年度止期（或截至提取日）", "Period end (or the extract date)", true, false),
    col("product_type", "险种", "Product type", true, true),
    col("industry", "行业（5+2）", "Industry (5+2)", true, true),
    col("stage", "生命周期阶段", "Life-cycle stage", true, true),
    col("personal_line", "是否人身险种（汇总）", "Personal line (aggregated)", true, false),
    col("exposure", "风险暴露（年）", "Exposure (years)", false, false),
    col("limit_yuan", "责任限额（元）", "Limit (yuan)", false, true),
    col("sum_insured_yuan", "保险金额（元）", "Sum insured (yuan)", false, true),
    col("revenue_yuan", "营业收入（元）", "Revenue (yuan)", false, true),
    col("claims_3y", "近三年出险次数", "Claims in the last three years", false, true),
    col("earned_premium_yuan", "已赚保费（元）", "Earned premium (yuan)", false, false),
    col("claim_count", "赔案件数", "Number of claims", false, false),
    col("incurred_yuan", "已发生赔款（元）", "Incurred (yuan)", false, false),
];

/// The columns of a loan-outcome extract, in file order: one row per loan that has ended.
pub const LOAN_COLUMNS: &[ExtractColumn] = &[
    col("loan_ref", "贷款代号（仅本提取内有效）", "Loan reference (valid within this extract)", true, false),
    col("applied_year", "申请年份", "Year applied", false, false),
    col("scheme", "贷款方案", "Loan scheme", true, true),
    col("amount_yuan", "贷款金额（元）", "Amount (yuan)", false, true),
    col("term_months", "期限（月）", "Term (months)", false, true),
    col("industry", "行业（5+2）", "Industry (5+2)", true, true),
    col("stage", "生命周期阶段（当前登记）", "Life-cycle stage (as registered now)", true, true),
    col("age_years", "申请时成立年限", "Years since founding at application", false, true),
    col("revenue_yuan", "上年营业收入（元）", "Revenue of the year before (yuan)", false, true),
    col("rnd_ratio", "上年研发投入占比", "R&D expense share of the year before", false, true),
    col("staff", "上年从业人数", "Staff of the year before", false, true),
    col("patents", "上年有效专利数", "Patents granted, year before", false, true),
    col("qualifications", "申请时有效资质数", "Qualifications valid at application", false, true),
    col("outcome", "结果", "Outcome", true, false),
    col("bad", "是否违约（1 违约）", "Default (1 = yes)", false, false),
];

impl ExtractKind {
    /// Its columns.
    pub fn columns(self) -> &'static [ExtractColumn] {
        match self {
            ExtractKind::Claims => CLAIMS_COLUMNS,
            ExtractKind::Loans => LOAN_COLUMNS,
        }
    }

    /// The model it can train: a claim-frequency GLM, or a default scorecard.
    pub fn model_kind(self) -> ModelKind {
        match self {
            ExtractKind::Claims => ModelKind::Glm,
            ExtractKind::Loans => ModelKind::Scorecard,
        }
    }
}

/// A personal-information impact assessment (个人信息保护法 Art 55–56) recorded with an
/// extract that contains personal data: why, for whom, why it is necessary, how it is kept safe.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactAssessment {
    pub purpose: String,
    pub recipient: String,
    pub necessity: String,
    pub safeguards: String,
}

/// The longest text a lab form takes in one field.
pub const LAB_TEXT_MAX_CHARS: usize = 300;

impl ImpactAssessment {
    /// Checks every part is written (each within [`LAB_TEXT_MAX_CHARS`]); errors name the field.
    pub fn parse(
        purpose: &str,
        recipient: &str,
        necessity: &str,
        safeguards: &str,
    ) -> Result<ImpactAssessment, crate::Invalid> {
        let mut c = crate::error::Collector::default();
        let mut take = |field: &str, v: &str| {
            c.take(crate::org::text_field(field, v, true, LAB_TEXT_MAX_CHARS)).flatten().unwrap_or_default()
        };
        let a = ImpactAssessment {
            purpose: take("pia_purpose", purpose),
            recipient: take("pia_recipient", recipient),
            necessity: take("pia_necessity", necessity),
            safeguards: take("pia_safeguards", safeguards),
        };
        c.finish().map(|()| a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assessment_names_every_part() {
        let e = ImpactAssessment::parse("定价", "", "必要", "加密").unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].field, "pia_recipient");
        assert!(ImpactAssessment::parse("定价", "本公司精算部", "必要", "加密").is_ok());
    }

    #[test]
    fn each_extract_names_its_columns_once() {
        for k in ExtractKind::ALL {
            let cols = k.columns();
            let mut names: Vec<_> = cols.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), cols.len(), "{k}");
        }
    }
}

string_enum! {
    /// What an institution's scorecard decides: a bank's lending admission, an insurer's
    /// underwriting admission (the zone decides only scheme eligibility, not with scores).
    ScoreUse {
        Lending = "lending", "贷款准入", "Lending admission";
        Underwriting = "underwriting", "承保准入", "Underwriting admission";
        Assessment = "assessment", "批量风险评估", "Batch risk assessment";
    }
}

string_enum! {
    /// What an admission rule makes of a score.
    AdmissionDecision {
        Accept = "accept", "建议准入", "Accept";
        Refer = "refer", "转人工审查", "Refer to a person";
        Decline = "decline", "建议不予准入", "Decline";
    }
}

/// An admission rule's cut-offs, in score points: at or above `accept_at` accept; below
/// `decline_below` decline; between, refer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cutoffs {
    pub accept_at: f64,
    pub decline_below: f64,
}

impl Cutoffs {
    /// Checks the cut-offs as typed: two numbers of points, the decline line not above the accept line.
    pub fn parse(accept_at: &str, decline_below: &str) -> Result<Cutoffs, crate::Invalid> {
        let mut c = crate::error::Collector::default();
        let mut num = |field: &str, v: &str| -> Option<f64> {
            match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && (-10_000.0..=10_000.0).contains(&x) => Some(x),
                _ => {
                    c.push(crate::FieldError::new(
                        field,
                        "not_a_score",
                        format!("「{v}」不是有效的分数（-10000 至 10000）"),
                        format!("`{v}` is not a score (-10,000 to 10,000)"),
                    ));
                    None
                }
            }
        };
        let a = num("accept_at", accept_at);
        let d = num("decline_below", decline_below);
        if let (Some(a), Some(d)) = (a, d) {
            if d > a {
                c.push(crate::FieldError::new(
                    "decline_below",
                    "cutoffs_crossed",
                    "拒绝线不能高于准入线",
                    "the decline line cannot be above the accept line",
                ));
            }
        }
        c.finish()?;
        Ok(Cutoffs { accept_at: a.unwrap_or_default(), decline_below: d.unwrap_or_default() })
    }

    /// The decision for a score.
    pub fn decide(&self, score: f64) -> AdmissionDecision {
        if score >= self.accept_at {
            AdmissionDecision::Accept
        } else if score < self.decline_below {
            AdmissionDecision::Decline
        } else {
            AdmissionDecision::Refer
        }
    }
}

#[cfg(test)]
mod cutoff_tests {
    use super::*;

    #[test]
    fn cutoffs_decide_and_refuse_a_crossed_pair() {
        let c = Cutoffs::parse("620", "560").unwrap();
        assert_eq!(c.decide(620.0), AdmissionDecision::Accept);
        assert_eq!(c.decide(600.0), AdmissionDecision::Refer);
        assert_eq!(c.decide(559.9), AdmissionDecision::Decline);
        assert_eq!(Cutoffs::parse("500", "560").unwrap_err().0[0].code, "cutoffs_crossed");
        assert_eq!(Cutoffs::parse("x", "NaN").unwrap_err().0.len(), 2);
    }
}

string_enum! {
    /// How far a month's population has drifted from the model's (PSI / CSI against thresholds).
    DriftLevel {
        Stable = "stable", "稳定", "Stable";
        Watch = "watch", "需关注", "Watch";
        Alert = "alert", "预警", "Alert";
    }
}

/// The default thresholds: a PSI or CSI of 0.10 is watched, 0.25 alerts.
pub const DEFAULT_WATCH: f64 = 0.10;
pub const DEFAULT_ALERT: f64 = 0.25;

string_enum! {
    /// The zone's switches: each off until the zone's approvers turn it on.
    ZoneSwitch {
        LabScoresInCreditReport = "lab_scores_in_credit_report", "在企业信用报告中显示示范区风险实验室的评估", "Show the zone lab's assessment in enterprise credit reports";
    }
}
