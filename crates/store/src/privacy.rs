//! Personal-data requests, what the platform holds about a person, impact assessments, and
//! the erasure of a person's words kept beside events.

use crate::{Result, StoreError};
use kebao_domain::privacy::{
    AssessmentTarget, DataRequest, Extract, ImpactAssessment, RequestKind, RequestState,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str = "id, user_id, org_id, person_name, identity_check, filed_by, kind, details, filed_at_us, \
     due_on, state, answer, answered_by, answered_at_us";

fn row(r: &AnyRow) -> Result<DataRequest> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    Ok(DataRequest {
        id: r.try_get("id")?,
        user_id: crate::opt_text(r, "user_id")?,
        org_id: crate::opt_text(r, "org_id")?,
        person_name: crate::opt_text(r, "person_name")?,
        identity_check: crate::opt_text(r, "identity_check")?,
        filed_by: r.try_get("filed_by")?,
        kind: RequestKind::from_code(&kind).ok_or_else(|| crate::bad_value("data_requests.kind", &kind))?,
        details: r.try_get("details")?,
        filed_at_us: r.try_get("filed_at_us")?,
        due_on: crate::date_col(r, "due_on")?,
        state: RequestState::from_code(&state)
            .ok_or_else(|| crate::bad_value("data_requests.state", &state))?,
        answer: crate::opt_text(r, "answer")?,
        answered_by: crate::opt_text(r, "answered_by")?,
        answered_at_us: r.try_get("answered_at_us")?,
    })
}

/// Stores a new request.
pub async fn insert(conn: &mut AnyConnection, d: &DataRequest) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO data_requests ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&d.id)
    .bind(d.user_id.clone())
    .bind(d.org_id.clone())
    .bind(d.person_name.clone())
    .bind(d.identity_check.clone())
    .bind(&d.filed_by)
    .bind(d.kind.code())
    .bind(&d.details)
    .bind(d.filed_at_us)
    .bind(d.due_on.to_string())
    .bind(d.state.code())
    .bind(d.answer.clone())
    .bind(d.answered_by.clone())
    .bind(d.answered_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A request by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<DataRequest> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM data_requests WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    row(&r)
}

/// A user's requests (`Some`), or everyone's (`None`), open ones first, newest first.
pub async fn list(conn: &mut AnyConnection, user_id: Option<&str>, limit: u32) -> Result<Vec<DataRequest>> {
    let order = "ORDER BY CASE WHEN state = 'open' THEN 0 ELSE 1 END, filed_at_us DESC, id DESC";
    let rows = match user_id {
        Some(u) => {
            sqlx::query(&format!("SELECT {COLS} FROM data_requests WHERE user_id = $1 {order} LIMIT $2"))
                .bind(u)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?
        }
        None => {
            sqlx::query(&format!("SELECT {COLS} FROM data_requests {order} LIMIT $1"))
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(row).collect()
}

/// Records the answer to an open request; false if it was answered already.
pub async fn answer(conn: &mut AnyConnection, d: &DataRequest) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE data_requests SET state = $2, answer = $3, answered_by = $4, answered_at_us = $5 \
         WHERE id = $1 AND state = 'open'",
    )
    .bind(&d.id)
    .bind(d.state.code())
    .bind(d.answer.clone())
    .bind(d.answered_by.clone())
    .bind(d.answered_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// What else the platform holds about a user, counted: open sessions, API tokens and keys not
/// revoked, recorded sign-in attempts.
pub async fn holdings(
    conn: &mut AnyConnection,
    user_id: &str,
    username: &str,
    now_us: i64,
) -> Result<(i64, i64, i64)> {
    let count = |sql: &'static str| sqlx::query(sql);
    let sessions: i64 = count("SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND expires_at_us > $2")
        .bind(user_id)
        .bind(now_us)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    let tokens: i64 =
        count("SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = $1 AND revoked_at_us IS NULL")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
    let attempts: i64 = count("SELECT COUNT(*) AS n FROM login_attempts WHERE username = $1")
        .bind(username)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    Ok((sessions, tokens, attempts))
}

/// Where a person's name appears in the platform's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The stored field (`consents.signer_name`, …), as in `privacy::STORED_FIELDS`.
    pub field: &'static str,
    /// The record's id, and the organisation it belongs to (named).
    pub record_id: String,
    pub org_name: String,
    /// A date or reference that identifies the record to a person (a policy number).
    pub reference: String,
}

/// Every record that names `name`, at most `limit` per kind: exactly, in consents (as signer
/// or as the person of a separate consent), external credit records, applications and
/// policies (as insured or beneficiary); within the words, in claims' accounts of what
/// happened, complaints and filing review comments.
pub async fn named(conn: &mut AnyConnection, name: &str, limit: u32) -> Result<Vec<Named>> {
    const QUERIES: &[(&str, &str)] = &[
        (
            "consents.signer_name",
            "SELECT c.id AS rid, o.name AS org, c.valid_from AS r FROM consents c JOIN organisations o ON o.id = c.enterprise_id \
             WHERE c.signer_name = $1 ORDER BY c.created_at_us DESC LIMIT $2",
        ),
        (
            "consents.person_name",
            "SELECT c.id AS rid, o.name AS org, c.valid_from AS r FROM consents c JOIN organisations o ON o.id = c.enterprise_id \
             WHERE c.person_name = $1 ORDER BY c.created_at_us DESC LIMIT $2",
        ),
        (
            "external_records.person_name",
            "SELECT x.id AS rid, o.name AS org, x.occurred_on AS r FROM external_records x JOIN organisations o ON o.id = x.org_id \
             WHERE x.person_name = $1 ORDER BY x.occurred_on DESC LIMIT $2",
        ),
        (
            "applications.insured_name",
            "SELECT a.id AS rid, o.name AS org, a.start_date AS r FROM applications a JOIN organisations o ON o.id = a.enterprise_id \
             WHERE a.insured_name = $1 ORDER BY a.start_date DESC LIMIT $2",
        ),
        (
            "applications.beneficiary_name",
            "SELECT a.id AS rid, o.name AS org, a.start_date AS r FROM applications a JOIN organisations o ON o.id = a.enterprise_id \
             WHERE a.beneficiary_name = $1 ORDER BY a.start_date DESC LIMIT $2",
        ),
        (
            "policies.insured_name",
            "SELECT p.id AS rid, o.name AS org, p.number AS r FROM policies p JOIN organisations o ON o.id = p.enterprise_id \
             WHERE p.insured_name = $1 ORDER BY p.start_date DESC LIMIT $2",
        ),
        (
            "policies.beneficiary_name",
            "SELECT p.id AS rid, o.name AS org, p.number AS r FROM policies p JOIN organisations o ON o.id = p.enterprise_id \
             WHERE p.beneficiary_name = $1 ORDER BY p.start_date DESC LIMIT $2",
        ),
    ];
    const WITHIN: &[(&str, &str)] = &[
        (
            "claims.description",
            "SELECT c.id AS rid, o.name AS org, c.reported_on AS r FROM claims c JOIN organisations o ON o.id = c.enterprise_id \
             WHERE c.description LIKE $1 ESCAPE '\\' ORDER BY c.reported_on DESC LIMIT $2",
        ),
        (
            "disputes.complaint",
            "SELECT d.id AS rid, o.name AS org, d.complained_on AS r FROM disputes d JOIN organisations o ON o.id = d.enterprise_id \
             WHERE d.complaint LIKE $1 ESCAPE '\\' ORDER BY d.id DESC LIMIT $2",
        ),
        (
            "product_comments.body",
            "SELECT k.product_id AS rid, o.name AS org, p.name AS r FROM product_comments k JOIN products p ON p.id = k.product_id \
             JOIN organisations o ON o.id = p.insurer_id WHERE k.body LIKE $1 ESCAPE '\\' ORDER BY k.created_at_us DESC LIMIT $2",
        ),
    ];
    let pattern = crate::like_pattern(name);
    let mut out = Vec::new();
    let queries = QUERIES.iter().map(|q| (q, name)).chain(WITHIN.iter().map(|q| (q, pattern.as_str())));
    for ((field, sql), bound) in queries {
        let rows = sqlx::query(sql).bind(bound).bind(i64::from(limit)).fetch_all(&mut *conn).await?;
        for r in rows {
            out.push(Named {
                field,
                record_id: r.try_get("rid")?,
                org_name: r.try_get("org")?,
                reference: r.try_get("r")?,
            });
        }
    }
    Ok(out)
}

/// Empties the copy a case keeps of words erased from beside its event (`action`'s event
/// about `subject`, field `key`), where the case still holds exactly those words: a claim's
/// reason, an endorsement's, a decline's, a filing decision's, an insurer's note, a subsidy
/// decision's (and a ban's), an uploaded file's name. Returns the rows changed.
pub async fn erase_copy(
    conn: &mut AnyConnection,
    action: &str,
    subject: &str,
    payload: &serde_json::Value,
    key: &str,
    text: &str,
) -> Result<u64> {
    let kind = action.split('.').next().unwrap_or_default();
    let q = |sql: &'static str| sqlx::query(sql);
    let done = match (kind, key) {
        (_, "file_name") => {
            let Some(doc) = payload.get("document").and_then(|d| d.as_str()) else { return Ok(0) };
            // The name keeps its extension, so that a download still opens.
            let ext = text.rsplit_once('.').map(|(_, e)| e).filter(|e| e.len() <= 8).unwrap_or("bin");
            q("UPDATE attachments SET file_name = $3 WHERE id = $1 AND file_name = $2")
                .bind(doc)
                .bind(text)
                .bind(format!("document.{ext}"))
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
        ("claim", "reason") => q("UPDATE claims SET reason = '' WHERE id = $1 AND reason = $2")
            .bind(subject)
            .bind(text)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
        ("policy", "reason") => q("UPDATE endorsements SET reason = '' WHERE policy_id = $1 AND reason = $2")
            .bind(subject)
            .bind(text)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
        ("policy", "note") => q("UPDATE policies SET answer_note = '' WHERE id = $1 AND answer_note = $2")
            .bind(subject)
            .bind(text)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
        ("application", "reason") => {
            let stored: Option<String> = sqlx::query_scalar("SELECT reasons FROM applications WHERE id = $1")
                .bind(subject)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(stored) = stored else { return Ok(0) };
            let list: Vec<String> = serde_json::from_str(&stored).unwrap_or_default();
            if !list.iter().any(|r| r == text) {
                return Ok(0);
            }
            let kept: Vec<String> =
                list.into_iter().map(|r| if r == text { String::new() } else { r }).collect();
            q("UPDATE applications SET reasons = $2 WHERE id = $1")
                .bind(subject)
                .bind(serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into()))
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
        ("product", "reason") => {
            let Some(version) = payload.get("version").and_then(serde_json::Value::as_i64) else {
                return Ok(0);
            };
            let a = q("UPDATE product_versions SET decision_reason = '' WHERE product_id = $1 AND version = $2 AND decision_reason = $3")
                .bind(subject)
                .bind(version)
                .bind(text)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            // The decision is also the review thread's comment.
            let b = q(
                "UPDATE product_comments SET body = '' WHERE product_id = $1 AND version = $2 AND body = $3",
            )
            .bind(subject)
            .bind(version)
            .bind(text)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            a + b
        }
        ("loan", "reason") => {
            q("UPDATE loans SET bank_reason = CASE WHEN bank_reason = $2 THEN '' ELSE bank_reason END, \
               insurer_reason = CASE WHEN insurer_reason = $2 THEN '' ELSE insurer_reason END, \
               zone_reason = CASE WHEN zone_reason = $2 THEN '' ELSE zone_reason END WHERE id = $1")
            .bind(subject)
            .bind(text)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        }
        ("subsidy", "reason") => {
            let a = q("UPDATE subsidy_applications SET reason = '' WHERE id = $1 AND reason = $2")
                .bind(subject)
                .bind(text)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            let b = q("UPDATE subsidy_bans SET reason = '' WHERE reason = $2 AND enterprise_id = \
                       (SELECT enterprise_id FROM subsidy_applications WHERE id = $1)")
            .bind(subject)
            .bind(text)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            a + b
        }
        _ => 0,
    };
    Ok(done)
}

const PIA_COLS: &str =
    "id, target_kind, recipient_org_id, extract, purpose, data, recipients, assessed_on, reviewer, \
     conclusion, recorded_by, recorded_at_us";

fn pia_row(r: &AnyRow) -> Result<ImpactAssessment> {
    let target: String = r.try_get("target_kind")?;
    let extract = crate::opt_text(r, "extract")?;
    Ok(ImpactAssessment {
        id: r.try_get("id")?,
        target: AssessmentTarget::from_code(&target)
            .ok_or_else(|| crate::bad_value("impact_assessments.target_kind", &target))?,
        recipient_org_id: crate::opt_text(r, "recipient_org_id")?,
        extract: match extract {
            None => None,
            Some(e) => Some(
                Extract::from_code(&e).ok_or_else(|| crate::bad_value("impact_assessments.extract", &e))?,
            ),
        },
        purpose: r.try_get("purpose")?,
        data: r.try_get("data")?,
        recipients: r.try_get("recipients")?,
        assessed_on: crate::date_col(r, "assessed_on")?,
        reviewer: r.try_get("reviewer")?,
        conclusion: r.try_get("conclusion")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at_us: r.try_get("recorded_at_us")?,
    })
}

/// Records an impact assessment.
pub async fn insert_assessment(conn: &mut AnyConnection, a: &ImpactAssessment) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO impact_assessments ({PIA_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&a.id)
    .bind(a.target.code())
    .bind(a.recipient_org_id.clone())
    .bind(a.extract.map(|e| e.code().to_owned()))
    .bind(&a.purpose)
    .bind(&a.data)
    .bind(&a.recipients)
    .bind(a.assessed_on.to_string())
    .bind(&a.reviewer)
    .bind(&a.conclusion)
    .bind(&a.recorded_by)
    .bind(a.recorded_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every assessment, newest first, with the recipient organisation's name.
pub async fn assessments(
    conn: &mut AnyConnection,
    limit: u32,
) -> Result<Vec<(ImpactAssessment, Option<String>)>> {
    let rows = sqlx::query(&format!(
        "SELECT {}, o.name AS org_name FROM impact_assessments a LEFT JOIN organisations o ON o.id = a.recipient_org_id \
         ORDER BY a.assessed_on DESC, a.recorded_at_us DESC LIMIT $1",
        PIA_COLS.split(", ").map(|c| format!("a.{}", c.trim())).collect::<Vec<_>>().join(", ")
    ))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((pia_row(r)?, crate::opt_text(r, "org_name")?))).collect()
}

/// Whether an assessment of giving personal data to `org_id` is on record.
pub async fn recipient_assessed(conn: &mut AnyConnection, org_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM impact_assessments WHERE target_kind = 'recipient' AND recipient_org_id = $1",
    )
    .bind(org_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// Whether an assessment of the extract is on record.
pub async fn extract_assessed(conn: &mut AnyConnection, extract: Extract) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM impact_assessments WHERE target_kind = 'extract' AND extract = $1",
    )
    .bind(extract.code())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}
