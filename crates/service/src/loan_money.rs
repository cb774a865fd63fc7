//! The money around a loan beyond its principal and interest (C7, issue 19): the loan
//! guarantee policy and its premium, a scheme year's figures (premium earned, the insurer's
//! losses, the loss ratio the guards read), the risk-compensation fund's payments (never
//! beyond its balance, whatever races), and repayments imported by batch.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::loans::{codes, conflict, loan_resource, posted, servicing};
use crate::tabular::{self, Format};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::ledger::{AccountFlags, TransferResult};
use kebao_domain::loan::{
    excess_loss_due, pool_compensation, version_on, Backstop, GuaranteePolicy, LoanStatus, Scheme,
    YearFigures,
};
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Invalid, Money};
pub use kebao_store::loans::FundPayment;
use kebao_store::loans::{self as store, Party, SchemeBook};
use kebao_store::{ledger, orgs, todos};
use time::{Date, Month};

/// The fund's account for a scheme, and where its money is appropriated from.
fn fund_account(scheme_id: &str) -> String {
    format!("loanfund:{scheme_id}")
}
const FUND_APPROPRIATION: &str = "loanfund:appropriation";

fn add(m: &mut Money, v: Money) {
    *m = Money::from_fen(m.fen().saturating_add(v.fen()));
}

/// One insurer's figures for one scheme year.
#[derive(Debug, Clone)]
pub struct InsurerYear {
    pub insurer_id: String,
    pub insurer_name: String,
    pub year: i32,
    pub figures: YearFigures,
    /// The insurer's net losses over the premium earned, if any premium was earned.
    pub loss_ratio_bp: Option<i64>,
}

/// What the fund owes now, and to whom.
#[derive(Debug, Clone)]
pub struct FundDue {
    pub scheme_id: String,
    pub year: i32,
    /// The defaulted loan (a pool pays per loan), or none (a year's excess loss).
    pub loan_id: Option<String>,
    pub borrower_name: Option<String>,
    pub payee_id: String,
    pub payee_name: String,
    pub amount: Money,
    /// The year has not ended: the figure may still move, and is not payable yet.
    pub provisional: bool,
}

/// A scheme's fund: its size, what it paid, its balance, what it owes, and the years'
/// figures by insurer.
#[derive(Debug, Clone)]
pub struct FundState {
    pub scheme: Scheme,
    pub size: Money,
    pub paid: Money,
    pub balance: Money,
    pub payments: Vec<FundPayment>,
    pub due: Vec<FundDue>,
    pub years: Vec<InsurerYear>,
    /// The names of the organisations paid, by id.
    pub payees: std::collections::BTreeMap<String, String>,
}

/// What the zone enters when the fund pays.
#[derive(Debug, Clone, Default)]
pub struct FundPaymentInput {
    pub scheme_id: String,
    pub year: String,
    /// For a pool: the defaulted loan.
    pub loan_id: String,
    /// For an excess loss: the insurer paid.
    pub payee_id: String,
    pub reference: String,
    pub paid_on: String,
}

/// How a batch of repayments went: each row recorded, or found already recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepaymentBatch {
    pub recorded: usize,
    pub already: usize,
    pub loans: Vec<String>,
}

/// The first and last day of a year, the last no later than `today`.
fn year_span(year: i32, today: Date) -> Option<(Date, Date)> {
    let from = Date::from_calendar_date(year, Month::January, 1).ok()?;
    let to = Date::from_calendar_date(year, Month::December, 31).ok()?.min(today);
    (from <= to).then_some((from, to))
}

/// A scheme year's figures over its loans' policies, claims, recoveries and the fund's
/// year payments — for one insurer, or for all (`None`).
pub fn year_figures(
    book: &SchemeBook,
    pays: &[FundPayment],
    insurer: Option<&str>,
    year: i32,
    today: Date,
) -> YearFigures {
    let mut y = YearFigures::default();
    let Some((from, to)) = year_span(year, today) else { return y };
    let mine = |i: &str| insurer.is_none_or(|x| x == i);
    for (i, p) in &book.policies {
        if mine(i) {
            add(&mut y.earned_premium, p.earned(from, to));
        }
    }
    let mut losses: i64 = 0;
    for (i, c) in &book.claims {
        if mine(i) && c.paid_on.is_some_and(|d| d.year() == year && d <= to) {
            losses = losses.saturating_add(c.insurer_share.fen());
        }
    }
    for (i, r) in &book.recoveries {
        if mine(i) && r.recovered_on.year() == year && r.recovered_on <= to {
            losses = losses.saturating_sub(r.insurer.fen());
        }
    }
    y.insurer_losses = Money::from_fen(losses.max(0));
    for p in pays {
        if p.scheme_year == year && p.loan_id.is_none() && insurer.is_none_or(|x| x == p.payee_id) {
            add(&mut y.fund_paid, p.amount);
        }
    }
    y
}

/// Losses over earned premium, in basis points (none without earned premium).
pub fn loss_ratio_bp(y: &YearFigures) -> Option<i64> {
    kebao_domain::loan::ratio_bp(y.insurer_losses, y.earned_premium)
}

impl Service {
    /// The scheme's year-to-date figures over all its insurers: the premium earned and the
    /// insurer's net losses (the guards' loss ratio).
    pub(crate) async fn scheme_year(
        &self,
        tx: &mut impl kebao_store::Conn,
        scheme_id: &str,
    ) -> Result<YearFigures> {
        let today = self.today();
        let book = store::scheme_book(tx.conn(), scheme_id).await?;
        let pays = store::fund_payments(tx.conn(), scheme_id).await?;
        Ok(year_figures(&book, &pays, None, today.year(), today))
    }

    /// The insurer issues the loan guarantee policy on an approved loan, recording its own
    /// policy number and the borrower's premium payment (the premium is the scheme's:
    /// the rate on the principal for the term). The bank is then asked to disburse.
    pub async fn issue_loan_policy(
        &self,
        actor: &Actor,
        id: &str,
        number: &str,
        reference: &str,
        paid_on: &str,
    ) -> Result<GuaranteePolicy> {
        let mut errs = Vec::new();
        let text = |f: &str, v: &str, errs: &mut Vec<FieldError>| {
            kebao_domain::org::text_field(f, v, true, 64)
                .map_err(|e| errs.push(e))
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let number = text("number", number, &mut errs);
        let reference = text("reference", reference, &mut errs);
        let on = kebao_domain::org::parse_date("paid_on", paid_on).map_err(|e| errs.push(e)).ok();
        if on.is_some_and(|d| d > self.today()) {
            errs.push(FieldError::new(
                "paid_on",
                "future",
                "缴费日不能晚于今天",
                "the payment day cannot be in the future",
            ));
        }
        let (Some(on), true) = (on, errs.is_empty()) else {
            return Err(Invalid(errs).into());
        };
        let mut tx = self.store.begin_write().await?;
        let l = store::get(tx.conn(), id).await?;
        self.require(actor, Action::IssueLoanPolicy, &loan_resource(&l), &Basis::Own)?;
        if store::policy_of(tx.conn(), &l.id).await?.is_some() {
            return Err(conflict(
                "policy_issued",
                "该贷款的保证保险保单已签发",
                "the loan's guarantee policy is issued already",
            ));
        }
        if l.status != LoanStatus::Approved {
            return Err(conflict(
                "not_approved",
                format!("贷款获批后才能签发保证保险保单（当前：{}）", l.status.label_zh()),
                format!(
                    "the guarantee policy is issued once the loan is approved (now: {})",
                    l.status.label_en()
                ),
            ));
        }
        let p = GuaranteePolicy {
            loan_id: l.id.clone(),
            number: number.clone(),
            start: None,
            end: None,
            premium: l.premium(),
            premium_paid_on: on,
            premium_reference: reference.clone(),
            issued_by: actor.log_name(),
            issued_at_us: self.now_us(),
        };
        store::insert_policy(tx.conn(), &p).await.map_err(|e| match e {
            kebao_store::StoreError::Conflict(_) => ServiceError::from(FieldError::new(
                "number",
                "number_taken",
                format!("保单号 {number} 已被使用"),
                format!("policy number {number} is taken"),
            )),
            other => other.into(),
        })?;
        let paid = format!("org:{}:guarantee_premium_paid", l.enterprise_id);
        let written = format!("org:{}:guarantee_premium_written", l.insurer_id);
        self.ensure_account(
            &mut tx,
            &paid,
            &l.enterprise_id,
            "guarantee_premium_paid",
            AccountFlags::default(),
        )
        .await?;
        self.ensure_account(
            &mut tx,
            &written,
            &l.insurer_id,
            "guarantee_premium_written",
            AccountFlags::default(),
        )
        .await?;
        if p.premium.fen() > 0 {
            let t = posted(
                format!("loan-premium:{}", l.id),
                paid,
                written,
                p.premium.fen(),
                codes::PREMIUM,
                &l.id,
            );
            self.expect_transfers(&mut tx, &[t]).await?;
        }
        let now = self.now_us();
        todos::close_todo(tx.conn(), "loan_policy", &l.id, now).await?;
        let ent = orgs::get(tx.conn(), &l.enterprise_id).await?;
        let what = format!("{}，{} 元", ent.name, l.amount.to_yuan_string());
        let what_en = format!("{}, {} yuan", ent.name, l.amount.to_yuan_string());
        let bank = l.bank_id.clone();
        self.loan_todo(
            &mut tx,
            &l,
            &bank,
            Role::BankOfficer,
            "loan_disburse",
            ("放款", "Disburse a loan"),
            (&what, &what_en),
        )
        .await?;
        self.tell_borrower(
            &mut tx,
            &l,
            format!("贷款保证保险保单 {number} 已签发，等待银行放款"),
            format!("Your loan guarantee policy {number} is issued; the bank disburses next"),
        )
        .await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.policy_issued",
            &l.id,
            serde_json::json!({"number": number, "premium_fen": p.premium.fen(), "paid_on": on.to_string(),
                "reference": reference}),
        );
        self.finish(tx, draft).await?;
        Ok(p)
    }

    /// Each scheme's fund: size, payments, balance, what it owes now (pool payments per paid
    /// claim; excess-loss payments per insurer for each ended year, and the current year's as
    /// provisional), and the years' figures by insurer. The zone and the regulator.
    pub async fn loan_funds(&self, actor: &Actor) -> Result<Vec<FundState>> {
        self.require(actor, Action::ReadAllLoans, &Resource::Zone, &Basis::None)?;
        let schemes = self.loan_schemes().await?;
        let mut tx = self.store.begin_read().await?;
        let today = self.today();
        let mut ids: Vec<&str> = schemes.iter().map(|s| s.id.as_str()).collect();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            let Some(s) =
                version_on(&schemes, id, today).or_else(|| schemes.iter().rev().find(|s| s.id == id))
            else {
                continue;
            };
            out.push(self.fund_state(&mut tx, s.clone()).await?);
        }
        Ok(out)
    }

    async fn fund_state(&self, tx: &mut impl kebao_store::Conn, scheme: Scheme) -> Result<FundState> {
        let today = self.today();
        let book = store::scheme_book(tx.conn(), &scheme.id).await?;
        let payments = store::fund_payments(tx.conn(), &scheme.id).await?;
        let appropriated =
            ledger::account(tx.conn(), &fund_account(&scheme.id)).await?.map_or(0, |a| a.credits_posted);
        let size = Money::from_fen(scheme.fund.value.saturating_mul(100).max(appropriated));
        let paid = Money::from_fen(payments.iter().map(|p| p.amount.fen()).sum());
        let balance = Money::from_fen((size.fen() - paid.fen()).max(0));
        let mut insurers: Vec<String> = book.policies.iter().map(|(i, _)| i.clone()).collect();
        insurers.extend(book.claims.iter().map(|(i, _)| i.clone()));
        insurers.sort();
        insurers.dedup();
        let first_year = book
            .policies
            .iter()
            .filter_map(|(_, p)| p.start.map(|d| d.year()))
            .chain(book.claims.iter().map(|(_, c)| c.filed_on.year()))
            .min()
            .unwrap_or(today.year());
        let mut years = Vec::new();
        let mut due = Vec::new();
        for insurer in &insurers {
            let name = orgs::get(tx.conn(), insurer).await.map(|o| o.name).unwrap_or_default();
            for year in first_year..=today.year() {
                let f = year_figures(&book, &payments, Some(insurer), year, today);
                if let Backstop::ExcessLoss { .. } = scheme.backstop {
                    let amount = excess_loss_due(&scheme.backstop, &f, balance);
                    if amount.fen() > 0 {
                        due.push(FundDue {
                            scheme_id: scheme.id.clone(),
                            year,
                            loan_id: None,
                            borrower_name: None,
                            payee_id: insurer.clone(),
                            payee_name: name.clone(),
                            amount,
                            provisional: year >= today.year(),
                        });
                    }
                }
                if f.earned_premium.fen() == 0 && f.insurer_losses.fen() == 0 && f.fund_paid.fen() == 0 {
                    continue;
                }
                years.push(InsurerYear {
                    insurer_id: insurer.clone(),
                    insurer_name: name.clone(),
                    year,
                    loss_ratio_bp: loss_ratio_bp(&f),
                    figures: f,
                });
            }
        }
        if let Backstop::Pool { .. } = scheme.backstop {
            for (_, c) in &book.claims {
                let Some(paid_on) = c.paid_on else { continue };
                if payments.iter().any(|p| p.loan_id.as_deref() == Some(c.loan_id.as_str())) {
                    continue;
                }
                // A guaranteed loan: the pool pays the guarantor on its share (Anhui: 20 %
                // to the guarantor); a direct loan, the bank on the loss it keeps.
                let l = store::get(tx.conn(), &c.loan_id).await?;
                let (payee, exposure, guaranteed) = match &l.guarantor_id {
                    Some(g) if c.guarantor_share.fen() > 0 => (g.clone(), c.guarantor_share, true),
                    _ => (l.bank_id.clone(), c.bank_share, false),
                };
                let amount = self.pool_due(tx, &scheme, &c.loan_id, exposure, guaranteed, balance).await?;
                if amount.fen() > 0 {
                    due.push(FundDue {
                        scheme_id: scheme.id.clone(),
                        year: paid_on.year(),
                        loan_id: Some(l.id.clone()),
                        borrower_name: orgs::get(tx.conn(), &l.enterprise_id).await.map(|o| o.name).ok(),
                        payee_id: payee.clone(),
                        payee_name: orgs::get(tx.conn(), &payee).await.map(|o| o.name).unwrap_or_default(),
                        amount,
                        provisional: false,
                    });
                }
            }
        }
        years.sort_by(|a, b| b.year.cmp(&a.year).then_with(|| a.insurer_name.cmp(&b.insurer_name)));
        let mut payees = std::collections::BTreeMap::new();
        for p in &payments {
            if !payees.contains_key(&p.payee_id) {
                let name = orgs::get(tx.conn(), &p.payee_id).await.map(|o| o.name).unwrap_or_default();
                payees.insert(p.payee_id.clone(), name);
            }
        }
        Ok(FundState { scheme, size, paid, balance, payments, due, years, payees })
    }

    /// What a pool pays on one defaulted loan — the bank lending directly, or the guarantor
    /// of a guaranteed loan: its share of the principal lost, with the bonus for the
    /// borrower's first loan or a pledge, at most the ceiling share of the party's loss and
    /// the fund's balance.
    async fn pool_due(
        &self,
        tx: &mut impl kebao_store::Conn,
        scheme: &Scheme,
        loan_id: &str,
        exposure: Money,
        guaranteed: bool,
        balance: Money,
    ) -> Result<Money> {
        let l = store::get(tx.conn(), loan_id).await?;
        let paid = store::repayments(tx.conn(), &l.id).await?;
        let principal = servicing(&l, &paid).map_or(Money::ZERO, |s| s.principal_outstanding());
        let earlier =
            store::list(tx.conn(), &Party::Of(&l.enterprise_id), None, 10_000).await?.into_iter().any(|o| {
                o.loan.id != l.id
                    && o.loan.enterprise_id == l.enterprise_id
                    && o.loan.disbursed_on.is_some_and(|d| l.disbursed_on.is_some_and(|mine| d < mine))
            });
        let pledged = !store::pledges(tx.conn(), &l.id).await?.is_empty();
        Ok(pool_compensation(&scheme.backstop, principal, guaranteed, !earlier || pledged, exposure, balance))
    }

    /// The zone records what the fund pays: the amount is the scheme's, computed now (a
    /// pool's payment on a defaulted loan after its claim is paid; an excess loss for an
    /// ended year), never beyond the fund's balance. The same reference again for the same
    /// payment is that payment; a reference used for another is refused.
    pub async fn pay_loan_fund(
        &self,
        actor: &Actor,
        input: &FundPaymentInput,
    ) -> Result<(FundPayment, bool)> {
        self.require(actor, Action::PayLoanFund, &Resource::Zone, &Basis::None)?;
        let mut errs = Vec::new();
        let reference = kebao_domain::org::text_field("reference", &input.reference, true, 64)
            .map_err(|e| errs.push(e))
            .ok()
            .flatten()
            .unwrap_or_default();
        let on = kebao_domain::org::parse_date("paid_on", &input.paid_on).map_err(|e| errs.push(e)).ok();
        if on.is_some_and(|d| d > self.today()) {
            errs.push(FieldError::new(
                "paid_on",
                "future",
                "支付日不能晚于今天",
                "the payment day cannot be in the future",
            ));
        }
        let year = input.year.trim().parse::<i32>().map_err(|_| {
            errs.push(FieldError::new(
                "year",
                "number",
                "请填写方案年度（如 2026）",
                "the scheme year is a year (2026)",
            ))
        });
        let (Some(on), Ok(year), true) = (on, year, errs.is_empty()) else {
            return Err(Invalid(errs).into());
        };
        let loan_id = Some(input.loan_id.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let mut tx = self.store.begin_write().await?;
        let schemes = self.ensure_schemes(&mut tx).await?;
        let today = self.today();
        let scheme = version_on(&schemes, input.scheme_id.trim(), today)
            .or_else(|| schemes.iter().rev().find(|s| s.id == input.scheme_id.trim()))
            .cloned()
            .ok_or_else(|| {
                ServiceError::from(FieldError::new(
                    "scheme_id",
                    "unknown_scheme",
                    "没有该贷款方案",
                    "no such loan scheme",
                ))
            })?;
        // Payments from one fund are taken one at a time: the fund's account is locked first.
        let zone = actor.org_id().unwrap_or_default().to_owned();
        let acc = fund_account(&scheme.id);
        let guard = AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() };
        self.ensure_account(
            &mut tx,
            FUND_APPROPRIATION,
            &zone,
            "loan_fund_appropriation",
            AccountFlags::default(),
        )
        .await?;
        self.ensure_account(&mut tx, &acc, &zone, "loan_fund", guard).await?;
        let seen = store::fund_payments(tx.conn(), &scheme.id).await?;
        if let Some(p) = seen.iter().find(|p| p.reference == reference) {
            if p.scheme_year == year && p.loan_id == loan_id && p.paid_on == on {
                return Ok((p.clone(), false));
            }
            return Err(FieldError::new(
                "reference",
                "reference_reused",
                format!(
                    "流水号 {reference} 已用于另一笔基金支付（{} 元，{}）",
                    p.amount.to_yuan_string(),
                    p.paid_on
                ),
                format!(
                    "reference {reference} was used for another fund payment ({} yuan, {})",
                    p.amount.to_yuan_string(),
                    p.paid_on
                ),
            )
            .into());
        }
        let state = self.fund_state(&mut tx, scheme.clone()).await?;
        let line = state.due.iter().find(|d| {
            d.year == year
                && d.loan_id == loan_id
                && (loan_id.is_some() || d.payee_id == input.payee_id.trim())
        });
        let Some(line) = line.cloned() else {
            return Err(conflict(
                "nothing_due",
                "风险补偿基金对此没有应付款项（按方案规则计算为零，或已支付）",
                "the fund owes nothing for this (by the scheme's rules it is zero, or it was paid)",
            ));
        };
        if line.provisional {
            return Err(conflict(
                "year_not_ended",
                format!("{} 年度尚未结束，超赔补偿按年度结算", line.year),
                format!("the year {} has not ended; excess-loss compensation is settled by year", line.year),
            ));
        }
        // Appropriate the fund up to the size of the version in force.
        let appropriated = ledger::account(tx.conn(), &acc).await?.map_or(0, |a| a.credits_posted);
        let target = scheme.fund.value.saturating_mul(100);
        if target > appropriated {
            let t = kebao_domain::ledger::Transfer {
                id: format!("loanfund-appropriation:{}:{}", scheme.id, scheme.version),
                debit_account_id: FUND_APPROPRIATION.to_owned(),
                credit_account_id: acc.clone(),
                amount: target - appropriated,
                pending_id: None,
                code: codes::FUND_APPROPRIATION,
                event_ref: format!("{}:{}", scheme.id, scheme.version),
                flags: kebao_domain::ledger::TransferFlags::default(),
            };
            self.expect_transfers(&mut tx, &[t]).await?;
        }
        let p = FundPayment {
            id: self.new_id(),
            scheme_id: scheme.id.clone(),
            scheme_version: scheme.version,
            scheme_year: year,
            loan_id: loan_id.clone(),
            payee_id: line.payee_id.clone(),
            amount: line.amount,
            paid_on: on,
            reference: reference.clone(),
            paid_by: actor.log_name(),
            paid_at_us: self.now_us(),
        };
        store::insert_fund_payment(tx.conn(), &p).await.map_err(|e| match e {
            kebao_store::StoreError::Conflict(_) => {
                conflict("paid", "该笔基金补偿已支付", "the fund has paid this already")
            }
            other => other.into(),
        })?;
        let received = format!("org:{}:fund_compensation", line.payee_id);
        self.ensure_account(
            &mut tx,
            &received,
            &line.payee_id,
            "loan_fund_compensation",
            AccountFlags::default(),
        )
        .await?;
        let t =
            posted(format!("loanfund-pay:{}", p.id), acc, received, p.amount.fen(), codes::FUND_PAID, &p.id);
        match self.apply_transfers(&mut tx, &[t]).await?.first() {
            Some(TransferResult::Ok) => {}
            Some(TransferResult::ExceedsCredits) => {
                return Err(conflict(
                    "fund_exhausted",
                    "风险补偿基金余额不足",
                    "the risk-compensation fund's balance cannot cover this",
                ))
            }
            other => {
                return Err(crate::ledger::unexpected(
                    other.copied().unwrap_or(TransferResult::Ok),
                    "fund payment not recorded",
                ))
            }
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "loan.fund_paid",
            &p.id,
            serde_json::json!({"scheme": scheme.id, "year": year, "loan": loan_id, "payee": line.payee_id,
                "amount_fen": p.amount.fen(), "paid_on": on.to_string(), "reference": reference}),
        );
        self.finish(tx, draft).await?;
        Ok((p, true))
    }

    /// The bank records a batch of repayments from a spreadsheet (columns 贷款编号 / loan_id,
    /// 银行流水号 / reference, 还款金额（元）/ amount_yuan, 还款日 / paid_on; others are ignored),
    /// read through the bounded reader. All or nothing: every row is checked as if recorded
    /// one by one (a reference already recorded with the same fields counts as recorded), and
    /// one bad row — each is named — records none.
    pub async fn import_repayments(
        &self,
        actor: &Actor,
        bytes: &[u8],
        format: Format,
    ) -> Result<RepaymentBatch> {
        let table = tabular::read(bytes, format).map_err(|e| {
            ServiceError::from(FieldError::new(
                "file",
                "unreadable",
                format!("无法读取文件：{e}"),
                format!("the file does not read: {e}"),
            ))
        })?;
        let col = |names: &[&str]| {
            table.headers.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
        };
        let cols = [
            col(&["贷款编号", "loan_id"]),
            col(&["银行流水号", "reference"]),
            col(&["还款金额（元）", "还款金额", "amount_yuan"]),
            col(&["还款日", "paid_on"]),
        ];
        let [Some(c_loan), Some(c_ref), Some(c_amount), Some(c_on)] = cols else {
            return Err(FieldError::new(
                "file",
                "columns",
                "文件须有“贷款编号”“银行流水号”“还款金额（元）”“还款日”四列",
                "the file needs the columns loan_id, reference, amount_yuan and paid_on",
            )
            .into());
        };
        let mut tx = self.store.begin_write().await?;
        let mut errs = Vec::new();
        let mut out = RepaymentBatch::default();
        let cell = |r: &Vec<String>, c: usize| r.get(c).map(|s| s.trim().to_owned()).unwrap_or_default();
        for (i, r) in table.rows.iter().enumerate() {
            let row = i + 2;
            if r.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let loan = cell(r, c_loan);
            // The row's loan: one this bank services, else the row is named.
            let refusal = match store::get(tx.conn(), &loan).await {
                Ok(l) if self.allows(actor, Action::ServiceLoan, &loan_resource(&l)) => None,
                Ok(_) => Some(FieldError::new(
                    "loan_id",
                    "not_yours",
                    "该贷款不由本行管理",
                    "the loan is not serviced by your bank",
                )),
                Err(kebao_store::StoreError::NotFound) => {
                    Some(FieldError::new("loan_id", "not_found", "没有该贷款", "no such loan"))
                }
                Err(e) => return Err(e.into()),
            };
            let outcome = match refusal {
                Some(f) => Err(ServiceError::Conflict(f)),
                None => {
                    self.repay_in(&mut tx, actor, &loan, &cell(r, c_ref), &cell(r, c_amount), &cell(r, c_on))
                        .await
                }
            };
            match outcome {
                Ok((_, Some(d))) => {
                    // Each row's event right after its row: it records that row's transfers.
                    if errs.is_empty() {
                        kebao_store::events::append(&mut tx, d, self.now_us()).await?;
                    }
                    out.recorded += 1;
                    out.loans.push(loan);
                }
                Ok((_, None)) => out.already += 1,
                Err(e) => {
                    let fe: Vec<FieldError> = match e {
                        ServiceError::Invalid(Invalid(v)) => v,
                        ServiceError::Conflict(f) => vec![f],
                        other => return Err(other),
                    };
                    for f in fe {
                        errs.push(FieldError::new(
                            format!("row {row}.{}", f.field),
                            f.code,
                            format!("第 {row} 行：{}", f.message_zh),
                            format!("row {row}: {}", f.message_en),
                        ));
                    }
                }
            }
            if errs.len() >= 100 {
                break;
            }
        }
        if !errs.is_empty() {
            return Err(Invalid(errs).into());
        }
        if out.recorded > 0 {
            tx.commit().await?;
        }
        out.loans.sort();
        out.loans.dedup();
        Ok(out)
    }

    /// The loans' clocks, once a day: each loan being repaid that is past due, or whose
    /// claim trigger is met, becomes a to-do of its bank's officers (one each, kept while it
    /// holds); to-dos whose loan is current again, claimed or repaid are closed. One event
    /// when anything changed. Returns (loans checked, opened, closed).
    pub async fn run_loan_clocks(&self) -> Result<(u64, u64, u64)> {
        let today = self.today();
        let mut tx = self.store.begin_write().await?;
        let schemes = self.ensure_schemes(&mut tx).await?;
        let open_overdue = todos::open_subjects(tx.conn(), "loan_overdue").await?;
        let open_trigger = todos::open_subjects(tx.conn(), "loan_claim_file").await?;
        let book = store::list(tx.conn(), &Party::All, Some(LoanStatus::Servicing), 100_000).await?;
        let paid = crate::loans::by_loan(store::repayments_of(tx.conn(), &Party::All).await?);
        let (mut opened, mut closed) = (0u64, 0u64);
        let mut still_overdue = std::collections::BTreeSet::new();
        let mut still_trigger = std::collections::BTreeSet::new();
        let now = self.now_us();
        for l in &book {
            let Some(s) = servicing(&l.loan, paid.get(&l.loan.id).map_or(&[][..], Vec::as_slice)) else {
                continue;
            };
            let dpd = s.days_past_due(today);
            if dpd <= 0 {
                continue;
            }
            still_overdue.insert(l.loan.id.clone());
            let bank = l.loan.bank_id.clone();
            if !open_overdue.contains(&l.loan.id) {
                let b = kebao_domain::loan::bucket(dpd);
                self.loan_todo(
                    &mut tx,
                    &l.loan,
                    &bank,
                    Role::BankOfficer,
                    "loan_overdue",
                    ("贷款逾期，请催收", "A loan is past due: collect"),
                    (
                        &format!("{}，逾期 {dpd} 天（{}）", l.enterprise_name, b.label_zh()),
                        &format!("{}, {dpd} days past due ({})", l.enterprise_name, b.label_en()),
                    ),
                )
                .await?;
                opened += 1;
            }
            let scheme =
                schemes.iter().find(|x| x.id == l.loan.scheme_id && x.version == l.loan.scheme_version);
            let met = match (scheme, l.loan.disbursed_on) {
                (Some(sc), Some(on)) => {
                    kebao_domain::loan::trigger_met(&sc.trigger, &s, on, today, true).is_ok()
                }
                _ => false,
            };
            if met {
                still_trigger.insert(l.loan.id.clone());
                if !open_trigger.contains(&l.loan.id) {
                    self.loan_todo(
                        &mut tx,
                        &l.loan,
                        &bank,
                        Role::BankOfficer,
                        "loan_claim_file",
                        (
                            "满足理赔条件，可向保险机构索赔",
                            "The claim trigger is met: claim on the guarantee",
                        ),
                        (&l.enterprise_name, &l.enterprise_name),
                    )
                    .await?;
                    opened += 1;
                }
            }
        }
        for (kind, open, still) in [
            ("loan_overdue", &open_overdue, &still_overdue),
            ("loan_claim_file", &open_trigger, &still_trigger),
        ] {
            for id in open.iter().filter(|id| !still.contains(*id)) {
                todos::close_todo(tx.conn(), kind, id, now).await?;
                closed += 1;
            }
        }
        let loans = u64::try_from(book.len()).unwrap_or(u64::MAX);
        if opened + closed > 0 {
            let draft = EventDraft::new(
                "system:loan_clocks",
                "loan.clocks_checked",
                &today.to_string(),
                serde_json::json!({"loans": loans, "opened": opened, "closed": closed}),
            );
            self.finish(tx, draft).await?;
        }
        Ok((loans, opened, closed))
    }
}

/// The daily job around [`Service::run_loan_clocks`].
pub struct LoanClocksJob;

impl crate::jobs::JobHandler for LoanClocksJob {
    fn run<'a>(
        &'a self,
        svc: &'a Service,
        ctx: &'a mut crate::jobs::JobContext,
    ) -> crate::jobs::JobFuture<'a> {
        Box::pin(async move {
            let (loans, opened, closed) = svc.run_loan_clocks().await.map_err(crate::jobs::JobStop::from)?;
            let n = i64::try_from(loans).unwrap_or(i64::MAX);
            ctx.progress(n, n, None).await?;
            Ok(kebao_domain::job::JobResult::LoanClocksChecked { loans, opened, closed })
        })
    }
}
