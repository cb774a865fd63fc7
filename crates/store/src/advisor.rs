//! The risk advisor's rows (C3): an enterprise's questionnaire answers and its shortlist.

use crate::Result;
use sqlx::{AnyConnection, Row};

/// One answer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub question_id: String,
    pub value: i64,
    pub rules_version: String,
    pub answered_by: String,
    pub answered_at_us: i64,
}

/// The enterprise's answers, by question id.
pub async fn answers(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<StoredAnswer>> {
    let rows = sqlx::query(
        "SELECT question_id, value, rules_version, answered_by, answered_at_us FROM advisor_answers \
         WHERE org_id = $1 ORDER BY question_id",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredAnswer {
                question_id: r.try_get("question_id")?,
                value: r.try_get("value")?,
                rules_version: r.try_get("rules_version")?,
                answered_by: r.try_get("answered_by")?,
                answered_at_us: r.try_get("answered_at_us")?,
            })
        })
        .collect()
}

/// Replaces the enterprise's answers with these (a question left blank is no longer answered).
pub async fn put_answers(conn: &mut AnyConnection, org_id: &str, answers: &[StoredAnswer]) -> Result<()> {
    sqlx::query("DELETE FROM advisor_answers WHERE org_id = $1").bind(org_id).execute(&mut *conn).await?;
    for a in answers {
        sqlx::query(
            "INSERT INTO advisor_answers (org_id, question_id, value, rules_version, answered_by, answered_at_us) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org_id)
        .bind(&a.question_id)
        .bind(a.value)
        .bind(&a.rules_version)
        .bind(&a.answered_by)
        .bind(a.answered_at_us)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One product on a shortlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub product_id: String,
    pub exposure_id: String,
    pub added_by: String,
    pub added_at_us: i64,
}

/// The enterprise's shortlist, in the order it was kept.
pub async fn shortlist(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<Listed>> {
    let rows = sqlx::query(
        "SELECT product_id, exposure_id, added_by, added_at_us FROM advisor_shortlist WHERE org_id = $1 \
         ORDER BY added_at_us, product_id",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Listed {
                product_id: r.try_get("product_id")?,
                exposure_id: r.try_get("exposure_id")?,
                added_by: r.try_get("added_by")?,
                added_at_us: r.try_get("added_at_us")?,
            })
        })
        .collect()
}

/// Keeps a product on the shortlist; false when it is there already.
pub async fn add(conn: &mut AnyConnection, org_id: &str, l: &Listed) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO advisor_shortlist (org_id, product_id, exposure_id, added_by, added_at_us) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, product_id) DO NOTHING",
    )
    .bind(org_id)
    .bind(&l.product_id)
    .bind(&l.exposure_id)
    .bind(&l.added_by)
    .bind(l.added_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes a product off the shortlist; false when it was not there.
pub async fn remove(conn: &mut AnyConnection, org_id: &str, product_id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM advisor_shortlist WHERE org_id = $1 AND product_id = $2")
        .bind(org_id)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// For the zone: per exposure the shortlists name, how many enterprises keep a product for it.
pub async fn shortlisted_by_exposure(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT exposure_id, COUNT(DISTINCT org_id) AS n FROM advisor_shortlist GROUP BY exposure_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("exposure_id")?, r.try_get("n")?))).collect()
}

/// What the rules read of one enterprise, for the zone's picture of needs.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseProfile {
    pub id: String,
    pub stage: Option<kebao_domain::org::LifecycleStage>,
    pub industries: Vec<String>,
    /// Qualifications held on the day.
    pub qualifications: Vec<kebao_domain::org::QualificationKind>,
    /// The latest yearly facts.
    pub facts: Option<kebao_domain::org::YearlyFacts>,
    pub answers: std::collections::BTreeMap<String, i64>,
    /// The products of its policies in force on the day.
    pub policy_products: Vec<String>,
}

/// Every enterprise's profile on `on`, a few statements for the whole zone.
pub async fn profiles(conn: &mut AnyConnection, on: time::Date) -> Result<Vec<EnterpriseProfile>> {
    use kebao_domain::org::{LifecycleStage, QualificationKind, YearlyFacts};
    use kebao_domain::Money;
    let dims = crate::stats::enterprise_dims(conn, on).await?;
    let mut out: std::collections::HashMap<String, EnterpriseProfile> = dims
        .into_iter()
        .map(|(id, d)| {
            let p = EnterpriseProfile {
                id: id.clone(),
                stage: d.stage.as_deref().and_then(LifecycleStage::from_code),
                industries: d.tags,
                qualifications: d
                    .qualifications
                    .iter()
                    .filter_map(|q| QualificationKind::from_code(q))
                    .collect(),
                ..EnterpriseProfile::default()
            };
            (id, p)
        })
        .collect();
    let facts = sqlx::query(
        "SELECT org_id, year, revenue_fen, rnd_expense_fen, staff, rnd_staff, patents_granted, patents_pending, \
         export_share_bp FROM yearly_facts ORDER BY org_id, year",
    )
    .fetch_all(&mut *conn)
    .await?;
    let n = |r: &sqlx::any::AnyRow, c: &str| -> Result<u32> {
        let v: i64 = r.try_get(c)?;
        u32::try_from(v).map_err(|_| crate::bad_value(c, &v.to_string()))
    };
    for r in &facts {
        let id: String = r.try_get("org_id")?;
        let year: i64 = r.try_get("year")?;
        if let Some(p) = out.get_mut(&id) {
            // Rows come by year: the last one kept is the latest.
            p.facts = Some(YearlyFacts {
                year: i32::try_from(year).map_err(|_| crate::bad_value("year", &year.to_string()))?,
                revenue: Money::from_fen(r.try_get("revenue_fen")?),
                rnd_expense: Money::from_fen(r.try_get("rnd_expense_fen")?),
                staff: n(r, "staff")?,
                rnd_staff: n(r, "rnd_staff")?,
                patents_granted: n(r, "patents_granted")?,
                patents_pending: n(r, "patents_pending")?,
                export_share_bp: n(r, "export_share_bp")?,
            });
        }
    }
    for r in
        sqlx::query("SELECT org_id, question_id, value FROM advisor_answers").fetch_all(&mut *conn).await?
    {
        let id: String = r.try_get("org_id")?;
        if let Some(p) = out.get_mut(&id) {
            p.answers.insert(r.try_get("question_id")?, r.try_get("value")?);
        }
    }
    for r in sqlx::query(
        "SELECT enterprise_id, product_id FROM policies WHERE status IN ('in_force', 'registered') \
         AND start_date <= $1 AND end_date >= $1",
    )
    .bind(on.to_string())
    .fetch_all(&mut *conn)
    .await?
    {
        let id: String = r.try_get("enterprise_id")?;
        if let Some(p) = out.get_mut(&id) {
            p.policy_products.push(r.try_get("product_id")?);
        }
    }
    let mut v: Vec<EnterpriseProfile> = out.into_values().collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(v)
}
