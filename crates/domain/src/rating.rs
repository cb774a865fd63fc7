//! Rating plans (C4): an insurer's base rate × factor tables, with a minimum premium and
//! caps, evaluated in decimal arithmetic with an itemised trace. The plan and the quote
//! are the insurer's; the platform evaluates the insurer's filed plan on its behalf and
//! never ranks quotes by price (`rules.md` §11.1).
//!
//! Rounding, written down: every intermediate value is an exact decimal (rust_decimal,
//! 28 significant digits; factors are multiplied without rounding); the premium is rounded
//! once, to the fen, half away from zero; then the minimum premium and the maximum premium
//! apply. Money is never a float.

use crate::error::{Collector, FieldError, Invalid};
use crate::money::Money;
use crate::org::{string_enum, LifecycleStage};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

string_enum! {
    /// What a factor table looks at.
    RatingVariable {
        Industry = "industry", "行业（5+2）", "Industry (5+2)";
        Stage = "stage", "生命周期阶段", "Life-cycle stage";
        SizeBand = "size_band", "营业收入档", "Revenue band";
        LimitBand = "limit_band", "责任限额档", "Limit band";
        DeductibleBand = "deductible_band", "免赔额档", "Deductible band";
        ClaimsHistory = "claims_history", "近三年出险次数", "Claims in the last three years";
    }
}

string_enum! {
    /// What the base rate multiplies.
    RateBasis {
        Limit = "limit", "责任限额", "Limit of liability";
        SumInsured = "sum_insured", "保险金额", "Sum insured";
        Revenue = "revenue", "营业收入", "Revenue";
        Flat = "flat", "固定基础保费", "Flat base premium";
    }
}

/// A band: values up to `up_to_yuan` (inclusive; none: no upper bound) are `key`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Band {
    pub key: String,
    pub up_to_yuan: Option<i64>,
}

/// One factor table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FactorTable {
    pub variable: RatingVariable,
    /// (level, factor as a decimal string).
    pub levels: Vec<(String, String)>,
    /// The factor of a level not listed; none: such a level cannot be rated.
    #[serde(default)]
    pub default: Option<String>,
}

/// A rating plan as filed (`kebao.rating/1`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanDoc {
    pub basis: RateBasis,
    /// Premium per yuan of the basis (a decimal string: `"0.0085"` is 0.85 %), or the flat
    /// base premium in yuan when the basis is `flat`.
    pub base: String,
    #[serde(default)]
    pub size_bands: Vec<Band>,
    #[serde(default)]
    pub limit_bands: Vec<Band>,
    #[serde(default)]
    pub deductible_bands: Vec<Band>,
    #[serde(default)]
    pub factors: Vec<FactorTable>,
    /// Yuan.
    pub min_premium_yuan: i64,
    #[serde(default)]
    pub max_premium_yuan: Option<i64>,
    /// The product of all factors is kept within these bounds (decimal strings).
    #[serde(default)]
    pub factor_floor: Option<String>,
    #[serde(default)]
    pub factor_cap: Option<String>,
    /// The insurer's auto-accept, refer and decline rules for applications.
    #[serde(default)]
    pub underwriting: crate::policy::UnderwritingRules,
    /// How many days a quote under this plan stands (unset: [`DEFAULT_QUOTE_VALID_DAYS`]); it
    /// lapses sooner when another plan comes into force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_valid_days: Option<u32>,
}

/// How long a quote stands when the plan does not say.
pub const DEFAULT_QUOTE_VALID_DAYS: u32 = 30;
/// The longest a plan may let a quote stand.
pub const MAX_QUOTE_VALID_DAYS: u32 = 366;

impl PlanDoc {
    /// How many days a quote under this plan stands.
    pub fn quote_valid_days(&self) -> u32 {
        self.quote_valid_days.unwrap_or(DEFAULT_QUOTE_VALID_DAYS)
    }
}

/// A checked factor table: the variable, its levels' factors, the default factor.
type CheckedTable = (RatingVariable, Vec<(String, Decimal)>, Option<Decimal>);

/// A checked plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub doc: PlanDoc,
    base: Decimal,
    factors: Vec<CheckedTable>,
    floor: Option<Decimal>,
    cap: Option<Decimal>,
}

fn dec(c: &mut Collector, field: &str, s: &str) -> Option<Decimal> {
    match Decimal::from_str(s.trim()) {
        Ok(d) if d > Decimal::ZERO => Some(d),
        Ok(_) => {
            c.push(FieldError::new(
                field,
                "not_positive",
                format!("`{s}` 须大于零"),
                format!("`{s}` must be above zero"),
            ));
            None
        }
        Err(_) => {
            c.push(FieldError::new(
                field,
                "decimal",
                format!("`{s}` 不是十进制数"),
                format!("`{s}` is not a decimal number"),
            ));
            None
        }
    }
}

fn check_bands(c: &mut Collector, field: &str, bands: &[Band]) {
    let mut last: Option<i64> = None;
    for (i, b) in bands.iter().enumerate() {
        match (last, b.up_to_yuan) {
            (_, None) if i + 1 != bands.len() => c.push(FieldError::new(
                field,
                "open_band_not_last",
                "只有最后一档可以不设上限",
                "only the last band may be open-ended",
            )),
            (Some(l), Some(u)) if u <= l => c.push(FieldError::new(
                field,
                "bands_not_increasing",
                "分档上限须递增",
                "band upper bounds must increase",
            )),
            _ => {}
        }
        last = b.up_to_yuan.or(last);
    }
}

impl Plan {
    /// Checks a filed plan: decimals, increasing bands, one table per variable, bands for
    /// banded variables, caps in order.
    pub fn parse(doc: PlanDoc) -> Result<Plan, Invalid> {
        let mut c = Collector::default();
        let base = dec(&mut c, "base", &doc.base);
        if doc.min_premium_yuan < 0 {
            c.push(FieldError::new(
                "min_premium_yuan",
                "negative",
                "最低保费不能为负",
                "the minimum premium cannot be negative",
            ));
        }
        if let Some(m) = doc.max_premium_yuan {
            if m < doc.min_premium_yuan {
                c.push(FieldError::new(
                    "max_premium_yuan",
                    "below_min",
                    "最高保费不能低于最低保费",
                    "the maximum premium cannot be below the minimum",
                ));
            }
        }
        if doc.quote_valid_days.is_some_and(|d| d == 0 || d > MAX_QUOTE_VALID_DAYS) {
            c.push(FieldError::new(
                "quote_valid_days",
                "range",
                format!("报价有效期须为 1–{MAX_QUOTE_VALID_DAYS} 天"),
                format!("a quote's validity must be 1 to {MAX_QUOTE_VALID_DAYS} days"),
            ));
        }
        check_bands(&mut c, "size_bands", &doc.size_bands);
        check_bands(&mut c, "limit_bands", &doc.limit_bands);
        check_bands(&mut c, "deductible_bands", &doc.deductible_bands);
        let mut factors = Vec::new();
        for (i, t) in doc.factors.iter().enumerate() {
            let f = format!("factors[{i}]");
            if factors.iter().any(|(v, _, _)| *v == t.variable) {
                c.push(FieldError::new(
                    &f,
                    "duplicate",
                    format!("「{}」有两张系数表", t.variable.label_zh()),
                    format!("two tables for `{}`", t.variable.code()),
                ));
            }
            let bands = match t.variable {
                RatingVariable::SizeBand => Some(&doc.size_bands),
                RatingVariable::LimitBand => Some(&doc.limit_bands),
                RatingVariable::DeductibleBand => Some(&doc.deductible_bands),
                _ => None,
            };
            if bands.is_some_and(|b| b.is_empty()) {
                c.push(FieldError::new(
                    &f,
                    "bands_missing",
                    format!("「{}」需要分档定义", t.variable.label_zh()),
                    format!("`{}` needs its bands", t.variable.code()),
                ));
            }
            let mut levels = Vec::new();
            for (k, v) in &t.levels {
                if let Some(d) = dec(&mut c, &format!("{f}.{k}"), v) {
                    levels.push((k.clone(), d));
                }
            }
            let default = t.default.as_deref().and_then(|d| dec(&mut c, &format!("{f}.default"), d));
            factors.push((t.variable, levels, default));
        }
        let floor = doc.factor_floor.as_deref().and_then(|s| dec(&mut c, "factor_floor", s));
        let cap = doc.factor_cap.as_deref().and_then(|s| dec(&mut c, "factor_cap", s));
        if let (Some(f), Some(k)) = (floor, cap) {
            if f > k {
                c.push(FieldError::new(
                    "factor_floor",
                    "floor_above_cap",
                    "系数下限高于上限",
                    "the factor floor is above the cap",
                ));
            }
        }
        c.finish()?;
        Ok(Plan { base: base.unwrap_or(Decimal::ONE), doc, factors, floor, cap })
    }
}

/// A rating plan as filed for a product: its version, in force from a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiledPlan {
    pub id: String,
    pub product_id: String,
    pub version: i64,
    pub effective_from: time::Date,
    pub doc: PlanDoc,
    pub created_by: String,
    pub created_at_us: i64,
}

/// What a quote is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct QuoteInput {
    pub limit: Money,
    pub deductible: Money,
    pub sum_insured: Money,
    pub revenue: Money,
    pub industry: Option<String>,
    pub stage: Option<LifecycleStage>,
    pub claims_3y: u32,
}

/// The largest amount a quote takes, in fen: 10^12 yuan (a trillion), far above any cover
/// written in the zone and far below where sums of amounts could overflow.
pub const MAX_QUOTE_FEN: i64 = 100_000_000_000_000;

/// A quote's input as the user typed it (the API's body, a page's form): amounts in yuan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuoteFields {
    pub limit_yuan: String,
    pub deductible_yuan: String,
    pub sum_insured_yuan: String,
    pub revenue_yuan: String,
    /// Zone industry tag.
    pub industry: Option<String>,
    /// Life-cycle stage code.
    pub stage: Option<String>,
    pub claims_3y: u32,
}

impl QuoteInput {
    /// The risk cover (风险保障) the statistics count: the sum insured, or the limit where
    /// there is no sum insured (liability cover).
    pub fn cover(&self) -> Money {
        if self.sum_insured.fen() > 0 {
            self.sum_insured
        } else {
            self.limit
        }
    }

    /// Parses what the user typed: amounts in yuan (blank is zero), a known stage, and the
    /// rules of [`QuoteInput::check`]. Every problem is returned, each naming its field.
    pub fn parse(f: &QuoteFields) -> Result<QuoteInput, Invalid> {
        let mut c = Collector::default();
        let mut money = |v: &str, field: &str| {
            if v.trim().is_empty() {
                return Money::ZERO;
            }
            c.take(Money::parse_yuan(v, field)).unwrap_or(Money::ZERO)
        };
        let mut input = QuoteInput {
            limit: money(&f.limit_yuan, "limit_yuan"),
            deductible: money(&f.deductible_yuan, "deductible_yuan"),
            sum_insured: money(&f.sum_insured_yuan, "sum_insured_yuan"),
            revenue: money(&f.revenue_yuan, "revenue_yuan"),
            industry: f.industry.clone().filter(|s| !s.trim().is_empty()),
            stage: None,
            claims_3y: f.claims_3y,
        };
        if let Some(s) = f.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            input.stage = c.take(LifecycleStage::from_code(s).ok_or_else(|| {
                FieldError::new(
                    "stage",
                    "unknown_stage",
                    format!("生命周期阶段 `{s}` 不存在"),
                    format!("stage `{s}` does not exist"),
                )
            }));
        }
        if let Err(Invalid(es)) = input.check() {
            es.into_iter().for_each(|e| c.push(e));
        }
        c.finish().map(|()| input)
    }

    /// The rules every quote's amounts keep, however they came (a form, the API, the CLI, a
    /// renewal): no amount is negative or above [`MAX_QUOTE_FEN`], and a deductible is below
    /// the limit. Errors name the form's fields (`limit_yuan` …).
    pub fn check(&self) -> Result<(), Invalid> {
        let mut c = Collector::default();
        let max = Money::from_fen(MAX_QUOTE_FEN);
        for (field, zh, en, m) in [
            ("limit_yuan", "责任限额", "the limit", self.limit),
            ("deductible_yuan", "免赔额", "the deductible", self.deductible),
            ("sum_insured_yuan", "保险金额", "the sum insured", self.sum_insured),
            ("revenue_yuan", "营业收入", "the revenue", self.revenue),
        ] {
            if m < Money::ZERO {
                c.push(FieldError::new(
                    field,
                    "negative",
                    format!("{zh}不能为负数"),
                    format!("{en} cannot be negative"),
                ));
            } else if m > max {
                c.push(FieldError::new(
                    field,
                    "too_large",
                    format!("{zh}过大：最多 {} 元", max.display_yuan()),
                    format!("{en} is too large: at most {} yuan", max.display_yuan()),
                ));
            }
        }
        if self.deductible > Money::ZERO && self.deductible >= self.limit {
            c.push(FieldError::new(
                "deductible_yuan",
                "deductible_not_below_limit",
                "免赔额须低于责任限额",
                "the deductible must be below the limit",
            ));
        }
        c.finish()
    }
}

/// One line of a quote's trace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub label_zh: String,
    pub label_en: String,
    /// The level or value looked up.
    pub detail: String,
    /// The factor applied (decimal), if any.
    pub factor: Option<String>,
    /// The running value after the step (decimal, yuan).
    pub running: String,
}

/// A quote: the premium and how it came about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quote {
    pub premium: Money,
    pub steps: Vec<Step>,
}

fn yuan(m: Money) -> Decimal {
    Decimal::new(m.fen(), 2)
}

fn band_of(bands: &[Band], m: Money) -> Option<String> {
    let y = yuan(m);
    bands.iter().find(|b| b.up_to_yuan.is_none_or(|u| y <= Decimal::from(u))).map(|b| b.key.clone())
}

impl Plan {
    /// Evaluates the plan. A level the plan cannot rate is an error naming it.
    pub fn quote(&self, q: &QuoteInput) -> Result<Quote, FieldError> {
        // Callers check the input first to report every problem; this keeps the rule for all.
        if let Err(Invalid(es)) = q.check() {
            if let Some(e) = es.into_iter().next() {
                return Err(e);
            }
        }
        let mut steps = Vec::new();
        let (mut v, base_detail) = match self.doc.basis {
            RateBasis::Flat => (self.base, format!("{} 元", self.base)),
            b => {
                let amount = match b {
                    RateBasis::Limit => q.limit,
                    RateBasis::SumInsured => q.sum_insured,
                    _ => q.revenue,
                };
                if amount.fen() <= 0 {
                    return Err(FieldError::new(
                        b.code(),
                        "required",
                        format!("计算保费需要{}", b.label_zh()),
                        format!("the quote needs the {}", b.label_en().to_lowercase()),
                    ));
                }
                (
                    yuan(amount) * self.base,
                    format!("{} 元 × {}", yuan(amount).normalize(), self.base.normalize()),
                )
            }
        };
        steps.push(Step {
            label_zh: format!("基础保费（{}）", self.doc.basis.label_zh()),
            label_en: format!("Base premium ({})", self.doc.basis.label_en()),
            detail: base_detail,
            factor: None,
            running: v.normalize().to_string(),
        });
        let mut product = Decimal::ONE;
        for (var, levels, default) in &self.factors {
            let level = match var {
                RatingVariable::Industry => q.industry.clone(),
                RatingVariable::Stage => q.stage.map(|s| s.code().to_owned()),
                RatingVariable::SizeBand => band_of(&self.doc.size_bands, q.revenue),
                RatingVariable::LimitBand => band_of(&self.doc.limit_bands, q.limit),
                RatingVariable::DeductibleBand => band_of(&self.doc.deductible_bands, q.deductible),
                RatingVariable::ClaimsHistory => Some(match q.claims_3y {
                    0 => "0".to_owned(),
                    1 => "1".to_owned(),
                    _ => "2+".to_owned(),
                }),
            };
            let level = level.unwrap_or_default();
            let factor =
                levels.iter().find(|(k, _)| *k == level).map(|(_, f)| *f).or(*default).ok_or_else(|| {
                    FieldError::new(
                        var.code(),
                        "level_not_rated",
                        format!("费率表没有「{}」为 `{level}` 的系数", var.label_zh()),
                        format!("the plan has no factor for {} `{level}`", var.code()),
                    )
                })?;
            product *= factor;
            v *= factor;
            steps.push(Step {
                label_zh: var.label_zh().to_owned(),
                label_en: var.label_en().to_owned(),
                detail: level,
                factor: Some(factor.normalize().to_string()),
                running: v.normalize().to_string(),
            });
        }
        let clamped = match (self.floor, self.cap) {
            (Some(f), _) if product < f => Some(f),
            (_, Some(k)) if product > k => Some(k),
            _ => None,
        };
        if let Some(c) = clamped {
            v = v / product * c;
            steps.push(Step {
                label_zh: "系数乘积上下限".into(),
                label_en: "Factor floor and cap".into(),
                detail: format!("{} → {}", product.normalize(), c.normalize()),
                factor: None,
                running: v.normalize().to_string(),
            });
        }
        let rounded = v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let mut fen = (rounded * Decimal::from(100)).to_i64().ok_or_else(|| {
            FieldError::new("premium", "overflow", "保费超出可表示范围", "the premium is out of range")
        })?;
        steps.push(Step {
            label_zh: "取整到分（四舍五入，远离零）".into(),
            label_en: "Rounded to the fen (half away from zero)".into(),
            detail: v.normalize().to_string(),
            factor: None,
            running: rounded.to_string(),
        });
        let min = self.doc.min_premium_yuan.saturating_mul(100);
        if fen < min {
            fen = min;
            steps.push(Step {
                label_zh: "最低保费".into(),
                label_en: "Minimum premium".into(),
                detail: format!("{} 元", self.doc.min_premium_yuan),
                factor: None,
                running: Money::from_fen(fen).to_yuan_string(),
            });
        }
        if let Some(max) = self.doc.max_premium_yuan.map(|m| m.saturating_mul(100)) {
            if fen > max {
                fen = max;
                steps.push(Step {
                    label_zh: "最高保费".into(),
                    label_en: "Maximum premium".into(),
                    detail: Money::from_fen(max).to_yuan_string(),
                    factor: None,
                    running: Money::from_fen(fen).to_yuan_string(),
                });
            }
        }
        Ok(Quote { premium: Money::from_fen(fen), steps })
    }
}

/// A `kebao.rating_plan/1` GLM plan (written by `kebao fit glm --plan`) turned into factor
/// tables: each GLM factor is mapped to a platform variable (`mapping`: GLM name →
/// variable) and its levels must be that variable's levels; the GLM base times `loading`
/// becomes the base rate. Numeric terms and unmapped factors are refused by name.
pub fn from_glm(
    glm: &serde_json::Value,
    mapping: &[(String, RatingVariable)],
    basis: RateBasis,
    loading: &str,
    min_premium_yuan: i64,
) -> Result<PlanDoc, Invalid> {
    let mut c = Collector::default();
    if glm.get("schema").and_then(|s| s.as_str()) != Some("kebao.rating_plan/1") {
        c.push(FieldError::new(
            "plan",
            "schema",
            "不是 kebao.rating_plan/1 文件",
            "not a kebao.rating_plan/1 document",
        ));
        return Err(Invalid(c_into(c)));
    }
    if glm.get("link").and_then(|s| s.as_str()) != Some("log") {
        c.push(FieldError::new(
            "plan",
            "link",
            "只接受对数连接的乘法费率",
            "only log-link (multiplicative) plans can be filed",
        ));
    }
    let base = glm.get("base").and_then(|b| b.as_f64()).unwrap_or(0.0);
    let load = dec(&mut c, "loading", loading);
    let base = Decimal::from_f64_retain(base).filter(|b| *b > Decimal::ZERO);
    if base.is_none() {
        c.push(FieldError::new("plan", "base", "GLM 基础值无效", "the GLM base is not a positive number"));
    }
    if glm.get("numeric").and_then(|n| n.as_array()).is_some_and(|a| !a.is_empty()) {
        c.push(FieldError::new(
            "plan",
            "numeric_terms",
            "含连续变量项的 GLM 不能直接导入：请改为分类变量后重新拟合",
            "a GLM with numeric terms cannot be imported: refit with the variable as a factor",
        ));
    }
    let mut factors = Vec::new();
    for f in glm.get("factors").and_then(|f| f.as_array()).cloned().unwrap_or_default() {
        let name = f.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_owned();
        let Some((_, var)) = mapping.iter().find(|(n, _)| *n == name) else {
            c.push(FieldError::new(
                "mapping",
                "unmapped_factor",
                format!("GLM 因子 `{name}` 未对应到平台变量"),
                format!("GLM factor `{name}` is not mapped to a platform variable"),
            ));
            continue;
        };
        let mut levels = Vec::new();
        for l in f.get("levels").and_then(|l| l.as_array()).cloned().unwrap_or_default() {
            let level = l.get("level").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            match l.get("relativity").and_then(|r| r.as_f64()) {
                Some(r) => {
                    // Relativities are kept to 6 decimal places, as the plan prints them.
                    let d = Decimal::from_f64_retain(r)
                        .map(|d| d.round_dp(6).normalize())
                        .unwrap_or(Decimal::ONE);
                    levels.push((level, d.to_string()));
                }
                None => c.push(FieldError::new(
                    "plan",
                    "aliased_level",
                    format!("因子 `{name}` 的水平 `{level}` 系数缺失（共线），请重新拟合"),
                    format!("level `{level}` of `{name}` is aliased; refit before filing"),
                )),
            }
        }
        factors.push(FactorTable { variable: *var, levels, default: None });
    }
    c.finish()?;
    let base = base.unwrap_or(Decimal::ONE) * load.unwrap_or(Decimal::ONE);
    Ok(PlanDoc {
        basis,
        base: base.round_dp(10).normalize().to_string(),
        size_bands: Vec::new(),
        limit_bands: Vec::new(),
        deductible_bands: Vec::new(),
        factors,
        min_premium_yuan,
        max_premium_yuan: None,
        factor_floor: None,
        factor_cap: None,
        underwriting: crate::policy::UnderwritingRules::default(),
        quote_valid_days: None,
    })
}

fn c_into(c: Collector) -> Vec<FieldError> {
    match c.finish() {
        Ok(()) => Vec::new(),
        Err(Invalid(v)) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> PlanDoc {
        PlanDoc {
            basis: RateBasis::Limit,
            base: "0.008".into(),
            size_bands: vec![
                Band { key: "small".into(), up_to_yuan: Some(20_000_000) },
                Band { key: "large".into(), up_to_yuan: None },
            ],
            limit_bands: vec![],
            deductible_bands: vec![],
            factors: vec![
                FactorTable {
                    variable: RatingVariable::Industry,
                    levels: vec![("bio".into(), "1.25".into())],
                    default: Some("1".into()),
                },
                FactorTable {
                    variable: RatingVariable::SizeBand,
                    levels: vec![("small".into(), "0.9".into()), ("large".into(), "1.1".into())],
                    default: None,
                },
                FactorTable {
                    variable: RatingVariable::ClaimsHistory,
                    levels: vec![
                        ("0".into(), "0.95".into()),
                        ("1".into(), "1.2".into()),
                        ("2+".into(), "1.5".into()),
                    ],
                    default: None,
                },
            ],
            min_premium_yuan: 3_000,
            max_premium_yuan: Some(200_000),
            factor_floor: Some("0.7".into()),
            factor_cap: Some("1.6".into()),
            underwriting: crate::policy::UnderwritingRules::default(),
            quote_valid_days: None,
        }
    }

    fn input(limit_yuan: i64) -> QuoteInput {
        QuoteInput {
            limit: Money::from_fen(limit_yuan * 100),
            revenue: Money::from_fen(1_000_000_000),
            industry: Some("bio".into()),
            ..Default::default()
        }
    }

    #[test]
    fn premium_is_exact_with_a_trace_and_one_rounding() {
        let plan = Plan::parse(sample()).unwrap_or_else(|e| panic!("{e}"));
        // 1,234,567 × 0.008 = 9,876.536; × 1.25 × 0.9 × 0.95 = 10,555.54785 → 10,555.55
        let q = plan.quote(&input(1_234_567)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.premium, Money::from_fen(1_055_555));
        assert_eq!(q.steps.len(), 5);
        assert_eq!(q.steps[0].running, "9876.536");
        assert_eq!(q.steps[3].factor.as_deref(), Some("0.95"));
        // The minimum premium binds for a small limit; the maximum for a huge one.
        assert_eq!(plan.quote(&input(100_000)).map(|q| q.premium), Ok(Money::from_fen(300_000)));
        assert_eq!(plan.quote(&input(100_000_000)).map(|q| q.premium), Ok(Money::from_fen(20_000_000)));
        // Two claims: 1.25 × 0.9 × 1.5 = 1.6875 → capped at 1.6.
        let mut two = input(1_000_000);
        two.claims_3y = 2;
        let q = plan.quote(&two).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.premium, Money::from_fen(1_280_000));
        assert!(q.steps.iter().any(|s| s.detail == "1.6875 → 1.6"));
    }

    #[test]
    fn bad_plans_and_unratable_inputs_are_named() {
        let mut bad = sample();
        bad.base = "abc".into();
        bad.size_bands =
            vec![Band { key: "x".into(), up_to_yuan: None }, Band { key: "y".into(), up_to_yuan: Some(1) }];
        bad.factor_floor = Some("2".into());
        let e = Plan::parse(bad).err().map(|e| e.0).unwrap_or_default();
        let codes: Vec<&str> = e.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["decimal", "open_band_not_last", "floor_above_cap"]);
        let mut no_default = sample();
        no_default.factors[0].default = None;
        let plan = Plan::parse(no_default).unwrap_or_else(|e| panic!("{e}"));
        let mut q = input(1_000_000);
        q.industry = Some("optoelectronics".into());
        assert_eq!(plan.quote(&q).err().map(|e| e.code), Some("level_not_rated"));
        assert_eq!(plan.quote(&QuoteInput::default()).err().map(|e| e.code), Some("required"));
    }

    #[test]
    fn a_glm_plan_imports_as_factor_tables() {
        let glm = serde_json::json!({
            "schema": "kebao.rating_plan/1", "family": "poisson", "link": "log", "base": 0.05,
            "factors": [{"name": "Sector", "reference": "bio", "levels": [
                {"level": "bio", "coefficient": 0.0, "relativity": 1.0},
                {"level": "optoelectronics", "coefficient": 0.2, "relativity": 1.2214027581601699}]}],
            "numeric": []
        });
        let doc =
            from_glm(&glm, &[("Sector".into(), RatingVariable::Industry)], RateBasis::Limit, "0.2", 1000)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(doc.base, "0.01");
        assert_eq!(doc.factors[0].levels[1].1, "1.221403");
        let plan = Plan::parse(doc).unwrap_or_else(|e| panic!("{e}"));
        let mut q = input(1_000_000);
        q.industry = Some("optoelectronics".into());
        assert_eq!(plan.quote(&q).map(|q| q.premium), Ok(Money::from_fen(1_221_403)));
        let e = from_glm(&glm, &[], RateBasis::Limit, "1", 0).err().map(|e| e.0[0].code);
        assert_eq!(e, Some("unmapped_factor"));
    }

    #[test]
    fn quote_inputs_refuse_negative_huge_and_deductibles_not_below_the_limit() {
        let fields = |limit: &str, deductible: &str, revenue: &str| QuoteFields {
            limit_yuan: limit.into(),
            deductible_yuan: deductible.into(),
            revenue_yuan: revenue.into(),
            ..Default::default()
        };
        let ok = QuoteInput::parse(&fields("1,000,000", "10000", "5000000")).unwrap();
        assert_eq!((ok.limit.fen(), ok.deductible.fen()), (100_000_000, 1_000_000));
        let codes = |f: QuoteFields| {
            QuoteInput::parse(&f)
                .err()
                .map(|e| e.0.into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(codes(fields("1000", "", "-1")), vec![("revenue_yuan".into(), "negative")]);
        assert_eq!(
            codes(fields("1000", "1000", "")),
            vec![("deductible_yuan".into(), "deductible_not_below_limit")]
        );
        // i64::MAX fen (92 quadrillion yuan) parses but is refused; 10^12 yuan is the most.
        assert_eq!(codes(fields("92233720368547758.07", "", "")), vec![("limit_yuan".into(), "too_large")]);
        assert_eq!(
            codes(fields("92233720368547758.08", "", "")),
            vec![("limit_yuan".into(), "money_format")]
        );
        assert!(QuoteInput::parse(&fields("1000000000000", "", "")).is_ok());
        assert_eq!(codes(fields("1000000000000.01", "", "")), vec![("limit_yuan".into(), "too_large")]);
        // Every problem at once, with the stage.
        let mut all = fields("-5", "-1", "-2");
        all.stage = Some("nope".into());
        let got = codes(all);
        assert_eq!(got.len(), 4, "{got:?}");
        let e = QuoteInput::parse(&fields("-5", "", "")).unwrap_err();
        assert!(e.0[0].message_zh.contains("责任限额") && e.0[0].message_en.contains("the limit"));
        // The plan applies the same rule to inputs that did not come through a form.
        let plan = Plan::parse(sample()).unwrap_or_else(|e| panic!("{e}"));
        let mut q = input(1_000_000);
        q.revenue = Money::from_fen(-1);
        assert_eq!(plan.quote(&q).err().map(|e| e.code), Some("negative"));
    }
}
