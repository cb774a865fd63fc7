//! UI of applications, underwriting and policies.

use super::kit::{
    check_csrf, error_page, form_messages, html, list_query, with_status, Authed, Chrome, ListNav, Page,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::policy::{Application, ApplicationStep, EndorsementKind, PolicyStatus, PolicyStep};
use kebao_domain::{FieldError, Money};
use kebao_service::authz::{Action, Actor};
use kebao_service::worklists::PolicyState;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/apply", post(apply))
        .route("/policies", get(policies_page))
        .route("/policies/{id}", get(policy_page))
        .route("/policies/{id}/premium", post(premium_post))
        .route("/policies/{id}/payment-evidence", post(evidence_upload))
        .route("/policies/{id}/payment-evidence/{doc}", get(evidence_download))
        .route("/underwriting", get(queue_page))
        .route("/underwriting/{id}", post(decide_post))
        .route("/policies/{id}/change", post(change_post))
        .route("/zone/insurance", get(overview_page))
        .route("/zone/insurance.xlsx", get(overview_xlsx))
        .route("/policies.xlsx", get(policies_xlsx))
}

struct AppRow {
    id: String,
    product_id: String,
    /// The product's name (or a generic label when the viewer may not read it).
    product: String,
    /// The applicant enterprise's id and name.
    applicant_id: String,
    applicant: String,
    status: String,
    status_code: String,
    reasons: String,
    premium: String,
    period: String,
    /// The decisions the viewer may take now (code, label), from the service.
    steps: Vec<(String, String)>,
}

/// The names a list of applications shows: products and applicant enterprises.
struct AppNames {
    products: HashMap<String, String>,
    orgs: HashMap<String, String>,
}

async fn app_names(st: &AppState, actor: &Actor, apps: &[Application]) -> AppNames {
    let mut products = HashMap::new();
    for a in apps {
        if !products.contains_key(&a.product_id) {
            if let Ok(v) = st.svc.product(actor, &a.product_id).await {
                products.insert(a.product_id.clone(), v.shown.content.name.clone());
            }
        }
    }
    let ids: Vec<&str> = apps.iter().map(|a| a.enterprise_id.as_str()).collect();
    let orgs = st.svc.org_names(actor, &ids).await.unwrap_or_default();
    AppNames { products, orgs }
}

fn app_row(c: &Chrome, a: &Application, steps: &[ApplicationStep], names: &AppNames) -> AppRow {
    let label = |s: ApplicationStep| match s {
        ApplicationStep::Accept => c.tr.t("承保并出单", "Accept and bind"),
        _ => c.tr.t(s.label_zh(), s.label_en()),
    };
    AppRow {
        id: a.id.clone(),
        product_id: a.product_id.clone(),
        product: names
            .products
            .get(&a.product_id)
            .cloned()
            .unwrap_or_else(|| c.tr.t("查看产品", "product").to_owned()),
        applicant_id: a.enterprise_id.clone(),
        applicant: names.orgs.get(&a.enterprise_id).cloned().unwrap_or_default(),
        status: c.tr.t(a.status.label_zh(), a.status.label_en()).to_owned(),
        status_code: a.status.code().to_owned(),
        reasons: a
            .reasons
            .iter()
            .map(|r| kebao_domain::policy::reason_text(r, c.tr.en))
            .collect::<Vec<_>>()
            .join(c.tr.t("；", "; ")),
        premium: a.premium.display_yuan(),
        period: format!("{} — {}", a.start_date, a.end_date),
        steps: steps.iter().map(|s| (s.code().to_owned(), label(*s).to_owned())).collect(),
    }
}

struct PolicyRowT {
    id: String,
    number: String,
    holder: String,
    insurer: String,
    product: String,
    period: String,
    premium: String,
    status: String,
    status_code: &'static str,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesTpl {
    c: Chrome,
    apps: Vec<AppRow>,
    policies: Vec<PolicyRowT>,
    enterprise: bool,
    nav: ListNav,
}

async fn policies_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let enterprise =
        matches!(&s.actor, Actor::User { org_kind, .. } if *org_kind == kebao_domain::OrgKind::Enterprise);
    let apps = if enterprise {
        st.svc.my_applications(&s.actor).await.map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?
    } else {
        Vec::new()
    };
    let query = list_query(&q);
    let listed = st
        .svc
        .policy_list(&s.actor, &query)
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let names = app_names(&st, &s.actor, &apps).await;
    Ok(html(&PoliciesTpl {
        apps: apps.iter().map(|a| app_row(&c, a, &[], &names)).collect(),
        policies: listed
            .rows
            .iter()
            .map(|i| PolicyRowT {
                id: i.policy.id.clone(),
                number: i.policy.number.clone(),
                holder: i.parties.holder.clone(),
                insurer: i.parties.insurer.clone(),
                product: i.parties.product.clone(),
                period: format!("{} — {}", i.policy.start_date, i.policy.last_day()),
                premium: i.policy.premium.display_yuan(),
                status: tr.t(i.state.label_zh(), i.state.label_en()).to_owned(),
                status_code: i.state.code(),
            })
            .collect(),
        enterprise,
        nav: ListNav {
            base: "/policies",
            q: query.q.trim().to_owned(),
            status: query.status.trim().to_owned(),
            statuses: PolicyState::ALL
                .iter()
                .map(|s| (s.code().to_owned(), tr.t(s.label_zh(), s.label_en()).to_owned()))
                .collect(),
            page: listed.page,
            pages: listed.pages,
            total: listed.total,
        },
        c,
    }))
}

/// seq, kind, effective, old, new, adjustment, explanation, reason.
type EndorsementLine = (i64, String, String, String, String, String, String, String);

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyTpl {
    c: Chrome,
    id: String,
    number: String,
    insurer: String,
    enterprise: String,
    product: String,
    period: String,
    premium: String,
    paid: String,
    /// The limit and deductible insured by this policy (as rated).
    limit: String,
    deductible: String,
    coverages: Vec<(String, String, String)>,
    trace: Vec<(String, String, String, String)>,
    /// What the viewer may do now (from the service's `policy_actions`).
    can_record: bool,
    can_claim: bool,
    can_endorse: bool,
    can_refund: bool,
    can_cancel: bool,
    can_renew: bool,
    can_subsidy: bool,
    /// The viewer is the policyholder (the cancellation form's wording).
    holder: bool,
    errors: Vec<String>,
    status: String,
    /// Premium due now, refund owed and refunded (display).
    due: String,
    refund_due: String,
    refund_paid: String,
    has_refund: bool,
    refund_method: String,
    /// seq, kind, effective, old, new, adjustment, explanation, reason.
    endorsements: Vec<EndorsementLine>,
    /// insurer, share (percent).
    shares: Vec<(String, String)>,
    can_coinsure: bool,
    insurers: Vec<(String, String)>,
    /// The terms now in force, to prefill the endorsement form (yuan).
    cur_limit: String,
    cur_deductible: String,
    cur_sum_insured: String,
    cur_revenue: String,
    today: String,
    /// How to pay what is due (shown while premium is due, or evidence was given).
    pay: Option<PayView>,
    /// What was typed into a form that was refused, and each field's error.
    typed: Typed,
    /// The insured object and parties besides the policyholder: (label, value).
    subject: Vec<(String, String)>,
    /// A policy bought outside the platform: its registration.
    reg: Option<RegView>,
    insured_named: bool,
    /// The sum insured, where the policy has one (display).
    sum_insured: String,
}

/// The registration card of a policy bought outside the platform.
pub(super) struct RegView {
    /// Waiting for the insurer's answer.
    awaiting: bool,
    /// Who answered, when, and their note.
    answer: Option<(String, String, String)>,
    /// Id, file name, when uploaded.
    docs: Vec<(String, String, String)>,
    can_upload: bool,
    can_answer: bool,
    premium: String,
}

impl PolicyTpl {
    /// The policy names an insured other than the policyholder.
    fn insured_named(&self) -> bool {
        self.insured_named
    }

    /// A registered policy that waits for its insurer's confirmation.
    fn awaiting(&self) -> bool {
        self.reg.as_ref().is_some_and(|r| r.awaiting)
    }

    /// The insurer's answer form: name and label.
    fn answer_fields(&self) -> [(&'static str, &'static str); 3] {
        let tr = self.c.tr;
        [
            (
                "premium_yuan",
                tr.t("保单保费（元，按本公司记录）", "Premium on the policy (yuan, as we booked it)"),
            ),
            ("received_yuan", tr.t("已收保费（元）", "Premium received (yuan)")),
            ("note", tr.t("说明（不予确认时必填）", "Note (required when not confirming)")),
        ]
    }

    /// The claim form's fields: name and label.
    fn claim_fields(&self) -> [(&'static str, &'static str); 3] {
        let tr = self.c.tr;
        [
            ("loss_date", tr.t("出险日期", "Date of loss")),
            ("claimed_yuan", tr.t("索赔金额（元）", "Amount claimed (yuan)")),
            ("description", tr.t("出险经过", "What happened")),
        ]
    }
}

/// A refused form's input, to show again with each error at its field.
#[derive(Default)]
pub(super) struct Typed {
    /// Which of the page's forms was sent (`claim`, `premium`, `endorse`, `cancel` …).
    pub(super) form: String,
    pub(super) values: HashMap<String, String>,
    pub(super) errors: HashMap<String, String>,
}

impl Typed {
    /// The form `form` refused: what was typed and the errors by field.
    pub(super) fn new(
        form: &str,
        values: HashMap<String, String>,
        errors: &[kebao_domain::FieldError],
        tr: super::Tr,
    ) -> Typed {
        let errors = errors
            .iter()
            .map(|e| (e.field.clone(), tr.pick(e.message_zh.clone(), e.message_en.clone())))
            .collect();
        Typed { form: form.to_owned(), values, errors }
    }

    /// What `form`'s `field` shows: what was typed into it, else `default`.
    pub(super) fn val(&self, form: &str, field: &str, default: &str) -> String {
        match self.values.get(field) {
            Some(v) if self.form == form => v.clone(),
            _ => default.to_owned(),
        }
    }

    /// The error at `form`'s `field`, if that form was refused there.
    pub(super) fn err(&self, form: &str, field: &str) -> &str {
        if self.form == form {
            self.errors.get(field).map_or("", String::as_str)
        } else {
            ""
        }
    }
}

/// The payment card of a policy page.
pub(super) struct PayView {
    /// Bank, account name, account number, note: the insurer's collection account.
    account: Option<(String, String, String, String)>,
    reference: String,
    due: String,
    due_zero: bool,
    /// Id, file name, when uploaded.
    evidence: Vec<(String, String, String)>,
    can_submit: bool,
}

/// The policy page after a refused form: errors at the form's own fields are shown there,
/// the others above the forms.
#[allow(clippy::too_many_arguments, reason = "the page and the refused form")]
pub(super) async fn refused(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    form: &str,
    fields: &[&str],
    values: HashMap<String, String>,
    e: ServiceError,
) -> Response {
    let tr = c.tr;
    match super::kit::form_errors(e) {
        Ok(errs) => {
            let (at, other): (Vec<_>, Vec<_>) =
                errs.into_iter().partition(|f| fields.contains(&f.field.as_str()));
            let other = other.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect();
            let typed = Typed::new(form, values, &at, tr);
            render_policy_typed(st, c, actor, id, other, typed).await
        }
        Err(other) => error_page(tr, c, other),
    }
}

pub(super) async fn render_policy(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    errors: Vec<String>,
) -> Response {
    render_policy_typed(st, c, actor, id, errors, Typed::default()).await
}

/// The policy page again after a refused form, with what was typed and the errors at their
/// fields.
pub(super) async fn render_policy_typed(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    errors: Vec<String>,
    typed: Typed,
) -> Response {
    let tr = c.tr;
    let v = match st.svc.policy(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(tr, c, e),
    };
    let sched = &v.policy.schedule;
    let coverages = sched
        .product
        .coverages
        .iter()
        .map(|x| (x.name.clone(), x.limit.display_yuan(), x.deductible.display_yuan()))
        .collect();
    let trace = sched
        .trace
        .iter()
        .map(|s| {
            (
                if tr.en { s.label_en.clone() } else { s.label_zh.clone() },
                super::kit::step_detail(tr, st.svc.industries(), &s.detail),
                s.factor.clone().unwrap_or_default(),
                super::kit::group_digits(&s.running).unwrap_or_else(|| s.running.clone()),
            )
        })
        .collect();
    let steps = match st.svc.policy_actions(actor, id).await {
        Ok(x) => x,
        Err(e) => return error_page(tr, c, e),
    };
    let may = |s: PolicyStep| steps.contains(&s);
    let (ends, shares, pos) = match st.svc.policy_changes(actor, id).await {
        Ok(x) => x,
        Err(e) => return error_page(tr, c, e),
    };
    let y = |f: i64| Money::from_fen(f).display_yuan();
    let current = &v.policy.input;
    let insurers = st.svc.coinsurer_candidates(actor, id).await.unwrap_or_default();
    let refund_method = match sched.product.refund {
        kebao_domain::cover::RefundMethod::ShortRate { .. } => tr.t("短期费率表", "short-rate table"),
        kebao_domain::cover::RefundMethod::ProRata => tr.t("按日比例", "pro rata"),
    }
    .to_owned();
    let holder = actor.org_id() == Some(v.policy.enterprise_id.as_str());
    let can_subsidy = st
        .svc
        .allowed_actions(actor, &kebao_service::policies::policy_resource(&v.policy))
        .contains(&Action::ApplySubsidy);
    let pay = match st.svc.payment_instructions(actor, id).await {
        Ok(p) if p.due > Money::ZERO || !p.evidence.is_empty() => Some(PayView {
            account: p.account.map(|a| (a.bank, a.account_name, a.account_no, a.note)),
            reference: p.reference,
            due: p.due.display_yuan(),
            due_zero: p.due == Money::ZERO,
            evidence: p
                .evidence
                .iter()
                .map(|a| {
                    let at = kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(
                        a.uploaded_at_us,
                    ));
                    (a.id.clone(), a.file_name.clone(), at)
                })
                .collect(),
            can_submit: p.can_submit,
        }),
        Ok(_) => None,
        Err(e) => return error_page(tr, c, e),
    };
    let registered = matches!(
        v.policy.status,
        PolicyStatus::Unconfirmed | PolicyStatus::Registered | PolicyStatus::Unrecognised
    );
    let reg = if registered {
        let docs =
            match st.svc.attachments(actor, &kebao_domain::attachment::Owner::registered_policy(id)).await {
                Ok(d) => d,
                Err(e) => return error_page(tr, c, e),
            };
        let at = |us: i64| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us));
        let awaiting = v.policy.status == PolicyStatus::Unconfirmed;
        Some(RegView {
            awaiting,
            answer: v.policy.answer.as_ref().map(|a| (a.by.clone(), at(a.at_us), a.note.clone())),
            docs: docs.iter().map(|d| (d.id.clone(), d.file_name.clone(), at(d.uploaded_at_us))).collect(),
            can_upload: awaiting
                && holder
                && st
                    .svc
                    .allowed_actions(actor, &kebao_service::authz::Resource::Zone)
                    .contains(&Action::RegisterPolicy),
            can_answer: may(PolicyStep::ConfirmRegistration),
            premium: v.policy.premium.to_yuan_string(),
        })
    } else {
        None
    };
    let status = if errors.is_empty() && typed.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    with_status(
        status,
        html(&PolicyTpl {
            pay,
            typed,
            subject: super::registered::subject_lines(tr, &v.policy.subject),
            insured_named: v.policy.subject.insured.is_some(),
            sum_insured: if current.sum_insured > Money::ZERO {
                current.sum_insured.display_yuan()
            } else {
                String::new()
            },
            reg,
            id: v.policy.id.clone(),
            number: v.policy.number.clone(),
            insurer: v.insurer_name.clone(),
            enterprise: v.enterprise_name.clone(),
            product: sched.product.name.clone(),
            period: format!("{} — {}", v.policy.start_date, v.policy.end_date),
            premium: v.policy.premium.display_yuan(),
            paid: v.paid.display_yuan(),
            limit: current.limit.display_yuan(),
            deductible: current.deductible.display_yuan(),
            coverages,
            trace,
            can_record: may(PolicyStep::PayPremium),
            can_claim: may(PolicyStep::ReportClaim),
            can_endorse: may(PolicyStep::Endorse),
            can_refund: may(PolicyStep::Refund) && pos.refund_due > pos.refund_paid,
            can_cancel: may(PolicyStep::Cancel),
            can_renew: may(PolicyStep::Renew),
            can_subsidy,
            holder,
            errors,
            status: tr.t(v.policy.status.label_zh(), v.policy.status.label_en()).to_owned()
                + &v.policy
                    .cancelled_on
                    .as_ref()
                    .map(|d| format!("（{} {d}）", tr.t("保障至", "cover ended")))
                    .unwrap_or_default(),
            due: y(pos.due),
            refund_due: y(pos.refund_due),
            refund_paid: y(pos.refund_paid),
            has_refund: pos.refund_due > 0,
            refund_method,
            endorsements: ends
                .iter()
                .map(|e| {
                    (
                        e.seq,
                        match e.kind {
                            EndorsementKind::Cancel => tr.t("退保/解除", "cancellation"),
                            EndorsementKind::Change => tr.t("批改", "endorsement"),
                        }
                        .to_owned(),
                        e.effective_date.to_string(),
                        e.old_premium.display_yuan(),
                        e.new_premium.display_yuan(),
                        e.adjustment.display_yuan(),
                        e.explanation.clone(),
                        e.reason.clone(),
                    )
                })
                .collect(),
            shares: shares
                .iter()
                .map(|(_, name, bp)| (name.clone(), format!("{}.{:02}%", bp / 100, bp % 100)))
                .collect(),
            can_coinsure: !insurers.is_empty(),
            insurers,
            cur_limit: current.limit.to_yuan_string(),
            cur_deductible: current.deductible.to_yuan_string(),
            cur_sum_insured: current.sum_insured.to_yuan_string(),
            cur_revenue: current.revenue.to_yuan_string(),
            today: st.svc.today().to_string(),
            c,
        }),
    )
}

async fn policy_page(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
) -> Page {
    Ok(render_policy(&st, c, &s.actor, &id, Vec::new()).await)
}

async fn premium_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let r = match Money::parse_yuan(&g("amount_yuan"), "amount_yuan") {
        Ok(m) => st.svc.record_premium_paid(&s.actor, &id, m, &g("reference")).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/policies/{id}?done=premium")).into_response()),
        Err(e) => {
            Err(refused(&st, c, &s.actor, &id, "premium", &["amount_yuan", "reference"], form, e).await)
        }
    }
}

async fn apply(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let req = crate::forms::products::QuoteRequestDto {
        limit_yuan: g("limit_yuan"),
        deductible_yuan: g("deductible_yuan"),
        sum_insured_yuan: g("sum_insured_yuan"),
        revenue_yuan: g("revenue_yuan"),
        industry: form.get("industry").cloned(),
        stage: form.get("stage").cloned(),
        claims_3y: g("claims_3y").trim().parse().unwrap_or(0),
        on: None,
    };
    if g("confirm") != "yes" {
        let e = FieldError::new(
            "confirm",
            "required",
            "请阅读保险条款与报价，勾选确认后再投保",
            "read the terms and the quote and tick the confirmation before applying",
        );
        return Err(with_status(StatusCode::UNPROCESSABLE_ENTITY, error_page(tr, c, e.into())));
    }
    let input = match crate::forms::products::quote_input(&req) {
        Ok(i) => i,
        Err(api) => {
            let msg = api
                .body
                .details
                .iter()
                .map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone()))
                .collect::<Vec<_>>()
                .join(tr.t("；", "; "));
            return Err(error_page(tr, c, FieldError::new("quote", "invalid", msg.clone(), msg).into()));
        }
    };
    let subject = match kebao_domain::subject::Subject::parse(&super::registered::subject_fields(&form)) {
        Ok(x) => x,
        Err(e) => {
            return Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                error_page(tr, c, ServiceError::Invalid(e)),
            ))
        }
    };
    match st.svc.apply_for_policy_with(&s.actor, &id, &input, &g("start_date"), &subject).await {
        Ok(_) => Ok(Redirect::to("/policies?done=applied").into_response()),
        Err(e) => Err(error_page(tr, c, e)),
    }
}

#[derive(Template)]
#[template(path = "underwriting.html")]
struct QueueTpl {
    c: Chrome,
    apps: Vec<AppRow>,
    /// A refused decision: the application, its errors and the reason typed.
    failed: Option<(String, Vec<String>, String)>,
}

impl QueueTpl {
    fn errors_for(&self, id: &str) -> &[String] {
        self.failed.as_ref().filter(|f| f.0 == id).map_or(&[], |f| f.1.as_slice())
    }

    fn typed(&self, id: &str) -> &str {
        self.failed.as_ref().filter(|f| f.0 == id).map_or("", |f| f.2.as_str())
    }
}

async fn queue_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_queue(&st, c, &s.actor, tr, None).await
}

async fn render_queue(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    tr: super::Tr,
    failed: Option<(String, Vec<String>, String)>,
) -> Page {
    let apps = st
        .svc
        .underwriting_queue(actor)
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let names = app_names(st, actor, &apps).await;
    let mut rows = Vec::new();
    for a in &apps {
        let steps = st
            .svc
            .application_actions(actor, &a.id)
            .await
            .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
        rows.push(app_row(&c, a, &steps, &names));
    }
    let status = if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(with_status(status, html(&QueueTpl { apps: rows, failed, c })))
}

async fn decide_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let decision = form.get("decision").map_or("", String::as_str);
    let step = match crate::forms::policies::application_step("decision", decision) {
        Ok(step) => step,
        Err(e) => return Err(error_page(tr, c, e.into())),
    };
    let reason = form.get("reason").map_or("", String::as_str);
    match st.svc.decide_application(&s.actor, &id, step, reason).await {
        Ok(_) => Ok(Redirect::to(&format!("/underwriting?done={}", step.code())).into_response()),
        // Shown at the application's row, with what was typed kept.
        Err(e) => match form_messages(tr, e) {
            Ok(m) => render_queue(&st, c, &s.actor, tr, Some((id, m, reason.to_owned()))).await,
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

/// The policy page's change forms: `action` is endorse, cancel, refund, renew or coinsure.
async fn change_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let money = |k: &str| -> Result<Money, ServiceError> {
        let v = g(k);
        if v.trim().is_empty() {
            Ok(Money::ZERO)
        } else {
            Money::parse_yuan(&v, k).map_err(ServiceError::from)
        }
    };
    let r: Result<String, ServiceError> = async {
        match crate::forms::policies::policy_step("action", &g("action"))? {
            PolicyStep::Endorse => {
                let current = st.svc.policy(&s.actor, &id).await.map(|v| v.policy.input).unwrap_or_default();
                let input = kebao_domain::rating::QuoteInput {
                    limit: money("limit_yuan")?,
                    deductible: money("deductible_yuan")?,
                    sum_insured: money("sum_insured_yuan")?,
                    revenue: money("revenue_yuan")?,
                    ..current
                };
                st.svc.endorse_policy(&s.actor, &id, &input, &g("effective_date"), &g("reason")).await?;
                Ok(format!("/policies/{id}#changes"))
            }
            PolicyStep::Cancel => {
                st.svc.cancel_policy(&s.actor, &id, &g("last_day"), &g("reason")).await?;
                Ok(format!("/policies/{id}#changes"))
            }
            PolicyStep::Refund => {
                st.svc.record_refund_paid(&s.actor, &id, money("amount_yuan")?, &g("reference")).await?;
                Ok(format!("/policies/{id}#changes"))
            }
            PolicyStep::Renew => {
                st.svc.renew_policy(&s.actor, &id).await?;
                Ok("/policies".to_owned())
            }
            PolicyStep::PayPremium => {
                st.svc.record_premium_paid(&s.actor, &id, money("amount_yuan")?, &g("reference")).await?;
                Ok(format!("/policies/{id}"))
            }
            PolicyStep::Coinsure => {
                let pct = g("share_percent");
                let bp = pct
                    .trim()
                    .trim_end_matches('%')
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && *p > 0.0 && *p < 100.0)
                    .map(|p| (p * 100.0).round() as u32)
                    .ok_or_else(|| {
                        ServiceError::from(FieldError::new(
                            "share_percent",
                            "share",
                            format!("共保份额 `{pct}` 应为 0 到 100 之间的百分数"),
                            format!("the share `{pct}` must be a percentage between 0 and 100"),
                        ))
                    })?;
                st.svc.set_coinsurance(&s.actor, &id, &[(g("insurer_id"), bp)]).await?;
                Ok(format!("/policies/{id}#changes"))
            }
            PolicyStep::ReportClaim => Ok(format!("/policies/{id}#report-claim")),
            step @ (PolicyStep::ConfirmRegistration | PolicyStep::RejectRegistration) => {
                let f = super::registered::answer_fields(step == PolicyStep::ConfirmRegistration, &form);
                st.svc.answer_registration(&s.actor, &id, &f).await?;
                Ok(format!("/policies/{id}#registration"))
            }
        }
    }
    .await;
    match r {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            let action = g("action");
            let fields: &[&str] = match action.as_str() {
                "endorse" => &[
                    "limit_yuan",
                    "deductible_yuan",
                    "sum_insured_yuan",
                    "revenue_yuan",
                    "effective_date",
                    "reason",
                ],
                "cancel" => &["last_day", "reason"],
                "refund" => &["amount_yuan", "reference"],
                "coinsure" => &["insurer_id", "share_percent"],
                _ => &[],
            };
            Err(refused(&st, c, &s.actor, &id, &action, fields, form.clone(), e).await)
        }
    }
}

struct OverviewRow {
    name: String,
    in_force: u64,
    cancelled: u64,
    written: String,
    received: String,
    open: u64,
    closed: u64,
    paid: String,
    cycle: String,
    payout: String,
    earned: String,
    loss_ratio: String,
    disputes: String,
}

#[derive(Template)]
#[template(path = "zone_insurance.html")]
struct OverviewTpl {
    c: Chrome,
    rows: Vec<OverviewRow>,
    total: OverviewRow,
    written_chart: String,
    payout_chart: String,
}

async fn overview_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let o = st
        .svc
        .insurance_overview(&s.actor)
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let row = |l: &kebao_service::overview::InsurerLine| OverviewRow {
        name: if l.insurer_id.is_empty() {
            tr.t("合计", "Total").to_owned()
        } else {
            l.insurer_name.clone()
        },
        earned: Money::from_fen(l.earned_fen).display_yuan(),
        loss_ratio: l.loss_ratio.map_or("—".into(), |r| format!("{:.1}%", r * 100.0)),
        in_force: l.policies_in_force,
        cancelled: l.policies_cancelled,
        written: Money::from_fen(l.written_fen).display_yuan(),
        received: Money::from_fen(l.received_fen).display_yuan(),
        open: l.claims_open,
        closed: l.claims_closed,
        paid: Money::from_fen(l.paid_fen).display_yuan(),
        cycle: l.mean_cycle_days.map_or("—".into(), |d| format!("{d:.1}")),
        payout: l.payout_ratio.map_or("—".into(), |r| format!("{:.1}%", r * 100.0)),
        disputes: format!("{} / {} / {}", l.disputes_open, l.disputes_settled, l.disputes_escalated),
    };
    let written: Vec<(String, f64)> = o
        .lines
        .iter()
        .filter(|l| l.written_fen != 0)
        .map(|l| (l.insurer_name.clone(), l.written_fen as f64 / 100.0))
        .collect();
    let payout: Vec<(String, f64)> = o
        .lines
        .iter()
        .filter_map(|l| l.payout_ratio.map(|r| (l.insurer_name.clone(), (r * 1000.0).round() / 10.0)))
        .collect();
    Ok(html(&OverviewTpl {
        rows: o.lines.iter().map(row).collect(),
        total: row(&o.total),
        written_chart: if written.is_empty() {
            String::new()
        } else {
            super::svg::hbar(&written, tr.t(" 元", " yuan"))
        },
        payout_chart: if payout.is_empty() { String::new() } else { super::svg::hbar(&payout, "%") },
        c,
    }))
}

/// The overview as a workbook (yuan as numbers with two decimals, ratios in percent).
async fn overview_xlsx(State(st): State<AppState>, Authed { s, tr, .. }: Authed) -> Page {
    let o = st
        .svc
        .insurance_overview(&s.actor)
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let y = |f: i64| Money::from_fen(f).to_yuan_string();
    let line = |l: &kebao_service::overview::InsurerLine| {
        vec![
            if l.insurer_id.is_empty() { tr.t("合计", "Total").to_owned() } else { l.insurer_name.clone() },
            l.policies_in_force.to_string(),
            l.policies_cancelled.to_string(),
            y(l.written_fen),
            y(l.received_fen),
            l.claims_open.to_string(),
            l.claims_closed.to_string(),
            y(l.claimed_fen),
            y(l.paid_fen),
            l.mean_cycle_days.map(|d| format!("{d:.1}")).unwrap_or_default(),
            l.payout_ratio.map(|r| format!("{:.1}", r * 100.0)).unwrap_or_default(),
            y(l.earned_fen),
            y(l.incurred_fen),
            l.loss_ratio.map(|r| format!("{:.1}", r * 100.0)).unwrap_or_default(),
            l.disputes_open.to_string(),
            l.disputes_settled.to_string(),
            l.disputes_escalated.to_string(),
        ]
    };
    let mut rows: Vec<Vec<String>> = o.lines.iter().map(line).collect();
    rows.push(line(&o.total));
    let table = kebao_service::tabular::Table {
        headers: [
            "保险机构",
            "有效保单",
            "已退保",
            "签单保费（净，元）",
            "实收保费（净，元）",
            "未结案",
            "已结案",
            "结案索赔额（元）",
            "已赔付（元）",
            "平均结案天数",
            "结案赔付比（已赔÷索赔，%）",
            "已赚保费（元）",
            "已发生赔款（已付+未决，元）",
            "赔付率（已发生÷已赚，%）",
            "调解进行中",
            "调解成功",
            "转仲裁或诉讼",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect(),
        rows,
    };
    let bytes = kebao_service::tabular::write_xlsx(&table, "insurance overview")
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), ServiceError::Internal(e)))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"kebao-insurance-overview.xlsx\"".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub(super) fn xlsx_response(
    table: &kebao_service::tabular::Table,
    sheet: &str,
    file: &str,
    tr: super::Tr,
) -> Page {
    let bytes = kebao_service::tabular::write_xlsx(table, sheet)
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), ServiceError::Internal(e)))?;
    Ok(xlsx_download(bytes, file))
}

/// A workbook's bytes as a download named `file`.
pub(super) fn xlsx_download(bytes: Vec<u8>, file: &str) -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// The organisation's policies as a workbook (as enterprise, insurer or co-insurer).
async fn policies_xlsx(State(st): State<AppState>, Authed { s, tr, .. }: Authed) -> Page {
    let pols =
        st.svc.my_policies(&s.actor).await.map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let table = kebao_service::tabular::Table {
        headers: ["保单号", "起保日", "终止日", "年化保费（元）", "状态", "退保/解除后保障至"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
        rows: pols
            .iter()
            .map(|p| {
                vec![
                    p.number.clone(),
                    p.start_date.to_string(),
                    p.end_date.to_string(),
                    p.premium.to_yuan_string(),
                    p.status.label_zh().to_owned(),
                    p.cancelled_on.map(|d| d.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
    };
    xlsx_response(&table, "policies", "kebao-policies.xlsx", tr)
}

async fn evidence_upload(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    multipart: axum::extract::Multipart,
) -> Page {
    let owner = kebao_service::payments::evidence_owner(&id);
    upload_to_policy(&st, c, &s, tr, &id, multipart, &owner, "evidence#pay").await
}

/// A file uploaded from the policy page to one of the policy's attachment owners (payment
/// evidence, a registered policy's documents): back to the page, or the page with the problem.
#[allow(clippy::too_many_arguments, reason = "the request's parts and where the file goes")]
pub(super) async fn upload_to_policy(
    st: &AppState,
    c: super::kit::Chrome,
    s: &kebao_service::auth::SessionInfo,
    tr: super::Tr,
    id: &str,
    multipart: axum::extract::Multipart,
    owner: &kebao_domain::attachment::Owner,
    done: &str,
) -> Page {
    let (name, bytes) = match super::kit::page_upload(multipart, s, tr).await {
        Ok(x) => x,
        Err(Ok(msg)) => {
            return Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_policy(st, c, &s.actor, id, vec![msg]).await,
            ))
        }
        Err(Err(refused)) => return Err(refused),
    };
    match st.svc.attach(&s.actor, owner, &name, &bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/policies/{id}?done={done}")).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_policy(st, c, &s.actor, id, m).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn evidence_download(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path((id, doc)): Path<(String, String)>,
) -> Page {
    policy_attachment(&st, c, &s.actor, tr, &doc, &kebao_service::payments::evidence_owner(&id)).await
}

/// One of a policy's files, for whoever may read its owner's files; others are told it does
/// not exist (also when the file belongs to another owner).
pub(super) async fn policy_attachment(
    st: &AppState,
    c: super::kit::Chrome,
    actor: &Actor,
    tr: super::Tr,
    doc: &str,
    owner: &kebao_domain::attachment::Owner,
) -> Page {
    match st.svc.attachment(actor, doc).await {
        Ok((a, body)) if a.owner == *owner => Ok(crate::forms::attachments::attachment_response(&a, body)),
        Ok(_) => Err(error_page(tr, c, kebao_service::ServiceError::NotFound)),
        Err(e) => Err(error_page(tr, c, e)),
    }
}
