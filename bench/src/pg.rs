//! A fresh PostgreSQL database for a benchmark run (shared by the benches that use one).

use anyhow::Result;
use sqlx::{Connection, Executor};

/// Drops and creates `name` through the admin URL; returns the new database's URL.
pub async fn pg_database(admin: &str, name: &str) -> Result<String> {
    let mut conn = sqlx::PgConnection::connect(admin).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await?;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}
