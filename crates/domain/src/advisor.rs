//! The risk advisor's rules (C3): exposures inferred from an enterprise's registry profile and a
//! short questionnaire, and the catalogue's product types that address each
//! (`data/zone/advisor.toml`). Information, not advice: see `docs/advisor.md`.

use crate::catalogue::Catalogue;
use crate::org::{LifecycleStage, QualificationKind, YearlyFacts};
use crate::{FieldError, IndustryMap, Invalid};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    YesNo,
    /// An amount in yuan, 0 to `max` (stored in fen).
    Amount {
        max_yuan: i64,
    },
    /// A whole number, 0 to `max`.
    Count {
        max: i64,
    },
}

/// A question the registry cannot answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub name_zh: String,
    pub name_en: String,
    pub help_zh: String,
    pub help_en: String,
}

/// A yearly fact a rule may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// R&D expense ÷ revenue, in per cent.
    RndIntensity,
    /// Export share of revenue, in per cent.
    ExportShare,
    /// Patents granted and pending.
    Patents,
    Staff,
    /// Revenue in yuan.
    Revenue,
}

impl Fact {
    fn parse(s: &str) -> Option<Fact> {
        Some(match s {
            "rnd_intensity" => Fact::RndIntensity,
            "export_share" => Fact::ExportShare,
            "patents" => Fact::Patents,
            "staff" => Fact::Staff,
            "revenue" => Fact::Revenue,
            _ => return None,
        })
    }

    fn of(self, f: &YearlyFacts) -> Option<f64> {
        match self {
            Fact::RndIntensity => f.rnd_intensity().map(|x| x * 100.0),
            Fact::ExportShare => Some(f64::from(f.export_share_bp) / 100.0),
            Fact::Patents => Some(f64::from(f.patents_granted) + f64::from(f.patents_pending)),
            Fact::Staff => Some(f64::from(f.staff)),
            Fact::Revenue => Some(f.revenue.fen() as f64 / 100.0),
        }
    }
}

/// One way an exposure is inferred: every condition it states must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub stages: Vec<LifecycleStage>,
    pub industries: Vec<String>,
    pub qualifications: Vec<QualificationKind>,
    pub fact: Option<Fact>,
    pub answer: Option<String>,
    pub at_least: Option<f64>,
    pub reason_zh: String,
    pub reason_en: String,
}

/// An exposure and the product types that address it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// The life-cycle stages it belongs to (the page groups by the first).
    pub stages: Vec<LifecycleStage>,
    /// Catalogue product type ids.
    pub products: Vec<String>,
    pub source: String,
    pub when: Vec<Rule>,
}

/// The rules file.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub version: String,
    pub confidence: String,
    pub questions: Vec<Question>,
    pub exposures: Vec<Exposure>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: String,
    confidence: String,
    #[serde(default)]
    question: Vec<RawQuestion>,
    #[serde(default)]
    exposure: Vec<RawExposure>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    kind: String,
    #[serde(default)]
    max: Option<i64>,
    name_zh: String,
    name_en: String,
    #[serde(default)]
    help_zh: String,
    #[serde(default)]
    help_en: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExposure {
    id: String,
    name_zh: String,
    name_en: String,
    stages: Vec<String>,
    products: Vec<String>,
    source: String,
    #[serde(default)]
    when: Vec<RawRule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    stages: Vec<String>,
    #[serde(default)]
    industries: Vec<String>,
    #[serde(default)]
    qualifications: Vec<String>,
    #[serde(default)]
    fact: Option<String>,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    at_least: Option<f64>,
    reason_zh: String,
    reason_en: String,
}

/// Reads and checks the rules file against the catalogue and the industries; every problem is
/// named, and nothing is used when there is one.
pub fn parse(text: &str, catalogue: &Catalogue, industries: &IndustryMap) -> Result<Rules, Vec<String>> {
    let raw: RawFile = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
    let mut errors = Vec::new();
    if raw.version.trim().is_empty() {
        errors.push("the rules have no version".to_owned());
    }
    let mut questions = Vec::new();
    let mut seen = HashSet::new();
    for q in raw.question {
        if !seen.insert(q.id.clone()) {
            errors.push(format!("question `{}` appears twice", q.id));
        }
        let max = q.max.filter(|m| *m > 0 && *m <= 1_000_000_000_000);
        let kind = match (q.kind.as_str(), max) {
            ("yes_no", _) => QuestionKind::YesNo,
            ("amount", Some(m)) => QuestionKind::Amount { max_yuan: m },
            ("count", Some(m)) => QuestionKind::Count { max: m },
            ("amount" | "count", None) => {
                errors.push(format!("question `{}` needs a `max` from 1 to 10^12", q.id));
                continue;
            }
            (k, _) => {
                errors.push(format!("question `{}`: unknown kind `{k}` (yes_no, amount, count)", q.id));
                continue;
            }
        };
        questions.push(Question {
            id: q.id,
            kind,
            name_zh: q.name_zh,
            name_en: q.name_en,
            help_zh: q.help_zh,
            help_en: q.help_en,
        });
    }
    let mut exposures = Vec::new();
    let mut seen = HashSet::new();
    for e in raw.exposure {
        let at = |what: String| format!("exposure `{}`: {what}", e.id);
        if !seen.insert(e.id.clone()) {
            errors.push(at("appears twice".into()));
        }
        let stages = stages_of(&e.stages, &mut |s| errors.push(at(format!("unknown stage `{s}`"))));
        if stages.is_empty() {
            errors.push(at("names no stage".into()));
        }
        for p in &e.products {
            if catalogue.get(p).is_none() {
                errors.push(at(format!("product type `{p}` is not in the catalogue")));
            }
        }
        if e.when.is_empty() {
            errors.push(at("has no rule (`[[exposure.when]]`)".into()));
        }
        let mut rules = Vec::new();
        for (i, r) in e.when.into_iter().enumerate() {
            let at = |what: String| format!("exposure `{}`, rule {}: {what}", e.id, i + 1);
            let stages = stages_of(&r.stages, &mut |s| errors.push(at(format!("unknown stage `{s}`"))));
            for t in &r.industries {
                if industries.tag(t).is_none() {
                    errors.push(at(format!("unknown industry `{t}`")));
                }
            }
            let mut qualifications = Vec::new();
            for q in &r.qualifications {
                match QualificationKind::from_code(q) {
                    Some(k) => qualifications.push(k),
                    None => errors.push(at(format!("unknown qualification `{q}`"))),
                }
            }
            let fact = r.fact.as_deref().and_then(|f| {
                let parsed = Fact::parse(f);
                if parsed.is_none() {
                    errors.push(at(format!(
                        "unknown fact `{f}` (rnd_intensity, export_share, patents, staff, revenue)"
                    )));
                }
                parsed
            });
            if r.fact.is_some() && r.answer.is_some() {
                errors.push(at("tests a fact and an answer: make them two rules".into()));
            }
            if r.fact.is_some() && r.at_least.is_none() {
                errors.push(at("a fact needs `at_least`".into()));
            }
            if let Some(a) = &r.answer {
                match questions.iter().find(|q| &q.id == a) {
                    None => errors.push(at(format!("unknown question `{a}`"))),
                    Some(q) if q.kind == QuestionKind::YesNo && r.at_least.is_some() => {
                        errors.push(at(format!("`{a}` is a yes/no question: no `at_least`")))
                    }
                    Some(_) => {}
                }
            }
            if r.at_least.is_some_and(|v| !v.is_finite()) {
                errors.push(at("`at_least` is not a number".into()));
            }
            let empty = stages.is_empty()
                && r.industries.is_empty()
                && r.qualifications.is_empty()
                && r.fact.is_none()
                && r.answer.is_none();
            if empty {
                errors.push(at("states no condition".into()));
            }
            if r.reason_zh.trim().is_empty() || r.reason_en.trim().is_empty() {
                errors.push(at("needs its reason in Chinese and English".into()));
            }
            rules.push(Rule {
                stages,
                industries: r.industries,
                qualifications,
                fact,
                answer: r.answer,
                at_least: r.at_least,
                reason_zh: r.reason_zh,
                reason_en: r.reason_en,
            });
        }
        exposures.push(Exposure {
            id: e.id,
            name_zh: e.name_zh,
            name_en: e.name_en,
            stages,
            products: e.products,
            source: e.source,
            when: rules,
        });
    }
    if exposures.is_empty() {
        errors.push("the rules name no exposure".into());
    }
    if errors.is_empty() {
        Ok(Rules { version: raw.version, confidence: raw.confidence, questions, exposures })
    } else {
        Err(errors)
    }
}

fn stages_of(codes: &[String], bad: &mut dyn FnMut(&str)) -> Vec<LifecycleStage> {
    let mut out = Vec::new();
    for s in codes {
        match LifecycleStage::from_code(s) {
            Some(st) => out.push(st),
            None => bad(s),
        }
    }
    out
}

/// An enterprise's answers: per question, 0/1 for yes/no, fen for amounts, the number for
/// counts. A question not answered is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers(pub BTreeMap<String, i64>);

impl Answers {
    /// Reads answers as typed on the form (yes/no as `yes`/`no`, amounts in yuan with up to two
    /// decimals, counts as whole numbers; blank: not answered). Every problem is named; an
    /// unknown field is refused too.
    pub fn read(rules: &Rules, form: &HashMap<String, String>) -> Result<Answers, Invalid> {
        let mut errors = Vec::new();
        let mut out = BTreeMap::new();
        for key in form.keys() {
            if !rules.questions.iter().any(|q| &q.id == key) {
                errors.push(FieldError::new(
                    key.clone(),
                    "unknown_question",
                    format!("没有这个问题：{key}"),
                    format!("there is no question `{key}`"),
                ));
            }
        }
        for q in &rules.questions {
            let Some(v) = form.get(&q.id).map(|v| v.trim()).filter(|v| !v.is_empty()) else { continue };
            let range = |max: String| {
                FieldError::new(
                    q.id.clone(),
                    "out_of_range",
                    format!("{}：请填写 0 至 {max} 之间的数", q.name_zh),
                    format!("{}: give a number from 0 to {max}", q.name_en),
                )
            };
            match q.kind {
                QuestionKind::YesNo => match v {
                    "yes" | "是" | "true" | "1" => {
                        out.insert(q.id.clone(), 1);
                    }
                    "no" | "否" | "false" | "0" => {
                        out.insert(q.id.clone(), 0);
                    }
                    _ => errors.push(FieldError::new(
                        q.id.clone(),
                        "yes_or_no",
                        format!("{}：请选择“是”或“否”", q.name_zh),
                        format!("{}: answer yes or no", q.name_en),
                    )),
                },
                QuestionKind::Amount { max_yuan } => match crate::Money::parse_yuan(v, &q.id) {
                    Ok(m) if m.fen() >= 0 && m.fen() <= max_yuan.saturating_mul(100) => {
                        out.insert(q.id.clone(), m.fen());
                    }
                    _ => errors.push(range(max_yuan.to_string())),
                },
                QuestionKind::Count { max } => match v.parse::<i64>() {
                    Ok(n) if (0..=max).contains(&n) => {
                        out.insert(q.id.clone(), n);
                    }
                    _ => errors.push(range(max.to_string())),
                },
            }
        }
        if errors.is_empty() {
            Ok(Answers(out))
        } else {
            Err(Invalid(errors))
        }
    }
}

/// What the registry knows about the enterprise, for the rules.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub stage: Option<LifecycleStage>,
    /// Its 5+2 industry tags.
    pub industries: Vec<String>,
    /// The qualifications it holds today.
    pub qualifications: Vec<QualificationKind>,
    /// Its latest yearly facts.
    pub facts: Option<YearlyFacts>,
}

/// An exposure inferred, with the reasons (the rules that held), in the file's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Inferred<'a> {
    pub exposure: &'a Exposure,
    /// (Chinese, English) per rule that held.
    pub reasons: Vec<(String, String)>,
}

impl Rule {
    fn holds(&self, p: &Profile, a: &Answers) -> bool {
        let stage = self.stages.is_empty() || p.stage.is_some_and(|s| self.stages.contains(&s));
        let industry = self.industries.is_empty() || self.industries.iter().any(|t| p.industries.contains(t));
        let qual = self.qualifications.is_empty()
            || self.qualifications.iter().any(|q| p.qualifications.contains(q));
        let fact = match self.fact {
            None => true,
            Some(f) => {
                let v = p.facts.as_ref().and_then(|y| f.of(y));
                v.is_some_and(|v| v >= self.at_least.unwrap_or(f64::INFINITY))
            }
        };
        let answer = match &self.answer {
            None => true,
            Some(q) => match (a.0.get(q), self.at_least) {
                (Some(v), Some(min)) => *v as f64 >= min,
                (Some(v), None) => *v > 0,
                (None, _) => false,
            },
        };
        stage && industry && qual && fact && answer
    }
}

/// The exposures the rules infer for the enterprise, each with every reason that held.
pub fn infer<'a>(rules: &'a Rules, p: &Profile, a: &Answers) -> Vec<Inferred<'a>> {
    rules
        .exposures
        .iter()
        .filter_map(|e| {
            let reasons: Vec<(String, String)> = e
                .when
                .iter()
                .filter(|r| r.holds(p, a))
                .map(|r| (r.reason_zh.clone(), r.reason_en.clone()))
                .collect();
            (!reasons.is_empty()).then_some(Inferred { exposure: e, reasons })
        })
        .collect()
}

/// The order products are listed in under an exposure: more of the enterprise's exposures
/// covered first, then a rotation seeded by the enterprise and the day — never the price.
/// `covers` is how many of the enterprise's exposures the product's type addresses.
pub fn rotation_key(enterprise_id: &str, day: time::Date, product_id: &str) -> u64 {
    // FNV-1a: stable across builds and platforms (the order must not change with a release).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in enterprise_id.bytes().chain(day.to_string().bytes()).chain([0u8]).chain(product_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Money;

    fn rules() -> Rules {
        let cat = Catalogue::from_toml(include_str!("../../../data/catalogue.toml")).unwrap();
        let ind = IndustryMap::from_toml(include_str!("../../../data/catalogue.toml")).unwrap();
        parse(include_str!("../../../data/zone/advisor.toml"), &cat, &ind).unwrap()
    }

    #[test]
    fn the_shipped_rules_load_and_infer_with_reasons() {
        let r = rules();
        assert!(r.exposures.len() >= 10);
        let facts = YearlyFacts {
            year: 2025,
            revenue: Money::from_fen(1_000_000_000),
            rnd_expense: Money::from_fen(80_000_000),
            staff: 120,
            rnd_staff: 40,
            patents_granted: 3,
            patents_pending: 0,
            export_share_bp: 0,
        };
        let p = Profile {
            stage: Some(LifecycleStage::Rnd),
            industries: vec!["optoelectronics".into()],
            qualifications: vec![QualificationKind::HighTech],
            facts: Some(facts),
        };
        let none = Answers::default();
        let ids = |a: &Answers| infer(&r, &p, a).iter().map(|i| i.exposure.id.clone()).collect::<Vec<_>>();
        let base = ids(&none);
        for want in
            ["rd_product_liability", "rd_cost_loss", "key_people", "ip_infringement", "cyber", "fidelity"]
        {
            assert!(base.iter().any(|i| i == want), "{want} in {base:?}");
        }
        assert!(!base.iter().any(|i| i == "clinical_trials" || i == "export" || i == "rd_equipment_damage"));
        let form: HashMap<String, String> = [
            ("clinical_trials", "yes"),
            ("key_equipment_value", "2500000"),
            ("export_markets", "3"),
            ("planned_loan", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let a = Answers::read(&r, &form).unwrap();
        assert_eq!(a.0.get("key_equipment_value"), Some(&250_000_000));
        assert!(!a.0.contains_key("planned_loan"));
        let more = infer(&r, &p, &a);
        let export = more.iter().find(|i| i.exposure.id == "export").unwrap();
        assert_eq!(export.reasons.len(), 1);
        assert!(more.iter().any(|i| i.exposure.id == "clinical_trials"));
        // Two reasons held for the interruption: the equipment only (not in production).
        let i = more.iter().find(|i| i.exposure.id == "rd_interruption").unwrap();
        assert_eq!(i.reasons.len(), 1);
    }

    #[test]
    fn bad_answers_and_bad_rules_are_refused_naming_each_problem() {
        let r = rules();
        let form: HashMap<String, String> = [
            ("clinical_trials", "maybe"),
            ("key_equipment_value", "-5"),
            ("export_markets", "9999"),
            ("colour", "red"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let e = Answers::read(&r, &form).unwrap_err();
        let mut fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["clinical_trials", "colour", "export_markets", "key_equipment_value"]);
        let cat = Catalogue::from_toml(include_str!("../../../data/catalogue.toml")).unwrap();
        let ind = IndustryMap::from_toml(include_str!("../../../data/catalogue.toml")).unwrap();
        let bad = r#"
version = "x"
confidence = "U"
[[question]]
id = "q"
kind = "amount"
name_zh = "q"
name_en = "q"
[[exposure]]
id = "e"
name_zh = "e"
name_en = "e"
stages = ["moon"]
products = ["no_such_type"]
source = "s"
[[exposure.when]]
answer = "nope"
fact = "height"
reason_zh = ""
reason_en = "r"
"#;
        let errs = parse(bad, &cat, &ind).unwrap_err();
        for want in [
            "needs a `max`",
            "unknown stage `moon`",
            "names no stage",
            "`no_such_type` is not",
            "unknown fact",
            "unknown question `nope`",
            "make them two rules",
            "needs its reason",
        ] {
            assert!(errs.iter().any(|e| e.contains(want)), "{want}: {errs:?}");
        }
    }

    #[test]
    fn the_rotation_is_stable_and_depends_on_the_day() {
        let d1 = time::macros::date!(2026 - 12 - 07);
        let d2 = time::macros::date!(2026 - 12 - 08);
        assert_eq!(rotation_key("e1", d1, "p1"), rotation_key("e1", d1, "p1"));
        let order = |d| {
            let mut v = ["p1", "p2", "p3", "p4", "p5", "p6"];
            v.sort_by_key(|p| rotation_key("e1", d, p));
            v
        };
        assert!(order(d1) != order(d2) || order(d1) != order(time::macros::date!(2026 - 12 - 09)));
    }
}
