//! The enterprise's unified view (360°) through the API: the same sections as
//! `/orgs/{id}/view`, each open or hidden with why.

use super::consent::{parse_purpose, PurposeParams};
use super::{ApiPath, ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use kebao_service::unified::UnifiedView;
use serde::Serialize;
use utoipa::ToSchema;

/// One row of a section: cells in the section's column order.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnifiedRowDto {
    pub cells_zh: Vec<String>,
    pub cells_en: Vec<String>,
    /// Where the row leads in the UI.
    pub link: Option<String>,
    /// Its date on the timeline.
    pub on: Option<String>,
}

/// One section, open or hidden with why.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnifiedSectionDto {
    /// profile, qualifications, facts, ip, policies, claims, disputes, subsidies, loans,
    /// scores, consents, access_log.
    pub key: String,
    pub title_zh: String,
    pub title_en: String,
    pub allowed: bool,
    pub reason_zh: String,
    pub reason_en: String,
    pub columns_zh: Vec<String>,
    pub columns_en: Vec<String>,
    pub rows: Vec<UnifiedRowDto>,
}

/// A timeline entry from an open section.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineDto {
    pub on: String,
    pub section_zh: String,
    pub section_en: String,
    pub what_zh: String,
    pub what_en: String,
    pub link: Option<String>,
}

/// The unified view of an enterprise.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnifiedViewDto {
    pub org_id: String,
    pub org_name: String,
    /// The reader is the enterprise itself.
    pub own: bool,
    pub purpose: Option<String>,
    pub sections: Vec<UnifiedSectionDto>,
    /// Newest first.
    pub timeline: Vec<TimelineDto>,
}

fn dto(v: UnifiedView) -> UnifiedViewDto {
    UnifiedViewDto {
        org_id: v.org_id,
        org_name: v.org_name,
        own: v.own,
        purpose: v.purpose.map(|p| p.code().to_owned()),
        sections: v
            .sections
            .into_iter()
            .map(|s| UnifiedSectionDto {
                key: s.key.to_owned(),
                title_zh: s.title_zh.to_owned(),
                title_en: s.title_en.to_owned(),
                allowed: s.allowed,
                reason_zh: s.reason_zh,
                reason_en: s.reason_en,
                columns_zh: s.columns.iter().map(|c| c.0.to_owned()).collect(),
                columns_en: s.columns.iter().map(|c| c.1.to_owned()).collect(),
                rows: s
                    .rows
                    .into_iter()
                    .map(|r| UnifiedRowDto {
                        cells_zh: r.cells.iter().map(|c| c.zh.clone()).collect(),
                        cells_en: r.cells.into_iter().map(|c| c.en).collect(),
                        link: r.link,
                        on: r.on.map(|d| d.to_string()),
                    })
                    .collect(),
            })
            .collect(),
        timeline: v
            .timeline
            .into_iter()
            .map(|t| TimelineDto {
                on: t.on.to_string(),
                section_zh: t.section_zh.to_owned(),
                section_en: t.section_en.to_owned(),
                what_zh: t.what.zh,
                what_en: t.what.en,
                link: t.link,
            })
            .collect(),
    }
}

/// The unified view of an enterprise: the enterprise sees every section; others the sections
/// their lawful basis opens for the stated purpose (blank: a statutory duty only). A read by
/// anyone but the enterprise is recorded in its access log.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/view", params(("id" = String, Path), PurposeParams),
    responses((status = 200, body = UnifiedViewDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "consent")]
pub async fn view(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PurposeParams>,
) -> Result<Json<UnifiedViewDto>, ApiError> {
    let purpose = if p.purpose.trim().is_empty() { None } else { Some(parse_purpose(&p.purpose)?) };
    Ok(Json(dto(s.svc.unified_view(&actor, &id, purpose).await?)))
}
