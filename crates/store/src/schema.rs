//! A description of the migrated schema, read back from the database's catalogue, so that a
//! test can show that the SQLite and PostgreSQL migrations build the same tables.

use crate::{Backend, Result};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// One table: its columns (name → nullable), primary key and unique keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDesc {
    /// Column name → whether it may be NULL. Primary-key columns count as NOT NULL on both
    /// backends (SQLite allows NULL in a non-integer primary key; the migrations never store one).
    pub columns: BTreeMap<String, bool>,
    /// The primary key's columns, in key order.
    pub primary_key: Vec<String>,
    /// Unique keys other than the primary key (constraints and unique indexes alike), each as
    /// its columns in key order; `(expression)` stands for an expression, and a partial index's
    /// key ends in `(partial)`.
    pub unique: BTreeSet<Vec<String>>,
}

/// The schema: ordinary tables by name, and SQLite's virtual tables (full-text search) by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaDesc {
    /// Ordinary tables (not the migration bookkeeping, not full-text shadow tables).
    pub tables: BTreeMap<String, TableDesc>,
    /// Virtual tables (SQLite only).
    pub virtual_tables: BTreeSet<String>,
}

/// Reads the schema of the database behind `tx`.
pub async fn describe(tx: &mut impl crate::Conn) -> Result<SchemaDesc> {
    match tx.backend() {
        Backend::Sqlite => describe_sqlite(tx).await,
        Backend::Postgres => describe_postgres(tx).await,
    }
}

async fn describe_sqlite(tx: &mut impl crate::Conn) -> Result<SchemaDesc> {
    let conn = tx.conn();
    let mut out = SchemaDesc::default();
    let rows = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_sqlx%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut names = Vec::new();
    for r in &rows {
        let name: String = r.try_get("name")?;
        let sql: Option<String> = r.try_get("sql")?;
        if sql.is_some_and(|s| s.trim_start().to_ascii_uppercase().starts_with("CREATE VIRTUAL TABLE")) {
            out.virtual_tables.insert(name);
        } else {
            names.push(name);
        }
    }
    // A virtual table's shadow tables (`<name>_data`, `<name>_idx`, …) are its own storage.
    names.retain(|n| !out.virtual_tables.iter().any(|v| n.starts_with(&format!("{v}_"))));
    for name in names {
        let mut t = TableDesc::default();
        let cols = sqlx::query("SELECT name, \"notnull\" AS nn, pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in &cols {
            let col: String = c.try_get("name")?;
            let not_null: i64 = c.try_get("nn")?;
            let pk_pos: i64 = c.try_get("pk")?;
            if pk_pos > 0 {
                pk.push((pk_pos, col.clone()));
            }
            t.columns.insert(col, not_null == 0 && pk_pos == 0);
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        let indexes = sqlx::query(
            "SELECT name, \"unique\" AS uq, origin, partial FROM pragma_index_list($1) ORDER BY name",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        for i in &indexes {
            let index: String = i.try_get("name")?;
            let unique: i64 = i.try_get("uq")?;
            let origin: String = i.try_get("origin")?;
            let partial: i64 = i.try_get("partial")?;
            if unique == 0 || origin == "pk" {
                continue;
            }
            let cols = sqlx::query("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&index)
                .fetch_all(&mut *conn)
                .await?;
            let mut key = Vec::new();
            for c in &cols {
                let col: Option<String> = c.try_get("name")?;
                key.push(col.unwrap_or_else(|| "(expression)".to_owned()));
            }
            if partial != 0 {
                key.push("(partial)".to_owned());
            }
            t.unique.insert(key);
        }
        let pk = t.primary_key.clone();
        t.unique.remove(&pk);
        out.tables.insert(name, t);
    }
    Ok(out)
}

async fn describe_postgres(tx: &mut impl crate::Conn) -> Result<SchemaDesc> {
    let conn = tx.conn();
    let mut out = SchemaDesc::default();
    let rows = sqlx::query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name NOT LIKE '\\_sqlx%' ORDER BY table_name",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let name: String = r.try_get("name")?;
        let mut t = TableDesc::default();
        let cols = sqlx::query(
            "SELECT column_name::text AS name, is_nullable::text AS nullable FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        for c in &cols {
            let col: String = c.try_get("name")?;
            let nullable: String = c.try_get("nullable")?;
            t.columns.insert(col, nullable == "YES");
        }
        let keys = sqlx::query(
            "SELECT ic.relname::text AS index_name, i.indisprimary AS is_pk, (i.indpred IS NOT NULL) AS is_partial, \
             k.ord::bigint AS ord, COALESCE(a.attname::text, '(expression)') AS col \
             FROM pg_index i \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_class tc ON tc.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = tc.relnamespace \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE n.nspname = current_schema() AND tc.relname = $1 AND i.indisunique \
             ORDER BY ic.relname, k.ord",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let mut by_index: BTreeMap<String, (bool, bool, Vec<String>)> = BTreeMap::new();
        for k in &keys {
            let index: String = k.try_get("index_name")?;
            let is_pk: bool = k.try_get("is_pk")?;
            let partial: bool = k.try_get("is_partial")?;
            let col: String = k.try_get("col")?;
            by_index.entry(index).or_insert_with(|| (is_pk, partial, Vec::new())).2.push(col);
        }
        for (_, (is_pk, partial, mut key)) in by_index {
            if is_pk {
                t.primary_key = key;
            } else {
                if partial {
                    key.push("(partial)".to_owned());
                }
                t.unique.insert(key);
            }
        }
        let pk = t.primary_key.clone();
        t.unique.remove(&pk);
        out.tables.insert(name, t);
    }
    Ok(out)
}
