//! Rating plans, versioned by effective date.

use crate::{Result, StoreError};
use kebao_domain::rating::PlanDoc;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// A stored plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub id: String,
    pub product_id: String,
    pub version: i64,
    pub effective_from: Date,
    pub doc: PlanDoc,
    pub created_by: String,
    pub created_at_us: i64,
}

fn row(r: &AnyRow) -> Result<PlanRow> {
    let d: String = r.try_get("effective_from")?;
    let doc: String = r.try_get("doc")?;
    Ok(PlanRow {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        version: r.try_get("version")?,
        effective_from: Date::parse(&d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| StoreError::Other(format!("stored date `{d}`")))?,
        doc: serde_json::from_str(&doc).map_err(|e| StoreError::Other(format!("stored plan: {e}")))?,
        created_by: r.try_get("created_by")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

const COLS: &str = "id, product_id, version, effective_from, doc, created_by, created_at_us";

/// Stores a plan as the product's next version.
pub async fn insert(conn: &mut AnyConnection, p: &PlanRow) -> Result<()> {
    let doc = serde_json::to_string(&p.doc).map_err(|e| StoreError::Other(e.to_string()))?;
    sqlx::query(&format!("INSERT INTO rating_plans ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
        .bind(&p.id)
        .bind(&p.product_id)
        .bind(p.version)
        .bind(p.effective_from.to_string())
        .bind(doc)
        .bind(&p.created_by)
        .bind(p.created_at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A product's plans, newest effective date first.
pub async fn for_product(conn: &mut AnyConnection, product_id: &str) -> Result<Vec<PlanRow>> {
    let sql = format!("SELECT {COLS} FROM rating_plans WHERE product_id = $1 ORDER BY effective_from DESC");
    sqlx::query(&sql).bind(product_id).fetch_all(&mut *conn).await?.iter().map(row).collect()
}
