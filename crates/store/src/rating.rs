//! Rating plans, versioned by effective date.

use crate::Result;
use kebao_domain::rating::FiledPlan;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn row(r: &AnyRow) -> Result<FiledPlan> {
    Ok(FiledPlan {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        version: r.try_get("version")?,
        effective_from: crate::date_col(r, "effective_from")?,
        doc: crate::json_col(r, "doc")?,
        created_by: r.try_get("created_by")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

const COLS: &str = "id, product_id, version, effective_from, doc, created_by, created_at_us";

/// Stores a plan as the product's next version.
pub async fn insert(conn: &mut AnyConnection, p: &FiledPlan) -> Result<()> {
    let doc = crate::to_json(&p.doc)?;
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
pub async fn for_product(conn: &mut AnyConnection, product_id: &str) -> Result<Vec<FiledPlan>> {
    let sql = format!("SELECT {COLS} FROM rating_plans WHERE product_id = $1 ORDER BY effective_from DESC");
    sqlx::query(&sql).bind(product_id).fetch_all(&mut *conn).await?.iter().map(row).collect()
}
