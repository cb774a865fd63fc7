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
use kebao_domain::{FieldError, Invalid, OrgKind};
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

    /// The same for owned text (messages): the backticks the service puts around a user's
    /// input become quotation marks, as a person reads them.
    pub fn pick(&self, zh: String, en: String) -> String {
        let text = if self.en { en } else { zh };
        if !text.contains('`') {
            return text;
        }
        let (open, close) = if self.en { ('‘', '’') } else { ('“', '”') };
        let mut out = String::with_capacity(text.len() + 8);
        let mut inside = false;
        for ch in text.chars() {
            if ch == '`' {
                out.push(if inside { close } else { open });
                inside = !inside;
            } else {
                out.push(ch);
            }
        }
        out
    }
}

/// Sets the language from `?lang=` (remembered in a cookie), else the cookie, else zh-CN.
pub async fn language(mut req: Request, next: Next) -> Response {
    let from_query = query_language(req.uri());
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

/// The page's language for a request outside the [`language`] layer.
pub(super) fn language_of(uri: &axum::http::Uri, headers: &HeaderMap) -> Tr {
    let from_cookie = CookieJar::from_headers(headers).get(LANG_COOKIE).map(|c| c.value() == "en");
    Tr { en: query_language(uri).or(from_cookie).unwrap_or(false) }
}

fn query_language(uri: &axum::http::Uri) -> Option<bool> {
    uri.query().and_then(|q| {
        q.split('&').find_map(|kv| match kv {
            "lang=en" => Some(true),
            "lang=zh" => Some(false),
            _ => None,
        })
    })
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
    /// Today, for the heading of printed pages.
    pub today: String,
}

/// The signed-in user, as the header shows them.
pub struct UserChrome {
    pub display_name: String,
    /// Files products (insurers) or reviews filings (the zone).
    pub filings: bool,
    pub zone: bool,
    /// Zone officers and the regulator (the insurance overview).
    pub statutory: bool,
    /// The tech-insurance statistics: the zone's officers, the regulator and insurers.
    pub statistics: bool,
    /// The development index: the zone's officers and the regulator.
    pub index: bool,
    /// The evaluation of institutions: the zone's officers, the regulator, insurers and banks.
    pub evaluation: bool,
    /// The risk advisor: an enterprise's own staff.
    pub advisor: bool,
    /// Naming the advisor's broker: the zone's approvers.
    pub advisor_broker: bool,
    /// The risk lab's models: an institution's analysts, the zone's officers.
    pub lab: bool,
    pub platform_admin: bool,
    /// The daily pages of this user's roles (the menu shows these only).
    pub policies: bool,
    pub underwriting: bool,
    pub claims: bool,
    pub disputes: bool,
    pub subsidies: bool,
    /// Insured loans: their parties and the zone.
    pub loans: bool,
    pub consents: bool,
    pub audit: bool,
    /// Sees the background jobs.
    pub jobs: bool,
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
            let kind = match &info.actor {
                kebao_service::authz::Actor::User { org_kind, .. } => Some(*org_kind),
                _ => None,
            };
            let enterprise = kind == Some(OrgKind::Enterprise);
            let insurer = kind == Some(OrgKind::Insurer);
            let supervisor = ab.on_zone(Action::Supervise);
            info.actor.user().map(|u| UserChrome {
                display_name: u.display_name.clone(),
                filings: ab.on_zone(Action::ReviewProductQueue) || ab.on_own_org(Action::FileProduct),
                zone: ab.on_zone(Action::CreateOrg),
                statutory: ab.on_zone(Action::ReadInsuranceOverview),
                statistics: ab.on_zone(Action::ReadStatistics) || ab.on_own_org(Action::ReadStatistics),
                index: ab.on_zone(Action::ReadStatistics),
                evaluation: ab.on_zone(Action::ReadEvaluation) || ab.on_own_org(Action::ReadEvaluation),
                advisor: ab.on_own_org(Action::UseAdvisor),
                advisor_broker: ab.on_zone(Action::NameAdvisorBroker),
                lab: ab.on_own_org(Action::ReadModels) || ab.on_zone(Action::ReadModels),
                platform_admin: ab.on_zone(Action::ResetPassword),
                policies: enterprise || insurer || supervisor,
                underwriting: ab.on_zone(Action::ReadUnderwritingQueue),
                claims: enterprise || insurer || supervisor,
                disputes: enterprise || insurer || supervisor || ab.on_zone(Action::Mediate),
                subsidies: enterprise || supervisor,
                loans: enterprise
                    || matches!(kind, Some(OrgKind::Bank | OrgKind::Guarantor | OrgKind::Insurer))
                    || ab.on_zone(Action::ReadAllLoans),
                consents: enterprise
                    || matches!(kind, Some(OrgKind::Bank | OrgKind::Guarantor | OrgKind::Insurer)),
                audit: ab.on_zone(Action::ReadAudit),
                jobs: ab.on_zone(Action::ReadJobs),
            })
        }
        None => None,
    };
    let csrf = s.as_ref().map(|i| i.csrf_token.clone()).unwrap_or_default();
    Ok((Chrome { tr, user, csrf, unread, notice: None, today: state.svc.today().to_string() }, s))
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
        let (mut c, s) = signed_in(state, &parts.headers, tr, &here).await?;
        // What a redirect after a command says happened (`?done=code`, from a fixed list).
        if let Some(done) = parts.uri.query().and_then(|q| {
            q.split('&').find_map(|kv| kv.strip_prefix("done=")).and_then(|code| done_notice(tr, code))
        }) {
            c.notice = Some(("ok", done));
        }
        Ok(Authed { c, s, tr })
    }
}

/// The message for a `?done=` code: what the command the user just gave did, and what
/// happens next. Unknown codes say nothing (the code is never echoed).
pub(super) fn done_notice(tr: Tr, code: &str) -> Option<String> {
    let (zh, en) = match code {
        "applied" => (
            "投保申请已提交。保险机构按其规则自动承保，或转核保人员审核，结果见下方“投保申请”。",
            "Application sent. The insurer accepts it by its rules or refers it to an underwriter; see Applications below.",
        ),
        "premium" => ("保费收款已登记。", "Premium receipt recorded."),
        "model_uploaded" => ("模型已上传，待本机构另一人批准。", "Model uploaded; another person of the organisation approves it."),
        "model_approved" => ("模型已批准使用。", "Model approved for use."),
        "model_retired" => ("模型已停用（记录保留）。", "Model retired (kept on record)."),
        "loan_scored" => (
            "已按本行准入规则评分，结果见“评分卡准入建议”；是否同意仍由审查人员决定。",
            "Scored under the bank's admission rule; see the advice. The reviewer still decides.",
        ),
        "admission_set" => ("准入规则已生效：此后审查中的申请可按其评分。", "Admission rule in force: applications in review can be scored under it."),
        "admission_ended" => ("准入规则已停止使用。", "Admission rule ended."),
        "thresholds_set" => ("监测阈值已保存。", "Monitoring thresholds saved."),
        "switch_set" => ("示范区设置已更改。", "The zone's setting is changed."),
        "batch_queued" => (
            "批量评分任务已排队，进度见“实验室任务”；完成后结果进入模型监测。",
            "Batch scoring queued; progress under Lab jobs, then the results in the model's monitoring.",
        ),
        "extract_queued" => (
            "提取任务已排队，完成后出现在下方“经验数据”中（进度见“实验室任务”）。",
            "Extract queued; when done it appears under Experience data below (progress under Lab jobs).",
        ),
        "fit_queued" => (
            "拟合任务已排队，完成后模型出现在“模型”中，待本机构另一人批准。",
            "Fit queued; when done the model appears under Models, awaiting another person's approval.",
        ),
        "plan_from_model" => ("已将模型备案为该产品的费率表，生效后的报价按其计算。", "The model is filed as the product's rating plan; quotes from its date use it."),
        "bundle_applied" => (
            "投保组合已提交：每个报价已分别向其保险机构提交投保申请，结果见“我的保单”中的投保申请。",
            "Bundle applied for: one application to each quote's insurer; see the applications under My policies.",
        ),
        "broker_named" => ("已指定运营风险顾问的保险经纪机构，风险顾问进入经纪模式。", "Broker named: the advisor runs in broker mode."),
        "broker_ended" => ("已结束经纪机构的指定，风险顾问回到信息模式。", "Broker's naming ended: the advisor is back in information mode."),
        "evidence" => (
            "缴费凭证已上传，保险机构核对到账后登记收款。",
            "Payment evidence uploaded; the insurer records the premium once it sees the money.",
        ),
        "accept" => ("已承保并出单，投保企业会在其工作台看到保单。", "Accepted and bound; the enterprise sees the policy on its dashboard."),
        "decline" => ("已拒保，理由已告知投保企业。", "Declined; the enterprise is told the reasons."),
        "claim" => ("已报案。保险机构理赔人员接案后会与贵企业联系。", "Claim reported. The insurer's claims handler takes it and contacts you."),
        "claim_step" => ("理赔处理已记录。", "Claim step recorded."),
        "subsidy" => ("补贴申请已提交，进入属地初审。", "Subsidy application submitted for local review."),
        "subsidy_step" => ("审核结果已记录。", "Review recorded."),
        "dispute" => ("投诉已提交，调解机构受理后会联系双方。", "Complaint filed; a mediation centre takes it and contacts both parties."),
        "dispute_step" => ("调解记录已保存。", "Mediation record saved."),
        "revoked" => ("授权已撤回，此后的查询将被拒绝。", "Consent revoked; later queries are refused."),
        "changed" => ("保单变更已生效。", "Policy change in force."),
        "data_request" => (
            "请求已提交，平台管理员将在答复期限前答复，答复会通知您。",
            "Request sent. The platform's administrators answer by the date shown; you are notified.",
        ),
        "data_answer" => ("答复已记录，并已通知本人。", "Answer recorded; the person is notified."),
        "loan_applied" => (
            "贷款申请已提交，银行和保险机构将分别审查。",
            "Loan application sent; the bank and the insurer each review it.",
        ),
        "loan_decided" => ("决定已记录。", "Decision recorded."),
        "loan_disbursed" => ("放款已登记，还款计划已生成。", "Disbursement recorded; the schedule is set."),
        "loan_repayment" => ("还款已登记。", "Repayment recorded."),
        "loan_claimed" => (
            "索赔已提交，保险机构须在赔付期限内赔付其分担部分。",
            "Claim filed; the insurer pays its share by the deadline.",
        ),
        "loan_claim_paid" => ("赔付已登记，并已通知银行。", "Payment recorded; the bank is told."),
        "loan_guarantee_paid" => ("担保分担的损失已支付，并已通知银行。", "The guarantor's payment is recorded; the bank is told."),
        "loan_recovery" => ("追偿所得已登记，并按分担比例分配。", "Recovery recorded and shared by the loss shares."),
        "loan_policy_issued" => ("保证保险保单已签发，已通知银行放款。", "Policy issued; the bank is asked to disburse."),
        "repayments_imported" => ("还款批量登记完成。", "The batch of repayments is recorded."),
        "fund_paid" => ("风险补偿基金支付已登记。", "The fund's payment is recorded."),
        "loan_closed" => ("贷款已结案。", "The loan's case is closed."),
        "schemes_loaded" => ("方案版本已载入，自生效日起适用。", "The scheme versions are loaded; each applies from its first day."),
        "data_answer_offline" => (
            "答复已记录。此人不是平台用户：请按其留下的联系方式把答复和信息清单交给本人。",
            "Answer recorded. The person is not a user: give them the answer and the list of their data the way they asked.",
        ),
        "data_recorded" => (
            "已代为登记请求，并列入平台管理员的待办。",
            "Request recorded for the person and added to the administrators' to-dos.",
        ),
        "assessment" => (
            "影响评估已记录：相应的接收方或导出现可启用。",
            "Impact assessment recorded: its recipient or extract can now be enabled.",
        ),
        _ => return None,
    };
    Some(tr.t(zh, en).to_owned())
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
            .join(tr.t("；", "; ")),
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
    Chrome { tr, user: None, csrf: String::new(), unread: 0, notice: None, today: String::new() }
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

/// A refused step of a case page (claim, subsidy, dispute): which form, its messages and
/// what was typed, to show at that form.
#[derive(Default)]
pub(super) struct Refused(pub(super) Option<(String, Vec<String>, HashMap<String, String>)>);

impl Refused {
    /// The step `step` refused with `messages`, `typed` being what was sent.
    pub(super) fn step(step: &str, messages: Vec<String>, typed: HashMap<String, String>) -> Refused {
        Refused(Some((step.to_owned(), messages, typed)))
    }

    /// The messages of the form `step` if it was refused.
    pub(super) fn errs(&self, step: &str) -> &[String] {
        self.0.as_ref().filter(|f| f.0 == step).map_or(&[], |f| f.1.as_slice())
    }

    /// What was typed into the refused form's `field`.
    pub(super) fn v(&self, step: &str, field: &str) -> &str {
        self.0.as_ref().filter(|f| f.0 == step).and_then(|f| f.2.get(field)).map_or("", String::as_str)
    }

    pub(super) fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

/// An API error of a step as the messages of its form, each named for its field.
pub(super) fn step_messages(tr: Tr, api: &crate::error::ApiError) -> Vec<String> {
    if api.body.details.is_empty() {
        vec![tr.pick(api.body.message_zh.clone(), api.body.message.clone())]
    } else {
        api.body
            .details
            .iter()
            .map(|d| at_field(tr, &d.field, tr.pick(d.message_zh.clone(), d.message_en.clone())))
            .collect()
    }
}

/// A message at a step's form, named for its field where the field is one of the step forms'
/// (`日期：此项为必填项`).
pub(super) fn at_field(tr: Tr, field: &str, message: String) -> String {
    let label = match field {
        "on" => Some(("日期", "Date")),
        "notes" => Some(("记录", "Notes")),
        "outcome" => Some(("结果", "Outcome")),
        "forum" => Some(("去向", "Forum")),
        "amount_yuan" => Some(("金额", "Amount")),
        "reason" => Some(("理由", "Reason")),
        "reference" => Some(("凭证号", "Reference")),
        _ => None,
    };
    match label {
        Some((zh, en)) => format!("{}{}{message}", tr.t(zh, en), tr.t("：", ": ")),
        None => message,
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

/// The filter form and pager of a work list (`list_nav.html`).
pub struct ListNav {
    /// The list's path, e.g. `/policies`.
    pub base: &'static str,
    pub q: String,
    pub status: String,
    /// (code, label) of each status the list may be filtered by.
    pub statuses: Vec<(String, String)>,
    pub page: u32,
    pub pages: u32,
    pub total: usize,
}

impl ListNav {
    /// The search box's label: what the free text is matched against.
    pub fn search_label(&self) -> (&'static str, &'static str) {
        match self.base {
            "/admin/users" => ("搜索（姓名、登录名、机构）", "Search (name, username, organisation)"),
            _ => ("搜索（编号、当事人、产品）", "Search (number, party, product)"),
        }
    }

    /// The link to another page of the same filter.
    pub fn link(&self, page: u32) -> String {
        format!("{}?q={}&status={}&page={}", self.base, urlencode(&self.q), urlencode(&self.status), page)
    }

    pub fn prev(&self) -> u32 {
        self.page.saturating_sub(1)
    }

    pub fn next(&self) -> u32 {
        self.page.saturating_add(1)
    }
}

/// The work-list query of a page's URL (`q`, `status`, `page`).
pub(super) fn list_query(q: &HashMap<String, String>) -> kebao_service::worklists::ListQuery {
    kebao_service::worklists::ListQuery {
        q: q.get("q").cloned().unwrap_or_default(),
        status: q.get("status").cloned().unwrap_or_default(),
        page: q.get("page").and_then(|p| p.trim().parse().ok()).unwrap_or(1),
    }
}

/// A quote step's looked-up value as a person reads it: a life-cycle stage, a zone industry
/// or a standard revenue band by its label; numbers and an insurer's own band names as they are.
pub(super) fn step_detail(tr: Tr, industries: &kebao_domain::IndustryMap, detail: &str) -> String {
    if let Some(s) = kebao_domain::LifecycleStage::from_code(detail) {
        if s.code() == detail {
            return tr.t(s.label_zh(), s.label_en()).to_owned();
        }
    }
    if let Some(t) = industries.tag(detail) {
        return tr.t(&t.name_zh, &t.name_en).to_owned();
    }
    // A number ("1500000.5"): with thousands separators, as every amount.
    if let Some(grouped) = group_digits(detail) {
        return grouped;
    }
    // Amounts in yuan within the text ("2000000 元 × 0.012"): grouped, the unit in the page's
    // language.
    if detail.contains(" 元") {
        let parts: Vec<&str> = detail.split(" 元").collect();
        let mut out = String::with_capacity(detail.len() + 8);
        for (i, part) in parts.iter().enumerate() {
            if i + 1 < parts.len() {
                let start = part
                    .char_indices()
                    .rev()
                    .take_while(|(_, c)| c.is_ascii_digit() || *c == '.' || *c == '-')
                    .last()
                    .map_or(part.len(), |(k, _)| k);
                let (head, number) = part.split_at(start);
                out.push_str(head);
                out.push_str(&group_digits(number).unwrap_or_else(|| number.to_owned()));
                out.push_str(tr.t(" 元", " yuan"));
            } else {
                out.push_str(part);
            }
        }
        return out;
    }
    let (zh, en) = kebao_domain::keys::band_label(detail);
    tr.t(zh, en).to_owned()
}

/// A plain decimal number (`2000000`, `-1500.25`) with thousands separators; `None` for
/// anything else.
pub(super) fn group_digits(s: &str) -> Option<String> {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    Some(match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    })
}
