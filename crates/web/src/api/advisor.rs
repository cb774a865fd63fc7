//! The risk advisor through the API (C3, information mode): the same as `/advisor` and the
//! zone's picture of needs.

use super::{ApiJson, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_service::advisor::{AdvisorView, Needs};
use kebao_service::advisor_broker::{Broker, BrokerInput, BundleView, QuoteLine};
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
    /// What the subsidy programmes in force would give for the reference policy (an estimate).
    pub subsidy_estimates: Vec<SubsidyEstimateDto>,
}

/// A subsidy estimate for a hypothetical policy: never a promise.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubsidyEstimateDto {
    pub programme_id: String,
    pub programme_version: u32,
    pub name_zh: String,
    pub name_en: String,
    /// The programme's own caveat.
    pub label_zh: String,
    pub label_en: String,
    /// Estimated amount in fen (none: would not qualify).
    pub amount_fen: Option<i64>,
    pub reasons_zh: Vec<String>,
    pub reasons_en: Vec<String>,
}

fn estimate_dto(e: kebao_service::subsidies::SubsidyEstimate) -> SubsidyEstimateDto {
    SubsidyEstimateDto {
        reasons_zh: e.reasons.iter().map(|r| r.0.clone()).collect(),
        reasons_en: e.reasons.iter().map(|r| r.1.clone()).collect(),
        programme_id: e.programme_id,
        programme_version: e.programme_version,
        name_zh: e.name_zh,
        name_en: e.name_en,
        label_zh: e.label_zh,
        label_en: e.label_en,
        amount_fen: e.amount_fen,
    }
}

/// The broker operating the advisor.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorBrokerDto {
    pub org_id: String,
    pub org_name: String,
    pub licence_no: String,
    pub valid_from: String,
    pub valid_to: String,
    /// Its licence is valid today (broker mode).
    pub licensed_today: bool,
}

fn broker_dto(b: &Broker, today: time::Date) -> AdvisorBrokerDto {
    AdvisorBrokerDto {
        org_id: b.org_id.clone(),
        org_name: b.org_name.clone(),
        licence_no: b.licence_no.clone(),
        valid_from: b.valid_from.to_string(),
        valid_to: b.valid_to.to_string(),
        licensed_today: b.licensed_on(today),
    }
}

/// A quote the broker obtained (broker mode).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorQuoteDto {
    pub id: String,
    pub exposure_id: String,
    pub product_id: String,
    pub product_name: String,
    pub insurer_id: String,
    pub insurer_name: String,
    pub plan_version: i64,
    pub limit_fen: i64,
    pub deductible_fen: i64,
    pub sum_insured_fen: i64,
    pub premium_fen: i64,
    pub subsidy_estimate_fen: i64,
    pub quoted_on: String,
    pub valid_until: String,
    pub chosen: bool,
    /// Why it no longer stands (none: it does).
    pub lapsed_zh: Option<String>,
    pub lapsed_en: Option<String>,
}

fn quote_dto(q: QuoteLine) -> AdvisorQuoteDto {
    AdvisorQuoteDto {
        lapsed_zh: q.lapsed.as_ref().map(|l| l.0.clone()),
        lapsed_en: q.lapsed.as_ref().map(|l| l.1.clone()),
        id: q.id,
        exposure_id: q.exposure_id,
        product_id: q.product_id,
        product_name: q.product_name,
        insurer_id: q.insurer_id,
        insurer_name: q.insurer_name,
        plan_version: q.plan_version,
        limit_fen: q.limit_fen,
        deductible_fen: q.deductible_fen,
        sum_insured_fen: q.sum_insured_fen,
        premium_fen: q.premium_fen,
        subsidy_estimate_fen: q.subsidy_fen,
        quoted_on: q.quoted_on.to_string(),
        valid_until: q.valid_until.to_string(),
        chosen: q.chosen,
    }
}

/// The bundle being put together (broker mode).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorBundleDto {
    pub quotes: Vec<String>,
    pub premium_fen: i64,
    pub subsidy_estimate_fen: i64,
    /// Exposure ids neither in the bundle nor covered by a policy in force.
    pub uncovered: Vec<String>,
}

/// A bundle applied for.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedBundleDto {
    pub id: String,
    pub start_date: String,
    pub premium_fen: i64,
    pub subsidy_estimate_fen: i64,
    /// Application ids, one per quote (each to its insurer).
    pub applications: Vec<String>,
}

fn applied_dto(b: BundleView) -> AppliedBundleDto {
    AppliedBundleDto {
        id: b.id,
        start_date: b.start_date.to_string(),
        premium_fen: b.premium_fen,
        subsidy_estimate_fen: b.subsidy_fen,
        applications: b.applications.into_iter().map(|a| a.0).collect(),
    }
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
    /// `information` (no prices side by side, rules.md §11.1) or `broker` (a licensed broker
    /// named by the zone operates the advisor: quotes side by side, bundles).
    pub mode: String,
    /// The broker named by the zone (also when its licence is not valid today).
    pub broker: Option<AdvisorBrokerDto>,
    /// Broker mode: open quotes, newest first.
    pub quotes: Vec<AdvisorQuoteDto>,
    /// Broker mode: the bundle being put together.
    pub bundle: Option<AdvisorBundleDto>,
    pub bundles: Vec<AppliedBundleDto>,
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
                        subsidy_estimates: p.estimates.into_iter().map(estimate_dto).collect(),
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
        mode: if v.broker.is_some() { "broker" } else { "information" }.into(),
        broker: v.broker.as_ref().or(v.broker_unlicensed.as_ref()).map(|b| broker_dto(b, v.day)),
        quotes: v.quotes.into_iter().map(quote_dto).collect(),
        bundle: v.bundle.map(|b| AdvisorBundleDto {
            quotes: b.quotes,
            premium_fen: b.premium_fen,
            subsidy_estimate_fen: b.subsidy_fen,
            uncovered: b.uncovered.into_iter().map(|u| u.0).collect(),
        }),
        bundles: v.bundles.into_iter().map(applied_dto).collect(),
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

/// The broker the zone names as the advisor's operator (none: information mode).
#[utoipa::path(get, path = "/api/v1/advisor/broker",
    responses((status = 200, body = Option<AdvisorBrokerDto>), (status = 403, body = ErrorBody)), tag = "advisor")]
pub async fn broker(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<Json<Option<AdvisorBrokerDto>>, ApiError> {
    // The zone's approvers read it here; everyone else sees it on the advisor.
    s.svc.advisor_broker_history(&actor).await?;
    let today = s.svc.today();
    Ok(Json(s.svc.advisor_broker().await?.map(|b| broker_dto(&b, today))))
}

/// The broker to name: a verified insurance intermediary, its licence and validity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBrokerDto {
    pub org_id: String,
    pub licence_no: String,
    /// YYYY-MM-DD.
    pub valid_from: String,
    /// YYYY-MM-DD.
    pub valid_to: String,
}

/// The zone names a licensed broker to operate the advisor (broker mode).
#[utoipa::path(put, path = "/api/v1/advisor/broker", request_body = NameBrokerDto,
    responses((status = 200, body = AdvisorBrokerDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "advisor")]
pub async fn name_broker(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<NameBrokerDto>,
) -> Result<Json<AdvisorBrokerDto>, ApiError> {
    let input = BrokerInput {
        org_id: b.org_id,
        licence_no: b.licence_no,
        valid_from: b.valid_from,
        valid_to: b.valid_to,
    };
    let named = s.svc.name_advisor_broker(&actor, &input).await?;
    Ok(Json(broker_dto(&named, s.svc.today())))
}

/// The zone ends the broker's naming (information mode).
#[utoipa::path(delete, path = "/api/v1/advisor/broker",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "advisor")]
pub async fn end_broker(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<StatusCode, ApiError> {
    s.svc.end_advisor_broker(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The terms to quote every eligible product of an exposure on (amounts in yuan).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AdvisorQuoteRequestDto {
    pub exposure_id: String,
    pub limit_yuan: String,
    pub deductible_yuan: String,
    pub sum_insured_yuan: String,
    pub revenue_yuan: String,
    pub claims_3y: u32,
}

/// Broker mode: quotes from every insurer's filed plan for the exposure's eligible products.
#[utoipa::path(post, path = "/api/v1/advisor/quotes", request_body = AdvisorQuoteRequestDto,
    responses((status = 201, body = Vec<AdvisorQuoteDto>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "advisor")]
pub async fn quotes(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<AdvisorQuoteRequestDto>,
) -> Result<(StatusCode, Json<Vec<AdvisorQuoteDto>>), ApiError> {
    let fields = kebao_domain::rating::QuoteFields {
        limit_yuan: b.limit_yuan,
        deductible_yuan: b.deductible_yuan,
        sum_insured_yuan: b.sum_insured_yuan,
        revenue_yuan: b.revenue_yuan,
        industry: None,
        stage: None,
        claims_3y: b.claims_3y,
    };
    let lines = s.svc.quote_for_exposure(&actor, &b.exposure_id, &fields).await?;
    Ok((StatusCode::CREATED, Json(lines.into_iter().map(quote_dto).collect())))
}

/// Broker mode: puts a quote into the bundle (the one chosen for its exposure).
#[utoipa::path(post, path = "/api/v1/advisor/bundle/quotes/{quote_id}", params(("quote_id" = String, Path)),
    responses((status = 200, body = AdvisorDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "advisor")]
pub async fn choose(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(quote_id): ApiPath<String>,
) -> Result<Json<AdvisorDto>, ApiError> {
    s.svc.choose_quote(&actor, &quote_id).await?;
    Ok(Json(dto(s.svc.advisor(&actor).await?)))
}

/// Broker mode: takes a quote out of the bundle.
#[utoipa::path(delete, path = "/api/v1/advisor/bundle/quotes/{quote_id}", params(("quote_id" = String, Path)),
    responses((status = 200, body = AdvisorDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "advisor")]
pub async fn unchoose(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(quote_id): ApiPath<String>,
) -> Result<Json<AdvisorDto>, ApiError> {
    s.svc.unchoose_quote(&actor, &quote_id).await?;
    Ok(Json(dto(s.svc.advisor(&actor).await?)))
}

/// When the bundle's cover starts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBundleDto {
    /// YYYY-MM-DD.
    pub start_date: String,
}

/// Broker mode: applies for the bundle in one step, one application per quote.
#[utoipa::path(post, path = "/api/v1/advisor/bundle/apply", request_body = ApplyBundleDto,
    responses((status = 201, body = AppliedBundleDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "advisor")]
pub async fn apply_bundle(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<ApplyBundleDto>,
) -> Result<(StatusCode, Json<AppliedBundleDto>), ApiError> {
    let applied = s.svc.apply_bundle(&actor, &b.start_date).await?;
    Ok((StatusCode::CREATED, Json(applied_dto(applied))))
}
