//! The framework (`iMeta`) and the unit data (`iData`), in COINr's shapes.

use crate::CompositeError;
use std::collections::{HashMap, HashSet};

/// What a framework row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Indicator,
    Aggregate,
}

/// An indicator or aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub code: String,
    pub name: String,
    pub level: u32,
    pub parent: Option<String>,
    /// +1 if more is better, −1 if less is better.
    pub direction: f64,
    pub weight: f64,
    pub kind: NodeKind,
    pub denominator: Option<String>,
    pub target: Option<f64>,
}

/// The indicator tree, checked: unique codes, one root, no orphans, no cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct Framework {
    /// In `iMeta` order.
    pub nodes: Vec<Node>,
    /// Group columns (`Type = Group`).
    pub groups: Vec<String>,
    /// Denominator columns (`Type = Denominator`).
    pub denominators: Vec<String>,
}

fn parse_err(file: &'static str, message: impl Into<String>) -> CompositeError {
    CompositeError::Parse { file, message: message.into() }
}

fn records(text: &str, file: &'static str) -> Result<(Vec<String>, Vec<Vec<String>>), CompositeError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| parse_err(file, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| parse_err(file, e.to_string()))?;
        rows.push(rec.iter().map(|c| c.trim().to_owned()).collect());
    }
    Ok((headers, rows))
}

/// Rows of a TOML array of tables (`[[name]]`), as text cells under the union of keys.
fn toml_records(
    text: &str,
    file: &'static str,
    name: &str,
) -> Result<(Vec<String>, Vec<Vec<String>>), CompositeError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| parse_err(file, e.to_string()))?;
    let Some(toml::Value::Array(items)) = table.get(name) else {
        return Err(parse_err(file, format!("no `[[{name}]]` tables")));
    };
    let mut headers: Vec<String> = Vec::new();
    for item in items {
        let toml::Value::Table(t) = item else {
            return Err(parse_err(file, format!("`{name}` entries must be tables")));
        };
        for k in t.keys() {
            if !headers.contains(k) {
                headers.push(k.clone());
            }
        }
    }
    let rows = items
        .iter()
        .map(|item| {
            headers
                .iter()
                .map(|h| match item.get(h) {
                    None => String::new(),
                    Some(toml::Value::String(s)) => s.clone(),
                    Some(toml::Value::Integer(i)) => i.to_string(),
                    Some(toml::Value::Float(f)) => f.to_string(),
                    Some(toml::Value::Boolean(b)) => b.to_string(),
                    // Dates, arrays and tables are not cells; they read as a value that is
                    // refused where a number is needed and ignored elsewhere.
                    Some(_) => "#unsupported".to_owned(),
                })
                .collect()
        })
        .collect();
    Ok((headers, rows))
}

fn missing(cell: &str) -> bool {
    cell.is_empty() || cell.eq_ignore_ascii_case("NA")
}

impl Framework {
    /// Reads COINr's `iMeta` CSV: iCode, iName, Level, Parent, Direction, Weight, Type,
    /// Denominator, Target (other columns are ignored).
    pub fn from_imeta_csv(text: &str) -> Result<Framework, CompositeError> {
        let (headers, rows) = records(text, "iMeta")?;
        Framework::from_rows(&headers, &rows)
    }

    /// Reads the same columns from TOML: an array of `[[iMeta]]` tables.
    pub fn from_imeta_toml(text: &str) -> Result<Framework, CompositeError> {
        let (headers, rows) = toml_records(text, "iMeta", "iMeta")?;
        Framework::from_rows(&headers, &rows)
    }

    fn from_rows(headers: &[String], rows: &[Vec<String>]) -> Result<Framework, CompositeError> {
        const F: &str = "iMeta";
        let col = |name: &str| {
            headers.iter().position(|h| h == name).ok_or_else(|| parse_err(F, format!("no column `{name}`")))
        };
        let (ic, it, il) = (col("iCode")?, col("Type")?, col("Level")?);
        let (ip, idr, iw) = (col("Parent")?, col("Direction")?, col("Weight")?);
        let iname = headers.iter().position(|h| h == "iName");
        let iden = headers.iter().position(|h| h == "Denominator");
        let itar = headers.iter().position(|h| h == "Target");
        let cell = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
        let mut fw = Framework { nodes: Vec::new(), groups: Vec::new(), denominators: Vec::new() };
        let mut seen = HashSet::new();
        for r in rows {
            let code = cell(r, ic);
            if code.is_empty() {
                return Err(parse_err(F, "a row has no iCode"));
            }
            if !seen.insert(code.clone()) {
                return Err(CompositeError::Duplicate(code));
            }
            let num = |i: usize, what: &str| -> Result<Option<f64>, CompositeError> {
                let v = cell(r, i);
                if missing(&v) {
                    return Ok(None);
                }
                v.parse::<f64>()
                    .map(Some)
                    .map_err(|_| parse_err(F, format!("`{code}`: {what} `{v}` is not a number")))
            };
            let kind = match cell(r, it).as_str() {
                "Indicator" => NodeKind::Indicator,
                "Aggregate" => NodeKind::Aggregate,
                "Group" => {
                    fw.groups.push(code);
                    continue;
                }
                "Denominator" => {
                    fw.denominators.push(code);
                    continue;
                }
                other => return Err(parse_err(F, format!("`{code}`: unknown Type `{other}`"))),
            };
            let level = num(il, "Level")?.ok_or_else(|| parse_err(F, format!("`{code}` has no Level")))?;
            let weight = num(iw, "Weight")?.unwrap_or(1.0);
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(CompositeError::Weight { code, weight });
            }
            let parent = Some(cell(r, ip)).filter(|p| !missing(p));
            fw.nodes.push(Node {
                name: iname.map(|i| cell(r, i)).unwrap_or_default(),
                level: level as u32,
                parent,
                direction: num(idr, "Direction")?.unwrap_or(1.0),
                weight,
                kind,
                denominator: iden.map(|i| cell(r, i)).filter(|d| !missing(d)),
                target: match itar {
                    Some(i) => num(i, "Target")?,
                    None => None,
                },
                code,
            });
        }
        fw.check()?;
        Ok(fw)
    }

    fn check(&self) -> Result<(), CompositeError> {
        let by_code: HashMap<&str, &Node> = self.nodes.iter().map(|n| (n.code.as_str(), n)).collect();
        let roots: Vec<&str> =
            self.nodes.iter().filter(|n| n.parent.is_none()).map(|n| n.code.as_str()).collect();
        if roots.len() != 1
            || roots.first().and_then(|r| by_code.get(r)).is_some_and(|n| n.kind != NodeKind::Aggregate)
        {
            return Err(CompositeError::Roots(if roots.is_empty() {
                "none".into()
            } else {
                roots.join(", ")
            }));
        }
        for n in &self.nodes {
            if let Some(p) = &n.parent {
                match by_code.get(p.as_str()) {
                    Some(parent) if parent.kind == NodeKind::Aggregate => {}
                    _ => return Err(CompositeError::Orphan { code: n.code.clone(), parent: p.clone() }),
                }
            }
            // Walk up: a path longer than the number of nodes is a cycle.
            let mut cur = n;
            let mut steps = 0;
            while let Some(p) = &cur.parent {
                steps += 1;
                if steps > self.nodes.len() {
                    return Err(CompositeError::Cycle(n.code.clone()));
                }
                match by_code.get(p.as_str()) {
                    Some(next) => cur = next,
                    None => break,
                }
            }
        }
        for a in self.nodes.iter().filter(|n| n.kind == NodeKind::Aggregate) {
            if !self.nodes.iter().any(|n| n.parent.as_deref() == Some(a.code.as_str())) {
                return Err(CompositeError::Childless(a.code.clone()));
            }
            let total: f64 = self.children(&a.code).map(|c| c.weight).sum();
            if total <= 0.0 {
                return Err(CompositeError::ZeroWeights(a.code.clone()));
            }
        }
        Ok(())
    }

    /// The indicators, in `iMeta` order.
    pub fn indicators(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.kind == NodeKind::Indicator)
    }

    /// The children of an aggregate, in `iMeta` order.
    pub fn children<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes.iter().filter(move |n| n.parent.as_deref() == Some(code))
    }

    /// The aggregates, lowest level first (the order they are computed in).
    pub fn aggregates_bottom_up(&self) -> Vec<&Node> {
        let mut a: Vec<&Node> = self.nodes.iter().filter(|n| n.kind == NodeKind::Aggregate).collect();
        a.sort_by_key(|n| n.level);
        a
    }

    /// The root (the index).
    pub fn root(&self) -> Option<&Node> {
        self.nodes.iter().find(|n| n.parent.is_none())
    }
}

/// Units × columns from COINr's `iData`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitData {
    pub units: Vec<String>,
    /// Group column → each unit's group.
    pub groups: HashMap<String, Vec<String>>,
    /// Denominator column → each unit's value (NaN if missing).
    pub denominators: HashMap<String, Vec<f64>>,
    /// Indicator code → each unit's value (NaN if missing).
    pub indicators: HashMap<String, Vec<f64>>,
}

impl UnitData {
    /// Reads COINr's `iData` CSV for a framework: `uCode`, the framework's group and
    /// denominator columns, and every indicator (`NA` or empty = missing).
    pub fn from_idata_csv(text: &str, fw: &Framework) -> Result<UnitData, CompositeError> {
        let (headers, rows) = records(text, "iData")?;
        UnitData::from_rows(&headers, &rows, fw)
    }

    /// Reads the same from TOML: an array of `[[iData]]` tables, one per unit.
    pub fn from_idata_toml(text: &str, fw: &Framework) -> Result<UnitData, CompositeError> {
        let (headers, rows) = toml_records(text, "iData", "iData")?;
        UnitData::from_rows(&headers, &rows, fw)
    }

    fn from_rows(
        headers: &[String],
        rows: &[Vec<String>],
        fw: &Framework,
    ) -> Result<UnitData, CompositeError> {
        let data = UnitData::from_rows_lenient(headers, rows, fw)?;
        for ind in fw.indicators() {
            if data.indicators.get(&ind.code).is_some_and(|v| v.iter().all(|x| x.is_nan())) {
                return Err(CompositeError::AllMissing(ind.code.clone()));
            }
        }
        Ok(data)
    }

    /// As `from_rows`, but an all-missing indicator is allowed (a panel period may lack
    /// one that other periods have).
    fn from_rows_lenient(
        headers: &[String],
        rows: &[Vec<String>],
        fw: &Framework,
    ) -> Result<UnitData, CompositeError> {
        const F: &str = "iData";
        let iu =
            headers.iter().position(|h| h == "uCode").ok_or_else(|| parse_err(F, "no column `uCode`"))?;
        let units: Vec<String> = rows.iter().map(|r| r.get(iu).cloned().unwrap_or_default()).collect();
        let mut seen = HashSet::new();
        for u in &units {
            if !seen.insert(u.as_str()) {
                return Err(CompositeError::DuplicateUnit(u.clone()));
            }
        }
        let numeric = |name: &str| -> Result<Option<Vec<f64>>, CompositeError> {
            let Some(i) = headers.iter().position(|h| h == name) else { return Ok(None) };
            rows.iter()
                .zip(&units)
                .map(|(r, u)| {
                    let v = r.get(i).map(String::as_str).unwrap_or("");
                    if missing(v) {
                        return Ok(f64::NAN);
                    }
                    v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| CompositeError::NotNumber {
                        unit: u.clone(),
                        column: name.to_owned(),
                        value: v.to_owned(),
                    })
                })
                .collect::<Result<Vec<f64>, _>>()
                .map(Some)
        };
        let mut data = UnitData {
            units: units.clone(),
            groups: HashMap::new(),
            denominators: HashMap::new(),
            indicators: HashMap::new(),
        };
        for ind in fw.indicators() {
            let v = numeric(&ind.code)?.ok_or_else(|| CompositeError::MissingIndicator(ind.code.clone()))?;
            data.indicators.insert(ind.code.clone(), v);
            if let Some(d) = &ind.denominator {
                if !data.denominators.contains_key(d) {
                    let v = numeric(d)?.ok_or_else(|| CompositeError::MissingDenominator {
                        indicator: ind.code.clone(),
                        denominator: d.clone(),
                    })?;
                    data.denominators.insert(d.clone(), v);
                }
            }
        }
        for g in &fw.groups {
            if let Some(i) = headers.iter().position(|h| h == g) {
                data.groups
                    .insert(g.clone(), rows.iter().map(|r| r.get(i).cloned().unwrap_or_default()).collect());
            }
        }
        Ok(data)
    }
}

/// A panel: the same units and indicators over several periods (COINr's `iData` with a
/// `Time` column), one [`UnitData`] per period, earliest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub periods: Vec<(String, UnitData)>,
}

/// How a panel fills a unit's missing value from its other periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelImputation {
    /// The unit's value in the nearest earlier period that has one (carried forward).
    Previous,
    /// The unit's value in the most recent period that has one, earlier or later.
    Latest,
}

impl Panel {
    /// Reads a panel `iData` CSV, split by the `time` column.
    pub fn from_idata_csv(text: &str, fw: &Framework, time: &str) -> Result<Panel, CompositeError> {
        let (headers, rows) = records(text, "iData")?;
        let it = headers
            .iter()
            .position(|h| h == time)
            .ok_or_else(|| parse_err("iData", format!("no time column `{time}`")))?;
        let mut times: Vec<String> = rows.iter().map(|r| r.get(it).cloned().unwrap_or_default()).collect();
        times.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => a.cmp(b),
        });
        times.dedup();
        let mut periods = Vec::new();
        for t in times {
            let sub: Vec<Vec<String>> = rows.iter().filter(|r| r.get(it) == Some(&t)).cloned().collect();
            periods.push((t, UnitData::from_rows_lenient(&headers, &sub, fw)?));
        }
        Ok(Panel { periods })
    }

    /// Fills missing indicator values from the same unit's other periods.
    pub fn impute(&self, how: PanelImputation) -> Panel {
        let mut out = self.clone();
        for (p, (_, data)) in out.periods.iter_mut().enumerate() {
            let units = data.units.clone();
            for (code, col) in data.indicators.iter_mut() {
                for (u, x) in col.iter_mut().enumerate() {
                    if !x.is_nan() {
                        continue;
                    }
                    let unit = units.get(u).map(String::as_str).unwrap_or("");
                    let value_at = |q: usize| -> Option<f64> {
                        let (_, d) = self.periods.get(q)?;
                        let i = d.units.iter().position(|v| v == unit)?;
                        d.indicators.get(code)?.get(i).copied().filter(|v| !v.is_nan())
                    };
                    let found = match how {
                        PanelImputation::Previous => (0..p).rev().find_map(value_at),
                        PanelImputation::Latest => (0..self.periods.len()).rev().find_map(value_at),
                    };
                    if let Some(v) = found {
                        *x = v;
                    }
                }
            }
        }
        out
    }
}
