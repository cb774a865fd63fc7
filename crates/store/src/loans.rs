//! Loan schemes as loaded, loans and their repayments (C7).

use crate::{json_col, to_json, Result, StoreError};
use kebao_domain::loan::{
    Decision, GuaranteePolicy, Loan, LoanStatus, Pledge, PledgeKind, RepaymentMethod, Scheme,
};
use kebao_domain::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// Stores a scheme version; `Conflict` if that version exists.
pub async fn insert_scheme(conn: &mut AnyConnection, s: &Scheme, loaded_by: &str, at_us: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO loan_schemes (id, version, doc, loaded_by, loaded_at_us) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&s.id)
    .bind(s.version)
    .bind(to_json(s)?)
    .bind(loaded_by)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every scheme version, by id then version.
pub async fn schemes(conn: &mut AnyConnection) -> Result<Vec<Scheme>> {
    let rows = sqlx::query("SELECT doc FROM loan_schemes ORDER BY id, version").fetch_all(&mut *conn).await?;
    rows.iter().map(|r| json_col(r, "doc")).collect()
}

const COLS: &str = "id, scheme_id, scheme_version, enterprise_id, bank_id, insurer_id, amount_fen, term_months, \
     rate_bp, premium_rate_bp, method, funds_use, status, bank_decision, bank_reason, insurer_decision, \
     insurer_reason, zone_decision, zone_reason, disbursed_on, schedule, applied_by, applied_at_us, updated_at_us, \
     guarantor_id";

fn decision(r: &AnyRow, who: &str) -> Result<Option<Decision>> {
    let d = crate::opt_text(r, &format!("{who}_decision"))?;
    let reason = crate::opt_text(r, &format!("{who}_reason"))?.unwrap_or_default();
    Ok(d.map(|d| Decision { approve: d == "approve", reason }))
}

fn row(r: &AnyRow) -> Result<Loan> {
    let status: String = r.try_get("status")?;
    let method: String = r.try_get("method")?;
    let schedule = match crate::opt_text(r, "schedule")? {
        Some(s) => serde_json::from_str(&s).map_err(|e| {
            StoreError::Other(format!("stored `loans.schedule` is not what was written: {e}"))
        })?,
        None => Vec::new(),
    };
    Ok(Loan {
        id: r.try_get("id")?,
        scheme_id: r.try_get("scheme_id")?,
        scheme_version: r.try_get("scheme_version")?,
        enterprise_id: r.try_get("enterprise_id")?,
        bank_id: r.try_get("bank_id")?,
        insurer_id: r.try_get("insurer_id")?,
        guarantor_id: crate::opt_text(r, "guarantor_id")?,
        amount: Money::from_fen(r.try_get("amount_fen")?),
        term_months: r.try_get("term_months")?,
        rate_bp: r.try_get("rate_bp")?,
        premium_rate_bp: r.try_get("premium_rate_bp")?,
        method: RepaymentMethod::from_code(&method)
            .ok_or_else(|| crate::bad_value("loans.method", &method))?,
        funds_use: r.try_get("funds_use")?,
        status: LoanStatus::from_code(&status).ok_or_else(|| crate::bad_value("loans.status", &status))?,
        bank: decision(r, "bank")?,
        insurer: decision(r, "insurer")?,
        zone: decision(r, "zone")?,
        disbursed_on: crate::opt_date_col(r, "disbursed_on")?,
        schedule,
        applied_by: r.try_get("applied_by")?,
        applied_at_us: r.try_get("applied_at_us")?,
        updated_at_us: r.try_get("updated_at_us")?,
    })
}

fn code(d: &Option<Decision>) -> Option<String> {
    d.as_ref().map(|d| if d.approve { "approve" } else { "decline" }.to_owned())
}

fn reason(d: &Option<Decision>) -> Option<String> {
    d.as_ref().map(|d| d.reason.clone())
}

/// Stores a new application.
pub async fn insert(conn: &mut AnyConnection, l: &Loan) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO loans ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23, $24, $25)"
    ))
    .bind(&l.id)
    .bind(&l.scheme_id)
    .bind(l.scheme_version)
    .bind(&l.enterprise_id)
    .bind(&l.bank_id)
    .bind(&l.insurer_id)
    .bind(l.amount.fen())
    .bind(l.term_months)
    .bind(l.rate_bp)
    .bind(l.premium_rate_bp)
    .bind(l.method.code())
    .bind(&l.funds_use)
    .bind(l.status.code())
    .bind(code(&l.bank))
    .bind(reason(&l.bank))
    .bind(code(&l.insurer))
    .bind(reason(&l.insurer))
    .bind(code(&l.zone))
    .bind(reason(&l.zone))
    .bind(l.disbursed_on.map(|d| d.to_string()))
    .bind(if l.schedule.is_empty() { None } else { Some(to_json(&l.schedule)?) })
    .bind(&l.applied_by)
    .bind(l.applied_at_us)
    .bind(l.updated_at_us)
    .bind(l.guarantor_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Saves a loan's decisions, status and disbursement, if its status is still `from`
/// (`Conflict` otherwise: someone else moved it first).
pub async fn update(conn: &mut AnyConnection, l: &Loan, from: LoanStatus) -> Result<()> {
    let done = sqlx::query(
        "UPDATE loans SET status = $2, bank_decision = $3, bank_reason = $4, insurer_decision = $5, insurer_reason = $6, \
         zone_decision = $7, zone_reason = $8, disbursed_on = $9, schedule = $10, updated_at_us = $11 \
         WHERE id = $1 AND status = $12",
    )
    .bind(&l.id)
    .bind(l.status.code())
    .bind(code(&l.bank))
    .bind(reason(&l.bank))
    .bind(code(&l.insurer))
    .bind(reason(&l.insurer))
    .bind(code(&l.zone))
    .bind(reason(&l.zone))
    .bind(l.disbursed_on.map(|d| d.to_string()))
    .bind(if l.schedule.is_empty() { None } else { Some(to_json(&l.schedule)?) })
    .bind(l.updated_at_us)
    .bind(from.code())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("the loan changed meanwhile".into()));
    }
    Ok(())
}

/// A loan by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Loan> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM loans WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    row(&r)
}

/// Whose loans a list shows.
#[derive(Debug, Clone)]
pub enum Party<'a> {
    /// The loans an organisation is a party to (as borrower, bank, insurer or guarantor).
    Of(&'a str),
    /// Every loan (the zone, the regulator).
    All,
}

/// A loan with its parties named.
#[derive(Debug, Clone)]
pub struct Listed {
    pub loan: Loan,
    pub enterprise_name: String,
    pub bank_name: String,
    pub insurer_name: String,
}

/// Loans of a party, optionally in one status, newest first, at most `limit`.
pub async fn list(
    conn: &mut AnyConnection,
    party: &Party<'_>,
    status: Option<LoanStatus>,
    limit: u32,
) -> Result<Vec<Listed>> {
    let cols: String = COLS.split(", ").map(|c| format!("l.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let mut sql = format!(
        "SELECT {cols}, e.name AS e_name, b.name AS b_name, i.name AS i_name FROM loans l \
         JOIN organisations e ON e.id = l.enterprise_id JOIN organisations b ON b.id = l.bank_id \
         JOIN organisations i ON i.id = l.insurer_id WHERE 1 = 1"
    );
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let who = match party {
        Party::Of(o) => Some(*o),
        Party::All => None,
    };
    if who.is_some() {
        let p = next();
        sql.push_str(&format!(
            " AND (l.enterprise_id = {p} OR l.bank_id = {p} OR l.insurer_id = {p} OR l.guarantor_id = {p})"
        ));
    }
    if status.is_some() {
        sql.push_str(&format!(" AND l.status = {}", next()));
    }
    sql.push_str(&format!(" ORDER BY l.applied_at_us DESC, l.id DESC LIMIT {}", next()));
    let mut q = sqlx::query(&sql);
    if let Some(o) = who {
        q = q.bind(o.to_owned());
    }
    if let Some(s) = status {
        q = q.bind(s.code());
    }
    let rows = q.bind(i64::from(limit)).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(Listed {
                loan: row(r)?,
                enterprise_name: r.try_get("e_name")?,
                bank_name: r.try_get("b_name")?,
                insurer_name: r.try_get("i_name")?,
            })
        })
        .collect()
}

/// A repayment the bank recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repayment {
    pub id: String,
    pub loan_id: String,
    pub reference: String,
    pub paid_on: time::Date,
    pub amount: Money,
    pub interest: Money,
    pub principal: Money,
    pub recorded_by: String,
    pub recorded_at_us: i64,
}

const REPAY_COLS: &str =
    "id, loan_id, reference, paid_on, amount_fen, interest_fen, principal_fen, recorded_by, recorded_at_us";

fn repayment(r: &AnyRow) -> Result<Repayment> {
    Ok(Repayment {
        id: r.try_get("id")?,
        loan_id: r.try_get("loan_id")?,
        reference: r.try_get("reference")?,
        paid_on: crate::date_col(r, "paid_on")?,
        amount: Money::from_fen(r.try_get("amount_fen")?),
        interest: Money::from_fen(r.try_get("interest_fen")?),
        principal: Money::from_fen(r.try_get("principal_fen")?),
        recorded_by: r.try_get("recorded_by")?,
        recorded_at_us: r.try_get("recorded_at_us")?,
    })
}

/// Stores a repayment; `Conflict` if the loan has one with the same reference.
pub async fn insert_repayment(conn: &mut AnyConnection, p: &Repayment) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO loan_repayments ({REPAY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&p.id)
    .bind(&p.loan_id)
    .bind(&p.reference)
    .bind(p.paid_on.to_string())
    .bind(p.amount.fen())
    .bind(p.interest.fen())
    .bind(p.principal.fen())
    .bind(&p.recorded_by)
    .bind(p.recorded_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A loan's repayments, in the order they were paid.
pub async fn repayments(conn: &mut AnyConnection, loan_id: &str) -> Result<Vec<Repayment>> {
    let rows = sqlx::query(&format!(
        "SELECT {REPAY_COLS} FROM loan_repayments WHERE loan_id = $1 ORDER BY paid_on, recorded_at_us, id"
    ))
    .bind(loan_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(repayment).collect()
}

/// The repayment a loan has under a reference, if any.
pub async fn repayment_by_reference(
    conn: &mut AnyConnection,
    loan_id: &str,
    reference: &str,
) -> Result<Option<Repayment>> {
    let r = sqlx::query(&format!(
        "SELECT {REPAY_COLS} FROM loan_repayments WHERE loan_id = $1 AND reference = $2"
    ))
    .bind(loan_id)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    r.as_ref().map(repayment).transpose()
}

const CLAIM_COLS: &str =
    "loan_id, filed_on, trig, trig_days, loss_base_fen, insurer_fen, bank_fen, guarantor_fen, \
     payout_due_on, paid_on, paid_reference, filed_by, paid_by, guarantor_paid_on, guarantor_paid_reference, \
     guarantor_paid_by";

/// Stores the bank's claim.
pub async fn insert_claim(conn: &mut AnyConnection, c: &kebao_domain::loan::LoanClaim) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO loan_claims ({CLAIM_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .bind(&c.loan_id)
    .bind(c.filed_on.to_string())
    .bind(&c.trigger)
    .bind(c.trigger_days)
    .bind(c.loss_base.fen())
    .bind(c.insurer_share.fen())
    .bind(c.bank_share.fen())
    .bind(c.guarantor_share.fen())
    .bind(c.payout_due_on.to_string())
    .bind(c.paid_on.map(|d| d.to_string()))
    .bind(c.paid_reference.clone())
    .bind(&c.filed_by)
    .bind(c.paid_by.clone())
    .bind(c.guarantor_paid_on.map(|d| d.to_string()))
    .bind(c.guarantor_paid_reference.clone())
    .bind(c.guarantor_paid_by.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the guarantor's payment of its share, once.
pub async fn pay_guarantee(conn: &mut AnyConnection, c: &kebao_domain::loan::LoanClaim) -> Result<()> {
    let done = sqlx::query(
        "UPDATE loan_claims SET guarantor_paid_on = $2, guarantor_paid_reference = $3, guarantor_paid_by = $4 \
         WHERE loan_id = $1 AND guarantor_paid_on IS NULL",
    )
    .bind(&c.loan_id)
    .bind(c.guarantor_paid_on.map(|d| d.to_string()))
    .bind(c.guarantor_paid_reference.clone())
    .bind(c.guarantor_paid_by.clone())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("the guarantor's share was paid already".into()));
    }
    Ok(())
}

/// Records the insurer's payment of a claim, once.
pub async fn pay_claim(conn: &mut AnyConnection, c: &kebao_domain::loan::LoanClaim) -> Result<()> {
    let done = sqlx::query(
        "UPDATE loan_claims SET paid_on = $2, paid_reference = $3, paid_by = $4 WHERE loan_id = $1 AND paid_on IS NULL",
    )
    .bind(&c.loan_id)
    .bind(c.paid_on.map(|d| d.to_string()))
    .bind(c.paid_reference.clone())
    .bind(c.paid_by.clone())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("the claim was paid already".into()));
    }
    Ok(())
}

/// A loan's claim, if the bank filed one.
pub async fn claim(conn: &mut AnyConnection, loan_id: &str) -> Result<Option<kebao_domain::loan::LoanClaim>> {
    let r = sqlx::query(&format!("SELECT {CLAIM_COLS} FROM loan_claims WHERE loan_id = $1"))
        .bind(loan_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(kebao_domain::loan::LoanClaim {
        loan_id: r.try_get("loan_id")?,
        filed_on: crate::date_col(&r, "filed_on")?,
        trigger: r.try_get("trig")?,
        trigger_days: r.try_get("trig_days")?,
        loss_base: Money::from_fen(r.try_get("loss_base_fen")?),
        insurer_share: Money::from_fen(r.try_get("insurer_fen")?),
        bank_share: Money::from_fen(r.try_get("bank_fen")?),
        guarantor_share: Money::from_fen(r.try_get("guarantor_fen")?),
        payout_due_on: crate::date_col(&r, "payout_due_on")?,
        paid_on: crate::opt_date_col(&r, "paid_on")?,
        paid_reference: crate::opt_text(&r, "paid_reference")?,
        filed_by: r.try_get("filed_by")?,
        paid_by: crate::opt_text(&r, "paid_by")?,
        guarantor_paid_on: crate::opt_date_col(&r, "guarantor_paid_on")?,
        guarantor_paid_reference: crate::opt_text(&r, "guarantor_paid_reference")?,
        guarantor_paid_by: crate::opt_text(&r, "guarantor_paid_by")?,
    }))
}

/// A recovery on a defaulted loan and its split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    pub id: String,
    pub loan_id: String,
    pub reference: String,
    pub recovered_on: time::Date,
    pub amount: Money,
    pub insurer: Money,
    pub bank: Money,
    pub guarantor: Money,
    pub recorded_by: String,
    pub recorded_at_us: i64,
}

const RECOVERY_COLS: &str =
    "id, loan_id, reference, recovered_on, amount_fen, insurer_fen, bank_fen, guarantor_fen, \
     recorded_by, recorded_at_us";

fn recovery(r: &AnyRow) -> Result<Recovery> {
    Ok(Recovery {
        id: r.try_get("id")?,
        loan_id: r.try_get("loan_id")?,
        reference: r.try_get("reference")?,
        recovered_on: crate::date_col(r, "recovered_on")?,
        amount: Money::from_fen(r.try_get("amount_fen")?),
        insurer: Money::from_fen(r.try_get("insurer_fen")?),
        bank: Money::from_fen(r.try_get("bank_fen")?),
        guarantor: Money::from_fen(r.try_get("guarantor_fen")?),
        recorded_by: r.try_get("recorded_by")?,
        recorded_at_us: r.try_get("recorded_at_us")?,
    })
}

/// Stores a recovery; `Conflict` if the loan has one under the same reference.
pub async fn insert_recovery(conn: &mut AnyConnection, x: &Recovery) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO loan_recoveries ({RECOVERY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&x.id)
    .bind(&x.loan_id)
    .bind(&x.reference)
    .bind(x.recovered_on.to_string())
    .bind(x.amount.fen())
    .bind(x.insurer.fen())
    .bind(x.bank.fen())
    .bind(x.guarantor.fen())
    .bind(&x.recorded_by)
    .bind(x.recorded_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A loan's recoveries, oldest first.
pub async fn recoveries(conn: &mut AnyConnection, loan_id: &str) -> Result<Vec<Recovery>> {
    let rows = sqlx::query(&format!(
        "SELECT {RECOVERY_COLS} FROM loan_recoveries WHERE loan_id = $1 ORDER BY recovered_on, recorded_at_us, id"
    ))
    .bind(loan_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(recovery).collect()
}

/// Every repayment on the loans of a party (all loans for `Party::All`), in the order paid:
/// one query for a whole list instead of one per loan.
pub async fn repayments_of(conn: &mut AnyConnection, party: &Party<'_>) -> Result<Vec<Repayment>> {
    let cols: String =
        REPAY_COLS.split(", ").map(|c| format!("p.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let base = format!("SELECT {cols} FROM loan_repayments p JOIN loans l ON l.id = p.loan_id");
    let order = " ORDER BY p.loan_id, p.paid_on, p.recorded_at_us, p.id";
    let rows = match party {
        Party::Of(o) => {
            sqlx::query(&format!(
                "{base} WHERE l.enterprise_id = $1 OR l.bank_id = $1 OR l.insurer_id = $1 OR l.guarantor_id = $1{order}"
            ))
            .bind(o.to_string())
            .fetch_all(&mut *conn)
            .await?
        }
        Party::All => sqlx::query(&format!("{base}{order}")).fetch_all(&mut *conn).await?,
    };
    rows.iter().map(repayment).collect()
}

const POLICY_COLS: &str = "loan_id, number, start_date, end_date, premium_fen, premium_paid_on, \
     premium_reference, issued_by, issued_at_us";

fn policy(r: &AnyRow) -> Result<GuaranteePolicy> {
    Ok(GuaranteePolicy {
        loan_id: r.try_get("loan_id")?,
        number: r.try_get("number")?,
        start: crate::opt_date_col(r, "start_date")?,
        end: crate::opt_date_col(r, "end_date")?,
        premium: Money::from_fen(r.try_get("premium_fen")?),
        premium_paid_on: crate::date_col(r, "premium_paid_on")?,
        premium_reference: r.try_get("premium_reference")?,
        issued_by: r.try_get("issued_by")?,
        issued_at_us: r.try_get("issued_at_us")?,
    })
}

/// Stores the loan's guarantee policy; `Conflict` if it has one (or the number is taken).
pub async fn insert_policy(conn: &mut AnyConnection, p: &GuaranteePolicy) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO loan_policies ({POLICY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&p.loan_id)
    .bind(&p.number)
    .bind(p.start.map(|d| d.to_string()))
    .bind(p.end.map(|d| d.to_string()))
    .bind(p.premium.fen())
    .bind(p.premium_paid_on.to_string())
    .bind(&p.premium_reference)
    .bind(&p.issued_by)
    .bind(p.issued_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the policy's period when the bank disburses.
pub async fn set_policy_period(
    conn: &mut AnyConnection,
    loan_id: &str,
    start: Date,
    end: Date,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE loan_policies SET start_date = $2, end_date = $3 WHERE loan_id = $1 AND start_date IS NULL",
    )
    .bind(loan_id)
    .bind(start.to_string())
    .bind(end.to_string())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("the policy's period is set already".into()));
    }
    Ok(())
}

/// The loan's guarantee policy, once issued.
pub async fn policy_of(conn: &mut AnyConnection, loan_id: &str) -> Result<Option<GuaranteePolicy>> {
    let r = sqlx::query(&format!("SELECT {POLICY_COLS} FROM loan_policies WHERE loan_id = $1"))
        .bind(loan_id)
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(policy).transpose()
}

/// What a scheme's figures are read from, for each of its loans: the guarantee policies, the
/// claims and the recoveries, each with its loan's insurer.
#[derive(Debug, Clone, Default)]
pub struct SchemeBook {
    pub policies: Vec<(String, GuaranteePolicy)>,
    pub claims: Vec<(String, kebao_domain::loan::LoanClaim)>,
    pub recoveries: Vec<(String, Recovery)>,
}

/// The policies, claims and recoveries of a scheme's loans (every version).
pub async fn scheme_book(conn: &mut AnyConnection, scheme_id: &str) -> Result<SchemeBook> {
    let pcols: String =
        POLICY_COLS.split(", ").map(|c| format!("p.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let mut book = SchemeBook::default();
    for r in sqlx::query(&format!(
        "SELECT {pcols}, l.insurer_id AS ins FROM loan_policies p JOIN loans l ON l.id = p.loan_id \
         WHERE l.scheme_id = $1 ORDER BY p.loan_id"
    ))
    .bind(scheme_id)
    .fetch_all(&mut *conn)
    .await?
    {
        book.policies.push((r.try_get("ins")?, policy(&r)?));
    }
    let ids: Vec<String> = sqlx::query(
        "SELECT c.loan_id FROM loan_claims c JOIN loans l ON l.id = c.loan_id WHERE l.scheme_id = $1 ORDER BY c.loan_id",
    )
    .bind(scheme_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("loan_id"))
    .collect::<std::result::Result<_, _>>()?;
    for id in ids {
        let l = get(conn, &id).await?;
        if let Some(c) = claim(conn, &id).await? {
            book.claims.push((l.insurer_id.clone(), c));
        }
        for x in recoveries(conn, &id).await? {
            book.recoveries.push((l.insurer_id.clone(), x));
        }
    }
    Ok(book)
}

/// A payment of the risk-compensation fund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundPayment {
    pub id: String,
    pub scheme_id: String,
    pub scheme_version: i64,
    pub scheme_year: i32,
    /// The defaulted loan it compensates (a pool), or none (a year's excess loss).
    pub loan_id: Option<String>,
    pub payee_id: String,
    pub amount: Money,
    pub paid_on: Date,
    pub reference: String,
    pub paid_by: String,
    pub paid_at_us: i64,
}

const FUND_COLS: &str =
    "id, scheme_id, scheme_version, scheme_year, loan_id, payee_id, amount_fen, paid_on, \
     reference, paid_by, paid_at_us";

fn fund_payment(r: &AnyRow) -> Result<FundPayment> {
    let year: i64 = r.try_get("scheme_year")?;
    Ok(FundPayment {
        id: r.try_get("id")?,
        scheme_id: r.try_get("scheme_id")?,
        scheme_version: r.try_get("scheme_version")?,
        scheme_year: i32::try_from(year)
            .map_err(|_| crate::bad_value("loan_fund_payments.scheme_year", &year.to_string()))?,
        loan_id: crate::opt_text(r, "loan_id")?,
        payee_id: r.try_get("payee_id")?,
        amount: Money::from_fen(r.try_get("amount_fen")?),
        paid_on: crate::date_col(r, "paid_on")?,
        reference: r.try_get("reference")?,
        paid_by: r.try_get("paid_by")?,
        paid_at_us: r.try_get("paid_at_us")?,
    })
}

/// Stores a fund payment; `Conflict` if the scheme has one under the same reference.
pub async fn insert_fund_payment(conn: &mut AnyConnection, p: &FundPayment) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO loan_fund_payments ({FUND_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&p.id)
    .bind(&p.scheme_id)
    .bind(p.scheme_version)
    .bind(i64::from(p.scheme_year))
    .bind(p.loan_id.clone())
    .bind(&p.payee_id)
    .bind(p.amount.fen())
    .bind(p.paid_on.to_string())
    .bind(&p.reference)
    .bind(&p.paid_by)
    .bind(p.paid_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A scheme's fund payments, oldest first.
pub async fn fund_payments(conn: &mut AnyConnection, scheme_id: &str) -> Result<Vec<FundPayment>> {
    let rows = sqlx::query(&format!(
        "SELECT {FUND_COLS} FROM loan_fund_payments WHERE scheme_id = $1 ORDER BY paid_on, paid_at_us, id"
    ))
    .bind(scheme_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(fund_payment).collect()
}

/// The rights pledged for a loan.
pub async fn pledges(conn: &mut AnyConnection, loan_id: &str) -> Result<Vec<Pledge>> {
    let rows = sqlx::query(
        "SELECT id, loan_id, kind, number, owner, valuation_fen, valued_on, registration_no, released_on \
         FROM loan_pledges WHERE loan_id = $1 ORDER BY kind, number",
    )
    .bind(loan_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Pledge {
                id: r.try_get("id")?,
                loan_id: r.try_get("loan_id")?,
                kind: PledgeKind::from_code(&kind)
                    .ok_or_else(|| crate::bad_value("loan_pledges.kind", &kind))?,
                number: r.try_get("number")?,
                owner: r.try_get("owner")?,
                valuation: Money::from_fen(r.try_get("valuation_fen")?),
                valued_on: crate::date_col(r, "valued_on")?,
                registration_no: r.try_get("registration_no")?,
                released_on: crate::opt_date_col(r, "released_on")?,
            })
        })
        .collect()
}

/// Stores a pledge.
pub async fn insert_pledge(conn: &mut AnyConnection, p: &Pledge) -> Result<()> {
    sqlx::query(
        "INSERT INTO loan_pledges (id, loan_id, kind, number, owner, valuation_fen, valued_on, registration_no, \
         released_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&p.id)
    .bind(&p.loan_id)
    .bind(p.kind.code())
    .bind(p.number.trim())
    .bind(p.owner.trim())
    .bind(p.valuation.fen())
    .bind(p.valued_on.to_string())
    .bind(p.registration_no.trim())
    .bind(p.released_on.map(|d| d.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Releases a loan's pledges on a day (those not released yet); how many were released.
pub async fn release_pledges(conn: &mut AnyConnection, loan_id: &str, on: Date) -> Result<u64> {
    Ok(sqlx::query("UPDATE loan_pledges SET released_on = $2 WHERE loan_id = $1 AND released_on IS NULL")
        .bind(loan_id)
        .bind(on.to_string())
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
