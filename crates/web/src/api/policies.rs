//! The policy API: applications from quotes, underwriting, policies and premiums.

use super::products::{quote_input, QuoteRequestDto};
use super::registered::SubjectDto;
use super::rfc3339;
use super::{ApiJson, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::session::ApiActor;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::policy::{Application, ApplicationStep, Endorsement, Policy, PolicySchedule};
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::policies::PolicyView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<Json<T>, ApiError>;

use crate::forms::claims::money;

/// An application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDto {
    pub id: String,
    pub product_id: String,
    /// referred | accepted | declined | bound
    pub status: String,
    /// Why it was referred or declined, in Chinese.
    pub reasons: Vec<String>,
    /// The same in English (an underwriter's own words as typed).
    pub reasons_en: Vec<String>,
    pub premium_yuan: String,
    pub plan_version: i64,
    pub start_date: String,
    pub end_date: String,
    pub submitted_at: String,
}

pub(crate) fn application_dto(a: &Application) -> ApplicationDto {
    ApplicationDto {
        id: a.id.clone(),
        product_id: a.product_id.clone(),
        status: a.status.code().to_owned(),
        reasons: a.reasons.iter().map(|r| kebao_domain::policy::reason_text(r, false)).collect(),
        reasons_en: a.reasons.iter().map(|r| kebao_domain::policy::reason_text(r, true)).collect(),
        premium_yuan: a.premium.to_yuan_string(),
        plan_version: a.plan_version,
        start_date: a.start_date.to_string(),
        end_date: a.end_date.to_string(),
        submitted_at: rfc3339(a.created_at_us),
    }
}

/// An application: the quote's inputs and the start of cover.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyDto {
    /// What the insurer quotes on (as for `/products/{id}/quote`).
    pub quote: QuoteRequestDto,
    /// YYYY-MM-DD, today or later.
    pub start_date: String,
    /// The insured object and the parties besides the policyholder (optional).
    #[serde(default)]
    pub subject: SubjectDto,
}

/// Apply for a published product at its insurer's quote. The insurer's rules accept (and
/// bind), refer to an underwriter or decline at once.
#[utoipa::path(post, path = "/api/v1/products/{id}/apply", params(("id" = String, Path)), request_body = ApplyDto,
    responses((status = 201, body = ApplicationDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn apply(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ApplyDto>,
) -> Result<(StatusCode, Json<ApplicationDto>), ApiError> {
    let input = quote_input(&body.quote)?;
    let subject = body.subject.parse()?;
    let a = s.svc.apply_for_policy_with(&actor, &id, &input, &body.start_date, &subject).await?;
    Ok((StatusCode::CREATED, Json(application_dto(&a))))
}

/// The caller's enterprise's applications.
#[utoipa::path(get, path = "/api/v1/applications", responses((status = 200, body = Vec<ApplicationDto>)), tag = "policies")]
pub async fn my_applications(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> ApiResult<Vec<ApplicationDto>> {
    Ok(Json(s.svc.my_applications(&actor).await?.iter().map(application_dto).collect()))
}

/// Referred applications of the underwriter's insurer.
#[utoipa::path(get, path = "/api/v1/underwriting/queue", responses((status = 200, body = Vec<ApplicationDto>), (status = 403, body = ErrorBody)), tag = "policies")]
pub async fn queue(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<ApplicationDto>> {
    Ok(Json(s.svc.underwriting_queue(&actor).await?.iter().map(application_dto).collect()))
}

/// An underwriter's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionDto {
    pub accept: bool,
    #[serde(default)]
    pub reason: String,
}

/// Accept (and bind, within your authority) or decline a referred application.
#[utoipa::path(post, path = "/api/v1/applications/{id}/decision", params(("id" = String, Path)), request_body = DecisionDto,
    responses((status = 200, body = ApplicationDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn decide(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<DecisionDto>,
) -> ApiResult<ApplicationDto> {
    let step = if d.accept { ApplicationStep::Accept } else { ApplicationStep::Decline };
    Ok(Json(application_dto(&s.svc.decide_application(&actor, &id, step, &d.reason).await?)))
}

/// An underwriter's authority.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorityDto {
    pub max_limit_yuan: i64,
}

/// Set an underwriter's authority (the insurer's admin).
#[utoipa::path(put, path = "/api/v1/underwriters/{username}/authority", params(("username" = String, Path)), request_body = AuthorityDto,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn set_authority(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(username): ApiPath<String>,
    ApiJson(a): ApiJson<AuthorityDto>,
) -> Result<StatusCode, ApiError> {
    s.svc.set_underwriter_authority(&actor, &username, a.max_limit_yuan).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyDto {
    pub id: String,
    pub number: String,
    pub product_id: String,
    pub insurer_id: String,
    pub enterprise_id: String,
    pub start_date: String,
    pub end_date: String,
    pub premium_yuan: String,
    /// in_force | cancelled; for a policy bought outside the platform: unconfirmed |
    /// registered | unrecognised
    pub status: String,
    pub status_zh: String,
    pub status_en: String,
    /// The insured object and the parties besides the policyholder.
    pub subject: SubjectDto,
    /// The last day of cover of a cancelled policy.
    pub cancelled_on: Option<String>,
    /// Present on `GET /policies/{id}`.
    pub paid_yuan: Option<String>,
    /// The schedule: product content, rated inputs, plan version and quote trace.
    #[schema(value_type = Object)]
    pub schedule: Option<PolicySchedule>,
    pub bound_at: String,
}

pub(crate) fn policy_dto(p: &Policy, view: Option<&PolicyView>) -> PolicyDto {
    PolicyDto {
        id: p.id.clone(),
        number: p.number.clone(),
        product_id: p.product_id.clone(),
        insurer_id: p.insurer_id.clone(),
        enterprise_id: p.enterprise_id.clone(),
        start_date: p.start_date.to_string(),
        end_date: p.end_date.to_string(),
        premium_yuan: p.premium.to_yuan_string(),
        status: p.status.code().to_owned(),
        status_zh: p.status.label_zh().to_owned(),
        status_en: p.status.label_en().to_owned(),
        subject: SubjectDto::of(&p.subject),
        cancelled_on: p.cancelled_on.map(|d| d.to_string()),
        paid_yuan: view.map(|v| v.paid.to_yuan_string()),
        schedule: view.map(|v| v.policy.schedule.clone()),
        bound_at: rfc3339(p.bound_at_us),
    }
}

/// The caller's organisation's policies (as enterprise or insurer).
#[utoipa::path(get, path = "/api/v1/policies", responses((status = 200, body = Vec<PolicyDto>)), tag = "policies")]
pub async fn my_policies(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<PolicyDto>> {
    Ok(Json(s.svc.my_policies(&actor).await?.iter().map(|p| policy_dto(p, None)).collect()))
}

/// One policy with its schedule and the premium received.
#[utoipa::path(get, path = "/api/v1/policies/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PolicyDto), (status = 404, body = ErrorBody)), tag = "policies")]
pub async fn get_policy(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<PolicyDto> {
    let v = s.svc.policy(&actor, &id).await?;
    Ok(Json(policy_dto(&v.policy, Some(&v))))
}

/// Premium received.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentDto {
    pub amount_yuan: String,
    /// The bank's payment reference; the same reference twice is recorded once.
    pub reference: String,
}

/// Record premium received on a policy (the policy's insurer).
#[utoipa::path(post, path = "/api/v1/policies/{id}/premium-payments", params(("id" = String, Path)), request_body = PaymentDto,
    responses((status = 200, body = PolicyDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn pay(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<PaymentDto>,
) -> ApiResult<PolicyDto> {
    let amount = Money::parse_yuan(&p.amount_yuan, "amount_yuan")
        .map_err(|e| ApiError::invalid(crate::error::details_of(&kebao_domain::Invalid(vec![e]))))?;
    s.svc.record_premium_paid(&actor, &id, amount, &p.reference).await?;
    let v = s.svc.policy(&actor, &id).await?;
    Ok(Json(policy_dto(&v.policy, Some(&v))))
}

/// An endorsement or the cancellation of a policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndorsementDto {
    pub id: String,
    pub seq: i64,
    /// change | cancel
    pub kind: String,
    pub effective_date: String,
    pub old_premium_yuan: String,
    /// For a cancellation: the premium earned.
    pub new_premium_yuan: String,
    /// Premium due added (positive) or returned (negative).
    pub adjustment_yuan: String,
    pub explanation: String,
    pub reason: String,
    pub made_by: String,
    pub made_at: String,
    /// Of a return: the unpaid premium written off, and the refund owed to the policyholder.
    pub written_off_yuan: Option<String>,
    pub refund_yuan: Option<String>,
}

pub(crate) fn endorsement_dto(
    e: &Endorsement,
    outcome: Option<&kebao_service::cover::EndorsementOutcome>,
) -> EndorsementDto {
    let y = |f: i64| Money::from_fen(f).to_yuan_string();
    EndorsementDto {
        id: e.id.clone(),
        seq: e.seq,
        kind: e.kind.code().to_owned(),
        effective_date: e.effective_date.to_string(),
        old_premium_yuan: e.old_premium.to_yuan_string(),
        new_premium_yuan: e.new_premium.to_yuan_string(),
        adjustment_yuan: e.adjustment.to_yuan_string(),
        explanation: e.explanation.clone(),
        reason: e.reason.clone(),
        made_by: e.made_by.clone(),
        made_at: rfc3339(e.made_at_us),
        written_off_yuan: outcome.map(|o| y(o.written_off_fen)),
        refund_yuan: outcome.map(|o| y(o.refund_fen)),
    }
}

/// An endorsement: the new rated terms and when they take effect.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndorseDto {
    /// The terms now in force, as for a quote (`on` is ignored: the policy's own plan rates them).
    pub quote: QuoteRequestDto,
    /// YYYY-MM-DD within the policy term, not before the previous endorsement.
    pub effective_date: String,
    pub reason: String,
}

/// Endorse a policy (the insurer's underwriter within authority, or its admin): the policy's
/// plan rates the new terms; the change of premium is due pro rata to the days left.
#[utoipa::path(post, path = "/api/v1/policies/{id}/endorsements", params(("id" = String, Path)), request_body = EndorseDto,
    responses((status = 201, body = EndorsementDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn endorse(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<EndorseDto>,
) -> Result<(StatusCode, Json<EndorsementDto>), ApiError> {
    let input = quote_input(&b.quote)?;
    let o = s.svc.endorse_policy(&actor, &id, &input, &b.effective_date, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(endorsement_dto(&o.endorsement, Some(&o)))))
}

/// A cancellation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelDto {
    /// The last day of cover (YYYY-MM-DD; yesterday at the earliest).
    pub last_day: String,
    pub reason: String,
}

/// Cancel a policy: by the policyholder's admin (refund by the filing's method) or by the
/// insurer (pro rata). Refused while a claim on the policy is open.
#[utoipa::path(post, path = "/api/v1/policies/{id}/cancellation", params(("id" = String, Path)), request_body = CancelDto,
    responses((status = 201, body = EndorsementDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn cancel(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CancelDto>,
) -> Result<(StatusCode, Json<EndorsementDto>), ApiError> {
    let o = s.svc.cancel_policy(&actor, &id, &b.last_day, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(endorsement_dto(&o.endorsement, Some(&o)))))
}

/// Record a refund paid to the policyholder (the insurer; never more than owed).
#[utoipa::path(post, path = "/api/v1/policies/{id}/refund-payments", params(("id" = String, Path)), request_body = PaymentDto,
    responses((status = 200, body = PolicyChangesDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn refund(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<PaymentDto>,
) -> ApiResult<PolicyChangesDto> {
    s.svc.record_refund_paid(&actor, &id, money(&p.amount_yuan, "amount_yuan")?, &p.reference).await?;
    changes_dto(&s, &actor, &id).await.map(Json)
}

/// Apply to renew a policy for the next term (the insured enterprise): decided by the
/// insurer's rules like any application.
#[utoipa::path(post, path = "/api/v1/policies/{id}/renewal", params(("id" = String, Path)),
    responses((status = 201, body = ApplicationDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "policies")]
pub async fn renew(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<ApplicationDto>), ApiError> {
    let a = s.svc.renew_policy(&actor, &id).await?;
    Ok((StatusCode::CREATED, Json(application_dto(&a))))
}

/// A co-insurer's share.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareDto {
    pub insurer_id: String,
    #[serde(default)]
    pub insurer_name: String,
    /// Basis points (3000 = 30 %).
    pub share_bp: u32,
}

/// The followers' shares; the lead insurer keeps the rest.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoinsuranceDto {
    pub followers: Vec<ShareDto>,
}

/// Share a policy with co-insurers (the lead insurer; once, before any claim).
#[utoipa::path(put, path = "/api/v1/policies/{id}/coinsurance", params(("id" = String, Path)), request_body = CoinsuranceDto,
    responses((status = 200, body = PolicyChangesDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn coinsure(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CoinsuranceDto>,
) -> ApiResult<PolicyChangesDto> {
    let followers: Vec<(String, u32)> = b.followers.into_iter().map(|f| (f.insurer_id, f.share_bp)).collect();
    s.svc.set_coinsurance(&actor, &id, &followers).await?;
    changes_dto(&s, &actor, &id).await.map(Json)
}

/// A policy's endorsements, co-insurance and premium position.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyChangesDto {
    /// in_force | cancelled
    pub status: String,
    pub cancelled_on: Option<String>,
    pub endorsements: Vec<EndorsementDto>,
    /// Empty when not co-insured; the lead first.
    pub coinsurance: Vec<ShareDto>,
    pub premium_due_yuan: String,
    pub premium_paid_yuan: String,
    pub refund_due_yuan: String,
    pub refund_paid_yuan: String,
}

async fn changes_dto(s: &AppState, actor: &Actor, id: &str) -> Result<PolicyChangesDto, ApiError> {
    let v = s.svc.policy(actor, id).await?;
    let (ends, shares, pos) = s.svc.policy_changes(actor, id).await?;
    let y = |f: i64| Money::from_fen(f).to_yuan_string();
    Ok(PolicyChangesDto {
        status: v.policy.status.code().to_owned(),
        cancelled_on: v.policy.cancelled_on.map(|d| d.to_string()),
        endorsements: ends.iter().map(|e| endorsement_dto(e, None)).collect(),
        coinsurance: shares
            .into_iter()
            .map(|(insurer_id, insurer_name, share_bp)| ShareDto { insurer_id, insurer_name, share_bp })
            .collect(),
        premium_due_yuan: y(pos.due),
        premium_paid_yuan: y(pos.paid),
        refund_due_yuan: y(pos.refund_due),
        refund_paid_yuan: y(pos.refund_paid),
    })
}

/// A policy's endorsements, co-insurance shares and premium position.
#[utoipa::path(get, path = "/api/v1/policies/{id}/changes", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PolicyChangesDto), (status = 404, body = ErrorBody)), tag = "policies")]
pub async fn policy_changes(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<PolicyChangesDto> {
    changes_dto(&s, &actor, &id).await.map(Json)
}

/// One insurer's line of the zone's overview (amounts in yuan).
#[derive(Debug, Serialize, ToSchema)]
pub struct OverviewLineDto {
    pub insurer_id: String,
    pub insurer_name: String,
    pub policies_in_force: u64,
    pub policies_cancelled: u64,
    pub written_premium_yuan: String,
    pub received_premium_yuan: String,
    pub claims_open: u64,
    pub claims_closed: u64,
    pub claimed_closed_yuan: String,
    pub paid_yuan: String,
    pub mean_cycle_days: Option<f64>,
    /// Paid ÷ claimed over closed claims.
    pub payout_ratio: Option<f64>,
    pub disputes_open: u64,
    pub disputes_settled: u64,
    pub disputes_escalated: u64,
}

pub(crate) fn overview_line_dto(l: &kebao_service::overview::InsurerLine) -> OverviewLineDto {
    let y = |f: i64| Money::from_fen(f).to_yuan_string();
    OverviewLineDto {
        insurer_id: l.insurer_id.clone(),
        insurer_name: l.insurer_name.clone(),
        policies_in_force: l.policies_in_force,
        policies_cancelled: l.policies_cancelled,
        written_premium_yuan: y(l.written_fen),
        received_premium_yuan: y(l.received_fen),
        claims_open: l.claims_open,
        claims_closed: l.claims_closed,
        claimed_closed_yuan: y(l.claimed_fen),
        paid_yuan: y(l.paid_fen),
        mean_cycle_days: l.mean_cycle_days,
        payout_ratio: l.payout_ratio,
        disputes_open: l.disputes_open,
        disputes_settled: l.disputes_settled,
        disputes_escalated: l.disputes_escalated,
    }
}

/// The zone's insurance overview.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverviewDto {
    pub insurers: Vec<OverviewLineDto>,
    pub total: OverviewLineDto,
}

/// The zone's insurance overview per insurer (zone officers and the regulator).
#[utoipa::path(get, path = "/api/v1/zone/insurance-overview", responses((status = 200, body = OverviewDto), (status = 403, body = ErrorBody)), tag = "policies")]
pub async fn overview(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<OverviewDto> {
    let o = s.svc.insurance_overview(&actor).await?;
    Ok(Json(OverviewDto {
        insurers: o.lines.iter().map(overview_line_dto).collect(),
        total: overview_line_dto(&o.total),
    }))
}
