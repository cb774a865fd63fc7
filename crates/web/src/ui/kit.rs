//! The UI kit every page module shares: the language (`Tr`), the page chrome and the signed-in
//! extractor (`Authed`), rendering (`html`, `with_status`), error and refusal pages, CSRF checks
//! and form helpers.

use crate::session::{self, same_secret, LANG_COOKIE};
use crate::AppState;
use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use kebao_domain::{FieldError, Invalid};
use kebao_service::auth::SessionInfo;
use kebao_service::authz::{Abilities, Action};
use kebao_service::ServiceError;
use std::collections::HashMap;
/// Picks zh-CN or English text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    pub en: bool,
}

impl Tr {
    /// `zh` or `en`, whichever the visitor reads.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.en {
            en
        } else {
            zh
        }
    }

    /// The same for owned text.
    pub fn pick(&self, zh: String, en: String) -> String {
        if self.en {
            en
        } else {
            zh
        }
    }
}

/// Sets the language from `?lang=` (remembered in a cookie), else the cookie, else zh-CN.
pub async fn language(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&').find_map(|kv| match kv {
            "lang=en" => Some(true),
            "lang=zh" => Some(false),
            _ => None,
        })
    });
    let from_cookie = CookieJar::from_headers(req.headers()).get(LANG_COOKIE).map(|c| c.value() == "en");
    let tr = Tr { en: from_query.or(from_cookie).unwrap_or(false) };
    req.extensions_mut().insert(tr);
    let mut resp = next.run(req).await;
    if let Some(en) = from_query {
        let c =
            format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", if en { "en" } else { "zh" });
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The session of a request, and whether it expired.
pub(crate) async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<kebao_service::auth::SessionInfo>, Response> {
    match session::ui_session(state, headers).await {
        Ok(s) => Ok(s),
        Err(_) => {
            let mut resp = axum::response::Redirect::to("/login?expired=1").into_response();
            let c = session::expired_cookie(session::SESSION_COOKIE);
            if let Ok(v) = c.to_string().parse() {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Err(resp)
        }
    }
}

/// What every page shows around its content.
pub struct Chrome {
    pub tr: Tr,
    pub user: Option<UserChrome>,
    pub csrf: String,
    pub unread: usize,
    pub notice: Option<(&'static str, String)>,
}

/// The signed-in user, as the header shows them.
pub struct UserChrome {
    pub display_name: String,
    /// Files products (insurers) or reviews filings (the zone).
    pub filings: bool,
    pub zone: bool,
    /// Zone officers and the regulator (the insurance overview).
    pub statutory: bool,
    pub platform_admin: bool,
}

pub(super) type Page = Result<Response, Response>;

pub(super) fn html<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub(super) fn with_status(status: StatusCode, resp: Response) -> Response {
    let mut r = resp;
    *r.status_mut() = status;
    r
}

/// The page chrome and the session, if any. Until a password set by an administrator is
/// changed, every page that looks at the session leads to the change instead.
pub(super) async fn chrome(
    state: &AppState,
    headers: &HeaderMap,
    tr: Tr,
) -> Result<(Chrome, Option<SessionInfo>), Response> {
    let (c, s) = chrome_any(state, headers, tr).await?;
    if s.as_ref().is_some_and(SessionInfo::must_change_password) {
        return Err(Redirect::to(OWN_PASSWORD_PAGE).into_response());
    }
    Ok((c, s))
}

/// [`chrome`] for the pages a user who must change their password may still see.
pub(super) async fn chrome_any(
    state: &AppState,
    headers: &HeaderMap,
    tr: Tr,
) -> Result<(Chrome, Option<SessionInfo>), Response> {
    let s = current(state, headers).await?;
    let mut unread = 0;
    let user = match &s {
        Some(info) => {
            if let Ok(inbox) = state.svc.inbox(&info.actor).await {
                unread = inbox.unread;
            }
            let ab = match state.svc.abilities(&info.actor).await {
                Ok(ab) => ab,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read what the user may do; the menu is bare");
                    Abilities::default()
                }
            };
            info.actor.user().map(|u| UserChrome {
                display_name: u.display_name.clone(),
                filings: ab.on_zone(Action::ReviewProductQueue) || ab.on_own_org(Action::FileProduct),
                zone: ab.on_zone(Action::CreateOrg),
                statutory: ab.on_zone(Action::ReadInsuranceOverview),
                platform_admin: ab.on_zone(Action::ResetPassword),
            })
        }
        None => None,
    };
    let csrf = s.as_ref().map(|i| i.csrf_token.clone()).unwrap_or_default();
    Ok((Chrome { tr, user, csrf, unread, notice: None }, s))
}

/// A signed-in visitor of a UI page: the page chrome, the session and the language. Anyone
/// else is redirected to the login page, and back here after signing in.
pub struct Authed {
    pub c: Chrome,
    pub s: SessionInfo,
    pub tr: Tr,
}

impl axum::extract::FromRequestParts<AppState> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        let tr = parts.extensions.get::<Tr>().copied().unwrap_or_default();
        let here = parts.uri.path().to_owned();
        let (c, s) = signed_in(state, &parts.headers, tr, &here).await?;
        Ok(Authed { c, s, tr })
    }
}

/// The signed-in user, or a redirect to the login page.
pub(super) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    tr: Tr,
    here: &str,
) -> Result<(Chrome, SessionInfo), Response> {
    let (c, s) = chrome(state, headers, tr).await?;
    match s {
        Some(s) => Ok((c, s)),
        None => Err(Redirect::to(&format!("/login?next={}", urlencode(here))).into_response()),
    }
}

/// Where a signed-in user changes their own password.
pub(super) const OWN_PASSWORD_PAGE: &str = "/account/password";

pub(super) fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn check_csrf(form: &HashMap<String, String>, s: &SessionInfo) -> Result<(), Response> {
    let sent = form.get("csrf").map_or("", String::as_str);
    if same_secret(sent, &s.csrf_token) {
        Ok(())
    } else {
        Err(csrf_page())
    }
}

pub(super) fn csrf_page() -> Response {
    (StatusCode::FORBIDDEN, Html("<!doctype html><meta charset=utf-8><title>403</title><p>表单安全校验失败，请返回并刷新页面后重试。<br>The form's security token is missing or wrong: go back, reload the page and try again.</p>"))
        .into_response()
}

/// A page for an error from the service.
pub(super) fn error_page(tr: Tr, c: Chrome, e: ServiceError) -> Response {
    let (status, zh, en) = match &e {
        ServiceError::NotFound => (StatusCode::NOT_FOUND, "未找到该页面或记录。", "Not found."),
        ServiceError::Forbidden { .. } => {
            (StatusCode::FORBIDDEN, "您无权执行此操作。", "You are not allowed to do this.")
        }
        ServiceError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "请先登录。", "Please sign in."),
        ServiceError::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "系统繁忙，请稍后重试。",
            "The system is busy; try again shortly.",
        ),
        ServiceError::Invalid(_) | ServiceError::Conflict(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "提交的数据有误。", "The submitted data is invalid.")
        }
        ServiceError::Internal(m) => {
            tracing::error!(error = %m, "internal error");
            (StatusCode::INTERNAL_SERVER_ERROR, "系统内部错误。", "Internal error.")
        }
    };
    let detail = match &e {
        ServiceError::Invalid(Invalid(errs)) => errs
            .iter()
            .map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone()))
            .collect::<Vec<_>>()
            .join("；"),
        ServiceError::Conflict(f) => tr.pick(f.message_zh.clone(), f.message_en.clone()),
        _ => String::new(),
    };
    let body = format!(
        "<p>{}</p><p>{}</p><p><a href=\"/\" data-back>{}</a></p>",
        tr.t(zh, en),
        escape(&detail),
        tr.t("返回", "Back")
    );
    with_status(
        status,
        html(&SimpleTpl { c, heading: tr.t("出错了", "Something went wrong").to_owned(), body }),
    )
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(Template)]
#[template(path = "simple.html")]
pub(super) struct SimpleTpl {
    pub(super) c: Chrome,
    pub(super) heading: String,
    pub(super) body: String,
}

pub(super) fn chrome_blank(tr: Tr) -> Chrome {
    Chrome { tr, user: None, csrf: String::new(), unread: 0, notice: None }
}

pub(super) fn forbidden_page(tr: Tr, c: Chrome) -> Response {
    error_page(tr, c, ServiceError::Forbidden { action: "this", reason: String::new() })
}

/// The field errors of a refused form, or the error when it is not about the input.
pub(super) fn form_errors(e: ServiceError) -> Result<Vec<FieldError>, ServiceError> {
    match e {
        ServiceError::Invalid(Invalid(errs)) => Ok(errs),
        ServiceError::Conflict(f) => Ok(vec![f]),
        other => Err(other),
    }
}

/// A form's errors as messages in the page's language (other errors pass through).
pub(super) fn form_messages(tr: Tr, e: ServiceError) -> Result<Vec<String>, ServiceError> {
    form_errors(e)
        .map(|errs| errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect())
}

/// Reads a page's file upload (field `file`) and checks its CSRF field. `Err(Ok(message))`
/// is a problem to show on the page; `Err(Err(response))` a refused form.
pub(super) async fn page_upload(
    multipart: axum::extract::Multipart,
    s: &SessionInfo,
    tr: Tr,
) -> Result<(String, Vec<u8>), Result<String, Response>> {
    let (name, bytes, csrf) = match crate::forms::products::read_upload(multipart).await {
        Ok(x) => x,
        Err(api) => {
            return Err(Ok(api
                .body
                .details
                .first()
                .map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone()))
                .unwrap_or_else(|| tr.pick(api.body.message_zh.clone(), api.body.message.clone()))))
        }
    };
    if !crate::session::same_secret(&csrf, &s.csrf_token) {
        return Err(Err(csrf_page()));
    }
    Ok((name, bytes))
}

/// A field of a form page.
pub(super) struct Field {
    pub(super) name: String,
    pub(super) label: String,
    pub(super) value: String,
    pub(super) error: String,
    pub(super) required: bool,
    pub(super) options: Vec<(String, String)>,
    pub(super) hint: String,
    pub(super) type_: String,
}

#[derive(Template)]
#[template(path = "org_form.html")]
pub(super) struct FormTpl {
    c: Chrome,
    heading: String,
    action: String,
    csrf: String,
    fields: Vec<Field>,
    errors: Vec<String>,
    general_errors: Vec<String>,
    submit: String,
    cancel: String,
}

pub(super) fn form_page(
    c: Chrome,
    heading: String,
    action: String,
    fields: Vec<Field>,
    errs: &[FieldError],
    submit: String,
    cancel: String,
) -> Response {
    let tr = c.tr;
    let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let general_errors = errs
        .iter()
        .filter(|e| !known.contains(&e.field.as_str()))
        .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
        .collect();
    let csrf = c.csrf.clone();
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&FormTpl {
            c,
            heading,
            action,
            csrf,
            fields,
            errors: errs.iter().map(|e| e.field.clone()).collect(),
            general_errors,
            submit,
            cancel,
        }),
    )
}
