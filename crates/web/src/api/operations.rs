//! The API of the zone's daily operations added with the work lists: paying a premium (the
//! insurer's collection account, instructions, the policyholder's evidence), the audit log by
//! page, every user of the platform, and confirming a subsidy programme's numbers.

use super::{rfc3339, ApiJson, ApiMultipart, ApiPath, ApiQuery, SignedIn, UserDto};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::policy::CollectionAccount;
use kebao_service::audit::AuditQuery;
use kebao_service::worklists::ListQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// An insurer's collection account.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CollectionAccountDto {
    /// 开户行: the bank and branch.
    pub bank: String,
    /// 户名.
    pub account_name: String,
    /// 账号: digits, spaces and hyphens.
    pub account_no: String,
    /// Anything else a payer must know (may be empty).
    pub note: String,
}

impl From<CollectionAccount> for CollectionAccountDto {
    fn from(a: CollectionAccount) -> Self {
        CollectionAccountDto {
            bank: a.bank,
            account_name: a.account_name,
            account_no: a.account_no,
            note: a.note,
        }
    }
}

/// Set an insurer's collection account (its administrator).
#[utoipa::path(put, path = "/api/v1/orgs/{id}/collection-account", params(("id" = String, Path)), request_body = CollectionAccountDto,
    responses((status = 200, body = CollectionAccountDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn set_collection_account(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(a): ApiJson<CollectionAccountDto>,
) -> ApiResult<CollectionAccountDto> {
    let account = CollectionAccount {
        bank: a.bank,
        account_name: a.account_name,
        account_no: a.account_no,
        note: a.note,
    };
    s.svc.set_collection_account(&actor, &id, &account).await?;
    let stored = s.svc.collection_account(&actor, &id).await?.unwrap_or_default();
    Ok(Json(stored.into()))
}

/// A payment document the policyholder uploaded.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceDto {
    pub id: String,
    pub file_name: String,
    pub sha256: String,
    pub size: i64,
    pub uploaded_at: String,
}

/// How to pay what is due on a policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentInstructionsDto {
    /// The insurer's account (absent: the insurer has given none; ask it for a payment notice).
    pub account: Option<CollectionAccountDto>,
    /// The payment reference to quote: the policy number.
    pub reference: String,
    pub due_yuan: String,
    pub evidence: Vec<EvidenceDto>,
    /// Whether the caller may upload evidence now.
    pub can_submit: bool,
}

/// How to pay what is due on a policy (whoever may see the policy).
#[utoipa::path(get, path = "/api/v1/policies/{id}/payment", params(("id" = String, Path)),
    responses((status = 200, body = PaymentInstructionsDto), (status = 404, body = ErrorBody)), tag = "policies")]
pub async fn payment_instructions(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<PaymentInstructionsDto> {
    let p = s.svc.payment_instructions(&actor, &id).await?;
    Ok(Json(PaymentInstructionsDto {
        account: p.account.map(Into::into),
        reference: p.reference,
        due_yuan: p.due.to_yuan_string(),
        evidence: p
            .evidence
            .into_iter()
            .map(|a| EvidenceDto {
                id: a.id,
                file_name: a.file_name,
                sha256: a.sha256,
                size: a.size,
                uploaded_at: rfc3339(a.uploaded_at_us),
            })
            .collect(),
        can_submit: p.can_submit,
    }))
}

/// Upload payment evidence (multipart field `file`; the policyholder, while premium is due).
/// The insurer's underwriters get a to-do to confirm it; read it back at
/// `/api/v1/attachments/{id}`.
#[utoipa::path(post, path = "/api/v1/policies/{id}/payment-evidence", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn upload_payment_evidence(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiMultipart(multipart): ApiMultipart,
) -> Result<StatusCode, ApiError> {
    let (name, bytes, _) = super::products::read_upload(multipart).await?;
    let owner = kebao_service::payments::evidence_owner(&id);
    s.svc.attach(&actor, &owner, &name, &bytes).await.map_err(super::products::too_large_is_413)?;
    Ok(StatusCode::CREATED)
}

/// Which events: all optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// The kind of action (`policy`, `claim`, `subsidy`, `session` …).
    pub kind: Option<String>,
    /// Only what this user did (a user id).
    pub user: Option<String>,
    /// Only events about this object (an id).
    pub subject: Option<String>,
    /// Older than this sequence number (the previous page's `next_before`).
    pub before: Option<u64>,
}

/// One event, named.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventDto {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    /// The acting person and organisation, or the system process.
    pub actor_name: String,
    pub action: String,
    pub action_zh: Option<String>,
    pub action_en: Option<String>,
    pub subject: String,
    /// `org`, `user`, `product`, `policy`, `application`, `claim`, `dispute`, `subsidy`, `consent`, `job` (its name is the kind of job) or `other`.
    pub subject_kind: String,
    pub subject_name: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageDto {
    pub events: Vec<AuditEventDto>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<u64>,
}

/// The audit log by page, filtered, with actors and subjects named (auditors).
#[utoipa::path(get, path = "/api/v1/audit/events", params(AuditParams),
    responses((status = 200, body = AuditPageDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "audit")]
pub async fn audit_events(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<AuditPageDto> {
    let page = s
        .svc
        .audit_events(
            &actor,
            &AuditQuery { kind: q.kind, user: q.user, subject: q.subject, before: q.before },
        )
        .await?;
    Ok(Json(AuditPageDto {
        events: page
            .rows
            .into_iter()
            .map(|r| {
                let label = kebao_domain::event::action_label(&r.event.action);
                AuditEventDto {
                    seq: r.event.seq,
                    at: rfc3339(r.event.at_us),
                    actor_name: r.actor_name,
                    action_zh: label.map(|l| l.0.to_owned()),
                    action_en: label.map(|l| l.1.to_owned()),
                    actor: r.event.actor,
                    action: r.event.action,
                    subject: r.event.subject,
                    subject_kind: r.subject.kind.to_owned(),
                    subject_name: r.subject.name,
                }
            })
            .collect(),
        next_before: page.next_before,
    }))
}

/// A page of users.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Free text: name, username or organisation (at most 100 characters).
    pub q: String,
    /// active | inactive | must_change_password
    pub status: String,
    /// From 1.
    pub page: u32,
}

/// A user with their organisation's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserListItemDto {
    #[serde(flatten)]
    pub user: UserDto,
    pub org_name: String,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserListDto {
    pub users: Vec<UserListItemDto>,
    pub total: usize,
    pub page: u32,
    pub pages: u32,
}

/// Every user of the platform (its administrator).
#[utoipa::path(get, path = "/api/v1/users", params(UserListParams),
    responses((status = 200, body = UserListDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "registry")]
pub async fn all_users(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiQuery(q): ApiQuery<UserListParams>,
) -> ApiResult<UserListDto> {
    let listed = s.svc.user_list(&actor, &ListQuery { q: q.q, status: q.status, page: q.page }).await?;
    Ok(Json(UserListDto {
        users: listed
            .rows
            .iter()
            .map(|i| UserListItemDto { user: UserDto::from(&i.user), org_name: i.org_name.clone() })
            .collect(),
        total: listed.total,
        page: listed.page,
        pages: listed.pages,
    }))
}

/// The document a programme's numbers come from.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ConfirmDto {
    /// Reference or title, 4–200 characters.
    pub document: String,
}

/// Confirm a programme version's numbers with their document (zone approvers, platform
/// admins): pages then cite it instead of "demonstration parameters".
#[utoipa::path(post, path = "/api/v1/subsidy/programmes/{id}/versions/{version}/confirm",
    params(("id" = String, Path), ("version" = u32, Path)), request_body = ConfirmDto,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "subsidies")]
pub async fn confirm_programme(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath((id, version)): ApiPath<(String, u32)>,
    ApiJson(c): ApiJson<ConfirmDto>,
) -> Result<StatusCode, ApiError> {
    s.svc.confirm_subsidy_programme(&actor, &id, version, &c.document).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A retention rule (`data/retention.toml`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionRuleDto {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    /// `delete`, `anonymise` or `keep`.
    pub action: String,
    /// The period in years (absent: never removed).
    pub years: Option<i32>,
    pub counted_from: String,
    pub source: String,
    pub source_en: String,
    /// `C` confirmed, `R` recalled, `U` unconfirmed (the zone must confirm it).
    pub confidence: String,
}

/// One erasure, by the retention job or under a granted deletion request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureDto {
    pub at: String,
    /// The rule's id.
    pub rule: String,
    /// `external_record`, `consent`, `user`, `login_attempt` or `event` (words kept beside
    /// the event numbered `subject_id`).
    pub subject_kind: String,
    pub subject_id: String,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    /// The fields erased (`*`: the whole record; `count:N`: N records).
    pub fields: String,
    /// The retention job that erased it, or
    pub job_id: Option<String>,
    /// the deletion request it was erased under.
    pub request_id: Option<String>,
}

/// The retention rules and the newest erasures.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionDto {
    pub rules: Vec<RetentionRuleDto>,
    pub erasures: Vec<ErasureDto>,
}

/// The retention rules with their sources, and what they erased, newest first (auditors).
#[utoipa::path(get, path = "/api/v1/audit/erasures",
    responses((status = 200, body = RetentionDto), (status = 403, body = ErrorBody)), tag = "audit")]
pub async fn erasures(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<RetentionDto> {
    let list = s.svc.erasures(&actor, 200).await?;
    let rules = s
        .svc
        .retention_rules()
        .0
        .into_iter()
        .map(|r| RetentionRuleDto {
            id: r.id,
            label_zh: r.label_zh,
            label_en: r.label_en,
            action: r.action.code().to_owned(),
            years: r.years,
            counted_from: r.counted_from,
            source: r.source,
            source_en: r.source_en,
            confidence: r.confidence,
        })
        .collect();
    Ok(Json(RetentionDto {
        rules,
        erasures: list
            .into_iter()
            .map(|v| ErasureDto {
                at: rfc3339(v.erasure.at_us),
                rule: v.erasure.rule,
                subject_kind: v.erasure.subject_kind,
                subject_id: v.erasure.subject_id,
                org_id: v.erasure.org_id,
                org_name: v.org_name,
                fields: v.erasure.fields,
                job_id: v.erasure.job_id,
                request_id: v.erasure.request_id,
            })
            .collect(),
    }))
}
