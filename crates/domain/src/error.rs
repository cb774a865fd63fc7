//! Validation errors that name the field and say what is wrong, in zh-CN and English.

use std::fmt;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The input field, as the API and forms name it (`uscc`, `facts.revenue_fen`).
    pub field: String,
    /// A stable machine code (`uscc_check_digit`, `negative`, `required` …).
    pub code: &'static str,
    /// The message in Simplified Chinese.
    pub message_zh: String,
    /// The message in English: lowercase, user input in backticks.
    pub message_en: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> FieldError {
        FieldError { field: field.into(), code, message_zh: message_zh.into(), message_en: message_en.into() }
    }

    /// The same error, reported against another field name (a parser does not know
    /// which form field it parses).
    pub fn at(mut self, field: impl Into<String>) -> FieldError {
        self.field = field.into();
        self
    }

    /// A required field is missing or blank.
    pub fn required(field: impl Into<String>) -> FieldError {
        FieldError::new(field, "required", "此项为必填项", "this field is required")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message_en, self.message_zh)
    }
}

/// Input that failed validation: every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl From<FieldError> for Invalid {
    fn from(e: FieldError) -> Invalid {
        Invalid(vec![e])
    }
}

/// Collects field errors while a whole input is checked.
#[derive(Debug, Default)]
pub struct Collector(Vec<FieldError>);

impl Collector {
    /// Keeps the value of `r`, or records its error and returns `None`.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Records an error.
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// `Ok(())` when nothing was recorded.
    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.0))
        }
    }
}
