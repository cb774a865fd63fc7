//! Applications, underwriters' authority and policies.

use crate::{Result, StoreError};
use kebao_domain::policy::{
    Answer, Application, ApplicationStatus, Endorsement, EndorsementKind, Policy, PolicySchedule,
    PolicyStatus,
};
use kebao_domain::rating::QuoteInput;
use kebao_domain::subject::{InsuredObject, ObjectKind, Party, Subject};
use kebao_domain::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

const APP_COLS: &str =
    "id, product_id, product_version, insurer_id, enterprise_id, applicant, input, start_date, \
    end_date, premium_fen, plan_version, trace, status, reasons, decided_by, decided_at_us, created_at_us, renewal_of, \
    object_kind, object_identifier, object_catalogue, insured_name, insured_uscc, beneficiary_name, beneficiary_uscc";

/// The subject's columns, as read by `subject_row` and bound by `bind_subject`.
fn subject_row(r: &AnyRow) -> Result<Subject> {
    let kind = crate::opt_text(r, "object_kind")?;
    let object = match kind {
        Some(k) => Some(InsuredObject {
            kind: ObjectKind::from_code(&k).ok_or_else(|| crate::bad_value("object_kind", &k))?,
            identifier: crate::opt_text(r, "object_identifier")?.unwrap_or_default(),
            catalogue_entry: crate::opt_text(r, "object_catalogue")?,
        }),
        None => None,
    };
    let party = |name: &str, uscc: &str| -> Result<Option<Party>> {
        Ok(match crate::opt_text(r, name)? {
            Some(name) => Some(Party { name, uscc: crate::opt_text(r, uscc)? }),
            None => None,
        })
    };
    Ok(Subject {
        object,
        insured: party("insured_name", "insured_uscc")?,
        beneficiary: party("beneficiary_name", "beneficiary_uscc")?,
    })
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the seven subject columns in `subject_row`'s order.
fn bind_subject<'q>(q: Query<'q>, s: &Subject) -> Query<'q> {
    let o = s.object.as_ref();
    q.bind(o.map(|o| o.kind.code().to_owned()))
        .bind(o.map(|o| o.identifier.clone()))
        .bind(o.and_then(|o| o.catalogue_entry.clone()))
        .bind(s.insured.as_ref().map(|p| p.name.clone()))
        .bind(s.insured.as_ref().and_then(|p| p.uscc.clone()))
        .bind(s.beneficiary.as_ref().map(|p| p.name.clone()))
        .bind(s.beneficiary.as_ref().and_then(|p| p.uscc.clone()))
}

fn app_row(r: &AnyRow) -> Result<Application> {
    let status: String = r.try_get("status")?;
    Ok(Application {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        product_version: r.try_get("product_version")?,
        insurer_id: r.try_get("insurer_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        applicant: r.try_get("applicant")?,
        input: crate::json_col(r, "input")?,
        start_date: crate::date_col(r, "start_date")?,
        end_date: crate::date_col(r, "end_date")?,
        premium: Money::from_fen(r.try_get("premium_fen")?),
        plan_version: r.try_get("plan_version")?,
        trace: crate::json_col(r, "trace")?,
        status: ApplicationStatus::from_code(&status).ok_or_else(|| crate::bad_value("status", &status))?,
        reasons: crate::json_col(r, "reasons")?,
        decided_by: crate::opt_text(r, "decided_by")?,
        decided_at_us: r.try_get("decided_at_us")?,
        created_at_us: r.try_get("created_at_us")?,
        renewal_of: crate::opt_text(r, "renewal_of")?,
        subject: subject_row(r)?,
    })
}

/// Stores an application.
pub async fn insert_application(conn: &mut AnyConnection, a: &Application) -> Result<()> {
    let reasons = crate::to_json(&a.reasons)?;
    let input = crate::to_json(&a.input)?;
    let trace = crate::to_json(&a.trace)?;
    let sql = format!(
        "INSERT INTO applications ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, $20, $21, $22, $23, $24, $25)"
    );
    let q = sqlx::query(&sql)
        .bind(&a.id)
        .bind(&a.product_id)
        .bind(a.product_version)
        .bind(&a.insurer_id)
        .bind(&a.enterprise_id)
        .bind(&a.applicant)
        .bind(input)
        .bind(a.start_date.to_string())
        .bind(a.end_date.to_string())
        .bind(a.premium.fen())
        .bind(a.plan_version)
        .bind(trace)
        .bind(a.status.code())
        .bind(reasons)
        .bind(a.decided_by.clone())
        .bind(a.decided_at_us)
        .bind(a.created_at_us)
        .bind(a.renewal_of.clone());
    bind_subject(q, &a.subject).execute(&mut *conn).await?;
    Ok(())
}

/// Writes an application's decision (its status, reasons, who and when) if it is still
/// `from` in the database; `Conflict` when it is no longer.
pub async fn decide(conn: &mut AnyConnection, a: &Application, from: ApplicationStatus) -> Result<()> {
    let reasons = crate::to_json(&a.reasons)?;
    let n = sqlx::query(
        "UPDATE applications SET status = $1, reasons = $2, decided_by = $3, decided_at_us = $4 WHERE id = $5 AND status = $6",
    )
    .bind(a.status.code())
    .bind(reasons)
    .bind(a.decided_by.clone())
    .bind(a.decided_at_us)
    .bind(&a.id)
    .bind(from.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("applications.status".into()));
    }
    Ok(())
}

/// An application.
pub async fn application(conn: &mut AnyConnection, id: &str) -> Result<Application> {
    let sql = format!("SELECT {APP_COLS} FROM applications WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    app_row(&r)
}

/// An application, read in a write transaction and locked there until it ends (on
/// PostgreSQL `FOR UPDATE`; SQLite has one writer at a time).
pub async fn application_for_update(
    conn: &mut AnyConnection,
    id: &str,
    backend: crate::Backend,
) -> Result<Application> {
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {APP_COLS} FROM applications WHERE id = $1{lock}");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    app_row(&r)
}

/// An insurer's applications in a status, oldest first.
pub async fn applications_of_insurer(
    conn: &mut AnyConnection,
    insurer_id: &str,
    status: ApplicationStatus,
) -> Result<Vec<Application>> {
    let sql = format!("SELECT {APP_COLS} FROM applications WHERE insurer_id = $1 AND status = $2 ORDER BY created_at_us, id");
    sqlx::query(&sql)
        .bind(insurer_id)
        .bind(status.code())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(app_row)
        .collect()
}

/// An enterprise's applications, newest first.
pub async fn applications_of_enterprise(
    conn: &mut AnyConnection,
    enterprise_id: &str,
) -> Result<Vec<Application>> {
    let sql = format!(
        "SELECT {APP_COLS} FROM applications WHERE enterprise_id = $1 ORDER BY created_at_us DESC, id"
    );
    sqlx::query(&sql).bind(enterprise_id).fetch_all(&mut *conn).await?.iter().map(app_row).collect()
}

/// An underwriter's authority (yuan), if set.
pub async fn authority(conn: &mut AnyConnection, user_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT max_limit_yuan FROM underwriter_authority WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Sets an underwriter's authority.
pub async fn set_authority(conn: &mut AnyConnection, user_id: &str, max_limit_yuan: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO underwriter_authority (user_id, max_limit_yuan) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET max_limit_yuan = excluded.max_limit_yuan",
    )
    .bind(user_id)
    .bind(max_limit_yuan)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The next policy sequence number of `year`.
pub async fn next_policy_seq(conn: &mut AnyConnection, year: i32) -> Result<u32> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO policy_counters (year, n) VALUES ($1, 1) ON CONFLICT (year) DO UPDATE SET n = policy_counters.n + 1 RETURNING n",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *conn)
    .await?;
    u32::try_from(n).map_err(|_| StoreError::Other("policy counter out of range".into()))
}

const POLICY_COLS: &str =
    "id, number, application_id, product_id, insurer_id, enterprise_id, start_date, end_date, \
    premium_fen, schedule, bound_by, bound_at_us, status, cancelled_on, input, \
    object_kind, object_identifier, object_catalogue, insured_name, insured_uscc, beneficiary_name, beneficiary_uscc, \
    object_key, answered_by, answered_at_us, answer_note, cover_fen";

fn policy_row(r: &AnyRow) -> Result<Policy> {
    let schedule: PolicySchedule = crate::json_col(r, "schedule")?;
    // Policies bound before endorsements existed keep their rated inputs in the schedule only.
    let input = match crate::opt_text(r, "input")?.filter(|s| !s.is_empty()) {
        Some(_) => crate::json_col(r, "input")?,
        None => schedule.rated.clone(),
    };
    let status: String = r.try_get("status")?;
    Ok(Policy {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        application_id: r.try_get("application_id")?,
        product_id: r.try_get("product_id")?,
        insurer_id: r.try_get("insurer_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        start_date: crate::date_col(r, "start_date")?,
        end_date: crate::date_col(r, "end_date")?,
        premium: Money::from_fen(r.try_get("premium_fen")?),
        schedule,
        bound_by: r.try_get("bound_by")?,
        bound_at_us: r.try_get("bound_at_us")?,
        status: PolicyStatus::from_code(&status).ok_or_else(|| crate::bad_value("status", &status))?,
        cancelled_on: crate::opt_date_col(r, "cancelled_on")?,
        input,
        subject: subject_row(r)?,
        answer: match crate::opt_text(r, "answered_by")? {
            Some(by) => Some(Answer {
                by,
                at_us: r.try_get::<Option<i64>, _>("answered_at_us")?.unwrap_or(0),
                note: crate::opt_text(r, "answer_note")?.unwrap_or_default(),
            }),
            None => None,
        },
    })
}

/// Stores a policy.
pub async fn insert_policy(conn: &mut AnyConnection, p: &Policy) -> Result<()> {
    let schedule = crate::to_json(&p.schedule)?;
    let input = crate::to_json(&p.input)?;
    let sql = format!(
        "INSERT INTO policies ({POLICY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    );
    let q = sqlx::query(&sql)
        .bind(&p.id)
        .bind(&p.number)
        .bind(&p.application_id)
        .bind(&p.product_id)
        .bind(&p.insurer_id)
        .bind(&p.enterprise_id)
        .bind(p.start_date.to_string())
        .bind(p.end_date.to_string())
        .bind(p.premium.fen())
        .bind(schedule)
        .bind(&p.bound_by)
        .bind(p.bound_at_us)
        .bind(p.status.code())
        .bind(p.cancelled_on.map(|d| d.to_string()))
        .bind(input);
    bind_subject(q, &p.subject)
        .bind(p.subject.object_key())
        .bind(p.answer.as_ref().map(|a| a.by.clone()))
        .bind(p.answer.as_ref().map(|a| a.at_us))
        .bind(p.answer.as_ref().map(|a| a.note.clone()))
        .bind(p.input.cover().fen())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The enterprise's policies of one insured object (by its key), oldest start first.
pub async fn policies_of_object(
    conn: &mut AnyConnection,
    enterprise_id: &str,
    key: &str,
) -> Result<Vec<Policy>> {
    let sql = format!(
        "SELECT {POLICY_COLS} FROM policies WHERE enterprise_id = $1 AND object_key = $2 ORDER BY start_date, id"
    );
    sqlx::query(&sql)
        .bind(enterprise_id)
        .bind(key)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(policy_row)
        .collect()
}

/// Records the insurer's answer to a registered policy (confirmed with the premium, or not
/// confirmed) if it still awaits one; `Conflict` when it no longer does.
pub async fn answer_registration(conn: &mut AnyConnection, p: &Policy) -> Result<()> {
    let Some(a) = &p.answer else {
        return Err(StoreError::Other("an answer needs who gave it".into()));
    };
    let n = sqlx::query(
        "UPDATE policies SET status = $1, premium_fen = $2, answered_by = $3, answered_at_us = $4, answer_note = $5 \
         WHERE id = $6 AND status = 'unconfirmed'",
    )
    .bind(p.status.code())
    .bind(p.premium.fen())
    .bind(&a.by)
    .bind(a.at_us)
    .bind(&a.note)
    .bind(&p.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("policies.status".into()));
    }
    Ok(())
}

/// A policy by id.
pub async fn policy(conn: &mut AnyConnection, id: &str) -> Result<Policy> {
    let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    policy_row(&r)
}

/// A policy by id, read in a write transaction and locked there until it ends (on
/// PostgreSQL `FOR UPDATE`; SQLite has one writer at a time): a check made on it holds
/// until the commit, against a cancellation, a claim or a renewal running concurrently.
pub async fn policy_for_update(
    conn: &mut AnyConnection,
    id: &str,
    backend: crate::Backend,
) -> Result<Policy> {
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE id = $1{lock}");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    policy_row(&r)
}

/// Policies of an organisation (as enterprise, insurer or co-insurer), newest first.
pub async fn policies_of(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<Policy>> {
    let sql = format!(
        // Three indexed lookups: with `OR` and the co-insurance subquery in one `WHERE`,
        // PostgreSQL scanned every policy for each call.
        "SELECT {POLICY_COLS} FROM policies WHERE id IN (SELECT id FROM policies WHERE enterprise_id = $1 \
         UNION SELECT id FROM policies WHERE insurer_id = $1 \
         UNION SELECT policy_id FROM coinsurance_shares WHERE insurer_id = $1) ORDER BY bound_at_us DESC, id"
    );
    sqlx::query(&sql).bind(org_id).fetch_all(&mut *conn).await?.iter().map(policy_row).collect()
}

/// Every policy (the zone's overview), newest first.
pub async fn all_policies(conn: &mut AnyConnection) -> Result<Vec<Policy>> {
    let sql = format!("SELECT {POLICY_COLS} FROM policies ORDER BY bound_at_us DESC, id");
    sqlx::query(&sql).fetch_all(&mut *conn).await?.iter().map(policy_row).collect()
}

/// Sets a policy's full-term premium and rated inputs (an endorsement); `Conflict` unless
/// the policy is still in force.
pub async fn update_terms(
    conn: &mut AnyConnection,
    id: &str,
    premium: Money,
    input: &QuoteInput,
) -> Result<()> {
    let cover = input.cover().fen();
    let input = crate::to_json(input)?;
    let n = sqlx::query(
        "UPDATE policies SET premium_fen = $1, input = $2, cover_fen = $4 WHERE id = $3 AND status = 'in_force'",
    )
    .bind(premium.fen())
    .bind(input)
    .bind(id)
    .bind(cover)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("policies.status".into()));
    }
    Ok(())
}

/// Cancels a policy in force from the day after `last_day`.
pub async fn cancel(conn: &mut AnyConnection, id: &str, last_day: Date) -> Result<()> {
    let n = sqlx::query(
        "UPDATE policies SET status = 'cancelled', cancelled_on = $1 WHERE id = $2 AND status = 'in_force'",
    )
    .bind(last_day.to_string())
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("policies.status".into()));
    }
    Ok(())
}

const END_COLS: &str = "id, policy_id, seq, kind, effective_date, input, old_premium_fen, new_premium_fen, \
    adjustment_fen, explanation, reason, made_by, made_at_us";

/// Stores an endorsement; its `seq` must be the next of the policy (else `Conflict`).
pub async fn insert_endorsement(conn: &mut AnyConnection, e: &Endorsement) -> Result<()> {
    let input = e.input.as_ref().map(crate::to_json).transpose()?;
    sqlx::query(&format!(
        "INSERT INTO endorsements ({END_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&e.id)
    .bind(&e.policy_id)
    .bind(e.seq)
    .bind(e.kind.code())
    .bind(e.effective_date.to_string())
    .bind(input)
    .bind(e.old_premium.fen())
    .bind(e.new_premium.fen())
    .bind(e.adjustment.fen())
    .bind(&e.explanation)
    .bind(&e.reason)
    .bind(&e.made_by)
    .bind(e.made_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A policy's endorsements in order.
pub async fn endorsements(conn: &mut AnyConnection, policy_id: &str) -> Result<Vec<Endorsement>> {
    let sql = format!("SELECT {END_COLS} FROM endorsements WHERE policy_id = $1 ORDER BY seq");
    let rows = sqlx::query(&sql).bind(policy_id).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Endorsement {
                id: r.try_get("id")?,
                policy_id: r.try_get("policy_id")?,
                seq: r.try_get("seq")?,
                kind: EndorsementKind::from_code(&kind).ok_or_else(|| crate::bad_value("kind", &kind))?,
                effective_date: crate::date_col(r, "effective_date")?,
                input: match crate::opt_text(r, "input")? {
                    Some(_) => Some(crate::json_col(r, "input")?),
                    None => None,
                },
                old_premium: Money::from_fen(r.try_get("old_premium_fen")?),
                new_premium: Money::from_fen(r.try_get("new_premium_fen")?),
                adjustment: Money::from_fen(r.try_get("adjustment_fen")?),
                explanation: r.try_get("explanation")?,
                reason: r.try_get("reason")?,
                made_by: r.try_get("made_by")?,
                made_at_us: r.try_get("made_at_us")?,
            })
        })
        .collect()
}

/// A policy's co-insurance shares (insurer, basis points), the lead first; empty when the
/// policy is not co-insured.
pub async fn shares(conn: &mut AnyConnection, policy_id: &str) -> Result<Vec<(String, u32)>> {
    let rows = sqlx::query(
        "SELECT insurer_id, share_bp FROM coinsurance_shares WHERE policy_id = $1 ORDER BY lead DESC, insurer_id",
    )
    .bind(policy_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let bp: i64 = r.try_get("share_bp")?;
            Ok((
                r.try_get("insurer_id")?,
                u32::try_from(bp).map_err(|_| StoreError::Other("share_bp".into()))?,
            ))
        })
        .collect()
}

/// Records a policy's shares (the first is the lead); the primary key refuses a second set.
pub async fn insert_shares(
    conn: &mut AnyConnection,
    policy_id: &str,
    shares: &[(String, u32)],
) -> Result<()> {
    for (i, (org, bp)) in shares.iter().enumerate() {
        sqlx::query(
            "INSERT INTO coinsurance_shares (policy_id, insurer_id, share_bp, lead) VALUES ($1, $2, $3, $4)",
        )
        .bind(policy_id)
        .bind(org)
        .bind(i64::from(*bp))
        .bind(i64::from(i == 0))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The application renewing a policy (not declined), if any.
pub async fn renewal_of(conn: &mut AnyConnection, policy_id: &str) -> Result<Option<Application>> {
    let sql = format!("SELECT {APP_COLS} FROM applications WHERE renewal_of = $1 AND status <> 'declined'");
    sqlx::query(&sql).bind(policy_id).fetch_optional(&mut *conn).await?.as_ref().map(app_row).transpose()
}

/// A policy by its number.
pub async fn policy_by_number(conn: &mut AnyConnection, number: &str) -> Result<Policy> {
    let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE number = $1");
    let r = sqlx::query(&sql).bind(number).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    policy_row(&r)
}
