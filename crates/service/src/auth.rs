//! Passwords, web sessions and API tokens.
//!
//! Passwords are hashed with argon2id. Session ids and API tokens are 256-bit random
//! secrets; only their SHA-256 is stored, so a copy of the database opens no session.

use crate::authz::Actor;
use crate::{new_id, Result, Service, ServiceError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use kebao_domain::event::EventDraft;
use kebao_domain::org::OrgKind;
use kebao_domain::user::{User, Username};
use kebao_domain::FieldError;
use kebao_store::sessions::{SessionRow, TokenRow};
use kebao_store::{orgs, sessions, users};
use sha2::{Digest, Sha256};

/// Prefix of API tokens, so that leaked ones are easy to recognise.
pub const TOKEN_PREFIX: &str = "kb_";

/// A random 256-bit secret as hex.
pub fn random_secret() -> Result<String> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// SHA-256 of a secret, as stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A signed-in web session, as handed to the browser once.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The secret for the cookie.
    pub token: String,
    pub csrf_token: String,
    pub expires_at_us: i64,
    pub user: User,
}

/// A session looked up from its cookie.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub actor: Actor,
    pub csrf_token: String,
}

const WRONG_LOGIN: &str = "wrong user name or password";

/// What a third party's API key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLimits {
    pub id: String,
    pub scopes: Vec<String>,
    pub rate_per_minute: u32,
}

/// The scopes an API key may carry: (code, zh, en). Each opens the read (GET) endpoints
/// under its path prefixes, and nothing else.
pub const API_SCOPES: &[(&str, &str, &str)] = &[
    ("products:read", "产品目录与产品", "Products and the catalogue"),
    ("orgs:read", "机构名录", "The directory of parties"),
    ("credit:read", "经授权的信用报告", "Credit reports under consent"),
    ("consents:read", "授权记录", "Consents"),
    ("transparency:read", "树头与证明", "Tree heads and proofs"),
];

fn scope_prefixes(scope: &str) -> &'static [&'static str] {
    match scope {
        "products:read" => &["/api/v1/products", "/api/v1/product-types"],
        "orgs:read" => &["/api/v1/orgs", "/api/v1/industries"],
        "credit:read" => &["/api/v1/credit-reports/"],
        "consents:read" => &["/api/v1/consents"],
        "transparency:read" => &["/api/v1/transparency/"],
        _ => &[],
    }
}

/// Whether an API key with `scopes` may call `path` (`read`: a GET or HEAD).
pub fn key_allows(scopes: &[String], read: bool, path: &str) -> bool {
    read && scopes.iter().any(|s| scope_prefixes(s).iter().any(|p| path.starts_with(p)))
}

impl Service {
    /// The actor for a stored user (looks up the organisation's kind).
    pub async fn actor_for(&self, user: User) -> Result<Actor> {
        let mut tx = self.store.begin_read().await?;
        let org = orgs::get(tx.conn(), &user.org_id).await?;
        Ok(Actor::User { user, org_kind: org.kind })
    }

    async fn check_login(&self, username: &str, password: &str) -> Result<User> {
        let name = Username::parse(username).map_err(|_| ServiceError::Unauthenticated(WRONG_LOGIN))?;
        let mut tx = self.store.begin_read().await?;
        let found = users::find_for_login(tx.conn(), name.as_str()).await?;
        drop(tx);
        match found {
            Some((user, hash)) if user.active && verify_password(&hash, password) => Ok(user),
            Some(_) => Err(ServiceError::Unauthenticated(WRONG_LOGIN)),
            None => {
                // Spend the same time as a real check, so that timing does not tell which
                // user names exist.
                let _ = verify_password(dummy_hash(), password);
                Err(ServiceError::Unauthenticated(WRONG_LOGIN))
            }
        }
    }

    /// Signs a user in and opens a web session.
    pub async fn login(&self, username: &str, password: &str) -> Result<NewSession> {
        let user = self.check_login(username, password).await?;
        let token = random_secret()?;
        let csrf_token = random_secret()?;
        let now = self.now_us();
        let expires_at_us = now.saturating_add(self.config.session_ttl_us);
        let mut tx = self.store.begin_write().await?;
        // Expired sessions are of no use to anyone; sweep them while we are writing anyway.
        sessions::purge_expired(tx.conn(), now).await?;
        let row = SessionRow { user_id: user.id.clone(), csrf_token: csrf_token.clone(), expires_at_us };
        sessions::create(tx.conn(), &secret_hash(&token), &row, now).await?;
        let draft =
            EventDraft::new(&format!("user:{}", user.id), "session.opened", &user.id, serde_json::json!({}));
        self.finish(tx, draft).await?;
        Ok(NewSession { token, csrf_token, expires_at_us, user })
    }

    /// The session behind a cookie; an unknown or expired one is `Unauthenticated`.
    pub async fn session(&self, token: &str) -> Result<SessionInfo> {
        let mut tx = self.store.begin_read().await?;
        let row = sessions::get(tx.conn(), &secret_hash(token))
            .await?
            .ok_or(ServiceError::Unauthenticated("not signed in"))?;
        if row.expires_at_us <= self.now_us() {
            return Err(ServiceError::Unauthenticated("the session has expired; sign in again"));
        }
        let user = users::get(tx.conn(), &row.user_id).await?;
        if !user.active {
            return Err(ServiceError::Unauthenticated("the account is deactivated"));
        }
        let org = orgs::get(tx.conn(), &user.org_id).await?;
        Ok(SessionInfo { actor: Actor::User { user, org_kind: org.kind }, csrf_token: row.csrf_token })
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<()> {
        let hash = secret_hash(token);
        let mut tx = self.store.begin_write().await?;
        let Some(row) = sessions::get(tx.conn(), &hash).await? else { return Ok(()) };
        sessions::delete(tx.conn(), &hash).await?;
        let draft = EventDraft::new(
            &format!("user:{}", row.user_id),
            "session.closed",
            &row.user_id,
            serde_json::json!({}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// Issues an API token for a user who gives their password (machine clients).
    pub async fn issue_token(
        &self,
        username: &str,
        password: &str,
        name: &str,
    ) -> Result<(String, TokenRow)> {
        let user = self.check_login(username, password).await?;
        let name =
            kebao_domain::org::text_field("name", name, false, 64)?.unwrap_or_else(|| "api".to_owned());
        let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let now = self.now_us();
        let row = TokenRow {
            id: new_id(),
            user_id: user.id.clone(),
            name,
            created_at_us: now,
            expires_at_us: now.saturating_add(self.config.token_ttl_us),
            revoked_at_us: None,
            scopes: None,
            rate_per_minute: None,
        };
        let mut tx = self.store.begin_write().await?;
        sessions::create_token(tx.conn(), &row, &secret_hash(&secret)).await?;
        let draft = EventDraft::new(
            &format!("user:{}", user.id),
            "api_token.issued",
            &row.id,
            serde_json::json!({"user": user.id, "expires_at_us": row.expires_at_us}),
        );
        self.finish(tx, draft).await?;
        Ok((secret, row))
    }

    /// The actor behind an API token.
    pub async fn token_actor(&self, secret: &str) -> Result<Actor> {
        Ok(self.token_auth(secret).await?.0)
    }

    /// The actor of a token, and the limits when it is a third party's API key.
    pub async fn token_auth(&self, secret: &str) -> Result<(Actor, Option<KeyLimits>)> {
        let mut tx = self.store.begin_read().await?;
        let row = sessions::find_token(tx.conn(), &secret_hash(secret))
            .await?
            .ok_or(ServiceError::Unauthenticated("unknown API token"))?;
        if row.revoked_at_us.is_some() {
            return Err(ServiceError::Unauthenticated("the API token was revoked"));
        }
        if row.expires_at_us <= self.now_us() {
            return Err(ServiceError::Unauthenticated("the API token has expired"));
        }
        let user = users::get(tx.conn(), &row.user_id).await?;
        if !user.active {
            return Err(ServiceError::Unauthenticated("the account is deactivated"));
        }
        let org = orgs::get(tx.conn(), &user.org_id).await?;
        let key = row.scopes.as_ref().map(|s| KeyLimits {
            id: row.id.clone(),
            scopes: s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect(),
            rate_per_minute: row.rate_per_minute.and_then(|r| u32::try_from(r).ok()).unwrap_or(60),
        });
        Ok((Actor::User { user, org_kind: org.kind }, key))
    }

    /// Issues an API key for a third-party application (第三方合作机构): it acts as the
    /// signed-in user, only on the read endpoints of its scopes, at most `rate_per_minute`
    /// requests a minute. The secret is shown once.
    pub async fn issue_api_key(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[String],
        rate_per_minute: u32,
    ) -> Result<(String, TokenRow)> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut errs = Vec::new();
        let name = match kebao_domain::org::text_field("name", name, true, 64) {
            Ok(n) => n.unwrap_or_default(),
            Err(e) => {
                errs.push(e);
                String::new()
            }
        };
        let mut clean: Vec<String> = Vec::new();
        for s in scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if !API_SCOPES.iter().any(|(c, _, _)| *c == s) {
                errs.push(FieldError::new(
                    "scopes",
                    "unknown_scope",
                    format!("授权范围 `{s}` 不存在"),
                    format!(
                        "scope `{s}` does not exist: use {}",
                        API_SCOPES.iter().map(|x| x.0).collect::<Vec<_>>().join(", ")
                    ),
                ));
            } else if !clean.iter().any(|c| c == s) {
                clean.push(s.to_owned());
            }
        }
        if clean.is_empty() && errs.is_empty() {
            errs.push(FieldError::new(
                "scopes",
                "required",
                "请至少选择一项授权范围",
                "choose at least one scope",
            ));
        }
        if !(1..=600).contains(&rate_per_minute) {
            errs.push(FieldError::new(
                "rate_per_minute",
                "range",
                "每分钟请求上限应为 1–600",
                "the rate limit is 1 to 600 requests a minute",
            ));
        }
        if !errs.is_empty() {
            return Err(kebao_domain::Invalid(errs).into());
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let now = self.now_us();
        let row = TokenRow {
            id: new_id(),
            user_id: user.id.clone(),
            name,
            created_at_us: now,
            expires_at_us: now.saturating_add(self.config.token_ttl_us),
            revoked_at_us: None,
            scopes: Some(clean.join(",")),
            rate_per_minute: Some(i64::from(rate_per_minute)),
        };
        let mut tx = self.store.begin_write().await?;
        sessions::create_token(tx.conn(), &row, &secret_hash(&secret)).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "api_key.issued",
            &row.id,
            serde_json::json!({"user": user.id, "scopes": clean, "rate_per_minute": rate_per_minute}),
        );
        self.finish(tx, draft).await?;
        Ok((secret, row))
    }

    /// Revokes one of the actor's own API tokens.
    pub async fn revoke_token(&self, actor: &Actor, token_id: &str) -> Result<()> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("not signed in"))?;
        let mut tx = self.store.begin_write().await?;
        sessions::revoke_token(tx.conn(), token_id, &user.id, self.now_us()).await?;
        let draft = EventDraft::new(&actor.log_name(), "api_token.revoked", token_id, serde_json::json!({}));
        self.finish(tx, draft).await?;
        Ok(())
    }
}

/// A hash of a random password, to keep look-ups of unknown names as slow as real ones.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let pw = random_secret().unwrap_or_default();
        hash_password(&pw).unwrap_or_default()
    })
}

/// Whether an organisation of `kind` may have users with `roles` (checked before storing).
pub(crate) fn roles_fit(
    kind: OrgKind,
    roles: &[kebao_domain::Role],
) -> std::result::Result<(), kebao_domain::FieldError> {
    if roles.is_empty() {
        return Err(kebao_domain::FieldError::new(
            "roles",
            "required",
            "至少选择一个角色",
            "choose at least one role",
        ));
    }
    if let Some(r) = roles.iter().find(|r| !r.fits(kind)) {
        return Err(kebao_domain::FieldError::new(
            "roles",
            "role_kind",
            format!("{}不能担任“{}”角色", kind.label_zh(), r.label_zh()),
            format!("a member of a {} cannot hold the role `{}`", kind.label_en().to_lowercase(), r.code()),
        ));
    }
    Ok(())
}
