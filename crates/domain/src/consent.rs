//! Consent to credit queries (C10): an enterprise authorises a named organisation to read
//! named data scopes for one purpose until a date (征信业管理条例 Art. 18, 20; PIPL Art. 23).
//! Personal data of named people (the legal representative, guarantors) needs a separate,
//! personal consent (PIPL Art. 23, 单独同意); duty-related information of directors,
//! supervisors and senior managers and public registration data are exempt (征信条例 Art. 13).
//! Sensitive personal data (health) is never collected into a report (征信条例 Art. 14).

use crate::error::{Collector, FieldError, Invalid};
use crate::org::string_enum;
use time::Date;

string_enum! {
    /// What a consent opens.
    DataScope {
        Profile = "profile", "登记信息与公共信用记录", "Registration data and public credit records";
        FinancialFacts = "financial_facts", "经营与财务数据", "Business and financial facts";
        Ip = "ip", "知识产权", "Intellectual property";
        PoliciesClaims = "policies_claims", "保单与理赔", "Policies and claims";
        Loans = "loans", "贷款与担保", "Loans and guarantees";
        Subsidies = "subsidies", "补贴", "Subsidies";
        Scores = "scores", "评分", "Scores";
        Personal = "personal", "具名个人的个人信息", "Personal data of named people";
    }
}

string_enum! {
    /// Why data is read: one per consent, from a closed list.
    Purpose {
        LoanReview = "loan_review", "贷款审查", "Loan review";
        Underwriting = "underwriting", "承保审核", "Underwriting";
        GuaranteeReview = "guarantee_review", "担保审查", "Guarantee review";
        InvestmentDueDiligence = "investment_due_diligence", "投资尽职调查", "Investment due diligence";
        SubsidyReview = "subsidy_review", "补贴审核", "Subsidy review";
    }
}

string_enum! {
    /// The class of a field (数据安全法 Art. 21 classification).
    DataClass {
        Public = "public", "公开信息", "Public";
        Enterprise = "enterprise", "企业非公开信息", "Enterprise, non-public";
        Personal = "personal", "个人信息", "Personal";
        SensitivePersonal = "sensitive_personal", "敏感个人信息", "Sensitive personal";
    }
}

string_enum! {
    /// An enterprise consent, or a named person's separate consent to their personal data.
    ConsentKind {
        Enterprise = "enterprise", "企业授权", "Enterprise consent";
        Personal = "personal", "个人单独同意", "Separate personal consent";
    }
}

string_enum! {
    /// Whose personal data a personal consent covers.
    PersonRole {
        LegalRepresentative = "legal_representative", "法定代表人", "Legal representative";
        Guarantor = "guarantor", "保证人", "Guarantor";
    }
}

/// A field of the credit report and its class: the report schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportField {
    pub key: &'static str,
    pub scope: DataScope,
    pub class: DataClass,
    pub label_zh: &'static str,
    pub label_en: &'static str,
}

macro_rules! fields {
    ($(($key:literal, $scope:ident, $class:ident, $zh:literal, $en:literal)),+ $(,)?) => {
        &[$(ReportField { key: $key, scope: DataScope::$scope, class: DataClass::$class, label_zh: $zh, label_en: $en }),+]
    };
}

/// Every field a credit report may hold, with its scope and data class. Fields of class
/// `sensitive_personal` are listed so that the classification is complete; no report ever
/// contains them.
pub const REPORT_FIELDS: &[ReportField] = fields![
    ("name", Profile, Public, "名称", "Name"),
    ("uscc", Profile, Public, "统一社会信用代码", "Unified social credit code"),
    ("industry", Profile, Public, "行业", "Industry"),
    ("stage", Profile, Public, "生命周期阶段", "Life-cycle stage"),
    ("founded_on", Profile, Public, "成立日期", "Founded on"),
    ("address", Profile, Public, "地址", "Address"),
    (
        "legal_representative",
        Profile,
        Public,
        "法定代表人（登记信息，职务相关，豁免个人同意）",
        "Legal representative (registration data, duty-related: exempt)"
    ),
    ("qualifications", Profile, Public, "资质", "Qualifications"),
    (
        "public_credit_records",
        Profile,
        Public,
        "公共信用记录（行政处罚、司法、失信、荣誉）",
        "Public credit records (penalties, court, dishonesty, honours)"
    ),
    ("facts", FinancialFacts, Enterprise, "年度经营数据", "Yearly facts"),
    ("tax_records", FinancialFacts, Enterprise, "纳税信用", "Tax records"),
    ("patents", Ip, Enterprise, "专利数量（自报）", "Patents (self-reported)"),
    ("ip_office_records", Ip, Public, "知识产权局记录", "IP office records"),
    ("policies", PoliciesClaims, Enterprise, "保单与理赔", "Policies and claims"),
    (
        "group_health_claims",
        PoliciesClaims,
        SensitivePersonal,
        "团体健康险理赔明细（健康信息）",
        "Group health claims (health data)"
    ),
    ("loan_records", Loans, Enterprise, "贷款与担保记录", "Loan and guarantee records"),
    ("subsidy_records", Subsidies, Enterprise, "补贴记录", "Subsidy records"),
    ("scores", Scores, Enterprise, "评分", "Scores"),
    ("person_credit_records", Personal, Personal, "具名个人的信用记录", "Credit records of named people"),
];

/// A consent as submitted: raw text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ConsentInput {
    #[serde(default)]
    pub grantee_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub signer_name: String,
    #[serde(default)]
    pub signer_title: String,
    /// Personal consents: the person whose data it covers.
    #[serde(default)]
    pub person_name: String,
    #[serde(default)]
    pub person_role: String,
}

/// A checked consent, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    pub grantee_id: String,
    pub kind: ConsentKind,
    pub scopes: Vec<DataScope>,
    pub purpose: Purpose,
    pub valid_from: Date,
    pub expires_on: Date,
    pub signer_name: String,
    pub signer_title: String,
    pub person_name: Option<String>,
    pub person_role: Option<PersonRole>,
}

/// The longest a consent may run.
pub const MAX_DAYS: i64 = 3 * 366;

fn date(c: &mut Collector, field: &str, s: &str) -> Option<Date> {
    let s = s.trim();
    if s.is_empty() {
        c.push(FieldError::required(field));
        return None;
    }
    match Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")) {
        Ok(d) => Some(d),
        Err(_) => {
            c.push(FieldError::new(
                field,
                "date_format",
                format!("日期 `{s}` 格式不正确，应为 YYYY-MM-DD"),
                format!("date `{s}` is malformed: use YYYY-MM-DD"),
            ));
            None
        }
    }
}

impl NewConsent {
    /// Checks a consent as submitted on `today`.
    pub fn parse(input: &ConsentInput, today: Date) -> Result<NewConsent, Invalid> {
        let mut c = Collector::default();
        let grantee_id = input.grantee_id.trim().to_owned();
        if grantee_id.is_empty() {
            c.push(FieldError::required("grantee_id"));
        }
        let kind = if input.kind.trim().is_empty() {
            Some(ConsentKind::Enterprise)
        } else {
            let k = ConsentKind::from_code(&input.kind);
            if k.is_none() {
                c.push(FieldError::new(
                    "kind",
                    "unknown_kind",
                    format!("授权类型 `{}` 不存在", input.kind.trim()),
                    format!("consent kind `{}` does not exist", input.kind.trim()),
                ));
            }
            k
        };
        let mut scopes = Vec::new();
        for s in input.scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            match DataScope::from_code(s) {
                Some(v) if !scopes.contains(&v) => scopes.push(v),
                Some(_) => {}
                None => c.push(FieldError::new(
                    "scopes",
                    "unknown_scope",
                    format!("数据范围 `{s}` 不存在"),
                    format!("data scope `{s}` does not exist"),
                )),
            }
        }
        scopes.sort();
        match kind {
            Some(ConsentKind::Personal) => {
                if scopes != [DataScope::Personal] && !scopes.is_empty() {
                    c.push(FieldError::new(
                        "scopes",
                        "personal_scope_only",
                        "个人单独同意只能覆盖“具名个人的个人信息”",
                        "a separate personal consent covers only `personal`",
                    ));
                }
                scopes = vec![DataScope::Personal];
            }
            Some(ConsentKind::Enterprise) => {
                if scopes.contains(&DataScope::Personal) {
                    c.push(FieldError::new(
                        "scopes",
                        "personal_needs_separate_consent",
                        "具名个人的个人信息须由本人单独同意，不能包含在企业授权中",
                        "personal data of named people needs the person's separate consent, not the enterprise's",
                    ));
                }
                if scopes.is_empty() {
                    c.push(FieldError::new(
                        "scopes",
                        "required",
                        "请至少选择一项数据范围",
                        "choose at least one data scope",
                    ));
                }
            }
            None => {}
        }
        let purpose = match Purpose::from_code(&input.purpose) {
            Some(p) => Some(p),
            None => {
                c.push(if input.purpose.trim().is_empty() {
                    FieldError::required("purpose")
                } else {
                    FieldError::new(
                        "purpose",
                        "unknown_purpose",
                        format!("用途 `{}` 不在允许的用途清单中", input.purpose.trim()),
                        format!("purpose `{}` is not on the closed list", input.purpose.trim()),
                    )
                });
                None
            }
        };
        let valid_from = date(&mut c, "valid_from", &input.valid_from);
        let expires_on = date(&mut c, "expires_on", &input.expires_on);
        if let (Some(f), Some(t)) = (valid_from, expires_on) {
            if t < f {
                c.push(FieldError::new(
                    "expires_on",
                    "expires_before_start",
                    "到期日不能早于生效日",
                    "the consent cannot expire before it starts",
                ));
            } else if (t - f).whole_days() > MAX_DAYS {
                c.push(FieldError::new(
                    "expires_on",
                    "too_long",
                    "授权期限最长三年",
                    "a consent runs for at most three years",
                ));
            }
            if t < today {
                c.push(FieldError::new(
                    "expires_on",
                    "in_the_past",
                    "到期日已过",
                    "the expiry date has passed",
                ));
            }
        }
        let signer_name = input.signer_name.trim().to_owned();
        if signer_name.is_empty() {
            c.push(FieldError::required("signer_name"));
        }
        let (person_name, person_role) = if kind == Some(ConsentKind::Personal) {
            let name = input.person_name.trim().to_owned();
            if name.is_empty() {
                c.push(FieldError::required("person_name"));
            }
            let role = PersonRole::from_code(&input.person_role);
            if role.is_none() {
                c.push(FieldError::new(
                    "person_role",
                    "unknown_role",
                    "请选择个人身份：法定代表人或保证人",
                    "choose the person's role: legal_representative or guarantor",
                ));
            }
            (Some(name), role)
        } else {
            (None, None)
        };
        c.finish()?;
        Ok(NewConsent {
            grantee_id,
            kind: kind.unwrap_or(ConsentKind::Enterprise),
            scopes,
            purpose: purpose.unwrap_or(Purpose::LoanReview),
            valid_from: valid_from.unwrap_or(today),
            expires_on: expires_on.unwrap_or(today),
            signer_name,
            signer_title: input.signer_title.trim().to_owned(),
            person_name,
            person_role,
        })
    }
}

/// A stored consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: String,
    pub enterprise_id: String,
    pub grantee_id: String,
    pub kind: ConsentKind,
    pub scopes: Vec<DataScope>,
    pub purpose: Purpose,
    pub valid_from: Date,
    pub expires_on: Date,
    pub signer_name: String,
    pub signer_title: String,
    pub person_name: Option<String>,
    pub person_role: Option<PersonRole>,
    /// The signed authorisation, by content hash.
    pub evidence_sha256: String,
    pub evidence_document_id: String,
    pub revoked_at_us: Option<i64>,
    pub created_at_us: i64,
    pub created_by: String,
}

string_enum! {
    /// Where a consent stands on a day.
    ConsentState {
        Valid = "valid", "有效", "Valid";
        NotYetValid = "not_yet_valid", "尚未生效", "Not yet valid";
        Expired = "expired", "已过期", "Expired";
        Revoked = "revoked", "已撤回", "Revoked";
    }
}

impl Consent {
    /// The consent's state on `today`.
    pub fn state(&self, today: Date) -> ConsentState {
        if self.revoked_at_us.is_some() {
            ConsentState::Revoked
        } else if today < self.valid_from {
            ConsentState::NotYetValid
        } else if today > self.expires_on {
            ConsentState::Expired
        } else {
            ConsentState::Valid
        }
    }

    /// How well the consent fits a read: lower is better (0 covers it). Used to pick the
    /// consent to decide with, and to explain a refusal with the nearest miss.
    pub fn distance(&self, scope: DataScope, purpose: Purpose, today: Date) -> u8 {
        let mut d = 0;
        if self.state(today) != ConsentState::Valid {
            d += 1;
        }
        if self.purpose != purpose {
            d += 2;
        }
        if !self.scopes.contains(&scope) {
            d += 4;
        }
        d
    }
}

/// A date as a Cedar `Long` (`20261128`).
pub fn date_number(d: Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(u8::from(d.month())) * 100 + i64::from(d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_calendar_date(2026, time::Month::November, 28).unwrap_or(Date::MIN)
    }

    fn input() -> ConsentInput {
        ConsentInput {
            grantee_id: "bank".into(),
            scopes: vec!["financial_facts".into(), "profile".into()],
            purpose: "loan_review".into(),
            valid_from: "2026-11-28".into(),
            expires_on: "2027-05-28".into(),
            signer_name: "张三".into(),
            signer_title: "法定代表人".into(),
            ..Default::default()
        }
    }

    #[test]
    fn consents_are_checked() {
        let c = NewConsent::parse(&input(), today()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.scopes, vec![DataScope::Profile, DataScope::FinancialFacts]);
        let mut bad = input();
        bad.scopes.push("personal".into());
        bad.purpose = "marketing".into();
        bad.expires_on = "2026-11-01".into();
        let e = NewConsent::parse(&bad, today()).err().map(|e| e.0).unwrap_or_default();
        let codes: Vec<&str> = e.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            vec!["personal_needs_separate_consent", "unknown_purpose", "expires_before_start", "in_the_past"]
        );
        let mut personal = input();
        personal.kind = "personal".into();
        personal.scopes = vec![];
        let e = NewConsent::parse(&personal, today()).err().map(|e| e.0).unwrap_or_default();
        assert_eq!(e.iter().map(|e| e.code).collect::<Vec<_>>(), vec!["required", "unknown_role"]);
        personal.person_name = "张三".into();
        personal.person_role = "legal_representative".into();
        let p = NewConsent::parse(&personal, today()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.scopes, vec![DataScope::Personal]);
    }

    #[test]
    fn state_and_schema() {
        let n = NewConsent::parse(&input(), today()).unwrap_or_else(|e| panic!("{e}"));
        let mut c = Consent {
            id: "c".into(),
            enterprise_id: "e".into(),
            grantee_id: n.grantee_id,
            kind: n.kind,
            scopes: n.scopes,
            purpose: n.purpose,
            valid_from: n.valid_from,
            expires_on: n.expires_on,
            signer_name: n.signer_name,
            signer_title: n.signer_title,
            person_name: None,
            person_role: None,
            evidence_sha256: String::new(),
            evidence_document_id: String::new(),
            revoked_at_us: None,
            created_at_us: 0,
            created_by: String::new(),
        };
        assert_eq!(c.state(today()), ConsentState::Valid);
        assert_eq!(c.distance(DataScope::Profile, Purpose::LoanReview, today()), 0);
        assert_eq!(c.distance(DataScope::Loans, Purpose::Underwriting, today()), 6);
        let later = Date::from_calendar_date(2027, time::Month::June, 1).unwrap_or(Date::MIN);
        assert_eq!(c.state(later), ConsentState::Expired);
        c.revoked_at_us = Some(1);
        assert_eq!(c.state(today()), ConsentState::Revoked);
        assert_eq!(date_number(today()), 20261128);
        // Every scope has a field; sensitive fields exist only under policies and claims.
        for s in DataScope::ALL {
            assert!(REPORT_FIELDS.iter().any(|f| f.scope == *s), "{s}");
        }
        let sensitive: Vec<&str> =
            REPORT_FIELDS.iter().filter(|f| f.class == DataClass::SensitivePersonal).map(|f| f.key).collect();
        assert_eq!(sensitive, vec!["group_health_claims"]);
    }
}
