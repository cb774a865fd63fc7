//! The JSON API under `/api/v1`, documented by the OpenAPI 3.1 document at
//! `/api/v1/openapi.json`, which is generated from these handlers and types.

pub(crate) mod advisor;
pub(crate) mod attachments;
pub(crate) mod claims;
pub(crate) mod consent;
pub(crate) mod disputes;
mod dto;
pub(crate) mod evaluation;
mod handlers;
pub(crate) mod index;
pub(crate) mod jobs;
pub(crate) mod lab;
pub(crate) mod loans;
pub(crate) mod operations;
pub(crate) mod policies;
pub(crate) mod privacy;
pub(crate) mod products;
pub(crate) mod registered;
pub(crate) mod stats;
pub(crate) mod subsidies;
pub(crate) mod unified;

pub use dto::*;

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;

/// The API's routes.
pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/auth/token", post(issue_token))
        .route("/me", get(me))
        .route("/me/inbox", get(inbox))
        .route("/me/password", put(change_password))
        .route("/industries", get(industries))
        .route("/register", post(register))
        .route("/orgs", get(list_orgs).post(create_org))
        .route("/orgs/{id}", get(get_org).put(update_org))
        .route("/orgs/{id}/verify", post(verify_org))
        .route("/orgs/{id}/facts/{year}", put(put_facts))
        .route("/orgs/{id}/qualifications", post(add_qualification))
        .route("/orgs/{id}/users", get(list_users).post(add_user))
        .route("/users/{id}", put(update_user))
        .route("/audit/head", get(audit_head))
        .route("/audit/events", get(operations::audit_events))
        .route("/audit/erasures", get(operations::erasures))
        .route("/users", get(operations::all_users))
        .route("/orgs/{id}/collection-account", put(operations::set_collection_account))
        .route("/policies/{id}/payment", get(operations::payment_instructions))
        .route("/policies/{id}/payment-evidence", post(operations::upload_payment_evidence))
        .route("/policies/registered", post(registered::register))
        .route("/policies/{id}/registration-answer", post(registered::answer))
        .route("/policies/{id}/registration-documents", post(registered::upload_document))
        .route("/subsidy/programmes/{id}/versions/{version}/confirm", post(operations::confirm_programme))
        .route("/product-types", get(products::list_types))
        .route("/product-types/{id}", get(products::get_type))
        .route("/catalogue", post(products::load_catalogue))
        .route("/products", get(products::portal))
        .route("/products/matrix", get(products::matrix))
        .route("/products/roster", get(products::roster))
        .route("/products/{id}", get(products::get_product))
        .route("/filings", get(products::my_filings).post(products::file_product))
        .route("/filings/review-queue", get(products::review_queue))
        .route("/filings/checklist", get(products::checklist_items))
        .route("/filings/{id}", put(products::update_filing))
        .route("/filings/{id}/documents", post(products::upload_document))
        .route("/filings/{id}/submit", post(products::submit))
        .route("/filings/{id}/comments", post(products::comment))
        .route("/filings/{id}/checklist", put(products::set_checklist))
        .route("/filings/{id}/review", post(products::review))
        .route("/filings/{id}/publish", post(products::publish))
        .route("/filings/{id}/withdraw", post(products::withdraw))
        .route("/filings/{id}/versions", post(products::new_version))
        .route("/filings/{id}/rating-plans", get(products::rating_plans).post(products::file_rating_plan))
        .route("/products/{id}/quote", post(products::quote))
        .route("/products/{id}/apply", post(policies::apply))
        .route("/applications", get(policies::my_applications))
        .route("/applications/{id}/decision", post(policies::decide))
        .route("/underwriting/queue", get(policies::queue))
        .route("/underwriters/{username}/authority", put(policies::set_authority))
        .route("/policies", get(policies::my_policies))
        .route("/policies/{id}", get(policies::get_policy))
        .route("/policies/{id}/premium-payments", post(policies::pay))
        .route("/policies/{id}/claims", post(claims::report_claim))
        .route("/claims", get(claims::my_claims))
        .route("/claims/{id}", get(claims::get_claim))
        .route("/claims/{id}/steps", post(claims::claim_step))
        .route("/claims/{id}/complaints", post(disputes::complain))
        .route("/disputes", get(disputes::disputes))
        .route("/disputes/{id}/steps", post(disputes::dispute_step))
        .route("/policies/{id}/endorsements", post(policies::endorse))
        .route("/policies/{id}/cancellation", post(policies::cancel))
        .route("/policies/{id}/refund-payments", post(policies::refund))
        .route("/policies/{id}/renewal", post(policies::renew))
        .route("/policies/{id}/coinsurance", put(policies::coinsure))
        .route("/policies/{id}/changes", get(policies::policy_changes))
        .route("/claims/{id}/documents", post(claims::upload_claim_document).get(claims::claim_documents))
        .route("/claim-documents/{id}", get(claims::download_claim_document))
        .route("/zone/insurance-overview", get(policies::overview))
        .route("/statistics/nfra", get(stats::nfra))
        .route("/statistics/targets", get(stats::targets))
        .route("/statistics/grid", get(stats::grid))
        .route("/index/framework", get(index::framework).post(index::load_framework))
        .route("/index/runs", get(index::runs).post(index::start))
        .route("/index/runs/{id}", get(index::run))
        .route("/index/runs/{id}/files/{name}", get(index::file))
        .route("/index/statistics", post(index::import_statistics))
        .route("/evaluation", get(evaluation::evaluation))
        .route("/advisor", get(advisor::advisor))
        .route("/advisor/answers", put(advisor::answers))
        .route("/advisor/shortlist", post(advisor::shortlist))
        .route("/advisor/shortlist/{product_id}", delete(advisor::unlist))
        .route("/advisor/needs", get(advisor::needs))
        .route("/advisor/broker", get(advisor::broker).put(advisor::name_broker).delete(advisor::end_broker))
        .route("/advisor/quotes", post(advisor::quotes))
        .route("/advisor/bundle/quotes/{quote_id}", post(advisor::choose).delete(advisor::unchoose))
        .route("/advisor/bundle/apply", post(advisor::apply_bundle))
        .route("/subsidy/programmes", get(subsidies::programmes).post(subsidies::load))
        .route("/subsidy/calendar", put(subsidies::calendar))
        .route("/subsidy/programmes/{id}/offers", post(subsidies::offers))
        .route("/subsidy/programmes/{id}/what-if", post(subsidies::what_if))
        .route("/subsidy/dashboard", get(subsidies::dashboard))
        .route("/policies/{id}/subsidy-check", post(subsidies::check))
        .route("/loans/{id}/subsidy-check", post(subsidies::loan_check))
        .route("/loans/{id}/subsidy-applications", post(subsidies::loan_apply))
        .route("/subsidies", get(subsidies::list).post(subsidies::apply))
        .route("/subsidies/{id}", get(subsidies::get))
        .route("/subsidies/{id}/steps", post(subsidies::step))
        .route("/subsidies/{id}/objections", post(subsidies::object))
        .route("/subsidies/{id}/objections/{objection_id}", post(subsidies::resolve))
        .route("/subsidies/{id}/documents", post(subsidies::upload))
        .route("/documents/{id}", get(products::download_document))
        .route("/attachments/{id}", get(attachments::download))
        .route("/articles", get(products::list_articles).post(products::create_article))
        .route("/articles/{id}", get(products::get_article).put(products::update_article))
        .route("/consents", get(consent::mine).post(consent::grant))
        .route("/consents/{id}", get(consent::get_consent))
        .route("/consents/{id}/evidence", get(consent::evidence))
        .route("/consents/{id}/revoke", post(consent::revoke))
        .route("/credit-reports/{org_id}", get(consent::report))
        .route("/orgs/{id}/access-log", get(consent::access_log))
        .route("/orgs/{id}/view", get(unified::view))
        .route("/lab/models", get(lab::list).post(lab::upload))
        .route("/lab/models/{id}", get(lab::get))
        .route("/lab/models/{id}/approve", post(lab::approve))
        .route("/lab/models/{id}/retire", post(lab::retire))
        .route("/lab/models/{id}/rating-plan", post(lab::rating_plan))
        .route("/lab/extracts", get(lab::extracts).post(lab::request_extract))
        .route("/lab/extracts/{id}", get(lab::extract))
        .route("/lab/extracts/{id}/file", get(lab::extract_file))
        .route("/lab/fits", post(lab::request_fit))
        .route("/lab/admission-rule", lab::admission_rule_routes())
        .route("/lab/my-scores", get(lab::my_scores))
        .route("/zone/switches/{key}", put(lab::set_switch))
        .route("/lab/models/{id}/monitoring", get(lab::monitoring))
        .route("/lab/models/{id}/thresholds", put(lab::thresholds))
        .route("/lab/models/{id}/batch-score", post(lab::batch_score))
        .route("/loans/{id}/score", post(lab::score_loan))
        .route("/loans/{id}/scores", get(lab::loan_scores))
        .route("/transparency/tree-heads", get(consent::tree_heads))
        .route("/transparency/inclusion/{seq}", get(consent::inclusion))
        .route("/transparency/consistency", get(consent::consistency))
        .route("/api-keys", post(consent::issue_key))
        .route("/me/data", get(privacy::my_data))
        .route("/me/data-requests", post(privacy::file))
        .route("/data-requests", get(privacy::list).post(privacy::record))
        .route("/data-requests/{id}", get(privacy::get))
        .route("/data-requests/{id}/answer", post(privacy::answer))
        .route("/impact-assessments", get(privacy::assessments).post(privacy::record_assessment))
        .route("/loan-schemes", get(loans::schemes))
        .route("/loans", get(loans::list).post(loans::apply))
        .route("/loans/{id}", get(loans::get))
        .route("/loans/{id}/decision", post(loans::decide))
        .route("/loans/{id}/disburse", post(loans::disburse))
        .route("/loans/{id}/repayments", post(loans::repay))
        .route("/loans/{id}/claim", post(loans::claim))
        .route("/loans/{id}/claim/pay", post(loans::pay))
        .route("/loans/{id}/guarantee/pay", post(loans::pay_guarantee))
        .route("/loans/{id}/recoveries", post(loans::recover))
        .route("/loans/{id}/policy", post(loans::issue_policy))
        .route("/loans/{id}/close", post(loans::close))
        .route("/loans/repayments/import", post(loans::import_repayments))
        .route("/loan-funds", get(loans::funds))
        .route("/loan-funds/{scheme_id}/payments", post(loans::pay_fund))
        .route("/scheme-simulations", post(loans::simulate))
        .route("/scheme-simulations/{id}", get(loans::simulation))
        .route("/jobs", get(jobs::list).post(jobs::start))
        .route("/jobs/{id}", get(jobs::get))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .fallback(not_found)
}

/// RFC 3339 (UTC) of a timestamp in microseconds.
pub(crate) fn rfc3339(us: i64) -> String {
    kebao_domain::time_zone::from_unix_us(us)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// 401 for a caller who is neither signed in nor sending a token.
pub(crate) fn signed_in(actor: &kebao_service::authz::Actor) -> Result<(), ApiError> {
    match actor {
        kebao_service::authz::Actor::Anonymous => Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in or send a bearer token",
            "请先登录或提供 API 令牌",
        )),
        _ => Ok(()),
    }
}

/// The actor of a request that needs one: anonymous callers get 401 before the body is read,
/// so that an unauthenticated request is told to sign in rather than how its body is wrong.
#[derive(Debug, Clone)]
pub struct SignedIn(pub kebao_service::authz::Actor);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let crate::session::ApiActor(actor) =
            crate::session::ApiActor::from_request_parts(parts, state).await?;
        signed_in(&actor)?;
        Ok(SignedIn(actor))
    }
}

async fn not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such API endpoint", "接口不存在")
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Kebao 科保 API", description = "The tech-insurance zone platform's JSON API. Errors are `{\"error\": {code, message, message_zh, details}}`."),
    paths(
        handlers::issue_token, handlers::me, handlers::change_password, handlers::inbox, handlers::industries, handlers::register,
        handlers::list_orgs, handlers::create_org, handlers::get_org, handlers::update_org, handlers::verify_org,
        handlers::put_facts, handlers::add_qualification, handlers::list_users, handlers::add_user,
        handlers::update_user, handlers::audit_head,
        operations::audit_events, operations::erasures, operations::all_users, operations::set_collection_account,
        operations::payment_instructions, operations::upload_payment_evidence, operations::confirm_programme,
        registered::register, registered::answer, registered::upload_document,
        products::list_types, products::get_type, products::load_catalogue, products::portal, products::matrix,
        products::roster, products::get_product, products::file_product, products::my_filings,
        products::review_queue, products::checklist_items, products::update_filing, products::upload_document,
        products::download_document, products::submit, products::comment, products::set_checklist,
        products::review, products::publish, products::withdraw, products::new_version,
        products::list_articles, products::get_article, products::create_article, products::update_article,
        consent::grant, consent::mine, consent::get_consent, consent::evidence, consent::revoke, consent::report,
        consent::access_log, consent::tree_heads, consent::inclusion, consent::consistency, consent::issue_key,
        products::file_rating_plan, products::rating_plans, products::quote,
        policies::apply, policies::my_applications, policies::queue, policies::decide, policies::set_authority,
        policies::my_policies, policies::get_policy, policies::pay, claims::report_claim, claims::my_claims,
        claims::get_claim, claims::claim_step, disputes::complain, disputes::disputes, disputes::dispute_step,
        policies::endorse, policies::cancel, policies::refund, policies::renew, policies::coinsure,
        policies::policy_changes, claims::upload_claim_document, claims::claim_documents,
        claims::download_claim_document, policies::overview, stats::nfra, stats::targets, stats::grid,
        index::framework, index::load_framework, index::runs, index::start, index::run, index::file, index::import_statistics,
        evaluation::evaluation,
        advisor::advisor, advisor::answers, advisor::shortlist, advisor::unlist, advisor::needs,
        advisor::broker, advisor::name_broker, advisor::end_broker, advisor::quotes, advisor::choose,
        advisor::unchoose, advisor::apply_bundle, unified::view,
        lab::list, lab::upload, lab::get, lab::approve, lab::retire, lab::rating_plan,
        lab::extracts, lab::request_extract, lab::extract, lab::extract_file, lab::request_fit,
        lab::admission_rule, lab::set_admission_rule, lab::end_admission_rule, lab::score_loan, lab::loan_scores,
        lab::my_scores, lab::monitoring, lab::thresholds, lab::batch_score, lab::set_switch,
        subsidies::programmes, subsidies::load, subsidies::calendar, subsidies::check, subsidies::apply,
        subsidies::list, subsidies::get, subsidies::step, subsidies::object, subsidies::resolve, subsidies::upload,
        subsidies::offers, subsidies::dashboard, subsidies::what_if, subsidies::loan_check, subsidies::loan_apply,
        attachments::download,
        jobs::list, jobs::get, jobs::start, jobs::cancel, privacy::my_data, privacy::file, privacy::list,
        privacy::answer, privacy::record, privacy::get, privacy::assessments, privacy::record_assessment,
        loans::schemes, loans::list, loans::apply, loans::get, loans::decide, loans::disburse, loans::repay,
        loans::claim, loans::pay, loans::pay_guarantee, loans::recover, loans::issue_policy, loans::close, loans::import_repayments, loans::funds,
        loans::pay_fund, loans::simulate, loans::simulation
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorInfo, crate::error::ErrorDetail)),
    modifiers(&BearerAuth, &CommonResponses),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The error responses that come from the edge rather than from one handler, added to every
/// operation that can give them (an operation's own annotation, if it names the status,
/// wins): a bad, expired or out-of-scope bearer token or API key (401, 403, 429, from the
/// token check in front of every route), a busy database (503), a malformed query or body
/// (400, from `ApiQuery` / `ApiJson`), a body of the wrong type or size (413, 415), an
/// unknown id in the path (404). Each is the `ErrorBody` envelope.
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for item in openapi.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                let params = op.parameters.as_deref().unwrap_or_default();
                let in_path = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path));
                let in_query = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let has_body = op.request_body.is_some();
                let mut common = vec![
                    ("401", "no valid bearer token or session where one is needed, or a bad or expired one"),
                    ("403", "not allowed to the caller, or outside the API key's scopes"),
                    ("429", "over the API key's (or the sign-in) rate limit"),
                    ("503", "the database is busy; try again"),
                ];
                if in_path {
                    common.push(("404", "no such resource (or not visible to the caller)"));
                }
                if in_path || in_query || has_body {
                    common.push(("400", "the path, query or body is malformed"));
                }
                if in_query || has_body {
                    common.push(("422", "the input is invalid; see `details`"));
                }
                if has_body {
                    common.push(("413", "the body is too large"));
                    common.push(("415", "the body is not of the documented media type"));
                }
                for (status, description) in common {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

/// A response whose body is the `ErrorBody` envelope.
fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
        )
        .build()
        .into()
}

/// The OpenAPI document as served: `ApiDoc` with every integer's range written out.
pub fn openapi_document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    bound_integers(&mut doc);
    doc
}

async fn openapi_json() -> axum::Json<serde_json::Value> {
    axum::Json(openapi_document())
}

/// utoipa names an integer's Rust width as a format (`u-int16`, `u-int32` …, feature
/// `non_strict_integers`) that JSON Schema tools do not know; left so, or as the `int32` that
/// utoipa would otherwise write for a `u32`, a client could not tell which values the server
/// accepts (2^31 is a valid `u32`, 70,000 is not a `u16`). Rewrite each into the standard
/// format with `minimum` and `maximum`, keeping any tighter bound an annotation set.
fn bound_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let bounds: Option<(i64, u64, Option<&str>)> = match map.get("format").and_then(Value::as_str) {
                Some("int8") => Some((i64::from(i8::MIN), 127, Some("int32"))),
                Some("int16") => Some((i64::from(i16::MIN), 32_767, Some("int32"))),
                Some("u-int8" | "uint8") => Some((0, u64::from(u8::MAX), Some("int32"))),
                Some("u-int16" | "uint16") => Some((0, u64::from(u16::MAX), Some("int32"))),
                Some("u-int32" | "uint32") => Some((0, u64::from(u32::MAX), Some("int64"))),
                Some("u-int64" | "uint64") => Some((0, u64::MAX, None)),
                _ => None,
            };
            if let Some((min, max, format)) = bounds {
                match format {
                    Some(f) => map.insert("format".to_owned(), Value::from(f)),
                    None => map.remove("format"),
                };
                // Lossy casts only compare; an annotation's own bound is kept as written.
                let tighter_min = map.get("minimum").and_then(Value::as_f64).is_some_and(|m| m > min as f64);
                let tighter_max = map.get("maximum").and_then(Value::as_f64).is_some_and(|m| m < max as f64);
                if !tighter_min {
                    map.insert("minimum".to_owned(), Value::from(min));
                }
                if !tighter_max {
                    map.insert("maximum".to_owned(), Value::from(max));
                }
            }
            map.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// A JSON body whose rejections are `ApiError`s.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                let status = e.status();
                let mut err = ApiError::bad_request(e.body_text());
                if status == axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    err = ApiError::new(
                        status,
                        "unsupported_media_type",
                        "send JSON with `Content-Type: application/json`",
                        "请以 JSON 格式提交",
                    );
                } else if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    err = ApiError::new(status, "payload_too_large", "the body is too large", "请求体过大");
                }
                Err(err)
            }
        }
    }
}

/// A multipart form (uploads) whose rejections (no or a bad `boundary`, not multipart) are
/// `ApiError`s in the error envelope.
#[derive(Debug)]
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(m) => Ok(ApiMultipart(m)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::new(e.status(), "payload_too_large", "the body is too large", "请求体过大"))
            }
            Err(e) => Err(ApiError::bad_request(format!(
                "send `multipart/form-data` with a boundary: {}",
                e.body_text()
            ))),
        }
    }
}

/// Path parameters whose rejections (a segment that is not a number, not UTF-8 …) are
/// `ApiError`s: 400 in the error envelope, like every other error of the API.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// A query string whose rejections are `ApiError`s.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}
