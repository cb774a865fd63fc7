//! The ledger's accounts and transfers. Balances change only together with the transfer
//! that changes them, in the caller's transaction; on PostgreSQL the touched rows are
//! locked in id order (no deadlocks), on SQLite the one writer serialises.
//!
//! Transfers are append-only (triggers refuse UPDATE and DELETE): a pending transfer's
//! state is read from the post or void that names it, and every transfer written is
//! handed to the transaction's next event, whose hash covers it (`docs/ledger.md`).

use crate::{Backend, Result, StoreError, Tx};
use kebao_domain::ledger::{Account, AccountFlags, PendingState, StoredTransfer, Transfer, TransferFlags};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const ACCOUNT_COLS: &str = "id, owner_id, kind, currency, debits_must_not_exceed_credits, \
    credits_must_not_exceed_debits, debits_pending, debits_posted, credits_pending, credits_posted";

fn flag(r: &AnyRow, col: &str) -> Result<bool> {
    Ok(r.try_get::<i64, _>(col)? != 0)
}

fn account_row(r: &AnyRow) -> Result<Account> {
    Ok(Account {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        kind: r.try_get("kind")?,
        currency: r.try_get("currency")?,
        flags: AccountFlags {
            debits_must_not_exceed_credits: flag(r, "debits_must_not_exceed_credits")?,
            credits_must_not_exceed_debits: flag(r, "credits_must_not_exceed_debits")?,
        },
        debits_pending: r.try_get("debits_pending")?,
        debits_posted: r.try_get("debits_posted")?,
        credits_pending: r.try_get("credits_pending")?,
        credits_posted: r.try_get("credits_posted")?,
    })
}

/// Opens an account (balances zero).
pub async fn insert_account(conn: &mut AnyConnection, a: &Account, at_us: i64) -> Result<()> {
    sqlx::query(&format!("INSERT INTO ledger_accounts ({ACCOUNT_COLS}, created_at_us) VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, 0, $7)"))
        .bind(&a.id)
        .bind(&a.owner_id)
        .bind(&a.kind)
        .bind(&a.currency)
        .bind(i64::from(a.flags.debits_must_not_exceed_credits))
        .bind(i64::from(a.flags.credits_must_not_exceed_debits))
        .bind(at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Accounts by id, locked for update on PostgreSQL (in id order).
pub async fn accounts_for_update(
    conn: &mut AnyConnection,
    ids: &[&str],
    backend: Backend,
) -> Result<Vec<Account>> {
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let mut out = Vec::new();
    for id in sorted {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM ledger_accounts WHERE id = $1{lock}");
        if let Some(r) = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await? {
            out.push(account_row(&r)?);
        }
    }
    Ok(out)
}

/// One account, without a lock (reads).
pub async fn account(conn: &mut AnyConnection, id: &str) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM ledger_accounts WHERE id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.as_ref().map(account_row).transpose()
}

/// Writes an account's balances.
pub async fn set_balances(conn: &mut AnyConnection, a: &Account) -> Result<()> {
    sqlx::query(
        "UPDATE ledger_accounts SET debits_pending = $1, debits_posted = $2, credits_pending = $3, credits_posted = $4 \
         WHERE id = $5",
    )
    .bind(a.debits_pending)
    .bind(a.debits_posted)
    .bind(a.credits_pending)
    .bind(a.credits_posted)
    .bind(&a.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every account (for verification and dashboards).
pub async fn all_accounts(conn: &mut AnyConnection) -> Result<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM ledger_accounts ORDER BY id");
    sqlx::query(&sql).fetch_all(&mut *conn).await?.iter().map(account_row).collect()
}

/// One organisation's accounts.
pub async fn accounts_of(conn: &mut AnyConnection, owner_id: &str) -> Result<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM ledger_accounts WHERE owner_id = $1 ORDER BY id");
    sqlx::query(&sql).bind(owner_id).fetch_all(&mut *conn).await?.iter().map(account_row).collect()
}

const TRANSFER_COLS: &str = "id, debit_account_id, credit_account_id, amount, pending_id, code, event_ref, \
    flag_linked, flag_pending, flag_post_pending, flag_void_pending, applied_amount, state, timestamp_us";

/// The columns read back, with a pending transfer's state derived from the (at most one,
/// by a unique index) post or void that names it.
const TRANSFER_SELECT: &str = "SELECT t.id, t.debit_account_id, t.credit_account_id, t.amount, t.pending_id, \
    t.code, t.event_ref, t.flag_linked, t.flag_pending, t.flag_post_pending, t.flag_void_pending, \
    t.applied_amount, t.timestamp_us, \
    CASE WHEN t.flag_pending = 0 THEN 'none' \
         WHEN EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id AND r.flag_post_pending = 1) THEN 'posted' \
         WHEN EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id AND r.flag_void_pending = 1) THEN 'voided' \
         ELSE 'pending' END AS state \
    FROM ledger_transfers t";

fn transfer_row(r: &AnyRow) -> Result<StoredTransfer> {
    let state: String = r.try_get("state")?;
    let code: i64 = r.try_get("code")?;
    Ok(StoredTransfer {
        transfer: Transfer {
            id: r.try_get("id")?,
            debit_account_id: r.try_get("debit_account_id")?,
            credit_account_id: r.try_get("credit_account_id")?,
            amount: r.try_get("amount")?,
            pending_id: crate::opt_text(r, "pending_id")?,
            code: u16::try_from(code).map_err(|_| StoreError::Other(format!("transfer code {code}")))?,
            event_ref: r.try_get("event_ref")?,
            flags: TransferFlags {
                linked: flag(r, "flag_linked")?,
                pending: flag(r, "flag_pending")?,
                post_pending: flag(r, "flag_post_pending")?,
                void_pending: flag(r, "flag_void_pending")?,
            },
        },
        applied_amount: r.try_get("applied_amount")?,
        state: PendingState::from_code(&state)
            .ok_or_else(|| StoreError::Other(format!("transfer state `{state}`")))?,
        timestamp_us: r.try_get("timestamp_us")?,
    })
}

/// A transfer by id, locked for update on PostgreSQL.
pub async fn transfer(
    conn: &mut AnyConnection,
    id: &str,
    backend: Backend,
) -> Result<Option<StoredTransfer>> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("{TRANSFER_SELECT} WHERE t.id = $1{lock}");
    sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.as_ref().map(transfer_row).transpose()
}

/// Stores an applied transfer, and hands it to the transaction's next event.
pub async fn insert_transfer(tx: &mut Tx, t: &StoredTransfer) -> Result<()> {
    // Stored as it was at insertion; later states are derived (see `TRANSFER_SELECT`).
    let state = if t.transfer.flags.pending { PendingState::Pending } else { PendingState::None };
    let f = t.transfer.flags;
    sqlx::query(&format!(
        "INSERT INTO ledger_transfers ({TRANSFER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&t.transfer.id)
    .bind(&t.transfer.debit_account_id)
    .bind(&t.transfer.credit_account_id)
    .bind(t.transfer.amount)
    .bind(t.transfer.pending_id.clone())
    .bind(i64::from(t.transfer.code))
    .bind(&t.transfer.event_ref)
    .bind(i64::from(f.linked))
    .bind(i64::from(f.pending))
    .bind(i64::from(f.post_pending))
    .bind(i64::from(f.void_pending))
    .bind(t.applied_amount)
    .bind(state.code())
    .bind(t.timestamp_us)
    .execute(tx.conn())
    .await?;
    tx.transfers.push(StoredTransfer { state, ..t.clone() });
    Ok(())
}

/// Every transfer, in id order, page by page (for verification).
pub async fn transfers_after(
    conn: &mut AnyConnection,
    after: &str,
    limit: u32,
) -> Result<Vec<StoredTransfer>> {
    let sql = format!("{TRANSFER_SELECT} WHERE t.id > $1 ORDER BY t.id LIMIT $2");
    sqlx::query(&sql)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(transfer_row)
        .collect()
}

/// Savepoints, for linked chains that apply all or nothing inside a batch (one at a time).
pub async fn savepoint(tx: &mut Tx, name: &str) -> Result<()> {
    sqlx::query(&format!("SAVEPOINT {name}")).execute(tx.conn()).await?;
    tx.transfers_mark = Some(tx.transfers.len());
    Ok(())
}

/// Undoes everything since the savepoint, including the transfers handed to the next event.
pub async fn rollback_to(tx: &mut Tx, name: &str) -> Result<()> {
    sqlx::query(&format!("ROLLBACK TO SAVEPOINT {name}")).execute(tx.conn()).await?;
    if let Some(mark) = tx.transfers_mark.take() {
        tx.transfers.truncate(mark);
    }
    Ok(())
}

/// Forgets the savepoint, keeping what was done.
pub async fn release(tx: &mut Tx, name: &str) -> Result<()> {
    sqlx::query(&format!("RELEASE SAVEPOINT {name}")).execute(tx.conn()).await?;
    tx.transfers_mark = None;
    Ok(())
}

/// The sum applied by transfers of one business event with one code (premiums paid on a policy …).
pub async fn sum_for_event(conn: &mut AnyConnection, event_ref: &str, code: u16) -> Result<i64> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(applied_amount) AS BIGINT) FROM ledger_transfers WHERE event_ref = $1 AND code = $2",
    )
    .bind(event_ref)
    .bind(i64::from(code))
    .fetch_one(&mut *conn)
    .await?;
    Ok(n.unwrap_or(0))
}
