//! Insured loans (C7): the schemes in force, applications, decisions, disbursement and
//! repayments.

use super::{rfc3339, ApiJson, ApiMultipart, ApiPath, ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::loan::{Loan, LoanStatus, Scheme};
use kebao_service::loan_money::FundPaymentInput;
use kebao_service::loans::{LoanInput, PledgeInput};
use kebao_service::tabular::Format;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A scheme version in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchemeDto {
    pub id: String,
    pub version: i64,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub place_zh: String,
    pub place_en: String,
    /// Shipped as an example, not a rule of the zone.
    pub example: bool,
    pub valid_from: String,
    pub zone_approval: bool,
    /// Every rule with its value, source and confidence, as loaded.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

fn scheme_dto(s: &Scheme) -> SchemeDto {
    let mut rules = serde_json::to_value(s).unwrap_or_default();
    if let Some(o) = rules.as_object_mut() {
        for k in [
            "id",
            "version",
            "kind",
            "name_zh",
            "name_en",
            "place_zh",
            "place_en",
            "example",
            "valid_from",
            "zone_approval",
        ] {
            o.remove(k);
        }
    }
    SchemeDto {
        id: s.id.clone(),
        version: s.version,
        kind: s.kind.code().to_owned(),
        name_zh: s.name_zh.clone(),
        name_en: s.name_en.clone(),
        place_zh: s.place_zh.clone(),
        place_en: s.place_en.clone(),
        example: s.example,
        valid_from: s.valid_from.to_string(),
        zone_approval: s.zone_approval,
        rules,
    }
}

/// The loan schemes in force, each number with its source and confidence.
#[utoipa::path(get, path = "/api/v1/loan-schemes", responses((status = 200, body = Vec<SchemeDto>), (status = 401, body = ErrorBody)), tag = "loans")]
pub async fn schemes(State(s): State<AppState>, SignedIn(_actor): SignedIn) -> ApiResult<Vec<SchemeDto>> {
    Ok(Json(s.svc.loan_schemes_in_force().await?.iter().map(scheme_dto).collect()))
}

/// A loan.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoanDto {
    pub id: String,
    pub scheme_id: String,
    pub scheme_version: i64,
    pub enterprise_id: String,
    pub enterprise_name: Option<String>,
    pub bank_id: String,
    pub bank_name: Option<String>,
    pub insurer_id: String,
    pub insurer_name: Option<String>,
    pub guarantor_id: Option<String>,
    pub amount_fen: i64,
    pub term_months: i64,
    pub rate_bp: i64,
    pub premium_rate_bp: i64,
    pub premium_fen: i64,
    /// `bullet` or `equal_instalments`.
    pub method: String,
    pub funds_use: String,
    /// `in_review`, `zone_review`, `approved`, `declined`, `servicing` or `repaid`.
    pub status: String,
    pub status_zh: String,
    pub status_en: String,
    pub disbursed_on: Option<String>,
    pub applied_at: String,
    /// For a loan being repaid (lists only): days past due and principal outstanding.
    pub days_past_due: Option<i64>,
    pub principal_outstanding_fen: Option<i64>,
}

fn loan_dto(l: &Loan, names: Option<(String, String, String)>) -> LoanDto {
    let (e, b, i) = names.map_or((None, None, None), |(e, b, i)| (Some(e), Some(b), Some(i)));
    LoanDto {
        id: l.id.clone(),
        scheme_id: l.scheme_id.clone(),
        scheme_version: l.scheme_version,
        enterprise_id: l.enterprise_id.clone(),
        enterprise_name: e,
        bank_id: l.bank_id.clone(),
        bank_name: b,
        insurer_id: l.insurer_id.clone(),
        insurer_name: i,
        guarantor_id: l.guarantor_id.clone(),
        amount_fen: l.amount.fen(),
        term_months: l.term_months,
        rate_bp: l.rate_bp,
        premium_rate_bp: l.premium_rate_bp,
        premium_fen: l.premium().fen(),
        method: l.method.code().to_owned(),
        funds_use: l.funds_use.clone(),
        status: l.status.code().to_owned(),
        status_zh: l.status.label_zh().to_owned(),
        status_en: l.status.label_en().to_owned(),
        disbursed_on: l.disbursed_on.map(|d| d.to_string()),
        applied_at: rfc3339(l.applied_at_us),
        days_past_due: None,
        principal_outstanding_fen: None,
    }
}

/// A filter on the list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoanQuery {
    /// A status code.
    pub status: Option<String>,
}

/// The loans the caller may see (its own as borrower, bank or insurer; every loan for the
/// zone and the regulator), newest first.
#[utoipa::path(get, path = "/api/v1/loans", params(LoanQuery), responses((status = 200, body = Vec<LoanDto>), (status = 401, body = ErrorBody)), tag = "loans")]
pub async fn list(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiQuery(q): ApiQuery<LoanQuery>,
) -> ApiResult<Vec<LoanDto>> {
    let status = q.status.as_deref().and_then(LoanStatus::from_code);
    let list = s.svc.loans(&actor, status).await?;
    Ok(Json(
        list.iter()
            .map(|r| {
                let l = &r.listed;
                let mut d = loan_dto(
                    &l.loan,
                    Some((l.enterprise_name.clone(), l.bank_name.clone(), l.insurer_name.clone())),
                );
                if let Some(o) = r.outstanding {
                    d.days_past_due = Some(r.days_past_due);
                    d.principal_outstanding_fen = Some(o.fen());
                }
                d
            })
            .collect(),
    ))
}

/// An application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanApplyDto {
    pub scheme_id: String,
    pub bank_id: String,
    pub insurer_id: String,
    /// A guarantee organisation, where the scheme gives a guarantor a share of the loss.
    #[serde(default)]
    pub guarantor_id: Option<String>,
    /// Yuan, e.g. `"1000000"`.
    pub amount_yuan: String,
    pub term_months: i64,
    /// Annual loan rate in percent, at most two decimals (`"3.80"`).
    pub rate_pct: String,
    /// Annual premium rate in percent (`"2.50"`).
    pub premium_rate_pct: String,
    /// `bullet` or `equal_instalments`.
    pub method: String,
    /// `working_capital`, `rnd` or `equipment`, as the scheme allows.
    pub funds_use: String,
    /// Patents and trademarks pledged (an IP-pledge scheme needs at least one).
    #[serde(default)]
    pub pledges: Vec<PledgeInDto>,
}

/// A pledged right, as applied for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgeInDto {
    /// `patent` or `trademark`.
    pub kind: String,
    /// The patent or trademark registration number.
    pub number: String,
    /// Who holds the right.
    pub owner: String,
    pub valuation_yuan: String,
    /// `YYYY-MM-DD`: the valuation's day.
    pub valued_on: String,
    /// The pledge's registration number.
    pub registration_no: String,
}

/// A pledged right.
#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeOutDto {
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub number: String,
    pub owner: String,
    pub valuation_fen: i64,
    pub valued_on: String,
    pub registration_no: String,
    /// Set when the loan was repaid.
    pub released_on: Option<String>,
}

/// The loan guarantee policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuaranteePolicyDto {
    pub number: String,
    /// The borrower (policyholder); the bank is the insured and the beneficiary.
    pub policyholder_id: String,
    pub insured_id: String,
    pub premium_fen: i64,
    pub premium_paid_on: String,
    pub premium_reference: String,
    /// From the disbursement to the loan's maturity (unset before disbursement).
    pub start: Option<String>,
    pub end: Option<String>,
}

fn policy_dto(l: &Loan, p: &kebao_domain::loan::GuaranteePolicy) -> GuaranteePolicyDto {
    GuaranteePolicyDto {
        number: p.number.clone(),
        policyholder_id: l.enterprise_id.clone(),
        insured_id: l.bank_id.clone(),
        premium_fen: p.premium.fen(),
        premium_paid_on: p.premium_paid_on.to_string(),
        premium_reference: p.premium_reference.clone(),
        start: p.start.map(|d| d.to_string()),
        end: p.end.map(|d| d.to_string()),
    }
}

/// Apply for a loan for the caller's enterprise; the scheme's rules, its guards and the
/// consents to the bank and the insurer are checked.
#[utoipa::path(post, path = "/api/v1/loans", request_body = LoanApplyDto,
    responses((status = 201, body = LoanDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn apply(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<LoanApplyDto>,
) -> Result<(StatusCode, Json<LoanDto>), ApiError> {
    let input = LoanInput {
        scheme_id: b.scheme_id,
        bank_id: b.bank_id,
        insurer_id: b.insurer_id,
        guarantor_id: b.guarantor_id.unwrap_or_default(),
        amount_yuan: b.amount_yuan,
        term_months: b.term_months.to_string(),
        rate_pct: b.rate_pct,
        premium_rate_pct: b.premium_rate_pct,
        method: b.method,
        funds_use: b.funds_use,
        pledges: b
            .pledges
            .into_iter()
            .map(|p| PledgeInput {
                kind: p.kind,
                number: p.number,
                owner: p.owner,
                valuation_yuan: p.valuation_yuan,
                valued_on: p.valued_on,
                registration_no: p.registration_no,
            })
            .collect(),
    };
    let org = actor.org_id().unwrap_or_default().to_owned();
    let l = s.svc.apply_loan(&actor, &org, &input).await?;
    Ok((StatusCode::CREATED, Json(loan_dto(&l, None))))
}

/// One instalment with what was paid against it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstalmentDto {
    pub due_on: String,
    pub interest_fen: i64,
    pub principal_fen: i64,
    pub interest_paid_fen: i64,
    pub principal_paid_fen: i64,
}

/// A repayment.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepaymentDto {
    pub id: String,
    pub reference: String,
    pub paid_on: String,
    pub amount_fen: i64,
    pub interest_fen: i64,
    pub principal_fen: i64,
}

/// A loan with its schedule and repayments.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoanDetailDto {
    pub loan: LoanDto,
    pub schedule: Vec<InstalmentDto>,
    pub repayments: Vec<RepaymentDto>,
    pub principal_outstanding_fen: Option<i64>,
    /// The most a repayment today may be: interest due by today and all principal left
    /// (none before the disbursement).
    pub payable_today_fen: Option<i64>,
    pub days_past_due: i64,
    /// `bank`, `insurer` or `zone`: the decision the caller may make now.
    pub may_decide_as: Option<String>,
    /// The guarantee policy, once the insurer issued it.
    pub policy: Option<GuaranteePolicyDto>,
    pub pledges: Vec<PledgeOutDto>,
    pub claim: Option<LoanClaimOutDto>,
    pub recoveries: Vec<LoanRecoveryOutDto>,
}

/// One loan (its parties, the zone and the regulator).
#[utoipa::path(get, path = "/api/v1/loans/{id}", params(("id" = String, Path)),
    responses((status = 200, body = LoanDetailDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "loans")]
pub async fn get(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<LoanDetailDto> {
    let v = s.svc.loan(&actor, &id).await?;
    let schedule = v
        .servicing
        .as_ref()
        .map(|sv| {
            sv.schedule
                .iter()
                .zip(&sv.paid)
                .map(|(i, a)| InstalmentDto {
                    due_on: i.due_on.to_string(),
                    interest_fen: i.interest.fen(),
                    principal_fen: i.principal.fen(),
                    interest_paid_fen: a.interest.fen(),
                    principal_paid_fen: a.principal.fen(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(LoanDetailDto {
        loan: loan_dto(
            &v.loan,
            Some((v.enterprise_name.clone(), v.bank_name.clone(), v.insurer_name.clone())),
        ),
        schedule,
        repayments: v
            .repayments
            .iter()
            .map(|p| RepaymentDto {
                id: p.id.clone(),
                reference: p.reference.clone(),
                paid_on: p.paid_on.to_string(),
                amount_fen: p.amount.fen(),
                interest_fen: p.interest.fen(),
                principal_fen: p.principal.fen(),
            })
            .collect(),
        principal_outstanding_fen: v.servicing.as_ref().map(|sv| sv.principal_outstanding().fen()),
        payable_today_fen: v.servicing.as_ref().map(|sv| sv.payable_on(s.svc.today()).fen()),
        days_past_due: v.days_past_due,
        may_decide_as: v.may_decide.map(|w| w.code().to_owned()),
        policy: v.policy.as_ref().map(|p| policy_dto(&v.loan, p)),
        pledges: v
            .pledges
            .iter()
            .map(|p| PledgeOutDto {
                kind: p.kind.code().to_owned(),
                kind_zh: p.kind.label_zh().to_owned(),
                kind_en: p.kind.label_en().to_owned(),
                number: p.number.clone(),
                owner: p.owner.clone(),
                valuation_fen: p.valuation.fen(),
                valued_on: p.valued_on.to_string(),
                registration_no: p.registration_no.clone(),
                released_on: p.released_on.map(|d| d.to_string()),
            })
            .collect(),
        claim: v.claim.clone().map(claim_dto),
        recoveries: v.recoveries.iter().cloned().map(recovery_dto).collect(),
    }))
}

/// A decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanDecisionDto {
    pub approve: bool,
    /// Required for a decline (at most 500 characters).
    #[serde(default)]
    pub reason: String,
}

/// Decide on a loan as its bank, its insurer or the zone (whichever the caller is).
#[utoipa::path(post, path = "/api/v1/loans/{id}/decision", params(("id" = String, Path)), request_body = LoanDecisionDto,
    responses((status = 200, body = LoanDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn decide(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LoanDecisionDto>,
) -> ApiResult<LoanDto> {
    Ok(Json(loan_dto(&s.svc.decide_loan(&actor, &id, b.approve, &b.reason).await?, None)))
}

/// A disbursement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisburseDto {
    /// `YYYY-MM-DD`, not in the future.
    pub disbursed_on: String,
}

/// The bank records the disbursement of an approved loan; the schedule is fixed from that day.
#[utoipa::path(post, path = "/api/v1/loans/{id}/disburse", params(("id" = String, Path)), request_body = DisburseDto,
    responses((status = 200, body = LoanDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn disburse(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DisburseDto>,
) -> ApiResult<LoanDto> {
    Ok(Json(loan_dto(&s.svc.disburse_loan(&actor, &id, &b.disbursed_on).await?, None)))
}

/// A repayment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepayDto {
    /// The bank's reference: the same reference with the same fields is recorded once.
    pub reference: String,
    pub amount_yuan: String,
    /// `YYYY-MM-DD`, not in the future.
    pub paid_on: String,
}

/// The bank records a repayment: interest due first, then principal. 201 when recorded, 200
/// when the same reference was recorded before with the same fields.
#[utoipa::path(post, path = "/api/v1/loans/{id}/repayments", params(("id" = String, Path)), request_body = RepayDto,
    responses((status = 201, body = RepaymentDto), (status = 200, body = RepaymentDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn repay(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RepayDto>,
) -> Result<(StatusCode, Json<RepaymentDto>), ApiError> {
    let (p, new) = s.svc.record_repayment(&actor, &id, &b.reference, &b.amount_yuan, &b.paid_on).await?;
    Ok((
        if new { StatusCode::CREATED } else { StatusCode::OK },
        Json(RepaymentDto {
            id: p.id,
            reference: p.reference,
            paid_on: p.paid_on.to_string(),
            amount_fen: p.amount.fen(),
            interest_fen: p.interest.fen(),
            principal_fen: p.principal.fen(),
        }),
    ))
}

/// A claim on a defaulted loan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanClaimDto {
    /// The bank's collection failed (the scheme may require it).
    pub collection_failed: bool,
}

/// A claim as filed.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoanClaimOutDto {
    pub filed_on: String,
    /// `interest_unpaid` or `principal_after_maturity`.
    pub trigger: String,
    pub trigger_days: i64,
    pub loss_base_fen: i64,
    pub insurer_fen: i64,
    pub bank_fen: i64,
    pub guarantor_fen: i64,
    pub payout_due_on: String,
    pub paid_on: Option<String>,
    pub paid_reference: Option<String>,
    /// The guarantor's payment of its share.
    pub guarantor_paid_on: Option<String>,
    pub guarantor_paid_reference: Option<String>,
}

fn claim_dto(c: kebao_domain::loan::LoanClaim) -> LoanClaimOutDto {
    LoanClaimOutDto {
        filed_on: c.filed_on.to_string(),
        trigger: c.trigger,
        trigger_days: c.trigger_days,
        loss_base_fen: c.loss_base.fen(),
        insurer_fen: c.insurer_share.fen(),
        bank_fen: c.bank_share.fen(),
        guarantor_fen: c.guarantor_share.fen(),
        payout_due_on: c.payout_due_on.to_string(),
        paid_on: c.paid_on.map(|d| d.to_string()),
        paid_reference: c.paid_reference,
        guarantor_paid_on: c.guarantor_paid_on.map(|d| d.to_string()),
        guarantor_paid_reference: c.guarantor_paid_reference,
    }
}

/// The bank claims on a defaulted loan once the scheme's trigger is met; the loss is split by
/// the scheme's shares.
#[utoipa::path(post, path = "/api/v1/loans/{id}/claim", params(("id" = String, Path)), request_body = LoanClaimDto,
    responses((status = 201, body = LoanClaimOutDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn claim(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LoanClaimDto>,
) -> Result<(StatusCode, Json<LoanClaimOutDto>), ApiError> {
    Ok((StatusCode::CREATED, Json(claim_dto(s.svc.file_loan_claim(&actor, &id, b.collection_failed).await?))))
}

/// A payment of a claim.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanClaimPayDto {
    pub reference: String,
    /// `YYYY-MM-DD`, not in the future.
    pub paid_on: String,
}

/// The insurer records its payment of the bank's claim.
#[utoipa::path(post, path = "/api/v1/loans/{id}/claim/pay", params(("id" = String, Path)), request_body = LoanClaimPayDto,
    responses((status = 200, body = LoanClaimOutDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn pay(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LoanClaimPayDto>,
) -> ApiResult<LoanClaimOutDto> {
    Ok(Json(claim_dto(s.svc.pay_loan_claim(&actor, &id, &b.reference, &b.paid_on).await?)))
}

/// The guarantor records its payment of its share of the loss to the bank.
#[utoipa::path(post, path = "/api/v1/loans/{id}/guarantee/pay", params(("id" = String, Path)), request_body = LoanClaimPayDto,
    responses((status = 200, body = LoanClaimOutDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn pay_guarantee(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LoanClaimPayDto>,
) -> ApiResult<LoanClaimOutDto> {
    Ok(Json(claim_dto(s.svc.pay_loan_guarantee(&actor, &id, &b.reference, &b.paid_on).await?)))
}

/// A recovery after the claim.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanRecoveryDto {
    /// The bank's reference: the same reference with the same fields is recorded once.
    pub reference: String,
    pub amount_yuan: String,
    /// `YYYY-MM-DD`, not in the future.
    pub recovered_on: String,
}

/// A recovery and its split.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoanRecoveryOutDto {
    pub id: String,
    pub reference: String,
    pub recovered_on: String,
    pub amount_fen: i64,
    pub insurer_fen: i64,
    pub bank_fen: i64,
    pub guarantor_fen: i64,
}

/// The bank records what it recovered after the claim was paid; it is split pro rata to the
/// scheme's loss shares. 201 when recorded, 200 when the same reference was recorded before.
#[utoipa::path(post, path = "/api/v1/loans/{id}/recoveries", params(("id" = String, Path)), request_body = LoanRecoveryDto,
    responses((status = 201, body = LoanRecoveryOutDto), (status = 200, body = LoanRecoveryOutDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn recover(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LoanRecoveryDto>,
) -> Result<(StatusCode, Json<LoanRecoveryOutDto>), ApiError> {
    let (x, new) = s.svc.record_recovery(&actor, &id, &b.reference, &b.amount_yuan, &b.recovered_on).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(recovery_dto(x))))
}

fn recovery_dto(x: kebao_service::loans::Recovery) -> LoanRecoveryOutDto {
    LoanRecoveryOutDto {
        id: x.id,
        reference: x.reference,
        recovered_on: x.recovered_on.to_string(),
        amount_fen: x.amount.fen(),
        insurer_fen: x.insurer.fen(),
        bank_fen: x.bank.fen(),
        guarantor_fen: x.guarantor.fen(),
    }
}

/// The bank closes a defaulted loan after its claim is paid (no more recoveries).
#[utoipa::path(post, path = "/api/v1/loans/{id}/close", params(("id" = String, Path)),
    responses((status = 200, body = LoanDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "loans")]
pub async fn close(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<LoanDto> {
    Ok(Json(loan_dto(&s.svc.close_loan(&actor, &id).await?, None)))
}

/// The insurer's issue of the guarantee policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuePolicyDto {
    /// The insurer's own policy number (unique).
    pub number: String,
    /// The reference of the borrower's premium payment.
    pub premium_reference: String,
    /// `YYYY-MM-DD`, not in the future.
    pub premium_paid_on: String,
}

/// The insurer issues the loan guarantee policy on an approved loan (the premium is the
/// scheme's: the rate on the principal for the term); the bank may then disburse.
#[utoipa::path(post, path = "/api/v1/loans/{id}/policy", params(("id" = String, Path)), request_body = IssuePolicyDto,
    responses((status = 201, body = GuaranteePolicyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn issue_policy(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<IssuePolicyDto>,
) -> Result<(StatusCode, Json<GuaranteePolicyDto>), ApiError> {
    let p = s.svc.issue_loan_policy(&actor, &id, &b.number, &b.premium_reference, &b.premium_paid_on).await?;
    let l = s.svc.loan(&actor, &id).await?.loan;
    Ok((StatusCode::CREATED, Json(policy_dto(&l, &p))))
}

/// How a batch of repayments went.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepaymentBatchDto {
    pub recorded: usize,
    /// Rows whose reference was recorded before with the same fields.
    pub already_recorded: usize,
    pub loans: Vec<String>,
}

/// The bank records a batch of repayments from an `.xlsx` or CSV file (multipart field
/// `file`; columns 贷款编号/loan_id, 银行流水号/reference, 还款金额（元）/amount_yuan,
/// 还款日/paid_on). All or nothing: one bad row (each is named) records none.
#[utoipa::path(post, path = "/api/v1/loans/repayments/import", request_body(content_type = "multipart/form-data"),
    responses((status = 200, body = RepaymentBatchDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn import_repayments(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiMultipart(m): ApiMultipart,
) -> ApiResult<RepaymentBatchDto> {
    let (_, file) = crate::forms::consent::read_form(m, "file").await?;
    let Some((name, bytes)) = file else {
        return Err(ApiError::invalid(vec![crate::error::ErrorDetail {
            field: "file".into(),
            code: "required".into(),
            message_zh: "请上传还款文件（.xlsx 或 .csv）".into(),
            message_en: "attach the repayments as the file field `file` (.xlsx or .csv)".into(),
        }]));
    };
    let format = Format::from_name(&name).unwrap_or_else(|| Format::sniff(&bytes));
    let b = s.svc.import_repayments(&actor, &bytes, format).await?;
    Ok(Json(RepaymentBatchDto { recorded: b.recorded, already_recorded: b.already, loans: b.loans }))
}

/// A scheme's risk-compensation fund.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoanFundDto {
    pub scheme_id: String,
    pub size_fen: i64,
    pub paid_fen: i64,
    pub balance_fen: i64,
    pub payments: Vec<FundPaymentDto>,
    /// What the fund owes now (a provisional line is the current year's, payable after it ends).
    pub due: Vec<FundDueDto>,
    /// Each insurer's figures by scheme year.
    pub years: Vec<FundYearDto>,
}

/// A fund payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundPaymentDto {
    pub id: String,
    pub year: i32,
    pub loan_id: Option<String>,
    pub payee_id: String,
    pub amount_fen: i64,
    pub paid_on: String,
    pub reference: String,
}

/// What the fund owes.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundDueDto {
    pub year: i32,
    pub loan_id: Option<String>,
    pub borrower_name: Option<String>,
    pub payee_id: String,
    pub payee_name: String,
    pub amount_fen: i64,
    pub provisional: bool,
}

/// An insurer's scheme year.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundYearDto {
    pub insurer_id: String,
    pub insurer_name: String,
    pub year: i32,
    pub earned_premium_fen: i64,
    pub insurer_losses_fen: i64,
    pub fund_paid_fen: i64,
    pub loss_ratio_bp: Option<i64>,
}

/// Each scheme's risk-compensation fund (the zone and the regulator).
#[utoipa::path(get, path = "/api/v1/loan-funds", responses((status = 200, body = Vec<LoanFundDto>), (status = 403, body = ErrorBody)), tag = "loans")]
pub async fn funds(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<LoanFundDto>> {
    let all = s.svc.loan_funds(&actor).await?;
    Ok(Json(
        all.into_iter()
            .map(|f| LoanFundDto {
                scheme_id: f.scheme.id.clone(),
                size_fen: f.size.fen(),
                paid_fen: f.paid.fen(),
                balance_fen: f.balance.fen(),
                payments: f.payments.into_iter().map(fund_payment_dto).collect(),
                due: f
                    .due
                    .into_iter()
                    .map(|d| FundDueDto {
                        year: d.year,
                        loan_id: d.loan_id,
                        borrower_name: d.borrower_name,
                        payee_id: d.payee_id,
                        payee_name: d.payee_name,
                        amount_fen: d.amount.fen(),
                        provisional: d.provisional,
                    })
                    .collect(),
                years: f
                    .years
                    .into_iter()
                    .map(|y| FundYearDto {
                        insurer_id: y.insurer_id,
                        insurer_name: y.insurer_name,
                        year: y.year,
                        earned_premium_fen: y.figures.earned_premium.fen(),
                        insurer_losses_fen: y.figures.insurer_losses.fen(),
                        fund_paid_fen: y.figures.fund_paid.fen(),
                        loss_ratio_bp: y.loss_ratio_bp,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

fn fund_payment_dto(p: kebao_service::loan_money::FundPayment) -> FundPaymentDto {
    FundPaymentDto {
        id: p.id,
        year: p.scheme_year,
        loan_id: p.loan_id,
        payee_id: p.payee_id,
        amount_fen: p.amount.fen(),
        paid_on: p.paid_on.to_string(),
        reference: p.reference,
    }
}

/// A fund payment as recorded by the zone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundPayDto {
    pub year: i32,
    /// For a pool: the defaulted loan.
    #[serde(default)]
    pub loan_id: Option<String>,
    /// For an excess loss: the insurer paid.
    #[serde(default)]
    pub payee_id: Option<String>,
    pub reference: String,
    /// `YYYY-MM-DD`, not in the future.
    pub paid_on: String,
}

/// The zone records a payment of a scheme's fund; the amount is computed by the scheme's
/// rules, never beyond the fund's balance. 201 when recorded, 200 when the same reference
/// was recorded before for the same payment.
#[utoipa::path(post, path = "/api/v1/loan-funds/{scheme_id}/payments", params(("scheme_id" = String, Path)), request_body = FundPayDto,
    responses((status = 201, body = FundPaymentDto), (status = 200, body = FundPaymentDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn pay_fund(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(scheme_id): ApiPath<String>,
    ApiJson(b): ApiJson<FundPayDto>,
) -> Result<(StatusCode, Json<FundPaymentDto>), ApiError> {
    let input = FundPaymentInput {
        scheme_id,
        year: b.year.to_string(),
        loan_id: b.loan_id.unwrap_or_default(),
        payee_id: b.payee_id.unwrap_or_default(),
        reference: b.reference,
        paid_on: b.paid_on,
    };
    let (p, new) = s.svc.pay_loan_fund(&actor, &input).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(fund_payment_dto(p))))
}

/// A what-if simulation of a scheme (docs/scheme-simulation.md).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationDto {
    pub scheme_id: String,
    /// CSV: `principal,pd,lgd` per loan, or `count,principal,pd,lgd` per segment.
    pub pool: String,
    /// Asset correlation in percent (default 15).
    #[serde(default)]
    pub rho_pct: Option<f64>,
    /// LGDs Beta distributed with this concentration a + b (default: fixed).
    #[serde(default)]
    pub lgd_concentration: Option<f64>,
    #[serde(default)]
    pub recovery_rate_pct: Option<f64>,
    #[serde(default)]
    pub recovery_lag_months: Option<u32>,
    /// Default 20,000; scenarios × loans at most 5·10⁸.
    #[serde(default)]
    pub scenarios: Option<u64>,
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A simulation run: its job and, once it succeeded, its results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimulationRunDto {
    pub job_id: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    pub done: i64,
    pub total: i64,
    pub failure: Option<String>,
    /// The results (docs/scheme-simulation.md), once it succeeded.
    #[schema(value_type = Object)]
    pub results: Option<serde_json::Value>,
}

fn run_dto(sim: kebao_service::scheme_sim::Simulation) -> SimulationRunDto {
    SimulationRunDto {
        job_id: sim.job.id.clone(),
        state: sim.job.state.code().to_owned(),
        done: sim.job.done,
        total: sim.job.total,
        failure: sim.job.failure.as_ref().map(|f| f.message_en.clone()),
        results: sim.results.as_ref().and_then(|r| serde_json::to_value(r).ok()),
    }
}

/// Queue a scheme simulation (the zone's approvers and reviewers): every field and the size cap
/// are checked first; 202 with the job.
#[utoipa::path(post, path = "/api/v1/scheme-simulations", request_body = SimulationDto,
    responses((status = 202, body = SimulationRunDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "loans")]
pub async fn simulate(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<SimulationDto>,
) -> Result<(StatusCode, Json<SimulationRunDto>), ApiError> {
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let input = kebao_service::scheme_sim::SimulationInput {
        scheme_id: b.scheme_id,
        pool: b.pool,
        rho_pct: num(b.rho_pct),
        lgd_concentration: num(b.lgd_concentration),
        recovery_rate_pct: num(b.recovery_rate_pct),
        recovery_lag_months: b.recovery_lag_months.map(|v| v.to_string()).unwrap_or_default(),
        scenarios: b.scenarios.map(|v| v.to_string()).unwrap_or_default(),
        seed: b.seed.map(|v| v.to_string()).unwrap_or_default(),
    };
    let job = s.svc.start_scheme_simulation(&actor, &input).await?;
    let sim = s.svc.scheme_simulation(&actor, &job.id).await?;
    Ok((StatusCode::ACCEPTED, Json(run_dto(sim))))
}

/// A scheme simulation: its state and progress, and its results once it succeeded.
#[utoipa::path(get, path = "/api/v1/scheme-simulations/{id}", params(("id" = String, Path)),
    responses((status = 200, body = SimulationRunDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "loans")]
pub async fn simulation(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<SimulationRunDto> {
    Ok(Json(run_dto(s.svc.scheme_simulation(&actor, &id).await?)))
}
