//! Accounts: sign-in and sign-out, self-registration, password resets and one's own password.

use super::kit::{
    check_csrf, chrome, chrome_any, chrome_blank, csrf_page, current, error_page, forbidden_page,
    form_errors, form_page, html, list_query, urlencode, with_status, Authed, Chrome, Field, ListNav, Page,
    SimpleTpl, OWN_PASSWORD_PAGE,
};
use super::registry::{org_fields, org_input};
use super::Tr;
use crate::session::{cookie, expired_cookie, same_secret, ClientAddr, PRE_CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use kebao_domain::{FieldError, Invalid};
use kebao_service::auth::SessionInfo;
use kebao_service::users::NewUserInput;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// The account routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login_post))
        .route("/logout", post(logout))
        .route("/register", get(register_form).post(register_post))
        .route("/admin/password", get(password_form).post(password_post))
        .route("/admin/users", get(users_page))
        .route(OWN_PASSWORD_PAGE, get(own_password_form).post(own_password_post))
}

// ---------------------------------------------------------------------------------------
// Sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl {
    c: Chrome,
    error: Option<String>,
    pre_csrf: String,
    next: String,
    username: String,
}

fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") => n.clone(),
        _ => "/dashboard".to_owned(),
    }
}

fn pre_csrf_response(st: &AppState, body: Response, token: &str) -> Response {
    let mut resp = body;
    let c =
        cookie(PRE_CSRF_COOKIE, token.to_owned(), st.settings.secure_cookies, Some(time::Duration::hours(2)));
    if let Ok(v) = c.to_string().parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn pre_csrf_token(headers: &HeaderMap) -> Option<String> {
    axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(PRE_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
}

fn now_s(st: &AppState) -> u64 {
    u64::try_from(st.svc.now_us() / 1_000_000).unwrap_or(0)
}

/// A fresh server-issued token for a pre-sign-in form (login, registration): whatever
/// cookie the browser brought, it gets a new one.
fn fresh_pre_csrf(st: &AppState) -> String {
    st.form_tokens.issue(now_s(st)).unwrap_or_default()
}

/// The pre-sign-in form's token, when the form and the cookie carry the same one and the
/// server issued it (a cookie an attacker planted is refused).
fn checked_pre_csrf(
    st: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<String, Response> {
    let sent = form.get("csrf").map_or("", String::as_str);
    match pre_csrf_token(headers) {
        Some(t) if !sent.is_empty() && same_secret(sent, &t) && st.form_tokens.verify(&t, now_s(st)) => Ok(t),
        _ => Err(csrf_page()),
    }
}

async fn login_form(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let (mut c, s) = chrome(&st, &headers, tr).await?;
    if s.is_some() {
        return Ok(Redirect::to("/dashboard").into_response());
    }
    if q.contains_key("expired") {
        c.notice = Some((
            "info",
            tr.t("登录已过期，请重新登录。", "Your session has expired; please sign in again.").to_owned(),
        ));
    }
    let token = fresh_pre_csrf(&st);
    let page = html(&LoginTpl {
        c,
        error: None,
        pre_csrf: token.clone(),
        next: safe_next(q.get("next")),
        username: String::new(),
    });
    Ok(pre_csrf_response(&st, page, &token))
}

async fn login_post(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let token = match checked_pre_csrf(&st, &headers, &form) {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let username = form.get("username").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let next = safe_next(form.get("next"));
    let again = |error: String, status: StatusCode| {
        let token = token.clone();
        with_status(
            status,
            html(&LoginTpl {
                c: chrome_blank(tr),
                error: Some(error),
                pre_csrf: token,
                next: next.clone(),
                username: username.clone(),
            }),
        )
    };
    if let Err(t) = st.throttle.check(&address, &username) {
        let s = t.retry_after_s();
        tracing::warn!(address = %address, "sign-in throttled");
        return Ok(again(
            tr.pick(
                format!("登录失败次数过多，请 {s} 秒后再试。"),
                format!("Too many failed sign-ins; try again in {s} seconds."),
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let attempt = kebao_service::auth::Attempt { address: address.clone() };
    match st.svc.login_from(&username, &password, &attempt).await {
        Ok(s) => {
            st.throttle.succeeded(&address, &username);
            let next = if s.user.must_change_password { OWN_PASSWORD_PAGE.to_owned() } else { next.clone() };
            let mut resp = Redirect::to(&next).into_response();
            let ttl = time::Duration::microseconds(s.expires_at_us - st.svc.now_us());
            for c in [
                cookie(SESSION_COOKIE, s.token, st.settings.secure_cookies, Some(ttl)),
                expired_cookie(PRE_CSRF_COOKIE),
            ] {
                if let Ok(v) = c.to_string().parse() {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            Ok(resp)
        }
        Err(ServiceError::Unauthenticated(_)) => {
            st.throttle.failed(&address, &username);
            Ok(again(
                tr.t("用户名或密码错误。", "Wrong user name or password.").to_owned(),
                StatusCode::UNAUTHORIZED,
            ))
        }
        Err(e) => Err(error_page(tr, chrome_blank(tr), e)),
    }
}

async fn logout(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let s = current(&st, &headers).await?;
    if let Some(s) = s {
        check_csrf(&form, &s)?;
        if let Some(c) = axum_extra::extract::cookie::CookieJar::from_headers(&headers).get(SESSION_COOKIE) {
            st.svc.logout(c.value()).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
        }
    }
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = expired_cookie(SESSION_COOKIE).to_string().parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

// ---------------------------------------------------------------------------------------
// Self-registration

fn register_fields(st: &AppState, tr: Tr, form: &HashMap<String, String>, errs: &[FieldError]) -> Vec<Field> {
    let mut input = org_input(form);
    input.kind = "enterprise".into();
    let mut fields = org_fields(st, tr, &input, errs, false);
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join(tr.t("；", "; "))
    };
    for (name, zh, en, ty) in [
        ("admin.username", "管理员用户名", "Admin user name", "text"),
        ("admin.display_name", "管理员姓名", "Admin name", "text"),
        ("admin.password", "密码（至少10位）", "Password (10+ characters)", "password"),
    ] {
        fields.push(Field {
            name: name.to_owned(),
            label: tr.t(zh, en).to_owned(),
            value: if ty == "password" { String::new() } else { form.get(name).cloned().unwrap_or_default() },
            error: err(name),
            required: true,
            options: Vec::new(),
            hint: String::new(),
            type_: ty.to_owned(),
        });
    }
    fields
}

fn register_page(st: &AppState, c: Chrome, form: &HashMap<String, String>, errs: &[FieldError]) -> Response {
    let tr = c.tr;
    let fields = register_fields(st, tr, form, errs);
    let heading = tr.t("企业注册", "Register your enterprise").into();
    form_page(c, heading, "/register".into(), fields, errs, tr.t("提交注册", "Register").into(), "/".into())
}

async fn register_form(State(st): State<AppState>, Extension(tr): Extension<Tr>, headers: HeaderMap) -> Page {
    let (mut c, _) = chrome(&st, &headers, tr).await?;
    let token = fresh_pre_csrf(&st);
    c.csrf = token.clone();
    c.notice = Some(("info", tr.t("注册后，企业信息须经管委会核验方可在名录中公开。", "After you register, the zone office verifies your enterprise before it appears in the directory.").to_owned()));
    let page = register_page(&st, c, &HashMap::new(), &[]);
    Ok(pre_csrf_response(&st, page, &token))
}

async fn register_post(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let token = match checked_pre_csrf(&st, &headers, &form) {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let (mut c, _) = chrome(&st, &headers, tr).await?;
    c.csrf = token;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let admin = NewUserInput {
        username: g("admin.username"),
        display_name: g("admin.display_name"),
        password: g("admin.password"),
    };
    match st.svc.register_self(&org_input(&form), &admin).await {
        Ok(_) => {
            c.notice = Some((
                "ok",
                tr.t(
                    "注册已提交，待管委会核验。现在可以用管理员账号登录。",
                    "Registered. The zone office will verify it; you can sign in with the admin account now.",
                )
                .to_owned(),
            ));
            Ok(html(&SimpleTpl {
                c,
                heading: tr.t("注册已提交", "Registration received").into(),
                body: "<p><a class=\"button\" href=\"/login\">登录 Sign in</a></p>".into(),
            }))
        }
        Err(e) => match form_errors(e) {
            Ok(errs) => Ok(register_page(&st, c, &form, &errs)),
            Err(e) => Err(error_page(tr, c, e)),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Password reset (platform admin)

async fn password_form(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    if !st.svc.may(&s.actor, kebao_service::authz::Action::ResetPassword) {
        return Err(forbidden_page(tr, c));
    }
    let fields = password_fields(tr, "", &[]);
    Ok(form_page(
        c,
        tr.t("重置用户密码", "Reset a user's password").into(),
        "/admin/password".into(),
        fields,
        &[],
        tr.t("重置", "Reset").into(),
        "/dashboard".into(),
    ))
}

fn password_fields(tr: Tr, username: &str, errs: &[FieldError]) -> Vec<Field> {
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join(tr.t("；", "; "))
    };
    vec![
        Field {
            name: "username".into(),
            label: tr.t("用户名", "User name").into(),
            value: username.into(),
            error: err("username"),
            required: true,
            options: vec![],
            hint: String::new(),
            type_: "text".into(),
        },
        Field {
            name: "password".into(),
            label: tr.t("新密码（至少10位）", "New password (10+ characters)").into(),
            value: String::new(),
            error: err("password"),
            required: true,
            options: vec![],
            hint: String::new(),
            type_: "password".into(),
        },
    ]
}

async fn password_post(
    State(st): State<AppState>,
    Authed { mut c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let username = form.get("username").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let errs = match st.svc.reset_password(&s.actor, &username, &password).await {
        Ok(u) => {
            c.notice = Some((
                "ok",
                tr.pick(
                    format!("已重置 {} 的密码，其现有会话已失效。", u.username),
                    format!("The password of {} was reset; their sessions were ended.", u.username),
                ),
            ));
            Vec::new()
        }
        Err(ServiceError::Invalid(Invalid(errs))) => errs,
        Err(ServiceError::NotFound) => {
            vec![FieldError::new("username", "not_found", "该用户不存在", "no such user")]
        }
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let fields = password_fields(tr, if errs.is_empty() { "" } else { &username }, &errs);
    Ok(form_page(
        c,
        tr.t("重置用户密码", "Reset a user's password").into(),
        "/admin/password".into(),
        fields,
        &errs,
        tr.t("重置", "Reset").into(),
        "/dashboard".into(),
    ))
}

// ---------------------------------------------------------------------------------------
// One's own password

fn own_password_fields(tr: Tr, errs: &[FieldError]) -> Vec<Field> {
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join(tr.t("；", "; "))
    };
    let field = |name: &str, label: &str| Field {
        name: name.into(),
        label: label.into(),
        value: String::new(),
        error: err(name),
        required: true,
        options: vec![],
        hint: String::new(),
        type_: "password".into(),
    };
    vec![
        field("current_password", tr.t("当前密码", "Current password")),
        field("new_password", tr.t("新密码（至少10位）", "New password (10+ characters)")),
        field("new_password_again", tr.t("再次输入新密码", "New password again")),
    ]
}

fn own_password_page(c: Chrome, errs: &[FieldError]) -> Response {
    let tr = c.tr;
    form_page(
        c,
        tr.t("修改密码", "Change your password").into(),
        OWN_PASSWORD_PAGE.into(),
        own_password_fields(tr, errs),
        errs,
        tr.t("修改", "Change").into(),
        "/dashboard".into(),
    )
}

/// The signed-in user's session for the password page (which a user who must change their
/// password may see), or a redirect to sign in.
async fn own_session(st: &AppState, headers: &HeaderMap, tr: Tr) -> Result<(Chrome, SessionInfo), Response> {
    match chrome_any(st, headers, tr).await? {
        (c, Some(s)) => Ok((c, s)),
        (_, None) => {
            Err(Redirect::to(&format!("/login?next={}", urlencode(OWN_PASSWORD_PAGE))).into_response())
        }
    }
}

async fn own_password_form(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
) -> Page {
    let (mut c, s) = own_session(&st, &headers, tr).await?;
    if s.must_change_password() {
        c.notice = Some((
            "info",
            tr.t(
                "您的密码由管理员设置，请先修改密码后再继续使用。",
                "An administrator set your password: change it before you go on.",
            )
            .to_owned(),
        ));
    }
    Ok(own_password_page(c, &[]))
}

async fn own_password_post(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let (mut c, s) = own_session(&st, &headers, tr).await?;
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (current_pw, new_pw) = (g("current_password"), g("new_password"));
    if new_pw != g("new_password_again") {
        let errs = [FieldError::new(
            "new_password_again",
            "mismatch",
            "两次输入的新密码不一致",
            "the two new passwords differ",
        )];
        return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, own_password_page(c, &errs)));
    }
    let cookie = axum_extra::extract::cookie::CookieJar::from_headers(&headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let in_use = kebao_service::auth::InUse::Session(&cookie);
    match st.svc.change_own_password(&s.actor, in_use, &current_pw, &new_pw).await {
        Ok(_) => {
            c.notice = Some((
                "ok",
                tr.t(
                    "密码已修改；您在其他地方的登录和 API 令牌均已失效。",
                    "Your password was changed; your other sessions and API tokens were ended.",
                )
                .to_owned(),
            ));
            Ok(own_password_page(c, &[]))
        }
        Err(ServiceError::Invalid(Invalid(errs))) => {
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, own_password_page(c, &errs)))
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}

// ---------------------------------------------------------------------------------------
// Every user (platform administrator)

struct UserRowT {
    name: String,
    username: String,
    org_id: String,
    org: String,
    roles: String,
    state: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersTpl {
    c: Chrome,
    rows: Vec<UserRowT>,
    nav: ListNav,
}

async fn users_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let query = list_query(&q);
    let listed = st.svc.user_list(&s.actor, &query).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let rows = listed
        .rows
        .iter()
        .map(|i| {
            let u = &i.user;
            UserRowT {
                name: u.display_name.clone(),
                username: u.username.clone(),
                org_id: u.org_id.clone(),
                org: i.org_name.clone(),
                roles: u
                    .roles
                    .iter()
                    .map(|r| tr.t(r.label_zh(), r.label_en()))
                    .collect::<Vec<_>>()
                    .join(tr.t("、", ", ")),
                state: if !u.active {
                    tr.t("已停用", "Deactivated")
                } else if u.must_change_password {
                    tr.t("待修改初始密码", "Must change the password set for them")
                } else {
                    tr.t("正常", "Active")
                }
                .to_owned(),
                active: u.active,
            }
        })
        .collect();
    let statuses = vec![
        ("active".to_owned(), tr.t("正常", "Active").to_owned()),
        ("inactive".to_owned(), tr.t("已停用", "Deactivated").to_owned()),
        ("must_change_password".to_owned(), tr.t("待修改初始密码", "Must change the password").to_owned()),
    ];
    Ok(html(&UsersTpl {
        c,
        rows,
        nav: ListNav {
            base: "/admin/users",
            q: query.q.trim().to_owned(),
            status: query.status.trim().to_owned(),
            statuses,
            page: listed.page,
            pages: listed.pages,
            total: listed.total,
        },
    }))
}
