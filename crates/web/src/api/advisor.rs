//! The risk advisor through the API (C3, information mode): the same as `/advisor` and the
//! zone's picture of needs.

use super::{ApiJson, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_service::advisor::{AdvisorView, Needs};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// A published product under an exposure.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorProductDto {
    pub product_id: String,
    pub name: String,
    pub insurer_id: String,
    pub insurer_name: String,
    pub type_id: String,
    pub type_name: String,
    /// How many of the enterprise's exposures the product's type addresses.
    pub covers: usize,
    pub eligible: bool,
    /// Why the enterprise is outside the product's filed eligibility.
    pub not_eligible_zh: Vec<String>,
    pub not_eligible_en: Vec<String>,
    pub shortlisted: bool,
}

/// An exposure inferred for the enterprise, with why and what addresses it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorExposureDto {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// The life-cycle stage code it is listed under.
    pub stage: String,
    pub reasons_zh: Vec<String>,
    pub reasons_en: Vec<String>,
    pub source: String,
    /// Catalogue product type ids that address it.
    pub types: Vec<String>,
    /// Products in the advisor's order (exposures covered, then the day's rotation; never price).
    pub products: Vec<AdvisorProductDto>,
    /// Policy numbers in force today that cover it.
    pub covered_by: Vec<String>,
    /// No published product addresses it.
    pub gap: bool,
}

/// A question and the enterprise's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorQuestionDto {
    pub id: String,
    /// `yes_no`, `amount` (yuan) or `count`.
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    /// The answer: 1/0 for yes/no, fen for amounts, the number for counts; none if unanswered.
    pub answer: Option<i64>,
}

/// The advisor for the caller's enterprise.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorDto {
    pub org_id: String,
    pub org_name: String,
    /// Always `information` here: no prices side by side (rules.md §11.1).
    pub mode: String,
    pub rules_version: String,
    pub confidence: String,
    /// The day the rotation is seeded with.
    pub day: String,
    pub questions: Vec<AdvisorQuestionDto>,
    pub exposures: Vec<AdvisorExposureDto>,
    /// (product id, exposure id) in the order kept.
    pub shortlist: Vec<(String, String)>,
}

fn dto(v: AdvisorView) -> AdvisorDto {
    use kebao_domain::advisor::QuestionKind;
    AdvisorDto {
        questions: v
            .questions
            .iter()
            .map(|q| AdvisorQuestionDto {
                id: q.id.clone(),
                kind: match q.kind {
                    QuestionKind::YesNo => "yes_no",
                    QuestionKind::Amount { .. } => "amount",
                    QuestionKind::Count { .. } => "count",
                }
                .to_owned(),
                name_zh: q.name_zh.clone(),
                name_en: q.name_en.clone(),
                answer: v.answers.get(&q.id).copied(),
            })
            .collect(),
        exposures: v
            .exposures
            .into_iter()
            .map(|e| AdvisorExposureDto {
                gap: e.is_gap(),
                stage: e.stage.code().to_owned(),
                reasons_zh: e.reasons.iter().map(|r| r.0.clone()).collect(),
                reasons_en: e.reasons.iter().map(|r| r.1.clone()).collect(),
                types: e.types.into_iter().map(|t| t.0).collect(),
                covered_by: e.covered_by.into_iter().map(|p| p.1).collect(),
                products: e
                    .products
                    .into_iter()
                    .map(|p| AdvisorProductDto {
                        eligible: p.not_eligible.is_empty(),
                        not_eligible_zh: p.not_eligible.iter().map(|r| r.0.clone()).collect(),
                        not_eligible_en: p.not_eligible.iter().map(|r| r.1.clone()).collect(),
                        product_id: p.product_id,
                        name: p.name,
                        insurer_id: p.insurer_id,
                        insurer_name: p.insurer_name,
                        type_id: p.type_id,
                        type_name: p.type_name,
                        covers: p.covers,
                        shortlisted: p.shortlisted,
                    })
                    .collect(),
                id: e.id,
                name_zh: e.name_zh,
                name_en: e.name_en,
                source: e.source,
            })
            .collect(),
        org_id: v.org_id,
        org_name: v.org_name,
        mode: "information".into(),
        rules_version: v.rules_version,
        confidence: v.confidence,
        day: v.day.to_string(),
        shortlist: v.shortlist,
    }
}

/// The advisor for the caller's enterprise (its own staff).
#[utoipa::path(get, path = "/api/v1/advisor",
    responses((status = 200, body = AdvisorDto), (status = 403, body = ErrorBody)), tag = "advisor")]
pub async fn advisor(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<Json<AdvisorDto>, ApiError> {
    Ok(Json(dto(s.svc.advisor(&actor).await?)))
}

/// The questionnaire's answers, as typed: yes/no as `yes`/`no`, amounts in yuan, counts as
/// whole numbers; a question left out is not answered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvisorAnswersDto {
    pub answers: BTreeMap<String, String>,
}

/// Saves the questionnaire (replacing the previous answers); the advisor as it now stands.
#[utoipa::path(put, path = "/api/v1/advisor/answers", request_body = AdvisorAnswersDto,
    responses((status = 200, body = AdvisorDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "advisor")]
pub async fn answers(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<AdvisorAnswersDto>,
) -> Result<Json<AdvisorDto>, ApiError> {
    let form: HashMap<String, String> = b.answers.into_iter().collect();
    s.svc.save_advisor_answers(&actor, &form).await?;
    Ok(Json(dto(s.svc.advisor(&actor).await?)))
}

/// A product to keep on the shortlist, under one of the enterprise's exposures.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortlistDto {
    pub product_id: String,
    pub exposure_id: String,
}

/// Keeps a published product the enterprise is eligible for on its shortlist.
#[utoipa::path(post, path = "/api/v1/advisor/shortlist", request_body = ShortlistDto,
    responses((status = 201, body = AdvisorDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "advisor")]
pub async fn shortlist(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<ShortlistDto>,
) -> Result<(StatusCode, Json<AdvisorDto>), ApiError> {
    s.svc.shortlist_product(&actor, &b.product_id, &b.exposure_id).await?;
    Ok((StatusCode::CREATED, Json(dto(s.svc.advisor(&actor).await?))))
}

/// Takes a product off the shortlist.
#[utoipa::path(delete, path = "/api/v1/advisor/shortlist/{product_id}", params(("product_id" = String, Path)),
    responses((status = 200, body = AdvisorDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "advisor")]
pub async fn unlist(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(product_id): ApiPath<String>,
) -> Result<Json<AdvisorDto>, ApiError> {
    s.svc.unlist_product(&actor, &product_id).await?;
    Ok(Json(dto(s.svc.advisor(&actor).await?)))
}

/// One exposure in the zone's picture of needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedDto {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub enterprises: u64,
    pub covered: u64,
    pub uncovered: u64,
    pub shortlisted: u64,
    pub products: u64,
    /// Enterprises exposed per industry, in `industries`' order.
    pub by_industry: Vec<u64>,
    /// Enterprises exposed per stage, in `stages`' order.
    pub by_stage: Vec<u64>,
}

/// The zone's picture of needs (the zone's officers and the regulator).
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedsDto {
    pub rules_version: String,
    pub enterprises: u64,
    /// Industry ids (then `none`).
    pub industries: Vec<String>,
    /// Stage codes (then `none`).
    pub stages: Vec<String>,
    /// The largest gaps (enterprises uncovered) first.
    pub exposures: Vec<NeedDto>,
}

/// The needs for cover across the zone's enterprises.
#[utoipa::path(get, path = "/api/v1/advisor/needs",
    responses((status = 200, body = NeedsDto), (status = 403, body = ErrorBody)), tag = "advisor")]
pub async fn needs(State(s): State<AppState>, SignedIn(actor): SignedIn) -> Result<Json<NeedsDto>, ApiError> {
    let n: Needs = s.svc.advisor_needs(&actor).await?;
    Ok(Json(NeedsDto {
        rules_version: n.rules_version,
        enterprises: n.enterprises,
        industries: n.industries.into_iter().map(|i| i.0).collect(),
        stages: n.stages.into_iter().map(|i| i.0).collect(),
        exposures: n
            .rows
            .into_iter()
            .map(|r| NeedDto {
                uncovered: r.uncovered(),
                id: r.id,
                name_zh: r.name_zh,
                name_en: r.name_en,
                enterprises: r.enterprises,
                covered: r.covered,
                shortlisted: r.shortlisted,
                products: r.products,
                by_industry: r.by_industry,
                by_stage: r.by_stage,
            })
            .collect(),
    }))
}
