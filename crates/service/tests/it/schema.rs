//! Migration parity: a fresh SQLite and a fresh PostgreSQL database, each migrated, have the
//! same tables, columns, nullability, primary keys and unique keys. Types are not compared
//! (their names differ by design: TEXT/BIGINT/BLOB against TEXT/BIGINT/BYTEA).

use crate::harness::*;
use kebao_store::schema::{describe, SchemaDesc};
use kebao_store::{OpenOptions, Store};

/// Real differences that must exist, each with its reason: (table, what differs).
const ALLOWED: &[(&str, &str)] = &[
    // Product search: SQLite indexes the terms in an FTS5 virtual table, PostgreSQL in a
    // generated tsvector column of an ordinary table (migrations 0002).
    ("product_search", "only on PostgreSQL"),
];

/// Every difference between the two schemas, as readable lines.
fn differences(sqlite: &SchemaDesc, pg: &SchemaDesc) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, s) in &sqlite.tables {
        let Some(p) = pg.tables.get(name) else {
            out.push((name.clone(), "only on SQLite".to_owned()));
            continue;
        };
        for (col, nullable) in &s.columns {
            match p.columns.get(col) {
                None => out.push((name.clone(), format!("column {col} only on SQLite"))),
                Some(n) if n != nullable => out.push((
                    name.clone(),
                    format!("column {col} nullable on SQLite: {nullable}, on PostgreSQL: {n}"),
                )),
                Some(_) => {}
            }
        }
        for col in p.columns.keys().filter(|c| !s.columns.contains_key(*c)) {
            out.push((name.clone(), format!("column {col} only on PostgreSQL")));
        }
        if s.primary_key != p.primary_key {
            out.push((
                name.clone(),
                format!("primary key on SQLite {:?}, on PostgreSQL {:?}", s.primary_key, p.primary_key),
            ));
        }
        for k in s.unique.difference(&p.unique) {
            out.push((name.clone(), format!("unique key {k:?} only on SQLite")));
        }
        for k in p.unique.difference(&s.unique) {
            out.push((name.clone(), format!("unique key {k:?} only on PostgreSQL")));
        }
    }
    for name in pg.tables.keys().filter(|n| !sqlite.tables.contains_key(*n)) {
        let what =
            if sqlite.virtual_tables.contains(name) { "only on PostgreSQL" } else { "missing on SQLite" };
        out.push((name.clone(), what.to_owned()));
    }
    for name in sqlite.virtual_tables.iter().filter(|n| !pg.tables.contains_key(*n)) {
        out.push((name.clone(), "virtual table only on SQLite".to_owned()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_match() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::open(&url, &OpenOptions::default()).await.unwrap();
    let sqlite = describe(&mut store.begin_read().await.unwrap()).await.unwrap();
    assert!(sqlite.tables.len() > 20, "{:?}", sqlite.tables.keys());
    assert!(sqlite.tables["organisations"].primary_key == ["id"]);
    on_postgres(|ctx: Ctx| async move {
        let pg = describe(&mut ctx.store.begin_read().await.unwrap()).await.unwrap();
        let found = differences(&sqlite, &pg);
        let unexpected: Vec<String> = found
            .iter()
            .filter(|(t, what)| !ALLOWED.iter().any(|(at, aw)| at == t && aw == what))
            .map(|(t, what)| format!("{t}: {what}"))
            .collect();
        assert!(unexpected.is_empty(), "the schemas differ:\n{}", unexpected.join("\n"));
        // The comparison sees a difference in nullability and in keys.
        let mut changed = pg.clone();
        let t = changed.tables.get_mut("organisations").unwrap();
        t.columns.insert("name".to_owned(), true);
        t.unique.insert(vec!["name".to_owned()]);
        assert_eq!(differences(&sqlite, &changed).len(), found.len() + 2);
        let keys: usize = pg.tables.values().map(|t| t.unique.len()).sum();
        let not_null = pg.tables.values().flat_map(|t| t.columns.values()).filter(|n| !**n).count();
        eprintln!("compared {} tables, {keys} unique keys, {not_null} NOT NULL columns", pg.tables.len());
        // Every allowed difference still exists (a stale entry is removed, not kept).
        for (t, what) in ALLOWED {
            assert!(found.iter().any(|(ft, fw)| ft == t && fw == what), "stale allow-list entry {t}: {what}");
        }
    })
    .await;
}
