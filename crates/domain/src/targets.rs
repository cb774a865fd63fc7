//! The zone's targets (C11): what its plans ask for by a date, each read into a measure the
//! platform keeps, with its source and confidence (`data/zone/targets.toml`, `rules.md` §1).

use crate::org::InstitutionKind;
use time::Date;

/// What a target counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Distinct enterprises with a policy written since `counts_from`.
    InsuredEnterprises,
    /// The risk cover (fen) of the policies written since `counts_from`.
    RiskCoverFen,
    /// Registered institutions of these kinds established between `counts_from` and the day.
    Institutions(Vec<InstitutionKind>),
    /// Products published on the platform.
    ProductsPublished,
}

/// One target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub measure: Measure,
    /// The number asked for; `None` where the plan sets none (shown for reference).
    pub value: Option<i64>,
    pub unit_zh: String,
    pub unit_en: String,
    pub counts_from: Date,
    pub due: Date,
    pub source: String,
    pub url: String,
    /// C, C-local or U.
    pub confidence: String,
    pub reading_zh: String,
    pub reading_en: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: String,
    name_zh: String,
    name_en: String,
    measure: String,
    #[serde(default)]
    kinds: Vec<String>,
    value: Option<i64>,
    unit_zh: String,
    unit_en: String,
    counts_from: String,
    due: String,
    source: String,
    #[serde(default)]
    url: String,
    confidence: String,
    reading_zh: String,
    reading_en: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    target: Vec<Raw>,
}

/// Why a targets file was refused: every problem, each naming the target and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("targets: {}", .0.join("; "))]
pub struct TargetsError(pub Vec<String>);

/// Reads and checks a targets file: all of it or nothing.
pub fn parse(text: &str) -> Result<Vec<Target>, TargetsError> {
    let file: File = toml::from_str(text).map_err(|e| TargetsError(vec![e.to_string()]))?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let date = |id: &str, field: &str, v: &str, errors: &mut Vec<String>| {
        crate::org::parse_date(field, v)
            .map_err(|_| errors.push(format!("`{id}`: {field} `{v}` is not a date")))
            .ok()
    };
    for r in file.target {
        let id = r.id.clone();
        if out.iter().any(|t: &Target| t.id == id) {
            errors.push(format!("`{id}` is defined twice"));
        }
        let measure = match r.measure.as_str() {
            "insured_enterprises" => Some(Measure::InsuredEnterprises),
            "risk_cover_fen" => Some(Measure::RiskCoverFen),
            "products_published" => Some(Measure::ProductsPublished),
            "institutions" => {
                let kinds: Vec<Option<InstitutionKind>> =
                    r.kinds.iter().map(|k| InstitutionKind::from_code(k)).collect();
                if kinds.is_empty() || kinds.iter().any(Option::is_none) {
                    errors.push(format!("`{id}`: kinds must name institution kinds ({:?})", r.kinds));
                    None
                } else {
                    Some(Measure::Institutions(kinds.into_iter().flatten().collect()))
                }
            }
            m => {
                errors.push(format!("`{id}`: measure `{m}` is not one the platform keeps"));
                None
            }
        };
        if r.value.is_some_and(|v| v <= 0) {
            errors.push(format!("`{id}`: value must be above zero"));
        }
        if !["C", "C-local", "U"].contains(&r.confidence.as_str()) {
            errors.push(format!("`{id}`: confidence `{}` is not C, C-local or U", r.confidence));
        }
        let from = date(&id, "counts_from", &r.counts_from, &mut errors);
        let due = date(&id, "due", &r.due, &mut errors);
        if let (Some(f), Some(d)) = (from, due) {
            if f > d {
                errors.push(format!("`{id}`: counts_from is after due"));
            }
        }
        if let (Some(measure), Some(counts_from), Some(due)) = (measure, from, due) {
            out.push(Target {
                id,
                name_zh: r.name_zh,
                name_en: r.name_en,
                measure,
                value: r.value,
                unit_zh: r.unit_zh,
                unit_en: r.unit_en,
                counts_from,
                due,
                source: r.source,
                url: r.url,
                confidence: r.confidence,
                reading_zh: r.reading_zh,
                reading_en: r.reading_en,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(TargetsError(errors))
    }
}

/// The share of a target reached, in per cent (at most 999).
pub fn progress_percent(value: i64, target: i64) -> Option<f64> {
    (target > 0).then(|| (value as f64 / target as f64 * 100.0).min(999.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_targets_load_and_bad_ones_are_refused_whole() {
        let ts = parse(include_str!("../../../data/zone/targets.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ts.len(), 6);
        let e = ts.iter().find(|t| t.id == "insured_enterprises").map(|t| (t.value, t.confidence.as_str()));
        assert_eq!(e, Some((Some(5000), "C")));
        let cover = ts.iter().find(|t| t.id == "risk_cover").and_then(|t| t.value);
        assert_eq!(cover, Some(100_000_000_000_000), "1 万亿元 in fen");
        let bad = "[[target]]\nid='a'\nname_zh='甲'\nname_en='A'\nmeasure='institutions'\nkinds=['bakery']\nvalue=-1\n\
                   unit_zh='家'\nunit_en='x'\ncounts_from='2025-01-01'\ndue='2024-01-01'\nsource='s'\nconfidence='X'\n\
                   reading_zh='r'\nreading_en='r'\n";
        let Err(TargetsError(errs)) = parse(bad) else { panic!("accepted") };
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert_eq!(progress_percent(2500, 5000), Some(50.0));
        assert_eq!(progress_percent(1, 0), None);
    }
}
