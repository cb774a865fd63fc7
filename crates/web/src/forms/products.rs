//! Products: portal filters, uploads and downloads, reviews, quotes.

use crate::error::ApiError;
use axum::extract::Multipart;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use kebao_domain::catalogue::ProductLine;
use kebao_domain::org::LifecycleStage;
use kebao_domain::{FieldError, Invalid};
use kebao_service::products::{PortalQuery, Review};
use kebao_store::products::Document;
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

/// Reads the `file` field of a multipart upload, and the `csrf` field (the UI's forms).
pub(crate) async fn read_upload(mut multipart: Multipart) -> Result<(String, Vec<u8>, String), ApiError> {
    let mut found = None;
    let mut csrf = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(upload_error(e.status(), &e.body_text())),
        };
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| upload_error(e.status(), &e.body_text()))?;
                found = Some((name, bytes.to_vec()));
            }
            Some("csrf") => {
                csrf = field.text().await.map_err(|e| upload_error(e.status(), &e.body_text()))?;
            }
            _ => {
                let _ = field.bytes().await;
            }
        }
    }
    found.map(|(n, b)| (n, b, csrf)).ok_or_else(|| {
        ApiError::invalid(vec![crate::error::ErrorDetail {
            field: "file".into(),
            code: "required".into(),
            message_zh: "请选择要上传的文件".into(),
            message_en: "choose a file to upload (multipart field `file`)".into(),
        }])
    })
}

fn upload_error(status: StatusCode, text: &str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let f = kebao_domain::product::documents::too_large(crate::MAX_BODY_BYTES + 1);
        let mut e = ApiError::new(status, "too_large", f.message_en.clone(), f.message_zh.clone());
        e.body.details = crate::error::details_of(&Invalid(vec![f]));
        e
    } else {
        ApiError::bad_request(text.to_owned())
    }
}

pub(crate) fn document_response(doc: &Document, body: Vec<u8>) -> Response {
    // Cleaned again: names stored before uploads were cleaned of bidi controls may hold them.
    let name = kebao_domain::product::documents::clean_file_name(&doc.file_name);
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, doc.media_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
            (header::HeaderName::from_static("x-content-sha256"), doc.sha256.clone()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response()
}

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
