//! The organisation register: list filters.

use serde::Deserialize;
use utoipa::IntoParams;

/// Filters and paging of the organisation list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Organisation kind.
    pub kind: Option<String>,
    /// Zone industry tag (see `/industries`).
    pub industry: Option<String>,
    /// Life-cycle stage.
    pub stage: Option<String>,
    /// Holds this qualification today.
    pub qualification: Option<String>,
    /// pending | verified | rejected (zone officers only; others see verified).
    pub status: Option<String>,
    /// Search: name contains, or USCC starts with.
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// Exports: the purpose of reading other enterprises' facts (a consent must cover it).
    pub purpose: Option<String>,
}

impl OrgQuery {
    /// The store filter, or field errors for values that are not codes.
    pub fn to_filter(&self) -> Result<kebao_domain::org::OrgFilter, kebao_domain::Invalid> {
        use kebao_domain::org::{LifecycleStage, OrgKind, OrgStatus, QualificationKind};
        use kebao_domain::FieldError;
        let mut errs = Vec::new();
        fn opt<T>(
            v: &Option<String>,
            field: &str,
            parse: fn(&str) -> Option<T>,
            errs: &mut Vec<FieldError>,
        ) -> Option<T> {
            let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
            let r = parse(s);
            if r.is_none() {
                errs.push(FieldError::new(
                    field,
                    "unknown_value",
                    format!("`{s}` 不是有效取值"),
                    format!("`{s}` is not a valid value"),
                ));
            }
            r
        }
        let filter = kebao_domain::org::OrgFilter {
            kind: opt(&self.kind, "kind", OrgKind::from_code, &mut errs),
            status: opt(&self.status, "status", OrgStatus::from_code, &mut errs),
            industry: self.industry.clone().filter(|s| !s.trim().is_empty()),
            stage: opt(&self.stage, "stage", LifecycleStage::from_code, &mut errs),
            qualification: opt(&self.qualification, "qualification", QualificationKind::from_code, &mut errs),
            today: None,
            q: self.q.clone().filter(|s| !s.trim().is_empty()),
            parent_id: None,
        };
        if errs.is_empty() {
            Ok(filter)
        } else {
            Err(kebao_domain::Invalid(errs))
        }
    }
}
