//! To-do items (addressed to a role in an organisation) and notifications (to a user).

use crate::Result;
use sqlx::{AnyConnection, Row};

/// An open or done to-do item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    pub id: String,
    pub org_id: String,
    pub role: String,
    pub kind: String,
    pub subject: String,
    pub title_zh: String,
    pub title_en: String,
    pub link: String,
    pub created_at_us: i64,
    pub done_at_us: Option<i64>,
}

/// Opens a to-do; one that was done about the same subject opens again.
pub async fn add_todo(conn: &mut AnyConnection, t: &Todo) -> Result<()> {
    sqlx::query(
        "INSERT INTO todos (id, org_id, role, kind, subject, title_zh, title_en, link, created_at_us) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (kind, subject, org_id) DO UPDATE SET \
         done_at_us = NULL, created_at_us = excluded.created_at_us, title_zh = excluded.title_zh, \
         title_en = excluded.title_en, link = excluded.link, role = excluded.role",
    )
    .bind(&t.id)
    .bind(&t.org_id)
    .bind(&t.role)
    .bind(&t.kind)
    .bind(&t.subject)
    .bind(&t.title_zh)
    .bind(&t.title_en)
    .bind(&t.link)
    .bind(t.created_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Closes the to-do of this kind about this subject, if open.
pub async fn close_todo(conn: &mut AnyConnection, kind: &str, subject: &str, at_us: i64) -> Result<()> {
    sqlx::query("UPDATE todos SET done_at_us = $3 WHERE kind = $1 AND subject = $2 AND done_at_us IS NULL")
        .bind(kind)
        .bind(subject)
        .bind(at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Open to-dos for holders of any of `roles` in `org_id`, oldest first.
pub async fn open_todos(
    conn: &mut AnyConnection,
    org_id: &str,
    roles: &[&str],
    limit: u32,
) -> Result<Vec<Todo>> {
    let mut out = Vec::new();
    for role in roles {
        let rows = sqlx::query(
            "SELECT id, org_id, role, kind, subject, title_zh, title_en, link, created_at_us, done_at_us FROM todos \
             WHERE org_id = $1 AND role = $2 AND done_at_us IS NULL ORDER BY created_at_us, id LIMIT $3",
        )
        .bind(org_id)
        .bind(*role)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            out.push(Todo {
                id: r.try_get("id")?,
                org_id: r.try_get("org_id")?,
                role: r.try_get("role")?,
                kind: r.try_get("kind")?,
                subject: r.try_get("subject")?,
                title_zh: r.try_get("title_zh")?,
                title_en: r.try_get("title_en")?,
                link: r.try_get("link")?,
                created_at_us: r.try_get("created_at_us")?,
                done_at_us: r.try_get("done_at_us")?,
            });
        }
    }
    out.sort_by_key(|t| t.created_at_us);
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(out)
}

/// A notification to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub title_zh: String,
    pub title_en: String,
    pub link: String,
    pub created_at_us: i64,
    pub read_at_us: Option<i64>,
}

/// Sends a notification.
pub async fn notify(conn: &mut AnyConnection, n: &Notification) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, user_id, title_zh, title_en, link, created_at_us) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&n.id)
    .bind(&n.user_id)
    .bind(&n.title_zh)
    .bind(&n.title_en)
    .bind(&n.link)
    .bind(n.created_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A user's newest notifications.
pub async fn notifications(conn: &mut AnyConnection, user_id: &str, limit: u32) -> Result<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT id, user_id, title_zh, title_en, link, created_at_us, read_at_us FROM notifications \
         WHERE user_id = $1 ORDER BY created_at_us DESC, id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                title_zh: r.try_get("title_zh")?,
                title_en: r.try_get("title_en")?,
                link: r.try_get("link")?,
                created_at_us: r.try_get("created_at_us")?,
                read_at_us: r.try_get("read_at_us")?,
            })
        })
        .collect()
}

/// Marks all of a user's notifications read.
pub async fn mark_all_read(conn: &mut AnyConnection, user_id: &str, at_us: i64) -> Result<u64> {
    let r = sqlx::query("UPDATE notifications SET read_at_us = $2 WHERE user_id = $1 AND read_at_us IS NULL")
        .bind(user_id)
        .bind(at_us)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}

/// The subjects of the open to-dos of one kind.
pub async fn open_subjects(conn: &mut AnyConnection, kind: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT subject FROM todos WHERE kind = $1 AND done_at_us IS NULL ORDER BY subject",
    )
    .bind(kind)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(sqlx::Row::try_get(r, "subject")?)).collect()
}
