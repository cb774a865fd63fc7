//! Users and their roles.

use crate::{Result, StoreError};
use kebao_domain::user::{Role, User};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// Inserts a user with roles.
pub async fn insert(conn: &mut AnyConnection, user: &User, password_hash: &str, at_us: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, org_id, username, display_name, password_hash, active, created_at_us, must_change_password) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&user.id)
    .bind(&user.org_id)
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(password_hash)
    .bind(i64::from(user.active))
    .bind(at_us)
    .bind(i64::from(user.must_change_password))
    .execute(&mut *conn)
    .await?;
    set_roles(conn, &user.id, &user.roles).await
}

/// Replaces a user's roles.
pub async fn set_roles(conn: &mut AnyConnection, user_id: &str, roles: &[Role]) -> Result<()> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for r in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(r.code())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn roles_of(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<Role>> {
    let rows = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut roles = Vec::with_capacity(rows.len());
    for r in rows {
        let code: String = r.try_get("role")?;
        roles.push(
            Role::from_code(&code)
                .ok_or_else(|| StoreError::Other(format!("unknown stored role `{code}`")))?,
        );
    }
    roles.sort();
    Ok(roles)
}

pub(crate) fn user_row(row: &AnyRow) -> Result<User> {
    let active: i64 = row.try_get("active")?;
    let must_change: i64 = row.try_get("must_change_password")?;
    Ok(User {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        roles: Vec::new(),
        active: active != 0,
        must_change_password: must_change != 0,
    })
}

/// One user.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<User> {
    let row = sqlx::query(
        "SELECT id, org_id, username, display_name, active, must_change_password FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut u = user_row(&row)?;
    u.roles = roles_of(conn, &u.id).await?;
    Ok(u)
}

/// A user and the password hash, by login name.
pub async fn find_for_login(conn: &mut AnyConnection, username: &str) -> Result<Option<(User, String)>> {
    let Some(row) = sqlx::query(
        "SELECT id, org_id, username, display_name, active, must_change_password, password_hash FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let mut u = user_row(&row)?;
    let hash: String = row.try_get("password_hash")?;
    u.roles = roles_of(conn, &u.id).await?;
    Ok(Some((u, hash)))
}

/// Every user with the name of their organisation, by organisation and login name,
/// without their roles (see [`with_roles`]).
pub async fn all_with_org(conn: &mut AnyConnection) -> Result<Vec<(User, String)>> {
    let rows = sqlx::query(
        "SELECT u.id, u.org_id, u.username, u.display_name, u.active, u.must_change_password, o.name AS org_name \
         FROM users u JOIN organisations o ON o.id = u.org_id ORDER BY o.name, u.username",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((user_row(r)?, r.try_get::<String, _>("org_name")?))).collect()
}

/// Fills in the roles of each user.
pub async fn with_roles(conn: &mut AnyConnection, users: &mut [User]) -> Result<()> {
    for u in users {
        u.roles = roles_of(conn, &u.id).await?;
    }
    Ok(())
}

/// The users of one organisation, by login name.
pub async fn list_by_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<User>> {
    let rows = sqlx::query(
        "SELECT id, org_id, username, display_name, active, must_change_password FROM users WHERE org_id = $1 ORDER BY username",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut u = user_row(r)?;
        u.roles = roles_of(conn, &u.id).await?;
        out.push(u);
    }
    Ok(out)
}

/// The active users of an organisation who hold a role (to address notifications).
pub async fn with_role(conn: &mut AnyConnection, org_id: &str, role: Role) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE u.org_id = $1 AND r.role = $2 AND u.active = 1 ORDER BY u.id",
    )
    .bind(org_id)
    .bind(role.code())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| r.try_get("id").map_err(StoreError::from)).collect()
}

/// The ids of active users holding a role in any organisation.
pub async fn any_with_role(conn: &mut AnyConnection, role: Role) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT u.id, u.org_id FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE r.role = $1 AND u.active = 1 ORDER BY u.id",
    )
    .bind(role.code())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("org_id")?))).collect()
}

/// Sets a new password hash; `must_change`: whether the user must change it at the next
/// sign-in (it was set by someone else).
pub async fn set_password(conn: &mut AnyConnection, id: &str, hash: &str, must_change: bool) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .bind(i64::from(must_change))
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The password hash of a user (to check the old password on a change).
pub async fn password_hash(conn: &mut AnyConnection, id: &str) -> Result<String> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Activates or deactivates a user; a deactivation is dated (the retention rule on sign-in
/// credentials counts from it), and the date stays while the user stays inactive.
pub async fn set_active(conn: &mut AnyConnection, id: &str, active: bool, now_us: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE users SET active = $2, deactivated_at_us = CASE WHEN $2 = 1 THEN NULL \
         ELSE COALESCE(deactivated_at_us, $3) END WHERE id = $1",
    )
    .bind(id)
    .bind(i64::from(active))
    .bind(now_us)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// How many users there are.
pub async fn count(conn: &mut AnyConnection) -> Result<u64> {
    let n: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users").fetch_one(&mut *conn).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
