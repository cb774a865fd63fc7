//! Loans backed by insurance (C7): each party's list, the enterprise's application under a
//! scheme (every number of the scheme shown with its source and confidence), and a loan's page
//! with its parties, decisions, schedule and repayments, and the step that waits on the reader.

use super::kit::{check_csrf, error_page, form_messages, html, with_status, Authed, Chrome, Page, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::Multipart;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::catalogue::Confidence;
use kebao_domain::loan::{
    bucket, funds_use_label, Backstop, LoanStatus, RepaymentMethod, Reviewer, Scheme, Source,
};
use kebao_domain::org::{OrgFilter, OrgKind};
use kebao_service::authz::Action;
use kebao_service::loans::{LoanInput, PledgeInput};
use kebao_service::tabular::Format;

/// Rows for pledged rights on the application form.
const PLEDGE_ROWS: usize = 3;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/loans", get(list_page).post(apply_post))
        .route("/loans/new", get(new_page))
        .route("/loans/dashboard", get(dashboard_page))
        .route("/loans/dashboard.xlsx", get(dashboard_xlsx))
        .route("/loans/{id}", get(loan_page))
        .route("/loans/{id}/decision", post(decision_post))
        .route("/loans/{id}/disburse", post(disburse_post))
        .route("/loans/{id}/repayments", post(repayment_post))
        .route("/loans/{id}/claim", post(claim_post))
        .route("/loans/{id}/claim/pay", post(claim_pay_post))
        .route("/loans/{id}/guarantee/pay", post(guarantee_pay_post))
        .route("/loans/{id}/recoveries", post(recovery_post))
        .route("/loans/{id}/close", post(close_post))
        .route("/loans/{id}/policy", post(policy_post))
        .route("/loans/{id}/subsidy", post(subsidy_post))
        .route("/loans/{id}/score", post(score_post))
        .route("/loans/repayments/import", post(import_post))
        .route("/loans/repayments/template.xlsx", get(repayment_template))
        .route("/loans/funds/pay", post(fund_pay_post))
        .route("/loans/schemes", get(schemes_page).post(schemes_post))
}

/// Basis points as a percentage (`380` → `3.80%`).
fn pct(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, (bp % 100).abs())
}

fn status_label(tr: Tr, s: LoanStatus) -> String {
    tr.t(s.label_zh(), s.label_en()).to_owned()
}

struct RowT {
    id: String,
    enterprise: String,
    bank: String,
    insurer: String,
    scheme: String,
    amount: String,
    terms: String,
    status: String,
    status_code: &'static str,
    /// Days past due and the bucket, for a loan being repaid that is late.
    overdue: String,
}

#[derive(Template)]
#[template(path = "loans.html")]
struct ListTpl {
    c: Chrome,
    rows: Vec<RowT>,
    statuses: Vec<(String, String)>,
    status: String,
    overdue_only: bool,
    can_apply: bool,
    can_see_all: bool,
    /// The bank services loans here: the batch import of repayments.
    can_import: bool,
    errors: Vec<String>,
}

async fn list_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let status = q.get("status").and_then(|s| LoanStatus::from_code(s));
    let overdue_only = q.get("overdue").is_some_and(|v| v == "1");
    render_list(&st, c, &s.actor, status, overdue_only, Vec::new())
        .await
        .map_err(|(c, e)| error_page(tr, c, e))
}

async fn render_list(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    status: Option<LoanStatus>,
    overdue_only: bool,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let list = match st.svc.loans(actor, status).await {
        Ok(l) => l,
        Err(e) => return Err((c, e)),
    };
    let schemes = match st.svc.loan_schemes().await {
        Ok(l) => l,
        Err(e) => return Err((c, e)),
    };
    let ab = match st.svc.abilities(actor).await {
        Ok(l) => l,
        Err(e) => return Err((c, e)),
    };
    let can_import = list.iter().any(|r| r.may_service);
    let rows = list
        .into_iter()
        .filter(|r| !overdue_only || r.days_past_due > 0)
        .map(|r| {
            let dpd = r.days_past_due;
            let l = r.listed;
            let scheme = schemes
                .iter()
                .find(|x| x.id == l.loan.scheme_id && x.version == l.loan.scheme_version)
                .map_or_else(|| l.loan.scheme_id.clone(), |x| tr.pick(x.name_zh.clone(), x.name_en.clone()));
            RowT {
                id: l.loan.id.clone(),
                enterprise: l.enterprise_name,
                bank: l.bank_name,
                insurer: l.insurer_name,
                scheme,
                amount: l.loan.amount.display_yuan(),
                terms: format!("{} {} · {}", l.loan.term_months, tr.t("个月", "months"), pct(l.loan.rate_bp)),
                status: status_label(tr, l.loan.status),
                status_code: l.loan.status.code(),
                overdue: if dpd > 0 {
                    let b = bucket(dpd);
                    format!("{dpd} {} · {}", tr.t("天", "days"), tr.t(b.label_zh(), b.label_en()))
                } else {
                    String::new()
                },
            }
        })
        .collect();
    Ok(html(&ListTpl {
        rows,
        statuses: LoanStatus::ALL.iter().map(|s| (s.code().to_owned(), status_label(tr, *s))).collect(),
        status: status.map(|s| s.code().to_owned()).unwrap_or_default(),
        overdue_only,
        can_apply: ab.on_own_org(Action::ApplyLoan),
        can_see_all: ab.on_zone(Action::ReadAllLoans),
        can_import,
        errors,
        c,
    }))
}

/// The bank uploads a batch of repayments: all recorded, or none with each bad row named.
async fn import_post(State(st): State<AppState>, Authed { c, s, tr }: Authed, m: Multipart) -> Page {
    let (fields, file) = match crate::forms::consent::read_form(m, "file").await {
        Ok(x) => x,
        Err(api) => {
            let msg = tr.pick(api.body.message_zh.clone(), api.body.message.clone());
            return Err(render_list(&st, c, &s.actor, None, false, vec![msg])
                .await
                .unwrap_or_else(|(c, e)| error_page(tr, c, e)));
        }
    };
    let csrf = fields.get("csrf").and_then(|v| v.first()).cloned().unwrap_or_default();
    if !crate::session::same_secret(&csrf, &s.csrf_token) {
        return Err(super::kit::csrf_page());
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let msg = tr.t("请选择要上传的文件。", "Choose a file to upload.").to_owned();
        return Err(with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            render_list(&st, c, &s.actor, None, false, vec![msg])
                .await
                .unwrap_or_else(|(c, e)| error_page(tr, c, e)),
        ));
    };
    let format = Format::from_name(&name).unwrap_or_else(|| Format::sniff(&bytes));
    match st.svc.import_repayments(&s.actor, &bytes, format).await {
        Ok(b) => Ok(Redirect::to(&format!(
            "/loans?status=servicing&done=repayments_imported&recorded={}&already={}",
            b.recorded, b.already
        ))
        .into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_list(&st, c, &s.actor, None, false, msgs)
                    .await
                    .unwrap_or_else(|(c, e)| error_page(tr, c, e)),
            )),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

/// The bank's repayment sheet: its loans being repaid with the instalment due next, and the
/// columns to fill in for the batch import.
async fn repayment_template(State(st): State<AppState>, Authed { s, tr, .. }: Authed) -> Page {
    let list = st
        .svc
        .loans(&s.actor, Some(LoanStatus::Servicing))
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let table = kebao_service::tabular::Table {
        headers: [
            "贷款编号",
            "借款企业",
            "下一应还日",
            "应还金额（元）",
            "银行流水号",
            "还款金额（元）",
            "还款日",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect(),
        rows: list
            .iter()
            .filter(|r| r.may_service)
            .map(|r| {
                let (due, amount) = r
                    .next_due
                    .map_or((String::new(), String::new()), |(d, m)| (d.to_string(), m.to_yuan_string()));
                vec![
                    r.listed.loan.id.clone(),
                    r.listed.enterprise_name.clone(),
                    due,
                    amount,
                    String::new(),
                    String::new(),
                    String::new(),
                ]
            })
            .collect(),
    };
    super::policies::xlsx_response(&table, "repayments", "kebao-repayments.xlsx", tr)
}

/// One number of a scheme, with its source and confidence, for the rules table.
struct RuleT {
    what: String,
    value: String,
    source: String,
    confidence: String,
    unconfirmed: bool,
}

fn rule(tr: Tr, what: (&str, &str), value: String, from: &Source) -> RuleT {
    RuleT {
        what: tr.t(what.0, what.1).to_owned(),
        value,
        source: from.source.clone(),
        confidence: tr.t(from.confidence.label_zh(), from.confidence.label_en()).to_owned(),
        unconfirmed: from.confidence == Confidence::Unconfirmed,
    }
}

struct SchemeT {
    id: String,
    name: String,
    place: String,
    rules: Vec<RuleT>,
}

fn scheme_t(tr: Tr, s: &Scheme) -> SchemeT {
    let yuan = |y: i64| kebao_domain::Money::from_fen(y.saturating_mul(100)).display_yuan();
    let sh = &s.shares;
    let mut shares = format!(
        "{} {} : {} {}",
        tr.t("保险", "insurer"),
        pct(sh.insurer_bp),
        tr.t("银行", "bank"),
        pct(sh.bank_bp)
    );
    if sh.guarantor_bp > 0 {
        shares.push_str(&format!(" : {} {}", tr.t("担保", "guarantor"), pct(sh.guarantor_bp)));
    }
    let backstop = match &s.backstop {
        Backstop::ExcessLoss { threshold_bp, share_bp, from } => rule(
            tr,
            ("风险补偿基金", "Risk-compensation fund"),
            format!(
                "{} {} {} {}",
                tr.t("赔付率超过", "above a loss ratio of"),
                pct(*threshold_bp),
                tr.t("的部分补偿", "it pays"),
                pct(*share_bp)
            ),
            from,
        ),
        Backstop::Pool { direct_bp, guaranteed_bp, bonus_bp, ceiling_bp, from } => rule(
            tr,
            ("风险资金池", "Risk pool"),
            format!(
                "{} {} / {} {} / +{} / ≤{}",
                tr.t("直贷", "direct"),
                pct(*direct_bp),
                tr.t("担保", "guaranteed"),
                pct(*guaranteed_bp),
                pct(*bonus_bp),
                pct(*ceiling_bp)
            ),
            from,
        ),
    };
    let t = &s.trigger;
    let pledge = s.pledge.as_ref().map(|p| {
        rule(
            tr,
            ("知识产权质押", "Pledged IP"),
            format!(
                "{} {} · {} {} {}",
                tr.t("贷款不超过评估价值的", "the loan at most"),
                pct(p.max_ltv_bp),
                tr.t("评估有效期", "valuation valid for"),
                p.valuation_max_age_days,
                tr.t("天", "days")
            ),
            &p.from,
        )
    });
    SchemeT {
        id: s.id.clone(),
        name: tr.pick(s.name_zh.clone(), s.name_en.clone()),
        place: tr.pick(s.place_zh.clone(), s.place_en.clone()),
        rules: vec![
            rule(tr, ("损失分担", "Loss shares"), shares, &sh.from),
            rule(
                tr,
                ("损失计算基础", "Loss base"),
                tr.t(s.loss_base.label_zh(), s.loss_base.label_en()).to_owned(),
                &s.loss_base_from,
            ),
            rule(
                tr,
                ("单户贷款上限", "Cap per borrower"),
                format!(
                    "{} {} / {} {} / {} {}",
                    tr.t("微型", "micro"),
                    yuan(s.loan_cap.micro_yuan),
                    tr.t("小型", "small"),
                    yuan(s.loan_cap.small_yuan),
                    tr.t("中型", "medium"),
                    yuan(s.loan_cap.medium_yuan)
                ),
                &s.loan_cap.from,
            ),
            rule(
                tr,
                ("期限上限", "Longest term"),
                format!("{} {}", s.term_months.value, tr.t("个月", "months")),
                &s.term_months.from,
            ),
            rule(
                tr,
                ("贷款利率上限", "Loan-rate cap"),
                format!(
                    "{} (LPR {} {} + {})",
                    pct(s.loan_rate.max_rate_bp()),
                    s.loan_rate.lpr_tenor,
                    pct(s.loan_rate.lpr_bp),
                    pct(s.loan_rate.max_spread_bp)
                ),
                &s.loan_rate.from,
            ),
            rule(
                tr,
                ("保费年费率上限", "Premium-rate cap"),
                pct(s.premium_rate_bp.value),
                &s.premium_rate_bp.from,
            ),
            rule(
                tr,
                ("理赔条件", "Claim trigger"),
                format!(
                    "{} {} {} / {} {} {} · {} {} {}",
                    tr.t("利息逾期", "interest unpaid"),
                    t.interest_days,
                    tr.t("天", "days"),
                    tr.t("到期后本金逾期", "principal unpaid after maturity"),
                    t.principal_days_after_maturity,
                    tr.t("天", "days"),
                    tr.t("赔付时限", "payout within"),
                    t.payout_working_days,
                    tr.t("个工作日", "working days")
                ),
                &t.from,
            ),
            backstop,
            rule(tr, ("基金规模", "Fund size"), yuan(s.fund.value), &s.fund.from),
            rule(
                tr,
                ("暂停新增业务", "New business stops at"),
                format!(
                    "{} {} / {} {}",
                    tr.t("赔付率", "loss ratio"),
                    pct(s.guards.loss_ratio_stop_bp),
                    tr.t("逾期率", "overdue rate"),
                    pct(s.guards.overdue_rate_stop_bp)
                ),
                &s.guards.from,
            ),
        ]
        .into_iter()
        .chain(pledge)
        .collect(),
    }
}

#[derive(Template)]
#[template(path = "loan_new.html")]
struct NewTpl {
    c: Chrome,
    schemes: Vec<SchemeT>,
    banks: Vec<(String, String)>,
    insurers: Vec<(String, String)>,
    /// Guarantee organisations (for a scheme that gives a guarantor a share of the loss).
    guarantors: Vec<(String, String)>,
    /// Some scheme in force has a guarantor share.
    any_guarantor_share: bool,
    methods: Vec<(String, String)>,
    uses: Vec<(String, String)>,
    pledge_rows: Vec<usize>,
    pledge_kinds: Vec<(String, String)>,
    typed: HashMap<String, String>,
    errors: Vec<String>,
}

impl NewTpl {
    fn typed(&self, k: &str) -> &str {
        self.typed.get(k).map_or("", String::as_str)
    }
}

async fn render_new(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    typed: HashMap<String, String>,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let schemes = match st.svc.loan_schemes_in_force().await {
        Ok(s) => s,
        Err(e) => return Err((c, e)),
    };
    let orgs = |kind: OrgKind| {
        let filter = OrgFilter { kind: Some(kind), ..Default::default() };
        async move {
            st.svc
                .list_orgs(actor, &filter, None, 200)
                .await
                .map(|p| p.items.into_iter().map(|o| (o.id, o.name)).collect::<Vec<_>>())
        }
    };
    let banks = match orgs(OrgKind::Bank).await {
        Ok(b) => b,
        Err(e) => return Err((c, e)),
    };
    let insurers = match orgs(OrgKind::Insurer).await {
        Ok(b) => b,
        Err(e) => return Err((c, e)),
    };
    let guarantors = match orgs(OrgKind::Guarantor).await {
        Ok(b) => b,
        Err(e) => return Err((c, e)),
    };
    let mut uses: Vec<String> = schemes.iter().flat_map(|s| s.funds_use.allowed.clone()).collect();
    uses.sort();
    uses.dedup();
    Ok(html(&NewTpl {
        schemes: schemes.iter().map(|s| scheme_t(tr, s)).collect(),
        banks,
        insurers,
        guarantors,
        any_guarantor_share: schemes.iter().any(|s| s.shares.guarantor_bp > 0),
        methods: RepaymentMethod::ALL
            .iter()
            .map(|m| (m.code().to_owned(), tr.t(m.label_zh(), m.label_en()).to_owned()))
            .collect(),
        uses: uses
            .into_iter()
            .map(|u| {
                let (zh, en) = funds_use_label(&u);
                (u, tr.t(zh, en).to_owned())
            })
            .collect(),
        pledge_rows: (1..=PLEDGE_ROWS).collect(),
        pledge_kinds: kebao_domain::loan::PledgeKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect(),
        typed,
        errors,
        c,
    }))
}

async fn new_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_new(&st, c, &s.actor, HashMap::new(), Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn apply_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = LoanInput {
        scheme_id: g("scheme_id"),
        bank_id: g("bank_id"),
        insurer_id: g("insurer_id"),
        guarantor_id: g("guarantor_id"),
        amount_yuan: g("amount_yuan"),
        term_months: g("term_months"),
        rate_pct: g("rate_pct"),
        premium_rate_pct: g("premium_rate_pct"),
        method: g("method"),
        funds_use: g("funds_use"),
        pledges: (1..=PLEDGE_ROWS)
            .map(|i| PledgeInput {
                kind: g(&format!("pledge_kind_{i}")),
                number: g(&format!("pledge_number_{i}")),
                owner: g(&format!("pledge_owner_{i}")),
                valuation_yuan: g(&format!("pledge_valuation_{i}")),
                valued_on: g(&format!("pledge_valued_on_{i}")),
                registration_no: g(&format!("pledge_registration_{i}")),
            })
            .collect(),
    };
    let org = s.actor.org_id().unwrap_or_default().to_owned();
    match st.svc.apply_loan(&s.actor, &org, &input).await {
        Ok(l) => Ok(Redirect::to(&format!("/loans/{}?done=loan_applied", l.id)).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => {
                let page = render_new(&st, c, &s.actor, form, msgs).await;
                Err(with_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
                ))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

struct DecisionT {
    who: String,
    outcome: String,
    reason: String,
}

struct InstalmentT {
    due: String,
    interest: String,
    principal: String,
    paid: String,
    state: String,
    late: bool,
}

struct ClaimT {
    filed_on: String,
    trigger: String,
    loss_base: String,
    insurer: String,
    bank: String,
    /// The guarantor's share and its payment (empty: no guarantor share).
    guarantor: String,
    guarantor_paid: String,
    due: String,
    paid: String,
    late: bool,
}

struct RecoveryT {
    on: String,
    reference: String,
    amount: String,
    insurer: String,
    bank: String,
    guarantor: String,
}

struct PolicyT {
    number: String,
    premium: String,
    paid: String,
    period: String,
}

struct PledgeT {
    kind: String,
    number: String,
    owner: String,
    valuation: String,
    valued_on: String,
    registration_no: String,
    released: String,
}

struct RepaymentT {
    reference: String,
    paid_on: String,
    amount: String,
    interest: String,
    principal: String,
}

#[derive(Template)]
#[template(path = "loan.html")]
struct LoanTpl {
    c: Chrome,
    id: String,
    enterprise: String,
    bank: String,
    insurer: String,
    guarantor: String,
    scheme: String,
    place: String,
    amount: String,
    terms: String,
    premium: String,
    method: String,
    funds_use: String,
    status: String,
    status_code: &'static str,
    decisions: Vec<DecisionT>,
    disbursed_on: String,
    outstanding: String,
    days_past_due: i64,
    bucket: String,
    schedule: Vec<InstalmentT>,
    repayments: Vec<RepaymentT>,
    decide_as: String,
    can_disburse: bool,
    can_repay: bool,
    /// For the bank: the trigger met (a sentence), or why not.
    trigger_met: String,
    trigger_not_met: String,
    claim: Option<ClaimT>,
    can_pay_claim: bool,
    can_pay_guarantee: bool,
    recoveries: Vec<RecoveryT>,
    can_recover: bool,
    policy: Option<PolicyT>,
    can_issue_policy: bool,
    /// Approved, and the guarantee policy not yet issued.
    waiting_policy: bool,
    pledges: Vec<PledgeT>,
    /// The premium subsidy: applications naming the loan, and for a repaid loan without a live
    /// one, each loan-premium programme's check.
    subsidies: Vec<LoanSubsidyT>,
    subsidy_checks: Vec<LoanSubsidyCheckT>,
    today: String,
    errors: Vec<String>,
    /// The scorecard's advice: shown to the bank that owns it and to the enterprise only.
    scores: Vec<ScoreT>,
    can_score: bool,
}

/// A stored admission score as the bank and the scored enterprise read it.
pub(crate) struct ScoreT {
    pub model: String,
    pub when: String,
    pub score: String,
    pub decision: String,
    pub decline: bool,
    pub reasons: Vec<String>,
    pub inputs: Vec<(String, String)>,
}

/// A score, in the reader's language: the model and its owner, the score and the advice, the
/// reasons (the variables that cost the most points) and what was scored.
pub(crate) fn score_t(tr: Tr, s: &kebao_service::lab_scores::ScoreRecord) -> ScoreT {
    use kebao_service::lab_scores::column_label;
    ScoreT {
        model: format!("{} v{} · {}", s.model_name, s.model_version, s.owner_name),
        when: format!(
            "{} · {}",
            kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(s.created_at_us)),
            s.created_by_name
        ),
        score: format!("{:.0}", s.score),
        decision: s.decision.map(|d| tr.t(d.label_zh(), d.label_en()).to_owned()).unwrap_or_default(),
        decline: s.decision == Some(kebao_service::lab_scores::AdmissionDecision::Decline),
        reasons: s
            .reasons
            .iter()
            .map(|r| {
                let (zh, en) = column_label(&r.variable);
                format!(
                    "{}{}{} {} {:.0} {}",
                    tr.t(zh, en),
                    tr.t("：", ": "),
                    super::lab::bin_label(tr, &r.bin),
                    tr.t("扣减", "costs"),
                    r.points_lost,
                    tr.t("分", "points")
                )
            })
            .collect(),
        inputs: s
            .inputs
            .iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| {
                let (zh, en) = column_label(k);
                (
                    tr.t(zh, en).to_owned(),
                    if v.is_empty() || v == "unknown" { "—".to_owned() } else { v.clone() },
                )
            })
            .collect(),
    }
}

struct LoanSubsidyT {
    id: String,
    programme: String,
    status: String,
    amount: String,
    applied_on: String,
}

struct LoanSubsidyCheckT {
    programme_id: String,
    programme: String,
    caveat: String,
    unconfirmed: bool,
    eligible: bool,
    amount: String,
    steps: Vec<(String, String)>,
    failures: Vec<String>,
    can_apply: bool,
}

/// The premium subsidy's part of a loan's page.
async fn loan_subsidy_parts(
    st: &AppState,
    tr: Tr,
    actor: &kebao_service::authz::Actor,
    l: &kebao_domain::loan::Loan,
) -> (Vec<LoanSubsidyT>, Vec<LoanSubsidyCheckT>) {
    let programmes = st.svc.subsidy_programmes().await.unwrap_or_default();
    let name = |id: &str| {
        programmes
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| tr.pick(p.name_zh.clone(), p.name_en.clone()))
    };
    let apps = st.svc.loan_subsidies(actor, &l.id).await.unwrap_or_default();
    let live = apps.iter().any(|a| !a.status.ended_without_money());
    let subsidies = apps
        .iter()
        .map(|a| LoanSubsidyT {
            id: a.id.clone(),
            programme: name(&a.programme_id),
            status: tr.t(a.status.label_zh(), a.status.label_en()).to_owned(),
            amount: a.amount.display_yuan(),
            applied_on: a.applied_on.to_string(),
        })
        .collect();
    let mut checks = Vec::new();
    if l.status == LoanStatus::Repaid && !live {
        let can_apply = st.svc.may_apply_loan_subsidy(actor, l);
        for p in st.svc.loan_subsidy_programmes().await.unwrap_or_default() {
            // Not the reader's to see (a bank's officer): no check shown.
            let Ok((p, r)) = st.svc.check_loan_subsidy(actor, &l.id, &p.id).await else { continue };
            let yuan = |f: i64| kebao_domain::Money::from_fen(f).display_yuan();
            let (eligible, amount, steps, failures) = match r {
                Ok(g) => (
                    true,
                    yuan(g.amount_fen),
                    g.steps
                        .iter()
                        .map(|s| (tr.pick(s.label_zh.clone(), s.label_en.clone()), yuan(s.value_fen)))
                        .collect(),
                    Vec::new(),
                ),
                Err(f) => (
                    false,
                    String::new(),
                    Vec::new(),
                    f.iter()
                        .map(|x| {
                            format!(
                                "{}{}{}",
                                super::subsidies::rule_words(tr, &x.rule),
                                tr.t("：", ": "),
                                tr.pick(x.reason_zh.clone(), x.reason_en.clone())
                            )
                        })
                        .collect(),
                ),
            };
            checks.push(LoanSubsidyCheckT {
                programme_id: p.id.clone(),
                programme: tr.pick(p.name_zh.clone(), p.name_en.clone()),
                caveat: super::subsidies::programme_caveat(tr, &p),
                unconfirmed: !p.confidence.is_fact(),
                eligible,
                amount,
                steps,
                failures,
                can_apply: can_apply && eligible,
            });
        }
    }
    (subsidies, checks)
}

async fn render_loan(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    id: &str,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let v = match st.svc.loan(actor, id).await {
        Ok(v) => v,
        Err(e) => return Err((c, e)),
    };
    let today = st.svc.today();
    let l = &v.loan;
    let mut decisions = Vec::new();
    for (who, d) in [(Reviewer::Bank, &l.bank), (Reviewer::Insurer, &l.insurer), (Reviewer::Zone, &l.zone)] {
        if let Some(d) = d {
            decisions.push(DecisionT {
                who: tr.t(who.label_zh(), who.label_en()).to_owned(),
                outcome: if d.approve { tr.t("同意", "Approved") } else { tr.t("不同意", "Declined") }
                    .to_owned(),
                reason: d.reason.clone(),
            });
        }
    }
    let schedule = v
        .servicing
        .as_ref()
        .map(|s| {
            s.schedule
                .iter()
                .zip(&s.paid)
                .map(|(i, a)| {
                    let done = a.interest >= i.interest && a.principal >= i.principal;
                    let void = s.settled_on.is_some_and(|d| i.due_on > d) && !done;
                    let late = !done && !void && i.due_on < today;
                    InstalmentT {
                        due: i.due_on.to_string(),
                        interest: i.interest.display_yuan(),
                        principal: i.principal.display_yuan(),
                        paid: kebao_domain::Money::from_fen(a.interest.fen() + a.principal.fen())
                            .display_yuan(),
                        state: if done {
                            tr.t("已还", "Paid")
                        } else if void {
                            tr.t("提前结清，不再计息", "Settled early; not owed")
                        } else if late {
                            tr.t("逾期", "Overdue")
                        } else {
                            tr.t("未到期", "Not yet due")
                        }
                        .to_owned(),
                        late,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let decide_as = v.may_decide.map(|w| tr.t(w.label_zh(), w.label_en()).to_owned()).unwrap_or_default();
    let (trigger_met, trigger_not_met) = match &v.trigger {
        Some(Ok(m)) => {
            let (code, days) = m.code_and_days();
            let (zh, en) = kebao_domain::loan::trigger_label(code);
            (format!("{} {} {}", tr.t(zh, en), days, tr.t("天", "days")), String::new())
        }
        Some(Err(e)) => (String::new(), tr.pick(e.message_zh.clone(), e.message_en.clone())),
        None => (String::new(), String::new()),
    };
    let claim = v.claim.as_ref().map(|c| {
        let (zh, en) = kebao_domain::loan::trigger_label(&c.trigger);
        ClaimT {
            filed_on: c.filed_on.to_string(),
            trigger: format!("{} {} {}", tr.t(zh, en), c.trigger_days, tr.t("天", "days")),
            loss_base: c.loss_base.display_yuan(),
            insurer: c.insurer_share.display_yuan(),
            bank: c.bank_share.display_yuan(),
            guarantor: if c.guarantor_share.fen() > 0 {
                c.guarantor_share.display_yuan()
            } else {
                String::new()
            },
            guarantor_paid: c
                .guarantor_paid_on
                .map(|d| format!("{d} · {}", c.guarantor_paid_reference.clone().unwrap_or_default()))
                .unwrap_or_default(),
            due: c.payout_due_on.to_string(),
            paid: c
                .paid_on
                .map(|d| format!("{d} · {}", c.paid_reference.clone().unwrap_or_default()))
                .unwrap_or_default(),
            late: c.paid_on.map_or(today > c.payout_due_on, |d| d > c.payout_due_on),
        }
    });
    let (fzh, fen) = funds_use_label(&l.funds_use);
    let b = bucket(v.days_past_due);
    let (subsidies, subsidy_checks) = loan_subsidy_parts(st, tr, actor, l).await;
    Ok(html(&LoanTpl {
        id: l.id.clone(),
        enterprise: v.enterprise_name.clone(),
        bank: v.bank_name.clone(),
        insurer: v.insurer_name.clone(),
        guarantor: v.guarantor_name.clone().unwrap_or_default(),
        scheme: v
            .scheme
            .as_ref()
            .map_or_else(|| l.scheme_id.clone(), |s| tr.pick(s.name_zh.clone(), s.name_en.clone())),
        place: v
            .scheme
            .as_ref()
            .map_or_else(String::new, |s| tr.pick(s.place_zh.clone(), s.place_en.clone())),
        amount: l.amount.display_yuan(),
        terms: format!(
            "{} {} · {} {}",
            l.term_months,
            tr.t("个月", "months"),
            tr.t("年利率", "annual rate"),
            pct(l.rate_bp)
        ),
        premium: format!(
            "{}{}{} {}{}",
            l.premium().display_yuan(),
            tr.t("（", " ("),
            tr.t("年费率", "annual rate"),
            pct(l.premium_rate_bp),
            tr.t("）", ")")
        ),
        method: tr.t(l.method.label_zh(), l.method.label_en()).to_owned(),
        funds_use: tr.t(fzh, fen).to_owned(),
        status: status_label(tr, l.status),
        status_code: l.status.code(),
        decisions,
        disbursed_on: l.disbursed_on.map(|d| d.to_string()).unwrap_or_default(),
        outstanding: v
            .servicing
            .as_ref()
            .map(|s| s.principal_outstanding().display_yuan())
            .unwrap_or_default(),
        days_past_due: v.days_past_due,
        bucket: tr.t(b.label_zh(), b.label_en()).to_owned(),
        schedule,
        repayments: v
            .repayments
            .iter()
            .map(|p| RepaymentT {
                reference: p.reference.clone(),
                paid_on: p.paid_on.to_string(),
                amount: p.amount.display_yuan(),
                interest: p.interest.display_yuan(),
                principal: p.principal.display_yuan(),
            })
            .collect(),
        decide_as,
        can_disburse: v.may_service && l.status == LoanStatus::Approved,
        can_repay: v.may_service && l.status == LoanStatus::Servicing,
        trigger_met,
        trigger_not_met,
        claim,
        can_pay_claim: v.may_pay_claim,
        can_pay_guarantee: v.may_pay_guarantee,
        recoveries: v
            .recoveries
            .iter()
            .map(|x| RecoveryT {
                on: x.recovered_on.to_string(),
                reference: x.reference.clone(),
                amount: x.amount.display_yuan(),
                insurer: x.insurer.display_yuan(),
                bank: x.bank.display_yuan(),
                guarantor: x.guarantor.display_yuan(),
            })
            .collect(),
        can_recover: v.may_recover,
        policy: v.policy.as_ref().map(|p| PolicyT {
            number: p.number.clone(),
            premium: p.premium.display_yuan(),
            paid: format!("{} · {}", p.premium_paid_on, p.premium_reference),
            period: match (p.start, p.end) {
                (Some(a), Some(b)) => format!("{a} — {b}"),
                _ => {
                    tr.t("自放款日起至贷款到期日", "From the disbursement to the loan's maturity").to_owned()
                }
            },
        }),
        can_issue_policy: v.may_issue_policy,
        waiting_policy: l.status == LoanStatus::Approved && v.policy.is_none(),
        pledges: v
            .pledges
            .iter()
            .map(|p| PledgeT {
                kind: tr.t(p.kind.label_zh(), p.kind.label_en()).to_owned(),
                number: p.number.clone(),
                owner: p.owner.clone(),
                valuation: p.valuation.display_yuan(),
                valued_on: p.valued_on.to_string(),
                registration_no: p.registration_no.clone(),
                released: p.released_on.map_or_else(
                    || tr.t("质押中", "Pledged").to_owned(),
                    |d| format!("{} {d}", tr.t("已解除", "Released")),
                ),
            })
            .collect(),
        subsidies,
        subsidy_checks,
        today: today.to_string(),
        errors,
        scores: st
            .svc
            .loan_scores(actor, id)
            .await
            .unwrap_or_default()
            .iter()
            .map(|x| score_t(tr, x))
            .collect(),
        can_score: st.svc.may_score_loan(actor, l).await,
        c,
    }))
}

async fn loan_page(State(st): State<AppState>, Authed { c, s, tr }: Authed, Path(id): Path<String>) -> Page {
    render_loan(&st, c, &s.actor, &id, Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

/// Runs a step from the loan's page: on success back to the page with its notice, on a
/// refusal the page again with the messages.
async fn step(
    st: &AppState,
    c: Chrome,
    s: &kebao_service::auth::SessionInfo,
    tr: Tr,
    id: &str,
    done: &str,
    r: kebao_service::Result<()>,
) -> Page {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/loans/{id}?done={done}")).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => {
                let page = render_loan(st, c, &s.actor, id, msgs).await;
                Err(with_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
                ))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn decision_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let approve = form.get("outcome").map(String::as_str) == Some("approve");
    let r = st
        .svc
        .decide_loan(&s.actor, &id, approve, form.get("reason").map_or("", String::as_str))
        .await
        .map(|_| ());
    step(&st, c, &s, tr, &id, "loan_decided", r).await
}

async fn disburse_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let r = st
        .svc
        .disburse_loan(&s.actor, &id, form.get("disbursed_on").map_or("", String::as_str))
        .await
        .map(|_| ());
    step(&st, c, &s, tr, &id, "loan_disbursed", r).await
}

async fn repayment_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).map_or("", String::as_str);
    let r = st
        .svc
        .record_repayment(&s.actor, &id, g("reference"), g("amount_yuan"), g("paid_on"))
        .await
        .map(|_| ());
    step(&st, c, &s, tr, &id, "loan_repayment", r).await
}

async fn claim_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let failed = form.get("collection_failed").is_some_and(|v| v == "yes");
    let r = st.svc.file_loan_claim(&s.actor, &id, failed).await.map(|_| ());
    step(&st, c, &s, tr, &id, "loan_claimed", r).await
}

async fn claim_pay_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).map_or("", String::as_str);
    let r = st.svc.pay_loan_claim(&s.actor, &id, g("reference"), g("paid_on")).await.map(|_| ());
    step(&st, c, &s, tr, &id, "loan_claim_paid", r).await
}

async fn guarantee_pay_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).map_or("", String::as_str);
    let r = st.svc.pay_loan_guarantee(&s.actor, &id, g("reference"), g("paid_on")).await.map(|_| ());
    step(&st, c, &s, tr, &id, "loan_guarantee_paid", r).await
}

async fn score_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let r = st.svc.score_loan(&s.actor, &id).await.map(|_| ());
    step(&st, c, &s, tr, &id, "loan_scored", r).await
}

async fn close_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let r = st.svc.close_loan(&s.actor, &id).await.map(|_| ());
    step(&st, c, &s, tr, &id, "loan_closed", r).await
}

/// The borrower applies for the premium subsidy of its repaid loan: on to the application.
async fn subsidy_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let programme = form.get("programme").map_or("", String::as_str);
    match st.svc.apply_loan_subsidy(&s.actor, &id, programme).await {
        Ok(a) => Ok(Redirect::to(&format!("/subsidies/{}", a.id)).into_response()),
        Err(e) => step(&st, c, &s, tr, &id, "", Err(e)).await,
    }
}

async fn policy_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).map_or("", String::as_str);
    let r = st
        .svc
        .issue_loan_policy(&s.actor, &id, g("number"), g("premium_reference"), g("premium_paid_on"))
        .await
        .map(|_| ());
    step(&st, c, &s, tr, &id, "loan_policy_issued", r).await
}

async fn recovery_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).map_or("", String::as_str);
    let r = st
        .svc
        .record_recovery(&s.actor, &id, g("reference"), g("amount_yuan"), g("recovered_on"))
        .await
        .map(|_| ());
    step(&st, c, &s, tr, &id, "loan_recovery", r).await
}

struct FiguresT {
    name: String,
    place: String,
    statuses: String,
    applied: String,
    disbursed: String,
    outstanding: String,
    overdue: String,
    overdue_rate: String,
    stop_line: String,
    claims: u64,
    claimed: String,
    paid: String,
    recovered: String,
    fund: String,
    guard: String,
    id: String,
    earned: String,
    losses: String,
    loss_ratio: String,
    loss_stop: String,
    fund_paid: String,
    fund_balance: String,
    dues: Vec<DueT>,
    years: Vec<YearT>,
    payments: Vec<FundPaidT>,
    industry_chart: String,
    stage_chart: String,
}

struct DueT {
    year: i32,
    loan_id: String,
    what: String,
    payee_id: String,
    payee: String,
    amount: String,
    provisional: bool,
}

struct YearT {
    insurer: String,
    year: i32,
    earned: String,
    losses: String,
    ratio: String,
    fund_paid: String,
}

struct FundPaidT {
    paid_on: String,
    year: i32,
    payee: String,
    amount: String,
    reference: String,
}

#[derive(Template)]
#[template(path = "loan_dashboard.html")]
struct DashboardTpl {
    c: Chrome,
    schemes: Vec<FiguresT>,
    outstanding_chart: String,
    status_chart: String,
    can_pay_fund: bool,
    can_simulate: bool,
    today: String,
    errors: Vec<String>,
}

async fn dashboard_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_dashboard(&st, c, &s.actor, Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

/// The zone records a payment of a scheme's fund (the amount is the platform's).
async fn fund_pay_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = kebao_service::loan_money::FundPaymentInput {
        scheme_id: g("scheme_id"),
        year: g("year"),
        loan_id: g("loan_id"),
        payee_id: g("payee_id"),
        reference: g("reference"),
        paid_on: g("paid_on"),
    };
    match st.svc.pay_loan_fund(&s.actor, &input).await {
        Ok(_) => Ok(Redirect::to("/loans/dashboard?done=fund_paid").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_dashboard(&st, c, &s.actor, msgs).await.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
            )),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn render_dashboard(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let figures = match st.svc.loan_dashboard(actor).await {
        Ok(f) => f,
        Err(e) => return Err((c, e)),
    };
    let funds = match st.svc.loan_funds(actor).await {
        Ok(f) => f,
        Err(e) => return Err((c, e)),
    };
    let ab = match st.svc.abilities(actor).await {
        Ok(f) => f,
        Err(e) => return Err((c, e)),
    };
    let industries = st.svc.industries();
    let industry = |k: &str| {
        industries.tags().iter().find(|t| t.id == k).map_or_else(
            || tr.t("其他", "Other").to_owned(),
            |t| tr.pick(t.name_zh.clone(), t.name_en.clone()),
        )
    };
    let stage = |k: &str| {
        kebao_domain::org::LifecycleStage::from_code(k).map_or_else(
            || tr.t("未填报", "Not stated").to_owned(),
            |s| tr.t(s.label_zh(), s.label_en()).to_owned(),
        )
    };
    let name =
        |f: &kebao_service::loans::SchemeFigures| tr.pick(f.scheme.name_zh.clone(), f.scheme.name_en.clone());
    let outstanding_chart = super::svg::hbar(
        &figures.iter().map(|f| (name(f), f.outstanding.fen() as f64 / 100.0)).collect::<Vec<_>>(),
        tr.t(" 元", " yuan"),
    );
    let mut by_status: Vec<(String, f64)> = Vec::new();
    for st_ in LoanStatus::ALL {
        let n: u64 =
            figures.iter().flat_map(|f| f.by_status.iter()).filter(|(s, _)| s == st_).map(|(_, n)| n).sum();
        if n > 0 {
            by_status.push((status_label(tr, *st_), n as f64));
        }
    }
    let status_chart = super::svg::hbar(&by_status, "");
    let schemes = figures
        .iter()
        .map(|f| (f, funds.iter().find(|x| x.scheme.id == f.scheme.id)))
        .map(|(f, fund)| FiguresT {
            name: name(f),
            place: tr.pick(f.scheme.place_zh.clone(), f.scheme.place_en.clone()),
            statuses: f
                .by_status
                .iter()
                .map(|(s, n)| format!("{} {n}", status_label(tr, *s)))
                .collect::<Vec<_>>()
                .join(tr.t("；", "; ")),
            applied: f.applied.display_yuan(),
            disbursed: f.disbursed.display_yuan(),
            outstanding: f.outstanding.display_yuan(),
            overdue: f.overdue.display_yuan(),
            overdue_rate: f.overdue_rate_bp.map(pct).unwrap_or_default(),
            stop_line: pct(f.scheme.guards.overdue_rate_stop_bp),
            claims: f.claims,
            claimed: format!("{} / {}", f.claimed_insurer.display_yuan(), f.claimed_bank.display_yuan()),
            paid: f.paid_by_insurer.display_yuan(),
            recovered: f.recovered.display_yuan(),
            fund: kebao_domain::Money::from_fen(f.scheme.fund.value.saturating_mul(100)).display_yuan(),
            guard: match &f.guard {
                Some(g) => tr.pick(g.refusal(&f.scheme).message_zh, g.refusal(&f.scheme).message_en),
                None => String::new(),
            },
            id: f.scheme.id.clone(),
            earned: f.year.earned_premium.display_yuan(),
            losses: f.year.insurer_losses.display_yuan(),
            loss_ratio: f.loss_ratio_bp.map(pct).unwrap_or_default(),
            loss_stop: pct(f.scheme.guards.loss_ratio_stop_bp),
            fund_paid: fund.map(|x| x.paid.display_yuan()).unwrap_or_default(),
            fund_balance: fund.map(|x| x.balance.display_yuan()).unwrap_or_default(),
            dues: fund
                .map(|x| {
                    x.due
                        .iter()
                        .map(|d| DueT {
                            year: d.year,
                            loan_id: d.loan_id.clone().unwrap_or_default(),
                            what: match &d.borrower_name {
                                Some(b) => format!("{}{}{}", tr.t("代偿贷款：", "Loan to "), b, ""),
                                None => {
                                    format!("{} {}", d.year, tr.t("年度超赔补偿", "excess-loss compensation"))
                                }
                            },
                            payee_id: d.payee_id.clone(),
                            payee: d.payee_name.clone(),
                            amount: d.amount.display_yuan(),
                            provisional: d.provisional,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            years: fund
                .map(|x| {
                    x.years
                        .iter()
                        .map(|y| YearT {
                            insurer: y.insurer_name.clone(),
                            year: y.year,
                            earned: y.figures.earned_premium.display_yuan(),
                            losses: y.figures.insurer_losses.display_yuan(),
                            ratio: y.loss_ratio_bp.map(pct).unwrap_or_else(|| "—".into()),
                            fund_paid: y.figures.fund_paid.display_yuan(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            payments: fund
                .map(|x| {
                    x.payments
                        .iter()
                        .map(|p| FundPaidT {
                            paid_on: p.paid_on.to_string(),
                            year: p.scheme_year,
                            payee: x.payees.get(&p.payee_id).cloned().unwrap_or_default(),
                            amount: p.amount.display_yuan(),
                            reference: p.reference.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            industry_chart: if f.by_industry.is_empty() {
                String::new()
            } else {
                super::svg::hbar(
                    &f.by_industry
                        .iter()
                        .map(|(k, (_, m))| (industry(k), m.fen() as f64 / 100.0))
                        .collect::<Vec<_>>(),
                    tr.t(" 元", " yuan"),
                )
            },
            stage_chart: super::svg::hbar(
                &f.by_stage.iter().map(|(k, (_, m))| (stage(k), m.fen() as f64 / 100.0)).collect::<Vec<_>>(),
                tr.t(" 元", " yuan"),
            ),
        })
        .collect();
    Ok(html(&DashboardTpl {
        c,
        schemes,
        outstanding_chart,
        status_chart,
        can_pay_fund: ab.on_zone(Action::PayLoanFund),
        can_simulate: ab.on_zone(Action::SimulateScheme),
        today: st.svc.today().to_string(),
        errors,
    }))
}

/// The schemes' figures as a workbook.
async fn dashboard_xlsx(State(st): State<AppState>, Authed { s, tr, .. }: Authed) -> Page {
    let figures =
        st.svc.loan_dashboard(&s.actor).await.map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let funds =
        st.svc.loan_funds(&s.actor).await.map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let table = kebao_service::tabular::Table {
        headers: [
            "方案",
            "申请金额（元）",
            "放款金额（元）",
            "未还本金（元）",
            "逾期本金（元）",
            "逾期率",
            "暂停线（逾期率）",
            "索赔笔数",
            "保险分担（元）",
            "银行自担（元）",
            "保险已赔付（元）",
            "追偿所得（元）",
            "风险补偿基金规模（元）",
            "本年已赚保费（元）",
            "本年保险净赔付（元）",
            "赔付率",
            "暂停线（赔付率）",
            "基金已支付（元）",
            "基金余额（元）",
            "是否暂停新增业务",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect(),
        rows: figures
            .iter()
            .map(|f| {
                let fund = funds.iter().find(|x| x.scheme.id == f.scheme.id);
                vec![
                    f.scheme.name_zh.clone(),
                    f.applied.to_yuan_string(),
                    f.disbursed.to_yuan_string(),
                    f.outstanding.to_yuan_string(),
                    f.overdue.to_yuan_string(),
                    f.overdue_rate_bp.map(pct).unwrap_or_default(),
                    pct(f.scheme.guards.overdue_rate_stop_bp),
                    f.claims.to_string(),
                    f.claimed_insurer.to_yuan_string(),
                    f.claimed_bank.to_yuan_string(),
                    f.paid_by_insurer.to_yuan_string(),
                    f.recovered.to_yuan_string(),
                    kebao_domain::Money::from_fen(f.scheme.fund.value.saturating_mul(100)).to_yuan_string(),
                    f.year.earned_premium.to_yuan_string(),
                    f.year.insurer_losses.to_yuan_string(),
                    f.loss_ratio_bp.map(pct).unwrap_or_default(),
                    pct(f.scheme.guards.loss_ratio_stop_bp),
                    fund.map(|x| x.paid.to_yuan_string()).unwrap_or_default(),
                    fund.map(|x| x.balance.to_yuan_string()).unwrap_or_default(),
                    if f.guard.is_some() { "是" } else { "否" }.to_owned(),
                ]
            })
            .collect(),
    };
    super::policies::xlsx_response(&table, "loans", "kebao-loan-schemes.xlsx", tr)
}

struct VersionT {
    scheme: SchemeT,
    version: i64,
    valid: String,
    in_force: bool,
}

#[derive(Template)]
#[template(path = "loan_schemes.html")]
struct SchemesTpl {
    c: Chrome,
    versions: Vec<VersionT>,
    can_load: bool,
    text: String,
    errors: Vec<String>,
    checked: String,
}

async fn render_schemes(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    text: String,
    errors: Vec<String>,
    checked: String,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let all = match st.svc.loan_schemes().await {
        Ok(a) => a,
        Err(e) => return Err((c, e)),
    };
    let ab = match st.svc.abilities(actor).await {
        Ok(a) => a,
        Err(e) => return Err((c, e)),
    };
    let today = st.svc.today();
    let in_force: Vec<(String, i64)> = match st.svc.loan_schemes_in_force().await {
        Ok(v) => v.into_iter().map(|s| (s.id, s.version)).collect(),
        Err(e) => return Err((c, e)),
    };
    let versions = all
        .iter()
        .map(|s| VersionT {
            scheme: scheme_t(tr, s),
            version: s.version,
            valid: format!(
                "{} — {}",
                s.valid_from,
                s.valid_to.map_or_else(|| tr.t("长期", "open-ended").to_owned(), |d| d.to_string())
            ),
            in_force: in_force.contains(&(s.id.clone(), s.version)) && s.in_force(today),
        })
        .collect();
    Ok(html(&SchemesTpl {
        c,
        versions,
        can_load: ab.on_zone(Action::LoadLoanSchemes),
        text,
        errors,
        checked,
    }))
}

async fn schemes_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_schemes(&st, c, &s.actor, String::new(), Vec::new(), String::new())
        .await
        .map_err(|(c, e)| error_page(tr, c, e))
}

/// A zone checks a scheme file (nothing written), or loads it whole.
async fn schemes_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let text = form.get("schemes").cloned().unwrap_or_default();
    let msgs = |errs: Vec<kebao_domain::FieldError>| -> Vec<String> {
        errs.into_iter()
            .map(|e| format!("{}{}{}", e.field, tr.t("：", ": "), tr.pick(e.message_zh, e.message_en)))
            .collect()
    };
    if form.get("action").map(String::as_str) == Some("check") {
        let (errors, checked) = match kebao_domain::loan::parse_schemes(&text) {
            Ok(v) => (
                Vec::new(),
                v.iter()
                    .map(|x| format!("{} {} {}", x.id, tr.t("第", "version"), x.version) + tr.t(" 版", ""))
                    .collect::<Vec<_>>()
                    .join(tr.t("、", ", ")),
            ),
            Err(errs) => (msgs(errs), String::new()),
        };
        let page = render_schemes(&st, c, &s.actor, text, errors, checked)
            .await
            .map_err(|(c, e)| error_page(tr, c, e))?;
        return Ok(page);
    }
    match st.svc.load_loan_schemes(&s.actor, &text).await {
        Ok(_) => Ok(Redirect::to("/loans/schemes?done=schemes_loaded").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_schemes(&st, c, &s.actor, text, m, String::new())
                    .await
                    .unwrap_or_else(|(c, e)| error_page(tr, c, e)),
            )),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}
