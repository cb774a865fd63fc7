//! Loans backed by insurance (C7, issue 19): the schemes in force, an enterprise's
//! application, the bank's and the insurer's decisions (and the zone's where the scheme asks),
//! disbursement with its schedule, and repayments the bank records — each a ledger transfer of
//! the money the platform keeps evidence of (it holds none).
//!
//! The guarantee policy, the fund and repayment batches are in `loan_money`.

use crate::authz::{Action, Actor, Basis, LoanCase, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::consent::{DataScope, Purpose};
use kebao_domain::event::EventDraft;
use kebao_domain::ledger::{AccountFlags, Transfer, TransferFlags, TransferResult};
use kebao_domain::loan::{
    check_pledges, check_request, enterprise_size, guard, parse_schemes, split, trigger_met, version_on,
    GuaranteePolicy, Instalment, Loan, LoanClaim, LoanRequest, LoanStatus, Parties, Pledge, PledgeKind,
    RepaymentMethod, Reviewer, Scheme, Servicing, SizeIndustry, TriggerMet, YearFigures, SHIPPED_SCHEMES,
};
use kebao_domain::org::{OrgKind, OrgStatus, Organisation};
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Invalid, Money};
use kebao_store::loans::{self as store, Listed, Party};
pub use kebao_store::loans::{Recovery, Repayment};
use kebao_store::todos::{self, Notification, Todo};
use kebao_store::{orgs, users, Tx};
use time::Date;

/// Ledger codes of loan money.
pub mod codes {
    /// The bank lends: the loan's principal receivable against the bank's lending.
    pub const DISBURSE: u16 = 401;
    /// Principal repaid.
    pub const REPAY_PRINCIPAL: u16 = 402;
    /// Interest paid.
    pub const REPAY_INTEREST: u16 = 403;
    /// A claim: the insurer's share of the loss, owed to the bank.
    pub const CLAIM_INSURER: u16 = 404;
    /// A claim: the share of the loss the bank keeps.
    pub const CLAIM_RETAINED: u16 = 405;
    /// The insurer pays the bank its share.
    pub const CLAIM_PAID: u16 = 406;
    /// A recovery: the bank's part, lowering its kept loss.
    pub const RECOVERY_BANK: u16 = 407;
    /// A recovery: the insurer's part, lowering its loss.
    pub const RECOVERY_INSURER: u16 = 408;
    /// The borrower's premium for the loan guarantee policy, written by the insurer.
    pub const PREMIUM: u16 = 409;
    /// The zone appropriates the risk-compensation fund (up to the scheme's fund size).
    pub const FUND_APPROPRIATION: u16 = 410;
    /// The fund pays the insurer (excess loss) or the bank (pool).
    pub const FUND_PAID: u16 = 411;
    /// A claim: the guarantor's share of the loss, owed to the bank.
    pub const CLAIM_GUARANTOR: u16 = 412;
    /// The guarantor pays the bank its share.
    pub const GUARANTOR_PAID: u16 = 413;
    /// A recovery: the guarantor's part, lowering its loss.
    pub const RECOVERY_GUARANTOR: u16 = 414;
}

/// Interest on a bullet loan is due every this many months (quarterly, as Chinese banks
/// commonly settle it; a scheme setting later).
pub const INTEREST_INTERVAL_MONTHS: i64 = 3;

/// What an enterprise asks for, as typed.
#[derive(Debug, Clone, Default)]
pub struct LoanInput {
    pub scheme_id: String,
    pub bank_id: String,
    pub insurer_id: String,
    /// The guarantee organisation, where the scheme gives a guarantor a share of the loss
    /// (empty: none).
    pub guarantor_id: String,
    pub amount_yuan: String,
    pub term_months: String,
    /// Annual loan rate in percent (`3.80`).
    pub rate_pct: String,
    /// Annual premium rate in percent (`2.50`).
    pub premium_rate_pct: String,
    pub method: String,
    pub funds_use: String,
    /// Patents and trademarks pledged (an IP-pledge scheme).
    pub pledges: Vec<PledgeInput>,
}

/// A pledged right as typed.
#[derive(Debug, Clone, Default)]
pub struct PledgeInput {
    /// `patent` or `trademark`.
    pub kind: String,
    pub number: String,
    pub owner: String,
    pub valuation_yuan: String,
    pub valued_on: String,
    pub registration_no: String,
}

/// A loan with its parties named, its scheme, and where its repayment stands.
#[derive(Debug, Clone)]
pub struct LoanView {
    pub loan: Loan,
    pub enterprise_name: String,
    pub bank_name: String,
    pub insurer_name: String,
    pub guarantor_name: Option<String>,
    pub scheme: Option<Scheme>,
    /// From disbursement: the schedule with what has been paid.
    pub servicing: Option<Servicing>,
    pub repayments: Vec<Repayment>,
    pub days_past_due: i64,
    /// The side the actor decides for, if the loan waits on it.
    pub may_decide: Option<Reviewer>,
    pub may_service: bool,
    /// The bank's claim, once filed, and what was recovered after it.
    pub claim: Option<LoanClaim>,
    pub recoveries: Vec<Recovery>,
    /// For the bank of a loan being repaid: whether the claim trigger is met today (with
    /// collection recorded as failed), or why not.
    pub trigger: Option<std::result::Result<TriggerMet, FieldError>>,
    pub may_pay_claim: bool,
    /// The guarantor may pay its share of the claim now.
    pub may_pay_guarantee: bool,
    /// The bank may record recoveries (after the claim is paid), and close the case.
    pub may_recover: bool,
    /// The guarantee policy, once issued, and whether the actor may issue it now.
    pub policy: Option<GuaranteePolicy>,
    pub may_issue_policy: bool,
    /// The rights pledged (an IP-pledge loan).
    pub pledges: Vec<Pledge>,
}

/// A loan in a list: its parties named, and for a loan being repaid how far it is past due.
#[derive(Debug, Clone)]
pub struct LoanRow {
    pub listed: Listed,
    pub days_past_due: i64,
    pub outstanding: Option<Money>,
    /// The instalment due next (a loan being repaid) with what is left to pay on it.
    pub next_due: Option<(Date, Money)>,
    /// The actor records this loan's repayments (its bank).
    pub may_service: bool,
}

/// A scheme's figures on its dashboard.
#[derive(Debug, Clone)]
pub struct SchemeFigures {
    pub scheme: Scheme,
    pub by_status: Vec<(LoanStatus, u64)>,
    /// Amounts asked for, and disbursed.
    pub applied: Money,
    pub disbursed: Money,
    /// Principal outstanding on loans being repaid, and the part on loans past due.
    pub outstanding: Money,
    pub overdue: Money,
    pub overdue_rate_bp: Option<i64>,
    pub claims: u64,
    pub claimed_insurer: Money,
    pub claimed_bank: Money,
    pub paid_by_insurer: Money,
    pub recovered: Money,
    /// The guard tripped, if any (new business stops).
    pub guard: Option<kebao_domain::loan::Guard>,
    /// This year so far: premium earned, the insurers' net losses and their ratio.
    pub year: YearFigures,
    pub loss_ratio_bp: Option<i64>,
    /// Loans disbursed by the borrower's zone industry tag and by its life-cycle stage:
    /// how many, and how much.
    pub by_industry: std::collections::BTreeMap<String, (u64, Money)>,
    pub by_stage: std::collections::BTreeMap<String, (u64, Money)>,
}

impl SchemeFigures {
    fn new(scheme: Scheme) -> SchemeFigures {
        SchemeFigures {
            scheme,
            by_status: Vec::new(),
            applied: Money::ZERO,
            disbursed: Money::ZERO,
            outstanding: Money::ZERO,
            overdue: Money::ZERO,
            overdue_rate_bp: None,
            claims: 0,
            claimed_insurer: Money::ZERO,
            claimed_bank: Money::ZERO,
            paid_by_insurer: Money::ZERO,
            recovered: Money::ZERO,
            guard: None,
            year: YearFigures::default(),
            loss_ratio_bp: None,
            by_industry: Default::default(),
            by_stage: Default::default(),
        }
    }
}

/// Parses a percentage with at most two decimals into basis points.
fn percent_bp(field: &str, text: &str) -> std::result::Result<i64, FieldError> {
    let t = text.trim().trim_end_matches('%').trim();
    let bad = || {
        FieldError::new(
            field,
            "percent",
            "请填写百分数，最多两位小数（如 3.80）",
            "a percentage with at most two decimals (3.80)",
        )
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let w: i64 = whole.parse().map_err(|_| bad())?;
    let f: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    if w > 100 {
        return Err(bad());
    }
    Ok(w * 100 + f)
}

/// The size group of an industry code (GB/T 4754): mining, manufacturing and utilities are
/// industry; I63–I65 software and IT services; the rest "other".
fn size_industry(code: Option<&str>) -> SizeIndustry {
    match code {
        Some(c) if matches!(c.chars().next(), Some('B' | 'C' | 'D')) => SizeIndustry::Industrial,
        Some(c) if c.starts_with("I63") || c.starts_with("I64") || c.starts_with("I65") => {
            SizeIndustry::Software
        }
        _ => SizeIndustry::Other,
    }
}

pub(crate) fn loan_resource(l: &Loan) -> Resource {
    Resource::Loan(LoanCase {
        id: l.id.clone(),
        enterprise_id: l.enterprise_id.clone(),
        bank_id: l.bank_id.clone(),
        insurer_id: l.insurer_id.clone(),
        guarantor_id: l.guarantor_id.clone(),
        status: l.status.code().to_owned(),
    })
}

pub(crate) fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Conflict(FieldError::new("loan", code, zh, en))
}

/// The loan's servicing state: its schedule with each repayment applied in order.
pub(crate) fn servicing(l: &Loan, paid: &[Repayment]) -> Option<Servicing> {
    l.disbursed_on?;
    let mut s = Servicing::new(l.schedule.clone());
    for p in paid {
        // Stored repayments were accepted by the same rule; one that no longer applies (a
        // changed schedule) would show as unpaid rather than disappear.
        let _ = s.apply(p.amount, p.paid_on);
    }
    Some(s)
}

impl Service {
    /// Every scheme version, loading the shipped examples on first use.
    pub async fn loan_schemes(&self) -> Result<Vec<Scheme>> {
        let mut tx = self.store.begin_read().await?;
        let stored = store::schemes(tx.conn()).await?;
        drop(tx);
        if !stored.is_empty() {
            return Ok(stored);
        }
        let mut tx = self.store.begin_write().await?;
        let schemes = self.ensure_schemes(&mut tx).await?;
        let draft = EventDraft::new(
            "system:shipped",
            "loan.schemes_loaded",
            "loan_schemes",
            serde_json::json!({"schemes": schemes.iter().map(|s| format!("{}@{}", s.id, s.version)).collect::<Vec<_>>()}),
        );
        self.finish(tx, draft).await?;
        Ok(schemes)
    }

    pub(crate) async fn ensure_schemes(&self, tx: &mut Tx) -> Result<Vec<Scheme>> {
        let stored = store::schemes(tx.conn()).await?;
        if !stored.is_empty() {
            return Ok(stored);
        }
        let schemes = parse_schemes(SHIPPED_SCHEMES).map_err(Invalid)?;
        for s in &schemes {
            store::insert_scheme(tx.conn(), s, "system:shipped", self.now_us()).await?;
        }
        Ok(schemes)
    }

    /// Loads scheme versions from a file, all or nothing: every error at once, and a
    /// version that exists already is refused (versions are never replaced). One event.
    pub async fn load_loan_schemes(&self, actor: &Actor, text: &str) -> Result<Vec<(String, i64)>> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::LoadLoanSchemes, &Resource::Zone, &Basis::None)?;
        let schemes = parse_schemes(text).map_err(Invalid)?;
        let mut tx = self.store.begin_write().await?;
        let stored = self.ensure_schemes(&mut tx).await?;
        for s in &schemes {
            if stored.iter().any(|x| x.id == s.id && x.version == s.version) {
                return Err(conflict(
                    "version_exists",
                    format!("方案 {} 第 {} 版已存在，版本不可覆盖", s.id, s.version),
                    format!(
                        "scheme {} version {} exists already; versions are never replaced",
                        s.id, s.version
                    ),
                ));
            }
            store::insert_scheme(tx.conn(), s, &actor.log_name(), self.now_us()).await?;
        }
        let loaded: Vec<(String, i64)> = schemes.iter().map(|s| (s.id.clone(), s.version)).collect();
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.schemes_loaded",
            "loan_schemes",
            serde_json::json!({"schemes": loaded.iter().map(|(i, v)| format!("{i}@{v}")).collect::<Vec<_>>()}),
        );
        self.finish(tx, draft).await?;
        Ok(loaded)
    }

    /// The schemes in force today (the newest version of each).
    pub async fn loan_schemes_in_force(&self) -> Result<Vec<Scheme>> {
        let all = self.loan_schemes().await?;
        let today = self.today();
        let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
        ids.dedup();
        Ok(ids.into_iter().filter_map(|id| version_on(&all, id, today).cloned()).collect())
    }

    /// What the platform knows of the parties, for the scheme's checks.
    async fn parties(&self, tx: &mut Tx, ent: &Organisation, bank: &Organisation) -> Result<Parties> {
        let today = self.today();
        let facts = orgs::facts(tx.conn(), &ent.id).await?;
        let latest = facts.iter().max_by_key(|f| f.year).ok_or_else(|| {
            ServiceError::from(FieldError::new(
                "borrower",
                "no_facts",
                "请先填报企业年度经营数据（员工人数、营业收入），据此确定企业规模",
                "file the enterprise's yearly facts first (staff, revenue): its size class comes from them",
            ))
        })?;
        let size = enterprise_size(
            size_industry(ent.industry_code.as_deref()),
            i64::from(latest.staff),
            latest.revenue.fen() / 100,
        );
        let years = ent.founded_on.map_or(0, |f| {
            let mut y = i64::from(today.year() - f.year());
            if (today.month(), today.day()) < (f.month(), f.day()) {
                y -= 1;
            }
            y.max(0)
        });
        let qualifications = orgs::qualifications(tx.conn(), &ent.id)
            .await?
            .into_iter()
            .filter(|(_, q)| q.valid_from <= today && today <= q.valid_to)
            .map(|(_, q)| q.kind.code().to_owned())
            .collect();
        Ok(Parties {
            size,
            years_in_business: years,
            qualifications,
            in_zone: ent.status == OrgStatus::Verified,
            zone_industry: !ent.zone_industries.is_empty(),
            lender_licensed: bank.kind == OrgKind::Bank && bank.status == OrgStatus::Verified,
        })
    }

    /// The scheme's figures for its guards: this year's premium earned and the insurers' net
    /// losses, and principal outstanding and overdue over its loans being repaid.
    async fn scheme_figures(&self, tx: &mut Tx, scheme_id: &str) -> Result<YearFigures> {
        let today = self.today();
        let mut y = self.scheme_year(tx, scheme_id).await?;
        let mut paid_by_loan = by_loan(store::repayments_of(tx.conn(), &Party::All).await?);
        for l in store::list(tx.conn(), &Party::All, Some(LoanStatus::Servicing), 100_000).await? {
            if l.loan.scheme_id != scheme_id {
                continue;
            }
            let paid = paid_by_loan.remove(&l.loan.id).unwrap_or_default();
            if let Some(s) = servicing(&l.loan, &paid) {
                let out = s.principal_outstanding();
                y.outstanding = Money::from_fen(y.outstanding.fen() + out.fen());
                if s.days_past_due(today) > 0 {
                    y.overdue = Money::from_fen(y.overdue.fen() + out.fen());
                }
            }
        }
        Ok(y)
    }

    /// An enterprise applies for a loan under a scheme in force, to a bank and an insurer
    /// that each hold its consent (the loan review's and the underwriting's); the scheme's
    /// rules and guards are checked, and the bank's and the insurer's reviewers get a to-do.
    pub async fn apply_loan(&self, actor: &Actor, enterprise_id: &str, input: &LoanInput) -> Result<Loan> {
        let mut tx = self.store.begin_write().await?;
        let ent = orgs::get(tx.conn(), enterprise_id).await?;
        self.require(actor, Action::ApplyLoan, &crate::authz::org_resource(&ent), &Basis::Own)?;
        let schemes = self.ensure_schemes(&mut tx).await?;
        let today = self.today();
        let scheme = version_on(&schemes, input.scheme_id.trim(), today).cloned().ok_or_else(|| {
            ServiceError::from(FieldError::new(
                "scheme_id",
                "unknown_scheme",
                "请选择现行有效的贷款方案",
                "choose a loan scheme in force",
            ))
        })?;
        let mut errs = Vec::new();
        let amount = Money::parse_yuan(&input.amount_yuan, "amount_yuan").map_err(|e| errs.push(e)).ok();
        let term = input.term_months.trim().parse::<i64>().map_err(|_| {
            errs.push(FieldError::new(
                "term_months",
                "number",
                "期限请填月数",
                "the term is a number of months",
            ))
        });
        let rate = percent_bp("rate_pct", &input.rate_pct).map_err(|e| errs.push(e)).ok();
        let premium = percent_bp("premium_rate_pct", &input.premium_rate_pct).map_err(|e| errs.push(e)).ok();
        let method = RepaymentMethod::from_code(&input.method);
        if method.is_none() {
            errs.push(FieldError::new(
                "method",
                "unknown",
                "请选择还款方式",
                "choose how the loan is repaid",
            ));
        }
        let bank = org_of_kind(&mut tx, &input.bank_id, OrgKind::Bank).await?.ok_or(());
        let insurer = org_of_kind(&mut tx, &input.insurer_id, OrgKind::Insurer).await?.ok_or(());
        if bank.is_err() {
            errs.push(FieldError::new(
                "bank_id",
                "unknown_bank",
                "请选择在平台登记的贷款银行",
                "choose a bank registered on the platform",
            ));
        }
        if insurer.is_err() {
            errs.push(FieldError::new(
                "insurer_id",
                "unknown_insurer",
                "请选择在平台登记的保险机构",
                "choose an insurer registered on the platform",
            ));
        }
        // A guarantor where the scheme shares the loss with one, and only then.
        let guarantor = match (input.guarantor_id.trim(), scheme.shares.guarantor_bp > 0) {
            ("", false) => None,
            ("", true) => {
                errs.push(FieldError::new(
                    "guarantor_id",
                    "guarantor_required",
                    format!(
                        "本方案由担保机构分担 {}% 的损失，请选择在平台登记的担保机构",
                        scheme.shares.guarantor_bp as f64 / 100.0
                    ),
                    format!(
                        "the scheme has a guarantor bear {}% of a loss: choose a guarantee organisation registered on the platform",
                        scheme.shares.guarantor_bp as f64 / 100.0
                    ),
                ));
                None
            }
            (_, false) => {
                errs.push(FieldError::new(
                    "guarantor_id",
                    "no_guarantor_share",
                    "本方案没有担保机构分担损失，不能指定担保机构",
                    "the scheme gives no guarantor a share of the loss: no guarantor is named",
                ));
                None
            }
            (id, true) => {
                let g = org_of_kind(&mut tx, id, OrgKind::Guarantor).await?;
                if g.is_none() {
                    errs.push(FieldError::new(
                        "guarantor_id",
                        "unknown_guarantor",
                        "请选择在平台登记的担保机构",
                        "choose a guarantee organisation registered on the platform",
                    ));
                }
                g
            }
        };
        let (Some(amount), Ok(term), Some(rate), Some(premium), Some(method), Ok(bank), Ok(insurer), true) =
            (amount, term, rate, premium, method, bank, insurer, errs.is_empty())
        else {
            return Err(Invalid(errs).into());
        };
        let req = LoanRequest {
            amount,
            term_months: term,
            rate_bp: rate,
            premium_rate_bp: premium,
            method,
            funds_use: input.funds_use.trim().to_owned(),
        };
        let parties = self.parties(&mut tx, &ent, &bank).await?;
        let mut errs = check_request(&scheme, &req, &parties).err().unwrap_or_default();
        let mut pledges = pledges_from(&input.pledges, &mut errs);
        if errs.is_empty() {
            errs.extend(check_pledges(&scheme, amount, &pledges, today));
        }
        if !errs.is_empty() {
            return Err(Invalid(errs).into());
        }
        if let Some(g) = guard(&scheme.guards, &self.scheme_figures(&mut tx, &scheme.id).await?) {
            return Err(ServiceError::Conflict(g.refusal(&scheme)));
        }
        // The bank and the insurer each read the enterprise's data under its consent.
        for (org, purpose) in [(&bank, Purpose::LoanReview), (&insurer, Purpose::Underwriting)] {
            let consents = kebao_store::consents::between(tx.conn(), &ent.id, &org.id).await?;
            if !consents.iter().any(|c| c.distance(DataScope::Profile, purpose, today) == 0) {
                return Err(ServiceError::Conflict(FieldError::new(
                    "consent",
                    "consent_missing",
                    format!("请先向“{}”授权查询本企业信息（用途：{}）", org.name, purpose.label_zh()),
                    format!(
                        "first give {} a consent to read the enterprise's data (purpose: {})",
                        org.name,
                        purpose.label_en()
                    ),
                )));
            }
        }
        let now = self.now_us();
        let loan = Loan {
            id: self.new_id(),
            scheme_id: scheme.id.clone(),
            scheme_version: scheme.version,
            enterprise_id: ent.id.clone(),
            bank_id: bank.id.clone(),
            insurer_id: insurer.id.clone(),
            guarantor_id: guarantor.as_ref().map(|g| g.id.clone()),
            amount,
            term_months: term,
            rate_bp: rate,
            premium_rate_bp: premium,
            method,
            funds_use: req.funds_use,
            status: LoanStatus::InReview,
            bank: None,
            insurer: None,
            zone: None,
            disbursed_on: None,
            schedule: Vec::new(),
            applied_by: actor.log_name(),
            applied_at_us: now,
            updated_at_us: now,
        };
        store::insert(tx.conn(), &loan).await?;
        for p in &mut pledges {
            p.id = self.new_id();
            p.loan_id = loan.id.clone();
            store::insert_pledge(tx.conn(), p).await?;
        }
        let what = format!("{}，{} 元", ent.name, amount.to_yuan_string());
        let what_en = format!("{}, {} yuan", ent.name, amount.to_yuan_string());
        self.loan_todo(
            &mut tx,
            &loan,
            &bank.id,
            Role::BankOfficer,
            "loan_review_bank",
            ("审查贷款申请", "Review a loan application"),
            (&what, &what_en),
        )
        .await?;
        self.loan_todo(
            &mut tx,
            &loan,
            &insurer.id,
            Role::Underwriter,
            "loan_review_insurer",
            ("审查贷款保证保险申请", "Review a loan guarantee application"),
            (&what, &what_en),
        )
        .await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.applied",
            &loan.id,
            serde_json::json!({"scheme": format!("{}@{}", scheme.id, scheme.version), "enterprise": ent.id,
                "bank": bank.id, "insurer": insurer.id, "guarantor": guarantor.as_ref().map(|g| g.id.clone()),
                "amount_fen": amount.fen(), "term_months": term,
                "rate_bp": rate, "premium_rate_bp": premium, "method": method.code(), "pledges": pledges.len()}),
        );
        self.finish(tx, draft).await?;
        Ok(loan)
    }

    #[expect(clippy::too_many_arguments, reason = "one to-do's fields")]
    pub(crate) async fn loan_todo(
        &self,
        tx: &mut Tx,
        loan: &Loan,
        org: &str,
        role: Role,
        kind: &str,
        title: (&str, &str),
        what: (&str, &str),
    ) -> Result<()> {
        todos::add_todo(
            tx.conn(),
            &Todo {
                id: self.new_id(),
                org_id: org.to_owned(),
                role: role.code().to_owned(),
                kind: kind.to_owned(),
                subject: loan.id.clone(),
                title_zh: format!("{}：{}", title.0, what.0),
                title_en: format!("{}: {}", title.1, what.1),
                link: format!("/loans/{}", loan.id),
                created_at_us: self.now_us(),
                done_at_us: None,
            },
        )
        .await?;
        Ok(())
    }

    /// Tells the enterprise's administrators how their loan moved.
    pub(crate) async fn tell_borrower(&self, tx: &mut Tx, loan: &Loan, zh: String, en: String) -> Result<()> {
        for user in users::with_role(tx.conn(), &loan.enterprise_id, Role::EnterpriseAdmin).await? {
            todos::notify(
                tx.conn(),
                &Notification {
                    id: self.new_id(),
                    user_id: user,
                    title_zh: zh.clone(),
                    title_en: en.clone(),
                    link: format!("/loans/{}", loan.id),
                    created_at_us: self.now_us(),
                    read_at_us: None,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Which side the actor decides for on this loan, if any.
    fn reviewer_of(&self, actor: &Actor, l: &Loan) -> Option<Reviewer> {
        let res = loan_resource(l);
        [
            (Action::ReviewLoanAsBank, Reviewer::Bank),
            (Action::ReviewLoanAsInsurer, Reviewer::Insurer),
            (Action::ApproveLoanAsZone, Reviewer::Zone),
        ]
        .into_iter()
        .find(|(a, who)| {
            self.allows(actor, *a, &res)
                && match who {
                    Reviewer::Bank => l.status == LoanStatus::InReview && l.bank.is_none(),
                    Reviewer::Insurer => l.status == LoanStatus::InReview && l.insurer.is_none(),
                    Reviewer::Zone => l.status == LoanStatus::ZoneReview,
                }
        })
        .map(|(_, who)| who)
    }

    /// The bank, the insurer or the zone decides on an application, with reasons for a
    /// decline. Both approving sends it to the zone (where the scheme asks) or to the bank to
    /// disburse; either declining ends it. The enterprise is told.
    pub async fn decide_loan(&self, actor: &Actor, id: &str, approve: bool, reason: &str) -> Result<Loan> {
        let mut tx = self.store.begin_write().await?;
        let mut l = store::get(tx.conn(), id).await?;
        let res = loan_resource(&l);
        self.require(actor, Action::ReadLoan, &res, &Basis::None)?;
        let who = match self.reviewer_of(actor, &l) {
            Some(w) => w,
            None => {
                // Say why: not theirs to decide, or not now.
                let action =
                    [Action::ReviewLoanAsBank, Action::ReviewLoanAsInsurer, Action::ApproveLoanAsZone]
                        .into_iter()
                        .find(|a| self.allows(actor, *a, &res));
                return Err(match action {
                    Some(_) => conflict(
                        "wrong_status",
                        format!("该贷款当前不等待您的决定（{}）", l.status.label_zh()),
                        format!("the loan is not waiting for your decision ({})", l.status.label_en()),
                    ),
                    None => self.refused(actor, Action::ReviewLoanAsBank, &res),
                });
            }
        };
        let schemes = self.ensure_schemes(&mut tx).await?;
        let zone_approval = schemes
            .iter()
            .find(|s| s.id == l.scheme_id && s.version == l.scheme_version)
            .is_none_or(|s| s.zone_approval);
        let from = l.status;
        l.decide(who, approve, reason, zone_approval)?;
        l.updated_at_us = self.now_us();
        store::update(tx.conn(), &l, from).await?;
        let now = self.now_us();
        let kind = match who {
            Reviewer::Bank => "loan_review_bank",
            Reviewer::Insurer => "loan_review_insurer",
            Reviewer::Zone => "loan_approve",
        };
        todos::close_todo(tx.conn(), kind, &l.id, now).await?;
        let ent = orgs::get(tx.conn(), &l.enterprise_id).await?;
        let what = format!("{}，{} 元", ent.name, l.amount.to_yuan_string());
        let what_en = format!("{}, {} yuan", ent.name, l.amount.to_yuan_string());
        match l.status {
            LoanStatus::Declined => {
                for k in ["loan_review_bank", "loan_review_insurer", "loan_approve"] {
                    todos::close_todo(tx.conn(), k, &l.id, now).await?;
                }
                self.tell_borrower(
                    &mut tx,
                    &l,
                    format!("贷款申请未获批准（{}）", who.label_zh()),
                    format!("Your loan application was declined ({})", who.label_en()),
                )
                .await?;
            }
            LoanStatus::ZoneReview => {
                let mut zone_orgs: Vec<String> = users::any_with_role(tx.conn(), Role::ZoneApprover)
                    .await?
                    .into_iter()
                    .map(|(_, o)| o)
                    .collect();
                zone_orgs.sort();
                zone_orgs.dedup();
                for org in zone_orgs {
                    self.loan_todo(
                        &mut tx,
                        &l,
                        &org,
                        Role::ZoneApprover,
                        "loan_approve",
                        ("审批政银保贷款", "Approve a loan under a scheme"),
                        (&what, &what_en),
                    )
                    .await?;
                }
            }
            LoanStatus::Approved => {
                let insurer = l.insurer_id.clone();
                self.loan_todo(
                    &mut tx,
                    &l,
                    &insurer,
                    Role::Underwriter,
                    "loan_policy",
                    ("签发贷款保证保险保单", "Issue a loan guarantee policy"),
                    (&what, &what_en),
                )
                .await?;
                self.tell_borrower(
                    &mut tx,
                    &l,
                    format!("贷款已获批准：请向保险机构缴纳保证保险保费 {} 元，保单签发后银行放款", l.premium().to_yuan_string()),
                    format!(
                        "Your loan is approved: pay the insurer the guarantee premium of {} yuan; the bank disburses once the policy is issued",
                        l.premium().to_yuan_string()
                    ),
                )
                .await?;
            }
            _ => {}
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.decided",
            &l.id,
            serde_json::json!({"as": who.code(), "approve": approve, "status": l.status.code()}),
        );
        let draft = Self::with_personal(draft, serde_json::json!({"reason": reason.trim()}))?;
        self.finish(tx, draft).await?;
        Ok(l)
    }

    /// The bank disburses an approved loan on a day (not in the future): the schedule is
    /// fixed from that day, and the principal is recorded on the ledger.
    pub async fn disburse_loan(&self, actor: &Actor, id: &str, on: &str) -> Result<Loan> {
        let on = kebao_domain::org::parse_date("disbursed_on", on)?;
        let today = self.today();
        if on > today {
            return Err(FieldError::new(
                "disbursed_on",
                "future",
                "放款日不能晚于今天",
                "the disbursement day cannot be in the future",
            )
            .into());
        }
        let mut tx = self.store.begin_write().await?;
        let mut l = store::get(tx.conn(), id).await?;
        self.require(actor, Action::ServiceLoan, &loan_resource(&l), &Basis::Own)?;
        let Some(policy) = store::policy_of(tx.conn(), &l.id).await? else {
            return Err(conflict(
                "no_policy",
                "保险机构签发贷款保证保险保单后才能放款",
                "the loan is disbursed once the insurer has issued the guarantee policy",
            ));
        };
        if on < policy.premium_paid_on {
            return Err(FieldError::new(
                "disbursed_on",
                "before_policy",
                format!("放款日早于保证保险缴费日（{}）", policy.premium_paid_on),
                format!(
                    "the disbursement is dated before the guarantee premium was paid ({})",
                    policy.premium_paid_on
                ),
            )
            .into());
        }
        let schemes = self.ensure_schemes(&mut tx).await?;
        let count = schemes
            .iter()
            .find(|s| s.id == l.scheme_id && s.version == l.scheme_version)
            .map_or(kebao_domain::loan::DayCount::Act360, |s| s.day_count);
        let from = l.status;
        l.disburse(on, count, INTEREST_INTERVAL_MONTHS)?;
        l.updated_at_us = self.now_us();
        store::update(tx.conn(), &l, from).await?;
        let maturity = l.schedule.last().map_or(on, |i| i.due_on);
        store::set_policy_period(tx.conn(), &l.id, on, maturity).await?;
        let (principal, funded, _, _) = accounts(&l);
        let guard = AccountFlags { credits_must_not_exceed_debits: true, ..Default::default() };
        self.ensure_account(&mut tx, &principal, &l.bank_id, "loan_principal", guard).await?;
        self.ensure_account(&mut tx, &funded, &l.bank_id, "loans_funded", AccountFlags::default()).await?;
        let t = posted(
            format!("loan-disburse:{}", l.id),
            principal,
            funded,
            l.amount.fen(),
            codes::DISBURSE,
            &l.id,
        );
        self.expect_transfers(&mut tx, &[t]).await?;
        todos::close_todo(tx.conn(), "loan_disburse", &l.id, self.now_us()).await?;
        self.tell_borrower(
            &mut tx,
            &l,
            format!("贷款已放款 {} 元，请按还款计划还款", l.amount.to_yuan_string()),
            format!("Your loan of {} yuan is disbursed; repay by the schedule", l.amount.to_yuan_string()),
        )
        .await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.disbursed",
            &l.id,
            serde_json::json!({"on": on.to_string(), "amount_fen": l.amount.fen(), "instalments": l.schedule.len()}),
        );
        self.finish(tx, draft).await?;
        Ok(l)
    }

    pub(crate) async fn expect_transfers(&self, tx: &mut Tx, ts: &[Transfer]) -> Result<()> {
        let r = self.apply_transfers(tx, ts).await?;
        match r.iter().find(|x| **x != TransferResult::Ok) {
            None => Ok(()),
            Some(TransferResult::Overflow) => Err(crate::ledger::amount_overflow()),
            Some(bad) => Err(crate::ledger::unexpected(*bad, "loan money not recorded")),
        }
    }

    /// The bank records a repayment (interest due first, then principal). The same
    /// reference again with the same fields is the same repayment (nothing new is recorded);
    /// with other fields it is refused. Returns the repayment and whether it is new.
    pub async fn record_repayment(
        &self,
        actor: &Actor,
        id: &str,
        reference: &str,
        amount_yuan: &str,
        paid_on: &str,
    ) -> Result<(Repayment, bool)> {
        let mut tx = self.store.begin_write().await?;
        match self.repay_in(&mut tx, actor, id, reference, amount_yuan, paid_on).await? {
            (p, Some(draft)) => {
                self.finish(tx, draft).await?;
                Ok((p, true))
            }
            (p, None) => Ok((p, false)),
        }
    }

    /// A repayment in the caller's transaction (one by one, or a row of a batch): the
    /// repayment, and the event to record unless it was recorded before.
    pub(crate) async fn repay_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: &str,
        reference: &str,
        amount_yuan: &str,
        paid_on: &str,
    ) -> Result<(Repayment, Option<EventDraft>)> {
        let BankEntry { reference, amount, on } =
            self.bank_entry(reference, amount_yuan, paid_on, ("paid_on", "还款日", "the repayment day"))?;
        let mut l = store::get(tx.conn(), id.trim()).await?;
        self.require(actor, Action::ServiceLoan, &loan_resource(&l), &Basis::Own)?;
        if let Some(seen) = store::repayment_by_reference(tx.conn(), &l.id, &reference).await? {
            if seen.amount == amount && seen.paid_on == on {
                return Ok((seen, None));
            }
            return Err(reference_reused(&reference, seen.amount, seen.paid_on));
        }
        if !matches!(l.status, LoanStatus::Servicing | LoanStatus::Repaid) {
            return Err(conflict(
                "not_disbursed",
                format!("该贷款尚未放款（{}）", l.status.label_zh()),
                format!("the loan is not disbursed ({})", l.status.label_en()),
            ));
        }
        if l.disbursed_on.is_some_and(|d| on < d) {
            return Err(FieldError::new(
                "paid_on",
                "before_disbursement",
                "还款日早于放款日",
                "the repayment is dated before the disbursement",
            )
            .into());
        }
        let paid = store::repayments(tx.conn(), &l.id).await?;
        let mut s = servicing(&l, &paid).unwrap_or_else(|| Servicing::new(Vec::new()));
        let a = s.apply(amount, on)?;
        let p = Repayment {
            id: self.new_id(),
            loan_id: l.id.clone(),
            reference: reference.clone(),
            paid_on: on,
            amount,
            interest: a.interest,
            principal: a.principal,
            recorded_by: actor.log_name(),
            recorded_at_us: self.now_us(),
        };
        store::insert_repayment(tx.conn(), &p).await?;
        let (principal, _, cash, interest) = accounts(&l);
        self.ensure_account(tx, &cash, &l.bank_id, "loan_cash_received", AccountFlags::default()).await?;
        self.ensure_account(tx, &interest, &l.bank_id, "loan_interest_income", AccountFlags::default())
            .await?;
        let mut ts = Vec::new();
        if a.interest.fen() > 0 {
            ts.push(posted(
                format!("loan-interest:{}", p.id),
                cash.clone(),
                interest,
                a.interest.fen(),
                codes::REPAY_INTEREST,
                &l.id,
            ));
        }
        if a.principal.fen() > 0 {
            ts.push(posted(
                format!("loan-principal:{}", p.id),
                cash,
                principal,
                a.principal.fen(),
                codes::REPAY_PRINCIPAL,
                &l.id,
            ));
        }
        self.expect_transfers(tx, &ts).await?;
        if s.repaid() && l.status == LoanStatus::Servicing {
            let from = l.status;
            l.status = LoanStatus::Repaid;
            l.updated_at_us = self.now_us();
            store::update(tx.conn(), &l, from).await?;
            let released = store::release_pledges(tx.conn(), &l.id, on).await?;
            todos::close_todo(tx.conn(), "loan_overdue", &l.id, self.now_us()).await?;
            let (zh, en) = if released > 0 {
                (
                    format!("贷款已全部结清，{released} 项质押的知识产权已解除质押"),
                    format!("Your loan is repaid in full; {released} pledged rights are released"),
                )
            } else {
                ("贷款已全部结清".to_owned(), "Your loan is repaid in full".to_owned())
            };
            let (zh, en) = match self.offer_loan_subsidy(tx, &l).await? {
                Some((pzh, pen)) => {
                    (format!("{zh}；可申请{pzh}"), format!("{en}; you may apply for the {pen}"))
                }
                None => (zh, en),
            };
            self.tell_borrower(tx, &l, zh, en).await?;
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.repayment_recorded",
            &l.id,
            serde_json::json!({"repayment": p.id, "reference": reference, "paid_on": on.to_string(),
                "amount_fen": amount.fen(), "interest_fen": a.interest.fen(), "principal_fen": a.principal.fen(),
                "status": l.status.code()}),
        );
        Ok((p, Some(draft)))
    }

    /// The bank claims on a defaulted loan once the scheme's trigger is met (its failed
    /// collection recorded): the loss base on the day is split by the scheme's shares, the
    /// insurer's share becomes its debt to the bank, and the insurer's staff get a to-do with
    /// the payout deadline in the zone's working days.
    pub async fn file_loan_claim(
        &self,
        actor: &Actor,
        id: &str,
        collection_failed: bool,
    ) -> Result<LoanClaim> {
        let mut tx = self.store.begin_write().await?;
        let mut l = store::get(tx.conn(), id).await?;
        self.require(actor, Action::ServiceLoan, &loan_resource(&l), &Basis::Own)?;
        if l.status != LoanStatus::Servicing {
            return Err(conflict(
                "not_servicing",
                format!("只能对还款中的贷款索赔（当前：{}）", l.status.label_zh()),
                format!("only a loan being repaid can be claimed on (now: {})", l.status.label_en()),
            ));
        }
        let schemes = self.ensure_schemes(&mut tx).await?;
        let scheme = schemes
            .iter()
            .find(|s| s.id == l.scheme_id && s.version == l.scheme_version)
            .cloned()
            .ok_or(ServiceError::NotFound)?;
        let paid = store::repayments(tx.conn(), &l.id).await?;
        let s = servicing(&l, &paid).ok_or(ServiceError::NotFound)?;
        let today = self.today();
        let met =
            trigger_met(&scheme.trigger, &s, l.disbursed_on.unwrap_or(today), today, collection_failed)?;
        let loss = s.loss_base(scheme.loss_base, today);
        let shares = split(loss, &scheme.shares);
        let calendar = Self::calendar_in(&mut tx).await?;
        let (code, days) = met.code_and_days();
        let claim = LoanClaim {
            loan_id: l.id.clone(),
            filed_on: today,
            trigger: code.to_owned(),
            trigger_days: days,
            loss_base: loss,
            insurer_share: shares.insurer,
            bank_share: shares.bank,
            guarantor_share: shares.guarantor,
            payout_due_on: calendar.add_working_days(today, scheme.trigger.payout_working_days),
            paid_on: None,
            paid_reference: None,
            filed_by: actor.log_name(),
            paid_by: None,
            guarantor_paid_on: None,
            guarantor_paid_reference: None,
            guarantor_paid_by: None,
        };
        store::insert_claim(tx.conn(), &claim).await?;
        for kind in ["loan_claim_file", "loan_overdue"] {
            todos::close_todo(tx.conn(), kind, &l.id, self.now_us()).await?;
        }
        let from = l.status;
        l.status = LoanStatus::Claimed;
        l.updated_at_us = self.now_us();
        store::update(tx.conn(), &l, from).await?;
        let payable = format!("loan:{}:insurer_payable", l.id);
        let losses = format!("org:{}:guarantee_losses", l.insurer_id);
        let retained = format!("org:{}:retained_loan_losses", l.bank_id);
        let written_off = format!("loan:{}:bank_loss", l.id);
        let guard = AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() };
        self.ensure_account(&mut tx, &payable, &l.insurer_id, "loan_claim_payable", guard).await?;
        self.ensure_account(&mut tx, &losses, &l.insurer_id, "guarantee_losses", AccountFlags::default())
            .await?;
        self.ensure_account(&mut tx, &retained, &l.bank_id, "retained_loan_losses", AccountFlags::default())
            .await?;
        self.ensure_account(&mut tx, &written_off, &l.bank_id, "loan_loss_retained", AccountFlags::default())
            .await?;
        let mut ts = Vec::new();
        if shares.insurer.fen() > 0 {
            ts.push(posted(
                format!("loan-claim-insurer:{}", l.id),
                losses,
                payable,
                shares.insurer.fen(),
                codes::CLAIM_INSURER,
                &l.id,
            ));
        }
        if let (Some(g), true) = (&l.guarantor_id, shares.guarantor.fen() > 0) {
            let g_payable = format!("loan:{}:guarantor_payable", l.id);
            let g_losses = format!("org:{g}:guarantee_losses");
            self.ensure_account(&mut tx, &g_payable, g, "loan_guarantee_payable", guard).await?;
            self.ensure_account(&mut tx, &g_losses, g, "guarantee_losses", AccountFlags::default()).await?;
            ts.push(posted(
                format!("loan-claim-guarantor:{}", l.id),
                g_losses,
                g_payable,
                shares.guarantor.fen(),
                codes::CLAIM_GUARANTOR,
                &l.id,
            ));
        }
        if shares.bank.fen() > 0 {
            ts.push(posted(
                format!("loan-claim-retained:{}", l.id),
                retained,
                written_off,
                shares.bank.fen(),
                codes::CLAIM_RETAINED,
                &l.id,
            ));
        }
        self.expect_transfers(&mut tx, &ts).await?;
        let ent = orgs::get(tx.conn(), &l.enterprise_id).await?;
        let what =
            format!("{}，应赔 {} 元，{} 前", ent.name, shares.insurer.to_yuan_string(), claim.payout_due_on);
        let what_en =
            format!("{}, {} yuan, by {}", ent.name, shares.insurer.to_yuan_string(), claim.payout_due_on);
        let insurer = l.insurer_id.clone();
        self.loan_todo(
            &mut tx,
            &l,
            &insurer,
            Role::Underwriter,
            "loan_claim_pay",
            ("赔付贷款保证保险", "Pay a loan guarantee claim"),
            (&what, &what_en),
        )
        .await?;
        if let (Some(g), true) = (l.guarantor_id.clone(), shares.guarantor.fen() > 0) {
            let what = format!("{}，应付 {} 元", ent.name, shares.guarantor.to_yuan_string());
            let what_en = format!("{}, {} yuan", ent.name, shares.guarantor.to_yuan_string());
            self.loan_todo(
                &mut tx,
                &l,
                &g,
                Role::BankOfficer,
                "loan_guarantee_pay",
                ("支付担保分担的贷款损失", "Pay the guarantor's share of a loan loss"),
                (&what, &what_en),
            )
            .await?;
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.claimed",
            &l.id,
            serde_json::json!({"trigger": code, "trigger_days": days, "loss_base_fen": loss.fen(),
                "insurer_fen": shares.insurer.fen(), "bank_fen": shares.bank.fen(), "guarantor_fen": shares.guarantor.fen(),
                "payout_due_on": claim.payout_due_on.to_string()}),
        );
        self.finish(tx, draft).await?;
        Ok(claim)
    }

    /// The insurer pays the bank its share of a claim (by the deadline, or late: the event
    /// says which); the bank is told.
    pub async fn pay_loan_claim(
        &self,
        actor: &Actor,
        id: &str,
        reference: &str,
        paid_on: &str,
    ) -> Result<LoanClaim> {
        let (reference, on) = self.payment_entry(reference, paid_on, "赔付日")?;
        let mut tx = self.store.begin_write().await?;
        let mut l = store::get(tx.conn(), id).await?;
        self.require(actor, Action::PayLoanClaim, &loan_resource(&l), &Basis::Own)?;
        let Some(mut claim) = store::claim(tx.conn(), &l.id).await? else {
            return Err(conflict("no_claim", "银行尚未索赔", "the bank has not claimed"));
        };
        if l.status != LoanStatus::Claimed || claim.paid_on.is_some() {
            return Err(conflict("paid", "该索赔已赔付", "the claim is paid already"));
        }
        if on < claim.filed_on {
            return Err(before_claim("赔付日"));
        }
        claim.paid_on = Some(on);
        claim.paid_reference = Some(reference.clone());
        claim.paid_by = Some(actor.log_name());
        store::pay_claim(tx.conn(), &claim).await?;
        let from = l.status;
        l.status = LoanStatus::ClaimPaid;
        l.updated_at_us = self.now_us();
        store::update(tx.conn(), &l, from).await?;
        let insurer = l.insurer_id.clone();
        let paid = Payment {
            payer: &insurer,
            payable: format!("loan:{}:insurer_payable", l.id),
            transfer: format!("loan-claim-paid:{}", l.id),
            amount: claim.insurer_share,
            code: codes::CLAIM_PAID,
            todo: "loan_claim_pay",
        };
        let told = (
            format!("保险机构已赔付贷款保证保险 {} 元", claim.insurer_share.to_yuan_string()),
            format!(
                "The insurer paid {} yuan on the loan guarantee claim",
                claim.insurer_share.to_yuan_string()
            ),
        );
        self.record_payment(&mut tx, &l, paid, told).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.claim_paid",
            &l.id,
            serde_json::json!({"amount_fen": claim.insurer_share.fen(), "paid_on": on.to_string(),
                "reference": reference, "late": on > claim.payout_due_on}),
        );
        self.finish(tx, draft).await?;
        Ok(claim)
    }

    /// The guarantor pays the bank its share of a claimed loan's loss; the bank is told.
    pub async fn pay_loan_guarantee(
        &self,
        actor: &Actor,
        id: &str,
        reference: &str,
        paid_on: &str,
    ) -> Result<LoanClaim> {
        let (reference, on) = self.payment_entry(reference, paid_on, "支付日")?;
        let mut tx = self.store.begin_write().await?;
        let l = store::get(tx.conn(), id).await?;
        self.require(actor, Action::PayLoanGuarantee, &loan_resource(&l), &Basis::Own)?;
        let Some(g) = l.guarantor_id.clone() else {
            return Err(conflict("no_guarantor", "该贷款没有担保机构", "the loan has no guarantor"));
        };
        let Some(mut claim) = store::claim(tx.conn(), &l.id).await? else {
            return Err(conflict("no_claim", "银行尚未索赔", "the bank has not claimed"));
        };
        if claim.guarantor_paid_on.is_some() || claim.guarantor_share.fen() == 0 {
            return Err(conflict("paid", "担保分担的损失已支付", "the guarantor's share is paid already"));
        }
        if on < claim.filed_on {
            return Err(before_claim("支付日"));
        }
        claim.guarantor_paid_on = Some(on);
        claim.guarantor_paid_reference = Some(reference.clone());
        claim.guarantor_paid_by = Some(actor.log_name());
        store::pay_guarantee(tx.conn(), &claim).await?;
        let paid = Payment {
            payer: &g,
            payable: format!("loan:{}:guarantor_payable", l.id),
            transfer: format!("loan-guarantee-paid:{}", l.id),
            amount: claim.guarantor_share,
            code: codes::GUARANTOR_PAID,
            todo: "loan_guarantee_pay",
        };
        let told = (
            format!("担保机构已支付其分担的损失 {} 元", claim.guarantor_share.to_yuan_string()),
            format!("The guarantor paid its share of {} yuan", claim.guarantor_share.to_yuan_string()),
        );
        self.record_payment(&mut tx, &l, paid, told).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.guarantee_paid",
            &l.id,
            serde_json::json!({"amount_fen": claim.guarantor_share.fen(), "paid_on": on.to_string(), "reference": reference}),
        );
        self.finish(tx, draft).await?;
        Ok(claim)
    }

    /// The bank records what it recovered on a defaulted loan after the claim was paid; it is
    /// split pro rata to the scheme's loss shares (the insurer's part lowers its loss, the
    /// bank's its own), never beyond the loss. The same reference with the same fields is the
    /// same recovery. Returns it and whether it is new.
    pub async fn record_recovery(
        &self,
        actor: &Actor,
        id: &str,
        reference: &str,
        amount_yuan: &str,
        on: &str,
    ) -> Result<(Recovery, bool)> {
        let BankEntry { reference, amount, on } =
            self.bank_entry(reference, amount_yuan, on, ("recovered_on", "追回日", "the recovery day"))?;
        let mut tx = self.store.begin_write().await?;
        let l = store::get(tx.conn(), id).await?;
        self.require(actor, Action::ServiceLoan, &loan_resource(&l), &Basis::Own)?;
        let before = store::recoveries(tx.conn(), &l.id).await?;
        if let Some(seen) = before.iter().find(|r| r.reference == reference) {
            if seen.amount == amount && seen.recovered_on == on {
                return Ok((seen.clone(), false));
            }
            return Err(reference_reused(&reference, seen.amount, seen.recovered_on));
        }
        if l.status == LoanStatus::Closed {
            return Err(conflict(
                "closed",
                "该贷款已结案，不再登记追偿",
                "the loan is closed: no more recoveries are recorded",
            ));
        }
        let Some(claim) = store::claim(tx.conn(), &l.id).await?.filter(|c| c.paid_on.is_some()) else {
            return Err(conflict(
                "claim_not_paid",
                "保险机构赔付后才能登记追偿",
                "recoveries are recorded after the insurer has paid the claim",
            ));
        };
        let so_far: i64 = before.iter().map(|r| r.amount.fen()).sum();
        if so_far + amount.fen() > claim.loss_base.fen() {
            return Err(FieldError::new(
                "amount_yuan",
                "above_loss",
                format!(
                    "追偿合计不能超过损失 {} 元（已追回 {} 元）",
                    claim.loss_base.to_yuan_string(),
                    Money::from_fen(so_far).to_yuan_string()
                ),
                format!(
                    "recoveries cannot exceed the loss of {} yuan ({} recovered so far)",
                    claim.loss_base.to_yuan_string(),
                    Money::from_fen(so_far).to_yuan_string()
                ),
            )
            .into());
        }
        let schemes = self.ensure_schemes(&mut tx).await?;
        let scheme = schemes
            .iter()
            .find(|s| s.id == l.scheme_id && s.version == l.scheme_version)
            .ok_or(ServiceError::NotFound)?;
        let parts = split(amount, &scheme.shares);
        let x = Recovery {
            id: self.new_id(),
            loan_id: l.id.clone(),
            reference: reference.clone(),
            recovered_on: on,
            amount,
            insurer: parts.insurer,
            bank: parts.bank,
            guarantor: parts.guarantor,
            recorded_by: actor.log_name(),
            recorded_at_us: self.now_us(),
        };
        store::insert_recovery(tx.conn(), &x).await?;
        let bank_cash = format!("org:{}:loan_cash", l.bank_id);
        let retained = format!("org:{}:retained_loan_losses", l.bank_id);
        let ins_cash = format!("org:{}:recoveries_received", l.insurer_id);
        let losses = format!("org:{}:guarantee_losses", l.insurer_id);
        self.ensure_account(&mut tx, &bank_cash, &l.bank_id, "loan_cash_received", AccountFlags::default())
            .await?;
        self.ensure_account(
            &mut tx,
            &ins_cash,
            &l.insurer_id,
            "recoveries_received",
            AccountFlags::default(),
        )
        .await?;
        let mut ts = Vec::new();
        if parts.bank.fen() > 0 {
            ts.push(posted(
                format!("loan-recovery-bank:{}", x.id),
                bank_cash,
                retained,
                parts.bank.fen(),
                codes::RECOVERY_BANK,
                &l.id,
            ));
        }
        if parts.insurer.fen() > 0 {
            ts.push(posted(
                format!("loan-recovery-insurer:{}", x.id),
                ins_cash,
                losses,
                parts.insurer.fen(),
                codes::RECOVERY_INSURER,
                &l.id,
            ));
        }
        if let (Some(g), true) = (&l.guarantor_id, parts.guarantor.fen() > 0) {
            let g_cash = format!("org:{g}:recoveries_received");
            let g_losses = format!("org:{g}:guarantee_losses");
            self.ensure_account(&mut tx, &g_cash, g, "recoveries_received", AccountFlags::default()).await?;
            ts.push(posted(
                format!("loan-recovery-guarantor:{}", x.id),
                g_cash,
                g_losses,
                parts.guarantor.fen(),
                codes::RECOVERY_GUARANTOR,
                &l.id,
            ));
        }
        self.expect_transfers(&mut tx, &ts).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.recovery_recorded",
            &l.id,
            serde_json::json!({"recovery": x.id, "reference": reference, "on": on.to_string(), "amount_fen": amount.fen(),
                "insurer_fen": parts.insurer.fen(), "bank_fen": parts.bank.fen(), "guarantor_fen": parts.guarantor.fen()}),
        );
        self.finish(tx, draft).await?;
        Ok((x, true))
    }

    /// The bank closes a defaulted loan once its claim is paid and it has recovered what it
    /// will: no more recoveries are recorded; the borrower and the insurer are told.
    pub async fn close_loan(&self, actor: &Actor, id: &str) -> Result<Loan> {
        let mut tx = self.store.begin_write().await?;
        let mut l = store::get(tx.conn(), id).await?;
        self.require(actor, Action::ServiceLoan, &loan_resource(&l), &Basis::Own)?;
        if l.status != LoanStatus::ClaimPaid {
            return Err(conflict(
                "not_claim_paid",
                format!("保险赔付后才能结案（当前：{}）", l.status.label_zh()),
                format!("a loan is closed after its claim is paid (now: {})", l.status.label_en()),
            ));
        }
        if store::claim(tx.conn(), &l.id)
            .await?
            .is_some_and(|c| c.guarantor_share.fen() > 0 && c.guarantor_paid_on.is_none())
        {
            return Err(conflict(
                "guarantor_not_paid",
                "担保机构尚未支付其分担的损失，暂不能结案",
                "the guarantor has not yet paid its share of the loss: the case cannot be closed",
            ));
        }
        let recovered: i64 = store::recoveries(tx.conn(), &l.id).await?.iter().map(|r| r.amount.fen()).sum();
        let from = l.status;
        l.status = LoanStatus::Closed;
        l.updated_at_us = self.now_us();
        store::update(tx.conn(), &l, from).await?;
        self.tell_borrower(&mut tx, &l, "贷款已结案".into(), "Your loan's case is closed".into()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.closed",
            &l.id,
            serde_json::json!({"recovered_fen": recovered}),
        );
        self.finish(tx, draft).await?;
        Ok(l)
    }

    /// Each scheme's figures for the zone and the regulator: loans by status, volumes,
    /// principal outstanding and overdue (the overdue rate against the guard's stop line),
    /// claims and their split, the insurer's payments, recoveries, and the guard state. The
    /// loss-ratio guard needs the premium earned, which comes with the guarantee policy.
    pub async fn loan_dashboard(&self, actor: &Actor) -> Result<Vec<SchemeFigures>> {
        self.require(actor, Action::ReadAllLoans, &Resource::Zone, &Basis::None)?;
        let schemes = self.loan_schemes().await?;
        let mut tx = self.store.begin_read().await?;
        let today = self.today();
        let mut out: Vec<SchemeFigures> = Vec::new();
        let mut ids: Vec<&str> = schemes.iter().map(|s| s.id.as_str()).collect();
        ids.dedup();
        for id in ids {
            if let Some(s) =
                version_on(&schemes, id, today).or_else(|| schemes.iter().rev().find(|s| s.id == id))
            {
                out.push(SchemeFigures::new(s.clone()));
            }
        }
        let add = |m: &mut Money, v: Money| *m = Money::from_fen(m.fen().saturating_add(v.fen()));
        let mut paid_by_loan = by_loan(store::repayments_of(tx.conn(), &Party::All).await?);
        let mut borrowers: std::collections::HashMap<String, Organisation> = std::collections::HashMap::new();
        for l in store::list(tx.conn(), &Party::All, None, 100_000).await? {
            let Some(f) = out.iter_mut().find(|f| f.scheme.id == l.loan.scheme_id) else { continue };
            if l.loan.disbursed_on.is_some() {
                if !borrowers.contains_key(&l.loan.enterprise_id) {
                    let o = orgs::get(tx.conn(), &l.loan.enterprise_id).await?;
                    borrowers.insert(o.id.clone(), o);
                }
                if let Some(o) = borrowers.get(&l.loan.enterprise_id) {
                    let tag = o.zone_industries.first().cloned().unwrap_or_else(|| "other".into());
                    let stage = o.lifecycle_stage.map_or("unknown", |s| s.code()).to_owned();
                    for (map, key) in [(&mut f.by_industry, tag), (&mut f.by_stage, stage)] {
                        let e = map.entry(key).or_insert((0, Money::ZERO));
                        e.0 += 1;
                        add(&mut e.1, l.loan.amount);
                    }
                }
            }
            match f.by_status.iter_mut().find(|(s, _)| *s == l.loan.status) {
                Some((_, n)) => *n += 1,
                None => f.by_status.push((l.loan.status, 1)),
            }
            add(&mut f.applied, l.loan.amount);
            if l.loan.disbursed_on.is_some() {
                add(&mut f.disbursed, l.loan.amount);
            }
            if l.loan.status == LoanStatus::Servicing {
                let paid = paid_by_loan.remove(&l.loan.id).unwrap_or_default();
                if let Some(s) = servicing(&l.loan, &paid) {
                    add(&mut f.outstanding, s.principal_outstanding());
                    if s.days_past_due(today) > 0 {
                        add(&mut f.overdue, s.principal_outstanding());
                    }
                }
            }
            if let Some(c) = store::claim(tx.conn(), &l.loan.id).await? {
                f.claims += 1;
                add(&mut f.claimed_insurer, c.insurer_share);
                add(&mut f.claimed_bank, c.bank_share);
                if c.paid_on.is_some() {
                    add(&mut f.paid_by_insurer, c.insurer_share);
                }
                for r in store::recoveries(tx.conn(), &l.loan.id).await? {
                    add(&mut f.recovered, r.amount);
                }
            }
        }
        for f in &mut out {
            f.by_status.sort_by_key(|(s, _)| LoanStatus::ALL.iter().position(|x| x == s));
            let year = self.scheme_year(&mut tx, &f.scheme.id).await?;
            f.loss_ratio_bp = crate::loan_money::loss_ratio_bp(&year);
            f.year = year;
            let y = YearFigures { outstanding: f.outstanding, overdue: f.overdue, ..year };
            f.overdue_rate_bp = kebao_domain::loan::ratio_bp(f.overdue, f.outstanding);
            f.guard = guard(&f.scheme.guards, &y);
        }
        Ok(out)
    }

    /// The loans the actor may see: the zone's officers and the regulator every loan; a
    /// bank, an insurer or an enterprise those it is a party to. Newest first.
    pub async fn loans(&self, actor: &Actor, status: Option<LoanStatus>) -> Result<Vec<LoanRow>> {
        let mut tx = self.store.begin_read().await?;
        let all = self.allows(actor, Action::ReadAllLoans, &Resource::Zone);
        let org = actor.org_id().unwrap_or_default().to_owned();
        let party = if all { Party::All } else { Party::Of(&org) };
        if !all && org.is_empty() {
            return Err(ServiceError::Unauthenticated("sign in first"));
        }
        let list = store::list(tx.conn(), &party, status, 500).await?;
        let mut paid_by_loan = by_loan(store::repayments_of(tx.conn(), &party).await?);
        let today = self.today();
        let mut out = Vec::with_capacity(list.len());
        for l in list {
            if !self.allows(actor, Action::ReadLoan, &loan_resource(&l.loan)) {
                continue;
            }
            let (days_past_due, outstanding, next) = if l.loan.status == LoanStatus::Servicing {
                let paid = paid_by_loan.remove(&l.loan.id).unwrap_or_default();
                match servicing(&l.loan, &paid) {
                    Some(s) => {
                        let next = s.schedule.iter().zip(&s.paid).find_map(|(i, a)| {
                            let left = (i.interest.fen() - a.interest.fen())
                                + (i.principal.fen() - a.principal.fen());
                            (left > 0).then(|| (i.due_on, Money::from_fen(left)))
                        });
                        (s.days_past_due(today), Some(s.principal_outstanding()), next)
                    }
                    None => (0, None, None),
                }
            } else {
                (0, None, None)
            };
            let may_service = l.loan.status == LoanStatus::Servicing
                && self.allows(actor, Action::ServiceLoan, &loan_resource(&l.loan));
            out.push(LoanRow { listed: l, days_past_due, outstanding, next_due: next, may_service });
        }
        Ok(out)
    }

    /// One loan with its parties, scheme, schedule and repayments, and what the actor may do.
    pub async fn loan(&self, actor: &Actor, id: &str) -> Result<LoanView> {
        let mut tx = self.store.begin_read().await?;
        let l = store::get(tx.conn(), id).await?;
        let res = loan_resource(&l);
        self.require(actor, Action::ReadLoan, &res, &Basis::None)?;
        let name = |o: Organisation| o.name;
        let enterprise_name = name(orgs::get(tx.conn(), &l.enterprise_id).await?);
        let bank_name = name(orgs::get(tx.conn(), &l.bank_id).await?);
        let insurer_name = name(orgs::get(tx.conn(), &l.insurer_id).await?);
        let guarantor_name = match &l.guarantor_id {
            Some(g) => Some(name(orgs::get(tx.conn(), g).await?)),
            None => None,
        };
        let scheme = store::schemes(tx.conn())
            .await?
            .into_iter()
            .find(|s| s.id == l.scheme_id && s.version == l.scheme_version);
        let repayments = store::repayments(tx.conn(), &l.id).await?;
        let s = servicing(&l, &repayments);
        let days_past_due = s.as_ref().map_or(0, |s| s.days_past_due(self.today()));
        let policy = store::policy_of(tx.conn(), &l.id).await?;
        let pledges = store::pledges(tx.conn(), &l.id).await?;
        let may_service = self.allows(actor, Action::ServiceLoan, &res)
            && (l.status == LoanStatus::Servicing || (l.status == LoanStatus::Approved && policy.is_some()));
        let may_issue_policy = policy.is_none()
            && l.status == LoanStatus::Approved
            && self.allows(actor, Action::IssueLoanPolicy, &res);
        let claim = store::claim(tx.conn(), &l.id).await?;
        let recoveries = store::recoveries(tx.conn(), &l.id).await?;
        let trigger = match (&scheme, &s, l.disbursed_on) {
            (Some(sc), Some(sv), Some(on)) if may_service && l.status == LoanStatus::Servicing => {
                Some(trigger_met(&sc.trigger, sv, on, self.today(), true))
            }
            _ => None,
        };
        let may_pay_claim = self.allows(actor, Action::PayLoanClaim, &res) && l.status == LoanStatus::Claimed;
        let may_recover = self.allows(actor, Action::ServiceLoan, &res) && l.status == LoanStatus::ClaimPaid;
        let may_pay_guarantee =
            claim.as_ref().is_some_and(|c| c.guarantor_share.fen() > 0 && c.guarantor_paid_on.is_none())
                && self.allows(actor, Action::PayLoanGuarantee, &res);
        Ok(LoanView {
            policy,
            may_issue_policy,
            pledges,
            claim,
            recoveries,
            trigger,
            may_pay_claim,
            may_pay_guarantee,
            may_recover,
            may_decide: self.reviewer_of(actor, &l),
            may_service,
            enterprise_name,
            bank_name,
            insurer_name,
            guarantor_name,
            scheme,
            servicing: s,
            repayments,
            days_past_due,
            loan: l,
        })
    }
}

/// The pledged rights as typed, each field checked (errors named by row); rows left wholly
/// empty are skipped.
fn pledges_from(input: &[PledgeInput], errs: &mut Vec<FieldError>) -> Vec<Pledge> {
    let mut out = Vec::new();
    for (i, p) in input.iter().enumerate() {
        // A form's kind select always has a value: a row is empty when all else is.
        if [&p.number, &p.owner, &p.valuation_yuan, &p.valued_on, &p.registration_no]
            .iter()
            .all(|f| f.trim().is_empty())
        {
            continue;
        }
        let at = |f: &str| format!("pledges[{}].{f}", i + 1);
        let kind = PledgeKind::from_code(p.kind.trim());
        if kind.is_none() {
            errs.push(FieldError::new(
                at("kind"),
                "unknown",
                "请选择专利权或商标专用权",
                "choose a patent or a trademark",
            ));
        }
        let valuation =
            Money::parse_yuan(&p.valuation_yuan, &at("valuation_yuan")).map_err(|e| errs.push(e)).ok();
        let valued_on =
            kebao_domain::org::parse_date(&at("valued_on"), &p.valued_on).map_err(|e| errs.push(e)).ok();
        if let (Some(kind), Some(valuation), Some(valued_on)) = (kind, valuation, valued_on) {
            out.push(Pledge {
                id: String::new(),
                loan_id: String::new(),
                kind,
                number: p.number.trim().to_owned(),
                owner: p.owner.trim().to_owned(),
                valuation,
                valued_on,
                registration_no: p.registration_no.trim().to_owned(),
                released_on: None,
            });
        }
    }
    out
}

/// Repayments grouped by their loan.
pub(crate) fn by_loan(all: Vec<Repayment>) -> std::collections::HashMap<String, Vec<Repayment>> {
    let mut m: std::collections::HashMap<String, Vec<Repayment>> = std::collections::HashMap::new();
    for p in all {
        m.entry(p.loan_id.clone()).or_default().push(p);
    }
    m
}

/// The organisation `id` if it exists and is of `kind`.
async fn org_of_kind(tx: &mut Tx, id: &str, kind: OrgKind) -> Result<Option<Organisation>> {
    match orgs::get(tx.conn(), id.trim()).await {
        Ok(o) if o.kind == kind => Ok(Some(o)),
        Ok(_) | Err(kebao_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A posted transfer of loan money, recorded under the loan.
pub(crate) fn posted(
    id: String,
    debit: String,
    credit: String,
    amount: i64,
    code: u16,
    loan_id: &str,
) -> Transfer {
    Transfer {
        id,
        debit_account_id: debit,
        credit_account_id: credit,
        amount,
        pending_id: None,
        code,
        event_ref: loan_id.to_owned(),
        flags: TransferFlags::default(),
    }
}

/// What a bank enters for money it received: its reference, the amount and the day.
struct BankEntry {
    reference: String,
    amount: Money,
    on: Date,
}

impl Service {
    /// Checks a bank's entry: a reference of at most 64 characters, an amount above zero, a
    /// day not in the future (`day`: its field and its name in both languages). All errors at once.
    /// A party's payment of its share of a claim to the bank: the transfer out of what it owes
    /// (when there is anything to pay), its to-do closed, the bank's officers told.
    async fn record_payment(
        &self,
        tx: &mut Tx,
        l: &Loan,
        p: Payment<'_>,
        told: (String, String),
    ) -> Result<()> {
        let cash = format!("org:{}:cash_paid_out", p.payer);
        self.ensure_account(tx, &cash, p.payer, "cash_paid_out", AccountFlags::default()).await?;
        if p.amount.fen() > 0 {
            let t = posted(p.transfer, p.payable, cash, p.amount.fen(), p.code, &l.id);
            self.expect_transfers(tx, &[t]).await?;
        }
        todos::close_todo(tx.conn(), p.todo, &l.id, self.now_us()).await?;
        for user in users::with_role(tx.conn(), &l.bank_id, Role::BankOfficer).await? {
            todos::notify(
                tx.conn(),
                &Notification {
                    id: self.new_id(),
                    user_id: user,
                    title_zh: told.0.clone(),
                    title_en: told.1.clone(),
                    link: format!("/loans/{}", l.id),
                    created_at_us: self.now_us(),
                    read_at_us: None,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// A payment's reference (required) and day (not in the future) as typed; `day` names
    /// the day in Chinese.
    fn payment_entry(&self, reference: &str, paid_on: &str, day: &str) -> Result<(String, Date)> {
        let mut errs = Vec::new();
        let reference = kebao_domain::org::text_field("reference", reference, true, 64)
            .map_err(|e| errs.push(e))
            .ok()
            .flatten()
            .unwrap_or_default();
        let on = kebao_domain::org::parse_date("paid_on", paid_on).map_err(|e| errs.push(e)).ok();
        let (Some(on), true) = (on, errs.is_empty()) else {
            return Err(Invalid(errs).into());
        };
        if on > self.today() {
            return Err(FieldError::new(
                "paid_on",
                "future",
                format!("{day}不能晚于今天"),
                "the payment day cannot be in the future",
            )
            .into());
        }
        Ok((reference, on))
    }

    fn bank_entry(
        &self,
        reference: &str,
        amount_yuan: &str,
        on: &str,
        day: (&str, &str, &str),
    ) -> Result<BankEntry> {
        let mut errs = Vec::new();
        let reference = kebao_domain::org::text_field("reference", reference, true, 64)
            .map_err(|e| errs.push(e))
            .ok()
            .flatten()
            .unwrap_or_default();
        let amount = Money::parse_yuan(amount_yuan, "amount_yuan").map_err(|e| errs.push(e)).ok();
        if amount.is_some_and(|a| a.fen() <= 0) {
            errs.push(FieldError::new("amount_yuan", "positive", "金额须大于零", "the amount is above zero"));
        }
        let on = kebao_domain::org::parse_date(day.0, on).map_err(|e| errs.push(e)).ok();
        if on.is_some_and(|d| d > self.today()) {
            errs.push(FieldError::new(
                day.0,
                "future",
                format!("{}不能晚于今天", day.1),
                format!("{} cannot be in the future", day.2),
            ));
        }
        match (amount, on, errs.is_empty()) {
            (Some(amount), Some(on), true) => Ok(BankEntry { reference, amount, on }),
            _ => Err(Invalid(errs).into()),
        }
    }
}

/// What a party pays the bank on a claim, and where it is booked.
struct Payment<'a> {
    payer: &'a str,
    payable: String,
    transfer: String,
    amount: Money,
    code: u16,
    /// The payer's to-do the payment closes.
    todo: &'static str,
}

/// The refusal of a payment dated before the claim (`day`: the day's name in Chinese).
fn before_claim(day: &str) -> ServiceError {
    FieldError::new(
        "paid_on",
        "before_claim",
        format!("{day}早于索赔日"),
        "the payment is dated before the claim",
    )
    .into()
}

/// The refusal of a reference recorded before with other fields.
fn reference_reused(reference: &str, amount: Money, on: Date) -> ServiceError {
    FieldError::new(
        "reference",
        "reference_reused",
        format!("流水号 {reference} 已登记为 {} 元（{on}），与本次不同", amount.to_yuan_string()),
        format!(
            "reference {reference} was recorded as {} yuan on {on}, which differs",
            amount.to_yuan_string()
        ),
    )
    .into()
}

/// The loan's ledger accounts: its principal receivable, the bank's lending, the bank's cash
/// received on loans, and the loan's interest income.
fn accounts(l: &Loan) -> (String, String, String, String) {
    (
        format!("loan:{}:principal", l.id),
        format!("org:{}:loans_funded", l.bank_id),
        format!("org:{}:loan_cash", l.bank_id),
        format!("loan:{}:interest", l.id),
    )
}

/// The instalment due next on `d` (the first not fully paid).
pub fn next_due(s: &Servicing) -> Option<Instalment> {
    s.schedule
        .iter()
        .zip(&s.paid)
        .find(|(i, a)| a.interest < i.interest || a.principal < i.principal)
        .map(|(i, _)| *i)
}

/// Whether `d` is a valid business date string (the pages' default for forms).
pub fn today_string(d: Date) -> String {
    d.to_string()
}
