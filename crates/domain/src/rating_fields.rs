//! A rating plan as a filer types it. The product page's form and the `.xlsx` template both
//! fill [`PlanFields`] (text, as typed); [`PlanFields::parse`] turns it into a [`PlanDoc`]
//! and checks it with [`Plan::parse`], the check the JSON path runs, so the three ways of
//! filing accept the same plans. Every problem names the form's field:
//!
//! - `basis`, `base`, `min_premium_yuan`, `max_premium_yuan`, `factor_floor`, `factor_cap`;
//! - `size_bands`, `limit_bands`, `deductible_bands` (a set), `size_bands.3` (its 4th row);
//! - `factors.industry` (a table), `factors.industry.3` (its 4th row), `factors.industry.default`;
//! - `underwriting.auto_accept_max_limit_yuan`, `underwriting.decline_claims_3y`.

use crate::error::{Collector, FieldError, Invalid};
use crate::industry::IndustryMap;
use crate::org::LifecycleStage;
use crate::policy::UnderwritingRules;
use crate::rating::{Band, FactorTable, Plan, PlanDoc, RateBasis, RatingVariable};

/// The most rows a band set or a factor table takes from a form or a template: far more
/// than any filed plan has (the zone has seven industries, six stages), and a bound on what
/// a request can make the server allocate.
pub const MAX_ROWS: usize = 200;

/// One row as typed: a band's key and upper bound (yuan), or a level and its factor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowFields {
    pub key: String,
    pub value: String,
}

impl RowFields {
    /// A row from its two cells.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> RowFields {
        RowFields { key: key.into(), value: value.into() }
    }

    fn is_blank(&self) -> bool {
        self.key.trim().is_empty() && self.value.trim().is_empty()
    }
}

/// One factor table as typed. Rows without a factor are left out (the form offers a row
/// for every known level); a table without rows and without a default is not filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFields {
    pub variable: RatingVariable,
    /// The factor of levels not listed; blank: such levels cannot be rated.
    pub default: String,
    /// (level, factor).
    pub rows: Vec<RowFields>,
}

/// A rating plan as typed: every amount and factor as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanFields {
    /// A [`RateBasis`] code or label.
    pub basis: String,
    pub base: String,
    /// Yuan, a whole number; blank is no minimum.
    pub min_premium_yuan: String,
    /// Yuan, a whole number; blank is no maximum.
    pub max_premium_yuan: String,
    pub factor_floor: String,
    pub factor_cap: String,
    /// (key, upper bound in yuan; blank: open-ended).
    pub size_bands: Vec<RowFields>,
    pub limit_bands: Vec<RowFields>,
    pub deductible_bands: Vec<RowFields>,
    /// At most one table per variable, in the order the plan applies them.
    pub tables: Vec<TableFields>,
    /// Yuan; blank: every application goes to an underwriter.
    pub auto_accept_max_limit_yuan: String,
    /// Blank: no claims count declines.
    pub decline_claims_3y: String,
    pub refer_if_claims: bool,
    /// Days a quote stands; blank: [`crate::rating::DEFAULT_QUOTE_VALID_DAYS`].
    pub quote_valid_days: String,
}

/// A level a variable is known to take, with its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
}

/// The levels of a variable whose levels are known (industries of the zone, stages,
/// claims counts); empty for banded variables, whose levels are the plan's own bands.
pub fn known_levels(variable: RatingVariable, industries: &IndustryMap) -> Vec<Level> {
    let level = |code: &str, zh: &str, en: &str| Level {
        code: code.to_owned(),
        label_zh: zh.to_owned(),
        label_en: en.to_owned(),
    };
    match variable {
        RatingVariable::Industry => {
            industries.tags().iter().map(|t| level(&t.id, &t.name_zh, &t.name_en)).collect()
        }
        RatingVariable::Stage => {
            LifecycleStage::ALL.iter().map(|s| level(s.code(), s.label_zh(), s.label_en())).collect()
        }
        RatingVariable::ClaimsHistory => vec![
            level("0", "无出险", "No claims"),
            level("1", "出险 1 次", "One claim"),
            level("2+", "出险 2 次及以上", "Two claims or more"),
        ],
        RatingVariable::SizeBand | RatingVariable::LimitBand | RatingVariable::DeductibleBand => Vec::new(),
    }
}

/// The band sets: the form's name of each, and the variable that reads it.
pub const BAND_SETS: [(&str, RatingVariable); 3] = [
    ("size_bands", RatingVariable::SizeBand),
    ("limit_bands", RatingVariable::LimitBand),
    ("deductible_bands", RatingVariable::DeductibleBand),
];

impl PlanFields {
    /// A filed plan as the form shows it, so that parsing it gives the plan back.
    pub fn from_doc(doc: &PlanDoc) -> PlanFields {
        let bands = |bs: &[Band]| {
            bs.iter()
                .map(|b| {
                    RowFields::new(b.key.clone(), b.up_to_yuan.map(|u| u.to_string()).unwrap_or_default())
                })
                .collect()
        };
        PlanFields {
            basis: doc.basis.code().to_owned(),
            base: doc.base.clone(),
            min_premium_yuan: doc.min_premium_yuan.to_string(),
            max_premium_yuan: doc.max_premium_yuan.map(|m| m.to_string()).unwrap_or_default(),
            factor_floor: doc.factor_floor.clone().unwrap_or_default(),
            factor_cap: doc.factor_cap.clone().unwrap_or_default(),
            size_bands: bands(&doc.size_bands),
            limit_bands: bands(&doc.limit_bands),
            deductible_bands: bands(&doc.deductible_bands),
            tables: doc
                .factors
                .iter()
                .map(|t| TableFields {
                    variable: t.variable,
                    default: t.default.clone().unwrap_or_default(),
                    rows: t.levels.iter().map(|(k, v)| RowFields::new(k.clone(), v.clone())).collect(),
                })
                .collect(),
            auto_accept_max_limit_yuan: doc
                .underwriting
                .auto_accept_max_limit_yuan
                .map(|m| m.to_string())
                .unwrap_or_default(),
            decline_claims_3y: doc.underwriting.decline_claims_3y.map(|n| n.to_string()).unwrap_or_default(),
            refer_if_claims: doc.underwriting.refer_if_claims,
            quote_valid_days: doc.quote_valid_days.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    /// The band set a form name stands for.
    pub fn bands(&self, set: &str) -> &[RowFields] {
        match set {
            "size_bands" => &self.size_bands,
            "limit_bands" => &self.limit_bands,
            "deductible_bands" => &self.deductible_bands,
            _ => &[],
        }
    }

    /// The band set a form name stands for, to fill.
    pub fn bands_mut(&mut self, set: &str) -> Option<&mut Vec<RowFields>> {
        match set {
            "size_bands" => Some(&mut self.size_bands),
            "limit_bands" => Some(&mut self.limit_bands),
            "deductible_bands" => Some(&mut self.deductible_bands),
            _ => None,
        }
    }

    /// The plan, checked by [`Plan::parse`]; every problem names its field (see the module).
    pub fn parse(&self) -> Result<PlanDoc, Invalid> {
        let mut c = Collector::default();
        let basis = match self.basis.trim() {
            "" => {
                c.push(FieldError::required("basis"));
                None
            }
            s => c.take(RateBasis::from_code(s).ok_or_else(|| {
                FieldError::new(
                    "basis",
                    "unknown_basis",
                    format!("计费基础 `{s}` 不存在"),
                    format!("basis `{s}` does not exist"),
                )
            })),
        };
        if self.base.trim().is_empty() {
            c.push(FieldError::required("base"));
        }
        let min_premium_yuan = whole(&mut c, "min_premium_yuan", &self.min_premium_yuan).unwrap_or(0);
        let max_premium_yuan = whole(&mut c, "max_premium_yuan", &self.max_premium_yuan);
        let size_bands = bands(&mut c, "size_bands", &self.size_bands);
        let limit_bands = bands(&mut c, "limit_bands", &self.limit_bands);
        let deductible_bands = bands(&mut c, "deductible_bands", &self.deductible_bands);
        let mut factors = Vec::new();
        // (index in `factors`, the table it came from, the row of each level kept).
        let mut origin: Vec<(&TableFields, Vec<usize>)> = Vec::new();
        for t in &self.tables {
            let field = format!("factors.{}", t.variable.code());
            if t.rows.len() > MAX_ROWS {
                c.push(too_many_rows(&field));
                continue;
            }
            let mut levels: Vec<(String, String)> = Vec::new();
            let mut rows = Vec::new();
            for (i, r) in t.rows.iter().enumerate() {
                let (level, factor) = (r.key.trim(), r.value.trim());
                if factor.is_empty() {
                    continue;
                }
                if level.is_empty() {
                    c.push(FieldError::new(
                        format!("{field}.{i}"),
                        "level_missing",
                        format!("系数 `{factor}` 缺少对应的水平"),
                        format!("factor `{factor}` has no level"),
                    ));
                } else if levels.iter().any(|(l, _)| l == level) {
                    c.push(FieldError::new(
                        format!("{field}.{i}"),
                        "duplicate_level",
                        format!("水平 `{level}` 出现两次"),
                        format!("level `{level}` is listed twice"),
                    ));
                } else {
                    levels.push((level.to_owned(), factor.to_owned()));
                    rows.push(i);
                }
            }
            let default = Some(t.default.trim()).filter(|d| !d.is_empty()).map(str::to_owned);
            if levels.is_empty() && default.is_none() {
                continue;
            }
            factors.push(FactorTable { variable: t.variable, levels, default });
            origin.push((t, rows));
        }
        let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let underwriting = UnderwritingRules {
            auto_accept_max_limit_yuan: whole(
                &mut c,
                "underwriting.auto_accept_max_limit_yuan",
                &self.auto_accept_max_limit_yuan,
            ),
            decline_claims_3y: count(&mut c, "underwriting.decline_claims_3y", &self.decline_claims_3y),
            refer_if_claims: self.refer_if_claims,
        };
        let quote_valid_days = count(&mut c, "quote_valid_days", &self.quote_valid_days);
        c.finish()?;
        let doc = PlanDoc {
            basis: basis.unwrap_or(RateBasis::Limit),
            base: self.base.trim().to_owned(),
            size_bands,
            limit_bands,
            deductible_bands,
            factors,
            min_premium_yuan,
            max_premium_yuan,
            factor_floor: opt(&self.factor_floor),
            factor_cap: opt(&self.factor_cap),
            underwriting,
            quote_valid_days,
        };
        match Plan::parse(doc) {
            Ok(plan) => Ok(plan.doc),
            Err(Invalid(es)) => Err(Invalid(es.into_iter().map(|e| rename(e, &origin)).collect())),
        }
    }
}

/// [`Plan::parse`] names tables by their position (`factors[2]`, `factors[2].bio`); the
/// form names them by variable and row (`factors.industry`, `factors.industry.3`).
fn rename(e: FieldError, origin: &[(&TableFields, Vec<usize>)]) -> FieldError {
    let Some(rest) = e.field.strip_prefix("factors[") else { return e };
    let Some((index, tail)) = rest.split_once(']') else { return e };
    let Some((t, rows)) = index.parse::<usize>().ok().and_then(|i| origin.get(i)) else { return e };
    let table = format!("factors.{}", t.variable.code());
    let field = match tail.strip_prefix('.') {
        None => table,
        Some("default") => format!("{table}.default"),
        Some(level) => rows
            .iter()
            .find(|i| t.rows.get(**i).is_some_and(|r| r.key.trim() == level))
            .map_or(table.clone(), |i| format!("{table}.{i}")),
    };
    e.at(field)
}

fn too_many_rows(field: &str) -> FieldError {
    FieldError::new(field, "too_many_rows", format!("最多 {MAX_ROWS} 行"), format!("at most {MAX_ROWS} rows"))
}

/// A whole number of yuan (blank: none); `3,000` and `3 000` are read as 3000.
fn whole(c: &mut Collector, field: &str, s: &str) -> Option<i64> {
    let t: String = s.chars().filter(|ch| !matches!(ch, ',' | '，' | ' ')).collect();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) if n >= 0 => Some(n),
        Ok(_) => {
            c.push(FieldError::new(
                field,
                "negative",
                format!("`{}` 不能为负数", s.trim()),
                format!("`{}` cannot be negative", s.trim()),
            ));
            None
        }
        Err(_) => {
            c.push(FieldError::new(
                field,
                "not_whole_yuan",
                format!("`{}` 不是整数元", s.trim()),
                format!("`{}` is not a whole number of yuan", s.trim()),
            ));
            None
        }
    }
}

/// A count of claims (blank: none).
fn count(c: &mut Collector, field: &str, s: &str) -> Option<u32> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let n = t.parse::<u32>().ok();
    if n.is_none() {
        c.push(FieldError::new(
            field,
            "not_a_count",
            format!("`{t}` 不是次数（0 或正整数）"),
            format!("`{t}` is not a count (0 or a positive whole number)"),
        ));
    }
    n
}

fn bands(c: &mut Collector, field: &str, rows: &[RowFields]) -> Vec<Band> {
    if rows.len() > MAX_ROWS {
        c.push(too_many_rows(field));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| !r.is_blank()) {
        let f = format!("{field}.{i}");
        let key = r.key.trim();
        if key.is_empty() {
            c.push(FieldError::new(&f, "band_key_missing", "请填写分档名称", "name the band"));
        } else if out.iter().any(|b: &Band| b.key == key) {
            c.push(FieldError::new(
                &f,
                "duplicate_band",
                format!("分档 `{key}` 出现两次"),
                format!("band `{key}` is listed twice"),
            ));
        }
        let up_to_yuan = whole(c, &f, &r.value);
        out.push(Band { key: key.to_owned(), up_to_yuan });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PlanDoc {
        PlanDoc {
            basis: RateBasis::Revenue,
            base: "0.0035".into(),
            size_bands: vec![
                Band { key: "small".into(), up_to_yuan: Some(20_000_000) },
                Band { key: "large".into(), up_to_yuan: None },
            ],
            limit_bands: vec![],
            deductible_bands: vec![],
            factors: vec![
                FactorTable {
                    variable: RatingVariable::SizeBand,
                    levels: vec![("small".into(), "0.9".into()), ("large".into(), "1.1".into())],
                    default: None,
                },
                FactorTable {
                    variable: RatingVariable::Industry,
                    levels: vec![("bio".into(), "1.25".into())],
                    default: Some("1".into()),
                },
            ],
            min_premium_yuan: 3_000,
            max_premium_yuan: Some(200_000),
            factor_floor: Some("0.7".into()),
            factor_cap: Some("1.6".into()),
            underwriting: UnderwritingRules {
                auto_accept_max_limit_yuan: Some(5_000_000),
                decline_claims_3y: Some(3),
                refer_if_claims: true,
            },
            quote_valid_days: None,
        }
    }

    fn fields_of(e: Invalid) -> Vec<(String, &'static str)> {
        e.0.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_plan_round_trips_through_its_fields() {
        let doc = sample();
        assert_eq!(PlanFields::from_doc(&doc).parse(), Ok(doc));
    }

    #[test]
    fn rows_without_a_factor_and_empty_tables_are_left_out() {
        let mut f = PlanFields::from_doc(&sample());
        f.tables[1].rows.push(RowFields::new("optoelectronics", " "));
        f.tables.push(TableFields { variable: RatingVariable::Stage, default: String::new(), rows: vec![] });
        f.size_bands.push(RowFields::default());
        assert_eq!(f.parse(), Ok(sample()));
    }

    #[test]
    fn problems_are_named_by_the_forms_fields() {
        let mut f = PlanFields::from_doc(&sample());
        f.basis = "moon".into();
        f.min_premium_yuan = "3000.5".into();
        f.size_bands[0].value = "abc".into();
        f.tables[1].rows.push(RowFields::new("", "1.2"));
        f.tables[1].rows.push(RowFields::new("bio", "1.3"));
        f.decline_claims_3y = "-1".into();
        let got = fields_of(f.parse().unwrap_err());
        assert_eq!(
            got,
            vec![
                ("basis".into(), "unknown_basis"),
                ("min_premium_yuan".into(), "not_whole_yuan"),
                ("size_bands.0".into(), "not_whole_yuan"),
                ("factors.industry.1".into(), "level_missing"),
                ("factors.industry.2".into(), "duplicate_level"),
                ("underwriting.decline_claims_3y".into(), "not_a_count"),
            ]
        );
        // The plan's own rules, renamed from table positions to the form's rows.
        let mut f = PlanFields::from_doc(&sample());
        f.tables[1].rows.insert(0, RowFields::new("optoelectronics", ""));
        f.tables[1].rows.push(RowFields::new("semiconductors", "x"));
        f.tables[1].default = "0".into();
        f.tables[0].rows.clear();
        f.tables[0].default = "1".into();
        f.size_bands.clear();
        f.factor_floor = "2".into();
        let got = fields_of(f.parse().unwrap_err());
        assert_eq!(
            got,
            vec![
                ("factors.size_band".into(), "bands_missing"),
                ("factors.industry.2".into(), "decimal"),
                ("factors.industry.default".into(), "not_positive"),
                ("factor_floor".into(), "floor_above_cap"),
            ]
        );
    }

    #[test]
    fn blank_and_oversized_forms_are_refused_without_panics() {
        let got = fields_of(PlanFields::default().parse().unwrap_err());
        assert_eq!(got, vec![("basis".into(), "required"), ("base".into(), "required")]);
        let mut f = PlanFields::from_doc(&sample());
        f.limit_bands = vec![RowFields::new("a", "1"); MAX_ROWS + 1];
        let got = fields_of(f.parse().unwrap_err());
        assert_eq!(got, vec![("limit_bands".into(), "too_many_rows")]);
    }
}
