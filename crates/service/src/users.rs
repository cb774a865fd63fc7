//! Users: an organisation's admin manages its own staff; a platform admin can reset a
//! password (there is no mail server).

use crate::auth::{hash_password, roles_fit, secret_hash, InUse};
use crate::authz::{org_resource, Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
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

/// How a user is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddUserOptions {
    /// The password was chosen by whoever adds the user, so the user must change it at the
    /// first sign-in.
    pub must_change_password: bool,
    /// The user acts only through code run as the operator (the demo zone's generated staff)
    /// and cannot sign in: no password is kept, and none is hashed.
    pub without_sign_in: bool,
}

impl Service {
    /// Adds a user to an organisation (its admin, a platform admin, or the operator). A
    /// person who adds a user chooses the password for them, so it must be changed at the
    /// first sign-in; code acting as the operator (the CLI, the demo, tests) says what it
    /// wants with [`Service::add_user_with`] and otherwise leaves the password as it is.
    pub async fn add_user(
        &self,
        actor: &Actor,
        org_id: &str,
        input: &NewUserInput,
        roles: &[Role],
    ) -> Result<User> {
        let opts = AddUserOptions {
            must_change_password: matches!(actor, Actor::User { .. }),
            without_sign_in: false,
        };
        self.add_user_with(actor, org_id, input, roles, opts).await
    }

    /// Adds a user, saying whether the password must be changed at the first sign-in.
    pub async fn add_user_with(
        &self,
        actor: &Actor,
        org_id: &str,
        input: &NewUserInput,
        roles: &[Role],
        opts: AddUserOptions,
    ) -> Result<User> {
        let mut tx = self.store.begin_write().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        self.require(actor, Action::ManageStaff, &org_resource(&org), &self.basis_for(actor, &org))?;
        let (username, display_name, password) = parse_new_user(input, org.kind, roles)?;
        if users::find_for_login(tx.conn(), username.as_str()).await?.is_some() {
            return Err(ServiceError::Conflict(duplicate_username(username.as_str())));
        }
        if opts.without_sign_in && !matches!(actor, Actor::System { .. }) {
            return Err(ServiceError::Internal("only the operator adds users who cannot sign in".into()));
        }
        // Not a PHC string: no password verifies against it.
        let hash = if opts.without_sign_in { "!".to_owned() } else { hash_password(&password)? };
        let user = User {
            id: self.new_id(),
            org_id: org_id.to_owned(),
            username: username.as_str().to_owned(),
            display_name,
            roles: roles.to_vec(),
            active: true,
            must_change_password: opts.must_change_password,
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
        users::set_active(tx.conn(), user_id, active, self.now_us()).await?;
        if !active {
            // A deactivated user's credentials end with the account, not at their expiry.
            sessions::delete_for_user(tx.conn(), user_id).await?;
            sessions::revoke_tokens_for_user(tx.conn(), user_id, self.now_us()).await?;
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

    /// Sets a new password for a user (platform admin or the operator), ends their sessions
    /// and revokes their API tokens and keys; the user must change the password at the next
    /// sign-in.
    pub async fn reset_password(&self, actor: &Actor, username: &str, new_password: &str) -> Result<User> {
        self.require(actor, Action::ResetPassword, &Resource::Zone, &Basis::None)?;
        let name = Username::parse(username)?;
        check_new_password(new_password)?;
        let hash = hash_password(new_password)?;
        let mut tx = self.store.begin_write().await?;
        let (user, _) =
            users::find_for_login(tx.conn(), name.as_str()).await?.ok_or(ServiceError::NotFound)?;
        users::set_password(tx.conn(), &user.id, &hash, true).await?;
        sessions::delete_for_user(tx.conn(), &user.id).await?;
        sessions::revoke_tokens_for_user(tx.conn(), &user.id, self.now_us()).await?;
        self.finish(
            tx,
            EventDraft::new(&actor.log_name(), "user.password_reset", &user.id, serde_json::json!({})),
        )
        .await?;
        Ok(user)
    }

    /// Changes the signed-in user's own password (the current one is required). Every other
    /// credential of the user ends: their other sessions, and their API tokens and keys but
    /// the one in use.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        in_use: InUse<'_>,
        current: &str,
        new_password: &str,
    ) -> Result<User> {
        let me = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut c = Collector::default();
        c.take(check_new_password(new_password).map_err(|e| e.at("new_password")));
        if !current.is_empty() && current == new_password {
            c.take::<()>(Err(FieldError::new(
                "new_password",
                "unchanged",
                "新密码不能与当前密码相同",
                "the new password must differ from the current one",
            )));
        }
        c.finish()?;
        let stored = {
            let mut tx = self.store.begin_read().await?;
            users::password_hash(tx.conn(), &me.id).await?
        };
        if !self.password_matches(stored, current).await? {
            return Err(Invalid(vec![FieldError::new(
                "current_password",
                "wrong_password",
                "当前密码不正确",
                "the current password is wrong",
            )])
            .into());
        }
        let hash = hash_password(new_password)?;
        let now = self.now_us();
        let mut tx = self.store.begin_write().await?;
        users::set_password(tx.conn(), &me.id, &hash, false).await?;
        match in_use {
            InUse::Session(secret) => {
                sessions::delete_for_user_except(tx.conn(), &me.id, &secret_hash(secret)).await?;
                sessions::revoke_tokens_for_user(tx.conn(), &me.id, now).await?;
            }
            InUse::Token(secret) => {
                sessions::delete_for_user(tx.conn(), &me.id).await?;
                sessions::revoke_tokens_for_user_except(tx.conn(), &me.id, &secret_hash(secret), now).await?;
            }
            InUse::None => {
                sessions::delete_for_user(tx.conn(), &me.id).await?;
                sessions::revoke_tokens_for_user(tx.conn(), &me.id, now).await?;
            }
        }
        self.finish(
            tx,
            EventDraft::new(&actor.log_name(), "user.password_changed", &me.id, serde_json::json!({})),
        )
        .await?;
        let mut tx = self.store.begin_read().await?;
        Ok(users::get(tx.conn(), &me.id).await?)
    }

    /// A user by login name (for the operator's CLI).
    pub async fn find_user(&self, username: &str) -> Result<User> {
        let name = Username::parse(username)?;
        let mut tx = self.store.begin_read().await?;
        users::find_for_login(tx.conn(), name.as_str()).await?.map(|(u, _)| u).ok_or(ServiceError::NotFound)
    }
}
