//! Typed columns from CSV files, for the engines' command lines and benchmarks.
//!
//! [`read_csv`] reads a file in chunks of 1 MiB (never the whole file at once) straight into
//! columns: numbers as `f64`, categories as `u32` codes into a dictionary of levels. Only the
//! columns asked for are parsed; a column can also be left for the reader to type (a number
//! column when every present cell is a number). Errors name the file, the line and the
//! column (`data.csv: line 7, column `age`: `abc` is not a number`); no input makes it panic,
//! and nothing it allocates is sized by a number read from the file, only by the data itself.
//!
//! The engines (`kebao-glm`, `kebao-scorecard`) do no IO; this crate is the one place where
//! their data is read from files, shared by `kebao fit glm`, `kebao fit scorecard`,
//! `kebao score` and the benchmarks.

mod csv;
mod number;

pub use csv::{read_csv, read_csv_bytes, MAX_RECORD};
pub use number::parse_f64;

/// The code of a missing cell in a category column.
pub const MISSING: u32 = u32::MAX;

/// What a column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A finite `f64` per row; a missing cell is NaN.
    Number,
    /// A level code per row; a missing cell is [`MISSING`].
    Category,
    /// A level code per row where every cell is a level, the missing tokens included (for a
    /// target or a train/test column, whose text the caller judges itself).
    Label,
    /// [`Kind::Number`] when every present cell is a number, else [`Kind::Category`].
    Infer,
    /// Not read (but it must exist): keeps a named column out of [`Spec::rest`].
    Skip,
}

/// Which columns to read and how.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Columns by header name, with their kind, in the order of the resulting table. A name
    /// asked for twice is read once, as first asked.
    pub columns: Vec<(String, Kind)>,
    /// The kind of every other column (after the named ones, in file order); `None` skips them.
    pub rest: Option<Kind>,
    /// Cells that are missing, compared after trimming and ignoring ASCII case.
    pub missing: Vec<String>,
    /// A missing cell in a number or category column is an error.
    pub required: bool,
}

impl Spec {
    /// Reads the named columns; nothing is missing and nothing may be.
    pub fn columns<S: AsRef<str>>(columns: &[(S, Kind)]) -> Spec {
        Spec {
            columns: columns.iter().map(|(n, k)| (n.as_ref().to_owned(), *k)).collect(),
            rest: None,
            missing: Vec::new(),
            required: true,
        }
    }

    /// Reads every column as `kind`.
    pub fn all(kind: Kind) -> Spec {
        Spec { columns: Vec::new(), rest: Some(kind), missing: Vec::new(), required: false }
    }

    /// Also reads every other column as `kind`.
    pub fn rest(mut self, kind: Kind) -> Spec {
        self.rest = Some(kind);
        self
    }

    /// These cells are missing.
    pub fn missing<S: AsRef<str>>(mut self, tokens: &[S]) -> Spec {
        self.missing = tokens.iter().map(|t| t.as_ref().to_owned()).collect();
        self
    }

    /// Whether a missing cell is an error.
    pub fn required(mut self, required: bool) -> Spec {
        self.required = required;
        self
    }
}

/// A column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// NaN is missing.
    Number(Vec<f64>),
    /// `codes[i]` indexes `levels`, or is [`MISSING`]. Levels are in order of first appearance.
    Category { codes: Vec<u32>, levels: Vec<String> },
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

impl Column {
    /// The numbers, if it is a number column.
    pub fn numbers(&self) -> Option<&[f64]> {
        match &self.values {
            Values::Number(v) => Some(v),
            Values::Category { .. } => None,
        }
    }

    /// Row `row`'s text in a category column (`None` when missing or out of range).
    pub fn level(&self, row: usize) -> Option<&str> {
        match &self.values {
            Values::Category { codes, levels } => {
                codes.get(row).and_then(|&c| levels.get(c as usize)).map(String::as_str)
            }
            Values::Number(_) => None,
        }
    }
}

/// The columns read, with the number of data rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Where it was read from (for messages).
    pub source: String,
    /// Every header name of the file, in file order.
    pub headers: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: usize,
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Takes the column named `name` out of the table.
    pub fn take(&mut self, name: &str) -> Option<Column> {
        let i = self.columns.iter().position(|c| c.name == name)?;
        Some(self.columns.remove(i))
    }
}

/// Why a file could not be read into columns. Each names the file, and the line and column
/// where there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}: the file is empty (no header row)")]
    Empty { file: String },
    #[error("{file}: no column `{column}` (columns: {columns})")]
    NoColumn { file: String, column: String, columns: String },
    #[error("{file}: line {line}: {found} fields where the header has {expected}")]
    Ragged { file: String, line: u64, found: usize, expected: usize },
    #[error("{file}: line {line}, column `{column}`: `{cell}` is not a number")]
    NotANumber { file: String, line: u64, column: String, cell: String },
    #[error("{file}: line {line}, column `{column}`: `{cell}` is not a finite number")]
    NotFinite { file: String, line: u64, column: String, cell: String },
    #[error("{file}: line {line}, column `{column}` is empty")]
    Missing { file: String, line: u64, column: String },
    #[error("{file}: line {line}{}: not valid UTF-8", column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Utf8 { file: String, line: u64, column: Option<String> },
    #[error("{file}: line {line}: a quoted field is not closed before the end of the file")]
    OpenQuote { file: String, line: u64 },
    #[error("{file}: line {line}: a record longer than {limit} bytes")]
    TooLong { file: String, line: u64, limit: usize },
    #[error("{file}: column `{column}` has more than {limit} distinct values")]
    TooManyLevels { file: String, column: String, limit: usize },
}
