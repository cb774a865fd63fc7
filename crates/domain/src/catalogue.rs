//! The catalogue of tech-insurance product types (C2): reference data read from the zone's
//! `catalogue.toml` (`[[product]]` and `[[subsidy_rule]]` tables). A type is not a product:
//! insurers file products *of* a type (see [`crate::product`]).
//!
//! Every number in the file carries a confidence tag. A `U` (unconfirmed) number is
//! indicative only; [`Confidence::is_fact`] says whether a number may be shown as a fact.

use crate::org::{string_enum, LifecycleStage};
use std::collections::{BTreeMap, HashSet};

string_enum! {
    /// How far a rule or number in the catalogue has been checked (`catalogue.toml` header).
    Confidence {
        Confirmed = "C", "已核实", "Confirmed";
        ConfirmedLocal = "C-local", "仅限所述地区已核实", "Confirmed for the named locality only";
        Derived = "D", "由已核实数据推算", "Derived from confirmed numbers";
        Recalled = "R", "据法规记忆，未复核", "Recalled, not re-verified";
        Unconfirmed = "U", "示意值，未经确认", "Indicative, unconfirmed";
    }
}

impl Confidence {
    /// Whether a number with this tag may be presented as a fact. `U` may not; `R` is shown
    /// with its caveat.
    pub fn is_fact(self) -> bool {
        !matches!(self, Confidence::Unconfirmed)
    }
}

string_enum! {
    /// The insurance line of a product type (险类), the portal's risk filter.
    ProductLine {
        Property = "property", "财产损失", "Property";
        Liability = "liability", "责任", "Liability";
        Surety = "surety", "保证", "Surety";
        Credit = "credit", "信用", "Credit";
        Health = "health", "健康", "Health";
        Accident = "accident", "意外伤害", "Accident";
        Ip = "ip", "知识产权", "Intellectual property";
        Composite = "composite", "综合", "Composite";
    }
}

string_enum! {
    /// The NFRA tech-insurance reporting class (`rules.md` §2): four product classes of
    /// Part 1, and Part 2, business counted by the insured entity.
    NfraClass {
        RndCommercialisation = "rnd_commercialisation", "科技研发、成果转化风险类", "R&D and commercialisation risks";
        ApplicationPromotion = "application_promotion", "科技成果应用推广风险类", "Application and promotion of results";
        IntellectualProperty = "intellectual_property", "知识产权风险类", "Intellectual-property risks";
        BasicActivity = "basic_activity", "科技活动基础风险类", "Basic risks of tech activity";
        ByEntity = "by_entity", "科技活动主体保险业务(按主体统计)", "Insurance of tech entities (counted by entity)";
    }
}

impl NfraClass {
    /// Part 1 (product classes) or Part 2 (by insured entity).
    pub fn part(self) -> u8 {
        if self == NfraClass::ByEntity {
            2
        } else {
            1
        }
    }
}

/// A source cited for a type or rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    pub title: String,
    #[serde(default)]
    pub url: String,
    pub confidence: String,
}

/// What is known of a type's premium rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RateInfo {
    #[serde(default)]
    pub basis: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    #[serde(default)]
    pub found: bool,
    #[serde(default = "unconfirmed")]
    pub confidence: String,
    #[serde(default)]
    pub note: String,
}

impl Default for RateInfo {
    fn default() -> Self {
        RateInfo {
            basis: String::new(),
            min: None,
            max: None,
            found: false,
            confidence: unconfirmed(),
            note: String::new(),
        }
    }
}

fn unconfirmed() -> String {
    "U".to_owned()
}

/// A number from the catalogue with its confidence, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What the number is (`per_event`, `rate min`).
    pub label: String,
    /// The number as written in the file.
    pub value: String,
    pub confidence: Confidence,
}

/// A product type (险种类型) as the catalogue states it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProductType {
    pub id: String,
    pub name_zh: String,
    /// The English name (the Chinese one when the file gives none).
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub plan_named: bool,
    /// The class as the file writes it (Chinese label); see [`ProductType::nfra`].
    pub nfra_class: String,
    pub line: String,
    pub lifecycle: Vec<String>,
    #[serde(default)]
    pub policyholder: String,
    #[serde(default)]
    pub insured: String,
    #[serde(default)]
    pub beneficiary: String,
    #[serde(default)]
    pub risks: Vec<String>,
    #[serde(default)]
    pub exclusions_hint: Vec<String>,
    /// The trigger basis (occurrence, claims_made, …).
    #[serde(default)]
    pub basis: String,
    pub term_months: Option<i64>,
    #[serde(default)]
    pub mandatory: bool,
    #[serde(default)]
    pub subsidy_rules: Vec<String>,
    #[serde(default)]
    pub risk_share_rules: Vec<String>,
    #[serde(default)]
    pub rate: RateInfo,
    /// Limits as the file gives them (numbers plus `confidence` and `note`).
    #[serde(default)]
    pub limits: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub sources: Vec<Source>,
    /// PIPL sensitivity when the type processes sensitive data (group health).
    pub data_sensitivity: Option<String>,
    /// Every other key of the table (notes, unit rules, constraints), kept for display.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

impl ProductType {
    /// The name in English, or the Chinese one when the file gives no English name.
    pub fn name_en(&self) -> &str {
        if self.name_en.is_empty() {
            &self.name_zh
        } else {
            &self.name_en
        }
    }

    /// The reporting class.
    pub fn nfra(&self) -> NfraClass {
        NfraClass::from_code(&self.nfra_class).unwrap_or(NfraClass::ByEntity)
    }

    /// The line.
    pub fn product_line(&self) -> ProductLine {
        ProductLine::from_code(&self.line).unwrap_or(ProductLine::Composite)
    }

    /// The life-cycle stages, parsed (the catalogue is checked at load).
    pub fn stages(&self) -> Vec<LifecycleStage> {
        self.lifecycle.iter().filter_map(|s| LifecycleStage::from_code(s)).collect()
    }

    /// The confidence of the rate figures.
    pub fn rate_confidence(&self) -> Confidence {
        Confidence::from_code(&self.rate.confidence).unwrap_or(Confidence::Unconfirmed)
    }

    /// Every number the type states (rate and limits), each with its confidence.
    pub fn figures(&self) -> Vec<Figure> {
        let mut out = Vec::new();
        let rc = self.rate_confidence();
        if let Some(v) = self.rate.min {
            out.push(Figure { label: "rate.min".into(), value: v.to_string(), confidence: rc });
        }
        if let Some(v) = self.rate.max {
            out.push(Figure { label: "rate.max".into(), value: v.to_string(), confidence: rc });
        }
        let lc = self
            .limits
            .get("confidence")
            .and_then(|v| v.as_str())
            .and_then(Confidence::from_code)
            .unwrap_or(Confidence::Unconfirmed);
        for (k, v) in &self.limits {
            let value = match v {
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                _ => continue,
            };
            out.push(Figure { label: format!("limits.{k}"), value, confidence: lc });
        }
        out
    }

    /// The limits note, if any.
    pub fn limits_note(&self) -> Option<&str> {
        self.limits.get("note").and_then(|v| v.as_str())
    }

    /// The text indexed for search: names, aliases, risks.
    pub fn search_text(&self) -> String {
        let mut s = self.name_zh.clone();
        for a in &self.aliases {
            s.push(' ');
            s.push_str(a);
        }
        for r in &self.risks {
            s.push(' ');
            s.push_str(r);
        }
        s
    }
}

/// A subsidy rule as the catalogue names it (the rules themselves are C6's).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubsidyRuleRef {
    pub id: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub jurisdiction: String,
    #[serde(default)]
    pub doc_no: String,
    #[serde(default = "unconfirmed")]
    pub confidence: String,
}

impl SubsidyRuleRef {
    /// The rule's confidence.
    pub fn confidence(&self) -> Confidence {
        Confidence::from_code(&self.confidence).unwrap_or(Confidence::Unconfirmed)
    }
}

/// The loaded catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    types: Vec<ProductType>,
    subsidy_rules: Vec<SubsidyRuleRef>,
    /// SHA-256 of the file's text, hex.
    hash: String,
}

/// Why a catalogue file was refused. Each names the type and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue: {0}")]
    Toml(String),
    #[error("catalogue has no [[product]] tables")]
    Empty,
    #[error("product type `{0}` is defined twice")]
    Duplicate(String),
    #[error("product type `{id}`: {field} `{value}` is not one of the known values")]
    Unknown { id: String, field: &'static str, value: String },
    #[error("product type `{id}` names subsidy rule `{rule}`, which the catalogue does not define")]
    MissingRule { id: String, rule: String },
    #[error("product type `{id}`: id must be 2–64 lower-case letters, digits or `_`")]
    BadId { id: String },
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    product: Vec<ProductType>,
    #[serde(default)]
    subsidy_rule: Vec<SubsidyRuleRef>,
}

impl Catalogue {
    /// Reads and checks a catalogue file.
    pub fn from_toml(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: File = toml::from_str(text).map_err(|e| CatalogueError::Toml(e.to_string()))?;
        if file.product.is_empty() {
            return Err(CatalogueError::Empty);
        }
        let rules: HashSet<&str> = file.subsidy_rule.iter().map(|r| r.id.as_str()).collect();
        let mut seen = HashSet::new();
        for t in &file.product {
            let id_ok = (2..=64).contains(&t.id.len())
                && t.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !id_ok {
                return Err(CatalogueError::BadId { id: t.id.clone() });
            }
            if !seen.insert(t.id.as_str()) {
                return Err(CatalogueError::Duplicate(t.id.clone()));
            }
            let unknown = |field: &'static str, value: &str| CatalogueError::Unknown {
                id: t.id.clone(),
                field,
                value: value.to_owned(),
            };
            if NfraClass::from_code(&t.nfra_class).is_none() {
                return Err(unknown("nfra_class", &t.nfra_class));
            }
            if ProductLine::from_code(&t.line).is_none() {
                return Err(unknown("line", &t.line));
            }
            if t.lifecycle.is_empty() {
                return Err(unknown("lifecycle", ""));
            }
            for s in &t.lifecycle {
                if LifecycleStage::from_code(s).is_none() {
                    return Err(unknown("lifecycle", s));
                }
            }
            if Confidence::from_code(&t.rate.confidence).is_none() {
                return Err(unknown("rate.confidence", &t.rate.confidence));
            }
            if let Some(c) = t.limits.get("confidence").and_then(|v| v.as_str()) {
                if Confidence::from_code(c).is_none() {
                    return Err(unknown("limits.confidence", c));
                }
            }
            for s in &t.sources {
                if Confidence::from_code(&s.confidence).is_none() {
                    return Err(unknown("sources.confidence", &s.confidence));
                }
            }
            for r in &t.subsidy_rules {
                if !rules.contains(r.as_str()) {
                    return Err(CatalogueError::MissingRule { id: t.id.clone(), rule: r.clone() });
                }
            }
        }
        for r in &file.subsidy_rule {
            if Confidence::from_code(&r.confidence).is_none() {
                return Err(CatalogueError::Unknown {
                    id: r.id.clone(),
                    field: "subsidy_rule.confidence",
                    value: r.confidence.clone(),
                });
            }
        }
        use sha2::Digest;
        let hash = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        Ok(Catalogue { types: file.product, subsidy_rules: file.subsidy_rule, hash })
    }

    /// A catalogue with no types (a fallback only).
    pub fn empty() -> Catalogue {
        Catalogue { types: Vec::new(), subsidy_rules: Vec::new(), hash: String::new() }
    }

    /// Every type, in file order.
    pub fn types(&self) -> &[ProductType] {
        &self.types
    }

    /// The type with this id.
    pub fn get(&self, id: &str) -> Option<&ProductType> {
        self.types.iter().find(|t| t.id == id)
    }

    /// The subsidy rule with this id.
    pub fn subsidy_rule(&self, id: &str) -> Option<&SubsidyRuleRef> {
        self.subsidy_rules.iter().find(|r| r.id == id)
    }

    /// Every subsidy rule.
    pub fn subsidy_rules(&self) -> &[SubsidyRuleRef] {
        &self.subsidy_rules
    }

    /// The file's SHA-256, hex.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = include_str!("../../../data/catalogue.toml");

    #[test]
    fn the_zone_catalogue_loads_and_classifies() {
        let c = Catalogue::from_toml(ZONE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.types().len(), 42);
        // Every class of the NFRA statistics has its types (class 4 since 2026-12).
        for class in NfraClass::ALL {
            assert!(c.types().iter().any(|t| t.nfra() == *class), "{class}");
        }
        let rd = c.get("rd_liability").unwrap_or_else(|| panic!("rd_liability"));
        assert_eq!(rd.nfra(), NfraClass::RndCommercialisation);
        assert_eq!(rd.nfra().part(), 1);
        assert_eq!(rd.product_line(), ProductLine::Liability);
        assert_eq!(rd.stages(), vec![LifecycleStage::Rnd, LifecycleStage::Commercialisation]);
        assert_eq!(rd.rate_confidence(), Confidence::Unconfirmed);
        let by_entity = c.types().iter().filter(|t| t.nfra().part() == 2).count();
        assert_eq!(by_entity, 18);
        // The patent agents' liability type states confirmed limits.
        let pi = c.get("patent_agent_pi").unwrap_or_else(|| panic!("patent_agent_pi"));
        let f = pi.figures();
        assert!(f.iter().any(|f| f.label == "limits.per_event"
            && f.value == "6000000"
            && f.confidence == Confidence::Confirmed));
        // The Donghu subsidy placeholder is unconfirmed.
        let edh = c.subsidy_rule("wuhan_edh_tech_insurance_TBD").map(SubsidyRuleRef::confidence);
        assert_eq!(edh, Some(Confidence::Unconfirmed));
        assert!(!Confidence::Unconfirmed.is_fact());
        assert_eq!(c.hash().len(), 64);
    }

    #[test]
    fn bad_files_are_refused_with_the_type_named() {
        let one = |body: &str| format!("[[product]]\nid='x_type'\nname_zh='甲'\n{body}");
        let ok = one("nfra_class='知识产权风险类'\nline='ip'\nlifecycle=['市场']\n");
        assert!(Catalogue::from_toml(&ok).is_ok());
        let bad_class = one("nfra_class='别的类'\nline='ip'\nlifecycle=['市场']\n");
        assert!(matches!(
            Catalogue::from_toml(&bad_class),
            Err(CatalogueError::Unknown { field: "nfra_class", .. })
        ));
        let bad_stage = one("nfra_class='知识产权风险类'\nline='ip'\nlifecycle=['月球']\n");
        assert!(matches!(
            Catalogue::from_toml(&bad_stage),
            Err(CatalogueError::Unknown { field: "lifecycle", .. })
        ));
        let missing =
            one("nfra_class='知识产权风险类'\nline='ip'\nlifecycle=['市场']\nsubsidy_rules=['nope']\n");
        assert!(matches!(Catalogue::from_toml(&missing), Err(CatalogueError::MissingRule { .. })));
        let twice = format!("{ok}{ok}");
        assert!(matches!(Catalogue::from_toml(&twice), Err(CatalogueError::Duplicate(_))));
        assert!(matches!(Catalogue::from_toml("x = 1"), Err(CatalogueError::Empty)));
        assert!(matches!(Catalogue::from_toml("[[product"), Err(CatalogueError::Toml(_))));
    }
}
