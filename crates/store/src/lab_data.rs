//! The risk lab's experience extracts (C9): what they read (policies with their claims, loans
//! with their borrowers' facts) and the extracts themselves.

use crate::{opt_text, Result};
use sqlx::{AnyConnection, Row};

/// A policy as an extract reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyExperience {
    pub id: String,
    pub enterprise_id: String,
    pub product_type: String,
    pub start_date: String,
    pub end_date: String,
    pub cancelled_on: Option<String>,
    pub premium_fen: i64,
    /// The rating input (the policy's own, else its application's), JSON.
    pub input: String,
}

/// A claim as an extract reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimExperience {
    pub policy_id: String,
    pub loss_date: String,
    pub outcome: Option<String>,
    pub decided_fen: i64,
    pub reserve_fen: i64,
    pub paid_fen: i64,
}

/// A loan as an extract reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanExperience {
    pub id: String,
    pub scheme_id: String,
    pub enterprise_id: String,
    pub amount_fen: i64,
    pub term_months: i64,
    pub status: String,
    pub applied_at_us: i64,
}

/// An enterprise as a loan extract reads it (the registry as it stands).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BorrowerFacts {
    pub lifecycle_stage: Option<String>,
    pub founded_on: Option<String>,
    /// The first zone industry tag, in order.
    pub industry: Option<String>,
    /// (year, revenue fen, R&D expense fen, staff, patents granted).
    pub facts: Vec<(i64, i64, i64, i64, i64)>,
    /// (valid from, valid to) of each qualification.
    pub qualifications: Vec<(String, String)>,
}

/// The policies of one insurer, or of all (`None`), in the order they were bound.
pub async fn policies(conn: &mut AnyConnection, insurer: Option<&str>) -> Result<Vec<PolicyExperience>> {
    let base = "SELECT p.id, p.enterprise_id, pr.type_id, p.start_date, p.end_date, p.cancelled_on, \
                p.premium_fen, COALESCE(p.input, a.input) AS input FROM policies p \
                JOIN applications a ON a.id = p.application_id JOIN products pr ON pr.id = p.product_id";
    let rows = match insurer {
        Some(i) => {
            sqlx::query(&format!("{base} WHERE p.insurer_id = $1 ORDER BY p.bound_at_us, p.id"))
                .bind(i)
                .fetch_all(&mut *conn)
                .await?
        }
        None => sqlx::query(&format!("{base} ORDER BY p.bound_at_us, p.id")).fetch_all(&mut *conn).await?,
    };
    rows.iter()
        .map(|r| {
            Ok(PolicyExperience {
                id: r.try_get("id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                product_type: r.try_get("type_id")?,
                start_date: r.try_get("start_date")?,
                end_date: r.try_get("end_date")?,
                cancelled_on: opt_text(r, "cancelled_on")?,
                premium_fen: r.try_get("premium_fen")?,
                input: r.try_get("input")?,
            })
        })
        .collect()
}

/// The claims on one insurer's policies, or on all.
pub async fn claims(conn: &mut AnyConnection, insurer: Option<&str>) -> Result<Vec<ClaimExperience>> {
    let base = "SELECT policy_id, loss_date, outcome, decided_fen, reserve_fen, paid_fen FROM claims";
    let rows = match insurer {
        Some(i) => {
            sqlx::query(&format!("{base} WHERE insurer_id = $1 ORDER BY id"))
                .bind(i)
                .fetch_all(&mut *conn)
                .await?
        }
        None => sqlx::query(&format!("{base} ORDER BY id")).fetch_all(&mut *conn).await?,
    };
    rows.iter()
        .map(|r| {
            Ok(ClaimExperience {
                policy_id: r.try_get("policy_id")?,
                loss_date: r.try_get("loss_date")?,
                outcome: opt_text(r, "outcome")?,
                decided_fen: r.try_get("decided_fen")?,
                reserve_fen: r.try_get("reserve_fen")?,
                paid_fen: r.try_get("paid_fen")?,
            })
        })
        .collect()
}

/// The loans of one bank, or of all, in the order they were applied for.
pub async fn loans(conn: &mut AnyConnection, bank: Option<&str>) -> Result<Vec<LoanExperience>> {
    let base =
        "SELECT id, scheme_id, enterprise_id, amount_fen, term_months, status, applied_at_us FROM loans";
    let rows = match bank {
        Some(b) => {
            sqlx::query(&format!("{base} WHERE bank_id = $1 ORDER BY applied_at_us, id"))
                .bind(b)
                .fetch_all(&mut *conn)
                .await?
        }
        None => sqlx::query(&format!("{base} ORDER BY applied_at_us, id")).fetch_all(&mut *conn).await?,
    };
    rows.iter()
        .map(|r| {
            Ok(LoanExperience {
                id: r.try_get("id")?,
                scheme_id: r.try_get("scheme_id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                amount_fen: r.try_get("amount_fen")?,
                term_months: r.try_get("term_months")?,
                status: r.try_get("status")?,
                applied_at_us: r.try_get("applied_at_us")?,
            })
        })
        .collect()
}

/// Whose enterprises an extract reads the registry facts of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Borrowers<'a> {
    /// The borrowers of one bank's loans, or of all loans.
    Loans(Option<&'a str>),
    /// The policyholders of one insurer's policies, or of all policies.
    Policies(Option<&'a str>),
    /// One enterprise.
    One(&'a str),
    /// Every enterprise of the registry.
    AllEnterprises,
}

/// The registry's facts of the enterprises an extract covers.
pub async fn borrowers(
    conn: &mut AnyConnection,
    who: Borrowers<'_>,
) -> Result<std::collections::HashMap<String, BorrowerFacts>> {
    let (scope, bank) = match who {
        Borrowers::Loans(Some(b)) => ("(SELECT enterprise_id FROM loans WHERE bank_id = $1)", Some(b)),
        Borrowers::Loans(None) => ("(SELECT enterprise_id FROM loans)", None),
        Borrowers::Policies(Some(i)) => {
            ("(SELECT enterprise_id FROM policies WHERE insurer_id = $1)", Some(i))
        }
        Borrowers::Policies(None) => ("(SELECT enterprise_id FROM policies)", None),
        Borrowers::One(e) => ("($1)", Some(e)),
        Borrowers::AllEnterprises => ("(SELECT id FROM organisations WHERE kind = 'enterprise')", None),
    };
    let mut out: std::collections::HashMap<String, BorrowerFacts> = std::collections::HashMap::new();
    let q = format!("SELECT id, lifecycle_stage, founded_on FROM organisations WHERE id IN {scope}");
    let mut query = sqlx::query(&q);
    if let Some(b) = bank {
        query = query.bind(b);
    }
    for r in query.fetch_all(&mut *conn).await? {
        let e = out.entry(r.try_get("id")?).or_default();
        e.lifecycle_stage = opt_text(&r, "lifecycle_stage")?;
        e.founded_on = opt_text(&r, "founded_on")?;
    }
    let q = format!("SELECT org_id, tag FROM org_industries WHERE org_id IN {scope} ORDER BY org_id, tag");
    let mut query = sqlx::query(&q);
    if let Some(b) = bank {
        query = query.bind(b);
    }
    for r in query.fetch_all(&mut *conn).await? {
        let e = out.entry(r.try_get("org_id")?).or_default();
        if e.industry.is_none() {
            e.industry = Some(r.try_get("tag")?);
        }
    }
    let q = format!(
        "SELECT org_id, year, revenue_fen, rnd_expense_fen, staff, patents_granted FROM yearly_facts \
         WHERE org_id IN {scope} ORDER BY org_id, year"
    );
    let mut query = sqlx::query(&q);
    if let Some(b) = bank {
        query = query.bind(b);
    }
    for r in query.fetch_all(&mut *conn).await? {
        let e = out.entry(r.try_get("org_id")?).or_default();
        e.facts.push((
            r.try_get("year")?,
            r.try_get("revenue_fen")?,
            r.try_get("rnd_expense_fen")?,
            r.try_get("staff")?,
            r.try_get("patents_granted")?,
        ));
    }
    let q = format!(
        "SELECT org_id, valid_from, valid_to FROM qualifications WHERE org_id IN {scope} ORDER BY org_id, id"
    );
    let mut query = sqlx::query(&q);
    if let Some(b) = bank {
        query = query.bind(b);
    }
    for r in query.fetch_all(&mut *conn).await? {
        let e = out.entry(r.try_get("org_id")?).or_default();
        e.qualifications.push((r.try_get("valid_from")?, r.try_get("valid_to")?));
    }
    Ok(out)
}

/// A stored extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractRow {
    pub id: String,
    pub owner_org_id: String,
    /// `claims` or `loans`.
    pub kind: String,
    /// `own_book` or `supervision`.
    pub basis: String,
    pub purpose: String,
    pub include_personal: bool,
    /// The impact assessment: purpose, recipient, necessity, safeguards (all or none).
    pub assessment: Option<[String; 4]>,
    pub job_id: String,
    pub rows_written: i64,
    /// Records left out: personal lines (not asked for), loans not yet ended.
    pub left_personal: i64,
    pub left_unended: i64,
    pub sha256: String,
    /// The file (empty in lists).
    pub csv: String,
    pub created_by: String,
    pub created_at_us: i64,
}

const COLS: &str = "id, owner_org_id, kind, basis, purpose, include_personal, pia_purpose, pia_recipient, \
     pia_necessity, pia_safeguards, job_id, rows_written, left_personal, left_unended, sha256, csv, \
     created_by, created_at_us";
const LIST_COLS: &str =
    "id, owner_org_id, kind, basis, purpose, include_personal, pia_purpose, pia_recipient, \
     pia_necessity, pia_safeguards, job_id, rows_written, left_personal, left_unended, sha256, '' AS csv, \
     created_by, created_at_us";

fn row(r: &sqlx::any::AnyRow) -> Result<ExtractRow> {
    let pia = (
        opt_text(r, "pia_purpose")?,
        opt_text(r, "pia_recipient")?,
        opt_text(r, "pia_necessity")?,
        opt_text(r, "pia_safeguards")?,
    );
    let assessment = match pia {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    Ok(ExtractRow {
        id: r.try_get("id")?,
        owner_org_id: r.try_get("owner_org_id")?,
        kind: r.try_get("kind")?,
        basis: r.try_get("basis")?,
        purpose: r.try_get("purpose")?,
        include_personal: r.try_get::<i64, _>("include_personal")? != 0,
        assessment,
        job_id: r.try_get("job_id")?,
        rows_written: r.try_get("rows_written")?,
        left_personal: r.try_get("left_personal")?,
        left_unended: r.try_get("left_unended")?,
        sha256: r.try_get("sha256")?,
        csv: r.try_get("csv")?,
        created_by: r.try_get("created_by")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

/// Stores an extract.
pub async fn insert(conn: &mut AnyConnection, e: &ExtractRow) -> Result<()> {
    let [p, r, n, s] = match &e.assessment {
        Some([p, r, n, s]) => [Some(p), Some(r), Some(n), Some(s)],
        None => [None, None, None, None],
    };
    sqlx::query(&format!(
        "INSERT INTO lab_extracts ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    ))
    .bind(&e.id)
    .bind(&e.owner_org_id)
    .bind(&e.kind)
    .bind(&e.basis)
    .bind(&e.purpose)
    .bind(i64::from(e.include_personal))
    .bind(p)
    .bind(r)
    .bind(n)
    .bind(s)
    .bind(&e.job_id)
    .bind(e.rows_written)
    .bind(e.left_personal)
    .bind(e.left_unended)
    .bind(&e.sha256)
    .bind(&e.csv)
    .bind(&e.created_by)
    .bind(e.created_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One extract, with its file.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<ExtractRow> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM lab_extracts WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(row).transpose()?.ok_or(crate::StoreError::NotFound)
}

/// Extracts, newest first, of one owner or of all (files left out).
pub async fn list(conn: &mut AnyConnection, owner: Option<&str>) -> Result<Vec<ExtractRow>> {
    let rows = match owner {
        Some(o) => {
            sqlx::query(&format!(
                "SELECT {LIST_COLS} FROM lab_extracts WHERE owner_org_id = $1 ORDER BY created_at_us DESC, id LIMIT 200"
            ))
            .bind(o)
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(&format!("SELECT {LIST_COLS} FROM lab_extracts ORDER BY created_at_us DESC, id LIMIT 200"))
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(row).collect()
}
