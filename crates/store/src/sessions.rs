//! Web sessions and API tokens. Only SHA-256 hashes of the secrets are stored.

use crate::{Result, StoreError};
use kebao_domain::user::ApiToken;
use sqlx::{AnyConnection, Row};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at_us: i64,
}

/// Stores a new session.
pub async fn create(conn: &mut AnyConnection, id_hash: &str, s: &SessionRow, at_us: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at_us, expires_at_us) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_hash)
    .bind(&s.user_id)
    .bind(&s.csrf_token)
    .bind(at_us)
    .bind(s.expires_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A session by the hash of its id.
pub async fn get(conn: &mut AnyConnection, id_hash: &str) -> Result<Option<SessionRow>> {
    let row = sqlx::query("SELECT user_id, csrf_token, expires_at_us FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(SessionRow {
            user_id: r.try_get("user_id")?,
            csrf_token: r.try_get("csrf_token")?,
            expires_at_us: r.try_get("expires_at_us")?,
        })
    })
    .transpose()
}

/// Ends a session.
pub async fn delete(conn: &mut AnyConnection, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut *conn).await?;
    Ok(())
}

/// Ends every session of a user (after a password reset).
pub async fn delete_for_user(conn: &mut AnyConnection, user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok(())
}

/// Ends every session of a user but one (`keep`: the hash of the session that stays).
pub async fn delete_for_user_except(conn: &mut AnyConnection, user_id: &str, keep: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Revokes every API token and key of a user that is not yet revoked; returns how many.
pub async fn revoke_tokens_for_user(conn: &mut AnyConnection, user_id: &str, at_us: i64) -> Result<u64> {
    let r =
        sqlx::query("UPDATE api_tokens SET revoked_at_us = $2 WHERE user_id = $1 AND revoked_at_us IS NULL")
            .bind(user_id)
            .bind(at_us)
            .execute(&mut *conn)
            .await?;
    Ok(r.rows_affected())
}

/// Revokes every API token and key of a user but one (`keep`: the hash of its secret).
pub async fn revoke_tokens_for_user_except(
    conn: &mut AnyConnection,
    user_id: &str,
    keep: &str,
    at_us: i64,
) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE api_tokens SET revoked_at_us = $2 WHERE user_id = $1 AND revoked_at_us IS NULL AND token_hash <> $3",
    )
    .bind(user_id)
    .bind(at_us)
    .bind(keep)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// Removes expired sessions.
pub async fn purge_expired(conn: &mut AnyConnection, now_us: i64) -> Result<u64> {
    let r =
        sqlx::query("DELETE FROM sessions WHERE expires_at_us < $1").bind(now_us).execute(&mut *conn).await?;
    Ok(r.rows_affected())
}

/// Stores a token.
pub async fn create_token(conn: &mut AnyConnection, t: &ApiToken, token_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, name, created_at_us, expires_at_us, scopes, rate_per_minute) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.id)
    .bind(&t.user_id)
    .bind(token_hash)
    .bind(&t.name)
    .bind(t.created_at_us)
    .bind(t.expires_at_us)
    .bind(t.scopes.clone())
    .bind(t.rate_per_minute)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A token by the hash of its secret with its holder (roles included) and the kind of the
/// holder's organisation, in one statement: every API request with a bearer token asks this.
pub async fn find_token_holder(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<(ApiToken, kebao_domain::user::User, kebao_domain::OrgKind)>> {
    let rows = sqlx::query(
        "SELECT t.id AS token_id, t.user_id, t.name AS token_name, t.created_at_us, t.expires_at_us, \
         t.revoked_at_us, t.scopes, t.rate_per_minute, u.id, u.org_id, u.username, u.display_name, u.active, \
         u.must_change_password, o.kind AS org_kind, r.role \
         FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.org_id \
         LEFT JOIN user_roles r ON r.user_id = u.id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_all(&mut *conn)
    .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let token = ApiToken {
        id: first.try_get("token_id")?,
        user_id: first.try_get("user_id")?,
        name: first.try_get("token_name")?,
        created_at_us: first.try_get("created_at_us")?,
        expires_at_us: first.try_get("expires_at_us")?,
        revoked_at_us: first.try_get("revoked_at_us")?,
        scopes: crate::opt_text(first, "scopes")?,
        rate_per_minute: first.try_get("rate_per_minute")?,
    };
    let mut user = crate::users::user_row(first)?;
    for r in &rows {
        if let Some(code) = crate::opt_text(r, "role")? {
            user.roles.push(
                kebao_domain::user::Role::from_code(&code)
                    .ok_or_else(|| StoreError::Other(format!("unknown stored role `{code}`")))?,
            );
        }
    }
    user.roles.sort();
    let kind: String = first.try_get("org_kind")?;
    let kind = kebao_domain::OrgKind::from_code(&kind)
        .ok_or_else(|| StoreError::Other(format!("unknown organisation kind `{kind}`")))?;
    Ok(Some((token, user, kind)))
}

/// Revokes a token of a user.
pub async fn revoke_token(conn: &mut AnyConnection, id: &str, user_id: &str, at_us: i64) -> Result<()> {
    let r = sqlx::query(
        "UPDATE api_tokens SET revoked_at_us = $3 WHERE id = $1 AND user_id = $2 AND revoked_at_us IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One sign-in attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    pub id: String,
    /// The user name as typed (folded to lower case), known or not.
    pub username: String,
    /// The client's address (as far as the server can tell).
    pub address: String,
    pub succeeded: bool,
    /// `ok`, `wrong_password`, `throttled`, …
    pub reason: String,
    pub at_us: i64,
}

/// Records a sign-in attempt.
pub async fn record_login_attempt(conn: &mut AnyConnection, a: &LoginAttempt) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_attempts (id, username, address, succeeded, reason, at_us) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&a.id)
    .bind(&a.username)
    .bind(&a.address)
    .bind(i64::from(a.succeeded))
    .bind(&a.reason)
    .bind(a.at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The failed sign-in attempts since `since_us`, newest first, at most `limit`.
pub async fn failed_logins_since(
    conn: &mut AnyConnection,
    since_us: i64,
    limit: i64,
) -> Result<Vec<LoginAttempt>> {
    let rows = sqlx::query(
        "SELECT id, username, address, succeeded, reason, at_us FROM login_attempts \
         WHERE succeeded = 0 AND at_us >= $1 ORDER BY at_us DESC, id LIMIT $2",
    )
    .bind(since_us)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let ok: i64 = r.try_get("succeeded")?;
            Ok(LoginAttempt {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                address: r.try_get("address")?,
                succeeded: ok != 0,
                reason: r.try_get("reason")?,
                at_us: r.try_get("at_us")?,
            })
        })
        .collect()
}
