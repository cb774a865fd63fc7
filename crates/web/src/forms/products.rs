//! Products: portal filters, reviews, quotes (uploads and downloads: `forms::attachments`).

use crate::error::ApiError;
use kebao_domain::catalogue::ProductLine;
use kebao_domain::org::LifecycleStage;
use kebao_domain::{FieldError, Invalid};
use kebao_service::products::{PortalQuery, Review};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The portal's filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PortalParams {
    /// Zone industry tag.
    pub industry: Option<String>,
    /// Life-cycle stage code.
    pub stage: Option<String>,
    /// Line (risk) code: property | liability | surety | credit | health | accident | ip | composite
    pub line: Option<String>,
    pub insurer: Option<String>,
    #[serde(rename = "type")]
    pub type_id: Option<String>,
    /// Full-text search (Chinese and English).
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl PortalParams {
    /// The service query, or what is wrong with the filters.
    pub fn to_query(&self) -> Result<PortalQuery, Invalid> {
        let mut errs = Vec::new();
        let nonempty =
            |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let stage = match nonempty(&self.stage) {
            None => None,
            Some(s) => {
                let v = LifecycleStage::from_code(&s);
                if v.is_none() {
                    errs.push(FieldError::new(
                        "stage",
                        "unknown_stage",
                        format!("生命周期阶段 `{s}` 不存在"),
                        format!("stage `{s}` does not exist"),
                    ));
                }
                v
            }
        };
        let line = match nonempty(&self.line) {
            None => None,
            Some(s) => {
                let v = ProductLine::from_code(&s);
                if v.is_none() {
                    errs.push(FieldError::new(
                        "line",
                        "unknown_line",
                        format!("险类 `{s}` 不存在"),
                        format!("line `{s}` does not exist"),
                    ));
                }
                v
            }
        };
        let q = nonempty(&self.q);
        if let Some(Err(e)) = q.as_deref().map(kebao_domain::search::query_phrases) {
            errs.push(e);
        }
        if !errs.is_empty() {
            return Err(Invalid(errs));
        }
        Ok(PortalQuery {
            industry: nonempty(&self.industry),
            stage,
            line,
            insurer_id: nonempty(&self.insurer),
            type_id: nonempty(&self.type_id),
            q,
            page: self.page.unwrap_or(1),
            per_page: self.per_page.unwrap_or(20),
        })
    }
}

pub(crate) use crate::forms::attachments::read_upload;

pub(crate) fn parse_review(decision: &str, reason: &str) -> Result<Review, ApiError> {
    match decision.trim() {
        "request_changes" => Ok(Review::RequestChanges { reason: reason.to_owned() }),
        "approve" => Ok(Review::Approve),
        "reject" => Ok(Review::Reject { reason: reason.to_owned() }),
        other => Err(ApiError::invalid(vec![crate::error::ErrorDetail {
            field: "decision".into(),
            code: "unknown_decision".into(),
            message_zh: format!("审核结论 `{other}` 无效：应为 request_changes、approve 或 reject"),
            message_en: format!("decision `{other}` is invalid: use request_changes, approve or reject"),
        }])),
    }
}

/// What to quote.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QuoteRequestDto {
    pub limit_yuan: String,
    pub deductible_yuan: String,
    pub sum_insured_yuan: String,
    pub revenue_yuan: String,
    /// Zone industry tag.
    pub industry: Option<String>,
    /// Life-cycle stage code.
    pub stage: Option<String>,
    pub claims_3y: u32,
    /// The quote date (YYYY-MM-DD; default today): picks the plan in force.
    pub on: Option<String>,
}

pub(crate) fn quote_input(q: &QuoteRequestDto) -> Result<kebao_domain::rating::QuoteInput, ApiError> {
    let fields = kebao_domain::rating::QuoteFields {
        limit_yuan: q.limit_yuan.clone(),
        deductible_yuan: q.deductible_yuan.clone(),
        sum_insured_yuan: q.sum_insured_yuan.clone(),
        revenue_yuan: q.revenue_yuan.clone(),
        industry: q.industry.clone(),
        stage: q.stage.clone(),
        claims_3y: q.claims_3y,
    };
    kebao_domain::rating::QuoteInput::parse(&fields)
        .map_err(|e| ApiError::invalid(crate::error::details_of(&e)))
}
