//! Organisations, their industry tags, qualifications and yearly facts.

use crate::{opt_text, Result, StoreError};
use kebao_domain::org::{
    InstitutionKind, LifecycleStage, NewOrganisation, OrgFilter, OrgKind, OrgStatus, Organisation,
    Qualification, QualificationKind, YearlyFacts,
};
use kebao_domain::Money;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Row};

const ORG_COLS: &str = "o.id, o.name, o.uscc, o.kind, o.status, o.industry_code, o.lifecycle_stage, \
                        o.founded_on, o.address, o.parent_id, o.park, o.institution_kind, o.created_at_us, o.updated_at_us";

fn bad(col: &str, v: &str) -> StoreError {
    StoreError::Other(format!("stored `{col}` has an unknown value `{v}`"))
}

fn org_row(row: &AnyRow) -> Result<Organisation> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let stage = opt_text(row, "lifecycle_stage")?;
    Ok(Organisation {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        uscc: row.try_get("uscc")?,
        kind: OrgKind::from_code(&kind).ok_or_else(|| bad("kind", &kind))?,
        status: OrgStatus::from_code(&status).ok_or_else(|| bad("status", &status))?,
        industry_code: opt_text(row, "industry_code")?,
        zone_industries: Vec::new(),
        lifecycle_stage: match stage {
            None => None,
            Some(s) => Some(LifecycleStage::from_code(&s).ok_or_else(|| bad("lifecycle_stage", &s))?),
        },
        founded_on: crate::opt_date_col(row, "founded_on")?,
        address: opt_text(row, "address")?,
        parent_id: opt_text(row, "parent_id")?,
        park: opt_text(row, "park")?,
        institution_kind: match opt_text(row, "institution_kind")? {
            None => None,
            Some(k) => Some(InstitutionKind::from_code(&k).ok_or_else(|| bad("institution_kind", &k))?),
        },
        created_at_us: row.try_get("created_at_us")?,
        updated_at_us: row.try_get("updated_at_us")?,
    })
}

/// Inserts a new organisation with its industry tags.
pub async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    org: &NewOrganisation,
    status: OrgStatus,
    at_us: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO organisations (id, name, uscc, kind, status, industry_code, lifecycle_stage, founded_on, \
         address, parent_id, created_at_us, updated_at_us, park, institution_kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
    )
    .bind(id)
    .bind(&org.name)
    .bind(org.uscc.as_str())
    .bind(org.kind.code())
    .bind(status.code())
    .bind(org.industry_code.as_ref().map(|c| c.as_str().to_owned()))
    .bind(org.lifecycle_stage.map(|s| s.code()))
    .bind(org.founded_on.map(|d| d.to_string()))
    .bind(org.address.as_deref())
    .bind(org.parent_id.as_deref())
    .bind(at_us)
    .bind(org.park.as_deref())
    .bind(org.institution_kind.map(|k| k.code()))
    .execute(&mut *conn)
    .await?;
    insert_tags(conn, id, &org.zone_industries).await
}

async fn insert_tags(conn: &mut AnyConnection, id: &str, tags: &[String]) -> Result<()> {
    for tag in tags {
        sqlx::query("INSERT INTO org_industries (org_id, tag) VALUES ($1, $2)")
            .bind(id)
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn set_tags(conn: &mut AnyConnection, id: &str, tags: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM org_industries WHERE org_id = $1").bind(id).execute(&mut *conn).await?;
    insert_tags(conn, id, tags).await
}

/// Replaces an organisation's registered details (kind and status are kept).
pub async fn update(conn: &mut AnyConnection, id: &str, org: &NewOrganisation, at_us: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE organisations SET name = $2, uscc = $3, industry_code = $4, lifecycle_stage = $5, \
         founded_on = $6, address = $7, updated_at_us = $8, park = $9, \
         institution_kind = $10 WHERE id = $1",
    )
    .bind(id)
    .bind(&org.name)
    .bind(org.uscc.as_str())
    .bind(org.industry_code.as_ref().map(|c| c.as_str().to_owned()))
    .bind(org.lifecycle_stage.map(|s| s.code()))
    .bind(org.founded_on.map(|d| d.to_string()))
    .bind(org.address.as_deref())
    .bind(at_us)
    .bind(org.park.as_deref())
    .bind(org.institution_kind.map(|k| k.code()))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    set_tags(conn, id, &org.zone_industries).await
}

/// Sets the registration status.
pub async fn set_status(conn: &mut AnyConnection, id: &str, status: OrgStatus, at_us: i64) -> Result<()> {
    let done = sqlx::query("UPDATE organisations SET status = $2, updated_at_us = $3 WHERE id = $1")
        .bind(id)
        .bind(status.code())
        .bind(at_us)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

async fn with_tags(conn: &mut AnyConnection, mut orgs: Vec<Organisation>) -> Result<Vec<Organisation>> {
    if orgs.is_empty() {
        return Ok(orgs);
    }
    let mut args = AnyArguments::default();
    let mut marks = Vec::with_capacity(orgs.len());
    for (i, o) in orgs.iter().enumerate() {
        args.add(o.id.clone()).map_err(|e| StoreError::Other(e.to_string()))?;
        marks.push(format!("${}", i + 1));
    }
    let sql =
        format!("SELECT org_id, tag FROM org_industries WHERE org_id IN ({}) ORDER BY tag", marks.join(","));
    let rows = sqlx::query_with(&sql, args).fetch_all(&mut *conn).await?;
    for row in rows {
        let org_id: String = row.try_get("org_id")?;
        let tag: String = row.try_get("tag")?;
        if let Some(o) = orgs.iter_mut().find(|o| o.id == org_id) {
            o.zone_industries.push(tag);
        }
    }
    Ok(orgs)
}

/// One organisation.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Organisation> {
    let sql = format!("SELECT {ORG_COLS} FROM organisations o WHERE o.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    let org = org_row(&row)?;
    with_tags(conn, vec![org]).await?.pop().ok_or(StoreError::NotFound)
}

/// The kind of an organisation (one statement: what signing in needs to know of it).
pub async fn kind_of(conn: &mut AnyConnection, id: &str) -> Result<OrgKind> {
    let row = sqlx::query("SELECT kind FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let kind: String = row.try_get("kind")?;
    OrgKind::from_code(&kind).ok_or_else(|| bad("kind", &kind))
}

/// The organisation with this USCC, if any.
pub async fn find_by_uscc(conn: &mut AnyConnection, uscc: &str) -> Result<Option<Organisation>> {
    let sql = format!("SELECT {ORG_COLS} FROM organisations o WHERE o.uscc = $1");
    match sqlx::query(&sql).bind(uscc).fetch_optional(&mut *conn).await? {
        None => Ok(None),
        Some(row) => Ok(with_tags(conn, vec![org_row(&row)?]).await?.pop()),
    }
}

/// Which of these USCCs are registered already (for bulk checks).
pub async fn existing_usccs(conn: &mut AnyConnection, usccs: &[String]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for chunk in usccs.chunks(500) {
        let mut args = AnyArguments::default();
        let mut marks = Vec::with_capacity(chunk.len());
        for (i, u) in chunk.iter().enumerate() {
            args.add(u.clone()).map_err(|e| StoreError::Other(e.to_string()))?;
            marks.push(format!("${}", i + 1));
        }
        let sql = format!("SELECT uscc FROM organisations WHERE uscc IN ({})", marks.join(","));
        for row in sqlx::query_with(&sql, args).fetch_all(&mut *conn).await? {
            found.push(row.try_get("uscc")?);
        }
    }
    Ok(found)
}

/// Keyset position: the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgCursor {
    pub name: String,
    pub id: String,
}

fn where_clause(f: &OrgFilter, args: &mut AnyArguments<'_>) -> Result<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut n = 0usize;
    let mut push = |args: &mut AnyArguments<'_>, v: String| -> Result<String> {
        args.add(v).map_err(|e| StoreError::Other(e.to_string()))?;
        n += 1;
        Ok(format!("${n}"))
    };
    if let Some(k) = f.kind {
        let p = push(args, k.code().to_owned())?;
        parts.push(format!("o.kind = {p}"));
    }
    if let Some(s) = f.status {
        let p = push(args, s.code().to_owned())?;
        parts.push(format!("o.status = {p}"));
    }
    if let Some(stage) = f.stage {
        let p = push(args, stage.code().to_owned())?;
        parts.push(format!("o.lifecycle_stage = {p}"));
    }
    if let Some(tag) = &f.industry {
        let p = push(args, tag.clone())?;
        parts.push(format!("EXISTS (SELECT 1 FROM org_industries t WHERE t.org_id = o.id AND t.tag = {p})"));
    }
    if let Some(q) = f.qualification {
        let p = push(args, q.code().to_owned())?;
        let day = f.today.map(|d| d.to_string()).unwrap_or_else(|| "0000-01-01".into());
        let d1 = push(args, day)?;
        parts.push(format!(
            "EXISTS (SELECT 1 FROM qualifications q WHERE q.org_id = o.id AND q.kind = {p} \
             AND q.valid_from <= {d1} AND q.valid_to >= {d1})"
        ));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let p1 = push(args, format!("%{escaped}%"))?;
        let p2 = push(args, format!("{}%", escaped.to_ascii_uppercase()))?;
        parts.push(format!("(LOWER(o.name) LIKE LOWER({p1}) ESCAPE '\\' OR o.uscc LIKE {p2} ESCAPE '\\')"));
    }
    if let Some(parent) = &f.parent_id {
        let p = push(args, parent.clone())?;
        parts.push(format!("o.parent_id = {p}"));
    }
    let _ = &mut push;
    Ok(if parts.is_empty() { String::new() } else { format!("WHERE {}", parts.join(" AND ")) })
}

/// A page of organisations ordered by name, after `cursor`, at most `limit`.
pub async fn list(
    conn: &mut AnyConnection,
    f: &OrgFilter,
    cursor: Option<&OrgCursor>,
    limit: u32,
) -> Result<Vec<Organisation>> {
    let mut args = AnyArguments::default();
    let mut clause = where_clause(f, &mut args)?;
    let mut n = args.len();
    if let Some(c) = cursor {
        args.add(c.name.clone()).map_err(|e| StoreError::Other(e.to_string()))?;
        args.add(c.id.clone()).map_err(|e| StoreError::Other(e.to_string()))?;
        let cond = format!("(o.name > ${a} OR (o.name = ${a} AND o.id > ${b}))", a = n + 1, b = n + 2);
        n += 2;
        clause = if clause.is_empty() { format!("WHERE {cond}") } else { format!("{clause} AND {cond}") };
    }
    args.add(i64::from(limit)).map_err(|e| StoreError::Other(e.to_string()))?;
    let sql =
        format!("SELECT {ORG_COLS} FROM organisations o {clause} ORDER BY o.name, o.id LIMIT ${}", n + 1);
    let rows = sqlx::query_with(&sql, args).fetch_all(&mut *conn).await?;
    let orgs = rows.iter().map(org_row).collect::<Result<Vec<_>>>()?;
    with_tags(conn, orgs).await
}

/// How many organisations match.
pub async fn count(conn: &mut AnyConnection, f: &OrgFilter) -> Result<u64> {
    let mut args = AnyArguments::default();
    let clause = where_clause(f, &mut args)?;
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM organisations o {clause}");
    let n: i64 = sqlx::query_with(&sql, args).fetch_one(&mut *conn).await?.try_get("n")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Counts by kind, for dashboards.
pub async fn count_by_kind(conn: &mut AnyConnection) -> Result<Vec<(String, u64)>> {
    let rows = sqlx::query(
        "SELECT kind, CAST(COUNT(*) AS BIGINT) AS n FROM organisations GROUP BY kind ORDER BY kind",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0))))
        .collect()
}

/// Counts of enterprises by zone industry tag.
pub async fn count_by_industry(conn: &mut AnyConnection) -> Result<Vec<(String, u64)>> {
    let rows = sqlx::query(
        "SELECT tag, CAST(COUNT(*) AS BIGINT) AS n FROM org_industries GROUP BY tag ORDER BY tag",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("tag")?, u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0))))
        .collect()
}

/// Inserts or replaces one year of facts.
pub async fn upsert_facts(conn: &mut AnyConnection, org_id: &str, f: &YearlyFacts, at_us: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO yearly_facts (org_id, year, revenue_fen, rnd_expense_fen, staff, rnd_staff, patents_granted, \
         patents_pending, export_share_bp, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id, year) DO UPDATE SET revenue_fen = excluded.revenue_fen, \
         rnd_expense_fen = excluded.rnd_expense_fen, staff = excluded.staff, rnd_staff = excluded.rnd_staff, \
         patents_granted = excluded.patents_granted, patents_pending = excluded.patents_pending, \
         export_share_bp = excluded.export_share_bp, updated_at_us = excluded.updated_at_us",
    )
    .bind(org_id)
    .bind(i64::from(f.year))
    .bind(f.revenue.fen())
    .bind(f.rnd_expense.fen())
    .bind(i64::from(f.staff))
    .bind(i64::from(f.rnd_staff))
    .bind(i64::from(f.patents_granted))
    .bind(i64::from(f.patents_pending))
    .bind(i64::from(f.export_share_bp))
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn u32_col(row: &AnyRow, col: &str) -> Result<u32> {
    let v: i64 = row.try_get(col)?;
    u32::try_from(v).map_err(|_| bad(col, &v.to_string()))
}

/// An enterprise's facts, newest year first.
pub async fn facts(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<YearlyFacts>> {
    let rows = sqlx::query(
        "SELECT year, revenue_fen, rnd_expense_fen, staff, rnd_staff, patents_granted, patents_pending, \
         export_share_bp FROM yearly_facts WHERE org_id = $1 ORDER BY year DESC",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let year: i64 = r.try_get("year")?;
            Ok(YearlyFacts {
                year: i32::try_from(year).map_err(|_| bad("year", &year.to_string()))?,
                revenue: Money::from_fen(r.try_get("revenue_fen")?),
                rnd_expense: Money::from_fen(r.try_get("rnd_expense_fen")?),
                staff: u32_col(r, "staff")?,
                rnd_staff: u32_col(r, "rnd_staff")?,
                patents_granted: u32_col(r, "patents_granted")?,
                patents_pending: u32_col(r, "patents_pending")?,
                export_share_bp: u32_col(r, "export_share_bp")?,
            })
        })
        .collect()
}

/// Adds a qualification.
pub async fn add_qualification(
    conn: &mut AnyConnection,
    id: &str,
    org_id: &str,
    q: &Qualification,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO qualifications (id, org_id, kind, valid_from, valid_to, certificate_no) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(org_id)
    .bind(q.kind.code())
    .bind(q.valid_from.to_string())
    .bind(q.valid_to.to_string())
    .bind(q.certificate_no.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An organisation's qualifications, newest first.
pub async fn qualifications(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<(String, Qualification)>> {
    let rows = sqlx::query(
        "SELECT id, kind, valid_from, valid_to, certificate_no FROM qualifications WHERE org_id = $1 \
         ORDER BY valid_to DESC, kind",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok((
                r.try_get("id")?,
                Qualification {
                    kind: QualificationKind::from_code(&kind).ok_or_else(|| bad("kind", &kind))?,
                    valid_from: crate::date_col(r, "valid_from")?,
                    valid_to: crate::date_col(r, "valid_to")?,
                    certificate_no: opt_text(r, "certificate_no")?,
                },
            ))
        })
        .collect()
}

/// Where an insurer collects premiums, if it said.
pub async fn collection_account(
    conn: &mut AnyConnection,
    org_id: &str,
) -> Result<Option<kebao_domain::policy::CollectionAccount>> {
    let row =
        sqlx::query("SELECT bank, account_name, account_no, note FROM collection_accounts WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|r| {
        Ok(kebao_domain::policy::CollectionAccount {
            bank: r.try_get("bank")?,
            account_name: r.try_get("account_name")?,
            account_no: r.try_get("account_no")?,
            note: r.try_get("note")?,
        })
    })
    .transpose()
}

/// Sets (or replaces) an insurer's collection account.
pub async fn set_collection_account(
    conn: &mut AnyConnection,
    org_id: &str,
    a: &kebao_domain::policy::CollectionAccount,
    at_us: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO collection_accounts (org_id, bank, account_name, account_no, note, updated_at_us) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id) DO UPDATE SET bank = excluded.bank, \
         account_name = excluded.account_name, account_no = excluded.account_no, note = excluded.note, \
         updated_at_us = excluded.updated_at_us",
    )
    .bind(org_id)
    .bind(&a.bank)
    .bind(&a.account_name)
    .bind(&a.account_no)
    .bind(&a.note)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
