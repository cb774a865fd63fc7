//! The registry of parties (C1): organisations, their lifecycle stage, qualifications and
//! yearly facts.

use crate::error::{Collector, FieldError, Invalid};
use crate::industry::{IndustryCode, IndustryMap};
use crate::money::Money;
use crate::uscc::Uscc;
use time::Date;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $var,)+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// The stable code used in the API, the database and spreadsheets.
            pub const fn code(self) -> &'static str {
                match self { $($name::$var => $code,)+ }
            }

            /// The Chinese label.
            pub const fn label_zh(self) -> &'static str {
                match self { $($name::$var => $zh,)+ }
            }

            /// The English label.
            pub const fn label_en(self) -> &'static str {
                match self { $($name::$var => $en,)+ }
            }

            /// From a code, or from the Chinese or English label (spreadsheets use either).
            pub fn from_code(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| {
                    v.code() == s || v.label_zh() == s || v.label_en().eq_ignore_ascii_case(s)
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::from_code(&s)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown {} `{}`", stringify!($name), s)))
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// What kind of party an organisation is.
    OrgKind {
        Enterprise = "enterprise", "科技企业", "Tech enterprise";
        Insurer = "insurer", "保险机构", "Insurer";
        Bank = "bank", "银行", "Bank";
        Guarantor = "guarantor", "担保机构", "Guarantor";
        Investor = "investor", "创投机构", "Investor";
        ServiceBody = "service_body", "服务机构", "Service body";
        Government = "government", "政府部门", "Government agency";
    }
}

string_enum! {
    /// Where a registration stands. Self-registered enterprises wait for a zone officer.
    OrgStatus {
        Pending = "pending", "待核验", "Pending verification";
        Verified = "verified", "已核验", "Verified";
        Rejected = "rejected", "未通过", "Rejected";
    }
}

string_enum! {
    /// An enterprise's life-cycle stage (全生命周期).
    LifecycleStage {
        Rnd = "rnd", "研发", "R&D";
        Commercialisation = "commercialisation", "成果转化", "Commercialisation";
        Production = "production", "生产", "Production";
        Market = "market", "市场", "Market";
        Financing = "financing", "融资", "Financing";
        Overseas = "overseas", "出海", "Overseas";
    }
}

string_enum! {
    /// A qualification an enterprise holds for a period.
    QualificationKind {
        HighTech = "high_tech", "高新技术企业", "High-tech enterprise";
        TechSme = "tech_sme", "科技型中小企业", "Tech SME";
        Specialised = "specialised", "专精特新", "Specialised and innovative";
        LittleGiant = "little_giant", "专精特新“小巨人”", "Little giant";
        Gazelle = "gazelle", "瞪羚企业", "Gazelle";
        Unicorn = "unicorn", "独角兽企业", "Unicorn";
    }
}

string_enum! {
    /// The kind of institution the zone's plan counts (《东湖科技保险创新示范区建设实施方案》: ≥ 20
    /// insurtech or research bodies, ≥ 50 new specialist, intermediary or service bodies by 2025).
    InstitutionKind {
        SpecialistBranch = "specialist_branch", "科技保险专营机构", "Specialist tech-insurance branch";
        Insurtech = "insurtech", "保险科技公司", "Insurtech company";
        ResearchBody = "research_body", "科技保险研究机构", "Research body";
        Intermediary = "intermediary", "保险中介机构", "Insurance intermediary";
        ServiceBody = "service_body", "科技保险服务机构", "Tech-insurance service body";
    }
}

impl OrgKind {
    /// Whether organisations of this kind form branch trees (总公司 → 分公司 → 支公司).
    pub fn has_branches(self) -> bool {
        matches!(self, OrgKind::Insurer | OrgKind::Bank)
    }
}

/// An organisation as submitted (form, API body or spreadsheet row): raw text, not yet
/// checked. [`NewOrganisation::parse`] turns it into a valid value or says what is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganisationInput {
    pub name: String,
    pub uscc: String,
    pub kind: String,
    pub industry_code: String,
    pub lifecycle_stage: String,
    pub founded_on: String,
    pub address: String,
    /// Parent organisation id (branches only).
    pub parent_id: String,
    /// The zone park the enterprise sits in (a configured park id; enterprises only, optional).
    pub park: String,
    /// The kind of institution the plan's targets count (institutions only, optional); its
    /// establishment date is `founded_on`.
    pub institution_kind: String,
}

/// One organisation to import (a spreadsheet row, or a generated one), with its facts and qualifications.
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    /// The spreadsheet row number (the header is row 1).
    pub row: usize,
    pub org: OrganisationInput,
    /// The parent's USCC (branches), in the file or already registered.
    pub parent_uscc: String,
    pub facts: Vec<FactsInput>,
    /// (kind, valid_from, valid_to, certificate_no)
    pub qualifications: Vec<[String; 4]>,
}

/// A checked organisation, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    pub name: String,
    pub uscc: Uscc,
    pub kind: OrgKind,
    pub industry_code: Option<IndustryCode>,
    /// The zone tags of the industry code, in configuration order.
    pub zone_industries: Vec<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub founded_on: Option<Date>,
    pub address: Option<String>,
    pub parent_id: Option<String>,
    /// The zone park (a configured park id; enterprises only).
    pub park: Option<String>,
    /// The kind of institution the plan's targets count.
    pub institution_kind: Option<InstitutionKind>,
}

const NAME_MAX_CHARS: usize = 100;
const ADDRESS_MAX_CHARS: usize = 200;

/// Checks a text field: trimmed, required or optional, at most `max` characters.
pub fn text_field(
    field: &str,
    value: &str,
    required: bool,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return if required { Err(FieldError::required(field)) } else { Ok(None) };
    }
    let n = v.chars().count();
    if n > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("不能超过{max}个字符（当前{n}个）"),
            format!("at most {max} characters (this has {n})"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "control_character",
            "含有不可见控制字符",
            "contains a control character",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// Parses an ISO date (`2026-11-28`).
pub fn parse_date(field: &str, value: &str) -> Result<Date, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::required(field));
    }
    Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        FieldError::new(
            field,
            "date_format",
            format!("日期 `{v}` 格式不正确，应为 年-月-日，如 2026-11-28"),
            format!("date `{v}` is malformed: write year-month-day, such as 2026-11-28"),
        )
    })
}

fn enum_field<T>(
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<T, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::required(field));
    }
    parse(v).ok_or_else(|| {
        FieldError::new(
            field,
            "unknown_value",
            format!("`{v}` 不是有效取值，可选：{}", all.join("、")),
            format!("`{v}` is not a valid value; choose one of {}", all.join(", ")),
        )
    })
}

impl NewOrganisation {
    /// Checks every field and reports every problem at once.
    pub fn parse(input: &OrganisationInput, industries: &IndustryMap) -> Result<NewOrganisation, Invalid> {
        let mut c = Collector::default();
        let name = c.take(text_field("name", &input.name, true, NAME_MAX_CHARS)).flatten();
        let uscc = c.take(Uscc::parse(&input.uscc));
        let kinds: Vec<&str> = OrgKind::ALL.iter().map(|k| k.code()).collect();
        let kind = c.take(enum_field("kind", &input.kind, OrgKind::from_code, &kinds));
        let is_enterprise = kind == Some(OrgKind::Enterprise);
        let industry_code = if input.industry_code.trim().is_empty() && !is_enterprise {
            None
        } else {
            c.take(IndustryCode::parse(&input.industry_code))
        };
        let stages: Vec<&str> = LifecycleStage::ALL.iter().map(|k| k.code()).collect();
        let lifecycle_stage = if input.lifecycle_stage.trim().is_empty() && !is_enterprise {
            None
        } else {
            c.take(enum_field("lifecycle_stage", &input.lifecycle_stage, LifecycleStage::from_code, &stages))
        };
        let founded_on = if input.founded_on.trim().is_empty() {
            None
        } else {
            c.take(parse_date("founded_on", &input.founded_on))
        };
        let address = c.take(text_field("address", &input.address, false, ADDRESS_MAX_CHARS)).flatten();
        let parent_id = input.parent_id.trim();
        let parent_id = (!parent_id.is_empty()).then(|| parent_id.to_owned());
        if let (Some(k), Some(_)) = (kind, &parent_id) {
            if !k.has_branches() {
                c.push(FieldError::new(
                    "parent_id",
                    "no_branches",
                    format!("{}不设分支机构", k.label_zh()),
                    format!("a {} has no branches", k.label_en().to_lowercase()),
                ));
            }
        }
        let park = input.park.trim();
        let park = if park.is_empty() {
            None
        } else if !is_enterprise {
            c.push(FieldError::new(
                "park",
                "enterprises_only",
                "只有科技企业登记所在园区",
                "only an enterprise is registered in a park",
            ));
            None
        } else if let Some(p) = industries.find_park(park) {
            Some(p.id.clone())
        } else {
            let all: Vec<&str> = industries.parks().iter().map(|p| p.id.as_str()).collect();
            c.push(FieldError::new(
                "park",
                "unknown_value",
                format!("`{park}` 不是示范区的园区，可选：{}", all.join("、")),
                format!("`{park}` is not one of the zone's parks; choose one of {}", all.join(", ")),
            ));
            None
        };
        let institution_kind = if input.institution_kind.trim().is_empty() {
            None
        } else if matches!(kind, Some(OrgKind::Enterprise | OrgKind::Government)) {
            c.push(FieldError::new(
                "institution_kind",
                "institutions_only",
                "只有保险、金融及服务机构登记机构类别",
                "only an insurer, a financial institution or a service body has an institution kind",
            ));
            None
        } else {
            let all: Vec<&str> = InstitutionKind::ALL.iter().map(|k| k.code()).collect();
            c.take(enum_field("institution_kind", &input.institution_kind, InstitutionKind::from_code, &all))
        };
        c.finish()?;
        let (Some(name), Some(uscc), Some(kind)) = (name, uscc, kind) else {
            return Err(Invalid(vec![FieldError::required("name")]));
        };
        let zone_industries = industry_code
            .as_ref()
            .map(|code| industries.tags_for(code).into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(NewOrganisation {
            name,
            uscc,
            kind,
            industry_code,
            zone_industries,
            lifecycle_stage,
            founded_on,
            address,
            parent_id,
            park,
            institution_kind,
        })
    }
}

/// A qualification held for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    pub kind: QualificationKind,
    pub valid_from: Date,
    pub valid_to: Date,
    pub certificate_no: Option<String>,
}

impl Qualification {
    /// Checks a qualification given as text.
    pub fn parse(
        kind: &str,
        valid_from: &str,
        valid_to: &str,
        certificate_no: &str,
    ) -> Result<Qualification, Invalid> {
        let mut c = Collector::default();
        let kinds: Vec<&str> = QualificationKind::ALL.iter().map(|k| k.code()).collect();
        let kind = c.take(enum_field("kind", kind, QualificationKind::from_code, &kinds));
        let from = c.take(parse_date("valid_from", valid_from));
        let to = c.take(parse_date("valid_to", valid_to));
        let cert = c.take(text_field("certificate_no", certificate_no, false, 64)).flatten();
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                c.push(FieldError::new(
                    "valid_to",
                    "period_reversed",
                    "有效期止日早于起日",
                    "the validity ends before it starts",
                ));
            }
        }
        c.finish()?;
        match (kind, from, to) {
            (Some(kind), Some(valid_from), Some(valid_to)) => {
                Ok(Qualification { kind, valid_from, valid_to, certificate_no: cert })
            }
            _ => Err(Invalid(vec![FieldError::required("kind")])),
        }
    }

    /// Whether it is valid on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && day <= self.valid_to
    }
}

/// An enterprise's facts for one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearlyFacts {
    pub year: i32,
    pub revenue: Money,
    pub rnd_expense: Money,
    pub staff: u32,
    pub rnd_staff: u32,
    pub patents_granted: u32,
    pub patents_pending: u32,
    /// Export share of revenue in basis points (0–10,000).
    pub export_share_bp: u32,
}

/// Yearly facts as submitted: text from a form or spreadsheet (money in yuan, share in %).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsInput {
    pub year: String,
    pub revenue_yuan: String,
    pub rnd_expense_yuan: String,
    pub staff: String,
    pub rnd_staff: String,
    pub patents_granted: String,
    pub patents_pending: String,
    pub export_share_percent: String,
}

/// The earliest and latest year facts may be given for.
pub const FACTS_YEARS: std::ops::RangeInclusive<i32> = 1949..=2100;

fn count_field(field: &str, v: &str) -> Result<u32, FieldError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(0);
    }
    if v.starts_with('-') {
        return Err(negative(field, v));
    }
    v.parse::<u32>().map_err(|_| {
        FieldError::new(
            field,
            "integer_format",
            format!("`{v}` 不是非负整数"),
            format!("`{v}` is not a whole number of zero or more"),
        )
    })
}

fn negative(field: &str, v: &str) -> FieldError {
    FieldError::new(
        field,
        "negative",
        format!("不能为负数（`{v}`）"),
        format!("must not be negative (`{v}`)"),
    )
}

fn money_field(field: &str, v: &str) -> Result<Money, FieldError> {
    if v.trim().is_empty() {
        return Ok(Money::ZERO);
    }
    let m = Money::parse_yuan(v, field)?;
    if m.fen() < 0 {
        return Err(negative(field, v.trim()));
    }
    Ok(m)
}

impl YearlyFacts {
    /// Checks numbers already in their units (the JSON API gives fen and basis points).
    pub fn check(self) -> Result<YearlyFacts, Invalid> {
        let mut c = Collector::default();
        if !FACTS_YEARS.contains(&self.year) {
            c.push(FieldError::new(
                "year",
                "year_range",
                format!("年份 {} 超出范围（1949–2100）", self.year),
                format!("year {} is out of range (1949–2100)", self.year),
            ));
        }
        for (field, v) in [("revenue_fen", self.revenue), ("rnd_expense_fen", self.rnd_expense)] {
            if v.fen() < 0 {
                c.push(negative(field, &v.fen().to_string()));
            }
        }
        if self.rnd_staff > self.staff {
            c.push(FieldError::new(
                "rnd_staff",
                "exceeds_staff",
                format!("研发人员（{}）不能多于职工总数（{}）", self.rnd_staff, self.staff),
                format!("R&D staff ({}) cannot exceed total staff ({})", self.rnd_staff, self.staff),
            ));
        }
        if self.export_share_bp > 10_000 {
            c.push(FieldError::new(
                "export_share",
                "share_range",
                "出口占比应在 0–100% 之间",
                "the export share must be between 0 and 100%",
            ));
        }
        c.finish().map(|()| self)
    }

    /// Parses facts given as text (yuan and percent).
    pub fn parse(input: &FactsInput) -> Result<YearlyFacts, Invalid> {
        let mut c = Collector::default();
        let year = c.take(input.year.trim().parse::<i32>().map_err(|_| {
            if input.year.trim().is_empty() {
                FieldError::required("year")
            } else {
                FieldError::new(
                    "year",
                    "integer_format",
                    format!("年份 `{}` 无效", input.year.trim()),
                    format!("year `{}` is not a year", input.year.trim()),
                )
            }
        }));
        let revenue = c.take(money_field("revenue_yuan", &input.revenue_yuan));
        let rnd_expense = c.take(money_field("rnd_expense_yuan", &input.rnd_expense_yuan));
        let staff = c.take(count_field("staff", &input.staff));
        let rnd_staff = c.take(count_field("rnd_staff", &input.rnd_staff));
        let patents_granted = c.take(count_field("patents_granted", &input.patents_granted));
        let patents_pending = c.take(count_field("patents_pending", &input.patents_pending));
        let share = input.export_share_percent.trim();
        let export_share_bp = if share.is_empty() {
            Some(0)
        } else if share.starts_with('-') {
            c.push(negative("export_share_percent", share));
            None
        } else {
            // Percent with up to two decimals = basis points; reuse the fen parser.
            c.take(
                Money::parse_yuan(share, "export_share_percent")
                    .map(|m| u32::try_from(m.fen()).unwrap_or(u32::MAX))
                    .map_err(|_| {
                        FieldError::new(
                            "export_share_percent",
                            "percent_format",
                            format!("`{share}` 不是百分数（0–100，最多两位小数）"),
                            format!("`{share}` is not a percentage (0–100, at most two decimals)"),
                        )
                    }),
            )
        };
        c.finish()?;
        match (
            year,
            revenue,
            rnd_expense,
            staff,
            rnd_staff,
            patents_granted,
            patents_pending,
            export_share_bp,
        ) {
            (
                Some(year),
                Some(revenue),
                Some(rnd_expense),
                Some(staff),
                Some(rnd_staff),
                Some(pg),
                Some(pp),
                Some(bp),
            ) => YearlyFacts {
                year,
                revenue,
                rnd_expense,
                staff,
                rnd_staff,
                patents_granted: pg,
                patents_pending: pp,
                export_share_bp: bp,
            }
            .check()
            .map_err(|Invalid(errs)| {
                Invalid(
                    errs.into_iter()
                        .map(|e| match e.field.as_str() {
                            "export_share" => e.at("export_share_percent"),
                            _ => e,
                        })
                        .collect(),
                )
            }),
            _ => Err(Invalid(vec![FieldError::required("year")])),
        }
    }

    /// R&D intensity: R&D expense over revenue, if there is revenue.
    pub fn rnd_intensity(&self) -> Option<f64> {
        (self.revenue.fen() > 0).then(|| self.rnd_expense.fen() as f64 / self.revenue.fen() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> IndustryMap {
        IndustryMap::from_toml(include_str!("../../../data/catalogue.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn input() -> OrganisationInput {
        OrganisationInput {
            name: "武汉光谷激光科技有限公司".into(),
            uscc: "91440300708461136T".into(),
            kind: "enterprise".into(),
            industry_code: "C3976".into(),
            lifecycle_stage: "成果转化".into(),
            ..OrganisationInput::default()
        }
    }

    #[test]
    fn enterprise_parses_with_tags() {
        let org = NewOrganisation::parse(&input(), &map()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(org.zone_industries, vec!["optoelectronics".to_owned()]);
        assert_eq!(org.lifecycle_stage, Some(LifecycleStage::Commercialisation));
    }

    #[test]
    fn every_problem_is_reported() {
        let bad = OrganisationInput {
            name: " ".into(),
            uscc: "123".into(),
            industry_code: "X1".into(),
            lifecycle_stage: "growth".into(),
            ..input()
        };
        let Err(Invalid(errs)) = NewOrganisation::parse(&bad, &map()) else { panic!("accepted") };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "uscc", "industry_code", "lifecycle_stage"]);
    }

    #[test]
    fn only_insurers_and_banks_have_branches() {
        let branch = OrganisationInput { parent_id: "x".into(), ..input() };
        assert!(NewOrganisation::parse(&branch, &map()).is_err());
        let ins = OrganisationInput {
            kind: "insurer".into(),
            industry_code: String::new(),
            lifecycle_stage: String::new(),
            ..branch
        };
        assert!(NewOrganisation::parse(&ins, &map()).is_ok());
    }

    #[test]
    fn an_institution_kind_is_for_institutions() {
        let branch = OrganisationInput {
            kind: "insurer".into(),
            institution_kind: "科技保险专营机构".into(),
            founded_on: "2022-03-01".into(),
            ..OrganisationInput::default()
        };
        let branch =
            OrganisationInput {
                name: "江城保险光谷科技支公司".into(), uscc: input().uscc, ..branch
            };
        let org = NewOrganisation::parse(&branch, &map()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(org.institution_kind, Some(InstitutionKind::SpecialistBranch));
        let bad = OrganisationInput { institution_kind: "bakery".into(), ..branch.clone() };
        let Err(Invalid(errs)) = NewOrganisation::parse(&bad, &map()) else { panic!("accepted") };
        assert_eq!(
            errs.iter().map(|e| (e.field.as_str(), e.code)).collect::<Vec<_>>(),
            [("institution_kind", "unknown_value")]
        );
        let ent = OrganisationInput { institution_kind: "insurtech".into(), ..input() };
        let Err(Invalid(errs)) = NewOrganisation::parse(&ent, &map()) else { panic!("accepted") };
        assert_eq!(errs.iter().map(|e| e.code).collect::<Vec<_>>(), ["institutions_only"]);
    }

    #[test]
    fn a_park_is_one_of_the_zone_s_and_only_for_enterprises() {
        let at = OrganisationInput { park: " biolake ".into(), ..input() };
        let org = NewOrganisation::parse(&at, &map()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(org.park.as_deref(), Some("biolake"));
        // A spreadsheet names it in Chinese.
        let named = OrganisationInput { park: "光谷生物城".into(), ..input() };
        let org = NewOrganisation::parse(&named, &map()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(org.park.as_deref(), Some("biolake"));
        let nowhere = OrganisationInput { park: "atlantis".into(), ..input() };
        let Err(Invalid(errs)) = NewOrganisation::parse(&nowhere, &map()) else { panic!("accepted") };
        assert_eq!(
            errs.iter().map(|e| (e.field.as_str(), e.code)).collect::<Vec<_>>(),
            [("park", "unknown_value")]
        );
        let bank = OrganisationInput {
            kind: "bank".into(),
            industry_code: String::new(),
            lifecycle_stage: String::new(),
            ..at
        };
        let Err(Invalid(errs)) = NewOrganisation::parse(&bank, &map()) else { panic!("accepted") };
        assert_eq!(errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["park"]);
    }

    #[test]
    fn facts_refuse_negatives_and_inconsistency() {
        let f = FactsInput {
            year: "2025".into(),
            revenue_yuan: "-1".into(),
            staff: "10".into(),
            rnd_staff: "11".into(),
            export_share_percent: "101".into(),
            ..FactsInput::default()
        };
        let Err(Invalid(errs)) = YearlyFacts::parse(&f) else { panic!("accepted") };
        let codes: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(codes, [("revenue_yuan", "negative")]);
        let f = FactsInput { revenue_yuan: "100".into(), ..f };
        let Err(Invalid(errs)) = YearlyFacts::parse(&f) else { panic!("accepted") };
        let codes: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(codes, [("rnd_staff", "exceeds_staff"), ("export_share_percent", "share_range")]);
        let ok = FactsInput {
            year: "2025".into(),
            revenue_yuan: "1,000,000".into(),
            rnd_expense_yuan: "80000.5".into(),
            staff: "40".into(),
            rnd_staff: "12".into(),
            export_share_percent: "12.5".into(),
            ..FactsInput::default()
        };
        let facts = YearlyFacts::parse(&ok).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((facts.revenue.fen(), facts.export_share_bp), (100_000_000, 1250));
    }
}

/// An organisation as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub uscc: String,
    pub kind: OrgKind,
    pub status: OrgStatus,
    pub industry_code: Option<String>,
    pub zone_industries: Vec<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub founded_on: Option<Date>,
    pub address: Option<String>,
    pub parent_id: Option<String>,
    /// The zone park it sits in (enterprises).
    pub park: Option<String>,
    /// The kind of institution the plan's targets count.
    pub institution_kind: Option<InstitutionKind>,
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

impl Organisation {
    /// The submitted form of this organisation, for edit forms.
    pub fn to_input(&self) -> OrganisationInput {
        OrganisationInput {
            name: self.name.clone(),
            uscc: self.uscc.clone(),
            kind: self.kind.code().to_owned(),
            industry_code: self.industry_code.clone().unwrap_or_default(),
            lifecycle_stage: self.lifecycle_stage.map(|s| s.code().to_owned()).unwrap_or_default(),
            founded_on: self.founded_on.map(|d| d.to_string()).unwrap_or_default(),
            address: self.address.clone().unwrap_or_default(),
            parent_id: self.parent_id.clone().unwrap_or_default(),
            park: self.park.clone().unwrap_or_default(),
            institution_kind: self.institution_kind.map(|k| k.code().to_owned()).unwrap_or_default(),
        }
    }
}

/// Filters for the organisation list. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub kind: Option<OrgKind>,
    pub status: Option<OrgStatus>,
    pub industry: Option<String>,
    pub stage: Option<LifecycleStage>,
    /// Holds this qualification, valid on `today`.
    pub qualification: Option<QualificationKind>,
    /// The business date for qualification validity.
    pub today: Option<Date>,
    /// Name contains (case-insensitive), or USCC starts with.
    pub q: Option<String>,
    /// Children of this organisation.
    pub parent_id: Option<String>,
}
