//! Users: an organisation's admin manages its own staff; a platform admin can reset a
//! password (there is no mail server).

use crate::auth::{hash_password, roles_fit};
use crate::authz::{Action, Actor, Basis, Resource};
use crate::registry::org_resource;
use crate::{new_id, Result, Service, ServiceError};
use kebao_domain::error::Collector;
use kebao_domain::event::EventDraft;
use kebao_domain::org::{text_field, OrgKind};
use kebao_domain::user::{check_new_password, Role, User, Username};
use kebao_domain::{FieldError, Invalid};
use kebao_store::{orgs, sessions, users};

/// A new user as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

pub(crate) fn duplicate_username(name: &str) -> FieldError {
    FieldError::new(
        "username",
        "duplicate",
        format!("用户名 {name} 已被使用"),
        format!("user name `{name}` is taken"),
    )
}

/// Checks a new user's fields and roles for an organisation of `kind`.
pub(crate) fn parse_new_user(
    input: &NewUserInput,
    kind: OrgKind,
    roles: &[Role],
) -> Result<(Username, String, String), Invalid> {
    let mut c = Collector::default();
    let username = c.take(Username::parse(&input.username));
    let display = c.take(text_field("display_name", &input.display_name, true, 50)).flatten();
    c.take(check_new_password(&input.password));
    c.take(roles_fit(kind, roles));
    c.finish()?;
    match (username, display) {
        (Some(u), Some(d)) => Ok((u, d, input.password.clone())),
        _ => Err(Invalid(vec![FieldError::required("username")])),
    }
}

/// Parses role codes (or labels) given as text.
pub fn parse_roles(codes: &[String]) -> Result<Vec<Role>, Invalid> {
    let mut roles = Vec::new();
    for c in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        match Role::from_code(c) {
            Some(r) if !roles.contains(&r) => roles.push(r),
            Some(_) => {}
            None => {
                return Err(Invalid(vec![FieldError::new(
                    "roles",
                    "unknown_value",
                    format!("未知角色 `{c}`"),
                    format!("unknown role `{c}`"),
                )]))
            }
        }
    }
    roles.sort();
    Ok(roles)
}

impl Service {
    /// Adds a user to an organisation (its admin, a platform admin, or the operator).
    pub async fn add_user(
        &self,
        actor: &Actor,
        org_id: &str,
        input: &NewUserInput,
        roles: &[Role],
    ) -> Result<User> {
        let mut tx = self.store.begin_write().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        self.require(actor, Action::ManageStaff, &org_resource(&org), &self.basis_for(actor, &org))?;
        let (username, display_name, password) = parse_new_user(input, org.kind, roles)?;
        if users::find_for_login(tx.conn(), username.as_str()).await?.is_some() {
            return Err(ServiceError::Conflict(duplicate_username(username.as_str())));
        }
        let hash = hash_password(&password)?;
        let user = User {
            id: new_id(),
            org_id: org_id.to_owned(),
            username: username.as_str().to_owned(),
            display_name,
            roles: roles.to_vec(),
            active: true,
        };
        users::insert(tx.conn(), &user, &hash, self.now_us()).await?;
        let roles: Vec<&str> = user.roles.iter().map(|r| r.code()).collect();
        let draft = EventDraft::new(
            &actor.log_name(),
            "user.created",
            &user.id,
            serde_json::json!({"org": org_id, "roles": roles}),
        );
        self.finish(tx, draft).await?;
        Ok(user)
    }

    /// An organisation's staff.
    pub async fn list_staff(&self, actor: &Actor, org_id: &str) -> Result<Vec<User>> {
        let mut tx = self.store.begin_read().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        self.require(actor, Action::ManageStaff, &org_resource(&org), &self.basis_for(actor, &org))?;
        Ok(users::list_by_org(tx.conn(), org_id).await?)
    }

    /// Changes a staff member's roles or deactivates them.
    pub async fn update_staff(
        &self,
        actor: &Actor,
        user_id: &str,
        roles: &[Role],
        active: bool,
    ) -> Result<User> {
        let mut tx = self.store.begin_write().await?;
        let user = users::get(tx.conn(), user_id).await?;
        let org = orgs::get(tx.conn(), &user.org_id).await?;
        self.require(actor, Action::ManageStaff, &org_resource(&org), &self.basis_for(actor, &org))?;
        roles_fit(org.kind, roles)?;
        if actor.user().is_some_and(|me| me.id == user.id) && (!active || !roles.iter().any(|r| r.is_admin()))
        {
            return Err(Invalid(vec![FieldError::new(
                "roles",
                "self_lockout",
                "不能停用自己或撤销自己的管理员角色",
                "you cannot deactivate yourself or drop your own admin role",
            )])
            .into());
        }
        users::set_roles(tx.conn(), user_id, roles).await?;
        users::set_active(tx.conn(), user_id, active).await?;
        if !active {
            sessions::delete_for_user(tx.conn(), user_id).await?;
        }
        let codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
        let draft = EventDraft::new(
            &actor.log_name(),
            "user.updated",
            user_id,
            serde_json::json!({"roles": codes, "active": active}),
        );
        self.finish(tx, draft).await?;
        let mut tx = self.store.begin_read().await?;
        Ok(users::get(tx.conn(), user_id).await?)
    }

    /// Sets a new password for a user (platform admin or the operator) and ends their sessions.
    pub async fn reset_password(&self, actor: &Actor, username: &str, new_password: &str) -> Result<User> {
        self.require(actor, Action::ResetPassword, &Resource::Zone, &Basis::None)?;
        let name = Username::parse(username)?;
        check_new_password(new_password)?;
        let mut tx = self.store.begin_write().await?;
        let (user, _) =
            users::find_for_login(tx.conn(), name.as_str()).await?.ok_or(ServiceError::NotFound)?;
        users::set_password(tx.conn(), &user.id, &hash_password(new_password)?).await?;
        sessions::delete_for_user(tx.conn(), &user.id).await?;
        self.finish(
            tx,
            EventDraft::new(&actor.log_name(), "user.password_reset", &user.id, serde_json::json!({})),
        )
        .await?;
        Ok(user)
    }

    /// A user by login name (for the operator's CLI).
    pub async fn find_user(&self, username: &str) -> Result<User> {
        let name = Username::parse(username)?;
        let mut tx = self.store.begin_read().await?;
        users::find_for_login(tx.conn(), name.as_str()).await?.map(|(u, _)| u).ok_or(ServiceError::NotFound)
    }
}
