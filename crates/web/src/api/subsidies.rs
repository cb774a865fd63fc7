//! The subsidy API: programmes, eligibility checks, applications and their workflow,
//! auto-grant offers, national files, the dashboard and what-if runs.

use super::rfc3339;
use super::{ApiJson, ApiMultipart, ApiPath, ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::session::ApiActor;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::subsidy::{Declarations, Failure, Grant, Objection, Programme, Step, SubsidyApplication};
use kebao_domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) use crate::forms::subsidies::{step_run, what_if_params};
pub use crate::forms::subsidies::{SubsidyStepDto, WhatIfDto};

fn yuan(f: i64) -> String {
    Money::from_fen(f).to_yuan_string()
}

/// A programme version: its rules as stated, with its source and confidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeDto {
    pub id: String,
    pub version: u32,
    pub name_zh: String,
    pub name_en: String,
    /// zone | national_first_set | national_new_material
    pub kind: String,
    pub source: String,
    /// C | C-local | D | R | U — a `U` programme's numbers are configuration, not facts.
    pub confidence: String,
    pub label_zh: String,
    pub label_en: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    /// The programme subsidises the guarantee premium of repaid scheme loans (applied for
    /// from the loan), not catalogue policies.
    pub takes_loans: bool,
    /// The whole rule set.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

pub(crate) fn programme_dto(p: &Programme) -> ProgrammeDto {
    ProgrammeDto {
        id: p.id.clone(),
        version: p.version,
        name_zh: p.name_zh.clone(),
        name_en: p.name_en.clone(),
        kind: p.kind.code().to_owned(),
        source: p.source.clone(),
        confidence: p.confidence.code().to_owned(),
        label_zh: p.label_zh.clone(),
        label_en: p.label_en.clone(),
        valid_from: p.valid_from.to_string(),
        valid_to: p.valid_to.map(|d| d.to_string()),
        takes_loans: p.loan.is_some(),
        rules: serde_json::to_value(p).unwrap_or_default(),
    }
}

/// The programme versions in force and past.
#[utoipa::path(get, path = "/api/v1/subsidy/programmes", security((), ("bearer" = [])), responses((status = 200, body = Vec<ProgrammeDto>)), tag = "subsidies")]
pub async fn programmes(State(s): State<AppState>) -> ApiResult<Vec<ProgrammeDto>> {
    Ok(Json(s.svc.subsidy_programmes().await?.iter().map(programme_dto).collect()))
}

/// A TOML document (programmes or the working-day calendar).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TomlDto {
    pub toml: String,
}

/// Load programme versions (zone approvers, platform admins); all or nothing.
#[utoipa::path(post, path = "/api/v1/subsidy/programmes", request_body = TomlDto,
    responses((status = 201, body = Vec<ProgrammeDto>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn load(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<TomlDto>,
) -> Result<(StatusCode, Json<Vec<ProgrammeDto>>), ApiError> {
    let loaded = s.svc.load_subsidy_programmes(&actor, &b.toml).await?;
    let all = s.svc.subsidy_programmes().await?;
    let out = all
        .iter()
        .filter(|p| loaded.iter().any(|(id, v)| *id == p.id && *v == p.version))
        .map(programme_dto)
        .collect();
    Ok((StatusCode::CREATED, Json(out)))
}

/// Replace the working-day calendar (holidays and make-up working days).
#[utoipa::path(put, path = "/api/v1/subsidy/calendar", request_body = TomlDto,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn calendar(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<TomlDto>,
) -> Result<StatusCode, ApiError> {
    s.svc.set_subsidy_calendar(&actor, &b.toml).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the applicant declares.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DeclarationsDto {
    /// Purchase-contract amount, yuan (new material).
    pub contract_amount_yuan: Option<i64>,
    pub related_party: bool,
    pub already_compensated: bool,
}

impl From<&DeclarationsDto> for Declarations {
    fn from(d: &DeclarationsDto) -> Declarations {
        Declarations {
            contract_amount_yuan: d.contract_amount_yuan,
            related_party: d.related_party,
            already_compensated: d.already_compensated,
        }
    }
}

/// An eligibility question.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDto {
    pub programme_id: String,
    #[serde(default)]
    pub declarations: DeclarationsDto,
}

/// A step of the computation.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepDto {
    pub label_zh: String,
    pub label_en: String,
    pub value_yuan: String,
}

/// A failed rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailureDto {
    pub rule: String,
    pub reason_zh: String,
    pub reason_en: String,
}

/// The answer: the amount with its trace (and which cap bound), or every failed rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResultDto {
    pub programme_id: String,
    pub programme_version: u32,
    /// Shown with the amount: the programme's own caveat.
    pub label_zh: String,
    pub label_en: String,
    pub eligible: bool,
    pub amount_yuan: Option<String>,
    pub bound_by: Option<String>,
    pub steps: Vec<StepDto>,
    pub failures: Vec<FailureDto>,
}

fn steps(s: &[Step]) -> Vec<StepDto> {
    s.iter()
        .map(|x| StepDto {
            label_zh: x.label_zh.clone(),
            label_en: x.label_en.clone(),
            value_yuan: yuan(x.value_fen),
        })
        .collect()
}

pub(crate) fn check_dto(p: &Programme, r: &Result<Grant, Vec<Failure>>) -> CheckResultDto {
    let (eligible, amount, bound, st, fails) = match r {
        Ok(g) => (true, Some(yuan(g.amount_fen)), g.bound_by.clone(), steps(&g.steps), Vec::new()),
        Err(f) => (
            false,
            None,
            None,
            Vec::new(),
            f.iter()
                .map(|x| FailureDto {
                    rule: x.rule.clone(),
                    reason_zh: x.reason_zh.clone(),
                    reason_en: x.reason_en.clone(),
                })
                .collect(),
        ),
    };
    CheckResultDto {
        programme_id: p.id.clone(),
        programme_version: p.version,
        label_zh: p.label_zh.clone(),
        label_en: p.label_en.clone(),
        eligible,
        amount_yuan: amount,
        bound_by: bound,
        steps: st,
        failures: fails,
    }
}

/// Check a policy against a programme (the policyholder and the zone). Nothing is written.
#[utoipa::path(post, path = "/api/v1/policies/{id}/subsidy-check", params(("id" = String, Path)), request_body = CheckDto,
    responses((status = 200, body = CheckResultDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn check(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CheckDto>,
) -> ApiResult<CheckResultDto> {
    let (p, r) = s.svc.check_subsidy(&actor, &id, &b.programme_id, &(&b.declarations).into()).await?;
    Ok(Json(check_dto(&p, &r)))
}

/// A subsidy application, or a national qualification or funding file.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubsidyDto {
    pub id: String,
    pub programme_id: String,
    pub programme_version: i64,
    /// zone | auto | national
    pub track: String,
    /// subsidy | qualification | funding
    pub stage: String,
    pub policy_id: Option<String>,
    /// The loan whose guarantee premium a loan-premium programme subsidises.
    pub loan_id: Option<String>,
    pub enterprise_id: String,
    pub status: String,
    pub status_zh: String,
    pub amount_yuan: String,
    pub applied_on: String,
    pub notice_from: Option<String>,
    pub notice_to: Option<String>,
    pub confirm_by: Option<String>,
    pub reason: Option<String>,
    pub decision_ref: Option<String>,
    pub steps: Vec<StepDto>,
    #[schema(value_type = Object)]
    pub declarations: serde_json::Value,
    pub objections: Vec<ObjectionDto>,
    /// (id, file name, sha256, size)
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<(String, String, String, i64)>,
    pub updated_at: String,
}

/// An objection raised in the public notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionDto {
    pub id: String,
    pub text: String,
    pub upheld: Option<bool>,
    pub resolution: Option<String>,
    pub at: String,
}

fn objection_dto(o: &Objection) -> ObjectionDto {
    ObjectionDto {
        id: o.id.clone(),
        text: o.text.clone(),
        upheld: o.resolution.as_ref().map(|r| r.upheld),
        resolution: o.resolution.as_ref().map(|r| r.text.clone()),
        at: rfc3339(o.at_us),
    }
}

pub(crate) fn subsidy_dto(
    a: &SubsidyApplication,
    objections: &[Objection],
    docs: &[(String, String, String, i64)],
) -> SubsidyDto {
    let day = |d: Option<time::Date>| d.map(|d| d.to_string());
    SubsidyDto {
        id: a.id.clone(),
        programme_id: a.programme_id.clone(),
        programme_version: i64::from(a.programme_version),
        track: a.track.code().to_owned(),
        stage: a.stage.code().to_owned(),
        policy_id: a.policy_id.clone(),
        loan_id: a.loan_id.clone(),
        enterprise_id: a.enterprise_id.clone(),
        status: a.status.code().to_owned(),
        status_zh: a.status.label_zh().to_owned(),
        amount_yuan: a.amount.to_yuan_string(),
        applied_on: a.applied_on.to_string(),
        notice_from: day(a.notice_from),
        notice_to: day(a.notice_to),
        confirm_by: day(a.confirm_by),
        reason: a.reason.clone(),
        decision_ref: a.decision_ref.clone(),
        steps: a.grant.as_ref().map(|g| steps(&g.steps)).unwrap_or_default(),
        // Hidden from readers outside the applicant and the zone: an empty object.
        declarations: a
            .declarations
            .as_ref()
            .and_then(|d| serde_json::to_value(d).ok())
            .unwrap_or_else(|| serde_json::json!({})),
        objections: objections.iter().map(objection_dto).collect(),
        documents: docs.to_vec(),
        updated_at: rfc3339(a.updated_at_us),
    }
}

/// An application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubsidyApplyDto {
    pub policy_id: String,
    pub programme_id: String,
    /// `subsidy` (zone programmes; default) or `qualification` / `funding` (national).
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub declarations: DeclarationsDto,
}

/// Apply from a policy (the policyholder's admin); refused with every failed rule.
#[utoipa::path(post, path = "/api/v1/subsidies", request_body = SubsidyApplyDto,
    responses((status = 201, body = SubsidyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn apply(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<SubsidyApplyDto>,
) -> Result<(StatusCode, Json<SubsidyDto>), ApiError> {
    let a = s
        .svc
        .apply_subsidy(&actor, &b.policy_id, &b.programme_id, &b.stage, &(&b.declarations).into())
        .await?;
    Ok((StatusCode::CREATED, Json(subsidy_dto(&a, &[], &[]))))
}

/// Which loan-premium programme a loan is checked against, or applied under.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanSubsidyDto {
    pub programme_id: String,
}

/// Check a loan's guarantee premium against a loan-premium programme (the borrower and the
/// zone): repaid in full, long enough, without arrears. Nothing is written.
#[utoipa::path(post, path = "/api/v1/loans/{id}/subsidy-check", params(("id" = String, Path)), request_body = LoanSubsidyDto,
    responses((status = 200, body = CheckResultDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn loan_check(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LoanSubsidyDto>,
) -> ApiResult<CheckResultDto> {
    let (p, r) = s.svc.check_loan_subsidy(&actor, &id, &b.programme_id).await?;
    Ok(Json(check_dto(&p, &r)))
}

/// The borrower's admin applies for the premium subsidy of its repaid loan; refused with every
/// failed rule.
#[utoipa::path(post, path = "/api/v1/loans/{id}/subsidy-applications", params(("id" = String, Path)), request_body = LoanSubsidyDto,
    responses((status = 201, body = SubsidyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn loan_apply(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LoanSubsidyDto>,
) -> Result<(StatusCode, Json<SubsidyDto>), ApiError> {
    let a = s.svc.apply_loan_subsidy(&actor, &id, &b.programme_id).await?;
    Ok((StatusCode::CREATED, Json(subsidy_dto(&a, &[], &[]))))
}

/// Applications: the caller's enterprise's, or all for the zone.
#[utoipa::path(get, path = "/api/v1/subsidies", responses((status = 200, body = Vec<SubsidyDto>)), tag = "subsidies")]
pub async fn list(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<SubsidyDto>> {
    Ok(Json(s.svc.subsidy_applications(&actor).await?.iter().map(|a| subsidy_dto(a, &[], &[])).collect()))
}

/// One application with its objections and documents.
#[utoipa::path(get, path = "/api/v1/subsidies/{id}", security((), ("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = SubsidyDto), (status = 404, body = ErrorBody)), tag = "subsidies")]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<SubsidyDto> {
    let (a, o, d) = s.svc.subsidy_application(&actor, &id).await?;
    Ok(Json(subsidy_dto(&a, &o, &d)))
}

/// Work an application.
#[utoipa::path(post, path = "/api/v1/subsidies/{id}/steps", params(("id" = String, Path)), request_body = SubsidyStepDto,
    responses((status = 200, body = SubsidyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn step(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<SubsidyStepDto>,
) -> ApiResult<SubsidyDto> {
    step_run(&s, &actor, &id, &b).await?;
    let (a, o, d) = s.svc.subsidy_application(&actor, &id).await?;
    Ok(Json(subsidy_dto(&a, &o, &d)))
}

/// An objection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectDto {
    pub text: String,
}

/// Object during the public notice (anyone signed in).
#[utoipa::path(post, path = "/api/v1/subsidies/{id}/objections", params(("id" = String, Path)), request_body = ObjectDto,
    responses((status = 201, body = ObjectionDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn object(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ObjectDto>,
) -> Result<(StatusCode, Json<ObjectionDto>), ApiError> {
    let o = s.svc.object_to_subsidy(&actor, &id, &b.text).await?;
    Ok((StatusCode::CREATED, Json(objection_dto(&o))))
}

/// An objection's resolution.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveDto {
    pub upheld: bool,
    pub resolution: String,
}

/// Resolve an objection (a zone approver); an upheld one rejects the application.
#[utoipa::path(post, path = "/api/v1/subsidies/{id}/objections/{objection_id}", params(("id" = String, Path), ("objection_id" = String, Path)), request_body = ResolveDto,
    responses((status = 200, body = SubsidyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "subsidies")]
pub async fn resolve(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath((id, oid)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ResolveDto>,
) -> ApiResult<SubsidyDto> {
    s.svc.resolve_subsidy_objection(&actor, &id, &oid, b.upheld, &b.resolution).await?;
    let (a, o, d) = s.svc.subsidy_application(&actor, &id).await?;
    Ok(Json(subsidy_dto(&a, &o, &d)))
}

/// Which listed document an upload is.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DocumentParams {
    /// The programme's document code (`policy_and_invoice` …); required where the programme
    /// lists documents.
    pub kind: String,
}

/// Attach a document (multipart field `file`; the applicant).
#[utoipa::path(post, path = "/api/v1/subsidies/{id}/documents", params(("id" = String, Path), DocumentParams),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn upload(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DocumentParams>,
    ApiMultipart(multipart): ApiMultipart,
) -> Result<StatusCode, ApiError> {
    let (name, bytes, _) = super::products::read_upload(multipart).await?;
    s.svc
        .add_subsidy_document(&actor, &id, &q.kind, &name, &bytes)
        .await
        .map_err(super::products::too_large_is_413)?;
    Ok(StatusCode::CREATED)
}

/// How many offers were made.
#[derive(Debug, Serialize, ToSchema)]
pub struct OffersDto {
    pub offers: usize,
}

/// Put eligible policies on the auto-grant notice list (a zone approver).
#[utoipa::path(post, path = "/api/v1/subsidy/programmes/{id}/offers", params(("id" = String, Path)),
    responses((status = 200, body = OffersDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "subsidies")]
pub async fn offers(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<OffersDto> {
    Ok(Json(OffersDto { offers: s.svc.offer_auto_grants(&actor, &id).await? }))
}

/// A programme's money and applications.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardDto {
    pub programme_id: String,
    pub name_zh: String,
    pub budget_yuan: Option<String>,
    pub reserved_yuan: String,
    pub disbursed_yuan: String,
    #[schema(value_type = Object)]
    pub by_status: std::collections::BTreeMap<String, u64>,
    /// Yuan by zone industry.
    #[schema(value_type = Object)]
    pub by_industry: std::collections::BTreeMap<String, String>,
}

/// The programme dashboard (zone officers and the regulator).
#[utoipa::path(get, path = "/api/v1/subsidy/dashboard", responses((status = 200, body = Vec<DashboardDto>), (status = 403, body = ErrorBody)), tag = "subsidies")]
pub async fn dashboard(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<DashboardDto>> {
    let d = s.svc.subsidy_dashboard(&actor).await?;
    Ok(Json(
        d.into_iter()
            .map(|x| DashboardDto {
                programme_id: x.programme_id,
                name_zh: x.name_zh,
                budget_yuan: x.budget_fen.map(yuan),
                reserved_yuan: yuan(x.reserved_fen),
                disbursed_yuan: yuan(x.disbursed_fen),
                by_status: x.by_status,
                by_industry: x.by_industry.into_iter().map(|(k, v)| (k, yuan(v))).collect(),
            })
            .collect(),
    ))
}

/// What a run would cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIfResultDto {
    pub policies_assessed: usize,
    pub eligible: usize,
    pub cost_yuan: String,
    pub enterprises: usize,
    #[schema(value_type = Object)]
    pub by_industry: std::collections::BTreeMap<String, String>,
    #[schema(value_type = Object)]
    pub failures: std::collections::BTreeMap<String, usize>,
}

/// Re-run a programme with other parameters over the zone's policies in force. Nothing changes.
#[utoipa::path(post, path = "/api/v1/subsidy/programmes/{id}/what-if", params(("id" = String, Path)), request_body = WhatIfDto,
    responses((status = 200, body = WhatIfResultDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn what_if(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<WhatIfDto>,
) -> ApiResult<WhatIfResultDto> {
    let w = s.svc.subsidy_what_if(&actor, &id, &what_if_params(&b)?).await?;
    Ok(Json(WhatIfResultDto {
        policies_assessed: w.policies_assessed,
        eligible: w.eligible,
        cost_yuan: yuan(w.cost_fen),
        enterprises: w.enterprises,
        by_industry: w.by_industry.into_iter().map(|(k, v)| (k, yuan(v))).collect(),
        failures: w.failures,
    }))
}
