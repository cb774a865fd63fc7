//! The append-only, hash-chained event log.

use crate::{Backend, Result, StoreError, Tx};
use kebao_domain::event::{EventDraft, EventRecord, Hash32, Head, Personal, PersonalPart};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn hash_col(row: &AnyRow, col: &str) -> Result<Hash32> {
    let s: String = row.try_get(col)?;
    Hash32::from_hex(&s).ok_or_else(|| StoreError::Other(format!("event log: `{col}` is not a hash: `{s}`")))
}

fn record(row: &AnyRow) -> Result<EventRecord> {
    let seq: i64 = row.try_get("seq")?;
    Ok(EventRecord {
        seq: u64::try_from(seq).unwrap_or(0),
        at_us: row.try_get("at_us")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        payload: row.try_get("payload")?,
        ledger: crate::opt_text(row, "ledger")?,
        prev_hash: hash_col(row, "prev_hash")?,
        hash: hash_col(row, "hash")?,
        personal: personal(row)?,
    })
}

/// The personal part joined in by [`SELECT`], if the event has one.
fn personal(row: &AnyRow) -> Result<Option<Personal>> {
    if row.try_get::<Option<i64>, _>("p_seq")?.is_none() {
        return Ok(None);
    }
    match (crate::opt_text(row, "p_salt")?, crate::opt_text(row, "p_data")?) {
        (Some(salt), Some(data)) => {
            let mut s = [0u8; 16];
            hex::decode_to_slice(&salt, &mut s).map_err(|_| {
                StoreError::Other(format!("event log: a personal part's salt is not hex: `{salt}`"))
            })?;
            Ok(Some(Personal::Kept(PersonalPart { salt: s, data })))
        }
        _ => Ok(Some(Personal::Erased)),
    }
}

/// The columns every read of the log selects: the event, and its personal part if any.
const SELECT: &str =
    "SELECT e.seq, e.at_us, e.actor, e.action, e.subject, e.payload, e.ledger, e.prev_hash, e.hash, \
     p.seq AS p_seq, p.salt AS p_salt, p.data AS p_data \
     FROM events e LEFT JOIN event_personal p ON p.seq = e.seq";

async fn lock_head(conn: &mut AnyConnection, backend: Backend) -> Result<Head> {
    let sql = match backend {
        Backend::Postgres => "SELECT seq, hash FROM event_head WHERE id = 1 FOR UPDATE",
        Backend::Sqlite => "SELECT seq, hash FROM event_head WHERE id = 1",
    };
    let row = sqlx::query(sql).fetch_one(&mut *conn).await?;
    let seq: i64 = row.try_get("seq")?;
    Ok(Head { count: u64::try_from(seq).unwrap_or(0), hash: hash_col(&row, "hash")? })
}

/// Appends events in the caller's transaction. It locks the head row once, seals each
/// event after the previous one, and writes the head row once at [`Appender::finish`]:
/// a bulk command costs one statement per event, and on PostgreSQL the head row is not
/// rewritten (and its versions piled up) once per event.
#[derive(Debug)]
pub struct Appender {
    head: Head,
    dirty: bool,
}

impl Appender {
    /// Locks the head of the log for this transaction.
    pub async fn start(tx: &mut Tx) -> Result<Appender> {
        let backend = tx.backend();
        let head = lock_head(tx.conn(), backend).await?;
        Ok(Appender { head, dirty: false })
    }

    /// Seals and inserts the next event. It records the ledger transfers the transaction
    /// wrote since the previous event (`docs/ledger.md`), so that its hash covers them.
    pub async fn push(&mut self, tx: &mut Tx, mut draft: EventDraft, at_us: i64) -> Result<EventRecord> {
        let transfers = tx.take_transfers();
        if !transfers.is_empty() {
            if draft.ledger.is_some() {
                return Err(StoreError::Other("an event draft brought its own ledger field".into()));
            }
            draft.ledger = Some(kebao_domain::ledger::encode_entries(&transfers));
        }
        let rec = EventRecord::seal(draft, self.head.count + 1, at_us, self.head.hash);
        let seq = i64::try_from(rec.seq).map_err(|_| StoreError::Other("event log full".into()))?;
        sqlx::query(
            "INSERT INTO events (seq, at_us, actor, action, subject, payload, ledger, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(rec.at_us)
        .bind(&rec.actor)
        .bind(&rec.action)
        .bind(&rec.subject)
        .bind(&rec.payload)
        .bind(rec.ledger.clone())
        .bind(rec.prev_hash.to_hex())
        .bind(rec.hash.to_hex())
        .execute(tx.conn())
        .await?;
        if let Some(Personal::Kept(p)) = &rec.personal {
            sqlx::query("INSERT INTO event_personal (seq, salt, data) VALUES ($1, $2, $3)")
                .bind(seq)
                .bind(hex::encode(p.salt))
                .bind(&p.data)
                .execute(tx.conn())
                .await?;
        }
        self.head = Head { count: rec.seq, hash: rec.hash };
        self.dirty = true;
        Ok(rec)
    }

    /// Writes the new head row. Without it the transaction must not commit: the head row
    /// would lag the log (which `kebao audit verify` reports).
    pub async fn finish(self, tx: &mut Tx) -> Result<Head> {
        if self.dirty {
            let seq =
                i64::try_from(self.head.count).map_err(|_| StoreError::Other("event log full".into()))?;
            sqlx::query("UPDATE event_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(self.head.hash.to_hex())
                .execute(tx.conn())
                .await?;
            tx.mark_logged();
        }
        Ok(self.head)
    }
}

/// Appends one event in the caller's transaction and returns it sealed.
pub async fn append(tx: &mut Tx, draft: EventDraft, at_us: i64) -> Result<EventRecord> {
    let mut a = Appender::start(tx).await?;
    let rec = a.push(tx, draft, at_us).await?;
    a.finish(tx).await?;
    Ok(rec)
}

/// The head as recorded in the head row.
pub async fn head(conn: &mut AnyConnection) -> Result<Head> {
    let row = sqlx::query("SELECT seq, hash FROM event_head WHERE id = 1").fetch_one(&mut *conn).await?;
    let seq: i64 = row.try_get("seq")?;
    Ok(Head { count: u64::try_from(seq).unwrap_or(0), hash: hash_col(&row, "hash")? })
}

/// Up to `limit` events with `seq > after`, in sequence order (for verification and export).
pub async fn page(conn: &mut AnyConnection, after: u64, limit: u32) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"))
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(record).collect()
}

/// The newest events about one subject, newest first.
pub async fn for_subject(conn: &mut AnyConnection, subject: &str, limit: u32) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE e.subject = $1 ORDER BY e.seq DESC LIMIT $2"))
        .bind(subject)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(record).collect()
}

/// Which events the audit page asks for: all filters optional.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// The kind of action (its part before the dot, e.g. `policy`).
    pub kind: Option<String>,
    /// The exact actor (`user:…`, `system:…`).
    pub actor: Option<String>,
    /// The exact subject (an id).
    pub subject: Option<String>,
    /// Only events older than this sequence number (keyset paging, newest first).
    pub before: Option<u64>,
}

/// The newest events matching `f`, newest first, at most `limit`.
pub async fn search(conn: &mut AnyConnection, f: &EventFilter, limit: u32) -> Result<Vec<EventRecord>> {
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if f.kind.is_some() {
        // The kind is `[a-z_]+` (checked by the service); `_` is a LIKE wildcard, so the
        // prefix is compared as a substring instead.
        sql.push_str(&format!(
            " AND substr(e.action, 1, {}) = {}",
            f.kind.as_ref().map_or(0, |k| k.len() + 1),
            next()
        ));
    }
    if f.actor.is_some() {
        sql.push_str(&format!(" AND e.actor = {}", next()));
    }
    if f.subject.is_some() {
        sql.push_str(&format!(" AND e.subject = {}", next()));
    }
    if f.before.is_some() {
        sql.push_str(&format!(" AND e.seq < {}", next()));
    }
    sql.push_str(&format!(" ORDER BY e.seq DESC LIMIT {}", next()));
    let mut q = sqlx::query(&sql);
    if let Some(k) = &f.kind {
        q = q.bind(format!("{k}."));
    }
    if let Some(a) = &f.actor {
        q = q.bind(a.clone());
    }
    if let Some(s) = &f.subject {
        q = q.bind(s.clone());
    }
    if let Some(b) = f.before {
        q = q.bind(i64::try_from(b).unwrap_or(i64::MAX));
    }
    q = q.bind(i64::from(limit));
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(record).collect()
}

/// The newest events, newest first.
pub async fn latest(conn: &mut AnyConnection, limit: u32) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(&format!("{SELECT} ORDER BY e.seq DESC LIMIT $1"))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(record).collect()
}

/// Erases an event's personal part (its salt and words); the digest stays in the chained
/// payload. Returns whether there was a kept part to erase.
pub async fn erase_personal(conn: &mut AnyConnection, seq: u64, at_us: i64) -> Result<bool> {
    let seq = i64::try_from(seq).map_err(|_| StoreError::NotFound)?;
    let done = sqlx::query(
        "UPDATE event_personal SET salt = NULL, data = NULL, erased_at_us = $2 WHERE seq = $1 AND data IS NOT NULL",
    )
    .bind(seq)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One event, with its personal part.
pub async fn get(conn: &mut AnyConnection, seq: u64) -> Result<EventRecord> {
    let seq = i64::try_from(seq).map_err(|_| StoreError::NotFound)?;
    let row = sqlx::query(&format!("{SELECT} WHERE e.seq = $1"))
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&row)
}

/// Events whose kept personal part contains `needle` (a person's name), newest first.
pub async fn with_personal_text(
    conn: &mut AnyConnection,
    needle: &str,
    limit: u32,
) -> Result<Vec<EventRecord>> {
    let pattern = crate::like_pattern(needle);
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE p.data IS NOT NULL AND p.data LIKE $1 ESCAPE '\\' ORDER BY e.seq DESC LIMIT $2"
    ))
    .bind(pattern)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(record).collect()
}
