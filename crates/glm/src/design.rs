//! The model's inputs and their encoding: treatment-coded factors kept as level codes.

use crate::GlmError;
use std::collections::HashMap;

/// A categorical column: one level code per row, and the level names.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub(crate) name: String,
    /// Level names; `levels[0]` is the reference once the factor is encoded.
    pub(crate) levels: Vec<String>,
    /// Per row, an index into `levels`.
    pub(crate) codes: Vec<u32>,
}

/// Sorts level names as R's `factor()` does for the values the CLI reads: numerically
/// when every level is a number, else by bytes (R in the C collation locale).
fn sort_levels(levels: &mut [String]) {
    let numeric: Option<Vec<f64>> = levels.iter().map(|l| l.trim().parse::<f64>().ok()).collect();
    if numeric.is_some() {
        levels.sort_by(|a, b| {
            let (x, y) = (a.trim().parse::<f64>().unwrap_or(0.0), b.trim().parse::<f64>().unwrap_or(0.0));
            x.total_cmp(&y)
        });
    } else {
        levels.sort();
    }
}

impl Factor {
    /// A factor from one text value per row; levels sorted as R sorts them. An empty or
    /// `NA` cell is refused, naming its row.
    pub fn from_strings<S: AsRef<str>>(name: &str, values: &[S]) -> Result<Factor, GlmError> {
        let mut coder = LevelCoder::default();
        let mut codes = Vec::with_capacity(values.len());
        for (row, v) in values.iter().enumerate() {
            codes.push(coder.code(name, v.as_ref(), row + 1)?);
        }
        Ok(coder.finish(name, codes))
    }

    /// A factor from codes and level names as they are (no sorting).
    pub fn from_codes(name: &str, codes: Vec<u32>, levels: Vec<String>) -> Result<Factor, GlmError> {
        if let Some(row) = codes.iter().position(|&c| c as usize >= levels.len()) {
            return Err(GlmError::NotFinite { column: name.to_owned(), row: row + 1 });
        }
        Ok(Factor { name: name.to_owned(), levels, codes })
    }

    /// A factor from codes into levels in any order (as a column reader codes them): levels
    /// sorted as R sorts them, codes renumbered. A code outside `levels` is refused, naming
    /// its row.
    pub fn from_levels(name: &str, codes: Vec<u32>, levels: Vec<String>) -> Result<Factor, GlmError> {
        if let Some(row) = codes.iter().position(|&c| c as usize >= levels.len()) {
            return Err(GlmError::NotFinite { column: name.to_owned(), row: row + 1 });
        }
        Ok(LevelCoder { index: HashMap::new(), first_seen: levels }.finish(name, codes))
    }

    /// Makes `level` the reference (by default the first in sorted order).
    pub fn with_reference(mut self, level: &str) -> Result<Factor, GlmError> {
        let Some(pos) = self.levels.iter().position(|l| l == level) else {
            return Err(GlmError::UnknownReference { factor: self.name.clone(), level: level.to_owned() });
        };
        if pos == 0 {
            return Ok(self);
        }
        let lvl = self.levels.remove(pos);
        self.levels.insert(0, lvl);
        // Old index → new index: `pos` moves to 0, those before it move up by one.
        let pos = u32::try_from(pos).unwrap_or(0);
        for c in &mut self.codes {
            *c = if *c == pos {
                0
            } else if *c < pos {
                *c + 1
            } else {
                *c
            };
        }
        Ok(self)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its levels, the reference first.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// Each row's index into [`Factor::levels`].
    pub fn codes_slice(&self) -> &[u32] {
        &self.codes
    }
}

/// Codes text values as they stream in (first seen, first coded), then sorts the levels
/// as R does and renumbers: for reading large files without keeping every string.
#[derive(Debug, Default)]
pub struct LevelCoder {
    index: HashMap<String, u32>,
    first_seen: Vec<String>,
}

impl LevelCoder {
    /// The provisional code of `value` in row `row` (1-based, for the error).
    pub fn code(&mut self, column: &str, value: &str, row: usize) -> Result<u32, GlmError> {
        let v = value.trim();
        if v.is_empty() || v.eq_ignore_ascii_case("NA") {
            return Err(GlmError::NotFinite { column: column.to_owned(), row });
        }
        if let Some(&c) = self.index.get(v) {
            return Ok(c);
        }
        let c = u32::try_from(self.first_seen.len())
            .map_err(|_| GlmError::Option(format!("`{column}` has too many levels")))?;
        self.index.insert(v.to_owned(), c);
        self.first_seen.push(v.to_owned());
        Ok(c)
    }

    /// The factor, with levels sorted and codes renumbered.
    pub fn finish(self, name: &str, mut codes: Vec<u32>) -> Factor {
        let mut sorted = self.first_seen.clone();
        sort_levels(&mut sorted);
        let mut position: HashMap<&str, usize> = HashMap::with_capacity(sorted.len());
        for (i, s) in sorted.iter().enumerate() {
            position.entry(s.as_str()).or_insert(i);
        }
        let remap: Vec<u32> = self
            .first_seen
            .iter()
            .map(|l| u32::try_from(position.get(l.as_str()).copied().unwrap_or(0)).unwrap_or(0))
            .collect();
        for c in &mut codes {
            *c = remap.get(*c as usize).copied().unwrap_or(0);
        }
        Factor { name: name.to_owned(), levels: sorted, codes }
    }
}

/// The data of a model: the response, optional prior weights and offset, factors and
/// numeric columns. Columns are borrowed; nothing is copied into a dense design matrix.
#[derive(Debug, Clone)]
pub struct Data<'a> {
    pub(crate) y: &'a [f64],
    pub(crate) weights: Option<&'a [f64]>,
    pub(crate) offset: Option<&'a [f64]>,
    pub(crate) factors: Vec<Factor>,
    pub(crate) numerics: Vec<(String, &'a [f64])>,
    pub(crate) intercept: bool,
}

impl<'a> Data<'a> {
    /// Data with a response and an intercept.
    pub fn new(y: &'a [f64]) -> Data<'a> {
        Data { y, weights: None, offset: None, factors: Vec::new(), numerics: Vec::new(), intercept: true }
    }

    /// Prior weights (exposure for rates, claim counts for severities, trials for Binomial).
    pub fn weights(mut self, w: &'a [f64]) -> Self {
        self.weights = Some(w);
        self
    }

    /// An offset on the linear-predictor scale (log exposure).
    pub fn offset(mut self, o: &'a [f64]) -> Self {
        self.offset = Some(o);
        self
    }

    /// A categorical rating factor.
    pub fn factor(mut self, f: Factor) -> Self {
        self.factors.push(f);
        self
    }

    /// A numeric term.
    pub fn numeric(mut self, name: &str, x: &'a [f64]) -> Self {
        self.numerics.push((name.to_owned(), x));
        self
    }

    /// No intercept.
    pub fn without_intercept(mut self) -> Self {
        self.intercept = false;
        self
    }

    pub(crate) fn n(&self) -> usize {
        self.y.len()
    }

    pub(crate) fn weight(&self, i: usize) -> f64 {
        self.weights.and_then(|w| w.get(i).copied()).unwrap_or(1.0)
    }

    pub(crate) fn offset_at(&self, i: usize) -> f64 {
        self.offset.and_then(|o| o.get(i).copied()).unwrap_or(0.0)
    }

    /// Checks lengths, finiteness and factor levels.
    pub(crate) fn check(&self) -> Result<(), GlmError> {
        let n = self.n();
        let len = |column: &str, found: usize| {
            if found == n {
                Ok(())
            } else {
                Err(GlmError::Length { column: column.to_owned(), expected: n, found })
            }
        };
        let finite = |column: &str, v: &[f64]| match v.iter().position(|x| !x.is_finite()) {
            Some(row) => Err(GlmError::NotFinite { column: column.to_owned(), row: row + 1 }),
            None => Ok(()),
        };
        finite("response", self.y)?;
        if let Some(w) = self.weights {
            len("weights", w.len())?;
            finite("weights", w)?;
            if let Some(row) = w.iter().position(|&x| x < 0.0) {
                return Err(GlmError::NegativeWeight {
                    row: row + 1,
                    value: w.get(row).copied().unwrap_or(0.0),
                });
            }
        }
        if let Some(o) = self.offset {
            len("offset", o.len())?;
            finite("offset", o)?;
        }
        for f in &self.factors {
            len(&f.name, f.codes.len())?;
            let mut used = vec![false; f.levels.len()];
            for &c in &f.codes {
                if let Some(u) = used.get_mut(c as usize) {
                    *u = true;
                }
            }
            if used.iter().filter(|u| **u).count() < 2 {
                return Err(GlmError::SingleLevel(f.name.clone()));
            }
        }
        for (name, x) in &self.numerics {
            len(name, x.len())?;
            finite(name, x)?;
        }
        Ok(())
    }
}

/// Where each term's coefficients sit in the coefficient vector.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub intercept: bool,
    /// First column of each factor (its level `c ≥ 1` is column `start + c − 1`).
    pub factor_start: Vec<usize>,
    pub numeric_start: usize,
    pub p: usize,
    pub names: Vec<String>,
}

impl Layout {
    pub(crate) fn new(data: &Data<'_>) -> Layout {
        let mut names = Vec::new();
        if data.intercept {
            names.push("(Intercept)".to_owned());
        }
        let mut factor_start = Vec::with_capacity(data.factors.len());
        for f in &data.factors {
            factor_start.push(names.len());
            for l in f.levels.iter().skip(1) {
                names.push(format!("{}{}", f.name, l));
            }
        }
        let numeric_start = names.len();
        for (n, _) in &data.numerics {
            names.push(n.clone());
        }
        Layout { intercept: data.intercept, factor_start, numeric_start, p: names.len(), names }
    }
}
