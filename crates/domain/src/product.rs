//! Insurers' product filings and the zone's regional registration (区域性科技保险产品注册制).
//!
//! An insurer files a product of a catalogue type with its own content. Each change is a
//! new version; a version moves through review to approval (which gives a registration
//! number) or rejection, and an approved version is published and may be withdrawn. The
//! platform shows insurers' filed terms; it never quotes or compares prices
//! (`rules.md` §11.1).

use crate::catalogue::Catalogue;
use crate::error::{Collector, FieldError, Invalid};
use crate::industry::IndustryMap;
use crate::money::Money;
use crate::org::{string_enum, LifecycleStage, QualificationKind};

string_enum! {
    /// Where a filed version stands.
    FilingStatus {
        Draft = "draft", "草稿", "Draft";
        InReview = "in_review", "审核中", "In review";
        ChangesRequested = "changes_requested", "退回修改", "Changes requested";
        Approved = "approved", "已注册", "Registered";
        Rejected = "rejected", "未通过", "Rejected";
        Published = "published", "已发布", "Published";
        Withdrawn = "withdrawn", "已下架", "Withdrawn";
        Superseded = "superseded", "已被新版本取代", "Superseded";
    }
}

string_enum! {
    /// What the premium is computed on (the insurer's filed basis; the platform computes nothing).
    PremiumBasis {
        SumInsured = "sum_insured", "保险金额×费率", "Rate on the sum insured";
        Limit = "limit", "责任限额×费率", "Rate on the limit of liability";
        Revenue = "revenue", "营业收入×费率", "Rate on revenue";
        PerHead = "per_head", "按人数", "Per head";
        PerUnit = "per_unit", "按台（套）/件", "Per unit";
        LoanPrincipal = "loan_principal", "贷款本金×费率", "Rate on the loan principal";
        Fixed = "fixed", "固定保费", "Fixed premium";
    }
}

string_enum! {
    /// A step of a filing's life.
    Transition {
        Submit = "submit", "提交审核", "Submit for review";
        RequestChanges = "request_changes", "退回修改", "Request changes";
        Approve = "approve", "批准注册", "Approve";
        Reject = "reject", "不予注册", "Reject";
        Publish = "publish", "发布", "Publish";
        Withdraw = "withdraw", "下架", "Withdraw";
    }
}

impl FilingStatus {
    /// Whether the insurer may still change the content and documents.
    pub fn is_editable(self) -> bool {
        matches!(self, FilingStatus::Draft | FilingStatus::ChangesRequested)
    }

    /// Whether the version is still being worked (so no second open version may start).
    pub fn is_open(self) -> bool {
        matches!(self, FilingStatus::Draft | FilingStatus::InReview | FilingStatus::ChangesRequested)
    }

    /// The state after `t`, or why `t` is not possible from here.
    pub fn apply(self, t: Transition) -> Result<FilingStatus, FieldError> {
        use FilingStatus as S;
        use Transition as T;
        let next = match (self, t) {
            (S::Draft | S::ChangesRequested, T::Submit) => S::InReview,
            (S::InReview, T::RequestChanges) => S::ChangesRequested,
            (S::InReview, T::Approve) => S::Approved,
            (S::InReview, T::Reject) => S::Rejected,
            (S::Approved | S::Withdrawn, T::Publish) => S::Published,
            (S::Published, T::Withdraw) => S::Withdrawn,
            (from, t) => {
                let (zh, en) = match (from, t) {
                    (S::Approved | S::Published | S::Withdrawn | S::Superseded, T::Approve) => (
                        "该版本已批准注册，不能重复批准".to_owned(),
                        "this version is already approved; it cannot be approved twice".to_owned(),
                    ),
                    (S::Rejected, _) => (
                        "该版本已被驳回，不能再操作；请新建版本重新备案".to_owned(),
                        "this version was rejected and is closed; file a new version".to_owned(),
                    ),
                    _ => (
                        format!("当前状态为「{}」，不能执行「{}」", from.label_zh(), t.label_zh()),
                        format!("a version that is `{}` cannot be sent to `{}`", from.code(), t.code()),
                    ),
                };
                return Err(FieldError::new("status", "bad_transition", zh, en));
            }
        };
        Ok(next)
    }
}

/// The zone reviewer's checklist: every item must be ticked before approval.
pub const CHECKLIST: &[(&str, &str, &str)] = &[
    (
        "nfra_filed",
        "条款和费率已按监管规定报备（附备案材料）",
        "Wording and rates are filed with the regulator (evidence attached)",
    ),
    ("type_matches", "保险责任与所选产品类型一致", "Cover matches the product type chosen"),
    ("exclusions_prominent", "责任免除条款已显著提示", "Exclusions are stated prominently"),
    ("limits_sound", "责任限额与免赔额清晰、合理", "Limits and deductibles are clear and sound"),
    (
        "eligibility_clear",
        "适用企业范围（行业、阶段、资质）清晰",
        "Eligibility (industries, stages, qualifications) is clear",
    ),
    ("contact_valid", "联系人和联系方式有效", "The contact is valid"),
    ("no_price_claims", "无比价、排名或夸大宣传内容", "No price comparisons, rankings or exaggerated claims"),
];

/// One coverage of a product: what is paid, up to what, after what deductible.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    pub name: String,
    /// The limit of liability (per event unless the note says otherwise).
    pub limit: Money,
    pub deductible: Money,
    #[serde(default)]
    pub note: String,
}

/// Who may buy the product. Empty lists mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Eligibility {
    /// Zone industry tags (5+2).
    pub industries: Vec<String>,
    pub stages: Vec<LifecycleStage>,
    /// The enterprise must hold at least one of these.
    pub qualifications: Vec<QualificationKind>,
}

/// What the check of a filing's eligibility knows of the applying enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnterpriseFacts {
    /// Whether the zone has verified its registration.
    pub verified: bool,
    /// The zone industry tags (5+2) of its industry code.
    pub zone_industries: Vec<String>,
    pub stage: Option<LifecycleStage>,
    /// The qualifications it holds on the day of the application.
    pub qualifications: Vec<QualificationKind>,
}

impl Eligibility {
    /// Checks an applying enterprise against the filed eligibility; names every condition it
    /// fails, in zh-CN and English: registration not yet verified, none of its industries
    /// (or its stage) among the filed ones, none of the required qualifications held.
    /// `industries` gives the tags' names.
    pub fn check(&self, e: &EnterpriseFacts, industries: &IndustryMap) -> Result<(), Invalid> {
        let mut errs = Vec::new();
        if !e.verified {
            errs.push(FieldError::new(
                "registration",
                "not_verified",
                "企业登记尚未经园区核验，核验通过后方可投保",
                "the enterprise's registration is not yet verified by the zone; apply once it is",
            ));
        }
        let name = |t: &str| match industries.tag(t) {
            Some(z) => (z.name_zh.clone(), z.name_en.clone()),
            None => (t.to_owned(), t.to_owned()),
        };
        let list = |items: Vec<(String, String)>| {
            let zh: Vec<String> = items.iter().map(|i| i.0.clone()).collect();
            let en: Vec<String> = items.into_iter().map(|i| i.1).collect();
            (zh.join("、"), en.join(", "))
        };
        if !self.industries.is_empty() && !e.zone_industries.iter().any(|t| self.industries.contains(t)) {
            let (want_zh, want_en) = list(self.industries.iter().map(|t| name(t)).collect());
            let (has_zh, has_en) = if e.zone_industries.is_empty() {
                ("不属于园区“5+2”产业".to_owned(), "none of the zone's 5+2 industries".to_owned())
            } else {
                list(e.zone_industries.iter().map(|t| name(t)).collect())
            };
            errs.push(FieldError::new(
                "industry",
                "industry_not_eligible",
                format!("该产品仅承保以下产业的企业：{want_zh}；本企业所属产业：{has_zh}"),
                format!("the product covers enterprises of {want_en} only; this enterprise is in {has_en}"),
            ));
        }
        if !self.stages.is_empty() && !e.stage.is_some_and(|s| self.stages.contains(&s)) {
            let want_zh: Vec<&str> = self.stages.iter().map(|s| s.label_zh()).collect();
            let want_en: Vec<&str> = self.stages.iter().map(|s| s.label_en()).collect();
            let (has_zh, has_en) =
                e.stage.map_or(("未登记", "not recorded"), |s| (s.label_zh(), s.label_en()));
            errs.push(FieldError::new(
                "lifecycle_stage",
                "stage_not_eligible",
                format!("该产品仅承保处于以下阶段的企业：{}；本企业所处阶段：{has_zh}", want_zh.join("、")),
                format!(
                    "the product covers enterprises at the {} stage only; this enterprise's stage is {has_en}",
                    want_en.join(", ")
                ),
            ));
        }
        if !self.qualifications.is_empty()
            && !e.qualifications.iter().any(|q| self.qualifications.contains(q))
        {
            let want_zh: Vec<&str> = self.qualifications.iter().map(|q| q.label_zh()).collect();
            let want_en: Vec<&str> = self.qualifications.iter().map(|q| q.label_en()).collect();
            errs.push(FieldError::new(
                "qualifications",
                "qualification_missing",
                format!("该产品要求企业持有以下资质之一（在有效期内）：{}；本企业未持有", want_zh.join("、")),
                format!(
                    "the product requires one of these qualifications, valid today: {}; the enterprise holds none",
                    want_en.join(", ")
                ),
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(Invalid(errs))
        }
    }
}

/// Whom to ask about the product.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    pub email: String,
}

/// The checked content of one version of a product.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProductContent {
    pub type_id: String,
    pub name: String,
    pub summary: String,
    pub coverages: Vec<Coverage>,
    pub eligibility: Eligibility,
    pub term_months: u16,
    pub premium_basis: PremiumBasis,
    /// The insurer's own words on the rate (its filed range); shown, never computed with.
    pub rate_text: String,
    pub contact: Contact,
    /// How unearned premium is refunded when the policyholder cancels (filings made before
    /// this field existed are pro rata).
    #[serde(default)]
    pub refund: crate::cover::RefundMethod,
}

/// A coverage as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CoverageInput {
    #[serde(default)]
    pub name: String,
    /// Yuan, as typed.
    #[serde(default)]
    pub limit_yuan: String,
    #[serde(default)]
    pub deductible_yuan: String,
    #[serde(default)]
    pub note: String,
}

/// A product as submitted (form, API body, demo generator): raw, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ProductInput {
    #[serde(default)]
    pub type_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub coverages: Vec<CoverageInput>,
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub stages: Vec<String>,
    #[serde(default)]
    pub qualifications: Vec<String>,
    #[serde(default)]
    pub term_months: String,
    #[serde(default)]
    pub premium_basis: String,
    #[serde(default)]
    pub rate_text: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub contact_email: String,
    /// `pro_rata` (default) or `short_rate`.
    #[serde(default)]
    pub refund_method: String,
    /// `months:percent` pairs when `refund_method` is `short_rate`.
    #[serde(default)]
    pub short_rate_table: String,
}

impl ProductInput {
    /// The input that reproduces `c` (to edit a stored version).
    pub fn from_content(c: &ProductContent) -> ProductInput {
        ProductInput {
            type_id: c.type_id.clone(),
            name: c.name.clone(),
            summary: c.summary.clone(),
            coverages: c
                .coverages
                .iter()
                .map(|v| CoverageInput {
                    name: v.name.clone(),
                    limit_yuan: v.limit.to_yuan_string(),
                    deductible_yuan: v.deductible.to_yuan_string(),
                    note: v.note.clone(),
                })
                .collect(),
            industries: c.eligibility.industries.clone(),
            stages: c.eligibility.stages.iter().map(|s| s.code().to_owned()).collect(),
            qualifications: c.eligibility.qualifications.iter().map(|q| q.code().to_owned()).collect(),
            term_months: c.term_months.to_string(),
            premium_basis: c.premium_basis.code().to_owned(),
            rate_text: c.rate_text.clone(),
            contact_name: c.contact.name.clone(),
            contact_phone: c.contact.phone.clone(),
            contact_email: c.contact.email.clone(),
            refund_method: c.refund.code().to_owned(),
            short_rate_table: c.refund.table_text(),
        }
    }
}

/// The most coverages a product may list.
pub const MAX_COVERAGES: usize = 20;

fn text(c: &mut Collector, field: &str, v: &str, min: usize, max: usize) -> String {
    let v = v.trim();
    let n = v.chars().count();
    if n == 0 && min > 0 {
        c.push(FieldError::required(field));
    } else if n < min || n > max {
        c.push(FieldError::new(
            field,
            "length",
            format!("长度应为 {min}–{max} 个字符（现为 {n} 个）"),
            format!("must be {min} to {max} characters long (it is {n})"),
        ));
    }
    v.to_owned()
}

impl ProductContent {
    /// Checks a submission against the catalogue and the zone's industry tags; reports
    /// every problem at once.
    pub fn parse(
        input: &ProductInput,
        catalogue: &Catalogue,
        industries: &IndustryMap,
    ) -> Result<ProductContent, Invalid> {
        let mut c = Collector::default();
        let type_id = input.type_id.trim().to_owned();
        let ty = if type_id.is_empty() {
            c.push(FieldError::required("type_id"));
            None
        } else {
            let t = catalogue.get(&type_id);
            if t.is_none() {
                c.push(FieldError::new(
                    "type_id",
                    "unknown_type",
                    format!("产品类型 `{type_id}` 不在产品目录中"),
                    format!("product type `{type_id}` is not in the catalogue"),
                ));
            }
            t
        };
        let name = text(&mut c, "name", &input.name, 2, 80);
        let summary = text(&mut c, "summary", &input.summary, 0, 4000);
        let mut coverages = Vec::new();
        let rows: Vec<&CoverageInput> = input
            .coverages
            .iter()
            .filter(|r| !(r.name.trim().is_empty() && r.limit_yuan.trim().is_empty()))
            .collect();
        if rows.is_empty() {
            c.push(FieldError::new(
                "coverages",
                "required",
                "至少填写一项保险责任（名称和限额）",
                "list at least one coverage (name and limit)",
            ));
        }
        if rows.len() > MAX_COVERAGES {
            c.push(FieldError::new(
                "coverages",
                "too_many",
                format!("保险责任最多 {MAX_COVERAGES} 项"),
                format!("at most {MAX_COVERAGES} coverages"),
            ));
        }
        for (i, r) in rows.iter().enumerate().take(MAX_COVERAGES) {
            let f = |k: &str| format!("coverages[{i}].{k}");
            let cname = text(&mut c, &f("name"), &r.name, 1, 100);
            let limit = c.take(Money::parse_yuan(&r.limit_yuan, &f("limit_yuan")));
            let ded = if r.deductible_yuan.trim().is_empty() {
                Some(Money::ZERO)
            } else {
                c.take(Money::parse_yuan(&r.deductible_yuan, &f("deductible_yuan")))
            };
            let note = text(&mut c, &f("note"), &r.note, 0, 200);
            if coverages.iter().any(|v: &Coverage| v.name == cname) {
                c.push(FieldError::new(
                    f("name"),
                    "duplicate",
                    format!("保险责任「{cname}」重复"),
                    format!("coverage `{cname}` is listed twice"),
                ));
            }
            if let (Some(limit), Some(ded)) = (limit, ded) {
                if limit.fen() <= 0 {
                    c.push(FieldError::new(
                        f("limit_yuan"),
                        "not_positive",
                        "责任限额须大于零",
                        "the limit must be greater than zero",
                    ));
                } else if ded.fen() < 0 {
                    c.push(FieldError::new(
                        f("deductible_yuan"),
                        "negative",
                        "免赔额不能为负",
                        "the deductible cannot be negative",
                    ));
                } else if limit <= ded {
                    c.push(FieldError::new(
                        f("limit_yuan"),
                        "limit_below_deductible",
                        format!("责任限额（{}）须高于免赔额（{}）", limit.display_yuan(), ded.display_yuan()),
                        format!(
                            "the limit ({}) must be above the deductible ({})",
                            limit.display_yuan(),
                            ded.display_yuan()
                        ),
                    ));
                }
                coverages.push(Coverage { name: cname, limit, deductible: ded, note });
            }
        }
        let mut tags = Vec::new();
        for t in input.industries.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if industries.tag(t).is_none() {
                c.push(FieldError::new(
                    "industries",
                    "unknown_industry",
                    format!("行业标签 `{t}` 不存在"),
                    format!("industry tag `{t}` does not exist"),
                ));
            } else if !tags.iter().any(|x: &String| x == t) {
                tags.push(t.to_owned());
            }
        }
        let mut stages = Vec::new();
        for s in input.stages.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            match LifecycleStage::from_code(s) {
                Some(st) if !stages.contains(&st) => stages.push(st),
                Some(_) => {}
                None => c.push(FieldError::new(
                    "stages",
                    "unknown_stage",
                    format!("生命周期阶段 `{s}` 不存在"),
                    format!("life-cycle stage `{s}` does not exist"),
                )),
            }
        }
        if stages.is_empty() {
            if let Some(t) = ty {
                stages = t.stages();
            }
        }
        stages.sort();
        let mut quals = Vec::new();
        for s in input.qualifications.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            match QualificationKind::from_code(s) {
                Some(q) if !quals.contains(&q) => quals.push(q),
                Some(_) => {}
                None => c.push(FieldError::new(
                    "qualifications",
                    "unknown_qualification",
                    format!("资质 `{s}` 不存在"),
                    format!("qualification `{s}` does not exist"),
                )),
            }
        }
        quals.sort();
        let term = input.term_months.trim();
        let term_months = if term.is_empty() {
            ty.and_then(|t| t.term_months).and_then(|m| u16::try_from(m).ok()).unwrap_or(12)
        } else {
            match term.parse::<u16>() {
                Ok(m) if (1..=120).contains(&m) => m,
                _ => {
                    c.push(FieldError::new(
                        "term_months",
                        "range",
                        format!("保险期间应为 1–120 个月的整数（现为 `{term}`）"),
                        format!("the term must be a whole number of months from 1 to 120 (it is `{term}`)"),
                    ));
                    12
                }
            }
        };
        let refund = c
            .take(crate::cover::RefundMethod::parse(
                &input.refund_method,
                &input.short_rate_table,
                term_months,
            ))
            .unwrap_or_default();
        let basis_in = input.premium_basis.trim();
        let premium_basis = if basis_in.is_empty() {
            c.push(FieldError::required("premium_basis"));
            PremiumBasis::SumInsured
        } else {
            PremiumBasis::from_code(basis_in).unwrap_or_else(|| {
                c.push(FieldError::new(
                    "premium_basis",
                    "unknown_basis",
                    format!("保费计算基础 `{basis_in}` 不存在"),
                    format!("premium basis `{basis_in}` does not exist"),
                ));
                PremiumBasis::SumInsured
            })
        };
        let rate_text = text(&mut c, "rate_text", &input.rate_text, 0, 500);
        let contact_name = text(&mut c, "contact_name", &input.contact_name, 1, 40);
        let phone = input.contact_phone.trim().to_owned();
        let phone_ok = (7..=20).contains(&phone.len())
            && phone.bytes().all(|b| b.is_ascii_digit() || b"-+ ()".contains(&b))
            && phone.bytes().filter(u8::is_ascii_digit).count() >= 7;
        if phone.is_empty() {
            c.push(FieldError::required("contact_phone"));
        } else if !phone_ok {
            c.push(FieldError::new(
                "contact_phone",
                "phone_format",
                format!("联系电话 `{phone}` 格式不正确"),
                format!("phone number `{phone}` is malformed"),
            ));
        }
        let email = input.contact_email.trim().to_owned();
        if !email.is_empty() {
            let ok = email.len() <= 100
                && email.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
                && !email.contains(char::is_whitespace);
            if !ok {
                c.push(FieldError::new(
                    "contact_email",
                    "email_format",
                    format!("电子邮箱 `{email}` 格式不正确"),
                    format!("e-mail address `{email}` is malformed"),
                ));
            }
        }
        c.finish()?;
        Ok(ProductContent {
            type_id,
            name,
            summary,
            coverages,
            eligibility: Eligibility { industries: tags, stages, qualifications: quals },
            term_months,
            premium_basis,
            rate_text,
            contact: Contact { name: contact_name, phone, email },
            refund,
        })
    }

    /// Whether the product is open to an enterprise of these industries and stage ("any" when
    /// the filing names none).
    pub fn covers(&self, industry: Option<&str>, stage: Option<LifecycleStage>) -> bool {
        let ind = match industry {
            None => true,
            Some(t) => {
                self.eligibility.industries.is_empty() || self.eligibility.industries.iter().any(|x| x == t)
            }
        };
        let st = match stage {
            None => true,
            Some(s) => self.eligibility.stages.is_empty() || self.eligibility.stages.contains(&s),
        };
        ind && st
    }
}

/// The registration number of the `seq`-th approval of `year`: `DHKB-2026-0007`.
pub fn registration_number(year: i32, seq: u32) -> String {
    format!("DHKB-{year}-{seq:04}")
}

/// Limits on filed documents (the checks live in [`crate::attachment`]; these names stay
/// for the callers that use them).
pub mod documents {
    pub use crate::attachment::{
        check, clean_file_name, too_large, MAX_BYTES, MAX_NAME_CHARS, MAX_PER_VERSION, TYPES,
    };
}

/// A product: one insurer's filing line for one type, across versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub insurer_id: String,
    pub insurer_name: String,
    pub type_id: String,
    pub name: String,
    /// The published version, if any.
    pub public_version: Option<i64>,
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

/// One version of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductVersion {
    pub product_id: String,
    pub version: i64,
    pub status: FilingStatus,
    pub content: ProductContent,
    /// Ticked checklist items.
    pub checklist: Vec<String>,
    pub decision_reason: Option<String>,
    pub registration_no: Option<String>,
    pub created_by: String,
    pub created_at_us: i64,
    pub updated_at_us: i64,
    pub submitted_at_us: Option<i64>,
    pub decided_at_us: Option<i64>,
    pub published_at_us: Option<i64>,
}

/// A review comment or decision note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewComment {
    pub id: String,
    pub product_id: String,
    pub version: i64,
    /// The actor as the event log names it.
    pub author: String,
    pub author_name: String,
    /// `comment`, `request_changes`, `approve`, `reject`, `reply`.
    pub kind: String,
    pub body: String,
    pub created_at_us: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = include_str!("../../../data/catalogue.toml");

    fn eligible() -> (Eligibility, EnterpriseFacts) {
        let el = Eligibility {
            industries: vec!["optoelectronics".into()],
            stages: vec![LifecycleStage::Rnd, LifecycleStage::Production],
            qualifications: vec![QualificationKind::HighTech, QualificationKind::Specialised],
        };
        let e = EnterpriseFacts {
            verified: true,
            zone_industries: vec!["optoelectronics".into()],
            stage: Some(LifecycleStage::Rnd),
            qualifications: vec![QualificationKind::Specialised],
        };
        (el, e)
    }

    fn refusals(el: &Eligibility, e: &EnterpriseFacts) -> Vec<(String, &'static str, String, String)> {
        let (_, m) = setup();
        match el.check(e, &m) {
            Ok(()) => Vec::new(),
            Err(Invalid(v)) => v.into_iter().map(|f| (f.field, f.code, f.message_zh, f.message_en)).collect(),
        }
    }

    #[test]
    fn an_eligible_enterprise_passes_and_an_open_filing_takes_anyone_verified() {
        let (el, e) = eligible();
        assert!(refusals(&el, &e).is_empty());
        let anyone = EnterpriseFacts { verified: true, ..Default::default() };
        assert!(refusals(&Eligibility::default(), &anyone).is_empty());
    }

    #[test]
    fn an_unverified_registration_is_refused_by_name() {
        let (el, e) = eligible();
        let r = refusals(&el, &EnterpriseFacts { verified: false, ..e });
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].0.as_str(), r[0].1), ("registration", "not_verified"));
        assert!(r[0].2.contains("尚未经园区核验") && r[0].3.contains("not yet verified"), "{r:?}");
    }

    #[test]
    fn an_industry_outside_the_filing_is_named() {
        let (el, e) = eligible();
        let r = refusals(
            &el,
            &EnterpriseFacts { zone_industries: vec!["ic_semiconductor_display".into()], ..e.clone() },
        );
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].0.as_str(), r[0].1), ("industry", "industry_not_eligible"));
        assert!(r[0].2.contains("光电子信息") && r[0].2.contains("集成电路和半导体显示"), "{r:?}");
        assert!(r[0].3.contains("Optoelectronics") && r[0].3.contains("Integrated circuits"), "{r:?}");
        let r = refusals(&el, &EnterpriseFacts { zone_industries: vec![], ..e });
        assert_eq!(r[0].1, "industry_not_eligible");
        assert!(r[0].2.contains("不属于园区"), "{r:?}");
    }

    #[test]
    fn a_stage_outside_the_filing_is_named() {
        let (el, e) = eligible();
        let r = refusals(&el, &EnterpriseFacts { stage: Some(LifecycleStage::Overseas), ..e.clone() });
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].0.as_str(), r[0].1), ("lifecycle_stage", "stage_not_eligible"));
        assert!(r[0].2.contains("研发、生产") && r[0].2.contains("出海"), "{r:?}");
        assert!(r[0].3.contains("R&D, Production") && r[0].3.contains("Overseas"), "{r:?}");
        let r = refusals(&el, &EnterpriseFacts { stage: None, ..e });
        assert_eq!(r[0].1, "stage_not_eligible");
    }

    #[test]
    fn a_missing_qualification_is_named_and_every_failure_is_listed() {
        let (el, e) = eligible();
        let r = refusals(&el, &EnterpriseFacts { qualifications: vec![QualificationKind::Gazelle], ..e });
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].0.as_str(), r[0].1), ("qualifications", "qualification_missing"));
        assert!(r[0].2.contains("高新技术企业") && r[0].2.contains("专精特新"), "{r:?}");
        assert!(r[0].3.contains("High-tech enterprise"), "{r:?}");
        let r = refusals(&el, &EnterpriseFacts::default());
        let codes: Vec<&str> = r.iter().map(|x| x.1).collect();
        assert_eq!(
            codes,
            ["not_verified", "industry_not_eligible", "stage_not_eligible", "qualification_missing"]
        );
    }

    fn setup() -> (Catalogue, IndustryMap) {
        let c = Catalogue::from_toml(ZONE).unwrap_or_else(|e| panic!("{e}"));
        let m = IndustryMap::from_toml(ZONE).unwrap_or_else(|e| panic!("{e}"));
        (c, m)
    }

    pub(crate) fn good() -> ProductInput {
        ProductInput {
            type_id: "patent_enforcement".into(),
            name: "专利执行保险（东湖版）".into(),
            summary: "为专利权人维权提供调查费、诉讼费和律师费保障。".into(),
            coverages: vec![CoverageInput {
                name: "维权费用".into(),
                limit_yuan: "500000".into(),
                deductible_yuan: "5000".into(),
                note: String::new(),
            }],
            industries: vec!["optoelectronics".into()],
            stages: vec![],
            qualifications: vec!["high_tech".into()],
            term_months: "12".into(),
            premium_basis: "limit".into(),
            rate_text: "费率 1.0%–1.2%".into(),
            contact_name: "王经理".into(),
            contact_phone: "027-87654321".into(),
            contact_email: "ip@example.cn".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_filing_parses_with_the_type_stages_by_default() {
        let (c, m) = setup();
        let p = ProductContent::parse(&good(), &c, &m).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.eligibility.stages, vec![LifecycleStage::Commercialisation, LifecycleStage::Market]);
        assert_eq!(p.coverages.first().map(|v| v.limit.fen()), Some(50_000_000));
        assert!(p.covers(Some("optoelectronics"), Some(LifecycleStage::Market)));
        assert!(!p.covers(Some("bio"), None));
        assert_eq!(ProductContent::parse(&ProductInput::from_content(&p), &c, &m).ok(), Some(p));
    }

    #[test]
    fn bad_filings_name_every_problem() {
        let (c, m) = setup();
        let mut bad = good();
        bad.type_id = "no_such_type".into();
        bad.coverages[0].limit_yuan = "1000".into();
        bad.coverages[0].deductible_yuan = "5000".into();
        bad.contact_phone = "call me".into();
        bad.term_months = "0".into();
        let e = ProductContent::parse(&bad, &c, &m).err().map(|e| e.0).unwrap_or_default();
        let codes: Vec<&str> = e.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["unknown_type", "limit_below_deductible", "range", "phone_format"]);
        assert!(e[1].message_zh.contains("须高于免赔额"), "{}", e[1].message_zh);
    }

    #[test]
    fn transitions_follow_the_registration_process() {
        use FilingStatus as S;
        use Transition as T;
        assert_eq!(S::Draft.apply(T::Submit).ok(), Some(S::InReview));
        assert_eq!(S::InReview.apply(T::Approve).ok(), Some(S::Approved));
        assert_eq!(S::Approved.apply(T::Approve).err().map(|e| e.code), Some("bad_transition"));
        assert!(S::Approved.apply(T::Approve).err().is_some_and(|e| e.message_en.contains("twice")));
        assert!(S::Draft.apply(T::Publish).is_err());
        assert_eq!(S::Published.apply(T::Withdraw).ok(), Some(S::Withdrawn));
        assert_eq!(S::Withdrawn.apply(T::Publish).ok(), Some(S::Published));
        assert!(S::Rejected.apply(T::Submit).is_err());
        assert_eq!(registration_number(2026, 7), "DHKB-2026-0007");
    }
}
