//! Passwords, web sessions and API tokens.
//!
//! Passwords are hashed with argon2id. Session ids and API tokens are 256-bit random
//! secrets; only their SHA-256 is stored, so a copy of the database opens no session.

use crate::authz::Actor;
use crate::{Result, Service, ServiceError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use kebao_domain::event::EventDraft;
use kebao_domain::org::OrgKind;
use kebao_domain::user::ApiToken;
use kebao_domain::user::{User, Username};
use kebao_domain::FieldError;
use kebao_store::sessions::SessionRow;
use kebao_store::{orgs, sessions, users};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

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

/// SHA-256 of bytes (for the web edge's form tokens).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
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

/// Bounds the password checks that run at once. An argon2id check holds 19 MiB for its
/// duration, so unbounded concurrency lets a few clients sending wrong passwords exhaust
/// memory; a check runs on the blocking pool, holding a permit, and a caller that waits
/// longer than `wait` for one gets `Busy`.
#[derive(Debug)]
pub struct PasswordGate {
    permits: Arc<Semaphore>,
    limit: usize,
    wait: Duration,
    // INVARIANT: `in_flight <= limit`; each running check holds one permit and one count.
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// Counts a running check until dropped (also when the caller gave up waiting for it).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordGate {
    /// At most `limit` (at least 1) checks at once; a caller waits at most `wait`.
    pub fn new(limit: usize, wait: Duration) -> PasswordGate {
        let limit = limit.max(1);
        PasswordGate {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            wait,
            in_flight: Arc::default(),
            peak: Arc::default(),
        }
    }

    /// The bound.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Checks running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most checks that ever ran at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `work` (a password check) under a permit on the blocking pool.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permit = match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(ServiceError::Internal("the password gate is closed".into())),
            Err(_) => return Err(ServiceError::Busy),
        };
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst).saturating_add(1);
        self.peak.fetch_max(n, Ordering::SeqCst);
        let counted = InFlight(self.in_flight.clone());
        // The permit and the count move into the task: they are released when the hash is
        // done, even if the request that asked for it has gone.
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(counted);
            drop(permit);
            out
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("password check failed: {e}")))
    }
}

/// The credential a request came with, which a change of one's own password leaves valid.
#[derive(Debug, Clone, Copy)]
pub enum InUse<'a> {
    /// The secret of the web session's cookie.
    Session(&'a str),
    /// The secret of the bearer token.
    Token(&'a str),
    None,
}

/// Who asks to sign in, for the record of attempts.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// The client's address as the edge determined it.
    pub address: String,
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

impl SessionInfo {
    /// Whether the user must change their password before doing anything else.
    pub fn must_change_password(&self) -> bool {
        self.actor.user().is_some_and(|u| u.must_change_password)
    }
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
/// named for it in [`KEY_ROUTES`], and nothing else.
pub const API_SCOPES: &[(&str, &str, &str)] = &[
    ("products:read", "产品目录与产品", "Products and the catalogue"),
    ("orgs:read", "机构名录", "The directory of parties"),
    ("credit:read", "经授权的信用报告", "Credit reports under consent"),
    ("consents:read", "授权记录", "Consents"),
    ("transparency:read", "树头与证明", "Tree heads and proofs"),
];

/// Which scope opens which API route, by the route's template as the router declares it
/// (axum's `MatchedPath`). A route not listed here is closed to API keys: a new route is
/// closed until someone decides otherwise (a test lists every route and its decision).
pub const KEY_ROUTES: &[(&str, &str)] = &[
    ("products:read", "/api/v1/product-types"),
    ("products:read", "/api/v1/product-types/{id}"),
    ("products:read", "/api/v1/products"),
    ("products:read", "/api/v1/products/matrix"),
    ("products:read", "/api/v1/products/roster"),
    ("products:read", "/api/v1/products/{id}"),
    ("orgs:read", "/api/v1/industries"),
    ("orgs:read", "/api/v1/orgs"),
    ("orgs:read", "/api/v1/orgs/{id}"),
    ("credit:read", "/api/v1/credit-reports/{org_id}"),
    ("consents:read", "/api/v1/consents"),
    ("consents:read", "/api/v1/consents/{id}"),
    ("consents:read", "/api/v1/consents/{id}/evidence"),
    ("transparency:read", "/api/v1/transparency/tree-heads"),
    ("transparency:read", "/api/v1/transparency/inclusion/{seq}"),
    ("transparency:read", "/api/v1/transparency/consistency"),
];

/// Whether an API key with `scopes` may call the route `route` (its template, e.g.
/// `/api/v1/orgs/{id}`; `read`: a GET or HEAD).
pub fn key_allows(scopes: &[String], read: bool, route: &str) -> bool {
    read && KEY_ROUTES.iter().any(|(scope, r)| *r == route && scopes.iter().any(|s| s == scope))
}

impl Service {
    /// The actor for a stored user (looks up the organisation's kind).
    pub async fn actor_for(&self, user: User) -> Result<Actor> {
        let mut tx = self.store.begin_read().await?;
        let org_kind = orgs::kind_of(tx.conn(), &user.org_id).await?;
        Ok(Actor::User { user, org_kind })
    }

    /// The bound on concurrent password checks.
    pub fn password_gate(&self) -> &PasswordGate {
        &self.password_gate
    }

    /// Checks a password against a stored hash, within the gate.
    pub(crate) async fn password_matches(&self, hash: String, password: &str) -> Result<bool> {
        let password = password.to_owned();
        self.password_gate.run(move || verify_password(&hash, &password)).await
    }

    /// Checks a user name and password; a failure is recorded with `attempt`.
    async fn check_login(&self, username: &str, password: &str, attempt: &Attempt) -> Result<User> {
        let typed = username.trim().to_ascii_lowercase();
        let Ok(name) = Username::parse(username) else {
            self.record_attempt(&typed, attempt, false, "bad_name").await;
            return Err(ServiceError::Unauthenticated(WRONG_LOGIN));
        };
        let mut tx = self.store.begin_read().await?;
        let found = users::find_for_login(tx.conn(), name.as_str()).await?;
        drop(tx);
        let reason = match found {
            Some((user, hash)) => {
                if self.password_matches(hash, password).await? {
                    if user.active {
                        return Ok(user);
                    }
                    "inactive"
                } else {
                    "wrong_password"
                }
            }
            None => {
                // Spend the same time as a real check, so that timing does not tell which
                // user names exist.
                let _ = self.password_matches(dummy_hash().to_owned(), password).await?;
                "unknown_user"
            }
        };
        self.record_attempt(name.as_str(), attempt, false, reason).await;
        Err(ServiceError::Unauthenticated(WRONG_LOGIN))
    }

    /// Records a sign-in attempt. A failure to record is logged: it must not turn a wrong
    /// password into a server error, nor a right one into a refusal.
    async fn record_attempt(&self, username: &str, attempt: &Attempt, succeeded: bool, reason: &str) {
        let row = sessions::LoginAttempt {
            id: self.new_id(),
            username: username.chars().take(64).collect(),
            address: attempt.address.chars().take(64).collect(),
            succeeded,
            reason: reason.to_owned(),
            at_us: self.now_us(),
        };
        let done = async {
            let mut tx = self.store.begin_write().await?;
            sessions::record_login_attempt(tx.conn(), &row).await?;
            tx.commit_unlogged(kebao_store::Unlogged::LoginAttempt).await
        }
        .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not record a sign-in attempt");
        }
    }

    /// The failed sign-in attempts since `since_us`, newest first (for monitoring).
    pub async fn failed_logins(&self, actor: &Actor, since_us: i64) -> Result<Vec<sessions::LoginAttempt>> {
        self.require(
            actor,
            crate::authz::Action::ResetPassword,
            &crate::authz::Resource::Zone,
            &crate::authz::Basis::None,
        )?;
        let mut tx = self.store.begin_read().await?;
        Ok(sessions::failed_logins_since(tx.conn(), since_us, 1000).await?)
    }

    /// Signs a user in and opens a web session.
    pub async fn login(&self, username: &str, password: &str) -> Result<NewSession> {
        self.login_from(username, password, &Attempt::default()).await
    }

    /// Signs a user in from a client (its address is recorded with the attempt).
    pub async fn login_from(&self, username: &str, password: &str, attempt: &Attempt) -> Result<NewSession> {
        let user = self.check_login(username, password, attempt).await?;
        let token = random_secret()?;
        let csrf_token = random_secret()?;
        let now = self.now_us();
        let expires_at_us = now.saturating_add(self.config.session_ttl_us);
        let mut tx = self.store.begin_write().await?;
        // Expired sessions are of no use to anyone; sweep them while we are writing anyway.
        sessions::purge_expired(tx.conn(), now).await?;
        let row = SessionRow { user_id: user.id.clone(), csrf_token: csrf_token.clone(), expires_at_us };
        sessions::create(tx.conn(), &secret_hash(&token), &row, now).await?;
        let ok = sessions::LoginAttempt {
            id: self.new_id(),
            username: user.username.clone(),
            address: attempt.address.chars().take(64).collect(),
            succeeded: true,
            reason: "ok".to_owned(),
            at_us: now,
        };
        sessions::record_login_attempt(tx.conn(), &ok).await?;
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
        let org_kind = orgs::kind_of(tx.conn(), &user.org_id).await?;
        Ok(SessionInfo { actor: Actor::User { user, org_kind }, csrf_token: row.csrf_token })
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
    ) -> Result<(String, ApiToken)> {
        self.issue_token_from(username, password, name, &Attempt::default()).await
    }

    /// [`Service::issue_token`] for a client whose address is recorded with the attempt.
    pub async fn issue_token_from(
        &self,
        username: &str,
        password: &str,
        name: &str,
        attempt: &Attempt,
    ) -> Result<(String, ApiToken)> {
        let user = self.check_login(username, password, attempt).await?;
        if user.must_change_password {
            return Err(password_change_required());
        }
        let name =
            kebao_domain::org::text_field("name", name, false, 64)?.unwrap_or_else(|| "api".to_owned());
        let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let now = self.now_us();
        let row = ApiToken {
            id: self.new_id(),
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
        let (row, user, org_kind) = sessions::find_token_holder(tx.conn(), &secret_hash(secret))
            .await?
            .ok_or(ServiceError::Unauthenticated("unknown API token"))?;
        if row.revoked_at_us.is_some() {
            return Err(ServiceError::Unauthenticated("the API token was revoked"));
        }
        if row.expires_at_us <= self.now_us() {
            return Err(ServiceError::Unauthenticated("the API token has expired"));
        }
        if !user.active {
            return Err(ServiceError::Unauthenticated("the account is deactivated"));
        }
        let key = row.scopes.as_ref().map(|s| KeyLimits {
            id: row.id.clone(),
            scopes: s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect(),
            rate_per_minute: row.rate_per_minute.and_then(|r| u32::try_from(r).ok()).unwrap_or(60),
        });
        Ok((Actor::User { user, org_kind }, key))
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
    ) -> Result<(String, ApiToken)> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        // The regulator only reads: it may not hand its access on to a third party's key.
        self.require(
            actor,
            crate::authz::Action::IssueApiKey,
            &crate::authz::Resource::Zone,
            &crate::authz::Basis::None,
        )?;
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
        let row = ApiToken {
            id: self.new_id(),
            user_id: user.id.clone(),
            name,
            created_at_us: now,
            expires_at_us: now.saturating_add(self.config.token_ttl_us),
            revoked_at_us: None,
            scopes: Some(clean.join(",")),
            rate_per_minute: Some(i64::from(rate_per_minute)),
        };
        let mut tx = self.store.begin_write().await?;
        // A scope that reads personal data is an extract: enabled once its impact
        // assessment is on record (个人信息保护法 Art 55).
        for scope in &clean {
            if let Some(extract) = kebao_domain::privacy::Extract::for_scope(scope) {
                if !kebao_store::privacy::extract_assessed(tx.conn(), extract).await? {
                    return Err(ServiceError::Conflict(FieldError::new(
                        "scopes",
                        "no_impact_assessment",
                        format!("授权范围 {scope}（{}）含个人信息，须先由平台管理员完成个人信息保护影响评估", extract.label_zh()),
                        format!(
                            "the scope {scope} ({}) carries personal data: a platform administrator records an impact assessment of it first",
                            extract.label_en()
                        ),
                    )));
                }
            }
        }
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

pub use crate::authz::password_change_required;

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
