//! API handlers: extract, call one service function, map the result.

use super::dto::*;
use super::{ApiJson, ApiPath, ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::session::{ApiActor, ClientAddr};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::org::{Qualification, YearlyFacts};
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::users::{parse_roles, NewUserInput};

type ApiResult<T> = Result<Json<T>, ApiError>;

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "sign in or send a bearer token",
        "请先登录或提供 API 令牌",
    )
}

fn detail(v: &kebao_service::registry::OrgView) -> OrgDetailDto {
    OrgDetailDto {
        org: OrgDto::from(&v.org),
        parent: v.parent.as_ref().map(OrgDto::from),
        branches: v.branches.iter().map(OrgDto::from).collect(),
        qualifications: v.qualifications.iter().map(QualificationDto::from).collect(),
        facts: v.facts.as_ref().map(|f| f.iter().map(FactsDto::from).collect()),
        facts_basis: v.facts_basis.to_owned(),
        permissions: PermissionsDto {
            edit: v.can_edit,
            write_facts: v.can_write_facts,
            verify: v.can_verify,
            manage_staff: v.can_manage_staff,
        },
    }
}

/// Issue an API token for a user.
#[utoipa::path(post, path = "/api/v1/auth/token", security((), ("bearer" = [])), request_body = TokenRequestDto,
    responses((status = 201, body = TokenDto), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)), tag = "auth")]
pub async fn issue_token(
    State(s): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(req): ApiJson<TokenRequestDto>,
) -> Result<(StatusCode, Json<TokenDto>), ApiError> {
    s.throttle.check(&address, &req.username).map_err(crate::session::throttled_error)?;
    let attempt = kebao_service::auth::Attempt { address: address.clone() };
    match s.svc.issue_token_from(&req.username, &req.password, &req.name, &attempt).await {
        Ok((secret, row)) => {
            s.throttle.succeeded(&address, &req.username);
            Ok((StatusCode::CREATED, Json(TokenDto::new(secret, &row))))
        }
        Err(e) => {
            if matches!(e, kebao_service::ServiceError::Unauthenticated(_)) {
                s.throttle.failed(&address, &req.username);
            }
            Err(e.into())
        }
    }
}

/// Change one's own password (the current one is required). Every other credential of
/// the user ends: other sessions, and API tokens and keys but the one in use.
#[utoipa::path(put, path = "/api/v1/me/password", request_body = PasswordChangeDto,
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "auth")]
pub async fn change_password(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<PasswordChangeDto>,
) -> ApiResult<MeDto> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let cookie = axum_extra::extract::cookie::CookieJar::from_headers(&headers)
        .get(crate::session::SESSION_COOKIE)
        .map(|c| c.value().to_owned());
    let in_use = match (&bearer, &cookie) {
        (Some(t), _) => kebao_service::auth::InUse::Token(t),
        (None, Some(c)) => kebao_service::auth::InUse::Session(c),
        (None, None) => kebao_service::auth::InUse::None,
    };
    s.svc.change_own_password(&actor, in_use, &req.current_password, &req.new_password).await?;
    let me = match &actor {
        Actor::User { user, .. } => s.svc.actor_for(s.svc.find_user(&user.username).await?).await?,
        _ => return Err(unauthenticated()),
    };
    match me {
        Actor::User { user, org_kind } => {
            Ok(Json(MeDto { user: UserDto::from(&user), org_kind: org_kind.code().to_owned() }))
        }
        _ => Err(unauthenticated()),
    }
}

/// The signed-in caller.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)), tag = "auth")]
pub async fn me(ApiActor(actor): ApiActor) -> ApiResult<MeDto> {
    match &actor {
        Actor::User { user, org_kind } => {
            Ok(Json(MeDto { user: UserDto::from(user), org_kind: org_kind.code().to_owned() }))
        }
        _ => Err(unauthenticated()),
    }
}

/// The caller's to-dos and notifications.
#[utoipa::path(get, path = "/api/v1/me/inbox", responses((status = 200, body = InboxDto), (status = 401, body = ErrorBody)), tag = "auth")]
pub async fn inbox(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<InboxDto> {
    Ok(Json(InboxDto::from(&s.svc.inbox(&actor).await?)))
}

/// The zone's industry tags ("5+2"; configuration).
#[utoipa::path(get, path = "/api/v1/industries", security((), ("bearer" = [])), responses((status = 200, body = [IndustryDto])), tag = "registry")]
pub async fn industries(State(s): State<AppState>) -> Json<Vec<IndustryDto>> {
    Json(
        s.svc
            .industries()
            .tags()
            .iter()
            .map(|t| IndustryDto {
                id: t.id.clone(),
                name_zh: t.name_zh.clone(),
                name_en: t.name_en.clone(),
                gb4754_prefixes: t.prefixes.clone(),
            })
            .collect(),
    )
}

/// An enterprise registers itself; it stays pending until a zone officer verifies it.
#[utoipa::path(post, path = "/api/v1/register", security((), ("bearer" = [])), request_body = RegisterDto,
    responses((status = 201, body = OrgDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "registry")]
pub async fn register(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<RegisterDto>,
) -> Result<(StatusCode, Json<OrgDto>), ApiError> {
    let admin = NewUserInput {
        username: req.admin.username,
        display_name: req.admin.display_name,
        password: req.admin.password,
    };
    let (org, _) = s.svc.register_self(&req.organisation.into(), &admin).await?;
    Ok((StatusCode::CREATED, Json(OrgDto::from(&org))))
}

/// List organisations, with filters, search and cursor pagination.
#[utoipa::path(get, path = "/api/v1/orgs", security((), ("bearer" = [])), params(OrgQuery),
    responses((status = 200, body = OrgPageDto), (status = 422, body = ErrorBody)), tag = "registry")]
pub async fn list_orgs(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<OrgPageDto> {
    let filter = q.to_filter().map_err(|e| ApiError::invalid(crate::error::details_of(&e)))?;
    let page = s.svc.list_orgs(&actor, &filter, q.cursor.as_deref(), q.limit.unwrap_or(50)).await?;
    Ok(Json(OrgPageDto {
        items: page.items.iter().map(OrgDto::from).collect(),
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

/// Register an organisation (zone officers, platform admins).
#[utoipa::path(post, path = "/api/v1/orgs", request_body = OrgInputDto,
    responses((status = 201, body = OrgDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "registry")]
pub async fn create_org(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(input): ApiJson<OrgInputDto>,
) -> Result<(StatusCode, Json<OrgDto>), ApiError> {
    let org = s.svc.create_org(&actor, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(OrgDto::from(&org))))
}

/// One organisation; facts only on a lawful basis (recorded when it is not the caller's own).
#[utoipa::path(get, path = "/api/v1/orgs/{id}", security((), ("bearer" = [])), params(("id" = String, Path), OptionalPurpose),
    responses((status = 200, body = OrgDetailDto), (status = 404, body = ErrorBody)), tag = "registry")]
pub async fn get_org(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<OptionalPurpose>,
) -> ApiResult<OrgDetailDto> {
    let purpose = match q.purpose.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(super::consent::parse_purpose(p)?),
    };
    Ok(Json(detail(&s.svc.get_org_for(&actor, &id, purpose).await?)))
}

/// The purpose of a read of another enterprise's data (needed for a consent to apply).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct OptionalPurpose {
    /// loan_review | underwriting | guarantee_review | investment_due_diligence | subsidy_review
    pub purpose: Option<String>,
}

/// Edit an organisation's registered details.
#[utoipa::path(put, path = "/api/v1/orgs/{id}", params(("id" = String, Path)), request_body = OrgInputDto,
    responses((status = 200, body = OrgDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "registry")]
pub async fn update_org(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<OrgInputDto>,
) -> ApiResult<OrgDto> {
    Ok(Json(OrgDto::from(&s.svc.update_org(&actor, &id, &input.into()).await?)))
}

/// Verify or reject a pending registration (zone officers).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/verify", params(("id" = String, Path)), request_body = VerifyDto,
    responses((status = 200, body = OrgDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "registry")]
pub async fn verify_org(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(v): ApiJson<VerifyDto>,
) -> ApiResult<OrgDto> {
    Ok(Json(OrgDto::from(&s.svc.verify_org(&actor, &id, v.approve).await?)))
}

/// Report one year of an enterprise's facts (the enterprise itself).
#[utoipa::path(put, path = "/api/v1/orgs/{id}/facts/{year}", params(("id" = String, Path), ("year" = i32, Path)), request_body = FactsDto,
    responses((status = 200, body = FactsDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "registry")]
pub async fn put_facts(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath((id, year)): ApiPath<(String, i32)>,
    ApiJson(f): ApiJson<FactsDto>,
) -> ApiResult<FactsDto> {
    let facts = YearlyFacts {
        year,
        revenue: Money::from_fen(f.revenue_fen),
        rnd_expense: Money::from_fen(f.rnd_expense_fen),
        staff: f.staff,
        rnd_staff: f.rnd_staff,
        patents_granted: f.patents_granted,
        patents_pending: f.patents_pending,
        export_share_bp: f.export_share_bp,
    };
    Ok(Json(FactsDto::from(&s.svc.put_facts(&actor, &id, facts).await?)))
}

/// Add a qualification to an enterprise.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/qualifications", params(("id" = String, Path)), request_body = QualificationInputDto,
    responses((status = 201, body = QualificationDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "registry")]
pub async fn add_qualification(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(q): ApiJson<QualificationInputDto>,
) -> Result<(StatusCode, Json<QualificationDto>), ApiError> {
    let qual = Qualification::parse(&q.kind, &q.valid_from, &q.valid_to, &q.certificate_no)
        .map_err(|e| ApiError::invalid(crate::error::details_of(&e)))?;
    let qid = s.svc.add_qualification(&actor, &id, qual.clone()).await?;
    Ok((StatusCode::CREATED, Json(QualificationDto::from(&(qid, qual)))))
}

/// An organisation's staff (its admin, platform admins).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/users", params(("id" = String, Path)),
    responses((status = 200, body = [UserDto]), (status = 403, body = ErrorBody)), tag = "users")]
pub async fn list_users(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Vec<UserDto>> {
    Ok(Json(s.svc.list_staff(&actor, &id).await?.iter().map(UserDto::from).collect()))
}

/// Add a user to an organisation.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/users", params(("id" = String, Path)), request_body = NewUserDto,
    responses((status = 201, body = UserDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "users")]
pub async fn add_user(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(u): ApiJson<NewUserDto>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let roles = parse_roles(&u.roles).map_err(|e| ApiError::invalid(crate::error::details_of(&e)))?;
    let input = NewUserInput { username: u.username, display_name: u.display_name, password: u.password };
    let user = s.svc.add_user(&actor, &id, &input, &roles).await?;
    Ok((StatusCode::CREATED, Json(UserDto::from(&user))))
}

/// Change a user's roles or deactivate them.
#[utoipa::path(put, path = "/api/v1/users/{id}", params(("id" = String, Path)), request_body = UserUpdateDto,
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "users")]
pub async fn update_user(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(u): ApiJson<UserUpdateDto>,
) -> ApiResult<UserDto> {
    let roles = parse_roles(&u.roles).map_err(|e| ApiError::invalid(crate::error::details_of(&e)))?;
    Ok(Json(UserDto::from(&s.svc.update_staff(&actor, &id, &roles, u.active).await?)))
}

/// The head of the audit log: event count and newest hash.
#[utoipa::path(get, path = "/api/v1/audit/head", responses((status = 200, body = HeadDto), (status = 403, body = ErrorBody)), tag = "audit")]
pub async fn audit_head(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<HeadDto> {
    let h = s.svc.audit_head(&actor).await?;
    Ok(Json(HeadDto { count: h.count, hash: h.hash.to_hex() }))
}
