//! The risk lab's models in decisions (C9): admission rules and the scores computed with them.

use crate::{opt_text, Result};
use sqlx::{AnyConnection, Row};

/// An admission rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub id: String,
    pub owner_org_id: String,
    /// `lending` or `underwriting`.
    pub score_use: String,
    pub model_id: String,
    /// Cut-offs in hundredths of a point.
    pub accept_at_c: i64,
    pub decline_below_c: i64,
    pub in_force: bool,
    pub set_by: String,
    pub set_at_us: i64,
}

const RULE_COLS: &str =
    "id, owner_org_id, score_use, model_id, accept_at_c, decline_below_c, in_force, set_by, set_at_us";

fn rule(r: &sqlx::any::AnyRow) -> Result<RuleRow> {
    Ok(RuleRow {
        id: r.try_get("id")?,
        owner_org_id: r.try_get("owner_org_id")?,
        score_use: r.try_get("score_use")?,
        model_id: r.try_get("model_id")?,
        accept_at_c: r.try_get("accept_at_c")?,
        decline_below_c: r.try_get("decline_below_c")?,
        in_force: r.try_get::<i64, _>("in_force")? != 0,
        set_by: r.try_get("set_by")?,
        set_at_us: r.try_get("set_at_us")?,
    })
}

/// Puts a rule in force, ending the owner's previous one for the same use.
pub async fn set_rule(conn: &mut AnyConnection, r: &RuleRow) -> Result<()> {
    sqlx::query("UPDATE lab_admission_rules SET in_force = 0 WHERE owner_org_id = $1 AND score_use = $2")
        .bind(&r.owner_org_id)
        .bind(&r.score_use)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!(
        "INSERT INTO lab_admission_rules ({RULE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)"
    ))
    .bind(&r.id)
    .bind(&r.owner_org_id)
    .bind(&r.score_use)
    .bind(&r.model_id)
    .bind(r.accept_at_c)
    .bind(r.decline_below_c)
    .bind(&r.set_by)
    .bind(r.set_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends the owner's rule for a use (nothing decides with scores after).
pub async fn end_rule(conn: &mut AnyConnection, owner: &str, score_use: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE lab_admission_rules SET in_force = 0 WHERE owner_org_id = $1 AND score_use = $2 AND in_force = 1",
    )
    .bind(owner)
    .bind(score_use)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// The owner's rule in force for a use.
pub async fn rule_in_force(
    conn: &mut AnyConnection,
    owner: &str,
    score_use: &str,
) -> Result<Option<RuleRow>> {
    let r = sqlx::query(&format!(
        "SELECT {RULE_COLS} FROM lab_admission_rules WHERE owner_org_id = $1 AND score_use = $2 AND in_force = 1"
    ))
    .bind(owner)
    .bind(score_use)
    .fetch_optional(&mut *conn)
    .await?;
    r.as_ref().map(rule).transpose()
}

/// A stored score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    pub id: String,
    pub model_id: String,
    pub owner_org_id: String,
    pub subject_org_id: String,
    pub score_use: String,
    /// What was decided on (a loan's id), if anything.
    pub subject_ref: Option<String>,
    pub rule_id: Option<String>,
    /// The inputs as scored (JSON object).
    pub inputs: String,
    /// Hundredths of a point.
    pub score_c: i64,
    /// Parts per million.
    pub probability_ppm: i64,
    /// `accept`, `refer` or `decline` under the rule; none for a batch score.
    pub decision: Option<String>,
    /// The reasons (JSON list).
    pub reasons: String,
    pub job_id: Option<String>,
    pub created_by: String,
    pub created_at_us: i64,
}

const SCORE_COLS: &str =
    "id, model_id, owner_org_id, subject_org_id, score_use, subject_ref, rule_id, inputs, \
     score_c, probability_ppm, decision, reasons, job_id, created_by, created_at_us";

fn score(r: &sqlx::any::AnyRow) -> Result<ScoreRow> {
    Ok(ScoreRow {
        id: r.try_get("id")?,
        model_id: r.try_get("model_id")?,
        owner_org_id: r.try_get("owner_org_id")?,
        subject_org_id: r.try_get("subject_org_id")?,
        score_use: r.try_get("score_use")?,
        subject_ref: opt_text(r, "subject_ref")?,
        rule_id: opt_text(r, "rule_id")?,
        inputs: r.try_get("inputs")?,
        score_c: r.try_get("score_c")?,
        probability_ppm: r.try_get("probability_ppm")?,
        decision: opt_text(r, "decision")?,
        reasons: r.try_get("reasons")?,
        job_id: opt_text(r, "job_id")?,
        created_by: r.try_get("created_by")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

/// Stores scores, many rows to a statement.
pub async fn insert_scores(conn: &mut AnyConnection, rows: &[ScoreRow]) -> Result<()> {
    // 15 columns: 2,000 rows are 30,000 parameters, within SQLite's 32,766 and PostgreSQL's 65,535.
    for chunk in rows.chunks(2000) {
        let mut sql = format!("INSERT INTO lab_scores ({SCORE_COLS}) VALUES ");
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 15;
            sql.push('(');
            sql.push_str(&(1..=15).map(|k| format!("${}", b + k)).collect::<Vec<_>>().join(", "));
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for s in chunk {
            q = q
                .bind(&s.id)
                .bind(&s.model_id)
                .bind(&s.owner_org_id)
                .bind(&s.subject_org_id)
                .bind(&s.score_use)
                .bind(&s.subject_ref)
                .bind(&s.rule_id)
                .bind(&s.inputs)
                .bind(s.score_c)
                .bind(s.probability_ppm)
                .bind(&s.decision)
                .bind(&s.reasons)
                .bind(&s.job_id)
                .bind(&s.created_by)
                .bind(s.created_at_us);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The scores on one decision subject (a loan), newest first.
pub async fn scores_for_ref(conn: &mut AnyConnection, subject_ref: &str) -> Result<Vec<ScoreRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {SCORE_COLS} FROM lab_scores WHERE subject_ref = $1 ORDER BY created_at_us DESC, id LIMIT 50"
    ))
    .bind(subject_ref)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(score).collect()
}

/// The scores of one enterprise, newest first.
pub async fn scores_of_subject(conn: &mut AnyConnection, subject: &str, limit: u32) -> Result<Vec<ScoreRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {SCORE_COLS} FROM lab_scores WHERE subject_org_id = $1 ORDER BY created_at_us DESC, id LIMIT $2"
    ))
    .bind(subject)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(score).collect()
}

/// A score as monitoring reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoredScore {
    pub created_at_us: i64,
    pub score_c: i64,
    pub probability_ppm: i64,
    pub inputs: String,
    /// The scored loan's status now, for a lending score.
    pub loan_status: Option<String>,
}

/// Every score of a model, oldest first, with the scored loan's status.
pub async fn model_scores(conn: &mut AnyConnection, model_id: &str) -> Result<Vec<MonitoredScore>> {
    let rows = sqlx::query(
        "SELECT s.created_at_us, s.score_c, s.probability_ppm, s.inputs, l.status AS loan_status \
         FROM lab_scores s LEFT JOIN loans l ON l.id = s.subject_ref \
         WHERE s.model_id = $1 ORDER BY s.created_at_us, s.id",
    )
    .bind(model_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MonitoredScore {
                created_at_us: r.try_get("created_at_us")?,
                score_c: r.try_get("score_c")?,
                probability_ppm: r.try_get("probability_ppm")?,
                inputs: r.try_get("inputs")?,
                loan_status: opt_text(r, "loan_status")?,
            })
        })
        .collect()
}

/// A model's thresholds (watch, alert) in basis points, if set.
pub async fn thresholds(conn: &mut AnyConnection, model_id: &str) -> Result<Option<(i64, i64)>> {
    let r = sqlx::query("SELECT watch_bp, alert_bp FROM lab_thresholds WHERE model_id = $1")
        .bind(model_id)
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| Ok((r.try_get("watch_bp")?, r.try_get("alert_bp")?))).transpose()
}

/// Sets a model's thresholds.
pub async fn set_thresholds(
    conn: &mut AnyConnection,
    model_id: &str,
    watch_bp: i64,
    alert_bp: i64,
    by: &str,
    at_us: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO lab_thresholds (model_id, watch_bp, alert_bp, set_by, set_at_us) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (model_id) DO UPDATE SET watch_bp = excluded.watch_bp, alert_bp = excluded.alert_bp, \
         set_by = excluded.set_by, set_at_us = excluded.set_at_us",
    )
    .bind(model_id)
    .bind(watch_bp)
    .bind(alert_bp)
    .bind(by)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether a zone switch is on (off when never set).
pub async fn switch(conn: &mut AnyConnection, key: &str) -> Result<bool> {
    let r = sqlx::query("SELECT enabled FROM zone_switches WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match r {
        Some(r) => r.try_get::<i64, _>("enabled")? != 0,
        None => false,
    })
}

/// Turns a zone switch on or off.
pub async fn set_switch(
    conn: &mut AnyConnection,
    key: &str,
    enabled: bool,
    by: &str,
    at_us: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO zone_switches (key, enabled, set_by, set_at_us) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET enabled = excluded.enabled, set_by = excluded.set_by, set_at_us = excluded.set_at_us",
    )
    .bind(key)
    .bind(i64::from(enabled))
    .bind(by)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest score of each of the zone-owned models (an organisation of kind `government`)
/// about one enterprise, newest first.
pub async fn zone_scores_of(conn: &mut AnyConnection, subject: &str) -> Result<Vec<ScoreRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {SCORE_COLS} FROM lab_scores s WHERE s.subject_org_id = $1 \
         AND s.owner_org_id IN (SELECT id FROM organisations WHERE kind = 'government') \
         AND s.created_at_us = (SELECT MAX(t.created_at_us) FROM lab_scores t WHERE t.subject_org_id = s.subject_org_id \
             AND t.model_id = s.model_id) \
         ORDER BY s.created_at_us DESC, s.id LIMIT 10"
    ))
    .bind(subject)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(score).collect()
}
